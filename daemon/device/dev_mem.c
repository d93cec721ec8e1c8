// SPDX-License-Identifier: MIT
/*
 * Guest memory of the device model (include/vnet/device.h, "guest memory"):
 * the table of regions the engine translates through, filled by a transport
 * (vhost-user SET_MEM_TABLE, ADD/REM_MEM_REG; VDUSE's IOTLB entries). The
 * device maps and unmaps; a transport describes regions and hands over
 * their fds. Every fd passed in is closed on every path: a mapping keeps
 * the memory alive, one fd fewer per region.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vnet/log.h"
#include "device_int.h"

static void close_fds(int *fds, unsigned int n)
{
	for (unsigned int i = 0; i < n; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
		fds[i] = -1;
	}
}

static void region_unmap(struct vnet_mem_region *r)
{
	if (r->mmap_base)
		munmap(r->mmap_base, r->mmap_len);
	if (r->fd >= 0)
		close(r->fd);
	memset(r, 0, sizeof(*r));
	r->fd = -1;
}

/* The engine's queues hold pointers into guest memory: make the worker
 * rebuild every ring before it runs again (it checks 'gen' under the lock). */
static void mem_changed(struct vnet_netdev *dev)
{
	vnet_vrings_rebuild(dev);
}

static bool ranges_overlap(__u64 a, __u64 alen, __u64 b, __u64 blen)
{
	return a < b + blen && b < a + alen;
}

/* A region against overflow and the regions already in 'mem'. */
static int region_check(const struct vnet_guest_mem *mem, const struct vnet_mem_desc *d,
			unsigned int flags)
{
	unsigned int i;

	if (!d->size || d->gpa + d->size < d->gpa ||
	    ((flags & VNET_MEM_UVA) && d->uaddr + d->size < d->uaddr) ||
	    d->mmap_offset + d->size < d->mmap_offset ||
	    d->mmap_offset + d->size > (__u64)SIZE_MAX)
		return -EINVAL;
	for (i = 0; i < mem->nregions; i++) {
		const struct vnet_mem_region *o = &mem->regions[i];

		if (ranges_overlap(o->gpa, o->size, d->gpa, d->size))
			return -EINVAL;
		if ((flags & VNET_MEM_UVA) &&
		    ranges_overlap(o->uaddr, o->size, d->uaddr, d->size))
			return -EINVAL;
	}
	return 0;
}

/* Map one region from 'fd', which is closed on success and failure. */
static int region_map(struct vnet_mem_region *out, const struct vnet_mem_desc *d, int fd,
		      unsigned int flags)
{
	size_t len = (size_t)(d->mmap_offset + d->size);
	struct stat st;
	void *p;

	if (fd < 0)
		return -EBADF;
	if ((flags & VNET_MEM_NO_READ) && (flags & VNET_MEM_NO_WRITE)) {
		close(fd);
		return -EINVAL;		/* no access at all: nothing to map */
	}
	/* a file shorter than the mapping would SIGBUS us on access */
	if ((flags & VNET_MEM_FILE) &&
	    (fstat(fd, &st) || !S_ISREG(st.st_mode) || (__u64)st.st_size < len)) {
		close(fd);
		return -EINVAL;
	}
	/*
	 * ...and so would one the front-end shrinks later. Seal it against
	 * shrinking where the front-end allows sealing (memfd with
	 * MFD_ALLOW_SEALING, QEMU's default memfd backend); other memory
	 * (hugetlbfs, unsealable memfds) keeps that risk, as with every
	 * vhost-user back-end.
	 */
	if ((flags & VNET_MEM_FILE) && fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK) < 0)
		pr_debug("memory region fd cannot be sealed against shrinking\n");
	p = mmap(NULL, len, (flags & VNET_MEM_NO_READ ? 0 : PROT_READ) |
		 (flags & VNET_MEM_NO_WRITE ? 0 : PROT_WRITE), MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return -errno;
	/* what the mapping does not allow, the engine never tries */
	out->deny = (flags & VNET_MEM_NO_READ ? VNET_MEM_READ : 0) |
		    (flags & VNET_MEM_NO_WRITE ? VNET_MEM_WRITE : 0);
	out->gpa = d->gpa;
	out->size = d->size;
	out->uaddr = d->uaddr;
	out->hva = (__u8 *)p + d->mmap_offset;
	out->mmap_base = p;
	out->mmap_len = len;
	out->fd = -1;
	out->refs = 1;
	return 0;
}

/* Remove regions[i], keeping the table dense. */
static void region_drop(struct vnet_guest_mem *mem, unsigned int i)
{
	region_unmap(&mem->regions[i]);
	mem->regions[i] = mem->regions[mem->nregions - 1];
	memset(&mem->regions[mem->nregions - 1], 0, sizeof(mem->regions[0]));
	mem->regions[mem->nregions - 1].fd = -1;
	mem->nregions--;
}

