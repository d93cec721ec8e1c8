// SPDX-License-Identifier: MIT
/*
 * Receive filtering in the XDP program (BPF_PROG_TEST_RUN), against a truth
 * table written from the spec ("Packet Receive Filtering", "Setting MAC
 * Address Filtering", "VLAN Filtering") rather than from our reference; the
 * C reference is checked against the same table. Also: counters per device
 * and outcome, the host's own traffic, flood frames, a missing socket, cut
 * frames, and the API refusing bad commands; all of it with the uplink
 * dedicated and, where it differs, with the host sharing it
 * (VNET_DP_CFG_HOST_SHARED: group frames to the host, devices get copies).
 */
#include <arpa/inet.h>
#include <string.h>
#include <unistd.h>

#include "frame.h"
#include "rx_mode_matrix.h"
#include "test.h"
#include "xdp_util.h"

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

static __u64 counter(struct xdp_env *e, unsigned int slot, unsigned int what)
{
	struct vnet_dp_counters c;

	if (vnet_dp_read_counters(e->dp, slot, &c))
		return ~0ull;
	return c.c[what];
}

static int open_with_device(struct xdp_env *e)
{
	int err = xdp_env_open(e, 0);

	if (err) {
		EXPECT(0, "datapath open: %s", strerror(-err));
		return err;
	}
	err = vnet_dp_dev_add(e->dp, 0, mac_a, 4);
	EXPECT(!err, "dev add: %d", err);
	return err;
}

/*
 * Each of the six commands (and the combinations the spec orders) × class,
 * with the uplink dedicated and with the host sharing it: then every group
 * frame goes to the host untouched (XDP_PASS, no metadata, counted), the
 * copy decision of the reference answers to the same table, and unicast is
 * handled as before.
 */
static void test_rx_mode_matrix(void)
{
	struct xdp_env e;
	int cases = 0;

	if (open_with_device(&e))
		return;
	for (int shared = 0; shared < 2; shared++)
	for (size_t m = 0; m < sizeof(matrix) / sizeof(matrix[0]); m++) {
		const char *mode = shared ? "host shared" : "dedicated";

		EXPECT(!vnet_dp_set_host_shared(e.dp, shared), "host shared %d", shared);
		for (int cmd = 0; cmd <= VNET_RX_MODE_MAX; cmd++)
			EXPECT(!vnet_dp_set_rx_mode(e.dp, 0, cmd, (matrix[m].modes >> cmd) & 1),
			       "set mode %d", cmd);
		for (int c = 0; c < N_CLS; c++) {
			__u8 uc[1][6], mc[2][6], frame[256];
			int want = matrix[m].want[c] == '1';
			__u64 rxmode0, mac0, del0, grp0;
			struct vnet_rx_result ref;
			struct xdp_out out;
			size_t len;

			memcpy(uc[0], mac_u1, 6);
			memcpy(mc[0], mac_m1, 6);
			memcpy(mc[1], mac_bc, 6);
			/* "bc in table": the driver listed ff:ff:ff:ff:ff:ff itself */
			EXPECT(!vnet_dp_set_mac_table(e.dp, 0, uc, 1, mc, c == BC_IN ? 2 : 1),
			       "mac table");
			rxmode0 = counter(&e, 0, VNET_CNT_FILTER_RXMODE);
			mac0 = counter(&e, VNET_DP_UPLINK_SLOT, VNET_CNT_FILTER_MAC);
			del0 = counter(&e, 0, VNET_CNT_DELIVERED);
			grp0 = counter(&e, VNET_DP_UPLINK_SLOT, VNET_CNT_GROUP_HOST);

			len = build(frame, cls_dst(c), 0, 0, 0);
			EXPECT(!xdp_run(e.prog_fd, frame, len, &out), "test run");
			vnet_rx_classify(vnet_dp_state(e.dp), frame, len, &ref);
			if (shared && cls_group(c)) {
				EXPECT(out.verdict == XDP_PASS && !out.has_meta,
				       "%s, %s, %s: XDP verdict %d meta %d, want PASS to the host",
				       mode, matrix[m].name, cls_name[c], out.verdict, out.has_meta);
				EXPECT(ref.verdict == VNET_RX_PASS &&
				       ref.pass_reason == VNET_CNT_GROUP_HOST,
				       "%s, %s: reference verdict %d reason %d", matrix[m].name,
				       cls_name[c], ref.verdict, ref.pass_reason);
				EXPECT(counter(&e, VNET_DP_UPLINK_SLOT, VNET_CNT_GROUP_HOST) == grp0 + 1 &&
				       counter(&e, 0, VNET_CNT_DELIVERED) == del0 &&
				       counter(&e, 0, VNET_CNT_FILTER_RXMODE) == rxmode0,
				       "%s, %s: counted as anything but group_host", matrix[m].name,
				       cls_name[c]);
				/* vnetd's copy from the packet socket: the spec's answer */
				vnet_rx_classify_copy(vnet_dp_state(e.dp), frame, len, &ref);
				EXPECT((ref.verdict == VNET_RX_DELIVER) == want && ref.want == (__u64)want,
				       "%s, %s: copy verdict %d, spec says %s", matrix[m].name,
				       cls_name[c], ref.verdict, want ? "deliver" : "filter");
				cases++;
				continue;
			}
			EXPECT(counter(&e, VNET_DP_UPLINK_SLOT, VNET_CNT_GROUP_HOST) == grp0,
			       "%s, %s, %s: group_host counted", mode, matrix[m].name, cls_name[c]);
			EXPECT(out.verdict == (want ? XDP_REDIRECT : XDP_PASS),
			       "%s, %s, %s: XDP verdict %d, spec says %s", mode, matrix[m].name,
			       cls_name[c], out.verdict, want ? "deliver" : "filter");
			EXPECT((ref.verdict == VNET_RX_DELIVER) == want,
			       "%s, %s, %s: reference verdict %d", mode, matrix[m].name, cls_name[c],
			       ref.verdict);
			if (want) {
				EXPECT(out.has_meta && out.meta.dev == 0 && out.meta.magic == VNET_META_MAGIC,
				       "%s, %s: metadata", matrix[m].name, cls_name[c]);
				EXPECT(counter(&e, 0, VNET_CNT_DELIVERED) == del0 + 1,
				       "%s, %s: delivered not counted", matrix[m].name, cls_name[c]);
			} else if (ref.mode_drop) {
				EXPECT(counter(&e, 0, VNET_CNT_FILTER_RXMODE) == rxmode0 + 1,
				       "%s, %s: rx-mode drop not counted", matrix[m].name, cls_name[c]);
			} else {
				EXPECT(counter(&e, VNET_DP_UPLINK_SLOT, VNET_CNT_FILTER_MAC) == mac0 + 1,
				       "%s, %s: MAC filter not counted", matrix[m].name, cls_name[c]);
			}
			cases++;
		}
	}
	printf("  %d cases\n", cases);
	xdp_env_close(&e);
}

