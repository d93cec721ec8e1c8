// SPDX-License-Identifier: MIT
/*
 * The netlink request handler (vnet_nl_handle), the registry's validation
 * and the state file, without sockets: requests are built with libmnl as a
 * client would, replies parsed back. Every rejection is checked for its
 * errno, its extended-ack text and for leaving the registry as it was.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/virtio_config.h>

#include "test.h"
#include "backend_stub.h"
#include "vnet/nl_server.h"
#include "vnet/xsk.h"

static struct vnet_registry reg;
static struct vnet_nl_ctx ctx;
static char buf[8192];
static char statedir[64];

static void setup(void)
{
	char path[128];

	vnet_registry_fini(&reg);
	snprintf(path, sizeof(path), "%s/devices", statedir);
	unlink(path);
	vnet_registry_init(&reg, &vnet_stub_backend, "/run/test", path);
	vnet_registry_add_mgmtdev(&reg, "eth0");
	ctx = (struct vnet_nl_ctx){ .reg = &reg, .admin = true, .cap_ack = true, .ext_ack = true };
}

static struct nlmsghdr *req(__u8 cmd, __u16 flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct genlmsghdr *g;

	nlh->nlmsg_type = VNET_VDPA_FAMILY_ID;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = 42;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = cmd;
	g->version = 1;
	return nlh;
}

struct answer {
	int error;		/* of the NLMSG_ERROR, 1 if none came */
	char msg[256];
	unsigned int off;
	int replies;		/* data messages */
	bool done;
	bool capped;
};

static struct answer run(const void *rec, size_t len)
{
	struct vnet_nl_out out = { 0 };
	struct answer a = { .error = 1 };

	EXPECT(vnet_nl_handle(&ctx, rec, len, &out) == 0, "handle failed");
	for (struct vnet_nl_rec *r = out.head; r; r = r->next) {
		int rem = r->len;

		for (const struct nlmsghdr *nlh = (void *)r->data; mnl_nlmsg_ok(nlh, rem);
		     nlh = mnl_nlmsg_next(nlh, &rem)) {
			EXPECT(nlh->nlmsg_seq == ((const struct nlmsghdr *)rec)->nlmsg_seq ||
			       len < sizeof(struct nlmsghdr), "seq not echoed");
			if (nlh->nlmsg_type == NLMSG_DONE) {
				a.done = true;
			} else if (nlh->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
				const struct nlattr *at;

				a.error = e->error;
				a.capped = nlh->nlmsg_flags & NLM_F_CAPPED;
				if (nlh->nlmsg_flags & NLM_F_ACK_TLVS) {
					size_t hl = sizeof(*e);

					if (!a.capped)
						hl += e->msg.nlmsg_len - sizeof(e->msg);
					mnl_attr_for_each(at, nlh, hl) {
						if (mnl_attr_get_type(at) == NLMSGERR_ATTR_MSG)
							snprintf(a.msg, sizeof(a.msg), "%s",
								 mnl_attr_get_str(at));
						if (mnl_attr_get_type(at) == NLMSGERR_ATTR_OFFS)
							a.off = mnl_attr_get_u32(at);
					}
				}
			} else {
				a.replies++;
			}
		}
	}
	vnet_nl_out_free(&out);
	return a;
}

static struct answer run_nlh(struct nlmsghdr *nlh)
{
	return run(nlh, nlh->nlmsg_len);
}

static struct nlmsghdr *dev_new(const char *name, const char *mgmt)
{
	struct nlmsghdr *nlh = req(VDPA_CMD_DEV_NEW, NLM_F_ACK);

	mnl_attr_put_strz(nlh, VDPA_ATTR_MGMTDEV_BUS_NAME, "vnet");
	mnl_attr_put_strz(nlh, VDPA_ATTR_MGMTDEV_DEV_NAME, mgmt);
	mnl_attr_put_strz(nlh, VDPA_ATTR_DEV_NAME, name);
	return nlh;
}

