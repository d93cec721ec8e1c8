// SPDX-License-Identifier: MIT
/*
 * The TAP side: one queue per virtqueue pair (IFF_MULTI_QUEUE), the virtio
 * header carried in front of every frame (IFF_VNET_HDR, the same layout as
 * the device's header), offloads the device accepted (TUNSETOFFLOAD says
 * which kinds of frame the kernel may hand us), carrier = link status, and
 * the interface's receive filter read back through rtnetlink and
 * /proc/net/dev_mcast for the control queue.
 */
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>
#include <libmnl/libmnl.h>
#include <arpa/inet.h>
#include <linux/ethtool.h>
#include <linux/if_arp.h>
#include <linux/if_ether.h>
#include <linux/if_link.h>
#include <linux/if_packet.h>
#include <linux/if_tun.h>
#include <linux/rtnetlink.h>
#include <linux/sockios.h>
#include <linux/virtio_net.h>

#ifndef TUN_F_USO4	/* Linux 6.2 */
#define TUN_F_USO4	0x20
#define TUN_F_USO6	0x40
#endif

#include "vnet/features.h"
#include "vnet/log.h"
#include "vnet/netutil.h"
#include "guest.h"

#define BIT(n)		(1ull << (n))

int enter_netns(const char *name)
{
	char path[256];
	int fd, err = 0;

	snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (setns(fd, CLONE_NEWNET))
		err = -errno;
	close(fd);
	return err;
}

int tap_set_mac(struct guest *g, const __u8 mac[6])
{
	struct ifreq ifr = { 0 };

	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", g->tap_name);
	ifr.ifr_hwaddr.sa_family = 1;	/* ARPHRD_ETHER */
	memcpy(ifr.ifr_hwaddr.sa_data, mac, 6);
	return vnet_if_ioctl(SIOCSIFHWADDR, &ifr);
}

static int tap_set_mtu(struct guest *g, unsigned int mtu)
{
	struct ifreq ifr = { 0 };

	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", g->tap_name);
	ifr.ifr_mtu = (int)mtu;
	return vnet_if_ioctl(SIOCSIFMTU, &ifr);
}

int tap_open(struct guest *g)
{
	unsigned int q;
	int fd, err;

	for (q = 0; q < g->nqp; q++) {
		struct ifreq ifr = { 0 };

		fd = open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC);
		if (fd < 0) {
			err = -errno;
			goto err_close;
		}
		ifr.ifr_flags = IFF_TAP | IFF_NO_PI | IFF_VNET_HDR | IFF_MULTI_QUEUE;
		snprintf(ifr.ifr_name, IFNAMSIZ, "%s", q ? g->tap_name : g->o.tap_name);
		if (ioctl(fd, TUNSETIFF, &ifr)) {
			err = -errno;
			close(fd);
			goto err_close;
		}
		g->tap_fds[q] = fd;
		g->ntap = q + 1;
		if (!q)
			snprintf(g->tap_name, sizeof(g->tap_name), "%s", ifr.ifr_name);
	}
	g->tap_ifindex = (int)if_nametoindex(g->tap_name);
	/* the device's MAC and MTU (spec 5.1.5: use them when offered) */
	if (g->features & BIT(VIRTIO_NET_F_MAC)) {
		err = tap_set_mac(g, g->config);
		if (err)
			pr_warn("%s: cannot set MAC: %s\n", g->tap_name, strerror(-err));
	}
	err = tap_set_mtu(g, g->mtu);
	if (err)
		pr_warn("%s: cannot set MTU %u: %s\n", g->tap_name, g->mtu, strerror(-err));
	return 0;

err_close:
	tap_close(g);
	return err;
}

void tap_close(struct guest *g)
{
	unsigned int q;

	for (q = 0; q < g->ntap; q++)
		close(g->tap_fds[q]);
	g->ntap = 0;
}