/* VLAN filter off: every VID passes; on: only the set; untagged always. */
static void test_vlan_filter(void)
{
	static const struct {
		const char *what;
		int filter, tags;
		__u16 vid0, vid1;
		int want;
	} steps[] = {
		{ "filter off, VID 100",		0, 1, 100, 0, 1 },
		{ "filter off, VID 4095",		0, 1, 4095, 0, 1 },
		{ "filter on, empty set, VID 100",	1, 1, 100, 0, 0 },
		{ "filter on, untagged",		1, 0, 0, 0, 1 },
		{ "filter on, VID 100 added",		1, 1, 100, 0, 1 },
		{ "filter on, VID 101 not added",	1, 1, 101, 0, 0 },
		{ "filter on, QinQ outer 100",		1, 2, 100, 7, 1 },
		{ "filter on, QinQ outer 7, inner 100",	1, 2, 7, 100, 0 },
		{ "filter on, VID 100 deleted",		1, 1, 100, 0, 0 },
	};
	struct xdp_env e;

	if (open_with_device(&e))
		return;
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		struct vnet_rx_result ref;
		struct xdp_out out;
		__u8 frame[256];
		__u64 vl0;
		size_t len;

		EXPECT(!vnet_dp_set_vlan_filter(e.dp, 0, steps[i].filter), "vlan filter");
		if (i == 4)
			EXPECT(!vnet_dp_vlan_add(e.dp, 0, 100), "vlan add");
		if (i == 8)
			EXPECT(!vnet_dp_vlan_del(e.dp, 0, 100), "vlan del");
		vl0 = counter(&e, 0, VNET_CNT_FILTER_VLAN);
		len = build(frame, mac_a, steps[i].tags, steps[i].vid0, steps[i].vid1);
		EXPECT(!xdp_run(e.prog_fd, frame, len, &out), "test run");
		vnet_rx_classify(vnet_dp_state(e.dp), frame, len, &ref);
		EXPECT(out.verdict == (steps[i].want ? XDP_REDIRECT : XDP_PASS),
		       "%s: verdict %d", steps[i].what, out.verdict);
		EXPECT((ref.verdict == VNET_RX_DELIVER) == steps[i].want,
		       "%s: reference verdict %d", steps[i].what, ref.verdict);
		if (steps[i].want && steps[i].tags)
			EXPECT(out.meta.flags & VNET_META_F_TAGGED && out.meta.vlan_id == steps[i].vid0,
			       "%s: flags %x vid %u", steps[i].what, out.meta.flags, out.meta.vlan_id);
		if (!steps[i].want)
			EXPECT(counter(&e, 0, VNET_CNT_FILTER_VLAN) == vl0 + 1,
			       "%s: VLAN drop not counted", steps[i].what);
	}
	xdp_env_close(&e);
}

