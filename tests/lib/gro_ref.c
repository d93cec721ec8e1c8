// SPDX-License-Identifier: MIT
/*
 * The reference for receive coalescing and its receive queue (gro_ref.h).
 * Written from the receiver's side on purpose: it never asks whether two
 * segments should have been merged, only whether what arrived is exactly,
 * and in order, what was sent.
 */
#include <endian.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/virtio_net.h>

#include "gro_ref.h"
#include "tcp_stream.h"

#define CWR	0x80
#define PSH	0x08
#define FIN	0x01

static unsigned int r16(const __u8 *p) { return (unsigned int)(p[0] << 8 | p[1]); }
static __u32 r32(const __u8 *p) { return (__u32)r16(p) << 16 | r16(p + 2); }
static void w16(__u8 *p, unsigned int v) { p[0] = (__u8)(v >> 8); p[1] = (__u8)v; }
static void w32(__u8 *p, __u32 v) { w16(p, v >> 16); w16(p + 2, v & 0xffff); }

struct hdrs {
	unsigned int l3, l4, hdrs, ipv;
};

/* TCP over IPv4 (not a fragment) or IPv6 (no extension header), with ports. */
static bool parse_tcp(const __u8 *d, __u32 n, struct hdrs *h)
{
	unsigned int off = 14, type, tags = 0;

	if (n < 14)
		return false;
	type = r16(d + 12);
	while ((type == 0x8100 || type == 0x88a8) && tags++ < 2) {
		if (off + 4 > n)
			return false;
		type = r16(d + off + 2);
		off += 4;
	}
	h->l3 = off;
	if (type == 0x0800) {
		if (off + 20 > n || d[off] >> 4 != 4 || d[off + 9] != 6 ||
		    (r16(d + off + 6) & 0x3fff))
			return false;
		h->ipv = 4;
		h->l4 = off + (d[off] & 15u) * 4;
		if (h->l4 < off + 20)
			return false;
	} else if (type == 0x86dd) {
		if (off + 40 > n || d[off] >> 4 != 6 || d[off + 6] != 6)
			return false;
		h->ipv = 6;
		h->l4 = off + 40;
	} else {
		return false;
	}
	if (h->l4 + 20 > n)
		return false;
	h->hdrs = h->l4 + (d[h->l4 + 12] >> 4) * 4u;
	return true;
}

static __u32 pseudo(const __u8 *d, const struct hdrs *h, __u32 l4len)
{
	const __u8 *ip = d + h->l3;

	if (h->ipv == 4)
		return ts_sum16(ip + 12, 8, 0) + 6 + l4len;
	return ts_sum16(ip + 8, 32, 0) + 6 + (l4len >> 16) + (l4len & 0xffff);
}

/* Exact IP lengths, IPv4 header and TCP checksums right. */
static bool checksums_ok(const __u8 *d, __u32 n)
{
	struct hdrs h;

	if (!parse_tcp(d, n, &h) || h.hdrs > n || h.hdrs < h.l4 + 20)
		return false;
	if (h.ipv == 4) {
		if (h.l3 + r16(d + h.l3 + 2) != n || ts_fold(ts_sum16(d + h.l3, h.l4 - h.l3, 0)))
			return false;
	} else if (h.l3 + 40 + r16(d + h.l3 + 4) != n) {
		return false;
	}
	return !ts_fold(ts_sum16(d + h.l4, n - h.l4, pseudo(d, &h, n - h.l4)));
}

/* The ordering group of a frame: TCP by Ethernet header, addresses and
 * ports (and flow label); every other frame in group "other" (len 0). */
static unsigned int group_key(const __u8 *d, __u32 n, __u8 *key)
{
	struct hdrs h;
	unsigned int k;

	if (!parse_tcp(d, n, &h))
		return 0;
	memcpy(key, d, h.l3);
	k = h.l3;
	if (h.ipv == 4) {
		memcpy(key + k, d + h.l3 + 12, 8);
		k += 8;
	} else {
		w32(key + k, r32(d + h.l3) & 0xf00fffffu);
		memcpy(key + k + 4, d + h.l3 + 8, 32);
		k += 36;
	}
	memcpy(key + k, d + h.l4, 4);
	return k + 4;
}

struct ref {
	const struct gro_ref_frame *in;
	unsigned int nin;
	int *taken;		/* per input: delivery position + 1, 0 */
	char *why;
	size_t whylen;
};

static int fail(struct ref *r, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(r->why, r->whylen, fmt, ap);
	va_end(ap);
	return -1;
}

