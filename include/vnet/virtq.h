/* SPDX-License-Identifier: MIT */
/*
 * Device side of a virtqueue (the engine). Direction names are the guest's:
 * "out" descriptors are device-readable (driver -> device), "in" descriptors
 * are device-writable (device -> driver).
 *
 * Life of a queue:
 *   vnet_virtq_init(vq, index, &ops, opaque)    once, sets callbacks
 *   vnet_virtq_setup_split(vq, mem, &cfg)       ring addresses -> host ptrs
 *   per kick (or poll): vnet_net_tx_burst()/vnet_net_rx_burst() (net.h),
 *     which use vnet_virtq_pop() / vnet_virtq_push() / vnet_virtq_flush()
 *   vnet_virtq_reset(vq)                         device reset / GET_VRING_BASE
 *
 * Errors a driver can cause inside one chain (bad address, loop, too long,
 * indirect-in-indirect, readable after writable) return that chain with used
 * length 0 and count it in stats.bad_chains: the queue keeps working. Errors
 * that break the ring itself (avail idx more than the queue size ahead, a
 * head index out of range) mark the queue broken and call ops->error(), whose
 * job is to set DEVICE_NEEDS_RESET (spec 2.1.1): the broken queue does
 * nothing until reset; other queues are unaffected.
 *
 * Threading: one queue is driven by one thread at a time.
 */
#ifndef VNET_VIRTQ_H
#define VNET_VIRTQ_H

#include <linux/types.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ring.h>
#include <stdbool.h>

#include <vnet/dirty_log.h>
#include <vnet/guest_mem.h>

#define VNET_VIRTQ_MAX_SIZE	32768	/* spec 2.7: split queue size limit */
#define VNET_CHAIN_MAX_IOV	128	/* our limit on segments of one chain */
#define VNET_VIRTQ_SHADOW	512	/* used entries collected per flush */

struct vnet_virtq;

struct vnet_virtq_ops {
	/* A used buffer notification is due (write the call eventfd). */
	void (*notify)(struct vnet_virtq *vq, void *opaque);
	/* The queue is broken: set DEVICE_NEEDS_RESET. 'err' is -errno. */
	void (*error)(struct vnet_virtq *vq, int err, void *opaque);
};

/* How ring addresses are given (vhost-user without IOMMU: front-end VAs). */
enum vnet_virtq_addr { VNET_VQ_ADDR_GPA = 0, VNET_VQ_ADDR_UVA };

struct vnet_virtq_cfg {
	__u16 size;			/* power of two, 1..32768 */
	__u64 desc, avail, used;	/* ring addresses */
	enum vnet_virtq_addr addr_type;
	__u64 features;			/* negotiated device features */
	__u16 last_avail_idx;		/* vhost-user SET_VRING_BASE */
	/*
	 * Dirty-page logging (migration, dirty_log.h): NULL while off. With
	 * used_log (vhost-user VHOST_VRING_F_LOG) writes to the used ring are
	 * logged at used_log_gpa + their offset in it (the front-end's
	 * log_guest_addr, which need not be inside the memory table).
	 */
	const struct vnet_dirty_log *log;
	bool used_log;
	__u64 used_log_gpa;
};

/* One segment of a chain, already translated and bounds-checked. */
struct vnet_iov {
	__u8 *base;
	__u32 len;
};

struct vnet_chain {
	__u16 head;		/* id for the used ring */
	__u16 nr_out;		/* iov[0 .. nr_out): device-readable */
	__u16 nr_in;		/* iov[nr_out .. nr_out + nr_in): writable */
	__u32 out_len, in_len;	/* bytes (a chain is < 2^32 bytes, 2.7.5) */
	struct vnet_iov iov[VNET_CHAIN_MAX_IOV];
};

struct vnet_virtq_stats {
	__u64 chains;		/* chains popped and handed to the caller */
	__u64 bad_chains;	/* returned with length 0: malformed */
	__u64 notifications;	/* ops->notify calls */
	__u64 suppressed;	/* notifications the driver suppressed */
	__u64 coalesced;	/* notifications deferred by NOTF_COAL */
	__u64 flushes;		/* used->idx publications */
	int last_bad_err;	/* -errno of the last bad chain (tests, logs) */
};