/* The host's own traffic never goes to a device, even a promiscuous one. */
static void test_host_traffic_untouched(void)
{
	struct vnet_rx_result ref;
	struct xdp_out out;
	struct xdp_env e;
	__u8 frame[256];
	__u32 ip;
	size_t len;

	if (open_with_device(&e))
		return;
	inet_pton(AF_INET, "192.0.2.1", &ip);
	EXPECT(!vnet_dp_set_host_mac(e.dp, mac_host, 1), "host mac");
	EXPECT(!vnet_dp_add_host_ipv4(e.dp, ip), "host ip");
	EXPECT(!vnet_dp_set_rx_mode(e.dp, 0, VNET_RX_PROMISC, 1), "promisc");

	len = build(frame, mac_host, 0, 0, 0);
	EXPECT(!xdp_run(e.prog_fd, frame, len, &out) && out.verdict == XDP_PASS && !out.has_meta,
	       "unicast to the host MAC: verdict %d", out.verdict);
	vnet_rx_classify(vnet_dp_state(e.dp), frame, len, &ref);
	EXPECT(ref.verdict == VNET_RX_PASS && ref.pass_reason == VNET_CNT_HOST, "reference");

	frame_build_arp_request(frame, mac_bc, mac_b, "192.0.2.1");
	EXPECT(!xdp_run(e.prog_fd, frame, 60, &out) && out.verdict == XDP_PASS,
	       "ARP for the host's address: verdict %d", out.verdict);
	frame_build_arp_request(frame, mac_bc, mac_b, "192.0.2.77");
	EXPECT(!xdp_run(e.prog_fd, frame, 60, &out) && out.verdict == XDP_REDIRECT,
	       "ARP for another address: verdict %d", out.verdict);
	EXPECT(counter(&e, VNET_DP_UPLINK_SLOT, VNET_CNT_HOST) == 2, "host counter %llu",
	       (unsigned long long)counter(&e, VNET_DP_UPLINK_SLOT, VNET_CNT_HOST));
	EXPECT(!vnet_dp_del_host_ipv4(e.dp, ip), "host ip del");
	frame_build_arp_request(frame, mac_bc, mac_b, "192.0.2.1");
	EXPECT(!xdp_run(e.prog_fd, frame, 60, &out) && out.verdict == XDP_REDIRECT,
	       "ARP after the address left: verdict %d", out.verdict);

	/*
	 * The host shares the uplink: every group frame is the host's, ARP
	 * for any address, IPv6 ND (solicited-node multicast), all-nodes;
	 * the host's unicast stays the host's, the device's unicast the device's.
	 */
	EXPECT(!vnet_dp_set_host_shared(e.dp, 1), "host shared");
	{
		static const __u8 snm[6] = { 0x33, 0x33, 0xff, 0x00, 0x00, 0x03 };
		static const __u8 all_nodes[6] = { 0x33, 0x33, 0x00, 0x00, 0x00, 0x01 };
		const __u8 *group[] = { snm, all_nodes, mac_bc, mac_m1 };

		for (size_t i = 0; i < sizeof(group) / sizeof(group[0]); i++) {
			len = build(frame, group[i], i & 1, 100, 0);
			EXPECT(!xdp_run(e.prog_fd, frame, len, &out) && out.verdict == XDP_PASS &&
			       !out.has_meta, "shared, group frame %zu: verdict %d", i, out.verdict);
		}
		frame_build_arp_request(frame, mac_bc, mac_b, "192.0.2.77");
		EXPECT(!xdp_run(e.prog_fd, frame, 60, &out) && out.verdict == XDP_PASS &&
		       !out.has_meta, "shared, ARP for another address: verdict %d", out.verdict);
		EXPECT(counter(&e, VNET_DP_UPLINK_SLOT, VNET_CNT_GROUP_HOST) == 5,
		       "group_host counter %llu", (unsigned long long)
		       counter(&e, VNET_DP_UPLINK_SLOT, VNET_CNT_GROUP_HOST));
	}
	len = build(frame, mac_host, 0, 0, 0);
	EXPECT(!xdp_run(e.prog_fd, frame, len, &out) && out.verdict == XDP_PASS && !out.has_meta,
	       "shared, unicast to the host MAC: verdict %d", out.verdict);
	len = build(frame, mac_a, 0, 0, 0);
	EXPECT(!xdp_run(e.prog_fd, frame, len, &out) && out.verdict == XDP_REDIRECT &&
	       out.has_meta && out.meta.dev == 0, "shared, unicast to the device: verdict %d",
	       out.verdict);
	/* and back: the old rule for ARP to the host, redirects for the rest */
	EXPECT(!vnet_dp_set_host_shared(e.dp, 0), "host shared off");
	frame_build_arp_request(frame, mac_bc, mac_b, "192.0.2.77");
	EXPECT(!xdp_run(e.prog_fd, frame, 60, &out) && out.verdict == XDP_REDIRECT,
	       "dedicated again, ARP for another address: verdict %d", out.verdict);
	xdp_env_close(&e);
}

