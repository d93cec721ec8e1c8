// SPDX-License-Identifier: MIT
/*
 * virtio-net transmit: header validation, NEEDS_CSUM completion, software
 * GSO. Segments are checked by an independent reference (written here from
 * RFC 791/793/768/8200, big-endian, no code shared with the engine).
 */
#include <endian.h>
#include <netinet/in.h>
#include <string.h>

#include <vnet/net.h>

#include "frame.h"
#include "test.h"
#include "vdriver.h"

#define F(bit)	(1ull << (bit))
#define FEAT_ALL (F(VIRTIO_NET_F_CSUM) | F(VIRTIO_NET_F_HOST_TSO4) | \
		  F(VIRTIO_NET_F_HOST_TSO6) | F(VIRTIO_NET_F_HOST_USO) | \
		  F(VIRTIO_NET_F_HOST_ECN) | F(VIRTIO_RING_F_INDIRECT_DESC))
#define NOUT	128

struct fx {
	struct vdriver d;
	struct vnet_netq q;
};

static struct fx fx;
static bool packed;	/* the ring layout of this round (main) */
static __u8 frame[70000], outmem[NOUT][2048], joined[70000];
static struct vnet_tx_buf out[NOUT];

static const struct vnet_virtq_ops ops;

static struct fx *fx_setup(__u64 features, __u16 mtu)
{
	struct vnet_virtq_cfg cfg;
	struct fx *f = &fx;

	memset(f, 0, sizeof(*f));
	if ((packed ? vdriver_create_packed : vdriver_create)(&f->d, 256, 8 << 20))
		return NULL;
	vnet_netq_init(&f->q, 1, features | F(VIRTIO_F_VERSION_1), mtu, &ops, f);
	vdriver_cfg(&f->d, features, &cfg);
	if (vnet_virtq_setup(&f->q.vq, &f->d.gm, &cfg))
		return NULL;
	for (int i = 0; i < NOUT; i++)
		out[i] = (struct vnet_tx_buf){ outmem[i], sizeof(outmem[i]), 0 };
	return f;
}

/* Post header + frame, the frame cut into 'pieces' descriptors. */
static int post_tx(struct fx *f, const struct virtio_net_hdr_v1 *h,
		   const __u8 *fr, __u32 len, int pieces, bool indirect)
{
	struct vdrv_seg s[8];
	void *p;
	__u32 off = 0;

	s[0] = (struct vdrv_seg){ vdriver_alloc(&f->d, 12, &p), 12, false };
	memcpy(p, h, 12);
	for (int i = 0; i < pieces; i++) {
		__u32 k = i + 1 < pieces ? len / pieces : len - off;

		s[i + 1] = (struct vdrv_seg){ vdriver_alloc(&f->d, k ? k : 1, &p),
					      k, false };
		memcpy(p, fr + off, k);
		off += k;
	}
	return vdriver_add(&f->d, s, (unsigned int)pieces + 1, indirect);
}

/* --- the independent reference ------------------------------------------ */

static __u32 be16(const __u8 *p) { return (__u32)p[0] << 8 | p[1]; }
static __u32 be32(const __u8 *p) { return be16(p) << 16 | be16(p + 2); }

static __u32 sum_be(const __u8 *p, __u32 len, __u32 sum)
{
	for (__u32 i = 0; i + 1 < len; i += 2)
		sum += be16(p + i);
	if (len & 1)
		sum += (__u32)p[len - 1] << 8;
	return sum;
}

static int folds_to_ffff(__u32 sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return sum == 0xffff;
}

