// SPDX-License-Identifier: MIT
/*
 * Packed virtqueue, device side (spec 2.8, shared/spec/packed-ring.tex); the
 * part both layouts share is virtq.c.
 *
 * One descriptor ring that both sides write. A descriptor is available when
 * its AVAIL flag equals the driver's wrap counter and its USED flag does not
 * (2.8.1); the device reads the ring in order from its position, and writes
 * used descriptors in order from its used position, each one skipping the
 * descriptors of the buffer it returns (2.8.2, 2.8.6). Positions are an
 * index and a wrap counter; the size need not be a power of two.
 *
 * As for split rings, everything the driver wrote is read once into a local
 * copy before it is checked and used, and every address goes through
 * guest_mem. A malformed chain is returned with length 0; a ring the driver
 * broke (a list running into descriptors it did not make available) calls
 * ops->error (DEVICE_NEEDS_RESET).
 */
#include <endian.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include <vnet/log.h>

#include "virtq_int.h"

#define DESC_SIZE	sizeof(struct vring_packed_desc)	/* 16 */
#define F_AVAIL		(1u << VRING_PACKED_DESC_F_AVAIL)
#define F_USED		(1u << VRING_PACKED_DESC_F_USED)
#define HIST_MASK	(VNET_VIRTQ_UNPOP_MAX - 1)

_Static_assert((VNET_VIRTQ_UNPOP_MAX & HIST_MASK) == 0, "a power of two");

/* 2.8.1: available = AVAIL matches the driver's wrap counter, USED not */
static inline bool desc_avail(__u16 flags, bool wrap)
{
	return !!(flags & F_AVAIL) == wrap && !!(flags & F_USED) != wrap;
}

static inline void pos_advance(const struct vnet_virtq *vq, __u16 *idx,
			       bool *wrap, __u32 n)
{
	__u32 at = *idx + n;

	/* n <= size: at most one lap, no division on the per-chain path */
	if (__builtin_expect(n > vq->size, 0)) {
		/* only a caller pushing ids pop never gave */
		at = *idx + n % vq->size;
		if ((n / vq->size) & 1)
			*wrap = !*wrap;
	}
	if (at >= vq->size) {
		at -= vq->size;
		*wrap = !*wrap;
	}
	*idx = (__u16)at;
}

/*
 * A position on one scale that runs over two laps, [0, 2 * size): moving
 * by k moves it by k modulo 2 * size. Event suppression compares these.
 */
static inline __u32 pos_ext(const struct vnet_virtq *vq, __u16 idx, bool wrap)
{
	return wrap ? idx : (__u32)idx + vq->size;
}

static inline __u16 pos_encode(__u16 idx, bool wrap)
{
	return idx | (wrap ? VNET_VQ_WRAP : 0);
}

static inline __u32 token_ndesc(__u32 head)
{
	return ((head >> 16) & 0x7fff) + 1;
}

/*
 * Ask for kicks or not (2.8.10 "Driver and Device Event Suppression": the
 * device area is ours). Off: DISABLE, which every driver reads first (the
 * spec's example, Linux, DPDK). On: with EVENT_IDX a descriptor event at
 * our position (a kick when the driver makes that descriptor available),
 * else ENABLE. Relaxed stores, the callers order them.
 */
/*
 * Dirty-page logging of what this layout writes into the ring: used
 * descriptors (the descriptor ring) and the device event suppression
 * area, marked after the write like the split layout's used ring, while
 * the queue logs and the front-end asked for ring logging (vhost-user
 * VHOST_VRING_F_LOG). At the guest addresses the memory table gives the
 * ring (found at setup): log_guest_addr names the split used ring, and a
 * packed ring has none.
 */
static inline bool ring_logging(const struct vnet_virtq *vq)
{
	return __builtin_expect(vq->log != NULL, 0) && vq->used_log;
}

#define OFF_WRAP_OFF	offsetof(struct vring_packed_desc_event, off_wrap)
#define EV_FLAGS_OFF	offsetof(struct vring_packed_desc_event, flags)

static inline void device_area_log(const struct vnet_virtq *vq, __u64 off)
{
	if (ring_logging(vq))
		vnet_dirty_log_mark(vq->log, vq->packed.device_gpa + off, 2);
}

