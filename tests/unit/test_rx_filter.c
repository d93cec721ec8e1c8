// SPDX-License-Identifier: MIT
/*
 * The C reference of the uplink receive decision (daemon/classify/rx_filter.c) on
 * its own, without root or BPF, so it also runs under ASan/UBSan: the
 * spec's rx-mode truth table (shared with tests/bpf/test_xdp_filter.c),
 * VLAN filtering on and off, RSS / automatic / single-queue steering with
 * hashes checked against the bit-serial Toeplitz definition, flood frames,
 * the host's own traffic and cut frames.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#include "vnet/rx_filter.h"
#include "vnet/toeplitz.h"
#include "frame.h"
#include "test.h"
#include "../bpf/rx_mode_matrix.h"

static const __u8 key40[VNET_TOEPLITZ_KEY_MAX] = {	/* the Microsoft key */
	0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67,
	0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb,
	0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30,
	0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
};

/* The state is ~3 MiB (a Toeplitz table per device): on the heap. */
static struct vnet_rx_state *state_new(void)
{
	struct vnet_rx_state *s = calloc(1, sizeof(*s));

	EXPECT(s, "calloc");
	return s;
}

/* A device in its reset state (spec: empty MAC table, receiveq1, no hash). */
static void dev_add(struct vnet_rx_state *s, unsigned int d, const __u8 mac[6],
		    __u16 max_pairs)
{
	struct vnet_rx_dev *dev = &s->dev[d];

	memset(dev, 0, sizeof(*dev));
	s->present_mask |= 1ull << d;
	memcpy(dev->mac, mac, 6);
	dev->max_vq_pairs = max_pairs;
	dev->steer.vq_pairs = 1;
	s->filter.active |= 1ull << d;
}

static void set_modes(struct vnet_rx_state *s, unsigned int d, unsigned int modes)
{
	__u64 *masks[] = {
		[VNET_RX_PROMISC] = &s->filter.promisc,
		[VNET_RX_ALLMULTI] = &s->filter.allmulti,
		[VNET_RX_ALLUNI] = &s->filter.alluni,
		[VNET_RX_NOMULTI] = &s->filter.nomulti,
		[VNET_RX_NOUNI] = &s->filter.nouni,
		[VNET_RX_NOBCAST] = &s->filter.nobcast,
	};

	for (int cmd = 0; cmd <= VNET_RX_MODE_MAX; cmd++) {
		if ((modes >> cmd) & 1)
			*masks[cmd] |= 1ull << d;
		else
			*masks[cmd] &= ~(1ull << d);
	}
}

static void set_steer(struct vnet_rx_dev *dev, enum vnet_steer_mode mode, __u32 types,
		      __u32 flags, __u16 pairs)
{
	struct vnet_dp_steer *st = &dev->steer;

	st->mode = mode;
	st->hash_types = types;
	st->flags = flags;
	st->vq_pairs = pairs;
	st->key_len = sizeof(key40);
	memcpy(st->key, key40, sizeof(key40));
	vnet_toeplitz_expand(st->key, st->key_len, &dev->tbl);
}

static size_t build(__u8 *frame, const __u8 *dst, int tags, __u16 vid0, __u16 vid1)
{
	struct frame_spec s;

	frame_spec_default(&s);
	memcpy(s.dst_mac, dst, 6);
	s.vlan_tags = tags;
	s.tpid[0] = 0x88a8, s.tpid[1] = 0x8100;
	s.vid[0] = vid0, s.vid[1] = vid1;
	return frame_build(&s, frame, 256);
}

/*
 * The spec's table, class by class, through the reference; then again with
 * the host sharing the uplink: group frames PASS to the host, and the copy
 * decision (vnet_rx_classify_copy) answers to the same table.
 */
