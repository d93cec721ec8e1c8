/* SPDX-License-Identifier: MIT */
/*
 * Frame builder: Ethernet (+ up to 3 VLAN tags), IPv4 with options and
 * fragments, IPv6 with extension-header chains (hop-by-hop, routing incl.
 * type 2, fragment, destination options incl. Home Address), TCP/UDP.
 * Used by vnet-classify's sample frames, unit tests, BPF program tests,
 * fuzz seeds and benchmarks.
 */
#ifndef VNET_FRAME_H
#define VNET_FRAME_H

#include <linux/types.h>
#include <stddef.h>

#define FRAME_MAX_EXT	12

enum frame_frag { FRAG_NONE = 0, FRAG_FIRST, FRAG_LATER };

struct frame_ext {
	__u8 type;		/* 0, 43, 44, 60 (or any: opaque 8-byte header) */
	__u8 len8;		/* hdr ext len (units of 8 bytes beyond the first 8) */
	__u8 hao;		/* 60: carry a Home Address option (ex_src) */
	__u8 rh2;		/* 43: type-2 routing header (ex_dst) */
};

struct frame_spec {
	__u8 dst_mac[6], src_mac[6];
	int vlan_tags;			/* 0..3 */
	__u16 tpid[3], vid[3];
	int ip;				/* 4, 6, or 0: raw 'ethertype' */
	__u16 ethertype;
	__u8 src[16], dst[16];		/* IPv4 uses the first 4 bytes */
	int ip_opt_len;			/* IPv4 options, multiple of 4, <= 40 */
	enum frame_frag frag;		/* IPv4 flags/offset; IPv6: see ext */
	int n_ext;
	struct frame_ext ext[FRAME_MAX_EXT];
	__u8 ex_src[16], ex_dst[16];
	__u8 l4;			/* IPPROTO_TCP, IPPROTO_UDP, other */
	__u16 sport, dport;
	size_t payload_len;
};

/* Returns the frame length, 0 if it does not fit into cap. */
size_t frame_build(const struct frame_spec *s, __u8 *buf, size_t cap);

/*
 * A 60-byte ARP request (padded to the Ethernet minimum) from 'src' to
 * 'dst' asking for IPv4 address 'tpa' (dotted quad). Returns 60.
 */
size_t frame_build_arp_request(__u8 *buf, const __u8 *dst, const __u8 *src,
			       const char *tpa);

/* Default spec: IPv4/UDP 10.0.0.1:1000 -> 10.0.0.2:2000, 18 B payload. */
void frame_spec_default(struct frame_spec *s);

/* A random but mostly well-formed spec covering every parser branch. */
void frame_spec_random(struct frame_spec *s, unsigned int *seed);

/* xorshift32: deterministic randomness with an explicit seed. */
static inline __u32 test_rand(unsigned int *seed)
{
	__u32 x = *seed ? *seed : 0x9e3779b9u;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*seed = x;
	return x;
}

#endif