/* Several devices want a frame: one redirect, FLOOD, no device, no hash. */
static void test_flood_one_copy(void)
{
	struct vnet_rx_result ref;
	struct xdp_out out;
	struct xdp_env e;
	__u8 frame[256];
	size_t len;

	if (open_with_device(&e))
		return;
	EXPECT(!vnet_dp_dev_add(e.dp, 1, mac_b, 2), "dev 1");
	len = build(frame, mac_bc, 0, 0, 0);
	EXPECT(!xdp_run(e.prog_fd, frame, len, &out), "test run");
	vnet_rx_classify(vnet_dp_state(e.dp), frame, len, &ref);
	EXPECT(out.verdict == XDP_REDIRECT && out.has_meta, "verdict %d", out.verdict);
	EXPECT(out.meta.flags & VNET_META_F_FLOOD && out.meta.dev == VNET_DEV_NONE &&
	       out.meta.report == VNET_HASH_REPORT_NONE, "flags %x dev %u",
	       out.meta.flags, out.meta.dev);
	EXPECT(ref.verdict == VNET_RX_FLOOD && ref.want == 3 && meta_eq(&ref.meta, &out.meta),
	       "reference verdict %d want %llx", ref.verdict, (unsigned long long)ref.want);
	EXPECT(counter(&e, VNET_DP_UPLINK_SLOT, VNET_CNT_FLOOD) == 1, "flood counter");
	/* a unicast to device 1 alone is delivered to it, not flooded */
	len = build(frame, mac_b, 0, 0, 0);
	EXPECT(!xdp_run(e.prog_fd, frame, len, &out) && out.meta.dev == 1 &&
	       !(out.meta.flags & VNET_META_F_FLOOD), "unicast to dev 1: dev %u", out.meta.dev);
	/* after removal device 1 is gone from MAC map and masks */
	EXPECT(!vnet_dp_dev_del(e.dp, 1), "dev del");
	EXPECT(!xdp_run(e.prog_fd, frame, len, &out) && out.verdict == XDP_PASS,
	       "unicast to a removed device: verdict %d", out.verdict);
	len = build(frame, mac_bc, 0, 0, 0);
	EXPECT(!xdp_run(e.prog_fd, frame, len, &out) && out.meta.dev == 0, "bc to one device");
	/* host shared: no flood redirect, the host gets it, the copy set is both */
	EXPECT(!vnet_dp_dev_add(e.dp, 1, mac_b, 2), "dev 1 again");
	EXPECT(!vnet_dp_set_host_shared(e.dp, 1), "host shared");
	EXPECT(!xdp_run(e.prog_fd, frame, len, &out) && out.verdict == XDP_PASS && !out.has_meta,
	       "shared, broadcast to two devices: verdict %d", out.verdict);
	vnet_rx_classify_copy(vnet_dp_state(e.dp), frame, len, &ref);
	EXPECT(ref.verdict == VNET_RX_FLOOD && ref.want == 3, "copy verdict %d want %llx",
	       ref.verdict, (unsigned long long)ref.want);
	EXPECT(counter(&e, VNET_DP_UPLINK_SLOT, VNET_CNT_FLOOD) == 1, "flood counted again");
	xdp_env_close(&e);
}