static void test_rx_mode_matrix(void)
{
	struct vnet_rx_state *s = state_new();
	int cases = 0;

	if (!s)
		return;
	dev_add(s, 0, mac_a, 4);
	s->dev[0].n_uc = 1;
	memcpy(s->dev[0].uc[0], mac_u1, 6);
	memcpy(s->dev[0].mc[0], mac_m1, 6);
	memcpy(s->dev[0].mc[1], mac_bc, 6);
	for (int shared = 0; shared < 2; shared++)
	for (size_t m = 0; m < sizeof(matrix) / sizeof(matrix[0]); m++) {
		s->cfg_flags = shared ? VNET_DP_CFG_HOST_SHARED : 0;
		set_modes(s, 0, matrix[m].modes);
		for (int c = 0; c < N_CLS; c++) {
			int want = matrix[m].want[c] == '1';
			const char *mode = shared ? "host shared" : "dedicated";
			struct vnet_rx_result r, rc;
			__u8 frame[256];
			size_t len;

			/* "bc in table": the driver listed ff:ff:ff:ff:ff:ff itself */
			s->dev[0].n_mc = c == BC_IN ? 2 : 1;
			len = build(frame, cls_dst(c), 0, 0, 0);
			EXPECT(!vnet_rx_classify(s, frame, len, &r), "classify");
			EXPECT(!vnet_rx_classify_copy(s, frame, len, &rc), "classify copy");
			/* the copy decision never depends on the mode */
			EXPECT(rc.verdict == (want ? VNET_RX_DELIVER : VNET_RX_PASS) &&
			       rc.want == (__u64)want,
			       "%s, %s, %s: copy verdict %d", mode, matrix[m].name, cls_name[c],
			       rc.verdict);
			if (shared && cls_group(c)) {
				EXPECT(r.verdict == VNET_RX_PASS && r.pass_reason == VNET_CNT_GROUP_HOST &&
				       !r.want, "%s, %s: group frame verdict %d reason %d",
				       matrix[m].name, cls_name[c], r.verdict, r.pass_reason);
				r = rc;		/* the devices' side of it: checked below */
			}
			EXPECT((r.verdict == VNET_RX_DELIVER) == want, "%s, %s, %s: verdict %d, spec says %s",
			       mode, matrix[m].name, cls_name[c], r.verdict, want ? "deliver" : "filter");
			if (want) {
				EXPECT(r.want == 1 && r.meta.dev == 0 && r.meta.magic == VNET_META_MAGIC &&
				       r.pass_reason == -1, "%s, %s: result", matrix[m].name, cls_name[c]);
			} else if (r.mode_drop) {
				/* a candidate its rx mode dropped: counted per device */
				EXPECT(r.mode_drop == 1 && r.pass_reason == -1,
				       "%s, %s: mode_drop %llx reason %d", matrix[m].name, cls_name[c],
				       (unsigned long long)r.mode_drop, r.pass_reason);
			} else {
				EXPECT(r.pass_reason == VNET_CNT_FILTER_MAC, "%s, %s: reason %d",
				       matrix[m].name, cls_name[c], r.pass_reason);
			}
			cases++;
		}
	}
	printf("  %d cases\n", cases);
	free(s);
}

/* VLAN filter off: every VID passes; on: only the set, the outer VID decides. */
static void test_vlan_filter(void)
{
	static const struct {
		const char *what;
		int filter, tags;
		__u16 vid0, vid1, in_set;
		int want;
	} steps[] = {
		{ "filter off, VID 100",		0, 1, 100, 0, 0, 1 },
		{ "filter off, VID 4095",		0, 1, 4095, 0, 0, 1 },
		{ "filter on, empty set, VID 100",	1, 1, 100, 0, 0, 0 },
		{ "filter on, untagged",		1, 0, 0, 0, 0, 1 },
		{ "filter on, VID 100 in the set",	1, 1, 100, 0, 100, 1 },
		{ "filter on, VID 101 not in the set",	1, 1, 101, 0, 100, 0 },
		{ "filter on, QinQ outer 100",		1, 2, 100, 7, 100, 1 },
		{ "filter on, QinQ outer 7, inner 100",	1, 2, 7, 100, 100, 0 },
		{ "filter on, VID 4095 in the set",	1, 1, 4095, 0, 4095, 1 },
	};
	struct vnet_rx_state *s = state_new();

	if (!s)
		return;
	dev_add(s, 0, mac_a, 1);
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		struct vnet_rx_result r;
		__u8 frame[256];
		size_t len;

		s->filter.vlan_filter = steps[i].filter ? 1 : 0;
		memset(s->dev[0].vlans, 0, sizeof(s->dev[0].vlans));
		if (steps[i].in_set)
			s->dev[0].vlans[steps[i].in_set / 64] |= 1ull << (steps[i].in_set % 64);
		EXPECT(vnet_rx_vlan_devs(s, steps[i].in_set) == (steps[i].in_set ? 1u : 0u),
		       "%s: vlan_devs", steps[i].what);
		len = build(frame, mac_a, steps[i].tags, steps[i].vid0, steps[i].vid1);
		EXPECT(!vnet_rx_classify(s, frame, len, &r), "classify");
		EXPECT((r.verdict == VNET_RX_DELIVER) == steps[i].want, "%s: verdict %d",
		       steps[i].what, r.verdict);
		EXPECT(r.vlan_drop == (steps[i].want ? 0u : 1u), "%s: vlan_drop %llx",
		       steps[i].what, (unsigned long long)r.vlan_drop);
		if (steps[i].want && steps[i].tags)
			EXPECT((r.meta.flags & VNET_META_F_TAGGED) && r.meta.vlan_id == steps[i].vid0,
			       "%s: flags %x vid %u", steps[i].what, r.meta.flags, r.meta.vlan_id);
		if (steps[i].want && !steps[i].tags)
			EXPECT(!(r.meta.flags & VNET_META_F_TAGGED) && !r.meta.vlan_id,
			       "%s: untagged frame marked", steps[i].what);
	}
	free(s);
}

