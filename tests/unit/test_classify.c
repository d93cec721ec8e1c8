// SPDX-License-Identifier: MIT
/*
 * The C reference classifier: parsing of L2 tags, IPv4 options/fragments,
 * IPv6 extension chains with HAO/RH2, and the hash-type precedence of spec
 * "Hash calculation for incoming packets" for all 512 enabled-type masks.
 */
#include <errno.h>
#include <netinet/in.h>
#include <string.h>

#include "vnet/classify.h"
#include "frame.h"
#include "test.h"

static __u8 frame_buf[2048];

static size_t build(const struct frame_spec *s)
{
	return frame_build(s, frame_buf, sizeof(frame_buf));
}

static void test_parse_ipv4_udp(void)
{
	struct frame_spec s;
	struct vnet_parsed p;
	size_t len;

	frame_spec_default(&s);
	len = build(&s);
	EXPECT(vnet_parse_frame(frame_buf, len, &p) == 0, "parse");
	EXPECT(p.l3 == VNET_L3_IPV4 && p.l4 == VNET_L4_UDP, "l3 %d l4 %d", p.l3, p.l4);
	EXPECT(p.ethertype == 0x0800 && p.vlan_tags == 0, "ethertype");
	EXPECT(p.l3_off == 14 && p.l4_off == 34, "offsets %u %u", p.l3_off, p.l4_off);
	EXPECT(!memcmp(p.src, s.src, 4) && !memcmp(p.dst, s.dst, 4), "addresses");
	EXPECT(p.ports[0] == 1000 >> 8 && p.ports[1] == (1000 & 0xff), "sport");
	EXPECT(p.flags == 0, "flags 0x%x", p.flags);
}

static void test_parse_vlan_tags(void)
{
	struct frame_spec s;
	struct vnet_parsed p;
	size_t len;

	frame_spec_default(&s);
	s.vlan_tags = 2;
	s.tpid[0] = 0x88a8, s.vid[0] = 100;
	s.tpid[1] = 0x8100, s.vid[1] = 200;
	len = build(&s);
	EXPECT(vnet_parse_frame(frame_buf, len, &p) == 0, "parse");
	EXPECT(p.vlan_tags == 2 && p.vlan_id == 100, "tags %u vid %u", p.vlan_tags, p.vlan_id);
	EXPECT(p.l3 == VNET_L3_IPV4 && p.l3_off == 22, "QinQ l3 at %u", p.l3_off);

	/* a third tag is not looked through: not IP */
	s.vlan_tags = 3;
	len = build(&s);
	EXPECT(vnet_parse_frame(frame_buf, len, &p) == 0, "parse");
	EXPECT(p.vlan_tags == 2 && p.l3 == VNET_L3_NONE && p.ethertype == 0x8100,
	       "3 tags: tags %u l3 %d type 0x%x", p.vlan_tags, p.l3, p.ethertype);
}

static void test_parse_ipv4_options_and_fragments(void)
{
	struct frame_spec s;
	struct vnet_parsed p;

	frame_spec_default(&s);
	s.l4 = IPPROTO_TCP;
	s.ip_opt_len = 40;
	EXPECT(vnet_parse_frame(frame_buf, build(&s), &p) == 0, "parse");
	EXPECT(p.l4 == VNET_L4_TCP && p.l4_off == 14 + 60, "options: l4 at %u", p.l4_off);

	s.frag = FRAG_FIRST;
	vnet_parse_frame(frame_buf, build(&s), &p);
	EXPECT(p.l4 == VNET_L4_NONE && (p.flags & VNET_PF_FRAGMENT), "MF: l4 %d", p.l4);
	s.frag = FRAG_LATER;
	vnet_parse_frame(frame_buf, build(&s), &p);
	EXPECT(p.l4 == VNET_L4_NONE && (p.flags & VNET_PF_FRAGMENT), "offset: l4 %d", p.l4);

	/* IHL < 5 is malformed: no L3 at all */
	s.frag = FRAG_NONE;
	s.ip_opt_len = 0;
	build(&s);
	frame_buf[14] = 0x44;
	vnet_parse_frame(frame_buf, 60, &p);
	EXPECT(p.l3 == VNET_L3_NONE && (p.flags & VNET_PF_MALFORMED), "IHL 4");
}

