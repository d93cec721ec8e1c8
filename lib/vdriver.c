// SPDX-License-Identifier: MIT
/* Driver half of a virtqueue (vnet-guest, the tests): see vdriver.h; the
 * split ring here, the packed one in vdriver_packed.c. */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "vdriver.h"

#define ALIGN_UP(x, a)	(((x) + (a) - 1) & ~((size_t)(a) - 1))

/*
 * Where a ring's parts go, from 'gpa' on: split, descriptor table, avail
 * and used ring; packed, descriptor ring, driver area, device area (spec
 * 2.7 / 2.8.10.1 alignments, each part on its own cache lines). Returns the
 * bytes they take.
 */
static size_t ring_layout(__u16 size, bool packed, __u64 gpa, __u64 *desc,
			  __u64 *avail, __u64 *used)
{
	size_t off = ALIGN_UP(16ul * size, 64);

	*desc = gpa;
	*avail = gpa + off;
	off = ALIGN_UP(off + (packed ? 4 : 6 + 2ul * size), 64);
	*used = gpa + off;
	return ALIGN_UP(off + (packed ? 4 : 6 + 8ul * size), 64);
}

size_t vdriver_ring_bytes(__u16 size, bool packed)
{
	__u64 a, b, c;

	return ring_layout(size, packed, 0, &a, &b, &c);
}

/* Pointers, free lists, the layout's own state; mem and gpas are set. */
static int rings_init(struct vdriver *d)
{
	d->chain_len = calloc(d->size, sizeof(*d->chain_len));
	if (!d->chain_len)
		return -ENOMEM;
	d->num_free = d->size;
	if (d->packed)
		return vdrv_packed_init(d);
	d->desc = vdriver_hva(d, d->desc_gpa);
	d->avail = vdriver_hva(d, d->avail_gpa);
	d->used = vdriver_hva(d, d->used_gpa);
	for (__u16 i = 0; i + 1 < d->size; i++)
		d->desc[i].next = htole16(i + 1);
	return 0;
}

