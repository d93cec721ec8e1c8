// SPDX-License-Identifier: MIT
/*
 * The virtio-net device model (spec 5.1): features, config space, status,
 * reset, link and announce, control-queue state publication, the transport
 * it is bound to. Ring state: vring.c; guest memory: dev_mem.c.
 */
#include <endian.h>
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>

#include "vnet/log.h"
#include "device_int.h"

#define BIT(n)	(1ull << (n))

struct vnet_features vnet_netdev_default_features(void)
{
	/*
	 * IN_ORDER (spec 2.7.9): the engine uses buffers in ring order; DPDK's
	 * virtio driver takes its cheaper in-order paths with it. RING_PACKED
	 * (2.8): the engine runs either layout. Nothing above bit 63 yet.
	 */
	return vnet_features_from_u64(BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_RING_F_EVENT_IDX) |
	       BIT(VIRTIO_RING_F_INDIRECT_DESC) | BIT(VIRTIO_F_IN_ORDER) |
	       BIT(VIRTIO_F_RING_PACKED) |
	       BIT(VIRTIO_NET_F_MAC) | BIT(VIRTIO_NET_F_MTU) |
	       BIT(VIRTIO_NET_F_STATUS) | BIT(VIRTIO_NET_F_SPEED_DUPLEX) |
	       BIT(VIRTIO_NET_F_MRG_RXBUF) |
	       BIT(VIRTIO_NET_F_CSUM) | BIT(VIRTIO_NET_F_GUEST_CSUM) |
	       /* receive coalescing (engine/gro.c) */
	       BIT(VIRTIO_NET_F_GUEST_TSO4) | BIT(VIRTIO_NET_F_GUEST_TSO6) |
	       BIT(VIRTIO_NET_F_GUEST_ECN) |
	       BIT(VIRTIO_NET_F_HOST_TSO4) | BIT(VIRTIO_NET_F_HOST_TSO6) |
	       BIT(VIRTIO_NET_F_HOST_ECN) | BIT(VIRTIO_NET_F_HOST_USO) |
	       BIT(VIRTIO_NET_F_CTRL_VQ) | BIT(VIRTIO_NET_F_CTRL_RX) |
	       BIT(VIRTIO_NET_F_CTRL_RX_EXTRA) | BIT(VIRTIO_NET_F_CTRL_VLAN) |
	       BIT(VIRTIO_NET_F_GUEST_ANNOUNCE) | BIT(VIRTIO_NET_F_MQ) |
	       BIT(VIRTIO_NET_F_CTRL_MAC_ADDR) | BIT(VIRTIO_NET_F_CTRL_GUEST_OFFLOADS) |
	       BIT(VIRTIO_NET_F_NOTF_COAL) | BIT(VIRTIO_NET_F_HASH_REPORT) |
	       BIT(VIRTIO_NET_F_RSS));
}

/*
 * spec 5.1.3.1 "Feature bit requirements" (virtio-net v1.4), one row per
 * rule: 'bit' needs at least one of 'needs' (any) or every one (all).
 */
#define RULE_NEEDS_MAX	4

