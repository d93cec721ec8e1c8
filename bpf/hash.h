/* SPDX-License-Identifier: MIT */
/*
 * L3/L4 parsing, hash input selection (spec "Hash calculation for incoming
 * packets", the precedence of include/vnet/classify.h) and the Toeplitz
 * function, in one pass: the addresses and ports go straight from the
 * frame into the hash input as 32-bit words, never byte by byte. The
 * Toeplitz function is one table lookup per input byte, table expanded from
 * the key in userspace (vnet_toeplitz_expand), every table row a constant
 * once unrolled. The bit-serial loop (toeplitz_bits) is the benchmark's
 * point of comparison: the program picks it by a rodata knob
 * (vnet_xdp.bpf.c), the table otherwise.
 */
#ifndef VNET_BPF_HASH_H
#define VNET_BPF_HASH_H

#include "parse.h"
#include "vnet/dp_layout.h"

/* Words are used as loaded: input byte 4i is the low byte of w[i]. */
#if __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "hash input words assume a little-endian BPF target"
#endif

#define HASH_WORDS_MAX	(VNET_HASH_INPUT_MAX / 4)

struct hash_in {
	__u32 w[HASH_WORDS_MAX];
	__u32 n;		/* words used: 2, 3, 8 or 9 */
};

#define TYPE_ON(en, r)	((en) & VNET_HASH_TYPE_OF_REPORT(VNET_HASH_REPORT_##r))

/* Hash contribution of input bytes 4i..4i+3 (i a constant once unrolled). */
static __always_inline __u32 toeplitz_word(const struct vnet_dp_steer_slot *s,
					   const int i, __u32 w)
{
	const struct vnet_toeplitz_table *t = &s->tbl;

	return t->tbl[4 * i][w & 0xff] ^ t->tbl[4 * i + 1][(w >> 8) & 0xff] ^
	       t->tbl[4 * i + 2][(w >> 16) & 0xff] ^ t->tbl[4 * i + 3][w >> 24];
}

static __always_inline __u32 toeplitz_table(const struct vnet_dp_steer_slot *s,
					    const struct hash_in *in)
{
	__u32 h = 0;

#pragma unroll
	for (int i = 0; i < HASH_WORDS_MAX; i++) {
		if (i >= in->n)
			break;
		h ^= toeplitz_word(s, i, in->w[i]);
	}
	return h;
}

/*
 * The definition, bit by bit: a 32-bit window slides over the key; for
 * every set input bit the window is XORed in; steer.key is zero past
 * key_len. A global function, so the verifier walks its loops once.
 */
__noinline __u32 toeplitz_bits(const struct vnet_dp_steer *st, const struct hash_in *in)
{
	__u32 h = 0, win;

	if (!st || !in)		/* global function arguments may be NULL */
		return 0;
	win = (__u32)st->key[0] << 24 | (__u32)st->key[1] << 16 |
	      (__u32)st->key[2] << 8 | st->key[3];
	for (int i = 0; i < VNET_HASH_INPUT_MAX; i++) {
		__u8 b, kb;

		if (i >= in->n * 4)
			break;
		b = in->w[i / 4] >> (8 * (i % 4));
		kb = st->key[i + 4];	/* i + 4 <= 39: inside the key */
		for (int j = 7; j >= 0; j--) {
			if ((b >> j) & 1)
				h ^= win;
			win = win << 1 | ((kb >> j) & 1);
		}
	}
	return h;
}

static __always_inline void in_addrs6(struct hash_in *in, const __u32 *src,
				      const __u32 *dst)
{
	__builtin_memcpy(in->w, src, 16);
	__builtin_memcpy(in->w + 4, dst, 16);
	in->n = 8;
}

/*
 * Hash input of an IPv6 frame whose fixed header is complete and is
 * followed by an extension header (rare: parse_ipv6_ext, a call).
 */
static __always_inline int ipv6_ext_hash_in(struct xdp_md *ctx, __u32 off, __u32 en,
					    struct hash_in *in, __u32 *mflags)
{
	const __u32 *s, *d;
	struct pkt p;

