/* SPDX-License-Identifier: MIT */
/*
 * How a driver reaches a device: the transport interface, in the spirit of
 * Linux's struct vdpa_config_ops, QEMU's VhostOps and DPDK's
 * vhost_backend_ops. The control plane (daemon/control/backend_netdev.c,
 * tools/vnet-sim.c) makes, serves and ends a device's transport through
 * struct vnet_transport_ops only; the device model and its worker reach the
 * driver through the two calls the transport binds to the device
 * (vnet_netdev_notify, vnet_netdev_config_changed, include/vnet/device.h).
 *
 * What a transport does to the device, it does through the device model:
 * features and status (vnet_netdev_set_driver_features/_set_status/_reset),
 * ring state (vnet_netdev_vring_*) and guest memory (vnet_netdev_mem_*).
 * It never writes struct vnet_vring or dev->mem itself, and the worker
 * never writes an eventfd of the driver's.
 *
 * Adding a transport is one file and one table entry: daemon/transport/
 * NAME.c fills a struct vnet_transport_ops, and transport.c's table maps
 * its enum vnet_transport_id value to it.
 *
 *   vhost-user (vhost_user.c): one UNIX socket per device; fd = an epoll fd
 *     over the listening/connected socket and the reconnect timer; ring
 *     state and memory come as messages; notify writes the ring's call
 *     eventfd; config_changed sends BACKEND_CONFIG_CHANGE_MSG.
 *   VDUSE (vduse.c, vduse_iotlb.c, vduse_probe.c, kvdpa.c): the device on
 *     the kernel's vdpa bus. features() narrows the offered features to
 *     what the running kernel's VDUSE accepts (it refuses the control
 *     queue on 6.12); create() makes the VDUSE device (/dev/vduse/control:
 *     features, queue count, config space from the device model), adds it
 *     to the kernel's vdpa bus (the kernel's own vdpa netlink, mgmtdev
 *     "vduse"), binds the driver params.bind names and moves virtio_vdpa's
 *     netdev into params.netns; destroy() undoes that in reverse. fd() is
 *     -1: a thread per device answers the /dev/vduse/NAME requests
 *     (GET_VQ_STATE, SET_STATUS, UPDATE_IOTLB) at once, since the kernel
 *     sends them from inside the control thread's own netlink and sysfs
 *     calls; on DRIVER_OK, VDUSE_VQ_GET_INFO of every ring goes through
 *     vnet_netdev_vring_set_num/_addr (IOVAs)/_base, a kick eventfd of its
 *     own through vnet_netdev_vring_set_fd (VDUSE_VQ_SETUP_KICKFD) and
 *     _start/_enable; IOTLB entries (VDUSE_IOTLB_GET_FD), when the engine
 *     first meets an address (the guest-memory miss hook), through
 *     vnet_netdev_mem_add, and UPDATE_IOTLB through
 *     vnet_netdev_mem_invalidate; notify is VDUSE_VQ_INJECT_IRQ,
 *     config_changed VDUSE_DEV_SET_CONFIG + VDUSE_DEV_INJECT_CONFIG_IRQ.
 */
#ifndef VNET_TRANSPORT_H
#define VNET_TRANSPORT_H

#include <stdbool.h>
#include <linux/types.h>

#include "vnet/features.h"

struct vnet_netdev;		/* include/vnet/device.h */

/* The transports: the values netlink carries (VNET_ATTR_TRANSPORT). */
enum vnet_transport_id {
	VNET_TRANSPORT_VHOST_USER = 0,
	VNET_TRANSPORT_VDUSE = 1,		/* the kernel's vdpa bus (VDUSE) */
	VNET_TRANSPORT_NR,
};

/* vhost-user: who opens the socket (VNET_ATTR_SOCKET_MODE). */
enum vnet_sock_mode {
	VNET_SOCK_SERVER = 0,		/* vnetd listens, the frontend connects */
	VNET_SOCK_CLIENT = 1,		/* vnetd connects (reconnecting) */
};

/* VDUSE: the kernel driver that takes the device on the vdpa bus
 * (VNET_ATTR_BIND). */
enum vnet_bind {
	VNET_BIND_VIRTIO = 0,		/* virtio_vdpa: a kernel virtio_net netdev */
	VNET_BIND_VHOST = 1,		/* vhost_vdpa: /dev/vhost-vdpa-N (QEMU) */
	VNET_BIND_NONE = 2,		/* on the bus, no driver */
	VNET_BIND_NR,
};

