/* SPDX-License-Identifier: MIT */
/*
 * The XDP datapath's insides, shared by datapath.c (open/close, devices,
 * control-queue commands) and dp_uplink.c (what belongs to the uplink: its
 * sockets, the host's addresses, the config flags, counters). The API is
 * include/vnet/datapath.h.
 */
#ifndef VNET_DATAPATH_INT_H
#define VNET_DATAPATH_INT_H

#include <errno.h>
#include <stdbool.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "vnet/datapath.h"
#include "vnet/rx_filter.h"
#include "vnet/xdp_attach.h"
#include "dp_mac_cache.h"
#include "vnet_xdp.skel.h"

/*
 * What the command API (set_rss, set_hash_config, set_queue_pairs) was
 * told, so that the last command decides the mode; the live vnet_dp_steer
 * is derived from it (vnet_rx_steer_derive, the receive decision's own).
 */
struct dev_ctl {
	enum vnet_steer_mode mode;
	__u16 vq_pairs;
	struct vnet_rss_config rss;
	__u32 hash_types;		/* HASH_CONFIG */
	__u8 hash_key_len;
	__u8 hash_key[VNET_TOEPLITZ_KEY_MAX];
};

struct vnet_dp {
	struct vnet_xdp *skel;		/* the program and its maps */
	bool bitloop;			/* the skeleton's rodata knob */
	bool frags;			/* loaded with BPF_F_XDP_HAS_FRAGS */
	struct vnet_xdp_link link;	/* the object, and where it is attached */
	int ifindex;
	int rcu_outer, rcu_inner;	/* map-in-map: a grace period on demand */
	int ncpus;
	__u8 slot[VNET_DP_MAX_DEVS];
	struct dev_ctl ctl[VNET_DP_MAX_DEVS];
	struct vnet_rx_state *st;
	struct vnet_dp_steer_slot *scratch;
	struct dp_mac_cache cache;
	struct vnet_dp_counters *percpu;	/* ncpus values, zeroed on dev add */
};

/* A map of the program, from its skeleton. */
#define MAP_FD(dp, name)	bpf_map__fd((dp)->skel->maps.name)

static inline int dp_map_update(int fd, const void *key, const void *val)
{
	return bpf_map_update_elem(fd, key, val, BPF_ANY) ? -errno : 0;
}

/* datapath.c: the config value (rx-mode masks, live slots, flags) from the shadow */
int dp_push_config(struct vnet_dp *dp);


#endif