/* No socket on the queue: the frame goes on to the host, counted. */
static void test_no_socket_passes(void)
{
	struct xdp_out out;
	struct xdp_env e;
	__u8 frame[256];
	size_t len;

	if (open_with_device(&e))
		return;
	EXPECT(!vnet_dp_clear_xsk(e.dp, 0), "clear xsk");
	len = build(frame, mac_a, 0, 0, 0);
	EXPECT(!xdp_run(e.prog_fd, frame, len, &out) && out.verdict == XDP_PASS && !out.has_meta,
	       "verdict %d", out.verdict);
	EXPECT(counter(&e, 0, VNET_CNT_NO_SOCKET) == 1, "no_socket counter");
	xdp_env_close(&e);
}

/* Cut frames: L2 cut -> PASS + uplink malformed; cut L4 -> delivered, flagged. */
static void test_malformed(void)
{
	struct vnet_rx_result ref;
	struct xdp_out out;
	struct xdp_env e;
	__u8 frame[256];
	size_t len;

	if (open_with_device(&e))
		return;
	len = build(frame, mac_a, 2, 5, 6);
	EXPECT(!xdp_run(e.prog_fd, frame, 20, &out) && out.verdict == XDP_PASS,
	       "second tag cut: verdict %d", out.verdict);
	EXPECT(counter(&e, VNET_DP_UPLINK_SLOT, VNET_CNT_MALFORMED) == 1, "uplink malformed");
	len = build(frame, mac_a, 0, 0, 0);
	EXPECT(!xdp_run(e.prog_fd, frame, 14 + 20 + 4, &out) && out.verdict == XDP_REDIRECT &&
	       (out.meta.flags & VNET_META_F_MALFORMED), "cut UDP: verdict %d flags %x",
	       out.verdict, out.meta.flags);
	vnet_rx_classify(vnet_dp_state(e.dp), frame, 14 + 20 + 4, &ref);
	EXPECT(meta_eq(&ref.meta, &out.meta), "reference metadata differs");
	EXPECT(counter(&e, 0, VNET_CNT_MALFORMED) == 1, "device malformed");
	(void)len;
	xdp_env_close(&e);
}

/* Bad commands change nothing and say why. */
static void test_api_rejects_bad_input(void)
{
	struct vnet_rss_config rss = { .table_len = 4, .key_len = 40 };
	__u8 many[VNET_RX_MAC_TABLE_MAX + 1][6] = { { 0 } };
	struct xdp_env e;

	if (open_with_device(&e))
		return;
	EXPECT(vnet_dp_dev_add(e.dp, 0, mac_b, 1) == -EEXIST, "duplicate device");
	EXPECT(vnet_dp_dev_add(e.dp, VNET_DP_MAX_DEVS, mac_b, 1) == -EINVAL, "device slot range");
	EXPECT(vnet_dp_dev_add(e.dp, 1, mac_b, 0) == -EINVAL, "zero queue pairs");
	EXPECT(vnet_dp_set_rx_mode(e.dp, 5, VNET_RX_PROMISC, 1) == -ENODEV, "unknown device");
	EXPECT(vnet_dp_set_rx_mode(e.dp, 0, 6, 1) == -EINVAL, "unknown rx command");
	EXPECT(vnet_dp_vlan_add(e.dp, 0, 4096) == -EINVAL, "VID 4096");
	EXPECT(vnet_dp_set_queue_pairs(e.dp, 0, 0) == -EINVAL, "0 pairs");
	EXPECT(vnet_dp_set_queue_pairs(e.dp, 0, 5) == -EINVAL, "pairs > max");
	rss.table_len = 3;
	EXPECT(vnet_dp_set_rss(e.dp, 0, &rss) == -EINVAL, "table length 3");
	rss.table_len = 4;
	rss.table[2] = 4;
	EXPECT(vnet_dp_set_rss(e.dp, 0, &rss) == -EINVAL, "queue 4 of 4");
	rss.table[2] = 0;
	rss.unclassified_queue = 9;
	EXPECT(vnet_dp_set_rss(e.dp, 0, &rss) == -EINVAL, "unclassified 9");
	rss.unclassified_queue = 0;
	rss.key_len = 41;
	EXPECT(vnet_dp_set_rss(e.dp, 0, &rss) == -EINVAL, "key 41 bytes");
	EXPECT(vnet_dp_set_hash_config(e.dp, 0, 1u << 9, NULL, 0) == -EINVAL, "hash type bit 9");
	EXPECT(vnet_dp_set_mac_table(e.dp, 0, many, VNET_RX_MAC_TABLE_MAX + 1, NULL, 0) == -E2BIG,
	       "oversized MAC table");
	EXPECT(vnet_dp_set_mac_table(e.dp, 0, NULL, 1, NULL, 0) == -EINVAL, "NULL table");
	/* the device still works as before */
	{
		__u8 frame[256];
		struct xdp_out out;
		size_t len = build(frame, mac_a, 0, 0, 0);

		EXPECT(!xdp_run(e.prog_fd, frame, len, &out) && out.verdict == XDP_REDIRECT &&
		       out.meta.queue == 0, "device after refused commands");
	}
	xdp_env_close(&e);
}

