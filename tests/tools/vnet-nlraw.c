// SPDX-License-Identifier: MIT
/*
 * vnet-nlraw: sends one deliberately malformed (or well-formed) request to
 * vnetd and prints how it was answered:
 *
 *   vnet-nlraw [-s SOCKET] CASE      -> "error <errno> <extended ack text>"
 *
 * Exit status 0 when vnetd answered with an NLMSG_ERROR carrying an error,
 * 1 when it acked (or did not answer properly). Cases: see 'cases' below.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/genetlink.h>

#include "../../cli/nl_client.h"

static unsigned char buf[20000];

static struct nlmsghdr *start(struct vnet_nlc *c, __u8 cmd)
{
	memset(buf, 0, sizeof(buf));
	return vnet_nlc_prepare(c, buf, cmd, NLM_F_REQUEST | NLM_F_ACK);
}

static void dev_new_base(struct nlmsghdr *nlh)
{
	mnl_attr_put_strz(nlh, VDPA_ATTR_MGMTDEV_BUS_NAME, "vnet");
	mnl_attr_put_strz(nlh, VDPA_ATTR_MGMTDEV_DEV_NAME, "sim");
	mnl_attr_put_strz(nlh, VDPA_ATTR_DEV_NAME, "rawdev");
}

/* each case builds buf and returns the number of bytes to send */
static size_t build(struct vnet_nlc *c, const char *name)
{
	struct nlmsghdr *nlh;

	if (!strcmp(name, "valid-add")) {
		nlh = start(c, VDPA_CMD_DEV_NEW);
		dev_new_base(nlh);
		return nlh->nlmsg_len;
	}
	if (!strcmp(name, "unknown-attr")) {
		nlh = start(c, VDPA_CMD_DEV_NEW);
		dev_new_base(nlh);
		mnl_attr_put_u32(nlh, 99, 1);
		return nlh->nlmsg_len;
	}
	if (!strcmp(name, "dup-attr")) {
		nlh = start(c, VDPA_CMD_DEV_NEW);
		dev_new_base(nlh);
		mnl_attr_put_u16(nlh, VDPA_ATTR_DEV_NET_CFG_MTU, 1500);
		mnl_attr_put_u16(nlh, VDPA_ATTR_DEV_NET_CFG_MTU, 1400);
		return nlh->nlmsg_len;
	}
	if (!strcmp(name, "trusted-2")) {
		nlh = start(c, VDPA_CMD_DEV_NEW);
		dev_new_base(nlh);
		mnl_attr_put_u8(nlh, VNET_ATTR_TRUSTED, 2);
		return nlh->nlmsg_len;
	}
	if (!strcmp(name, "set-spoofchk-2")) {
		nlh = start(c, VNET_VDPA_CMD_DEV_ATTR_SET);
		mnl_attr_put_strz(nlh, VDPA_ATTR_DEV_NAME, "keep0");
		mnl_attr_put_u8(nlh, VNET_ATTR_SPOOFCHK, 2);
		return nlh->nlmsg_len;
	}
	if (!strcmp(name, "mtu-as-u32")) {
		nlh = start(c, VDPA_CMD_DEV_NEW);
		dev_new_base(nlh);
		mnl_attr_put_u32(nlh, VDPA_ATTR_DEV_NET_CFG_MTU, 1500);
		return nlh->nlmsg_len;
	}
	if (!strcmp(name, "mac-5-bytes")) {
		static const __u8 mac[5] = { 2, 0, 0, 0, 1 };

		nlh = start(c, VDPA_CMD_DEV_NEW);
		dev_new_base(nlh);
		mnl_attr_put(nlh, VDPA_ATTR_DEV_NET_CFG_MACADDR, sizeof(mac), mac);
		return nlh->nlmsg_len;
	}
	if (!strcmp(name, "mac-multicast")) {
		static const __u8 mac[6] = { 1, 0, 0x5e, 0, 0, 1 };

		nlh = start(c, VDPA_CMD_DEV_NEW);
		dev_new_base(nlh);
		mnl_attr_put(nlh, VDPA_ATTR_DEV_NET_CFG_MACADDR, sizeof(mac), mac);
		return nlh->nlmsg_len;
	}
	if (!strcmp(name, "name-unterminated")) {
		nlh = start(c, VDPA_CMD_DEV_NEW);
		mnl_attr_put_strz(nlh, VDPA_ATTR_MGMTDEV_DEV_NAME, "sim");
		mnl_attr_put(nlh, VDPA_ATTR_DEV_NAME, 4, "abcd");
		return nlh->nlmsg_len;
	}
	if (!strcmp(name, "unknown-cmd")) {
		nlh = start(c, 77);
		return nlh->nlmsg_len;
	}
	if (!strcmp(name, "unknown-family")) {
		nlh = start(c, VDPA_CMD_DEV_GET);
		nlh->nlmsg_type = 0x33;
		return nlh->nlmsg_len;
	}
	if (!strcmp(name, "no-genl-header")) {
		nlh = start(c, VDPA_CMD_DEV_GET);
		nlh->nlmsg_len = sizeof(*nlh);
		return nlh->nlmsg_len;
	}
	if (!strcmp(name, "truncated")) {
		/* nlmsg_len promises more than the record holds */
		nlh = start(c, VDPA_CMD_DEV_NEW);
		dev_new_base(nlh);
		return nlh->nlmsg_len - 8;
	}
	if (!strcmp(name, "short")) {
		nlh = start(c, VDPA_CMD_DEV_GET);
		return 10;
	}
	if (!strcmp(name, "attr-overrun")) {
		nlh = start(c, VDPA_CMD_DEV_NEW);
		dev_new_base(nlh);
		/* the last attribute claims 200 bytes */
		((struct nlattr *)((char *)nlh + nlh->nlmsg_len - 12))->nla_len = 200;
		return nlh->nlmsg_len;
	}
	if (!strcmp(name, "oversized")) {
		nlh = start(c, VDPA_CMD_DEV_NEW);
		dev_new_base(nlh);
		nlh->nlmsg_len = sizeof(buf);
		return sizeof(buf);
	}
	if (!strcmp(name, "dump-del")) {
		nlh = start(c, VDPA_CMD_DEV_DEL);
		nlh->nlmsg_flags |= NLM_F_DUMP;
		return nlh->nlmsg_len;
	}
	return 0;
}

int main(int argc, char **argv)
{
	const char *sock = NULL;
	struct vnet_nlc c;
	size_t len;
	int err;

	if (argc == 4 && !strcmp(argv[1], "-s")) {
		sock = argv[2];
		argv += 2;
		argc -= 2;
	}
	if (argc != 2) {
		fprintf(stderr, "usage: vnet-nlraw [-s SOCKET] CASE\n");
		return 2;
	}
	err = vnet_nlc_open(&c, sock, 60);
	if (err) {
		fprintf(stderr, "vnet-nlraw: connect: %s\n", strerror(-err));
		return 2;
	}
	len = build(&c, argv[1]);
	if (!len) {
		fprintf(stderr, "vnet-nlraw: unknown case \"%s\"\n", argv[1]);
		return 2;
	}
	err = vnet_nlc_raw(&c, buf, len);
	printf("error %d %s\n", -err, c.errmsg);
	vnet_nlc_close(&c);
	return err < 0 ? 0 : 1;
}
