// SPDX-License-Identifier: MIT
/*
 * The C reference classifier: see include/vnet/classify.h for the rules.
 * Written for clarity; every read is bounds-checked against the frame length.
 */
#include <errno.h>
#include <string.h>

#include "vnet/classify.h"

#define ETH_HLEN_	14
#define ETHERTYPE_IPV4	0x0800
#define ETHERTYPE_IPV6	0x86dd
#define ETHERTYPE_8021Q	0x8100
#define ETHERTYPE_8021AD 0x88a8

#define IPPROTO_HOPOPTS_	0
#define IPPROTO_TCP_		6
#define IPPROTO_UDP_		17
#define IPPROTO_ROUTING_	43
#define IPPROTO_FRAGMENT_	44
#define IPPROTO_DSTOPTS_	60

#define IPV6_OPT_PAD1		0
#define IPV6_OPT_HOME_ADDR	201	/* RFC 6275 6.3 */
#define IPV6_RH_TYPE2		2	/* RFC 6275 6.4 */

struct cursor {
	const __u8 *frame;
	size_t len;
};

static inline int have(const struct cursor *c, size_t off, size_t n)
{
	return off <= c->len && n <= c->len - off;
}

static inline __u16 be16_at(const __u8 *b)
{
	return (__u16)(b[0] << 8 | b[1]);
}

static int is_vlan_tpid(__u16 type)
{
	return type == ETHERTYPE_8021Q || type == ETHERTYPE_8021AD;
}

static void parse_l4(const struct cursor *c, size_t off, __u8 proto,
		     struct vnet_parsed *p)
{
	size_t need;

	p->ip_proto = proto;
	if (proto == IPPROTO_TCP_)
		need = 20;
	else if (proto == IPPROTO_UDP_)
		need = 8;
	else
		return;
	if (!have(c, off, need)) {
		p->flags |= VNET_PF_MALFORMED;
		return;
	}
	p->l4 = proto == IPPROTO_TCP_ ? VNET_L4_TCP : VNET_L4_UDP;
	p->l4_off = (__u16)off;
	memcpy(p->ports, c->frame + off, 4);
}

static void parse_ipv4(const struct cursor *c, size_t off, struct vnet_parsed *p)
{
	const __u8 *ip = c->frame + off;
	size_t ihl;

	if (!have(c, off, 20) || ip[0] >> 4 != 4 || (ip[0] & 0xf) < 5) {
		p->flags |= VNET_PF_MALFORMED;
		return;
	}
	ihl = (size_t)(ip[0] & 0xf) * 4;
	if (!have(c, off, ihl)) {
		p->flags |= VNET_PF_MALFORMED;
		return;
	}
	p->l3 = VNET_L3_IPV4;
	p->l3_off = (__u16)off;
	p->ip_proto = ip[9];
	memcpy(p->src, ip + 12, 4);
	memcpy(p->dst, ip + 16, 4);
	/* MF flag or a fragment offset: hash on addresses only */
	if (be16_at(ip + 6) & 0x3fff) {
		p->flags |= VNET_PF_FRAGMENT;
		return;
	}
	parse_l4(c, off + ihl, ip[9], p);
}

/*
 * Walk the TLV options of a destination options header [start, end).
 * Returns 0 and fills *hao_off with the offset of the first Home Address
 * (0 when none), or -EINVAL when an option runs past the header.
 */
static int scan_dstopts(const struct cursor *c, size_t start, size_t end,
			size_t *hao_off)
{
	size_t i = start;

	*hao_off = 0;
	while (i < end) {
		__u8 type = c->frame[i];
		size_t optlen;

		if (type == IPV6_OPT_PAD1) {
			i++;
			continue;
		}
		if (i + 2 > end)
			return -EINVAL;
		optlen = c->frame[i + 1];
		if (i + 2 + optlen > end)
			return -EINVAL;
		if (type == IPV6_OPT_HOME_ADDR && optlen == 16 && !*hao_off)
			*hao_off = i + 2;
		i += 2 + optlen;
	}
	return 0;
}