/* The hash input of an IPv4/IPv6 frame by hand: addresses, then ports. */
static __u32 ref_hash(const struct frame_spec *fs, int with_ports)
{
	__u8 in[VNET_HASH_INPUT_MAX];
	size_t alen = fs->ip == 6 ? 16 : 4, n = 0;

	memcpy(in, fs->src, alen);
	memcpy(in + alen, fs->dst, alen);
	n = 2 * alen;
	if (with_ports) {
		__u16 sp = htons(fs->sport), dp = htons(fs->dport);

		memcpy(in + n, &sp, 2);
		memcpy(in + n + 2, &dp, 2);
		n += 4;
	}
	return vnet_toeplitz_bits(key40, sizeof(key40), in, n);
}

static void classify_spec(const struct vnet_rx_state *s, const struct frame_spec *fs,
			  struct vnet_rx_result *r)
{
	__u8 frame[256];
	size_t len = frame_build(fs, frame, sizeof(frame));

	EXPECT(len && !vnet_rx_classify(s, frame, len, r), "classify");
}

/* RSS, automatic and single-queue steering: queue, hash and report. */
static void test_steering(void)
{
	struct vnet_rx_state *s = state_new();
	struct vnet_dp_steer *st;
	struct vnet_rx_result r;
	struct frame_spec fs;
	__u32 h;

	if (!s)
		return;
	dev_add(s, 0, mac_a, 4);
	st = &s->dev[0].steer;
	frame_spec_default(&fs);
	memcpy(fs.dst_mac, mac_a, 6);

	/* RSS with TCPv4 and IPv4: TCP on the 4-tuple, UDP on the addresses */
	set_steer(&s->dev[0], VNET_STEER_RSS, VNET_HASH_TYPE_TCPv4 | VNET_HASH_TYPE_IPv4, 0, 4);
	st->table_mask = 7;
	st->unclassified_queue = 3;
	for (int i = 0; i < 8; i++)
		st->table[i] = (__u16)(i % 4);
	st->table[8] = 0xdead;		/* past the mask: never used */
	fs.l4 = IPPROTO_TCP;
	classify_spec(s, &fs, &r);
	h = ref_hash(&fs, 1);
	EXPECT(r.verdict == VNET_RX_DELIVER && r.meta.report == VNET_HASH_REPORT_TCPv4 &&
	       r.meta.hash == h && r.meta.queue == (h & 7) % 4,
	       "RSS TCPv4: report %u hash %08x (want %08x) queue %u", r.meta.report,
	       r.meta.hash, h, r.meta.queue);
	fs.l4 = IPPROTO_UDP;
	classify_spec(s, &fs, &r);
	h = ref_hash(&fs, 0);
	EXPECT(r.meta.report == VNET_HASH_REPORT_IPv4 && r.meta.hash == h &&
	       r.meta.queue == (h & 7) % 4, "RSS UDP without UDPv4: report %u hash %08x",
	       r.meta.report, r.meta.hash);

	/* spec "RSS processing": no hash computed -> unclassified_queue */
	st->hash_types = VNET_HASH_TYPE_TCPv4;
	classify_spec(s, &fs, &r);
	EXPECT(r.meta.report == VNET_HASH_REPORT_NONE && !r.meta.hash && r.meta.queue == 3,
	       "RSS unclassified: report %u queue %u", r.meta.report, r.meta.queue);

	/* IPv6/TCP: 36 bytes of input */
	st->hash_types = VNET_HASH_TYPE_TCPv6;
	fs.ip = 6;
	fs.l4 = IPPROTO_TCP;
	for (int i = 0; i < 16; i++)
		fs.src[i] = (__u8)(0x20 + i), fs.dst[i] = (__u8)(0x40 + i);
	classify_spec(s, &fs, &r);
	h = ref_hash(&fs, 1);
	EXPECT(r.meta.report == VNET_HASH_REPORT_TCPv6 && r.meta.hash == h &&
	       r.meta.queue == (h & 7) % 4, "RSS TCPv6: report %u hash %08x (want %08x)",
	       r.meta.report, r.meta.hash, h);

	/* automatic steering: our own hash picks the pair, never reported */
	set_steer(&s->dev[0], VNET_STEER_AUTO, VNET_HASH_TYPE_ALL, VNET_STEER_F_INTERNAL_HASH, 3);
	classify_spec(s, &fs, &r);
	EXPECT(r.meta.report == VNET_HASH_REPORT_NONE && !r.meta.hash &&
	       r.meta.queue == (__u16)(((__u64)h * 3) >> 32),
	       "AUTO: report %u hash %08x queue %u", r.meta.report, r.meta.hash, r.meta.queue);
	/* a frame without a hash stays on the first pair */
	fs.ip = 0;
	fs.ethertype = 0x88b5;
	classify_spec(s, &fs, &r);
	EXPECT(r.verdict == VNET_RX_DELIVER && r.meta.queue == 0, "AUTO, not IP: queue %u",
	       r.meta.queue);

	/* single queue with HASH_CONFIG: queue 0, the hash reported */
	fs.ip = 4;
	fs.l4 = IPPROTO_TCP;
	set_steer(&s->dev[0], VNET_STEER_SINGLE, VNET_HASH_TYPE_TCPv4, 0, 1);
	classify_spec(s, &fs, &r);
	h = ref_hash(&fs, 1);
	EXPECT(r.meta.report == VNET_HASH_REPORT_TCPv4 && r.meta.hash == h && !r.meta.queue,
	       "SINGLE + hash report: report %u hash %08x queue %u", r.meta.report,
	       r.meta.hash, r.meta.queue);
	/* reset state: nothing hashed */
	set_steer(&s->dev[0], VNET_STEER_SINGLE, 0, 0, 1);
	classify_spec(s, &fs, &r);
	EXPECT(r.meta.report == VNET_HASH_REPORT_NONE && !r.meta.hash && !r.meta.queue,
	       "SINGLE: report %u", r.meta.report);
	free(s);
}

