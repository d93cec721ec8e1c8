/* SPDX-License-Identifier: MIT */
/*
 * What the two ring layouts (virtq_split.c, virtq_packed.c) share with the
 * common part (virtq.c), private to the engine.
 */
#ifndef VNET_VIRTQ_INT_H
#define VNET_VIRTQ_INT_H

#include <errno.h>
#include <stdint.h>

#include <vnet/virtq.h>

/*
 * Host pointers of a ring's three parts (cfg->desc, ->avail, ->used), each
 * wholly inside guest memory with its length and alignment; -EFAULT
 * (logged) when one is not.
 */
int vq_rings_translate(const struct vnet_virtq *vq, const struct vnet_guest_mem *mem,
		       const struct vnet_virtq_cfg *cfg, const __u64 len[3],
		       const unsigned int align[3], void *out[3]);

/* Common state of a queue being set up (features, mem, size, ready). */
void vq_setup_common(struct vnet_virtq *vq, const struct vnet_guest_mem *mem,
		     const struct vnet_virtq_cfg *cfg,
		     enum vnet_virtq_layout layout);

/* The ring is broken: DEVICE_NEEDS_RESET through ops->error, once. */
void vq_fail(struct vnet_virtq *vq, int err, const char *why);

/* Count a malformed chain (pop returns it with length 0). */
static inline void vq_bad_chain(struct vnet_virtq *vq, int err)
{
	vq->stats.bad_chains++;
	vq->stats.last_bad_err = err;
}

/* Start a chain; append [addr, addr + len), one iov per mapped piece. */
static inline void vq_chain_start(struct vnet_chain *c)
{
	c->nr_out = c->nr_in = 0;
	c->out_len = c->in_len = 0;
}

/* (inline: per descriptor, in both layouts' walkers) */
static inline int vq_chain_add(struct vnet_virtq *vq, struct vnet_chain *c,
			       __u64 addr, __u32 len, bool writable)
{
	int access = writable ? VNET_MEM_WRITE : VNET_MEM_READ;
	unsigned int n = c->nr_out + c->nr_in;
	__u64 left = len;

	/* 2.7.4.2 / 2.8.17: writable ones come last */
	if (!writable && c->nr_in)
		return -EINVAL;
	/* 2.7.5.2: a chain is < 2^32 bytes */
	if ((writable ? c->in_len : c->out_len) + (__u64)len > UINT32_MAX)
		return -EOVERFLOW;
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
 * Start loading the first line(s) of a buffer a few chains ahead: the
 * driver's CPU wrote it last, and that miss dominates a small packet.
 * Translated as everywhere; nothing read here is trusted.
 */
static inline void vq_prefetch_buf(const struct vnet_virtq *vq, __u64 addr, bool write)
{
	__u64 len = 128;
	__u8 *p = vnet_gpa_to_hva(vq->mem, addr, &len,
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

/*
 * The rest of each layout's half, dispatched per call by virtq.c: publish
 * the shadow, decide on a used buffer notification (after a full fence),
 * kicks on/off, positions.
 */
void vq_split_publish(struct vnet_virtq *vq);
void vq_packed_publish(struct vnet_virtq *vq);
bool vq_split_need_notify(struct vnet_virtq *vq);
bool vq_packed_need_notify(struct vnet_virtq *vq);
int vq_split_notify_enable(struct vnet_virtq *vq, bool enable);
int vq_packed_notify_enable(struct vnet_virtq *vq, bool enable);
__u16 vq_split_avail_count(struct vnet_virtq *vq);
__u16 vq_packed_avail_count(struct vnet_virtq *vq);
__u16 vq_packed_last_avail(const struct vnet_virtq *vq);
__u16 vq_packed_last_used(const struct vnet_virtq *vq);

#endif