static const struct feature_rule {
	__u8 bit;
	bool all;
	__u8 n;
	__u8 needs[RULE_NEEDS_MAX];
	const char *why;
} feature_rules[] = {
#define NBITS(...)	(sizeof((const __u8[]){ __VA_ARGS__ }))
#define ANY(b, ...) { b, false, NBITS(__VA_ARGS__), { __VA_ARGS__ }, \
		      #b " requires one of " #__VA_ARGS__ }
#define ALL(b, ...) { b, true, NBITS(__VA_ARGS__), { __VA_ARGS__ }, #b " requires " #__VA_ARGS__ }
	ALL(VIRTIO_NET_F_GUEST_TSO4, VIRTIO_NET_F_GUEST_CSUM),
	ALL(VIRTIO_NET_F_GUEST_TSO6, VIRTIO_NET_F_GUEST_CSUM),
	ANY(VIRTIO_NET_F_GUEST_ECN, VIRTIO_NET_F_GUEST_TSO4, VIRTIO_NET_F_GUEST_TSO6),
	ALL(VIRTIO_NET_F_GUEST_UFO, VIRTIO_NET_F_GUEST_CSUM),
	ALL(VIRTIO_NET_F_GUEST_USO4, VIRTIO_NET_F_GUEST_CSUM),
	ALL(VIRTIO_NET_F_GUEST_USO6, VIRTIO_NET_F_GUEST_CSUM),
	ALL(VIRTIO_NET_F_GUEST_UDP_TUNNEL_GSO, VIRTIO_NET_F_GUEST_TSO4, VIRTIO_NET_F_GUEST_TSO6,
	    VIRTIO_NET_F_GUEST_USO4, VIRTIO_NET_F_GUEST_USO6),
	ALL(VIRTIO_NET_F_GUEST_UDP_TUNNEL_GSO_CSUM, VIRTIO_NET_F_GUEST_UDP_TUNNEL_GSO),
	ALL(VIRTIO_NET_F_HOST_TSO4, VIRTIO_NET_F_CSUM),
	ALL(VIRTIO_NET_F_HOST_TSO6, VIRTIO_NET_F_CSUM),
	ANY(VIRTIO_NET_F_HOST_ECN, VIRTIO_NET_F_HOST_TSO4, VIRTIO_NET_F_HOST_TSO6),
	ALL(VIRTIO_NET_F_HOST_UFO, VIRTIO_NET_F_CSUM),
	ALL(VIRTIO_NET_F_HOST_USO, VIRTIO_NET_F_CSUM),
	ALL(VIRTIO_NET_F_HOST_UDP_TUNNEL_GSO, VIRTIO_NET_F_HOST_TSO4, VIRTIO_NET_F_HOST_TSO6,
	    VIRTIO_NET_F_HOST_USO),
	ALL(VIRTIO_NET_F_HOST_UDP_TUNNEL_GSO_CSUM, VIRTIO_NET_F_HOST_UDP_TUNNEL_GSO),
	ALL(VIRTIO_NET_F_CTRL_RX, VIRTIO_NET_F_CTRL_VQ),
	ALL(VIRTIO_NET_F_CTRL_VLAN, VIRTIO_NET_F_CTRL_VQ),
	ALL(VIRTIO_NET_F_GUEST_ANNOUNCE, VIRTIO_NET_F_CTRL_VQ),
	ALL(VIRTIO_NET_F_MQ, VIRTIO_NET_F_CTRL_VQ),
	ALL(VIRTIO_NET_F_CTRL_MAC_ADDR, VIRTIO_NET_F_CTRL_VQ),
	ALL(VIRTIO_NET_F_NOTF_COAL, VIRTIO_NET_F_CTRL_VQ),
	ANY(VIRTIO_NET_F_RSC_EXT, VIRTIO_NET_F_HOST_TSO4, VIRTIO_NET_F_HOST_TSO6),
	ALL(VIRTIO_NET_F_RSS, VIRTIO_NET_F_CTRL_VQ),
	ALL(VIRTIO_NET_F_VQ_NOTF_COAL, VIRTIO_NET_F_CTRL_VQ),
	/* CTRL_VQ along with RSS or HASH_REPORT: two rows */
	ALL(VIRTIO_NET_F_HASH_TUNNEL, VIRTIO_NET_F_CTRL_VQ),
	ANY(VIRTIO_NET_F_HASH_TUNNEL, VIRTIO_NET_F_RSS, VIRTIO_NET_F_HASH_REPORT),
	ALL(VIRTIO_NET_F_RSS_CONTEXT, VIRTIO_NET_F_CTRL_VQ, VIRTIO_NET_F_RSS),
	/* not in the table, but CTRL_RX_EXTRA commands are CTRL_RX ones */
	ALL(VIRTIO_NET_F_CTRL_RX_EXTRA, VIRTIO_NET_F_CTRL_RX),
#undef ALL
#undef ANY
#undef NBITS
};

