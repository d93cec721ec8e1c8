/* SPDX-License-Identifier: MIT */
/*
 * Hash input selection (spec "Hash calculation for incoming packets", the
 * precedence of include/vnet/classify.h) and the Toeplitz function: one
 * table lookup per input byte, table expanded from the key in userspace
 * (vnet_toeplitz_expand). Built with -DVNET_TOEPLITZ_BITLOOP the program
 * uses the bit-serial loop instead: the benchmark's point of comparison.
 */
#ifndef VNET_BPF_HASH_H
#define VNET_BPF_HASH_H

#include "parse.h"
#include "vnet/datapath.h"

struct hash_in {
	__u8 data[VNET_HASH_INPUT_MAX];
	__u32 len;
};

static __always_inline int put_in(struct hash_in *in, int report, const __u8 *src,
				  const __u8 *dst, int v6, const __u8 *ports)
{
	if (v6) {
		__builtin_memcpy(in->data, src, 16);
		__builtin_memcpy(in->data + 16, dst, 16);
		in->len = 32;
	} else {
		__builtin_memcpy(in->data, src, 4);
		__builtin_memcpy(in->data + 4, dst, 4);
		in->len = 8;
	}
	if (ports) {
		__builtin_memcpy(in->data + in->len, ports, 4);
		in->len += 4;
	}
	return report;
}

#define TYPE_ON(en, r)	((en) & VNET_HASH_TYPE_OF_REPORT(VNET_HASH_REPORT_##r))

static __always_inline int select_hash_input(const struct pkt *p, __u32 en,
					     struct hash_in *in)
{
	if (p->l3 == VNET_L3_IPV4) {
		if (TYPE_ON(en, TCPv4) && p->l4 == VNET_L4_TCP)
			return put_in(in, VNET_HASH_REPORT_TCPv4, p->src, p->dst, 0, p->ports);
		if (TYPE_ON(en, UDPv4) && p->l4 == VNET_L4_UDP)
			return put_in(in, VNET_HASH_REPORT_UDPv4, p->src, p->dst, 0, p->ports);
		if (TYPE_ON(en, IPv4))
			return put_in(in, VNET_HASH_REPORT_IPv4, p->src, p->dst, 0, NULL);
		return VNET_HASH_REPORT_NONE;
	}
	if (p->l3 != VNET_L3_IPV6)
		return VNET_HASH_REPORT_NONE;
	/* spec "IPv6 packets with extension header": _EX first, then plain */
	if (p->flags & VNET_PF_IPV6_EXT) {
		const __u8 *s = p->flags & VNET_PF_HOME_ADDR ? p->ex_src : p->src;
		const __u8 *d = p->flags & VNET_PF_RH2 ? p->ex_dst : p->dst;

		if (TYPE_ON(en, TCPv6_EX) && p->l4 == VNET_L4_TCP)
			return put_in(in, VNET_HASH_REPORT_TCPv6_EX, s, d, 1, p->ports);
		if (TYPE_ON(en, UDPv6_EX) && p->l4 == VNET_L4_UDP)
			return put_in(in, VNET_HASH_REPORT_UDPv6_EX, s, d, 1, p->ports);
		if (TYPE_ON(en, IPv6_EX))
			return put_in(in, VNET_HASH_REPORT_IPv6_EX, s, d, 1, NULL);
	}
	if (TYPE_ON(en, TCPv6) && p->l4 == VNET_L4_TCP)
		return put_in(in, VNET_HASH_REPORT_TCPv6, p->src, p->dst, 1, p->ports);
	if (TYPE_ON(en, UDPv6) && p->l4 == VNET_L4_UDP)
		return put_in(in, VNET_HASH_REPORT_UDPv6, p->src, p->dst, 1, p->ports);
	if (TYPE_ON(en, IPv6))
		return put_in(in, VNET_HASH_REPORT_IPv6, p->src, p->dst, 1, NULL);
	return VNET_HASH_REPORT_NONE;
}

#ifndef VNET_TOEPLITZ_BITLOOP
static __always_inline __u32 toeplitz(const struct vnet_toeplitz_table *t,
				      const struct vnet_dp_steer *st,
				      const struct hash_in *in)
{
	__u32 h = 0;

#pragma unroll
	for (int i = 0; i < VNET_HASH_INPUT_MAX; i++) {
		if (i >= in->len)
			break;
		h ^= t->tbl[i][in->data[i]];
	}
	return h;
}
#else
/*
 * The definition, bit by bit: a 32-bit window slides over the key; for
 * every set input bit the window is XORed in. st->key is zero past key_len.
 */
static __always_inline __u32 toeplitz(const struct vnet_toeplitz_table *t,
				      const struct vnet_dp_steer *st,
				      const struct hash_in *in)
{
	__u32 h = 0, win;

	win = (__u32)st->key[0] << 24 | (__u32)st->key[1] << 16 |
	      (__u32)st->key[2] << 8 | st->key[3];
	for (int i = 0; i < VNET_HASH_INPUT_MAX; i++) {
		__u8 b, kb;

		if (i >= in->len)
			break;
		b = in->data[i];
		kb = st->key[i + 4];	/* i + 4 <= 39: inside the key */
		for (int j = 7; j >= 0; j--) {
			if ((b >> j) & 1)
				h ^= win;
			win = win << 1 | ((kb >> j) & 1);
		}
	}
	return h;
}
#endif

#endif
