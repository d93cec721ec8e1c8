// SPDX-License-Identifier: MIT
/*
 * The transport table (include/vnet/transport.h): which enum vnet_transport_id
 * value is served by which struct vnet_transport_ops. A new transport is
 * one file and one line here.
 */
#include <errno.h>
#include <stddef.h>

#include "vnet/device.h"
#include "vnet/transport.h"

static const struct vnet_transport_ops *const transports[VNET_TRANSPORT_NR] = {
	[VNET_TRANSPORT_VHOST_USER] = &vnet_vhost_user_transport,
	[VNET_TRANSPORT_VDUSE] = &vnet_vduse_transport,
};

const struct vnet_transport_ops *vnet_transport_find(__u32 id, int *err, const char **errmsg)
{
	if (id < VNET_TRANSPORT_NR && transports[id])
		return transports[id];
	if (id < VNET_TRANSPORT_NR) {
		*err = -EOPNOTSUPP;
		*errmsg = id == VNET_TRANSPORT_VDUSE ? "VDUSE transport not available" :
						       "transport not available";
	} else {
		*err = -EINVAL;
		*errmsg = "unknown transport";
	}
	return NULL;
}

int vnet_transport_create(struct vnet_netdev *dev, struct vnet_transport **out,
			  const char **errmsg)
{
	const struct vnet_transport_ops *ops;
	int err;

	ops = vnet_transport_find(dev->params.transport, &err, errmsg);
	if (!ops)
		return err;
	return ops->create(dev, out, errmsg);
}

void vnet_transport_bind(struct vnet_transport *t, struct vnet_netdev *dev)
{
	t->dev = dev;
	vnet_netdev_bind_transport(dev, t, t->ops->notify, t->ops->config_changed);
}

void vnet_transport_unbind(struct vnet_transport *t)
{
	if (t->dev && t->dev->transport == t)
		vnet_netdev_bind_transport(t->dev, NULL, NULL, NULL);
}