/* Notification coalescing (virtio-net NOTF_COAL, spec 5.1.6.5.9). */
struct vnet_virtq_coal {
	__u32 max_packets;
	__u32 usecs;
	__u32 pending;		/* packets completed since the last decision */
	__u64 first_ns;		/* CLOCK_MONOTONIC of the first pending one */
};

enum vnet_virtq_layout { VNET_VQ_SPLIT = 0 /* , VNET_VQ_PACKED later */ };

struct vnet_used_elem {
	__u32 id, len;
};

struct vnet_virtq_split {
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	__u16 *used_event;	/* avail->ring[size] (EVENT_IDX) */
	__u16 *avail_event;	/* used->ring[size]  (EVENT_IDX) */
	__u16 last_avail_idx;	/* next avail entry to pop */
	__u16 avail_idx_cache;	/* last avail->idx read */
	__u16 used_idx;		/* next used entry (published + shadow) */
	__u16 signalled_used;	/* used idx at the last notify decision */
	__u16 pop_floor;	/* unpop never rewinds below this */
	bool signalled_used_valid;
	bool kicks_off;		/* we asked the driver not to kick */
	__u16 nshadow;
	struct vnet_used_elem shadow[VNET_VIRTQ_SHADOW];
};

struct vnet_virtq {
	/* read on every burst */
	enum vnet_virtq_layout layout;
	bool ready;		/* set up and not broken */
	bool broken;		/* NEEDS_RESET raised, does nothing */
	bool event_idx;
	bool indirect;
	bool in_order;		/* VIRTIO_F_IN_ORDER negotiated */
	__u16 size;
	__u16 index;		/* queue number, for logs and callbacks */
	const struct vnet_guest_mem *mem;
	const struct vnet_dirty_log *log;	/* NULL: not logging (cfg) */
	bool used_log;
	__u64 used_log_gpa;
	const struct vnet_virtq_ops *ops;
	void *opaque;
	struct vnet_virtq_coal coal;
	struct vnet_virtq_stats stats;
	union {
		struct vnet_virtq_split split;
		/* struct vnet_virtq_packed packed; (later) */
	};
};

void vnet_virtq_init(struct vnet_virtq *vq, __u16 index,
		     const struct vnet_virtq_ops *ops, void *opaque);

/* Translate and check the ring addresses; the queue is ready on success. */
int vnet_virtq_setup_split(struct vnet_virtq *vq,
			   const struct vnet_guest_mem *mem,
			   const struct vnet_virtq_cfg *cfg);

/* Stop the queue, forget the rings, zero coalescing (spec 5.1.6.5.9.2). */
void vnet_virtq_reset(struct vnet_virtq *vq);

/* Where the next pop starts (vhost-user GET_VRING_BASE). */
__u16 vnet_virtq_last_avail(const struct vnet_virtq *vq);

/*
 * Pop the next good chain. Returns 1 with 'chain' filled, 0 when the ring is
 * empty, -EIO when the queue is (or just became) broken. Malformed chains
 * are returned to the driver (length 0) and skipped.
 */
int vnet_virtq_pop(struct vnet_virtq *vq, struct vnet_chain *chain);

/*
 * Give back the 'n' most recently popped chains (not pushed yet) so the next
 * pop returns them again. Returns how many were given back: never across a
 * malformed chain that pop already returned to the driver; the caller pushes
 * the rest of its chains itself (length 0).
 */
__u16 vnet_virtq_unpop(struct vnet_virtq *vq, __u16 n);