static int create(struct vdriver *d, __u16 size, size_t heap, bool packed)
{
	size_t off, ind_len;
	struct vnet_mem_region *r;
	int err;

	memset(d, 0, sizeof(*d));
	if (!size || size > VNET_VIRTQ_MAX_SIZE || (!packed && (size & (size - 1))))
		return -EINVAL;
	d->size = size;
	d->packed = packed;
	d->gpa_base = VDRV_GPA_BASE;
	off = ring_layout(size, packed, VDRV_GPA_BASE, &d->desc_gpa, &d->avail_gpa,
			  &d->used_gpa);
	off = ALIGN_UP(off, 4096);
	d->indirect_gpa = VDRV_GPA_BASE + off;
	ind_len = (size_t)size * VDRV_MAX_INDIRECT * 16;
	off = ALIGN_UP(off + ind_len, 4096);
	d->heap_start = d->heap_off = off;
	d->mem_size = ALIGN_UP(off + heap, 4096);
	d->mem = mmap(NULL, d->mem_size, PROT_READ | PROT_WRITE,
		      MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (d->mem == MAP_FAILED)
		return -ENOMEM;
	err = rings_init(d);
	if (err) {
		vdriver_destroy(d);
		return err;
	}

	d->gm.nregions = 1;
	r = &d->gm.regions[0];
	r->gpa = VDRV_GPA_BASE;
	r->size = d->mem_size;
	r->uaddr = VDRV_UVA_BASE;
	r->hva = d->mem;
	r->fd = -1;
	return 0;
}

int vdriver_create(struct vdriver *d, __u16 size, size_t heap)
{
	return create(d, size, heap, false);
}

int vdriver_create_packed(struct vdriver *d, __u16 size, size_t heap)
{
	return create(d, size, heap, true);
}

int vdriver_create_at(struct vdriver *d, __u16 size, bool packed, void *mem,
		      __u64 gpa)
{
	int err;

	memset(d, 0, sizeof(*d));
	if (!size || size > VNET_VIRTQ_MAX_SIZE || (!packed && (size & (size - 1))))
		return -EINVAL;
	d->size = size;
	d->packed = packed;
	d->ext_mem = true;
	d->mem = mem;
	d->gpa_base = gpa;
	d->mem_size = ring_layout(size, packed, gpa, &d->desc_gpa, &d->avail_gpa,
				  &d->used_gpa);
	d->heap_start = d->heap_off = d->mem_size;
	memset(mem, 0, d->mem_size);
	err = rings_init(d);
	if (err)
		vdriver_destroy(d);
	return err;
}

void vdriver_destroy(struct vdriver *d)
{
	if (!d->ext_mem && d->mem && d->mem != MAP_FAILED)
		munmap(d->mem, d->mem_size);
	if (d->packed)
		vdrv_packed_fini(d);
	free(d->chain_len);
	memset(d, 0, sizeof(*d));
}

void vdriver_cfg(const struct vdriver *d, __u64 features,
		 struct vnet_virtq_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->size = d->size;
	cfg->desc = d->desc_gpa;
	cfg->avail = d->avail_gpa;
	cfg->used = d->used_gpa;
	cfg->features = features;
	cfg->addr_type = VNET_VQ_ADDR_GPA;
	if (d->packed) {
		/* 2.8.1: both wrap counters start at 1 */
		cfg->features |= 1ull << VIRTIO_F_RING_PACKED;
		cfg->last_avail_idx = VNET_VQ_WRAP;
		cfg->last_used_idx = VNET_VQ_WRAP;
	}
}

void *vdriver_hva(const struct vdriver *d, __u64 gpa)
{
	return d->mem + (gpa - d->gpa_base);
}

__u64 vdriver_alloc(struct vdriver *d, size_t len, void **hva)
{
	__u64 gpa;

	if (len > d->mem_size - d->heap_off)
		abort();	/* a test sized its heap wrong */
	gpa = d->gpa_base + d->heap_off;
	d->heap_off = ALIGN_UP(d->heap_off + len, 64);
	if (d->heap_off > d->mem_size)
		d->heap_off = d->mem_size;
	if (hva)
		*hva = vdriver_hva(d, gpa);
	return gpa;
}

void vdriver_heap_reset(struct vdriver *d)
{
	d->heap_off = d->heap_start;
}

static void fill_desc(struct vring_desc *desc, const struct vdrv_seg *s,
		      bool next, __u16 next_idx)
{
	desc->addr = htole64(s->gpa);
	desc->len = htole32(s->len);
	desc->flags = htole16((s->write ? VRING_DESC_F_WRITE : 0) |
			      (next ? VRING_DESC_F_NEXT : 0));
	desc->next = htole16(next_idx);
}

int vdriver_add(struct vdriver *d, const struct vdrv_seg *segs,
		unsigned int n, bool indirect)
{
	unsigned int need = indirect ? 1 : n;
	__u16 head = d->free_head, idx = head;
	unsigned int i;

	if (d->packed)
		return vdrv_packed_add(d, segs, n, indirect);
	if (!n || need > d->num_free ||
	    (indirect && n > VDRV_MAX_INDIRECT))
		return -ENOSPC;
	if (indirect) {
		__u64 tgpa = d->indirect_gpa + (__u64)head * VDRV_MAX_INDIRECT * 16;
		struct vring_desc *t = vdriver_hva(d, tgpa);

		for (i = 0; i < n; i++)
			fill_desc(&t[i], &segs[i], i + 1 < n, (__u16)(i + 1));
		d->free_head = le16toh(d->desc[head].next);
		d->desc[head].addr = htole64(tgpa);
		d->desc[head].len = htole32(n * 16);
		d->desc[head].flags = htole16(VRING_DESC_F_INDIRECT);
	} else {
		for (i = 0; i < n; i++) {
			__u16 next = le16toh(d->desc[idx].next);

			fill_desc(&d->desc[idx], &segs[i], i + 1 < n, next);
			if (i + 1 < n)
				idx = next;
			else
				d->free_head = next;
		}
	}
	d->num_free -= need;
	d->chain_len[head] = need;
	d->avail->ring[d->avail_idx & (d->size - 1)] = htole16(head);
	d->avail_idx++;
	return head;
}

void vdriver_publish(struct vdriver *d)
{
	if (d->packed)
		vdrv_packed_publish(d);
	else
		__atomic_store_n(&d->avail->idx, htole16(d->avail_idx), __ATOMIC_RELEASE);
}

bool vdriver_kick_needed(struct vdriver *d)
{
	__u16 old = d->kick_old, new = d->avail_idx;

	if (d->packed)
		return vdrv_packed_kick_needed(d);
	d->kick_old = new;
	/* 2.7.13.4: idx store before the device's request is read */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (d->event_idx)
		return vring_need_event(vdriver_avail_event(d), new, old);
	return !(le16toh(__atomic_load_n(&d->used->flags, __ATOMIC_RELAXED)) &
		 VRING_USED_F_NO_NOTIFY);
}

void vdriver_add_raw(struct vdriver *d, __u16 head)
{
	d->avail->ring[d->avail_idx & (d->size - 1)] = htole16(head);
	d->avail_idx++;
	vdriver_publish(d);
}

int vdriver_get_used(struct vdriver *d, __u32 *len)
{
	__u16 idx, id, n, last;
	struct vring_used_elem *e;

	if (d->packed)
		return vdrv_packed_get_used(d, len);
	idx = le16toh(__atomic_load_n(&d->used->idx, __ATOMIC_ACQUIRE));
	if (idx == d->last_used)
		return -1;
	e = &d->used->ring[d->last_used & (d->size - 1)];
	d->last_used++;
	id = (__u16)le32toh(e->id);
	if (len)
		*len = le32toh(e->len);
	if (id >= d->size || !d->chain_len[id])
		return id;	/* not ours to free (hostile test setups) */
	n = d->chain_len[id];
	d->chain_len[id] = 0;
	last = id;
	for (__u16 i = 1; i < n; i++)
		last = le16toh(d->desc[last].next);
	d->desc[last].next = htole16(d->free_head);
	d->free_head = id;
	d->num_free += n;
	return id;
}

bool vdriver_has_used(const struct vdriver *d)
{
	if (d->packed)
		return vdrv_packed_has_used(d);
	return le16toh(__atomic_load_n(&d->used->idx, __ATOMIC_ACQUIRE)) != d->last_used;
}

bool vdriver_intr_set(struct vdriver *d, bool on)
{
	__u16 flags;

	if (d->packed)
		return vdrv_packed_intr_set(d, on);
	flags = le16toh(d->avail->flags);
	flags = on ? flags & ~VRING_AVAIL_F_NO_INTERRUPT : flags | VRING_AVAIL_F_NO_INTERRUPT;
	__atomic_store_n(&d->avail->flags, htole16(flags), __ATOMIC_RELAXED);
	if (on && d->event_idx)
		vdriver_set_used_event(d, d->last_used);
	if (!on)
		return false;
	/* the request before the used index (the device: index, then request) */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	return vdriver_has_used(d);
}

__u16 vdriver_used_idx(const struct vdriver *d)
{
	if (d->packed)
		return vdrv_packed_used_idx(d);
	return le16toh(__atomic_load_n(&d->used->idx, __ATOMIC_ACQUIRE));
}

void vdriver_set_used_event(struct vdriver *d, __u16 idx)
{
	__atomic_store_n(&d->avail->ring[d->size], htole16(idx), __ATOMIC_RELEASE);
}

__u16 vdriver_avail_event(const struct vdriver *d)
{
	return le16toh(__atomic_load_n((__u16 *)&d->used->ring[d->size],
				       __ATOMIC_ACQUIRE));
}
