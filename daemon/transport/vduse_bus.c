// SPDX-License-Identifier: MIT
/*
 * The VDUSE transport's create and destroy (include/vnet/transport.h): the
 * VDUSE device (vduse.c) and its life on the kernel's vdpa bus (kvdpa.c),
 * made in this order and undone in reverse:
 *
 *   what the kernel needs is here (vdpa bus, the driver's module, the
 *     namespace): checked before anything is made
 *   the VDUSE device, answering the kernel
 *   VDPA_CMD_DEV_NEW: on the bus (the kernel probes a driver at once)
 *   the driver params.bind names (virtio_vdpa, vhost_vdpa or none)
 *   virtio_vdpa's netdev into params.netns
 *
 * A VDUSE device of the same name that an earlier vnetd left behind
 * (killed before it could delete it) is still the kernel's: it is taken
 * off the bus and destroyed first, then ours is made (its netdev is a new
 * one: what was configured on the old one is gone). One that another
 * process serves is left alone. Control thread only.
 */
#include <errno.h>
#include <stdio.h>
#include <unistd.h>

#include "vnet/kvdpa.h"
#include "vnet/log.h"
#include "vduse_int.h"

/* texts that carry the kernel's words or a name (the control thread's) */
static char errbuf[VNET_KVDPA_ERR_MAX];

/* Before anything is made: what the kernel needs for this device is here. */
static int kernel_check(const struct vnet_netdev_params *p, const char **errmsg)
{
	const char *drv = vnet_kvdpa_driver_name(p->bind);
	char path[128];

	if (access(VNET_KVDPA_SYSFS, F_OK)) {
		*errmsg = "the kernel has no vdpa bus (CONFIG_VDPA; modprobe vdpa)";
		return -EOPNOTSUPP;
	}
	if (drv) {
		snprintf(path, sizeof(path), VNET_KVDPA_SYSFS "/drivers/%s", drv);
		if (access(path, F_OK)) {
			snprintf(errbuf, sizeof(errbuf),
				 "the kernel driver %s is not loaded (modprobe %s)", drv, drv);
			*errmsg = errbuf;
			return -EOPNOTSUPP;
		}
	}
	if (p->netns[0]) {
		snprintf(path, sizeof(path), VNET_NETNS_DIR "/%s", p->netns);
		if (access(path, F_OK)) {
			snprintf(errbuf, sizeof(errbuf), "network namespace %s not found (%s)",
				 p->netns, path);
			*errmsg = errbuf;
			return -ENOENT;
		}
	}
	return 0;
}

/* A VDUSE device (not the control node, which shares the directory). */
static bool is_vduse_dev(const char *name)
{
	char path[128];

	snprintf(path, sizeof(path), VNET_VDUSE_CLASS "/%s/msg_timeout", name);
	return access(path, F_OK) == 0;
}

/* Take down a VDUSE device nobody serves; -EBUSY when somebody does. */
static int reclaim_stale(const char *name)
{
	char err[VNET_KVDPA_ERR_MAX];
	struct vnet_vduse *old;
	int e;

	if (!is_vduse_dev(name))
		return -EEXIST;
	e = vduse_dev_reclaim(name, &old);
	if (e)
		return e;
	pr_warn("%s: a VDUSE device of that name was left behind (vnetd killed?): "
		"deleting it\n", name);
	if (vnet_kvdpa_dev_exists(name) && vnet_kvdpa_dev_del(name, err, sizeof(err)))
		pr_warn("%s: %s\n", name, err);
	vduse_dev_destroy(old);
	return 0;
}

static void bus_detach(struct vnet_vduse *vd)
{
	char err[VNET_KVDPA_ERR_MAX];

	if (!vd->on_bus)
		return;
	/* the driver leaves first: it resets the device, the thread answers */
	if (vnet_kvdpa_dev_del(vd->name, err, sizeof(err)))
		pr_warn("%s: %s\n", vd->name, err);
	vd->on_bus = false;
	vd->kinfo = (struct vnet_transport_kinfo){ 0 };
}

static int bus_attach(struct vnet_vduse *vd, const struct vnet_netdev_params *p,
		      const char **errmsg)
{
	struct vnet_transport_kinfo *ki = &vd->kinfo;
	int err;

	err = vnet_kvdpa_dev_add(vd->name, "vduse", errbuf, sizeof(errbuf));
	if (err)
		goto fail;
	vd->on_bus = true;
	err = vnet_kvdpa_bind(vd->name, p->bind, errbuf, sizeof(errbuf));
	if (err)
		goto fail;
	if (p->bind == VNET_BIND_VIRTIO) {
		err = vnet_kvdpa_netdev(vd->name, ki->netdev, sizeof(ki->netdev));
		if (err) {
			snprintf(errbuf, sizeof(errbuf), "virtio_vdpa made no netdev for %s",
				 vd->name);
			goto fail;
		}
		if (p->netns[0]) {
			err = vnet_netdev_to_netns(ki->netdev, p->netns, errbuf, sizeof(errbuf));
			if (err)
				goto fail;
		}
	} else if (p->bind == VNET_BIND_VHOST) {
		err = vnet_kvdpa_vhost_dev(vd->name, ki->chardev, sizeof(ki->chardev));
		if (err) {
			snprintf(errbuf, sizeof(errbuf), "vhost_vdpa made no /dev/vhost-vdpa-N for %s",
				 vd->name);
			goto fail;
		}
	}
	pr_info("%s: on the kernel's vdpa bus, %s%s%s%s%s\n", vd->name,
		p->bind == VNET_BIND_NONE ? "no driver" : vnet_kvdpa_driver_name(p->bind),
		ki->netdev[0] ? ", netdev " : "", ki->netdev, ki->chardev[0] ? ", " : "",
		ki->chardev);
	return 0;

fail:
	*errmsg = errbuf;
	bus_detach(vd);
	return err;
}

int vduse_create(struct vnet_netdev *dev, struct vnet_transport **out, const char **errmsg)
{
	const char *name = dev->params.name;
	struct vnet_vduse *vd;
	int err, rerr;

	err = vnet_vduse_available(errmsg);
	if (!err)
		err = kernel_check(&dev->params, errmsg);
	if (err)
		return err;
	err = vduse_dev_create(dev, &vd, errmsg);
	if (err == -EEXIST) {
		rerr = reclaim_stale(name);
		if (!rerr) {
			err = vduse_dev_create(dev, &vd, errmsg);
		} else if (rerr == -EBUSY) {
			*errmsg = "a VDUSE device of that name exists and another process serves it";
		} else if (!is_vduse_dev(name)) {
			snprintf(errbuf, sizeof(errbuf),
				 "the kernel's VDUSE refused the name: " VNET_VDUSE_DIR
				 "/%s exists and is no VDUSE device", name);
			*errmsg = errbuf;
		}
	}
	if (err)
		return err;
	err = bus_attach(vd, &dev->params, errmsg);
	if (err) {
		vduse_dev_destroy(vd);
		return err;
	}
	*out = &vd->t;
	return 0;
}

void vduse_destroy(struct vnet_transport *t)
{
	struct vnet_vduse *vd = (struct vnet_vduse *)t;

	bus_detach(vd);
	vduse_dev_destroy(vd);
}

int vduse_fd(const struct vnet_transport *t)
{
	return -1;	/* the request thread serves the device fd */
}
