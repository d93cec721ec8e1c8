/* SPDX-License-Identifier: MIT */
/*
 * Device side of a virtqueue (the engine). Direction names are the guest's:
 * "out" descriptors are device-readable (driver -> device), "in" descriptors
 * are device-writable (device -> driver).
 *
 * Two ring layouts (spec 2.7 split, 2.8 packed; VIRTIO_F_RING_PACKED picks
 * one): virtq_split.c and virtq_packed.c, over the shared part in virtq.c.
 *
 * Life of a queue:
 *   vnet_virtq_init(vq, index, &ops, opaque)    once, sets callbacks
 *   vnet_virtq_setup(vq, mem, &cfg)             ring addresses -> host ptrs
 *     (the layout from cfg.features; _setup_split/_setup_packed directly)
 *   per kick (or poll): vnet_net_tx_burst()/vnet_net_rx_burst() (net.h),
 *     which use vnet_virtq_pop() / vnet_virtq_push() / vnet_virtq_flush()
 *   vnet_virtq_reset(vq)                         device reset / GET_VRING_BASE
 *
 * The layout is decided once per burst: burst code reads vq->layout once and
 * passes it as a constant to the vnet_vq_*() inlines below (pop, unpop,
 * discard), so the per-chain calls go straight to one layout's code. The
 * vnet_virtq_*() names dispatch per call, for everything that is not a burst.
 *
 * Errors a driver can cause inside one chain (bad address, loop, too long,
 * indirect-in-indirect, readable after writable, bad flags) return that chain
 * with used length 0 and count it in stats.bad_chains: the queue keeps
 * working. Errors that break the ring itself (split: avail idx more than the
 * queue size ahead, a head index out of range; packed: a chain running into
 * descriptors the driver did not make available) mark the queue broken and
 * call ops->error(), whose job is to set DEVICE_NEEDS_RESET (spec 2.1.1): the
 * broken queue does nothing until reset; other queues are unaffected.
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

#define VNET_VIRTQ_MAX_SIZE	32768	/* spec 2.7 / 2.8: queue size limit */
#define VNET_CHAIN_MAX_IOV	128	/* our limit on segments of one chain */
#define VNET_VIRTQ_SHADOW	512	/* used entries collected per flush */
#define VNET_VIRTQ_UNPOP_MAX	256	/* packed: pops unpop can take back */

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
	__u16 size;			/* 1..32768; split: a power of two */
	/* split: descriptor table, avail ring, used ring; packed (2.8):
	 * descriptor ring, driver area (driver event suppression), device
	 * area (device event suppression) */
	__u64 desc, avail, used;
	enum vnet_virtq_addr addr_type;
	__u64 features;			/* negotiated device features */
	/*
	 * Where the queue resumes (vhost-user SET_VRING_BASE). Split: the
	 * next avail index (used idx starts there too). Packed: bits 0-14 the
	 * next descriptor to read, bit 15 the driver's wrap counter there
	 * (a new ring: 1 << 15); last_used_idx the same for the next used
	 * descriptor and the device's wrap counter.
	 */
	__u16 last_avail_idx;
	__u16 last_used_idx;		/* packed only */
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

/* Packed positions as vhost-user and the cfg carry them: index | wrap << 15 */
#define VNET_VQ_WRAP		0x8000

/* One segment of a chain, already translated and bounds-checked. */
struct vnet_iov {
	__u8 *base;
	__u32 len;
};

/*
 * Split: the head index. Packed: the buffer id (bits 0-15), the ring
 * descriptors the chain took, minus one (bits 16-30), and whether the chain
 * has device-writable buffers (bit 31 clear) or is read-only (set: used
 * without a length, see IN_ORDER in virtq_packed.c). Opaque to callers: what
 * pop gives, push takes.
 */
#define VNET_CHAIN_RO		0x80000000u
static inline __u16 vnet_chain_id(__u32 head)
{
	return (__u16)head;
}

struct vnet_chain {
	__u32 head;		/* token for the used ring (above) */
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
	__u64 flushes;		/* used ring publications */
	int last_bad_err;	/* -errno of the last bad chain (tests, logs) */
};

/* Notification coalescing (virtio-net NOTF_COAL, spec 5.1.6.5.9). */
struct vnet_virtq_coal {
	__u32 max_packets;
	__u32 usecs;
	__u32 pending;		/* packets completed since the last decision */
	__u64 first_ns;		/* CLOCK_MONOTONIC of the first pending one */
};

