/* SPDX-License-Identifier: MIT */
/*
 * What the two ring layouts (virtq_split.c, virtq_packed.c) share with the
 * common part (virtq.c), private to the engine.
 */
#ifndef VNET_VIRTQ_INT_H
#define VNET_VIRTQ_INT_H

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
int vq_chain_add(struct vnet_virtq *vq, struct vnet_chain *c, __u64 addr,
		 __u32 len, bool writable);

/*
 * Start loading the first line(s) of a buffer a few chains ahead: the
 * driver's CPU wrote it last, and that miss dominates a small packet.
 * Translated as everywhere; nothing read here is trusted.
 */
void vq_prefetch_buf(const struct vnet_virtq *vq, __u64 addr, bool write);

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