static bool rule_kept(const struct feature_rule *r, const struct vnet_features *f)
{
	unsigned int i, have = 0;

	if (!vnet_features_has(f, r->bit))
		return true;
	for (i = 0; i < r->n; i++)
		have += vnet_features_has(f, r->needs[i]);
	return r->all ? have == r->n : have > 0;
}

int vnet_net_features_check(const struct vnet_features *f, const char **why)
{
	size_t i;

	for (i = 0; i < sizeof(feature_rules) / sizeof(feature_rules[0]); i++) {
		if (!rule_kept(&feature_rules[i], f)) {
			if (why)
				*why = feature_rules[i].why;
			return -EINVAL;
		}
	}
	return 0;
}

struct vnet_features vnet_net_features_closure(const struct vnet_features *f)
{
	struct vnet_features r = *f;
	bool dropped;

	do {
		dropped = false;
		for (size_t i = 0; i < sizeof(feature_rules) / sizeof(feature_rules[0]); i++) {
			if (!rule_kept(&feature_rules[i], &r)) {
				vnet_features_clear(&r, feature_rules[i].bit);
				dropped = true;
			}
		}
	} while (dropped);
	return r;
}

int vnet_netdev_create(const struct vnet_netdev_params *p, struct vnet_netdev **out)
{
	struct vnet_netdev *dev;
	const char *why;
	unsigned int i;

	if (p->max_vqp < 1 || p->max_vqp > VNET_NETDEV_MAX_VQP)
		return -EINVAL;
	/* spec 5.1.4.1: 68 <= mtu <= 65535 */
	if (p->mtu && p->mtu < 68)
		return -EINVAL;
	if (p->mac[0] & 1)
		return -EINVAL;
	if (vnet_net_features_check(&p->features, &why)) {
		pr_warn("%s: offered features break a rule: %s\n", p->name, why);
		return -EINVAL;
	}
	dev = calloc(1, sizeof(*dev));
	if (!dev)
		return -ENOMEM;
	dev->params = *p;
	if (!dev->params.mtu)
		dev->params.mtu = 1500;
	if (!dev->params.speed)
		dev->params.speed = 0xffffffff;
	dev->offered_set = vnet_features_empty(&p->features) ? vnet_netdev_default_features() :
							      p->features;
	/* one pair: MQ/RSS still work, with max_virtqueue_pairs == 1 */
	dev->nvrings = 2u * p->max_vqp + 1;
	for (i = 0; i < VNET_NETDEV_MAX_VRINGS; i++) {
		dev->vrings[i].kick_fd = dev->vrings[i].call_fd = -1;
		dev->vrings[i].err_fd = -1;
	}
	/* no memory yet: the transport's cleanup must not close fd 0 */
	for (i = 0; i < VNET_MAX_MEM_REGIONS; i++)
		dev->mem.regions[i].fd = -1;
	dev->link_up = true;
	pthread_mutex_init(&dev->lock, NULL);
	vnet_net_state_reset(&dev->state[0], dev->params.mac, 0);
	dev->state[1] = dev->state[0];
	*out = dev;
	return 0;
}

void vnet_netdev_destroy(struct vnet_netdev *dev)
{
	unsigned int i;

	if (!dev)
		return;
	for (i = 0; i < VNET_NETDEV_MAX_VRINGS; i++)
		vnet_vring_forget(&dev->vrings[i]);
	vnet_netdev_mem_clear(dev);
	vnet_netdev_log_clear(dev);
	pthread_mutex_destroy(&dev->lock);
	free(dev);
}

void vnet_netdev_set_worker_ops(struct vnet_netdev *dev, const struct vnet_netdev_ops *ops,
			     void *opaque)
{
	dev->wops = ops;
	dev->wops_opaque = opaque;
}