/*
 * Available buffer notifications ("kicks", spec 2.7.10 device side).
 *
 * A worker that polls turns them off so the driver does not write the kick
 * eventfd for every burst: without EVENT_IDX VRING_USED_F_NO_NOTIFY goes into
 * used->flags, with EVENT_IDX flags stay 0 and avail_event is moved behind
 * the ring position (next kick only after a 16-bit wrap, which is harmless:
 * the device must handle spurious notifications anyway). While kicks are
 * off, vnet_virtq_pop() no longer re-arms avail_event when it finds the ring
 * empty.
 *
 * Before it sleeps on the kick eventfd the worker turns them on again:
 * the request is stored, then a full fence, then avail->idx is re-read,
 * because a driver that published buffers before it saw the request did not
 * kick (the driver does the mirror image: idx, fence, read flags). The
 * return value is the number of buffers available but not popped yet:
 * > 0 means "do not sleep, poll again" (and turn kicks off again).
 *
 * Returns 0 after disabling, >= 0 after enabling, -EIO when the queue is
 * broken. A queue starts with kicks on (setup writes used->flags = 0 and,
 * with EVENT_IDX, avail_event = its position), so callers that never use
 * this keep the old behaviour.
 */
int vnet_virtq_notify_enable(struct vnet_virtq *vq, bool enable);

/* Number of avail entries not popped yet (reads avail->idx). */
__u16 vnet_virtq_avail_count(struct vnet_virtq *vq);

/* Record a used entry in the shadow ring (flushed when full). */
void vnet_virtq_push(struct vnet_virtq *vq, __u16 head, __u32 len);

/*
 * Return a popped chain unused (length 0); unpop will not cross it.
 * With VIRTIO_F_IN_ORDER (spec 2.7.9: buffers are used in the order they
 * were made available) a discard while earlier popped chains are still
 * unpushed (a merged receive frame in progress) cannot keep that order: the
 * queue is marked broken instead (DEVICE_NEEDS_RESET). Only a driver that
 * posted a malformed buffer gets there.
 */
void vnet_virtq_discard(struct vnet_virtq *vq, __u16 head);

/* Room left in the shadow before a push publishes it. */
__u16 vnet_virtq_shadow_room(const struct vnet_virtq *vq);

/* Publish the shadow entries now, without a notification. */
void vnet_virtq_publish(struct vnet_virtq *vq);

/*
 * Publish the shadow entries with one release store of used->idx, then
 * notify the driver unless suppressed (flags / EVENT_IDX) or coalesced.
 * 'packets' counts completed packets for NOTF_COAL.
 */
void vnet_virtq_flush(struct vnet_virtq *vq, __u32 packets);

/* NOTF_COAL parameters; 0/0 notifies at once (the reset state). */
void vnet_virtq_set_coalesce(struct vnet_virtq *vq, __u32 max_packets,
			     __u32 usecs);

/*
 * Coalescing timer: the CLOCK_MONOTONIC time (ns) at which a deferred
 * notification is due, or 0 when none is pending. The worker calls
 * vnet_virtq_coal_expire() once that time has passed.
 */
__u64 vnet_virtq_coal_deadline(const struct vnet_virtq *vq);
void vnet_virtq_coal_expire(struct vnet_virtq *vq, __u64 now_ns);

/*
 * Copy between a chain's segments and linear memory; return bytes copied.
 * Every write into guest buffers goes through vnet_iov_write(), with the
 * queue the chain came from: while the queue logs (migration) it marks the
 * pages it wrote, exactly those.
 */
__u32 vnet_iov_read(const struct vnet_iov *iov, unsigned int n, __u32 off,
		    void *dst, __u32 len);
__u32 vnet_iov_write(const struct vnet_virtq *vq, const struct vnet_iov *iov,
		     unsigned int n, __u32 off, const void *src, __u32 len);

/*
 * A ring layout wrote [off, off + len) of its used ring (device area): log
 * it while the queue logs and the front-end asked for used-ring logging.
 * Called after the write, by every layout, for every write it makes there.
 */
static inline void vnet_virtq_log_used(const struct vnet_virtq *vq, __u64 off, __u64 len)
{
	if (__builtin_expect(vq->log != NULL, 0) && vq->used_log)
		vnet_dirty_log_mark(vq->log, vq->used_log_gpa + off, len);
}

__u64 vnet_now_ns(void);

#endif
