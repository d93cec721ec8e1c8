/* SPDX-License-Identifier: MIT */
/*
 * TCP segments for tests: one flow's Ethernet (0-2 VLAN tags), IPv4 or
 * IPv6 and TCP headers with correct checksums, payload bytes that follow
 * from the sequence number (so a reassembled stream can be checked), and
 * per segment the faults a test wants: a bad checksum, a cut or padded
 * frame, IP options, an ECN CE mark, other flags.
 *
 *   struct ts_flow f;
 *   ts_flow_init(&f, 4, 1);             IPv4, flow number 1
 *   len = ts_build(&f, &(struct ts_seg){ .payload = 1448 }, buf, sizeof(buf));
 *
 * ts_build() advances f->seq (payload, +1 for SYN/FIN) and the IPv4 ID as
 * f->id_mode says; tests change any field of f between segments.
 */
#ifndef VNET_TEST_TCP_STREAM_H
#define VNET_TEST_TCP_STREAM_H

#include <linux/types.h>
#include <stdbool.h>

enum ts_id_mode { TS_ID_INC = 0, TS_ID_FIXED, TS_ID_RANDOM };

struct ts_flow {
	int ipv;		/* 4 or 6 */
	int vlans;		/* VLAN tags: 0, 1 or 2 (outer 802.1ad) */
	__u16 vid;
	__u8 dmac[6], smac[6];
	__u8 saddr[16], daddr[16];
	__u16 sport, dport;
	__u8 ttl, tos;		/* IPv6: hop limit, traffic class */
	__u32 flowlabel;
	bool df;
	enum ts_id_mode id_mode;
	__u16 id;
	__u32 seq, ack;
	__u16 win;
	bool ts;		/* the timestamps option (NOP NOP TS: 12 bytes) */
	__u32 tsval, tsecr;
	__u8 flags;		/* TCP flags of every segment (ACK) */
	__u32 rand;		/* TS_ID_RANDOM's state */
};

/* Per segment; zero is "as the flow says". */
struct ts_seg {
	__u32 payload;
	__u8 add_flags;		/* ORed into the TCP flags */
	bool bad_csum;		/* TCP checksum wrong */
	bool bad_ipcsum;	/* IPv4 header checksum wrong */
	bool ce;		/* ECN CE in TOS / traffic class */
	bool ip_opts;		/* IPv4: 4 bytes of options (NOPs) */
	__u32 trunc;		/* bytes cut off the end (lengths unchanged) */
	__u32 pad;		/* zero bytes appended (lengths unchanged) */
};

/* RFC 1071 over big-endian byte pairs: add, then fold and complement. */
__u32 ts_sum16(const __u8 *p, __u32 n, __u32 sum);
__u16 ts_fold(__u32 sum);

/* A flow from number n: its own MACs, addresses and ports. */
void ts_flow_init(struct ts_flow *f, int ipv, unsigned int n);

/* The byte at stream position 'seq' of a flow with source port 'sport'. */
__u8 ts_payload_byte(__u16 sport, __u32 seq);

/* Build one segment into buf; returns its length (0: does not fit). */
__u32 ts_build(struct ts_flow *f, const struct ts_seg *s, __u8 *buf, __u32 cap);

#endif