void vnet_netdev_mem_clear(struct vnet_netdev *dev)
{
	bool had = dev->mem.nregions;

	for (unsigned int i = 0; i < VNET_MAX_MEM_REGIONS; i++)
		region_unmap(&dev->mem.regions[i]);
	dev->mem.nregions = 0;
	if (had)
		mem_changed(dev);
}

int vnet_netdev_mem_set(struct vnet_netdev *dev, const struct vnet_mem_desc *d,
			int *fds, unsigned int n, unsigned int flags)
{
	struct vnet_guest_mem mem = { 0 };
	unsigned int i;
	int err = 0;

	if (n < 1 || n > VNET_MAX_MEM_REGIONS) {
		close_fds(fds, n);
		return -EINVAL;
	}
	for (i = 0; i < VNET_MAX_MEM_REGIONS; i++)
		mem.regions[i].fd = -1;
	for (i = 0; i < n; i++) {
		err = region_check(&mem, &d[i], flags);
		if (!err)
			err = region_map(&mem.regions[i], &d[i], fds[i], flags);
		else
			close(fds[i]);
		fds[i] = -1;
		if (err)
			goto undo;
		mem.nregions = i + 1;
	}
	/* the old table goes only once the new one is complete */
	for (i = 0; i < VNET_MAX_MEM_REGIONS; i++)
		region_unmap(&dev->mem.regions[i]);
	dev->mem = mem;
	mem_changed(dev);
	return 0;
undo:
	close_fds(fds + i + 1, n - i - 1);
	for (i = 0; i < mem.nregions; i++)
		region_unmap(&mem.regions[i]);
	return err;
}

/* The region 'd' describes, if the table has it already: same guest and
 * front-end addresses, size and file offset. */
static struct vnet_mem_region *region_find(struct vnet_guest_mem *mem,
					   const struct vnet_mem_desc *d)
{
	for (unsigned int i = 0; i < mem->nregions; i++) {
		struct vnet_mem_region *o = &mem->regions[i];

		if (o->gpa == d->gpa && o->size == d->size && o->uaddr == d->uaddr &&
		    (__u64)(o->hva - (__u8 *)o->mmap_base) == d->mmap_offset)
			return o;
	}
	return NULL;
}

/*
 * QEMU keeps one vhost device per queue pair on the same socket, and each
 * sends ADD_MEM_REG (and later REM_MEM_REG) for the same regions: a repeat
 * of a region we have is a reference, not an overlap. A region that overlaps
 * another without being it is still refused.
 */
int vnet_netdev_mem_add(struct vnet_netdev *dev, const struct vnet_mem_desc *d, int fd,
			unsigned int flags)
{
	struct vnet_guest_mem *mem = &dev->mem;
	struct vnet_mem_region *have = region_find(mem, d);
	int err;

	if (have) {
		if (fd >= 0)
			close(fd);
		have->refs++;
		return 0;
	}
	if (mem->nregions >= VNET_MAX_MEM_REGIONS || region_check(mem, d, flags)) {
		if (fd >= 0)
			close(fd);
		return -EINVAL;
	}
	err = region_map(&mem->regions[mem->nregions], d, fd, flags);
	if (err)
		return err;
	mem->nregions++;
	mem_changed(dev);
	return 0;
}

int vnet_netdev_mem_remove(struct vnet_netdev *dev, const struct vnet_mem_desc *d)
{
	struct vnet_guest_mem *mem = &dev->mem;
	unsigned int i;

	for (i = 0; i < mem->nregions; i++) {
		if (mem->regions[i].gpa == d->gpa && mem->regions[i].size == d->size)
			break;
	}
	if (i == mem->nregions)
		return -EINVAL;
	/* the other users (QEMU's other vhost devices) still need it */
	if (mem->regions[i].refs > 1) {
		mem->regions[i].refs--;
		return 0;
	}
	region_drop(mem, i);
	mem_changed(dev);
	return 0;
}

unsigned int vnet_netdev_mem_invalidate(struct vnet_netdev *dev, __u64 gpa, __u64 len)
{
	struct vnet_guest_mem *mem = &dev->mem;
	unsigned int i = 0, n = 0;
	__u64 last;

	if (!len)
		return 0;
	/* inclusive ends: a range up to 2^64 - 1 has no exclusive end */
	last = len - 1 > UINT64_MAX - gpa ? UINT64_MAX : gpa + len - 1;
	while (i < mem->nregions) {
		const struct vnet_mem_region *r = &mem->regions[i];

		if (r->gpa <= last && gpa <= r->gpa + (r->size - 1)) {
			region_drop(mem, i);	/* the last one moved to i */
			n++;
		} else {
			i++;
		}
	}
	if (n)
		mem_changed(dev);
	return n;
}
