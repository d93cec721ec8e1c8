// SPDX-License-Identifier: MIT
/*
 * virtio-net receive (spec 5.1.6.3 "Setting Up Receive Buffers", 5.1.6.4
 * "Processing of Incoming Packets"): copy frames into the guest's buffers
 * behind a virtio_net_hdr_v1 (or _v1_hash), merging buffers with MRG_RXBUF.
 * With GUEST_TSO4/TSO6 on, the burst's TCP segments are coalesced first
 * (gro.c) and a run goes to the guest as one GSO frame.
 */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include <vnet/log.h>
#include <vnet/net.h>

#define BIT(n)	(1ull << (n))

/* A frame is copied from pieces: one for a frame as it came; for a
 * coalesced one the rewritten headers, then each segment's payload. */
struct rx_piece {
	const __u8 *p;
	__u32 len;
};

struct rx_cursor {
	const struct rx_piece *pc;
	__u32 off;		/* into *pc */
};

static void rx_header(const struct vnet_netq *q, const struct vnet_gro_frame *f,
		      __u16 num_buffers, struct virtio_net_hdr_v1_hash *h)
{
	const struct vnet_rx_pkt *p = f->seg[0];

	memset(h, 0, sizeof(*h));
	/* 5.1.6.4.1: flags stay 0 unless GUEST_CSUM is on (negotiated and
	 * not turned off, 5.1.6.5.6.1) */
	if (q->guest_offloads & BIT(VIRTIO_NET_F_GUEST_CSUM)) {
		h->hdr.flags = f->flags;
		h->hdr.csum_start = htole16(f->csum_start);
		h->hdr.csum_offset = htole16(f->csum_offset);
	}
	/* 5.1.6.4.2: a GSO frame has NEEDS_CSUM, gso_size and hdr_len */
	h->hdr.gso_type = f->gso_type;
	if (f->gso_type != VIRTIO_NET_HDR_GSO_NONE) {
		h->hdr.gso_size = htole16(f->gso_size);
		h->hdr.hdr_len = htole16(f->hdr_len);
	}
	h->hdr.num_buffers = htole16(num_buffers);
	if (q->hdr_len == VNET_NET_HDR_HASH_LEN) {
		h->hash_value = htole32(p->hash_value);
		h->hash_report = htole16(p->hash_report);
	}
}

static inline struct vnet_iov *in_iov(struct vnet_chain *c)
{
	return c->iov + c->nr_out;
}

/*
 * The functions that touch the ring take its layout as a constant (always
 * inlined): vnet_net_rx_burst() decides it once per burst (virtq.h).
 */
#define RX_INLINE	static inline __attribute__((always_inline))

/* Give back the chains of a frame we could not place. */
RX_INLINE void rx_rewind(struct vnet_netq *q, unsigned int nbufs,
			 enum vnet_virtq_layout l)
{
	__u16 back = vnet_vq_unpop(&q->vq, (__u16)nbufs, l);

	/* chains before a malformed one cannot be re-popped: return them */
	for (unsigned int i = 0; i < nbufs - back; i++)
		vnet_virtq_push(&q->vq, q->rx_bufs[i].id, 0);
}

/* Copy the next k bytes of the frame to offset 'at' of c's writable part. */
static void rx_copy(const struct vnet_netq *q, struct rx_cursor *cur,
		    struct vnet_chain *c, __u32 at, __u32 k)
{
	while (k) {
		__u32 m = cur->pc->len - cur->off;

		if (m > k)
			m = k;
		vnet_iov_write(&q->vq, in_iov(c), c->nr_in, at, cur->pc->p + cur->off, m);
		at += m;
		k -= m;
		cur->off += m;
		if (cur->off == cur->pc->len) {
			cur->pc++;
			cur->off = 0;
		}
	}
}

/*
 * Place one frame. Returns 1 if delivered, 0 if dropped as too big, -ENOBUFS
 * when the receiveq ran out of buffers (or broke).
 */
