/* SPDX-License-Identifier: MIT */
/*
 * The virtio-net device model, independent of the transport (spec 5.1):
 * offered features, the "Feature bit requirements" of 5.1.3.1, config space
 * (struct vnet_netdev_config), device status and reset, the control-queue state
 * (struct vnet_net_state, include/vnet/cvq.h), link state and announce,
 * per-queue counters.
 *
 * Who calls what:
 *  - the control plane (registry backend ops): vnet_netdev_create/destroy,
 *    vnet_netdev_read_config, vnet_netdev_features, vnet_netdev_status,
 *    vnet_netdev_queue_stats, vnet_netdev_set_link, vnet_netdev_announce;
 *  - a transport (vhost-user, in-process): vnet_netdev_set_driver_features,
 *    vnet_netdev_set_status, vnet_netdev_reset, vnet_netdev_config_read, the vrings[]
 *    table, and ops->config_changed to reach the driver;
 *  - the queue worker: vrings[], vnet_netdev_cvq_command, vnet_netdev_state.
 *
 * Locking: 'lock' protects everything below it. The worker holds it while it
 * runs a burst; the transport holds it while it changes rings or memory, so
 * the worker never sees a ring half set up. The control plane's getters take
 * it themselves.
 */
#ifndef VNET_DEVICE_H
#define VNET_DEVICE_H

#include <linux/types.h>
#include <pthread.h>
#include <stdbool.h>

#include "vnet/cvq.h"
#include "vnet/guest_mem.h"

#define VNET_NETDEV_NAME_MAX	32	/* with the NUL */
#define VNET_NETDEV_MAX_VQP	64	/* = registry's VNET_MAX_VQP */
/* rx/tx pairs plus the control queue at index 2 * max_vqp */
#define VNET_NETDEV_MAX_VRINGS		(2 * VNET_NETDEV_MAX_VQP + 1)

/* spec 5.1.4: the whole config space with every optional field, LE */
struct vnet_netdev_config {
	__u8 mac[6];
	__le16 status;
	__le16 max_virtqueue_pairs;
	__le16 mtu;
	__le32 speed;
	__u8 duplex;
	__u8 rss_max_key_size;
	__le16 rss_max_indirection_table_length;
	__le32 supported_hash_types;
} __attribute__((packed));

_Static_assert(sizeof(struct vnet_netdev_config) == 24, "spec 5.1.4 layout");

struct vnet_netdev_params {
	char name[VNET_NETDEV_NAME_MAX];
	__u8 mac[6];
	__u16 max_vqp;			/* 1 .. VNET_NETDEV_MAX_VQP */
	__u16 mtu;			/* 0: 1500 */
	__u32 speed;			/* Mbit/s; 0: unknown (0xffffffff) */
	__u8 duplex;			/* 1 full, 0 half, 0xff unknown */
	__u64 features;			/* offered; 0: vnet_netdev_default_features() */
	char socket_path[108];
	__u32 transport;		/* enum vnet_transport (vnet/nl.h) */
	__u32 sock_mode;		/* enum vnet_sock_mode: server / client */
};

/* Per-queue counters (read by vdpa vstats and vnetctl). On the control
 * queue 'packets' counts commands and 'drops' those answered VIRTIO_NET_ERR. */
struct vnet_queue_stats {
	__u64 packets, bytes, drops, errors, kicks, notifies;
};

/*
 * One virtqueue as the transport configured it. The worker builds its
 * engine queue from this when 'ready' (addresses translated, kick set,
 * enabled) and drops it when 'ready' clears. 'gen' changes whenever the
 * transport changes anything, so the worker notices a re-setup.
 */
struct vnet_vring {
	__u16 num;
	__u16 last_avail_idx;		/* SET/GET_VRING_BASE */
	__u16 last_used_idx;
	__u64 desc, avail, used;	/* front-end addresses (vhost-user: its
					 * virtual addresses), checked against
					 * the memory table when set */
	bool addr_set;
	bool uva;			/* addresses are front-end VAs, not GPAs */
	__u32 addr_flags;
	int kick_fd, call_fd, err_fd;	/* -1: none */
	bool enabled;			/* SET_VRING_ENABLE */
	bool started;			/* kick fd received, not stopped */
	bool ready;			/* all of the above: the worker may run it */
	__u32 gen;
	struct vnet_queue_stats stats;
};

struct vnet_netdev;

/* Hooks a transport or a worker registers. All are optional. */
struct vnet_netdev_ops {
	/* config space changed (link, announce, MAC): notify the driver */
	void (*config_changed)(struct vnet_netdev *dev, void *opaque);
	/* control-queue state changed (VNET_CHG_*): push it to the datapath */
	void (*state_changed)(struct vnet_netdev *dev, __u32 changed, void *opaque);
	/* vring table or memory changed: the worker re-reads vrings[] */
	void (*rings_changed)(struct vnet_netdev *dev, void *opaque);
};

