/* SPDX-License-Identifier: MIT */
/*
 * The XDP program's MAC cache, the userspace side (daemon/uplink/datapath.c
 * keeps one): a 4096-set x 4-way array mirroring the MAC map, because a
 * hash-map lookup is the largest single cost of the program. The hash map
 * stays authoritative: put a MAC after the hash map has it, delete it
 * before the hash map loses it. Layout and protocol: vnet/dp_layout.h.
 */
#ifndef VNET_DP_MAC_CACHE_H
#define VNET_DP_MAC_CACHE_H

#include <stdbool.h>
#include <linux/types.h>

#include "vnet/dp_layout.h"

struct dp_mac_cache {
	struct vnet_dp_mac_set *sets;		/* mmap of mac_cache, NULL: off */
	__u16 overflow[VNET_DP_MAC_SETS];	/* MACs of a set in mac_devs alone */
};

/*
 * Map the cache (the map's fd). The protocol relies on the program seeing
 * our stores in order and making its own loads in order: true on x86
 * (TSO). Elsewhere the cache stays off (sets NULL) and every lookup goes
 * to the hash map. 0 or -errno.
 */
int dp_mac_cache_init(struct dp_mac_cache *c, int map_fd);
void dp_mac_cache_fini(struct dp_mac_cache *c);

static inline bool dp_mac_cache_on(const struct dp_mac_cache *c)
{
	return c->sets != NULL;
}

/* After mac_devs holds the MAC ('had': it held it before too). */
void dp_mac_cache_put(struct dp_mac_cache *c, const __u8 mac[6], __u64 devs, int had);
/* Before mac_devs loses the MAC ('had': it holds it). */
void dp_mac_cache_del(struct dp_mac_cache *c, const __u8 mac[6], int had);

#endif
