// SPDX-License-Identifier: MIT
/*
 * The VDUSE IOTLB as the device's guest memory (include/vnet/vduse.h).
 *
 * Addresses in the rings are I/O virtual addresses of the kernel's IOTLB
 * for the device. With virtio_vdpa they are the kernel's bounce buffer
 * ([0, 64 MiB) by default, mapped by the kernel at its first DMA mapping
 * and never announced) and one coherent area per ring; with vhost_vdpa
 * they are the VM's memory, set by QEMU (announced: UPDATE_IOTLB, which
 * vduse.c turns into vnet_netdev_mem_invalidate). So nothing is mapped up
 * front: an address the engine finds in no region comes here (struct
 * vnet_guest_mem's miss hook, on the thread that translates, dev->lock
 * held), VDUSE_IOTLB_GET_FD names the entry that holds it and a file to
 * map, and the entry becomes one region of the device's memory (gpa =
 * IOVA) through vnet_netdev_mem_add.
 *
 * The kernel's answer is checked like a driver's input before it is
 * mapped: the entry must hold the address, have a permission and a sane
 * size; vnet_netdev_mem_add refuses one that overlaps a region we have.
 */
#include <errno.h>
#include <stdint.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "vnet/log.h"
#include "vduse_int.h"

/* an IOTLB permission as vnet_netdev_mem_add's flags */
static unsigned int perm_flags(__u8 perm)
{
	return (perm & VDUSE_ACCESS_RO ? 0 : VNET_MEM_NO_READ) |
	       (perm & VDUSE_ACCESS_WO ? 0 : VNET_MEM_NO_WRITE);
}

int vduse_iotlb_miss(const struct vnet_guest_mem *mem, __u64 addr, void *opaque)
{
	struct vnet_vduse *vd = opaque;
	struct vduse_iotlb_entry e = { .start = addr, .last = addr };
	struct vnet_mem_desc d;
	int fd, err;

	if (mem != &vd->dev->mem)
		return -EINVAL;
	if (mem->nregions >= VNET_MAX_MEM_REGIONS) {
		if (!vd->map_full_logged)
			pr_warn("%s: VDUSE IOTLB: more than %u entries in use, %#llx not mapped\n",
				vd->name, VNET_MAX_MEM_REGIONS, (unsigned long long)addr);
		vd->map_full_logged = true;
		return -ENOSPC;
	}
	fd = ioctl(vd->dev_fd, VDUSE_IOTLB_GET_FD, &e);
	if (fd < 0)
		return -errno;	/* no entry holds it: a bad address */
	d = (struct vnet_mem_desc){
		.gpa = e.start, .size = e.last - e.start + 1, .mmap_offset = e.offset,
	};
	if (e.last < e.start || addr < e.start || addr > e.last || !d.size ||
	    !(e.perm & VDUSE_ACCESS_RW)) {
		pr_info("%s: VDUSE IOTLB entry [%#llx, %#llx] perm %u for %#llx refused\n",
			vd->name, (unsigned long long)e.start, (unsigned long long)e.last,
			e.perm, (unsigned long long)addr);
		close(fd);
		return -EINVAL;
	}
	/* takes fd; refuses an entry overlapping a region we have */
	err = vnet_netdev_mem_add(vd->dev, &d, fd, perm_flags(e.perm));
	if (err) {
		pr_info("%s: VDUSE IOTLB entry [%#llx, %#llx] not mapped: %d\n", vd->name,
			(unsigned long long)e.start, (unsigned long long)e.last, err);
		return err;
	}
	__atomic_add_fetch(&vd->stats.iotlb_maps, 1, __ATOMIC_RELAXED);
	pr_debug("%s: VDUSE IOTLB [%#llx, %#llx] perm %u mapped\n", vd->name,
		 (unsigned long long)e.start, (unsigned long long)e.last, e.perm);
	return 0;
}