/* Checks an Ethernet/IPv4|IPv6/TCP|UDP frame; returns L4 payload offset. */
static int ref_check(const __u8 *fr, __u32 len, int *l4proto)
{
	__u32 sum = 0, l3 = 14, l4, l4len;

	if (len < 14)
		return -1;
	if (be16(fr + 12) == 0x0800) {
		__u32 ihl = (fr[l3] & 0xf) * 4u;

		if (be16(fr + l3 + 2) != len - l3)
			return -1;		/* total length */
		if (!folds_to_ffff(sum_be(fr + l3, ihl, 0)))
			return -1;		/* header checksum */
		*l4proto = fr[l3 + 9];
		l4 = l3 + ihl;
		l4len = len - l4;
		sum = sum_be(fr + l3 + 12, 8, 0) + (__u32)*l4proto + l4len;
	} else {
		if (be16(fr + l3 + 4) != len - l3 - 40)
			return -1;		/* payload length */
		*l4proto = fr[l3 + 6];
		l4 = l3 + 40;
		l4len = len - l4;
		sum = sum_be(fr + l3 + 8, 32, 0) + (__u32)*l4proto + l4len;
	}
	if (*l4proto == IPPROTO_UDP && be16(fr + l4 + 4) != l4len)
		return -1;
	if (!folds_to_ffff(sum_be(fr + l4, l4len, sum)))
		return -1;		/* L4 checksum over pseudo header */
	return (int)(l4 + (*l4proto == IPPROTO_TCP ? (fr[l4 + 12] >> 4) * 4u : 8u));
}

/* ------------------------------------------------------------------------ */

/* Build a TCP or UDP frame with 'payload' random bytes; csum = pseudo sum. */
static __u32 build(int ipv, __u8 l4, __u32 payload, __u8 tcp_flags,
		   unsigned int seed)
{
	struct frame_spec s;
	__u32 len, l4off = ipv == 4 ? 34 : 54, l4len, sum;
	__u8 *t;

	frame_spec_default(&s);
	s.ip = ipv;
	if (ipv == 6) {
		memset(s.src, 0, 16); memset(s.dst, 0, 16);
		s.src[0] = 0xfd; s.src[15] = 1; s.dst[0] = 0xfd; s.dst[15] = 2;
	}
	s.l4 = l4;
	s.payload_len = payload;
	len = (__u32)frame_build(&s, frame, sizeof(frame));
	t = frame + l4off;
	for (__u32 i = l4off + (l4 == IPPROTO_TCP ? 20 : 8); i < len; i++)
		frame[i] = (__u8)test_rand(&seed);
	if (ipv == 4) {
		__u32 c;

		frame[14 + 4] = 0x12, frame[14 + 5] = 0x34;	/* IPv4 id */
		frame[24] = frame[25] = 0;
		c = sum_be(frame + 14, 20, 0);
		while (c >> 16)
			c = (c & 0xffff) + (c >> 16);
		frame[24] = (__u8)(~c >> 8), frame[25] = (__u8)~c;
	}
	if (l4 == IPPROTO_TCP) {
		t[4] = 0xff, t[5] = 0xff, t[6] = 0xf0, t[7] = 0x00;	/* seq wraps */
		t[13] = tcp_flags;
	}
	/* the driver leaves the pseudo-header sum in the checksum field */
	l4len = len - l4off;
	sum = (ipv == 4 ? sum_be(frame + 26, 8, 0) : sum_be(frame + 22, 32, 0)) +
	      l4 + l4len;
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	t[l4 == IPPROTO_TCP ? 16 : 6] = (__u8)(sum >> 8);
	t[l4 == IPPROTO_TCP ? 17 : 7] = (__u8)sum;
	return len;
}

static struct virtio_net_hdr_v1 gso_hdr(__u8 type, __u16 mss, __u16 l4off,
					__u8 l4)
{
	return (struct virtio_net_hdr_v1){
		.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .gso_type = type,
		.hdr_len = htole16(l4off + (l4 == IPPROTO_TCP ? 20 : 8)),
		.gso_size = htole16(mss), .csum_start = htole16(l4off),
		.csum_offset = htole16(l4 == IPPROTO_TCP ? 16 : 6),
	};
}