static int is_ipv6_ext(__u8 nh)
{
	return nh == IPPROTO_HOPOPTS_ || nh == IPPROTO_ROUTING_ ||
	       nh == IPPROTO_FRAGMENT_ || nh == IPPROTO_DSTOPTS_;
}

static void parse_ipv6(const struct cursor *c, size_t off, struct vnet_parsed *p)
{
	const __u8 *ip = c->frame + off;
	__u8 nh;

	if (!have(c, off, 40) || ip[0] >> 4 != 6) {
		p->flags |= VNET_PF_MALFORMED;
		return;
	}
	p->l3 = VNET_L3_IPV6;
	p->l3_off = (__u16)off;
	memcpy(p->src, ip + 8, 16);
	memcpy(p->dst, ip + 24, 16);
	nh = ip[6];
	off += 40;

	for (int n = 0; is_ipv6_ext(nh); n++) {
		const __u8 *h = c->frame + off;
		size_t hlen, hao;

		p->ip_proto = nh;
		if (n == VNET_IPV6_MAX_EXT) {
			p->flags |= VNET_PF_EXT_LIMIT;
			return;
		}
		p->flags |= VNET_PF_IPV6_EXT;
		if (nh == IPPROTO_FRAGMENT_) {
			if (!have(c, off, 8))
				p->flags |= VNET_PF_MALFORMED;
			else
				p->flags |= VNET_PF_FRAGMENT;
			return;
		}
		if (!have(c, off, 2)) {
			p->flags |= VNET_PF_MALFORMED;
			return;
		}
		hlen = ((size_t)h[1] + 1) * 8;
		if (!have(c, off, hlen)) {
			p->flags |= VNET_PF_MALFORMED;
			return;
		}
		if (nh == IPPROTO_ROUTING_ && h[2] == IPV6_RH_TYPE2 &&
		    h[1] == 2 && !(p->flags & VNET_PF_RH2)) {
			memcpy(p->ex_dst, h + 8, 16);
			p->flags |= VNET_PF_RH2;
		}
		if (nh == IPPROTO_DSTOPTS_) {
			if (scan_dstopts(c, off + 2, off + hlen, &hao)) {
				p->flags |= VNET_PF_MALFORMED;
				return;
			}
			if (hao && !(p->flags & VNET_PF_HOME_ADDR)) {
				memcpy(p->ex_src, c->frame + hao, 16);
				p->flags |= VNET_PF_HOME_ADDR;
			}
		}
		nh = h[0];
		off += hlen;
	}
	parse_l4(c, off, nh, p);
}

int vnet_parse_frame(const void *frame, size_t len, struct vnet_parsed *p)
{
	struct cursor c = { .frame = frame, .len = len };
	size_t off = ETH_HLEN_;
	__u16 type;

	memset(p, 0, sizeof(*p));
	if (!have(&c, 0, ETH_HLEN_))
		return -EINVAL;
	p->dst_mac = c.frame;
	p->src_mac = c.frame + 6;
	type = be16_at(c.frame + 12);

	/* a third tag is left alone: the frame is then simply not IP */
	while (is_vlan_tpid(type) && p->vlan_tags < VNET_MAX_VLAN_TAGS) {
		if (!have(&c, off, 4))
			return -EINVAL;
		if (!p->vlan_tags)
			p->vlan_id = be16_at(c.frame + off) & 0x0fff;
		type = be16_at(c.frame + off + 2);
		p->vlan_tags++;
		off += 4;
	}
	p->ethertype = type;

	if (type == ETHERTYPE_IPV4)
		parse_ipv4(&c, off, p);
	else if (type == ETHERTYPE_IPV6)
		parse_ipv6(&c, off, p);
	return 0;
}

static int put_input(struct vnet_hash_input *in, int report,
		     const __u8 *src, const __u8 *dst, size_t alen,
		     const __u8 *ports)
{
	memcpy(in->data, src, alen);
	memcpy(in->data + alen, dst, alen);
	in->len = (__u8)(2 * alen);
	if (ports) {
		memcpy(in->data + in->len, ports, 4);
		in->len += 4;
	}
	in->report = (__u8)report;
	return report;
}

#define ENABLED(r)	(enabled & VNET_HASH_TYPE_OF_REPORT(VNET_HASH_REPORT_##r))

