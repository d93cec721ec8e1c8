// SPDX-License-Identifier: MIT
/*
 * Dirty-page logging (include/vnet/dirty_log.h). Only runs while a
 * migration is in progress; the engine's write paths test one pointer
 * otherwise.
 */
#include <stdint.h>

#include <vnet/dirty_log.h>

/*
 * Set 'mask' in byte 'at' of the bitmap, after the data it covers: release,
 * so a front-end that exchanges the byte with 0 and then copies the page
 * sees the write. (Skipping bits that look set would need a full fence
 * before the look, a store may still sit in the store buffer: no cheaper.)
 */
static inline void log_set(__u8 *bitmap, __u64 at, __u8 mask)
{
	__atomic_fetch_or(&bitmap[at], mask, __ATOMIC_RELEASE);
}

void vnet_dirty_log_mark(const struct vnet_dirty_log *log, __u64 gpa, __u64 len)
{
	__u64 page, last, byte;
	__u8 mask = 0;

	if (!len || !log->bitmap)
		return;
	/* the front-end's addresses are not trusted: no wrap past 2^64 */
	last = len - 1 > UINT64_MAX - gpa ? UINT64_MAX : gpa + (len - 1);
	page = gpa >> VNET_LOG_PAGE_SHIFT;
	last >>= VNET_LOG_PAGE_SHIFT;
	byte = page / 8;
	/* one atomic per bitmap byte: 8 pages at a time */
	for (; page <= last && page / 8 < log->size; page++) {
		if (page / 8 != byte) {
			log_set(log->bitmap, byte, mask);
			byte = page / 8;
			mask = 0;
		}
		mask |= (__u8)(1u << (page % 8));
		if (page == UINT64_MAX >> VNET_LOG_PAGE_SHIFT)
			break;
	}
	if (mask)
		log_set(log->bitmap, byte, mask);
}

void vnet_dirty_log_mark_hva(const struct vnet_dirty_log *log,
			     const struct vnet_guest_mem *mem, const void *hva, __u64 len)
{
	__u64 gpa;

	if (len && !vnet_hva_to_gpa(mem, hva, len, &gpa))
		vnet_dirty_log_mark(log, gpa, len);
}
