/* SPDX-License-Identifier: MIT */
/*
 * "Every receive path agrees": the devices and frames that
 * tests/unit/test_rx_agree.c (the C reference, vnet/sim's loopback
 * decision, device-to-device delivery) and tests/bpf/test_xdp_agree.c
 * (the same plus the XDP program) feed through every path.
 *
 * A device is what a driver made of it: negotiated features, the receive
 * queues it set up, and control-queue commands applied by the device
 * model itself (vnet_cvq_apply), so each path starts from the state the
 * datapath really sees. Devices run in groups of AGREE_GROUP on one
 * uplink, so frames are wanted by one, several (flood) or none of them.
 */
#ifndef VNET_TEST_RX_AGREE_H
#define VNET_TEST_RX_AGREE_H

#include <errno.h>
#include <netinet/in.h>
#include <string.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>

#include "vnet/cvq.h"
#include "vnet/rx_conf.h"
#include "vnet/rx_filter.h"
#include "frame.h"
#include "test.h"

#define AGREE_BIT(n)	(1ull << (n))
#define AGREE_BASE	(AGREE_BIT(VIRTIO_F_VERSION_1) | AGREE_BIT(VIRTIO_NET_F_MAC))
#define AGREE_CVQ	(AGREE_BASE | AGREE_BIT(VIRTIO_NET_F_CTRL_VQ) |		\
			 AGREE_BIT(VIRTIO_NET_F_CTRL_RX) |				\
			 AGREE_BIT(VIRTIO_NET_F_CTRL_RX_EXTRA) |			\
			 AGREE_BIT(VIRTIO_NET_F_MQ))
#define AGREE_VLAN	AGREE_BIT(VIRTIO_NET_F_CTRL_VLAN)
#define AGREE_REPORT	AGREE_BIT(VIRTIO_NET_F_HASH_REPORT)
#define AGREE_RSS	AGREE_BIT(VIRTIO_NET_F_RSS)

#define AGREE_GROUP	3	/* devices on one uplink at a time */
#define AGREE_FRAMES	3000	/* frames per group */

static const __u8 agree_uc1[6] = { 0x02, 0x00, 0x00, 0x00, 0x0a, 0x01 };	/* uc table */
static const __u8 agree_mc1[6] = { 0x01, 0x00, 0x5e, 0x00, 0x00, 0x01 };	/* mc table */
static const __u8 agree_mc9[6] = { 0x33, 0x33, 0x00, 0x00, 0x00, 0x09 };	/* nobody's */
static const __u8 agree_uc9[6] = { 0x02, 0x00, 0x00, 0x00, 0x0a, 0x99 };	/* nobody's */
static const __u8 agree_bc[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };

struct agree_dev {
	const char *name;
	__u64 driver;			/* negotiated features */
	__u16 max_vqp;
	__u16 active_rx;		/* receive queues the driver set up */
	unsigned int script;		/* control-queue commands: agree_script() */
};

enum {
	S_NONE, S_PAIRS2, S_PAIRS3_ALLMULTI, S_PAIRS8_PROMISC, S_TABLE_NOBCAST,
	S_ALLUNI_NOMULTI, S_NOUNI, S_VLAN, S_HASH, S_HASH_PAIRS4, S_RSS_TCP,
	S_RSS_ALL, S_RSS_THEN_PAIRS3, S_TABLE_OVERFLOW, S_PAIRS5_PROMISC_VLAN,
};