/* What the kernel made of a device a kernel-side transport serves (dev show). */
struct vnet_transport_kinfo {
	char netdev[16];		/* virtio_vdpa's netdev (IFNAMSIZ), "" */
	char chardev[32];		/* vhost_vdpa's /dev/vhost-vdpa-N, "" */
};

/* What a transport counts (vnet-sim's stats file). */
struct vnet_transport_stats {
	__u64 connections;		/* drivers that attached */
	__u64 disconnects;		/* ... and went away */
	__u64 bad_messages;		/* requests refused as malformed */
	__u64 messages;			/* requests handled */
};

struct vnet_transport_ops;

/* One transport serving one device; each transport embeds it first. */
struct vnet_transport {
	const struct vnet_transport_ops *ops;
	struct vnet_netdev *dev;
};

struct vnet_netdev_params;	/* include/vnet/device.h */

struct vnet_transport_ops {
	const char *name;		/* "vhost-user", as logs say it */
	/*
	 * Optional, before the device model is made: narrow p->features to
	 * what this transport can offer (and add what it needs: VDUSE's
	 * ACCESS_PLATFORM). 'named': the user provisioned them one by one,
	 * so a feature the transport cannot offer is an error, not dropped.
	 * *refused (may be NULL): what of vnet's default features it cannot
	 * offer at all. 0, or -errno with *errmsg. Control thread.
	 */
	int (*features)(struct vnet_netdev_params *p, bool named,
			struct vnet_features *refused, const char **errmsg);
	/*
	 * Serve 'dev' as its params say (socket path and mode for
	 * vhost-user): set up, bind to the device (vnet_transport_bind),
	 * wait for a driver. All or nothing; *errmsg: a static text for the
	 * user. Control thread.
	 */
	int (*create)(struct vnet_netdev *dev, struct vnet_transport **out,
		      const char **errmsg);
	/* Detach the driver (the device is reset, its memory unmapped),
	 * unbind, release everything. Control thread; the worker is gone. */
	void (*destroy)(struct vnet_transport *t);
	/*
	 * One pollable fd for the control thread's epoll; process() when it
	 * is readable: handles what is pending, never blocks for long; 0, or
	 * -errno for a failure of the transport itself (a bad driver is not
	 * one: it is refused and counted). fd() -1: the transport serves
	 * itself on a thread of its own and process() is never called (VDUSE
	 * may: the kernel waits for its answers while the control thread
	 * waits in a netlink call that caused them).
	 */
	int (*fd)(const struct vnet_transport *t);
	int (*process)(struct vnet_transport *t);
	/*
	 * Used buffer notification of ring 'index' (spec "Notifications"),
	 * already past the driver's suppression (2.7.10): from the
	 * worker, once per burst, dev->lock held. One indirect call plus
	 * the delivery itself (an eventfd write, an ioctl); no allocation,
	 * no lock. 0 when delivered or nothing to deliver to (a polling
	 * driver), else -errno.
	 */
	int (*notify)(struct vnet_transport *t, unsigned int index);
	/* The config space changed (link, MAC, announce, NEEDS_RESET): tell
	 * the driver (spec "Notification of Device Configuration Changes");
	 * never blocks on the driver. dev->lock held. */
	void (*config_changed)(struct vnet_transport *t);
	/* A driver is attached now. */
	bool (*connected)(const struct vnet_transport *t);
	void (*stats)(const struct vnet_transport *t, struct vnet_transport_stats *st);
	/* Optional: what the kernel made of the device (VDUSE). */
	void (*kinfo)(const struct vnet_transport *t, struct vnet_transport_kinfo *ki);
};

/* The transports vnet has (transport.c's table). */
extern const struct vnet_transport_ops vnet_vhost_user_transport;
extern const struct vnet_transport_ops vnet_vduse_transport;

/*
 * The ops of transport 'id': NULL with -EOPNOTSUPP ("... not available")
 * for a known transport this vnetd does not have, -EINVAL ("unknown
 * transport") for any other value; *errmsg says which.
 */
const struct vnet_transport_ops *vnet_transport_find(__u32 id, int *err, const char **errmsg);

/* Make the transport dev->params.transport names (find + create). */
int vnet_transport_create(struct vnet_netdev *dev, struct vnet_transport **out,
			  const char **errmsg);

static inline void vnet_transport_destroy(struct vnet_transport *t)
{
	if (t)
		t->ops->destroy(t);
}

/* For a transport's create and destroy: t->ops->notify and ->config_changed
 * become the device's way to its driver, and stop being it. */
void vnet_transport_bind(struct vnet_transport *t, struct vnet_netdev *dev);
void vnet_transport_unbind(struct vnet_transport *t);

#endif