/* header size and offloads follow the negotiated features (per connection) */
int tap_set_offloads(struct guest *g)
{
	unsigned int off = 0, q;
	int sz = g->hdr_len;

	if (g->features & BIT(VIRTIO_NET_F_CSUM)) {
		off |= TUN_F_CSUM;
		if (g->features & BIT(VIRTIO_NET_F_HOST_TSO4))
			off |= TUN_F_TSO4;
		if (g->features & BIT(VIRTIO_NET_F_HOST_TSO6))
			off |= TUN_F_TSO6;
		if ((off & (TUN_F_TSO4 | TUN_F_TSO6)) && (g->features & BIT(VIRTIO_NET_F_HOST_ECN)))
			off |= TUN_F_TSO_ECN;
		/* UDP GSO sends (UDP_SEGMENT) reach the device whole */
		if (g->features & BIT(VIRTIO_NET_F_HOST_USO))
			off |= TUN_F_USO4 | TUN_F_USO6;
	}
	for (q = 0; q < g->ntap; q++) {
		if (ioctl(g->tap_fds[q], TUNSETVNETHDRSZ, &sz))
			return -errno;
		/* a TAP older than Linux 6.2 knows no USO: the stack segments
		 * UDP itself then, the rest stays */
		if (ioctl(g->tap_fds[q], TUNSETOFFLOAD, off) &&
		    (errno != EINVAL || !(off & TUN_F_USO4) ||
		     ioctl(g->tap_fds[q], TUNSETOFFLOAD, off & ~(TUN_F_USO4 | TUN_F_USO6))))
			return -errno;
	}
	return 0;
}

int tap_set_carrier(struct guest *g, bool up)
{
	int on = up;

	if (!g->ntap)
		return 0;
	return ioctl(g->tap_fds[0], TUNSETCARRIER, &on) ? -errno : 0;
}

/* --- the interface's receive filter ----------------------------------------- */

static int read_mcast(struct guest *g, struct guest_rxmode *m)
{
	char line[256], name[IFNAMSIZ + 1], hex[64];
	int idx, users, global;
	FILE *f = fopen("/proc/net/dev_mcast", "re");

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		unsigned int b[6];

		if (sscanf(line, "%d %16s %d %d %63s", &idx, name, &users, &global, hex) != 5 ||
		    idx != g->tap_ifindex || strlen(hex) != 12)
			continue;
		if (sscanf(hex, "%2x%2x%2x%2x%2x%2x", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5]) != 6)
			continue;
		if (m->n_mc == VNET_MAC_TABLE_MAX) {
			/* more than the table keeps: all multicast, like virtnet */
			m->allmulti = true;
			continue;
		}
		for (int i = 0; i < 6; i++)
			m->mc[m->n_mc][i] = (__u8)b[i];
		m->n_mc++;
	}
	fclose(f);
	if (m->allmulti)
		m->n_mc = 0;
	return 0;
}

struct link_cb {
	struct guest *g;
	struct guest_rxmode *m;
	bool found;
};

static void parse_vlan(const struct nlattr *linkinfo, struct guest_rxmode *m)
{
	const struct nlattr *a, *kind = NULL, *data = NULL;

	mnl_attr_for_each_nested(a, linkinfo) {
		if (mnl_attr_get_type(a) == IFLA_INFO_KIND)
			kind = a;
		else if (mnl_attr_get_type(a) == IFLA_INFO_DATA)
			data = a;
	}
	if (!kind || !data || strcmp(mnl_attr_get_str(kind), "vlan"))
		return;
	mnl_attr_for_each_nested(a, data) {
		if (mnl_attr_get_type(a) == IFLA_VLAN_ID) {
			__u16 vid = mnl_attr_get_u16(a) & 0xfff;

			m->vlans[vid / 32] |= 1u << (vid % 32);
		}
	}
}

