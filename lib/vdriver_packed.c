// SPDX-License-Identifier: MIT
/*
 * Driver half of a packed virtqueue (spec 2.8; vdriver.h): what Linux's
 * and DPDK's drivers do, in the plainest form. Buffer ids come from a
 * free stack; a buffer takes consecutive ring descriptors from our
 * position, its first descriptor made available last (at publish, for all
 * buffers added since, the first of them last of all). Used descriptors are
 * read in ring order; each skips the descriptors of the buffer it names,
 * and with IN_ORDER a used descriptor may stand for a run of buffers
 * ending with the one it names (2.8.8).
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vdriver.h"

#define F_AVAIL		(1u << VRING_PACKED_DESC_F_AVAIL)
#define F_USED		(1u << VRING_PACKED_DESC_F_USED)

static void advance(const struct vdriver *d, __u16 *idx, bool *wrap, __u16 n)
{
	__u32 at = (__u32)*idx + n;

	if (at >= d->size) {
		at -= d->size;
		*wrap = !*wrap;
	}
	*idx = (__u16)at;
}

/* The position on a scale of two laps (as the device's event checks). */
static __u32 ext(const struct vdriver *d, __u16 idx, bool wrap)
{
	return wrap ? idx : (__u32)idx + d->size;
}

int vdrv_packed_init(struct vdriver *d)
{
	struct vdrv_packed *pk = &d->pk;
	__u16 *a = calloc(4 * (size_t)d->size, sizeof(*a));

	if (!a)
		return -ENOMEM;
	pk->id_next = a;
	pk->id_at = a + d->size;
	pk->pend_at = a + 2 * (size_t)d->size;
	pk->pend_flags = a + 3 * (size_t)d->size;
	for (__u16 i = 0; i < d->size; i++)
		pk->id_next[i] = i + 1;
	pk->desc = vdriver_hva(d, d->desc_gpa);
	pk->driver = vdriver_hva(d, d->avail_gpa);
	pk->device = vdriver_hva(d, d->used_gpa);
	/* 2.8.1: wrap counters start at 1; the ring is zeroed by our caller */
	pk->avail_wrap = true;
	pk->used_wrap = true;
	pk->kick_old = (__u16)ext(d, 0, true);
	return 0;
}

void vdrv_packed_fini(struct vdriver *d)
{
	free(d->pk.id_next);
	memset(&d->pk, 0, sizeof(d->pk));
}

/*
 * One descriptor of a list at our position, for buffer 'id'; 'flags'
 * without the ring bits. The list's first one keeps its flags in *head
 * until publish (2.8.6: the rest of the list first).
 */
static void put_desc(struct vdriver *d, __u16 id, __u64 addr, __u32 len, __u16 flags,
		     bool first, __u16 *head)
{
	struct vdrv_packed *pk = &d->pk;
	struct vring_packed_desc *r = &pk->desc[pk->next_avail];

	flags |= vdrv_packed_avail_bits(pk->avail_wrap);
	r->addr = htole64(addr);
	r->len = htole32(len);
	r->id = htole16(id);
	if (first)
		*head = flags;
	else
		r->flags = htole16(flags);
	advance(d, &pk->next_avail, &pk->avail_wrap, 1);
}

/* A list of 'n' descriptors from 'at' on is buffer 'id', to publish. */
static int list_done(struct vdriver *d, __u16 id, __u16 at, __u16 head, __u16 n)
{
	struct vdrv_packed *pk = &d->pk;

	pk->pend_at[pk->npend] = at;
	pk->pend_flags[pk->npend++] = head;
	pk->id_at[at] = id;
	d->chain_len[id] = n;
	d->num_free -= n;
	return id;
}

static __u16 id_take(struct vdriver *d)
{
	__u16 id = d->pk.free_id;

	d->pk.free_id = d->pk.id_next[id];
	return id;
}