/* spec "IPv4 packets": TCP, else UDP, else addresses, else no hash */
static int select_ipv4(const struct vnet_parsed *p, __u32 enabled,
		       struct vnet_hash_input *in)
{
	if (ENABLED(TCPv4) && p->l4 == VNET_L4_TCP)
		return put_input(in, VNET_HASH_REPORT_TCPv4, p->src, p->dst, 4, p->ports);
	if (ENABLED(UDPv4) && p->l4 == VNET_L4_UDP)
		return put_input(in, VNET_HASH_REPORT_UDPv4, p->src, p->dst, 4, p->ports);
	if (ENABLED(IPv4))
		return put_input(in, VNET_HASH_REPORT_IPv4, p->src, p->dst, 4, NULL);
	return VNET_HASH_REPORT_NONE;
}

static int select_ipv6(const struct vnet_parsed *p, __u32 enabled,
		       struct vnet_hash_input *in)
{
	/*
	 * spec "IPv6 packets with extension header": the _EX types first, with
	 * the Home Address and the type-2 routing address where present; else
	 * skip the extension headers and hash as a plain IPv6 packet.
	 */
	if (p->flags & VNET_PF_IPV6_EXT) {
		const __u8 *s = p->flags & VNET_PF_HOME_ADDR ? p->ex_src : p->src;
		const __u8 *d = p->flags & VNET_PF_RH2 ? p->ex_dst : p->dst;

		if (ENABLED(TCPv6_EX) && p->l4 == VNET_L4_TCP)
			return put_input(in, VNET_HASH_REPORT_TCPv6_EX, s, d, 16, p->ports);
		if (ENABLED(UDPv6_EX) && p->l4 == VNET_L4_UDP)
			return put_input(in, VNET_HASH_REPORT_UDPv6_EX, s, d, 16, p->ports);
		if (ENABLED(IPv6_EX))
			return put_input(in, VNET_HASH_REPORT_IPv6_EX, s, d, 16, NULL);
	}
	/* spec "IPv6 packets without extension header" */
	if (ENABLED(TCPv6) && p->l4 == VNET_L4_TCP)
		return put_input(in, VNET_HASH_REPORT_TCPv6, p->src, p->dst, 16, p->ports);
	if (ENABLED(UDPv6) && p->l4 == VNET_L4_UDP)
		return put_input(in, VNET_HASH_REPORT_UDPv6, p->src, p->dst, 16, p->ports);
	if (ENABLED(IPv6))
		return put_input(in, VNET_HASH_REPORT_IPv6, p->src, p->dst, 16, NULL);
	return VNET_HASH_REPORT_NONE;
}

int vnet_hash_input_build(const struct vnet_parsed *p, __u32 enabled,
			  struct vnet_hash_input *in)
{
	memset(in, 0, sizeof(*in));
	if (p->l3 == VNET_L3_IPV4)
		return select_ipv4(p, enabled, in);
	if (p->l3 == VNET_L3_IPV6)
		return select_ipv6(p, enabled, in);
	return VNET_HASH_REPORT_NONE;
}

int vnet_classify_hash(const void *frame, size_t len, __u32 enabled,
		       const struct vnet_toeplitz_table *key_table,
		       struct vnet_hash_result *res)
{
	struct vnet_parsed p;
	struct vnet_hash_input in;
	int err;

	res->value = 0;
	res->report = VNET_HASH_REPORT_NONE;
	err = vnet_parse_frame(frame, len, &p);
	if (err)
		return err;
	res->report = (__u8)vnet_hash_input_build(&p, enabled, &in);
	if (res->report != VNET_HASH_REPORT_NONE)
		res->value = vnet_toeplitz_table(key_table, in.data, in.len);
	return 0;
}

const char *vnet_hash_report_name(unsigned int report)
{
	static const char *const names[] = {
		"none", "ipv4", "tcpv4", "udpv4", "ipv6", "tcpv6", "udpv6",
		"ipv6_ex", "tcpv6_ex", "udpv6_ex",
	};

	return report < sizeof(names) / sizeof(names[0]) ? names[report] : "?";
}
