/* SPDX-License-Identifier: MIT */
/*
 * The layouts of the uplink's receive decision, shared by the XDP program
 * (bpf/vnet_xdp.bpf.c), its C reference (daemon/classify/rx_filter.c) and
 * the map API (vnet/datapath.h): map values, the metadata block in front
 * of each redirected frame, the counter layout. No code: BPF includes it.
 * docs/ARCHITECTURE.md "XDP datapath" has the why.
 *
 * Devices are slots 0..VNET_DP_MAX_DEVS-1 of one uplink; sets of devices are
 * __u64 bitmasks, so filtering a frame costs O(1) whatever the device count:
 * the MAC map gives the devices whose primary MAC or MAC table holds the
 * destination, the VLAN map the devices that admit a VID, and the rx-mode
 * masks of struct vnet_dp_filter what each device's rx mode allows.
 */
#ifndef VNET_DP_LAYOUT_H
#define VNET_DP_LAYOUT_H

#include <linux/types.h>

#include "vnet/toeplitz.h"

#define VNET_DP_MAX_DEVS	63	/* bits 0..62 of a __u64 device set */
#define VNET_DP_HOST_BIT	(1ull << 63)	/* in the MAC map: the uplink's own MAC */
#define VNET_DP_MAX_QUEUES	64	/* uplink rx queues (XSKMAP size) */
#define VNET_DP_MAX_MACS	4096	/* MAC map entries over all devices */
#define VNET_DP_MAX_HOST_IPS	64
#define VNET_RSS_TABLE_MAX	128	/* our rss_max_indirection_table_length */
#define VNET_VLAN_N		4096
#define VNET_DEV_NONE		0xffff	/* meta.dev of a flood frame */
/*
 * skb->mark of the frames the host port hands to the host (TC ingress of
 * its TAP, bpf/vnet_host_tc.bpf.c): the packet socket of the host's group
 * frames (daemon/uplink/uplink_pkt.c) must not copy them back to the devices,
 * which had theirs already. "vnhp"; the host stack sees it on those skbs.
 */
#define VNET_HOST_PORT_MARK	0x766e6870u

/* Counter slot of uplink-wide outcomes (frames of no single device). */
#define VNET_DP_UPLINK_SLOT	VNET_DP_MAX_DEVS
#define VNET_DP_COUNTER_SLOTS	(VNET_DP_MAX_DEVS + 1)

/*
 * Rx-mode masks, bit d = device slot d (spec "Packet Receive Filtering").
 * 'active' devices take part at all; 'vlan_filter' devices negotiated
 * VIRTIO_NET_F_CTRL_VLAN, so their VLAN set applies (spec "VLAN Filtering").
 */
struct vnet_dp_filter {
	__u64 active;
	__u64 promisc;
	__u64 allmulti;
	__u64 alluni;
	__u64 nomulti;
	__u64 nouni;
	__u64 nobcast;
	__u64 vlan_filter;
};

_Static_assert(sizeof(struct vnet_dp_filter) == 64, "BPF map value layout");

/*
 * What the program reads first for every frame, in one map value: the
 * rx-mode masks and each device's live steer slot (0 or 1). Reading both
 * from one lookup also means the slot index is read exactly once.
 */
struct vnet_dp_config {
	struct vnet_dp_filter filter;
	__u8 slot[64];		/* [dev]: live steer slot, only bit 0 counts */
	__u32 flags;		/* VNET_DP_CFG_* */
	__u32 pad;
	__u64 kgro;		/* devices whose TCP the kernel coalesces (KGRO) */
};

_Static_assert(sizeof(struct vnet_dp_config) == 144, "BPF map value layout");

#define VNET_DP_CFG_MAC_CACHE	(1u << 0)	/* mac_cache is maintained: use it */
/*
 * The host shares the uplink (vnetd's default: the uplink is the host's
 * netdev). XDP cannot clone a frame, so a broadcast/multicast frame
 * redirected to AF_XDP would never reach the host stack (its IPv6 neighbour
 * discovery, DHCP, mDNS...). With this flag every group frame gets XDP_PASS
 * instead, like a Linux bridge flooding to its host port; vnetd takes its
 * copy from a packet socket on the uplink (daemon/uplink/uplink_pkt.c) and
 * delivers it to the devices the C reference picks. Clear (a dedicated
 * uplink): group frames devices want are redirected as before.
 */
