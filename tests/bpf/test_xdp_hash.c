// SPDX-License-Identifier: MIT
/*
 * The XDP program against the references, through BPF_PROG_TEST_RUN:
 *  - the 16 Microsoft Toeplitz values (shared/testdata/toeplitz-ms.json)
 *    come out of the program as meta.hash, in the table build and in the
 *    bit-loop build;
 *  - >= 100,000 generated frames (random tuples, VLAN/QinQ, IPv6 extension
 *    chains with HAO and type-2 routing, IPv4 options and fragments,
 *    truncations) across devices in RSS, automatic and hash-report-only
 *    modes: verdict, device, queue, hash, report and flags equal the C
 *    reference (rx_filter.c on classify.c), with the uplink dedicated
 *    (even rounds) and shared with the host (odd rounds: group frames PASS).
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "frame.h"
#include "toeplitz_vectors.h"
#include "test.h"
#include "xdp_util.h"

static const __u8 mac_dev[4][6] = {
	{ 0x02, 0x00, 0x00, 0x00, 0x10, 0x00 },
	{ 0x02, 0x00, 0x00, 0x00, 0x10, 0x01 },
	{ 0x02, 0x00, 0x00, 0x00, 0x10, 0x02 },
	{ 0x02, 0x00, 0x00, 0x00, 0x10, 0x03 },
};
static const __u8 mac_host[6] = { 0x02, 0x00, 0x00, 0x00, 0x99, 0x99 };
static const __u8 mac_mc[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x07 };
static const __u8 mac_uc_extra[6] = { 0x02, 0x00, 0x00, 0x00, 0x20, 0x01 };

static void rss_all_to_queue0(struct vnet_rss_config *rss, __u32 types,
			      const __u8 *key, int key_len)
{
	memset(rss, 0, sizeof(*rss));
	rss->hash_types = types;
	rss->table_len = 1;
	rss->key_len = (__u8)key_len;
	memcpy(rss->key, key, (size_t)key_len);
}

/* The program reproduces the spec's reference values, both Toeplitz builds. */
static void ms_vectors(int bitloop)
{
	static struct toeplitz_vectors tv;
	struct vnet_rss_config rss;
	struct xdp_env e;
	int checked = 0, err;

	EXPECT(toeplitz_vectors_load(&tv) == 0, "cannot read %s", tv.path);
	EXPECT(tv.key_len == 40, "key length %zu", tv.key_len);
	if (!tv.count || tv.key_len != 40)
		return;
	err = xdp_env_open(&e, bitloop);
	EXPECT(!err, "datapath open: %s", strerror(-err));
	if (err)
		return;
	err = vnet_dp_dev_add(e.dp, 0, mac_dev[0], 4);
	EXPECT(!err, "dev add: %d", err);

	for (int l4 = 0; l4 < 2; l4++) {
		/* TCP frames; the L4 types hash with ports, the IP types without */
		__u32 types = l4 ? VNET_HASH_TYPE_TCPv4 | VNET_HASH_TYPE_TCPv6
				 : VNET_HASH_TYPE_IPv4 | VNET_HASH_TYPE_IPv6;

		rss_all_to_queue0(&rss, types, tv.key, (int)tv.key_len);
		err = vnet_dp_set_rss(e.dp, 0, &rss);
		EXPECT(!err, "set rss: %d", err);
		for (unsigned int i = 0; i < tv.count; i++) {
			const struct toeplitz_vector *v = &tv.v[i];
			__u32 want = l4 ? v->hash_l4 : v->hash_ip;
			struct frame_spec s;
			struct xdp_out out;
			__u8 frame[256];
			size_t len;

			frame_spec_default(&s);
			memcpy(s.dst_mac, mac_dev[0], 6);
			s.ip = v->ip;
			memcpy(s.src, v->src, 16);
			memcpy(s.dst, v->dst, 16);
			s.l4 = IPPROTO_TCP;
			s.sport = v->sport;
			s.dport = v->dport;
			len = frame_build(&s, frame, sizeof(frame));
			err = xdp_run(e.prog_fd, frame, len, &out);
			EXPECT(!err && out.verdict == XDP_REDIRECT && out.has_meta,
			       "vector %u: err %d verdict %d meta %d", i, err, out.verdict, out.has_meta);
			EXPECT(out.meta.hash == want, "vector %u %s: program 0x%08x, want 0x%08x",
			       i, l4 ? "l4" : "ip", out.meta.hash, want);
			EXPECT(out.meta.report == (s.ip == 4 ? (l4 ? VNET_HASH_REPORT_TCPv4 : VNET_HASH_REPORT_IPv4)
							      : (l4 ? VNET_HASH_REPORT_TCPv6 : VNET_HASH_REPORT_IPv6)),
			       "vector %u: report %u", i, out.meta.report);
			checked++;
		}
	}
	printf("  %d values reproduced by the %s build (vectors from %s)\n", checked,
	       bitloop ? "bit-loop" : "table", tv.path);
	EXPECT(checked == 16, "expected 16 values, checked %d", checked);
	xdp_env_close(&e);
}