static const struct agree_dev agree_devs[] = {
	/* front-ends that keep the control queue (QEMU style): the device
	 * steers by flow over the receive queues the driver enabled */
	{ "no control queue, 1 queue", AGREE_BASE, 4, 1, S_NONE },
	{ "no control queue, 3 queues", AGREE_BASE, 4, 3, S_NONE },
	{ "no control queue, 4 of 8 queues", AGREE_BASE, 8, 4, S_NONE },
	{ "reset state", AGREE_CVQ, 4, 4, S_NONE },
	{ "MQ 2 pairs", AGREE_CVQ, 4, 4, S_PAIRS2 },
	{ "MQ 3 pairs, ALLMULTI", AGREE_CVQ, 4, 4, S_PAIRS3_ALLMULTI },
	{ "MQ 8 pairs, PROMISC", AGREE_CVQ, 8, 8, S_PAIRS8_PROMISC },
	{ "MAC table, NOBCAST", AGREE_CVQ, 2, 2, S_TABLE_NOBCAST },
	{ "ALLUNI + NOMULTI, MQ 4", AGREE_CVQ, 4, 4, S_ALLUNI_NOMULTI },
	{ "NOUNI", AGREE_CVQ, 1, 1, S_NOUNI },
	{ "VLAN 10 and 20, ALLMULTI", AGREE_CVQ | AGREE_VLAN, 2, 2, S_VLAN },
	{ "HASH_CONFIG only, 1 pair", AGREE_CVQ | AGREE_REPORT, 4, 4, S_HASH },
	{ "HASH_CONFIG, MQ 4 pairs", AGREE_CVQ | AGREE_REPORT, 4, 4, S_HASH_PAIRS4 },
	{ "RSS TCP only, unclassified 2", AGREE_CVQ | AGREE_RSS | AGREE_REPORT, 4, 4,
	  S_RSS_TCP },
	{ "RSS all types, no HASH_REPORT", AGREE_CVQ | AGREE_RSS, 8, 8, S_RSS_ALL },
	{ "RSS, then MQ 3 pairs", AGREE_CVQ | AGREE_RSS | AGREE_REPORT, 4, 4,
	  S_RSS_THEN_PAIRS3 },
	{ "MAC table overflow (ALLUNI)", AGREE_CVQ, 2, 2, S_TABLE_OVERFLOW },
	{ "MQ 5 pairs, PROMISC, VLAN 10, HASH_REPORT",
	  AGREE_CVQ | AGREE_VLAN | AGREE_REPORT, 8, 5, S_PAIRS5_PROMISC_VLAN },
};

#define AGREE_NDEVS	(sizeof(agree_devs) / sizeof(agree_devs[0]))

static inline void agree_mac(unsigned int i, __u8 mac[6])
{
	static const __u8 base[6] = { 0x02, 0x00, 0x00, 0x00, 0x01, 0x00 };

	memcpy(mac, base, 6);
	mac[5] = (__u8)i;
}

/* One command as the driver writes it: class, command, data. */
static inline void agree_cmd(struct vnet_net_state *st, const struct vnet_cvq_ctx *ctx,
			     __u8 cls, __u8 cmd, const void *data, size_t len)
{
	__u8 buf[1024];
	__u32 changed;
	int ret;

	buf[0] = cls;
	buf[1] = cmd;
	memcpy(buf + 2, data, len);
	ret = vnet_cvq_apply(st, ctx, buf, len + 2, &changed);
	EXPECT(ret == VIRTIO_NET_OK, "control command %u/%u refused", cls, cmd);
}

static inline void agree_rx(struct vnet_net_state *st, const struct vnet_cvq_ctx *ctx,
			    __u8 cmd)
{
	__u8 on = 1;

	agree_cmd(st, ctx, VIRTIO_NET_CTRL_RX, cmd, &on, 1);
}

static inline void agree_pairs(struct vnet_net_state *st, const struct vnet_cvq_ctx *ctx,
			       __u16 pairs)
{
	__u8 d[2] = { (__u8)pairs, (__u8)(pairs >> 8) };

	agree_cmd(st, ctx, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, d, 2);
}

static inline void agree_vlan(struct vnet_net_state *st, const struct vnet_cvq_ctx *ctx,
			      __u16 vid)
{
	__u8 d[2] = { (__u8)vid, (__u8)(vid >> 8) };

	agree_cmd(st, ctx, VIRTIO_NET_CTRL_VLAN, VIRTIO_NET_CTRL_VLAN_ADD, d, 2);
}

static inline void agree_put_le32(__u8 *p, __u32 v)
{
	p[0] = (__u8)v, p[1] = (__u8)(v >> 8), p[2] = (__u8)(v >> 16), p[3] = (__u8)(v >> 24);
}

