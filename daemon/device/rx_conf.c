// SPDX-License-Identifier: MIT
/*
 * A device's receive configuration from its control-queue state: the one
 * derivation every datapath uses (include/vnet/rx_conf.h). No locks here:
 * callers pass a published state (vnet_netdev_state) under dev->lock.
 */
#include <string.h>
#include <linux/virtio_net.h>

#include "vnet/rx_conf.h"

#define BIT(n)		(1ull << (n))

void vnet_rx_conf_of(const struct vnet_net_state *st, __u64 driver, unsigned int active_rx,
		     __u16 max_vqp, enum vnet_rx_unfiltered unfiltered, struct vnet_rx_conf *c)
{
	bool cvq = driver & BIT(VIRTIO_NET_F_CTRL_VQ);
	bool ctrl_rx = cvq && (driver & BIT(VIRTIO_NET_F_CTRL_RX));
	struct vnet_rx_steer_req *r = &c->steer;
	unsigned int pairs = st->vq_pairs;

	memset(c, 0, sizeof(*c));
	if (ctrl_rx) {
		c->mode[VNET_RX_PROMISC] = st->promisc;
		/* spec 5.1.6.5.2 footnote: a table too long -> all-multi/all-uni */
		c->mode[VNET_RX_ALLMULTI] = st->allmulti || st->mc_overflow;
		c->mode[VNET_RX_ALLUNI] = st->alluni || st->uc_overflow;
		c->mode[VNET_RX_NOMULTI] = st->nomulti;
		c->mode[VNET_RX_NOUNI] = st->nouni;
		c->mode[VNET_RX_NOBCAST] = st->nobcast;
	} else if (unfiltered == VNET_RX_UNFILTERED_ALL) {
		c->mode[VNET_RX_PROMISC] = 1;
	} else {
		c->mode[VNET_RX_ALLMULTI] = 1;
	}
	/* spec "VLAN Filtering": only a driver with CTRL_VLAN has a filter */
	c->vlan_filter = cvq && (driver & BIT(VIRTIO_NET_F_CTRL_VLAN));
	c->gso_rx = (driver & BIT(VIRTIO_NET_F_MRG_RXBUF)) &&
		    (st->guest_offloads & BIT(VIRTIO_NET_F_GUEST_CSUM)) &&
		    (st->guest_offloads & BIT(VIRTIO_NET_F_GUEST_TSO4)) &&
		    (st->guest_offloads & BIT(VIRTIO_NET_F_GUEST_TSO6)) &&
		    (st->guest_offloads & BIT(VIRTIO_NET_F_GUEST_ECN));

	/* a front-end that keeps the control queue uses the receive queues
	 * it enabled, steered by flow (rx_conf.h) */
	if (!cvq)
		pairs = active_rx;
	if (!pairs)
		pairs = 1;
	if (pairs > max_vqp)
		pairs = max_vqp;
	r->vq_pairs = (__u16)pairs;
	if (cvq && st->steering == VNET_STEER_RSS && (driver & BIT(VIRTIO_NET_F_RSS))) {
		/* spec "Setting RSS parameters" (validated by cvq.c) */
		r->mode = VNET_STEER_RSS;
		r->hash_types = st->hash_types;
		r->table_len = (__u16)(st->indir_mask + 1u);
		r->unclassified_queue = st->unclassified_queue;
		memcpy(r->table, st->indir, sizeof(r->table[0]) * r->table_len);
		r->key_len = st->key_len;
		memcpy(r->key, st->key, st->key_len);
		return;
	}
	r->mode = pairs > 1 ? VNET_STEER_AUTO : VNET_STEER_SINGLE;
	/* hash parameters only matter with HASH_REPORT (spec "Hash
	 * calculation for incoming packets"); after RSS_CONFIG they are
	 * RSS's own until a HASH_CONFIG (cvq.c) */
	if (cvq && (driver & BIT(VIRTIO_NET_F_HASH_REPORT))) {
		r->hash_types = st->hash_types;
		r->key_len = st->key_len;
		memcpy(r->key, st->key, st->key_len);
	}
}

static void bit_set(__u64 *mask, unsigned int d, bool on)
{
	if (on)
		*mask |= 1ull << d;
	else
		*mask &= ~(1ull << d);
}

void vnet_rx_conf_fill(const struct vnet_net_state *st, const struct vnet_rx_conf *c,
		       __u16 max_vqp, struct vnet_dp_filter *f, unsigned int d,
		       struct vnet_rx_dev *dev)
{
	unsigned int n_uc = st->n_uc, n_mc = st->n_mc, w;

	bit_set(&f->active, d, true);
	bit_set(&f->promisc, d, c->mode[VNET_RX_PROMISC]);
	bit_set(&f->allmulti, d, c->mode[VNET_RX_ALLMULTI]);
	bit_set(&f->alluni, d, c->mode[VNET_RX_ALLUNI]);
	bit_set(&f->nomulti, d, c->mode[VNET_RX_NOMULTI]);
	bit_set(&f->nouni, d, c->mode[VNET_RX_NOUNI]);
	bit_set(&f->nobcast, d, c->mode[VNET_RX_NOBCAST]);
	bit_set(&f->vlan_filter, d, c->vlan_filter);

	memcpy(dev->mac, st->mac, 6);
	dev->max_vq_pairs = max_vqp;
	if (n_uc > VNET_RX_MAC_TABLE_MAX)
		n_uc = VNET_RX_MAC_TABLE_MAX;
	if (n_mc > VNET_RX_MAC_TABLE_MAX)
		n_mc = VNET_RX_MAC_TABLE_MAX;
	dev->n_uc = n_uc;
	dev->n_mc = n_mc;
	memcpy(dev->uc, st->macs, 6 * (size_t)n_uc);
	memcpy(dev->mc, st->macs + st->n_uc, 6 * (size_t)n_mc);
	for (w = 0; w < VNET_VLAN_N / 64; w++)
		dev->vlans[w] = vnet_rx_conf_vlan_word(st, w);
	vnet_rx_steer_derive(&c->steer, &dev->steer);
	vnet_toeplitz_expand(dev->steer.key, dev->steer.key_len, &dev->tbl);
}
