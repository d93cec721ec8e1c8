// SPDX-License-Identifier: MIT
/*
 * The virtio-net device model (spec 5.1): features, config space, status,
 * reset, link and announce, control-queue state publication.
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

#include "vnet/device.h"
#include "vnet/log.h"

#ifndef VIRTIO_NET_F_GUEST_USO4
#define VIRTIO_NET_F_GUEST_USO4	54
#define VIRTIO_NET_F_GUEST_USO6	55
#define VIRTIO_NET_F_HOST_USO	56
#endif

#define BIT(n)	(1ull << (n))

__u64 vnet_netdev_default_features(void)
{
	/*
	 * IN_ORDER (spec 2.7.9): the engine uses buffers in ring order; DPDK's
	 * virtio driver takes its cheaper in-order paths with it.
	 */
	return BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_RING_F_EVENT_IDX) |
	       BIT(VIRTIO_RING_F_INDIRECT_DESC) | BIT(VIRTIO_F_IN_ORDER) |
	       BIT(VIRTIO_NET_F_MAC) | BIT(VIRTIO_NET_F_MTU) |
	       BIT(VIRTIO_NET_F_STATUS) | BIT(VIRTIO_NET_F_SPEED_DUPLEX) |
	       BIT(VIRTIO_NET_F_MRG_RXBUF) |
	       BIT(VIRTIO_NET_F_CSUM) | BIT(VIRTIO_NET_F_GUEST_CSUM) |
	       BIT(VIRTIO_NET_F_HOST_TSO4) | BIT(VIRTIO_NET_F_HOST_TSO6) |
	       BIT(VIRTIO_NET_F_HOST_ECN) | BIT(VIRTIO_NET_F_HOST_USO) |
	       BIT(VIRTIO_NET_F_CTRL_VQ) | BIT(VIRTIO_NET_F_CTRL_RX) |
	       BIT(VIRTIO_NET_F_CTRL_RX_EXTRA) | BIT(VIRTIO_NET_F_CTRL_VLAN) |
	       BIT(VIRTIO_NET_F_GUEST_ANNOUNCE) | BIT(VIRTIO_NET_F_MQ) |
	       BIT(VIRTIO_NET_F_CTRL_MAC_ADDR) | BIT(VIRTIO_NET_F_CTRL_GUEST_OFFLOADS) |
	       BIT(VIRTIO_NET_F_NOTF_COAL) | BIT(VIRTIO_NET_F_HASH_REPORT) |
	       BIT(VIRTIO_NET_F_RSS);
}

/* spec 5.1.3.1 "Feature bit requirements", one row per rule */
static const struct feature_rule {
	int bit;
	__u64 needs_any;	/* at least one of these */
	const char *why;
} feature_rules[] = {
#define NEEDS(b, need) { b, need, #b " requires " #need }
	NEEDS(VIRTIO_NET_F_GUEST_TSO4, BIT(VIRTIO_NET_F_GUEST_CSUM)),
	NEEDS(VIRTIO_NET_F_GUEST_TSO6, BIT(VIRTIO_NET_F_GUEST_CSUM)),
	NEEDS(VIRTIO_NET_F_GUEST_ECN, BIT(VIRTIO_NET_F_GUEST_TSO4) | BIT(VIRTIO_NET_F_GUEST_TSO6)),
	NEEDS(VIRTIO_NET_F_GUEST_UFO, BIT(VIRTIO_NET_F_GUEST_CSUM)),
	NEEDS(VIRTIO_NET_F_GUEST_USO4, BIT(VIRTIO_NET_F_GUEST_CSUM)),
	NEEDS(VIRTIO_NET_F_GUEST_USO6, BIT(VIRTIO_NET_F_GUEST_CSUM)),
	NEEDS(VIRTIO_NET_F_HOST_TSO4, BIT(VIRTIO_NET_F_CSUM)),
	NEEDS(VIRTIO_NET_F_HOST_TSO6, BIT(VIRTIO_NET_F_CSUM)),
	NEEDS(VIRTIO_NET_F_HOST_ECN, BIT(VIRTIO_NET_F_HOST_TSO4) | BIT(VIRTIO_NET_F_HOST_TSO6)),
	NEEDS(VIRTIO_NET_F_HOST_UFO, BIT(VIRTIO_NET_F_CSUM)),
	NEEDS(VIRTIO_NET_F_HOST_USO, BIT(VIRTIO_NET_F_CSUM)),
	NEEDS(VIRTIO_NET_F_CTRL_RX, BIT(VIRTIO_NET_F_CTRL_VQ)),
	NEEDS(VIRTIO_NET_F_CTRL_VLAN, BIT(VIRTIO_NET_F_CTRL_VQ)),
	NEEDS(VIRTIO_NET_F_GUEST_ANNOUNCE, BIT(VIRTIO_NET_F_CTRL_VQ)),
	NEEDS(VIRTIO_NET_F_MQ, BIT(VIRTIO_NET_F_CTRL_VQ)),
	NEEDS(VIRTIO_NET_F_CTRL_MAC_ADDR, BIT(VIRTIO_NET_F_CTRL_VQ)),
	NEEDS(VIRTIO_NET_F_NOTF_COAL, BIT(VIRTIO_NET_F_CTRL_VQ)),
	NEEDS(VIRTIO_NET_F_RSC_EXT, BIT(VIRTIO_NET_F_HOST_TSO4) | BIT(VIRTIO_NET_F_HOST_TSO6)),
	NEEDS(VIRTIO_NET_F_RSS, BIT(VIRTIO_NET_F_CTRL_VQ)),
	/* not in the table, but CTRL_RX_EXTRA commands are CTRL_RX ones */
	NEEDS(VIRTIO_NET_F_CTRL_RX_EXTRA, BIT(VIRTIO_NET_F_CTRL_RX)),
#undef NEEDS
};

