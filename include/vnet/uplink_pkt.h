/* SPDX-License-Identifier: MIT */
/*
 * The host's group frames, copied for the devices (daemon/uplink/uplink_pkt.c,
 * docs/ARCHITECTURE.md "Uplink datapath wiring"). When the host shares the
 * uplink (VNET_DP_CFG_HOST_SHARED) the XDP program passes every broadcast
 * and multicast frame to the host, because XDP cannot clone; vnetd reads
 * its copy here: an AF_PACKET socket bound to the uplink with
 *
 *  - a TPACKET_V3 rx ring mmap'ed (no syscall per frame; poll when idle),
 *  - PACKET_IGNORE_OUTGOING (what vnetd itself sends through AF_XDP, and
 *    the host's own transmissions, never come back),
 *  - a classic BPF filter that accepts only frames whose destination MAC
 *    has the group bit (byte 0 bit 0), so unicast never reaches the ring.
 *
 * The kernel strips a VLAN tag into skb metadata before packet taps see
 * the frame; it is put back in front of the payload here, in the ring
 * (PACKET_RESERVE leaves the room), so the devices get the frame as it was
 * on the wire, as with the XDP path (which never strips tags).
 *
 * Used by the uplink worker alone: no locking.
 */
#ifndef VNET_UPLINK_PKT_H
#define VNET_UPLINK_PKT_H

#include <linux/types.h>

struct vnet_pktring;

struct vnet_pkt_frame {
	const __u8 *data;	/* the frame, from its destination MAC */
	__u32 len;		/* bytes at data (a frame cut by the ring is dropped) */
};

struct vnet_pktring_stats {
	__u64 frames;		/* frames handed out */
	__u64 dropped;		/* cut by the ring, or no room to put the VLAN tag back */
	__u64 kernel_drops;	/* the ring was full (PACKET_STATISTICS) */
};

/* A socket on ifindex, its ring mapped; -errno (e.g. an old kernel). */
int vnet_pktring_open(int ifindex, struct vnet_pktring **out);
void vnet_pktring_close(struct vnet_pktring *r);
int vnet_pktring_fd(const struct vnet_pktring *r);	/* for epoll (EPOLLIN) */

/*
 * Up to max frames of the oldest block the kernel handed over. They stay
 * valid (and the block ours) until vnet_pktring_done(); 0: nothing ready.
 */
unsigned int vnet_pktring_peek(struct vnet_pktring *r, struct vnet_pkt_frame *f,
			       unsigned int max);
/* The frames of the last peek were used; a finished block goes back. */
void vnet_pktring_done(struct vnet_pktring *r);

void vnet_pktring_stats(struct vnet_pktring *r, struct vnet_pktring_stats *st);

#endif
