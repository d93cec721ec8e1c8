/* SPDX-License-Identifier: MIT */
/*
 * A minimal AF_XDP receiver for tests and test tools (libxdp's <xdp/xsk.h>,
 * copy mode, no program loaded by libxdp: the caller puts the socket into
 * its own XSKMAP). test_xsk_recv() returns one frame with the vnet metadata
 * block that XDP wrote in front of it.
 */
#ifndef VNET_TEST_XSK_H
#define VNET_TEST_XSK_H

#include <linux/types.h>
#include <stddef.h>
#include <xdp/xsk.h>

#include "vnet/datapath.h"

#define TEST_XSK_FRAMES		64
#define TEST_XSK_FRAME_SIZE	XSK_UMEM__DEFAULT_FRAME_SIZE

struct test_xsk {
	void *area;
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	struct xsk_ring_prod fill;
	struct xsk_ring_cons comp;
	struct xsk_ring_cons rx;
	struct xsk_ring_prod tx;
};

/* skb_mode: bind with XDP_COPY (the only mode veth and lo offer anyway). */
int test_xsk_open(struct test_xsk *x, const char *ifname, __u32 queue);
void test_xsk_close(struct test_xsk *x);
int test_xsk_fd(const struct test_xsk *x);

/*
 * Wait up to timeout_ms for a frame. Returns its length (copied to buf, at
 * most cap bytes) with the metadata in *meta, 0 on timeout, -errno on error.
 */
int test_xsk_recv(struct test_xsk *x, struct vnet_xdp_meta *meta,
		  void *buf, size_t cap, int timeout_ms);

#endif