/* The lowest input not taken that equals frame d; -1 if none. */
static int find_input(const struct ref *r, const __u8 *d, __u32 n, const int *tent,
		      unsigned int ntent)
{
	for (unsigned int i = 0; i < r->nin; i++) {
		bool busy = r->taken[i];

		for (unsigned int t = 0; !busy && t < ntent; t++)
			busy = tent[t] == (int)i;
		if (!busy && r->in[i].len == n && !memcmp(r->in[i].data, d, n))
			return (int)i;
	}
	return -1;
}

/* Cut a GSO frame as a sender's TSO would; match each piece to an input. */
static bool resegment(struct ref *r, const struct gro_ref_out *o, const struct hdrs *h,
		      __u32 mss, bool fixed_id, int *match, unsigned int *nseg)
{
	static __u8 seg[65536];
	const __u8 *d = o->data;
	__u32 payload = o->len - h->hdrs, n = (payload + mss - 1) / mss;
	unsigned int id0 = h->ipv == 4 ? r16(d + h->l3 + 4) : 0;
	__u32 seq0 = r32(d + h->l4 + 4);

	*nseg = n;
	for (__u32 i = 0; i < n; i++) {
		__u32 pl = payload - i * mss < mss ? payload - i * mss : mss;
		__u32 slen = h->hdrs + pl;
		__u8 *ip = seg + h->l3, *th = seg + h->l4;

		memcpy(seg, d, h->hdrs);
		memcpy(seg + h->hdrs, d + h->hdrs + i * mss, pl);
		if (h->ipv == 4) {
			w16(ip + 2, slen - h->l3);
			w16(ip + 4, (id0 + (fixed_id ? 0 : i)) & 0xffff);
			w16(ip + 10, 0);
			w16(ip + 10, ts_fold(ts_sum16(ip, h->l4 - h->l3, 0)));
		} else {
			w16(ip + 4, slen - h->l3 - 40);
		}
		w32(th + 4, seq0 + i * mss);
		if (i > 0)
			th[13] &= (__u8)~CWR;
		if (i + 1 < n)
			th[13] &= (__u8)~(PSH | FIN);
		w16(th + 16, 0);
		w16(th + 16, ts_fold(ts_sum16(th, slen - h->l4, pseudo(seg, h, slen - h->l4))));
		match[i] = find_input(r, seg, slen, match, i);
		if (match[i] < 0)
			return false;
	}
	return true;
}

static int check_gso(struct ref *r, struct gro_ref_out *o, unsigned int k, unsigned int flags,
		     int *match)
{
	const __u8 *d = o->data;
	__u8 buf[65536];
	unsigned int gt = o->vh.gso_type, base = gt & ~VIRTIO_NET_HDR_GSO_ECN;
	__u32 mss = le16toh(o->vh.gso_size), c;
	struct hdrs h;
	unsigned int nseg;

	if (!(flags & GRO_REF_CSUM))
		return fail(r, "frame %u: GSO without GUEST_CSUM", k);
	if (!parse_tcp(d, o->len, &h) || h.hdrs > o->len || o->len > 65535)
		return fail(r, "frame %u: GSO frame is not TCP (len %u)", k, o->len);
	if (base != (h.ipv == 4 ? VIRTIO_NET_HDR_GSO_TCPV4 : VIRTIO_NET_HDR_GSO_TCPV6))
		return fail(r, "frame %u: gso_type %u for IPv%u", k, gt, h.ipv);
	if (!(gt & VIRTIO_NET_HDR_GSO_ECN) != !(d[h.l4 + 13] & CWR) ||
	    ((gt & VIRTIO_NET_HDR_GSO_ECN) && !(flags & GRO_REF_ECN)))
		return fail(r, "frame %u: GSO_ECN %u, CWR %u", k, !!(gt & VIRTIO_NET_HDR_GSO_ECN),
			    !!(d[h.l4 + 13] & CWR));
	if (o->vh.flags != VIRTIO_NET_HDR_F_NEEDS_CSUM || le16toh(o->vh.csum_start) != h.l4 ||
	    le16toh(o->vh.csum_offset) != 16 || le16toh(o->vh.hdr_len) != h.hdrs)
		return fail(r, "frame %u: flags %u csum %u+%u hdr_len %u (l4 %u hdrs %u)", k,
			    o->vh.flags, le16toh(o->vh.csum_start), le16toh(o->vh.csum_offset),
			    le16toh(o->vh.hdr_len), h.l4, h.hdrs);
	if (!mss || o->len - h.hdrs <= mss)
		return fail(r, "frame %u: gso_size %u for %u bytes of payload", k, mss,
			    o->len - h.hdrs);
	if (h.ipv == 4 ? (h.l3 + r16(d + h.l3 + 2) != o->len ||
			  ts_fold(ts_sum16(d + h.l3, h.l4 - h.l3, 0))) :
			 h.l3 + 40 + r16(d + h.l3 + 4) != o->len)
		return fail(r, "frame %u: IP length or header checksum wrong", k);
	if ((h.ipv == 4 ? d[h.l3 + 1] : r32(d + h.l3) >> 20) % 4 == 3)
		return fail(r, "frame %u: a coalesced frame with ECN CE", k);
	/* NEEDS_CSUM as the guest completes it: the sum from csum_start
	 * over the seeded field, stored there, must verify */
	memcpy(buf, d, o->len);
	c = ts_fold(ts_sum16(buf + h.l4, o->len - h.l4, 0));
	w16(buf + h.l4 + 16, c);
	if (!checksums_ok(buf, o->len))
		return fail(r, "frame %u: NEEDS_CSUM does not complete to a right checksum", k);
	if (!resegment(r, o, &h, mss, false, match, &nseg) &&
	    !((d[h.l3 + 6] & 0x40) && h.ipv == 4 && resegment(r, o, &h, mss, true, match, &nseg)))
		return fail(r, "frame %u (%u bytes, gso_size %u): a piece is not a frame that came in",
			    k, o->len, mss);
	if (nseg > 64)
		return fail(r, "frame %u: %u segments", k, nseg);
	o->nsegs = nseg;
	return 0;
}