/* Several devices want a frame: FLOOD, one copy; each device's steering apart. */
static void test_flood(void)
{
	struct vnet_rx_state *s = state_new();
	struct vnet_xdp_meta m0, m1;
	struct vnet_rx_result r;
	struct frame_spec fs;
	__u8 frame[256];
	size_t len;

	if (!s)
		return;
	dev_add(s, 0, mac_a, 4);
	dev_add(s, 1, mac_b, 2);
	set_steer(&s->dev[1], VNET_STEER_AUTO, VNET_HASH_TYPE_ALL, VNET_STEER_F_INTERNAL_HASH, 2);
	frame_spec_default(&fs);
	memcpy(fs.dst_mac, mac_bc, 6);
	len = frame_build(&fs, frame, sizeof(frame));
	EXPECT(!vnet_rx_classify(s, frame, len, &r), "classify");
	EXPECT(r.verdict == VNET_RX_FLOOD && r.want == 3 && r.meta.dev == VNET_DEV_NONE &&
	       (r.meta.flags & VNET_META_F_FLOOD) && r.meta.report == VNET_HASH_REPORT_NONE &&
	       !r.meta.hash && !r.meta.queue, "flood: verdict %d want %llx flags %x",
	       r.verdict, (unsigned long long)r.want, r.meta.flags);
	/* the engine's replication: each device's own answer */
	EXPECT(!vnet_rx_steer(s, 0, frame, len, &m0) && m0.dev == 0 && !m0.queue &&
	       m0.magic == VNET_META_MAGIC, "steer dev 0");
	EXPECT(!vnet_rx_steer(s, 1, frame, len, &m1) && m1.dev == 1 && m1.queue < 2 &&
	       m1.report == VNET_HASH_REPORT_NONE, "steer dev 1: queue %u", m1.queue);
	EXPECT(vnet_rx_steer(s, 2, frame, len, &m1) == -ENODEV, "absent device");
	EXPECT(vnet_rx_steer(s, 0, frame, 10, &m1) < 0, "cut L2");
	/* NOBCAST on one of them: the other alone gets it, delivered */
	s->filter.nobcast = 2;
	EXPECT(!vnet_rx_classify(s, frame, len, &r) && r.verdict == VNET_RX_DELIVER &&
	       r.meta.dev == 0 && r.mode_drop == 2, "one left: verdict %d", r.verdict);
	/* a multicast both hold in their tables */
	s->filter.nobcast = 0;
	memcpy(s->dev[0].mc[0], mac_m1, 6);
	memcpy(s->dev[1].mc[0], mac_m1, 6);
	s->dev[0].n_mc = s->dev[1].n_mc = 1;
	EXPECT(vnet_rx_mac_devs(s, mac_m1) == 3, "mac_devs of a shared multicast");
	memcpy(fs.dst_mac, mac_m1, 6);
	len = frame_build(&fs, frame, sizeof(frame));
	EXPECT(!vnet_rx_classify(s, frame, len, &r) && r.verdict == VNET_RX_FLOOD && r.want == 3,
	       "multicast flood: verdict %d", r.verdict);
	free(s);
}