static __u64 mac48(const __u8 *m)
{
	__u64 v = 0;

	for (int i = 5; i >= 0; i--)
		v = v << 8 | m[i];
	return v;
}

/*
 * MACs that all fall into one set of the MAC cache (4 ways): the fifth and
 * later live in the hash map alone and must be found there; a stranger of
 * the same set must not; after the table shrinks everything still agrees.
 */
static void test_mac_cache_overflow(void)
{
	__u8 uc[8][6], other[6] = { 0 }, frame[256];
	__u32 set = 0;
	struct xdp_out out;
	struct xdp_env e;
	int n = 0;
	size_t len;

	if (open_with_device(&e))
		return;
	for (__u32 i = 1; n < 9 && i < (1u << 24); i++) {
		__u8 m[6] = { 0x02, 0x00, 0x00, (__u8)(i >> 16), (__u8)(i >> 8), (__u8)i };

		if (!n)
			set = vnet_dp_mac_set_of(mac48(m));
		if (vnet_dp_mac_set_of(mac48(m)) != set)
			continue;
		if (n < 8)
			memcpy(uc[n], m, 6);
		else
			memcpy(other, m, 6);
		n++;
	}
	EXPECT(n == 9, "found %d MACs of one set", n);
	EXPECT(!vnet_dp_set_mac_table(e.dp, 0, uc, 8, NULL, 0), "mac table");
	for (int i = 0; i < 8; i++) {
		len = build(frame, uc[i], 0, 0, 0);
		EXPECT(!xdp_run(e.prog_fd, frame, len, &out) && out.verdict == XDP_REDIRECT &&
		       out.meta.dev == 0, "table entry %d of a full set: verdict %d", i, out.verdict);
	}
	len = build(frame, other, 0, 0, 0);
	EXPECT(!xdp_run(e.prog_fd, frame, len, &out) && out.verdict == XDP_PASS,
	       "stranger in a full set: verdict %d", out.verdict);
	/* shrink: entries 0..2 stay, the rest (incl. overflowed ones) leave */
	EXPECT(!vnet_dp_set_mac_table(e.dp, 0, uc, 3, NULL, 0), "smaller mac table");
	for (int i = 0; i < 8; i++) {
		len = build(frame, uc[i], 0, 0, 0);
		EXPECT(!xdp_run(e.prog_fd, frame, len, &out) &&
		       out.verdict == (i < 3 ? XDP_REDIRECT : XDP_PASS),
		       "after shrinking, entry %d: verdict %d", i, out.verdict);
	}
	/* and grow again, in another order */
	EXPECT(!vnet_dp_set_mac_table(e.dp, 0, uc + 2, 6, NULL, 0), "mac table again");
	for (int i = 0; i < 8; i++) {
		len = build(frame, uc[i], 0, 0, 0);
		EXPECT(!xdp_run(e.prog_fd, frame, len, &out) &&
		       out.verdict == (i >= 2 ? XDP_REDIRECT : XDP_PASS),
		       "after regrowing, entry %d: verdict %d", i, out.verdict);
	}
	xdp_env_close(&e);
}

int main(void)
{
	if (geteuid() != 0) {
		printf("SKIP: needs root\n");
		return 4;
	}
	RUN(test_rx_mode_matrix);
	RUN(test_vlan_filter);
	RUN(test_host_traffic_untouched);
	RUN(test_flood_one_copy);
	RUN(test_no_socket_passes);
	RUN(test_malformed);
	RUN(test_api_rejects_bad_input);
	RUN(test_mac_cache_overflow);
	return test_summary();
}