static void test_getfamily(void)
{
	struct nlmsghdr *nlh;
	struct answer a;

	setup();
	nlh = req(CTRL_CMD_GETFAMILY, NLM_F_ACK);
	nlh->nlmsg_type = GENL_ID_CTRL;
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, "vdpa");
	a = run_nlh(nlh);
	EXPECT(a.error == 0 && a.replies == 1, "error %d replies %d", a.error, a.replies);
	nlh = req(CTRL_CMD_GETFAMILY, NLM_F_ACK);
	nlh->nlmsg_type = GENL_ID_CTRL;
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, "devlink");
	a = run_nlh(nlh);
	EXPECT(a.error == -ENOENT && a.replies == 0, "other family: %d", a.error);
}

static void test_add_show_del(void)
{
	struct answer a;
	struct nlmsghdr *nlh;
	static const __u8 mac[6] = { 2, 0, 0, 0, 0, 7 };

	setup();
	nlh = dev_new("vnet0", "eth0");
	mnl_attr_put(nlh, VDPA_ATTR_DEV_NET_CFG_MACADDR, 6, mac);
	mnl_attr_put_u16(nlh, VDPA_ATTR_DEV_NET_CFG_MAX_VQP, 4);
	a = run_nlh(nlh);
	EXPECT(a.error == 0, "add: %d %s", a.error, a.msg);
	EXPECT(reg.n_devs == 1 && reg.devs[0]->p.max_vqp == 4 &&
	       !memcmp(reg.devs[0]->p.mac, mac, 6), "registry not filled");
	EXPECT(!strcmp(reg.devs[0]->p.socket_path, "/run/test/vnet0.sock"), "socket %s",
	       reg.devs[0]->p.socket_path);
	a = run_nlh(req(VDPA_CMD_DEV_GET, NLM_F_DUMP | NLM_F_ACK));
	EXPECT(a.replies == 1 && a.done && a.error == 1, "dump: %d replies, done %d, err %d",
	       a.replies, a.done, a.error);
	a = run_nlh(req(VDPA_CMD_DEV_CONFIG_GET, NLM_F_DUMP));
	EXPECT(a.replies == 1 && a.done, "config dump");
	/* no driver yet: vstats refused like the kernel does before FEATURES_OK */
	nlh = req(VDPA_CMD_DEV_VSTATS_GET, NLM_F_ACK);
	mnl_attr_put_strz(nlh, VDPA_ATTR_DEV_NAME, "vnet0");
	mnl_attr_put_u32(nlh, VDPA_ATTR_DEV_QUEUE_INDEX, 0);
	a = run_nlh(nlh);
	EXPECT(a.error == -EAGAIN && strstr(a.msg, "negotiation"), "vstats: %d %s", a.error, a.msg);
	nlh = req(VDPA_CMD_DEV_DEL, NLM_F_ACK);
	mnl_attr_put_strz(nlh, VDPA_ATTR_DEV_NAME, "vnet0");
	a = run_nlh(nlh);
	EXPECT(a.error == 0 && reg.n_devs == 0, "del: %d", a.error);
}

static void test_sim_vstats(void)
{
	struct nlmsghdr *nlh;
	struct answer a;

	setup();
	a = run_nlh(dev_new("s0", "sim"));
	EXPECT(a.error == 0, "add: %s", a.msg);
	EXPECT(reg.devs[0]->ops->get_status(reg.devs[0]) & VIRTIO_CONFIG_S_FEATURES_OK,
	       "sim driver did not negotiate");
	nlh = req(VDPA_CMD_DEV_VSTATS_GET, NLM_F_ACK);
	mnl_attr_put_strz(nlh, VDPA_ATTR_DEV_NAME, "s0");
	mnl_attr_put_u32(nlh, VDPA_ATTR_DEV_QUEUE_INDEX, 2);	/* 1 pair: cvq */
	a = run_nlh(nlh);
	EXPECT(a.error == 0 && a.replies == 1, "vstats cvq: %d %s", a.error, a.msg);
	nlh = req(VDPA_CMD_DEV_VSTATS_GET, NLM_F_ACK);
	mnl_attr_put_strz(nlh, VDPA_ATTR_DEV_NAME, "s0");
	mnl_attr_put_u32(nlh, VDPA_ATTR_DEV_QUEUE_INDEX, 3);
	a = run_nlh(nlh);
	EXPECT(a.error == -ERANGE, "vstats past the queues: %d", a.error);
}

