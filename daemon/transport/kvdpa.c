// SPDX-License-Identifier: MIT
/*
 * The kernel's vdpa bus for the VDUSE transport (include/vnet/kvdpa.h): its
 * generic netlink family, driver binding through sysfs, and the netdev's
 * move into a namespace. Runs on vnetd's control thread; each call waits
 * for the kernel, which waits for the VDUSE device's answers (given on the
 * device's own thread, transport/vduse.c).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/vdpa.h>

#include "vnet/kvdpa.h"
#include "vnet/log.h"
#include "vnet/netutil.h"

#define SYSFS_DEVS	VNET_KVDPA_SYSFS "/devices"
#define SYSFS_DRVS	VNET_KVDPA_SYSFS "/drivers"
#define PATH_LEN	256

/* --- netlink: one request, its ack -------------------------------------- */

struct nl_req {
	struct mnl_socket *nl;
	unsigned int seq;
	char *err;		/* the kernel's extended-ack text goes here */
	size_t errlen;
	mnl_cb_t cb;		/* for data replies (family lookup) */
	void *data;
};

static int nl_open(struct nl_req *r, int bus, char *err, size_t errlen)
{
	int one = 1;

	memset(r, 0, sizeof(*r));
	r->err = err;
	r->errlen = errlen;
	r->seq = (unsigned int)time(NULL);
	r->nl = mnl_socket_open2(bus, SOCK_CLOEXEC);
	if (!r->nl)
		return -errno;
	/* the kernel's own words for what it refused, as iproute2 asks */
	mnl_socket_setsockopt(r->nl, NETLINK_CAP_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(r->nl, NETLINK_EXT_ACK, &one, sizeof(one));
	if (mnl_socket_bind(r->nl, 0, MNL_SOCKET_AUTOPID)) {
		int e = -errno;

		mnl_socket_close(r->nl);
		r->nl = NULL;
		return e;
	}
	return 0;
}

static void nl_close(struct nl_req *r)
{
	if (r->nl)
		mnl_socket_close(r->nl);
	r->nl = NULL;
}

static int ack_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nl_req *r = data;
	int err = vnet_nl_ack_parse(nlh, r->err, r->errlen, NULL);

	if (!err)
		return MNL_CB_STOP;
	errno = -err;
	return MNL_CB_ERROR;
}

static int data_cb(const struct nlmsghdr *nlh, void *data)
{
	struct nl_req *r = data;

	return r->cb ? r->cb(nlh, r->data) : MNL_CB_OK;
}

/* Send one request (NLM_F_ACK set) and read until its ack: 0 or -errno. */
static int nl_run(struct nl_req *r, struct nlmsghdr *nlh)
{
	mnl_cb_t ctl[NLMSG_MIN_TYPE] = { [NLMSG_ERROR] = ack_cb };
	char buf[MNL_SOCKET_BUFFER_SIZE];
	ssize_t n;
	int ret;

	nlh->nlmsg_flags |= NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = ++r->seq;
	if (mnl_socket_sendto(r->nl, nlh, nlh->nlmsg_len) < 0)
		return -errno;
	do {
		n = mnl_socket_recvfrom(r->nl, buf, sizeof(buf));
		if (n < 0)
			return -errno;
		errno = 0;
		ret = mnl_cb_run2(buf, n, nlh->nlmsg_seq, mnl_socket_get_portid(r->nl), data_cb,
				  r, ctl, NLMSG_MIN_TYPE);
	} while (ret > 0);
	return ret < 0 ? -(errno ? errno : EPROTO) : 0;
}

/* --- the vdpa family ---------------------------------------------------- */

static int family_attr_cb(const struct nlattr *a, void *data)
{
	__u16 *id = data;

	if (mnl_attr_get_type(a) == CTRL_ATTR_FAMILY_ID &&
	    mnl_attr_validate(a, MNL_TYPE_U16) >= 0)
		*id = mnl_attr_get_u16(a);
	return MNL_CB_OK;
}

static int family_cb(const struct nlmsghdr *nlh, void *data)
{
	return mnl_attr_parse(nlh, sizeof(struct genlmsghdr), family_attr_cb, data);
}

static struct nlmsghdr *genl_put(char *buf, __u16 family, __u8 cmd, __u8 version)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct genlmsghdr *g;

	nlh->nlmsg_type = family;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = cmd;
	g->version = version;
	return nlh;
}

/* A socket for the kernel's "vdpa" family; *family its id. */
static int vdpa_open(struct nl_req *r, __u16 *family, char *err, size_t errlen)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct nlmsghdr *nlh;
	int e;

	e = nl_open(r, NETLINK_GENERIC, err, errlen);
	if (e) {
		snprintf(err, errlen, "cannot open a generic netlink socket: %s", strerror(-e));
		return e;
	}
	*family = 0;
	nlh = genl_put(buf, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 1);
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, VDPA_GENL_NAME);
	r->cb = family_cb;
	r->data = family;
	e = nl_run(r, nlh);
	r->cb = NULL;
	if (!e && !*family)
		e = -ENOENT;
	if (e) {
		snprintf(err, errlen, "the kernel has no vdpa bus (CONFIG_VDPA; modprobe vdpa): %s",
			 strerror(-e));
		nl_close(r);
	}
	return e;
}

