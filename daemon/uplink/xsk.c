// SPDX-License-Identifier: MIT
/*
 * AF_XDP sockets of the uplink datapath: include/vnet/xsk.h. The socket is
 * put into our own XSKMAP by the caller (vnet_dp_set_xsk), so libxdp must
 * not load its default program (XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <linux/if_xdp.h>
#include <xdp/xsk.h>

#include "vnet/log.h"
#include "vnet/xsk.h"

struct vnet_xsk {
	void *area;
	struct xsk_umem *umem;
	struct xsk_socket *xsk;
	struct xsk_ring_prod fill;
	struct xsk_ring_cons comp;
	struct xsk_ring_cons rx;
	struct xsk_ring_prod tx;
	unsigned int rx_peeked;		/* rx entries of the last peek */
	/*
	 * Received frames not yet back on the fill ring. The kernel takes a
	 * fill entry per frame but publishes its consumer index in batches,
	 * so right after a burst the ring can look fuller than it is: frames
	 * wait here for the next call instead of being lost.
	 */
	unsigned int n_stash;
	__u64 stash[VNET_XSK_RX_FRAMES];
	bool tx_dirty;			/* submitted since the last drained kick */
	unsigned int outstanding;	/* submitted, not completed */
	unsigned int n_free;
	__u64 free[VNET_XSK_TX_FRAMES];	/* stack of free transmit frames */
	struct vnet_xsk_stats st;
};

static size_t area_size(void)
{
	return (size_t)VNET_XSK_FRAMES * VNET_XSK_FRAME_SIZE;
}

static int fill_rx(struct vnet_xsk *x)
{
	__u32 idx, i;

	if (xsk_ring_prod__reserve(&x->fill, VNET_XSK_RX_FRAMES, &idx) != VNET_XSK_RX_FRAMES)
		return -ENOSPC;
	for (i = 0; i < VNET_XSK_RX_FRAMES; i++)
		*xsk_ring_prod__fill_addr(&x->fill, idx + i) = (__u64)i * VNET_XSK_FRAME_SIZE;
	xsk_ring_prod__submit(&x->fill, VNET_XSK_RX_FRAMES);
	return 0;
}

