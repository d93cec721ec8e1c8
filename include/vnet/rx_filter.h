/* SPDX-License-Identifier: MIT */
/*
 * The C reference of the uplink receive decision: which devices want a frame
 * (spec "Packet Receive Filtering", "Setting MAC Address Filtering", "VLAN
 * Filtering") and, for one device, its receive queue, hash value and hash
 * report (spec "RSS processing", "Automatic receive steering in multiqueue
 * mode", "Hash calculation for incoming packets"). bpf/vnet_xdp.bpf.c must
 * give the same answers; tests/bpf/test_xdp_*.c run both. The device-to-
 * device path and the engine's flood replication use it directly.
 *
 * The rules, in order (docs/ARCHITECTURE.md "XDP datapath" has the why):
 *  1. L2 cut short (classify.h): PASS, uplink MALFORMED.
 *  1a. VNET_DP_CFG_HOST_SHARED set and the destination is a group address
 *     (broadcast or multicast, byte 0 bit 0): PASS, uplink GROUP_HOST. The
 *     host gets the frame; vnetd's copy is decided by vnet_rx_classify_copy.
 *  2. ARP (Ethernet/IPv4) for one of the host's IPv4 addresses: PASS, HOST.
 *  3. Unicast to a host MAC (the uplink's own): PASS, HOST.
 *  4. Candidates: broadcast -> every active device; multicast -> devices
 *     with the MAC in their multicast table, ALLMULTI or PROMISC; unicast ->
 *     devices with the MAC as primary or in their unicast table, ALLUNI or
 *     PROMISC. NOBCAST/NOMULTI/NOUNI then drop, unless PROMISC.
 *  5. A tagged frame is dropped by devices with CTRL_VLAN whose VLAN set
 *     lacks the outer VID; untagged frames always pass the VLAN filter.
 *  6. Nobody left: PASS (FILTER_MAC when no device was a candidate). One
 *     device: DELIVER with its queue/hash. Several: FLOOD, one copy.
 */
#ifndef VNET_RX_FILTER_H
#define VNET_RX_FILTER_H

#include <linux/types.h>
#include <stddef.h>

#include "vnet/classify.h"
#include "vnet/dp_layout.h"

#define VNET_RX_MAC_TABLE_MAX	64	/* entries per table per device */
#define VNET_RX_HOST_MACS_MAX	8

struct vnet_rx_dev {
	__u8 mac[6];
	__u16 max_vq_pairs;
	__u32 n_uc, n_mc;
	__u8 uc[VNET_RX_MAC_TABLE_MAX][6];
	__u8 mc[VNET_RX_MAC_TABLE_MAX][6];
	__u64 vlans[VNET_VLAN_N / 64];		/* the 4096-bit VLAN set */
	struct vnet_dp_steer steer;		/* live steering configuration */
	struct vnet_toeplitz_table tbl;		/* steer.key expanded */
};

struct vnet_rx_state {
	struct vnet_dp_filter filter;
	__u32 cfg_flags;			/* VNET_DP_CFG_* the program sees */
	__u32 n_host_macs, n_host_ipv4;
	/*
	 * Bit d: dev[d] is in use. A bit mask, not a flag in each device:
	 * a struct vnet_rx_dev is ~38 KiB (its Toeplitz table), so walking
	 * 63 flags would cost 63 cache misses per frame.
	 */
	__u64 present_mask;
	__u8 host_macs[VNET_RX_HOST_MACS_MAX][6];
	__u32 host_ipv4[VNET_DP_MAX_HOST_IPS];	/* network order */
	struct vnet_rx_dev dev[VNET_DP_MAX_DEVS];
};

enum vnet_rx_verdict {
	VNET_RX_PASS = 0,	/* not for any device: to the host */
	VNET_RX_DELIVER,	/* one device: meta.dev, meta.queue, hash */
	VNET_RX_FLOOD,		/* several devices: meta.flags has FLOOD */
};

struct vnet_rx_result {
	int verdict;		/* enum vnet_rx_verdict */
	int pass_reason;	/* PASS: VNET_CNT_* of the uplink slot, or -1 */
	__u64 want;		/* devices that accept the frame */
	__u64 mode_drop;	/* devices whose rx mode dropped it */
	__u64 vlan_drop;	/* devices whose VLAN set dropped it */
	struct vnet_xdp_meta meta;	/* what XDP stamps (not for PASS) */
};

static inline int vnet_rx_dev_present(const struct vnet_rx_state *s, unsigned int d)
{
	return d < VNET_DP_MAX_DEVS && (s->present_mask >> d & 1);
}

/* Devices (and VNET_DP_HOST_BIT) that own a MAC: primary or table. */
__u64 vnet_rx_mac_devs(const struct vnet_rx_state *s, const __u8 mac[6]);
/* Devices whose VLAN set holds vid. */
__u64 vnet_rx_vlan_devs(const struct vnet_rx_state *s, __u16 vid);

/* The whole decision for one frame. 0, or -EINVAL for a NULL argument. */
int vnet_rx_classify(const struct vnet_rx_state *s, const void *frame,
		     size_t len, struct vnet_rx_result *r);

/*
 * The devices that want a copy of a frame the host receives too (HOST_SHARED:
 * a group frame vnetd read from its packet socket; or a frame a device sent,
 * in that mode): the same decision without rules 1a and 2 -- the host has
 * its own copy, so an ARP request for a host address also reaches devices
 * that take broadcasts, as on a bridge. Never PASS for rule 1a's reason.
 */
int vnet_rx_classify_copy(const struct vnet_rx_state *s, const void *frame,
			  size_t len, struct vnet_rx_result *r);

/*
 * Queue, hash and report of device 'dev' for a frame (flood replication and
 * device to device). -ENODEV for an absent device, -EINVAL if L2 is cut.
 */
int vnet_rx_steer(const struct vnet_rx_state *s, unsigned int dev,
		  const void *frame, size_t len, struct vnet_xdp_meta *m);

/* The same from a parsed frame. */
void vnet_rx_steer_parsed(const struct vnet_rx_dev *d,
			  const struct vnet_parsed *p, struct vnet_xdp_meta *m);

#endif