enum vnet_virtq_layout { VNET_VQ_SPLIT = 0, VNET_VQ_PACKED };

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
};

/* Spec 2.8. Positions are an index (0..size-1) and a wrap counter. */
struct vnet_virtq_packed {
	struct vring_packed_desc *desc;
	struct vring_packed_desc_event *driver;	/* read: used notifications */
	struct vring_packed_desc_event *device;	/* written: kicks */
	/* guest addresses of the two parts we write, for the dirty log */
	__u64 desc_gpa, device_gpa;
	__u16 avail_idx;	/* next descriptor to read */
	bool avail_wrap;	/* the driver's wrap counter we expect there */
	bool used_wrap;		/* the device's wrap counter at used_idx */
	__u16 used_idx;		/* where the next used descriptor goes */
	__u16 signalled;	/* used position at the last notify decision */
	bool signalled_valid;
	bool kicks_off;		/* we asked the driver not to kick */
	__u32 since_signal;	/* descriptors used since the last decision */
	/* positions before the last pops (index | wrap << 15), for unpop */
	__u16 hist_n, hist_at;
	__u16 hist[VNET_VIRTQ_UNPOP_MAX];
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
	__u16 nshadow;		/* used entries not published yet */
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
		struct vnet_virtq_packed packed;
	};
	struct vnet_used_elem shadow[VNET_VIRTQ_SHADOW];
};

void vnet_virtq_init(struct vnet_virtq *vq, __u16 index,
		     const struct vnet_virtq_ops *ops, void *opaque);

/*
 * Translate and check the ring addresses; the queue is ready on success.
 * vnet_virtq_setup() picks the layout from cfg->features.
 */
int vnet_virtq_setup(struct vnet_virtq *vq, const struct vnet_guest_mem *mem,
		     const struct vnet_virtq_cfg *cfg);
int vnet_virtq_setup_split(struct vnet_virtq *vq,
			   const struct vnet_guest_mem *mem,
			   const struct vnet_virtq_cfg *cfg);
int vnet_virtq_setup_packed(struct vnet_virtq *vq,
			    const struct vnet_guest_mem *mem,
			    const struct vnet_virtq_cfg *cfg);

/* Stop the queue, forget the rings, zero coalescing (spec 5.1.6.5.9.2). */
void vnet_virtq_reset(struct vnet_virtq *vq);

/*
 * Where the next pop starts and the next used entry goes (vhost-user
 * GET_VRING_BASE), in the cfg's encoding: split, the avail (and used) index;
 * packed, index | wrap counter << 15.
 */
__u16 vnet_virtq_last_avail(const struct vnet_virtq *vq);
__u16 vnet_virtq_last_used(const struct vnet_virtq *vq);

/* The layouts' halves; burst code calls them through vnet_vq_*() below. */
int vnet_split_pop(struct vnet_virtq *vq, struct vnet_chain *chain);
int vnet_packed_pop(struct vnet_virtq *vq, struct vnet_chain *chain);
__u16 vnet_split_unpop(struct vnet_virtq *vq, __u16 n);
__u16 vnet_packed_unpop(struct vnet_virtq *vq, __u16 n);
void vnet_split_discard(struct vnet_virtq *vq, __u32 head);
void vnet_packed_discard(struct vnet_virtq *vq, __u32 head);

/*
 * Pop the next good chain. Returns 1 with 'chain' filled, 0 when the ring is
 * empty, -EIO when the queue is (or just became) broken. Malformed chains
 * are returned to the driver (length 0) and skipped.
 */
static inline __attribute__((always_inline)) int
vnet_vq_pop(struct vnet_virtq *vq, struct vnet_chain *chain,
	    enum vnet_virtq_layout l)
{
	return l == VNET_VQ_PACKED ? vnet_packed_pop(vq, chain)
				   : vnet_split_pop(vq, chain);
}

static inline int vnet_virtq_pop(struct vnet_virtq *vq, struct vnet_chain *chain)
{
	return vnet_vq_pop(vq, chain, vq->layout);
}

/*
 * Give back the 'n' most recently popped chains (not pushed yet) so the next
 * pop returns them again. Returns how many were given back: never across a
 * malformed chain that pop already returned to the driver (packed: nor more
 * than VNET_VIRTQ_UNPOP_MAX); the caller pushes the rest of its chains
 * itself (length 0).
 */
