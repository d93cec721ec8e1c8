/* SPDX-License-Identifier: MIT */
/*
 * A blocking AF_XDP reader for vnet-xsk-recv and the BPF program tests:
 * vnetd's own socket code (daemon/uplink/xsk.c: copy mode, no program loaded by
 * libxdp, the caller puts the socket into its own XSKMAP), plus a receive
 * that waits. xsk_reader_recv() returns one frame with the vnet metadata
 * block XDP wrote in front of it.
 */
#ifndef VNET_XSK_READER_H
#define VNET_XSK_READER_H

#include <linux/types.h>
#include <stddef.h>

#include "vnet/datapath.h"
#include "vnet/xsk.h"

struct xsk_reader {
	struct vnet_xsk *xsk;
};

int xsk_reader_open(struct xsk_reader *x, const char *ifname, __u32 queue);
void xsk_reader_close(struct xsk_reader *x);
int xsk_reader_fd(const struct xsk_reader *x);

/*
 * Wait up to timeout_ms for a frame. Returns its length (copied to buf, at
 * most cap bytes) with the metadata in *meta (zeroed when the kernel gave
 * none), 0 on timeout, -errno on error.
 */
int xsk_reader_recv(struct xsk_reader *x, struct vnet_xdp_meta *meta,
		    void *buf, size_t cap, int timeout_ms);

#endif