/* The host's own traffic never goes to a device, not even a promiscuous one. */
static void test_host_traffic(void)
{
	struct vnet_rx_state *s = state_new();
	struct vnet_rx_result r;
	__u8 frame[256];
	size_t len;

	if (!s)
		return;
	dev_add(s, 0, mac_a, 1);
	set_modes(s, 0, 1 << VNET_RX_PROMISC);
	memcpy(s->host_macs[0], mac_host, 6);
	s->n_host_macs = 1;
	inet_pton(AF_INET, "192.0.2.1", &s->host_ipv4[0]);
	s->n_host_ipv4 = 1;
	EXPECT(vnet_rx_mac_devs(s, mac_host) == VNET_DP_HOST_BIT, "host bit");

	len = build(frame, mac_host, 0, 0, 0);
	EXPECT(!vnet_rx_classify(s, frame, len, &r) && r.verdict == VNET_RX_PASS &&
	       r.pass_reason == VNET_CNT_HOST, "unicast to the host MAC: %d", r.verdict);
	frame_build_arp_request(frame, mac_bc, mac_b, "192.0.2.1");
	EXPECT(!vnet_rx_classify(s, frame, 60, &r) && r.verdict == VNET_RX_PASS &&
	       r.pass_reason == VNET_CNT_HOST, "ARP for the host: %d", r.verdict);
	frame_build_arp_request(frame, mac_bc, mac_b, "192.0.2.77");
	EXPECT(!vnet_rx_classify(s, frame, 60, &r) && r.verdict == VNET_RX_DELIVER,
	       "ARP for another address: %d", r.verdict);
	/* an ARP frame cut before the target address is not the host's */
	frame_build_arp_request(frame, mac_bc, mac_b, "192.0.2.1");
	EXPECT(!vnet_rx_classify(s, frame, 14 + 27, &r) && r.verdict == VNET_RX_DELIVER,
	       "cut ARP: %d", r.verdict);

	/* host shared: every group frame is the host's, devices get copies */
	s->cfg_flags = VNET_DP_CFG_HOST_SHARED;
	frame_build_arp_request(frame, mac_bc, mac_b, "192.0.2.77");
	EXPECT(!vnet_rx_classify(s, frame, 60, &r) && r.verdict == VNET_RX_PASS &&
	       r.pass_reason == VNET_CNT_GROUP_HOST, "shared, ARP for another: %d", r.verdict);
	frame_build_arp_request(frame, mac_bc, mac_b, "192.0.2.1");
	EXPECT(!vnet_rx_classify(s, frame, 60, &r) && r.verdict == VNET_RX_PASS &&
	       r.pass_reason == VNET_CNT_GROUP_HOST, "shared, ARP for the host: %d", r.verdict);
	/* the host has the original: the promiscuous device gets its copy */
	EXPECT(!vnet_rx_classify_copy(s, frame, 60, &r) && r.verdict == VNET_RX_DELIVER &&
	       r.meta.dev == 0, "shared, copy of ARP for the host: %d", r.verdict);
	/* unicast is untouched: the host MAC stays the host's, also for copies */
	len = build(frame, mac_host, 0, 0, 0);
	EXPECT(!vnet_rx_classify(s, frame, len, &r) && r.verdict == VNET_RX_PASS &&
	       r.pass_reason == VNET_CNT_HOST, "shared, unicast to the host MAC: %d", r.verdict);
	EXPECT(!vnet_rx_classify_copy(s, frame, len, &r) && r.verdict == VNET_RX_PASS &&
	       r.pass_reason == VNET_CNT_HOST, "shared, copy of host unicast: %d", r.verdict);
	len = build(frame, mac_u9, 0, 0, 0);
	EXPECT(!vnet_rx_classify(s, frame, len, &r) && r.verdict == VNET_RX_DELIVER,
	       "shared, unicast to a stranger (PROMISC device): %d", r.verdict);
	free(s);
}

