// SPDX-License-Identifier: MIT
/*
 * Split virtqueue, device side (spec 2.7, shared/spec/split-ring.tex).
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
#include <time.h>

#include <vnet/log.h>
#include <vnet/virtq.h>

#define DESC_SIZE	sizeof(struct vring_desc)	/* 16 */
/* where the device's fields sit in the used ring (split-ring.tex) */
#define USED_FLAGS_OFF	offsetof(struct vring_used, flags)
#define USED_IDX_OFF	offsetof(struct vring_used, idx)
#define USED_RING_OFF	offsetof(struct vring_used, ring)

__u64 vnet_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ull + (__u64)ts.tv_nsec;
}

void vnet_virtq_init(struct vnet_virtq *vq, __u16 index,
		     const struct vnet_virtq_ops *ops, void *opaque)
{
	memset(vq, 0, sizeof(*vq));
	vq->index = index;
	vq->ops = ops;
	vq->opaque = opaque;
}

static void *ring_translate(const struct vnet_guest_mem *mem,
			    enum vnet_virtq_addr type, __u64 addr, __u64 len,
			    unsigned int align)
{
	__u64 got = len;
	void *p;

	if (addr & (align - 1))
		return NULL;
	if (type == VNET_VQ_ADDR_UVA)
		p = vnet_uva_to_hva(mem, addr, &got);
	else
		p = vnet_gpa_to_hva(mem, addr, &got, VNET_MEM_READ | VNET_MEM_WRITE);
	if (!p || got != len || ((uintptr_t)p & (align - 1)))
		return NULL;
	return p;
}

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
	struct vnet_virtq_split *s = &vq->split;
	__u32 size = cfg->size;
	void *desc, *avail, *used;

	/* spec 2.7: a power of two, at most 32768 */
	if (!size || size > VNET_VIRTQ_MAX_SIZE || (size & (size - 1)))
		return -EINVAL;
	/* spec 2.7 table: alignment 16 / 2 / 4; sizes 16n, 6+2n, 6+8n */
	desc = ring_translate(mem, cfg->addr_type, cfg->desc,
			      (__u64)DESC_SIZE * size, 16);
	avail = ring_translate(mem, cfg->addr_type, cfg->avail,
			       6 + 2 * (__u64)size, 2);
	used = ring_translate(mem, cfg->addr_type, cfg->used,
			      6 + 8 * (__u64)size, 4);
	if (!desc || !avail || !used) {
		pr_warn("vq %u: ring address outside guest memory or misaligned\n",
			vq->index);
		return -EFAULT;
	}

	vq->layout = VNET_VQ_SPLIT;
	vq->mem = mem;
	vq->size = (__u16)size;		/* 32768 fits */
	vq->event_idx = cfg->features & (1ull << VIRTIO_RING_F_EVENT_IDX);
	vq->indirect = cfg->features & (1ull << VIRTIO_RING_F_INDIRECT_DESC);
	vq->in_order = cfg->features & (1ull << VIRTIO_F_IN_ORDER);
	vq->log = cfg->log;
	vq->used_log = cfg->used_log;
	vq->used_log_gpa = cfg->used_log_gpa;
	memset(s, 0, sizeof(*s));
	s->desc = desc;
	s->avail = avail;
	s->used = used;
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
	vq->broken = false;
	vq->ready = true;
	/*
	 * Start with kicks on, whatever an earlier user of this ring (a
	 * worker before a reconnect) left in used->flags: otherwise the
	 * driver would never kick a worker that sleeps.
	 */
	kick_request(vq, true);
	return 0;
}

void vnet_virtq_reset(struct vnet_virtq *vq)
{
	vq->ready = false;
	vq->broken = false;
	vq->mem = NULL;
	vq->log = NULL;
	vq->used_log = false;
	memset(&vq->split, 0, sizeof(vq->split));
	/* spec 5.1.6.5.9.2: upon reset, all coalescing parameters are 0 */
	memset(&vq->coal, 0, sizeof(vq->coal));
}