static int link_cb(const struct nlmsghdr *nlh, void *data)
{
	struct link_cb *cb = data;
	struct ifinfomsg *ifi = mnl_nlmsg_get_payload(nlh);
	const struct nlattr *a, *linkinfo = NULL;
	__u32 link = 0;
	bool has_link = false;

	mnl_attr_for_each(a, nlh, sizeof(*ifi)) {
		switch (mnl_attr_get_type(a)) {
		case IFLA_LINK:
			link = mnl_attr_get_u32(a);
			has_link = true;
			break;
		case IFLA_LINKINFO:
			linkinfo = a;
			break;
		}
		if (ifi->ifi_index != cb->g->tap_ifindex)
			continue;
		switch (mnl_attr_get_type(a)) {
		case IFLA_PROMISCUITY:
			cb->m->promisc = mnl_attr_get_u32(a) > 0;
			break;
		case IFLA_ALLMULTI:
			cb->m->allmulti |= mnl_attr_get_u32(a) > 0;
			break;
		case IFLA_ADDRESS:
			if (mnl_attr_get_payload_len(a) == 6)
				memcpy(cb->m->mac, mnl_attr_get_payload(a), 6);
			break;
		}
	}
	if (ifi->ifi_index == cb->g->tap_ifindex) {
		cb->found = true;
		if (ifi->ifi_flags & IFF_PROMISC)
			cb->m->promisc = true;
		if (ifi->ifi_flags & IFF_ALLMULTI)
			cb->m->allmulti = true;
	}
	/* VLAN devices on top of the TAP: their VIDs go to the VLAN filter */
	if (has_link && (int)link == cb->g->tap_ifindex && linkinfo)
		parse_vlan(linkinfo, cb->m);
	return MNL_CB_OK;
}

/*
 * One rtnetlink dump (RTM_GET* with NLM_F_DUMP; hdr is its family header)
 * on a socket of its own, every message through cb: 0 or -errno.
 */
static int rtnl_dump(__u16 type, const void *hdr, size_t hdr_len, mnl_cb_t cb, void *data)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct mnl_socket *nl;
	struct nlmsghdr *nlh;
	unsigned int portid;
	int ret, err = 0;

	nl = mnl_socket_open(NETLINK_ROUTE);
	if (!nl)
		return -errno;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		err = -errno;
		goto out;
	}
	portid = mnl_socket_get_portid(nl);
	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	nlh->nlmsg_seq = 1;
	memcpy(mnl_nlmsg_put_extra_header(nlh, hdr_len), hdr, hdr_len);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		err = -errno;
		goto out;
	}
	while ((ret = (int)mnl_socket_recvfrom(nl, buf, sizeof(buf))) > 0) {
		ret = mnl_cb_run(buf, (size_t)ret, 1, portid, cb, data);
		if (ret <= 0)
			break;
	}
	if (ret < 0)
		err = -errno ?: -EIO;
out:
	mnl_socket_close(nl);
	return err;
}

int tap_read_rxmode(struct guest *g, struct guest_rxmode *m)
{
	struct ifinfomsg ifi = { .ifi_family = AF_UNSPEC };
	struct link_cb cb = { .g = g, .m = m };
	int err;

	memset(m, 0, sizeof(*m));
	err = rtnl_dump(RTM_GETLINK, &ifi, sizeof(ifi), link_cb, &cb);
	if (!err && !cb.found)
		err = -ENODEV;
	if (!err)
		err = read_mcast(g, m);
	if (!err && tap_get_gro(g, &m->gro))
		m->gro = true;	/* cannot tell: the default */
	/* VIDs from the command line: for kernels without 8021q, too */
	for (unsigned int i = 0; i < VNET_VLAN_N / 32; i++)
		m->vlans[i] |= g->o.vlans[i] | g->file_vlans[i];
	return err;
}

/* The interface's GRO feature (ETHTOOL_GGRO): our switch for coalescing. */
int tap_get_gro(struct guest *g, bool *on)
{
	struct ethtool_value ev = { .cmd = ETHTOOL_GGRO };
	struct ifreq ifr = { 0 };
	int err;

	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", g->tap_name);
	ifr.ifr_data = (void *)&ev;
	err = vnet_if_ioctl(SIOCETHTOOL, &ifr);
	if (!err)
		*on = ev.data;
	return err;
}

