/* SPDX-License-Identifier: MIT */
/*
 * The driver's (guest's) half of a virtqueue, split (spec 2.7) or packed
 * (2.8, lib/vdriver_packed.c), over memory of this process: vnet-guest's
 * rings, and the engine's tests and benchmarks without a VM or root. The
 * memory is one guest-physical region starting at VDRV_GPA_BASE; 'gm'
 * describes it exactly like a transport would after SET_MEM_TABLE.
 * Tests that play a misbehaving driver write d->desc / d->avail (split) or
 * d->pdesc (packed) directly.
 *
 * A buffer is named by its id, what vdriver_add() returns and
 * vdriver_get_used() gives back: the head descriptor of a split ring, the
 * buffer id of a packed one. vdriver_next_id() says which id the next add
 * takes (the one freed last), so a driver can tie buffer i to id i.
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

/* Packed ring state (lib/vdriver_packed.c). */
struct vdrv_packed {
	struct vring_packed_desc *desc;
	struct vring_packed_desc_event *driver;	/* ours: used notifications */
	struct vring_packed_desc_event *device;	/* the device's: kicks */
	__u16 next_avail;	/* next descriptor we write */
	bool avail_wrap;	/* our wrap counter there */
	__u16 next_used;	/* next descriptor the device writes as used */
	bool used_wrap;
	__u16 free_id;		/* free ids: a stack through id_next */
	__u16 *id_next;		/* [size] */
	__u16 *id_at;		/* [size] id of the buffer starting at a position */
	__u16 *pend_at, *pend_flags;	/* [size] heads added, not published */
	__u16 npend;
	__u16 kick_old;		/* position (two-lap scale) at the last kick decision */
	__u16 used_count;	/* buffers taken by get_used */
	bool in_batch;		/* IN_ORDER: inside a folded used run */
	__u16 batch_id;		/* ... that ends with this buffer */
	__u32 batch_len;
};

struct vdriver {
	__u8 *mem;
	size_t mem_size;
	struct vnet_guest_mem gm;
	__u16 size;
	bool packed;		/* VIRTIO_F_RING_PACKED */
	bool event_idx;		/* VIRTIO_RING_F_EVENT_IDX: set by the user */
	bool in_order;		/* VIRTIO_F_IN_ORDER: set by the user */
	struct vring_desc *desc;
	struct vring_avail *avail;
	struct vring_used *used;
	struct vdrv_packed pk;
	/* split: descriptor table, avail, used; packed: descriptor ring,
	 * driver area, device area */
	__u64 desc_gpa, avail_gpa, used_gpa, indirect_gpa;
	__u16 free_head, num_free;
	__u16 avail_idx;	/* split: next avail entry (published or not) */
	__u16 last_used;	/* split: next used entry we read */
	__u16 kick_old;		/* split: avail idx at the last kick decision */
	__u16 *chain_len;	/* descriptors held by each id */
	size_t heap_start, heap_off;
	__u64 gpa_base;		/* gpa of mem[0] */
	bool ext_mem;		/* mem belongs to the caller */
};

/* Rings for 'size' entries plus 'heap' bytes of buffer space. */
int vdriver_create(struct vdriver *d, __u16 size, size_t heap);
/* The same as a packed ring ('size' need not be a power of two). */
int vdriver_create_packed(struct vdriver *d, __u16 size, size_t heap);
void vdriver_destroy(struct vdriver *d);

/* Bytes vdriver_create_at() needs for a ring of 'size' entries. */
size_t vdriver_ring_bytes(__u16 size, bool packed);
/*
 * A ring inside memory the caller owns (e.g. a memfd shared with a
 * vhost-user back-end): 'mem' holds vdriver_ring_bytes(size) bytes and has
 * guest address 'gpa'. No heap, no indirect tables: the caller places its
 * buffers itself. 'gm' is left empty (the caller describes its memory).
 */
int vdriver_create_at(struct vdriver *d, __u16 size, bool packed, void *mem,
		      __u64 gpa);
/* Descriptors the driver may still add. */
static inline __u16 vdriver_num_free(const struct vdriver *d)
{
	return d->num_free;
}