/* Cut frames: L2 unusable -> PASS; a cut L4 header -> delivered, flagged. */
static void test_malformed(void)
{
	struct vnet_rx_state *s = state_new();
	struct vnet_rx_result r;
	__u8 frame[256];

	if (!s)
		return;
	dev_add(s, 0, mac_a, 1);
	build(frame, mac_a, 2, 5, 6);
	EXPECT(!vnet_rx_classify(s, frame, 20, &r) && r.verdict == VNET_RX_PASS &&
	       r.pass_reason == VNET_CNT_MALFORMED, "second tag cut: %d", r.verdict);
	EXPECT(!vnet_rx_classify(s, frame, 5, &r) && r.verdict == VNET_RX_PASS &&
	       r.pass_reason == VNET_CNT_MALFORMED, "5 bytes: %d", r.verdict);
	build(frame, mac_a, 0, 0, 0);
	EXPECT(!vnet_rx_classify(s, frame, 14 + 20 + 4, &r) && r.verdict == VNET_RX_DELIVER &&
	       (r.meta.flags & VNET_META_F_MALFORMED), "cut UDP: %d flags %x", r.verdict,
	       r.meta.flags);
	/* what the packet socket may hand over: cut group frames, both paths */
	s->filter.promisc = 1;
	for (int shared = 0; shared < 2; shared++) {
		s->cfg_flags = shared ? VNET_DP_CFG_HOST_SHARED : 0;
		build(frame, mac_bc, 2, 5, 6);
		for (size_t cut = 0; cut < 14 + 8; cut++) {
			EXPECT(!vnet_rx_classify_copy(s, frame, cut, &r) &&
			       r.verdict == VNET_RX_PASS && r.pass_reason == VNET_CNT_MALFORMED,
			       "group frame cut at %zu: %d", cut, r.verdict);
			EXPECT(!vnet_rx_classify(s, frame, cut, &r) &&
			       r.verdict == VNET_RX_PASS && r.pass_reason == VNET_CNT_MALFORMED,
			       "group frame cut at %zu (XDP's rule): %d", cut, r.verdict);
		}
		build(frame, mac_m1, 0, 0, 0);
		EXPECT(!vnet_rx_classify_copy(s, frame, 14 + 20 + 4, &r) &&
		       r.verdict == VNET_RX_DELIVER && (r.meta.flags & VNET_META_F_MALFORMED),
		       "multicast with cut UDP: copy %d flags %x", r.verdict, r.meta.flags);
	}
	s->filter.promisc = 0;
	s->cfg_flags = 0;
	EXPECT(vnet_rx_classify_copy(NULL, frame, 60, &r) == -EINVAL &&
	       vnet_rx_classify_copy(s, NULL, 60, &r) == -EINVAL &&
	       vnet_rx_classify_copy(s, frame, 60, NULL) == -EINVAL, "NULL arguments (copy)");
	EXPECT(vnet_rx_classify(NULL, frame, 60, &r) == -EINVAL &&
	       vnet_rx_classify(s, NULL, 60, &r) == -EINVAL &&
	       vnet_rx_classify(s, frame, 60, NULL) == -EINVAL, "NULL arguments");
	/* an inactive (removed) device is nobody's candidate */
	s->filter.active = 0;
	build(frame, mac_a, 0, 0, 0);
	EXPECT(!vnet_rx_classify(s, frame, 60, &r) && r.verdict == VNET_RX_PASS &&
	       r.pass_reason == VNET_CNT_FILTER_MAC, "inactive device: %d", r.verdict);
	free(s);
}

int main(void)
{
	RUN(test_rx_mode_matrix);
	RUN(test_vlan_filter);
	RUN(test_steering);
	RUN(test_flood);
	RUN(test_host_traffic);
	RUN(test_malformed);
	return test_summary();
}