/* the used descriptors at[0..n): one mark per page they touch in a row */
static void used_desc_log(const struct vnet_virtq *vq, const __u16 *at, __u16 n)
{
	__u64 base = vq->packed.desc_gpa, page = ~0ull;

	for (__u16 k = 0; k < n; k++) {
		__u64 gpa = base + (__u64)DESC_SIZE * at[k];

		/* a descriptor is 16-aligned: it never straddles a page */
		if (gpa >> VNET_LOG_PAGE_SHIFT == page)
			continue;
		page = gpa >> VNET_LOG_PAGE_SHIFT;
		vnet_dirty_log_mark(vq->log, gpa, DESC_SIZE);
	}
}

static void kick_request(struct vnet_virtq *vq, bool on)
{
	struct vnet_virtq_packed *p = &vq->packed;
	__u16 flags = VRING_PACKED_EVENT_FLAG_DISABLE;

	p->kicks_off = !on;
	if (on && vq->event_idx) {
		__atomic_store_n(&p->device->off_wrap,
				 htole16(pos_encode(p->avail_idx, p->avail_wrap)),
				 __ATOMIC_RELAXED);
		device_area_log(vq, OFF_WRAP_OFF);
		flags = VRING_PACKED_EVENT_FLAG_DESC;
	} else if (on) {
		flags = VRING_PACKED_EVENT_FLAG_ENABLE;
	}
	__atomic_store_n(&p->device->flags, htole16(flags), __ATOMIC_RELAXED);
	device_area_log(vq, EV_FLAGS_OFF);
}

int vnet_virtq_setup_packed(struct vnet_virtq *vq,
			    const struct vnet_guest_mem *mem,
			    const struct vnet_virtq_cfg *cfg)
{
	/* 2.8.10.1: descriptor ring 16 * size, aligned 16; areas 4, aligned 4 */
	static const unsigned int align[3] = { 16, 4, 4 };
	struct vnet_virtq_packed *p = &vq->packed;
	__u16 avail = cfg->last_avail_idx & ~VNET_VQ_WRAP;
	__u16 used = cfg->last_used_idx & ~VNET_VQ_WRAP;
	__u32 size = cfg->size;
	const __u64 len[3] = { (__u64)DESC_SIZE * size, 4, 4 };
	__u64 desc_gpa, device_gpa;
	void *r[3];

	/* 2.8: up to 2^15 entries, any number */
	if (!size || size > VNET_VIRTQ_MAX_SIZE || avail >= size || used >= size)
		return -EINVAL;
	if (vq_rings_translate(vq, mem, cfg, len, align, r))
		return -EFAULT;
	/* each part lies in one region (translated whole): it has a gpa */
	if (vnet_hva_to_gpa(mem, r[0], len[0], &desc_gpa) ||
	    vnet_hva_to_gpa(mem, r[2], len[2], &device_gpa)) {
		pr_warn("vq %u: ring has no guest address\n", vq->index);
		return -EFAULT;
	}

	memset(p, 0, sizeof(*p));
	vq_setup_common(vq, mem, cfg, VNET_VQ_PACKED);
	p->desc = r[0];
	p->driver = r[1];
	p->device = r[2];
	p->desc_gpa = desc_gpa;
	p->device_gpa = device_gpa;
	p->avail_idx = avail;
	p->avail_wrap = cfg->last_avail_idx & VNET_VQ_WRAP;
	p->used_idx = used;
	p->used_wrap = cfg->last_used_idx & VNET_VQ_WRAP;
	/* as for split rings: kicks on, whatever an earlier worker left */
	kick_request(vq, true);
	return 0;
}

__u16 vq_packed_last_avail(const struct vnet_virtq *vq)
{
	return pos_encode(vq->packed.avail_idx, vq->packed.avail_wrap);
}

__u16 vq_packed_last_used(const struct vnet_virtq *vq)
{
	return pos_encode(vq->packed.used_idx, vq->packed.used_wrap);
}

static inline __u16 flags_acquire(const struct vnet_virtq_packed *p, __u16 idx)
{
	/* pairs with the driver's barrier before its flags store (2.8.21.1.1) */
	return le16toh(__atomic_load_n(&p->desc[idx].flags, __ATOMIC_ACQUIRE));
}

/* Chains made available ahead of us (walks the ring, at most one lap). */
__u16 vq_packed_avail_count(struct vnet_virtq *vq)
{
	const struct vnet_virtq_packed *p = &vq->packed;
	__u16 idx = p->avail_idx, n = 0;
	bool wrap = p->avail_wrap;

	for (__u32 k = 0; k < vq->size; k++) {
		__u16 flags = flags_acquire(p, idx);

		if (!desc_avail(flags, wrap))
			break;
		if (!(flags & VRING_DESC_F_NEXT))
			n++;
		pos_advance(vq, &idx, &wrap, 1);
	}
	return n;
}

