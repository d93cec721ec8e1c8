// SPDX-License-Identifier: MIT
/*
 * Receive coalescing (daemon/engine/gro.c) through the receive queue, on
 * crafted streams: every delivery is checked by the independent reference
 * (tests/lib/gro_ref.c: payload and headers byte for byte after cutting
 * the GSO frames again, virtio_net_hdr fields, order per flow), and each
 * case says how many segments each delivered frame must carry.
 */
#include <endian.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vnet/net.h>

#include "gro_ref.h"
#include "tcp_stream.h"
#include "test.h"

#define F(bit)		(1ull << (bit))
#define MSS		1448
#define BUF		4096
#define RING		1024
#define FEAT_GRO	(F(VIRTIO_NET_F_MRG_RXBUF) | F(VIRTIO_NET_F_GUEST_CSUM) | \
			 F(VIRTIO_NET_F_GUEST_TSO4) | F(VIRTIO_NET_F_GUEST_TSO6) | \
			 F(VIRTIO_NET_F_GUEST_ECN))
#define MAXF		GRO_REF_MAX_IN

static struct gro_rig rig;
static bool packed;	/* the ring layout of this round (main) */
static __u8 pool[MAXF][2048];
static struct gro_ref_frame in[MAXF];
static unsigned int nin;
static char why[256], shape[4096];

static void reset(void)
{
	nin = 0;
}

static struct gro_ref_frame *add(struct ts_flow *f, const struct ts_seg *s)
{
	in[nin].data = pool[nin];
	in[nin].len = ts_build(f, s, pool[nin], sizeof(pool[0]));
	return &in[nin++];
}

/* n full segments */
static void addn(struct ts_flow *f, unsigned int n)
{
	while (n--)
		add(f, &(struct ts_seg){ .payload = MSS });
}

/* segment number k of a flow whose stream started at 'base' */
static void add_at(struct ts_flow *f, __u32 base, unsigned int k)
{
	f->seq = base + k * MSS;
	add(f, &(struct ts_seg){ .payload = MSS });
}

/* a UDP/IPv4 frame: never coalesced */
static void add_udp(unsigned int n)
{
	__u8 *b = pool[nin];

	memset(b, 0, 60);
	memcpy(b, "\x02\x00\x00\x00\x00\x01\x02\x00\x00\x00\x02\x00\x08\x00", 14);
	b[14] = 0x45;
	b[17] = 46;
	b[22] = 64;
	b[23] = 17;
	b[29] = (__u8)n;
	b[33] = 2;
	b[35] = 53;
	b[37] = 53;
	b[39] = 26;
	in[nin].data = b;
	in[nin].len = 60;
	nin++;
}

/* The segments each delivered frame carried, "4,1,3". */
static const char *shape_of(const struct gro_rig *r)
{
	size_t o = 0;

	shape[0] = 0;
	for (unsigned int k = 0; k < r->nout && o < sizeof(shape) - 8; k++)
		o += (size_t)snprintf(shape + o, sizeof(shape) - o, "%s%u", k ? "," : "",
				      r->out[k].nsegs);
	return shape;
}

static unsigned int ref_flags(const struct gro_rig *r)
{
	__u64 o = r->q.guest_offloads;

	return (o & F(VIRTIO_NET_F_GUEST_CSUM) ? GRO_REF_CSUM : 0) |
	       (o & F(VIRTIO_NET_F_GUEST_ECN) ? GRO_REF_ECN : 0);
}

/* One burst of in[] on the rig, checked by the reference; its shape. */
static const char *burst(struct gro_rig *r, const __u32 *hash)
{
	unsigned int got = gro_rig_burst(r, in, nin, hash);

	gro_rig_collect(r);
	EXPECT(got == nin, "delivered %u of %u", got, nin);
	EXPECT(r->bad == 0, "%u malformed deliveries", r->bad);
	EXPECT(gro_ref_check(in, nin, r->out, r->nout, ref_flags(r), why, sizeof(why)) == 0,
	       "reference: %s", why);
	return shape_of(r);
}