/* MAC_TABLE_SET: n_uc unicast addresses (agree_uc1 first), agree_mc1. */
static inline void agree_table(struct vnet_net_state *st, const struct vnet_cvq_ctx *ctx,
			       unsigned int n_uc)
{
	__u8 d[8 + 6 * 41];
	size_t off = 4;

	agree_put_le32(d, n_uc);
	for (unsigned int i = 0; i < n_uc; i++, off += 6) {
		memcpy(d + off, agree_uc1, 6);
		d[off + 4] = (__u8)(0x0a + i / 256);
		d[off + 5] = (__u8)(1 + i);
	}
	agree_put_le32(d + off, 1);
	memcpy(d + off + 4, agree_mc1, 6);
	agree_cmd(st, ctx, VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_TABLE_SET, d, off + 10);
}

static inline void agree_key(__u8 *key, unsigned int seed)
{
	for (int i = 0; i < VNET_TOEPLITZ_KEY_MAX; i++)
		key[i] = (__u8)test_rand(&seed);
}

/* HASH_CONFIG: types, 8 reserved bytes, key */
static inline void agree_hash(struct vnet_net_state *st, const struct vnet_cvq_ctx *ctx,
			      __u32 types, __u8 key_len)
{
	__u8 d[13 + VNET_TOEPLITZ_KEY_MAX] = { 0 };

	agree_put_le32(d, types);
	d[12] = key_len;
	agree_key(d + 13, 0x5eed);
	agree_cmd(st, ctx, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_HASH_CONFIG, d,
		  13 + (size_t)key_len);
}

/* RSS_CONFIG: types, mask, unclassified, table, max_tx_vq, key */
static inline void agree_rss(struct vnet_net_state *st, const struct vnet_cvq_ctx *ctx,
			     __u32 types, __u16 entries, __u16 unclassified, __u16 queues)
{
	__u8 d[8 + 2 * VNET_RSS_INDIR_MAX + 3 + VNET_TOEPLITZ_KEY_MAX];
	size_t off = 8;

	agree_put_le32(d, types);
	d[4] = (__u8)(entries - 1), d[5] = (__u8)((entries - 1) >> 8);
	d[6] = (__u8)unclassified, d[7] = 0;
	for (unsigned int i = 0; i < entries; i++, off += 2) {
		d[off] = (__u8)((i * 7 + 1) % queues);
		d[off + 1] = 0;
	}
	d[off] = (__u8)queues, d[off + 1] = 0;
	d[off + 2] = VNET_TOEPLITZ_KEY_MAX;
	agree_key(d + off + 3, 0xa55);
	agree_cmd(st, ctx, VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_RSS_CONFIG, d,
		  off + 3 + VNET_TOEPLITZ_KEY_MAX);
}