/* One vdpa command about device 'name'; the kernel's text in err on failure. */
static int vdpa_cmd(__u8 cmd, const char *name, const char *mgmtdev, char *err, size_t errlen)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	char ktext[VNET_KVDPA_ERR_MAX] = "";
	struct nlmsghdr *nlh;
	struct nl_req r;
	__u16 family;
	int e;

	e = vdpa_open(&r, &family, err, errlen);
	if (e)
		return e;
	r.err = ktext;
	r.errlen = sizeof(ktext);
	nlh = genl_put(buf, family, cmd, VDPA_GENL_VERSION);
	if (mgmtdev)
		mnl_attr_put_strz(nlh, VDPA_ATTR_MGMTDEV_DEV_NAME, mgmtdev);
	mnl_attr_put_strz(nlh, VDPA_ATTR_DEV_NAME, name);
	e = nl_run(&r, nlh);
	nl_close(&r);
	if (e)
		snprintf(err, errlen, "the kernel's vdpa bus refused %s %s: %s%s%s",
			 cmd == VDPA_CMD_DEV_NEW ? "adding" : "deleting", name, strerror(-e),
			 ktext[0] ? ": " : "", ktext);
	return e;
}

int vnet_kvdpa_dev_add(const char *name, const char *mgmtdev, char *err, size_t errlen)
{
	return vdpa_cmd(VDPA_CMD_DEV_NEW, name, mgmtdev, err, errlen);
}

int vnet_kvdpa_dev_del(const char *name, char *err, size_t errlen)
{
	return vdpa_cmd(VDPA_CMD_DEV_DEL, name, NULL, err, errlen);
}

bool vnet_kvdpa_dev_exists(const char *name)
{
	char path[PATH_LEN];

	snprintf(path, sizeof(path), SYSFS_DEVS "/%s", name);
	return access(path, F_OK) == 0;
}

/* --- driver binding (sysfs) --------------------------------------------- */

const char *vnet_kvdpa_driver_name(enum vnet_bind bind)
{
	switch (bind) {
	case VNET_BIND_VIRTIO:
		return "virtio_vdpa";
	case VNET_BIND_VHOST:
		return "vhost_vdpa";
	default:
		return NULL;
	}
}

static int sysfs_write(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC), err = 0;
	size_t len = strlen(val);

	if (fd < 0)
		return -errno;
	if (write(fd, val, len) != (ssize_t)len)
		err = -errno;
	close(fd);
	return err;
}

/* The driver the device has now into drv ("" when none). */
static int current_driver(const char *name, char *drv, size_t len)
{
	char path[PATH_LEN], link[PATH_LEN];
	const char *base;
	ssize_t n;

	snprintf(path, sizeof(path), SYSFS_DEVS "/%s/driver", name);
	n = readlink(path, link, sizeof(link) - 1);
	if (n < 0) {
		drv[0] = '\0';
		return errno == ENOENT ? 0 : -errno;
	}
	link[n] = '\0';
	base = strrchr(link, '/');
	n = snprintf(drv, len, "%s", base ? base + 1 : link);
	return n < (ssize_t)len ? 0 : -ENAMETOOLONG;
}

int vnet_kvdpa_bind(const char *name, enum vnet_bind bind, char *err, size_t errlen)
{
	const char *want = vnet_kvdpa_driver_name(bind);
	char path[PATH_LEN], cur[64];
	int e;

	if (!vnet_kvdpa_dev_exists(name)) {
		snprintf(err, errlen, "%s is not on the kernel's vdpa bus", name);
		return -ENODEV;
	}
	if (want) {
		snprintf(path, sizeof(path), SYSFS_DRVS "/%s", want);
		if (access(path, F_OK)) {
			snprintf(err, errlen, "the kernel driver %s is not loaded (modprobe %s)",
				 want, want);
			return -ENOENT;
		}
	}
	/*
	 * driver_override first: whatever probes the device later (a rescan,
	 * another driver loading) finds only the one we chose. "none" is no
	 * driver's name: nothing takes the device.
	 */
	snprintf(path, sizeof(path), SYSFS_DEVS "/%s/driver_override", name);
	e = sysfs_write(path, want ? want : "none");
	if (e && e != -ENOENT) {
		snprintf(err, errlen, "cannot set %s: %s", path, strerror(-e));
		return e;
	}
	e = current_driver(name, cur, sizeof(cur));
	if (e)
		goto unknown;
	if (want && !strcmp(cur, want))
		return 0;
	if (cur[0]) {
		snprintf(path, sizeof(path), SYSFS_DRVS "/%s/unbind", cur);
		e = sysfs_write(path, name);
		if (e) {
			snprintf(err, errlen, "cannot unbind %s from %s: %s", name, cur,
				 strerror(-e));
			return e;
		}
	}
	if (!want)
		return 0;
	snprintf(path, sizeof(path), SYSFS_DRVS "/%s/bind", want);
	e = sysfs_write(path, name);
	if (!e)
		e = current_driver(name, cur, sizeof(cur));
	if (e)
		goto unknown;
	if (strcmp(cur, want)) {
		snprintf(err, errlen, "the kernel driver %s did not take %s", want, name);
		return -EIO;
	}
	return 0;

unknown:
	snprintf(err, errlen, "cannot give %s to the kernel driver %s: %s", name,
		 want ? want : "none", strerror(-e));
	return e;
}

