/* SPDX-License-Identifier: MIT */
/*
 * The virtio-net device model, independent of the transport (spec 5.1):
 * offered features, the "Feature bit requirements" of 5.1.3.1, config space
 * (struct vnet_netdev_config), device status and reset, the control-queue state
 * (struct vnet_net_state, include/vnet/cvq.h), link state and announce,
 * per-queue counters, and the state of every ring and of guest memory as a
 * transport set it up.
 *
 * Who calls what:
 *  - the control plane (registry backend ops): vnet_netdev_create/destroy,
 *    vnet_netdev_read_config, vnet_netdev_features, vnet_netdev_status,
 *    vnet_netdev_queue_stats, vnet_netdev_set_link, vnet_netdev_announce;
 *  - a transport (include/vnet/transport.h): vnet_netdev_bind_transport,
 *    vnet_netdev_set_driver_features, vnet_netdev_set_status,
 *    vnet_netdev_reset, vnet_netdev_config_read, and every change of ring
 *    state and memory through the setters (vnet_netdev_vring_*,
 *    vnet_netdev_mem_*, daemon/device/vring.c, dev_mem.c), which keep the
 *    ring invariants: a transport never writes vrings[] or mem itself;
 *  - the queue worker: reads vrings[] and mem, vnet_netdev_cvq_command,
 *    vnet_netdev_state, and reaches the driver through vnet_netdev_notify()
 *    (the transport's notify: an eventfd write, an ioctl, never the
 *    worker's business which).
 *
 * Locking: 'lock' protects everything below it. The worker holds it while it
 * runs a burst; the transport holds it while it changes rings or memory, so
 * the worker never sees a ring half set up. The control plane's getters take
 * it themselves.
 */
#ifndef VNET_DEVICE_H
#define VNET_DEVICE_H

#include <errno.h>
#include <linux/types.h>
#include <linux/virtio_config.h>
#include <pthread.h>
#include <stdbool.h>

#include "vnet/cvq.h"
#include "vnet/dirty_log.h"
#include "vnet/features.h"
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
	struct vnet_features features;	/* offered; empty: vnet_netdev_default_features() */
	char socket_path[108];		/* vhost-user */
	__u32 transport;		/* enum vnet_transport_id (vnet/transport.h) */
	__u32 sock_mode;		/* enum vnet_sock_mode: server / client */
	__u32 bind;			/* VDUSE: enum vnet_bind (vnet/transport.h) */
	char netns[64];			/* VDUSE + virtio_vdpa: the netdev's namespace
					 * (a name of /run/netns), "": stays */
};

/* Per-queue counters (read by vdpa vstats and vnetctl). On the control
 * queue 'packets' counts commands and 'drops' those answered VIRTIO_NET_ERR. */
struct vnet_queue_stats {
	__u64 packets, bytes, drops, errors, kicks, notifies;
	/* what 'drops' is made of on a data queue (vstats names each) */
	__u64 drop_no_buf;	/* receiveq: no buffer (empty, or held too long) */
	__u64 drop_too_big;	/* receiveq: larger than the buffers could take;
				 * transmitq: larger than an output buffer */
	__u64 drop_malformed;	/* transmitq: bad virtio-net header / headers */
	__u64 drop_bad_desc;	/* transmitq: device-writable buffers */
};

/*
 * One virtqueue as the transport configured it, through the setters below
 * (never field by field). The worker builds its engine queue from this when
 * 'ready' (addresses translated, kick set, enabled) and drops it when 'ready'
 * clears. 'gen' changes whenever the transport changes anything, so the
 * worker notices a re-setup.
 */
struct vnet_vring {
	__u16 num;
	__u16 last_avail_idx;		/* struct vnet_vring_base; the worker
					 * writes it back after each round */
	__u16 last_used_idx;
	__u64 desc, avail, used;	/* driver's addresses (vhost-user: the
					 * front-end's virtual addresses),
					 * checked against the memory table
					 * when set */
	bool addr_set;
	bool uva;			/* addresses are front-end VAs, not GPAs */
	__u32 addr_flags;		/* VNET_VRING_F_LOG */
	__u64 log_addr;			/* used ring's address in the dirty log */
	int kick_fd, call_fd, err_fd;	/* -1: none */
	bool enabled;			/* vhost-user SET_VRING_ENABLE */
	bool started;			/* kick fd received, not stopped */
	bool ready;			/* all of the above: the worker may run it */
	__u32 gen;
	struct vnet_queue_stats stats;
};