int vq_packed_notify_enable(struct vnet_virtq *vq, bool enable)
{
	kick_request(vq, enable);
	if (!enable)
		return 0;
	/*
	 * The request must be visible before we look at the ring, and the
	 * driver makes descriptors available before it reads the device area
	 * (2.8.21.2, with a full barrier): one of us sees the other.
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	/* > 0 is all the caller asks: look at the next descriptor only (a
	 * receive queue full of posted buffers would be a walk of the ring) */
	return desc_avail(flags_acquire(&vq->packed, vq->packed.avail_idx),
			  vq->packed.avail_wrap);
}

/* An indirect table (2.8.7): only WRITE counts in its entries. */
static int indirect_take(struct vnet_virtq *vq, struct vnet_chain *c,
			 __u64 addr, __u32 len)
{
	__u64 tlen = len;
	const __u8 *t;
	__u32 n, i;
	int err;

	if (!len || len % DESC_SIZE)
		return -EINVAL;
	n = len / DESC_SIZE;
	/* 2.8.5: no list longer than the queue size */
	if (n > vq->size)
		return -ELOOP;
	t = vnet_gpa_to_hva(vq->mem, addr, &tlen, VNET_MEM_READ);
	if (!t || tlen != len)
		return -EFAULT;
	for (i = 0; i < n; i++) {
		struct vring_packed_desc e;
		__u16 flags;
		__u32 elen;

		/* read once; the table may be unaligned */
		memcpy(&e, t + (size_t)i * DESC_SIZE, sizeof(e));
		flags = le16toh(e.flags);
		elen = le32toh(e.len);
		/*
		 * 2.8.19: the driver sets no flag but WRITE in a table; the
		 * others are ignored (DPDK's driver sets NEXT and the ring
		 * bits there), but a nested table is refused as for split
		 * rings.
		 */
		if (flags & VRING_DESC_F_INDIRECT)
			return -EINVAL;
		if (!elen)
			continue;
		err = vq_chain_add(vq, c, le64toh(e.addr), elen,
				   flags & VRING_DESC_F_WRITE);
		if (err)
			return err;
	}
	return 0;
}

/* One descriptor of the ring; 'listed': not the first of its list. */
static int desc_take(struct vnet_virtq *vq, struct vnet_chain *c,
		     const struct vring_packed_desc *d, __u16 flags, bool listed)
{
	__u32 len = le32toh(d->len);

	if (flags & VRING_DESC_F_INDIRECT) {
		/* 2.8.19: only when negotiated, never in a NEXT list */
		if (!vq->indirect || listed || (flags & VRING_DESC_F_NEXT))
			return -EINVAL;
		return indirect_take(vq, c, le64toh(d->addr), len);
	}
	if (!len)	/* a zero-length buffer has nothing to map */
		return 0;
	return vq_chain_add(vq, c, le64toh(d->addr), len,
			    flags & VRING_DESC_F_WRITE);
}

/*
 * Walk the list at our position (2.8.6). Returns 0 or the -errno of a
 * malformed chain, with *ndesc and c->head set either way (a bad chain is
 * still returned with its id and skipped), or -EPROTO when the list does not
 * consist of available descriptors: the driver makes every descriptor of a
 * list available before the first (2.8.17), so a list running into one that
 * is not is a broken ring, and where the next buffer starts is unknown.
 */
static int chain_walk(struct vnet_virtq *vq, struct vnet_chain *c,
		      __u32 *ndesc)
{
	const struct vnet_virtq_packed *p = &vq->packed;
	__u16 idx = p->avail_idx, id = 0, flags;
	bool wrap = p->avail_wrap;
	int err = 0;
	__u32 n = 0;

	vq_chain_start(c);
	do {
		struct vring_packed_desc d;

		if (n == vq->size)
			return -EPROTO;
		memcpy(&d, &p->desc[idx], sizeof(d));
		flags = le16toh(d.flags);
		if (!desc_avail(flags, wrap))
			return -EPROTO;
		n++;
		/* 2.8.6: the buffer id is in the last descriptor */
		id = le16toh(d.id);
		if (!err)
			err = desc_take(vq, c, &d, flags, n > 1);
		pos_advance(vq, &idx, &wrap, 1);
	} while (flags & VRING_DESC_F_NEXT);
	*ndesc = n;
	c->head = id | (n - 1) << 16 | (!err && !c->nr_in ? VNET_CHAIN_RO : 0);
	return err;
}