__u16 vnet_virtq_last_avail(const struct vnet_virtq *vq)
{
	return vq->split.last_avail_idx;
}

static void virtq_fail(struct vnet_virtq *vq, int err, const char *why)
{
	if (vq->broken)
		return;
	pr_warn("vq %u: %s: device needs reset\n", vq->index, why);
	vq->broken = true;
	vq->ready = false;
	if (vq->ops && vq->ops->error)
		vq->ops->error(vq, err, vq->opaque);
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
		virtq_fail(vq, -EPROTO, "avail index jumped past the queue size");
		return -EIO;
	}
	s->avail_idx_cache = idx;
	return 0;
}

int vnet_virtq_notify_enable(struct vnet_virtq *vq, bool enable)
{
	struct vnet_virtq_split *s = &vq->split;

	if (!vq->ready)
		return vq->broken ? -EIO : 0;
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

__u16 vnet_virtq_avail_count(struct vnet_virtq *vq)
{
	if (!vq->ready || avail_refresh(vq))
		return 0;
	return (__u16)(vq->split.avail_idx_cache - vq->split.last_avail_idx);
}

/* Append [addr, addr + len) to the chain, one iov per mapped piece. */
static int chain_add(struct vnet_virtq *vq, struct vnet_chain *c,
		     __u64 addr, __u32 len, bool writable)
{
	int access = writable ? VNET_MEM_WRITE : VNET_MEM_READ;
	unsigned int n = c->nr_out + c->nr_in;
	__u64 left = len;

	if (!writable && c->nr_in)
		return -EINVAL;	/* 2.7.4.2: writable ones come last */
	if ((writable ? c->in_len : c->out_len) + (__u64)len > UINT32_MAX)
		return -EOVERFLOW;	/* 2.7.5.2: a chain is < 2^32 bytes */
	while (left) {
		__u64 got = left;
		__u8 *p = vnet_gpa_to_hva(vq->mem, addr, &got, access);

		if (!p)
			return -EFAULT;
		if (n >= VNET_CHAIN_MAX_IOV)
			return -E2BIG;
		c->iov[n].base = p;
		c->iov[n].len = (__u32)got;
		n++;
		if (writable)
			c->nr_in++;
		else
			c->nr_out++;
		/* got ends inside a region, so addr + got cannot wrap past it */
		addr += got;
		left -= got;
	}
	if (writable)
		c->in_len += len;
	else
		c->out_len += len;
	return 0;
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
	c->nr_out = c->nr_in = 0;
	c->out_len = c->in_len = 0;
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
			err = chain_add(vq, c, le64toh(d.addr), len,
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
	__u64 len = 128;
	bool write;
	__u8 *p;

	if (head < vq->size)
		__builtin_prefetch(&s->desc[head]);
	/*
	 * A few chains ahead the descriptor is (likely) cached by now: start
	 * loading the start of its buffer too, the next miss of a small
	 * packet. Translated as everywhere; nothing read here is trusted.
	 */
	head = head_ahead(vq, VNET_PREFETCH_DATA);
	if (head >= vq->size)
		return;
	memcpy(&d, &s->desc[head], sizeof(d));
	flags = le16toh(d.flags);
	if (flags & VRING_DESC_F_INDIRECT)
		return;
	write = flags & VRING_DESC_F_WRITE;
	p = vnet_gpa_to_hva(vq->mem, le64toh(d.addr), &len,
			    write ? VNET_MEM_WRITE : VNET_MEM_READ);
	if (!p)
		return;
	/*
	 * A receive buffer is written: ask for its lines exclusive (the
	 * driver read the header there last time; a plain store would miss
	 * and stall once the store buffer is full).
	 */
	if (write) {
		__builtin_prefetch(p, 1);
		if (len > 64)
			__builtin_prefetch(p + 64, 1);
	} else {
		__builtin_prefetch(p, 0);
		if (len > 64)
			__builtin_prefetch(p + 64, 0);
	}
}

int vnet_virtq_pop(struct vnet_virtq *vq, struct vnet_chain *chain)
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
			virtq_fail(vq, -EPROTO, "avail ring head out of range");
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
		vq->stats.bad_chains++;
		vq->stats.last_bad_err = err;
		vnet_virtq_discard(vq, head);
		if (vq->broken)
			return -EIO;	/* IN_ORDER could not be kept */
	}
}

