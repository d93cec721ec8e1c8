// SPDX-License-Identifier: MIT
/* Internet checksum helpers (include/vnet/csum.h). */
#include <arpa/inet.h>
#include <string.h>

#include <vnet/csum.h>

__u64 vnet_csum_add(const void *p, size_t len, __u64 sum)
{
	const __u8 *b = p;

	/* 32-bit words into a 64-bit sum: cannot overflow below 2^32 words */
	while (len >= 16) {
		__u32 w[4];

		memcpy(w, b, 16);
		sum += (__u64)w[0] + w[1] + w[2] + w[3];
		b += 16;
		len -= 16;
	}
	while (len >= 4) {
		__u32 w;

		memcpy(&w, b, 4);
		sum += w;
		b += 4;
		len -= 4;
	}
	if (len >= 2) {
		__u16 h;

		memcpy(&h, b, 2);
		sum += h;
		b += 2;
		len -= 2;
	}
	if (len) {
		__u8 last[2] = { b[0], 0 };	/* pad the odd byte with zero */
		__u16 h;

		memcpy(&h, last, 2);
		sum += h;
	}
	return sum;
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
