// SPDX-License-Identifier: MIT
/*
 * A backend without I/O for the netlink and registry tests (and the
 * fuzzer): config space comes from the device's parameters, LINK_UP from
 * the uplink's carrier, counters are zero, no socket, no thread. vnetd
 * itself uses the device model (daemon/control/backend_netdev.c).
 *
 * Driver side: a device on vnet/sim gets a simulated driver that negotiated
 * every offered feature at creation (like vdpa_sim bound to virtio_vdpa),
 * so FEATURES_OK is set and vstats answer. Devices on an uplink have no
 * driver, so their status stays 0 and the kernel's rules for "before
 * FEATURES_OK" apply to them.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>

#include "backend_stub.h"
#include "vnet/xsk.h"

#define BIT64(n)	(1ULL << (n))

struct stub_dev {
	bool link_up;
	unsigned int link_changes;	/* link_change calls that flipped it */
	__u8 status;
	struct vnet_features driver_features;
};

static int stub_create(struct vnet_dev *dev, const char **errmsg)
{
	struct stub_dev *b = calloc(1, sizeof(*b));

	if (!b) {
		*errmsg = "out of memory";
		return -ENOMEM;
	}
	b->link_up = dev->mgmt->is_sim || dev->mgmt->uplink_state == VNET_UPLINK_UP;
	if (dev->mgmt->is_sim) {
		b->status = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
			    VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK;
		b->driver_features = dev->p.features;
	}
	dev->priv = b;
	dev->datapath = dev->mgmt->is_sim ? VNET_DATAPATH_LOOPBACK : VNET_DATAPATH_NONE;
	return 0;
}

static void stub_destroy(struct vnet_dev *dev)
{
	free(dev->priv);
	dev->priv = NULL;
}

static void stub_get_config(struct vnet_dev *dev, struct vnet_net_config *cfg)
{
	struct stub_dev *b = dev->priv;

	memset(cfg, 0, sizeof(*cfg));
	memcpy(cfg->mac, dev->p.mac, 6);
	cfg->status = b->link_up ? VIRTIO_NET_S_LINK_UP : 0;
	cfg->max_virtqueue_pairs = dev->p.max_vqp;
	cfg->mtu = dev->p.mtu;
}

static __u8 stub_get_status(struct vnet_dev *dev)
{
	return ((struct stub_dev *)dev->priv)->status;
}

static struct vnet_features stub_get_device_features(struct vnet_dev *dev)
{
	return dev->p.features;
}

static struct vnet_features stub_get_driver_features(struct vnet_dev *dev)
{
	return ((struct stub_dev *)dev->priv)->driver_features;
}

static int stub_get_vq_stats(struct vnet_dev *dev, __u32 qidx, struct vnet_vq_stat *st,
				int max, const char **errmsg)
{
	static const char *const rx[] = { "rx_packets", "rx_bytes", "rx_drops" };
	static const char *const tx[] = { "tx_packets", "tx_bytes", "tx_drops" };
	static const char *const cvq[] = { "cvq_commands", "cvq_errors" };
	const char *const *names;
	int n;

	if (qidx < 2u * dev->p.max_vqp) {
		names = qidx & 1 ? tx : rx;
		n = 3;
	} else if (qidx == 2u * dev->p.max_vqp &&
		   vnet_features_has(&dev->p.features, VIRTIO_NET_F_CTRL_VQ)) {
		names = cvq;
		n = 2;
	} else {
		*errmsg = "queue index out of range";
		return -ERANGE;
	}
	if (n > max)
		n = max;
	for (int i = 0; i < n; i++) {
		snprintf(st[i].name, sizeof(st[i].name), "%s", names[i]);
		st[i].value = 0;
	}
	return n;
}

static int stub_set_attr(struct vnet_dev *dev, const struct vnet_dev_params *p,
			    const char **errmsg)
{
	return 0;	/* everything settable lives in dev->p already */
}

static void stub_link_change(struct vnet_dev *dev, bool up)
{
	struct stub_dev *b = dev->priv;

	b->link_changes += b->link_up != up;
	b->link_up = up;
}

bool vnet_stub_link_up(const struct vnet_dev *dev)
{
	return ((const struct stub_dev *)dev->priv)->link_up;
}

unsigned int vnet_stub_link_changes(const struct vnet_dev *dev)
{
	return ((const struct stub_dev *)dev->priv)->link_changes;
}

static void stub_get_filter_state(struct vnet_dev *dev, struct vnet_filter_state *fs)
{
	memset(fs, 0, sizeof(*fs));
	fs->active_vqp = 1;	/* spec 5.1.6.5.5: one pair until VQ_PAIRS_SET */
}

/* no worker behind the stub: nothing could log its writes */
static __u32 stub_get_migration(struct vnet_dev *dev)
{
	return VNET_MIGRATION_UNSUPPORTED;
}

const struct vnet_backend_ops vnet_stub_backend = {
	.name = "stub",
	.supported_features.w[0] =
		BIT64(VIRTIO_NET_F_CSUM) | BIT64(VIRTIO_NET_F_GUEST_CSUM) |
		BIT64(VIRTIO_NET_F_MTU) | BIT64(VIRTIO_NET_F_MAC) |
		BIT64(VIRTIO_NET_F_HOST_TSO4) | BIT64(VIRTIO_NET_F_HOST_TSO6) |
		BIT64(VIRTIO_NET_F_MRG_RXBUF) | BIT64(VIRTIO_NET_F_STATUS) |
		BIT64(VIRTIO_NET_F_CTRL_VQ) | BIT64(VIRTIO_NET_F_CTRL_RX) |
		BIT64(VIRTIO_NET_F_CTRL_VLAN) | BIT64(VIRTIO_NET_F_CTRL_RX_EXTRA) |
		BIT64(VIRTIO_NET_F_GUEST_ANNOUNCE) | BIT64(VIRTIO_NET_F_MQ) |
		BIT64(VIRTIO_NET_F_CTRL_MAC_ADDR) | BIT64(VIRTIO_NET_F_HASH_REPORT) |
		BIT64(VIRTIO_NET_F_RSS) | BIT64(VIRTIO_RING_F_EVENT_IDX) |
		BIT64(VIRTIO_F_VERSION_1),
	/* bit 64 (RSS_CONTEXT): a set wider than netlink's u64, which only
	 * the state file carries whole */
	.supported_features.w[1] = 1,
	/* vnetd's own limit (backend_netdev.c), so the tests see its messages */
	.uplink_mtu_max = VNET_XSK_MTU_MAX,
	.uplink_mtu_why = VNET_XSK_NO_SG_WHY,
	.create = stub_create,
	.destroy = stub_destroy,
	.get_config = stub_get_config,
	.get_status = stub_get_status,
	.get_device_features = stub_get_device_features,
	.get_driver_features = stub_get_driver_features,
	.get_vq_stats = stub_get_vq_stats,
	.set_attr = stub_set_attr,
	.link_change = stub_link_change,
	.get_filter_state = stub_get_filter_state,
	.get_migration = stub_get_migration,
};