static bool setup(__u64 features, __u32 buf, __u16 ring)
{
	gro_rig_fini(&rig);
	reset();
	return gro_rig_init(&rig, features | (packed ? F(VIRTIO_F_RING_PACKED) : 0), ring, buf,
			    ring) == 0;
}

#define SHAPE(want) do {						\
		const char *s_ = burst(&rig, NULL);			\
		EXPECT(!strcmp(s_, want), "frames %s, want %s", s_, want); \
	} while (0)

static void test_gro_in_order(void)
{
	struct ts_flow f;

	EXPECT(setup(FEAT_GRO, BUF, RING), "setup");
	ts_flow_init(&f, 4, 1);
	addn(&f, 40);
	SHAPE("40");
	EXPECT(rig.out[0].vh.gso_type == VIRTIO_NET_HDR_GSO_TCPV4 &&
	       le16toh(rig.out[0].vh.gso_size) == MSS && le16toh(rig.out[0].vh.hdr_len) == 66,
	       "gso %u size %u hdr_len %u", rig.out[0].vh.gso_type,
	       le16toh(rig.out[0].vh.gso_size), le16toh(rig.out[0].vh.hdr_len));
	EXPECT(rig.q.stats.rx_packets == 40 && rig.q.stats.rx_gro_frames == 1 &&
	       rig.q.stats.rx_gro_segs == 40 && rig.q.stats.rx_bytes == 40ull * 1514,
	       "packets %llu gro %llu/%llu bytes %llu",
	       (unsigned long long)rig.q.stats.rx_packets,
	       (unsigned long long)rig.q.stats.rx_gro_frames,
	       (unsigned long long)rig.q.stats.rx_gro_segs,
	       (unsigned long long)rig.q.stats.rx_bytes);

	/* 64 KiB at most: 45 segments of 1448 behind 66 bytes of headers */
	reset();
	addn(&f, 50);
	SHAPE("45,5");
	EXPECT(rig.out[0].len == 66 + 45 * MSS, "len %u", rig.out[0].len);

	/* a short segment is taken and ends the run */
	reset();
	addn(&f, 3);
	add(&f, &(struct ts_seg){ .payload = 100 });
	addn(&f, 3);
	SHAPE("4,3");
}

static void test_gro_ipv6_vlan(void)
{
	struct ts_flow f, g;

	EXPECT(setup(FEAT_GRO, BUF, RING), "setup");
	ts_flow_init(&f, 6, 2);
	f.vlans = 2;
	f.vid = 100;
	addn(&f, 30);
	SHAPE("30");
	EXPECT(rig.out[0].vh.gso_type == VIRTIO_NET_HDR_GSO_TCPV6 &&
	       le16toh(rig.out[0].vh.csum_start) == 14 + 8 + 40,
	       "gso %u csum_start %u", rig.out[0].vh.gso_type,
	       le16toh(rig.out[0].vh.csum_start));

	/* one tag, IPv4; then another VLAN is another flow */
	reset();
	ts_flow_init(&g, 4, 3);
	g.vlans = 1;
	g.vid = 7;
	addn(&g, 5);
	g.vid = 8;
	addn(&g, 5);
	SHAPE("5,5");
}

static void test_gro_out_of_order(void)
{
	struct ts_flow f;
	__u32 base;

	EXPECT(setup(FEAT_GRO, BUF, RING), "setup");
	ts_flow_init(&f, 4, 1);
	base = f.seq;
	add_at(&f, base, 0);
	add_at(&f, base, 1);
	add_at(&f, base, 3);
	add_at(&f, base, 2);
	add_at(&f, base, 4);
	add_at(&f, base, 5);
	SHAPE("2,1,1,2");

	/* retransmits: 1 and 2 again after 2 */
	reset();
	base = f.seq = base + 100 * MSS;
	for (unsigned int k = 0; k < 3; k++)
		add_at(&f, base, k);
	for (unsigned int k = 1; k < 4; k++)
		add_at(&f, base, k);
	SHAPE("3,3");

	/* an exact duplicate (same ID too) is a frame of its own */
	reset();
	f.id_mode = TS_ID_FIXED;
	base = f.seq;
	add_at(&f, base, 0);
	add_at(&f, base, 1);
	add_at(&f, base, 1);
	add_at(&f, base, 2);
	SHAPE("2,2");
}