static void test_tx_plain_frame(void)
{
	struct fx *f = fx_setup(0, 1500);
	struct virtio_net_hdr_v1 h = { 0 };
	__u32 len = build(4, IPPROTO_UDP, 100, 0, 1), ulen = 9;

	/* a complete frame: the reference accepts it only once summed */
	frame[34 + 6] = frame[34 + 7] = 0;	/* UDP checksum 0: none */
	post_tx(f, &h, frame, len, 2, false);
	vdriver_publish(&f->d);
	EXPECT(vnet_net_tx_burst(&f->q, out, NOUT) == 1, "one frame");
	EXPECT(out[0].len == len && !memcmp(out[0].data, frame, len), "same bytes");
	EXPECT(vdriver_get_used(&f->d, &ulen) == 0 && ulen == 0, "returned, len 0");
	EXPECT(f->q.stats.tx_packets == 1 && f->q.stats.tx_frames == 1, "stats");
	vdriver_destroy(&f->d);
}

static void test_tx_needs_csum(void)
{
	struct fx *f = fx_setup(F(VIRTIO_NET_F_CSUM) |
				F(VIRTIO_RING_F_INDIRECT_DESC), 1500);
	int proto;

	for (int ipv = 4; ipv <= 6; ipv += 2) {
		for (int udp = 0; udp < 2; udp++) {
			__u8 l4 = udp ? IPPROTO_UDP : IPPROTO_TCP;
			__u16 l4off = ipv == 4 ? 34 : 54;
			__u32 len = build(ipv, l4, 333, 0x18, 7);
			struct virtio_net_hdr_v1 h = gso_hdr(0, 0, l4off, l4);

			post_tx(f, &h, frame, len, 3, true);
			vdriver_publish(&f->d);
			EXPECT(vnet_net_tx_burst(&f->q, out, NOUT) == 1, "frame");
			EXPECT(ref_check(out[0].data, out[0].len, &proto) > 0,
			       "IPv%d %s checksum", ipv, udp ? "UDP" : "TCP");
			vdriver_get_used(&f->d, NULL);
		}
	}
	EXPECT(f->q.stats.tx_csum == 4, "csum count");
	vdriver_destroy(&f->d);
}

static void expect_gso(int ipv, __u8 l4, __u32 payload, __u16 mss,
		       __u16 mtu, int pieces, bool indirect)
{
	struct fx *f = fx_setup(FEAT_ALL, mtu);
	__u16 l4off = ipv == 4 ? 34 : 54;
	__u8 type = l4 == IPPROTO_UDP ? VIRTIO_NET_HDR_GSO_UDP_L4 :
		    ipv == 4 ? VIRTIO_NET_HDR_GSO_TCPV4 : VIRTIO_NET_HDR_GSO_TCPV6;
	__u8 flags = 0x80 | 0x10 | 0x08 | 0x01;	/* CWR ACK PSH FIN */
	__u32 len = build(ipv, l4, payload, flags, 99), hdrs, joined_len = 0;
	struct virtio_net_hdr_v1 h;
	__u32 seq = be32(frame + l4off + 4), want_mss, n;
	int proto;

	h = gso_hdr(type | (l4 == IPPROTO_TCP ? VIRTIO_NET_HDR_GSO_ECN : 0),
		    mss, l4off, l4);
	hdrs = l4off + (l4 == IPPROTO_TCP ? 20 : 8);
	want_mss = mss < mtu - (hdrs - 14) ? mss : mtu - (hdrs - 14);
	post_tx(f, &h, frame, len, pieces, indirect);
	vdriver_publish(&f->d);
	n = vnet_net_tx_burst(&f->q, out, NOUT);
	EXPECT(n == (payload + want_mss - 1) / want_mss, "segments %u", n);
	for (__u32 i = 0; i < n; i++) {
		const __u8 *o = out[i].data;
		int pl = ref_check(o, out[i].len, &proto);

		EXPECT(pl == (int)hdrs, "segment %u fails the reference", i);
		if (pl != (int)hdrs)
			break;
		EXPECT(out[i].len <= 14u + mtu, "segment %u is %u bytes", i, out[i].len);
		EXPECT(i + 1 == n || out[i].len - hdrs == want_mss, "full segment");
		EXPECT(!memcmp(o, frame, 12), "MACs");
		if (ipv == 4)
			EXPECT(be16(o + 18) == 0x1234 + i, "IPv4 id %u", be16(o + 18));
		if (l4 == IPPROTO_TCP) {
			__u8 fl = o[l4off + 13];

			EXPECT(be32(o + l4off + 4) == seq, "seq contiguous");
			EXPECT(!!(fl & 0x01) == (i + 1 == n), "FIN only on last");
			EXPECT(!!(fl & 0x08) == (i + 1 == n), "PSH only on last");
			EXPECT(!!(fl & 0x80) == (i == 0), "CWR only on first");
			EXPECT(fl & 0x10, "ACK everywhere");
		}
		seq += out[i].len - hdrs;
		memcpy(joined + joined_len, o + hdrs, out[i].len - hdrs);
		joined_len += out[i].len - hdrs;
	}
	EXPECT(joined_len == payload && !memcmp(joined, frame + hdrs, payload),
	       "payload identical (%u of %u)", joined_len, payload);
	EXPECT(f->q.stats.tx_gso == 1, "counted as gso");
	vdriver_destroy(&f->d);
}

