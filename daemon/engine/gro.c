// SPDX-License-Identifier: MIT
/*
 * Receive coalescing of TCP segments (include/vnet/gro.h has the rules and
 * where they come from). Per frame: parse and verify, find the frame's open
 * run, take it into the run or flush the run and maybe open a new one. A
 * run is rewritten only when it is flushed: the first segment's headers
 * with the new lengths, the IPv4 header checksum and, in the TCP checksum
 * field, the pseudo-header sum that NEEDS_CSUM asks for (spec 5.1.6.4.1).
 *
 * No allocation, no copy of payload: a run is a list of the frames it
 * takes; the receive path (net_rx.c) copies the pieces into the guest.
 */
#include <netinet/in.h>
#include <string.h>
#include <linux/virtio_net.h>

#include <vnet/csum.h>
#include <vnet/gro.h>
#include <vnet/net.h>

#include "be.h"

#define TCP_FIN		0x01
#define TCP_SYN		0x02
#define TCP_RST		0x04
#define TCP_PSH		0x08
#define TCP_URG		0x20
#define TCP_CWR		0x80
/* a segment with one of these ends its run (tcp_gro_receive's final flush) */
#define TCP_ENDS_RUN	(TCP_FIN | TCP_SYN | TCP_RST | TCP_PSH | TCP_URG)
/* the bits of the TCP word at offset 12 (data offset, flags, window) that
 * may differ inside a run: CWR (first only), PSH and FIN (last only) */
#define TCP_WORD_MAY_DIFFER	((__u32)(TCP_CWR | TCP_PSH | TCP_FIN) << 16)

#define ECN_MASK	3
#define ECN_CE		3

enum seg_kind {
	SEG_OTHER,	/* not TCP we can coalesce (or the offload is off) */
	SEG_BAD,	/* TCP of a known flow, but not verified: goes as it came */
	SEG_OK,		/* checksums verified, lengths exact */
};

/* One frame, parsed. */
struct seg {
	const struct vnet_rx_pkt *p;
	__u16 l3off, l4off, hdrs;
	__u8 ipv, flags;
	bool ce;
	__u32 seq, payload, key;
};

static __u32 flow_key(const __u8 *ip_addrs, unsigned int n, const __u8 *ports)
{
	__u32 k = get32(ports);

	for (unsigned int i = 0; i < n; i += 4)
		k = (k ^ get32(ip_addrs + i)) * 0x9e3779b1u;
	return k;
}

/* Ethernet with up to two VLAN tags, then IPv4 or IPv6 carrying TCP. */
static enum seg_kind seg_parse(const struct vnet_gro *g, const struct vnet_rx_pkt *p,
			       struct seg *s)
{
	const __u8 *d = p->data;
	__u32 n = p->len, off = 14, l4, doff;
	__u64 sum;
	__u16 type;

	s->p = p;
	if (n < 14)
		return SEG_OTHER;
	type = get16(d + 12);
	for (int i = 0; i < 2 && (type == 0x8100 || type == 0x88a8); i++) {
		if (off + 4 > n)
			return SEG_OTHER;
		type = get16(d + off + 2);
		off += 4;
	}
	s->l3off = (__u16)off;
	if (type == 0x0800) {
		if (!(g->offloads & VNET_GRO_TSO4) || off + 20 > n || (d[off] >> 4) != 4 ||
		    d[off + 9] != IPPROTO_TCP)
			return SEG_OTHER;
		/* a fragment's TCP header (if any) is not the segment's */
		if (get16(d + off + 6) & 0x3fff)
			return SEG_OTHER;
		l4 = off + (__u32)(d[off] & 0xf) * 4;
		s->ipv = 4;
		s->ce = (d[off + 1] & ECN_MASK) == ECN_CE;
	} else if (type == 0x86dd) {
		/* extension headers: never coalesced (as with fragments) */
		if (!(g->offloads & VNET_GRO_TSO6) || off + 40 > n || (d[off] >> 4) != 6 ||
		    d[off + 6] != IPPROTO_TCP)
			return SEG_OTHER;
		l4 = off + 40;
		s->ipv = 6;
		s->ce = ((get32(d + off) >> 20) & ECN_MASK) == ECN_CE;
	} else {
		return SEG_OTHER;
	}
	if (l4 < off + 20 || l4 + 20 > n)
		return SEG_OTHER;	/* no ports to tell the flow by */
	s->l4off = (__u16)l4;
	s->key = flow_key(d + off + (s->ipv == 4 ? 12 : 8), s->ipv == 4 ? 8 : 32, d + l4);

