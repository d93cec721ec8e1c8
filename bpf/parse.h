/* SPDX-License-Identifier: MIT */
/*
 * Frame parsing for the XDP program, written for the verifier (bounded
 * loops, every packet read behind a data_end check) but with the rules of
 * the C reference, include/vnet/classify.h, to the letter: a layer counts
 * only when its header is complete; at most two VLAN tags; IPv4 fragments
 * and any IPv6 fragment header stop before L4; at most VNET_IPV6_MAX_EXT
 * extension headers; the first Home Address option and the first type-2
 * routing header give the _EX addresses.
 */
#ifndef VNET_BPF_PARSE_H
#define VNET_BPF_PARSE_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "vnet/classify.h"

/* Far enough for any XDP frame; keeps every offset provably bounded. */
#define PARSE_MAX_OFF	4096

#define ETH_P_IPV4_	0x0800
#define ETH_P_IPV6_	0x86dd
#define ETH_P_ARP_	0x0806
#define ETH_P_8021Q_	0x8100
#define ETH_P_8021AD_	0x88a8

/* IPv6 extension headers walked (RFC 8200 4.1) */
#define NH_HOPOPTS	0
#define NH_ROUTING	43
#define NH_FRAGMENT	44
#define NH_DSTOPTS	60

/* What L2 parsing yields; lives in registers once inlined. */
struct l2 {
	__u16 ethertype;
	__u16 vlan_id;		/* outer VID */
	__u16 l2_len;
	__u8 vlan_tags;
};

/*
 * An IPv6 frame with extension headers, parsed by the global function
 * parse_ipv6_ext() (the rare, costly path). Addresses as __u32 words, as
 * loaded from the frame (byte 0 lowest): the hash consumes them so.
 */
struct pkt {
	__u32 flags;		/* VNET_PF_* */
	__u16 l2_len;
	__u8 l4;		/* enum vnet_l4 */
	__u8 pad;
	__u32 src[4], dst[4];
	__u32 ex_src[4], ex_dst[4];
	__u32 ports;
};

/* A pointer to len bytes at off, or NULL when the frame is shorter. */
static __always_inline void *pkt_at(struct xdp_md *ctx, __u32 off, __u32 len)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;

	if (off > PARSE_MAX_OFF)
		return NULL;
	if (data + off + len > end)
		return NULL;
	return data + off;
}

/* L2: -1 when Ethernet or one of the first two tags is cut (unusable). */
static __always_inline int parse_l2(struct xdp_md *ctx, struct l2 *p)
{
	__u8 *eth = pkt_at(ctx, 0, 14);
	__u16 type;
	__u32 off = 14;

	if (!eth)
		return -1;
	p->vlan_tags = 0;
	p->vlan_id = 0;
	type = bpf_ntohs(*(__u16 *)(eth + 12));
#pragma unroll
	for (int i = 0; i < VNET_MAX_VLAN_TAGS; i++) {
		__u8 *tag;

		if (type != ETH_P_8021Q_ && type != ETH_P_8021AD_)
			break;
		tag = pkt_at(ctx, off, 4);
		if (!tag)
			return -1;
		if (!i)
			p->vlan_id = bpf_ntohs(*(__u16 *)tag) & 0x0fff;
		type = bpf_ntohs(*(__u16 *)(tag + 2));
		p->vlan_tags++;
		off += 4;
	}
	p->ethertype = type;
	p->l2_len = off;
	return 0;
}

/*
 * TCP or UDP header at off: its port word (VNET_L4_*), VNET_L4_NONE for
 * another protocol, -1 when the header is cut (MALFORMED).
 */
static __always_inline int parse_l4(struct xdp_md *ctx, __u32 off, __u8 proto,
				    __u32 *ports)
{
	__u8 *l4;

	if (proto == IPPROTO_TCP)
		l4 = pkt_at(ctx, off, 20);
	else if (proto == IPPROTO_UDP)
		l4 = pkt_at(ctx, off, 8);
	else
		return VNET_L4_NONE;
	if (!l4)
		return -1;
	*ports = *(__u32 *)l4;	/* source and destination port, as on the wire */
	return proto == IPPROTO_TCP ? VNET_L4_TCP : VNET_L4_UDP;
}

/* State of the destination-options TLV walk, run through bpf_loop(). */
struct opt_walk {
	struct xdp_md *ctx;
	__u32 pos, end;		/* [pos, end) still to walk */
	__u32 hao;		/* offset of the first Home Address, 0 = none */
	int err;
};

