// SPDX-License-Identifier: MIT
/*
 * The one receive decision of vnet (the C reference of the XDP program):
 * see include/vnet/rx_filter.h for the rules. Written for clarity; the
 * uplink runs it on the configuration shadow that daemon/uplink/datapath.c
 * keeps, so it sees exactly what the maps hold; vnet/sim runs it on its one
 * device's state (vnet_rx_dev_decide).
 */
#include <errno.h>
#include <string.h>

#include "vnet/rx_filter.h"

#define ETHERTYPE_ARP	0x0806

const __u8 vnet_rx_auto_key[VNET_TOEPLITZ_KEY_MAX] = {
	0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67,
	0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb,
	0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30,
	0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
};

static int mac_eq(const __u8 *a, const __u8 *b)
{
	return !memcmp(a, b, 6);
}

static int host_mac(const struct vnet_rx_state *s, const __u8 mac[6])
{
	for (unsigned int i = 0; i < s->n_host_macs; i++)
		if (mac_eq(s->host_macs[i], mac))
			return 1;
	return 0;
}

/* The device's primary MAC or an entry of either table (the MAC map's rule). */
static int dev_owns_mac(const struct vnet_rx_dev *dev, const __u8 mac[6])
{
	if (mac_eq(dev->mac, mac))
		return 1;
	for (unsigned int i = 0; i < dev->n_uc; i++)
		if (mac_eq(dev->uc[i], mac))
			return 1;
	for (unsigned int i = 0; i < dev->n_mc; i++)
		if (mac_eq(dev->mc[i], mac))
			return 1;
	return 0;
}

__u64 vnet_rx_mac_devs(const struct vnet_rx_state *s, const __u8 mac[6])
{
	__u64 devs = host_mac(s, mac) ? VNET_DP_HOST_BIT : 0;

	for (__u64 m = s->present_mask & ~VNET_DP_HOST_BIT; m; m &= m - 1) {
		unsigned int d = (unsigned int)__builtin_ctzll(m);

		if (dev_owns_mac(&s->dev[d], mac))
			devs |= 1ull << d;
	}
	return devs;
}

__u64 vnet_rx_vlan_devs(const struct vnet_rx_state *s, __u16 vid)
{
	__u64 devs = 0;

	vid &= VNET_VLAN_N - 1;
	for (__u64 m = s->present_mask & ~VNET_DP_HOST_BIT; m; m &= m - 1) {
		unsigned int d = (unsigned int)__builtin_ctzll(m);

		if (s->dev[d].vlans[vid / 64] >> (vid % 64) & 1)
			devs |= 1ull << d;
	}
	return devs;
}

static int arp_for_host(const struct vnet_rx_state *s, const __u8 *frame,
			size_t len, const struct vnet_parsed *p)
{
	size_t l2 = 14 + 4 * (size_t)p->vlan_tags;
	__u32 tpa;

	if (p->ethertype != ETHERTYPE_ARP || len < l2 + 28)
		return 0;
	/* Ethernet/IPv4 ARP: hlen 6, plen 4; target protocol address at 24 */
	if (frame[l2 + 4] != 6 || frame[l2 + 5] != 4)
		return 0;
	memcpy(&tpa, frame + l2 + 24, 4);
	for (unsigned int i = 0; i < s->n_host_ipv4; i++)
		if (s->host_ipv4[i] == tpa)
			return 1;
	return 0;
}

void vnet_rx_steer_derive(const struct vnet_rx_steer_req *r, struct vnet_dp_steer *st)
{
	memset(st, 0, sizeof(*st));
	st->mode = r->mode;
	st->vq_pairs = r->vq_pairs ? r->vq_pairs : 1;
	if (r->mode == VNET_STEER_RSS) {
		st->hash_types = r->hash_types;
		st->table_mask = (__u16)(r->table_len - 1);
		st->unclassified_queue = r->unclassified_queue;
		memcpy(st->table, r->table, sizeof(st->table[0]) * r->table_len);
		st->key_len = r->key_len;
		memcpy(st->key, r->key, r->key_len);
		return;
	}
	if (r->hash_types) {
		/* spec "Hash calculation": HASH_CONFIG without RSS, reported */
		st->hash_types = r->hash_types;
		st->key_len = r->key_len;
		memcpy(st->key, r->key, r->key_len);
	} else if (r->mode == VNET_STEER_AUTO) {
		/* our own flow hash: steers, never reported */
		st->hash_types = VNET_HASH_TYPE_ALL;
		st->flags = VNET_STEER_F_INTERNAL_HASH;
		st->key_len = sizeof(vnet_rx_auto_key);
		memcpy(st->key, vnet_rx_auto_key, sizeof(vnet_rx_auto_key));
	}
}

