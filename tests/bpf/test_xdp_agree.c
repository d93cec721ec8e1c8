// SPDX-License-Identifier: MIT
/*
 * Every receive path agrees, the XDP program included: the devices of
 * rx_agree.h go into the maps the way the uplink worker puts them there
 * (vnet_rx_conf_of, then vnet_updp_push_dev), and each frame runs through
 *   - the XDP program (BPF_PROG_TEST_RUN): verdict and metadata,
 *   - the C reference on the maps' shadow (vnet_rx_classify),
 *   - device-to-device delivery and flood replication on that shadow
 *     (vnet_rx_fanout, each device as the sender; the copy rules when the
 *     host shares the uplink),
 *   - vnet/sim's loopback decision for each device alone, configured from
 *     the same control-queue state (vnet_rx_conf_fill, vnet_rx_dev_decide).
 * The device set, and per device the queue, hash, report and flags, must
 * be the same everywhere. tests/unit/test_rx_agree.c runs the paths but
 * XDP without root, and checks the steering against the spec.
 */
#include <string.h>
#include <unistd.h>

#include "vnet/rx_conf.h"
#include "vnet/uplink_dp.h"
#include "rx_agree.h"
#include "xdp_util.h"

/* Group g's devices into the maps (slot k) and alone; n of them. */
static int group_setup(struct vnet_dp *dp, unsigned int g, enum vnet_rx_unfiltered unf,
		       unsigned int *n)
{
	unsigned int k;
	int err = 0;

	for (k = 0; k < VNET_DP_MAX_DEVS; k++)
		if (vnet_rx_dev_present(vnet_dp_state(dp), k))
			vnet_dp_dev_del(dp, k);
	for (k = 0; !err && k < AGREE_GROUP && g * AGREE_GROUP + k < AGREE_NDEVS; k++) {
		unsigned int i = g * AGREE_GROUP + k;
		const struct agree_dev *a = &agree_devs[i];
		struct vnet_rx_conf c;
		__u8 mac[6];

		agree_mac(i, mac);
		agree_configure(i, unf, &c);
		err = vnet_dp_dev_add(dp, k, mac, a->max_vqp) ?:
		      vnet_updp_push_dev(dp, k, &agree_states[i], &c, NULL, 0);
		EXPECT(!err, "%s into the maps: %s", a->name, strerror(-err));
	}
	*n = k;
	return err;
}

static void every_path(struct xdp_env *e, enum vnet_rx_unfiltered unf, int shared)
{
	const struct vnet_rx_state *s = vnet_dp_state(e->dp);
	unsigned int seed = 0x5151 + unf + 2 * shared, g, n, runs = 0, taken = 0, floods = 0;
	int err;

	err = vnet_dp_set_host_shared(e->dp, shared);
	EXPECT(!err, "host shared: %s", strerror(-err));
	for (g = 0; g * AGREE_GROUP < AGREE_NDEVS && !test_case_failed; g++) {
		if (group_setup(e->dp, g, unf, &n))
			return;
		for (unsigned int fr = 0; fr < AGREE_FRAMES; fr++) {
			struct vnet_rx_result r, rc;
			struct xdp_out out;
			__u8 frame[2048];
			size_t len = agree_frame(g, &seed, frame, sizeof(frame));

			vnet_rx_classify(s, frame, len, &r);
			/* the program, unless the test run refuses the frame (< 14 B) */
			if (len >= 14) {
				err = xdp_run(e->prog_fd, frame, len, &out);
				EXPECT(!err, "test run: %s", strerror(-err));
				runs++;
				EXPECT(out.verdict == ref_verdict(&r) &&
				       out.has_meta == (r.verdict != VNET_RX_PASS) &&
				       (!out.has_meta || agree_meta_same(&out.meta, &r.meta)) &&
				       (!out.has_meta || out.meta.dev == r.meta.dev),
				       "group %u frame %u len %zu: XDP verdict %d dev %u queue %u hash "
				       "%08x report %u; the reference %d dev %u queue %u hash %08x "
				       "report %u", g, fr, len, out.verdict, out.meta.dev,
				       out.meta.queue, out.meta.hash, out.meta.report, r.verdict,
				       r.meta.dev, r.meta.queue, r.meta.hash, r.meta.report);
			}
			/* what the devices get: with a sharing host, the copy rules */
			if (shared)
				vnet_rx_classify_copy(s, frame, len, &rc);
			else
				rc = r;
			floods += __builtin_popcountll(rc.want) > 1;
			taken += agree_check_frame(s, g, n, fr, frame, len, shared, &rc);
		}
	}
	printf("  %s, %s: %u frames through XDP, %u taken by a device, %u for several\n",
	       unf == VNET_RX_UNFILTERED_ALL ? "unfiltered: all" : "unfiltered: own",
	       shared ? "host shares the uplink" : "dedicated uplink", runs, taken, floods);
	EXPECT(runs > 10000 && taken > 10000 && floods > 1000, "too few frames compared");
}

static void test_every_path_agrees(void)
{
	struct xdp_env e;
	int err = xdp_env_open(&e, 0);

	EXPECT(!err, "datapath open: %s", strerror(-err));
	if (err)
		return;
	every_path(&e, VNET_RX_UNFILTERED_OWN, 0);
	every_path(&e, VNET_RX_UNFILTERED_ALL, 0);
	every_path(&e, VNET_RX_UNFILTERED_OWN, 1);
	xdp_env_close(&e);
}

int main(void)
{
	if (geteuid() != 0) {
		printf("SKIP: needs root\n");
		return 4;
	}
	RUN(test_every_path_agrees);
	return test_summary();
}
