// SPDX-License-Identifier: MIT
/*
 * The vdpa generic netlink family as vnetd serves it: parsing, policy and
 * dispatch of one received record, one table row per command (nl_reply.c
 * builds the replies). No I/O here (see nl_server.c), so tests and the
 * fuzzer call vnet_nl_handle() directly.
 *
 * Semantics follow drivers/vdpa/vdpa.c: the same attributes, the same
 * errno values, "device not found" etc. as extended-ack text. Where the
 * kernel is lenient we are strict, because a management socket should say
 * what it did not understand: unknown attributes, duplicates, wrong
 * lengths and trailing bytes are errors here, not silently ignored.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <linux/genetlink.h>

#include "nl_int.h"

#define STR_MAX		256	/* longest string attribute accepted */

enum attr_kind { K_NONE, K_STR, K_U8, K_U16, K_U32, K_U64, K_MAC };

static const unsigned char vdpa_policy[VNET_VDPA_ATTR_LAST + 1] = {
	[VDPA_ATTR_MGMTDEV_BUS_NAME] = K_STR,
	[VDPA_ATTR_MGMTDEV_DEV_NAME] = K_STR,
	[VDPA_ATTR_MGMTDEV_SUPPORTED_CLASSES] = K_U64,
	[VDPA_ATTR_DEV_NAME] = K_STR,
	[VDPA_ATTR_DEV_ID] = K_U32,
	[VDPA_ATTR_DEV_VENDOR_ID] = K_U32,
	[VDPA_ATTR_DEV_MAX_VQS] = K_U32,
	[VDPA_ATTR_DEV_MAX_VQ_SIZE] = K_U16,
	[VDPA_ATTR_DEV_MIN_VQ_SIZE] = K_U16,
	[VDPA_ATTR_DEV_NET_CFG_MACADDR] = K_MAC,
	[VDPA_ATTR_DEV_NET_STATUS] = K_U16,	/* the kernel puts a u16 */
	[VDPA_ATTR_DEV_NET_CFG_MAX_VQP] = K_U16,
	[VDPA_ATTR_DEV_NET_CFG_MTU] = K_U16,
	[VDPA_ATTR_DEV_NEGOTIATED_FEATURES] = K_U64,
	[VDPA_ATTR_DEV_MGMTDEV_MAX_VQS] = K_U32,
	[VDPA_ATTR_DEV_SUPPORTED_FEATURES] = K_U64,
	[VDPA_ATTR_DEV_QUEUE_INDEX] = K_U32,
	[VDPA_ATTR_DEV_VENDOR_ATTR_NAME] = K_STR,
	[VDPA_ATTR_DEV_VENDOR_ATTR_VALUE] = K_U64,
	[VDPA_ATTR_DEV_FEATURES] = K_U64,
};

static const unsigned char vnet_policy[VNET_ATTR_LAST - VNET_ATTR_BASE + 1] = {
	[VNET_ATTR_TRANSPORT - VNET_ATTR_BASE] = K_U32,
	[VNET_ATTR_SOCKET_PATH - VNET_ATTR_BASE] = K_STR,
	[VNET_ATTR_SOCKET_MODE - VNET_ATTR_BASE] = K_U32,
	[VNET_ATTR_UPLINK - VNET_ATTR_BASE] = K_STR,
	[VNET_ATTR_UPLINK_STATE - VNET_ATTR_BASE] = K_U32,
	[VNET_ATTR_UPLINK_MTU - VNET_ATTR_BASE] = K_U32,
	[VNET_ATTR_TRUSTED - VNET_ATTR_BASE] = K_U8,
	[VNET_ATTR_SPOOFCHK - VNET_ATTR_BASE] = K_U8,
	[VNET_ATTR_DEV_STATUS - VNET_ATTR_BASE] = K_U8,
	[VNET_ATTR_RX_MODE - VNET_ATTR_BASE] = K_U32,
	[VNET_ATTR_MAC_TABLE_LEN - VNET_ATTR_BASE] = K_U32,
	[VNET_ATTR_VLAN_COUNT - VNET_ATTR_BASE] = K_U32,
	[VNET_ATTR_RSS_HASH_TYPES - VNET_ATTR_BASE] = K_U32,
	[VNET_ATTR_RSS_INDIR_LEN - VNET_ATTR_BASE] = K_U32,
	[VNET_ATTR_ACTIVE_VQP - VNET_ATTR_BASE] = K_U32,
	[VNET_ATTR_DATAPATH - VNET_ATTR_BASE] = K_U32,
	[VNET_ATTR_MIGRATION - VNET_ATTR_BASE] = K_U32,
	[VNET_ATTR_UPLINK_DATAPATH - VNET_ATTR_BASE] = K_STR,
	[VNET_ATTR_UPLINK_CARRIER_CHANGES - VNET_ATTR_BASE] = K_U64,
	[VNET_ATTR_BIND - VNET_ATTR_BASE] = K_U32,
	[VNET_ATTR_NETNS - VNET_ATTR_BASE] = K_STR,
	[VNET_ATTR_KERNEL_NETDEV - VNET_ATTR_BASE] = K_STR,
	[VNET_ATTR_VHOST_DEV - VNET_ATTR_BASE] = K_STR,
	[VNET_ATTR_VDUSE_REFUSED - VNET_ATTR_BASE] = K_U64,
	[VNET_ATTR_UPLINK_WORKERS - VNET_ATTR_BASE] = K_U32,
};

