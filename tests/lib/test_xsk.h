/* SPDX-License-Identifier: MIT */
/*
 * An AF_XDP receiver for tests and test tools: vnetd's own socket code
 * (daemon/xsk.c: copy mode, no program loaded by libxdp, the caller puts
 * the socket into its own XSKMAP), plus a blocking receive. test_xsk_recv()
 * returns one frame with the vnet metadata block XDP wrote in front of it.
 */
#ifndef VNET_TEST_XSK_H
#define VNET_TEST_XSK_H

#include <linux/types.h>
#include <stddef.h>

#include "vnet/datapath.h"
#include "vnet/xsk.h"

struct test_xsk {
	struct vnet_xsk *xsk;
};

int test_xsk_open(struct test_xsk *x, const char *ifname, __u32 queue);
void test_xsk_close(struct test_xsk *x);
int test_xsk_fd(const struct test_xsk *x);

/*
 * Wait up to timeout_ms for a frame. Returns its length (copied to buf, at
 * most cap bytes) with the metadata in *meta (zeroed when the kernel gave
 * none), 0 on timeout, -errno on error.
 */
int test_xsk_recv(struct test_xsk *x, struct vnet_xdp_meta *meta,
		  void *buf, size_t cap, int timeout_ms);

#endif
