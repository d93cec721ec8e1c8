// SPDX-License-Identifier: MIT
/*
 * Netlink output of the vdpa family (nl_int.h): messages packed into
 * records, errors and acks in the form the client asked for, and the reply
 * for each object a get names (management device, device, its config, a
 * queue's counters), in the attributes drivers/vdpa/vdpa.c uses.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/genetlink.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>

#include "vnet/mac_learn.h"
#include "nl_int.h"

/* --- output --------------------------------------------------------------- */

/* Appends one finished message, packing messages into records. */
void nl_out_put(struct req *rq, const struct nlmsghdr *nlh)
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

struct nlmsghdr *nl_msg_start(struct req *rq, void *buf, __u16 type, __u16 flags, __u8 cmd)
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
void nl_put_error(struct req *rq, int err)
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
	nl_out_put(rq, nlh);
}

void nl_put_done(struct req *rq)
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
	nl_out_put(rq, nlh);
}

/* --- replies -------------------------------------------------------------- */

static void fill_mgmt_handle(struct nlmsghdr *nlh, const struct vnet_mgmtdev *m)
{
	mnl_attr_put_strz(nlh, VDPA_ATTR_MGMTDEV_BUS_NAME, VNET_MGMT_BUS);
	mnl_attr_put_strz(nlh, VDPA_ATTR_MGMTDEV_DEV_NAME, m->name);
}

/* vdpa's feature attributes are u64: bits 0-63 of a set */
static void put_features(struct nlmsghdr *nlh, unsigned int type, const struct vnet_features *f)
{
	mnl_attr_put_u64(nlh, type, vnet_features_u64(f));
}

/* an uplink's queues in mgmtdev show: 32 bytes each, 2 KiB of the record;
 * the queues that dropped: 64 bytes each, 1 KiB; its workers' drops:
 * 32 bytes each, 512 bytes (VNET_NL_RECORD_MAX) */
#define VNET_UPLINK_QUEUES_SHOWN	64
#define VNET_UPLINK_QDROPS_SHOWN	16
#define VNET_UPLINK_WORKERS_SHOWN	16

static void put_uplink_drops(struct req *rq, struct nlmsghdr *nlh, const struct vnet_mgmtdev *m)
{
	__u64 qd[VNET_UPLINK_QDROPS_SHOWN][VNET_UPLINK_QDROPS];
	__u64 wd[VNET_UPLINK_WORKERS_SHOWN][VNET_UPLINK_WDROPS];
	unsigned int nq, nw;

	if (!rq->ctx->reg->ops->uplink_drops)
		return;
	nw = rq->ctx->reg->ops->uplink_drops(m, qd, VNET_UPLINK_QDROPS_SHOWN, &nq, wd,
					      VNET_UPLINK_WORKERS_SHOWN);
	/* checked: the record must never overflow, whatever the counts */
	if (nq)
		mnl_attr_put_check(nlh, MSG_BUF, VNET_ATTR_UPLINK_QUEUE_DROPS,
				   nq * sizeof(qd[0]), qd);
	if (nw)
		mnl_attr_put_check(nlh, MSG_BUF, VNET_ATTR_UPLINK_WORKER_DROPS,
				   nw * sizeof(wd[0]), wd);
}

/*
 * dev vstats of a device on an uplink: what was dropped on the way between
 * the wire and its queues. Its port's drops are its own; the uplink's queues
 * and workers serve every device on it (the NIC's RSS picks the queue), so
 * their drops are the uplink's, named as such. Nested, after the name/value
 * pairs: iproute2's vdpa prints the pairs and skips an attribute it does not
 * know.
 */
static void put_vstats_uplink(struct req *rq, struct nlmsghdr *nlh, struct vnet_dev *dev)
{
	struct vnet_port_counters pc;
	struct nlattr *nest;

	if (dev->mgmt->is_sim)
		return;
	nest = mnl_attr_nest_start(nlh, VNET_ATTR_VSTATS_UPLINK);
	mnl_attr_put_strz(nlh, VNET_ATTR_UPLINK, dev->mgmt->name);
	if (dev->ops->get_port_counters && !dev->ops->get_port_counters(dev, &pc)) {
		mnl_attr_put_u64(nlh, VNET_ATTR_PORT_RX_DROPPED, pc.rx_dropped);
		mnl_attr_put_u64(nlh, VNET_ATTR_PORT_TX_SPOOFED, pc.tx_spoofed);
		mnl_attr_put_u64(nlh, VNET_ATTR_PORT_TX_DROPPED, pc.tx_dropped);
	}
	put_uplink_drops(rq, nlh, dev->mgmt);
	mnl_attr_nest_end(nlh, nest);
}