	/* the flow is known from here: what fails now still flushes its run */
	doff = (__u32)(d[l4 + 12] >> 4) * 4;
	if (doff < 20 || l4 + doff > n)
		goto bad;
	s->hdrs = (__u16)(l4 + doff);
	if (s->ipv == 4) {
		/* IP options, padding or truncation: as it came */
		if (l4 != off + 20 || off + get16(d + off + 2) != n)
			goto bad;
		if (vnet_csum_fold(vnet_csum_add(d + off, 20, 0)))
			goto bad_csum;
		sum = vnet_csum_pseudo4(d + off + 12, d + off + 16, IPPROTO_TCP, n - l4);
	} else {
		if (off + 40 + get16(d + off + 4) != n)
			goto bad;
		sum = vnet_csum_pseudo6(d + off + 8, d + off + 24, IPPROTO_TCP, n - l4);
	}
	/* a checksum someone already verified (VNET_RX_F_CSUM_VALID) is not
	 * summed again; all others are: NEEDS_CSUM and DATA_VALID both say
	 * the device validated it (spec 5.1.6.4.1) */
	if (!(p->flags & VNET_RX_F_CSUM_VALID) &&
	    vnet_csum_fold(vnet_csum_add(d + l4, n - l4, sum)))
		goto bad_csum;
	s->flags = d[l4 + 13];
	s->seq = get32(d + l4 + 4);
	s->payload = n - s->hdrs;
	return SEG_OK;

bad_csum:
	g->st->rx_csum_bad++;
	return SEG_BAD;
bad:
	g->st->rx_gro_bad++;
	return SEG_BAD;
}

/* Same flow: Ethernet header, addresses (and IPv6 flow label), ports. */
static bool same_flow(const struct vnet_gro_flow *f, const struct seg *s)
{
	const __u8 *a = f->seg[0]->data, *b = s->p->data;
	__u16 l3 = s->l3off;

	if (f->key != s->key || f->l3off != l3 || f->ipv != s->ipv || memcmp(a, b, l3))
		return false;
	if (s->ipv == 4) {
		if (memcmp(a + l3 + 12, b + l3 + 12, 8))
			return false;
	} else {
		/* version and flow label: another label is another flow */
		if (((get32(a + l3) ^ get32(b + l3)) & 0xf00fffffu) ||
		    memcmp(a + l3 + 8, b + l3 + 8, 32))
			return false;
	}
	return !memcmp(a + f->l4off, b + s->l4off, 4);
}

static struct vnet_gro_flow *flow_find(struct vnet_gro *g, const struct seg *s)
{
	for (unsigned int i = 0; g->nopen && i < VNET_GRO_FLOWS; i++)
		if (g->flow[i].open && same_flow(&g->flow[i], s))
			return &g->flow[i];
	return NULL;
}

/*
 * IPv4 ID rule (Linux's inet_gro_flush): the ID counts up by one per
 * segment, or, with DF, stays what it was, which the second segment
 * decides. *fixed: the run is (or becomes) a fixed-ID one.
 */
static bool ipv4_id_ok(const struct vnet_gro_flow *f, const __u8 *a, const __u8 *b,
		       bool *fixed)
{
	__u16 step = (__u16)(get16(b + 4) - get16(a + 4));
	bool df = b[6] & 0x40;

	*fixed = f->fixed_id;
	if (f->nsegs == 1 && df && step == 0) {
		*fixed = true;
		return true;
	}
	return step == (*fixed ? 0 : f->nsegs);
}