static void test_tx_gso_tcp4_64k(void)
{
	expect_gso(4, IPPROTO_TCP, 65535 - 40, 1448, 1500, 1, false);
	expect_gso(4, IPPROTO_TCP, 65535 - 40, 1448, 1500, 5, true);
}

static void test_tx_gso_tcp6_64k(void)
{
	expect_gso(6, IPPROTO_TCP, 65535 - 20, 1428, 1500, 1, false);
	expect_gso(6, IPPROTO_TCP, 65535 - 20, 1428, 1500, 7, true);
}

static void test_tx_gso_mss_capped_by_mtu(void)
{
	/* gso_size larger than the MTU allows: MTU-sized segments */
	expect_gso(4, IPPROTO_TCP, 20000, 9000, 1500, 2, false);
	expect_gso(6, IPPROTO_TCP, 3000, 1000, 9000, 1, false);
	/* payload not a multiple of the MSS, and smaller than one MSS */
	expect_gso(4, IPPROTO_TCP, 100, 1448, 1500, 1, false);
}

static void test_tx_gso_udp_l4(void)
{
	expect_gso(4, IPPROTO_UDP, 8000, 1400, 1500, 3, false);
	expect_gso(6, IPPROTO_UDP, 30000, 1200, 1500, 2, true);
}

/* A sink for whole GSO sends that records what it got. */
static struct {
	int take;	/* the verdict */
	unsigned int calls;
	struct vnet_tx_hdr h;
	__u16 l3off;
	unsigned int pending;
	__u8 frame[70000];
	__u32 len;
} rec;

static int rec_xmit(void *ctx, const struct vnet_tx_gso_frame *gf)
{
	__u32 skip = gf->payload_off, left = gf->payload_len;

	(void)ctx;
	rec.calls++;
	if (rec.take == VNET_TX_GSO_LATER && !gf->pending)
		rec.take = VNET_TX_GSO_TAKEN;	/* as the uplink's: once alone */
	rec.pending = gf->pending;
	rec.h = gf->hdr;
	rec.l3off = gf->l3off;
	memcpy(rec.frame, gf->hdrs, gf->hdr.hdr_len);
	rec.len = gf->hdr.hdr_len;
	/* the payload as a sink walks it: from payload_off, payload_len bytes */
	for (unsigned int i = 0; i < gf->niov && left; i++) {
		__u32 l = gf->iov[i].len;

		if (skip >= l) {
			skip -= l;
			continue;
		}
		l = l - skip < left ? l - skip : left;
		memcpy(rec.frame + rec.len, gf->iov[i].base + skip, l);
		rec.len += l;
		left -= l;
		skip = 0;
	}
	return rec.take;
}

static const struct vnet_tx_gso rec_sink = { .xmit = rec_xmit };

static void rec_start(int verdict)
{
	memset(&rec, 0, sizeof(rec));
	rec.take = verdict;
}

