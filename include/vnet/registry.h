/* SPDX-License-Identifier: MIT */
/*
 * The device registry of vnetd: which virtio-net devices exist, on which
 * management device (uplink), with which parameters. It validates every
 * field, persists every change (state.c) and asks a backend -- the device
 * model -- to bring devices to life through struct vnet_backend_ops.
 *
 * The registry is the only owner of device parameters; the backend owns the
 * device's runtime state (virtio status, negotiated features, config space
 * as the driver sees it, counters, filters). The netlink server only talks
 * to the registry. All calls come from vnetd's control thread.
 */
#ifndef VNET_REGISTRY_H
#define VNET_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include <linux/if.h>		/* IFNAMSIZ */

#include "vnet/features.h"
#include "vnet/nl.h"

#define VNET_DEV_NAME_MAX	31	/* characters, without the NUL */
#define VNET_MAX_DEVS		256
#define VNET_MAX_MGMTDEVS	32
#define VNET_MAX_VQP		64	/* queue pairs per device */
#define VNET_MAX_VQ_SIZE	1024
#define VNET_MIN_MTU		68	/* spec 5.1.4.1: mtu >= 68 */
#define VNET_MAX_MTU		65535
#define VNET_DEFAULT_MTU	1500
#define VNET_SOCK_PATH_MAX	107	/* sizeof(sun_path) - 1 */
#define VNET_NETNS_MAX		63	/* a /run/netns name, without the NUL */
#define VNET_MGMT_BUS		"vnet"	/* mgmtdev handles are vnet/<name> */
#define VNET_MGMT_SIM		"sim"
#define VNET_VENDOR_ID		0x1af4	/* the virtio vendor id: a standard device */
#define VIRTIO_ID_NET_DEV	1

/* what a DEV_NEW / DEV_ATTR_SET carried (struct vnet_dev_params.mask) */
#define VNET_P_MAC		(1u << 0)
#define VNET_P_MTU		(1u << 1)
#define VNET_P_MAX_VQP		(1u << 2)
#define VNET_P_FEATURES		(1u << 3)
#define VNET_P_TRANSPORT	(1u << 4)
#define VNET_P_SOCKET		(1u << 5)
#define VNET_P_SOCK_MODE	(1u << 6)
#define VNET_P_TRUSTED		(1u << 7)
#define VNET_P_SPOOFCHK		(1u << 8)
#define VNET_P_BIND		(1u << 9)
#define VNET_P_NETNS		(1u << 10)
/* what DEV_ATTR_SET may change on a live device */
#define VNET_P_SETTABLE		(VNET_P_MAC | VNET_P_TRUSTED | VNET_P_SPOOFCHK)

struct vnet_dev_params {
	__u32 mask;			/* VNET_P_*: fields given explicitly */
	char name[VNET_DEV_NAME_MAX + 1];
	char mgmtdev[IFNAMSIZ];		/* uplink ifname, or "sim" */
	__u8 mac[6];
	__u16 mtu;
	__u16 max_vqp;
	struct vnet_features features;	/* provisioned device features */
	__u32 transport;		/* enum vnet_transport_id */
	__u32 sock_mode;		/* enum vnet_sock_mode */
	char socket_path[VNET_SOCK_PATH_MAX + 1];
	bool trusted;			/* may change its MAC / go promiscuous */
	bool spoofchk;			/* drop tx frames with a foreign source MAC */
	/* transport vduse: the kernel driver on the vdpa bus, and the
	 * namespace virtio_vdpa's netdev goes into ("": stays where it is) */
	__u32 bind;			/* enum vnet_bind */
	char netns[VNET_NETNS_MAX + 1];
};

struct vnet_updp;

struct vnet_mgmtdev {
	char name[IFNAMSIZ];		/* ifname, or "sim" */
	bool is_sim;
	__u32 uplink_state;		/* enum vnet_uplink_state */
	__u32 uplink_mtu;		/* 0 while unknown/absent */
	__u32 uplink_speed;		/* Mbit/s, 0xffffffff unknown (ethtool) */
	__u8 uplink_duplex;		/* 1 full, 0 half, 0xff unknown */
	int ifindex;			/* the uplink's netdev, 0: absent */
	/*
	 * Carrier transitions of the uplink since vnetd watches it, from the
	 * kernel's own count (IFLA_CARRIER_CHANGES): exact however many
	 * notifications a burst collapsed into. kernel_changes: its last
	 * value, on netdev 'ifindex'.
	 */
	__u64 carrier_changes;
	__u32 kernel_changes;
	/*
	 * The uplink's datapath (uplink_dp.h), opened by vnetd at start and
	 * closed after every device at exit; NULL for vnet/sim and for an
	 * uplink whose netdev refused XDP at start (devices: datapath none).
	 */
	struct vnet_updp *datapath;
};