void vnet_netdev_bind_transport(struct vnet_netdev *dev, struct vnet_transport *t,
				vnet_notify_fn *notify, vnet_config_changed_fn *config_changed)
{
	vnet_netdev_lock_ctl(dev);
	dev->transport = t;
	dev->tr_notify = notify;
	dev->tr_config_changed = config_changed;
	pthread_mutex_unlock(&dev->lock);
}

void vnet_netdev_config_changed(struct vnet_netdev *dev)
{
	if (dev->tr_config_changed)
		dev->tr_config_changed(dev->transport);
}

/* Publish a new control state: write the spare copy, then flip. */
static void state_publish(struct vnet_netdev *dev, const struct vnet_net_state *st,
			  __u32 changed)
{
	unsigned int spare = dev->cur ^ 1;

	dev->state[spare] = *st;
	__atomic_store_n(&dev->cur, spare, __ATOMIC_RELEASE);
	if (changed && dev->wops && dev->wops->state_changed)
		dev->wops->state_changed(dev, changed, dev->wops_opaque);
}

int vnet_netdev_set_driver_features(struct vnet_netdev *dev, const struct vnet_features *f)
{
	struct vnet_features extra = vnet_features_andnot(f, &dev->offered_set);
	const char *why = NULL;
	char buf[40];

	if (!vnet_features_empty(&extra)) {
		vnet_features_format(&extra, buf, sizeof(buf));
		pr_info("%s: driver accepts features not offered: %s\n", dev->params.name, buf);
		return -EINVAL;
	}
	if (vnet_net_features_check(f, &why)) {
		pr_info("%s: driver features break a rule: %s\n", dev->params.name, why);
		return -EINVAL;
	}
	/* spec 2.2.1: features are fixed once FEATURES_OK is set */
	if (dev->status & VIRTIO_CONFIG_S_FEATURES_OK && !vnet_features_equal(f, &dev->driver_set))
		return -EBUSY;
	dev->driver_set = *f;
	return 0;
}

void vnet_netdev_reset(struct vnet_netdev *dev)
{
	struct vnet_net_state st = *vnet_netdev_state(dev);
	unsigned int i;

	dev->status = 0;
	memset(&dev->driver_set, 0, sizeof(dev->driver_set));
	dev->announce = false;
	/* LOG_ALL is a feature: renegotiated (the bitmap stays mapped) */
	dev->log_all = false;
	for (i = 0; i < VNET_NETDEV_MAX_VRINGS; i++) {
		/*
		 * The rings stop, but each keeps where it stood: QEMU 7.2 stops
		 * a vhost-user device (pause, migration) with SET_STATUS(0)
		 * before GET_VRING_BASE and resumes from that answer; 0 would
		 * make it hand out buffers the guest already got. A new base
		 * comes with the next SET_VRING_BASE (or a new driver, detach).
		 */
		__u16 base = dev->vrings[i].last_avail_idx;

		vnet_vring_forget(&dev->vrings[i]);
		dev->vrings[i].last_avail_idx = base;
	}
	vnet_net_state_reset(&st, dev->params.mac, 0);
	state_publish(dev, &st, ~0u);
	vnet_rings_changed(dev);
}

void vnet_netdev_detach(struct vnet_netdev *dev)
{
	/* reset first: it drops the rings the worker runs, then the memory */
	vnet_netdev_reset(dev);
	for (unsigned int i = 0; i < VNET_NETDEV_MAX_VRINGS; i++)
		dev->vrings[i].last_avail_idx = 0;
	vnet_netdev_mem_clear(dev);
	vnet_netdev_log_clear(dev);
	dev->front_mtu = 0;
	dev->rarp_pending = false;
}

int vnet_netdev_set_front_mtu(struct vnet_netdev *dev, __u64 mtu)
{
	/* spec 5.1.4.1: 68 .. 65535, and not above what the device can do */
	if (mtu < 68 || mtu > dev->params.mtu)
		return -EINVAL;
	dev->front_mtu = (__u16)mtu;
	return 0;
}

