/* SPDX-License-Identifier: MIT */
/*
 * The unicast source MACs a trusted device transmits from besides its own
 * (a guest that changed its MAC, or bridges inside), learned so that frames
 * to them reach the device again: bounded, aged like a bridge's FDB. Used
 * for front-ends that keep the control queue (QEMU, cloud-hypervisor, DPDK
 * virtio-user), whose drivers cannot tell the device a new MAC
 * (docs/ARCHITECTURE.md, "Filter policy"). The owner serialises access.
 */
#ifndef VNET_MAC_LEARN_H
#define VNET_MAC_LEARN_H

#include <stdbool.h>
#include <linux/types.h>

#define VNET_LEARN_MAX		8			/* MACs per device */
#define VNET_LEARN_AGE_NS	(300ull * 1000000000ull)	/* a bridge's default */

struct vnet_mac_learn {
	unsigned int n;
	__u32 version;			/* moves whenever the set changes */
	__u8 mac[VNET_LEARN_MAX][6];
	__u64 seen_ns[VNET_LEARN_MAX];
	__u64 full;			/* frames from a MAC that found no room */
};

/*
 * A frame from 'mac' at 'now': 1 if it was learned now (the set changed),
 * 0 if it was known (its age restarts), -ENOSPC if the table is full,
 * -EINVAL for a group or all-zero address (never a source).
 */
int vnet_mac_learn(struct vnet_mac_learn *t, const __u8 mac[6], __u64 now);
/* Forget entries not seen for 'age_ns'; returns how many went. */
unsigned int vnet_mac_learn_age(struct vnet_mac_learn *t, __u64 now, __u64 age_ns);
/* Forget all (trust turned off). */
void vnet_mac_learn_clear(struct vnet_mac_learn *t);

#endif