int nl_put_mgmtdev(struct req *rq, void *obj, __u16 flags)
{
	const struct vnet_mgmtdev *m = obj;
	char buf[MSG_BUF];
	struct nlmsghdr *nlh = nl_msg_start(rq, buf, VNET_VDPA_FAMILY_ID, flags,
					 VDPA_CMD_MGMTDEV_NEW);

	fill_mgmt_handle(nlh, m);
	mnl_attr_put_u64(nlh, VDPA_ATTR_MGMTDEV_SUPPORTED_CLASSES, BIT64(VIRTIO_ID_NET_DEV));
	mnl_attr_put_u32(nlh, VDPA_ATTR_DEV_MGMTDEV_MAX_VQS, 2 * VNET_MAX_VQP + 1);
	put_features(nlh, VDPA_ATTR_DEV_SUPPORTED_FEATURES, &rq->ctx->reg->ops->supported_features);
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
		if (rq->ctx->reg->ops->uplink_queues) {
			__u64 q[VNET_UPLINK_QUEUES_SHOWN][4];
			unsigned int nq, nw;

			nw = rq->ctx->reg->ops->uplink_queues(m, q, VNET_UPLINK_QUEUES_SHOWN, &nq);
			if (nw)
				mnl_attr_put_u32(nlh, VNET_ATTR_UPLINK_WORKERS, nw);
			if (nq)
				mnl_attr_put(nlh, VNET_ATTR_UPLINK_QUEUES, nq * sizeof(q[0]), q);
		}
		put_uplink_drops(rq, nlh, m);
	}
	nl_out_put(rq, nlh);
	return 0;
}

static __u32 dev_nvqs(const struct vnet_dev *dev)
{
	return 2u * dev->p.max_vqp + vnet_features_has(&dev->p.features, VIRTIO_NET_F_CTRL_VQ);
}