static long opt_walk_step(__u32 idx, void *data)
{
	struct opt_walk *w = data;
	__u8 tl[2];

	if (w->pos >= w->end)
		return 1;
	if (bpf_xdp_load_bytes(w->ctx, w->pos, tl, 1))
		goto bad;
	if (tl[0] == 0) {		/* Pad1 */
		w->pos++;
		return 0;
	}
	if (w->pos + 2 > w->end || bpf_xdp_load_bytes(w->ctx, w->pos, tl, 2))
		goto bad;
	if (w->pos + 2 + tl[1] > w->end)
		goto bad;
	/* RFC 6275 6.3: Home Address option, type 201, 16 bytes */
	if (tl[0] == 201 && tl[1] == 16 && !w->hao)
		w->hao = w->pos + 2;
	w->pos += 2 + tl[1];
	return 0;
bad:
	w->err = 1;
	return 1;
}

static __always_inline int is_ipv6_ext(__u8 nh)
{
	return nh == NH_HOPOPTS || nh == NH_ROUTING ||
	       nh == NH_FRAGMENT || nh == NH_DSTOPTS;
}

/*
 * IPv6 with an extension header first. A global function: the verifier
 * checks it once, on its own, instead of once per path of the caller (the
 * extension-header walk is the costly part); the plain IPv6 frame never
 * comes here (hash.h parses it inline).
 */
__noinline int parse_ipv6_ext(struct xdp_md *ctx, struct pkt *p)
{
	__u32 off;
	__u8 *ip;
	__u8 nh;
	int n, l4;

	if (!p)		/* global function arguments may be NULL */
		return 0;
	off = p->l2_len;
	ip = pkt_at(ctx, off, 40);
	if (!ip || ip[0] >> 4 != 6) {
		p->flags |= VNET_PF_MALFORMED;
		return 0;
	}
	__builtin_memcpy(p->src, ip + 8, 16);
	__builtin_memcpy(p->dst, ip + 24, 16);
	nh = ip[6];
	off += 40;

	for (n = 0; n < VNET_IPV6_MAX_EXT; n++) {
		__u8 *h;
		__u32 hlen;

		if (!is_ipv6_ext(nh))
			break;
		p->flags |= VNET_PF_IPV6_EXT;
		if (nh == NH_FRAGMENT) {
			p->flags |= pkt_at(ctx, off, 8) ? VNET_PF_FRAGMENT : VNET_PF_MALFORMED;
			return 0;
		}
		h = pkt_at(ctx, off, 2);
		if (!h) {
			p->flags |= VNET_PF_MALFORMED;
			return 0;
		}
		hlen = ((__u32)h[1] + 1) * 8;
		if (!pkt_at(ctx, off, hlen)) {
			p->flags |= VNET_PF_MALFORMED;
			return 0;
		}
		if (nh == NH_ROUTING && h[1] == 2 && !(p->flags & VNET_PF_RH2)) {
			__u8 *rh = pkt_at(ctx, off, 24);

			/* RFC 6275 6.4: type-2 routing header, one address */
			if (rh && rh[2] == 2) {
				__builtin_memcpy(p->ex_dst, rh + 8, 16);
				p->flags |= VNET_PF_RH2;
			}
		}
		if (nh == NH_DSTOPTS) {
			struct opt_walk w = {
				.ctx = ctx, .pos = off + 2, .end = off + hlen,
			};

			/* at most one option per byte */
			bpf_loop(256 * 8, opt_walk_step, &w, 0);
			if (w.err || w.pos < w.end) {
				p->flags |= VNET_PF_MALFORMED;
				return 0;
			}
			if (w.hao && !(p->flags & VNET_PF_HOME_ADDR)) {
				if (bpf_xdp_load_bytes(ctx, w.hao, p->ex_src, 16)) {
					p->flags |= VNET_PF_MALFORMED;
					return 0;
				}
				p->flags |= VNET_PF_HOME_ADDR;
			}
		}
		nh = h[0];
		off += hlen;
	}
	if (is_ipv6_ext(nh)) {
		/* chain longer than the limit: stop without L4 (classify.h) */
		p->flags |= VNET_PF_EXT_LIMIT;
		return 0;
	}
	l4 = parse_l4(ctx, off, nh, &p->ports);
	if (l4 < 0)
		p->flags |= VNET_PF_MALFORMED;
	else
		p->l4 = l4;
	return 0;
}

#endif