/* Device i's control-queue state after its driver's commands. */
static inline void agree_state(unsigned int i, struct vnet_net_state *st)
{
	const struct agree_dev *a = &agree_devs[i];
	struct vnet_cvq_ctx ctx = { .features = a->driver, .max_vqp = a->max_vqp };
	__u8 mac[6];

	agree_mac(i, mac);
	memset(st, 0, sizeof(*st));
	vnet_net_state_reset(st, mac, a->driver);
	switch (a->script) {
	case S_PAIRS2:
		agree_pairs(st, &ctx, 2);
		break;
	case S_PAIRS3_ALLMULTI:
		agree_pairs(st, &ctx, 3);
		agree_rx(st, &ctx, VIRTIO_NET_CTRL_RX_ALLMULTI);
		break;
	case S_PAIRS8_PROMISC:
		agree_pairs(st, &ctx, 8);
		agree_rx(st, &ctx, VIRTIO_NET_CTRL_RX_PROMISC);
		agree_rx(st, &ctx, VIRTIO_NET_CTRL_RX_NOUNI);
		break;
	case S_TABLE_NOBCAST:
		agree_table(st, &ctx, 1);
		agree_rx(st, &ctx, VIRTIO_NET_CTRL_RX_NOBCAST);
		agree_pairs(st, &ctx, 2);
		break;
	case S_ALLUNI_NOMULTI:
		agree_rx(st, &ctx, VIRTIO_NET_CTRL_RX_ALLUNI);
		agree_rx(st, &ctx, VIRTIO_NET_CTRL_RX_NOMULTI);
		agree_pairs(st, &ctx, 4);
		break;
	case S_NOUNI:
		agree_rx(st, &ctx, VIRTIO_NET_CTRL_RX_NOUNI);
		break;
	case S_VLAN:
		agree_vlan(st, &ctx, 10);
		agree_vlan(st, &ctx, 20);
		agree_rx(st, &ctx, VIRTIO_NET_CTRL_RX_ALLMULTI);
		agree_pairs(st, &ctx, 2);
		break;
	case S_HASH:
		agree_hash(st, &ctx, VNET_HASH_TYPE_TCPv4 | VNET_HASH_TYPE_UDPv4 |
			   VNET_HASH_TYPE_TCPv6 | VNET_HASH_TYPE_IPv6, 40);
		break;
	case S_HASH_PAIRS4:
		agree_pairs(st, &ctx, 4);
		agree_hash(st, &ctx, VNET_HASH_TYPE_ALL, 24);
		break;
	case S_RSS_TCP:
		agree_rss(st, &ctx, VNET_HASH_TYPE_TCPv4 | VNET_HASH_TYPE_TCPv6, 8, 2, 4);
		break;
	case S_RSS_ALL:
		agree_rss(st, &ctx, VNET_HASH_TYPE_ALL, 128, 0, 8);
		break;
	case S_RSS_THEN_PAIRS3:
		agree_rss(st, &ctx, VNET_HASH_TYPE_IPv4 | VNET_HASH_TYPE_UDPv6, 16, 1, 4);
		agree_pairs(st, &ctx, 3);
		break;
	case S_TABLE_OVERFLOW:
		agree_table(st, &ctx, 40);
		break;
	case S_PAIRS5_PROMISC_VLAN:
		agree_pairs(st, &ctx, 5);
		agree_rx(st, &ctx, VIRTIO_NET_CTRL_RX_PROMISC);
		agree_vlan(st, &ctx, 10);
		agree_hash(st, &ctx, VNET_HASH_TYPE_TCPv4 | VNET_HASH_TYPE_UDPv4, 40);
		break;
	default:
		break;
	}
}


/*
 * A frame for group g (devices g*AGREE_GROUP...): any layout
 * frame_spec_random makes, to a destination that matters to the group
 * (a member's MAC, the tables, groups, nobody), VLAN IDs the filters
 * know; one in eight cut at a random length.
 */
static inline size_t agree_frame(unsigned int g, unsigned int *seed, __u8 *frame, size_t cap)
{
	struct frame_spec s;
	size_t len;
	__u32 r;

	frame_spec_random(&s, seed);
	r = test_rand(seed);
	switch (r % 10) {
	case 0: case 1: case 2: case 3:
		agree_mac(g * AGREE_GROUP + (r >> 4) % AGREE_GROUP, s.dst_mac);
		break;
	case 4: memcpy(s.dst_mac, agree_uc1, 6); break;
	case 5: memcpy(s.dst_mac, agree_mc1, 6); break;
	case 6: memcpy(s.dst_mac, agree_bc, 6); break;
	case 7: memcpy(s.dst_mac, agree_mc9, 6); break;
	case 8: memcpy(s.dst_mac, agree_uc9, 6); break;
	default: break;		/* frame_spec_random's own */
	}
	if (s.vlan_tags && (r >> 8) % 2)
		s.vid[0] = (r >> 9) % 3 == 0 ? 10 : (r >> 9) % 3 == 1 ? 20 : 30;
	len = frame_build(&s, frame, cap);
	if (len && (r >> 12) % 8 == 0)
		len = test_rand(seed) % len;
	return len;
}

/* Device i as vnet/sim holds it: alone, slot 0 of a filter of its own. */
struct agree_alone {
	struct vnet_dp_filter f;
	struct vnet_rx_dev dev;
};

static struct vnet_net_state agree_states[AGREE_NDEVS];
static struct agree_alone agree_alone[AGREE_NDEVS];

