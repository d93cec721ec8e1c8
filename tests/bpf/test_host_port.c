// SPDX-License-Identifier: MIT
/*
 * The host port (daemon/uplink/host_port.c, bpf/vnet_host_tc.bpf.c) against the
 * real kernel: in a network namespace of its own, uplink veth up0
 * (10.9.0.1) with wire0 as the far end; a "device" with MAC DEV_MAC and
 * address 10.9.0.2 exists only in the MAC map. Shown: the host answers a
 * device's ARP request and ping through the port, never through the wire;
 * the host's broadcast reaches both the port and the wire; the host's
 * unicast to a MAC that is no device's goes to the wire only; bad frames
 * are refused and change nothing; close leaves no filter and no TAP; a
 * second port on the same uplink is refused; the filter a killed vnetd
 * left is found and removed.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <bpf/bpf.h>

#include "test.h"
#include "vnet/datapath.h"
#include "vnet/host_port.h"
#include "vnet/netutil.h"

static const __u8 DEV_MAC[6] = { 0x02, 0x00, 0x00, 0x09, 0x00, 0x02 };
static const __u8 WIRE_MAC[6] = { 0x02, 0x00, 0x00, 0x09, 0x00, 0x03 };
static __u8 up_mac[6];
static int up_ifindex, mac_fd = -1;
static struct vnet_host_port *hp;

static int sh(const char *fmt, ...)
{
	char cmd[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	return system(cmd);
}

static __u64 mac_key(const __u8 *mac)
{
	__u64 k = 0;

	memcpy(&k, mac, 6);
	return k;
}

/* By ioctl: /sys/class/net shows the namespace /sys was mounted in. */
static int read_mac(const char *ifname, __u8 *mac)
{
	struct ifreq ifr = { 0 };
	int err;

	snprintf(ifr.ifr_name, IFNAMSIZ, "%s", ifname);
	err = vnet_if_ioctl(SIOCGIFHWADDR, &ifr);
	if (!err)
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	return err;
}

static __u16 csum16(const __u8 *p, size_t len)
{
	__u32 s = 0;

	for (size_t i = 0; i + 1 < len; i += 2)
		s += (__u32)p[i] << 8 | p[i + 1];
	if (len & 1)
		s += (__u32)p[len - 1] << 8;
	while (s >> 16)
		s = (s & 0xffff) + (s >> 16);
	return (__u16)~s;
}

static void put16(__u8 *p, __u16 v)
{
	p[0] = (__u8)(v >> 8);
	p[1] = (__u8)v;
}

static size_t eth_hdr(__u8 *f, const __u8 *dst, const __u8 *src, __u16 type)
{
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	put16(f + 12, type);
	return 14;
}

/* The device asks who has 'tpa' (a full request: sender MAC and address). */
static size_t arp_request(__u8 *f, const char *spa, const char *tpa)
{
	static const __u8 bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const __u8 hdr[8] = { 0, 1, 0x08, 0x00, 6, 4, 0, 1 };

	memset(f, 0, 60);
	eth_hdr(f, bcast, DEV_MAC, ETH_P_ARP);
	memcpy(f + 14, hdr, 8);
	memcpy(f + 22, DEV_MAC, 6);
	inet_pton(AF_INET, spa, f + 28);
	inet_pton(AF_INET, tpa, f + 38);
	return 60;
}

/* ICMP echo request from the device to the host, 'id' to find the reply. */
static size_t echo_request(__u8 *f, __u16 id)
{
	__u8 *ip = f + 14, *icmp = ip + 20;

	memset(f, 0, 14 + 20 + 16);
	eth_hdr(f, up_mac, DEV_MAC, ETH_P_IP);
	ip[0] = 0x45;
	put16(ip + 2, 20 + 16);
	ip[8] = 64;
	ip[9] = IPPROTO_ICMP;
	inet_pton(AF_INET, "10.9.0.2", ip + 12);
	inet_pton(AF_INET, "10.9.0.1", ip + 16);
	put16(ip + 10, csum16(ip, 20));
	icmp[0] = 8;
	put16(icmp + 4, id);
	put16(icmp + 6, 1);
	memcpy(icmp + 8, "vnet-hp!", 8);
	put16(icmp + 2, csum16(icmp, 16));
	return 14 + 20 + 16;
}

typedef int (*frame_match)(const __u8 *f, ssize_t n, const void *arg);

/* Frames from the port until one matches or ms pass: 1 matched, 0 not. */
static int port_wait(int ms, frame_match match, const void *arg)
{
	struct pollfd pfd = { .fd = vnet_host_port_fd(hp), .events = POLLIN };
	__u8 buf[2048];

	for (int waited = 0; waited < ms; waited += 10) {
		ssize_t n;

		while ((n = vnet_host_port_recv(hp, buf, sizeof(buf))) > 0)
			if (match(buf, n, arg))
				return 1;
		poll(&pfd, 1, 10);
	}
	return 0;
}

static void port_drain(void)
{
	__u8 buf[2048];

	while (vnet_host_port_recv(hp, buf, sizeof(buf)) > 0)
		;
}

