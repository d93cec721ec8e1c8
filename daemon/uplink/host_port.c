// SPDX-License-Identifier: MIT
/*
 * The host port of an uplink (include/vnet/host_port.h): a TAP vnetd owns
 * plus the two TC programs of bpf/vnet_host_tc.bpf.c.
 *
 * The TAP is plumbing, not an interface anyone should use: no addresses,
 * IPv6 off (no link-local address, no router or neighbour solicitations of
 * its own: everything the host sends into it would reach the devices), no
 * ARP. Its offloads stay off, so the kernel segments and checksums host
 * frames before they reach us: we read finished wire frames.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <linux/if_tun.h>
#include <bpf/libbpf.h>

#include "vnet/host_port.h"
#include "vnet/log.h"
#include "vnet/netutil.h"
#include "vnet_host_tc.skel.h"

/* Our filter's place in the uplink's clsact egress hook. */
#define HOST_PORT_TC_HANDLE	0x766e	/* "vn" */
#define HOST_PORT_TC_PRIO	1

#define FRAME_MIN	14
#define FRAME_MAX	65535

struct vnet_host_port {
	int tap_fd;
	int tap_ifindex;
	int uplink_ifindex;
	char name[IFNAMSIZ];
	struct vnet_host_tc *skel;
	bool egress_attached;
	struct vnet_host_port_stats st;
};

/* IPv6 off before the TAP comes up: no address, no solicitation, ever. */
static int disable_ipv6(const char *name)
{
	char path[96];
	int fd, err = 0;

	snprintf(path, sizeof(path), "/proc/sys/net/ipv6/conf/%s/disable_ipv6", name);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return errno == ENOENT ? 0 : -errno;	/* no IPv6 at all: fine */
	if (write(fd, "1", 1) != 1)
		err = -errno;
	close(fd);
	return err;
}

static int tap_create(struct vnet_host_port *hp)
{
	char uplink[IFNAMSIZ];
	struct ifreq ifr;
	int err;

	if (!if_indextoname(hp->uplink_ifindex, uplink))
		return -ENODEV;
	hp->tap_fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (hp->tap_fd < 0)
		return -errno;
	memset(&ifr, 0, sizeof(ifr));
	ifr.ifr_flags = IFF_TAP | IFF_NO_PI;
	snprintf(ifr.ifr_name, IFNAMSIZ, "vnh%d", hp->uplink_ifindex);
	if (ioctl(hp->tap_fd, TUNSETIFF, &ifr))
		return -errno;
	memcpy(hp->name, ifr.ifr_name, IFNAMSIZ);
	hp->name[IFNAMSIZ - 1] = '\0';
	err = disable_ipv6(hp->name);
	if (err)
		return err;

	/* the uplink's MTU: the host may send it anything the wire takes */
	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, uplink, IFNAMSIZ);
	err = vnet_if_ioctl(SIOCGIFMTU, &ifr);
	if (err)
		return err;
	memcpy(ifr.ifr_name, hp->name, IFNAMSIZ);
	err = vnet_if_ioctl(SIOCSIFMTU, &ifr);
	if (err)
		return err;

	memset(&ifr, 0, sizeof(ifr));
	memcpy(ifr.ifr_name, hp->name, IFNAMSIZ);
	err = vnet_if_ioctl(SIOCGIFFLAGS, &ifr);
	if (err)
		return err;
	ifr.ifr_flags |= IFF_UP | IFF_NOARP;
	err = vnet_if_ioctl(SIOCSIFFLAGS, &ifr);
	if (err)
		return err;
	hp->tap_ifindex = (int)if_nametoindex(hp->name);
	return hp->tap_ifindex > 0 ? 0 : -ENODEV;
}

/*
 * libbpf logs the kernel's extended ack of every failed TC request; for
 * the two we expect to fail ("clsact is there already", "no such filter")
 * that is noise in vnetd's log. Control thread only, like all callers.
 */
static libbpf_print_fn_t quiet(void)
{
	return libbpf_set_print(NULL);
}

/*
 * Create the clsact hook unless it is there (another user's, or ours from
 * a vnetd that was killed); REPLACE takes over our own stale filter.
 */
static int tc_attach(int ifindex, enum bpf_tc_attach_point where, int prog_fd)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = where);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, o, .handle = HOST_PORT_TC_HANDLE,
			    .priority = HOST_PORT_TC_PRIO, .prog_fd = prog_fd,
			    .flags = BPF_TC_F_REPLACE);
	libbpf_print_fn_t old = quiet();
	int err = bpf_tc_hook_create(&hook);

	libbpf_set_print(old);
	if (err && err != -EEXIST)
		return err;
	return bpf_tc_attach(&hook, &o);
}

