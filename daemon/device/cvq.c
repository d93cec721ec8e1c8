// SPDX-License-Identifier: MIT
/*
 * Control-queue commands (spec 5.1.6.5). Every command is validated in full
 * (feature negotiated, exact length, values in range) before anything is
 * written, so a rejected command changes nothing.
 */
#include <endian.h>
#include <errno.h>
#include <string.h>
#include <linux/virtio_net.h>

#include "vnet/cvq.h"
#include "vnet/net.h"

#define BIT(n)		(1ull << (n))
#define HAS(ctx, f)	(!!((ctx)->features & BIT(f)))

static __u16 get_le16(const __u8 *p)
{
	return (__u16)(p[0] | p[1] << 8);
}

static __u32 get_le32(const __u8 *p)
{
	return (__u32)p[0] | (__u32)p[1] << 8 | (__u32)p[2] << 16 | (__u32)p[3] << 24;
}

void vnet_net_state_reset(struct vnet_net_state *st, const __u8 mac[6],
			  __u64 features)
{
	__u32 version = st->version;
	__u8 keep_mac[6];

	/* 'mac' may point into *st (reset to the current MAC) */
	memcpy(keep_mac, mac, 6);
	memset(st, 0, sizeof(*st));
	memcpy(st->mac, keep_mac, 6);
	st->vq_pairs = 1;
	st->max_tx_vq = 1;
	/* spec 5.1.6.5.6.1: negotiation enables the corresponding offloads */
	st->guest_offloads = features & VNET_GUEST_OFFLOADS;
	st->version = version + 1;
}

int vnet_net_state_vlan_ok(const struct vnet_net_state *st, __u16 vid)
{
	return vid < VNET_VLAN_N && (st->vlans[vid / 32] & (1u << (vid % 32)));
}

static int rx_mode(struct vnet_net_state *st, const struct vnet_cvq_ctx *ctx,
		   __u8 cmd, const __u8 *d, size_t len, __u32 *changed)
{
	__u8 *field;

	if (!HAS(ctx, VIRTIO_NET_F_CTRL_RX) || len != 1 || d[0] > 1)
		return -EINVAL;
	/* 5.1.6.5.1: the ALLUNI..NOBCAST commands need CTRL_RX_EXTRA */
	if (cmd > VIRTIO_NET_CTRL_RX_ALLMULTI && !HAS(ctx, VIRTIO_NET_F_CTRL_RX_EXTRA))
		return -EINVAL;
	switch (cmd) {
	case VIRTIO_NET_CTRL_RX_PROMISC:	field = &st->promisc; break;
	case VIRTIO_NET_CTRL_RX_ALLMULTI:	field = &st->allmulti; break;
	case VIRTIO_NET_CTRL_RX_ALLUNI:		field = &st->alluni; break;
	case VIRTIO_NET_CTRL_RX_NOMULTI:	field = &st->nomulti; break;
	case VIRTIO_NET_CTRL_RX_NOUNI:		field = &st->nouni; break;
	case VIRTIO_NET_CTRL_RX_NOBCAST:	field = &st->nobcast; break;
	default:
		return -EINVAL;
	}
	*field = d[0];
	*changed |= VNET_CHG_RX_MODE;
	return 0;
}