/* Ring addresses as a transport gives them (vhost-user SET_VRING_ADDR,
 * VDUSE_VQ_GET_INFO): descriptor table, driver area, device area. */
struct vnet_vring_addr {
	__u64 desc, avail, used;
	bool uva;			/* front-end virtual addresses (vhost-user
					 * without IOMMU); else guest physical
					 * addresses / IOVAs, as the memory
					 * table's 'gpa' */
	__u32 flags;			/* VNET_VRING_F_LOG */
	__u64 log;			/* with VNET_VRING_F_LOG: the guest
					 * address at which writes to the used
					 * ring are logged (vhost-user
					 * log_guest_addr; may lie outside the
					 * memory table) */
};
/* vhost-user's VHOST_VRING_F_LOG: log writes to this ring's used ring */
#define VNET_VRING_F_LOG	(1u << 0)

/*
 * Where a ring stands (vhost-user SET/GET_VRING_BASE, VDUSE's vq state);
 * each transport decodes its own encoding into this. Split ring: the next
 * available entry the device reads (last_used_idx unused). Packed ring
 * (spec 2.8): the next descriptor the device reads and where its next used
 * descriptor goes, each index | wrap counter << 15 (VNET_VQ_WRAP; a new
 * ring: both 1 << 15).
 */
struct vnet_vring_base {
	__u16 last_avail_idx;
	__u16 last_used_idx;
};

/* The three eventfds of a ring (vhost-user SET_VRING_KICK/CALL/ERR). */
enum vnet_vring_fd { VNET_VRING_KICK, VNET_VRING_CALL, VNET_VRING_ERR };

/* A region of guest memory as a transport describes it, before mapping. */
struct vnet_mem_desc {
	__u64 gpa;			/* guest physical address (VDUSE: IOVA) */
	__u64 size;			/* bytes */
	__u64 uaddr;			/* front-end virtual address (VNET_MEM_UVA) */
	__u64 mmap_offset;		/* where 'gpa' lies in the fd */
};

/* flags of vnet_netdev_mem_add/set */
#define VNET_MEM_UVA	(1u << 0)	/* 'uaddr' is meaningful: ring addresses
					 * may use it, overlaps are refused */