/* --- rtnetlink events --------------------------------------------------------- */

/*
 * The interface's filter changes when links come and go (a macvlan on the
 * TAP adds its MAC to the TAP's unicast list: promiscuity, since a TAP has
 * no unicast filter), flags change, or addresses come and go (IPv6 joins
 * solicited-node groups). Those are RTM_NEWLINK/DELLINK and RTM_NEWADDR/
 * DELADDR events in the TAP's namespace: the mirror runs when one arrives,
 * so the device filter follows at once. Multicast list changes through
 * SIOCADDMULTI (ip maddr) send no event: the periodic re-sync catches them.
 */
int tap_events_open(struct guest *g)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK,
				  .nl_groups = RTMGRP_LINK | RTMGRP_IPV4_IFADDR |
					       RTMGRP_IPV6_IFADDR };
	int fd, one = 1;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return -errno;
	}
	/* an overrun is only a hint to re-read everything, never an error */
	setsockopt(fd, SOL_NETLINK, NETLINK_NO_ENOBUFS, &one, sizeof(one));
	g->nl_fd = fd;
	return 0;
}

/* true when something happened (the contents do not matter: we re-read) */
bool tap_events_drain(struct guest *g)
{
	char buf[8192];
	bool any = false;
	ssize_t n;

	while ((n = recv(g->nl_fd, buf, sizeof(buf), MSG_DONTWAIT)) > 0 ||
	       (n < 0 && errno == ENOBUFS))
		any = true;
	if (any)
		g->nl_events++;
	return any;
}

/* --- gratuitous packets (spec 5.1.6.5.4) --------------------------------------- */

struct addr_cb {
	int ifindex;
	unsigned int n;
	__be32 ip[16];
};

static int addr_cb(const struct nlmsghdr *nlh, void *data)
{
	struct ifaddrmsg *ifa = mnl_nlmsg_get_payload(nlh);
	struct addr_cb *cb = data;
	const struct nlattr *a;

	if (ifa->ifa_family != AF_INET || (int)ifa->ifa_index != cb->ifindex)
		return MNL_CB_OK;
	mnl_attr_for_each(a, nlh, sizeof(*ifa)) {
		if (mnl_attr_get_type(a) == IFA_LOCAL && cb->n < 16 &&
		    mnl_attr_get_payload_len(a) == 4)
			memcpy(&cb->ip[cb->n++], mnl_attr_get_payload(a), 4);
	}
	return MNL_CB_OK;
}

static int tap_ipv4_addrs(struct guest *g, struct addr_cb *cb)
{
	struct ifaddrmsg ifa = { .ifa_family = AF_INET };

	cb->ifindex = g->tap_ifindex;
	cb->n = 0;
	return rtnl_dump(RTM_GETADDR, &ifa, sizeof(ifa), addr_cb, cb);
}

/* ARP (RFC 826) over Ethernet: op, sender hw/proto, target hw/proto */
static size_t build_arp(__u8 *f, const __u8 mac[6], __u16 ethertype, __u16 op,
			__be32 sip, const __u8 tha[6], __be32 tip)
{
	struct ethhdr *eth = (struct ethhdr *)f;
	struct arphdr *ah = (struct arphdr *)(eth + 1);
	__u8 *p = (__u8 *)(ah + 1);

	memset(eth->h_dest, 0xff, 6);
	memcpy(eth->h_source, mac, 6);
	eth->h_proto = htons(ethertype);
	ah->ar_hrd = htons(ARPHRD_ETHER);
	ah->ar_pro = htons(ETH_P_IP);
	ah->ar_hln = 6;
	ah->ar_pln = 4;
	ah->ar_op = htons(op);
	memcpy(p, mac, 6);
	memcpy(p + 6, &sip, 4);
	memcpy(p + 10, tha, 6);
	memcpy(p + 16, &tip, 4);
	/* pad to the Ethernet minimum (60 bytes without FCS) */
	memset(p + 20, 0, 60 - (14 + sizeof(*ah) + 20));
	return 60;
}