/*
 * Start loading the buffer of the descriptor a few ahead (the next chains,
 * when they are single descriptors, the common case) and the descriptors
 * two lines on. A stale descriptor only wastes a prefetch.
 */
#define VNET_PREFETCH_DATA	3

static inline void prefetch_ahead(const struct vnet_virtq *vq)
{
	const struct vnet_virtq_packed *p = &vq->packed;
	__u16 idx = p->avail_idx, flags;
	bool wrap = p->avail_wrap;
	struct vring_packed_desc d;

	pos_advance(vq, &idx, &wrap, VNET_PREFETCH_DATA < vq->size ? VNET_PREFETCH_DATA : 0);
	if (idx + 8u < vq->size)
		__builtin_prefetch(&p->desc[idx + 8u]);
	memcpy(&d, &p->desc[idx], sizeof(d));
	flags = le16toh(d.flags);
	if (!desc_avail(flags, wrap) || (flags & VRING_DESC_F_INDIRECT))
		return;
	vq_prefetch_buf(vq, le64toh(d.addr), flags & VRING_DESC_F_WRITE);
}

int vnet_packed_pop(struct vnet_virtq *vq, struct vnet_chain *chain)
{
	struct vnet_virtq_packed *p = &vq->packed;
	__u32 ndesc;
	int err;

	if (!vq->ready)
		return vq->broken ? -EIO : 0;
	for (;;) {
		if (!desc_avail(flags_acquire(p, p->avail_idx), p->avail_wrap)) {
			if (!vq->event_idx || p->kicks_off)
				return 0;
			/*
			 * Ask for a kick at this descriptor, then look again:
			 * the driver may have made it available before it
			 * saw the request (2.8.21.2).
			 */
			__atomic_store_n(&p->device->off_wrap,
					 htole16(pos_encode(p->avail_idx, p->avail_wrap)),
					 __ATOMIC_RELAXED);
			device_area_log(vq, OFF_WRAP_OFF);
			__atomic_thread_fence(__ATOMIC_SEQ_CST);
			if (!desc_avail(flags_acquire(p, p->avail_idx), p->avail_wrap))
				return 0;
		}
		err = chain_walk(vq, chain, &ndesc);
		if (err == -EPROTO) {
			vq_fail(vq, err, "descriptor list runs into descriptors not made available");
			return -EIO;
		}
		/* where this chain started, for unpop */
		p->hist[p->hist_at] = pos_encode(p->avail_idx, p->avail_wrap);
		p->hist_at = (p->hist_at + 1) & HIST_MASK;
		if (p->hist_n < VNET_VIRTQ_UNPOP_MAX)
			p->hist_n++;
		pos_advance(vq, &p->avail_idx, &p->avail_wrap, ndesc);
		prefetch_ahead(vq);
		if (!err) {
			vq->stats.chains++;
			return 1;
		}
		pr_debug("vq %u: bad chain, id %u: %d\n", vq->index,
			 vnet_chain_id(chain->head), err);
		vq_bad_chain(vq, err);
		vnet_packed_discard(vq, chain->head);
		if (vq->broken)
			return -EIO;	/* IN_ORDER could not be kept */
	}
}

void vnet_packed_discard(struct vnet_virtq *vq, __u32 head)
{
	struct vnet_virtq_packed *p = &vq->packed;
	/* descriptors popped and not pushed yet, this chain's included */
	__u32 m = 2u * vq->size;
	int held = (int)((pos_ext(vq, p->avail_idx, p->avail_wrap) + m -
			  pos_ext(vq, p->used_idx, p->used_wrap)) % m);

	for (__u16 i = 0; i < vq->nshadow; i++)
		held -= (int)token_ndesc(vq->shadow[i].id);
	if (vq->in_order && held > (int)token_ndesc(head)) {
		/* 2.8.8 / 2.7.9: returning it now would overtake the held ones */
		vq_fail(vq, -EPROTO, "malformed buffer inside a frame (IN_ORDER)");
		return;
	}
	vnet_virtq_push(vq, head, 0);
	p->hist_n = 0;	/* no unpop across */
}