int vnet_net_features_check(__u64 features, const char **why)
{
	size_t i;

	for (i = 0; i < sizeof(feature_rules) / sizeof(feature_rules[0]); i++) {
		const struct feature_rule *r = &feature_rules[i];

		if ((features & BIT(r->bit)) && !(features & r->needs_any)) {
			if (why)
				*why = r->why;
			return -EINVAL;
		}
	}
	return 0;
}

static void vring_forget(struct vnet_vring *vr)
{
	__u32 gen;

	if (vr->kick_fd >= 0)
		close(vr->kick_fd);
	if (vr->call_fd >= 0)
		close(vr->call_fd);
	if (vr->err_fd >= 0)
		close(vr->err_fd);
	gen = vr->gen;
	/* counters survive a reset: they are the device's, not the driver's */
	memset(vr, 0, offsetof(struct vnet_vring, stats));
	vr->kick_fd = vr->call_fd = vr->err_fd = -1;
	vr->gen = gen + 1;
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
	if (p->features && vnet_net_features_check(p->features, &why)) {
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
	dev->offered = p->features ? p->features : vnet_netdev_default_features();
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
		vring_forget(&dev->vrings[i]);
	pthread_mutex_destroy(&dev->lock);
	free(dev);
}

void vnet_netdev_set_ops(struct vnet_netdev *dev, const struct vnet_netdev_ops *ops, void *opaque)
{
	dev->ops = ops;
	dev->ops_opaque = opaque;
}

void vnet_netdev_set_worker_ops(struct vnet_netdev *dev, const struct vnet_netdev_ops *ops,
			     void *opaque)
{
	dev->wops = ops;
	dev->wops_opaque = opaque;
}

static void notify_config(struct vnet_netdev *dev)
{
	if (dev->ops && dev->ops->config_changed)
		dev->ops->config_changed(dev, dev->ops_opaque);
}

static void notify_rings(struct vnet_netdev *dev)
{
	if (dev->wops && dev->wops->rings_changed)
		dev->wops->rings_changed(dev, dev->wops_opaque);
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

int vnet_netdev_set_driver_features(struct vnet_netdev *dev, __u64 features)
{
	const char *why = NULL;

	if (features & ~dev->offered) {
		pr_info("%s: driver accepts features not offered: %#llx\n",
			dev->params.name, (unsigned long long)(features & ~dev->offered));
		return -EINVAL;
	}
	if (vnet_net_features_check(features, &why)) {
		pr_info("%s: driver features break a rule: %s\n", dev->params.name, why);
		return -EINVAL;
	}
	/* spec 2.2.1: features are fixed once FEATURES_OK is set */
	if (dev->status & VIRTIO_CONFIG_S_FEATURES_OK && features != dev->driver)
		return -EBUSY;
	dev->driver = features;
	return 0;
}

void vnet_netdev_reset(struct vnet_netdev *dev)
{
	struct vnet_net_state st = *vnet_netdev_state(dev);
	unsigned int i;

	dev->status = 0;
	dev->driver = 0;
	dev->announce = false;
	for (i = 0; i < VNET_NETDEV_MAX_VRINGS; i++) {
		vring_forget(&dev->vrings[i]);
	}
	vnet_net_state_reset(&st, dev->params.mac, 0);
	state_publish(dev, &st, ~0u);
	notify_rings(dev);
}

void vnet_netdev_set_status(struct vnet_netdev *dev, __u8 status)
{
	if (!status) {
		vnet_netdev_reset(dev);
		return;
	}
	/* spec 3.1.1: FEATURES_OK sticks only for an acceptable feature set
	 * (set_driver_features refused the others, so check once more) */
	if ((status & VIRTIO_CONFIG_S_FEATURES_OK) &&
	    !(dev->status & VIRTIO_CONFIG_S_FEATURES_OK)) {
		if ((dev->driver & ~dev->offered) ||
		    vnet_net_features_check(dev->driver, NULL) ||
		    !(dev->driver & BIT(VIRTIO_F_VERSION_1)))
			status &= ~VIRTIO_CONFIG_S_FEATURES_OK;
	}
	if ((status & VIRTIO_CONFIG_S_FEATURES_OK) &&
	    !(dev->status & VIRTIO_CONFIG_S_FEATURES_OK)) {
		struct vnet_net_state st = *vnet_netdev_state(dev);

		/* offloads of negotiated features start enabled (5.1.6.5.6.1) */
		vnet_net_state_reset(&st, st.mac, dev->driver);
		state_publish(dev, &st, ~0u);
	}
	dev->status = status;
}

/*
 * spec 5.1.2: the control queue is queue 2N (N = max_virtqueue_pairs) when
 * VIRTIO_NET_F_MQ or VIRTIO_NET_F_RSS is negotiated, else queue 2.
 */
unsigned int vnet_netdev_cvq_index(const struct vnet_netdev *dev)
{
	if (dev->driver & (BIT(VIRTIO_NET_F_MQ) | BIT(VIRTIO_NET_F_RSS)))
		return 2u * dev->params.max_vqp;
	return 2u;
}

/*
 * Queue pairs the driver may use for data. A driver with a control queue but
 * neither MQ nor RSS has one (its control queue is queue 2, spec 5.1.2); a
 * vhost-user front-end that keeps the control queue to itself may enable
 * any of the max_virtqueue_pairs pairs.
 */
unsigned int vnet_netdev_data_pairs(const struct vnet_netdev *dev)
{
	if ((dev->driver & BIT(VIRTIO_NET_F_CTRL_VQ)) &&
	    !(dev->driver & (BIT(VIRTIO_NET_F_MQ) | BIT(VIRTIO_NET_F_RSS))))
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
		.features = dev->driver,
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
	if ((changed & VNET_CHG_MAC) && (dev->driver & BIT(VIRTIO_NET_F_MAC)))
		notify_config(dev);
	return ack;
}

void vnet_netdev_vring_update(struct vnet_netdev *dev, unsigned int i)
{
	struct vnet_vring *vr = &dev->vrings[i];
	bool ready = vr->num && vr->addr_set && vr->started && vr->enabled;

	vr->ready = ready;
	vr->gen++;
	notify_rings(dev);
}

__u64 vnet_netdev_features(struct vnet_netdev *dev, __u64 *offered)
{
	__u64 f;

	vnet_netdev_lock_ctl(dev);
	f = (dev->status & VIRTIO_CONFIG_S_FEATURES_OK) ? dev->driver : 0;
	if (offered)
		*offered = dev->offered;
	pthread_mutex_unlock(&dev->lock);
	return f;
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

void vnet_netdev_set_link(struct vnet_netdev *dev, bool up)
{
	vnet_netdev_lock_ctl(dev);
	if (dev->link_up != up) {
		dev->link_up = up;
		if (dev->driver & BIT(VIRTIO_NET_F_STATUS))
			notify_config(dev);
	}
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
	if (dev->driver & BIT(VIRTIO_NET_F_MAC))
		notify_config(dev);
	pthread_mutex_unlock(&dev->lock);
}

int vnet_netdev_announce(struct vnet_netdev *dev)
{
	int err = 0;

	vnet_netdev_lock_ctl(dev);
	/* only a driver that can answer (GUEST_ANNOUNCE + DRIVER_OK) is asked */
	if (!(dev->driver & BIT(VIRTIO_NET_F_GUEST_ANNOUNCE)) ||
	    !(dev->status & VIRTIO_CONFIG_S_DRIVER_OK)) {
		err = -EOPNOTSUPP;
	} else {
		dev->announce = true;
		notify_config(dev);
	}
	pthread_mutex_unlock(&dev->lock);
	return err;
}
