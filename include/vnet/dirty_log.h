/* SPDX-License-Identifier: MIT */
/*
 * Dirty-page logging for live migration (QEMU docs/interop/vhost-user.rst,
 * "Migration"): while the front-end migrates a guest, every write the
 * device makes into guest memory sets the bit of each 4 KiB guest page it
 * touched, in a bitmap the front-end shares (vhost-user SET_LOG_BASE):
 *
 *     page = gpa / 4096;  log[page / 8] |= 1 << (page % 8)    (atomic OR)
 *
 * The front-end reads and clears the bitmap concurrently (QEMU exchanges
 * each word with 0), so a bit is set only after the write it covers, with
 * release order: whoever sees the bit sees the data.
 *
 * The engine marks at its lowest write points only (virtq.h): the iov write
 * helper (receive buffers, control-queue acks) and the ring layout's writes
 * of its device area (used entries, used index, flags, avail_event). A
 * queue logs while its 'log' is set; NULL costs one predictable branch per
 * write call.
 */
#ifndef VNET_DIRTY_LOG_H
#define VNET_DIRTY_LOG_H

#include <linux/types.h>

#include <vnet/guest_mem.h>

#define VNET_LOG_PAGE_SHIFT	12	/* VHOST_LOG_PAGE 0x1000 */

struct vnet_dirty_log {
	__u8 *bitmap;		/* bit n: guest page n */
	__u64 size;		/* bytes: pages past 8 * size are not logged */
};

/* Mark the pages of [gpa, gpa + len) dirty; bits past the bitmap are skipped. */
void vnet_dirty_log_mark(const struct vnet_dirty_log *log, __u64 gpa, __u64 len);

/*
 * The same for a write at host address [hva, hva + len), which must lie in
 * one region of 'mem' (an iov segment does): its guest address is found by
 * the reverse translation. A range in no region marks nothing.
 */
void vnet_dirty_log_mark_hva(const struct vnet_dirty_log *log,
			     const struct vnet_guest_mem *mem, const void *hva, __u64 len);

/* Is page 'gpa >> 12' marked? (tests, tools) */
static inline int vnet_dirty_log_test(const struct vnet_dirty_log *log, __u64 gpa)
{
	__u64 page = gpa >> VNET_LOG_PAGE_SHIFT;

	if (!log->bitmap || page / 8 >= log->size)
		return 0;
	return (__atomic_load_n(&log->bitmap[page / 8], __ATOMIC_RELAXED) >> (page % 8)) & 1;
}

#endif
