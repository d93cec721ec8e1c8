// SPDX-License-Identifier: MIT
/* A minimal AF_XDP receiver for tests: see test_xsk.h. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <linux/if_xdp.h>

#include "test_xsk.h"

static int fill_all(struct test_xsk *x)
{
	__u32 idx;

	if (xsk_ring_prod__reserve(&x->fill, TEST_XSK_FRAMES, &idx) != TEST_XSK_FRAMES)
		return -ENOSPC;
	for (__u32 i = 0; i < TEST_XSK_FRAMES; i++)
		*xsk_ring_prod__fill_addr(&x->fill, idx + i) = (__u64)i * TEST_XSK_FRAME_SIZE;
	xsk_ring_prod__submit(&x->fill, TEST_XSK_FRAMES);
	return 0;
}

int test_xsk_open(struct test_xsk *x, const char *ifname, __u32 queue)
{
	size_t sz = (size_t)TEST_XSK_FRAMES * TEST_XSK_FRAME_SIZE;
	struct xsk_umem_config ucfg = {
		.fill_size = TEST_XSK_FRAMES * 2,
		.comp_size = TEST_XSK_FRAMES,
		.frame_size = TEST_XSK_FRAME_SIZE,
		.frame_headroom = 0,
	};
	struct xsk_socket_config scfg = {
		.rx_size = TEST_XSK_FRAMES,
		.tx_size = TEST_XSK_FRAMES,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.bind_flags = XDP_COPY,
	};
	int err;

	memset(x, 0, sizeof(*x));
	x->area = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (x->area == MAP_FAILED) {
		x->area = NULL;
		return -errno;
	}
	err = xsk_umem__create(&x->umem, x->area, sz, &x->fill, &x->comp, &ucfg);
	if (err)
		goto err_unmap;
	err = xsk_socket__create(&x->xsk, ifname, queue, x->umem, &x->rx, &x->tx, &scfg);
	if (err)
		goto err_umem;
	err = fill_all(x);
	if (err)
		goto err_sock;
	return 0;

err_sock:
	xsk_socket__delete(x->xsk);
	x->xsk = NULL;
err_umem:
	xsk_umem__delete(x->umem);
	x->umem = NULL;
err_unmap:
	munmap(x->area, sz);
	x->area = NULL;
	return err;
}

void test_xsk_close(struct test_xsk *x)
{
	if (x->xsk)
		xsk_socket__delete(x->xsk);
	if (x->umem)
		xsk_umem__delete(x->umem);
	if (x->area)
		munmap(x->area, (size_t)TEST_XSK_FRAMES * TEST_XSK_FRAME_SIZE);
	memset(x, 0, sizeof(*x));
}

int test_xsk_fd(const struct test_xsk *x)
{
	return xsk_socket__fd(x->xsk);
}

int test_xsk_recv(struct test_xsk *x, struct vnet_xdp_meta *meta,
		  void *buf, size_t cap, int timeout_ms)
{
	struct pollfd pfd = { .fd = xsk_socket__fd(x->xsk), .events = POLLIN };
	const struct xdp_desc *d;
	__u32 idx, fidx, len;
	__u64 addr;
	__u8 *pkt;
	size_t n;

	if (!xsk_ring_cons__peek(&x->rx, 1, &idx)) {
		int r = poll(&pfd, 1, timeout_ms);

		if (r < 0)
			return errno == EINTR ? 0 : -errno;
		if (!xsk_ring_cons__peek(&x->rx, 1, &idx))
			return 0;
	}
	d = xsk_ring_cons__rx_desc(&x->rx, idx);
	addr = d->addr;
	len = d->len;
	xsk_ring_cons__release(&x->rx, 1);
	pkt = xsk_umem__get_data(x->area, addr);
	/* the metadata sits right in front of the frame */
	memcpy(meta, pkt - sizeof(*meta), sizeof(*meta));
	n = len < cap ? len : cap;
	memcpy(buf, pkt, n);
	/* give the buffer back (its chunk start) */
	if (xsk_ring_prod__reserve(&x->fill, 1, &fidx) == 1) {
		*xsk_ring_prod__fill_addr(&x->fill, fidx) = addr - addr % TEST_XSK_FRAME_SIZE;
		xsk_ring_prod__submit(&x->fill, 1);
	}
	return (int)len;
}
