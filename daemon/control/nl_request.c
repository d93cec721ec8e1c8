// SPDX-License-Identifier: MIT
/*
 * The vdpa generic netlink family as vnetd serves it: parsing, policy,
 * dispatch and reply building for one received record. No I/O here (see
 * nl_server.c), so tests and the fuzzer call vnet_nl_handle() directly.
 *
 * Semantics follow drivers/vdpa/vdpa.c: the same attributes, the same
 * errno values, "device not found" etc. as extended-ack text. Where the
 * kernel is lenient we are strict, because a management socket should say
 * what it did not understand: unknown attributes, duplicates, wrong
 * lengths and trailing bytes are errors here, not silently ignored.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libmnl/libmnl.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>

#include "vnet/mac_learn.h"
#include "vnet/nl_server.h"

#define BIT64(n)	(1ULL << (n))
#define MSG_BUF		VNET_NL_RECORD_MAX
#define STR_MAX		256	/* longest string attribute accepted */
/* highest attribute type of either range, for the parse table */
#define ATTR_SLOTS	(VNET_ATTR_LAST - VNET_ATTR_BASE + 1 + VNET_VDPA_ATTR_LAST + 1)

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
	[VNET_ATTR_UPLINK_DATAPATH - VNET_ATTR_BASE] = K_STR,
	[VNET_ATTR_UPLINK_CARRIER_CHANGES - VNET_ATTR_BASE] = K_U64,
};

static const unsigned int kind_len[] = {
	[K_U8] = 1, [K_U16] = 2, [K_U32] = 4, [K_U64] = 8, [K_MAC] = 6,
};

/* attribute type -> slot of the parse table (vendor range after the kernel's) */
static int attr_slot(unsigned int type)
{
	if (type >= 1 && type <= VNET_VDPA_ATTR_LAST)
		return type;
	if (type >= VNET_ATTR_BASE && type <= VNET_ATTR_LAST)
		return VNET_VDPA_ATTR_LAST + 1 + (type - VNET_ATTR_BASE);
	return -1;
}

static enum attr_kind attr_kind(unsigned int type)
{
	if (type >= 1 && type <= VNET_VDPA_ATTR_LAST)
		return vdpa_policy[type];
	if (type >= VNET_ATTR_BASE && type <= VNET_ATTR_LAST)
		return vnet_policy[type - VNET_ATTR_BASE];
	return K_NONE;
}

/* one request being handled */
struct req {
	struct vnet_nl_ctx *ctx;
	struct vnet_nl_out *out;
	const struct nlmsghdr *nlh;
	const struct nlattr *tb[ATTR_SLOTS];
	char errbuf[128];
	const char *errmsg;
	int erroff;		/* offset of the bad attribute in the message, 0: none */
	bool oom;
};

static const struct nlattr *attr(const struct req *rq, unsigned int type)
{
	int slot = attr_slot(type);

	return slot < 0 ? NULL : rq->tb[slot];
}

static int req_fail(struct req *rq, int err, const char *msg, unsigned int type)
{
	const struct nlattr *a = type ? attr(rq, type) : NULL;

	rq->errmsg = msg;
	if (a)
		rq->erroff = (const char *)a - (const char *)rq->nlh;
	return err;
}

/* --- output --------------------------------------------------------------- */

/* Appends one finished message, packing messages into records. */
static void out_put(struct req *rq, const struct nlmsghdr *nlh)
{
	struct vnet_nl_out *out = rq->out;
	struct vnet_nl_rec *rec = out->tail;
	size_t len = NLMSG_ALIGN(nlh->nlmsg_len);

	if (len > VNET_NL_RECORD_MAX)
		len = VNET_NL_RECORD_MAX;	/* cannot happen: built in MSG_BUF */
	if (!rec || rec->len + len > VNET_NL_RECORD_MAX) {
		rec = calloc(1, sizeof(*rec));
		if (!rec) {
			rq->oom = true;
			return;
		}
		if (out->tail)
			out->tail->next = rec;
		else
			out->head = rec;
		out->tail = rec;
		out->count++;
	}
	memcpy(rec->data + rec->len, nlh, len);
	rec->len += len;
}

