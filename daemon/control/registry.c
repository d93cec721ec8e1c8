// SPDX-License-Identifier: MIT
/*
 * Device registry: see include/vnet/registry.h. Every change is validated
 * completely before anything is touched, then applied to the backend, then
 * persisted; a failure at any step undoes the earlier ones, so a rejected
 * request leaves the registry (and the state file) as it was.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>

#include "vnet/kvdpa.h"
#include "vnet/log.h"
#include "vnet/registry.h"
#include "vnet/transport.h"

static int fail(struct vnet_err *e, int err, const char *msg, int attr)
{
	if (e) {
		e->msg = msg;
		e->attr = attr;
	}
	return err;
}

void vnet_registry_init(struct vnet_registry *r, const struct vnet_backend_ops *ops,
			const char *sock_dir, const char *state_path)
{
	memset(r, 0, sizeof(*r));
	r->ops = ops;
	snprintf(r->sock_dir, sizeof(r->sock_dir), "%s", sock_dir ? sock_dir : "");
	snprintf(r->state_path, sizeof(r->state_path), "%s", state_path ? state_path : "");
	vnet_registry_add_mgmtdev(r, VNET_MGMT_SIM);
}

void vnet_registry_fini(struct vnet_registry *r)
{
	for (int i = 0; i < r->n_devs; i++) {
		struct vnet_dev *dev = r->devs[i];

		dev->ops->destroy(dev);
		free(dev);
	}
	r->n_devs = 0;
}

int vnet_registry_add_mgmtdev(struct vnet_registry *r, const char *name)
{
	struct vnet_mgmtdev *m;

	if (!name || !*name || strlen(name) >= IFNAMSIZ || strchr(name, '/'))
		return -EINVAL;
	if (vnet_registry_find_mgmtdev(r, VNET_MGMT_BUS, name))
		return -EEXIST;
	if (r->n_mgmt >= VNET_MAX_MGMTDEVS)
		return -ENOSPC;
	m = &r->mgmt[r->n_mgmt++];
	memset(m, 0, sizeof(*m));
	snprintf(m->name, sizeof(m->name), "%s", name);
	m->is_sim = !strcmp(name, VNET_MGMT_SIM);
	m->uplink_state = m->is_sim ? VNET_UPLINK_NONE : VNET_UPLINK_ABSENT;
	m->uplink_speed = 0xffffffff;	/* vnet/sim's loopback has none */
	m->uplink_duplex = 0xff;
	return 0;
}

/* bus may be NULL (a bare "eth0" handle), otherwise it must be "vnet" */
struct vnet_mgmtdev *vnet_registry_find_mgmtdev(struct vnet_registry *r,
						const char *bus, const char *name)
{
	if (bus && strcmp(bus, VNET_MGMT_BUS))
		return NULL;
	for (int i = 0; i < r->n_mgmt; i++)
		if (!strcmp(r->mgmt[i].name, name))
			return &r->mgmt[i];
	return NULL;
}

struct vnet_dev *vnet_registry_find(struct vnet_registry *r, const char *name)
{
	for (int i = 0; i < r->n_devs; i++)
		if (!strcmp(r->devs[i]->p.name, name))
			return r->devs[i];
	return NULL;
}

/* --- field validation ---------------------------------------------------- */