__u16 vnet_packed_unpop(struct vnet_virtq *vq, __u16 n)
{
	struct vnet_virtq_packed *p = &vq->packed;
	__u16 pos;

	if (n > p->hist_n)
		n = p->hist_n;
	if (!n)
		return 0;
	p->hist_at = (p->hist_at - n) & HIST_MASK;
	p->hist_n -= n;
	pos = p->hist[p->hist_at];
	p->avail_idx = pos & ~VNET_VQ_WRAP;
	p->avail_wrap = pos & VNET_VQ_WRAP;
	return n;
}

/*
 * Write the shadow as used descriptors (2.8.2): each at the used position,
 * which then skips the descriptors of that buffer. Ids and lengths of the
 * whole batch first, then the flags, the batch's first descriptor last with
 * one release store: the driver polls only that one (2.8.2), and the first
 * buffer of a multi-buffer frame is marked used after the rest (2.8.9).
 *
 * With IN_ORDER (2.8.8) a run of read-only buffers (transmit) gets one used
 * descriptor with the id of the run's last buffer; the driver takes the
 * skipped ones as used in full. Buffers the device wrote keep their own
 * lengths, so they are never folded.
 */
void vq_packed_publish(struct vnet_virtq *vq)
{
	struct vnet_virtq_packed *p = &vq->packed;
	__u16 at[VNET_VIRTQ_SHADOW], fl[VNET_VIRTQ_SHADOW];
	__u16 idx = p->used_idx, n = 0, i, k;
	bool wrap = p->used_wrap;
	__u32 total = 0;

	for (i = 0; i < vq->nshadow; i++) {
		__u32 head = vq->shadow[i].id, len = vq->shadow[i].len;
		__u32 ndesc = token_ndesc(head);
		struct vring_packed_desc *d = &p->desc[idx];

		if (vq->in_order && (head & VNET_CHAIN_RO) && !len) {
			while (i + 1 < vq->nshadow && !vq->shadow[i + 1].len &&
			       (vq->shadow[i + 1].id & VNET_CHAIN_RO)) {
				head = vq->shadow[++i].id;
				ndesc += token_ndesc(head);
			}
		}
		d->id = htole16(vnet_chain_id(head));
		d->len = htole32(len);
		/* 2.8.1: used = AVAIL and USED both equal to our wrap counter;
		 * 2.8.3: WRITE when we wrote into the buffer */
		at[n] = idx;
		fl[n++] = (wrap ? F_AVAIL | F_USED : 0) | (len ? VRING_DESC_F_WRITE : 0);
		pos_advance(vq, &idx, &wrap, ndesc);
		total += ndesc;
	}
	__atomic_thread_fence(__ATOMIC_RELEASE);
	for (k = 1; k < n; k++)
		__atomic_store_n(&p->desc[at[k]].flags, htole16(fl[k]), __ATOMIC_RELAXED);
	__atomic_store_n(&p->desc[at[0]].flags, htole16(fl[0]), __ATOMIC_RELEASE);
	if (ring_logging(vq))
		used_desc_log(vq, at, n);	/* once per burst */
	p->used_idx = idx;
	p->used_wrap = wrap;
	p->since_signal += total;
	vq->nshadow = 0;
	vq->stats.flushes++;
}

/* Used buffer notification suppression (2.8.10, 2.8.14), after a fence. */
bool vq_packed_need_notify(struct vnet_virtq *vq)
{
	struct vnet_virtq_packed *p = &vq->packed;
	__u16 flags = le16toh(__atomic_load_n(&p->driver->flags, __ATOMIC_RELAXED)) & 3;
	__u32 m = 2u * vq->size, old = p->signalled, since = p->since_signal;
	__u32 new = pos_ext(vq, p->used_idx, p->used_wrap), event;
	bool valid = p->signalled_valid;
	__u16 off_wrap;

	p->signalled = (__u16)new;
	p->signalled_valid = true;
	p->since_signal = 0;
	if (flags == VRING_PACKED_EVENT_FLAG_DISABLE)
		return false;
	/* ENABLE, the reserved value 3, DESC without EVENT_IDX: notify */
	if (flags != VRING_PACKED_EVENT_FLAG_DESC || !vq->event_idx)
		return true;
	/* a full ring used since the last decision passed every descriptor */
	if (!valid || since >= vq->size)
		return true;
	off_wrap = le16toh(__atomic_load_n(&p->driver->off_wrap, __ATOMIC_RELAXED));
	event = pos_ext(vq, off_wrap & ~VNET_VQ_WRAP, off_wrap & VNET_VQ_WRAP) % m;
	/* vring_need_event() on the two-lap scale: the event in [old, new) */
	return (new + m - event - 1) % m < (new + m - old) % m;
}