static void test_parse_ipv6_ext_chain(void)
{
	struct frame_spec s;
	struct vnet_parsed p;

	frame_spec_default(&s);
	s.ip = 6;
	s.l4 = IPPROTO_TCP;
	s.n_ext = 3;
	s.ext[0] = (struct frame_ext){ .type = IPPROTO_HOPOPTS };
	s.ext[1] = (struct frame_ext){ .type = IPPROTO_DSTOPTS, .hao = 1 };
	s.ext[2] = (struct frame_ext){ .type = IPPROTO_ROUTING, .rh2 = 1 };
	memset(s.ex_src, 0xaa, 16);
	memset(s.ex_dst, 0xbb, 16);
	EXPECT(vnet_parse_frame(frame_buf, build(&s), &p) == 0, "parse");
	EXPECT(p.l3 == VNET_L3_IPV6 && p.l4 == VNET_L4_TCP, "l3 %d l4 %d", p.l3, p.l4);
	EXPECT(p.l4_off == 14 + 40 + 8 + 24 + 24, "l4 at %u", p.l4_off);
	EXPECT((p.flags & (VNET_PF_IPV6_EXT | VNET_PF_HOME_ADDR | VNET_PF_RH2)) ==
	       (VNET_PF_IPV6_EXT | VNET_PF_HOME_ADDR | VNET_PF_RH2), "flags 0x%x", p.flags);
	EXPECT(!memcmp(p.ex_src, s.ex_src, 16) && !memcmp(p.ex_dst, s.ex_dst, 16), "HAO/RH2");

	/* a routing header of another type is no RH2 */
	s.ext[2].rh2 = 0;
	vnet_parse_frame(frame_buf, build(&s), &p);
	EXPECT(!(p.flags & VNET_PF_RH2) && p.l4 == VNET_L4_TCP, "type-0 routing");

	/* fragment header: addresses only */
	s.ext[2] = (struct frame_ext){ .type = IPPROTO_FRAGMENT };
	s.frag = FRAG_FIRST;
	vnet_parse_frame(frame_buf, build(&s), &p);
	EXPECT((p.flags & VNET_PF_FRAGMENT) && p.l4 == VNET_L4_NONE, "v6 fragment");

	/* longer than VNET_IPV6_MAX_EXT: stop, no L4, not malformed */
	s.n_ext = VNET_IPV6_MAX_EXT + 1;
	for (int i = 0; i < s.n_ext; i++)
		s.ext[i] = (struct frame_ext){ .type = IPPROTO_DSTOPTS };
	vnet_parse_frame(frame_buf, build(&s), &p);
	EXPECT((p.flags & VNET_PF_EXT_LIMIT) && !(p.flags & VNET_PF_MALFORMED) &&
	       p.l4 == VNET_L4_NONE, "ext limit flags 0x%x", p.flags);
	s.n_ext = VNET_IPV6_MAX_EXT;
	vnet_parse_frame(frame_buf, build(&s), &p);
	EXPECT(!(p.flags & VNET_PF_EXT_LIMIT) && p.l4 == VNET_L4_TCP, "exactly the limit");
}

static void test_parse_bad_dstopt(void)
{
	struct frame_spec s;
	struct vnet_parsed p;
	size_t len;

	frame_spec_default(&s);
	s.ip = 6;
	s.n_ext = 1;
	s.ext[0] = (struct frame_ext){ .type = IPPROTO_DSTOPTS, .hao = 1 };
	len = build(&s);
	/* make the PadN option claim more than the header holds */
	frame_buf[14 + 40 + 3] = 30;
	vnet_parse_frame(frame_buf, len, &p);
	EXPECT((p.flags & VNET_PF_MALFORMED) && !(p.flags & VNET_PF_HOME_ADDR) &&
	       p.l4 == VNET_L4_NONE && p.l3 == VNET_L3_IPV6, "flags 0x%x", p.flags);
}

/* --- hash type precedence ------------------------------------------------ */

enum kind { V4_TCP, V4_UDP, V4_OTHER, V4_FRAG_TCP, V6_TCP, V6_UDP, V6_OTHER,
	    V6X_TCP, V6X_UDP, V6X_OTHER, V6X_FRAG, V6X_HAO_RH2_TCP, NOT_IP, KINDS };

static const char *const kind_name[KINDS] = {
	"v4/tcp", "v4/udp", "v4/icmp", "v4 frag/tcp", "v6/tcp", "v6/udp",
	"v6/icmp", "v6+ext/tcp", "v6+ext/udp", "v6+ext/icmp", "v6 frag",
	"v6+hao+rh2/tcp", "arp",
};

/*
 * The oracle, written as data rather than code: for each kind of packet the
 * report types in order of preference; the first enabled one wins.
 */