/*
 * Announce the interface after S_ANNOUNCE (spec 5.1.6.5.4 "Gratuitous
 * Packet Sending"): what Linux's netdev_notify_peers() makes the stack do,
 * a gratuitous ARP request for every IPv4 address of the TAP; with none, a
 * RARP for its MAC as QEMU's self-announce sends, so switches still learn
 * where the MAC lives. The frames leave through the TAP like any other, i.e.
 * through our own transmit queue; PACKET_QDISC_BYPASS because the carrier
 * may have come up a moment ago and the kernel's link watch may not have
 * re-attached the qdisc yet. Returns the frames sent.
 */
int tap_get_mac(struct guest *g, __u8 mac[6])
{
	struct ifreq ifr = { 0 };
	int err;

	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", g->tap_name);
	err = vnet_if_ioctl(SIOCGIFHWADDR, &ifr);
	if (!err)
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	return err;
}

int tap_announce(struct guest *g)
{
	static const __u8 zero[6];
	struct sockaddr_ll ll = { .sll_family = AF_PACKET, .sll_halen = 6 };
	struct addr_cb addrs;
	__u8 frame[64], mac[6];
	unsigned int i, sent = 0;
	int fd, one = 1, err;
	size_t len;

	err = tap_get_mac(g, mac);
	if (err)
		return err;
	err = tap_ipv4_addrs(g, &addrs);
	if (err)
		return err;
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof(one));
	ll.sll_ifindex = g->tap_ifindex;
	memset(ll.sll_addr, 0xff, 6);
	for (i = 0; i < addrs.n || (!addrs.n && i == 0); i++) {
		if (addrs.n) {
			ll.sll_protocol = htons(ETH_P_ARP);
			len = build_arp(frame, mac, ETH_P_ARP, ARPOP_REQUEST, addrs.ip[i], zero,
					addrs.ip[i]);
		} else {
			ll.sll_protocol = htons(ETH_P_RARP);
			/* RFC 903: "request reverse", sender = target = our MAC */
			len = build_arp(frame, mac, ETH_P_RARP, ARPOP_RREQUEST, 0, mac, 0);
		}
		if (sendto(fd, frame, len, 0, (struct sockaddr *)&ll, sizeof(ll)) < 0) {
			err = -errno;
			break;
		}
		sent++;
	}
	close(fd);
	g->announce_frames += sent;
	return sent ? (int)sent : err;
}

/* --- the VLAN file ---------------------------------------------------------------- */

/*
 * --vlan-file: VIDs (whitespace or comma separated, '#' to end of line)
 * that are in the VLAN filter besides --vlan and VLAN devices. Re-read on
 * SIGHUP: for kernels without 8021q this is how VLANs come and go at run
 * time (VLAN_ADD / VLAN_DEL). A bad file changes nothing.
 */
int tap_load_vlan_file(struct guest *g)
{
	__u32 v[VNET_VLAN_N / 32] = { 0 };
	char line[512];
	FILE *f;

	if (!g->o.vlan_file)
		return 0;
	f = fopen(g->o.vlan_file, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		char *tok, *save = NULL, *hash = strchr(line, '#');

		if (hash)
			*hash = 0;
		for (tok = strtok_r(line, " \t\r\n,", &save); tok;
		     tok = strtok_r(NULL, " \t\r\n,", &save)) {
			char *end;
			unsigned long vid = strtoul(tok, &end, 10);

			if (*end || !vid || vid >= VNET_VLAN_N) {
				pr_warn("%s: bad VLAN id \"%s\": file ignored\n",
					g->o.vlan_file, tok);
				fclose(f);
				return -EINVAL;
			}
			v[vid / 32] |= 1u << (vid % 32);
		}
	}
	fclose(f);
	memcpy(g->file_vlans, v, sizeof(v));
	g->vlan_reloads++;
	return 0;
}
