/* SPDX-License-Identifier: MIT */
/*
 * The C reference classifier: frame parsing and hash-input selection exactly
 * as spec/virtio-network.tex "Hash calculation for incoming packets" says.
 * The XDP program (bpf/) and the device-to-device path must give identical
 * answers; tests run both against this code.
 *
 * Parsing rules (docs/ARCHITECTURE.md "Classifier" has the why):
 *  - L2: Ethernet, then at most two VLAN tags (802.1Q 0x8100, 802.1ad 0x88a8,
 *    in any order). A frame whose L2 header (incl. tags) is cut short is
 *    unusable: vnet_parse_frame() returns -EINVAL.
 *  - A layer counts only when its header is complete. A present but cut or
 *    invalid IPv4/IPv6/extension/TCP/UDP header sets VNET_PF_MALFORMED and
 *    parsing stops there (so a cut TCP header leaves an IPv4-only packet).
 *  - IPv4: version 4, IHL >= 5 and IHL*4 bytes present; options skipped.
 *    MF set or a fragment offset: VNET_PF_FRAGMENT, no L4 header.
 *  - IPv6: extension headers hop-by-hop (0), routing (43), fragment (44) and
 *    destination options (60) are walked, at most VNET_IPV6_MAX_EXT of them;
 *    a longer chain stops parsing without an L4 header (not malformed).
 *    Any fragment header: VNET_PF_FRAGMENT, no L4 header. The first Home
 *    Address option (type 201, 16 bytes) of a destination options header
 *    and the address of the first type-2 routing header (hdr ext len 2)
 *    replace source and destination for the _EX hash types.
 *  - TCP needs 20 bytes, UDP 8; other protocols have no L4 header.
 */
#ifndef VNET_CLASSIFY_H
#define VNET_CLASSIFY_H

#include <linux/types.h>
#include <stddef.h>

#include "vnet/toeplitz.h"

#define VNET_MAX_VLAN_TAGS	2
#define VNET_IPV6_MAX_EXT	8

/* Hash types and report values: spec "Supported/enabled hash types". */
#define VNET_HASH_TYPE_IPv4	(1u << 0)
#define VNET_HASH_TYPE_TCPv4	(1u << 1)
#define VNET_HASH_TYPE_UDPv4	(1u << 2)
#define VNET_HASH_TYPE_IPv6	(1u << 3)
#define VNET_HASH_TYPE_TCPv6	(1u << 4)
#define VNET_HASH_TYPE_UDPv6	(1u << 5)
#define VNET_HASH_TYPE_IP_EX	(1u << 6)
#define VNET_HASH_TYPE_TCP_EX	(1u << 7)
#define VNET_HASH_TYPE_UDP_EX	(1u << 8)
#define VNET_HASH_TYPE_ALL	0x1ffu

enum vnet_hash_report {
	VNET_HASH_REPORT_NONE = 0,
	VNET_HASH_REPORT_IPv4,
	VNET_HASH_REPORT_TCPv4,
	VNET_HASH_REPORT_UDPv4,
	VNET_HASH_REPORT_IPv6,
	VNET_HASH_REPORT_TCPv6,
	VNET_HASH_REPORT_UDPv6,
	VNET_HASH_REPORT_IPv6_EX,
	VNET_HASH_REPORT_TCPv6_EX,
	VNET_HASH_REPORT_UDPv6_EX,
	VNET_HASH_REPORT_MAX = VNET_HASH_REPORT_UDPv6_EX,
};

/* VIRTIO_NET_HASH_TYPE_XXX = 1 << (VIRTIO_NET_HASH_REPORT_XXX - 1) */
#define VNET_HASH_TYPE_OF_REPORT(r)	(1u << ((r) - 1))

/* struct vnet_parsed.flags */
#define VNET_PF_MALFORMED	(1u << 0)	/* a header was cut or invalid */
#define VNET_PF_FRAGMENT	(1u << 1)	/* IPv4/IPv6 fragment: no L4 */
#define VNET_PF_IPV6_EXT	(1u << 2)	/* IPv6 extension header(s) seen */
#define VNET_PF_HOME_ADDR	(1u << 3)	/* ex_src from a Home Address option */
#define VNET_PF_RH2		(1u << 4)	/* ex_dst from a type-2 routing header */
#define VNET_PF_EXT_LIMIT	(1u << 5)	/* chain longer than VNET_IPV6_MAX_EXT */

enum vnet_l3 { VNET_L3_NONE = 0, VNET_L3_IPV4, VNET_L3_IPV6 };
enum vnet_l4 { VNET_L4_NONE = 0, VNET_L4_TCP, VNET_L4_UDP };

struct vnet_parsed {
	const __u8 *dst_mac;		/* points into the frame */
	const __u8 *src_mac;
	__u16 ethertype;		/* after the tags, host order */
	__u8 vlan_tags;			/* 0..2 */
	__u16 vlan_id;			/* VID of the outermost tag, if any */
	__u8 l3;			/* enum vnet_l3 */
	__u8 l4;			/* enum vnet_l4 */
	__u8 ip_proto;			/* last next-header/protocol seen */
	__u32 flags;			/* VNET_PF_* */
	__u16 l3_off, l4_off;		/* byte offsets in the frame */
	/* network byte order; IPv4 addresses use the first 4 bytes */
	__u8 src[16], dst[16];
	__u8 ex_src[16], ex_dst[16];	/* HAO / RH2 substitutes (flags say) */
	__u8 ports[4];			/* sport, dport as on the wire */
};

/* The bytes the Toeplitz function runs over, and what they stand for. */
struct vnet_hash_input {
	__u8 data[VNET_HASH_INPUT_MAX];
	__u8 len;			/* 0 when no hash is computed */
	__u8 report;			/* enum vnet_hash_report */
};

/* Parse a frame. 0, or -EINVAL when the L2 header is cut short. */
int vnet_parse_frame(const void *frame, size_t len, struct vnet_parsed *p);

/*
 * Choose the hash type for 'enabled' (a VNET_HASH_TYPE_* mask) and build
 * the hash input. Returns the report type; VNET_HASH_REPORT_NONE (and
 * in->len == 0) when the spec says no hash is calculated.
 */
int vnet_hash_input_build(const struct vnet_parsed *p, __u32 enabled,
			  struct vnet_hash_input *in);

/* Parse + select + Toeplitz (table form). */
struct vnet_hash_result {
	__u32 value;
	__u8 report;
};

int vnet_classify_hash(const void *frame, size_t len, __u32 enabled,
		       const struct vnet_toeplitz_table *key_table,
		       struct vnet_hash_result *res);

const char *vnet_hash_report_name(unsigned int report);

#endif