static const __u8 preference[KINDS][5] = {
	[V4_TCP]      = { VNET_HASH_REPORT_TCPv4, VNET_HASH_REPORT_IPv4 },
	[V4_UDP]      = { VNET_HASH_REPORT_UDPv4, VNET_HASH_REPORT_IPv4 },
	[V4_OTHER]    = { VNET_HASH_REPORT_IPv4 },
	[V4_FRAG_TCP] = { VNET_HASH_REPORT_IPv4 },
	[V6_TCP]      = { VNET_HASH_REPORT_TCPv6, VNET_HASH_REPORT_IPv6 },
	[V6_UDP]      = { VNET_HASH_REPORT_UDPv6, VNET_HASH_REPORT_IPv6 },
	[V6_OTHER]    = { VNET_HASH_REPORT_IPv6 },
	[V6X_TCP]     = { VNET_HASH_REPORT_TCPv6_EX, VNET_HASH_REPORT_IPv6_EX,
			  VNET_HASH_REPORT_TCPv6, VNET_HASH_REPORT_IPv6 },
	[V6X_UDP]     = { VNET_HASH_REPORT_UDPv6_EX, VNET_HASH_REPORT_IPv6_EX,
			  VNET_HASH_REPORT_UDPv6, VNET_HASH_REPORT_IPv6 },
	[V6X_OTHER]   = { VNET_HASH_REPORT_IPv6_EX, VNET_HASH_REPORT_IPv6 },
	[V6X_FRAG]    = { VNET_HASH_REPORT_IPv6_EX, VNET_HASH_REPORT_IPv6 },
	[V6X_HAO_RH2_TCP] = { VNET_HASH_REPORT_TCPv6_EX, VNET_HASH_REPORT_IPv6_EX,
			  VNET_HASH_REPORT_TCPv6, VNET_HASH_REPORT_IPv6 },
	[NOT_IP]      = { 0 },
};

static void kind_spec(enum kind k, struct frame_spec *s)
{
	frame_spec_default(s);
	for (int i = 0; i < 16; i++) {
		s->src[i] = (__u8)(0x10 + i);
		s->dst[i] = (__u8)(0x30 + i);
		s->ex_src[i] = (__u8)(0x50 + i);
		s->ex_dst[i] = (__u8)(0x70 + i);
	}
	s->l4 = k == V4_UDP || k == V6_UDP || k == V6X_UDP ? IPPROTO_UDP :
		k == V4_OTHER || k == V6_OTHER || k == V6X_OTHER ? IPPROTO_ICMPV6 :
		IPPROTO_TCP;
	s->ip = k <= V4_FRAG_TCP ? 4 : k == NOT_IP ? 0 : 6;
	s->ethertype = 0x0806;
	if (k == V4_FRAG_TCP)
		s->frag = FRAG_FIRST;
	if (k >= V6X_TCP && k <= V6X_FRAG) {
		s->n_ext = 2;
		s->ext[0] = (struct frame_ext){ .type = IPPROTO_HOPOPTS };
		s->ext[1] = (struct frame_ext){ .type = k == V6X_FRAG ? IPPROTO_FRAGMENT
								     : IPPROTO_DSTOPTS };
		s->frag = FRAG_LATER;
	}
	if (k == V6X_HAO_RH2_TCP) {
		s->n_ext = 2;
		s->ext[0] = (struct frame_ext){ .type = IPPROTO_DSTOPTS, .hao = 1 };
		s->ext[1] = (struct frame_ext){ .type = IPPROTO_ROUTING, .rh2 = 1 };
	}
}

static int expected_report(enum kind k, __u32 enabled)
{
	for (int i = 0; i < 5 && preference[k][i]; i++)
		if (enabled & VNET_HASH_TYPE_OF_REPORT(preference[k][i]))
			return preference[k][i];
	return VNET_HASH_REPORT_NONE;
}

