/* SPDX-License-Identifier: MIT */
/*
 * One AF_XDP socket on one uplink rx queue (libxdp's <xdp/xsk.h>, copy
 * mode: veth and most drivers without AF_XDP zero-copy offer nothing else).
 *
 * Each socket has its own UMEM of VNET_XSK_FRAMES frames of
 * VNET_XSK_FRAME_SIZE bytes: the first half lives in the fill/rx rings
 * (receive), the second half is a stack of free transmit frames that the
 * engine writes into directly (vnet_net_tx_burst output buffers) and that
 * come back through the completion ring. Nothing is allocated per packet;
 * the only syscalls are the transmit kicks copy mode needs (sendto, one per
 * 32 frames: the kernel's TX_BATCH_SIZE in net/xdp/xsk.c).
 *
 * Not thread-safe: one worker owns a socket.
 */
#ifndef VNET_XSK_H
#define VNET_XSK_H

#include <linux/bpf.h>		/* XDP_PACKET_HEADROOM */
#include <linux/types.h>

#include "vnet/datapath.h"

#define VNET_XSK_FRAMES		4096
#define VNET_XSK_FRAME_SIZE	2048
#define VNET_XSK_RX_FRAMES	(VNET_XSK_FRAMES / 2)
#define VNET_XSK_TX_FRAMES	(VNET_XSK_FRAMES - VNET_XSK_RX_FRAMES)

/*
 * The longest frame one UMEM frame receives: in front of the data the
 * kernel keeps XDP_PACKET_HEADROOM (256; our metadata lives there): copy
 * mode refuses anything longer than chunk - headroom on a socket without
 * multi-buffer (__xsk_rcv, xsk_pool_get_rx_frame_size). Transmit frames
 * have the whole chunk: receive is the bound.
 */
#define VNET_XSK_RX_FRAME_MAX	(VNET_XSK_FRAME_SIZE - XDP_PACKET_HEADROOM)
/*
 * ... so the largest device MTU on an uplink without multi-buffer: a frame
 * of that MTU with its Ethernet header and two VLAN tags (the classifier
 * looks through two) still fits. registry.c asks for the bound through
 * the backend (vnet_backend_ops.uplink_mtu_max): this one, or
 * VNET_XSK_SG_MTU_MAX where the kernel has AF_XDP multi-buffer.
 */
#define VNET_XSK_L2_MAX		(14 + 2 * 4)
#define VNET_XSK_MTU_MAX	(VNET_XSK_RX_FRAME_MAX - VNET_XSK_L2_MAX)

/*
 * Jumbo frames: AF_XDP multi-buffer (XDP_USE_SG, Linux 6.6). A frame
 * arrives as several descriptors, XDP_PKT_CONTD on all but the last, each
 * in its own UMEM frame (VNET_XSK_RX_FRAME_MAX bytes each); a frame leaves
 * the same way, from VNET_XSK_FRAME_SIZE pieces of one contiguous transmit
 * buffer. The largest device MTU then: 9216, the common jumbo maximum of
 * switches (and the uplink's own MTU, whichever is smaller).
 */
#define VNET_XSK_SG_MTU_MAX	9216
/* why a device's MTU stops at VNET_XSK_MTU_MAX (dev add/set's message) */
#define VNET_XSK_NO_SG_WHY	"one 2 KiB AF_XDP frame per packet: this kernel has no " \
				"AF_XDP multi-buffer (XDP_USE_SG, Linux 6.6)"
#define VNET_XSK_SG_FRAME_MAX	(VNET_XSK_SG_MTU_MAX + VNET_XSK_L2_MAX)
/* the build host's <linux/if_xdp.h> (Debian 12: 6.1) predates them */
#ifndef XDP_USE_SG
#define XDP_USE_SG		(1 << 4)
#endif
#ifndef XDP_PKT_CONTD
#define XDP_PKT_CONTD		(1 << 0)
#endif

struct vnet_xsk;

/* A received frame: data in the UMEM, metadata right in front of it. */
struct vnet_xsk_rx {
	__u64 addr;			/* give back with vnet_xsk_rx_done() */
	__u8 *data;
	__u32 len;
	const struct vnet_xdp_meta *meta;	/* NULL when there is no room for one */
	bool more;			/* XDP_PKT_CONTD: the frame goes on */
};

