/* SPDX-License-Identifier: MIT */
/*
 * The C reference of the uplink receive decision: which devices want a frame
 * (spec "Packet Receive Filtering", "Setting MAC Address Filtering", "VLAN
 * Filtering") and, for one device, its receive queue, hash value and hash
 * report (spec "RSS processing", "Automatic receive steering in multiqueue
 * mode", "Hash calculation for incoming packets"). It is the one receive
 * decision of vnet: bpf/vnet_xdp.bpf.c must give the same answers
 * (tests/bpf/test_xdp_*.c run both), the uplink engine's flood
 * replication, device-to-device delivery and the host's frames use it
 * (vnet_rx_fanout), and so does vnet/sim's loopback for its one device
 * (vnet_rx_dev_decide). What a device's control-queue state makes of it
 * is derived once too, in the device layer (include/vnet/rx_conf.h).
 * tests/unit/test_rx_agree.c and tests/bpf/test_xdp_agree.c feed the same
 * frames through every path.
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
 * Rules 4 and 5 are each device's own (vnet_rx_dev_filter); steering is
 * too (vnet_rx_steer_parsed): RSS (table[hash & mask], unclassified_queue
 * without a hash), AUTO (hash * pairs >> 32: a flow keeps its queue),
 * SINGLE (queue 0; the hash still computed for HASH_CONFIG's report).
 */
#ifndef VNET_RX_FILTER_H
#define VNET_RX_FILTER_H

#include <linux/types.h>
#include <stddef.h>

#include "vnet/classify.h"
#include "vnet/dp_layout.h"

#define VNET_RX_MAC_TABLE_MAX	64	/* entries per table per device */
#define VNET_RX_HOST_MACS_MAX	8

/* rx-mode commands: VIRTIO_NET_CTRL_RX_* values */
enum vnet_rx_mode_cmd {
	VNET_RX_PROMISC = 0,
	VNET_RX_ALLMULTI,
	VNET_RX_ALLUNI,
	VNET_RX_NOMULTI,
	VNET_RX_NOUNI,
	VNET_RX_NOBCAST,
	VNET_RX_MODE_MAX = VNET_RX_NOBCAST,
};

/*
 * The key of automatic steering when the driver configured none (no
 * HASH_CONFIG): the Microsoft RSS verification key; any fixed key works.
 */
extern const __u8 vnet_rx_auto_key[VNET_TOEPLITZ_KEY_MAX];

/*
 * What a driver asked for one device's queue choice and hash (spec
 * "Device operation in multiqueue mode": the last MQ command decides the
 * mode). RSS: its hash types, key and table; otherwise the pairs in use
 * and HASH_CONFIG's types and key (reported; 0: no hash report).
 */
struct vnet_rx_steer_req {
	__u8 mode;			/* enum vnet_steer_mode */
	__u8 key_len;
	__u16 vq_pairs;			/* >= 1 */
	__u32 hash_types;
	__u16 table_len;		/* RSS: a power of two <= VNET_RSS_TABLE_MAX */
	__u16 unclassified_queue;	/* RSS */
	__u16 table[VNET_RSS_TABLE_MAX];
	__u8 key[VNET_TOEPLITZ_KEY_MAX];
};

/*
 * The live steering of a request: the request itself, except that AUTO
 * without a configured hash steers by our own flow hash (every type,
 * vnet_rx_auto_key), which is never reported.
 */
void vnet_rx_steer_derive(const struct vnet_rx_steer_req *r, struct vnet_dp_steer *st);

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
	__u64 kgro;				/* devices of VNET_DP_CFG_KGRO */
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

/* One device's part of rules 4 and 5 (vnet_rx_dev_filter). */
enum vnet_rx_dev_verdict {
	VNET_RX_DEV_NONE = 0,	/* not a candidate: neither its MACs nor a mode */
	VNET_RX_DEV_MODE_DROP,	/* a candidate its NOBCAST/NOMULTI/NOUNI drops */
	VNET_RX_DEV_VLAN_DROP,	/* its VLAN filter lacks the outer VID */
	VNET_RX_DEV_TAKE,
};

/*
 * Does device slot d (its bits in f, its tables in dev) take a parsed
 * frame? The per-device rules of the whole decision, nothing else.
 */
enum vnet_rx_dev_verdict vnet_rx_dev_filter(const struct vnet_dp_filter *f, unsigned int d,
					    const struct vnet_rx_dev *dev,
					    const struct vnet_parsed *p);

/*
 * One device's whole decision for a frame, as the uplink would take it for
 * that device alone (vnet/sim's loopback): 0 and its metadata (queue,
 * hash, report, flags) in *m; -ENOENT when its filter drops the frame;
 * -EINVAL when the L2 header is cut (nobody can filter it).
 */
int vnet_rx_dev_decide(const struct vnet_dp_filter *f, unsigned int d,
		       const struct vnet_rx_dev *dev, const void *frame, size_t len,
		       struct vnet_xdp_meta *m);

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

/*
 * Every device that takes a frame, each with its metadata: the uplink's
 * flood replication, device-to-device delivery and the host's frames
 * (copy: vnet_rx_classify_copy's rules, else vnet_rx_classify's). Devices
 * in 'exclude' (the sender) get nothing. Returns how many entries of out[]
 * it filled, in device order; -EINVAL when the L2 header is cut.
 */
int vnet_rx_fanout(const struct vnet_rx_state *s, const void *frame, size_t len,
		   __u64 exclude, int copy, struct vnet_xdp_meta out[VNET_DP_MAX_DEVS]);

#endif
