// SPDX-License-Identifier: MIT
/* Frame builder: see frame.h. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

#include "frame.h"

struct out {
	__u8 *buf;
	size_t len, cap;
	int overflow;
};

static __u8 *reserve(struct out *o, size_t n)
{
	__u8 *p;

	if (o->overflow || n > o->cap - o->len) {
		o->overflow = 1;
		return NULL;
	}
	p = o->buf + o->len;
	memset(p, 0, n);
	o->len += n;
	return p;
}

static void put16(__u8 *p, __u16 v)
{
	p[0] = v >> 8;
	p[1] = v & 0xff;
}

static __u16 ipv4_csum(const __u8 *h, size_t len)
{
	__u32 sum = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (__u32)(h[i] << 8 | h[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (__u16)~sum;
}

static void build_ext(struct out *o, const struct frame_spec *s,
		      const struct frame_ext *e, __u8 next)
{
	size_t len = ((size_t)e->len8 + 1) * 8;
	__u8 *h;

	if (e->type == IPPROTO_FRAGMENT)
		len = 8;
	if (e->type == IPPROTO_ROUTING && e->rh2 && len < 24)
		len = 24;
	if (e->type == IPPROTO_DSTOPTS && e->hao && len < 24)
		len = 24;
	h = reserve(o, len);
	if (!h)
		return;
	h[0] = next;
	h[1] = (__u8)(len / 8 - 1);
	switch (e->type) {
	case IPPROTO_FRAGMENT:
		h[1] = 0;
		/* offset in 8-byte units << 3 | M flag */
		put16(h + 2, s->frag == FRAG_LATER ? (185 << 3) : 1);
		h[7] = 0x42;	/* identification */
		break;
	case IPPROTO_ROUTING:
		h[2] = e->rh2 ? 2 : 0;	/* routing type */
		h[3] = 1;		/* segments left */
		if (e->rh2 && len == 24)
			memcpy(h + 8, s->ex_dst, 16);
		break;
	case IPPROTO_DSTOPTS:
	case IPPROTO_HOPOPTS:
		if (e->type == IPPROTO_DSTOPTS && e->hao && len == 24) {
			/* PadN(2) then HAO at offset 6 (8n+6 alignment) */
			h[2] = 1;
			h[3] = 2;
			h[6] = 201;
			h[7] = 16;
			memcpy(h + 8, s->ex_src, 16);
		} else {
			h[2] = 1;		/* PadN over the rest */
			h[3] = (__u8)(len - 4);
		}
		break;
	default:
		break;
	}
}

size_t frame_build(const struct frame_spec *s, __u8 *buf, size_t cap)
{
	struct out o = { .buf = buf, .cap = cap };
	__u8 *eth, *ip = NULL, *l4 = NULL, *p;
	size_t ip_off = 0, l4_off = 0;
	__u8 proto = s->l4;

	eth = reserve(&o, 12);
	if (!eth)
		return 0;
	memcpy(eth, s->dst_mac, 6);
	memcpy(eth + 6, s->src_mac, 6);
	for (int i = 0; i < s->vlan_tags && i < 3; i++) {
		p = reserve(&o, 4);
		if (!p)
			return 0;
		put16(p, s->tpid[i] ? s->tpid[i] : 0x8100);
		put16(p + 2, s->vid[i] & 0x0fff);
	}
	p = reserve(&o, 2);
	if (!p)
		return 0;
	put16(p, s->ip == 4 ? 0x0800 : s->ip == 6 ? 0x86dd : s->ethertype);

	if (s->ip == 4) {
		size_t hl = 20 + (size_t)(s->ip_opt_len & ~3);

		ip_off = o.len;
		ip = reserve(&o, hl);
		if (!ip)
			return 0;
		ip[0] = (__u8)(0x40 | hl / 4);
		ip[8] = 64;
		ip[9] = proto;
		memcpy(ip + 12, s->src, 4);
		memcpy(ip + 16, s->dst, 4);
		for (size_t i = 20; i < hl; i++)
			ip[i] = 1;	/* NOP options */
		if (s->frag == FRAG_FIRST)
			put16(ip + 6, 0x2000);
		else if (s->frag == FRAG_LATER)
			put16(ip + 6, 185);
	} else if (s->ip == 6) {
		ip_off = o.len;
		ip = reserve(&o, 40);
		if (!ip)
			return 0;
		ip[0] = 0x60;
		ip[6] = s->n_ext ? s->ext[0].type : proto;
		ip[7] = 64;
		memcpy(ip + 8, s->src, 16);
		memcpy(ip + 24, s->dst, 16);
		for (int i = 0; i < s->n_ext && i < FRAME_MAX_EXT; i++)
			build_ext(&o, s, &s->ext[i],
				  i + 1 < s->n_ext ? s->ext[i + 1].type : proto);
	}

	if (ip && (proto == IPPROTO_TCP || proto == IPPROTO_UDP)) {
		l4_off = o.len;
		l4 = reserve(&o, proto == IPPROTO_TCP ? 20 : 8);
		if (!l4)
			return 0;
		put16(l4, s->sport);
		put16(l4 + 2, s->dport);
		if (proto == IPPROTO_TCP) {
			l4[12] = 5 << 4;
			l4[13] = 0x18;	/* PSH ACK */
			put16(l4 + 14, 65535);
		}
	}
	p = reserve(&o, s->payload_len);
	if (!p)
		return 0;
	for (size_t i = 0; i < s->payload_len; i++)
		p[i] = (__u8)(i * 7 + 3);

	/* lengths and the IPv4 header checksum, now that sizes are known */
	if (s->ip == 4) {
		ip = buf + ip_off;
		put16(ip + 2, (__u16)(o.len - ip_off));
		put16(ip + 10, 0);
		put16(ip + 10, ipv4_csum(ip, (size_t)(ip[0] & 0xf) * 4));
	} else if (s->ip == 6) {
		put16(buf + ip_off + 4, (__u16)(o.len - ip_off - 40));
	}
	if (l4 && proto == IPPROTO_UDP)
		put16(buf + l4_off + 4, (__u16)(o.len - l4_off));
	return o.overflow ? 0 : o.len;
}