int vnet_netdev_request_rarp(struct vnet_netdev *dev, const __u8 mac[6])
{
	/* a group address cannot be announced as a station's */
	if (mac[0] & 1)
		return -EINVAL;
	memcpy(dev->rarp_mac, mac, 6);
	dev->rarp_pending = true;
	return 0;
}

void vnet_netdev_set_status(struct vnet_netdev *dev, __u8 status)
{
	if (!status) {
		/* a reset of a live device: a driver reload, a guest reboot,
		 * or the front-end stopping the device (pause, migration) */
		if (dev->status & VIRTIO_CONFIG_S_DRIVER_OK)
			pr_info("%s: device reset (status 0)\n", dev->params.name);
		vnet_netdev_reset(dev);
		return;
	}
	/* spec 3.1.1: FEATURES_OK sticks only for an acceptable feature set
	 * (set_driver_features refused the others, so check once more) */
	if ((status & VIRTIO_CONFIG_S_FEATURES_OK) &&
	    !(dev->status & VIRTIO_CONFIG_S_FEATURES_OK)) {
		if (!vnet_features_subset(&dev->driver_set, &dev->offered_set) ||
		    vnet_net_features_check(&dev->driver_set, NULL) ||
		    !vnet_features_has(&dev->driver_set, VIRTIO_F_VERSION_1))
			status &= ~VIRTIO_CONFIG_S_FEATURES_OK;
	}
	if ((status & VIRTIO_CONFIG_S_FEATURES_OK) &&
	    !(dev->status & VIRTIO_CONFIG_S_FEATURES_OK)) {
		struct vnet_net_state st = *vnet_netdev_state(dev);

		/* offloads of negotiated features start enabled (5.1.6.5.6.1) */
		vnet_net_state_reset(&st, st.mac, vnet_features_u64(&dev->driver_set));
		state_publish(dev, &st, ~0u);
	}
	dev->status = status;
}

static bool drv_has(const struct vnet_netdev *dev, unsigned int bit)
{
	return vnet_features_has(&dev->driver_set, bit);
}

/*
 * Spec 5.1.2: the control queue is queue 2N (N = max_virtqueue_pairs) with
 * VIRTIO_NET_F_MQ or VIRTIO_NET_F_RSS negotiated, else queue 2 --
 * when there is one. Without CTRL_VQ negotiated (a vhost-user front-end
 * that keeps the control queue to itself, as QEMU does) queue 2 is
 * receiveq2: the index returned is then 2 * max_virtqueue_pairs, one past
 * every data queue, so no receive queue is taken for the control queue
 * (its kicks would be armed and its buffers seen as pending work forever).
 */
unsigned int vnet_netdev_cvq_index(const struct vnet_netdev *dev)
{
	if (drv_has(dev, VIRTIO_NET_F_CTRL_VQ) &&
	    !drv_has(dev, VIRTIO_NET_F_MQ) && !drv_has(dev, VIRTIO_NET_F_RSS))
		return 2u;
	return 2u * dev->params.max_vqp;
}

/*
 * Queue pairs the driver may use for data. A driver with a control queue but
 * neither MQ nor RSS has one (its control queue is queue 2, spec 5.1.2); a
 * vhost-user front-end that keeps the control queue to itself may enable
 * any of the max_virtqueue_pairs pairs.
 */
unsigned int vnet_netdev_data_pairs(const struct vnet_netdev *dev)
{
	if (drv_has(dev, VIRTIO_NET_F_CTRL_VQ) &&
	    !drv_has(dev, VIRTIO_NET_F_MQ) && !drv_has(dev, VIRTIO_NET_F_RSS))
		return 1;
	return dev->params.max_vqp;
}

