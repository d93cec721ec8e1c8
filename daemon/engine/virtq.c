// SPDX-License-Identifier: MIT
/*
 * The part of a virtqueue both ring layouts share (include/vnet/virtq.h):
 * set-up checks, chain building over guest memory, the used shadow,
 * flush with NOTF_COAL and notification, copies between chains and linear
 * memory. The layouts' own halves are virtq_split.c (spec 2.7) and
 * virtq_packed.c (spec 2.8); what is not per burst dispatches here per call.
 */
#include <endian.h>
#include <errno.h>
#include <stdint.h>
#include <string.h>
#include <time.h>

#include <vnet/log.h>

#include "virtq_int.h"

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

static void *ring_translate(const struct vnet_guest_mem *mem, enum vnet_virtq_addr type,
			    __u64 addr, __u64 len, unsigned int align)
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

int vq_rings_translate(const struct vnet_virtq *vq, const struct vnet_guest_mem *mem,
		       const struct vnet_virtq_cfg *cfg, const __u64 len[3],
		       const unsigned int align[3], void *out[3])
{
	const __u64 addr[3] = { cfg->desc, cfg->avail, cfg->used };

	for (int i = 0; i < 3; i++) {
		out[i] = ring_translate(mem, cfg->addr_type, addr[i], len[i], align[i]);
		if (!out[i]) {
			pr_warn("vq %u: ring address outside guest memory or misaligned\n",
				vq->index);
			return -EFAULT;
		}
	}
	return 0;
}

void vq_setup_common(struct vnet_virtq *vq, const struct vnet_guest_mem *mem,
		     const struct vnet_virtq_cfg *cfg,
		     enum vnet_virtq_layout layout)
{
	vq->layout = layout;
	vq->mem = mem;
	vq->size = cfg->size;
	vq->event_idx = cfg->features & (1ull << VIRTIO_RING_F_EVENT_IDX);
	vq->indirect = cfg->features & (1ull << VIRTIO_RING_F_INDIRECT_DESC);
	vq->in_order = cfg->features & (1ull << VIRTIO_F_IN_ORDER);
	vq->log = cfg->log;
	vq->used_log = cfg->used_log;
	vq->used_log_gpa = cfg->used_log_gpa;
	vq->nshadow = 0;
	vq->broken = false;
	vq->ready = true;
}

int vnet_virtq_setup(struct vnet_virtq *vq, const struct vnet_guest_mem *mem,
		     const struct vnet_virtq_cfg *cfg)
{
	if (cfg->features & (1ull << VIRTIO_F_RING_PACKED))
		return vnet_virtq_setup_packed(vq, mem, cfg);
	return vnet_virtq_setup_split(vq, mem, cfg);
}

void vnet_virtq_reset(struct vnet_virtq *vq)
{
	vq->ready = false;
	vq->broken = false;
	vq->mem = NULL;
	vq->log = NULL;
	vq->used_log = false;
	vq->nshadow = 0;
	if (vq->layout == VNET_VQ_PACKED)
		memset(&vq->packed, 0, sizeof(vq->packed));
	else
		memset(&vq->split, 0, sizeof(vq->split));
	/* spec 5.1.6.5.9.2: upon reset, all coalescing parameters are 0 */
	memset(&vq->coal, 0, sizeof(vq->coal));
}

__u16 vnet_virtq_last_avail(const struct vnet_virtq *vq)
{
	if (vq->layout == VNET_VQ_PACKED)
		return vq_packed_last_avail(vq);
	return vq->split.last_avail_idx;
}

__u16 vnet_virtq_last_used(const struct vnet_virtq *vq)
{
	if (vq->layout == VNET_VQ_PACKED)
		return vq_packed_last_used(vq);
	return vq->split.used_idx;
}

void vq_fail(struct vnet_virtq *vq, int err, const char *why)
{
	if (vq->broken)
		return;
	pr_warn("vq %u: %s: device needs reset\n", vq->index, why);
	vq->broken = true;
	vq->ready = false;
	if (vq->ops && vq->ops->error)
		vq->ops->error(vq, err, vq->opaque);
}

int vnet_virtq_notify_enable(struct vnet_virtq *vq, bool enable)
{
	if (!vq->ready)
		return vq->broken ? -EIO : 0;
	if (vq->layout == VNET_VQ_PACKED)
		return vq_packed_notify_enable(vq, enable);
	return vq_split_notify_enable(vq, enable);
}

__u16 vnet_virtq_avail_count(struct vnet_virtq *vq)
{
	if (!vq->ready)
		return 0;
	if (vq->layout == VNET_VQ_PACKED)
		return vq_packed_avail_count(vq);
	return vq_split_avail_count(vq);
}

void vnet_virtq_publish(struct vnet_virtq *vq)
{
	if (!vq->ready || !vq->nshadow)
		return;
	if (vq->layout == VNET_VQ_PACKED)
		vq_packed_publish(vq);
	else
		vq_split_publish(vq);
}

__u16 vnet_virtq_shadow_room(const struct vnet_virtq *vq)
{
	return VNET_VIRTQ_SHADOW - vq->nshadow;
}

void vnet_virtq_push(struct vnet_virtq *vq, __u32 head, __u32 len)
{
	if (!vq->ready)
		return;
	if (vq->nshadow == VNET_VIRTQ_SHADOW)
		vnet_virtq_publish(vq);
	vq->shadow[vq->nshadow].id = head;
	vq->shadow[vq->nshadow].len = len;
	vq->nshadow++;
}

/* Used buffer notification suppression (2.7.7, 2.7.10; 2.8.10). */
static void notify_decide(struct vnet_virtq *vq)
{
	bool need;

	/* our used ring stores must be visible before we read the driver's
	 * suppression request, or we could miss its request */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (vq->layout == VNET_VQ_PACKED)
		need = vq_packed_need_notify(vq);
	else
		need = vq_split_need_notify(vq);
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
	bool published = vq->nshadow;

	if (!vq->ready)
		return;
	vnet_virtq_publish(vq);
	if (!published && !packets)
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