static const unsigned int kind_len[] = {
	[K_U8] = 1, [K_U16] = 2, [K_U32] = 4, [K_U64] = 8, [K_MAC] = 6,
};

static enum attr_kind attr_kind(unsigned int type)
{
	if (type >= 1 && type <= VNET_VDPA_ATTR_LAST)
		return vdpa_policy[type];
	if (type >= VNET_ATTR_BASE && type <= VNET_ATTR_LAST)
		return vnet_policy[type - VNET_ATTR_BASE];
	return K_NONE;
}

/* --- parsing -------------------------------------------------------------- */

static int parse_attrs(struct req *rq, size_t hdrlen)
{
	const char *base = (const char *)rq->nlh;
	size_t off = NLMSG_HDRLEN + hdrlen, end = rq->nlh->nlmsg_len;

	while (end - off >= sizeof(struct nlattr)) {
		const struct nlattr *a = (const void *)(base + off);
		unsigned int type = a->nla_type & NLA_TYPE_MASK;
		size_t plen;
		enum attr_kind kind;
		int slot;

		rq->erroff = off;
		if (a->nla_len < sizeof(*a) || a->nla_len > end - off) {
			snprintf(rq->errbuf, sizeof(rq->errbuf),
				 "malformed attribute: length %u runs past the message",
				 a->nla_len);
			rq->errmsg = rq->errbuf;
			return -EINVAL;
		}
		plen = a->nla_len - sizeof(*a);
		slot = attr_slot(type);
		kind = attr_kind(type);
		if (slot < 0 || kind == K_NONE) {
			snprintf(rq->errbuf, sizeof(rq->errbuf), "Unknown attribute type %u", type);
			rq->errmsg = rq->errbuf;
			return -EINVAL;
		}
		if (a->nla_type & ~NLA_TYPE_MASK) {
			snprintf(rq->errbuf, sizeof(rq->errbuf),
				 "attribute %u: unexpected NESTED/BYTEORDER flag", type);
			rq->errmsg = rq->errbuf;
			return -EINVAL;
		}
		if (rq->tb[slot]) {
			snprintf(rq->errbuf, sizeof(rq->errbuf), "Duplicate attribute %u", type);
			rq->errmsg = rq->errbuf;
			return -EINVAL;
		}
		if (kind == K_STR) {
			const char *s = mnl_attr_get_payload(a);

			if (!plen || plen > STR_MAX || memchr(s, '\0', plen) != s + plen - 1) {
				snprintf(rq->errbuf, sizeof(rq->errbuf),
					 "attribute %u: expected a NUL-terminated string of at most %d bytes",
					 type, STR_MAX - 1);
				rq->errmsg = rq->errbuf;
				return -EINVAL;
			}
		} else if (plen != kind_len[kind]) {
			snprintf(rq->errbuf, sizeof(rq->errbuf),
				 "attribute %u has wrong length %zu (expected %u)", type, plen,
				 kind_len[kind]);
			rq->errmsg = rq->errbuf;
			return -ERANGE;
		}
		rq->tb[slot] = a;
		off += MNL_ALIGN(a->nla_len);
		if (off > end)
			off = end;	/* the last attribute may lack its padding */
	}
	if (off != end) {
		rq->erroff = off;
		rq->errmsg = "trailing bytes after the last attribute";
		return -EINVAL;
	}
	rq->erroff = 0;
	return 0;
}