#define VNET_DP_CFG_HOST_SHARED	(1u << 1)
/*
 * Receive coalescing by the kernel (daemon/uplink/uplink_kgro.c): an
 * untagged TCP frame for exactly one device whose bit is set in
 * config.kgro (its guest takes GSO frames: GUEST_CSUM, GUEST_TSO4/6,
 * MRG_RXBUF) goes on with XDP_PASS and its metadata (VNET_META_F_KGRO),
 * so the uplink's NAPI GRO merges it; vnetd reads the merged frame with
 * its virtio-net header from a packet socket and a TC ingress program
 * drops it before the host's stack (it carries the metadata).
 */
#define VNET_DP_CFG_KGRO	(1u << 2)

/*
 * MAC cache: an array-indexed, 4-way set-associative copy of the MAC map,
 * because a hash-map lookup (jhash, bucket walk, memcmp, three calls) is
 * the largest single cost of the program. The hash map 'mac_devs' stays
 * authoritative; the cache answers only when it can prove its answer is
 * consistent, else the program asks the hash map.
 *
 * Way key word: bits 0..47 the MAC (byte 0 in bits 0..7), VALID, BUSY
 * (being rewritten: ask the hash map), OVERFLOW (way 0 only: some MAC of
 * this set did not fit and lives in the hash map alone), and a sequence
 * number bumped by every rewrite. Userspace writes through mmap: key :=
 * BUSY|seq+1, devs := new, key := MAC|VALID|seq+2, each store ordered; the
 * program reads key, devs, key and believes devs only if both key reads
 * agree. That needs stores and loads that stay in program order (x86 TSO);
 * elsewhere userspace leaves the cache off (VNET_DP_CFG_MAC_CACHE clear).
 */
#define VNET_DP_MAC_SETS	4096
#define VNET_DP_MAC_WAYS	4
#define VNET_DP_MACC_ADDR	((1ull << 48) - 1)
#define VNET_DP_MACC_VALID	(1ull << 48)
#define VNET_DP_MACC_BUSY	(1ull << 49)
#define VNET_DP_MACC_OVERFLOW	(1ull << 50)
#define VNET_DP_MACC_SEQ_SHIFT	51
#define VNET_DP_MACC_SEQ_ONE	(1ull << VNET_DP_MACC_SEQ_SHIFT)

struct vnet_dp_mac_way {
	__u64 key;
	__u64 devs;
};

struct vnet_dp_mac_set {
	struct vnet_dp_mac_way way[VNET_DP_MAC_WAYS];
};

_Static_assert(sizeof(struct vnet_dp_mac_set) == 64, "one cache line per set");

/* The set of a MAC given as 48 bits, byte 0 lowest (multiplicative hash). */
static inline __u32 vnet_dp_mac_set_of(__u64 mac48)
{
	return (__u32)((mac48 * 0x9e3779b97f4a7c15ull) >> 52) & (VNET_DP_MAC_SETS - 1);
}

/* MAC map key: the 6 address bytes, zero padded (hash of 8 bytes). */
struct vnet_dp_mac_key {
	__u8 mac[6];
	__u8 pad[2];
};

_Static_assert(sizeof(struct vnet_dp_mac_key) == 8, "BPF map key layout");

/* How a device picks the receive queue (spec "Device operation in multiqueue mode"). */
enum vnet_steer_mode {
	VNET_STEER_SINGLE = 0,	/* receiveq1 only (reset state) */
	VNET_STEER_AUTO = 1,	/* MQ VQ_PAIRS_SET: flow hash over the active pairs */
	VNET_STEER_RSS = 2,	/* RSS_CONFIG: indirection table */
};

/* struct vnet_dp_steer.flags */
#define VNET_STEER_F_INTERNAL_HASH	(1u << 0)	/* hash only steers, not reported */

/*
 * Everything that picks the queue and the reported hash of one device. It
 * lives in one of two slots per device (map 'steer', key dev * 2 + slot,
 * beside its Toeplitz table); vnet_dp_config.slot[dev] says which slot is
 * live. An update writes the spare slot, flips that one byte and waits an
 * RCU grace period before the old slot may be written again,
 * so a packet sees the old or the new configuration, never a mix.
 */