static void test_gro_tcp_flags(void)
{
	static const struct { __u8 flag; const char *want; } c[] = {
		{ 0x08, "4,4" },	/* PSH: taken, ends the run */
		{ 0x01, "4,4" },	/* FIN: the same */
		{ 0x20, "3,1,4" },	/* URG: alone */
		{ 0x04, "3,1,4" },	/* RST: alone */
		{ 0x02, "3,1,4" },	/* SYN: alone */
		{ 0x80, "3,5" },	/* CWR: starts a run (GSO_ECN) */
	};
	struct ts_flow f;

	EXPECT(setup(FEAT_GRO, BUF, RING), "setup");
	for (unsigned int i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		reset();
		ts_flow_init(&f, i & 1 ? 6 : 4, i);
		addn(&f, 3);
		add(&f, &(struct ts_seg){ .payload = MSS, .add_flags = c[i].flag });
		addn(&f, 4);
		{
			const char *s = burst(&rig, NULL);

			EXPECT(!strcmp(s, c[i].want), "flag %#x: frames %s, want %s",
			       c[i].flag, s, c[i].want);
		}
	}
	EXPECT(rig.out[1].vh.gso_type & VIRTIO_NET_HDR_GSO_ECN, "CWR run without GSO_ECN");

	/* without GUEST_ECN a CWR segment goes alone */
	vnet_netq_set_guest_offloads(&rig.q, FEAT_GRO & ~F(VIRTIO_NET_F_GUEST_ECN));
	reset();
	addn(&f, 3);
	add(&f, &(struct ts_seg){ .payload = MSS, .add_flags = 0x80 });
	addn(&f, 4);
	SHAPE("3,1,4");
}

static void test_gro_options(void)
{
	struct ts_flow f;

	EXPECT(setup(FEAT_GRO, BUF, RING), "setup");
	ts_flow_init(&f, 4, 1);
	addn(&f, 5);
	f.tsval++;		/* the timestamp moves: a new run */
	addn(&f, 5);
	SHAPE("5,5");

	reset();
	addn(&f, 5);
	f.ts = false;		/* another header length */
	addn(&f, 1);
	f.ts = true;
	addn(&f, 4);
	SHAPE("5,1,4");

	reset();
	f.ts = false;		/* no options at all */
	addn(&f, 10);
	SHAPE("10");

	reset();
	addn(&f, 3);
	f.ack += 1000;		/* another ACK number */
	addn(&f, 5);
	SHAPE("3,5");

	reset();
	addn(&f, 3);
	f.win = 9;		/* another window */
	addn(&f, 5);
	SHAPE("3,5");
}

static void test_gro_ipv4_id(void)
{
	struct ts_flow f;

	EXPECT(setup(FEAT_GRO, BUF, RING), "setup");
	ts_flow_init(&f, 4, 1);
	addn(&f, 8);		/* counting up */
	SHAPE("8");

	reset();
	f.id_mode = TS_ID_FIXED;	/* fixed, with DF */
	addn(&f, 8);
	SHAPE("8");

	reset();
	f.df = false;		/* fixed without DF: never */
	addn(&f, 4);
	SHAPE("1,1,1,1");

	reset();
	f.df = true;
	f.id_mode = TS_ID_INC;
	addn(&f, 4);
	f.id += 5;		/* a jump */
	addn(&f, 4);
	SHAPE("4,4");

	reset();
	f.id_mode = TS_ID_FIXED;
	addn(&f, 4);
	f.id++;			/* a fixed run, then one step */
	addn(&f, 4);
	SHAPE("4,4");

	reset();
	f.id_mode = TS_ID_RANDOM;
	addn(&f, 8);
	burst(&rig, NULL);
	EXPECT(rig.nout >= 7, "random IDs coalesced: %s", shape_of(&rig));
	EXPECT(rig.q.stats.rx_csum_bad == 0, "csum_bad %llu",
	       (unsigned long long)rig.q.stats.rx_csum_bad);
}

