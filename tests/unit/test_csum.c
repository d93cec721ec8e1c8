// SPDX-License-Identifier: MIT
/*
 * The Internet checksum (daemon/engine/csum.c) against a reference that
 * adds 16-bit words one at a time (RFC 1071 as written): random lengths,
 * start addresses (odd ones too), initial sums of any 64-bit value, and
 * sums carried from one call to the next; then the RFC's and a real IPv4
 * header's known values.
 */
#include <string.h>

#include <vnet/csum.h>

#include "frame.h"
#include "test.h"

/* Fold of 'init' and the 16-bit words of p[0..len) in host order. */
static __u16 ref_csum(const __u8 *p, size_t len, __u64 init)
{
	__u64 s = 0;

	for (int i = 0; i < 4; i++)
		s += (init >> (16 * i)) & 0xffff;
	for (size_t i = 0; i + 1 < len; i += 2) {
		__u16 w;

		memcpy(&w, p + i, 2);
		s += w;
	}
	if (len & 1) {
		__u8 last[2] = { p[len - 1], 0 };
		__u16 w;

		memcpy(&w, last, 2);
		s += w;
	}
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (__u16)~s;
}

static __u64 rand64(unsigned int *seed)
{
	return (__u64)test_rand(seed) << 32 | test_rand(seed);
}

static __u64 rand_init(unsigned int *seed)
{
	switch (test_rand(seed) % 5) {
	case 0: return 0;
	case 1: return ~0ull;			/* ones' complement zero */
	case 2: return test_rand(seed) & 0xffff;
	case 3: return (1ull << 33) - 1;	/* the largest sum the function returns */
	default: return rand64(seed);
	}
}

static void test_random_lengths_alignments(void)
{
	static __u8 buf[4096 + 64];
	unsigned int seed = 0x5eed;
	int checked = 0;

	for (int round = 0; round < 20000; round++) {
		size_t off = test_rand(&seed) % 64;
		size_t len = round < 600 ? (size_t)round % 300 : test_rand(&seed) % 4097;
		__u64 init = rand_init(&seed);
		int fill = test_rand(&seed) % 4;
		__u16 got, want;

		for (size_t i = 0; i < len; i++)	/* all ones/zeros: carry edges */
			buf[off + i] = fill == 0 ? 0xff : fill == 1 ? 0 : (__u8)test_rand(&seed);
		got = vnet_csum_fold(vnet_csum_add(buf + off, len, init));
		want = ref_csum(buf + off, len, init);
		EXPECT(got == want, "len %zu off %zu init 0x%llx: 0x%04x, want 0x%04x",
		       len, off, (unsigned long long)init, got, want);
		checked++;
	}
	printf("  %d sums checked\n", checked);
}

/* A sum carried over calls (even split points) is the sum of the whole,
 * and what a call returns leaves room for a caller's small terms. */
static void test_chained(void)
{
	static __u8 buf[3000];
	unsigned int seed = 77;

	for (int round = 0; round < 2000; round++) {
		size_t len = test_rand(&seed) % sizeof(buf);
		size_t cut = (test_rand(&seed) % (len + 1)) & ~(size_t)1;
		__u64 init = rand_init(&seed), s;

		for (size_t i = 0; i < len; i++)
			buf[i] = (__u8)test_rand(&seed);
		s = vnet_csum_add(buf, cut, init);
		EXPECT(s < (1ull << 33), "partial sum 0x%llx too large", (unsigned long long)s);
		s = vnet_csum_add(buf + cut, len - cut, s);
		EXPECT(vnet_csum_fold(s) == ref_csum(buf, len, init),
		       "len %zu cut %zu: chained sum differs", len, cut);
	}
}

/* RFC 1071 section 3's example and an IPv4 header with its checksum. */
static void test_known_values(void)
{
	static const __u8 rfc[] = { 0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7 };
	static const __u8 ip[] = {
		0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11,
		0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7,
	};
	__u8 hdr[sizeof(ip)], out[2];
	__u16 c;

	/* the sum is 0xddf2 (network order), the checksum its complement */
	c = vnet_csum_fold(vnet_csum_add(rfc, sizeof(rfc), 0));
	memcpy(out, &c, 2);
	EXPECT(out[0] == 0x22 && out[1] == 0x0d, "RFC 1071 example: %02x%02x, want 220d",
	       out[0], out[1]);
	/* a valid header sums to zero; with the field cleared, to its value */
	EXPECT(vnet_csum_fold(vnet_csum_add(ip, sizeof(ip), 0)) == 0, "IPv4 header not valid");
	memcpy(hdr, ip, sizeof(ip));
	hdr[10] = hdr[11] = 0;
	c = vnet_csum_fold(vnet_csum_add(hdr, sizeof(hdr), 0));
	memcpy(out, &c, 2);
	EXPECT(out[0] == 0xb8 && out[1] == 0x61, "IPv4 header: %02x%02x, want b861",
	       out[0], out[1]);
}

int main(void)
{
	RUN(test_random_lengths_alignments);
	RUN(test_chained);
	RUN(test_known_values);
	return test_summary();
}
