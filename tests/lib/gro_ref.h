/* SPDX-License-Identifier: MIT */
/*
 * An independent reference for receive coalescing (daemon/engine/gro.c),
 * and a receive queue to run it on.
 *
 * The reference does not know the coalescer's rules; it checks what the
 * guest got against what came in, the way a receiver would:
 *  - a frame with gso_type NONE is one frame that came in, byte for byte,
 *    flags 0 or DATA_VALID, and DATA_VALID only on a frame whose IPv4
 *    header and TCP checksums are right;
 *  - a GSO frame has NEEDS_CSUM at the TCP checksum, the pseudo-header sum
 *    in it (completing it gives a correct checksum), exact IP lengths, a
 *    valid IPv4 header checksum, gso_type of its IP version (ECN exactly
 *    when it starts with CWR), hdr_len = its headers, no CE mark; cut into
 *    gso_size pieces the way a sender's TSO would (sequence numbers, IPv4
 *    IDs counting up or fixed, CWR on the first, PSH/FIN on the last, full
 *    checksums) it gives back frames that came in, byte for byte;
 *  - every frame that came in is delivered once (or, when buffers ran out,
 *    at most once) and each flow's frames, TCP by addresses and ports and
 *    everything else as one group, keep their order.
 */
#ifndef VNET_TEST_GRO_REF_H
#define VNET_TEST_GRO_REF_H

#include <linux/types.h>
#include <stdbool.h>
#include <stddef.h>

#include <vnet/net.h>

#include "vdriver.h"

#define GRO_REF_MAX_IN		1024
#define GRO_REF_MAX_OUT		1024

struct gro_ref_frame {
	const __u8 *data;
	__u32 len;
};

/* A frame the guest got: the virtio_net_hdr_v1 as written, the frame. */
struct gro_ref_out {
	struct virtio_net_hdr_v1 vh;
	__u32 hash_value;
	__u16 hash_report;
	const __u8 *data;
	__u32 len;
	unsigned int nsegs;	/* set by the check: frames it carried */
};

#define GRO_REF_CSUM	1u	/* GUEST_CSUM on: flags may be set */
#define GRO_REF_ECN	2u	/* GUEST_ECN on: GSO_ECN may be set */
#define GRO_REF_PARTIAL	4u	/* buffers ran out: not everything arrives */

/* 0 when out[] is a correct delivery of in[]; else -1 and why. */
int gro_ref_check(const struct gro_ref_frame *in, unsigned int nin,
		  struct gro_ref_out *out, unsigned int nout, unsigned int flags,
		  char *why, size_t whylen);

/* A receive queue over a test driver, and what it delivered. */
struct gro_rig {
	struct vdriver d;
	struct vnet_netq q;
	__u64 features;
	__u32 buf_size;
	__u64 *buf_gpa;			/* per descriptor head */
	__u8 *got;			/* gathered frames */
	size_t got_off, got_cap;
	struct gro_ref_out out[GRO_REF_MAX_OUT];
	unsigned int nout;
	unsigned int bad;		/* malformed deliveries (num_buffers...) */
};

/* Ring of 'size' entries (packed when 'features' has VIRTIO_F_RING_PACKED),
 * 'nbufs' buffers of buf_size posted. */
int gro_rig_init(struct gro_rig *r, __u64 features, __u16 size, __u32 buf_size,
		 unsigned int nbufs);
void gro_rig_fini(struct gro_rig *r);
/* Post up to n more buffers (as many as the ring has free). */
void gro_rig_post(struct gro_rig *r, unsigned int n);
/* One receive burst of in[]; returns what vnet_net_rx_burst returned. */
unsigned int gro_rig_burst(struct gro_rig *r, const struct gro_ref_frame *in, unsigned int n,
			   const __u32 *hash);
/* The same through vnet_net_rx_burst_hold: *nobuf, what found no buffer. */
unsigned int gro_rig_burst_hold(struct gro_rig *r, const struct gro_ref_frame *in,
				unsigned int n, __u64 *nobuf);
/* Read every used buffer into out[] (gathered); forget earlier ones. */
void gro_rig_collect(struct gro_rig *r);

#endif