/* May segment s join run f (of the same flow)? *fixed as above. */
static bool can_merge(const struct vnet_gro_flow *f, const struct seg *s, bool *fixed)
{
	const __u8 *a = f->seg[0]->data, *b = s->p->data;
	const __u8 *ia = a + f->l3off, *ib = b + s->l3off;
	const __u8 *ta = a + f->l4off, *tb = b + s->l4off;

	*fixed = f->fixed_id;
	if (s->l4off != f->l4off || s->hdrs != f->hdrs)
		return false;
	if (!s->payload || s->payload > f->mss || s->seq != f->next_seq)
		return false;
	if (f->nsegs == VNET_GRO_MAX_SEGS || f->len + s->payload > VNET_GRO_MAX_LEN)
		return false;
	if (s->ce || (s->flags & (TCP_CWR | TCP_SYN | TCP_RST | TCP_URG)))
		return false;
	if ((get32(ta + 12) ^ get32(tb + 12)) & ~TCP_WORD_MAY_DIFFER)
		return false;
	/* ACK number, then the options, timestamps included */
	if (memcmp(ta + 8, tb + 8, 4) || memcmp(ta + 20, tb + 20, f->hdrs - f->l4off - 20u))
		return false;
	/* one frame carries one hash report: the first segment's */
	if (f->seg[0]->hash_value != s->p->hash_value ||
	    f->seg[0]->hash_report != s->p->hash_report)
		return false;
	if (s->ipv == 4)
		/* TOS (ECN bits too), TTL, DF equal; then the ID */
		return ia[1] == ib[1] && ia[8] == ib[8] && (ia[6] & 0x40) == (ib[6] & 0x40) &&
		       ipv4_id_ok(f, ia, ib, fixed);
	/* traffic class and hop limit equal */
	return !((get32(ia) ^ get32(ib)) & 0x0ff00000u) && ia[7] == ib[7];
}

/* May segment s start a run? */
static bool can_start(const struct vnet_gro *g, const struct seg *s)
{
	if (!s->payload || s->ce || (s->flags & TCP_ENDS_RUN))
		return false;
	/* spec 5.1.6.4.2: CWR means GSO_ECN, which needs GUEST_ECN */
	if ((s->flags & TCP_CWR) && !(g->offloads & VNET_GRO_ECN))
		return false;
	return s->p->len <= VNET_GRO_MAX_LEN && s->hdrs <= VNET_GRO_HDR_MAX;
}

static int emit(struct vnet_gro *g, const struct vnet_gro_frame *fr)
{
	int err = g->emit(g->ctx, fr);

	if (err < 0)
		g->err = err;
	return err < 0 ? err : 0;
}

/* A frame as it came; DATA_VALID when its checksums were verified. */
static int emit_alone(struct vnet_gro *g, const struct vnet_rx_pkt *const *p, bool valid)
{
	struct vnet_gro_frame fr = {
		.seg = p, .nsegs = 1, .len = (*p)->len,
		.flags = valid ? VIRTIO_NET_HDR_F_DATA_VALID : 0,
		.gso_type = VIRTIO_NET_HDR_GSO_NONE,
	};

	return emit(g, &fr);
}

/* The run's headers: the first segment's, made to describe the whole. */
static void run_rewrite(struct vnet_gro_flow *f)
{
	__u8 *ip = f->hdr + f->l3off, *th = f->hdr + f->l4off;
	__u32 l4len = f->len - f->l4off;
	__u64 sum;
	__u16 c;

	memcpy(f->hdr, f->seg[0]->data, f->hdrs);
	if (f->ipv == 4) {
		put16(ip + 2, (__u16)(f->len - f->l3off));
		ip[10] = ip[11] = 0;
		c = vnet_csum_fold(vnet_csum_add(ip, 20, 0));
		memcpy(ip + 10, &c, 2);
		sum = vnet_csum_pseudo4(ip + 12, ip + 16, IPPROTO_TCP, l4len);
	} else {
		put16(ip + 4, (__u16)(f->len - f->l3off - 40));
		sum = vnet_csum_pseudo6(ip + 8, ip + 24, IPPROTO_TCP, l4len);
	}
	/* PSH and FIN of the last segment (Linux: tcp_gro_receive) */
	th[13] |= f->last_flags & (TCP_PSH | TCP_FIN);
	/* spec 5.1.6.4.1 NEEDS_CSUM: the field holds the pseudo-header sum,
	 * so that the checksum over csum_start.. completes it */
	c = (__u16)~vnet_csum_fold(sum);
	memcpy(th + 16, &c, 2);
}