RX_INLINE int rx_place(struct vnet_netq *q, const struct vnet_gro_frame *f,
		       const struct rx_piece *pc, bool mrg, enum vnet_virtq_layout l)
{
	struct virtio_net_hdr_v1_hash hdr;
	struct vnet_chain *first = &q->chain[0];
	struct rx_cursor cur = { pc, 0 };
	__u32 hlen = q->hdr_len, done = 0, len = f->len;
	unsigned int nbufs = 0;

	while (nbufs == 0 || done < len) {
		struct vnet_chain *c = nbufs ? &q->chain[1] : first;
		__u32 at = nbufs ? 0 : hlen, room, k;

		if (vnet_vq_pop(&q->vq, c, l) <= 0) {
			rx_rewind(q, nbufs, l);
			return -ENOBUFS;
		}
		if (c->in_len < at || c->in_len == 0) {
			/* no room for the header: useless, give it back */
			q->stats.rx_bad_buf++;
			vnet_vq_discard(&q->vq, c->head, l);
			continue;
		}
		room = c->in_len - at;
		if (!mrg && room < len) {
			/* 5.1.6.3.1: one buffer only; never truncate */
			if (!vnet_vq_unpop(&q->vq, 1, l))
				vnet_vq_discard(&q->vq, c->head, l);
			return 0;
		}
		k = room < len - done ? room : len - done;
		rx_copy(q, &cur, c, at, k);
		q->rx_bufs[nbufs].id = c->head;
		q->rx_bufs[nbufs].len = at + k;	/* full, but for the last */
		nbufs++;
		done += k;
		if (done < len && nbufs == VNET_RX_MAX_BUFS) {
			rx_rewind(q, nbufs, l);
			return 0;
		}
	}

	/* 5.1.6.4.1: num_buffers = buffers the frame is spread over */
	rx_header(q, f, (__u16)nbufs, &hdr);
	vnet_iov_write(&q->vq, in_iov(first), first->nr_in, 0, &hdr, hlen);
	/* all buffers of a frame become visible together (5.1.6.4.1) */
	if (vnet_virtq_shadow_room(&q->vq) < nbufs)
		vnet_virtq_publish(&q->vq);
	for (unsigned int i = 0; i < nbufs; i++)
		vnet_virtq_push(&q->vq, q->rx_bufs[i].id, q->rx_bufs[i].len);
	return 1;
}

/* One frame as it came (no coalescing). */
RX_INLINE int rx_one(struct vnet_netq *q, const struct vnet_rx_pkt *p, bool mrg,
		     enum vnet_virtq_layout l)
{
	bool valid = (p->flags & VNET_RX_F_CSUM_VALID);
	struct vnet_gro_frame f = {
		.seg = &p, .nsegs = 1, .len = p->len,
		.flags = valid ? VIRTIO_NET_HDR_F_DATA_VALID : 0,
		.gso_type = VIRTIO_NET_HDR_GSO_NONE,
	};
	struct rx_piece pc = { p->data, p->len };

	return rx_place(q, &f, &pc, mrg, l);
}

/*
 * The header of a frame the kernel coalesced (VNET_RX_F_VHDR) as the
 * guest gets it, or -EINVAL when its offloads cannot take it: a GSO type
 * needs GUEST_TSO4/TSO6 (+ECN: GUEST_ECN), the checksum flags GUEST_CSUM
 * (5.1.6.4.1, 5.1.6.4.2). hdr_len is made exact (the kernel gives the
 * linear part's length, which GUEST_HDRLEN does not allow): the TCP
 * header's end, read from the frame.
 */
static int rx_vhdr(const struct vnet_netq *q, const struct vnet_rx_pkt *p,
		   struct vnet_gro_frame *f)
{
	__u64 o = q->guest_offloads;
	struct virtio_net_hdr h;
	__u32 l4, tcp_len;
	__u8 gso;