#define VNET_MEM_FILE	(1u << 1)	/* the fd must be a regular file at least
					 * mmap_offset + size long: a shorter one
					 * would SIGBUS us (an untrusted
					 * front-end's memfd or hugetlbfs file) */
#define VNET_MEM_NO_WRITE (1u << 2)	/* an IOTLB entry the device may only
					 * read: mapped read-only, never written */
#define VNET_MEM_NO_READ (1u << 3)	/* ...only write */

struct vnet_netdev;
struct vnet_transport;		/* include/vnet/transport.h, the layer above */

/* The two calls from the device to its driver, through the transport that
 * serves it (the members of the same name of struct vnet_transport_ops). */
typedef int vnet_notify_fn(struct vnet_transport *t, unsigned int index);
typedef void vnet_config_changed_fn(struct vnet_transport *t);

/* Hooks a worker registers. All are optional. */
struct vnet_netdev_ops {
	/* control-queue state changed (VNET_CHG_*): push it to the datapath */
	void (*state_changed)(struct vnet_netdev *dev, __u32 changed, void *opaque);
	/* vring table or memory changed: the worker re-reads vrings[] */
	void (*rings_changed)(struct vnet_netdev *dev, void *opaque);
	/*
	 * The worker writes guest memory only through the engine's logged
	 * paths (virtq.h: vnet_iov_write, the ring layouts) with the log the
	 * device gives its queues: the device may offer dirty-page logging
	 * (live migration) to its driver.
	 */
	bool dirty_log;
};

struct vnet_netdev {
	pthread_mutex_t lock;
	int ctl_waiting;		/* control threads waiting for 'lock' */
	struct vnet_netdev_params params;
	/* the transport serving the device (vnet_netdev_bind_transport) */
	struct vnet_transport *transport;
	vnet_notify_fn *tr_notify;
	vnet_config_changed_fn *tr_config_changed;
	__u16 front_mtu;		/* vhost-user NET_SET_MTU, 0: not told */
	bool rarp_pending;		/* vhost-user SEND_RARP, for the datapath */
	__u8 rarp_mac[6];
	/*
	 * Device features and driver features (valid once set), every bit.
	 * The engine and the workers test bits below 64 only and read the
	 * first word under its old name: 'offered', 'driver'.
	 */
	union {
		struct vnet_features offered_set;
		__u64 offered;
	};
	union {
		struct vnet_features driver_set;
		__u64 driver;
	};
	__u8 status;			/* VIRTIO_CONFIG_S_* */
	bool link_up;
	/* the uplink's speed/duplex not yet shown: they wait for the link to
	 * be down (vnet_netdev_set_speed) */
	bool speed_pending;
	__u8 duplex_next;
	__u32 speed_next;
	bool announce;			/* VIRTIO_NET_S_ANNOUNCE pending */
	struct vnet_guest_mem mem;	/* vnet_netdev_mem_* (dev_mem.c) */
	/* dirty-page logging (dev_log.c): the front-end's bitmap, mapped */
	struct vnet_dirty_log log;
	void *log_mmap;
	size_t log_mmap_len;
	bool log_all;			/* the front-end asked for logging
					 * (vhost-user VHOST_F_LOG_ALL) */
	struct vnet_vring vrings[VNET_NETDEV_MAX_VRINGS];
	unsigned int nvrings;		/* 2 * max_vqp + 1 */
	/* two copies of the control-queue state: changes are made in the
	 * spare one and published by flipping 'cur' (never seen half done) */
	struct vnet_net_state state[2];
	unsigned int cur;
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
struct vnet_features vnet_netdev_default_features(void);

/*
 * spec 5.1.3.1: 0 when 'f' keeps every dependency, else -EINVAL and
 * (if why != NULL) the name of the first broken rule.
 */
int vnet_net_features_check(const struct vnet_features *f, const char **why);
/* 'f' less every bit whose dependency (5.1.3.1) is missing, until none is:
 * the largest subset that keeps the rules. */
struct vnet_features vnet_net_features_closure(const struct vnet_features *f);

int vnet_netdev_create(const struct vnet_netdev_params *p, struct vnet_netdev **out);
void vnet_netdev_destroy(struct vnet_netdev *dev);

void vnet_netdev_set_worker_ops(struct vnet_netdev *dev, const struct vnet_netdev_ops *ops,
			     void *opaque);

/*
 * The transport that serves 'dev' from now on (NULL: none). Takes dev->lock;
 * vnet_transport_bind() calls it with the transport's own ops.
 */
void vnet_netdev_bind_transport(struct vnet_netdev *dev, struct vnet_transport *t,
				vnet_notify_fn *notify, vnet_config_changed_fn *config_changed);

/*
 * Used-buffer notification for ring 'index' (spec 2.7.10), once per burst
 * from the worker, dev->lock held: one indirect call into the transport.
 * 0 when delivered (or nothing to deliver to: a polling driver), -errno
 * when not (-ENOTCONN: no transport).
 */
static inline int vnet_netdev_notify(struct vnet_netdev *dev, unsigned int index)
{
	return dev->tr_notify ? dev->tr_notify(dev->transport, index) : -ENOTCONN;
}

/* Config space changed (link, announce, MAC, NEEDS_RESET): tell the driver. */
void vnet_netdev_config_changed(struct vnet_netdev *dev);

/* --- transport side (caller holds dev->lock unless noted) ---------------- */

/* Features the driver accepts: must be a subset of the offered ones and keep
 * the dependency rules; otherwise -EINVAL and nothing changes. */
int vnet_netdev_set_driver_features(struct vnet_netdev *dev, const struct vnet_features *f);

/* Status write (spec 2.1): 0 resets; FEATURES_OK is kept only when the
 * features are acceptable (spec 3.1.1 step 5: the driver re-reads it). */
void vnet_netdev_set_status(struct vnet_netdev *dev, __u8 status);

/* Reset to the state after power-on: status 0, control state reset,
 * rings forgotten (fds closed) but for their positions (GET_VRING_BASE
 * after a reset answers where the ring stopped), memory kept (the driver's
 * memory table outlives a device reset; vnet_netdev_detach drops it). */
void vnet_netdev_reset(struct vnet_netdev *dev);

/* The driver is gone (vhost-user disconnect): reset, memory unmapped, what
 * the front-end told (its MTU, a pending RARP) forgotten. */
void vnet_netdev_detach(struct vnet_netdev *dev);

/* vhost-user NET_SET_MTU: 68 .. the device's MTU (spec 5.1.4.1), else -EINVAL. */
int vnet_netdev_set_front_mtu(struct vnet_netdev *dev, __u64 mtu);
/* vhost-user SEND_RARP: announce 'mac' (a unicast address, else -EINVAL). */
int vnet_netdev_request_rarp(struct vnet_netdev *dev, const __u8 mac[6]);

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

/* --- ring state (daemon/device/vring.c; dev->lock held) -----------------
 *
 * Every setter checks the index (-EINVAL beyond the device's rings) and its
 * value; a refused call changes nothing. A change bumps the ring's 'gen'
 * and recomputes 'ready' (num, addresses, started and enabled), so the
 * worker rebuilds its queue before it touches the ring again.
 */

/*
 * The ring layout follows the negotiated features (VIRTIO_F_RING_PACKED):
 * the driver sets them before it sets up rings.
 */
static inline bool vnet_netdev_packed(const struct vnet_netdev *dev)
{
	return dev->driver & (1ull << VIRTIO_F_RING_PACKED);
}

/* spec 2.7: a split ring's size is a power of two, 1 .. 32768; 2.8: a
 * packed ring's any size up to 32768 */
int vnet_netdev_vring_set_num(struct vnet_netdev *dev, unsigned int index, __u32 num);
/* spec 2.7.2 alignment (descriptors 16, driver area 2, device area 4) and
 * each part inside one region of the memory table (sized by num, or 1
 * entry before num is known); packed (2.8.10.1): the two areas are 4
 * bytes, aligned 4. -EINVAL misaligned, -EFAULT outside memory */
int vnet_netdev_vring_set_addr(struct vnet_netdev *dev, unsigned int index,
			       const struct vnet_vring_addr *a);
int vnet_netdev_vring_set_base(struct vnet_netdev *dev, unsigned int index,
			       const struct vnet_vring_base *b);
/* Where the worker stopped (it writes its position back after each round). */
int vnet_netdev_vring_get_base(struct vnet_netdev *dev, unsigned int index,
			       struct vnet_vring_base *b);
/* Takes 'fd' (-1: none), also on failure; the one it replaces is closed. */
int vnet_netdev_vring_set_fd(struct vnet_netdev *dev, unsigned int index,
			     enum vnet_vring_fd which, int fd);
/* Start the ring (vhost-user: its kick arrived, with an fd or without for a
 * polling driver); stop it (GET_VRING_BASE): kick fd closed. */
int vnet_netdev_vring_start(struct vnet_netdev *dev, unsigned int index);
int vnet_netdev_vring_stop(struct vnet_netdev *dev, unsigned int index);
/* vhost-user SET_VRING_ENABLE (and every ring without protocol features) */
int vnet_netdev_vring_enable(struct vnet_netdev *dev, unsigned int index, bool on);

/* --- guest memory (daemon/device/dev_mem.c; dev->lock held) --------------
 *
 * The device owns the table and the mappings. Every change makes the worker
 * rebuild every ring before it runs again (its pointers into the old
 * memory die with the change), so a region may be unmapped at once.
 */

/*
 * One region, mapped from 'fd' (taken, also on failure). A region that is
 * already there (same gpa, size, uaddr and offset: QEMU's vhost device of
 * every queue pair sends the same ones) gains a reference instead. One that
 * overlaps another, wraps, or does not fit the table: -EINVAL.
 */
int vnet_netdev_mem_add(struct vnet_netdev *dev, const struct vnet_mem_desc *d, int fd,
			unsigned int flags);
/* The region at d->gpa of d->size: one reference less, unmapped with the
 * last one. -EINVAL when there is none. */
int vnet_netdev_mem_remove(struct vnet_netdev *dev, const struct vnet_mem_desc *d);
/* The whole table at once (vhost-user SET_MEM_TABLE): all or nothing; the
 * fds are taken. */
int vnet_netdev_mem_set(struct vnet_netdev *dev, const struct vnet_mem_desc *d,
			int *fds, unsigned int n, unsigned int flags);
/* Drop every region overlapping [gpa, gpa + len), whatever its references
 * (an IOTLB invalidation: VDUSE_UPDATE_IOTLB). Returns how many went. */
unsigned int vnet_netdev_mem_invalidate(struct vnet_netdev *dev, __u64 gpa, __u64 len);
void vnet_netdev_mem_clear(struct vnet_netdev *dev);

/* --- dirty-page logging (daemon/device/dev_log.c; dev->lock held) --------
 *
 * Live migration: the front-end maps a bitmap of guest pages into the
 * device (dirty_log.h) and turns logging on; from then on every write the
 * worker makes into guest memory marks its pages, receive buffers and
 * used rings alike, until the front-end turns it off. A change of the
 * logging state makes the worker rebuild its queues (they carry the log);
 * a new bitmap while logging replaces the old one in place.
 */

/*
 * The log: 'size' bytes at 'offset' of 'fd' (taken, also on failure),
 * replacing the current one (the front-end resized it). -EINVAL for size
 * 0, more than VNET_LOG_MAX_BYTES, an offset that wraps or a file shorter
 * than offset + size (it would SIGBUS us); -errno of mmap. A refused log
 * leaves the current one in place.
 */
#define VNET_LOG_MAX_BYTES	(1ull << 30)	/* 8 Gi pages: 32 TiB of guest */
int vnet_netdev_log_set_base(struct vnet_netdev *dev, int fd, __u64 size, __u64 offset);
/* Logging on (the front-end starts a migration) or off (done, cancelled).
 * On is refused (-EOPNOTSUPP) for a device whose worker cannot log. */
int vnet_netdev_log_all(struct vnet_netdev *dev, bool on);
/* Unmap the log (the front-end is gone). */
void vnet_netdev_log_clear(struct vnet_netdev *dev);
/* The worker marks what it writes: asked for and a log to mark in. */
static inline bool vnet_netdev_logging(const struct vnet_netdev *dev)
{
	return dev->log_all && dev->log.bitmap;
}
/* Can this device log at all (its worker says so): offer migration. */
static inline bool vnet_netdev_log_capable(const struct vnet_netdev *dev)
{
	return dev->wops && dev->wops->dirty_log;
}

/* Index of the control queue: 2 * max_vqp with MQ or RSS, else 2 (5.1.2). */
unsigned int vnet_netdev_cvq_index(const struct vnet_netdev *dev);
/* Queue pairs usable for data (see device.c). */
unsigned int vnet_netdev_data_pairs(const struct vnet_netdev *dev);

/* --- control-plane side (these take dev->lock) -------------------------- */

/* Driver features (empty until FEATURES_OK) and offered ones; either may be NULL. */
void vnet_netdev_features(struct vnet_netdev *dev, struct vnet_features *driver,
			  struct vnet_features *offered);
__u8 vnet_netdev_status(struct vnet_netdev *dev);
size_t vnet_netdev_read_config(struct vnet_netdev *dev, struct vnet_netdev_config *cfg);
int vnet_netdev_queue_stats(struct vnet_netdev *dev, unsigned int qidx,
			 struct vnet_queue_stats *st);
/* Link up/down: S_LINK_UP in status + config-change notification. */
void vnet_netdev_set_link(struct vnet_netdev *dev, bool up);
/*
 * The link's speed (Mbit/s, 0xffffffff unknown) and duplex (1 full, 0 half,
 * 0xff unknown) for config space; shown at once while the link is down,
 * else when vnet_netdev_set_link() next raises it.
 */
void vnet_netdev_set_speed(struct vnet_netdev *dev, __u32 speed, __u8 duplex);
/* New device MAC (config space + filter) + config-change notification. */
void vnet_netdev_set_mac(struct vnet_netdev *dev, const __u8 mac[6]);
/* Ask the driver to announce itself (S_ANNOUNCE, with GUEST_ANNOUNCE). */
int vnet_netdev_announce(struct vnet_netdev *dev);
/* Migration support and state: can log, is logging (a migration runs). */
void vnet_netdev_migration(struct vnet_netdev *dev, bool *capable, bool *logging);

#endif
