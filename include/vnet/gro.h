/* SPDX-License-Identifier: MIT */
/*
 * Receive coalescing (daemon/engine/gro.c): within one receive burst,
 * consecutive in-order TCP segments of one flow become one large frame for
 * the guest, delivered with gso_type TCPV4/TCPV6 (spec 5.1.6.4, GUEST_TSO4/
 * TSO6) so its stack handles one packet instead of forty. The rules are the
 * ones Linux's GRO keeps (net/ipv4/tcp_offload.c, af_inet.c, ip6_offload.c),
 * so what the guest sees is what a kernel with a GRO-capable NIC would hand
 * it, and segmenting a coalesced frame again gives back the frames that came
 * in:
 *
 *  - same flow: the same Ethernet header (MACs, VLAN tags, type), addresses,
 *    ports, IPv6 flow label; the same hash report;
 *  - the next sequence number, a payload of at most the first one's (its
 *    length is gso_size; a shorter one is taken and ends the run), the same
 *    ACK number, header length, window, flags (CWR, PSH, FIN aside) and TCP
 *    options byte for byte (timestamps included);
 *  - IPv4: no options, not a fragment, the same TTL, TOS and DF, IDs that
 *    count up by one or, with DF, stay fixed (decided on the second
 *    segment); IPv6: no extension headers, the same traffic class and hop
 *    limit;
 *  - the IP length matches the frame exactly (no padding, no truncation),
 *    and the IPv4 header and TCP checksums are verified;
 *  - PSH or FIN is taken and ends the run; URG, RST and SYN never join one;
 *    CWR may only start a run, which then carries VIRTIO_NET_HDR_GSO_ECN
 *    (GUEST_ECN; without it a CWR segment goes alone); an ECN CE mark and a
 *    segment without payload never join one;
 *  - at most 64 KiB and VNET_GRO_MAX_SEGS segments per frame;
 *  - nothing is held back: every run is delivered by the end of the burst.
 *
 * Everything else passes through unchanged and in order within its flow:
 * a frame whose checksum we verified is marked DATA_VALID, one we did not
 * (or that failed) goes as it came, flags 0.
 *
 * Use (net_rx.c does this for every burst):
 *
 *   vnet_gro_begin(&g, VNET_GRO_TSO4 | ..., emit, ctx, &stats);
 *   for each frame: if (vnet_gro_add(&g, &pkt[i]) < 0) stop;
 *   vnet_gro_finish(&g);
 *
 * emit() gets every frame to deliver, in delivery order; a negative return
 * (no receive buffers) stops the burst: later adds and finish return it.
 */
#ifndef VNET_GRO_H
#define VNET_GRO_H

#include <linux/types.h>
#include <stdbool.h>

struct vnet_rx_pkt;
struct vnet_net_stats;

#define VNET_GRO_FLOWS		8	/* runs open at once (Linux: MAX_GRO_SKBS) */
#define VNET_GRO_MAX_SEGS	64	/* segments in one frame */
#define VNET_GRO_MAX_LEN	65535	/* bytes of a coalesced frame, L2 header included */
/* Ethernet + two VLAN tags + IPv6 (or IPv4 without options) + TCP with options */
#define VNET_GRO_HDR_MAX	(14 + 8 + 40 + 60)

/* What the guest takes right now (negotiated and CTRL_GUEST_OFFLOADS). */
#define VNET_GRO_TSO4		1u
#define VNET_GRO_TSO6		2u
#define VNET_GRO_ECN		4u

/*
 * One frame for the guest: a packet as it came (nsegs == 1, hdr NULL), or
 * a run: hdr[0 .. hdr_len) followed by each segment's payload, which starts
 * at hdr_len in every segment of the run. The virtio_net_hdr fields are
 * in host order.
 */
struct vnet_gro_frame {
	const struct vnet_rx_pkt *const *seg;
	unsigned int nsegs;
	const __u8 *hdr;
	__u16 hdr_len;
	__u32 len;			/* frame bytes */
	__u8 flags;			/* VIRTIO_NET_HDR_F_NEEDS_CSUM / DATA_VALID */
	__u8 gso_type;
	__u16 gso_size, csum_start, csum_offset;
};

typedef int (*vnet_gro_emit_fn)(void *ctx, const struct vnet_gro_frame *f);

struct vnet_gro_flow {
	bool open;
	bool fixed_id;			/* IPv4 IDs do not count up (DF only) */
	__u8 ipv;			/* 4 or 6 */
	__u8 last_flags;		/* TCP flags of the last segment */
	__u16 l3off, l4off, hdrs;	/* header offsets, the same in every segment */
	__u16 mss;			/* payload of the first segment */
	__u16 nsegs;
	__u32 key;			/* cheap flow hash: compared before the rest */
	__u32 len;			/* frame bytes so far */
	__u32 next_seq;
	__u32 order;			/* when it opened: flushed oldest first */
	const struct vnet_rx_pkt *seg[VNET_GRO_MAX_SEGS];
	__u8 hdr[VNET_GRO_HDR_MAX];	/* the run's headers, rewritten at flush */
};

struct vnet_gro {
	unsigned int offloads;		/* VNET_GRO_* */
	vnet_gro_emit_fn emit;
	void *ctx;
	struct vnet_net_stats *st;	/* rx_csum_bad, rx_gro_bad */
	int err;			/* emit's error: the burst stopped */
	unsigned int nopen;
	__u32 order;
	struct vnet_gro_flow flow[VNET_GRO_FLOWS];
};

void vnet_gro_begin(struct vnet_gro *g, unsigned int offloads, vnet_gro_emit_fn emit,
		    void *ctx, struct vnet_net_stats *st);
/* Take one frame; 0, or emit's negative error (this frame not taken). */
int vnet_gro_add(struct vnet_gro *g, const struct vnet_rx_pkt *p);
/* Deliver every open run (oldest first); 0 or emit's error. */
int vnet_gro_finish(struct vnet_gro *g);

#endif