static void test_gro_ip_fields(void)
{
	struct ts_flow f;

	EXPECT(setup(FEAT_GRO, BUF, RING), "setup");
	for (int ipv = 4; ipv <= 6; ipv += 2) {
		reset();
		ts_flow_init(&f, ipv, 1);
		addn(&f, 3);
		f.ttl--;	/* TTL / hop limit */
		addn(&f, 5);
		SHAPE("3,5");

		reset();
		addn(&f, 3);
		f.tos = 0x20;	/* TOS / traffic class */
		addn(&f, 5);
		SHAPE("3,5");

		reset();
		f.tos = 2;	/* ECT(0) on every segment is fine */
		addn(&f, 8);
		SHAPE("8");

		reset();
		addn(&f, 3);	/* CE: never coalesced */
		add(&f, &(struct ts_seg){ .payload = MSS, .ce = true });
		addn(&f, 4);
		SHAPE("3,1,4");

		reset();
		for (int i = 0; i < 4; i++)
			add(&f, &(struct ts_seg){ .payload = MSS, .ce = true });
		SHAPE("1,1,1,1");
		f.tos = 0;
	}
	/* IPv6: another flow label is another flow */
	reset();
	addn(&f, 3);
	f.flowlabel++;
	addn(&f, 5);
	SHAPE("3,5");
}

static void test_gro_bad_checksum(void)
{
	struct ts_flow f;

	EXPECT(setup(FEAT_GRO, BUF, RING), "setup");
	for (int ipv = 4; ipv <= 6; ipv += 2) {
		ts_flow_init(&f, ipv, 1);
		reset();
		addn(&f, 3);
		add(&f, &(struct ts_seg){ .payload = MSS, .bad_csum = true });
		addn(&f, 4);
		SHAPE("3,1,4");
		EXPECT(rig.out[1].vh.flags == 0, "a bad checksum got flags %u",
		       rig.out[1].vh.flags);
	}
	reset();
	ts_flow_init(&f, 4, 2);
	addn(&f, 3);
	add(&f, &(struct ts_seg){ .payload = MSS, .bad_ipcsum = true });
	addn(&f, 4);
	SHAPE("3,1,4");
	EXPECT(rig.out[1].vh.flags == 0, "flags %u", rig.out[1].vh.flags);
	EXPECT(rig.q.stats.rx_csum_bad == 3, "csum_bad %llu",
	       (unsigned long long)rig.q.stats.rx_csum_bad);
	/* the good ones alone are DATA_VALID: nothing to merge with */
	reset();
	add(&f, &(struct ts_seg){ .payload = MSS, .add_flags = 0x08 });
	SHAPE("1");
	EXPECT(rig.out[0].vh.flags == VIRTIO_NET_HDR_F_DATA_VALID, "flags %u",
	       rig.out[0].vh.flags);
}

static void test_gro_malformed(void)
{
	static const struct ts_seg bad[] = {
		{ .payload = MSS, .trunc = 100 },	/* IP length says more */
		{ .payload = MSS, .pad = 6 },		/* IP length says less */
		{ .payload = MSS, .ip_opts = true },	/* IPv4 options */
	};
	struct ts_flow f;
	struct gro_ref_frame *fr;

	EXPECT(setup(FEAT_GRO, BUF, RING), "setup");
	ts_flow_init(&f, 4, 1);
	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		reset();
		addn(&f, 3);
		add(&f, &bad[i]);
		addn(&f, 4);
		{
			const char *s = burst(&rig, NULL);

			EXPECT(!strcmp(s, "3,1,4"), "case %u: frames %s", i, s);
		}
		EXPECT(rig.out[1].vh.flags == 0, "case %u: flags %u", i, rig.out[1].vh.flags);
	}
	EXPECT(rig.q.stats.rx_gro_bad == 3, "gro_bad %llu",
	       (unsigned long long)rig.q.stats.rx_gro_bad);

	/* a data offset below 20 or past the frame */
	reset();
	addn(&f, 3);
	fr = add(&f, &(struct ts_seg){ .payload = MSS });
	((__u8 *)fr->data)[34 + 12] = 0x30;
	fr = add(&f, &(struct ts_seg){ .payload = 4 });
	((__u8 *)fr->data)[34 + 12] = 0xf0;
	addn(&f, 4);
	SHAPE("3,1,1,4");

	/* cut inside the TCP header: not even a flow; it goes at once */
	reset();
	addn(&f, 3);
	fr = add(&f, &(struct ts_seg){ .payload = MSS });
	fr->len = 34 + 10;
	addn(&f, 4);
	SHAPE("1,3,4");

	/* runts and frames that are not IP */
	reset();
	addn(&f, 2);
	in[nin].data = pool[nin];
	in[nin++].len = 0;
	in[nin].data = pool[nin];
	in[nin++].len = 13;
	add_udp(1);
	addn(&f, 2);
	SHAPE("1,1,1,4");
}