static inline __attribute__((always_inline)) __u16
vnet_vq_unpop(struct vnet_virtq *vq, __u16 n, enum vnet_virtq_layout l)
{
	return l == VNET_VQ_PACKED ? vnet_packed_unpop(vq, n)
				   : vnet_split_unpop(vq, n);
}

static inline __u16 vnet_virtq_unpop(struct vnet_virtq *vq, __u16 n)
{
	return vnet_vq_unpop(vq, n, vq->layout);
}

/*
 * Available buffer notifications ("kicks", spec 2.7.10 / 2.8.10 device side).
 *
 * A worker that polls turns them off so the driver does not write the kick
 * eventfd for every burst. Split: without EVENT_IDX VRING_USED_F_NO_NOTIFY
 * goes into used->flags, with EVENT_IDX flags stay 0 and avail_event is
 * moved behind the ring position (next kick only after a 16-bit wrap, which
 * is harmless: the device must handle spurious notifications anyway).
 * Packed: the device area says DISABLE. While kicks are off,
 * vnet_virtq_pop() no longer re-arms the event when it finds the ring empty.
 *
 * Before it sleeps on the kick eventfd the worker turns them on again:
 * the request is stored, then a full fence, then the ring is looked at
 * again, because a driver that published buffers before it saw the request
 * did not kick (the driver does the mirror image: publish, fence, read the
 * request). The return value is the number of buffers available but not
 * popped yet (packed: 1 when there is one, not counted): > 0 means "do not
 * sleep, poll again" (and turn kicks off again).
 *
 * Returns 0 after disabling, >= 0 after enabling, -EIO when the queue is
 * broken. A queue starts with kicks on (setup writes used->flags = 0 and,
 * with EVENT_IDX, avail_event = its position; packed: ENABLE, or DESC at
 * its position), so callers that never use this keep the old behaviour.
 */
int vnet_virtq_notify_enable(struct vnet_virtq *vq, bool enable);

/*
 * Buffers available and not popped yet: split, avail entries (reads
 * avail->idx); packed, descriptors made available ahead of us.
 */
__u16 vnet_virtq_avail_count(struct vnet_virtq *vq);

/* Record a used entry in the shadow (published when full). */
void vnet_virtq_push(struct vnet_virtq *vq, __u32 head, __u32 len);

/*
 * Return a popped chain unused (length 0); unpop will not cross it.
 * With VIRTIO_F_IN_ORDER (spec 2.7.9: buffers are used in the order they
 * were made available) a discard while earlier popped chains are still
 * unpushed (a merged receive frame in progress) cannot keep that order: the
 * queue is marked broken instead (DEVICE_NEEDS_RESET). Only a driver that
 * posted a malformed buffer gets there.
 */
static inline __attribute__((always_inline)) void
vnet_vq_discard(struct vnet_virtq *vq, __u32 head, enum vnet_virtq_layout l)
{
	if (l == VNET_VQ_PACKED)
		vnet_packed_discard(vq, head);
	else
		vnet_split_discard(vq, head);
}

static inline void vnet_virtq_discard(struct vnet_virtq *vq, __u32 head)
{
	vnet_vq_discard(vq, head, vq->layout);
}

/* Room left in the shadow before a push publishes it. */
__u16 vnet_virtq_shadow_room(const struct vnet_virtq *vq);

/* Publish the shadow entries now, without a notification. */
void vnet_virtq_publish(struct vnet_virtq *vq);

/*
 * Publish the shadow entries with one release store (split: used->idx;
 * packed: the flags of the batch's first used descriptor, written last),
 * then notify the driver unless suppressed (flags / EVENT_IDX / packed
 * event suppression) or coalesced. 'packets' counts completed packets for
 * NOTF_COAL.
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
 * The split layout wrote [off, off + len) of its used ring: log it (at
 * log_guest_addr + off) while the queue logs and the front-end asked for
 * used-ring logging. Called after every write there. A packed ring logs
 * its descriptor ring and device area at their own guest addresses
 * (virtq_packed.c): log_guest_addr names a split used ring.
 */
static inline void vnet_virtq_log_used(const struct vnet_virtq *vq, __u64 off, __u64 len)
{
	if (__builtin_expect(vq->log != NULL, 0) && vq->used_log)
		vnet_dirty_log_mark(vq->log, vq->used_log_gpa + off, len);
}

__u64 vnet_now_ns(void);

#endif