/* --- commands that change things ------------------------------------------ */

/*
 * The device parameters a request carries; its row allows which. vdpa's
 * DEV_FEATURES is a u64: a device provisioned here has no bit above 63.
 */
static int parse_params(struct req *rq, struct vnet_dev_params *p)
{
	const struct nlattr *a;

	if ((a = attr(rq, VDPA_ATTR_DEV_NET_CFG_MACADDR))) {
		memcpy(p->mac, mnl_attr_get_payload(a), 6);
		p->mask |= VNET_P_MAC;
	}
	if ((a = attr(rq, VDPA_ATTR_DEV_NET_CFG_MTU))) {
		p->mtu = mnl_attr_get_u16(a);
		p->mask |= VNET_P_MTU;
	}
	if ((a = attr(rq, VDPA_ATTR_DEV_NET_CFG_MAX_VQP))) {
		p->max_vqp = mnl_attr_get_u16(a);
		p->mask |= VNET_P_MAX_VQP;
	}
	if ((a = attr(rq, VDPA_ATTR_DEV_FEATURES))) {
		p->features = vnet_features_from_u64(mnl_attr_get_u64(a));
		p->mask |= VNET_P_FEATURES;
	}
	if ((a = attr(rq, VNET_ATTR_TRANSPORT))) {
		p->transport = mnl_attr_get_u32(a);
		p->mask |= VNET_P_TRANSPORT;
	}
	if ((a = attr(rq, VNET_ATTR_SOCKET_PATH))) {
		if (mnl_attr_get_payload_len(a) > sizeof(p->socket_path))
			return req_fail(rq, -ENAMETOOLONG, "socket path too long (max 107 bytes)",
					VNET_ATTR_SOCKET_PATH);
		strcpy(p->socket_path, mnl_attr_get_str(a));
		p->mask |= VNET_P_SOCKET;
	}
	if ((a = attr(rq, VNET_ATTR_SOCKET_MODE))) {
		p->sock_mode = mnl_attr_get_u32(a);
		p->mask |= VNET_P_SOCK_MODE;
	}
	if ((a = attr(rq, VNET_ATTR_BIND))) {
		p->bind = mnl_attr_get_u32(a);
		p->mask |= VNET_P_BIND;
	}
	if ((a = attr(rq, VNET_ATTR_NETNS))) {
		if (mnl_attr_get_payload_len(a) > sizeof(p->netns))
			return req_fail(rq, -ENAMETOOLONG, "netns name too long (max 63 characters)",
					VNET_ATTR_NETNS);
		strcpy(p->netns, mnl_attr_get_str(a));
		p->mask |= VNET_P_NETNS;
	}
	if ((a = attr(rq, VNET_ATTR_TRUSTED))) {
		if (mnl_attr_get_u8(a) > 1)
			return req_fail(rq, -EINVAL, "trusted must be 0 or 1", VNET_ATTR_TRUSTED);
		p->trusted = mnl_attr_get_u8(a);
		p->mask |= VNET_P_TRUSTED;
	}
	if ((a = attr(rq, VNET_ATTR_SPOOFCHK))) {
		if (mnl_attr_get_u8(a) > 1)
			return req_fail(rq, -EINVAL, "spoofchk must be 0 or 1", VNET_ATTR_SPOOFCHK);
		p->spoofchk = mnl_attr_get_u8(a);
		p->mask |= VNET_P_SPOOFCHK;
	}
	return 0;
}

/* The registry's refusal; its text may live in 'e', which dies with the caller. */
static int reg_fail(struct req *rq, int err, const struct vnet_err *e)
{
	if (!e->msg)
		return req_fail(rq, err, NULL, (unsigned int)e->attr);
	snprintf(rq->errbuf, sizeof(rq->errbuf), "%s", e->msg);
	return req_fail(rq, err, rq->errbuf, (unsigned int)e->attr);
}