enum vnet_rx_dev_verdict vnet_rx_dev_filter(const struct vnet_dp_filter *f, unsigned int d,
					    const struct vnet_rx_dev *dev,
					    const struct vnet_parsed *p)
{
	const __u8 *dst = p->dst_mac;
	__u64 bit = 1ull << d, drop;
	__u16 vid;
	int promisc = !!(f->promisc & bit);

	if (!(f->active & bit))
		return VNET_RX_DEV_NONE;
	/* spec "Packet Receive Filtering": PROMISC beats every NO* mode */
	if (!memcmp(dst, "\xff\xff\xff\xff\xff\xff", 6)) {
		drop = f->nobcast & bit;
	} else if (dst[0] & 1) {
		if (!promisc && !(f->allmulti & bit) && !dev_owns_mac(dev, dst))
			return VNET_RX_DEV_NONE;
		drop = f->nomulti & bit;
	} else {
		if (!promisc && !(f->alluni & bit) && !dev_owns_mac(dev, dst))
			return VNET_RX_DEV_NONE;
		drop = f->nouni & bit;
	}
	if (drop && !promisc)
		return VNET_RX_DEV_MODE_DROP;
	/* spec "VLAN Filtering": with CTRL_VLAN; the outer VID decides */
	vid = p->vlan_id & (VNET_VLAN_N - 1);
	if (p->vlan_tags && (f->vlan_filter & bit) && !(dev->vlans[vid / 64] >> (vid % 64) & 1))
		return VNET_RX_DEV_VLAN_DROP;
	return VNET_RX_DEV_TAKE;
}

void vnet_rx_steer_parsed(const struct vnet_rx_dev *d,
			  const struct vnet_parsed *p, struct vnet_xdp_meta *m)
{
	const struct vnet_dp_steer *st = &d->steer;
	struct vnet_hash_input in;
	int report = VNET_HASH_REPORT_NONE;
	__u32 hash = 0;

	if (st->hash_types)
		report = vnet_hash_input_build(p, st->hash_types, &in);
	if (report != VNET_HASH_REPORT_NONE)
		hash = vnet_toeplitz_table(&d->tbl, in.data, in.len);

	m->queue = 0;
	if (st->mode == VNET_STEER_RSS) {
		/* spec "RSS processing": unhashed packets go to unclassified_queue */
		if (report != VNET_HASH_REPORT_NONE)
			m->queue = st->table[hash & st->table_mask & (VNET_RSS_TABLE_MAX - 1)];
		else
			m->queue = st->unclassified_queue;
	} else if (st->mode == VNET_STEER_AUTO && report != VNET_HASH_REPORT_NONE) {
		/* a flow always lands on the same one of the vq_pairs queues */
		m->queue = (__u16)(((__u64)hash * st->vq_pairs) >> 32);
	}
	if (st->flags & VNET_STEER_F_INTERNAL_HASH) {
		report = VNET_HASH_REPORT_NONE;
		hash = 0;
	}
	m->hash = hash;
	m->report = (__u8)report;
}

/* The metadata every delivered frame carries, before steering. */
static void meta_init(struct vnet_xdp_meta *m, __u16 dev, const struct vnet_parsed *p)
{
	memset(m, 0, sizeof(*m));
	m->dev = dev;
	m->magic = VNET_META_MAGIC;
	if (p->flags & VNET_PF_MALFORMED)
		m->flags |= VNET_META_F_MALFORMED;
	if (p->vlan_tags) {
		m->flags |= VNET_META_F_TAGGED;
		m->vlan_id = p->vlan_id;
	}
}

int vnet_rx_steer(const struct vnet_rx_state *s, unsigned int dev,
		  const void *frame, size_t len, struct vnet_xdp_meta *m)
{
	struct vnet_parsed p;
	int err;

	if (!s || !frame || !m)
		return -EINVAL;
	if (!vnet_rx_dev_present(s, dev))
		return -ENODEV;
	err = vnet_parse_frame(frame, len, &p);
	if (err)
		return err;
	meta_init(m, (__u16)dev, &p);
	vnet_rx_steer_parsed(&s->dev[dev], &p, m);
	return 0;
}

int vnet_rx_dev_decide(const struct vnet_dp_filter *f, unsigned int d,
		       const struct vnet_rx_dev *dev, const void *frame, size_t len,
		       struct vnet_xdp_meta *m)
{
	struct vnet_parsed p;