struct bad_case {
	const char *what;
	__u64 features;
	struct virtio_net_hdr_v1 h;
	int cut;		/* frame bytes (0: full) */
};

static void test_tx_malformed_headers(void)
{
	__u32 len = build(4, IPPROTO_TCP, 3000, 0x10, 3);
	struct virtio_net_hdr_v1 g = gso_hdr(VIRTIO_NET_HDR_GSO_TCPV4, 1448, 34,
					     IPPROTO_TCP);
	struct bad_case cases[16];
	int n = 0;

#define CASE(w, feat, ...) do { cases[n] = (struct bad_case){ w, feat, g, 0 }; \
	{ struct virtio_net_hdr_v1 *h = &cases[n].h; (void)h; __VA_ARGS__; } n++; } while (0)
	CASE("gso_size 0", FEAT_ALL, h->gso_size = 0);
	CASE("hdr_len beyond the packet", FEAT_ALL, h->hdr_len = htole16(4000));
	CASE("GSO without NEEDS_CSUM", FEAT_ALL, h->flags = 0);
	CASE("GSO not negotiated", F(VIRTIO_NET_F_CSUM));
	CASE("TCPV6 on an IPv4 frame", FEAT_ALL, h->gso_type = VIRTIO_NET_HDR_GSO_TCPV6);
	CASE("UFO", FEAT_ALL, h->gso_type = VIRTIO_NET_HDR_GSO_UDP);
	CASE("unknown gso type", FEAT_ALL, h->gso_type = 9);
	CASE("csum_start outside", FEAT_ALL, h->gso_type = 0,
	     h->csum_start = htole16(5000));
	CASE("csum_offset outside", FEAT_ALL, h->gso_type = 0,
	     h->csum_offset = htole16((__u16)(len - 34 - 1)));
	CASE("csum_start+offset wraps", FEAT_ALL, h->gso_type = 0,
	     h->csum_start = htole16(0xffff), h->csum_offset = htole16(0xffff));
	CASE("GSO csum_start not at L4", FEAT_ALL, h->csum_start = htole16(30));
	CASE("frame shorter than Ethernet", FEAT_ALL, h->gso_type = 0, h->flags = 0);
	cases[n - 1].cut = 10;
	CASE("cut TCP header", FEAT_ALL);
	cases[n - 1].cut = 40;
	CASE("ECN bit without GSO", FEAT_ALL, h->gso_type = VIRTIO_NET_HDR_GSO_ECN);
#undef CASE

	/* without and with a sink for whole GSO sends: it never sees them */
	for (int i = 0; i < 2 * n; i++) {
		const struct bad_case *c = &cases[i % n];
		struct fx *f = fx_setup(c->features, 1500);
		__u32 ulen = 1;

		rec_start(VNET_TX_GSO_TAKEN);
		post_tx(f, &c->h, frame, c->cut ? (__u32)c->cut : len, 1, false);
		vdriver_publish(&f->d);
		EXPECT(vnet_net_tx_burst_gso(&f->q, out, NOUT, i < n ? NULL : &rec_sink) == 0,
		       "%s: sent", c->what);
		EXPECT(!rec.calls, "%s: handed to the sink", c->what);
		EXPECT(f->q.stats.tx_drop_malformed == 1, "%s: not counted", c->what);
		EXPECT(vdriver_get_used(&f->d, &ulen) == 0 && ulen == 0,
		       "%s: chain not returned", c->what);
		vdriver_destroy(&f->d);
	}
}