static int cmd_dev_new(struct req *rq)
{
	struct vnet_dev_params p = { 0 };
	struct vnet_err e = { 0 };
	const char *name = attr_str(rq, VDPA_ATTR_DEV_NAME);
	const char *mgmt = attr_str(rq, VDPA_ATTR_MGMTDEV_DEV_NAME);
	const char *bus = attr_str(rq, VDPA_ATTR_MGMTDEV_BUS_NAME);
	int err;

	if (strlen(name) > VNET_DEV_NAME_MAX)
		return req_fail(rq, -ENAMETOOLONG, "device name too long (max 31 characters)",
				VDPA_ATTR_DEV_NAME);
	if ((bus && strcmp(bus, VNET_MGMT_BUS)) || strlen(mgmt) >= sizeof(p.mgmtdev))
		return req_fail(rq, -ENODEV, "Fail to find the specified mgmt device",
				bus && strcmp(bus, VNET_MGMT_BUS) ? VDPA_ATTR_MGMTDEV_BUS_NAME :
				VDPA_ATTR_MGMTDEV_DEV_NAME);
	strcpy(p.name, name);
	strcpy(p.mgmtdev, mgmt);
	err = parse_params(rq, &p);
	if (err)
		return err;
	err = vnet_registry_dev_new(rq->ctx->reg, &p, &e);
	return err ? reg_fail(rq, err, &e) : 0;
}

static int cmd_dev_del(struct req *rq)
{
	struct vnet_err e = { 0 };
	int err = vnet_registry_dev_del(rq->ctx->reg, attr_str(rq, VDPA_ATTR_DEV_NAME), &e);

	return err ? reg_fail(rq, err, &e) : 0;
}

static int cmd_dev_set(struct req *rq)
{
	struct vnet_dev_params p = { 0 };
	struct vnet_err e = { 0 };
	int err = parse_params(rq, &p);

	if (err)
		return err;
	err = vnet_registry_dev_set(rq->ctx->reg, attr_str(rq, VDPA_ATTR_DEV_NAME), &p, &e);
	return err ? reg_fail(rq, err, &e) : 0;
}

/* --- the command table ---------------------------------------------------- */

/* What a get names: one object by its handle, every one in a dump. */
enum cmd_obj { OBJ_MGMTDEV = 1, OBJ_DEV };

/* Everything about one vdpa command, in one row. */
struct cmd {
	__u64 vdpa;			/* attributes it accepts: bit n, VDPA attr n */
	__u64 vnet;			/* ... bit n, VNET_ATTR_BASE + n */
	__u8 required[2];		/* VDPA attributes it needs (a dump: none) */
	bool admin;			/* the kernel's GENL_ADMIN_PERM */
	bool can_dump;
	/* a get: the object it names, and the reply for one (NLM_F_MULTI in a dump) */
	enum cmd_obj obj;
	int (*reply)(struct req *rq, void *obj, __u16 flags);
	/* any other: does it all, acked on success */
	int (*act)(struct req *rq);
};

#define A(x)	BIT64(VDPA_ATTR_##x)
#define V(x)	BIT64(VNET_ATTR_##x - VNET_ATTR_BASE)
_Static_assert(VNET_ATTR_LAST - VNET_ATTR_BASE < 64, "the command table's vnet masks are 64 bits");

static const struct cmd cmds[VNET_VDPA_CMD_MAX + 1] = {
	[VDPA_CMD_MGMTDEV_GET] = {
		.vdpa = A(MGMTDEV_BUS_NAME) | A(MGMTDEV_DEV_NAME),
		.required = { VDPA_ATTR_MGMTDEV_DEV_NAME },
		.can_dump = true, .obj = OBJ_MGMTDEV, .reply = nl_put_mgmtdev,
	},
	[VDPA_CMD_DEV_GET] = {
		.vdpa = A(DEV_NAME), .required = { VDPA_ATTR_DEV_NAME },
		.can_dump = true, .obj = OBJ_DEV, .reply = nl_put_dev,
	},
	[VDPA_CMD_DEV_CONFIG_GET] = {
		.vdpa = A(DEV_NAME), .required = { VDPA_ATTR_DEV_NAME },
		.can_dump = true, .obj = OBJ_DEV, .reply = nl_put_config,
	},
	[VDPA_CMD_DEV_NEW] = {
		.vdpa = A(MGMTDEV_BUS_NAME) | A(MGMTDEV_DEV_NAME) | A(DEV_NAME) |
			A(DEV_NET_CFG_MACADDR) | A(DEV_NET_CFG_MTU) | A(DEV_NET_CFG_MAX_VQP) |
			A(DEV_FEATURES),
		.vnet = V(TRANSPORT) | V(SOCKET_PATH) | V(SOCKET_MODE) | V(TRUSTED) | V(SPOOFCHK) |
			V(BIND) | V(NETNS),
		.required = { VDPA_ATTR_DEV_NAME, VDPA_ATTR_MGMTDEV_DEV_NAME },
		.admin = true, .act = cmd_dev_new,
	},
	[VDPA_CMD_DEV_DEL] = {
		.vdpa = A(DEV_NAME), .required = { VDPA_ATTR_DEV_NAME },
		.admin = true, .act = cmd_dev_del,
	},
	[VNET_VDPA_CMD_DEV_ATTR_SET] = {
		.vdpa = A(DEV_NAME) | A(DEV_NET_CFG_MACADDR) | A(DEV_NET_CFG_MTU),
		.vnet = V(TRUSTED) | V(SPOOFCHK),
		.required = { VDPA_ATTR_DEV_NAME },
		.admin = true, .act = cmd_dev_set,
	},
	/* admin, as the kernel's: counters are not for everyone */
	[VDPA_CMD_DEV_VSTATS_GET] = {
		.vdpa = A(DEV_NAME) | A(DEV_QUEUE_INDEX),
		.required = { VDPA_ATTR_DEV_NAME, VDPA_ATTR_DEV_QUEUE_INDEX },
		.admin = true, .obj = OBJ_DEV, .reply = nl_put_vstats,
	},
};

