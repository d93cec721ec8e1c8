// SPDX-License-Identifier: MIT
/* Internet checksum helpers (include/vnet/csum.h). */
#include <arpa/inet.h>
#include <string.h>

#include <vnet/csum.h>

/*
 * The receive path verifies the TCP checksum of every frame (gro.c: AF_XDP
 * says nothing of what the NIC checked), so this loop is per byte received.
 * The sum is kept as a 64-bit ones' complement sum: 64-bit words added with
 * the carry folded back in (RFC 1071 2.(B): the sum may be taken in any
 * word size and folded at the end). x86-64 chains add-with-carry over 64
 * bytes an iteration (one carry chain, no fold per word); elsewhere two
 * 32-bit halves go into a 64-bit accumulator, which cannot overflow below
 * 2^31 words.
 */
static inline __u64 add_carry(__u64 a, __u64 b)
{
	a += b;
	return a + (a < b);	/* end-around carry: still a ones' complement sum */
}

#if defined(__x86_64__)
/* 'n' 64-byte blocks at 'p' into 'sum' (ones' complement, 64-bit) */
static __u64 sum_blocks(const __u8 *p, size_t n, __u64 sum)
{
	while (n--) {
		asm("addq 0*8(%[p]), %[s]\n\t"
		    "adcq 1*8(%[p]), %[s]\n\t"
		    "adcq 2*8(%[p]), %[s]\n\t"
		    "adcq 3*8(%[p]), %[s]\n\t"
		    "adcq 4*8(%[p]), %[s]\n\t"
		    "adcq 5*8(%[p]), %[s]\n\t"
		    "adcq 6*8(%[p]), %[s]\n\t"
		    "adcq 7*8(%[p]), %[s]\n\t"
		    "adcq $0, %[s]"
		    : [s] "+r"(sum)
		    : [p] "r"(p), "m"(*(const __u8 (*)[64])p)
		    : "cc");
		p += 64;
	}
	return sum;
}
#else
static __u64 sum_blocks(const __u8 *p, size_t n, __u64 sum)
{
	__u64 acc = 0;

	while (n--) {
		for (int i = 0; i < 64; i += 8) {
			__u64 w;

			memcpy(&w, p + i, 8);
			acc += (w & 0xffffffffu) + (w >> 32);
		}
		p += 64;
		/* at most 2^36 a block: fold before it could overflow */
		if (acc >> 60)
			acc = (acc & 0xffffffffu) + (acc >> 32);
	}
	return add_carry(sum, acc);
}
#endif

__u64 vnet_csum_add(const void *p, size_t len, __u64 sum)
{
	const __u8 *b = p;
	__u64 tail = 0;

	sum = sum_blocks(b, len / 64, sum);
	b += len & ~(size_t)63;
	len &= 63;
	while (len >= 8) {
		__u64 w;

		memcpy(&w, b, 8);
		sum = add_carry(sum, w);
		b += 8;
		len -= 8;
	}
	/* the last 0..7 bytes in their places in a zeroed word (an odd
	 * byte is padded with zero, RFC 1071) */
	if (len & 4) {
		__u32 w;

		memcpy(&w, b, 4);
		memcpy(&tail, &w, 4);
	}
	if (len & 2) {
		__u16 h;

		memcpy(&h, b + (len & 4), 2);
		memcpy((__u8 *)&tail + (len & 4), &h, 2);
	}
	if (len & 1)
		((__u8 *)&tail)[len & 6] = b[len & 6];
	sum = add_carry(sum, tail);
	/* at most 2^32: callers may add small terms to it (csum.h) */
	sum = (sum & 0xffffffffu) + (sum >> 32);
	return (sum & 0xffffffffu) + (sum >> 32);
}

__u16 vnet_csum_fold(__u64 sum)
{
	sum = (sum & 0xffffffffull) + (sum >> 32);
	sum = (sum & 0xffffffffull) + (sum >> 32);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

__u64 vnet_csum_pseudo4(const void *saddr, const void *daddr, __u8 proto,
			__u32 l4_len)
{
	__u64 sum = vnet_csum_add(saddr, 4, 0);

	sum = vnet_csum_add(daddr, 4, sum);
	return sum + htons(proto) + htons((__u16)l4_len);
}

__u64 vnet_csum_pseudo6(const void *saddr, const void *daddr, __u8 proto,
			__u32 l4_len)
{
	__u64 sum = vnet_csum_add(saddr, 16, 0);

	sum = vnet_csum_add(daddr, 16, sum);
	return sum + htons((__u16)(l4_len >> 16)) + htons((__u16)l4_len) +
	       htons(proto);
}