	__builtin_memset(&p, 0, sizeof(p));
	p.l2_len = off;
	parse_ipv6_ext(ctx, &p);
	if (p.flags & VNET_PF_MALFORMED)
		*mflags |= VNET_META_F_MALFORMED;
	/* spec "IPv6 packets with extension header": _EX first, then plain */
	if (p.flags & VNET_PF_IPV6_EXT) {
		s = p.flags & VNET_PF_HOME_ADDR ? p.ex_src : p.src;
		d = p.flags & VNET_PF_RH2 ? p.ex_dst : p.dst;
		in_addrs6(in, s, d);
		if (TYPE_ON(en, TCPv6_EX) && p.l4 == VNET_L4_TCP) {
			in->w[8] = p.ports;
			in->n = 9;
			return VNET_HASH_REPORT_TCPv6_EX;
		}
		if (TYPE_ON(en, UDPv6_EX) && p.l4 == VNET_L4_UDP) {
			in->w[8] = p.ports;
			in->n = 9;
			return VNET_HASH_REPORT_UDPv6_EX;
		}
		if (TYPE_ON(en, IPv6_EX))
			return VNET_HASH_REPORT_IPv6_EX;
	}
	in_addrs6(in, p.src, p.dst);
	if (TYPE_ON(en, TCPv6) && p.l4 == VNET_L4_TCP) {
		in->w[8] = p.ports;
		in->n = 9;
		return VNET_HASH_REPORT_TCPv6;
	}
	if (TYPE_ON(en, UDPv6) && p.l4 == VNET_L4_UDP) {
		in->w[8] = p.ports;
		in->n = 9;
		return VNET_HASH_REPORT_UDPv6;
	}
	if (TYPE_ON(en, IPv6))
		return VNET_HASH_REPORT_IPv6;
	return VNET_HASH_REPORT_NONE;
}

/*
 * Parse L3/L4 of the frame behind L2 and pick the hash input for the hash
 * types 'en' (0: parse only, for the MALFORMED flag). Returns the report
 * type; VNET_HASH_REPORT_NONE means no hash. Sets VNET_META_F_MALFORMED in
 * *mflags when a header is cut or invalid (classify.h rules).
 */
static __always_inline int parse_hash_in(struct xdp_md *ctx, const struct l2 *l2,
					 __u32 en, struct hash_in *in, __u32 *mflags)
{
	__u32 off = l2->l2_len, ports = 0;
	__u8 *ip;
	int l4;

	if (l2->ethertype == ETH_P_IPV4_) {
		__u32 ihl;

		ip = pkt_at(ctx, off, 20);
		if (!ip || ip[0] >> 4 != 4 || (ip[0] & 0xf) < 5)
			goto malformed;
		ihl = (ip[0] & 0xf) * 4;
		if (!pkt_at(ctx, off, ihl))
			goto malformed;
		in->w[0] = *(__u32 *)(ip + 12);
		in->w[1] = *(__u32 *)(ip + 16);
		in->n = 2;
		/* MF or a fragment offset: addresses only (classify.h) */
		if (*(__u16 *)(ip + 6) & bpf_htons(0x3fff))
			l4 = VNET_L4_NONE;
		else
			l4 = parse_l4(ctx, off + ihl, ip[9], &ports);
		if (l4 < 0)
			*mflags |= VNET_META_F_MALFORMED;
		if (TYPE_ON(en, TCPv4) && l4 == VNET_L4_TCP) {
			in->w[2] = ports;
			in->n = 3;
			return VNET_HASH_REPORT_TCPv4;
		}
		if (TYPE_ON(en, UDPv4) && l4 == VNET_L4_UDP) {
			in->w[2] = ports;
			in->n = 3;
			return VNET_HASH_REPORT_UDPv4;
		}
		if (TYPE_ON(en, IPv4))
			return VNET_HASH_REPORT_IPv4;
		return VNET_HASH_REPORT_NONE;
	}
	if (l2->ethertype != ETH_P_IPV6_)
		return VNET_HASH_REPORT_NONE;

	ip = pkt_at(ctx, off, 40);
	if (!ip || ip[0] >> 4 != 6)
		goto malformed;
	if (is_ipv6_ext(ip[6]))
		return ipv6_ext_hash_in(ctx, off, en, in, mflags);
	/* no extension header: the _EX types do not apply */
	in_addrs6(in, (__u32 *)(ip + 8), (__u32 *)(ip + 24));
	l4 = parse_l4(ctx, off + 40, ip[6], &ports);
	if (l4 < 0)
		*mflags |= VNET_META_F_MALFORMED;
	if (TYPE_ON(en, TCPv6) && l4 == VNET_L4_TCP) {
		in->w[8] = ports;
		in->n = 9;
		return VNET_HASH_REPORT_TCPv6;
	}
	if (TYPE_ON(en, UDPv6) && l4 == VNET_L4_UDP) {
		in->w[8] = ports;
		in->n = 9;
		return VNET_HASH_REPORT_UDPv6;
	}
	if (TYPE_ON(en, IPv6))
		return VNET_HASH_REPORT_IPv6;
	return VNET_HASH_REPORT_NONE;

malformed:
	*mflags |= VNET_META_F_MALFORMED;
	return VNET_HASH_REPORT_NONE;
}

#endif