static int check_order(struct ref *r)
{
	static __u8 ka[128], kb[128];

	for (unsigned int i = 0; i < r->nin; i++) {
		unsigned int la;

		if (!r->taken[i])
			continue;
		la = group_key(r->in[i].data, r->in[i].len, ka);
		for (unsigned int j = i + 1; j < r->nin; j++) {
			if (!r->taken[j] || r->taken[j] > r->taken[i])
				continue;
			if (group_key(r->in[j].data, r->in[j].len, kb) == la && !memcmp(ka, kb, la))
				return fail(r, "frames %u and %u of one flow swapped", i, j);
		}
	}
	return 0;
}

int gro_ref_check(const struct gro_ref_frame *in, unsigned int nin,
		  struct gro_ref_out *out, unsigned int nout, unsigned int flags,
		  char *why, size_t whylen)
{
	int taken[GRO_REF_MAX_IN] = { 0 }, match[64];
	struct ref r = { in, nin, taken, why, whylen };
	int pos = 0;

	if (nin > GRO_REF_MAX_IN)
		return fail(&r, "too many frames");
	for (unsigned int k = 0; k < nout; k++) {
		struct gro_ref_out *o = &out[k];

		if (o->vh.gso_type != VIRTIO_NET_HDR_GSO_NONE) {
			if (check_gso(&r, o, k, flags, match))
				return -1;
		} else {
			if (o->vh.flags & ~VIRTIO_NET_HDR_F_DATA_VALID ||
			    (o->vh.flags && !(flags & GRO_REF_CSUM)))
				return fail(&r, "frame %u: flags %u", k, o->vh.flags);
			if (o->vh.flags && !checksums_ok(o->data, o->len))
				return fail(&r, "frame %u: DATA_VALID on a bad checksum", k);
			match[0] = find_input(&r, o->data, o->len, NULL, 0);
			if (match[0] < 0)
				return fail(&r, "frame %u (%u bytes): not a frame that came in", k,
					    o->len);
			o->nsegs = 1;
		}
		for (unsigned int i = 0; i < o->nsegs; i++)
			taken[match[i]] = ++pos;
	}
	if (!(flags & GRO_REF_PARTIAL))
		for (unsigned int i = 0; i < nin; i++)
			if (!taken[i])
				return fail(&r, "frame %u never arrived", i);
	return check_order(&r);
}

/* --- the receive queue -------------------------------------------------------- */

static void on_notify(struct vnet_virtq *vq, void *o) {}
static void on_error(struct vnet_virtq *vq, int e, void *o) {}
static const struct vnet_virtq_ops rig_ops = { on_notify, on_error };

int gro_rig_init(struct gro_rig *r, __u64 features, __u16 size, __u32 buf_size,
		 unsigned int nbufs)
{
	struct vnet_virtq_cfg cfg;

	memset(r, 0, sizeof(*r));
	features |= 1ull << VIRTIO_F_VERSION_1;
	if ((features & (1ull << VIRTIO_F_RING_PACKED) ? vdriver_create_packed : vdriver_create)
	    (&r->d, size, (size_t)size * buf_size + (1u << 20)))
		return -1;
	r->features = features;
	r->buf_size = buf_size;
	r->buf_gpa = calloc(size, sizeof(*r->buf_gpa));
	r->got_cap = 32u << 20;
	r->got = malloc(r->got_cap);
	if (!r->buf_gpa || !r->got)
		return -1;
	vnet_netq_init(&r->q, 0, features, 1500, &rig_ops, r);
	vdriver_cfg(&r->d, features, &cfg);
	if (vnet_virtq_setup(&r->q.vq, &r->d.gm, &cfg))
		return -1;
	gro_rig_post(r, nbufs);
	return 0;
}

