/* SPDX-License-Identifier: MIT */
/*
 * The driver's (guest's) half of a split virtqueue over memory of this
 * process: vnet-guest's rings, and the engine's tests and benchmarks
 * without a VM or root. The memory is one guest-physical region starting
 * at VDRV_GPA_BASE; 'gm' describes it exactly like a transport would after
 * SET_MEM_TABLE.
 * Tests that play a misbehaving driver write d->desc / d->avail directly.
 */
#ifndef VNET_VDRIVER_H
#define VNET_VDRIVER_H

#include <stdbool.h>
#include <linux/types.h>
#include <linux/virtio_ring.h>

#include <vnet/guest_mem.h>
#include <vnet/virtq.h>

#define VDRV_GPA_BASE	0x40000000ull
#define VDRV_UVA_BASE	0x7f0000000000ull	/* "front-end" addresses */
#define VDRV_MAX_INDIRECT	64

struct vdrv_seg {
	__u64 gpa;
	__u32 len;
	bool write;		/* device-writable */
};

struct vdriver {
	__u8 *mem;
	size_t mem_size;
	struct vnet_guest_mem gm;
	__u16 size;
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	__u64 desc_gpa, avail_gpa, used_gpa, indirect_gpa;
	__u16 free_head, num_free;
	__u16 avail_idx;	/* next avail entry (published or not) */
	__u16 last_used;
	__u16 *chain_len;	/* descriptors held by each head */
	size_t heap_start, heap_off;
	__u64 gpa_base;		/* gpa of mem[0] */
	bool ext_mem;		/* mem belongs to the caller */
};

/* Rings for 'size' entries plus 'heap' bytes of buffer space. */
int vdriver_create(struct vdriver *d, __u16 size, size_t heap);
void vdriver_destroy(struct vdriver *d);

/* Bytes vdriver_create_at() needs for a ring of 'size' entries. */
size_t vdriver_ring_bytes(__u16 size);
/*
 * A ring inside memory the caller owns (e.g. a memfd shared with a
 * vhost-user back-end): 'mem' holds vdriver_ring_bytes(size) bytes and has
 * guest address 'gpa'. No heap, no indirect tables: the caller places its
 * buffers itself. 'gm' is left empty (the caller describes its memory).
 */
int vdriver_create_at(struct vdriver *d, __u16 size, void *mem, __u64 gpa);
/* Descriptors the driver may still add. */
static inline __u16 vdriver_num_free(const struct vdriver *d)
{
	return d->num_free;
}

/* Queue configuration the transport would pass to the engine. */
void vdriver_cfg(const struct vdriver *d, __u64 features,
		 struct vnet_virtq_cfg *cfg);

/* Bump allocation of buffer space; returns the gpa, *hva if non-NULL. */
__u64 vdriver_alloc(struct vdriver *d, size_t len, void **hva);
void vdriver_heap_reset(struct vdriver *d);
void *vdriver_hva(const struct vdriver *d, __u64 gpa);

/* Add a chain (direct, or through an indirect table); returns head/-errno.
 * Not visible to the device until vdriver_publish(). */
int vdriver_add(struct vdriver *d, const struct vdrv_seg *segs,
		unsigned int n, bool indirect);
void vdriver_publish(struct vdriver *d);
/* Put a raw head into the avail ring and publish (misbehaving drivers). */
void vdriver_add_raw(struct vdriver *d, __u16 head);

/* Next used entry: returns its id (descriptors freed) or -1; *len set. */
int vdriver_get_used(struct vdriver *d, __u32 *len);
__u16 vdriver_used_idx(const struct vdriver *d);

/* EVENT_IDX: used_event (avail->ring[size]); avail_event (used->ring[size]). */
void vdriver_set_used_event(struct vdriver *d, __u16 idx);
__u16 vdriver_avail_event(const struct vdriver *d);

#endif