static int flow_flush(struct vnet_gro *g, struct vnet_gro_flow *f)
{
	struct vnet_gro_frame fr;

	f->open = false;
	g->nopen--;
	if (f->nsegs == 1)
		return emit_alone(g, f->seg, true);
	run_rewrite(f);
	fr = (struct vnet_gro_frame){
		.seg = f->seg, .nsegs = f->nsegs, .hdr = f->hdr, .hdr_len = f->hdrs,
		.len = f->len, .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
		.gso_type = f->ipv == 4 ? VIRTIO_NET_HDR_GSO_TCPV4 : VIRTIO_NET_HDR_GSO_TCPV6,
		.gso_size = f->mss, .csum_start = f->l4off, .csum_offset = 16,
	};
	if (f->hdr[f->l4off + 13] & TCP_CWR)
		fr.gso_type |= VIRTIO_NET_HDR_GSO_ECN;
	return emit(g, &fr);
}

static struct vnet_gro_flow *oldest(struct vnet_gro *g)
{
	struct vnet_gro_flow *o = NULL;

	for (unsigned int i = 0; i < VNET_GRO_FLOWS; i++)
		if (g->flow[i].open && (!o || g->flow[i].order < o->order))
			o = &g->flow[i];
	return o;
}

static int flow_open(struct vnet_gro *g, const struct seg *s)
{
	struct vnet_gro_flow *f = NULL;
	int err;

	if (g->nopen == VNET_GRO_FLOWS) {
		f = oldest(g);
		err = flow_flush(g, f);
		if (err)
			return err;
	} else {
		for (unsigned int i = 0; !f; i++)
			if (!g->flow[i].open)
				f = &g->flow[i];
	}
	f->open = true;
	f->fixed_id = false;
	f->ipv = s->ipv;
	f->last_flags = s->flags;
	f->l3off = s->l3off;
	f->l4off = s->l4off;
	f->hdrs = s->hdrs;
	f->mss = (__u16)s->payload;
	f->nsegs = 1;
	f->key = s->key;
	f->len = s->p->len;
	f->next_seq = s->seq + s->payload;
	f->order = g->order++;
	f->seg[0] = s->p;
	g->nopen++;
	return 0;
}

void vnet_gro_begin(struct vnet_gro *g, unsigned int offloads, vnet_gro_emit_fn fn,
		    void *ctx, struct vnet_net_stats *st)
{
	g->offloads = offloads;
	g->emit = fn;
	g->ctx = ctx;
	g->st = st;
	g->err = 0;
	g->nopen = 0;
	g->order = 0;
	for (unsigned int i = 0; i < VNET_GRO_FLOWS; i++)
		g->flow[i].open = false;
}

int vnet_gro_add(struct vnet_gro *g, const struct vnet_rx_pkt *p)
{
	struct vnet_gro_flow *f;
	enum seg_kind kind;
	struct seg s;
	bool fixed;
	int err;

	if (g->err)
		return g->err;
	kind = seg_parse(g, p, &s);
	if (kind == SEG_OTHER)
		return emit_alone(g, &s.p, false);
	f = flow_find(g, &s);
	if (f && kind == SEG_OK && can_merge(f, &s, &fixed)) {
		f->seg[f->nsegs++] = p;
		f->fixed_id = fixed;
		f->len += s.payload;
		f->next_seq += s.payload;
		f->last_flags = s.flags;
		/* a short or PSH/FIN segment ends it; so does a full run */
		if (s.payload < f->mss || (s.flags & TCP_ENDS_RUN) ||
		    f->nsegs == VNET_GRO_MAX_SEGS || f->len + f->mss > VNET_GRO_MAX_LEN)
			return flow_flush(g, f);
		return 0;
	}
	/* the frame cannot join: what the flow had goes first (order) */
	if (f) {
		err = flow_flush(g, f);
		if (err)
			return err;
	}
	if (kind == SEG_OK && can_start(g, &s))
		return flow_open(g, &s);
	return emit_alone(g, &s.p, kind == SEG_OK);
}

int vnet_gro_finish(struct vnet_gro *g)
{
	struct vnet_gro_flow *f;
	int err;

	while (!g->err && g->nopen && (f = oldest(g))) {
		err = flow_flush(g, f);
		if (err)
			return err;
	}
	return g->err;
}
