// SPDX-License-Identifier: MIT
/*
 * Frames cut at every byte offset: the parser answers cleanly (no read past
 * the end — each cut frame lives in an exact-size heap buffer, so ASan sees
 * any overrun), and nothing it reports lies beyond the cut.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "vnet/classify.h"
#include "frame.h"
#include "test.h"

static void check_cut(const __u8 *full, size_t cut, int *bad)
{
	static struct vnet_toeplitz_table tbl;	/* zero key is fine here */
	__u8 *buf = malloc(cut ? cut : 1);
	struct vnet_hash_result res;
	struct vnet_hash_input in;
	struct vnet_parsed p;
	int rc;

	memcpy(buf, full, cut);
	rc = vnet_parse_frame(buf, cut, &p);
	if (rc) {
		/* only a cut L2 header may be refused */
		if (rc != -EINVAL || cut >= 14 + 4u * VNET_MAX_VLAN_TAGS)
			(*bad)++;
	} else {
		if (p.l3 && p.l3_off + (p.l3 == VNET_L3_IPV4 ? 20u : 40u) > cut)
			(*bad)++;
		if (p.l4 && p.l4_off + (p.l4 == VNET_L4_TCP ? 20u : 8u) > cut)
			(*bad)++;
		vnet_hash_input_build(&p, VNET_HASH_TYPE_ALL, &in);
		if (in.len > VNET_HASH_INPUT_MAX)
			(*bad)++;
	}
	vnet_classify_hash(buf, cut, VNET_HASH_TYPE_ALL, &tbl, &res);
	free(buf);
}

static void test_truncated_at_every_offset(void)
{
	unsigned int seed = 7;
	int frames = 0, cuts = 0, bad = 0;

	for (int i = 0; i < 400; i++) {
		struct frame_spec s;
		__u8 full[1024];
		size_t len;

		frame_spec_random(&s, &seed);
		len = frame_build(&s, full, sizeof(full));
		if (!len)
			continue;
		frames++;
		for (size_t cut = 0; cut <= len; cut++, cuts++)
			check_cut(full, cut, &bad);
	}
	printf("  %d frames, %d cuts\n", frames, cuts);
	EXPECT(bad == 0, "%d cuts answered wrongly", bad);
	EXPECT(frames > 350, "only %d frames built", frames);
}

/* Random bytes after a valid Ethernet header never crash the parser. */
static void test_random_garbage(void)
{
	unsigned int seed = 4242;
	int bad = 0;

	for (int i = 0; i < 20000; i++) {
		size_t len = test_rand(&seed) % 200;
		__u8 full[200];

		for (size_t j = 0; j < len; j++)
			full[j] = (__u8)test_rand(&seed);
		if (len > 13) {
			full[12] = (i & 1) ? 0x86 : 0x08;
			full[13] = (i & 1) ? 0xdd : 0x00;
			if (len > 14)
				full[14] = (i & 1) ? 0x60 | (full[14] & 0xf) : 0x45;
		}
		check_cut(full, len, &bad);
	}
	EXPECT(bad == 0, "%d frames answered wrongly", bad);
}

int main(void)
{
	RUN(test_truncated_at_every_offset);
	RUN(test_random_garbage);
	return test_summary();
}