void vnet_virtq_discard(struct vnet_virtq *vq, __u16 head)
{
	const struct vnet_virtq_split *s = &vq->split;
	/* chains popped and not pushed yet, this one included */
	__u16 unpushed = s->last_avail_idx - s->used_idx - s->nshadow;

	if (vq->in_order && unpushed > 1) {
		/* 2.7.9: returning it now would overtake the held ones */
		virtq_fail(vq, -EPROTO, "malformed buffer inside a frame (IN_ORDER)");
		return;
	}
	vnet_virtq_push(vq, head, 0);
	vq->split.pop_floor = vq->split.last_avail_idx;	/* no unpop across */
}

__u16 vnet_virtq_unpop(struct vnet_virtq *vq, __u16 n)
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
static void used_publish(struct vnet_virtq *vq)
{
	struct vnet_virtq_split *s = &vq->split;
	__u16 mask = vq->size - 1, i, first = s->used_idx, n = s->nshadow;

	if (!s->nshadow)
		return;
	for (i = 0; i < s->nshadow; i++) {
		struct vring_used_elem *e =
			&s->used->ring[(__u16)(s->used_idx + i) & mask];

		e->id = htole32(s->shadow[i].id);
		e->len = htole32(s->shadow[i].len);
	}
	s->used_idx += s->nshadow;
	s->nshadow = 0;
	/* 2.7.8.2: len before idx; release orders the entries before it */
	__atomic_store_n(&s->used->idx, htole16(s->used_idx), __ATOMIC_RELEASE);
	if (__builtin_expect(vq->log != NULL, 0))
		used_log(vq, first, n);		/* once per burst */
	vq->stats.flushes++;
}

void vnet_virtq_publish(struct vnet_virtq *vq)
{
	if (vq->ready)
		used_publish(vq);
}

__u16 vnet_virtq_shadow_room(const struct vnet_virtq *vq)
{
	return VNET_VIRTQ_SHADOW - vq->split.nshadow;
}

void vnet_virtq_push(struct vnet_virtq *vq, __u16 head, __u32 len)
{
	struct vnet_virtq_split *s = &vq->split;

	if (!vq->ready)
		return;
	if (s->nshadow == VNET_VIRTQ_SHADOW)
		used_publish(vq);
	s->shadow[s->nshadow].id = head;
	s->shadow[s->nshadow].len = len;
	s->nshadow++;
}

/* Used buffer notification suppression (2.7.7, 2.7.10). */
static void notify_decide(struct vnet_virtq *vq)
{
	struct vnet_virtq_split *s = &vq->split;
	__u16 old = s->signalled_used, new = s->used_idx;
	bool valid = s->signalled_used_valid, need;

	/* our used->idx store must be visible before we read the driver's
	 * flags / used_event, or we could miss its request */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	s->signalled_used = new;
	s->signalled_used_valid = true;
	if (vq->event_idx) {
		__u16 event = le16toh(__atomic_load_n(s->used_event,
						      __ATOMIC_RELAXED));

		need = !valid || vring_need_event(event, new, old);
	} else {
		need = !(le16toh(__atomic_load_n(&s->avail->flags,
						  __ATOMIC_RELAXED)) &
			 VRING_AVAIL_F_NO_INTERRUPT);
	}
	if (!need) {
		vq->stats.suppressed++;
		return;
	}
	vq->stats.notifications++;
	if (vq->ops && vq->ops->notify)
		vq->ops->notify(vq, vq->opaque);
}

void vnet_virtq_set_coalesce(struct vnet_virtq *vq, __u32 max_packets,
			     __u32 usecs)
{
	vq->coal.max_packets = max_packets;
	vq->coal.usecs = usecs;
}