int vdrv_packed_add(struct vdriver *d, const struct vdrv_seg *segs,
		    unsigned int n, bool indirect)
{
	unsigned int need = indirect ? 1 : n, i;
	__u16 id, at = d->pk.next_avail, head = 0;

	if (!n || need > d->num_free || (indirect && (n > VDRV_MAX_INDIRECT ||
						      !d->indirect_gpa)))
		return -ENOSPC;
	id = id_take(d);
	if (indirect) {
		__u64 tgpa = d->indirect_gpa + (__u64)id * VDRV_MAX_INDIRECT * 16;
		struct vring_packed_desc *t = vdriver_hva(d, tgpa);

		/* 2.8.19: only WRITE in a table */
		for (i = 0; i < n; i++) {
			t[i].addr = htole64(segs[i].gpa);
			t[i].len = htole32(segs[i].len);
			t[i].id = 0;
			t[i].flags = htole16(segs[i].write ? VRING_DESC_F_WRITE : 0);
		}
		put_desc(d, id, tgpa, n * 16, VRING_DESC_F_INDIRECT, true, &head);
	} else {
		for (i = 0; i < n; i++)
			put_desc(d, id, segs[i].gpa, segs[i].len,
				 (segs[i].write ? VRING_DESC_F_WRITE : 0) |
				 (i + 1 < n ? VRING_DESC_F_NEXT : 0), !i, &head);
	}
	return list_done(d, id, at, head, (__u16)need);
}

int vdrv_packed_add_raw(struct vdriver *d, const struct vring_packed_desc *descs,
			unsigned int n)
{
	__u16 id, at = d->pk.next_avail, head = 0;

	if (!n || n > d->num_free)
		return -ENOSPC;
	id = id_take(d);
	for (unsigned int i = 0; i < n; i++)
		put_desc(d, id, le64toh(descs[i].addr), le32toh(descs[i].len),
			 le16toh(descs[i].flags), !i, &head);
	list_done(d, id, at, head, (__u16)n);
	vdrv_packed_publish(d);
	return id;
}

void vdrv_packed_publish(struct vdriver *d)
{
	struct vdrv_packed *pk = &d->pk;

	if (!pk->npend)
		return;
	/* 2.8.21.1.1: a barrier before the flags; the device polls the first
	 * head, which goes last */
	__atomic_thread_fence(__ATOMIC_RELEASE);
	for (__u16 k = 1; k < pk->npend; k++)
		__atomic_store_n(&pk->desc[pk->pend_at[k]].flags,
				 htole16(pk->pend_flags[k]), __ATOMIC_RELAXED);
	__atomic_store_n(&pk->desc[pk->pend_at[0]].flags, htole16(pk->pend_flags[0]),
			 __ATOMIC_RELEASE);
	pk->npend = 0;
}

/* As Linux's virtqueue_kick_prepare_packed(): flags, DESC with off_wrap. */
bool vdrv_packed_kick_needed(struct vdriver *d)
{
	struct vdrv_packed *pk = &d->pk;
	__u32 m = 2u * d->size, old = pk->kick_old, new, event;
	__u16 flags, off_wrap;

	new = ext(d, pk->next_avail, pk->avail_wrap);
	pk->kick_old = (__u16)new;
	/* 2.8.21.2: flags stores before the device area is read */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	vdrv_packed_device_event(d, &flags, &off_wrap);
	if (flags != VRING_PACKED_EVENT_FLAG_DESC)
		return flags != VRING_PACKED_EVENT_FLAG_DISABLE;
	event = ext(d, off_wrap & 0x7fff, off_wrap >> 15) % m;
	return (new + m - event - 1) % m < (new + m - old) % m;
}

static bool desc_used(__u16 flags, bool wrap)
{
	return !!(flags & F_AVAIL) == wrap && !!(flags & F_USED) == wrap;
}

bool vdrv_packed_has_used(const struct vdriver *d)
{
	const struct vdrv_packed *pk = &d->pk;

	if (pk->in_batch)
		return true;
	return desc_used(le16toh(__atomic_load_n(&pk->desc[pk->next_used].flags,
						 __ATOMIC_ACQUIRE)), pk->used_wrap);
}

static void id_free(struct vdriver *d, __u16 id)
{
	struct vdrv_packed *pk = &d->pk;
	__u16 n = d->chain_len[id];

	pk->used_count++;
	d->chain_len[id] = 0;
	advance(d, &pk->next_used, &pk->used_wrap, n);
	d->num_free += n;
	pk->id_next[id] = pk->free_id;
	pk->free_id = id;
}