static int is_arp_reply_to_dev(const __u8 *f, ssize_t n, const void *arg)
{
	(void)arg;
	return n >= 42 && !memcmp(f, DEV_MAC, 6) && f[12] == 0x08 && f[13] == 0x06 &&
	       f[21] == 2 && !memcmp(f + 6, up_mac, 6);
}

static int is_echo_reply(const __u8 *f, ssize_t n, const void *arg)
{
	__u16 id = *(const __u16 *)arg;

	return n >= 14 + 20 + 8 && !memcmp(f, DEV_MAC, 6) && f[12] == 0x08 &&
	       f[13] == 0x00 && f[23] == IPPROTO_ICMP && f[34] == 0 &&
	       (f[38] << 8 | f[39]) == id;
}

/* A broadcast ARP request of the host for 'tpa' (network order). */
static int is_host_arp_for(const __u8 *f, ssize_t n, const void *arg)
{
	return n >= 42 && !memcmp(f, "\xff\xff\xff\xff\xff\xff", 6) &&
	       f[12] == 0x08 && f[13] == 0x06 && f[21] == 1 && !memcmp(f + 38, arg, 4);
}

static int is_to_wire_mac(const __u8 *f, ssize_t n, const void *arg)
{
	(void)arg;
	return n >= 14 && !memcmp(f, WIRE_MAC, 6);
}

/* A packet socket on wire0: what really went out on the wire. */
static int wire_socket(void)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL),
		.sll_ifindex = (int)if_nametoindex("wire0"),
	};
	int s = socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, htons(ETH_P_ALL));

	if (s >= 0 && bind(s, (struct sockaddr *)&sll, sizeof(sll))) {
		close(s);
		s = -1;
	}
	return s;
}

static int wire_wait(int s, int ms, frame_match match, const void *arg)
{
	struct pollfd pfd = { .fd = s, .events = POLLIN };
	__u8 buf[2048];

	for (int waited = 0; waited < ms; waited += 10) {
		ssize_t n;

		while ((n = recv(s, buf, sizeof(buf), 0)) > 0)
			if (match(buf, n, arg))
				return 1;
		poll(&pfd, 1, 10);
	}
	return 0;
}

/* The host sends a UDP datagram to 'ip' (kicks ARP, or a unicast frame). */
static void host_send_udp(const char *ip)
{
	struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons(9) };
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	inet_pton(AF_INET, ip, &to.sin_addr);
	if (s >= 0) {
		sendto(s, "x", 1, 0, (struct sockaddr *)&to, sizeof(to));
		close(s);
	}
}

static void test_host_port_arp(void)
{
	__u8 f[64];
	int ws = wire_socket();

	EXPECT(ws >= 0, "packet socket on wire0: %s", strerror(errno));
	port_drain();
	EXPECT(vnet_host_port_send(hp, f, arp_request(f, "10.9.0.2", "10.9.0.1")) == 0,
	       "send ARP request");
	EXPECT(port_wait(2000, is_arp_reply_to_dev, NULL), "no ARP reply from the host");
	/* the reply went to the device, never to the wire */
	EXPECT(!wire_wait(ws, 200, is_arp_reply_to_dev, NULL), "ARP reply on the wire");
	if (ws >= 0)
		close(ws);
}

static void test_host_port_ping(void)
{
	__u16 id = 0x5a17;
	__u8 f[128];
	int ws = wire_socket();

	port_drain();
	for (int i = 0; i < 3; i++) {
		EXPECT(vnet_host_port_send(hp, f, echo_request(f, id)) == 0, "send echo");
		if (port_wait(1000, is_echo_reply, &id))
			break;
		EXPECT(i < 2, "no echo reply from the host");
	}
	EXPECT(!wire_wait(ws, 200, is_echo_reply, &id), "echo reply on the wire");
	if (ws >= 0)
		close(ws);
}

static void test_host_port_broadcast(void)
{
	__u8 tpa[4];
	int ws = wire_socket();

	inet_pton(AF_INET, "10.9.0.77", tpa);
	port_drain();
	host_send_udp("10.9.0.77");	/* nobody has it: the host broadcasts ARP */
	EXPECT(port_wait(2000, is_host_arp_for, tpa), "host's ARP broadcast not on the port");
	EXPECT(wire_wait(ws, 2000, is_host_arp_for, tpa), "host's ARP broadcast not on the wire");
	if (ws >= 0)
		close(ws);
}

static void test_host_port_foreign_unicast(void)
{
	int ws = wire_socket();

	port_drain();
	host_send_udp("10.9.0.3");	/* static neighbour: WIRE_MAC, no device's */
	EXPECT(wire_wait(ws, 2000, is_to_wire_mac, NULL), "unicast to the wire lost");
	EXPECT(!port_wait(300, is_to_wire_mac, NULL), "unicast to the wire reached the port");
	if (ws >= 0)
		close(ws);
}