size_t frame_build_arp_request(__u8 *buf, const __u8 *dst, const __u8 *src,
			       const char *tpa)
{
	/* htype Ethernet, ptype IPv4, hlen 6, plen 4, op request */
	static const __u8 arp_hdr[8] = { 0, 1, 0x08, 0x00, 6, 4, 0, 1 };

	memset(buf, 0, 60);
	memcpy(buf, dst, 6);
	memcpy(buf + 6, src, 6);
	put16(buf + 12, 0x0806);
	memcpy(buf + 14, arp_hdr, 8);
	inet_pton(AF_INET, tpa, buf + 14 + 24);	/* target protocol address */
	return 60;
}

void frame_spec_default(struct frame_spec *s)
{
	static const __u8 dmac[6] = { 0x02, 0, 0, 0, 0, 0x01 };
	static const __u8 smac[6] = { 0x02, 0, 0, 0, 0, 0x02 };

	memset(s, 0, sizeof(*s));
	memcpy(s->dst_mac, dmac, 6);
	memcpy(s->src_mac, smac, 6);
	s->ip = 4;
	s->src[0] = 10, s->src[3] = 1;
	s->dst[0] = 10, s->dst[3] = 2;
	s->l4 = IPPROTO_UDP;
	s->sport = 1000;
	s->dport = 2000;
	s->payload_len = 18;
}

static void rand_bytes(__u8 *p, size_t n, unsigned int *seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (__u8)test_rand(seed);
}

void frame_spec_random(struct frame_spec *s, unsigned int *seed)
{
	static const __u8 ext_types[] = {
		IPPROTO_HOPOPTS, IPPROTO_ROUTING, IPPROTO_FRAGMENT, IPPROTO_DSTOPTS,
	};
	__u32 r = test_rand(seed);

	frame_spec_default(s);
	rand_bytes(s->dst_mac, 6, seed);
	if (r & 1)
		s->dst_mac[0] &= ~1;	/* mostly unicast */
	s->vlan_tags = (r >> 1) % 8 < 5 ? 0 : (r >> 1) % 8 - 4;	/* 0..3 */
	for (int i = 0; i < 3; i++) {
		s->tpid[i] = test_rand(seed) & 1 ? 0x8100 : 0x88a8;
		s->vid[i] = test_rand(seed) & 0xfff;
	}
	switch ((r >> 4) % 8) {
	case 0:
		s->ip = 0;
		s->ethertype = (r >> 8) & 1 ? 0x0806 : 0x0042;
		break;
	case 1: case 2: case 3:
		s->ip = 4;
		break;
	default:
		s->ip = 6;
		break;
	}
	rand_bytes(s->src, 16, seed);
	rand_bytes(s->dst, 16, seed);
	rand_bytes(s->ex_src, 16, seed);
	rand_bytes(s->ex_dst, 16, seed);
	s->sport = (__u16)test_rand(seed);
	s->dport = (__u16)test_rand(seed);
	switch ((r >> 8) % 5) {
	case 0: case 1: s->l4 = IPPROTO_TCP; break;
	case 2: case 3: s->l4 = IPPROTO_UDP; break;
	default: s->l4 = (r >> 12) & 1 ? IPPROTO_ICMP : 132; break;
	}
	if (s->ip == 4) {
		s->ip_opt_len = (r >> 13) % 4 == 0 ? (int)(test_rand(seed) % 11) * 4 : 0;
		s->frag = (r >> 16) % 6 == 0 ? FRAG_FIRST : (r >> 16) % 6 == 1 ? FRAG_LATER : FRAG_NONE;
	} else if (s->ip == 6) {
		s->n_ext = (r >> 19) % 2 ? 0 : (int)(test_rand(seed) % 11);
		for (int i = 0; i < s->n_ext; i++) {
			__u32 e = test_rand(seed);

			s->ext[i].type = ext_types[e % 4];
			s->ext[i].len8 = (e >> 4) % 4 ? 0 : (__u8)((e >> 8) % 4);
			s->ext[i].hao = (e >> 12) & 1;
			s->ext[i].rh2 = (e >> 13) & 1;
		}
		s->frag = (r >> 16) & 1 ? FRAG_LATER : FRAG_FIRST;
	}
	s->payload_len = test_rand(seed) % 64;
}