static void test_gro_flows(void)
{
	struct ts_flow f[12];
	unsigned int i, k;

	EXPECT(setup(FEAT_GRO, BUF, RING), "setup");
	for (i = 0; i < 4; i++) {
		ts_flow_init(&f[i], i & 1 ? 6 : 4, i);
		f[i].vlans = i == 3;
	}
	for (k = 0; k < 10; k++) {
		for (i = 0; i < 4; i++)
			addn(&f[i], 1);
		if (k == 4)
			add_udp(k);	/* goes at once */
	}
	SHAPE("1,10,10,10,10");

	/* more flows than runs: the oldest run makes room */
	reset();
	for (i = 0; i < 12; i++)
		ts_flow_init(&f[i], 4, 20 + i);
	for (k = 0; k < 6; k++)
		for (i = 0; i < 12; i++)
			addn(&f[i], 1);
	burst(&rig, NULL);

	/* 9 flows one after the other: the first run leaves for the ninth */
	reset();
	for (i = 0; i < 9; i++)
		addn(&f[i], 2);
	SHAPE("2,2,2,2,2,2,2,2,2");

	/* a pure ACK of the flow: the run goes first */
	reset();
	addn(&f[0], 3);
	add(&f[0], &(struct ts_seg){ 0 });
	addn(&f[0], 4);
	SHAPE("3,1,4");
}

/* Nothing is held back: each burst delivers what it got. */
static void test_gro_burst_end(void)
{
	struct ts_flow f;

	EXPECT(setup(FEAT_GRO, BUF, RING), "setup");
	ts_flow_init(&f, 6, 1);
	addn(&f, 10);
	SHAPE("10");
	reset();
	addn(&f, 1);
	SHAPE("1");
	EXPECT(rig.out[0].vh.flags == VIRTIO_NET_HDR_F_DATA_VALID &&
	       rig.out[0].vh.gso_type == 0, "a lone segment: flags %u gso %u",
	       rig.out[0].vh.flags, rig.out[0].vh.gso_type);
	reset();
	addn(&f, 10);
	SHAPE("10");
}