/*
 * The first entry of 'dir' whose name starts with 'prefix' into out;
 * -ENOENT when none.
 */
static int first_entry(const char *dir, const char *prefix, char *out, size_t len)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int err = -ENOENT;

	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.' || strncmp(de->d_name, prefix, strlen(prefix)))
			continue;
		snprintf(out, len, "%s", de->d_name);
		err = 0;
		break;
	}
	closedir(d);
	return err;
}

int vnet_kvdpa_netdev(const char *name, char *ifname, size_t len)
{
	struct timespec ts = { .tv_nsec = 10 * 1000 * 1000 };
	char dir[PATH_LEN], virtio[64];
	int err, tries = 200;

	/* virtio_net registers its netdev inside the probe; a little slack */
	do {
		snprintf(dir, sizeof(dir), SYSFS_DEVS "/%s", name);
		err = first_entry(dir, "virtio", virtio, sizeof(virtio));
		if (!err) {
			snprintf(dir, sizeof(dir), SYSFS_DEVS "/%s/%s/net", name, virtio);
			err = first_entry(dir, "", ifname, len);
		}
		if (!err)
			return 0;
		nanosleep(&ts, NULL);
	} while (--tries);
	return err;
}

int vnet_kvdpa_vhost_dev(const char *name, char *path, size_t len)
{
	char dir[PATH_LEN], ent[64];
	int err;

	snprintf(dir, sizeof(dir), SYSFS_DEVS "/%s", name);
	err = first_entry(dir, "vhost-vdpa-", ent, sizeof(ent));
	if (err)
		return err;
	snprintf(path, len, "/dev/%s", ent);
	return 0;
}

/* --- the netdev into a namespace (rtnetlink) ----------------------------- */

int vnet_netns_name_valid(const char *ns, const char **why)
{
	size_t len = strlen(ns);

	if (!len || len > 63 || !strcmp(ns, ".") || !strcmp(ns, "..") || strchr(ns, '/')) {
		*why = "network namespace must be a name of /run/netns (ip netns), "
		       "1-63 characters, no '/'";
		return -EINVAL;
	}
	return 0;
}

int vnet_netdev_to_netns(const char *ifname, const char *ns, char *err, size_t errlen)
{
	char buf[MNL_SOCKET_BUFFER_SIZE], path[PATH_LEN], ktext[VNET_KVDPA_ERR_MAX] = "";
	unsigned int ifindex = if_nametoindex(ifname);
	struct nlmsghdr *nlh;
	struct ifinfomsg *ifi;
	struct nl_req r;
	int nsfd, e;

	if (!ifindex) {
		snprintf(err, errlen, "the kernel netdev %s is gone", ifname);
		return -ENODEV;
	}
	snprintf(path, sizeof(path), VNET_NETNS_DIR "/%s", ns);
	nsfd = open(path, O_RDONLY | O_CLOEXEC);
	if (nsfd < 0) {
		e = -errno;
		snprintf(err, errlen, "network namespace %s not found (%s): %s", ns, path,
			 strerror(-e));
		return e;
	}
	e = nl_open(&r, NETLINK_ROUTE, ktext, sizeof(ktext));
	if (e) {
		close(nsfd);
		snprintf(err, errlen, "cannot open an rtnetlink socket: %s", strerror(-e));
		return e;
	}
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = RTM_NEWLINK;
	ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
	ifi->ifi_family = AF_UNSPEC;
	ifi->ifi_index = (int)ifindex;
	mnl_attr_put_u32(nlh, IFLA_NET_NS_FD, (__u32)nsfd);
	e = nl_run(&r, nlh);
	nl_close(&r);
	close(nsfd);
	if (e)
		snprintf(err, errlen, "cannot move %s into network namespace %s: %s%s%s", ifname,
			 ns, strerror(-e), ktext[0] ? ": " : "", ktext);
	return e;
}
