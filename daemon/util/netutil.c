// SPDX-License-Identifier: MIT
/* include/vnet/netutil.h */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <net/if.h>
#include <sys/ioctl.h>
#include <sys/socket.h>

#include <libmnl/libmnl.h>
#include <linux/ethtool.h>
#include <linux/netlink.h>
#include <linux/sockios.h>

#include "vnet/netutil.h"

int vnet_hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

int vnet_mac_parse(const char *s, __u8 mac[6])
{
	__u8 m[6];

	if (!s)
		return -EINVAL;
	/* by hand: sscanf's %x would take spaces, signs and "0x" too */
	for (int i = 0; i < 6; i++) {
		int n, d, v = 0;

		for (n = 0; n < 2 && (d = vnet_hex_digit(*s)) >= 0; n++, s++)
			v = v * 16 + d;
		if (!n)
			return -EINVAL;
		m[i] = (__u8)v;
		if (i < 5 && *s++ != ':')
			return -EINVAL;
	}
	if (*s)
		return -EINVAL;
	for (int i = 0; i < 6; i++)
		mac[i] = m[i];
	return 0;
}

size_t vnet_rarp_build(__u8 f[VNET_RARP_LEN], const __u8 mac[6])
{
	memset(f, 0, VNET_RARP_LEN);
	memset(f, 0xff, 6);				/* broadcast */
	memcpy(f + 6, mac, 6);
	f[12] = 0x80, f[13] = 0x35;			/* ETH_P_RARP */
	f[14] = 0, f[15] = 1, f[16] = 8, f[17] = 0;	/* Ethernet, IPv4 */
	f[18] = 6, f[19] = 4, f[20] = 0, f[21] = 3;	/* request reverse (RFC 903) */
	memcpy(f + 22, mac, 6);				/* sender hardware address */
	memcpy(f + 32, mac, 6);				/* target hardware address */
	return VNET_RARP_LEN;
}

int vnet_if_ioctl(unsigned long req, struct ifreq *ifr)
{
	int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), err = 0;

	if (s < 0)
		return -errno;
	if (ioctl(s, req, ifr))
		err = -errno;
	close(s);
	return err;
}

void vnet_if_speed(const char *ifname, __u32 *speed, __u8 *duplex)
{
	struct ethtool_cmd ec = { .cmd = ETHTOOL_GSET };
	struct ifreq ifr = { .ifr_data = (char *)&ec };
	__u32 s;

	*speed = 0xffffffff;
	*duplex = 0xff;
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	/* GSET is served from get_link_ksettings by every kernel since 4.6 */
	if (vnet_if_ioctl(SIOCETHTOOL, &ifr))
		return;
	s = ethtool_cmd_speed(&ec);
	/* the kernel's SPEED_UNKNOWN is (u32)-1, as virtio's; spec 5.1.4: 0 to 0x7fffffff */
	if (s <= 0x7fffffff)
		*speed = s;
	if (ec.duplex == DUPLEX_FULL || ec.duplex == DUPLEX_HALF)
		*duplex = ec.duplex;
}

int vnet_nl_ack_parse(const struct nlmsghdr *nlh, char *msg, size_t msglen, __u32 *off)
{
	const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
	size_t hlen = sizeof(*e);
	const struct nlattr *a;

	if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*e))
		return -EBADMSG;
	/* without NETLINK_CAP_ACK the whole request is echoed first */
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		hlen += e->msg.nlmsg_len - sizeof(e->msg);
	if ((nlh->nlmsg_flags & NLM_F_ACK_TLVS) && hlen <= mnl_nlmsg_get_payload_len(nlh)) {
		mnl_attr_for_each(a, nlh, hlen) {
			if (mnl_attr_get_type(a) == NLMSGERR_ATTR_MSG &&
			    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) >= 0 && msg)
				snprintf(msg, msglen, "%s", mnl_attr_get_str(a));
			if (mnl_attr_get_type(a) == NLMSGERR_ATTR_OFFS &&
			    mnl_attr_validate(a, MNL_TYPE_U32) >= 0 && off)
				*off = mnl_attr_get_u32(a);
		}
	}
	return e->error <= 0 ? e->error : -e->error;
}