/* What the uplink watch saw of an uplink's netdev (one link dump). */
struct vnet_uplink_link {
	__u32 state;			/* enum vnet_uplink_state */
	__u32 mtu;
	int ifindex;			/* 0: no netdev of that name */
	__u32 carrier_changes;		/* the netdev's IFLA_CARRIER_CHANGES */
	__u32 speed;			/* its link settings while up (ethtool); */
	__u8 duplex;			/* else unknown: 0xffffffff, 0xff */
};

/* virtio_net_config as the device presents it, in CPU byte order */
struct vnet_net_config {
	__u8 mac[6];
	__u16 status;			/* VIRTIO_NET_S_* */
	__u16 max_virtqueue_pairs;
	__u16 mtu;
};

/* RX filter and RSS state the driver configured (control queue) */
struct vnet_filter_state {
	__u32 rx_mode;			/* VNET_RX_MODE_* */
	__u32 mac_table_len;
	__u32 vlan_count;
	__u32 rss_hash_types;
	__u32 rss_indir_len;
	__u32 active_vqp;
};

/* What the kernel made of a device on its vdpa bus (VDUSE; dev show). */
struct vnet_kernel_info {
	char netdev[IFNAMSIZ];		/* virtio_vdpa's netdev, "" when none */
	char chardev[32];		/* vhost_vdpa's /dev/vhost-vdpa-N, "" */
	struct vnet_features refused;	/* vnet's features the kernel refuses */
};

/* one per-queue counter, as in the kernel's get_vendor_vq_stats */
struct vnet_vq_stat {
	char name[32];
	__u64 value;
};
#define VNET_VQ_STATS_MAX	16

struct vnet_dev;

/* An uplink device's port counters (netlink VNET_ATTR_PORT_*, same order). */
struct vnet_port_counters {
	__u64 rx_frames, rx_dropped, tx_wire, tx_local, tx_host, tx_spoofed,
	      tx_dropped, tx_rarp;
	__u64 rx_kgro;		/* VNET_ATTR_PORT_RX_KGRO, not in the run above */
	__u64 rx_kgro_parked;	/* VNET_ATTR_PORT_RX_KGRO_PARKED */
};

/*
 * What the device model implements. Every callback runs on the control
 * thread and must not block on a datapath: hand work to the engine and
 * return. 'errmsg' (may be NULL) receives a static extended-ack text.
 */
struct vnet_backend_ops {
	const char *name;
	struct vnet_features supported_features;	/* what DEV_NEW may provision */
	/* the largest MTU a device on an uplink (not vnet/sim) may have, and
	 * why, for the error message; 0: no limit but the uplink's MTU */
	__u32 uplink_mtu_max;
	const char *uplink_mtu_why;
	/* the same for one uplink now (its datapath attached: what it was
	 * made for); 0: not known, the bound above (may be NULL) */
	__u32 (*uplink_mtu_limit)(const struct vnet_mgmtdev *m, const char **why);
	/* make the device (transport listening, queues allocated); all or
	 * nothing. It may narrow dev->p.features to what the transport can
	 * offer (VDUSE: what the running kernel accepts); the registry saves
	 * what it left. */
	int (*create)(struct vnet_dev *dev, const char **errmsg);
	void (*destroy)(struct vnet_dev *dev);
	/* config space now (mac, status incl. LINK_UP, max_vqp, mtu) */
	void (*get_config)(struct vnet_dev *dev, struct vnet_net_config *cfg);
	/* virtio device status (VIRTIO_CONFIG_S_*) */
	__u8 (*get_status)(struct vnet_dev *dev);
	struct vnet_features (*get_device_features)(struct vnet_dev *dev);
	/* meaningful only once the driver set FEATURES_OK */
	struct vnet_features (*get_driver_features)(struct vnet_dev *dev);
	/* counters of virtqueue qidx; returns how many filled, or -errno */
	int (*get_vq_stats)(struct vnet_dev *dev, __u32 qidx, struct vnet_vq_stat *st,
			    int max, const char **errmsg);
	/* apply validated params->mask & VNET_P_SETTABLE; all or nothing */
	int (*set_attr)(struct vnet_dev *dev, const struct vnet_dev_params *p,
			const char **errmsg);
	/* uplink carrier changed: set/clear VIRTIO_NET_S_LINK_UP, notify driver */
	void (*link_change)(struct vnet_dev *dev, bool up);
	void (*get_filter_state)(struct vnet_dev *dev, struct vnet_filter_state *fs);
	/* optional: the uplink port's counters; -ENODEV without a port */
	int (*get_port_counters)(struct vnet_dev *dev, struct vnet_port_counters *pc);
	/* optional: enum vnet_migration now (dev show) */
	__u32 (*get_migration)(struct vnet_dev *dev);
	/* optional: a trusted uplink device's learned source MACs, how many */
	unsigned int (*get_learned_macs)(struct vnet_dev *dev, __u8 (*macs)[6],
					 unsigned int max);
	/*
	 * optional, per uplink: its netdev is 'ifindex' now (0: gone); called
	 * before the devices hear of a link change, so the datapath is there
	 * when they come up. 1: the datapath was (re)attached just now.
	 */
	int (*uplink_change)(struct vnet_mgmtdev *m, int ifindex);
	/* optional: the uplink's datapath in words (mgmtdev show) */
	void (*uplink_describe)(const struct vnet_mgmtdev *m, char *buf, size_t len);
	/* optional: the uplink's workers (return) and per queue
	 * {queue, worker, rx frames, tx frames} into q[max][4], *nq of them
	 * (mgmtdev show) */
	unsigned int (*uplink_queues)(const struct vnet_mgmtdev *m, __u64 (*q)[4],
				      unsigned int max, unsigned int *nq);
	/* optional: the uplink's drop counters (mgmtdev show; nl.h
	 * VNET_ATTR_UPLINK_QUEUE_DROPS, _WORKER_DROPS): the queues that
	 * dropped (up to maxq, *nqd of them), every worker (up to maxw,
	 * return) */
	unsigned int (*uplink_drops)(const struct vnet_mgmtdev *m,
				     __u64 (*qd)[VNET_UPLINK_QDROPS], unsigned int maxq,
				     unsigned int *nqd, __u64 (*wd)[VNET_UPLINK_WDROPS],
				     unsigned int maxw);
	/* optional: what the kernel made of the device (transport vduse);
	 * -ENODEV for a device the kernel has nothing of */
	int (*get_kernel_info)(struct vnet_dev *dev, struct vnet_kernel_info *ki);
};

