// SPDX-License-Identifier: MIT
/*
 * Split virtqueue, device side (spec 2.7, shared/spec/split-ring.tex); the
 * part both layouts share is virtq.c.
 *
 * Everything the driver wrote is read exactly once into a local copy before
 * it is checked and used (a descriptor can change under us), and every
 * address goes through guest_mem with its length compared to what we need.
 */
#include <endian.h>
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <vnet/log.h>

#include "virtq_int.h"

#define DESC_SIZE	sizeof(struct vring_desc)	/* 16 */
/* where the device's fields sit in the used ring (split-ring.tex) */
#define USED_FLAGS_OFF	offsetof(struct vring_used, flags)
#define USED_IDX_OFF	offsetof(struct vring_used, idx)
#define USED_RING_OFF	offsetof(struct vring_used, ring)

/*
 * Ask for kicks or not (spec 2.7.10, "Available Buffer Notification
 * Suppression", device side). The device owns used->flags and avail_event;
 * relaxed stores, the callers order them.
 */
static void kick_request(struct vnet_virtq *vq, bool on)
{
	struct vnet_virtq_split *s = &vq->split;

	s->kicks_off = !on;
	if (vq->event_idx) {
		/*
		 * With EVENT_IDX the device MUST keep flags 0. A kick comes when
		 * the driver writes the entry at avail_event: our position when
		 * on; one behind it when off, which the driver reaches again
		 * only after 65535 more buffers.
		 */
		__atomic_store_n(s->avail_event,
				 htole16((__u16)(s->last_avail_idx - !on)),
				 __ATOMIC_RELAXED);
		vnet_virtq_log_used(vq, USED_RING_OFF + 8ul * vq->size, 2);
		return;
	}
	/* without EVENT_IDX: flags is 0 or 1 (VRING_USED_F_NO_NOTIFY) */
	__atomic_store_n(&s->used->flags, htole16(on ? 0 : VRING_USED_F_NO_NOTIFY),
			 __ATOMIC_RELAXED);
	vnet_virtq_log_used(vq, USED_FLAGS_OFF, 2);
}

int vnet_virtq_setup_split(struct vnet_virtq *vq,
			   const struct vnet_guest_mem *mem,
			   const struct vnet_virtq_cfg *cfg)
{
	/* spec 2.7 table: alignment 16 / 2 / 4; sizes 16n, 6+2n, 6+8n */
	static const unsigned int align[3] = { 16, 2, 4 };
	struct vnet_virtq_split *s = &vq->split;
	__u64 size = cfg->size;
	const __u64 len[3] = { DESC_SIZE * size, 6 + 2 * size, 6 + 8 * size };
	void *p[3];

	/* spec 2.7: a power of two, at most 32768 */
	if (!size || size > VNET_VIRTQ_MAX_SIZE || (size & (size - 1)))
		return -EINVAL;
	if (vq_rings_translate(vq, mem, cfg, len, align, p))
		return -EFAULT;

	memset(s, 0, sizeof(*s));
	vq_setup_common(vq, mem, cfg, VNET_VQ_SPLIT);
	s->desc = p[0];
	s->avail = p[1];
	s->used = p[2];
	s->used_event = &s->avail->ring[size];
	s->avail_event = (__u16 *)&s->used->ring[size];
	/*
	 * Like a fresh queue, a restarted one resumes at the index the
	 * front-end gave us; everything before it counts as used.
	 */
	s->last_avail_idx = cfg->last_avail_idx;
	s->avail_idx_cache = cfg->last_avail_idx;
	s->used_idx = cfg->last_avail_idx;
	s->pop_floor = cfg->last_avail_idx;
	/*
	 * Start with kicks on, whatever an earlier user of this ring (a
	 * worker before a reconnect) left in used->flags: otherwise the
	 * driver would never kick a worker that sleeps.
	 */
	kick_request(vq, true);
	return 0;
}

static inline __u16 avail_idx_acquire(const struct vnet_virtq_split *s)
{
	/* pairs with the driver's barrier before its idx update (2.7.13.3.1) */
	return le16toh(__atomic_load_n(&s->avail->idx, __ATOMIC_ACQUIRE));
}

/* Refresh the cached avail idx; -EIO if the driver moved it impossibly. */
static int avail_refresh(struct vnet_virtq *vq)
{
	struct vnet_virtq_split *s = &vq->split;
	__u16 idx = avail_idx_acquire(s);

	/* spec 2.7.6: at most 'size' buffers can be available at a time */
	if ((__u16)(idx - s->last_avail_idx) > vq->size) {
		vq_fail(vq, -EPROTO, "avail index jumped past the queue size");
		return -EIO;
	}
	s->avail_idx_cache = idx;
	return 0;
}

