/* SPDX-License-Identifier: MIT */
/*
 * The kernel's vdpa bus, as the VDUSE transport uses it
 * (daemon/transport/kvdpa.c, called from vduse_bus.c):
 *
 *  - the kernel's own "vdpa" generic netlink family (linux/vdpa.h, the one
 *    iproute2's vdpa talks to): VDPA_CMD_DEV_NEW puts a VDUSE device on the
 *    bus (mgmtdev "vduse", the device's name), VDPA_CMD_DEV_DEL takes it
 *    off; errors come back with the kernel's extended-ack text;
 *  - sysfs: which driver has the device (/sys/bus/vdpa/devices/NAME/driver),
 *    driver_override + unbind/bind to give it to virtio_vdpa, vhost_vdpa
 *    or none, the netdev virtio_vdpa made and the /dev/vhost-vdpa-N of
 *    vhost_vdpa;
 *  - rtnetlink: moving that netdev into a network namespace (/run/netns/NS,
 *    as `ip netns` names them).
 *
 * Each call blocks until the kernel is done, and the kernel's driver probe
 * or removal waits for the VDUSE device's answers (transport/vduse.c
 * answers on a thread of its own). Errors: -errno and a message in 'err'
 * (the kernel's text where it gave one).
 */
#ifndef VNET_KVDPA_H
#define VNET_KVDPA_H

#include <stdbool.h>
#include <stddef.h>

#include "vnet/transport.h"	/* enum vnet_bind */

#define VNET_KVDPA_SYSFS	"/sys/bus/vdpa"
#define VNET_NETNS_DIR		"/run/netns"
#define VNET_KVDPA_ERR_MAX	256

/* VDPA_CMD_DEV_NEW name mgmtdev MGMTDEV (no bus: "vduse") */
int vnet_kvdpa_dev_add(const char *name, const char *mgmtdev, char *err, size_t errlen);
/* VDPA_CMD_DEV_DEL name */
int vnet_kvdpa_dev_del(const char *name, char *err, size_t errlen);
/* The device is on the kernel's vdpa bus (sysfs). */
bool vnet_kvdpa_dev_exists(const char *name);

/* The kernel driver for each enum vnet_bind value (NULL: none). */
const char *vnet_kvdpa_driver_name(enum vnet_bind bind);
/*
 * Give the device to that driver: driver_override, unbind from the one it
 * has, bind (a device on the bus is probed by whichever vdpa driver loaded
 * first). VNET_BIND_NONE leaves it without a driver, now and on a reprobe.
 */
int vnet_kvdpa_bind(const char *name, enum vnet_bind bind, char *err, size_t errlen);

/* virtio_vdpa's netdev of the device (waits a little for it to appear). */
int vnet_kvdpa_netdev(const char *name, char *ifname, size_t len);
/* vhost_vdpa's character device of the device: "/dev/vhost-vdpa-N". */
int vnet_kvdpa_vhost_dev(const char *name, char *path, size_t len);

/* A name `ip netns` could have made: 0, or -EINVAL with a message. */
int vnet_netns_name_valid(const char *ns, const char **why);
/* Move netdev 'ifname' (in our namespace) into namespace 'ns'. */
int vnet_netdev_to_netns(const char *ifname, const char *ns, char *err, size_t errlen);

#endif
