// SPDX-License-Identifier: MIT
/*
 * Guest memory translation (include/vnet/guest_mem.h).
 *
 * Every guest-supplied address and length reaches the engine through here,
 * so the arithmetic never adds a guest value to anything before it has been
 * bounded: we compare the offset inside a region with the region size, never
 * 'gpa + len' with the region end (which a hostile length could wrap).
 */
#include <errno.h>

#include <vnet/guest_mem.h>

/* Offset of 'addr' in [base, base + size), or -1 (as u64) when outside. */
static inline int region_offset(__u64 base, __u64 size, __u64 addr, __u64 *off)
{
	if (addr < base)
		return -ERANGE;
	*off = addr - base;
	return *off < size ? 0 : -ERANGE;
}

static void *region_translate(const struct vnet_mem_region *r, __u64 off,
			      __u64 *len, int access)
{
	__u64 room = r->size - off;	/* > 0: off < size */

	/* a mapping made read-only (or write-only) would fault: refuse */
	if (r->deny & access)
		return NULL;
	if (*len > room)
		*len = room;		/* partial mapping: caller compares */
	return r->hva + off;
}

/* Which address of a region a lookup key is compared with. */
enum addr_space { GUEST_PHYS, FRONTEND_VIRT };

/*
 * The one region walk behind both translations; 'space' is a constant at
 * each call site, so each caller gets its own specialised loop.
 */
static inline __attribute__((always_inline)) void *
translate(const struct vnet_guest_mem *mem, enum addr_space space, __u64 addr,
	  __u64 *len, int access)
{
	unsigned int i, n;
	__u64 off;

	if (!mem || !*len)
		return NULL;
	n = mem->nregions < VNET_MAX_MEM_REGIONS ? mem->nregions
						  : VNET_MAX_MEM_REGIONS;
	for (i = 0; i < n; i++) {
		const struct vnet_mem_region *r = &mem->regions[i];
		__u64 base = space == GUEST_PHYS ? r->gpa : r->uaddr;

		if (!r->hva || !r->size)
			continue;
		if (region_offset(base, r->size, addr, &off) == 0)
			return region_translate(r, off, len, access);
	}
	return NULL;
}

void *vnet_gpa_to_hva(const struct vnet_guest_mem *mem, __u64 gpa, __u64 *len,
		      int access)
{
	void *p = translate(mem, GUEST_PHYS, gpa, len, access);

	/* an IOTLB entry not mapped yet: one try, off the common path */
	if (__builtin_expect(!p, 0) && mem && mem->miss && *len &&
	    mem->miss(mem, gpa, mem->miss_opaque) == 0)
		p = translate(mem, GUEST_PHYS, gpa, len, access);
	return p;
}

void *vnet_uva_to_hva(const struct vnet_guest_mem *mem, __u64 uva, __u64 *len)
{
	return translate(mem, FRONTEND_VIRT, uva, len, 0);
}

void *vnet_gpa_range(const struct vnet_guest_mem *mem, __u64 gpa, __u64 len,
		     int access)
{
	__u64 got = len;
	void *p = vnet_gpa_to_hva(mem, gpa, &got, access);

	return p && got == len ? p : NULL;
}

int vnet_hva_to_gpa(const struct vnet_guest_mem *mem, const void *hva, __u64 len,
		    __u64 *gpa)
{
	unsigned int i, n;

	n = mem->nregions < VNET_MAX_MEM_REGIONS ? mem->nregions : VNET_MAX_MEM_REGIONS;
	for (i = 0; i < n; i++) {
		const struct vnet_mem_region *r = &mem->regions[i];
		__u64 off;

		if (!r->hva || (const __u8 *)hva < r->hva)
			continue;
		off = (__u64)((const __u8 *)hva - r->hva);
		if (off < r->size && len <= r->size - off) {
			*gpa = r->gpa + off;
			return 0;
		}
	}
	return -ERANGE;
}