	memcpy(&h, p->data - sizeof(h), sizeof(h));
	f->flags = h.flags & (VIRTIO_NET_HDR_F_NEEDS_CSUM | VIRTIO_NET_HDR_F_DATA_VALID);
	f->csum_start = le16toh(h.csum_start);
	f->csum_offset = le16toh(h.csum_offset);
	f->gso_type = h.gso_type;
	if (f->flags && !(o & BIT(VIRTIO_NET_F_GUEST_CSUM)))
		return -EINVAL;
	if ((f->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) &&
	    (__u32)f->csum_start + f->csum_offset + 2 > p->len)
		return -EINVAL;
	gso = h.gso_type & ~VIRTIO_NET_HDR_GSO_ECN;
	if (gso == VIRTIO_NET_HDR_GSO_NONE)
		return h.gso_type == VIRTIO_NET_HDR_GSO_NONE ? 0 : -EINVAL;
	if ((gso == VIRTIO_NET_HDR_GSO_TCPV4 && !(o & BIT(VIRTIO_NET_F_GUEST_TSO4))) ||
	    (gso == VIRTIO_NET_HDR_GSO_TCPV6 && !(o & BIT(VIRTIO_NET_F_GUEST_TSO6))) ||
	    (gso != VIRTIO_NET_HDR_GSO_TCPV4 && gso != VIRTIO_NET_HDR_GSO_TCPV6) ||
	    ((h.gso_type & VIRTIO_NET_HDR_GSO_ECN) && !(o & BIT(VIRTIO_NET_F_GUEST_ECN))))
		return -EINVAL;
	/* a GSO frame is NEEDS_CSUM at its TCP header (5.1.6.4.2) */
	l4 = f->csum_start;
	if (!(f->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) || f->csum_offset != 16 ||
	    l4 + 20 > p->len)
		return -EINVAL;
	tcp_len = (__u32)(p->data[l4 + 12] >> 4) * 4;
	f->gso_size = le16toh(h.gso_size);
	if (tcp_len < 20 || l4 + tcp_len > p->len || !f->gso_size)
		return -EINVAL;
	f->hdr_len = (__u16)(l4 + tcp_len);
	return 0;
}

/* One frame with the kernel's header: 1 delivered, 0 dropped, -ENOBUFS. */
RX_INLINE int rx_one_vhdr(struct vnet_netq *q, const struct vnet_rx_pkt *p, bool mrg,
			  enum vnet_virtq_layout l)
{
	struct vnet_gro_frame f = { .seg = &p, .nsegs = 1, .len = p->len };
	struct rx_piece pc = { p->data, p->len };
	int r;

	q->stats.rx_kgro_frames++;
	if (rx_vhdr(q, p, &f)) {
		q->stats.rx_kgro_bad++;
		return 0;
	}
	r = rx_place(q, &f, &pc, mrg, l);
	if (r > 0 && f.gso_type != VIRTIO_NET_HDR_GSO_NONE)
		q->stats.rx_kgro_gso++;
	return r;
}

/* The burst with coalescing: what gro.c emits, in its order. */
struct rx_gro_ctx {
	struct vnet_netq *q;
	bool mrg;
	const struct vnet_rx_pkt *base;	/* pkts[0] of the burst */
	__u64 taken;		/* bit i: pkts[i] delivered or dropped (n <= 64) */
	unsigned int delivered;	/* frames that came in, delivered */
	unsigned int dropped;	/* ... dropped as too big */
	unsigned int used;	/* frames the guest sees */
};

static int rx_emit_split(void *ctx, const struct vnet_gro_frame *f);
static int rx_emit_packed(void *ctx, const struct vnet_gro_frame *f);