	if (!f || !dev || !frame || !m || d >= VNET_DP_MAX_DEVS)
		return -EINVAL;
	if (vnet_parse_frame(frame, len, &p))
		return -EINVAL;
	if (vnet_rx_dev_filter(f, d, dev, &p) != VNET_RX_DEV_TAKE)
		return -ENOENT;
	meta_init(m, (__u16)d, &p);
	vnet_rx_steer_parsed(dev, &p, m);
	return 0;
}

static int pass(struct vnet_rx_result *r, int reason)
{
	r->verdict = VNET_RX_PASS;
	r->pass_reason = reason;
	return 0;
}

/*
 * copy: the host has (or gets) the frame anyway, the question is only which
 * devices want it too -- rules 1a and 2 do not apply (rx_filter.h). *p is
 * the parsed frame unless the verdict is PASS for MALFORMED.
 */
static int classify(const struct vnet_rx_state *s, const void *frame, size_t len,
		    struct vnet_parsed *p, struct vnet_rx_result *r, int copy)
{
	__u64 cand = 0;
	const __u8 *dst;

	if (!s || !frame || !r)
		return -EINVAL;
	memset(r, 0, sizeof(*r));
	if (vnet_parse_frame(frame, len, p))
		return pass(r, VNET_CNT_MALFORMED);
	dst = p->dst_mac;
	/* XDP cannot clone: the host takes every group frame, vnetd a copy */
	if (!copy && (s->cfg_flags & VNET_DP_CFG_HOST_SHARED) && (dst[0] & 1))
		return pass(r, VNET_CNT_GROUP_HOST);
	if (!copy && arp_for_host(s, frame, len, p))
		return pass(r, VNET_CNT_HOST);
	/* the uplink's own MAC is the host's, even for PROMISC devices */
	if (!(dst[0] & 1) && host_mac(s, dst))
		return pass(r, VNET_CNT_HOST);

	for (__u64 m = s->present_mask & ~VNET_DP_HOST_BIT; m; m &= m - 1) {
		unsigned int d = (unsigned int)__builtin_ctzll(m);
		__u64 bit = 1ull << d;

		switch (vnet_rx_dev_filter(&s->filter, d, &s->dev[d], p)) {
		case VNET_RX_DEV_NONE:
			break;
		case VNET_RX_DEV_MODE_DROP:
			cand |= bit;
			r->mode_drop |= bit;
			break;
		case VNET_RX_DEV_VLAN_DROP:
			cand |= bit;
			r->vlan_drop |= bit;
			break;
		case VNET_RX_DEV_TAKE:
			cand |= bit;
			r->want |= bit;
			break;
		}
	}
	if (!r->want)
		return pass(r, cand ? -1 : VNET_CNT_FILTER_MAC);

	r->pass_reason = -1;
	if (r->want & (r->want - 1)) {
		meta_init(&r->meta, VNET_DEV_NONE, p);
		r->verdict = VNET_RX_FLOOD;
		r->meta.flags |= VNET_META_F_FLOOD;
		return 0;
	}
	r->verdict = VNET_RX_DELIVER;
	meta_init(&r->meta, (__u16)__builtin_ctzll(r->want), p);
	vnet_rx_steer_parsed(&s->dev[r->meta.dev], p, &r->meta);
	return 0;
}

int vnet_rx_classify(const struct vnet_rx_state *s, const void *frame,
		     size_t len, struct vnet_rx_result *r)
{
	struct vnet_parsed p;

	return classify(s, frame, len, &p, r, 0);
}

int vnet_rx_classify_copy(const struct vnet_rx_state *s, const void *frame,
			  size_t len, struct vnet_rx_result *r)
{
	struct vnet_parsed p;

	return classify(s, frame, len, &p, r, 1);
}

int vnet_rx_fanout(const struct vnet_rx_state *s, const void *frame, size_t len,
		   __u64 exclude, int copy, struct vnet_xdp_meta out[VNET_DP_MAX_DEVS])
{
	struct vnet_rx_result r;
	struct vnet_parsed p;
	__u64 want;
	int n = 0;

	if (!out)
		return -EINVAL;
	if (classify(s, frame, len, &p, &r, copy))
		return -EINVAL;
	if (r.verdict == VNET_RX_PASS)
		return r.pass_reason == VNET_CNT_MALFORMED ? -EINVAL : 0;
	/* parsed once; each device steers with its own configuration */
	for (want = r.want & ~exclude; want; want &= want - 1) {
		unsigned int d = (unsigned int)__builtin_ctzll(want);

		meta_init(&out[n], (__u16)d, &p);
		vnet_rx_steer_parsed(&s->dev[d], &p, &out[n]);
		n++;
	}
	return n;
}