/* each rejected request: errno, message, registry and state untouched */
static void expect_rejected(struct nlmsghdr *nlh, size_t len, int err, const char *text)
{
	char before[4096], after[4096];
	struct answer a;

	vnet_state_format(&reg, before, sizeof(before));
	a = run(nlh, len);
	vnet_state_format(&reg, after, sizeof(after));
	EXPECT(a.error == err, "%s: error %d, want %d (%s)", text, a.error, err, a.msg);
	EXPECT(strstr(a.msg, text), "message \"%s\" lacks \"%s\"", a.msg, text);
	EXPECT(!strcmp(before, after), "%s: registry changed", text);
}

static void test_rejections(void)
{
	struct nlmsghdr *nlh;
	char longname[40];

	setup();
	EXPECT(run_nlh(dev_new("keep", "sim")).error == 0, "setup add");

	nlh = dev_new("x", "sim");
	mnl_attr_put_u32(nlh, 99, 0);
	expect_rejected(nlh, nlh->nlmsg_len, -EINVAL, "Unknown attribute type 99");
	nlh = dev_new("x", "sim");
	mnl_attr_put_strz(nlh, VDPA_ATTR_DEV_NAME, "y");
	expect_rejected(nlh, nlh->nlmsg_len, -EINVAL, "Duplicate attribute");
	nlh = dev_new("x", "sim");
	mnl_attr_put_u32(nlh, VDPA_ATTR_DEV_NET_CFG_MTU, 1500);
	expect_rejected(nlh, nlh->nlmsg_len, -ERANGE, "wrong length");
	memset(longname, 'a', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	nlh = dev_new(longname, "sim");
	expect_rejected(nlh, nlh->nlmsg_len, -ENAMETOOLONG, "too long");
	nlh = dev_new("bad/name", "sim");
	expect_rejected(nlh, nlh->nlmsg_len, -EINVAL, "may only contain");
	nlh = dev_new("x", "sim");
	mnl_attr_put_u16(nlh, VDPA_ATTR_DEV_NET_CFG_MAX_VQP, 0);
	expect_rejected(nlh, nlh->nlmsg_len, -EINVAL, "at least 1");
	nlh = dev_new("x", "sim");
	mnl_attr_put_u16(nlh, VDPA_ATTR_DEV_NET_CFG_MAX_VQP, VNET_MAX_VQP + 1);
	expect_rejected(nlh, nlh->nlmsg_len, -ERANGE, "above the limit");
	nlh = dev_new("x", "sim");
	mnl_attr_put_u16(nlh, VDPA_ATTR_DEV_NET_CFG_MTU, 67);
	expect_rejected(nlh, nlh->nlmsg_len, -ERANGE, "MTU out of range");
	nlh = dev_new("keep", "sim");
	expect_rejected(nlh, nlh->nlmsg_len, -EEXIST, "already exists");
	nlh = dev_new("x", "nope");
	expect_rejected(nlh, nlh->nlmsg_len, -ENODEV, "mgmt device");
	nlh = dev_new("x", "sim");
	mnl_attr_put_u64(nlh, VDPA_ATTR_DEV_FEATURES, 1ULL << 62);
	expect_rejected(nlh, nlh->nlmsg_len, -EINVAL, "not supported");
	/* what belongs to the other transport, namespaces no driver makes */
	nlh = dev_new("x", "eth0");
	mnl_attr_put_u32(nlh, VNET_ATTR_TRANSPORT, VNET_TRANSPORT_VDUSE);
	mnl_attr_put_strz(nlh, VNET_ATTR_SOCKET_PATH, "/run/x.sock");
	expect_rejected(nlh, nlh->nlmsg_len, -EINVAL, "are for transport vhost-user");
	nlh = dev_new("x", "eth0");
	mnl_attr_put_u32(nlh, VNET_ATTR_BIND, VNET_BIND_VHOST);
	expect_rejected(nlh, nlh->nlmsg_len, -EINVAL, "are for transport vduse");
	nlh = dev_new("x", "eth0");
	mnl_attr_put_u32(nlh, VNET_ATTR_TRANSPORT, VNET_TRANSPORT_VDUSE);
	mnl_attr_put_u32(nlh, VNET_ATTR_BIND, VNET_BIND_VHOST);
	mnl_attr_put_strz(nlh, VNET_ATTR_NETNS, "ct1");
	expect_rejected(nlh, nlh->nlmsg_len, -EINVAL, "netns needs bind virtio");
	nlh = dev_new("x", "eth0");
	mnl_attr_put_u32(nlh, VNET_ATTR_TRANSPORT, VNET_TRANSPORT_VDUSE);
	mnl_attr_put_u32(nlh, VNET_ATTR_BIND, 9);
	expect_rejected(nlh, nlh->nlmsg_len, -EINVAL, "unknown bind");
	nlh = dev_new("x", "eth0");
	mnl_attr_put_u32(nlh, VNET_ATTR_TRANSPORT, VNET_TRANSPORT_VDUSE);
	mnl_attr_put_strz(nlh, VNET_ATTR_NETNS, "../etc");
	expect_rejected(nlh, nlh->nlmsg_len, -EINVAL, "no '/'");
	nlh = dev_new("x", "eth0");
	mnl_attr_put_u32(nlh, VNET_ATTR_TRANSPORT, VNET_TRANSPORT_VDUSE);
	memset(longname, 'n', sizeof(longname) - 1);
	mnl_attr_put_strz(nlh, VNET_ATTR_NETNS, "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn");
	expect_rejected(nlh, nlh->nlmsg_len, -ENAMETOOLONG, "netns name too long");
	nlh = dev_new("x", "sim");
	mnl_attr_put_u32(nlh, VNET_ATTR_TRANSPORT, 7);
	expect_rejected(nlh, nlh->nlmsg_len, -EINVAL, "unknown transport");
	nlh = dev_new("x", "sim");
	expect_rejected(nlh, nlh->nlmsg_len - 4, -EINVAL, "truncated");
	nlh = dev_new("x", "sim");
	expect_rejected(nlh, 8, -EINVAL, "shorter than its header");
	nlh = req(99, NLM_F_ACK);
	expect_rejected(nlh, nlh->nlmsg_len, -EOPNOTSUPP, "unknown vdpa command");

	/* without CAP_NET_ADMIN: read yes, change no */
	ctx.admin = false;
	nlh = dev_new("x", "sim");
	expect_rejected(nlh, nlh->nlmsg_len, -EPERM, "CAP_NET_ADMIN");
	nlh = req(VDPA_CMD_DEV_DEL, NLM_F_ACK);
	mnl_attr_put_strz(nlh, VDPA_ATTR_DEV_NAME, "keep");
	expect_rejected(nlh, nlh->nlmsg_len, -EPERM, "CAP_NET_ADMIN");
	EXPECT(run_nlh(req(VDPA_CMD_DEV_GET, NLM_F_DUMP)).replies == 1, "show refused");
}

/* the offset points at the offending attribute; no CAP_ACK echoes the request */
static void test_ack_formats(void)
{
	struct nlmsghdr *nlh;
	struct answer a;
	size_t off;

	setup();
	nlh = dev_new("x", "sim");
	off = nlh->nlmsg_len;
	mnl_attr_put_u16(nlh, VDPA_ATTR_DEV_NET_CFG_MTU, 30);
	a = run_nlh(nlh);
	EXPECT(a.off == off, "offset %u, want %zu", a.off, off);
	EXPECT(a.capped, "CAP_ACK reply not capped");
	ctx.cap_ack = false;
	a = run_nlh(nlh);
	EXPECT(!a.capped && a.off == off && strstr(a.msg, "MTU"), "uncapped: %d %u %s",
	       a.capped, a.off, a.msg);
	ctx.ext_ack = false;
	a = run_nlh(nlh);
	EXPECT(a.error == -ERANGE && !a.msg[0], "no EXT_ACK but a message: %s", a.msg);
	/* a plain request without NLM_F_ACK that succeeds gets no answer */
	ctx.ext_ack = ctx.cap_ack = true;
	nlh = dev_new("y", "sim");
	nlh->nlmsg_flags &= ~NLM_F_ACK;
	a = run_nlh(nlh);
	EXPECT(a.error == 1 && a.replies == 0, "unasked ack %d", a.error);
}

static void test_state_roundtrip(void)
{
	char before[4096], after[4096], path[sizeof(reg.state_path)];
	struct nlmsghdr *nlh;
	int n;

	setup();
	nlh = dev_new("p0", "eth0");
	mnl_attr_put_u16(nlh, VDPA_ATTR_DEV_NET_CFG_MTU, 1700);
	mnl_attr_put_u8(nlh, VNET_ATTR_TRUSTED, 1);
	EXPECT(run_nlh(nlh).error == 0, "add p0");
	EXPECT(run_nlh(dev_new("p1", "sim")).error == 0, "add p1");
	nlh = dev_new("p2", "eth0");
	mnl_attr_put_u32(nlh, VNET_ATTR_TRANSPORT, VNET_TRANSPORT_VDUSE);
	mnl_attr_put_strz(nlh, VNET_ATTR_NETNS, "ct1");
	EXPECT(run_nlh(nlh).error == 0, "add p2 (vduse)");
	nlh = dev_new("p3", "eth0");
	mnl_attr_put_u32(nlh, VNET_ATTR_TRANSPORT, VNET_TRANSPORT_VDUSE);
	mnl_attr_put_u32(nlh, VNET_ATTR_BIND, VNET_BIND_NONE);
	EXPECT(run_nlh(nlh).error == 0, "add p3 (vduse, no driver)");
	vnet_state_format(&reg, before, sizeof(before));
	EXPECT(strstr(before, "name=p2 ") && strstr(before, "socket=- trusted=0 spoofchk=1 bind=0 netns=ct1\n") &&
	       strstr(before, "bind=2 netns=-\n"), "vduse fields not saved:\n%s", before);
	snprintf(path, sizeof(path), "%s", reg.state_path);
	vnet_registry_fini(&reg);
	/* a fresh registry without eth0: the state file brings it back */
	vnet_registry_init(&reg, &vnet_stub_backend, "/run/test", path);
	n = vnet_state_load(&reg);
	EXPECT(n == 4, "restored %d", n);
	vnet_state_format(&reg, after, sizeof(after));
	EXPECT(!strcmp(before, after), "state differs:\n%s\n%s", before, after);
	EXPECT(reg.n_devs == 4 && reg.devs[0]->p.trusted && reg.devs[0]->p.mtu == 1700,
	       "fields lost");
	EXPECT(reg.n_devs == 4 && reg.devs[2]->p.transport == VNET_TRANSPORT_VDUSE &&
	       !strcmp(reg.devs[2]->p.netns, "ct1") && !reg.devs[2]->p.socket_path[0] &&
	       reg.devs[3]->p.bind == VNET_BIND_NONE, "vduse fields lost");
}

/*
 * The command table, row by row: what each command needs, what it accepts,
 * who may run it, whether it dumps. Each refusal leaves the registry as it
 * was; a read is answered without CAP_NET_ADMIN.
 */
static void test_command_rows(void)
{
	static const struct {
		__u8 cmd;
		bool admin, dump;
		const char *missing;	/* the message for what it needs */
	} rows[] = {
		{ VDPA_CMD_MGMTDEV_GET, false, true, "management device" },
		{ VDPA_CMD_DEV_GET, false, true, "device name" },
		{ VDPA_CMD_DEV_CONFIG_GET, false, true, "device name" },
		{ VDPA_CMD_DEV_NEW, true, false, "device name" },
		{ VDPA_CMD_DEV_DEL, true, false, "device name" },
		{ VNET_VDPA_CMD_DEV_ATTR_SET, true, false, "device name" },
		{ VDPA_CMD_DEV_VSTATS_GET, true, false, "device name" },
	};
	struct nlmsghdr *nlh;
	struct answer a;

	setup();
	EXPECT(run_nlh(dev_new("keep", "sim")).error == 0, "setup add");
	for (unsigned int i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		__u8 cmd = rows[i].cmd;

		/* the attribute it needs, missing */
		nlh = req(cmd, NLM_F_ACK);
		if (cmd == VDPA_CMD_DEV_NEW)	/* the other one it needs */
			mnl_attr_put_strz(nlh, VDPA_ATTR_MGMTDEV_DEV_NAME, "sim");
		expect_rejected(nlh, nlh->nlmsg_len, -EINVAL, rows[i].missing);
		/* an attribute of another command (the kernel's UPLINK state is ours) */
		nlh = req(cmd, NLM_F_ACK);
		mnl_attr_put_u32(nlh, VNET_ATTR_UPLINK_STATE, 0);
		expect_rejected(nlh, nlh->nlmsg_len, -EINVAL, "not valid for this command");
		/* one past bit 31 of the masks (a 32-bit shift took it for bit 1 or 2) */
		nlh = req(cmd, NLM_F_ACK);
		mnl_attr_put_u32(nlh, VNET_ATTR_UPLINK_WORKERS, 0);
		expect_rejected(nlh, nlh->nlmsg_len, -EINVAL, "not valid for this command");
		/* a dump of a command that has none */
		if (!rows[i].dump) {
			nlh = req(cmd, NLM_F_DUMP);
			expect_rejected(nlh, nlh->nlmsg_len, -EOPNOTSUPP, "command cannot dump");
		} else {
			ctx.admin = false;
			a = run_nlh(req(cmd, NLM_F_DUMP));
			ctx.admin = true;
			EXPECT(a.done && a.error == 1 && a.replies >= 1, "cmd %u: dump %d/%d", cmd,
			       a.error, a.replies);
		}
		/* without CAP_NET_ADMIN */
		ctx.admin = false;
		nlh = req(cmd, NLM_F_ACK);
		mnl_attr_put_strz(nlh, VDPA_ATTR_DEV_NAME, "keep");
		a = run_nlh(nlh);
		ctx.admin = true;
		EXPECT(rows[i].admin == (a.error == -EPERM), "cmd %u: admin %d, error %d (%s)", cmd,
		       rows[i].admin, a.error, a.msg);
	}
	/* a device a get names must exist */
	nlh = req(VDPA_CMD_DEV_GET, NLM_F_ACK);
	mnl_attr_put_strz(nlh, VDPA_ATTR_DEV_NAME, "nope");
	expect_rejected(nlh, nlh->nlmsg_len, -ENODEV, "device not found");
	nlh = req(VDPA_CMD_MGMTDEV_GET, NLM_F_ACK);
	mnl_attr_put_strz(nlh, VDPA_ATTR_MGMTDEV_DEV_NAME, "nope");
	expect_rejected(nlh, nlh->nlmsg_len, -ENODEV, "mgmt device");
	/* vstats needs a queue index too */
	nlh = req(VDPA_CMD_DEV_VSTATS_GET, NLM_F_ACK);
	mnl_attr_put_strz(nlh, VDPA_ATTR_DEV_NAME, "keep");
	expect_rejected(nlh, nlh->nlmsg_len, -EINVAL, "queue index");
}

/*
 * Feature sets wider than 64 bits live in the registry and its state file
 * (netlink's u64 attributes carry bits 0-63): written whole, read back
 * whole; a hand-edited decimal number still reads as bits 0-63.
 */
static void test_state_features_above_63(void)
{
	char path[sizeof(reg.state_path)], text[4096];
	struct vnet_dev *d;
	FILE *f;

	setup();
	snprintf(path, sizeof(path), "%s", reg.state_path);
	f = fopen(path, "w");
	EXPECT(f, "state file");
	if (!f)
		return;
	fprintf(f, "dev name=w0 mgmtdev=sim mac=02:00:00:00:00:07 mtu=1500 max_vqp=1 "
		"features=0x10000000100000028 transport=0 sock_mode=0 socket=/tmp/w0.sock "
		"trusted=0 spoofchk=1\n");
	fprintf(f, "dev name=w1 mgmtdev=sim mac=02:00:00:00:00:08 mtu=1500 max_vqp=1 "
		"features=4294967336 transport=0 sock_mode=0 socket=/tmp/w1.sock "
		"trusted=0 spoofchk=1\n");
	fclose(f);
	vnet_registry_fini(&reg);
	vnet_registry_init(&reg, &vnet_stub_backend, "/run/test", path);
	EXPECT(vnet_state_load(&reg) == 2, "restored");
	d = vnet_registry_find(&reg, "w0");
	EXPECT(d && vnet_features_has(&d->p.features, 64) &&
	       vnet_features_has(&d->p.features, VIRTIO_F_VERSION_1) &&
	       vnet_features_u64(&d->p.features) == (1ull << 32 | 1ull << 5 | 1ull << 3),
	       "w0 features");
	d = vnet_registry_find(&reg, "w1");
	EXPECT(d && vnet_features_u64(&d->p.features) == (1ull << 32 | 1ull << 5 | 1ull << 3) &&
	       !vnet_features_has(&d->p.features, 64), "w1 features (decimal)");
	vnet_state_format(&reg, text, sizeof(text));
	EXPECT(strstr(text, "features=0x10000000100000028 ") &&
	       strstr(text, "features=0x100000028 "), "written back:\n%s", text);
}

/*
 * The uplink watch's dumps, as the registry sees them: the kernel's carrier
 * count is taken as is (a burst of notifications collapses into one dump),
 * a device that was up at both looks is bounced once when the carrier went
 * and came in between, never for a flap while it was down, and a new
 * netdev under the old name starts a new count.
 */
static void test_uplink_flaps(void)
{
	struct vnet_uplink_link l = { .state = VNET_UPLINK_UP, .mtu = 1500, .ifindex = 5,
				      .carrier_changes = 10 };
	struct vnet_mgmtdev *m;
	struct vnet_dev *d;

	setup();
	m = vnet_registry_find_mgmtdev(&reg, NULL, "eth0");
	vnet_registry_uplink_update(&reg, "eth0", &l);
	EXPECT(run_nlh(dev_new("f0", "eth0")).error == 0, "add f0");
	d = vnet_registry_find(&reg, "f0");
	EXPECT(d && vnet_stub_link_up(d), "device link not up");
	EXPECT(m->carrier_changes == 0, "first look counted %llu",
	       (unsigned long long)m->carrier_changes);
	/* 120 transitions between two looks, up at both: one bounce */
	l.carrier_changes += 120;
	vnet_registry_uplink_update(&reg, "eth0", &l);
	EXPECT(m->carrier_changes == 120, "counted %llu", (unsigned long long)m->carrier_changes);
	EXPECT(vnet_stub_link_up(d) && vnet_stub_link_changes(d) == 2,
	       "up %d after %u changes, want up after 2", vnet_stub_link_up(d),
	       vnet_stub_link_changes(d));
	/* nothing happened: nothing told */
	vnet_registry_uplink_update(&reg, "eth0", &l);
	EXPECT(vnet_stub_link_changes(d) == 2, "told %u times", vnet_stub_link_changes(d));
	/* 3 more, ending down: told once */
	l.carrier_changes += 3;
	l.state = VNET_UPLINK_NO_CARRIER;
	vnet_registry_uplink_update(&reg, "eth0", &l);
	EXPECT(!vnet_stub_link_up(d) && vnet_stub_link_changes(d) == 3, "down: %u changes",
	       vnet_stub_link_changes(d));
	/* down at both looks: counted, not told */
	l.carrier_changes += 2;
	vnet_registry_uplink_update(&reg, "eth0", &l);
	EXPECT(!vnet_stub_link_up(d) && vnet_stub_link_changes(d) == 3, "told a flap while down");
	EXPECT(m->carrier_changes == 125, "counted %llu", (unsigned long long)m->carrier_changes);
	/* gone, then a new netdev whose own count is 7: the count goes on from there */
	vnet_registry_uplink_update(&reg, "eth0", &(struct vnet_uplink_link){ 0 });
	EXPECT(m->uplink_state == VNET_UPLINK_ABSENT && !m->ifindex, "not absent");
	l = (struct vnet_uplink_link){ .state = VNET_UPLINK_UP, .mtu = 1500, .ifindex = 9,
				       .carrier_changes = 7 };
	vnet_registry_uplink_update(&reg, "eth0", &l);
	EXPECT(m->carrier_changes == 125 && vnet_stub_link_up(d), "new netdev: %llu",
	       (unsigned long long)m->carrier_changes);
}

static struct nlmsghdr *dev_set_mtu(const char *name, __u16 mtu)
{
	struct nlmsghdr *nlh = req(VNET_VDPA_CMD_DEV_ATTR_SET, NLM_F_ACK);

	mnl_attr_put_strz(nlh, VDPA_ATTR_DEV_NAME, name);
	mnl_attr_put_u16(nlh, VDPA_ATTR_DEV_NET_CFG_MTU, mtu);
	return nlh;
}

/*
 * An uplink device's frames must fit one receive UMEM frame: an MTU above
 * VNET_XSK_MTU_MAX is refused by dev add and dev set alike, with the limit
 * in the message, and changes nothing; vnet/sim keeps the spec's range.
 */
static void test_mtu_limit(void)
{
	char want[64];
	struct nlmsghdr *nlh;

	setup();
	snprintf(want, sizeof(want), "(max %u", VNET_XSK_MTU_MAX);
	EXPECT(VNET_XSK_MTU_MAX == 2048 - 256 - 14 - 8, "limit %u", VNET_XSK_MTU_MAX);
	nlh = dev_new("j0", "eth0");
	mnl_attr_put_u16(nlh, VDPA_ATTR_DEV_NET_CFG_MTU, 9000);
	expect_rejected(nlh, nlh->nlmsg_len, -ERANGE, "MTU 9000 is more than the uplink datapath carries");
	/* the whole reason, not cut short (it was, at 127 characters) */
	nlh = dev_new("j0", "eth0");
	mnl_attr_put_u16(nlh, VDPA_ATTR_DEV_NET_CFG_MTU, 9000);
	expect_rejected(nlh, nlh->nlmsg_len, -ERANGE, "(max 1770: " VNET_XSK_NO_SG_WHY ")");
	nlh = dev_new("j0", "eth0");
	mnl_attr_put_u16(nlh, VDPA_ATTR_DEV_NET_CFG_MTU, VNET_XSK_MTU_MAX + 1);
	expect_rejected(nlh, nlh->nlmsg_len, -ERANGE, want);
	EXPECT(!vnet_registry_find(&reg, "j0"), "j0 exists");
	nlh = dev_new("j0", "eth0");
	mnl_attr_put_u16(nlh, VDPA_ATTR_DEV_NET_CFG_MTU, VNET_XSK_MTU_MAX);
	EXPECT(run_nlh(nlh).error == 0, "the limit itself refused");
	/* no MTU given: 1500, under the limit */
	EXPECT(run_nlh(dev_new("j1", "eth0")).error == 0, "add j1");
	EXPECT(vnet_registry_find(&reg, "j1")->p.mtu == 1500, "default MTU %u",
	       vnet_registry_find(&reg, "j1")->p.mtu);
	/* loopback, no UMEM: the spec's range only */
	nlh = dev_new("s0", "sim");
	mnl_attr_put_u16(nlh, VDPA_ATTR_DEV_NET_CFG_MTU, 9000);
	EXPECT(run_nlh(nlh).error == 0, "vnet/sim refused MTU 9000");
	/* dev set: the same answer above the limit; no change at all */
	nlh = dev_set_mtu("j1", 9000);
	expect_rejected(nlh, nlh->nlmsg_len, -ERANGE, want);
	nlh = dev_set_mtu("j1", 1400);
	expect_rejected(nlh, nlh->nlmsg_len, -EOPNOTSUPP, "cannot change");
	EXPECT(run_nlh(dev_set_mtu("j1", 1500)).error == 0, "set to the MTU it has refused");
	EXPECT(vnet_registry_find(&reg, "j1")->p.mtu == 1500, "MTU changed");
}

int main(void)
{
	snprintf(statedir, sizeof(statedir), "/tmp/vnet-test-nl.XXXXXX");
	if (!mkdtemp(statedir))
		return 1;
	RUN(test_getfamily);
	RUN(test_add_show_del);
	RUN(test_sim_vstats);
	RUN(test_rejections);
	RUN(test_command_rows);
	RUN(test_ack_formats);
	RUN(test_state_roundtrip);
	RUN(test_state_features_above_63);
	RUN(test_uplink_flaps);
	RUN(test_mtu_limit);
	vnet_registry_fini(&reg);
	unlink(reg.state_path);
	rmdir(statedir);
	return test_summary();
}