/* CTRL_GUEST_OFFLOADS: the guest turns coalescing off and on. */
static void test_gro_guest_offloads(void)
{
	struct ts_flow f4, f6;

	EXPECT(setup(FEAT_GRO, BUF, RING), "setup");
	ts_flow_init(&f4, 4, 1);
	ts_flow_init(&f6, 6, 2);

	vnet_netq_set_guest_offloads(&rig.q, F(VIRTIO_NET_F_GUEST_CSUM));
	addn(&f4, 3);
	SHAPE("1,1,1");
	EXPECT(rig.out[0].vh.flags == 0, "flags %u without coalescing", rig.out[0].vh.flags);

	vnet_netq_set_guest_offloads(&rig.q, F(VIRTIO_NET_F_GUEST_CSUM) |
				     F(VIRTIO_NET_F_GUEST_TSO6));
	reset();
	addn(&f4, 3);
	addn(&f6, 3);
	SHAPE("1,1,1,3");

	/* TSO without GUEST_CSUM: nothing (GSO needs NEEDS_CSUM) */
	vnet_netq_set_guest_offloads(&rig.q, F(VIRTIO_NET_F_GUEST_TSO4) |
				     F(VIRTIO_NET_F_GUEST_TSO6));
	reset();
	addn(&f6, 3);
	SHAPE("1,1,1");

	vnet_netq_set_guest_offloads(&rig.q, ~0ull);
	EXPECT(rig.q.guest_offloads == (FEAT_GRO & VNET_GUEST_OFFLOADS),
	       "offloads %#llx beyond the negotiated", (unsigned long long)rig.q.guest_offloads);
	reset();
	addn(&f4, 3);
	SHAPE("3");

	/* not negotiated at all */
	EXPECT(setup(FEAT_GRO & ~(F(VIRTIO_NET_F_GUEST_TSO4) | F(VIRTIO_NET_F_GUEST_TSO6) |
				  F(VIRTIO_NET_F_GUEST_ECN)), BUF, RING), "setup");
	addn(&f4, 3);
	SHAPE("1,1,1");
}

/* Buffers that cannot take a coalesced frame: its segments one by one. */
static void test_gro_buffers(void)
{
	struct ts_flow f;
	__u64 nomrg = FEAT_GRO & ~F(VIRTIO_NET_F_MRG_RXBUF);

	/* without MRG_RXBUF a driver with GUEST_TSO posts 64 KiB buffers */
	EXPECT(setup(nomrg, 65562, 64), "setup");
	ts_flow_init(&f, 4, 1);
	addn(&f, 40);
	SHAPE("40");

	/* ... one that posts small ones gets segments, verified */
	EXPECT(setup(nomrg, 2048, 64), "setup");
	addn(&f, 5);
	SHAPE("1,1,1,1,1");
	EXPECT(rig.out[4].vh.flags == VIRTIO_NET_HDR_F_DATA_VALID, "flags %u",
	       rig.out[4].vh.flags);

	/* more than VNET_RX_MAX_BUFS buffers of 128 bytes */
	EXPECT(setup(FEAT_GRO, 128, RING), "setup");
	addn(&f, 40);
	SHAPE("1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1");
	reset();
	addn(&f, 10);		/* 10 * 1448 fits into 256 of them */
	SHAPE("10");
}

/* The receive queue runs dry in the middle of a burst. */
static void test_gro_no_buffers(void)
{
	struct ts_flow a, b;
	unsigned int got;

	gro_rig_fini(&rig);
	EXPECT(gro_rig_init(&rig, FEAT_GRO | (packed ? F(VIRTIO_F_RING_PACKED) : 0), RING, BUF,
			   10) == 0, "setup");
	ts_flow_init(&a, 4, 1);
	ts_flow_init(&b, 4, 2);
	reset();
	addn(&a, 3);		/* 2 buffers */
	addn(&b, 40);		/* 15 buffers: more than are left */
	got = gro_rig_burst(&rig, in, nin, NULL);
	gro_rig_collect(&rig);
	EXPECT(got == 3, "delivered %u", got);
	EXPECT(rig.q.stats.rx_drop_no_buf == 40 && rig.q.stats.rx_packets == 3,
	       "no_buf %llu packets %llu", (unsigned long long)rig.q.stats.rx_drop_no_buf,
	       (unsigned long long)rig.q.stats.rx_packets);
	EXPECT(gro_ref_check(in, nin, rig.out, rig.nout, GRO_REF_CSUM | GRO_REF_ECN |
			     GRO_REF_PARTIAL, why, sizeof(why)) == 0, "reference: %s", why);
	EXPECT(!strcmp(shape_of(&rig), "3"), "frames %s", shape);
	/* the buffers it could not use are still there for the next burst */
	reset();
	addn(&a, 4);
	SHAPE("4");
}

/*
 * vnet_net_rx_burst_hold: the frames that found no buffer are exactly the
 * ones not delivered (a flow's last ones, whatever the interleaving), are
 * not counted as drops, and delivered later they complete every flow in
 * order. With coalescing off, they are the burst's tail.
 */