void gro_rig_fini(struct gro_rig *r)
{
	vdriver_destroy(&r->d);
	free(r->buf_gpa);
	free(r->got);
	r->buf_gpa = NULL;
	r->got = NULL;
}

void gro_rig_post(struct gro_rig *r, unsigned int n)
{
	while (n-- && vdriver_num_free(&r->d)) {
		__u16 head = vdriver_next_id(&r->d);
		struct vdrv_seg s = { 0, r->buf_size, true };

		if (!r->buf_gpa[head])
			r->buf_gpa[head] = vdriver_alloc(&r->d, r->buf_size, NULL);
		s.gpa = r->buf_gpa[head];
		if (vdriver_add(&r->d, &s, 1, false) < 0)
			break;
	}
	vdriver_publish(&r->d);
}

static struct vnet_rx_pkt *rig_pkts(const struct gro_ref_frame *in, unsigned int n,
				    const __u32 *hash)
{
	static struct vnet_rx_pkt pk[GRO_REF_MAX_IN];

	for (unsigned int i = 0; i < n && i < GRO_REF_MAX_IN; i++)
		pk[i] = (struct vnet_rx_pkt){
			.data = in[i].data, .len = in[i].len,
			.hash_value = hash ? hash[i] : 0,
			.hash_report = hash ? VIRTIO_NET_HASH_REPORT_TCPv4 : 0,
		};
	return pk;
}

unsigned int gro_rig_burst(struct gro_rig *r, const struct gro_ref_frame *in, unsigned int n,
			   const __u32 *hash)
{
	const struct vnet_rx_pkt *pk = rig_pkts(in, n, hash);

	return vnet_net_rx_burst(&r->q, pk, n < GRO_REF_MAX_IN ? n : GRO_REF_MAX_IN);
}

unsigned int gro_rig_burst_hold(struct gro_rig *r, const struct gro_ref_frame *in,
				unsigned int n, __u64 *nobuf)
{
	return vnet_net_rx_burst_hold(&r->q, rig_pkts(in, n, NULL),
				      n < GRO_REF_MAX_IN ? n : GRO_REF_MAX_IN, nobuf);
}

void gro_rig_collect(struct gro_rig *r)
{
	bool mrg = r->features & (1ull << VIRTIO_NET_F_MRG_RXBUF);
	unsigned int hl = r->q.hdr_len;
	__u32 len;
	int id;

	r->nout = 0;
	r->got_off = 0;
	r->bad = 0;
	while ((id = vdriver_get_used(&r->d, &len)) >= 0) {
		const __u8 *b = vdriver_hva(&r->d, r->buf_gpa[id]);
		struct gro_ref_out *o = &r->out[r->nout];
		unsigned int nb, k;

		if (len < hl || len > r->buf_size || r->nout == GRO_REF_MAX_OUT) {
			r->bad++;
			continue;
		}
		memcpy(&o->vh, b, sizeof(o->vh));
		if (hl == VNET_NET_HDR_HASH_LEN) {
			memcpy(&o->hash_value, b + 12, 4);
			memcpy(&o->hash_report, b + 16, 2);
			o->hash_value = le32toh(o->hash_value);
			o->hash_report = le16toh(o->hash_report);
		}
		nb = le16toh(o->vh.num_buffers);
		if (!nb || (!mrg && nb != 1)) {
			r->bad++;
			continue;
		}
		/* spec 5.1.6.4.2: all buffers but the last are full */
		if (nb > 1 && len != r->buf_size)
			r->bad++;
		o->data = r->got + r->got_off;
		memcpy(r->got + r->got_off, b + hl, len - hl);
		o->len = len - hl;
		for (k = 1; k < nb; k++) {
			id = vdriver_get_used(&r->d, &len);
			if (id < 0 || len > r->buf_size || r->got_off + o->len + len > r->got_cap)
				break;
			/* spec 5.1.6.4.2: all buffers but the last are full */
			if (k + 1 < nb && len != r->buf_size)
				r->bad++;
			memcpy(r->got + r->got_off + o->len,
			       vdriver_hva(&r->d, r->buf_gpa[id]), len);
			o->len += len;
		}
		if (k < nb) {
			r->bad++;
			continue;
		}
		r->got_off += o->len;
		r->nout++;
	}
	gro_rig_post(r, ~0u);
}