int vq_split_notify_enable(struct vnet_virtq *vq, bool enable)
{
	struct vnet_virtq_split *s = &vq->split;

	kick_request(vq, enable);
	if (!enable)
		return 0;
	/*
	 * The request must be visible before we look at avail->idx, and the
	 * driver publishes idx before it reads flags / avail_event (2.7.13.4):
	 * with a full fence on both sides at least one of us sees the other,
	 * so a buffer added meanwhile is either kicked or found here.
	 */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (avail_refresh(vq))
		return -EIO;
	return (__u16)(s->avail_idx_cache - s->last_avail_idx);
}

__u16 vq_split_avail_count(struct vnet_virtq *vq)
{
	if (avail_refresh(vq))
		return 0;
	return (__u16)(vq->split.avail_idx_cache - vq->split.last_avail_idx);
}

/*
 * Walk the chain starting at 'head' (2.7.5). A loop shows up as a chain
 * longer than the queue size, which the driver must not build anyway
 * (2.7.5.3.1), so one counter bounds both.
 */
static int chain_walk(struct vnet_virtq *vq, __u16 head, struct vnet_chain *c)
{
	const __u8 *table = (const __u8 *)vq->split.desc;
	__u32 table_len = vq->size, count = 0;
	bool in_indirect = false;
	__u16 idx = head;
	int err;

	c->head = head;
	vq_chain_start(c);
	for (;;) {
		struct vring_desc d;
		__u16 flags;
		__u32 len;

		if (++count > vq->size)
			return -ELOOP;
		/* read once; an indirect table may be unaligned */
		memcpy(&d, table + (size_t)idx * DESC_SIZE, sizeof(d));
		flags = le16toh(d.flags);
		len = le32toh(d.len);

		if (flags & VRING_DESC_F_INDIRECT) {
			__u64 tlen = len;

			/* 2.7.5.3.1: one table per chain, not nested, not
			 * chained on, only when negotiated */
			if (in_indirect || !vq->indirect ||
			    (flags & VRING_DESC_F_NEXT))
				return -EINVAL;
			if (!len || len % DESC_SIZE)
				return -EINVAL;
			table = vnet_gpa_to_hva(vq->mem, le64toh(d.addr), &tlen,
						VNET_MEM_READ);
			if (!table || tlen != len)
				return -EFAULT;
			table_len = len / DESC_SIZE;
			in_indirect = true;
			idx = 0;
			continue;
		}
		if (len) {	/* a zero-length buffer has nothing to map */
			err = vq_chain_add(vq, c, le64toh(d.addr), len,
					   flags & VRING_DESC_F_WRITE);
			if (err)
				return err;
		}
		if (!(flags & VRING_DESC_F_NEXT))
			return 0;
		idx = le16toh(d.next);
		if (idx >= table_len)
			return -EINVAL;
	}
}

/*
 * The descriptors were written by the driver on another CPU: reading one is
 * a cache miss that dominates a small packet's cost. Start loading the
 * descriptor a few chains ahead (only entries already published, 2.7.13.3:
 * the avail idx acquire covers them); a stale or bogus head only wastes a
 * prefetch, the real read is checked as usual.
 */
#define VNET_PREFETCH_DESC	6	/* chains ahead: descriptor */
#define VNET_PREFETCH_DATA	3	/* chains ahead: first buffer */

/* Head of the avail entry 'ahead' chains after the next one, or size. */
static inline __u16 head_ahead(const struct vnet_virtq *vq, __u16 ahead)
{
	const struct vnet_virtq_split *s = &vq->split;
	__u16 at = s->last_avail_idx + ahead - 1;

	/* published: avail_idx_cache - at in [1, size] */
	if ((__u16)((__u16)(s->avail_idx_cache - at) - 1) >= vq->size)
		return vq->size;
	return le16toh(__atomic_load_n(&s->avail->ring[at & (vq->size - 1)],
				       __ATOMIC_RELAXED));
}

static inline void prefetch_ahead(const struct vnet_virtq *vq)
{
	const struct vnet_virtq_split *s = &vq->split;
	__u16 head = head_ahead(vq, VNET_PREFETCH_DESC), flags;
	struct vring_desc d;

	if (head < vq->size)
		__builtin_prefetch(&s->desc[head]);
	/*
	 * A few chains ahead the descriptor is (likely) cached by now: start
	 * loading the start of its buffer too, the next miss of a small
	 * packet.
	 */
	head = head_ahead(vq, VNET_PREFETCH_DATA);
	if (head >= vq->size)
		return;
	memcpy(&d, &s->desc[head], sizeof(d));
	flags = le16toh(d.flags);
	if (flags & VRING_DESC_F_INDIRECT)
		return;
	vq_prefetch_buf(vq, le64toh(d.addr), flags & VRING_DESC_F_WRITE);
}

