/* SPDX-License-Identifier: MIT */
/* Internal state of the VDUSE transport (vduse.c, vduse_iotlb.c, vduse_probe.c). */
#ifndef VNET_VDUSE_INT_H
#define VNET_VDUSE_INT_H

#include <pthread.h>

#include "uapi/linux/vduse.h"
#include "vnet/device.h"
#include "vnet/transport.h"
#include "vnet/vduse.h"

#define VDUSE_VENDOR_ID		0x1af4	/* the virtio vendor: a standard device */
#define VDUSE_NAME_LEN		64	/* ours; the kernel's limit is 256 */

struct vduse_stats {
	__u64 requests;		/* kernel requests answered */
	__u64 failed;		/* ...with VDUSE_REQ_RESULT_FAILED */
	__u64 drivers;		/* DRIVER_OK seen */
	__u64 resets;		/* ...and reset again */
	__u64 iotlb_maps;	/* IOTLB entries mapped */
	__u64 iotlb_updates;	/* UPDATE_IOTLB requests */
};

struct vnet_vduse {
	struct vnet_transport t;	/* first: what the device and backend see */
	struct vnet_netdev *dev;	/* NULL: a reclaimed device (no model) */
	char name[VDUSE_NAME_LEN];
	int dev_fd;			/* /dev/vduse/NAME, non-blocking */
	int epfd;			/* the request thread's: dev_fd, stop */
	int stop_fd;			/* eventfd: the thread leaves */
	pthread_t thread;
	bool thread_started;
	unsigned int nvqs;		/* queues the kernel knows */
	bool rings_up;			/* DRIVER_OK seen, queues handed to the model */
	bool on_bus;			/* added to the kernel's vdpa bus */
	bool broken;			/* the kernel gave up on the device */
	bool map_full_logged;
	struct vnet_transport_kinfo kinfo;
	struct vduse_stats stats;	/* __atomic */
};

/* vduse.c: the VDUSE device, bound to the model and answering the kernel */
int vduse_dev_create(struct vnet_netdev *dev, struct vnet_vduse **out, const char **errmsg);
void vduse_dev_destroy(struct vnet_vduse *vd);
/* one an earlier vnetd left behind, answered without a model; -EBUSY when
 * another process has it open */
int vduse_dev_reclaim(const char *name, struct vnet_vduse **out);

/* vduse_bus.c and vduse_probe.c: the transport ops */
int vduse_features(struct vnet_netdev_params *p, bool named, struct vnet_features *refused,
		   const char **errmsg);
int vduse_create(struct vnet_netdev *dev, struct vnet_transport **out, const char **errmsg);
void vduse_destroy(struct vnet_transport *t);
int vduse_fd(const struct vnet_transport *t);

/* vduse_iotlb.c (dev->lock held) */
int vduse_iotlb_miss(const struct vnet_guest_mem *mem, __u64 addr, void *opaque);

/* vduse.c: a device of this name and these features, no model behind it */
int vduse_control_open(void);
int vduse_dev_config_create(int ctl_fd, const char *name, __u64 features, __u32 vq_num,
			    const void *config, __u32 config_size);

#endif
