/* SPDX-License-Identifier: MIT */
/*
 * Internet checksum (RFC 1071) in the host's byte order: the ones'
 * complement sum does not care which byte of a 16-bit word comes first, so
 * we add native words and store the folded result with memcpy.
 */
#ifndef VNET_CSUM_H
#define VNET_CSUM_H

#include <linux/types.h>
#include <stddef.h>

/*
 * Add 'len' bytes at 'p' (treated as starting on an even offset) to 'sum'
 * (any value). The result is below 2^33: callers may add a few small terms
 * before they fold.
 */
__u64 vnet_csum_add(const void *p, size_t len, __u64 sum);

/* Fold to 16 bits and complement: the value to store in the packet. */
__u16 vnet_csum_fold(__u64 sum);

/* Pseudo-header sums (RFC 793 / RFC 8200 8.1); addresses in packet order. */
__u64 vnet_csum_pseudo4(const void *saddr, const void *daddr, __u8 proto,
			__u32 l4_len);
__u64 vnet_csum_pseudo6(const void *saddr, const void *daddr, __u8 proto,
			__u32 l4_len);

#endif
