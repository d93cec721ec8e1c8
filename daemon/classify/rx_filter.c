// SPDX-License-Identifier: MIT
/*
 * The C reference of the uplink receive decision: see include/vnet/rx_filter.h
 * for the rules. Written for clarity; it runs on the configuration shadow
 * that daemon/uplink/datapath.c keeps, so it sees exactly what the maps hold.
 */
#include <errno.h>
#include <string.h>

#include "vnet/rx_filter.h"

#define ETHERTYPE_ARP	0x0806

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

__u64 vnet_rx_mac_devs(const struct vnet_rx_state *s, const __u8 mac[6])
{
	__u64 devs = host_mac(s, mac) ? VNET_DP_HOST_BIT : 0;

	for (__u64 m = s->present_mask & ~VNET_DP_HOST_BIT; m; m &= m - 1) {
		unsigned int d = (unsigned int)__builtin_ctzll(m);
		const struct vnet_rx_dev *dev = &s->dev[d];
		int hit = mac_eq(dev->mac, mac);

		for (unsigned int i = 0; !hit && i < dev->n_uc; i++)
			hit = mac_eq(dev->uc[i], mac);
		for (unsigned int i = 0; !hit && i < dev->n_mc; i++)
			hit = mac_eq(dev->mc[i], mac);
		if (hit)
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
	memset(m, 0, sizeof(*m));
	vnet_rx_steer_parsed(&s->dev[dev], &p, m);
	m->dev = (__u16)dev;
	m->magic = VNET_META_MAGIC;
	if (p.flags & VNET_PF_MALFORMED)
		m->flags |= VNET_META_F_MALFORMED;
	if (p.vlan_tags) {
		m->flags |= VNET_META_F_TAGGED;
		m->vlan_id = p.vlan_id;
	}
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
 * devices want it too -- rules 1a and 2 do not apply (rx_filter.h).
 */
static int classify(const struct vnet_rx_state *s, const void *frame,
		    size_t len, struct vnet_rx_result *r, int copy)
{
	const struct vnet_dp_filter *f;
	struct vnet_parsed p;
	__u64 devs, cand;
	const __u8 *dst;
	int bcast, mcast;

	if (!s || !frame || !r)
		return -EINVAL;
	memset(r, 0, sizeof(*r));
	f = &s->filter;
	if (vnet_parse_frame(frame, len, &p))
		return pass(r, VNET_CNT_MALFORMED);
	/* XDP cannot clone: the host takes every group frame, vnetd a copy */
	if (!copy && (s->cfg_flags & VNET_DP_CFG_HOST_SHARED) && (p.dst_mac[0] & 1))
		return pass(r, VNET_CNT_GROUP_HOST);
	if (!copy && arp_for_host(s, frame, len, &p))
		return pass(r, VNET_CNT_HOST);

	dst = p.dst_mac;
	devs = vnet_rx_mac_devs(s, dst);
	bcast = !memcmp(dst, "\xff\xff\xff\xff\xff\xff", 6);
	mcast = !bcast && (dst[0] & 1);

	/* spec "Packet Receive Filtering": PROMISC beats every NO* mode */
	if (bcast) {
		cand = f->active;
		r->mode_drop = cand & f->nobcast & ~f->promisc;
	} else if (mcast) {
		cand = f->active & (devs | f->allmulti | f->promisc);
		r->mode_drop = cand & f->nomulti & ~f->promisc;
	} else {
		if (devs & VNET_DP_HOST_BIT)
			return pass(r, VNET_CNT_HOST);
		cand = f->active & (devs | f->alluni | f->promisc);
		r->mode_drop = cand & f->nouni & ~f->promisc;
	}
	r->want = cand & ~r->mode_drop;
	/* spec "VLAN Filtering": with CTRL_VLAN; the outer VID decides */
	if (p.vlan_tags) {
		r->vlan_drop = r->want & f->vlan_filter & ~vnet_rx_vlan_devs(s, p.vlan_id);
		r->want &= ~r->vlan_drop;
	}
	if (!r->want)
		return pass(r, cand ? -1 : VNET_CNT_FILTER_MAC);

	r->pass_reason = -1;
	r->meta.magic = VNET_META_MAGIC;
	if (p.flags & VNET_PF_MALFORMED)
		r->meta.flags |= VNET_META_F_MALFORMED;
	if (p.vlan_tags) {
		r->meta.flags |= VNET_META_F_TAGGED;
		r->meta.vlan_id = p.vlan_id;
	}
	if (r->want & (r->want - 1)) {
		r->verdict = VNET_RX_FLOOD;
		r->meta.dev = VNET_DEV_NONE;
		r->meta.flags |= VNET_META_F_FLOOD;
		return 0;
	}
	r->verdict = VNET_RX_DELIVER;
	r->meta.dev = (__u16)__builtin_ctzll(r->want);
	vnet_rx_steer_parsed(&s->dev[r->meta.dev], &p, &r->meta);
	return 0;
}

int vnet_rx_classify(const struct vnet_rx_state *s, const void *frame,
		     size_t len, struct vnet_rx_result *r)
{
	return classify(s, frame, len, r, 0);
}

int vnet_rx_classify_copy(const struct vnet_rx_state *s, const void *frame,
			  size_t len, struct vnet_rx_result *r)
{
	return classify(s, frame, len, r, 1);
}