static int mac_table_set(struct vnet_net_state *st, const __u8 *d, size_t len,
			 __u32 *changed)
{
	__u32 n_uc, n_mc;
	size_t uc_bytes, off;
	unsigned int i, kept = 0;
	__u8 uc_over = 0, mc_over = 0;

	/* 5.1.6.5.2: le32 n, n unicast MACs, le32 m, m multicast MACs: exact */
	if (len < 8)
		return -EINVAL;
	n_uc = get_le32(d);
	if (n_uc > (len - 8) / 6)
		return -EINVAL;
	uc_bytes = (size_t)n_uc * 6;
	n_mc = get_le32(d + 4 + uc_bytes);
	if (n_mc > (len - 8 - uc_bytes) / 6 || 8 + uc_bytes + (size_t)n_mc * 6 != len)
		return -EINVAL;
	/* a multicast address in the unicast list (or the reverse) is bad */
	for (i = 0; i < n_uc; i++)
		if (d[4 + i * 6] & 1)
			return -EINVAL;
	off = 8 + uc_bytes;
	for (i = 0; i < n_mc; i++)
		if (!(d[off + i * 6] & 1))
			return -EINVAL;

	if (n_uc > VNET_MAC_TABLE_MAX / 2)
		uc_over = 1;
	if (n_mc > VNET_MAC_TABLE_MAX / 2)
		mc_over = 1;
	for (i = 0; !uc_over && i < n_uc; i++)
		memcpy(st->macs[kept++], d + 4 + i * 6, 6);
	st->n_uc = (__u16)kept;
	for (i = 0; !mc_over && i < n_mc; i++)
		memcpy(st->macs[kept++], d + off + i * 6, 6);
	st->n_mc = (__u16)(kept - st->n_uc);
	st->uc_overflow = uc_over;
	st->mc_overflow = mc_over;
	*changed |= VNET_CHG_MAC_TABLE;
	return 0;
}

static int mac_cmd(struct vnet_net_state *st, const struct vnet_cvq_ctx *ctx,
		   __u8 cmd, const __u8 *d, size_t len, __u32 *changed)
{
	static const __u8 zero[6];

	switch (cmd) {
	case VIRTIO_NET_CTRL_MAC_TABLE_SET:
		/* 5.1.6.5.2: MAC class commands need CTRL_RX */
		if (!HAS(ctx, VIRTIO_NET_F_CTRL_RX))
			return -EINVAL;
		return mac_table_set(st, d, len, changed);
	case VIRTIO_NET_CTRL_MAC_ADDR_SET:
		if (!HAS(ctx, VIRTIO_NET_F_CTRL_MAC_ADDR) || len != 6)
			return -EINVAL;
		/* a station address is neither multicast nor all zero */
		if ((d[0] & 1) || !memcmp(d, zero, 6))
			return -EINVAL;
		memcpy(st->mac, d, 6);
		*changed |= VNET_CHG_MAC;
		return 0;
	}
	return -EINVAL;
}

static int vlan_cmd(struct vnet_net_state *st, const struct vnet_cvq_ctx *ctx,
		    __u8 cmd, const __u8 *d, size_t len, __u32 *changed)
{
	__u16 vid;

	if (!HAS(ctx, VIRTIO_NET_F_CTRL_VLAN) || len != 2)
		return -EINVAL;
	vid = get_le16(d);
	if (vid >= VNET_VLAN_N)
		return -EINVAL;
	if (cmd == VIRTIO_NET_CTRL_VLAN_ADD)
		st->vlans[vid / 32] |= 1u << (vid % 32);
	else if (cmd == VIRTIO_NET_CTRL_VLAN_DEL)
		st->vlans[vid / 32] &= ~(1u << (vid % 32));
	else
		return -EINVAL;
	*changed |= VNET_CHG_VLAN;
	return 0;
}

static int announce_cmd(const struct vnet_cvq_ctx *ctx, __u8 cmd, size_t len,
			__u32 *changed)
{
	if (!HAS(ctx, VIRTIO_NET_F_GUEST_ANNOUNCE) ||
	    cmd != VIRTIO_NET_CTRL_ANNOUNCE_ACK || len != 0)
		return -EINVAL;
	/* 5.1.6.5.4: the device clears S_ANNOUNCE before using the buffer */
	*changed |= VNET_CHG_ANNOUNCE_ACK;
	return 0;
}

/* The key tail shared by RSS_CONFIG and HASH_CONFIG: u8 len, key bytes. */
static int parse_key(const __u8 *d, size_t len, size_t off, __u8 *key_len)
{
	if (off + 1 > len)
		return -EINVAL;
	*key_len = d[off];
	/* the driver may not exceed rss_max_key_size; the length is exact */
	if (*key_len > VNET_RSS_KEY_MAX || off + 1 + *key_len != len)
		return -EINVAL;
	return 0;
}