/* One UMEM frame per packet, as on every kernel. */
int vnet_xsk_open(const char *ifname, __u32 queue, struct vnet_xsk **out);
/*
 * frame_max > VNET_XSK_RX_FRAME_MAX: multi-buffer (XDP_USE_SG), frames up
 * to frame_max (at most VNET_XSK_SG_FRAME_MAX) both ways; -EINVAL where the
 * kernel has no multi-buffer (< 6.6).
 */
int vnet_xsk_open_sg(const char *ifname, __u32 queue, __u32 frame_max, struct vnet_xsk **out);
/* Does this kernel bind AF_XDP sockets with XDP_USE_SG? (asked once) */
bool vnet_xsk_sg_supported(void);
bool vnet_xsk_is_sg(const struct vnet_xsk *x);
void vnet_xsk_close(struct vnet_xsk *x);
int vnet_xsk_fd(const struct vnet_xsk *x);

/*
 * Receive: up to n descriptors (peeked, not released yet), whole frames
 * only: a frame whose last descriptor has not arrived waits for the next
 * peek. A frame of more than n descriptors is dropped here (counted in
 * rx_too_long). 'more' marks the descriptors a frame continues after.
 */
unsigned int vnet_xsk_rx_peek(struct vnet_xsk *x, struct vnet_xsk_rx *out, unsigned int n);
/*
 * The frame starting at rx[0] (of n descriptors): how many descriptors it
 * has. *data: the frame, rx[0].data, or buf (cap bytes) where its pieces
 * were copied when it has several. *len: its length, 0 when it does not
 * fit cap, a descriptor of it is bad (len 0) or its end is missing.
 */
unsigned int vnet_xsk_gather(const struct vnet_xsk_rx *rx, unsigned int n, __u8 *buf,
			     __u32 cap, const __u8 **data, __u32 *len);
/* Release the n frames of the last peek and put their frames on the fill ring. */
void vnet_xsk_rx_done(struct vnet_xsk *x, const struct vnet_xsk_rx *rx, unsigned int n);

/*
 * Transmit frames: take a free one (NULL when none; vnet_xsk_tx_cap()
 * bytes, contiguous), give one back unused.
 */
__u8 *vnet_xsk_tx_frame(struct vnet_xsk *x, __u64 *addr);
void vnet_xsk_tx_free(struct vnet_xsk *x, __u64 addr);
__u8 *vnet_xsk_frame_data(const struct vnet_xsk *x, __u64 addr);
unsigned int vnet_xsk_tx_free_count(const struct vnet_xsk *x);
__u32 vnet_xsk_tx_cap(const struct vnet_xsk *x);
/*
 * Queue n frames for the wire (they come back through completions); a
 * frame longer than VNET_XSK_FRAME_SIZE (multi-buffer sockets) leaves as
 * several descriptors.
 */
void vnet_xsk_tx_submit(struct vnet_xsk *x, const __u64 *addr, const __u32 *len,
			unsigned int n);
/* Kick the kernel if frames are waiting; reap completions. */
void vnet_xsk_tx_kick(struct vnet_xsk *x);
unsigned int vnet_xsk_tx_complete(struct vnet_xsk *x);
/* Descriptors submitted but not completed yet. */
unsigned int vnet_xsk_tx_outstanding(const struct vnet_xsk *x);

struct vnet_xsk_stats {
	__u64 rx_frames, tx_frames, tx_kicks, tx_kick_errors;
	/* frames dropped unread: more descriptors than a peek, longer than
	 * the gather buffer, or a bad piece (vnet_xsk_rx_count_too_long) */
	__u64 rx_too_long;
};
void vnet_xsk_get_stats(const struct vnet_xsk *x, struct vnet_xsk_stats *st);
/* The caller dropped a frame of the last peek as too long (gather). */
void vnet_xsk_rx_count_too_long(struct vnet_xsk *x);

/*
 * The kernel's drop counters of the socket (getsockopt XDP_STATISTICS,
 * struct xdp_statistics): a system call, so only when a user asks
 * (mgmtdev show), never on the packet path.
 */
struct vnet_xsk_kstats {
	__u64 rx_dropped;		/* no room: frame too long for the buffers */
	__u64 rx_invalid_descs;		/* bad fill-ring descriptors */
	__u64 tx_invalid_descs;		/* bad tx-ring descriptors */
	__u64 rx_ring_full;		/* the rx ring full: vnetd too slow */
	__u64 rx_fill_ring_empty_descs;	/* no fill-ring frame to receive into */
	__u64 tx_ring_empty_descs;	/* kicks that found the tx ring empty */
};
int vnet_xsk_kernel_stats(const struct vnet_xsk *x, struct vnet_xsk_kstats *ks);

#endif