/* A GSO send handed whole: what the sink got, rebuilt. */
static void expect_whole(int ipv, __u8 l4, __u32 payload, __u16 mss, __u16 mtu,
			 int pieces, __u16 hint)
{
	struct fx *f = fx_setup(FEAT_ALL, mtu);
	__u16 l4off = ipv == 4 ? 34 : 54, hdrs = l4off + (l4 == IPPROTO_TCP ? 20 : 8);
	__u8 type = l4 == IPPROTO_UDP ? VIRTIO_NET_HDR_GSO_UDP_L4 :
		    ipv == 4 ? VIRTIO_NET_HDR_GSO_TCPV4 : VIRTIO_NET_HDR_GSO_TCPV6;
	__u32 len = build(ipv, l4, payload, 0x18, 5), ulen = 1;
	__u32 want_mss = mss < mtu - (hdrs - 14u) ? mss : mtu - (hdrs - 14u);
	struct virtio_net_hdr_v1 h = gso_hdr(type, mss, l4off, l4);

	h.hdr_len = htole16(hint);	/* only a hint without GUEST_HDRLEN */
	rec_start(VNET_TX_GSO_TAKEN);
	post_tx(f, &h, frame, len, pieces, pieces > 1);
	vdriver_publish(&f->d);
	EXPECT(vnet_net_tx_burst_gso(&f->q, out, NOUT, &rec_sink) == 0, "segmented anyway");
	EXPECT(rec.calls == 1, "IPv%d/%u: sink called %u times", ipv, l4, rec.calls);
	EXPECT(rec.len == len && !memcmp(rec.frame, frame, len),
	       "IPv%d/%u: the sink's frame differs (%u of %u bytes)", ipv, l4, rec.len, len);
	EXPECT(rec.h.hdr_len == hdrs && rec.l3off == 14, "hdr_len %u (want %u)",
	       rec.h.hdr_len, hdrs);
	EXPECT(rec.h.gso_size == want_mss, "gso_size %u (want %u)", rec.h.gso_size, want_mss);
	EXPECT(rec.h.gso_type == type && rec.h.csum_start == l4off &&
	       (rec.h.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM), "header fields");
	EXPECT(f->q.stats.tx_gso_whole == 1 && f->q.stats.tx_gso == 0 &&
	       f->q.stats.tx_packets == 1 && f->q.stats.tx_bytes == len, "stats");
	EXPECT(vdriver_get_used(&f->d, &ulen) == 0 && ulen == 0, "chain returned");
	vdriver_destroy(&f->d);
}

static void test_tx_gso_whole(void)
{
	expect_whole(4, IPPROTO_TCP, 65535 - 40, 1448, 1500, 1, 54);
	expect_whole(4, IPPROTO_TCP, 20000, 9000, 1500, 5, 0);
	expect_whole(6, IPPROTO_TCP, 65535 - 20, 1428, 1500, 7, 0);
	expect_whole(6, IPPROTO_UDP, 30000, 1200, 1500, 3, 62);
}

/*
 * Order: a send the sink takes leaves at once, the frames before it in
 * the burst only after the burst. So it must start a burst: the burst
 * ends before it (LATER) and it comes first in the next one.
 */
/* Plain frames of 'before' and 'after' bytes (0: none) around a 10-segment
 * TCPv4 send, published; returns the send's length. */
static __u32 post_around_gso(struct fx *f, __u32 before, __u32 after)
{
	__u32 len = build(4, IPPROTO_TCP, 14480, 0x10, 9);
	struct virtio_net_hdr_v1 g = gso_hdr(VIRTIO_NET_HDR_GSO_TCPV4, 1448, 34, IPPROTO_TCP);
	struct virtio_net_hdr_v1 z = { 0 };

	if (before)
		post_tx(f, &z, frame, before, 1, false);
	post_tx(f, &g, frame, len, 2, false);
	if (after)
		post_tx(f, &z, frame, after, 1, false);
	vdriver_publish(&f->d);
	return len;
}

static void test_tx_gso_sink_order(void)
{
	struct fx *f = fx_setup(FEAT_ALL, 1500);
	__u32 len;
	unsigned int n;

	rec_start(VNET_TX_GSO_LATER);
	len = post_around_gso(f, 100, 200);
	n = vnet_net_tx_burst_gso(&f->q, out, NOUT, &rec_sink);
	EXPECT(n == 1 && out[0].len == 100, "first burst: %u frames", n);
	EXPECT(rec.calls == 1 && rec.pending == 1, "asked with %u pending", rec.pending);
	EXPECT(vdriver_used_idx(&f->d) == 1, "the GSO send stays in the ring");
	n = vnet_net_tx_burst_gso(&f->q, out, NOUT, &rec_sink);
	EXPECT(rec.calls == 2 && rec.pending == 0 && rec.len == len, "then taken first");
	EXPECT(n == 1 && out[0].len == 200, "second burst: %u frames", n);
	EXPECT(vdriver_used_idx(&f->d) == 3 && f->q.stats.tx_gso_whole == 1 &&
	       f->q.stats.tx_gso == 0, "all three used, none segmented");
	vdriver_destroy(&f->d);
}

