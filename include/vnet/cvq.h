/* SPDX-License-Identifier: MIT */
/*
 * The virtio-net control queue as a pure function over device state
 * (spec 5.1.6.5 "Control Virtqueue"): vnet_cvq_apply() validates one command
 * against the negotiated features and the device's limits and, only if it is
 * valid in full, writes its effect into a struct vnet_net_state. A bad
 * command returns VIRTIO_NET_ERR and leaves the state untouched, so callers
 * can apply to a spare copy and publish it with one pointer flip.
 *
 * struct vnet_net_state is what the datapath reads: rx mode, MAC table,
 * VLAN filter, multiqueue/RSS/hash-report parameters, guest offloads,
 * notification coalescing.
 */
#ifndef VNET_CVQ_H
#define VNET_CVQ_H

#include <linux/types.h>
#include <stddef.h>

/* enum vnet_steer_mode: how receive queues are chosen (spec 5.1.6.5.5:
 * the last command wins), the modes the receive decision knows */
#include "vnet/dp_layout.h"
#include "vnet/toeplitz.h"

#define VNET_MAC_TABLE_MAX	64	/* unicast + multicast entries kept */
#define VNET_RSS_INDIR_MAX	128	/* rss_max_indirection_table_length */
#define VNET_RSS_KEY_MAX	VNET_TOEPLITZ_KEY_MAX	/* rss_max_key_size: 40 */

/* The hash types vnet computes (spec "Supported/enabled hash types"): all. */
#define VNET_SUPPORTED_HASH_TYPES	0x1ffu

struct vnet_net_state {
	/* rx mode, spec 5.1.6.5.1 (all off after reset) */
	__u8 promisc, allmulti, alluni, nomulti, nouni, nobcast;
	/* set when the driver gave more addresses than the table keeps: the
	 * footnote of 5.1.6.5.2 allows falling back to all-uni/all-multi */
	__u8 uc_overflow, mc_overflow;
	__u8 mac[6];				/* default MAC (config space) */
	__u16 n_uc, n_mc;			/* MAC table: uc first, then mc */
	__u8 macs[VNET_MAC_TABLE_MAX][6];
	__u32 vlans[VNET_VLAN_N / 32];		/* VLAN filter bitmap */

	/* multiqueue, RSS and hash report, 5.1.6.5.5 - 5.1.6.5.7 */
	__u8 steering;				/* enum vnet_steer_mode */
	__u16 vq_pairs;				/* active pairs (>= 1) */
	__u32 hash_types;			/* enabled hash types */
	__u16 indir_mask;			/* table has mask + 1 entries */
	__u16 unclassified_queue;
	__u16 indir[VNET_RSS_INDIR_MAX];
	__u16 max_tx_vq;
	__u8 key_len;
	__u8 key[VNET_RSS_KEY_MAX];

	__u64 guest_offloads;			/* 5.1.6.5.6.1 */
	__u32 rx_max_packets, rx_usecs;		/* 5.1.6.5.8, 0 after reset */
	__u32 tx_max_packets, tx_usecs;
	__u32 version;				/* bumped by every accepted change */
};

/* What a control command may rely on: negotiated features and limits. */
struct vnet_cvq_ctx {
	__u64 features;			/* negotiated */
	__u16 max_vqp;			/* max_virtqueue_pairs */
};

/* Bits of vnet_cvq_apply()'s *changed: which part of the state moved. */
#define VNET_CHG_RX_MODE	(1u << 0)
#define VNET_CHG_MAC		(1u << 1)	/* default MAC: config change */
#define VNET_CHG_MAC_TABLE	(1u << 2)
#define VNET_CHG_VLAN		(1u << 3)
#define VNET_CHG_STEERING	(1u << 4)	/* pairs, RSS, hash parameters */
#define VNET_CHG_OFFLOADS	(1u << 5)
#define VNET_CHG_COAL		(1u << 6)
#define VNET_CHG_ANNOUNCE_ACK	(1u << 7)	/* clear S_ANNOUNCE in status */

/* The state after reset (spec: empty MAC table, multiqueue off, ...). */
void vnet_net_state_reset(struct vnet_net_state *st, const __u8 mac[6],
			  __u64 features);

/*
 * Apply one command: 'cmd' is class, command and command-specific-data as the
 * driver wrote them (all driver-readable bytes of the chain, concatenated),
 * without the ack byte. Returns VIRTIO_NET_OK (0) or VIRTIO_NET_ERR (1);
 * *changed gets VNET_CHG_* bits (0 on error).
 */
int vnet_cvq_apply(struct vnet_net_state *st, const struct vnet_cvq_ctx *ctx,
		   const void *cmd, size_t len, __u32 *changed);

/* Receive-filter and queue choice helpers over a state (the sim device and
 * tests use them; the XDP path implements the same rules). */
int vnet_net_state_vlan_ok(const struct vnet_net_state *st, __u16 vid);

#endif
