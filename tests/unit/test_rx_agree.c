// SPDX-License-Identifier: MIT
/*
 * Every receive path agrees, without root (also under ASan/UBSan): the
 * devices and frames of tests/bpf/rx_agree.h through
 *   - the C reference on an uplink's devices (vnet_rx_classify),
 *   - vnet/sim's loopback decision for each device alone (the calls the sim
 *     worker makes: vnet_rx_conf_of, vnet_rx_conf_fill, vnet_rx_dev_decide),
 *   - device-to-device delivery and flood replication (vnet_rx_fanout, as
 *     the uplink engine calls it, with each device as the sender; with the
 *     host sharing the uplink, the copy rules the engine uses then),
 * which must give the same device set and, per device, the same queue,
 * hash, report and flags; and the steering is checked against the spec,
 * computed here from the device model's state with the bit-serial
 * Toeplitz definition (RSS indirection, automatic steering's
 * hash * pairs >> 32, HASH_CONFIG's report). tests/bpf/test_xdp_agree.c
 * adds the XDP program and the maps the uplink worker pushes.
 */
#include <errno.h>
#include <string.h>
#include <linux/virtio_net.h>

#include "vnet/rx_conf.h"
#include "vnet/rx_filter.h"
#include "vnet/toeplitz.h"
#include "../bpf/rx_agree.h"

static struct vnet_rx_state uplink;

/* Group g's devices into the uplink's state (slot k) and alone; n of them. */
static unsigned int group_setup(unsigned int g, enum vnet_rx_unfiltered unf)
{
	unsigned int k, n = 0;

	memset(&uplink, 0, sizeof(uplink));
	for (k = 0; k < AGREE_GROUP && g * AGREE_GROUP + k < AGREE_NDEVS; k++, n++) {
		unsigned int i = g * AGREE_GROUP + k;
		struct vnet_rx_conf c;

		agree_configure(i, unf, &c);
		vnet_rx_conf_fill(&agree_states[i], &c, agree_devs[i].max_vqp, &uplink.filter, k,
				  &uplink.dev[k]);
		uplink.present_mask |= 1ull << k;
	}
	return n;
}

/*
 * shared: the host shares the uplink, so the group frames XDP passes to
 * the host reach the devices as copies (vnet_rx_classify_copy's rules,
 * fanout with copy), and so do the devices' own frames.
 */
static void every_path(enum vnet_rx_unfiltered unf, int shared)
{
	unsigned int seed = 0x5151 + unf + 2 * shared, g, decisions = 0, taken = 0;
	unsigned int floods = 0;

	for (g = 0; g * AGREE_GROUP < AGREE_NDEVS && !test_case_failed; g++) {
		unsigned int n = group_setup(g, unf);

		uplink.cfg_flags = shared ? VNET_DP_CFG_HOST_SHARED : 0;
		for (unsigned int fr = 0; fr < AGREE_FRAMES; fr++) {
			struct vnet_rx_result r;
			__u8 frame[2048];
			size_t len = agree_frame(g, &seed, frame, sizeof(frame));

			EXPECT(!(shared ? vnet_rx_classify_copy(&uplink, frame, len, &r) :
					  vnet_rx_classify(&uplink, frame, len, &r)), "classify");
			floods += r.verdict == VNET_RX_FLOOD;
			decisions += n;
			taken += agree_check_frame(&uplink, g, n, fr, frame, len, shared, &r);
		}
	}
	printf("  %s, %s: %u decisions, %u frames taken, %u for several devices\n",
	       unf == VNET_RX_UNFILTERED_ALL ? "unfiltered: all" : "unfiltered: own",
	       shared ? "host shares the uplink" : "dedicated uplink", decisions, taken, floods);
	EXPECT(taken > 10000 && floods > 1000, "too few frames taken (%u) or flooded (%u)",
	       taken, floods);
}

static void test_every_path_agrees(void)
{
	every_path(VNET_RX_UNFILTERED_OWN, 0);
	every_path(VNET_RX_UNFILTERED_ALL, 0);
	every_path(VNET_RX_UNFILTERED_OWN, 1);
}

/*
 * The queue, hash and report the spec gives device i for a frame it
 * takes, from the device model's state: "RSS processing", "Automatic
 * receive steering in multiqueue mode" (a flow stays on one of the pairs:
 * hash * pairs >> 32 over our own hash when the driver configured none),
 * "Hash calculation for incoming packets" (HASH_CONFIG: reported).
 */