void vnet_nl_out_free(struct vnet_nl_out *out)
{
	struct vnet_nl_rec *rec = out->head, *next;

	for (; rec; rec = next) {
		next = rec->next;
		free(rec);
	}
	out->head = out->tail = NULL;
	out->count = 0;
}

static struct nlmsghdr *msg_start(struct req *rq, void *buf, __u16 type, __u16 flags,
				  __u8 cmd)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct genlmsghdr *g;

	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = flags;
	nlh->nlmsg_seq = rq->nlh->nlmsg_seq;
	nlh->nlmsg_pid = rq->nlh->nlmsg_pid;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = cmd;
	g->version = VDPA_GENL_VERSION;
	return nlh;
}

/* NLMSG_ERROR (err 0 = ack) in the form NETLINK_CAP_ACK/EXT_ACK ask for */
static void put_error(struct req *rq, int err)
{
	char buf[MSG_BUF];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct nlmsgerr *e;
	size_t echo = sizeof(struct nlmsghdr);
	size_t tlvs = 0;

	/* without CAP_ACK the whole request comes back, as far as it fits */
	if (!rq->ctx->cap_ack && rq->nlh->nlmsg_len > echo)
		echo = rq->nlh->nlmsg_len;
	if (err && rq->ctx->ext_ack && rq->errmsg)
		tlvs = MNL_ALIGN(sizeof(struct nlattr) + strlen(rq->errmsg) + 1) +
		       MNL_ALIGN(sizeof(struct nlattr) + 4);
	if (sizeof(*nlh) + sizeof(*e) - sizeof(e->msg) + MNL_ALIGN(echo) + tlvs > sizeof(buf))
		echo = sizeof(struct nlmsghdr);
	nlh->nlmsg_type = NLMSG_ERROR;
	nlh->nlmsg_seq = rq->nlh->nlmsg_seq;
	nlh->nlmsg_pid = rq->nlh->nlmsg_pid;
	if (echo == sizeof(struct nlmsghdr))
		nlh->nlmsg_flags |= NLM_F_CAPPED;
	e = mnl_nlmsg_put_extra_header(nlh, sizeof(*e) - sizeof(e->msg) + MNL_ALIGN(echo));
	e->error = err;
	memcpy(&e->msg, rq->nlh, echo);
	e->msg.nlmsg_len = rq->nlh->nlmsg_len;
	if (tlvs) {
		nlh->nlmsg_flags |= NLM_F_ACK_TLVS;
		mnl_attr_put_strz(nlh, NLMSGERR_ATTR_MSG, rq->errmsg);
		if (rq->erroff)
			mnl_attr_put_u32(nlh, NLMSGERR_ATTR_OFFS, rq->erroff);
	}
	out_put(rq, nlh);
}