RX_INLINE int rx_emit(void *ctx, const struct vnet_gro_frame *f, enum vnet_virtq_layout l)
{
	struct rx_piece pc[VNET_GRO_MAX_SEGS + 1];
	struct rx_gro_ctx *x = ctx;
	struct vnet_netq *q = x->q;
	__u64 bytes = 0;
	int r = 0;

	if (f->nsegs == 1) {
		pc[0] = (struct rx_piece){ f->seg[0]->data, f->len };
		bytes = f->len;
	} else {
		pc[0] = (struct rx_piece){ f->hdr, f->hdr_len };
		for (unsigned int i = 0; i < f->nsegs; i++) {
			pc[i + 1] = (struct rx_piece){ f->seg[i]->data + f->hdr_len,
						       f->seg[i]->len - f->hdr_len };
			bytes += f->seg[i]->len;
		}
	}
	if (f->len <= VNET_RX_MAX_FRAME)
		r = rx_place(q, f, pc, x->mrg, l);
	if (r < 0)
		return r;
	if (!r && f->nsegs > 1) {
		/* the buffers cannot take it whole (no MRG_RXBUF and small
		 * buffers, or too many): its segments one by one, verified */
		for (unsigned int i = 0; i < f->nsegs && r >= 0; i++) {
			struct vnet_gro_frame one = {
				.seg = &f->seg[i], .nsegs = 1, .len = f->seg[i]->len,
				.flags = VIRTIO_NET_HDR_F_DATA_VALID,
			};

			r = l == VNET_VQ_PACKED ? rx_emit_packed(x, &one)
						: rx_emit_split(x, &one);
		}
		return r;
	}
	for (unsigned int i = 0; i < f->nsegs; i++) {
		size_t k = (size_t)(f->seg[i] - x->base);

		if (k < 64)
			x->taken |= 1ull << k;
	}
	if (!r) {
		q->stats.rx_drop_too_big++;
		x->dropped++;
		return 0;
	}
	x->delivered += f->nsegs;
	x->used++;
	q->stats.rx_packets += f->nsegs;
	q->stats.rx_bytes += bytes;
	if (f->nsegs > 1) {
		q->stats.rx_gro_frames++;
		q->stats.rx_gro_segs += f->nsegs;
	}
	return 0;
}

/* gro.c's callback, one per layout */
static int rx_emit_split(void *ctx, const struct vnet_gro_frame *f)
{
	return rx_emit(ctx, f, VNET_VQ_SPLIT);
}

static int rx_emit_packed(void *ctx, const struct vnet_gro_frame *f)
{
	return rx_emit(ctx, f, VNET_VQ_PACKED);
}

/* VNET_GRO_* from the guest's offloads; 0: no coalescing. */
static unsigned int gro_offloads(const struct vnet_netq *q)
{
	__u64 o = q->guest_offloads;
	unsigned int g = 0;

	/* a GSO frame carries NEEDS_CSUM (5.1.6.4.2): GUEST_CSUM first */
	if (!(o & BIT(VIRTIO_NET_F_GUEST_CSUM)))
		return 0;
	if (o & BIT(VIRTIO_NET_F_GUEST_TSO4))
		g |= VNET_GRO_TSO4;
	if (o & BIT(VIRTIO_NET_F_GUEST_TSO6))
		g |= VNET_GRO_TSO6;
	if (g && (o & BIT(VIRTIO_NET_F_GUEST_ECN)))
		g |= VNET_GRO_ECN;
	return g;
}

/*
 * Frames a few ahead into the cache while this one is summed: coalescing
 * reads every byte (its TCP checksum), a frame the kernel just wrote on
 * the other CPU misses line after line, and the hardware's prefetcher
 * starts anew with every frame (make bench-tcp's profile: the checksum
 * loop ~10x its cost in a warm cache; 4 ahead measured better than 1).
 */
#define RX_PREFETCH_AHEAD	4

static inline void rx_prefetch(const struct vnet_rx_pkt *p)
{
	for (__u32 off = 0; off < p->len; off += 64)
		__builtin_prefetch(p->data + off);
}

/* Frames of pkts[0 .. n) not taken: bit i for pkts[i]. */
static inline __u64 rx_not_taken(__u64 taken, unsigned int n)
{
	return ~taken & (n >= 64 ? ~0ull : (1ull << n) - 1);
}

