// SPDX-License-Identifier: MIT
/*
 * Ring state of the device model (include/vnet/device.h, "ring state"): the
 * only code that changes a struct vnet_vring on a transport's behalf. Each
 * setter checks the ring index and its value before it changes anything,
 * then moves the ring's gen so the worker rebuilds its queue.
 */
#include <string.h>
#include <unistd.h>

#include "vnet/log.h"
#include "device_int.h"

void vnet_rings_changed(struct vnet_netdev *dev)
{
	if (dev->wops && dev->wops->rings_changed)
		dev->wops->rings_changed(dev, dev->wops_opaque);
}

void vnet_vring_update(struct vnet_netdev *dev, unsigned int index)
{
	struct vnet_vring *vr = &dev->vrings[index];

	vr->ready = vr->num && vr->addr_set && vr->started && vr->enabled;
	vr->gen++;
	vnet_rings_changed(dev);
}

void vnet_vrings_rebuild(struct vnet_netdev *dev)
{
	for (unsigned int i = 0; i < dev->nvrings; i++)
		vnet_vring_update(dev, i);
}

void vnet_vring_forget(struct vnet_vring *vr)
{
	__u32 gen;

	if (vr->kick_fd >= 0)
		close(vr->kick_fd);
	if (vr->call_fd >= 0)
		close(vr->call_fd);
	if (vr->err_fd >= 0)
		close(vr->err_fd);
	gen = vr->gen;
	/* counters survive a reset: they are the device's, not the driver's */
	memset(vr, 0, offsetof(struct vnet_vring, stats));
	vr->kick_fd = vr->call_fd = vr->err_fd = -1;
	vr->gen = gen + 1;
}

static struct vnet_vring *vring_get(struct vnet_netdev *dev, unsigned int index)
{
	return index < dev->nvrings ? &dev->vrings[index] : NULL;
}

int vnet_netdev_vring_set_num(struct vnet_netdev *dev, unsigned int index, __u32 num)
{
	struct vnet_vring *vr = vring_get(dev, index);

	/* spec 2.7 / 2.8: at most 32768; a split queue's size is a power of two */
	if (!vr || !num || num > 32768 || (!vnet_netdev_packed(dev) && (num & (num - 1))))
		return -EINVAL;
	vr->num = (__u16)num;
	vnet_vring_update(dev, index);
	return 0;
}

/* [addr, addr + len) must be one contiguous piece of the memory table */
static bool range_mapped(const struct vnet_guest_mem *mem, bool uva, __u64 addr, __u64 len)
{
	__u64 got = len;
	void *p = uva ? vnet_uva_to_hva(mem, addr, &got) :
			vnet_gpa_to_hva(mem, addr, &got, VNET_MEM_READ);

	return p && got == len;
}

int vnet_netdev_vring_set_addr(struct vnet_netdev *dev, unsigned int index,
			       const struct vnet_vring_addr *a)
{
	struct vnet_vring *vr = vring_get(dev, index);
	bool packed = vnet_netdev_packed(dev);
	__u64 num;

	if (!vr)
		return -EINVAL;
	num = vr->num ? vr->num : 1;
	/* spec 2.7.2 alignment: descriptors 16, available 2, used 4; packed
	 * (2.8.10.1): descriptor ring 16, the two 4-byte event areas 4 */
	if ((a->desc & 15) || (a->avail & (packed ? 3 : 1)) || (a->used & 3))
		return -EINVAL;
	if (!range_mapped(&dev->mem, a->uva, a->desc, 16 * num) ||
	    !range_mapped(&dev->mem, a->uva, a->avail, packed ? 4 : 6 + 2 * num) ||
	    !range_mapped(&dev->mem, a->uva, a->used, packed ? 4 : 6 + 8 * num)) {
		pr_info("%s: ring %u addresses outside the memory table\n", dev->params.name,
			index);
		return -EFAULT;
	}
	vr->desc = a->desc;
	vr->avail = a->avail;
	vr->used = a->used;
	vr->addr_flags = a->flags;
	vr->log_addr = a->log;
	vr->uva = a->uva;
	vr->addr_set = true;
	vnet_vring_update(dev, index);
	return 0;
}

int vnet_netdev_vring_set_base(struct vnet_netdev *dev, unsigned int index,
			       const struct vnet_vring_base *b)
{
	struct vnet_vring *vr = vring_get(dev, index);

	if (!vr)
		return -EINVAL;
	vr->last_avail_idx = b->last_avail_idx;
	vr->last_used_idx = b->last_used_idx;
	vnet_vring_update(dev, index);
	return 0;
}

int vnet_netdev_vring_get_base(struct vnet_netdev *dev, unsigned int index,
			       struct vnet_vring_base *b)
{
	const struct vnet_vring *vr = vring_get(dev, index);

	if (!vr)
		return -EINVAL;
	b->last_avail_idx = vr->last_avail_idx;
	b->last_used_idx = vr->last_used_idx;
	return 0;
}

int vnet_netdev_vring_set_fd(struct vnet_netdev *dev, unsigned int index,
			     enum vnet_vring_fd which, int fd)
{
	struct vnet_vring *vr = vring_get(dev, index);
	int *slot;

	if (!vr) {
		if (fd >= 0)
			close(fd);
		return -EINVAL;
	}
	switch (which) {
	case VNET_VRING_KICK: slot = &vr->kick_fd; break;
	case VNET_VRING_CALL: slot = &vr->call_fd; break;
	case VNET_VRING_ERR: slot = &vr->err_fd; break;
	default:
		if (fd >= 0)
			close(fd);
		return -EINVAL;
	}
	if (*slot >= 0)
		close(*slot);
	*slot = fd < 0 ? -1 : fd;
	vnet_vring_update(dev, index);
	return 0;
}

int vnet_netdev_vring_start(struct vnet_netdev *dev, unsigned int index)
{
	struct vnet_vring *vr = vring_get(dev, index);

	if (!vr)
		return -EINVAL;
	vr->started = true;
	vnet_vring_update(dev, index);
	return 0;
}

int vnet_netdev_vring_stop(struct vnet_netdev *dev, unsigned int index)
{
	struct vnet_vring *vr = vring_get(dev, index);

	if (!vr)
		return -EINVAL;
	/* the worker wrote its position back before it released the lock
	 * the caller holds; the next start brings a new kick */
	vr->started = false;
	if (vr->kick_fd >= 0)
		close(vr->kick_fd);
	vr->kick_fd = -1;
	vnet_vring_update(dev, index);
	return 0;
}

int vnet_netdev_vring_enable(struct vnet_netdev *dev, unsigned int index, bool on)
{
	struct vnet_vring *vr = vring_get(dev, index);

	if (!vr)
		return -EINVAL;
	vr->enabled = on;
	vnet_vring_update(dev, index);
	return 0;
}