struct vnet_dev {
	struct vnet_dev_params p;
	struct vnet_mgmtdev *mgmt;
	const struct vnet_backend_ops *ops;
	void *priv;			/* the backend's */
	__u32 datapath;			/* enum vnet_datapath, set by create */
};

/* An error for the extended ack: text and the attribute it is about. */
struct vnet_err {
	const char *msg;
	int attr;			/* attribute type, 0 when none */
	char buf[256];			/* msg, when it has to say a number (the
					 * MTU limit's has a long reason) */
};

struct vnet_registry {
	struct vnet_mgmtdev mgmt[VNET_MAX_MGMTDEVS];
	int n_mgmt;
	struct vnet_dev *devs[VNET_MAX_DEVS];
	int n_devs;
	const struct vnet_backend_ops *ops;	/* backend of new devices */
	char sock_dir[VNET_SOCK_PATH_MAX + 1];	/* default vhost-user sockets */
	char state_path[4096];			/* "" = no persistence */
	bool restoring;				/* state load: do not save */
};

/*
 * backend_netdev.c: the device model behind the registry (vhost-user
 * back-end + queue worker per device). 'epfd' is the control thread's epoll
 * set, where each device's vhost-user fd is served.
 */
const struct vnet_backend_ops *vnet_netdev_backend(int epfd);

void vnet_registry_init(struct vnet_registry *r, const struct vnet_backend_ops *ops,
			const char *sock_dir, const char *state_path);
void vnet_registry_fini(struct vnet_registry *r);
int vnet_registry_add_mgmtdev(struct vnet_registry *r, const char *name);
struct vnet_mgmtdev *vnet_registry_find_mgmtdev(struct vnet_registry *r,
						const char *bus, const char *name);
struct vnet_dev *vnet_registry_find(struct vnet_registry *r, const char *name);

/* validation of single fields, shared with the CLI and the state file */
int vnet_valid_dev_name(const char *name, struct vnet_err *e);
int vnet_valid_mac(const __u8 mac[6], struct vnet_err *e);
int vnet_valid_mtu(unsigned long mtu, struct vnet_err *e);
int vnet_valid_max_vqp(unsigned long vqp, struct vnet_err *e);
int vnet_valid_socket_path(const char *path, struct vnet_err *e);

int vnet_registry_dev_new(struct vnet_registry *r, struct vnet_dev_params *p,
			  struct vnet_err *e);
int vnet_registry_dev_del(struct vnet_registry *r, const char *name, struct vnet_err *e);
int vnet_registry_dev_set(struct vnet_registry *r, const char *name,
			  const struct vnet_dev_params *p, struct vnet_err *e);
/* the uplink watch reports what it sees of 'ifname' (after every change) */
void vnet_registry_uplink_update(struct vnet_registry *r, const char *ifname,
				 const struct vnet_uplink_link *l);

/* state.c: the registry on disk */
int vnet_state_save(const struct vnet_registry *r);
int vnet_state_load(struct vnet_registry *r);
int vnet_state_format(const struct vnet_registry *r, char *buf, size_t len);

#endif