static void expected_input(enum kind k, int report, const struct frame_spec *s,
			   __u8 *in, size_t *len)
{
	int v6 = s->ip == 6, ex = report >= VNET_HASH_REPORT_IPv6_EX;
	int ports = report == VNET_HASH_REPORT_TCPv4 || report == VNET_HASH_REPORT_UDPv4 ||
		    report == VNET_HASH_REPORT_TCPv6 || report == VNET_HASH_REPORT_UDPv6 ||
		    report == VNET_HASH_REPORT_TCPv6_EX || report == VNET_HASH_REPORT_UDPv6_EX;
	size_t alen = v6 ? 16 : 4;
	int subst = ex && k == V6X_HAO_RH2_TCP;

	memcpy(in, subst ? s->ex_src : s->src, alen);
	memcpy(in + alen, subst ? s->ex_dst : s->dst, alen);
	*len = 2 * alen;
	if (ports) {
		in[*len] = s->sport >> 8;
		in[*len + 1] = s->sport & 0xff;
		in[*len + 2] = s->dport >> 8;
		in[*len + 3] = s->dport & 0xff;
		*len += 4;
	}
	if (report == VNET_HASH_REPORT_NONE)
		*len = 0;
}

static void test_hash_type_matrix(void)
{
	int checked = 0;

	for (int k = 0; k < KINDS; k++) {
		struct frame_spec s;
		struct vnet_parsed p;
		size_t len;

		kind_spec(k, &s);
		len = build(&s);
		EXPECT(len && vnet_parse_frame(frame_buf, len, &p) == 0, "%s parse", kind_name[k]);
		for (__u32 enabled = 0; enabled <= VNET_HASH_TYPE_ALL; enabled++) {
			struct vnet_hash_input in;
			__u8 want_in[VNET_HASH_INPUT_MAX];
			size_t want_len;
			int want = expected_report(k, enabled);
			int got = vnet_hash_input_build(&p, enabled, &in);

			expected_input(k, want, &s, want_in, &want_len);
			EXPECT(got == want && in.report == want,
			       "%s enabled 0x%03x: report %s, want %s", kind_name[k], enabled,
			       vnet_hash_report_name(got), vnet_hash_report_name(want));
			EXPECT(in.len == want_len && !memcmp(in.data, want_in, want_len),
			       "%s enabled 0x%03x: input of %u bytes, want %zu",
			       kind_name[k], enabled, in.len, want_len);
			checked++;
		}
	}
	printf("  %d (packet kind, enabled types) combinations\n", checked);
}

/* A packet with extension headers but no _EX type enabled hashes like plain v6. */
static void test_ext_fallback_uses_real_addresses(void)
{
	struct frame_spec s;
	struct vnet_parsed p;
	struct vnet_hash_input in;

	kind_spec(V6X_HAO_RH2_TCP, &s);
	vnet_parse_frame(frame_buf, build(&s), &p);
	EXPECT(vnet_hash_input_build(&p, VNET_HASH_TYPE_TCPv6, &in) == VNET_HASH_REPORT_TCPv6,
	       "report");
	EXPECT(!memcmp(in.data, s.src, 16) && !memcmp(in.data + 16, s.dst, 16),
	       "TCPv6 must use the header addresses, not HAO/RH2");
}

static void test_classify_hash_end_to_end(void)
{
	static struct vnet_toeplitz_table tbl;
	static const __u8 key[40] = {
		0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67,
		0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb,
		0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30,
		0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
	};
	struct vnet_hash_result res;
	struct frame_spec s;

	vnet_toeplitz_expand(key, sizeof(key), &tbl);
	/* MS vector 1: 66.9.149.187:2794 -> 161.142.100.80:1766, TCP */
	frame_spec_default(&s);
	s.l4 = IPPROTO_TCP;
	memcpy(s.src, (__u8[]){ 66, 9, 149, 187 }, 4);
	memcpy(s.dst, (__u8[]){ 161, 142, 100, 80 }, 4);
	s.sport = 2794;
	s.dport = 1766;
	EXPECT(vnet_classify_hash(frame_buf, build(&s), VNET_HASH_TYPE_ALL, &tbl, &res) == 0, "rc");
	EXPECT(res.report == VNET_HASH_REPORT_TCPv4 && res.value == 0x51ccc178,
	       "report %u value 0x%08x", res.report, res.value);
	EXPECT(vnet_classify_hash(frame_buf, 13, VNET_HASH_TYPE_ALL, &tbl, &res) == -EINVAL &&
	       res.report == VNET_HASH_REPORT_NONE, "runt frame");
}

int main(void)
{
	RUN(test_parse_ipv4_udp);
	RUN(test_parse_vlan_tags);
	RUN(test_parse_ipv4_options_and_fragments);
	RUN(test_parse_ipv6_ext_chain);
	RUN(test_parse_bad_dstopt);
	RUN(test_hash_type_matrix);
	RUN(test_ext_fallback_uses_real_addresses);
	RUN(test_classify_hash_end_to_end);
	return test_summary();
}