static void test_gro_hold(void)
{
	static struct gro_ref_frame held[MAXF];
	unsigned int got, nheld = 0;
	struct ts_flow a, b;
	__u64 nobuf, want = 0;

	gro_rig_fini(&rig);
	EXPECT(gro_rig_init(&rig, FEAT_GRO | (packed ? F(VIRTIO_F_RING_PACKED) : 0), RING, BUF,
			   10) == 0, "setup");
	ts_flow_init(&a, 4, 1);
	ts_flow_init(&b, 6, 2);
	reset();
	for (int i = 0; i < 20; i++) {	/* a b a b ...: each run 8 buffers */
		addn(&a, 1);
		addn(&b, 1);
		want |= 1ull << (2 * i + 1);
	}
	got = gro_rig_burst_hold(&rig, in, nin, &nobuf);
	EXPECT(got == 20, "delivered %u", got);
	EXPECT(nobuf == want, "no buffer for %#llx, want %#llx", (unsigned long long)nobuf,
	       (unsigned long long)want);
	EXPECT(rig.q.stats.rx_drop_no_buf == 0, "held frames counted as dropped");
	for (unsigned int i = 0; i < nin; i++)
		if (nobuf >> i & 1)
			held[nheld++] = in[i];
	/* the driver posts buffers: the held frames, and nothing is left */
	gro_rig_post(&rig, 40);
	got = gro_rig_burst_hold(&rig, held, nheld, &nobuf);
	EXPECT(got == 20 && nobuf == 0, "second burst %u, no buffer %#llx", got,
	       (unsigned long long)nobuf);
	gro_rig_collect(&rig);
	EXPECT(gro_ref_check(in, nin, rig.out, rig.nout, GRO_REF_CSUM | GRO_REF_ECN, why,
			     sizeof(why)) == 0, "reference: %s", why);
	EXPECT(!strcmp(shape_of(&rig), "20,20"), "frames %s", shape);

	/* no coalescing: the first frame without a buffer and all after it */
	gro_rig_fini(&rig);
	EXPECT(gro_rig_init(&rig, F(VIRTIO_NET_F_MRG_RXBUF) |
			   (packed ? F(VIRTIO_F_RING_PACKED) : 0), RING, BUF, 3) == 0, "setup");
	reset();
	addn(&a, 5);
	got = gro_rig_burst_hold(&rig, in, nin, &nobuf);
	EXPECT(got == 3 && nobuf == 0x18, "delivered %u, no buffer %#llx", got,
	       (unsigned long long)nobuf);
	EXPECT(rig.q.stats.rx_drop_no_buf == 0, "held frames counted as dropped");
}

static void test_gro_hash_report(void)
{
	__u32 hash[16];
	struct ts_flow f;
	const char *s;

	EXPECT(setup(FEAT_GRO | F(VIRTIO_NET_F_HASH_REPORT), BUF, RING), "setup");
	ts_flow_init(&f, 4, 1);
	addn(&f, 8);
	for (int i = 0; i < 8; i++)
		hash[i] = i < 4 ? 0xabcd : 0x1234;	/* a hash that moves */
	s = burst(&rig, hash);
	EXPECT(!strcmp(s, "4,4"), "frames %s", s);
	EXPECT(rig.out[0].hash_value == 0xabcd && rig.out[1].hash_value == 0x1234 &&
	       rig.out[0].hash_report == VIRTIO_NET_HASH_REPORT_TCPv4,
	       "hash %#x %#x report %u", rig.out[0].hash_value, rig.out[1].hash_value,
	       rig.out[0].hash_report);
}

