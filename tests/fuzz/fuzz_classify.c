// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the reference classifier on arbitrary frames, checking
 * that both Toeplitz forms agree on whatever input it selects.
 */
#include <stdlib.h>
#include <string.h>

#include "vnet/classify.h"

int LLVMFuzzerTestOneInput(const __u8 *data, size_t size);

int LLVMFuzzerTestOneInput(const __u8 *data, size_t size)
{
	static struct vnet_toeplitz_table tbl;
	static const __u8 key[40] = { 0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2,
				      0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0 };
	static int ready;
	struct vnet_parsed p;
	struct vnet_hash_input in;
	__u32 enabled;

	if (!ready) {
		vnet_toeplitz_expand(key, sizeof(key), &tbl);
		ready = 1;
	}
	if (size < 2)
		return 0;
	/* the first two bytes choose the enabled hash types */
	enabled = (__u32)(data[0] | data[1] << 8) & VNET_HASH_TYPE_ALL;
	data += 2;
	size -= 2;
	if (vnet_parse_frame(data, size, &p))
		return 0;
	vnet_hash_input_build(&p, enabled, &in);
	if (in.len > VNET_HASH_INPUT_MAX ||
	    vnet_toeplitz_table(&tbl, in.data, in.len) !=
	    vnet_toeplitz_bits(key, sizeof(key), in.data, in.len))
		abort();
	return 0;
}