int vnet_split_pop(struct vnet_virtq *vq, struct vnet_chain *chain)
{
	struct vnet_virtq_split *s = &vq->split;
	int err;

	if (!vq->ready)
		return vq->broken ? -EIO : 0;
	for (;;) {
		__u16 head;

		if (s->last_avail_idx == s->avail_idx_cache) {
			if (avail_refresh(vq))
				return -EIO;
			if (s->last_avail_idx == s->avail_idx_cache &&
			    vq->event_idx && !s->kicks_off) {
				/*
				 * Ask for a kick at the next buffer, then look
				 * again: the driver may have added one before
				 * it saw avail_event (2.7.10).
				 */
				__atomic_store_n(s->avail_event,
						 htole16(s->last_avail_idx),
						 __ATOMIC_RELAXED);
				vnet_virtq_log_used(vq, USED_RING_OFF + 8ul * vq->size, 2);
				__atomic_thread_fence(__ATOMIC_SEQ_CST);
				if (avail_refresh(vq))
					return -EIO;
			}
			if (s->last_avail_idx == s->avail_idx_cache)
				return 0;
		}
		head = le16toh(__atomic_load_n(
			&s->avail->ring[s->last_avail_idx & (vq->size - 1)],
			__ATOMIC_RELAXED));
		if (head >= vq->size) {
			/* no id we could return: the ring itself is corrupt */
			vq_fail(vq, -EPROTO, "avail ring head out of range");
			return -EIO;
		}
		s->last_avail_idx++;
		prefetch_ahead(vq);
		err = chain_walk(vq, head, chain);
		if (!err) {
			/* keep the floor within reach so the u16 distance in
			 * unpop never wraps (nobody unpops a ring-full) */
			if ((__u16)(s->last_avail_idx - s->pop_floor) > vq->size)
				s->pop_floor = s->last_avail_idx - vq->size;
			vq->stats.chains++;
			return 1;
		}
		pr_debug("vq %u: bad chain at head %u: %d\n", vq->index, head, err);
		vq_bad_chain(vq, err);
		vnet_split_discard(vq, head);
		if (vq->broken)
			return -EIO;	/* IN_ORDER could not be kept */
	}
}

void vnet_split_discard(struct vnet_virtq *vq, __u32 head)
{
	const struct vnet_virtq_split *s = &vq->split;
	/* chains popped and not pushed yet, this one included */
	__u16 unpushed = s->last_avail_idx - s->used_idx - vq->nshadow;

	if (vq->in_order && unpushed > 1) {
		/* 2.7.9: returning it now would overtake the held ones */
		vq_fail(vq, -EPROTO, "malformed buffer inside a frame (IN_ORDER)");
		return;
	}
	vnet_virtq_push(vq, head, 0);
	vq->split.pop_floor = vq->split.last_avail_idx;	/* no unpop across */
}

__u16 vnet_split_unpop(struct vnet_virtq *vq, __u16 n)
{
	struct vnet_virtq_split *s = &vq->split;
	/* pop keeps the floor at most 'size' behind: no wrap here */
	__u16 room = s->last_avail_idx - s->pop_floor;

	if (n > room)
		n = room;
	s->last_avail_idx -= n;
	return n;
}

/* Log the used entries [first, first + n) (at most two pieces: the ring
 * wraps) and the index that published them. */
static void used_log(const struct vnet_virtq *vq, __u16 first, __u16 n)
{
	__u32 start = first & (vq->size - 1), k = vq->size - start;

	if (k > n)
		k = n;
	vnet_virtq_log_used(vq, USED_RING_OFF + 8ul * start, 8ul * k);
	if (n > k)
		vnet_virtq_log_used(vq, USED_RING_OFF, 8ul * (n - k));
	vnet_virtq_log_used(vq, USED_IDX_OFF, 2);
}

/* Write the shadow entries and publish them with one release store. */
void vq_split_publish(struct vnet_virtq *vq)
{
	struct vnet_virtq_split *s = &vq->split;
	__u16 mask = vq->size - 1, i, first = s->used_idx, n = vq->nshadow;

	for (i = 0; i < vq->nshadow; i++) {
		struct vring_used_elem *e =
			&s->used->ring[(__u16)(s->used_idx + i) & mask];

		e->id = htole32(vq->shadow[i].id);
		e->len = htole32(vq->shadow[i].len);
	}
	s->used_idx += vq->nshadow;
	vq->nshadow = 0;
	/* 2.7.8.2: len before idx; release orders the entries before it */
	__atomic_store_n(&s->used->idx, htole16(s->used_idx), __ATOMIC_RELEASE);
	if (__builtin_expect(vq->log != NULL, 0))
		used_log(vq, first, n);		/* once per burst */
	vq->stats.flushes++;
}

/* Used buffer notification suppression (2.7.7, 2.7.10), after a fence. */
bool vq_split_need_notify(struct vnet_virtq *vq)
{
	struct vnet_virtq_split *s = &vq->split;
	__u16 old = s->signalled_used, new = s->used_idx;
	bool valid = s->signalled_used_valid;

	s->signalled_used = new;
	s->signalled_used_valid = true;
	if (vq->event_idx) {
		__u16 event = le16toh(__atomic_load_n(s->used_event,
						      __ATOMIC_RELAXED));

		return !valid || vring_need_event(event, new, old);
	}
	return !(le16toh(__atomic_load_n(&s->avail->flags, __ATOMIC_RELAXED)) &
		 VRING_AVAIL_F_NO_INTERRUPT);
}