int vnet_xsk_open(const char *ifname, __u32 queue, struct vnet_xsk **out)
{
	struct xsk_umem_config ucfg = {
		.fill_size = VNET_XSK_RX_FRAMES,
		.comp_size = VNET_XSK_TX_FRAMES,
		.frame_size = VNET_XSK_FRAME_SIZE,
		.frame_headroom = 0,
	};
	/* the tx ring holds every transmit frame: a reserve never fails */
	struct xsk_socket_config scfg = {
		.rx_size = VNET_XSK_RX_FRAMES,
		.tx_size = VNET_XSK_TX_FRAMES,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.bind_flags = XDP_COPY,
	};
	struct vnet_xsk *x;
	unsigned int i;
	int err;

	x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	x->area = mmap(NULL, area_size(), PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (x->area == MAP_FAILED) {
		err = -errno;
		goto err_free;
	}
	err = xsk_umem__create(&x->umem, x->area, area_size(), &x->fill, &x->comp, &ucfg);
	if (err)
		goto err_unmap;
	err = xsk_socket__create(&x->xsk, ifname, queue, x->umem, &x->rx, &x->tx, &scfg);
	if (err)
		goto err_umem;
	err = fill_rx(x);
	if (err)
		goto err_sock;
	for (i = 0; i < VNET_XSK_TX_FRAMES; i++)
		x->free[i] = (__u64)(VNET_XSK_RX_FRAMES + i) * VNET_XSK_FRAME_SIZE;
	x->n_free = VNET_XSK_TX_FRAMES;
	*out = x;
	return 0;

err_sock:
	xsk_socket__delete(x->xsk);
err_umem:
	xsk_umem__delete(x->umem);
err_unmap:
	munmap(x->area, area_size());
err_free:
	free(x);
	return err;
}

void vnet_xsk_close(struct vnet_xsk *x)
{
	if (!x)
		return;
	xsk_socket__delete(x->xsk);
	xsk_umem__delete(x->umem);
	munmap(x->area, area_size());
	free(x);
}

int vnet_xsk_fd(const struct vnet_xsk *x)
{
	return xsk_socket__fd(x->xsk);
}

/* As many stashed frames as the fill ring has room for go back to it. */
static void fill_flush(struct vnet_xsk *x)
{
	__u32 idx, i, n;

	if (!x->n_stash)
		return;
	n = xsk_prod_nb_free(&x->fill, x->n_stash);
	if (n > x->n_stash)
		n = x->n_stash;
	if (!n || xsk_ring_prod__reserve(&x->fill, n, &idx) != n)
		return;
	/* the newest first: the stash is a stack, order does not matter */
	for (i = 0; i < n; i++)
		*xsk_ring_prod__fill_addr(&x->fill, idx + i) = x->stash[--x->n_stash];
	xsk_ring_prod__submit(&x->fill, n);
}

unsigned int vnet_xsk_rx_peek(struct vnet_xsk *x, struct vnet_xsk_rx *out, unsigned int n)
{
	__u32 idx, i, got;

	fill_flush(x);
	got = xsk_ring_cons__peek(&x->rx, n, &idx);
	for (i = 0; i < got; i++) {
		const struct xdp_desc *d = xsk_ring_cons__rx_desc(&x->rx, idx + i);
		__u64 off = d->addr % VNET_XSK_FRAME_SIZE;

		out[i].addr = d->addr;
		out[i].data = xsk_umem__get_data(x->area, d->addr);
		out[i].len = d->len;
		/*
		 * The kernel wrote the metadata right in front of the frame
		 * (copy mode too, xsk_copy_xdp); the address comes from the
		 * kernel, but check that the block is inside our chunk anyway.
		 */
		out[i].meta = off >= sizeof(struct vnet_xdp_meta) &&
			      off + d->len <= VNET_XSK_FRAME_SIZE ?
			      (const void *)(out[i].data - sizeof(struct vnet_xdp_meta)) : NULL;
		if (d->addr >= area_size() || off + d->len > VNET_XSK_FRAME_SIZE)
			out[i].len = 0, out[i].meta = NULL;
	}
	x->rx_peeked = got;
	x->st.rx_frames += got;
	return got;
}

void vnet_xsk_rx_done(struct vnet_xsk *x, const struct vnet_xsk_rx *rx, unsigned int n)
{
	unsigned int i;

	xsk_ring_cons__release(&x->rx, x->rx_peeked);
	x->rx_peeked = 0;
	/* every rx frame is in the rings or the stash: this always fits */
	for (i = 0; i < n && x->n_stash < VNET_XSK_RX_FRAMES; i++)
		x->stash[x->n_stash++] = rx[i].addr - rx[i].addr % VNET_XSK_FRAME_SIZE;
	fill_flush(x);
}

__u8 *vnet_xsk_tx_frame(struct vnet_xsk *x, __u64 *addr)
{
	if (!x->n_free)
		return NULL;
	*addr = x->free[--x->n_free];
	return xsk_umem__get_data(x->area, *addr);
}

void vnet_xsk_tx_free(struct vnet_xsk *x, __u64 addr)
{
	if (x->n_free < VNET_XSK_TX_FRAMES)
		x->free[x->n_free++] = addr;
}

__u8 *vnet_xsk_frame_data(const struct vnet_xsk *x, __u64 addr)
{
	return xsk_umem__get_data(x->area, addr);
}

unsigned int vnet_xsk_tx_free_count(const struct vnet_xsk *x)
{
	return x->n_free;
}

void vnet_xsk_tx_submit(struct vnet_xsk *x, const __u64 *addr, const __u32 *len,
			unsigned int n)
{
	__u32 idx, i;

	if (!n)
		return;
	/* tx ring size = transmit frames: there is always room */
	if (xsk_ring_prod__reserve(&x->tx, n, &idx) != n) {
		for (i = 0; i < n; i++)
			vnet_xsk_tx_free(x, addr[i]);
		return;
	}
	for (i = 0; i < n; i++) {
		struct xdp_desc *d = xsk_ring_prod__tx_desc(&x->tx, idx + i);

		d->addr = addr[i];
		d->len = len[i];
		d->options = 0;
	}
	xsk_ring_prod__submit(&x->tx, n);
	x->outstanding += n;
	x->tx_dirty = true;
	x->st.tx_frames += n;
}

void vnet_xsk_tx_kick(struct vnet_xsk *x)
{
	unsigned int i;

	if (!x->tx_dirty)
		return;
	/*
	 * Copy mode sends on sendto only, at most TX_BATCH_SIZE (32) frames a
	 * call; -EAGAIN means "budget used up, call again". EBUSY / ENOBUFS:
	 * the device pushed back, try again next round.
	 */
	for (i = 0; i < VNET_XSK_TX_FRAMES / 32 + 1; i++) {
		x->st.tx_kicks++;
		if (sendto(xsk_socket__fd(x->xsk), NULL, 0, MSG_DONTWAIT, NULL, 0) >= 0) {
			x->tx_dirty = false;
			return;
		}
		if (errno == EAGAIN)
			continue;
		if (errno != EBUSY && errno != ENOBUFS) {
			x->st.tx_kick_errors++;
			x->tx_dirty = false;
		}
		return;
	}
}

unsigned int vnet_xsk_tx_complete(struct vnet_xsk *x)
{
	__u32 idx, i, n;

	n = xsk_ring_cons__peek(&x->comp, VNET_XSK_TX_FRAMES, &idx);
	for (i = 0; i < n; i++)
		vnet_xsk_tx_free(x, *xsk_ring_cons__comp_addr(&x->comp, idx + i));
	if (n)
		xsk_ring_cons__release(&x->comp, n);
	x->outstanding -= n < x->outstanding ? n : x->outstanding;
	return n;
}

unsigned int vnet_xsk_tx_outstanding(const struct vnet_xsk *x)
{
	return x->outstanding;
}

void vnet_xsk_get_stats(const struct vnet_xsk *x, struct vnet_xsk_stats *st)
{
	*st = x->st;
}