static void put_port_counters(struct nlmsghdr *nlh, struct vnet_dev *dev)
{
	struct vnet_port_counters pc;
	const __u64 *v = (const __u64 *)&pc;

	if (!dev->ops->get_port_counters || dev->ops->get_port_counters(dev, &pc))
		return;
	/* struct and attributes in the same order */
	_Static_assert(sizeof(pc) / sizeof(__u64) ==
		       VNET_ATTR_PORT_TX_RARP - VNET_ATTR_PORT_RX_FRAMES + 3, "port counters");
	for (unsigned int i = 0; i <= VNET_ATTR_PORT_TX_RARP - VNET_ATTR_PORT_RX_FRAMES; i++)
		mnl_attr_put_u64(nlh, VNET_ATTR_PORT_RX_FRAMES + i, v[i]);
	mnl_attr_put_u64(nlh, VNET_ATTR_PORT_RX_KGRO, pc.rx_kgro);
	mnl_attr_put_u64(nlh, VNET_ATTR_PORT_RX_KGRO_PARKED, pc.rx_kgro_parked);
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

/* A VDUSE device: its driver and namespace, what the kernel made of it. */
static void put_vduse(struct nlmsghdr *nlh, struct vnet_dev *dev)
{
	struct vnet_kernel_info ki;

	if (dev->p.transport != VNET_TRANSPORT_VDUSE)
		return;
	mnl_attr_put_u32(nlh, VNET_ATTR_BIND, dev->p.bind);
	if (dev->p.netns[0])
		mnl_attr_put_strz(nlh, VNET_ATTR_NETNS, dev->p.netns);
	if (!dev->ops->get_kernel_info || dev->ops->get_kernel_info(dev, &ki))
		return;
	if (ki.netdev[0])
		mnl_attr_put_strz(nlh, VNET_ATTR_KERNEL_NETDEV, ki.netdev);
	if (ki.chardev[0])
		mnl_attr_put_strz(nlh, VNET_ATTR_VHOST_DEV, ki.chardev);
	/* VDUSE carries 64 feature bits: so does this attribute */
	mnl_attr_put_u64(nlh, VNET_ATTR_VDUSE_REFUSED, vnet_features_u64(&ki.refused));
}

int nl_put_dev(struct req *rq, void *obj, __u16 flags)
{
	struct vnet_dev *dev = obj;
	char buf[MSG_BUF];
	struct nlmsghdr *nlh = nl_msg_start(rq, buf, VNET_VDPA_FAMILY_ID, flags,
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
	if (dev->ops->get_migration)
		mnl_attr_put_u32(nlh, VNET_ATTR_MIGRATION, dev->ops->get_migration(dev));
	put_port_counters(nlh, dev);
	put_learned_macs(nlh, dev);
	put_vduse(nlh, dev);
	nl_out_put(rq, nlh);
	return 0;
}

/* mirrors vdpa_dev_net_mq_config_fill: MQ or RSS makes max_vqp meaningful */
static void put_mq(struct nlmsghdr *nlh, const struct vnet_features *f,
		   const struct vnet_net_config *cfg)
{
	if (vnet_features_has(f, VIRTIO_NET_F_MQ) || vnet_features_has(f, VIRTIO_NET_F_RSS))
		mnl_attr_put_u16(nlh, VDPA_ATTR_DEV_NET_CFG_MAX_VQP, cfg->max_virtqueue_pairs);
}

int nl_put_config(struct req *rq, void *obj, __u16 flags)
{
	struct vnet_dev *dev = obj;
	char buf[MSG_BUF];
	struct nlmsghdr *nlh = nl_msg_start(rq, buf, VNET_VDPA_FAMILY_ID, flags,
					 VDPA_CMD_DEV_CONFIG_GET);
	struct vnet_net_config cfg;
	struct vnet_filter_state fs;
	struct vnet_features dfeat = dev->ops->get_device_features(dev), drv;
	__u8 status = dev->ops->get_status(dev);

	dev->ops->get_config(dev, &cfg);
	dev->ops->get_filter_state(dev, &fs);
	mnl_attr_put_strz(nlh, VDPA_ATTR_DEV_NAME, dev->p.name);
	mnl_attr_put_u32(nlh, VDPA_ATTR_DEV_ID, VIRTIO_ID_NET_DEV);
	/* as the kernel: driver features only once negotiation is done */
	if (status & VIRTIO_CONFIG_S_FEATURES_OK) {
		drv = dev->ops->get_driver_features(dev);
		put_features(nlh, VDPA_ATTR_DEV_NEGOTIATED_FEATURES, &drv);
	}
	put_features(nlh, VDPA_ATTR_DEV_FEATURES, &dfeat);
	if (vnet_features_has(&dfeat, VIRTIO_NET_F_MTU))
		mnl_attr_put_u16(nlh, VDPA_ATTR_DEV_NET_CFG_MTU, cfg.mtu);
	if (vnet_features_has(&dfeat, VIRTIO_NET_F_MAC))
		mnl_attr_put(nlh, VDPA_ATTR_DEV_NET_CFG_MACADDR, 6, cfg.mac);
	if (vnet_features_has(&dfeat, VIRTIO_NET_F_STATUS))
		mnl_attr_put_u16(nlh, VDPA_ATTR_DEV_NET_STATUS, cfg.status);
	put_mq(nlh, &dfeat, &cfg);
	mnl_attr_put_u8(nlh, VNET_ATTR_DEV_STATUS, status);
	mnl_attr_put_u32(nlh, VNET_ATTR_UPLINK_STATE, dev->mgmt->uplink_state);
	mnl_attr_put_u32(nlh, VNET_ATTR_RX_MODE, fs.rx_mode);
	mnl_attr_put_u32(nlh, VNET_ATTR_MAC_TABLE_LEN, fs.mac_table_len);
	mnl_attr_put_u32(nlh, VNET_ATTR_VLAN_COUNT, fs.vlan_count);
	mnl_attr_put_u32(nlh, VNET_ATTR_RSS_HASH_TYPES, fs.rss_hash_types);
	mnl_attr_put_u32(nlh, VNET_ATTR_RSS_INDIR_LEN, fs.rss_indir_len);
	mnl_attr_put_u32(nlh, VNET_ATTR_ACTIVE_VQP, fs.active_vqp);
	nl_out_put(rq, nlh);
	return 0;
}

int nl_put_vstats(struct req *rq, void *obj, __u16 flags)
{
	struct vnet_dev *dev = obj;
	char buf[MSG_BUF];
	struct vnet_vq_stat st[VNET_VQ_STATS_MAX];
	struct vnet_net_config cfg;
	struct vnet_features features;
	struct nlmsghdr *nlh;
	const char *msg = NULL;
	__u32 qidx = mnl_attr_get_u32(attr(rq, VDPA_ATTR_DEV_QUEUE_INDEX));
	int n;

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
	nlh = nl_msg_start(rq, buf, VNET_VDPA_FAMILY_ID, flags, VDPA_CMD_DEV_VSTATS_GET);
	mnl_attr_put_strz(nlh, VDPA_ATTR_DEV_NAME, dev->p.name);
	mnl_attr_put_u32(nlh, VDPA_ATTR_DEV_ID, VIRTIO_ID_NET_DEV);
	put_features(nlh, VDPA_ATTR_DEV_NEGOTIATED_FEATURES, &features);
	/* a front-end that keeps the control queue (QEMU) never negotiates MQ
	 * with us, yet uses every pair: say how many, so readers can tell a
	 * receive queue from a transmit queue beyond the first pair */
	if (!vnet_features_has(&features, VIRTIO_NET_F_MQ) &&
	    !vnet_features_has(&features, VIRTIO_NET_F_RSS) &&
	    !vnet_features_has(&features, VIRTIO_NET_F_CTRL_VQ) && cfg.max_virtqueue_pairs > 1)
		mnl_attr_put_u16(nlh, VDPA_ATTR_DEV_NET_CFG_MAX_VQP, cfg.max_virtqueue_pairs);
	else
		put_mq(nlh, &features, &cfg);
	mnl_attr_put_u32(nlh, VDPA_ATTR_DEV_QUEUE_INDEX, qidx);
	for (int i = 0; i < n; i++) {
		st[i].name[sizeof(st[i].name) - 1] = '\0';
		mnl_attr_put_strz(nlh, VDPA_ATTR_DEV_VENDOR_ATTR_NAME, st[i].name);
		mnl_attr_put_u64(nlh, VDPA_ATTR_DEV_VENDOR_ATTR_VALUE, st[i].value);
	}
	put_vstats_uplink(rq, nlh, dev);
	nl_out_put(rq, nlh);
	return 0;
}
