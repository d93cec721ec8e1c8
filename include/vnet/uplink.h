/* SPDX-License-Identifier: MIT */
/*
 * Uplink watch: follows the registry's uplinks (management devices other
 * than vnet/sim) through rtnetlink and reports carrier, MTU and presence
 * to the registry, which tells the devices (link_change).
 */
#ifndef VNET_UPLINK_H
#define VNET_UPLINK_H

#include "vnet/registry.h"

struct vnet_uplink_watch;

int vnet_uplink_watch_open(struct vnet_uplink_watch **wp, struct vnet_registry *reg,
			   int epfd);
/* rescan now (after the set of uplinks changed) */
void vnet_uplink_watch_refresh(struct vnet_uplink_watch *w);
void vnet_uplink_watch_close(struct vnet_uplink_watch *w);

#endif
