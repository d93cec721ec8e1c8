/* SPDX-License-Identifier: MIT */
/*
 * What the netlink request handler shares with its reply builders
 * (nl_request.c: parsing, the command table, dispatch; nl_reply.c: records,
 * errors and the replies for each object). Private to daemon/control.
 */
#ifndef VNET_NL_INT_H
#define VNET_NL_INT_H

#include <stdbool.h>
#include <libmnl/libmnl.h>
#include <linux/netlink.h>

#include "vnet/nl_server.h"

#define BIT64(n)	(1ULL << (n))
#define MSG_BUF		VNET_NL_RECORD_MAX
/* highest attribute type of either range, for the parse table */
#define ATTR_SLOTS	(VNET_ATTR_LAST - VNET_ATTR_BASE + 1 + VNET_VDPA_ATTR_LAST + 1)

/* one request being handled */
struct req {
	struct vnet_nl_ctx *ctx;
	struct vnet_nl_out *out;
	const struct nlmsghdr *nlh;
	const struct nlattr *tb[ATTR_SLOTS];
	char errbuf[256];		/* as struct vnet_err's buf: a registry refusal whole */
	const char *errmsg;
	int erroff;		/* offset of the bad attribute in the message, 0: none */
	bool oom;
};

/* attribute type -> slot of the parse table (vendor range after the kernel's) */
static inline int attr_slot(unsigned int type)
{
	if (type >= 1 && type <= VNET_VDPA_ATTR_LAST)
		return type;
	if (type >= VNET_ATTR_BASE && type <= VNET_ATTR_LAST)
		return VNET_VDPA_ATTR_LAST + 1 + (type - VNET_ATTR_BASE);
	return -1;
}

static inline const struct nlattr *attr(const struct req *rq, unsigned int type)
{
	int slot = attr_slot(type);

	return slot < 0 ? NULL : rq->tb[slot];
}

static inline const char *attr_str(const struct req *rq, unsigned int type)
{
	const struct nlattr *a = attr(rq, type);

	return a ? mnl_attr_get_str(a) : NULL;
}

/* The request fails with 'err': 'msg' for the extended ack, pointing at
 * attribute 'type' (0: none). Returns err. */
static inline int req_fail(struct req *rq, int err, const char *msg, unsigned int type)
{
	const struct nlattr *a = type ? attr(rq, type) : NULL;

	rq->errmsg = msg;
	if (a)
		rq->erroff = (const char *)a - (const char *)rq->nlh;
	return err;
}

/* --- nl_reply.c --- */

/* Appends one finished message, packing messages into records. */
void nl_out_put(struct req *rq, const struct nlmsghdr *nlh);
struct nlmsghdr *nl_msg_start(struct req *rq, void *buf, __u16 type, __u16 flags, __u8 cmd);
/* NLMSG_ERROR (err 0 = ack) in the form NETLINK_CAP_ACK/EXT_ACK ask for */
void nl_put_error(struct req *rq, int err);
void nl_put_done(struct req *rq);

/* The reply of a get for one object (NLM_F_MULTI in a dump); 0 or -errno. */
int nl_put_mgmtdev(struct req *rq, void *mgmtdev, __u16 flags);
int nl_put_dev(struct req *rq, void *dev, __u16 flags);
int nl_put_config(struct req *rq, void *dev, __u16 flags);
int nl_put_vstats(struct req *rq, void *dev, __u16 flags);

#endif