/*
 * NOTF_COAL (5.1.6.5.9): count packets until max_packets or until usecs
 * have passed since the first one. usecs == 0 means "no delay": notify at
 * once (so max_packets alone can never hold a notification forever).
 */
static bool coal_due(struct vnet_virtq *vq, __u64 now)
{
	struct vnet_virtq_coal *c = &vq->coal;

	if (!c->usecs)
		return true;
	if (c->max_packets && c->pending >= c->max_packets)
		return true;
	return now - c->first_ns >= (__u64)c->usecs * 1000;
}

void vnet_virtq_flush(struct vnet_virtq *vq, __u32 packets)
{
	struct vnet_virtq_coal *c = &vq->coal;
	__u16 before = vq->split.used_idx;

	if (!vq->ready)
		return;
	used_publish(vq);
	if (vq->split.used_idx == before && !packets)
		return;
	if (c->usecs) {
		__u64 now = vnet_now_ns();	/* per burst, vDSO */

		if (!c->pending)
			c->first_ns = now;
		c->pending += packets;
		if (!coal_due(vq, now)) {
			vq->stats.coalesced++;
			return;
		}
	}
	c->pending = 0;
	notify_decide(vq);
}

__u64 vnet_virtq_coal_deadline(const struct vnet_virtq *vq)
{
	if (!vq->ready || !vq->coal.pending || !vq->coal.usecs)
		return 0;
	return vq->coal.first_ns + (__u64)vq->coal.usecs * 1000;
}

void vnet_virtq_coal_expire(struct vnet_virtq *vq, __u64 now_ns)
{
	__u64 deadline = vnet_virtq_coal_deadline(vq);

	if (!deadline || now_ns < deadline)
		return;
	vq->coal.pending = 0;
	notify_decide(vq);
}

/*
 * Copy len bytes between a flat buffer and the chain's bytes from off on;
 * to_iov is a constant at both call sites (one specialised copy each).
 */
static inline __attribute__((always_inline)) __u32
iov_copy(const struct vnet_iov *iov, unsigned int n, __u32 off, __u8 *buf,
	 __u32 len, bool to_iov)
{
	__u32 done = 0;

	for (unsigned int i = 0; i < n && done < len; i++) {
		__u32 k;

		if (off >= iov[i].len) {
			off -= iov[i].len;
			continue;
		}
		k = iov[i].len - off;
		if (k > len - done)
			k = len - done;
		if (to_iov)
			memcpy(iov[i].base + off, buf + done, k);
		else
			memcpy(buf + done, iov[i].base + off, k);
		done += k;
		off = 0;
	}
	return done;
}

__u32 vnet_iov_read(const struct vnet_iov *iov, unsigned int n, __u32 off,
		    void *dst, __u32 len)
{
	return iov_copy(iov, n, off, dst, len, false);
}

/* Mark the pages behind the 'len' bytes written from 'off' on. */
static void iov_log(const struct vnet_virtq *vq, const struct vnet_iov *iov, unsigned int n,
		    __u32 off, __u32 len)
{
	for (unsigned int i = 0; i < n && len; i++) {
		__u32 k;

		if (off >= iov[i].len) {
			off -= iov[i].len;
			continue;
		}
		k = iov[i].len - off < len ? iov[i].len - off : len;
		/* a segment lies in one region (chain_add): one lookup each */
		vnet_dirty_log_mark_hva(vq->log, vq->mem, iov[i].base + off, k);
		len -= k;
		off = 0;
	}
}

__u32 vnet_iov_write(const struct vnet_virtq *vq, const struct vnet_iov *iov,
		     unsigned int n, __u32 off, const void *src, __u32 len)
{
	/* the buffer is only read on this path */
	__u32 done = iov_copy(iov, n, off, (__u8 *)src, len, true);

	if (__builtin_expect(vq->log != NULL, 0))
		iov_log(vq, iov, n, off, done);
	return done;
}