static int rss_config(struct vnet_net_state *st, const struct vnet_cvq_ctx *ctx,
		      const __u8 *d, size_t len, __u32 *changed)
{
	__u32 types;
	__u16 mask, unclassified, max_tx, entries, i;
	size_t off;
	__u8 key_len;

	/* 5.1.6.5.7.1 */
	if (!HAS(ctx, VIRTIO_NET_F_RSS) || len < 8)
		return -EINVAL;
	types = get_le32(d);
	mask = get_le16(d + 4);
	unclassified = get_le16(d + 6);
	entries = (__u16)(mask + 1);
	/* mask + 1 must be a power of two, and below the table length */
	if (mask >= VNET_RSS_INDIR_MAX || (entries & mask))
		return -EINVAL;
	if (types & ~VNET_SUPPORTED_HASH_TYPES)
		return -EINVAL;
	off = 8 + (size_t)entries * 2;
	if (off + 2 > len)
		return -EINVAL;
	max_tx = get_le16(d + off);
	if (parse_key(d, len, off + 2, &key_len))
		return -EINVAL;
	/* only indices of queues the device has (receiveq1 is index 0) */
	if (unclassified >= ctx->max_vqp || max_tx < 1 || max_tx > ctx->max_vqp)
		return -EINVAL;
	for (i = 0; i < entries; i++)
		if (get_le16(d + 8 + i * 2) >= ctx->max_vqp)
			return -EINVAL;

	st->steering = VNET_STEER_RSS;
	st->hash_types = types;
	st->indir_mask = mask;
	st->unclassified_queue = unclassified;
	memset(st->indir, 0, sizeof(st->indir));
	for (i = 0; i < entries; i++)
		st->indir[i] = get_le16(d + 8 + i * 2);
	st->max_tx_vq = max_tx;
	/* RSS_CONFIG has the effect of VQ_PAIRS_SET too (virtio_net.h) */
	st->vq_pairs = max_tx;
	st->key_len = key_len;
	memset(st->key, 0, sizeof(st->key));
	memcpy(st->key, d + off + 3, key_len);
	*changed |= VNET_CHG_STEERING;
	return 0;
}

static int hash_config(struct vnet_net_state *st, const struct vnet_cvq_ctx *ctx,
		       const __u8 *d, size_t len, __u32 *changed)
{
	__u32 types;
	__u8 key_len;
	int i;

	/* 5.1.6.5.6.4 "Hash calculation": needs HASH_REPORT */
	if (!HAS(ctx, VIRTIO_NET_F_HASH_REPORT) || len < 13)
		return -EINVAL;
	types = get_le32(d);
	if (types & ~VNET_SUPPORTED_HASH_TYPES)
		return -EINVAL;
	for (i = 0; i < 8; i++)		/* reserved MUST be zero */
		if (d[4 + i])
			return -EINVAL;
	if (parse_key(d, len, 12, &key_len))
		return -EINVAL;

	/* hash parameters without RSS steering: the device steers itself
	 * (automatic steering when more than one pair is active) */
	if (st->steering == VNET_STEER_RSS)
		st->steering = st->vq_pairs > 1 ? VNET_STEER_AUTO : VNET_STEER_SINGLE;
	st->hash_types = types;
	st->key_len = key_len;
	memset(st->key, 0, sizeof(st->key));
	memcpy(st->key, d + 13, key_len);
	*changed |= VNET_CHG_STEERING;
	return 0;
}

static int mq_cmd(struct vnet_net_state *st, const struct vnet_cvq_ctx *ctx,
		  __u8 cmd, const __u8 *d, size_t len, __u32 *changed)
{
	__u16 pairs;

	switch (cmd) {
	case VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET:
		if (!HAS(ctx, VIRTIO_NET_F_MQ) || len != 2)
			return -EINVAL;
		pairs = get_le16(d);
		/* 5.1.6.5.5: 1 ..= max_virtqueue_pairs */
		if (pairs < VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MIN || pairs > ctx->max_vqp)
			return -EINVAL;
		st->vq_pairs = pairs;
		st->max_tx_vq = pairs;
		st->steering = pairs > 1 ? VNET_STEER_AUTO : VNET_STEER_SINGLE;
		*changed |= VNET_CHG_STEERING;
		return 0;
	case VIRTIO_NET_CTRL_MQ_RSS_CONFIG:
		return rss_config(st, ctx, d, len, changed);
	case VIRTIO_NET_CTRL_MQ_HASH_CONFIG:
		return hash_config(st, ctx, d, len, changed);
	}
	return -EINVAL;
}