RX_INLINE unsigned int rx_burst_gro(struct vnet_netq *q, const struct vnet_rx_pkt *pkts,
				    unsigned int n, unsigned int offloads, bool mrg,
				    __u64 *nobuf, enum vnet_virtq_layout l)
{
	struct rx_gro_ctx x = { .q = q, .mrg = mrg, .base = pkts };

	vnet_gro_begin(&q->gro, offloads, l == VNET_VQ_PACKED ? rx_emit_packed : rx_emit_split,
		       &x, &q->stats);
	for (unsigned int i = 0; i < n && i < RX_PREFETCH_AHEAD; i++)
		rx_prefetch(&pkts[i]);
	for (unsigned int i = 0; i < n; i++) {
		if (i + RX_PREFETCH_AHEAD < n)
			rx_prefetch(&pkts[i + RX_PREFETCH_AHEAD]);
		if (vnet_gro_add(&q->gro, &pkts[i]) < 0)
			break;
	}
	/* the end of the burst: nothing is held back for the next one */
	vnet_gro_finish(&q->gro);
	if (nobuf)
		*nobuf = rx_not_taken(x.taken, n);
	else
		q->stats.rx_drop_no_buf += n - x.delivered - x.dropped;
	vnet_virtq_flush(&q->vq, x.used);
	return x.delivered;
}

void vnet_netq_set_guest_offloads(struct vnet_netq *q, __u64 offloads)
{
	/* 5.1.6.5.6.1: only what was negotiated can be on */
	q->guest_offloads = offloads & q->features & VNET_GUEST_OFFLOADS;
}

RX_INLINE unsigned int rx_burst(struct vnet_netq *q, const struct vnet_rx_pkt *pkts,
				unsigned int n, __u64 *nobuf, enum vnet_virtq_layout l)
{
	bool mrg = q->features & (1ull << VIRTIO_NET_F_MRG_RXBUF);
	unsigned int i, delivered = 0, gro = gro_offloads(q);
	__u16 any = 0;

	/* frames the kernel coalesced already: the burst one by one */
	for (i = 0; i < n; i++)
		any |= pkts[i].flags;
	if (gro && !(any & VNET_RX_F_VHDR))
		return rx_burst_gro(q, pkts, n, gro, mrg, nobuf, l);
	for (i = 0; i < n; i++) {
		int r;

		if (pkts[i].len > VNET_RX_MAX_FRAME) {
			q->stats.rx_drop_too_big++;
			continue;
		}
		r = pkts[i].flags & VNET_RX_F_VHDR ? rx_one_vhdr(q, &pkts[i], mrg, l) :
						     rx_one(q, &pkts[i], mrg, l);
		if (r < 0)
			break;
		if (!r) {
			q->stats.rx_drop_too_big++;
			continue;
		}
		delivered++;
		q->stats.rx_packets++;
		q->stats.rx_bytes += pkts[i].len;
	}
	/* no buffer for pkts[i]: it and all after it */
	if (nobuf)
		*nobuf = i < n ? rx_not_taken((1ull << i) - 1, n) : 0;
	else
		q->stats.rx_drop_no_buf += n - i;
	vnet_virtq_flush(&q->vq, delivered);
	return delivered;
}

unsigned int vnet_net_rx_burst(struct vnet_netq *q,
			       const struct vnet_rx_pkt *pkts, unsigned int n)
{
	/* the ring layout: one decision per burst */
	if (q->vq.layout == VNET_VQ_PACKED)
		return rx_burst(q, pkts, n, NULL, VNET_VQ_PACKED);
	return rx_burst(q, pkts, n, NULL, VNET_VQ_SPLIT);
}

unsigned int vnet_net_rx_burst_hold(struct vnet_netq *q, const struct vnet_rx_pkt *pkts,
				    unsigned int n, __u64 *nobuf)
{
	*nobuf = 0;
	if (n > VNET_RX_HOLD_MAX) {
		/* more than the bitmap tells: as vnet_net_rx_burst */
		return vnet_net_rx_burst(q, pkts, n);
	}
	if (q->vq.layout == VNET_VQ_PACKED)
		return rx_burst(q, pkts, n, nobuf, VNET_VQ_PACKED);
	return rx_burst(q, pkts, n, nobuf, VNET_VQ_SPLIT);
}

void vnet_net_rx_dropped(struct vnet_netq *q, unsigned int n)
{
	q->stats.rx_drop_no_buf += n;
}