/* Device i's state, its configuration *c and the device alone. */
static inline void agree_configure(unsigned int i, enum vnet_rx_unfiltered unf,
				   struct vnet_rx_conf *c)
{
	const struct agree_dev *a = &agree_devs[i];

	agree_state(i, &agree_states[i]);
	vnet_rx_conf_of(&agree_states[i], a->driver, a->active_rx, a->max_vqp, unf, c);
	memset(&agree_alone[i].f, 0, sizeof(agree_alone[i].f));
	vnet_rx_conf_fill(&agree_states[i], c, a->max_vqp, &agree_alone[i].f, 0,
			  &agree_alone[i].dev);
}

static inline int agree_meta_same(const struct vnet_xdp_meta *a, const struct vnet_xdp_meta *b)
{
	return a->queue == b->queue && a->hash == b->hash && a->report == b->report &&
	       a->flags == b->flags && a->vlan_id == b->vlan_id && a->magic == b->magic;
}

/*
 * One frame, frame number fr of group g: the n devices of the group on
 * uplink state s (slot k = device g * AGREE_GROUP + k) took what rc says
 * (the reference's answer for the devices: vnet_rx_classify_copy's when
 * the host shares the uplink). vnet/sim's decision for each device alone,
 * the fanout of flood replication and device to device (each device the
 * sender in turn) must say the same, queue, hash and report included.
 * Returns how many devices took the frame.
 */
static inline unsigned int agree_check_frame(const struct vnet_rx_state *s, unsigned int g,
					     unsigned int n, unsigned int fr, const __u8 *frame,
					     size_t len, int shared,
					     const struct vnet_rx_result *rc)
{
	struct vnet_xdp_meta all[VNET_DP_MAX_DEVS], part[VNET_DP_MAX_DEVS];
	unsigned int k, taken = 0;
	int nall, j = 0;

	nall = vnet_rx_fanout(s, frame, len, 0, shared, all);
	EXPECT(nall == (rc->verdict == VNET_RX_PASS && rc->pass_reason == VNET_CNT_MALFORMED ?
			-EINVAL : __builtin_popcountll(rc->want)),
	       "group %u frame %u: fanout %d, the reference wants %llx", g, fr, nall,
	       (unsigned long long)rc->want);
	for (k = 0; k < n; k++) {
		unsigned int i = g * AGREE_GROUP + k;
		int ref = rc->want >> k & 1, sim, np;
		struct vnet_xdp_meta m;

		sim = !vnet_rx_dev_decide(&agree_alone[i].f, 0, &agree_alone[i].dev, frame, len,
					  &m);
		EXPECT(sim == ref, "%s, frame %u len %zu: vnet/sim %s it, the uplink %s",
		       agree_devs[i].name, fr, len, sim ? "takes" : "drops",
		       ref ? "takes" : "drops");
		/* device to device: device k sent it, the others decide */
		np = vnet_rx_fanout(s, frame, len, 1ull << k, shared, part);
		if (nall >= 0)
			EXPECT(np == nall - ref, "%s sending frame %u: %d receivers of %d",
			       agree_devs[i].name, fr, np, nall);
		if (!sim || !ref)
			continue;
		taken++;
		EXPECT(j < nall && all[j].dev == k && agree_meta_same(&m, &all[j]),
		       "%s, frame %u: vnet/sim queue %u hash %08x report %u flags %x, fanout "
		       "dev %u queue %u hash %08x report %u flags %x", agree_devs[i].name, fr,
		       m.queue, m.hash, m.report, m.flags, all[j].dev, all[j].queue, all[j].hash,
		       all[j].report, all[j].flags);
		if (rc->verdict == VNET_RX_DELIVER)
			EXPECT(rc->meta.dev == k && agree_meta_same(&m, &rc->meta),
			       "%s, frame %u: vnet/sim queue %u hash %08x, the reference queue %u "
			       "hash %08x", agree_devs[i].name, fr, m.queue, m.hash, rc->meta.queue,
			       rc->meta.hash);
		j++;
	}
	return taken;
}

#endif