size_t vnet_netdev_build_config(struct vnet_netdev *dev, struct vnet_netdev_config *cfg)
{
	const struct vnet_net_state *st = vnet_netdev_state(dev);
	__u16 status = 0;

	memset(cfg, 0, sizeof(*cfg));
	memcpy(cfg->mac, st->mac, 6);
	if (dev->link_up)
		status |= VIRTIO_NET_S_LINK_UP;
	if (dev->announce)
		status |= VIRTIO_NET_S_ANNOUNCE;
	cfg->status = htole16(status);
	cfg->max_virtqueue_pairs = htole16(dev->params.max_vqp);
	cfg->mtu = htole16(dev->params.mtu);
	cfg->speed = htole32(dev->params.speed);
	cfg->duplex = dev->params.duplex;
	/* spec 5.1.4.1: >= 40 and >= 128 when RSS/HASH_REPORT is offered */
	cfg->rss_max_key_size = VNET_RSS_KEY_MAX;
	cfg->rss_max_indirection_table_length = htole16(VNET_RSS_INDIR_MAX);
	cfg->supported_hash_types = htole32(VNET_SUPPORTED_HASH_TYPES);
	/* every field is always present: a driver reads only what its
	 * features make valid, and vhost-user GET_CONFIG asks by offset */
	return sizeof(*cfg);
}

int vnet_netdev_config_read(struct vnet_netdev *dev, unsigned int off, void *buf,
			 unsigned int len)
{
	struct vnet_netdev_config cfg;
	size_t size = vnet_netdev_build_config(dev, &cfg);

	if (off > size || len > size - off)
		return -EINVAL;
	memcpy(buf, (__u8 *)&cfg + off, len);
	return 0;
}

int vnet_netdev_cvq_command(struct vnet_netdev *dev, const void *cmd, size_t len)
{
	struct vnet_net_state st = *vnet_netdev_state(dev);
	struct vnet_cvq_ctx ctx = {
		.features = vnet_features_u64(&dev->driver_set),	/* all below 64 */
		.max_vqp = dev->params.max_vqp,
	};
	__u32 changed;
	int ack;

	ack = vnet_cvq_apply(&st, &ctx, cmd, len, &changed);
	if (ack != VIRTIO_NET_OK)
		return ack;
	if (changed & VNET_CHG_ANNOUNCE_ACK)
		dev->announce = false;
	state_publish(dev, &st, changed);
	/* 5.1.6.5.2: config mac follows MAC_ADDR_SET when MAC is negotiated */
	if ((changed & VNET_CHG_MAC) && drv_has(dev, VIRTIO_NET_F_MAC))
		vnet_netdev_config_changed(dev);
	return ack;
}

void vnet_netdev_features(struct vnet_netdev *dev, struct vnet_features *driver,
			  struct vnet_features *offered)
{
	vnet_netdev_lock_ctl(dev);
	if (driver) {
		memset(driver, 0, sizeof(*driver));
		if (dev->status & VIRTIO_CONFIG_S_FEATURES_OK)
			*driver = dev->driver_set;
	}
	if (offered)
		*offered = dev->offered_set;
	pthread_mutex_unlock(&dev->lock);
}

__u8 vnet_netdev_status(struct vnet_netdev *dev)
{
	__u8 s;

	vnet_netdev_lock_ctl(dev);
	s = dev->status;
	pthread_mutex_unlock(&dev->lock);
	return s;
}

size_t vnet_netdev_read_config(struct vnet_netdev *dev, struct vnet_netdev_config *cfg)
{
	size_t n;

	vnet_netdev_lock_ctl(dev);
	n = vnet_netdev_build_config(dev, cfg);
	pthread_mutex_unlock(&dev->lock);
	return n;
}

int vnet_netdev_queue_stats(struct vnet_netdev *dev, unsigned int qidx,
			 struct vnet_queue_stats *st)
{
	if (qidx >= dev->nvrings)
		return -EINVAL;
	vnet_netdev_lock_ctl(dev);
	*st = dev->vrings[qidx].stats;
	pthread_mutex_unlock(&dev->lock);
	return 0;
}

