/* SPDX-License-Identifier: MIT */
/*
 * Guest memory as the device sees it: a table of regions, each a range of
 * guest physical addresses (GPA) mapped into vnetd at 'hva'. Transports fill
 * it (vhost-user SET_MEM_TABLE / ADD_MEM_REG, VDUSE's IOTLB, the in-process
 * test driver); the engine only translates through vnet_gpa_to_hva().
 *
 * An IOTLB sits behind the same entry point: VDUSE's addresses are I/O
 * virtual addresses (IOVA) whose mappings appear while the driver runs,
 * without a message (the kernel maps its bounce buffer at the first DMA
 * mapping). A transport like that sets 'miss': a lookup that finds no
 * region asks it once to map the one holding the address, then retries.
 *
 * vhost-user ring addresses are front-end virtual addresses (VIRTIO_F_IOMMU
 * not negotiated): vnet_uva_to_hva() translates those through 'uaddr'.
 */
#ifndef VNET_GUEST_MEM_H
#define VNET_GUEST_MEM_H

#include <linux/types.h>
#include <stddef.h>

#define VNET_MAX_MEM_REGIONS	16	/* >= vhost-user's VHOST_MEMORY_MAX_NREGIONS (8) */

#define VNET_MEM_READ	1	/* the device reads (driver-readable buffers) */
#define VNET_MEM_WRITE	2	/* the device writes */

struct vnet_mem_region {
	__u64 gpa;		/* guest physical start */
	__u64 size;		/* bytes */
	__u64 uaddr;		/* front-end virtual address of gpa */
	__u8 *hva;		/* where gpa is mapped in this process */
	void *mmap_base;	/* what to munmap (NULL: not ours to unmap) */
	size_t mmap_len;
	int fd;			/* -1 when none */
	unsigned int refs;	/* ADD_MEM_REG of this very region, less REM_MEM_REG */
	__u8 deny;		/* VNET_MEM_* the mapping does not allow (an
				 * IOTLB entry's permission; 0: read-write) */
};

struct vnet_guest_mem {
	unsigned int nregions;
	struct vnet_mem_region regions[VNET_MAX_MEM_REGIONS];
	/*
	 * Optional (NULL: none): 'addr' is in no region; map the one that
	 * holds it into this table and return 0, or -errno. Runs on the thread
	 * that translates, under whatever lock guards the table (the device's),
	 * so it may append regions; existing ones never move.
	 */
	int (*miss)(const struct vnet_guest_mem *mem, __u64 addr, void *opaque);
	void *miss_opaque;
};

/*
 * Translate [gpa, gpa + *len) to a host pointer. On success *len is shrunk to
 * the contiguous part inside one region (callers loop or compare with what
 * they need). Returns NULL when gpa lies in no region, *len is 0 or the
 * region denies 'access' (VNET_MEM_*: a read-only IOTLB entry is never
 * written). A miss goes to mem->miss once (see above).
 */
void *vnet_gpa_to_hva(const struct vnet_guest_mem *mem, __u64 gpa, __u64 *len,
		      int access);

/* The same for front-end virtual addresses (vhost-user ring addresses). */
void *vnet_uva_to_hva(const struct vnet_guest_mem *mem, __u64 uva, __u64 *len);

/* Translate a range that must be contiguous in one region; NULL otherwise. */
void *vnet_gpa_range(const struct vnet_guest_mem *mem, __u64 gpa, __u64 len,
		     int access);

/*
 * The reverse: the guest address of host range [hva, hva + len), which must
 * lie inside one region (dirty-page logging of a write the engine made
 * through an iov). 0 and *gpa, or -ERANGE.
 */
int vnet_hva_to_gpa(const struct vnet_guest_mem *mem, const void *hva, __u64 len,
		    __u64 *gpa);

#endif