struct vnet_netdev {
	pthread_mutex_t lock;
	int ctl_waiting;		/* control threads waiting for 'lock' */
	struct vnet_netdev_params params;
	__u16 front_mtu;		/* vhost-user NET_SET_MTU, 0: not told */
	bool rarp_pending;		/* vhost-user SEND_RARP, for the datapath */
	__u8 rarp_mac[6];
	__u64 offered;			/* device features */
	__u64 driver;			/* driver features (valid once set) */
	__u8 status;			/* VIRTIO_CONFIG_S_* */
	bool link_up;
	bool announce;			/* VIRTIO_NET_S_ANNOUNCE pending */
	struct vnet_guest_mem mem;	/* filled by the transport */
	struct vnet_vring vrings[VNET_NETDEV_MAX_VRINGS];
	unsigned int nvrings;		/* 2 * max_vqp + 1 */
	/* two copies of the control-queue state: changes are made in the
	 * spare one and published by flipping 'cur' (never seen half done) */
	struct vnet_net_state state[2];
	unsigned int cur;
	const struct vnet_netdev_ops *ops;
	void *ops_opaque;		/* the transport's */
	const struct vnet_netdev_ops *wops;
	void *wops_opaque;		/* the worker's / datapath's */
};

/* The control side takes the lock through this: a busy worker sees it
 * waiting and steps aside (a mutex is not fair). */
static inline void vnet_netdev_lock_ctl(struct vnet_netdev *dev)
{
	__atomic_add_fetch(&dev->ctl_waiting, 1, __ATOMIC_RELAXED);
	pthread_mutex_lock(&dev->lock);
	__atomic_sub_fetch(&dev->ctl_waiting, 1, __ATOMIC_RELAXED);
}

/* Everything vnet can offer today (engine capabilities included). */
__u64 vnet_netdev_default_features(void);

/*
 * spec 5.1.3.1: 0 when 'features' keeps every dependency, else -EINVAL and
 * (if why != NULL) the name of the first broken rule.
 */
int vnet_net_features_check(__u64 features, const char **why);

int vnet_netdev_create(const struct vnet_netdev_params *p, struct vnet_netdev **out);
void vnet_netdev_destroy(struct vnet_netdev *dev);

void vnet_netdev_set_ops(struct vnet_netdev *dev, const struct vnet_netdev_ops *ops, void *opaque);
void vnet_netdev_set_worker_ops(struct vnet_netdev *dev, const struct vnet_netdev_ops *ops,
			     void *opaque);

/* --- transport side (caller holds dev->lock unless noted) ---------------- */

/* Features the driver accepts: must be a subset of the offered ones and keep
 * the dependency rules; otherwise -EINVAL and nothing changes. */
int vnet_netdev_set_driver_features(struct vnet_netdev *dev, __u64 features);

/* Status write (spec 2.1): 0 resets; FEATURES_OK is kept only when the
 * features are acceptable (spec 3.1.1 step 5: the driver re-reads it). */
void vnet_netdev_set_status(struct vnet_netdev *dev, __u8 status);

/* Reset to the state after power-on: status 0, control state reset,
 * rings forgotten (fds closed), memory kept (it belongs to the transport). */
void vnet_netdev_reset(struct vnet_netdev *dev);

/* Fill the config space as the negotiated (or, before, offered) features
 * say; returns its size in bytes. */
size_t vnet_netdev_build_config(struct vnet_netdev *dev, struct vnet_netdev_config *cfg);

/* Copy [off, off + len) of the config space; -EINVAL when out of range. */
int vnet_netdev_config_read(struct vnet_netdev *dev, unsigned int off, void *buf,
			 unsigned int len);

/* Control queue: apply one command, publish the state, run the hooks.
 * Returns VIRTIO_NET_OK / VIRTIO_NET_ERR. */
int vnet_netdev_cvq_command(struct vnet_netdev *dev, const void *cmd, size_t len);

/* The published control-queue state (stable while dev->lock is held). */
static inline const struct vnet_net_state *vnet_netdev_state(const struct vnet_netdev *dev)
{
	return &dev->state[__atomic_load_n(&dev->cur, __ATOMIC_ACQUIRE)];
}

/* Recompute vrings[i].ready and bump gen; calls rings_changed. */
void vnet_netdev_vring_update(struct vnet_netdev *dev, unsigned int i);

/* Index of the control queue: 2 * max_vqp with MQ or RSS, else 2 (5.1.2). */
unsigned int vnet_netdev_cvq_index(const struct vnet_netdev *dev);
/* Queue pairs usable for data (see device.c). */
unsigned int vnet_netdev_data_pairs(const struct vnet_netdev *dev);

/* --- control-plane side (these take dev->lock) -------------------------- */

__u64 vnet_netdev_features(struct vnet_netdev *dev, __u64 *offered);
__u8 vnet_netdev_status(struct vnet_netdev *dev);
size_t vnet_netdev_read_config(struct vnet_netdev *dev, struct vnet_netdev_config *cfg);
int vnet_netdev_queue_stats(struct vnet_netdev *dev, unsigned int qidx,
			 struct vnet_queue_stats *st);
/* Link up/down: S_LINK_UP in status + config-change notification. */
void vnet_netdev_set_link(struct vnet_netdev *dev, bool up);
/* New device MAC (config space + filter) + config-change notification. */
void vnet_netdev_set_mac(struct vnet_netdev *dev, const __u8 mac[6]);
/* Ask the driver to announce itself (S_ANNOUNCE, with GUEST_ANNOUNCE). */
int vnet_netdev_announce(struct vnet_netdev *dev);

#endif