/* Random streams with every kind of fault, against the reference. */
static void test_gro_random(void)
{
	unsigned int seed = 12345, coalesced = 0, frames = 0, iters = 400;
	struct ts_flow f[10];

#define RND(n)	((seed = seed * 1103515245u + 12345u) >> 16) % (n)
	for (unsigned int it = 0; it < iters && !test_case_failed; it++) {
		unsigned int nflows = 1 + RND(10), n = 1 + RND(200);
		__u64 feat = FEAT_GRO;

		if (RND(4) == 0)
			feat &= ~F(VIRTIO_NET_F_GUEST_ECN);
		if (it % 50 == 0 || RND(8) == 0) {
			EXPECT(setup(feat, RND(2) ? 1024 : 4096, RING), "setup");
		}
		for (unsigned int i = 0; i < nflows; i++) {
			ts_flow_init(&f[i], RND(2) ? 4 : 6, it * 16 + i);
			f[i].vlans = (int)RND(3);
			f[i].id_mode = (enum ts_id_mode)RND(3);
			f[i].df = RND(8) != 0;
			f[i].ts = RND(4) != 0;
		}
		reset();
		while (nin < n) {
			struct ts_flow *fl = &f[RND(nflows)];
			struct ts_seg s = { .payload = RND(16) ? MSS : RND(MSS + 1) };
			unsigned int ev = RND(40);

			switch (ev) {
			case 0: s.add_flags = 0x08; break;
			case 1: s.add_flags = 0x80; break;
			case 2: s.add_flags = (__u8)(1u << RND(8)); break;
			case 3: s.bad_csum = true; break;
			case 4: s.bad_ipcsum = true; break;
			case 5: s.ce = true; break;
			case 6: s.trunc = RND(s.payload + 60); break;
			case 7: s.pad = 1 + RND(8); break;
			case 8: s.ip_opts = true; break;
			case 9: fl->ttl--; break;
			case 10: fl->tsval++; break;
			case 11: fl->seq -= MSS * RND(3); break;	/* retransmit */
			case 12: fl->seq += MSS; break;		/* a hole */
			case 13: fl->id += (__u16)RND(3); break;
			case 14: add_udp(nin); continue;
			case 15: fl->ack++; break;
			case 16: fl->win++; break;
			case 17: s.payload = 0; break;
			}
			add(fl, &s);
			/* an exact copy of the frame before */
			if (ev == 18 && nin < n) {
				memcpy(pool[nin], in[nin - 1].data, in[nin - 1].len);
				in[nin].data = pool[nin];
				in[nin].len = in[nin - 1].len;
				nin++;
			}
		}
		if (RND(6) == 0)
			vnet_netq_set_guest_offloads(&rig.q, RND(2) ? ~0ull :
						     F(VIRTIO_NET_F_GUEST_CSUM) |
						     F(VIRTIO_NET_F_GUEST_TSO4));
		burst(&rig, NULL);
		for (unsigned int k = 0; k < rig.nout; k++)
			coalesced += rig.out[k].nsegs > 1;
		frames += rig.nout;
		if (test_case_failed)
			printf("  iteration %u: %u frames, %u flows\n", it, n, nflows);
	}
#undef RND
	printf("  %u iterations: %u frames delivered, %u of them coalesced\n", iters, frames,
	       coalesced);
	EXPECT(coalesced > iters, "only %u coalesced frames", coalesced);
}

/* every case on a split ring, then on a packed one */
static const struct test_case cases[] = {
	TEST_CASE(test_gro_in_order),
	TEST_CASE(test_gro_ipv6_vlan),
	TEST_CASE(test_gro_out_of_order),
	TEST_CASE(test_gro_tcp_flags),
	TEST_CASE(test_gro_options),
	TEST_CASE(test_gro_ipv4_id),
	TEST_CASE(test_gro_ip_fields),
	TEST_CASE(test_gro_bad_checksum),
	TEST_CASE(test_gro_malformed),
	TEST_CASE(test_gro_flows),
	TEST_CASE(test_gro_burst_end),
	TEST_CASE(test_gro_guest_offloads),
	TEST_CASE(test_gro_buffers),
	TEST_CASE(test_gro_no_buffers),
	TEST_CASE(test_gro_hold),
	TEST_CASE(test_gro_hash_report),
	TEST_CASE(test_gro_random),
};

int main(void)
{
	test_run_variants(cases, sizeof(cases) / sizeof(cases[0]), &packed, "_packed");
	gro_rig_fini(&rig);
	return test_summary();
}