/* The id the next vdriver_add() takes (valid while num_free > 0). */
static inline __u16 vdriver_next_id(const struct vdriver *d)
{
	return d->packed ? d->pk.free_id : d->free_head;
}

/* Queue configuration the transport would pass to the engine (packed:
 * VIRTIO_F_RING_PACKED added to 'features', positions of a new ring). */
void vdriver_cfg(const struct vdriver *d, __u64 features,
		 struct vnet_virtq_cfg *cfg);

/* Bump allocation of buffer space; returns the gpa, *hva if non-NULL. */
__u64 vdriver_alloc(struct vdriver *d, size_t len, void **hva);
void vdriver_heap_reset(struct vdriver *d);
void *vdriver_hva(const struct vdriver *d, __u64 gpa);

/* Add a chain (direct, or through an indirect table); returns id/-errno.
 * Not visible to the device until vdriver_publish(). */
int vdriver_add(struct vdriver *d, const struct vdrv_seg *segs,
		unsigned int n, bool indirect);
void vdriver_publish(struct vdriver *d);
/*
 * After a publish: must the driver notify the device (split 2.7.10 /
 * packed 2.8.21.2: full fence, then the device's suppression request,
 * EVENT_IDX when d->event_idx)? Covers everything published since the last
 * call.
 */
bool vdriver_kick_needed(struct vdriver *d);
/* Put a raw head into the avail ring and publish (split, misbehaving). */
void vdriver_add_raw(struct vdriver *d, __u16 head);

/* Next used buffer: returns its id (descriptors freed) or -1; *len set. */
int vdriver_get_used(struct vdriver *d, __u32 *len);
/* Is a used buffer waiting (without taking it)? */
bool vdriver_has_used(const struct vdriver *d);
/* Used buffers the device returned so far (split: used->idx; packed:
 * those taken plus those waiting), modulo 2^16. */
__u16 vdriver_used_idx(const struct vdriver *d);

/*
 * Used buffer notifications on or off (split: VRING_AVAIL_F_NO_INTERRUPT,
 * or used_event with EVENT_IDX; packed: the driver area). Returns true when
 * a used buffer is already waiting after turning them on (the re-check of
 * spec 2.7.10 / 2.8.22: do not sleep then).
 */
bool vdriver_intr_set(struct vdriver *d, bool on);

/* EVENT_IDX: used_event (avail->ring[size]); avail_event (used->ring[size]). */
void vdriver_set_used_event(struct vdriver *d, __u16 idx);
__u16 vdriver_avail_event(const struct vdriver *d);

/* --- packed only (vdriver_packed.c) --- */
int vdrv_packed_init(struct vdriver *d);
void vdrv_packed_fini(struct vdriver *d);
int vdrv_packed_add(struct vdriver *d, const struct vdrv_seg *segs,
		    unsigned int n, bool indirect);
void vdrv_packed_publish(struct vdriver *d);
/*
 * Misbehaving drivers: n raw descriptors (addr, len, flags; the AVAIL/USED
 * bits are added) at our position as one buffer with a fresh id, then
 * published. Returns the id.
 */
int vdrv_packed_add_raw(struct vdriver *d, const struct vring_packed_desc *descs,
			unsigned int n);
bool vdrv_packed_kick_needed(struct vdriver *d);
int vdrv_packed_get_used(struct vdriver *d, __u32 *len);
bool vdrv_packed_has_used(const struct vdriver *d);
__u16 vdrv_packed_used_idx(const struct vdriver *d);
bool vdrv_packed_intr_set(struct vdriver *d, bool on);
/* AVAIL/USED bits of a descriptor made available with wrap counter 'wrap' */
static inline __u16 vdrv_packed_avail_bits(bool wrap)
{
	return wrap ? 1u << VRING_PACKED_DESC_F_AVAIL : 1u << VRING_PACKED_DESC_F_USED;
}
/* Driver area: what we ask for (flags, and off_wrap for DESC). */
void vdrv_packed_set_event(struct vdriver *d, __u16 flags, __u16 off_wrap);
/* Device area: what the device asks of us. */
void vdrv_packed_device_event(const struct vdriver *d, __u16 *flags,
			      __u16 *off_wrap);

#endif
