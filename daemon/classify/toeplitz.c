// SPDX-License-Identifier: MIT
/* Toeplitz hash, bit-serial and per-byte table forms: see vnet/toeplitz.h. */
#include <string.h>

#include "vnet/toeplitz.h"

/* Key bit i (MSB first), zero past the end of the key. */
static inline unsigned int key_bit(const __u8 *key, size_t key_len, size_t i)
{
	size_t byte = i / 8;

	if (byte >= key_len)
		return 0;
	return (key[byte] >> (7 - i % 8)) & 1;
}

/* The 32-bit window of the key that starts at bit i. */
static __u32 key_window(const __u8 *key, size_t key_len, size_t i)
{
	__u32 w = 0;

	for (size_t b = 0; b < 32; b++)
		w = w << 1 | key_bit(key, key_len, i + b);
	return w;
}

/*
 * The definition: for every set bit j of the input (MSB first), XOR in the
 * 32 key bits that start at bit j. Written for clarity, not speed.
 */
__u32 vnet_toeplitz_bits(const __u8 *key, size_t key_len,
			 const __u8 *data, size_t len)
{
	__u32 hash = 0;

	if (len > VNET_HASH_INPUT_MAX)
		len = VNET_HASH_INPUT_MAX;
	for (size_t j = 0; j < len * 8; j++)
		if ((data[j / 8] >> (7 - j % 8)) & 1)
			hash ^= key_window(key, key_len, j);
	return hash;
}

void vnet_toeplitz_expand(const __u8 *key, size_t key_len,
			  struct vnet_toeplitz_table *t)
{
	for (size_t i = 0; i < VNET_HASH_INPUT_MAX; i++) {
		__u32 bitval[8];

		/* contribution of each single bit of input byte i */
		for (unsigned int b = 0; b < 8; b++)
			bitval[b] = key_window(key, key_len, i * 8 + b);
		for (unsigned int v = 0; v < 256; v++) {
			__u32 h = 0;

			for (unsigned int b = 0; b < 8; b++)
				if (v & (0x80 >> b))
					h ^= bitval[b];
			t->tbl[i][v] = h;
		}
	}
}

__u32 vnet_toeplitz_table(const struct vnet_toeplitz_table *t,
			  const __u8 *data, size_t len)
{
	__u32 hash = 0;

	if (len > VNET_HASH_INPUT_MAX)
		len = VNET_HASH_INPUT_MAX;
	for (size_t i = 0; i < len; i++)
		hash ^= t->tbl[i][data[i]];
	return hash;
}