#undef A
#undef V

static const char *const missing_msg[VNET_VDPA_ATTR_LAST + 1] = {
	[VDPA_ATTR_DEV_NAME] = "device name (VDPA_ATTR_DEV_NAME) missing",
	[VDPA_ATTR_MGMTDEV_DEV_NAME] = "management device (VDPA_ATTR_MGMTDEV_DEV_NAME) missing",
	[VDPA_ATTR_DEV_QUEUE_INDEX] = "queue index (VDPA_ATTR_DEV_QUEUE_INDEX) missing",
};

/* Every attribute present is one the row accepts; every one it needs is there. */
static int check_attrs(struct req *rq, const struct cmd *c, bool dump)
{
	for (int slot = 1; slot < ATTR_SLOTS; slot++) {
		unsigned int type;
		bool ok;

		if (!rq->tb[slot])
			continue;
		if (slot <= VNET_VDPA_ATTR_LAST) {
			type = slot;
			ok = c->vdpa & BIT64(slot);
		} else {
			type = VNET_ATTR_BASE + slot - VNET_VDPA_ATTR_LAST - 1;
			ok = c->vnet & BIT64(type - VNET_ATTR_BASE);
		}
		if (!ok) {
			snprintf(rq->errbuf, sizeof(rq->errbuf),
				 "attribute %u is not valid for this command", type);
			return req_fail(rq, -EINVAL, rq->errbuf, type);
		}
	}
	for (unsigned int i = 0; !dump && i < sizeof(c->required) && c->required[i]; i++)
		if (!attr(rq, c->required[i]))
			return req_fail(rq, -EINVAL, missing_msg[c->required[i]], 0);
	return 0;
}

/* The object a get names: -ENODEV as the kernel says it. */
static void *find_obj(struct req *rq, enum cmd_obj obj, int *err)
{
	struct vnet_registry *reg = rq->ctx->reg;
	void *o;

	if (obj == OBJ_DEV) {
		o = vnet_registry_find(reg, attr_str(rq, VDPA_ATTR_DEV_NAME));
		if (!o)
			*err = req_fail(rq, -ENODEV, "device not found", VDPA_ATTR_DEV_NAME);
		return o;
	}
	o = vnet_registry_find_mgmtdev(reg, attr_str(rq, VDPA_ATTR_MGMTDEV_BUS_NAME),
				       attr_str(rq, VDPA_ATTR_MGMTDEV_DEV_NAME));
	if (!o)
		*err = req_fail(rq, -ENODEV, "Fail to find the specified mgmt device",
				VDPA_ATTR_MGMTDEV_DEV_NAME);
	return o;
}

static int run_get(struct req *rq, const struct cmd *c, bool dump)
{
	struct vnet_registry *reg = rq->ctx->reg;
	void *o;
	int err = 0;

	if (!dump) {
		o = find_obj(rq, c->obj, &err);
		return o ? c->reply(rq, o, 0) : err;
	}
	if (c->obj == OBJ_DEV)
		for (int i = 0; i < reg->n_devs && !err; i++)
			err = c->reply(rq, reg->devs[i], NLM_F_MULTI);
	else
		for (int i = 0; i < reg->n_mgmt && !err; i++)
			err = c->reply(rq, &reg->mgmt[i], NLM_F_MULTI);
	return err;
}