struct vnet_dp_steer {
	__u32 mode;		/* enum vnet_steer_mode */
	__u32 hash_types;	/* VNET_HASH_TYPE_* the hash is computed for */
	__u32 flags;		/* VNET_STEER_F_* */
	__u16 vq_pairs;		/* active queue pairs (AUTO) */
	__u16 table_mask;	/* indirection_table_mask (RSS) */
	__u16 unclassified_queue;
	__u8 key_len;
	__u8 pad;
	__u8 key[VNET_TOEPLITZ_KEY_MAX];	/* for the bit-loop build only */
	__u16 table[VNET_RSS_TABLE_MAX];
};

_Static_assert(sizeof(struct vnet_dp_steer) == 316, "BPF map value layout");

/* One value of map 'steer': the configuration and its Toeplitz table, one lookup. */
struct vnet_dp_steer_slot {
	struct vnet_toeplitz_table tbl;
	struct vnet_dp_steer steer;
};


/* struct vnet_xdp_meta.flags */
#define VNET_META_F_FLOOD	(1u << 0)	/* several devices: replicate in userspace */
#define VNET_META_F_MALFORMED	(1u << 1)	/* a header was cut/invalid (classify.h) */
#define VNET_META_F_TAGGED	(1u << 2)	/* frame carries VLAN tag(s), not stripped */
#define VNET_META_F_KGRO	(1u << 3)	/* passed for the kernel's GRO (VNET_DP_CFG_KGRO) */

#define VNET_META_MAGIC		0x564e4554u	/* "VNET" */

/*
 * Written with bpf_xdp_adjust_meta() right in front of every redirected
 * frame; AF_XDP copies it into the UMEM before the frame (rx desc addr -
 * sizeof(struct vnet_xdp_meta)). Host byte order. A flood frame has
 * dev == VNET_DEV_NONE, queue 0, no hash: the receiver runs the C reference
 * (rx_filter.h) for each device in turn.
 */
struct vnet_xdp_meta {
	__u32 hash;		/* hash value, 0 when report is NONE */
	__u16 dev;		/* device slot or VNET_DEV_NONE */
	__u16 queue;		/* 0-based receive queue (receiveq1 = 0) */
	__u8 report;		/* enum vnet_hash_report */
	__u8 flags;		/* VNET_META_F_* */
	__u16 vlan_id;		/* outer VID when TAGGED */
	__u32 magic;		/* VNET_META_MAGIC */
};

_Static_assert(sizeof(struct vnet_xdp_meta) == 16, "metadata is 16 bytes");

/* Per-CPU counters, map 'counters', key = device slot or VNET_DP_UPLINK_SLOT. */
enum vnet_dp_counter {
	VNET_CNT_DELIVERED = 0,	/* redirected to the socket (device slot) */
	VNET_CNT_FLOOD,		/* redirected with FLOOD (uplink slot) */
	VNET_CNT_FILTER_MAC,	/* no device's MAC/mode wanted it: XDP_PASS (uplink) */
	VNET_CNT_FILTER_RXMODE,	/* NOUNI/NOMULTI/NOBCAST dropped it (device) */
	VNET_CNT_FILTER_VLAN,	/* VID not in the device's set (device) */
	VNET_CNT_NO_SOCKET,	/* wanted, but no socket on the rx queue: XDP_PASS */
	VNET_CNT_MALFORMED,	/* L2 cut (uplink) or a cut/invalid header (device) */
	VNET_CNT_HOST,		/* host MAC, or ARP for a host address: XDP_PASS (uplink) */
	VNET_CNT_GROUP_HOST,	/* HOST_SHARED: group frame to the host, vnetd copies (uplink) */
	VNET_CNT_KGRO,		/* TCP passed for the kernel's GRO (device, VNET_DP_CFG_KGRO) */
	VNET_CNT_HASH_BASE,	/* + report type: hashed frames per report */
	VNET_CNT_MAX = VNET_CNT_HASH_BASE + 10,
};

struct vnet_dp_counters {
	__u64 c[VNET_CNT_MAX];
};

#endif