static void put_done(struct req *rq)
{
	char buf[64];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	int *zero;

	nlh->nlmsg_type = NLMSG_DONE;
	nlh->nlmsg_flags = NLM_F_MULTI;
	nlh->nlmsg_seq = rq->nlh->nlmsg_seq;
	nlh->nlmsg_pid = rq->nlh->nlmsg_pid;
	zero = mnl_nlmsg_put_extra_header(nlh, sizeof(*zero));
	*zero = 0;
	out_put(rq, nlh);
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

/* attributes each command accepts (beyond these: "not valid for this command") */
struct cmd_policy {
	unsigned long long vdpa;	/* bit n: VDPA attr n */
	unsigned int vnet;		/* bit n: VNET_ATTR_BASE + n */
};

static int check_allowed(struct req *rq, const struct cmd_policy *pol)
{
	for (int slot = 1; slot < ATTR_SLOTS; slot++) {
		unsigned int type;
		bool ok;

		if (!rq->tb[slot])
			continue;
		if (slot <= VNET_VDPA_ATTR_LAST) {
			type = slot;
			ok = pol->vdpa & BIT64(slot);
		} else {
			type = VNET_ATTR_BASE + slot - VNET_VDPA_ATTR_LAST - 1;
			ok = pol->vnet & (1u << (type - VNET_ATTR_BASE));
		}
		if (!ok) {
			snprintf(rq->errbuf, sizeof(rq->errbuf),
				 "attribute %u is not valid for this command", type);
			return req_fail(rq, -EINVAL, rq->errbuf, type);
		}
	}
	return 0;
}

#define A(x)	BIT64(VDPA_ATTR_##x)
#define V(x)	(1u << (VNET_ATTR_##x - VNET_ATTR_BASE))

static const struct cmd_policy pol_mgmtdev = { A(MGMTDEV_BUS_NAME) | A(MGMTDEV_DEV_NAME), 0 };
static const struct cmd_policy pol_dev_name = { A(DEV_NAME), 0 };
static const struct cmd_policy pol_dev_new = {
	A(MGMTDEV_BUS_NAME) | A(MGMTDEV_DEV_NAME) | A(DEV_NAME) | A(DEV_NET_CFG_MACADDR) |
	A(DEV_NET_CFG_MTU) | A(DEV_NET_CFG_MAX_VQP) | A(DEV_FEATURES),
	V(TRANSPORT) | V(SOCKET_PATH) | V(SOCKET_MODE) | V(TRUSTED) | V(SPOOFCHK),
};
static const struct cmd_policy pol_dev_set = {
	A(DEV_NAME) | A(DEV_NET_CFG_MACADDR) | A(DEV_NET_CFG_MTU), V(TRUSTED) | V(SPOOFCHK),
};
static const struct cmd_policy pol_vstats = { A(DEV_NAME) | A(DEV_QUEUE_INDEX), 0 };

static const char *attr_str(const struct req *rq, unsigned int type)
{
	const struct nlattr *a = attr(rq, type);

	return a ? mnl_attr_get_str(a) : NULL;
}

/* --- replies -------------------------------------------------------------- */

static void fill_mgmt_handle(struct nlmsghdr *nlh, const struct vnet_mgmtdev *m)
{
	mnl_attr_put_strz(nlh, VDPA_ATTR_MGMTDEV_BUS_NAME, VNET_MGMT_BUS);
	mnl_attr_put_strz(nlh, VDPA_ATTR_MGMTDEV_DEV_NAME, m->name);
}

static void put_mgmtdev(struct req *rq, const struct vnet_mgmtdev *m, __u16 flags)
{
	char buf[MSG_BUF];
	struct nlmsghdr *nlh = msg_start(rq, buf, VNET_VDPA_FAMILY_ID, flags,
					 VDPA_CMD_MGMTDEV_NEW);

	fill_mgmt_handle(nlh, m);
	mnl_attr_put_u64(nlh, VDPA_ATTR_MGMTDEV_SUPPORTED_CLASSES, BIT64(VIRTIO_ID_NET_DEV));
	mnl_attr_put_u32(nlh, VDPA_ATTR_DEV_MGMTDEV_MAX_VQS, 2 * VNET_MAX_VQP + 1);
	mnl_attr_put_u64(nlh, VDPA_ATTR_DEV_SUPPORTED_FEATURES,
			 rq->ctx->reg->ops->supported_features);
	mnl_attr_put_u32(nlh, VNET_ATTR_UPLINK_STATE, m->uplink_state);
	if (!m->is_sim) {
		char dp[64];

		mnl_attr_put_strz(nlh, VNET_ATTR_UPLINK, m->name);
		mnl_attr_put_u32(nlh, VNET_ATTR_UPLINK_MTU, m->uplink_mtu);
		mnl_attr_put_u64(nlh, VNET_ATTR_UPLINK_CARRIER_CHANGES, m->carrier_changes);
		if (rq->ctx->reg->ops->uplink_describe) {
			rq->ctx->reg->ops->uplink_describe(m, dp, sizeof(dp));
			mnl_attr_put_strz(nlh, VNET_ATTR_UPLINK_DATAPATH, dp);
		}
	}
	out_put(rq, nlh);
}

static __u32 dev_nvqs(const struct vnet_dev *dev)
{
	return 2u * dev->p.max_vqp +
	       !!(dev->p.features & BIT64(VIRTIO_NET_F_CTRL_VQ));
}

static void put_port_counters(struct nlmsghdr *nlh, struct vnet_dev *dev)
{
	struct vnet_port_counters pc;
	const __u64 *v = (const __u64 *)&pc;

	if (!dev->ops->get_port_counters || dev->ops->get_port_counters(dev, &pc))
		return;
	/* struct and attributes in the same order */
	_Static_assert(sizeof(pc) / sizeof(__u64) ==
		       VNET_ATTR_PORT_TX_RARP - VNET_ATTR_PORT_RX_FRAMES + 1, "port counters");
	for (unsigned int i = 0; i < sizeof(pc) / sizeof(*v); i++)
		mnl_attr_put_u64(nlh, VNET_ATTR_PORT_RX_FRAMES + i, v[i]);
}

static void put_learned_macs(struct nlmsghdr *nlh, struct vnet_dev *dev)
{
	__u8 macs[VNET_LEARN_MAX][6];
	unsigned int n;

	if (!dev->ops->get_learned_macs)
		return;
	n = dev->ops->get_learned_macs(dev, macs, VNET_LEARN_MAX);
	if (n)
		mnl_attr_put(nlh, VNET_ATTR_PORT_LEARNED_MACS, 6 * n, macs);
}

static void put_dev(struct req *rq, struct vnet_dev *dev, __u16 flags)
{
	char buf[MSG_BUF];
	struct nlmsghdr *nlh = msg_start(rq, buf, VNET_VDPA_FAMILY_ID, flags,
					 VDPA_CMD_DEV_NEW);

	mnl_attr_put_strz(nlh, VDPA_ATTR_DEV_NAME, dev->p.name);
	fill_mgmt_handle(nlh, dev->mgmt);
	mnl_attr_put_u32(nlh, VDPA_ATTR_DEV_ID, VIRTIO_ID_NET_DEV);
	mnl_attr_put_u32(nlh, VDPA_ATTR_DEV_VENDOR_ID, VNET_VENDOR_ID);
	mnl_attr_put_u32(nlh, VDPA_ATTR_DEV_MAX_VQS, dev_nvqs(dev));
	mnl_attr_put_u16(nlh, VDPA_ATTR_DEV_MAX_VQ_SIZE, VNET_MAX_VQ_SIZE);
	mnl_attr_put_u32(nlh, VNET_ATTR_TRANSPORT, dev->p.transport);
	if (dev->p.socket_path[0]) {
		mnl_attr_put_strz(nlh, VNET_ATTR_SOCKET_PATH, dev->p.socket_path);
		mnl_attr_put_u32(nlh, VNET_ATTR_SOCKET_MODE, dev->p.sock_mode);
	}
	if (!dev->mgmt->is_sim)
		mnl_attr_put_strz(nlh, VNET_ATTR_UPLINK, dev->mgmt->name);
	mnl_attr_put_u32(nlh, VNET_ATTR_UPLINK_STATE, dev->mgmt->uplink_state);
	mnl_attr_put_u8(nlh, VNET_ATTR_TRUSTED, dev->p.trusted);
	mnl_attr_put_u8(nlh, VNET_ATTR_SPOOFCHK, dev->p.spoofchk);
	mnl_attr_put_u8(nlh, VNET_ATTR_DEV_STATUS, dev->ops->get_status(dev));
	mnl_attr_put_u32(nlh, VNET_ATTR_DATAPATH, dev->datapath);
	put_port_counters(nlh, dev);
	put_learned_macs(nlh, dev);
	out_put(rq, nlh);
}

/* mirrors vdpa_dev_net_mq_config_fill: MQ or RSS makes max_vqp meaningful */
static void put_mq(struct nlmsghdr *nlh, __u64 features, const struct vnet_net_config *cfg)
{
	if (features & (BIT64(VIRTIO_NET_F_MQ) | BIT64(VIRTIO_NET_F_RSS)))
		mnl_attr_put_u16(nlh, VDPA_ATTR_DEV_NET_CFG_MAX_VQP, cfg->max_virtqueue_pairs);
}

static void put_config(struct req *rq, struct vnet_dev *dev, __u16 flags)
{
	char buf[MSG_BUF];
	struct nlmsghdr *nlh = msg_start(rq, buf, VNET_VDPA_FAMILY_ID, flags,
					 VDPA_CMD_DEV_CONFIG_GET);
	struct vnet_net_config cfg;
	struct vnet_filter_state fs;
	__u64 dfeat = dev->ops->get_device_features(dev);
	__u8 status = dev->ops->get_status(dev);

	dev->ops->get_config(dev, &cfg);
	dev->ops->get_filter_state(dev, &fs);
	mnl_attr_put_strz(nlh, VDPA_ATTR_DEV_NAME, dev->p.name);
	mnl_attr_put_u32(nlh, VDPA_ATTR_DEV_ID, VIRTIO_ID_NET_DEV);
	/* as the kernel: driver features only once negotiation is done */
	if (status & VIRTIO_CONFIG_S_FEATURES_OK)
		mnl_attr_put_u64(nlh, VDPA_ATTR_DEV_NEGOTIATED_FEATURES,
				 dev->ops->get_driver_features(dev));
	mnl_attr_put_u64(nlh, VDPA_ATTR_DEV_FEATURES, dfeat);
	if (dfeat & BIT64(VIRTIO_NET_F_MTU))
		mnl_attr_put_u16(nlh, VDPA_ATTR_DEV_NET_CFG_MTU, cfg.mtu);
	if (dfeat & BIT64(VIRTIO_NET_F_MAC))
		mnl_attr_put(nlh, VDPA_ATTR_DEV_NET_CFG_MACADDR, 6, cfg.mac);
	if (dfeat & BIT64(VIRTIO_NET_F_STATUS))
		mnl_attr_put_u16(nlh, VDPA_ATTR_DEV_NET_STATUS, cfg.status);
	put_mq(nlh, dfeat, &cfg);
	mnl_attr_put_u8(nlh, VNET_ATTR_DEV_STATUS, status);
	mnl_attr_put_u32(nlh, VNET_ATTR_UPLINK_STATE, dev->mgmt->uplink_state);
	mnl_attr_put_u32(nlh, VNET_ATTR_RX_MODE, fs.rx_mode);
	mnl_attr_put_u32(nlh, VNET_ATTR_MAC_TABLE_LEN, fs.mac_table_len);
	mnl_attr_put_u32(nlh, VNET_ATTR_VLAN_COUNT, fs.vlan_count);
	mnl_attr_put_u32(nlh, VNET_ATTR_RSS_HASH_TYPES, fs.rss_hash_types);
	mnl_attr_put_u32(nlh, VNET_ATTR_RSS_INDIR_LEN, fs.rss_indir_len);
	mnl_attr_put_u32(nlh, VNET_ATTR_ACTIVE_VQP, fs.active_vqp);
	out_put(rq, nlh);
}

/* --- commands ------------------------------------------------------------- */

static struct vnet_dev *find_dev(struct req *rq, int *err)
{
	const char *name = attr_str(rq, VDPA_ATTR_DEV_NAME);
	struct vnet_dev *dev;

	if (!name) {
		*err = req_fail(rq, -EINVAL, "device name (VDPA_ATTR_DEV_NAME) missing", 0);
		return NULL;
	}
	dev = vnet_registry_find(rq->ctx->reg, name);
	if (!dev)
		*err = req_fail(rq, -ENODEV, "device not found", VDPA_ATTR_DEV_NAME);
	return dev;
}

static int cmd_mgmtdev_get(struct req *rq, bool dump)
{
	struct vnet_registry *reg = rq->ctx->reg;
	struct vnet_mgmtdev *m;
	const char *name;
	int err = check_allowed(rq, &pol_mgmtdev);

	if (err)
		return err;
	if (dump) {
		for (int i = 0; i < reg->n_mgmt; i++)
			put_mgmtdev(rq, &reg->mgmt[i], NLM_F_MULTI);
		return 0;
	}
	name = attr_str(rq, VDPA_ATTR_MGMTDEV_DEV_NAME);
	if (!name)
		return req_fail(rq, -EINVAL, "management device name missing", 0);
	m = vnet_registry_find_mgmtdev(reg, attr_str(rq, VDPA_ATTR_MGMTDEV_BUS_NAME), name);
	if (!m)
		return req_fail(rq, -ENODEV, "Fail to find the specified mgmt device",
				VDPA_ATTR_MGMTDEV_DEV_NAME);
	put_mgmtdev(rq, m, 0);
	return 0;
}

static int cmd_dev_get(struct req *rq, bool dump, bool config)
{
	struct vnet_registry *reg = rq->ctx->reg;
	struct vnet_dev *dev;
	int err = check_allowed(rq, &pol_dev_name);

	if (err)
		return err;
	if (dump) {
		for (int i = 0; i < reg->n_devs; i++) {
			if (config)
				put_config(rq, reg->devs[i], NLM_F_MULTI);
			else
				put_dev(rq, reg->devs[i], NLM_F_MULTI);
		}
		return 0;
	}
	dev = find_dev(rq, &err);
	if (!dev)
		return err;
	if (config)
		put_config(rq, dev, 0);
	else
		put_dev(rq, dev, 0);
	return 0;
}

/* The trust / spoof-check flags DEV_NEW and DEV_ATTR_SET share. */
static int parse_trust_attrs(struct req *rq, struct vnet_dev_params *p)
{
	const struct nlattr *a;

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
	const struct nlattr *a;
	const char *bus, *name, *mgmt;
	int err = check_allowed(rq, &pol_dev_new);

	if (err)
		return err;
	name = attr_str(rq, VDPA_ATTR_DEV_NAME);
	mgmt = attr_str(rq, VDPA_ATTR_MGMTDEV_DEV_NAME);
	bus = attr_str(rq, VDPA_ATTR_MGMTDEV_BUS_NAME);
	if (!name)
		return req_fail(rq, -EINVAL, "device name (VDPA_ATTR_DEV_NAME) missing", 0);
	if (!mgmt)
		return req_fail(rq, -EINVAL, "management device (VDPA_ATTR_MGMTDEV_DEV_NAME) missing", 0);
	if (strlen(name) > VNET_DEV_NAME_MAX)
		return req_fail(rq, -ENAMETOOLONG, "device name too long (max 31 characters)",
				VDPA_ATTR_DEV_NAME);
	if ((bus && strcmp(bus, VNET_MGMT_BUS)) || strlen(mgmt) >= sizeof(p.mgmtdev))
		return req_fail(rq, -ENODEV, "Fail to find the specified mgmt device",
				bus && strcmp(bus, VNET_MGMT_BUS) ? VDPA_ATTR_MGMTDEV_BUS_NAME :
				VDPA_ATTR_MGMTDEV_DEV_NAME);
	strcpy(p.name, name);
	strcpy(p.mgmtdev, mgmt);
	if ((a = attr(rq, VDPA_ATTR_DEV_NET_CFG_MACADDR))) {
		memcpy(p.mac, mnl_attr_get_payload(a), 6);
		p.mask |= VNET_P_MAC;
	}
	if ((a = attr(rq, VDPA_ATTR_DEV_NET_CFG_MTU))) {
		p.mtu = mnl_attr_get_u16(a);
		p.mask |= VNET_P_MTU;
	}
	if ((a = attr(rq, VDPA_ATTR_DEV_NET_CFG_MAX_VQP))) {
		p.max_vqp = mnl_attr_get_u16(a);
		p.mask |= VNET_P_MAX_VQP;
	}
	if ((a = attr(rq, VDPA_ATTR_DEV_FEATURES))) {
		p.features = mnl_attr_get_u64(a);
		p.mask |= VNET_P_FEATURES;
	}
	if ((a = attr(rq, VNET_ATTR_TRANSPORT))) {
		p.transport = mnl_attr_get_u32(a);
		p.mask |= VNET_P_TRANSPORT;
	}
	if ((a = attr(rq, VNET_ATTR_SOCKET_PATH))) {
		if (mnl_attr_get_payload_len(a) > sizeof(p.socket_path))
			return req_fail(rq, -ENAMETOOLONG, "socket path too long (max 107 bytes)",
					VNET_ATTR_SOCKET_PATH);
		strcpy(p.socket_path, mnl_attr_get_str(a));
		p.mask |= VNET_P_SOCKET;
	}
	if ((a = attr(rq, VNET_ATTR_SOCKET_MODE))) {
		p.sock_mode = mnl_attr_get_u32(a);
		p.mask |= VNET_P_SOCK_MODE;
	}
	err = parse_trust_attrs(rq, &p);
	if (err)
		return err;
	err = vnet_registry_dev_new(rq->ctx->reg, &p, &e);
	if (err)
		return reg_fail(rq, err, &e);
	return 0;
}

static int cmd_dev_del(struct req *rq)
{
	struct vnet_err e = { 0 };
	const char *name;
	int err = check_allowed(rq, &pol_dev_name);

	if (err)
		return err;
	name = attr_str(rq, VDPA_ATTR_DEV_NAME);
	if (!name)
		return req_fail(rq, -EINVAL, "device name (VDPA_ATTR_DEV_NAME) missing", 0);
	err = vnet_registry_dev_del(rq->ctx->reg, name, &e);
	return err ? reg_fail(rq, err, &e) : 0;
}

static int cmd_dev_set(struct req *rq)
{
	struct vnet_dev_params p = { 0 };
	struct vnet_err e = { 0 };
	const struct nlattr *a;
	const char *name;
	int err = check_allowed(rq, &pol_dev_set);

	if (err)
		return err;
	name = attr_str(rq, VDPA_ATTR_DEV_NAME);
	if (!name)
		return req_fail(rq, -EINVAL, "device name (VDPA_ATTR_DEV_NAME) missing", 0);
	if ((a = attr(rq, VDPA_ATTR_DEV_NET_CFG_MACADDR))) {
		memcpy(p.mac, mnl_attr_get_payload(a), 6);
		p.mask |= VNET_P_MAC;
	}
	if ((a = attr(rq, VDPA_ATTR_DEV_NET_CFG_MTU))) {
		p.mtu = mnl_attr_get_u16(a);
		p.mask |= VNET_P_MTU;
	}
	err = parse_trust_attrs(rq, &p);
	if (err)
		return err;
	err = vnet_registry_dev_set(rq->ctx->reg, name, &p, &e);
	return err ? reg_fail(rq, err, &e) : 0;
}

static int cmd_vstats(struct req *rq)
{
	char buf[MSG_BUF];
	struct vnet_vq_stat st[VNET_VQ_STATS_MAX];
	struct vnet_net_config cfg;
	struct nlmsghdr *nlh;
	struct vnet_dev *dev;
	const char *msg = NULL;
	__u64 features;
	__u32 qidx;
	int err = check_allowed(rq, &pol_vstats), n;

	if (err)
		return err;
	dev = find_dev(rq, &err);
	if (!dev)
		return err;
	if (!attr(rq, VDPA_ATTR_DEV_QUEUE_INDEX))
		return req_fail(rq, -EINVAL, "queue index (VDPA_ATTR_DEV_QUEUE_INDEX) missing", 0);
	qidx = mnl_attr_get_u32(attr(rq, VDPA_ATTR_DEV_QUEUE_INDEX));
	if (qidx > VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MAX)
		return req_fail(rq, -ERANGE, "queue index exceeds max value",
				VDPA_ATTR_DEV_QUEUE_INDEX);
	/* as the kernel: no counters before the driver finished negotiation */
	if (!(dev->ops->get_status(dev) & VIRTIO_CONFIG_S_FEATURES_OK))
		return req_fail(rq, -EAGAIN, "feature negotiation not complete", 0);
	n = dev->ops->get_vq_stats(dev, qidx, st, VNET_VQ_STATS_MAX, &msg);
	if (n < 0)
		return req_fail(rq, n, msg ? msg : "cannot read queue counters",
				VDPA_ATTR_DEV_QUEUE_INDEX);
	dev->ops->get_config(dev, &cfg);
	features = dev->ops->get_driver_features(dev);
	nlh = msg_start(rq, buf, VNET_VDPA_FAMILY_ID, 0, VDPA_CMD_DEV_VSTATS_GET);
	mnl_attr_put_strz(nlh, VDPA_ATTR_DEV_NAME, dev->p.name);
	mnl_attr_put_u32(nlh, VDPA_ATTR_DEV_ID, VIRTIO_ID_NET_DEV);
	mnl_attr_put_u64(nlh, VDPA_ATTR_DEV_NEGOTIATED_FEATURES, features);
	/* a front-end that keeps the control queue (QEMU) never negotiates MQ
	 * with us, yet uses every pair: say how many, so readers can tell a
	 * receive queue from a transmit queue beyond the first pair */
	if (!(features & (BIT64(VIRTIO_NET_F_MQ) | BIT64(VIRTIO_NET_F_RSS))) &&
	    !(features & BIT64(VIRTIO_NET_F_CTRL_VQ)) && cfg.max_virtqueue_pairs > 1)
		mnl_attr_put_u16(nlh, VDPA_ATTR_DEV_NET_CFG_MAX_VQP, cfg.max_virtqueue_pairs);
	else
		put_mq(nlh, features, &cfg);
	mnl_attr_put_u32(nlh, VDPA_ATTR_DEV_QUEUE_INDEX, qidx);
	for (int i = 0; i < n; i++) {
		st[i].name[sizeof(st[i].name) - 1] = '\0';
		mnl_attr_put_strz(nlh, VDPA_ATTR_DEV_VENDOR_ATTR_NAME, st[i].name);
		mnl_attr_put_u64(nlh, VDPA_ATTR_DEV_VENDOR_ATTR_VALUE, st[i].value);
	}
	out_put(rq, nlh);
	return 0;
}

static int handle_vdpa(struct req *rq, bool *dumped)
{
	const struct genlmsghdr *g = mnl_nlmsg_get_payload(rq->nlh);
	bool dump = (rq->nlh->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP;
	bool mutating;
	int err;

	if (rq->nlh->nlmsg_len < NLMSG_HDRLEN + GENL_HDRLEN)
		return req_fail(rq, -EINVAL, "message too short for a genetlink header", 0);
	err = parse_attrs(rq, GENL_HDRLEN);
	if (err)
		return err;
	mutating = g->cmd == VDPA_CMD_DEV_NEW || g->cmd == VDPA_CMD_DEV_DEL ||
		   g->cmd == VNET_VDPA_CMD_DEV_ATTR_SET || g->cmd == VDPA_CMD_DEV_VSTATS_GET;
	/* the kernel's GENL_ADMIN_PERM ops, including vstats */
	if (mutating && !rq->ctx->admin)
		return req_fail(rq, -EPERM, "Operation not permitted: needs root or CAP_NET_ADMIN", 0);
	if (dump && g->cmd != VDPA_CMD_MGMTDEV_GET && g->cmd != VDPA_CMD_DEV_GET &&
	    g->cmd != VDPA_CMD_DEV_CONFIG_GET)
		return req_fail(rq, -EOPNOTSUPP, "command cannot dump", 0);
	*dumped = dump;
	switch (g->cmd) {
	case VDPA_CMD_MGMTDEV_GET:
		return cmd_mgmtdev_get(rq, dump);
	case VDPA_CMD_DEV_GET:
		return cmd_dev_get(rq, dump, false);
	case VDPA_CMD_DEV_CONFIG_GET:
		return cmd_dev_get(rq, dump, true);
	case VDPA_CMD_DEV_NEW:
		return cmd_dev_new(rq);
	case VDPA_CMD_DEV_DEL:
		return cmd_dev_del(rq);
	case VNET_VDPA_CMD_DEV_ATTR_SET:
		return cmd_dev_set(rq);
	case VDPA_CMD_DEV_VSTATS_GET:
		return cmd_vstats(rq);
	default:
		*dumped = false;
		snprintf(rq->errbuf, sizeof(rq->errbuf), "unknown vdpa command %u", g->cmd);
		return req_fail(rq, -EOPNOTSUPP, rq->errbuf, 0);
	}
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
	nlh = msg_start(rq, buf, GENL_ID_CTRL, *dumped ? NLM_F_MULTI : 0, CTRL_CMD_NEWFAMILY);
	((struct genlmsghdr *)mnl_nlmsg_get_payload(nlh))->version = 2;
	mnl_attr_put_strz(nlh, CTRL_ATTR_FAMILY_NAME, VDPA_GENL_NAME);
	mnl_attr_put_u16(nlh, CTRL_ATTR_FAMILY_ID, VNET_VDPA_FAMILY_ID);
	mnl_attr_put_u32(nlh, CTRL_ATTR_VERSION, VDPA_GENL_VERSION);
	mnl_attr_put_u32(nlh, CTRL_ATTR_HDRSIZE, 0);
	mnl_attr_put_u32(nlh, CTRL_ATTR_MAXATTR, VNET_ATTR_LAST);
	out_put(rq, nlh);
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
		put_done(&rq);	/* a dump ends with DONE and is never acked */
	else if (err || (nlh->nlmsg_flags & NLM_F_ACK))
		put_error(&rq, err);
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
			put_error(&rq, -EINVAL);
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
	put_error(&rq, -EMSGSIZE);
	return rq.oom ? -ENOMEM : 0;
}
