/* SPDX-License-Identifier: MIT */
/*
 * The authoritative MAC map: destination MAC -> the devices owning it (and
 * VNET_DP_HOST_BIT for the uplink's own). Written by daemon/uplink/datapath.c; the
 * XDP program asks it when its cache cannot answer, the host port's TC
 * program (vnet_host_tc.bpf.c) shares the same map by fd.
 */
#ifndef VNET_BPF_MAC_MAP_H
#define VNET_BPF_MAC_MAP_H

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

#include "vnet/dp_layout.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VNET_DP_MAX_MACS);
	__type(key, __u64);			/* struct vnet_dp_mac_key */
	__type(value, __u64);			/* device set (+ VNET_DP_HOST_BIT) */
} mac_devs SEC(".maps");

#endif
