/* SPDX-License-Identifier: MIT */
/*
 * VDUSE transport: a vnet device as a vDPA device in userspace (Linux
 * drivers/vdpa/vdpa_user/, include/uapi/linux/vduse.h, API version 0),
 * on the kernel's vdpa bus. The transport itself is vnet_vduse_transport
 * (include/vnet/transport.h: what it does, step by step); this header has
 * what else is worth calling from outside: whether the kernel has VDUSE,
 * and the search for the features it accepts.
 *
 * Every VDUSE device needs VIRTIO_F_ACCESS_PLATFORM (addresses are I/O
 * virtual addresses) and carries 64 feature bits. Linux 6.12 refuses more
 * for a net device: the control queue and everything built on it. The
 * kernel has no query for it: VDUSE_CREATE_DEV refuses a feature set with
 * EINVAL and says no more, so the probe asks with throw-away devices.
 */
#ifndef VNET_VDUSE_H
#define VNET_VDUSE_H

#include <linux/types.h>

#define VNET_VDUSE_CONTROL	"/dev/vduse/control"
#define VNET_VDUSE_DIR		"/dev/vduse"
#define VNET_VDUSE_CLASS	"/sys/class/vduse"
/* ring size every queue offers (the driver may pick less) */
#define VNET_VDUSE_VQ_SIZE	256

/* 0 when this kernel has VDUSE, else -errno and a message for the user. */
int vnet_vduse_available(const char **why);

/*
 * The device features the running kernel accepts for a VDUSE net device,
 * out of 'want' (vnet_vduse_required_features() are always added and
 * kept). Found by creating and destroying throw-away devices and cached
 * for the process. 0 with *accepted, or -errno with *why.
 */
int vnet_vduse_probe(__u64 want, __u64 *accepted, const char **why);

/*
 * The probe's search, with the kernel's answer as a callback (the unit
 * tests give their own): try_create returns 0 when a device with exactly
 * those features is accepted, -EINVAL when refused, any other -errno to
 * stop. 'must' is what every device has; refused dependencies of the
 * result are dropped too (spec 5.1.3.1). 0 with *accepted, or -errno.
 */
typedef int (*vnet_vduse_try_fn)(__u64 features, void *ctx);
int vnet_vduse_probe_with(__u64 want, __u64 must, vnet_vduse_try_fn try_create,
			  void *ctx, __u64 *accepted);

/* What every VDUSE net device has: ACCESS_PLATFORM, VERSION_1. */
__u64 vnet_vduse_required_features(void);

#endif
