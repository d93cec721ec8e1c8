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
	bool sg;			/* XDP_USE_SG: frames of several descriptors */
	bool rx_skip;			/* dropping the rest of a too long frame */
	unsigned int tx_unit;		/* UMEM frames per transmit buffer */
	unsigned int tx_slots;		/* transmit buffers */
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
	__u64 free[VNET_XSK_TX_FRAMES];	/* stack of free transmit buffers */
	struct vnet_xsk_stats st;
};

static size_t area_size(void)
{
	return (size_t)VNET_XSK_FRAMES * VNET_XSK_FRAME_SIZE;
}

#define TX_BASE		((__u64)VNET_XSK_RX_FRAMES * VNET_XSK_FRAME_SIZE)

static __u64 tx_buf_size(const struct vnet_xsk *x)
{
	return (__u64)x->tx_unit * VNET_XSK_FRAME_SIZE;
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

static int xsk_open(const char *ifname, __u32 queue, __u32 frame_max, struct vnet_xsk **out)
{
	struct xsk_umem_config ucfg = {
		.fill_size = VNET_XSK_RX_FRAMES,
		.comp_size = VNET_XSK_TX_FRAMES,
		.frame_size = VNET_XSK_FRAME_SIZE,
		.frame_headroom = 0,
	};
	/* the tx ring holds a descriptor for every transmit UMEM frame: a
	 * reserve never fails */
	struct xsk_socket_config scfg = {
		.rx_size = VNET_XSK_RX_FRAMES,
		.tx_size = VNET_XSK_TX_FRAMES,
		.libxdp_flags = XSK_LIBXDP_FLAGS__INHIBIT_PROG_LOAD,
		.bind_flags = XDP_COPY,
	};
	struct vnet_xsk *x;
	unsigned int i;
	int err;

	if (frame_max > VNET_XSK_SG_FRAME_MAX)
		return -EINVAL;
	x = calloc(1, sizeof(*x));
	if (!x)
		return -ENOMEM;
	x->tx_unit = 1;
	if (frame_max > VNET_XSK_RX_FRAME_MAX) {
		/* a transmit buffer: contiguous UMEM frames, one descriptor each */
		x->sg = true;
		x->tx_unit = (frame_max + VNET_XSK_FRAME_SIZE - 1) / VNET_XSK_FRAME_SIZE;
		scfg.bind_flags |= XDP_USE_SG;
	}
	x->tx_slots = VNET_XSK_TX_FRAMES / x->tx_unit;
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
	for (i = 0; i < x->tx_slots; i++)
		x->free[i] = TX_BASE + i * tx_buf_size(x);
	x->n_free = x->tx_slots;
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

int vnet_xsk_open(const char *ifname, __u32 queue, struct vnet_xsk **out)
{
	return xsk_open(ifname, queue, 0, out);
}

int vnet_xsk_open_sg(const char *ifname, __u32 queue, __u32 frame_max, struct vnet_xsk **out)
{
	return xsk_open(ifname, queue, frame_max, out);
}

/*
 * Kernels before 6.6 refuse the unknown bind flag (xsk_bind: -EINVAL). A
 * socket on the loopback device answers for every netdev: copy mode asks
 * nothing of the driver. Control thread, once.
 */
bool vnet_xsk_sg_supported(void)
{
	static int known = -1;
	struct vnet_xsk *x;
	int err;

	if (known >= 0)
		return known;
	err = xsk_open("lo", 0, VNET_XSK_SG_FRAME_MAX, &x);
	if (!err)
		vnet_xsk_close(x);
	known = !err;
	pr_info("AF_XDP multi-buffer (XDP_USE_SG): %s\n",
		err ? strerror(-err) : "available, jumbo frames on uplinks");
	return known;
}

bool vnet_xsk_is_sg(const struct vnet_xsk *x)
{
	return x->sg;
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

/* A descriptor back to the fill ring (through the stash) unread. */
static void rx_recycle(struct vnet_xsk *x, __u64 addr)
{
	/* every rx frame is in the rings or the stash: this always fits */
	if (x->n_stash < VNET_XSK_RX_FRAMES)
		x->stash[x->n_stash++] = addr - addr % VNET_XSK_FRAME_SIZE;
}

/*
 * The descriptors at the head of the ring that belong to a frame dropped
 * as too long (rx_skip): released unread up to its last one. False while
 * the frame still goes on.
 */
static bool rx_skip_rest(struct vnet_xsk *x)
{
	__u32 idx, i, got;

	got = xsk_ring_cons__peek(&x->rx, VNET_XSK_RX_FRAMES, &idx);
	for (i = 0; i < got && x->rx_skip; i++) {
		const struct xdp_desc *d = xsk_ring_cons__rx_desc(&x->rx, idx + i);

		rx_recycle(x, d->addr);
		x->rx_skip = d->options & XDP_PKT_CONTD;
	}
	xsk_ring_cons__cancel(&x->rx, got - i);
	xsk_ring_cons__release(&x->rx, i);
	return !x->rx_skip;
}

/*
 * Whole frames only (multi-buffer): a frame whose end is not in the ring
 * yet waits for the next peek; one that fills a whole peek (more than n
 * descriptors) is dropped. Returns how many of the got descriptors to keep.
 */
static __u32 rx_whole_frames(struct vnet_xsk *x, const struct vnet_xsk_rx *out, __u32 got,
			     unsigned int n)
{
	__u32 keep = got, i;

	while (keep && out[keep - 1].more)
		keep--;
	if (keep || got < n) {
		xsk_ring_cons__cancel(&x->rx, got - keep);
		return keep;
	}
	for (i = 0; i < got; i++)
		rx_recycle(x, out[i].addr);
	xsk_ring_cons__release(&x->rx, got);
	x->rx_skip = true;
	x->st.rx_too_long++;
	rx_skip_rest(x);
	return 0;
}

unsigned int vnet_xsk_rx_peek(struct vnet_xsk *x, struct vnet_xsk_rx *out, unsigned int n)
{
	__u32 idx, i, got;

	fill_flush(x);
	if (x->rx_skip && !rx_skip_rest(x))
		return 0;
	got = xsk_ring_cons__peek(&x->rx, n, &idx);
	for (i = 0; i < got; i++) {
		const struct xdp_desc *d = xsk_ring_cons__rx_desc(&x->rx, idx + i);
		__u64 off = d->addr % VNET_XSK_FRAME_SIZE;

		out[i].addr = d->addr;
		out[i].data = xsk_umem__get_data(x->area, d->addr);
		out[i].len = d->len;
		out[i].more = x->sg && (d->options & XDP_PKT_CONTD);
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
	if (x->sg && got)
		got = rx_whole_frames(x, out, got, n);
	x->rx_peeked = got;
	x->st.rx_frames += got;
	return got;
}

unsigned int vnet_xsk_gather(const struct vnet_xsk_rx *rx, unsigned int n, __u8 *buf,
			     __u32 cap, const __u8 **data, __u32 *len)
{
	__u32 total = 0;
	bool bad = false;
	unsigned int i;

	*data = n && rx[0].more ? buf : n ? rx[0].data : NULL;
	for (i = 0; i < n; i++) {
		/* a bad piece, or too long for buf: the whole frame goes */
		if (bad || !rx[i].len || rx[i].len > cap - total) {
			bad = true;
		} else {
			if (rx[0].more)
				memcpy(buf + total, rx[i].data, rx[i].len);
			total += rx[i].len;
		}
		if (!rx[i].more) {
			*len = bad ? 0 : total;
			return i + 1;
		}
	}
	*len = 0;		/* its end is missing */
	return n;
}

void vnet_xsk_rx_done(struct vnet_xsk *x, const struct vnet_xsk_rx *rx, unsigned int n)
{
	unsigned int i;

	xsk_ring_cons__release(&x->rx, x->rx_peeked);
	x->rx_peeked = 0;
	for (i = 0; i < n; i++)
		rx_recycle(x, rx[i].addr);
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
	if (x->n_free < x->tx_slots)
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

__u32 vnet_xsk_tx_cap(const struct vnet_xsk *x)
{
	return (__u32)tx_buf_size(x);
}

/* Descriptors of a frame of len bytes: one per UMEM frame it spans. */
static __u32 tx_descs(__u32 len)
{
	return len ? (len + VNET_XSK_FRAME_SIZE - 1) / VNET_XSK_FRAME_SIZE : 1;
}

void vnet_xsk_tx_submit(struct vnet_xsk *x, const __u64 *addr, const __u32 *len,
			unsigned int n)
{
	__u32 idx, i, nd = 0, off;

	for (i = 0; i < n; i++)
		nd += tx_descs(len[i]);
	if (!n)
		return;
	/* tx ring size = transmit UMEM frames: there is always room */
	if (xsk_ring_prod__reserve(&x->tx, nd, &idx) != nd) {
		for (i = 0; i < n; i++)
			vnet_xsk_tx_free(x, addr[i]);
		return;
	}
	for (i = 0; i < n; i++) {
		off = 0;
		do {
			/* a multi-buffer frame: its buffer's UMEM frames in order,
			 * XDP_PKT_CONTD on all but the last (a single-buffer
			 * socket never gets more than VNET_XSK_FRAME_SIZE) */
			struct xdp_desc *d = xsk_ring_prod__tx_desc(&x->tx, idx++);
			__u32 seg = len[i] - off < VNET_XSK_FRAME_SIZE ? len[i] - off :
									 VNET_XSK_FRAME_SIZE;

			d->addr = addr[i] + off;
			d->len = seg;
			off += seg;
			d->options = off < len[i] ? XDP_PKT_CONTD : 0;
		} while (off < len[i]);
	}
	xsk_ring_prod__submit(&x->tx, nd);
	x->outstanding += nd;
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
	for (i = 0; i < n; i++) {
		__u64 addr = *xsk_ring_cons__comp_addr(&x->comp, idx + i);

		/* each descriptor completes; its buffer is free with the first */
		if ((addr - TX_BASE) % tx_buf_size(x) == 0)
			vnet_xsk_tx_free(x, addr);
	}
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

void vnet_xsk_rx_count_too_long(struct vnet_xsk *x)
{
	x->st.rx_too_long++;
}

int vnet_xsk_kernel_stats(const struct vnet_xsk *x, struct vnet_xsk_kstats *ks)
{
	struct xdp_statistics xs;
	socklen_t len = sizeof(xs);

	memset(&xs, 0, sizeof(xs));
	memset(ks, 0, sizeof(*ks));
	/* an older kernel fills a shorter struct (len says how much): the
	 * fields it lacks stay 0 */
	if (getsockopt(xsk_socket__fd(x->xsk), SOL_XDP, XDP_STATISTICS, &xs, &len))
		return -errno;
	ks->rx_dropped = xs.rx_dropped;
	ks->rx_invalid_descs = xs.rx_invalid_descs;
	ks->tx_invalid_descs = xs.tx_invalid_descs;
	ks->rx_ring_full = xs.rx_ring_full;
	ks->rx_fill_ring_empty_descs = xs.rx_fill_ring_empty_descs;
	ks->tx_ring_empty_descs = xs.tx_ring_empty_descs;
	return 0;
}