static void test_ms_vectors_table(void)
{
	ms_vectors(0);
}

static void test_ms_vectors_bitloop(void)
{
	ms_vectors(1);
}

static void random_key(__u8 *key, unsigned int *seed)
{
	for (int i = 0; i < VNET_TOEPLITZ_KEY_MAX; i++)
		key[i] = (__u8)test_rand(seed);
}

/*
 * Four devices that between them take every path: RSS over a 128-entry
 * table, automatic steering with our internal hash, hash report without
 * RSS, and a VLAN-filtering ALLMULTI device. Reconfigured per round.
 */
static int configure(struct vnet_dp *dp, unsigned int *seed)
{
	struct vnet_rss_config rss = { 0 };
	__u8 key[VNET_TOEPLITZ_KEY_MAX];
	__u8 uc[1][6], mc[1][6];
	int err;

	rss.hash_types = test_rand(seed) & VNET_HASH_TYPE_ALL;
	rss.table_len = 1u << (test_rand(seed) % 8);	/* 1..128 */
	rss.unclassified_queue = (__u16)(test_rand(seed) % 8);
	for (int i = 0; i < rss.table_len; i++)
		rss.table[i] = (__u16)(test_rand(seed) % 8);
	rss.key_len = 40;
	random_key(rss.key, seed);
	err = vnet_dp_set_rss(dp, 0, &rss);
	if (err)
		return err;

	err = vnet_dp_set_queue_pairs(dp, 1, (__u16)(2 + test_rand(seed) % 6));
	if (err)
		return err;

	random_key(key, seed);
	err = vnet_dp_set_hash_config(dp, 2, test_rand(seed) & VNET_HASH_TYPE_ALL,
				      key, 20 + test_rand(seed) % 21);
	if (err)
		return err;
	memcpy(uc[0], mac_uc_extra, 6);
	memcpy(mc[0], mac_mc, 6);
	err = vnet_dp_set_mac_table(dp, 2, uc, 1, mc, 1);
	if (err)
		return err;

	err = vnet_dp_set_rx_mode(dp, 3, VNET_RX_ALLMULTI, 1) ?:
	      vnet_dp_set_vlan_filter(dp, 3, (int)(test_rand(seed) & 1));
	for (int i = 0; !err && i < 8; i++)
		err = vnet_dp_vlan_add(dp, 3, (__u16)(test_rand(seed) % 4096));
	return err;
}

static void pick_dst(__u8 *dst, unsigned int *seed)
{
	switch (test_rand(seed) % 8) {
	case 0: case 1: case 2:
		memcpy(dst, mac_dev[test_rand(seed) % 4], 6);
		break;
	case 3: memcpy(dst, "\xff\xff\xff\xff\xff\xff", 6); break;
	case 4: memcpy(dst, mac_mc, 6); break;
	case 5: memcpy(dst, mac_uc_extra, 6); break;
	case 6: memcpy(dst, mac_host, 6); break;
	default: break;		/* frame_spec_random's own address */
	}
}