static int handle_vdpa(struct req *rq, bool *dumped)
{
	const struct genlmsghdr *g = mnl_nlmsg_get_payload(rq->nlh);
	bool dump = (rq->nlh->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;
	const struct cmd *c;
	int err;

	if (rq->nlh->nlmsg_len < NLMSG_HDRLEN + GENL_HDRLEN)
		return req_fail(rq, -EINVAL, "message too short for a genetlink header", 0);
	err = parse_attrs(rq, GENL_HDRLEN);
	if (err)
		return err;
	c = g->cmd <= VNET_VDPA_CMD_MAX ? &cmds[g->cmd] : NULL;
	if (!c || (!c->act && !c->reply)) {
		snprintf(rq->errbuf, sizeof(rq->errbuf), "unknown vdpa command %u", g->cmd);
		return req_fail(rq, -EOPNOTSUPP, rq->errbuf, 0);
	}
	if (c->admin && !rq->ctx->admin)
		return req_fail(rq, -EPERM, "Operation not permitted: needs root or CAP_NET_ADMIN",
				0);
	if (dump && !c->can_dump)
		return req_fail(rq, -EOPNOTSUPP, "command cannot dump", 0);
	err = check_attrs(rq, c, dump);
	if (err)
		return err;
	*dumped = dump;
	return c->act ? c->act(rq) : run_get(rq, c, dump);
}

/* nlctrl, enough of it for clients to resolve the "vdpa" family */
static int handle_ctrl(struct req *rq, bool *dumped)
{
	const struct genlmsghdr *g = mnl_nlmsg_get_payload(rq->nlh);
	const struct nlattr *a;
	const char *name = NULL;
	bool has_id = false;
	char buf[MSG_BUF];
	struct nlmsghdr *nlh;
	size_t off, end = rq->nlh->nlmsg_len;

	if (end < NLMSG_HDRLEN + GENL_HDRLEN)
		return req_fail(rq, -EINVAL, "message too short for a genetlink header", 0);
	if (g->cmd != CTRL_CMD_GETFAMILY)
		return req_fail(rq, -EOPNOTSUPP, "only CTRL_CMD_GETFAMILY is served here", 0);
	/* off never passes end: the last attribute may lack its padding */
	for (off = NLMSG_HDRLEN + GENL_HDRLEN; off < end && end - off >= sizeof(*a);
	     off = off + MNL_ALIGN(a->nla_len) > end ? end : off + MNL_ALIGN(a->nla_len)) {
		a = (const void *)((const char *)rq->nlh + off);
		if (a->nla_len < sizeof(*a) || a->nla_len > end - off) {
			rq->erroff = off;
			return req_fail(rq, -EINVAL, "malformed attribute", 0);
		}
		if (mnl_attr_get_type(a) == CTRL_ATTR_FAMILY_NAME) {
			if (mnl_attr_validate(a, MNL_TYPE_NUL_STRING) < 0) {
				rq->erroff = off;
				return req_fail(rq, -EINVAL, "malformed family name", 0);
			}
			name = mnl_attr_get_str(a);
		} else if (mnl_attr_get_type(a) == CTRL_ATTR_FAMILY_ID) {
			if (mnl_attr_validate(a, MNL_TYPE_U16) < 0 ||
			    mnl_attr_get_u16(a) != VNET_VDPA_FAMILY_ID) {
				rq->erroff = off;
				return req_fail(rq, -ENOENT, "unknown family id", 0);
			}
			has_id = true;
		}
	}
	*dumped = (rq->nlh->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;
	if (!*dumped && !has_id && (!name || strcmp(name, VDPA_GENL_NAME))) {
		*dumped = false;
		return req_fail(rq, -ENOENT, "this socket serves only the \"vdpa\" family", 0);
	}
	nlh = nl_msg_start(rq, buf, GENL_ID_CTRL, *dumped ? NLM_F_MULTI : 0, CTRL_CMD_NEWFAMILY);
	((struct genlmsghdr *)mnl_nlmsg_get_payload(nlh))->version = 2;
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, VDPA_GENL_NAME);
	mnl_attr_put_u16(nlh, CTRL_ATTR_FAMILY_ID, VNET_VDPA_FAMILY_ID);
	mnl_attr_put_u32(nlh, CTRL_ATTR_VERSION, VDPA_GENL_VERSION);
	mnl_attr_put_u32(nlh, CTRL_ATTR_HDRSIZE, 0);
	mnl_attr_put_u32(nlh, CTRL_ATTR_MAXATTR, VNET_ATTR_LAST);
	nl_out_put(rq, nlh);
	return 0;
}

static int handle_sockopt(struct req *rq)
{
	const struct vnet_nl_sockopt *o = mnl_nlmsg_get_payload(rq->nlh);

	if (mnl_nlmsg_get_payload_len(rq->nlh) != sizeof(*o))
		return req_fail(rq, -EINVAL, "socket option message has wrong length", 0);
	if (o->value > 1)
		return req_fail(rq, -EINVAL, "socket option value must be 0 or 1", 0);
	switch (o->optname) {
	case NETLINK_CAP_ACK:
		rq->ctx->cap_ack = o->value;
		return 0;
	case NETLINK_EXT_ACK:
		rq->ctx->ext_ack = o->value;
		return 0;
	default:
		return req_fail(rq, -ENOPROTOOPT, "unknown socket option", 0);
	}
}

static void handle_one(struct vnet_nl_ctx *ctx, const struct nlmsghdr *nlh,
		       struct vnet_nl_out *out, bool *oom)
{
	struct req rq = { .ctx = ctx, .out = out, .nlh = nlh };
	bool dumped = false;
	int err;

	if (!(nlh->nlmsg_flags & NLM_F_REQUEST)) {
		err = req_fail(&rq, -EINVAL, "NLM_F_REQUEST not set", 0);
	} else if (nlh->nlmsg_type == VNET_NLMSG_SOCKOPT) {
		err = handle_sockopt(&rq);
	} else if (nlh->nlmsg_type < NLMSG_MIN_TYPE) {
		err = 0;	/* control messages: nothing to do, as the kernel */
	} else if (nlh->nlmsg_type == GENL_ID_CTRL) {
		err = handle_ctrl(&rq, &dumped);
	} else if (nlh->nlmsg_type == VNET_VDPA_FAMILY_ID) {
		err = handle_vdpa(&rq, &dumped);
	} else {
		err = req_fail(&rq, -ENOENT, "unknown generic netlink family", 0);
	}
	if (dumped && !err)
		nl_put_done(&rq);	/* a dump ends with DONE and is never acked */
	else if (err || (nlh->nlmsg_flags & NLM_F_ACK))
		nl_put_error(&rq, err);
	*oom |= rq.oom;
}

int vnet_nl_handle(struct vnet_nl_ctx *ctx, const void *rec, size_t len,
		   struct vnet_nl_out *out)
{
	const unsigned char *p = rec;
	bool oom = false;

	while (len) {
		const struct nlmsghdr *nlh = (const void *)p;
		struct nlmsghdr fake;

		if (len < sizeof(*nlh) || nlh->nlmsg_len < sizeof(*nlh) || nlh->nlmsg_len > len) {
			/* answer what can be known of it; the rest of the record is lost */
			struct req rq = { .ctx = ctx, .out = out, .nlh = &fake };

			memset(&fake, 0, sizeof(fake));
			memcpy(&fake, p, len < sizeof(fake) ? len : sizeof(fake));
			fake.nlmsg_len = sizeof(fake);
			rq.errmsg = len < sizeof(*nlh) ?
				"truncated netlink message: shorter than its header" :
				"truncated netlink message: nlmsg_len does not match the data";
			nl_put_error(&rq, -EINVAL);
			oom |= rq.oom;
			break;
		}
		handle_one(ctx, nlh, out, &oom);
		if (NLMSG_ALIGN(nlh->nlmsg_len) >= len)
			break;
		p += NLMSG_ALIGN(nlh->nlmsg_len);
		len -= NLMSG_ALIGN(nlh->nlmsg_len);
	}
	return oom ? -ENOMEM : 0;
}

int vnet_nl_reject_oversized(struct vnet_nl_ctx *ctx, const void *rec, size_t len,
			     struct vnet_nl_out *out)
{
	struct nlmsghdr fake;
	struct req rq = { .ctx = ctx, .out = out, .nlh = &fake };

	memset(&fake, 0, sizeof(fake));
	memcpy(&fake, rec, len < sizeof(fake) ? len : sizeof(fake));
	fake.nlmsg_len = sizeof(fake);
	rq.errmsg = "netlink message too large (max 16384 bytes per send)";
	nl_put_error(&rq, -EMSGSIZE);
	return rq.oom ? -ENOMEM : 0;
}
