/* SPDX-License-Identifier: MIT */
/* What the device model's files share (device.c, vring.c, dev_mem.c). */
#ifndef VNET_DEVICE_INT_H
#define VNET_DEVICE_INT_H

#include "vnet/device.h"

/* The worker's rings_changed hook: re-read vrings[] and mem. */
void vnet_rings_changed(struct vnet_netdev *dev);
/* Recompute vrings[index].ready, bump its gen, tell the worker. */
void vnet_vring_update(struct vnet_netdev *dev, unsigned int index);
/* Every ring: the worker rebuilds its queues before it runs again (new
 * memory, logging on or off). */
void vnet_vrings_rebuild(struct vnet_netdev *dev);
/* Back to the state after power-on: fds closed, counters kept, gen moved. */
void vnet_vring_forget(struct vnet_vring *vr);

#endif
