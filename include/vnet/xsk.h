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
 * The longest frame the uplink datapath receives: one UMEM frame per
 * packet (no XDP_USE_SG yet), and in front of the data the kernel keeps
 * XDP_PACKET_HEADROOM (256; our metadata lives there): copy mode refuses
 * anything longer than chunk - headroom (__xsk_rcv, xsk_pool_get_rx_
 * frame_size). Transmit frames have the whole chunk: receive is the bound.
 */
#define VNET_XSK_RX_FRAME_MAX	(VNET_XSK_FRAME_SIZE - XDP_PACKET_HEADROOM)
/*
 * ... so the largest device MTU on an uplink: a frame of that MTU with its
 * Ethernet header and two VLAN tags (the classifier looks through two)
 * still fits. The one place the limit lives: registry.c asks for it
 * through the backend (vnet_backend_ops.uplink_mtu_max); a multi-buffer
 * path raises it here.
 */
#define VNET_XSK_MTU_MAX	(VNET_XSK_RX_FRAME_MAX - 14 - 2 * 4)

struct vnet_xsk;

/* A received frame: data in the UMEM, metadata right in front of it. */
struct vnet_xsk_rx {
	__u64 addr;			/* give back with vnet_xsk_rx_done() */
	__u8 *data;
	__u32 len;
	const struct vnet_xdp_meta *meta;	/* NULL when there is no room for one */
};

int vnet_xsk_open(const char *ifname, __u32 queue, struct vnet_xsk **out);
void vnet_xsk_close(struct vnet_xsk *x);
int vnet_xsk_fd(const struct vnet_xsk *x);

/* Receive: up to n frames (peeked, not released yet). */
unsigned int vnet_xsk_rx_peek(struct vnet_xsk *x, struct vnet_xsk_rx *out, unsigned int n);
/* Release the n frames of the last peek and put their frames on the fill ring. */
void vnet_xsk_rx_done(struct vnet_xsk *x, const struct vnet_xsk_rx *rx, unsigned int n);

/* Transmit frames: take a free one (NULL when none), give one back unused. */
__u8 *vnet_xsk_tx_frame(struct vnet_xsk *x, __u64 *addr);
void vnet_xsk_tx_free(struct vnet_xsk *x, __u64 addr);
__u8 *vnet_xsk_frame_data(const struct vnet_xsk *x, __u64 addr);
unsigned int vnet_xsk_tx_free_count(const struct vnet_xsk *x);
/* Queue n frames for the wire (they come back through completions). */
void vnet_xsk_tx_submit(struct vnet_xsk *x, const __u64 *addr, const __u32 *len,
			unsigned int n);
/* Kick the kernel if frames are waiting; reap completions. */
void vnet_xsk_tx_kick(struct vnet_xsk *x);
unsigned int vnet_xsk_tx_complete(struct vnet_xsk *x);
/* Frames submitted but not completed yet. */
unsigned int vnet_xsk_tx_outstanding(const struct vnet_xsk *x);

struct vnet_xsk_stats {
	__u64 rx_frames, tx_frames, tx_kicks, tx_kick_errors;
};
void vnet_xsk_get_stats(const struct vnet_xsk *x, struct vnet_xsk_stats *st);

#endif
