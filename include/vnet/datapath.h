/* SPDX-License-Identifier: MIT */
/*
 * The XDP uplink datapath's userspace API (daemon/uplink/datapath.c): load
 * and attach the program, and every map update the device model's state
 * becomes. The layouts it shares with the program are in vnet/dp_layout.h.
 */
#ifndef VNET_DATAPATH_H
#define VNET_DATAPATH_H

#include "vnet/dp_layout.h"
#include "vnet/rx_filter.h"

#include <stdbool.h>
#include <stddef.h>

struct vnet_dp;

enum vnet_dp_attach_mode {
	VNET_DP_ATTACH_NONE = 0,	/* load only (BPF_PROG_TEST_RUN) */
	VNET_DP_ATTACH_NATIVE,		/* native, falling back to generic */
	VNET_DP_ATTACH_SKB,		/* generic only */
};

struct vnet_dp_opts {
	int ifindex;			/* uplink; 0 with VNET_DP_ATTACH_NONE */
	enum vnet_dp_attach_mode mode;
	int bitloop;			/* the bit-serial Toeplitz loop, not the table
				 * (bench; the program's rodata knob) */
	unsigned int fault;		/* tests: VNET_XDP_FAULT_* (xdp_attach.h) */
	bool frags;			/* multi-buffer frames (BPF_F_XDP_HAS_FRAGS):
					 * jumbo frames to XDP_USE_SG sockets */
};

/* RSS_CONFIG in host order (the device model validates against the spec). */
struct vnet_rss_config {
	__u32 hash_types;
	__u16 table_len;		/* indirection_table_mask + 1, power of 2 */
	__u16 unclassified_queue;
	__u16 table[VNET_RSS_TABLE_MAX];
	__u8 key_len;
	__u8 key[VNET_TOEPLITZ_KEY_MAX];
};

int vnet_dp_open(const struct vnet_dp_opts *opts, struct vnet_dp **dpp);
void vnet_dp_close(struct vnet_dp *dp);	/* detaches, frees */
/* "native", "skb" or "none"; whether libxdp used its dispatcher; how it
 * was attached: "dispatcher", "single" (libxdp, no dispatcher), "direct"
 * (libbpf, after libxdp refused: xdp_attach.h) */
const char *vnet_dp_attach_mode_name(const struct vnet_dp *dp);
int vnet_dp_uses_dispatcher(const struct vnet_dp *dp);
const char *vnet_dp_attach_kind_name(const struct vnet_dp *dp);
/* The netdev still runs what we attached (false: it went away, or the
 * program was detached or replaced behind our back). */
bool vnet_dp_is_attached(const struct vnet_dp *dp);
int vnet_dp_prog_fd(const struct vnet_dp *dp);
/* The MAC map, for the host port's TC program (host_port.h) to share. */
int vnet_dp_mac_devs_fd(const struct vnet_dp *dp);

/* Device lifecycle: reset state (spec: empty MAC table, receiveq1 only). */
int vnet_dp_dev_add(struct vnet_dp *dp, unsigned int dev, const __u8 mac[6],
		    __u16 max_vq_pairs);
int vnet_dp_dev_del(struct vnet_dp *dp, unsigned int dev);
/*
 * After a failed update (the calls below return the map's error, with the
 * shadow already holding what was asked): rewrite the config value, every
 * MAC entry the map holds or the shadow wants, every VLAN entry, so the
 * maps say what the shadow says. 0 once they do.
 */
int vnet_dp_resync(struct vnet_dp *dp);

/* The control-queue commands, after the device model validated them. */
int vnet_dp_set_rx_mode(struct vnet_dp *dp, unsigned int dev,
			enum vnet_rx_mode_cmd cmd, int on);
int vnet_dp_set_mac(struct vnet_dp *dp, unsigned int dev, const __u8 mac[6]);
int vnet_dp_set_mac_table(struct vnet_dp *dp, unsigned int dev,
			  const __u8 (*uc)[6], unsigned int n_uc,
			  const __u8 (*mc)[6], unsigned int n_mc);
int vnet_dp_set_vlan_filter(struct vnet_dp *dp, unsigned int dev, int on);
int vnet_dp_vlan_add(struct vnet_dp *dp, unsigned int dev, __u16 vid);
int vnet_dp_vlan_del(struct vnet_dp *dp, unsigned int dev, __u16 vid);
int vnet_dp_set_rss(struct vnet_dp *dp, unsigned int dev,
		    const struct vnet_rss_config *rss);
int vnet_dp_set_hash_config(struct vnet_dp *dp, unsigned int dev,
			    __u32 hash_types, const __u8 *key, size_t key_len);
int vnet_dp_set_queue_pairs(struct vnet_dp *dp, unsigned int dev, __u16 pairs);
/* All of the steering at once (one grace period): what the device model's
 * state asks for (rx_conf.h), pushed by the uplink worker. */
int vnet_dp_set_steering(struct vnet_dp *dp, unsigned int dev,
			 const struct vnet_rx_steer_req *r);

/* Uplink side. */
int vnet_dp_set_xsk(struct vnet_dp *dp, unsigned int rx_queue, int xsk_fd);
int vnet_dp_clear_xsk(struct vnet_dp *dp, unsigned int rx_queue);
int vnet_dp_set_host_mac(struct vnet_dp *dp, const __u8 mac[6], int on);
int vnet_dp_add_host_ipv4(struct vnet_dp *dp, __u32 addr_be);
int vnet_dp_del_host_ipv4(struct vnet_dp *dp, __u32 addr_be);
/* VNET_DP_CFG_HOST_SHARED on or off (off after vnet_dp_open). */
int vnet_dp_set_host_shared(struct vnet_dp *dp, int on);
/* VNET_DP_CFG_KGRO on or off (off after vnet_dp_open); a device's bit in
 * config.kgro (dp_layout.h: its guest takes GSO frames) */
int vnet_dp_set_kgro(struct vnet_dp *dp, int on);
int vnet_dp_set_dev_kgro(struct vnet_dp *dp, unsigned int dev, int on);

/* Counters summed over CPUs; slot = device or VNET_DP_UPLINK_SLOT. */
int vnet_dp_read_counters(struct vnet_dp *dp, unsigned int slot,
			  struct vnet_dp_counters *out);
const char *vnet_dp_counter_name(unsigned int counter);

/* The live configuration, for the C reference (rx_filter.h). */
const struct vnet_rx_state *vnet_dp_state(const struct vnet_dp *dp);

#endif