static int offloads_cmd(struct vnet_net_state *st, const struct vnet_cvq_ctx *ctx,
			__u8 cmd, const __u8 *d, size_t len, __u32 *changed)
{
	__u64 off;

	if (!HAS(ctx, VIRTIO_NET_F_CTRL_GUEST_OFFLOADS) ||
	    cmd != VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET || len != 8)
		return -EINVAL;
	off = (__u64)get_le32(d) | (__u64)get_le32(d + 4) << 32;
	/* 5.1.6.5.6.1: only offloads whose feature was negotiated */
	if (off & ~(ctx->features & VNET_GUEST_OFFLOADS))
		return -EINVAL;
	st->guest_offloads = off;
	*changed |= VNET_CHG_OFFLOADS;
	return 0;
}

static int coal_cmd(struct vnet_net_state *st, const struct vnet_cvq_ctx *ctx,
		    __u8 cmd, const __u8 *d, size_t len, __u32 *changed)
{
	if (!HAS(ctx, VIRTIO_NET_F_NOTF_COAL) || len != 8)
		return -EINVAL;
	if (cmd == VIRTIO_NET_CTRL_NOTF_COAL_TX_SET) {
		st->tx_max_packets = get_le32(d);
		st->tx_usecs = get_le32(d + 4);
	} else if (cmd == VIRTIO_NET_CTRL_NOTF_COAL_RX_SET) {
		st->rx_max_packets = get_le32(d);
		st->rx_usecs = get_le32(d + 4);
	} else {
		return -EINVAL;
	}
	*changed |= VNET_CHG_COAL;
	return 0;
}

int vnet_cvq_apply(struct vnet_net_state *st, const struct vnet_cvq_ctx *ctx,
		   const void *cmd, size_t len, __u32 *changed)
{
	/* work on a copy: a command that fails half way changes nothing */
	struct vnet_net_state tmp;
	const __u8 *b = cmd;
	__u32 chg = 0;
	int err;

	*changed = 0;
	if (len < 2 || !(ctx->features & BIT(VIRTIO_NET_F_CTRL_VQ)))
		return VIRTIO_NET_ERR;
	memcpy(&tmp, st, sizeof(tmp));
	switch (b[0]) {
	case VIRTIO_NET_CTRL_RX:
		err = rx_mode(&tmp, ctx, b[1], b + 2, len - 2, &chg);
		break;
	case VIRTIO_NET_CTRL_MAC:
		err = mac_cmd(&tmp, ctx, b[1], b + 2, len - 2, &chg);
		break;
	case VIRTIO_NET_CTRL_VLAN:
		err = vlan_cmd(&tmp, ctx, b[1], b + 2, len - 2, &chg);
		break;
	case VIRTIO_NET_CTRL_ANNOUNCE:
		err = announce_cmd(ctx, b[1], len - 2, &chg);
		break;
	case VIRTIO_NET_CTRL_MQ:
		err = mq_cmd(&tmp, ctx, b[1], b + 2, len - 2, &chg);
		break;
	case VIRTIO_NET_CTRL_GUEST_OFFLOADS:
		err = offloads_cmd(&tmp, ctx, b[1], b + 2, len - 2, &chg);
		break;
	case VIRTIO_NET_CTRL_NOTF_COAL:
		err = coal_cmd(&tmp, ctx, b[1], b + 2, len - 2, &chg);
		break;
	default:
		err = -EINVAL;
	}
	if (err)
		return VIRTIO_NET_ERR;
	tmp.version++;
	memcpy(st, &tmp, sizeof(tmp));
	*changed = chg;
	return VIRTIO_NET_OK;
}