static void test_random_frames_match_reference(void)
{
	unsigned int seed = 0xc0ffee;
	int n = 0, redirected = 0, hashed = 0, truncated = 0, group_pass = 0, err;
	int reports[VNET_HASH_REPORT_MAX + 1] = { 0 };
	const struct vnet_rx_state *st;
	struct xdp_env e;

	err = xdp_env_open(&e, 0);
	EXPECT(!err, "datapath open: %s", strerror(-err));
	if (err)
		return;
	st = vnet_dp_state(e.dp);
	for (unsigned int d = 0; d < 4; d++) {
		err = vnet_dp_dev_add(e.dp, d, mac_dev[d], 8);
		EXPECT(!err, "dev add %u: %d", d, err);
	}
	err = vnet_dp_set_host_mac(e.dp, mac_host, 1);
	EXPECT(!err, "host mac: %d", err);

	for (int round = 0; round < 20 && !test_case_failed; round++) {
		err = configure(e.dp, &seed);
		EXPECT(!err, "configure round %d: %d", round, err);
		/* odd rounds: the host shares the uplink, group frames PASS */
		err = vnet_dp_set_host_shared(e.dp, round & 1);
		EXPECT(!err, "host shared round %d: %d", round, err);
		for (int i = 0; i < 5400; i++) {
			struct vnet_rx_result ref;
			struct frame_spec s;
			struct xdp_out out;
			__u8 frame[2048];
			size_t len;

			frame_spec_random(&s, &seed);
			pick_dst(s.dst_mac, &seed);
			len = frame_build(&s, frame, sizeof(frame));
			if (!len)
				continue;
			if (test_rand(&seed) % 4 == 0) {
				len = test_rand(&seed) % len;
				truncated++;
			}
			vnet_rx_classify(st, frame, len, &ref);
			if (len < 14) {
				/* BPF_PROG_TEST_RUN refuses these; the reference passes them */
				EXPECT(ref.verdict == VNET_RX_PASS, "short frame not passed");
				continue;
			}
			err = xdp_run(e.prog_fd, frame, len, &out);
			EXPECT(!err, "test run: %s", strerror(-err));
			n++;
			EXPECT(out.verdict == ref_verdict(&ref),
			       "round %d frame %d len %zu: verdict %d, reference %d",
			       round, i, len, out.verdict, ref.verdict);
			EXPECT(out.has_meta == (ref.verdict != VNET_RX_PASS),
			       "round %d frame %d: metadata present %d", round, i, out.has_meta);
			group_pass += ref.pass_reason == VNET_CNT_GROUP_HOST;
			if (ref.verdict == VNET_RX_PASS || !out.has_meta)
				continue;
			redirected++;
			hashed += ref.meta.report != VNET_HASH_REPORT_NONE;
			reports[ref.meta.report % (VNET_HASH_REPORT_MAX + 1)]++;
			EXPECT(meta_eq(&out.meta, &ref.meta),
			       "round %d frame %d len %zu: program dev %u q %u hash %08x rep %u fl %x vid %u,"
			       " reference dev %u q %u hash %08x rep %u fl %x vid %u",
			       round, i, len, out.meta.dev, out.meta.queue, out.meta.hash,
			       out.meta.report, out.meta.flags, out.meta.vlan_id,
			       ref.meta.dev, ref.meta.queue, ref.meta.hash, ref.meta.report,
			       ref.meta.flags, ref.meta.vlan_id);
		}
	}
	printf("  %d frames (%d truncated), %d redirected, %d hashed, %d group to the host;"
	       " per report:", n, truncated, redirected, hashed, group_pass);
	for (int r = 0; r <= VNET_HASH_REPORT_MAX; r++)
		printf(" %s=%d", vnet_hash_report_name(r), reports[r]);
	printf("\n");
	EXPECT(n >= 100000, "only %d frames compared", n);
	EXPECT(group_pass >= 1000, "only %d group frames passed to a sharing host", group_pass);
	/* the mix reached every report type, so every selection rule was compared */
	for (int r = 0; r <= VNET_HASH_REPORT_MAX; r++)
		EXPECT(reports[r] > 0, "report %s never seen", vnet_hash_report_name(r));
	xdp_env_close(&e);
}

int main(void)
{
	if (geteuid() != 0) {
		printf("SKIP: needs root\n");
		return 4;
	}
	RUN(test_ms_vectors_table);
	RUN(test_ms_vectors_bitloop);
	RUN(test_random_frames_match_reference);
	return test_summary();
}
