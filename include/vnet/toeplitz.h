/* SPDX-License-Identifier: MIT */
/*
 * Toeplitz hash (spec "Hash calculation for incoming packets"; the Microsoft
 * RSS definition). Two forms that must always agree:
 *
 *  - vnet_toeplitz_bits(): the bit-serial definition, the reference;
 *  - vnet_toeplitz_table(): one lookup per input byte in a table expanded
 *    from the key once (tbl[i][b] = hash contribution of byte value b at
 *    input position i). This is what the XDP program does, ~10x cheaper.
 *
 * The longest hash input is 36 bytes (two IPv6 addresses and two ports),
 * which needs 36 * 8 + 32 = 320 key bits: 40 bytes, the spec's minimum
 * rss_max_key_size. Shorter keys are padded with zero bits; bytes past the
 * 40th can never influence a hash.
 */
#ifndef VNET_TOEPLITZ_H
#define VNET_TOEPLITZ_H

#include <linux/types.h>

#define VNET_HASH_INPUT_MAX	36
#define VNET_TOEPLITZ_KEY_MAX	40

struct vnet_toeplitz_table {
	__u32 tbl[VNET_HASH_INPUT_MAX][256];
};

_Static_assert(sizeof(struct vnet_toeplitz_table) == 36 * 256 * 4,
	       "table layout is shared with the BPF map");

#ifndef __bpf__
#include <stddef.h>

__u32 vnet_toeplitz_bits(const __u8 *key, size_t key_len,
			 const __u8 *data, size_t len);
void vnet_toeplitz_expand(const __u8 *key, size_t key_len,
			  struct vnet_toeplitz_table *t);
__u32 vnet_toeplitz_table(const struct vnet_toeplitz_table *t,
			  const __u8 *data, size_t len);
#endif

#endif