/* A sink that declines: the send is segmented in software as without one;
 * plain frames never reach it. */
static void test_tx_gso_sink_declines(void)
{
	struct fx *f = fx_setup(FEAT_ALL, 1500);
	unsigned int n;
	int proto;

	rec_start(VNET_TX_GSO_SOFTWARE);
	post_around_gso(f, 0, 100);
	n = vnet_net_tx_burst_gso(&f->q, out, NOUT, &rec_sink);
	EXPECT(n == 11, "frames %u", n);
	EXPECT(rec.calls == 1, "sink asked %u times", rec.calls);
	EXPECT(ref_check(out[0].data, out[0].len, &proto) == 54, "segment checks");
	EXPECT(f->q.stats.tx_gso == 1 && f->q.stats.tx_gso_whole == 0, "counted as software");
	vdriver_destroy(&f->d);
}

static void test_tx_short_header_and_writable(void)
{
	struct fx *f = fx_setup(FEAT_ALL, 1500);
	struct vdrv_seg s[2];

	/* 8 bytes: not even a virtio-net header */
	s[0] = (struct vdrv_seg){ vdriver_alloc(&f->d, 8, NULL), 8, false };
	vdriver_add(&f->d, s, 1, false);
	/* device-writable buffers on a transmitq */
	s[0] = (struct vdrv_seg){ vdriver_alloc(&f->d, 12, NULL), 12, false };
	s[1] = (struct vdrv_seg){ vdriver_alloc(&f->d, 100, NULL), 100, true };
	vdriver_add(&f->d, s, 2, false);
	vdriver_publish(&f->d);
	EXPECT(vnet_net_tx_burst(&f->q, out, NOUT) == 0, "nothing sent");
	EXPECT(f->q.stats.tx_drop_malformed == 1 && f->q.stats.tx_drop_bad_desc == 1,
	       "counted %llu %llu", (unsigned long long)f->q.stats.tx_drop_malformed,
	       (unsigned long long)f->q.stats.tx_drop_bad_desc);
	EXPECT(vdriver_used_idx(&f->d) == 2, "both returned");
	vdriver_destroy(&f->d);
}

static void test_tx_output_space(void)
{
	struct fx *f = fx_setup(FEAT_ALL, 1500);
	__u32 len = build(4, IPPROTO_TCP, 65495, 0x10, 5);
	struct virtio_net_hdr_v1 g = gso_hdr(VIRTIO_NET_HDR_GSO_TCPV4, 1448, 34,
					     IPPROTO_TCP), z = { 0 };
	unsigned int n;

	post_tx(f, &z, frame, 60, 1, false);
	post_tx(f, &g, frame, len, 1, false);
	vdriver_publish(&f->d);
	/* 1 + 46 segments do not fit into 20: the big send waits */
	n = vnet_net_tx_burst(&f->q, out, 20);
	EXPECT(n == 1, "first burst %u", n);
	EXPECT(vdriver_used_idx(&f->d) == 1, "big send still in the ring");
	n = vnet_net_tx_burst(&f->q, out, NOUT);
	EXPECT(n == 46, "second burst %u", n);
	/* a send that could never fit is dropped, not retried forever */
	post_tx(f, &g, frame, len, 1, false);
	vdriver_publish(&f->d);
	EXPECT(vnet_net_tx_burst(&f->q, out, 20) == 0, "never fits");
	EXPECT(f->q.stats.tx_drop_too_big == 1, "counted");
	EXPECT(vdriver_used_idx(&f->d) == 3, "returned");
	/* a plain frame larger than an output buffer */
	post_tx(f, &z, frame, 3000, 1, false);
	vdriver_publish(&f->d);
	EXPECT(vnet_net_tx_burst(&f->q, out, NOUT) == 0, "too big");
	EXPECT(f->q.stats.tx_drop_too_big == 2, "counted");
	vdriver_destroy(&f->d);
}

