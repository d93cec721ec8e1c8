// SPDX-License-Identifier: MIT
/* include/vnet/netutil.h: what users type as a MAC, the RARP announce. */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <libmnl/libmnl.h>
#include <linux/netlink.h>

#include "test.h"
#include "vnet/netutil.h"

static void test_mac_parse_good(void)
{
	static const struct { const char *s; __u8 mac[6]; } ok[] = {
		{ "02:00:00:00:00:01", { 2, 0, 0, 0, 0, 1 } },
		{ "ff:FF:fF:Ff:ff:ff", { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff } },
		{ "2:0:0:a:b:c", { 2, 0, 0, 0xa, 0xb, 0xc } },
	};
	__u8 mac[6];

	for (unsigned int i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		EXPECT(vnet_mac_parse(ok[i].s, mac) == 0, "%s refused", ok[i].s);
		EXPECT(!memcmp(mac, ok[i].mac, 6), "%s parsed wrong", ok[i].s);
	}
}

static void test_mac_parse_bad(void)
{
	static const char *const bad[] = {
		"", "02:00:00:00:00", "02:00:00:00:00:01:", "02:00:00:00:00:01x",
		"02:00:00:00:00:001", "002:00:00:00:00:01", " 02:00:00:00:00:01",
		"02-00-00-00-00-01", "0x2:00:00:00:00:01", "+2:00:00:00:00:01",
		"02:00:00:00:00:0g", "02::00:00:00:01", "02:00:00:00:00:01 ",
	};
	__u8 mac[6] = { 1, 2, 3, 4, 5, 6 };

	for (unsigned int i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		EXPECT(vnet_mac_parse(bad[i], mac) == -EINVAL, "\"%s\" accepted", bad[i]);
	EXPECT(vnet_mac_parse(NULL, mac) == -EINVAL, "NULL accepted");
	/* bad input changes nothing */
	EXPECT(!memcmp(mac, "\1\2\3\4\5\6", 6), "a refused MAC wrote the output");
}

/* RFC 903 request reverse, as QEMU's self-announce (vhost-user SEND_RARP) */
static void test_rarp_build(void)
{
	static const __u8 mac[6] = { 0x02, 0x11, 0x22, 0x33, 0x44, 0x55 };
	static const __u8 head[22] = {
		0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0x11, 0x22, 0x33, 0x44, 0x55,
		0x80, 0x35, 0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x03,
	};
	__u8 f[VNET_RARP_LEN + 4];

	memset(f, 0xaa, sizeof(f));
	EXPECT(vnet_rarp_build(f, mac) == 60, "length");
	EXPECT(!memcmp(f, head, sizeof(head)), "header");
	EXPECT(!memcmp(f + 22, mac, 6) && !memcmp(f + 32, mac, 6), "sender/target MAC");
	for (int i = 28; i < 60; i++)
		if (i < 32 || i >= 38)
			EXPECT(f[i] == 0, "byte %d is %#x", i, f[i]);
	EXPECT(f[60] == 0xaa, "wrote past 60 bytes");
}

/* An NLMSG_ERROR as the kernel sends it: capped or echoing the request,
 * with or without extended-ack attributes. */
static struct nlmsghdr *err_msg(char *buf, int error, bool capped, bool tlvs)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf), *req;
	struct nlmsgerr *e;
	size_t echo = capped ? 0 : 8;	/* the request's payload */

	nlh->nlmsg_type = NLMSG_ERROR;
	nlh->nlmsg_flags = (capped ? NLM_F_CAPPED : 0) | (tlvs ? NLM_F_ACK_TLVS : 0);
	e = mnl_nlmsg_put_extra_header(nlh, sizeof(*e) + echo);
	e->error = error;
	req = &e->msg;
	req->nlmsg_len = sizeof(*req) + echo;
	if (tlvs) {
		mnl_attr_put_strz(nlh, NLMSGERR_ATTR_MSG, "the kernel says no");
		mnl_attr_put_u32(nlh, NLMSGERR_ATTR_OFFS, 20);
	}
	return nlh;
}

static void test_nl_ack_parse(void)
{
	char buf[512], msg[64];
	__u32 off;

	for (int capped = 0; capped < 2; capped++) {
		strcpy(msg, "-");
		off = 0;
		EXPECT(vnet_nl_ack_parse(err_msg(buf, -EEXIST, capped, true), msg, sizeof(msg),
					 &off) == -EEXIST, "error (capped %d)", capped);
		EXPECT(!strcmp(msg, "the kernel says no") && off == 20,
		       "capped %d: \"%s\" at %u", capped, msg, off);
		strcpy(msg, "-");
		EXPECT(vnet_nl_ack_parse(err_msg(buf, 0, capped, false), msg, sizeof(msg),
					 NULL) == 0 && !strcmp(msg, "-"), "plain ack (capped %d)", capped);
	}
	/* a positive error (old senders) is still an error; a short one is bad */
	EXPECT(vnet_nl_ack_parse(err_msg(buf, EPERM, true, false), NULL, 0, NULL) == -EPERM,
	       "positive errno");
	((struct nlmsghdr *)buf)->nlmsg_len = sizeof(struct nlmsghdr) + 4;
	EXPECT(vnet_nl_ack_parse((struct nlmsghdr *)buf, NULL, 0, NULL) == -EBADMSG, "short");
}

int main(void)
{
	RUN(test_mac_parse_good);
	RUN(test_mac_parse_bad);
	RUN(test_rarp_build);
	RUN(test_nl_ack_parse);
	return test_summary();
}