static void spec_steer(unsigned int i, const struct vnet_parsed *p, struct vnet_xdp_meta *m)
{
	const struct agree_dev *a = &agree_devs[i];
	const struct vnet_net_state *st = &agree_states[i];
	int cvq = !!(a->driver & AGREE_BIT(VIRTIO_NET_F_CTRL_VQ));
	unsigned int pairs = cvq ? st->vq_pairs : a->active_rx;
	struct vnet_hash_input in;
	const __u8 *key = st->key;
	size_t key_len = st->key_len;
	__u32 types = 0, hash = 0;
	int report, internal = 0;

	if (pairs > a->max_vqp)
		pairs = a->max_vqp;
	m->queue = 0;
	if (cvq && st->steering == VNET_STEER_RSS && (a->driver & AGREE_RSS)) {
		report = vnet_hash_input_build(p, st->hash_types, &in);
		if (report != VNET_HASH_REPORT_NONE)
			hash = vnet_toeplitz_bits(key, key_len, in.data, in.len);
		m->queue = report == VNET_HASH_REPORT_NONE ? st->unclassified_queue :
			   st->indir[hash & st->indir_mask];
		m->hash = hash;
		m->report = (__u8)report;
		return;
	}
	if (cvq && (a->driver & AGREE_REPORT))
		types = st->hash_types;
	if (!types && pairs > 1) {
		types = VNET_HASH_TYPE_ALL;
		key = vnet_rx_auto_key;
		key_len = VNET_TOEPLITZ_KEY_MAX;
		internal = 1;
	}
	report = types ? vnet_hash_input_build(p, types, &in) : VNET_HASH_REPORT_NONE;
	if (report != VNET_HASH_REPORT_NONE) {
		hash = vnet_toeplitz_bits(key, key_len, in.data, in.len);
		if (pairs > 1)
			m->queue = (__u16)(((__u64)hash * pairs) >> 32);
	}
	m->hash = internal ? 0 : hash;
	m->report = internal ? VNET_HASH_REPORT_NONE : (__u8)report;
}

static void test_steering_is_the_spec(void)
{
	unsigned int seed = 0xfeed, g, checked = 0, auto_multi = 0;

	for (g = 0; g * AGREE_GROUP < AGREE_NDEVS && !test_case_failed; g++) {
		unsigned int n = group_setup(g, VNET_RX_UNFILTERED_OWN);

		for (unsigned int fr = 0; fr < AGREE_FRAMES; fr++) {
			__u8 frame[2048];
			size_t len = agree_frame(g, &seed, frame, sizeof(frame));
			struct vnet_parsed p;

			if (vnet_parse_frame(frame, len, &p))
				continue;
			for (unsigned int k = 0; k < n; k++) {
				unsigned int i = g * AGREE_GROUP + k;
				struct vnet_xdp_meta m, want;

				if (vnet_rx_dev_decide(&agree_alone[i].f, 0, &agree_alone[i].dev, frame, len,
						       &m))
					continue;
				spec_steer(i, &p, &want);
				checked++;
				auto_multi += agree_alone[i].dev.steer.mode == VNET_STEER_AUTO && m.queue > 0;
				EXPECT(m.queue == want.queue && m.hash == want.hash &&
				       m.report == want.report,
				       "%s, frame %u: queue %u hash %08x report %u; the spec: queue %u "
				       "hash %08x report %u", agree_devs[i].name, fr, m.queue, m.hash,
				       m.report, want.queue, want.hash, want.report);
			}
		}
	}
	printf("  %u frames checked, %u steered past queue 0 automatically\n", checked,
	       auto_multi);
	EXPECT(checked > 10000 && auto_multi > 1000, "too few frames checked");
}

/*
 * gso_rx (what the uplink pushes into config.kgro, vnetd -K): a driver
 * that takes every GSO TCP frame the kernel's GRO makes, nothing less.
 */
static void test_gso_rx_needs_every_offload(void)
{
	static const unsigned int need[] = {
		VIRTIO_NET_F_GUEST_CSUM, VIRTIO_NET_F_GUEST_TSO4, VIRTIO_NET_F_GUEST_TSO6,
		VIRTIO_NET_F_GUEST_ECN,
	};
	__u64 all = 0, mrg = 1ull << VIRTIO_NET_F_MRG_RXBUF;
	struct vnet_net_state st;
	struct vnet_rx_conf c;

	memset(&st, 0, sizeof(st));
	for (unsigned int i = 0; i < 4; i++)
		all |= 1ull << need[i];
	st.guest_offloads = all;
	vnet_rx_conf_of(&st, mrg | all, 1, 1, VNET_RX_UNFILTERED_OWN, &c);
	EXPECT(c.gso_rx, "every offload and MRG_RXBUF: GSO frames");
	vnet_rx_conf_of(&st, all, 1, 1, VNET_RX_UNFILTERED_OWN, &c);
	EXPECT(!c.gso_rx, "without MRG_RXBUF: none");
	for (unsigned int i = 0; i < 4; i++) {
		st.guest_offloads = all & ~(1ull << need[i]);
		vnet_rx_conf_of(&st, mrg | all, 1, 1, VNET_RX_UNFILTERED_OWN, &c);
		EXPECT(!c.gso_rx, "offload bit %u off: none", need[i]);
	}
}

int main(void)
{
	RUN(test_every_path_agrees);
	RUN(test_gso_rx_needs_every_offload);
	RUN(test_steering_is_the_spec);
	return test_summary();
}