/* Random headers over random frames: nothing crashes, outputs are bounded. */
static void test_tx_random_headers(void)
{
	unsigned int seed = 77;
	struct fx *f = fx_setup(FEAT_ALL, 1500);

	for (int round = 0; round < 2000; round++) {
		struct virtio_net_hdr_v1 h;
		__u32 len = 14 + test_rand(&seed) % 3000;
		unsigned int n;
		int proto;

		build(test_rand(&seed) & 1 ? 4 : 6,
		      test_rand(&seed) & 1 ? IPPROTO_TCP : IPPROTO_UDP,
		      2000, 0x18, seed);
		for (int i = 0; i < 8; i++)
			frame[test_rand(&seed) % 80] = (__u8)test_rand(&seed);
		memset(&h, 0, sizeof(h));
		h.flags = (__u8)(test_rand(&seed) & 3);
		h.gso_type = (__u8)(test_rand(&seed) % 7) | (test_rand(&seed) & 0x80);
		h.hdr_len = htole16((__u16)(test_rand(&seed) % 128));
		h.gso_size = htole16((__u16)(test_rand(&seed) % 1600));
		h.csum_start = htole16((__u16)(test_rand(&seed) % 128));
		h.csum_offset = htole16((__u16)(test_rand(&seed) % 40));
		post_tx(f, &h, frame, len, 1 + test_rand(&seed) % 4, test_rand(&seed) & 1);
		vdriver_publish(&f->d);
		/* odd rounds: a sink takes GSO sends whole; what it gets is
		 * inside the chain and has headers that parse */
		rec.take = VNET_TX_GSO_TAKEN;
		rec.calls = 0;
		n = vnet_net_tx_burst_gso(&f->q, out, NOUT, round & 1 ? &rec_sink : NULL);
		if (rec.calls) {
			EXPECT(rec.len == len && rec.h.gso_size && rec.h.hdr_len >= 54 &&
			       rec.h.csum_start < rec.h.hdr_len, "round %d: sink got %u bytes",
			       round, rec.len);
		}
		for (unsigned int i = 0; i < n; i++)
			EXPECT(out[i].len <= out[i].cap, "bounded");
		if (n > 1)	/* segmented: every segment must be valid */
			for (unsigned int i = 0; i < n; i++)
				EXPECT(ref_check(out[i].data, out[i].len, &proto) > 0,
				       "round %d segment %u invalid", round, i);
		while (vdriver_get_used(&f->d, NULL) >= 0)
			;
		vdriver_heap_reset(&f->d);
	}
	vdriver_destroy(&f->d);
}

/* Every case on a split ring, then on a packed one (the same engine
 * calls, the other layout under them). */
static const struct test_case cases[] = {
	TEST_CASE(test_tx_plain_frame),
	TEST_CASE(test_tx_needs_csum),
	TEST_CASE(test_tx_gso_tcp4_64k),
	TEST_CASE(test_tx_gso_tcp6_64k),
	TEST_CASE(test_tx_gso_mss_capped_by_mtu),
	TEST_CASE(test_tx_gso_udp_l4),
	TEST_CASE(test_tx_malformed_headers),
	TEST_CASE(test_tx_gso_whole),
	TEST_CASE(test_tx_gso_sink_declines),
	TEST_CASE(test_tx_gso_sink_order),
	TEST_CASE(test_tx_short_header_and_writable),
	TEST_CASE(test_tx_output_space),
	TEST_CASE(test_tx_random_headers),
};

int main(void)
{
	test_run_variants(cases, sizeof(cases) / sizeof(cases[0]), &packed, "_packed");
	return test_summary();
}