int vnet_valid_dev_name(const char *name, struct vnet_err *e)
{
	size_t len = strlen(name);

	if (!len)
		return fail(e, -EINVAL, "device name is empty", VDPA_ATTR_DEV_NAME);
	if (len > VNET_DEV_NAME_MAX)
		return fail(e, -ENAMETOOLONG, "device name too long (max 31 characters)",
			    VDPA_ATTR_DEV_NAME);
	/* names end up in socket paths and the state file: keep them plain */
	if (name[0] == '.' || name[0] == '-')
		return fail(e, -EINVAL, "device name must not start with '.' or '-'",
			    VDPA_ATTR_DEV_NAME);
	for (size_t i = 0; i < len; i++) {
		char c = name[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.'))
			return fail(e, -EINVAL,
				    "device name may only contain letters, digits, '_', '-' and '.'",
				    VDPA_ATTR_DEV_NAME);
	}
	return 0;
}

int vnet_valid_mac(const __u8 mac[6], struct vnet_err *e)
{
	static const __u8 zero[6];

	if (mac[0] & 1)
		return fail(e, -EINVAL, "Invalid MAC address: multicast",
			    VDPA_ATTR_DEV_NET_CFG_MACADDR);
	if (!memcmp(mac, zero, 6))
		return fail(e, -EINVAL, "Invalid MAC address: all zero",
			    VDPA_ATTR_DEV_NET_CFG_MACADDR);
	return 0;
}

int vnet_valid_mtu(unsigned long mtu, struct vnet_err *e)
{
	if (mtu < VNET_MIN_MTU || mtu > VNET_MAX_MTU)
		return fail(e, -ERANGE, "MTU out of range (68-65535)",
			    VDPA_ATTR_DEV_NET_CFG_MTU);
	return 0;
}

int vnet_valid_max_vqp(unsigned long vqp, struct vnet_err *e)
{
	if (vqp < 1)
		return fail(e, -EINVAL, "max_vqp must be at least 1",
			    VDPA_ATTR_DEV_NET_CFG_MAX_VQP);
	if (vqp > VNET_MAX_VQP)
		return fail(e, -ERANGE, "max_vqp above the limit (64)",
			    VDPA_ATTR_DEV_NET_CFG_MAX_VQP);
	return 0;
}

int vnet_valid_socket_path(const char *path, struct vnet_err *e)
{
	if (path[0] != '/')
		return fail(e, -EINVAL, "socket path must be absolute", VNET_ATTR_SOCKET_PATH);
	if (strlen(path) > VNET_SOCK_PATH_MAX)
		return fail(e, -ENAMETOOLONG, "socket path too long (max 107 bytes)",
			    VNET_ATTR_SOCKET_PATH);
	for (const char *c = path; *c; c++)
		if ((unsigned char)*c <= ' ' || *c == 0x7f)
			return fail(e, -EINVAL,
				    "socket path must not contain spaces or control characters",
				    VNET_ATTR_SOCKET_PATH);
	return 0;
}

static bool socket_path_in_use(struct vnet_registry *r, const char *path,
			       const struct vnet_dev *except)
{
	for (int i = 0; i < r->n_devs; i++)
		if (r->devs[i] != except && r->devs[i]->p.socket_path[0] &&
		    !strcmp(r->devs[i]->p.socket_path, path))
			return true;
	return false;
}

/*
 * What a device's MTU may be on its management device: an uplink's frames
 * must fit the uplink datapath (backend limit: UMEM frames) and leave
 * through the uplink (its MTU). vnet/sim (loopback) has neither bound.
 */
static __u32 uplink_mtu_max(const struct vnet_registry *r, const struct vnet_mgmtdev *m,
			    const char **why)
{
	__u32 max = r->ops->uplink_mtu_limit ? r->ops->uplink_mtu_limit(m, why) : 0;

	if (max)
		return max;
	*why = r->ops->uplink_mtu_why;
	return r->ops->uplink_mtu_max;
}

static int uplink_mtu_check(const struct vnet_registry *r, const struct vnet_mgmtdev *m,
			    unsigned long mtu, struct vnet_err *e)
{
	const char *why = NULL;
	__u32 max;

	if (m->is_sim)
		return 0;
	max = uplink_mtu_max(r, m, &why);
	if (max && mtu > max) {
		if (e)
			snprintf(e->buf, sizeof(e->buf),
				 "MTU %lu is more than the uplink datapath carries (max %u%s%s)",
				 mtu, max, why ? ": " : "", why ? why : "");
		return fail(e, -ERANGE, e ? e->buf : NULL, VDPA_ATTR_DEV_NET_CFG_MTU);
	}
	/* the uplink bounds the device: bigger frames could not leave */
	if (m->uplink_mtu && mtu > m->uplink_mtu)
		return fail(e, -ERANGE, "MTU exceeds the uplink's MTU", VDPA_ATTR_DEV_NET_CFG_MTU);
	return 0;
}

/* A vhost-user device: its socket (default RUNDIR/NAME.sock), unique. */
static int vhost_user_params_check(struct vnet_registry *r, struct vnet_dev_params *p,
				   struct vnet_err *e)
{
	int err;

	if (p->mask & (VNET_P_BIND | VNET_P_NETNS))
		return fail(e, -EINVAL, "bind and netns are for transport vduse",
			    p->mask & VNET_P_BIND ? VNET_ATTR_BIND : VNET_ATTR_NETNS);
	if ((p->mask & VNET_P_SOCK_MODE) && p->sock_mode > VNET_SOCK_CLIENT)
		return fail(e, -EINVAL, "unknown socket mode", VNET_ATTR_SOCKET_MODE);
	if (!(p->mask & VNET_P_SOCKET)) {
		int n = snprintf(p->socket_path, sizeof(p->socket_path), "%s/%s.sock",
				 r->sock_dir[0] ? r->sock_dir : ".", p->name);

		if (n < 0 || (size_t)n >= sizeof(p->socket_path))
			return fail(e, -ENAMETOOLONG, "default socket path too long", 0);
	}
	err = vnet_valid_socket_path(p->socket_path, e);
	if (err)
		return err;
	if (socket_path_in_use(r, p->socket_path, NULL))
		return fail(e, -EADDRINUSE, "socket path used by another device",
			    VNET_ATTR_SOCKET_PATH);
	return 0;
}

/*
 * A VDUSE device (the kernel's vdpa bus): no socket; a kernel driver
 * (default virtio_vdpa) and, for its netdev, a namespace. Whether the
 * kernel has VDUSE and takes the device is the backend's to find out.
 */
static int vduse_params_check(struct vnet_dev_params *p, struct vnet_err *e)
{
	const char *why;

	if (p->mask & (VNET_P_SOCKET | VNET_P_SOCK_MODE))
		return fail(e, -EINVAL, "socket and socket_mode are for transport vhost-user",
			    p->mask & VNET_P_SOCKET ? VNET_ATTR_SOCKET_PATH :
			    VNET_ATTR_SOCKET_MODE);
	p->socket_path[0] = '\0';
	p->sock_mode = 0;
	if (!(p->mask & VNET_P_BIND))
		p->bind = VNET_BIND_VIRTIO;
	if (p->bind > VNET_BIND_NONE)
		return fail(e, -EINVAL, "unknown bind (virtio, vhost or none)", VNET_ATTR_BIND);
	if (!(p->mask & VNET_P_NETNS) || !p->netns[0]) {
		p->netns[0] = '\0';
		return 0;
	}
	if (p->bind != VNET_BIND_VIRTIO)
		return fail(e, -EINVAL, "netns needs bind virtio (only virtio_vdpa makes a netdev)",
			    VNET_ATTR_NETNS);
	if (vnet_netns_name_valid(p->netns, &why))
		return fail(e, -EINVAL, why, VNET_ATTR_NETNS);
	return 0;
}

/* Checks a DEV_NEW completely and fills in defaults; touches nothing. */
static int dev_new_check(struct vnet_registry *r, struct vnet_dev_params *p,
			 struct vnet_mgmtdev **mgmtp, struct vnet_err *e)
{
	struct vnet_mgmtdev *m;
	struct vnet_features features;
	const char *msg;
	int err;

	err = vnet_valid_dev_name(p->name, e);
	if (err)
		return err;
	m = vnet_registry_find_mgmtdev(r, NULL, p->mgmtdev);
	if (!m)
		return fail(e, -ENODEV, "Fail to find the specified mgmt device",
			    VDPA_ATTR_MGMTDEV_DEV_NAME);
	if (vnet_registry_find(r, p->name))
		return fail(e, -EEXIST, "device name already exists", VDPA_ATTR_DEV_NAME);
	if (r->n_devs >= VNET_MAX_DEVS)
		return fail(e, -ENOSPC, "too many devices", 0);

	features = (p->mask & VNET_P_FEATURES) ? p->features : r->ops->supported_features;
	if (!vnet_features_subset(&features, &r->ops->supported_features))
		return fail(e, -EINVAL, "Some provisioned features are not supported",
			    VDPA_ATTR_DEV_FEATURES);
	if (!vnet_features_has(&features, VIRTIO_F_VERSION_1))
		return fail(e, -EINVAL, "feature VERSION_1 is required", VDPA_ATTR_DEV_FEATURES);
	p->features = features;

	if (p->mask & VNET_P_MAC) {
		err = vnet_valid_mac(p->mac, e);
		if (err)
			return err;
		if (!vnet_features_has(&features, VIRTIO_NET_F_MAC))
			return fail(e, -EINVAL, "MAC address given but feature MAC not provisioned",
				    VDPA_ATTR_DEV_NET_CFG_MACADDR);
	} else {
		/* like vdpa_sim: a random locally administered unicast address */
		if (getrandom(p->mac, 6, 0) != 6)
			return fail(e, -EIO, "cannot generate a MAC address", 0);
		p->mac[0] = (p->mac[0] & 0xfc) | 0x02;
	}

	if (p->mask & VNET_P_MTU) {
		err = vnet_valid_mtu(p->mtu, e);
		if (err)
			return err;
		if (!vnet_features_has(&features, VIRTIO_NET_F_MTU))
			return fail(e, -EINVAL, "MTU given but feature MTU not provisioned",
				    VDPA_ATTR_DEV_NET_CFG_MTU);
		err = uplink_mtu_check(r, m, p->mtu, e);
		if (err)
			return err;
	} else {
		p->mtu = VNET_DEFAULT_MTU;
		if (m->uplink_mtu && m->uplink_mtu < p->mtu)
			p->mtu = (__u16)m->uplink_mtu;
		if (!m->is_sim) {
			const char *why;
			__u32 max = uplink_mtu_max(r, m, &why);

			if (max && max < p->mtu)
				p->mtu = (__u16)max;
		}
	}

	if (p->mask & VNET_P_MAX_VQP) {
		err = vnet_valid_max_vqp(p->max_vqp, e);
		if (err)
			return err;
		if (p->max_vqp > 1 && !vnet_features_has(&features, VIRTIO_NET_F_MQ) &&
		    !vnet_features_has(&features, VIRTIO_NET_F_RSS))
			return fail(e, -EINVAL, "max_vqp above 1 needs feature MQ or RSS",
				    VDPA_ATTR_DEV_NET_CFG_MAX_VQP);
	} else {
		p->max_vqp = 1;
	}

	/* vhost-user unless told otherwise, vnet/sim included; the transport
	 * table knows which transports this vnetd has, each its parameters */
	if (!(p->mask & VNET_P_TRANSPORT))
		p->transport = VNET_TRANSPORT_VHOST_USER;
	if (!vnet_transport_find(p->transport, &err, &msg))
		return fail(e, err, msg, VNET_ATTR_TRANSPORT);
	if (p->transport == VNET_TRANSPORT_VDUSE)
		err = vduse_params_check(p, e);
	else
		err = vhost_user_params_check(r, p, e);
	if (err)
		return err;
	if (!(p->mask & VNET_P_SPOOFCHK))
		p->spoofchk = true;	/* safe default: a guest cannot spoof */
	snprintf(p->mgmtdev, sizeof(p->mgmtdev), "%s", m->name);
	*mgmtp = m;
	return 0;
}

static int persist(struct vnet_registry *r, struct vnet_err *e)
{
	int err;

	if (r->restoring || !r->state_path[0])
		return 0;
	err = vnet_state_save(r);
	if (err)
		return fail(e, err, "cannot save the state file", 0);
	return 0;
}

int vnet_registry_dev_new(struct vnet_registry *r, struct vnet_dev_params *p,
			  struct vnet_err *e)
{
	struct vnet_mgmtdev *m = NULL;
	struct vnet_dev *dev;
	const char *msg = NULL;
	int err;

	err = dev_new_check(r, p, &m, e);
	if (err)
		return err;
	dev = calloc(1, sizeof(*dev));
	if (!dev)
		return fail(e, -ENOMEM, "out of memory", 0);
	dev->p = *p;
	dev->mgmt = m;
	dev->ops = r->ops;
	err = dev->ops->create(dev, &msg);
	if (err) {
		fail(e, err, msg ? msg : "the device model refused the device", 0);
		goto err_free;
	}
	r->devs[r->n_devs++] = dev;
	err = persist(r, e);
	if (err)
		goto err_remove;
	pr_info("device %s added on %s/%s\n", p->name, VNET_MGMT_BUS, m->name);
	return 0;

err_remove:
	r->n_devs--;
	dev->ops->destroy(dev);
err_free:
	free(dev);
	return err;
}

int vnet_registry_dev_del(struct vnet_registry *r, const char *name, struct vnet_err *e)
{
	struct vnet_dev *dev = NULL;
	int i, err;

	for (i = 0; i < r->n_devs; i++) {
		if (!strcmp(r->devs[i]->p.name, name)) {
			dev = r->devs[i];
			break;
		}
	}
	if (!dev)
		return fail(e, -ENODEV, "device not found", VDPA_ATTR_DEV_NAME);
	/* take it out of the list first so the saved state no longer has it */
	memmove(&r->devs[i], &r->devs[i + 1], (r->n_devs - i - 1) * sizeof(r->devs[0]));
	r->n_devs--;
	err = persist(r, e);
	if (err) {
		memmove(&r->devs[i + 1], &r->devs[i], (r->n_devs - i) * sizeof(r->devs[0]));
		r->devs[i] = dev;
		r->n_devs++;
		return err;
	}
	dev->ops->destroy(dev);
	pr_info("device %s deleted\n", name);
	free(dev);
	return 0;
}

int vnet_registry_dev_set(struct vnet_registry *r, const char *name,
			  const struct vnet_dev_params *p, struct vnet_err *e)
{
	struct vnet_dev *dev = vnet_registry_find(r, name);
	struct vnet_dev_params old;
	const char *msg = NULL;
	int err;

	if (!dev)
		return fail(e, -ENODEV, "device not found", VDPA_ATTR_DEV_NAME);
	/*
	 * An MTU the device could not carry gets the same answer as at dev
	 * add; any other is refused too: the device must not modify its mtu
	 * once it has been set (spec 5.1.4.1), and drivers read it once.
	 */
	if (p->mask & VNET_P_MTU) {
		err = vnet_valid_mtu(p->mtu, e);
		if (!err)
			err = uplink_mtu_check(r, dev->mgmt, p->mtu, e);
		if (err)
			return err;
		if (p->mtu != dev->p.mtu)
			return fail(e, -EOPNOTSUPP, "the MTU of an existing device cannot change "
				    "(spec 5.1.4.1); delete it and add it with the new MTU",
				    VDPA_ATTR_DEV_NET_CFG_MTU);
		if (!(p->mask & ~VNET_P_MTU))
			return 0;	/* the MTU it has: nothing to do */
	}
	if (p->mask & ~(VNET_P_SETTABLE | VNET_P_MTU))
		return fail(e, -EOPNOTSUPP,
			    "only mac, trust and spoofchk can change on an existing device", 0);
	if (!(p->mask & VNET_P_SETTABLE))
		return fail(e, -EINVAL, "nothing to set", 0);
	if (p->mask & VNET_P_MAC) {
		err = vnet_valid_mac(p->mac, e);
		if (err)
			return err;
		if (!vnet_features_has(&dev->p.features, VIRTIO_NET_F_MAC))
			return fail(e, -EOPNOTSUPP, "feature MAC not provisioned",
				    VDPA_ATTR_DEV_NET_CFG_MACADDR);
	}
	old = dev->p;
	if (p->mask & VNET_P_MAC)
		memcpy(dev->p.mac, p->mac, 6);
	if (p->mask & VNET_P_TRUSTED)
		dev->p.trusted = p->trusted;
	if (p->mask & VNET_P_SPOOFCHK)
		dev->p.spoofchk = p->spoofchk;
	err = dev->ops->set_attr(dev, p, &msg);
	if (err) {
		dev->p = old;
		return fail(e, err, msg ? msg : "the device model refused the change", 0);
	}
	err = persist(r, e);
	if (err) {
		dev->p = old;
		/* put the device model back the way it was */
		old.mask = p->mask & VNET_P_SETTABLE;
		dev->ops->set_attr(dev, &old, NULL);
		return err;
	}
	return 0;
}

static void devices_link(struct vnet_registry *r, const struct vnet_mgmtdev *m, bool up)
{
	for (int i = 0; i < r->n_devs; i++)
		if (r->devs[i]->mgmt == m)
			r->devs[i]->ops->link_change(r->devs[i], up);
}

void vnet_registry_uplink_update(struct vnet_registry *r, const char *ifname,
				 const struct vnet_uplink_link *l)
{
	struct vnet_mgmtdev *m = vnet_registry_find_mgmtdev(r, NULL, ifname);
	bool was_up, up, reattached = false;
	__u32 seen = 0;

	if (!m || m->is_sim)
		return;
	/* a new netdev counts from its own start: nothing of it seen yet */
	if (l->ifindex && l->ifindex == m->ifindex)
		seen = l->carrier_changes - m->kernel_changes;
	m->carrier_changes += seen;
	m->kernel_changes = l->carrier_changes;
	was_up = m->uplink_state == VNET_UPLINK_UP;
	up = l->state == VNET_UPLINK_UP;
	if (m->uplink_state != l->state || m->uplink_mtu != l->mtu)
		pr_info("uplink %s: %s, mtu %u\n", ifname,
			l->state == VNET_UPLINK_UP ? "up" :
			l->state == VNET_UPLINK_NO_CARRIER ? "no carrier" : "absent", l->mtu);
	/* the datapath first: it must be there when the devices come up */
	if (r->ops->uplink_change)
		reattached = r->ops->uplink_change(m, l->ifindex) > 0;
	m->uplink_state = l->state;
	m->uplink_mtu = l->mtu;
	/* devices take it when their link next comes up (nd_link_change) */
	m->uplink_speed = l->speed;
	m->uplink_duplex = l->duplex;
	m->ifindex = l->ifindex;
	if (was_up != up) {
		devices_link(r, m, up);
	} else if (up && (reattached || seen)) {
		/*
		 * Up at both looks, but in between the carrier went and came
		 * back (the kernel counted it; a burst of notifications
		 * collapses into one dump), or the netdev went away and a new
		 * one came under its name. Down then up, so drivers see the
		 * bounce and announce themselves (switches beyond the uplink
		 * may have forgotten them) -- one bounce however many flaps:
		 * the final state is what a driver must end in. Down at both
		 * looks: nothing to tell.
		 */
		devices_link(r, m, false);
		devices_link(r, m, true);
	}
}