int vdrv_packed_get_used(struct vdriver *d, __u32 *len)
{
	struct vdrv_packed *pk = &d->pk;
	__u16 id;

	if (!pk->in_batch) {
		const struct vring_packed_desc *u = &pk->desc[pk->next_used];
		__u32 ulen;

		if (!vdrv_packed_has_used(d))
			return -1;
		id = le16toh(u->id);
		ulen = le32toh(u->len);
		if (id >= d->size || !d->chain_len[id]) {
			/* not ours (hostile test setups): step over it */
			advance(d, &pk->next_used, &pk->used_wrap, 1);
			pk->used_count++;
			if (len)
				*len = ulen;
			return id;
		}
		if (!d->in_order || pk->id_at[pk->next_used] == id) {
			if (len)
				*len = ulen;
			id_free(d, id);
			return id;
		}
		/* 2.8.8: a run of buffers up to this one, used in full */
		pk->in_batch = true;
		pk->batch_id = id;
		pk->batch_len = ulen;
	}
	id = pk->id_at[pk->next_used];
	if (!d->chain_len[id]) {
		pk->in_batch = false;	/* the run does not end where it says */
		return -1;
	}
	if (id == pk->batch_id)
		pk->in_batch = false;
	if (len)
		*len = pk->in_batch ? 0 : pk->batch_len;
	id_free(d, id);
	return id;
}

/* Buffers of a used run from 'idx' on that ends with 'last'; moves idx. */
static __u16 run_count(const struct vdriver *d, __u16 *idx, bool *wrap, __u16 last)
{
	const struct vdrv_packed *pk = &d->pk;
	__u16 n = 0, cur;

	do {
		cur = pk->id_at[*idx];
		if (!d->chain_len[cur])
			break;
		advance(d, idx, wrap, d->chain_len[cur]);
		n++;
	} while (cur != last && n < d->size);
	return n;
}

__u16 vdrv_packed_used_idx(const struct vdriver *d)
{
	const struct vdrv_packed *pk = &d->pk;
	__u16 n = pk->used_count, idx = pk->next_used;
	bool wrap = pk->used_wrap;

	if (pk->in_batch)
		n += run_count(d, &idx, &wrap, pk->batch_id);
	for (__u16 k = 0; k < d->size; k++) {
		const struct vring_packed_desc *u = &pk->desc[idx];
		__u16 id;

		if (!desc_used(le16toh(__atomic_load_n(&u->flags, __ATOMIC_ACQUIRE)), wrap))
			break;
		id = le16toh(u->id);
		if (id >= d->size || !d->chain_len[id]) {
			advance(d, &idx, &wrap, 1);
			n++;
		} else if (d->in_order && pk->id_at[idx] != id) {
			n += run_count(d, &idx, &wrap, id);
		} else {
			advance(d, &idx, &wrap, d->chain_len[id]);
			n++;
		}
	}
	return n;
}

bool vdrv_packed_intr_set(struct vdriver *d, bool on)
{
	struct vdrv_packed *pk = &d->pk;

	if (!on) {
		vdrv_packed_set_event(d, VRING_PACKED_EVENT_FLAG_DISABLE, 0);
		return false;
	}
	if (d->event_idx)
		vdrv_packed_set_event(d, VRING_PACKED_EVENT_FLAG_DESC,
				      pk->next_used | (pk->used_wrap ? 0x8000 : 0));
	else
		vdrv_packed_set_event(d, VRING_PACKED_EVENT_FLAG_ENABLE, 0);
	/* 2.8.22: re-check after enabling, against the race */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return vdrv_packed_has_used(d);
}

void vdrv_packed_set_event(struct vdriver *d, __u16 flags, __u16 off_wrap)
{
	__atomic_store_n(&d->pk.driver->off_wrap, htole16(off_wrap), __ATOMIC_RELAXED);
	__atomic_store_n(&d->pk.driver->flags, htole16(flags), __ATOMIC_RELEASE);
}

void vdrv_packed_device_event(const struct vdriver *d, __u16 *flags,
			      __u16 *off_wrap)
{
	*flags = le16toh(__atomic_load_n(&d->pk.device->flags, __ATOMIC_ACQUIRE));
	*off_wrap = le16toh(__atomic_load_n(&d->pk.device->off_wrap, __ATOMIC_RELAXED));
}