/* a pending speed/duplex into config space; true if a driver that reads
 * them (SPEED_DUPLEX negotiated) must hear of it */
static bool speed_apply(struct vnet_netdev *dev)
{
	bool changed;

	if (!dev->speed_pending)
		return false;
	changed = dev->params.speed != dev->speed_next || dev->params.duplex != dev->duplex_next;
	dev->params.speed = dev->speed_next;
	dev->params.duplex = dev->duplex_next;
	dev->speed_pending = false;
	return changed && drv_has(dev, VIRTIO_NET_F_SPEED_DUPLEX);
}

void vnet_netdev_set_link(struct vnet_netdev *dev, bool up)
{
	bool changed;

	vnet_netdev_lock_ctl(dev);
	/* a new speed goes in while the link is still down (see set_speed) */
	changed = up ? speed_apply(dev) : false;
	if (dev->link_up != up) {
		dev->link_up = up;
		changed = drv_has(dev, VIRTIO_NET_F_STATUS) || changed;
	}
	if (!up)
		changed = speed_apply(dev) || changed;
	/* one notification however much changed: the driver re-reads all */
	if (changed)
		vnet_netdev_config_changed(dev);
	pthread_mutex_unlock(&dev->lock);
}

/*
 * Spec 5.1.4.2: with SPEED_DUPLEX and STATUS negotiated, the device SHOULD
 * NOT change speed and duplex while S_LINK_UP is set -- a driver reads them
 * once per link-up. A new value therefore waits for the link to go down;
 * the uplink's link settings change only across a carrier bounce anyway.
 * Duplex uses ethtool's values (1 full, 0 half), as 5.1.4's description
 * and every driver do; the normative list of 5.1.4.1 has the two swapped.
 */
void vnet_netdev_set_speed(struct vnet_netdev *dev, __u32 speed, __u8 duplex)
{
	vnet_netdev_lock_ctl(dev);
	dev->speed_next = speed > 0x7fffffff ? 0xffffffff : speed;
	dev->duplex_next = duplex == 0 || duplex == 1 ? duplex : 0xff;
	dev->speed_pending = true;
	if ((!dev->link_up || !drv_has(dev, VIRTIO_NET_F_STATUS)) && speed_apply(dev))
		vnet_netdev_config_changed(dev);
	pthread_mutex_unlock(&dev->lock);
}

/*
 * The administrator's MAC (vdpa dev set ... mac): config space and the
 * receive filter's own address change together; a driver that negotiated
 * MAC is told through a config change, as vdpa_sim and mlx5 do.
 */
void vnet_netdev_set_mac(struct vnet_netdev *dev, const __u8 mac[6])
{
	struct vnet_net_state st;

	vnet_netdev_lock_ctl(dev);
	memcpy(dev->params.mac, mac, 6);
	st = *vnet_netdev_state(dev);
	memcpy(st.mac, mac, 6);
	st.version++;
	state_publish(dev, &st, VNET_CHG_MAC);
	if (drv_has(dev, VIRTIO_NET_F_MAC))
		vnet_netdev_config_changed(dev);
	pthread_mutex_unlock(&dev->lock);
}

int vnet_netdev_announce(struct vnet_netdev *dev)
{
	int err = 0;

	vnet_netdev_lock_ctl(dev);
	/* only a driver that can answer (GUEST_ANNOUNCE + DRIVER_OK) is asked */
	if (!drv_has(dev, VIRTIO_NET_F_GUEST_ANNOUNCE) ||
	    !(dev->status & VIRTIO_CONFIG_S_DRIVER_OK)) {
		err = -EOPNOTSUPP;
	} else {
		dev->announce = true;
		vnet_netdev_config_changed(dev);
	}
	pthread_mutex_unlock(&dev->lock);
	return err;
}