static void test_host_port_bad_frames(void)
{
	static __u8 big[70000];
	struct vnet_host_port_stats a, b;
	__u8 f[16] = { 0 };

	vnet_host_port_stats(hp, &a);
	EXPECT(vnet_host_port_send(hp, f, 10) == -EINVAL, "runt accepted");
	EXPECT(vnet_host_port_send(hp, big, sizeof(big)) == -EINVAL, "70000 B accepted");
	EXPECT(vnet_host_port_send(hp, NULL, 0) == -EINVAL, "empty frame accepted");
	vnet_host_port_stats(hp, &b);
	EXPECT(!memcmp(&a, &b, sizeof(a)), "refused frames counted");
	EXPECT(vnet_host_port_open(up_ifindex, -1, &(struct vnet_host_port *){ 0 }) == -EINVAL,
	       "bad map fd accepted");
}

static void test_host_port_one_per_uplink(void)
{
	struct vnet_host_port *second = NULL;
	int err = vnet_host_port_open(up_ifindex, mac_fd, &second);

	EXPECT(err == -EBUSY, "second port on up0: %d (%s)", err, strerror(-err));
	if (!err)
		vnet_host_port_close(second);
}

static void test_host_port_close(void)
{
	char name[IFNAMSIZ];

	snprintf(name, sizeof(name), "%s", vnet_host_port_name(hp));
	/* the check below can see the filter: it does while the port is open */
	EXPECT(sh("tc filter show dev up0 egress | grep -q 'handle 0x766e'") == 0,
	       "TC filter not visible on up0");
	EXPECT(if_nametoindex(name), "%s missing while open", name);
	vnet_host_port_close(hp);
	hp = NULL;
	EXPECT(sh("tc filter show dev up0 egress | grep -q 'handle 0x766e'") != 0,
	       "TC filter left on up0");
	EXPECT(!if_nametoindex(name), "%s still exists", name);
}

/* A vnetd killed with its port open leaves the uplink's filter behind. */
static void test_host_port_stale_filter(void)
{
	struct vnet_host_port *p = NULL;
	pid_t pid = fork();
	int status = 0;

	if (pid == 0)
		_exit(vnet_host_port_open(up_ifindex, mac_fd, &p) ? 1 : 0);	/* no close */
	EXPECT(pid > 0 && waitpid(pid, &status, 0) == pid && WIFEXITED(status) &&
	       !WEXITSTATUS(status), "child could not open a port");
	EXPECT(sh("tc filter show dev up0 egress | grep -q 'handle 0x766e'") == 0,
	       "the dead port's filter is not there");
	EXPECT(vnet_host_port_detach_stale(up_ifindex) == 0, "stale filter not removed");
	EXPECT(sh("tc filter show dev up0 egress | grep -q 'handle 0x766e'") != 0,
	       "stale filter still there");
	EXPECT(vnet_host_port_detach_stale(up_ifindex) == -ENOENT, "a second removal");
	/* and a new port opens over the ruins */
	EXPECT(vnet_host_port_open(up_ifindex, mac_fd, &p) == 0, "port after a crash");
	vnet_host_port_close(p);
}

static int setup(void)
{
	if (unshare(CLONE_NEWNET))
		return -errno;
	if (sh("ip link set lo up && ip link add up0 type veth peer name wire0 &&"
	       " ip link set wire0 address 02:00:00:09:00:03 &&"
	       " ip addr add 10.9.0.1/24 dev up0 && ip link set up0 up && ip link set wire0 up &&"
	       " ip neigh add 10.9.0.3 lladdr 02:00:00:09:00:03 dev up0"))
		return -EIO;
	up_ifindex = (int)if_nametoindex("up0");
	if (!up_ifindex || read_mac("up0", up_mac))
		return -ENODEV;
	mac_fd = bpf_map_create(BPF_MAP_TYPE_HASH, "mac_devs", 8, 8, VNET_DP_MAX_MACS, NULL);
	if (mac_fd < 0)
		return -errno;
	{
		__u64 k = mac_key(DEV_MAC), v = 1;

		if (bpf_map_update_elem(mac_fd, &k, &v, 0))
			return -errno;
		k = mac_key(up_mac);
		v = VNET_DP_HOST_BIT;
		if (bpf_map_update_elem(mac_fd, &k, &v, 0))
			return -errno;
	}
	return vnet_host_port_open(up_ifindex, mac_fd, &hp);
}

int main(void)
{
	int err;

	if (geteuid() != 0) {
		printf("TEST: %-50s [SKIP]\n  needs root\n", "test_host_port");
		return 4;
	}
	err = setup();
	if (err) {
		printf("TEST: %-50s [FAIL]\n  setup: %s\n", "test_host_port_setup", strerror(-err));
		return 1;
	}
	RUN(test_host_port_arp);
	RUN(test_host_port_ping);
	RUN(test_host_port_broadcast);
	RUN(test_host_port_foreign_unicast);
	RUN(test_host_port_bad_frames);
	RUN(test_host_port_one_per_uplink);
	RUN(test_host_port_close);
	RUN(test_host_port_stale_filter);
	return test_summary();
}