static void tc_detach(int ifindex, enum bpf_tc_attach_point where)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = where);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, o, .handle = HOST_PORT_TC_HANDLE,
			    .priority = HOST_PORT_TC_PRIO);
	int err = bpf_tc_detach(&hook, &o);

	/*
	 * Only our filter goes: the clsact qdisc may carry other users'
	 * filters, so it stays (an empty one costs nothing).
	 */
	if (err && err != -ENOENT && err != -ENODEV)
		pr_warn("host port: TC filter on ifindex %d not removed: %s\n",
			ifindex, strerror(-err));
}

int vnet_host_port_detach_stale(int uplink_ifindex)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = uplink_ifindex,
			    .attach_point = BPF_TC_EGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, o, .handle = HOST_PORT_TC_HANDLE,
			    .priority = HOST_PORT_TC_PRIO);

	libbpf_print_fn_t old = quiet();
	int err = bpf_tc_query(&hook, &o);

	libbpf_set_print(old);
	if (err)
		return -ENOENT;
	o.prog_fd = o.prog_id = 0;
	o.flags = 0;
	return bpf_tc_detach(&hook, &o);
}

int vnet_host_port_open(int uplink_ifindex, int mac_devs_fd, struct vnet_host_port **out)
{
	struct vnet_host_port *hp;
	int err;

	if (uplink_ifindex <= 0 || mac_devs_fd < 0 || !out)
		return -EINVAL;
	hp = calloc(1, sizeof(*hp));
	if (!hp)
		return -ENOMEM;
	hp->tap_fd = -1;
	hp->uplink_ifindex = uplink_ifindex;
	err = tap_create(hp);
	if (err) {
		pr_warn("host port: TAP for ifindex %d: %s\n", uplink_ifindex, strerror(-err));
		goto err_free;
	}

	hp->skel = vnet_host_tc__open();
	if (!hp->skel) {
		err = -errno ?: -ENOMEM;
		goto err_free;
	}
	hp->skel->rodata->port_ifindex = (__u32)hp->tap_ifindex;
	hp->skel->rodata->uplink_ifindex = (__u32)uplink_ifindex;
	err = bpf_map__reuse_fd(hp->skel->maps.mac_devs, mac_devs_fd) ?:
	      vnet_host_tc__load(hp->skel);
	if (err) {
		pr_warn("host port: load: %s\n", strerror(-err));
		goto err_free;
	}
	/* ingress of the TAP first: nothing reaches the TAP before egress exists */
	err = tc_attach(hp->tap_ifindex, BPF_TC_INGRESS,
			bpf_program__fd(hp->skel->progs.vnet_host_ingress));
	if (!err) {
		err = tc_attach(uplink_ifindex, BPF_TC_EGRESS,
				bpf_program__fd(hp->skel->progs.vnet_host_egress));
		hp->egress_attached = !err;
	}
	if (err) {
		pr_warn("host port: TC attach: %s\n", strerror(-err));
		goto err_free;
	}
	pr_info("host port %s: host <-> devices of ifindex %d without the wire\n",
		hp->name, uplink_ifindex);
	*out = hp;
	return 0;

err_free:
	vnet_host_port_close(hp);
	return err;
}

void vnet_host_port_close(struct vnet_host_port *hp)
{
	if (!hp)
		return;
	if (hp->egress_attached)
		tc_detach(hp->uplink_ifindex, BPF_TC_EGRESS);
	/* the TAP, its qdisc and filter vanish with the last fd */
	if (hp->tap_fd >= 0)
		close(hp->tap_fd);
	vnet_host_tc__destroy(hp->skel);
	free(hp);
}

int vnet_host_port_fd(const struct vnet_host_port *hp)
{
	return hp->tap_fd;
}

const char *vnet_host_port_name(const struct vnet_host_port *hp)
{
	return hp->name;
}

ssize_t vnet_host_port_recv(struct vnet_host_port *hp, void *buf, size_t len)
{
	ssize_t n = read(hp->tap_fd, buf, len);

	if (n < 0)
		return -errno;
	if (n < FRAME_MIN)
		return 0;		/* nothing a device could take: dropped */
	hp->st.from_host++;
	return n;
}

/*
 * Every uplink worker sends (a write(2) is one frame whoever makes it),
 * so the counters are atomic; reading the port is worker 0's alone.
 */
int vnet_host_port_send(struct vnet_host_port *hp, const void *frame, size_t len)
{
	ssize_t n;

	if (len < FRAME_MIN || len > FRAME_MAX)
		return -EINVAL;
	n = write(hp->tap_fd, frame, len);
	if (n != (ssize_t)len) {
		__atomic_add_fetch(&hp->st.errors, 1, __ATOMIC_RELAXED);
		return n < 0 ? -errno : -EIO;
	}
	__atomic_add_fetch(&hp->st.to_host, 1, __ATOMIC_RELAXED);
	return 0;
}

void vnet_host_port_stats(const struct vnet_host_port *hp, struct vnet_host_port_stats *st)
{
	*st = hp->st;
}
