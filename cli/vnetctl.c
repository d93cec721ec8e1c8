// SPDX-License-Identifier: MIT
/*
 * vnetctl: manage vnet devices. The grammar is iproute2's vdpa(8) one, with
 * exact keyword matching (a prefix never matches: new keywords must not
 * change what old scripts mean), plus what vnet adds (socket, trust,
 * spoof check, filter/RSS state). Arguments are parsed into struct
 * ctl_opts first, then the message is built, then sent (cli/nl_client.c).
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/genetlink.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>
#include <linux/virtio_ring.h>

#include "vnet/registry.h"
#include "vnet/netutil.h"
#include "ctl_print.h"
#include "nl_client.h"

#define O_MGMTDEV	(1u << 0)
#define O_NAME		(1u << 1)
#define O_MAC		(1u << 2)
#define O_MTU		(1u << 3)
#define O_MAX_VQP	(1u << 4)
#define O_SOCKET	(1u << 5)
#define O_SOCK_MODE	(1u << 6)
#define O_TRUST		(1u << 7)
#define O_SPOOFCHK	(1u << 8)
#define O_FEATURES	(1u << 9)
#define O_QIDX		(1u << 10)
#define O_TRANSPORT	(1u << 11)
#define O_BIND		(1u << 12)
#define O_NETNS		(1u << 13)

struct ctl_opts {
	unsigned int present;
	char *bus, *mgmtdev;
	const char *name, *socket, *netns;
	__u8 mac[6];
	__u16 mtu, max_vqp;
	__u32 sock_mode, qidx, transport, bind;
	__u8 trust, spoofchk;
	__u64 features;
};

/* how long vnetctl waits for vnetd's answer unless told (-t) */
#define CTL_TIMEOUT_DEFAULT	60

struct ctl {
	struct vnet_nlc nlc;
	const char *sock;
	unsigned int timeout_s;		/* 0: no limit */
	struct ctl_opts o;
};

/* --- argument parsing ----------------------------------------------------- */

static int parse_num(const char *kw, const char *s, unsigned long long max,
		     unsigned long long *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 0);
	if (errno || end == s || *end || *s == '-') {
		fprintf(stderr, "Error: argument \"%s\" of \"%s\" is not a number\n", s, kw);
		return -EINVAL;
	}
	if (*v > max) {
		fprintf(stderr, "Error: argument \"%s\" of \"%s\" is out of range (max %llu)\n",
			s, kw, max);
		return -ERANGE;
	}
	return 0;
}

static int parse_mac(const char *s, __u8 mac[6])
{
	if (vnet_mac_parse(s, mac)) {
		fprintf(stderr, "Error: \"%s\" is not a MAC address (xx:xx:xx:xx:xx:xx)\n", s);
		return -EINVAL;
	}
	return 0;
}

static int parse_onoff(const char *kw, const char *s, __u8 *v)
{
	if (!strcmp(s, "on")) {
		*v = 1;
		return 0;
	}
	if (!strcmp(s, "off")) {
		*v = 0;
		return 0;
	}
	fprintf(stderr, "Error: argument of \"%s\" must be \"on\" or \"off\", not \"%s\"\n",
		kw, s);
	return -EINVAL;
}

/* one word of 'words' (exact match); its index, or -EINVAL with a message */
static int parse_word(const char *kw, const char *s, const char *const *words, unsigned int n,
		      const char *expect)
{
	for (unsigned int i = 0; i < n; i++)
		if (words[i] && !strcmp(s, words[i]))
			return (int)i;
	fprintf(stderr, "Error: %s must be %s, not \"%s\"\n", kw, expect, s);
	return -EINVAL;
}

static const char *const transport_words[] = {
	[VNET_TRANSPORT_VHOST_USER] = "vhost-user", [VNET_TRANSPORT_VDUSE] = "vduse",
};
static const char *const bind_words[] = {
	[VNET_BIND_VIRTIO] = "virtio", [VNET_BIND_VHOST] = "vhost", [VNET_BIND_NONE] = "none",
};

/* "bus/name" or "name", as vdpa's handle */
static int parse_handle(char *s, char **bus, char **name)
{
	char *slash = strchr(s, '/');

	if (slash && strchr(slash + 1, '/')) {
		fprintf(stderr, "Error: wrong management device \"%s\", expected \"bus/name\" or \"name\"\n", s);
		return -EINVAL;
	}
	if (slash) {
		*slash = '\0';
		*bus = s;
		*name = slash + 1;
	} else {
		*bus = NULL;
		*name = s;
	}
	return 0;
}

static const struct {
	unsigned int bit;
	const char *missing;
} required_msgs[] = {
	{ O_NAME, "device name is not set." },
	{ O_MGMTDEV, "management device handle not set." },
	{ O_QIDX, "queue index is not set (qidx N)." },
};

/* keyword value pairs; 'allowed' says which keywords this command takes */
static int parse_kv(struct ctl *ctl, int argc, char **argv, unsigned int required,
		    unsigned int allowed)
{
	struct ctl_opts *o = &ctl->o;
	unsigned long long v;
	int err;

	allowed |= required;
	for (; argc > 0; argc -= 2, argv += 2) {
		const char *kw = argv[0];
		unsigned int bit;

		if (!strcmp(kw, "name")) bit = O_NAME;
		else if (!strcmp(kw, "mgmtdev")) bit = O_MGMTDEV;
		else if (!strcmp(kw, "mac")) bit = O_MAC;
		else if (!strcmp(kw, "mtu")) bit = O_MTU;
		else if (!strcmp(kw, "max_vqp")) bit = O_MAX_VQP;
		else if (!strcmp(kw, "socket")) bit = O_SOCKET;
		else if (!strcmp(kw, "socket_mode")) bit = O_SOCK_MODE;
		else if (!strcmp(kw, "trust")) bit = O_TRUST;
		else if (!strcmp(kw, "spoofchk")) bit = O_SPOOFCHK;
		else if (!strcmp(kw, "device_features")) bit = O_FEATURES;
		else if (!strcmp(kw, "qidx")) bit = O_QIDX;
		else if (!strcmp(kw, "transport")) bit = O_TRANSPORT;
		else if (!strcmp(kw, "bind")) bit = O_BIND;
		else if (!strcmp(kw, "netns")) bit = O_NETNS;
		else bit = 0;
		if (!(bit & allowed)) {
			fprintf(stderr, "Unknown option \"%s\"\n", kw);
			return -EINVAL;
		}
		if (o->present & bit) {
			fprintf(stderr, "Error: duplicate \"%s\"\n", kw);
			return -EINVAL;
		}
		if (argc < 2) {
			fprintf(stderr, "Error: \"%s\" needs an argument\n", kw);
			return -EINVAL;
		}
		o->present |= bit;
		switch (bit) {
		case O_NAME: o->name = argv[1]; err = 0; break;
		case O_MGMTDEV: err = parse_handle(argv[1], &o->bus, &o->mgmtdev); break;
		case O_MAC: err = parse_mac(argv[1], o->mac); break;
		case O_MTU:
			/* 68..65535 is vnetd's to judge; here only what a u16 holds */
			err = parse_num(kw, argv[1], 0xffff, &v);
			o->mtu = v;
			break;
		case O_MAX_VQP:
			err = parse_num(kw, argv[1], 0xffff, &v);
			o->max_vqp = v;
			break;
		case O_SOCKET: o->socket = argv[1]; err = 0; break;
		case O_SOCK_MODE:
			err = 0;
			if (!strcmp(argv[1], "server"))
				o->sock_mode = VNET_SOCK_SERVER;
			else if (!strcmp(argv[1], "client"))
				o->sock_mode = VNET_SOCK_CLIENT;
			else {
				fprintf(stderr, "Error: socket_mode must be \"server\" or \"client\"\n");
				err = -EINVAL;
			}
			break;
		case O_TRUST: err = parse_onoff(kw, argv[1], &o->trust); break;
		case O_SPOOFCHK: err = parse_onoff(kw, argv[1], &o->spoofchk); break;
		case O_FEATURES:
			err = parse_num(kw, argv[1], UINT64_MAX, &v);
			o->features = v;
			break;
		case O_QIDX:
			err = parse_num(kw, argv[1], UINT32_MAX, &v);
			o->qidx = v;
			break;
		case O_TRANSPORT:
			err = parse_word(kw, argv[1], transport_words, 2, "\"vhost-user\" or \"vduse\"");
			o->transport = err < 0 ? 0 : (__u32)err;
			break;
		case O_BIND:
			err = parse_word(kw, argv[1], bind_words, 3,
					 "\"virtio\", \"vhost\" or \"none\"");
			o->bind = err < 0 ? 0 : (__u32)err;
			break;
		case O_NETNS: o->netns = argv[1]; err = 0; break;
		default: err = -EINVAL;
		}
		if (err < 0)
			return err;
	}
	for (size_t i = 0; i < sizeof(required_msgs) / sizeof(required_msgs[0]); i++)
		if ((required & required_msgs[i].bit) && !(o->present & required_msgs[i].bit)) {
			fprintf(stderr, "%s\n", required_msgs[i].missing);
			return -EINVAL;
		}
	return 0;
}

static void opts_put(struct nlmsghdr *nlh, const struct ctl_opts *o)
{
	if (o->present & O_MGMTDEV) {
		if (o->bus)
			mnl_attr_put_strz(nlh, VDPA_ATTR_MGMTDEV_BUS_NAME, o->bus);
		mnl_attr_put_strz(nlh, VDPA_ATTR_MGMTDEV_DEV_NAME, o->mgmtdev);
	}
	if (o->present & O_NAME)
		mnl_attr_put_strz(nlh, VDPA_ATTR_DEV_NAME, o->name);
	if (o->present & O_MAC)
		mnl_attr_put(nlh, VDPA_ATTR_DEV_NET_CFG_MACADDR, 6, o->mac);
	if (o->present & O_MTU)
		mnl_attr_put_u16(nlh, VDPA_ATTR_DEV_NET_CFG_MTU, o->mtu);
	if (o->present & O_MAX_VQP)
		mnl_attr_put_u16(nlh, VDPA_ATTR_DEV_NET_CFG_MAX_VQP, o->max_vqp);
	if (o->present & O_FEATURES)
		mnl_attr_put_u64(nlh, VDPA_ATTR_DEV_FEATURES, o->features);
	if (o->present & O_QIDX)
		mnl_attr_put_u32(nlh, VDPA_ATTR_DEV_QUEUE_INDEX, o->qidx);
	if (o->present & O_SOCKET)
		mnl_attr_put_strz(nlh, VNET_ATTR_SOCKET_PATH, o->socket);
	if (o->present & O_SOCK_MODE)
		mnl_attr_put_u32(nlh, VNET_ATTR_SOCKET_MODE, o->sock_mode);
	if (o->present & O_TRUST)
		mnl_attr_put_u8(nlh, VNET_ATTR_TRUSTED, o->trust);
	if (o->present & O_SPOOFCHK)
		mnl_attr_put_u8(nlh, VNET_ATTR_SPOOFCHK, o->spoofchk);
	if (o->present & O_TRANSPORT)
		mnl_attr_put_u32(nlh, VNET_ATTR_TRANSPORT, o->transport);
	if (o->present & O_BIND)
		mnl_attr_put_u32(nlh, VNET_ATTR_BIND, o->bind);
	if (o->present & O_NETNS)
		mnl_attr_put_strz(nlh, VNET_ATTR_NETNS, o->netns);
}

/* --- printing replies ------------------------------------------------------ */

static const char *const feature_names[64] = {
	[VIRTIO_NET_F_CSUM] = "CSUM", [VIRTIO_NET_F_GUEST_CSUM] = "GUEST_CSUM",
	[VIRTIO_NET_F_CTRL_GUEST_OFFLOADS] = "CTRL_GUEST_OFFLOADS",
	[VIRTIO_NET_F_MTU] = "MTU", [VIRTIO_NET_F_MAC] = "MAC",
	[VIRTIO_NET_F_GUEST_TSO4] = "GUEST_TSO4", [VIRTIO_NET_F_GUEST_TSO6] = "GUEST_TSO6",
	[VIRTIO_NET_F_GUEST_ECN] = "GUEST_ECN", [VIRTIO_NET_F_GUEST_UFO] = "GUEST_UFO",
	[VIRTIO_NET_F_HOST_TSO4] = "HOST_TSO4", [VIRTIO_NET_F_HOST_TSO6] = "HOST_TSO6",
	[VIRTIO_NET_F_HOST_ECN] = "HOST_ECN", [VIRTIO_NET_F_HOST_UFO] = "HOST_UFO",
	[VIRTIO_NET_F_MRG_RXBUF] = "MRG_RXBUF", [VIRTIO_NET_F_STATUS] = "STATUS",
	[VIRTIO_NET_F_CTRL_VQ] = "CTRL_VQ", [VIRTIO_NET_F_CTRL_RX] = "CTRL_RX",
	[VIRTIO_NET_F_CTRL_VLAN] = "CTRL_VLAN", [VIRTIO_NET_F_CTRL_RX_EXTRA] = "CTRL_RX_EXTRA",
	[VIRTIO_NET_F_GUEST_ANNOUNCE] = "GUEST_ANNOUNCE", [VIRTIO_NET_F_MQ] = "MQ",
	[VIRTIO_F_NOTIFY_ON_EMPTY] = "NOTIFY_ON_EMPTY",
	[VIRTIO_NET_F_CTRL_MAC_ADDR] = "CTRL_MAC_ADDR", [VIRTIO_F_ANY_LAYOUT] = "ANY_LAYOUT",
	[VIRTIO_RING_F_INDIRECT_DESC] = "RING_INDIRECT_DESC",
	[VIRTIO_RING_F_EVENT_IDX] = "RING_EVENT_IDX", [VIRTIO_F_VERSION_1] = "VERSION_1",
	[VIRTIO_F_ACCESS_PLATFORM] = "ACCESS_PLATFORM", [VIRTIO_F_RING_PACKED] = "RING_PACKED",
	[VIRTIO_F_ORDER_PLATFORM] = "ORDER_PLATFORM", [VIRTIO_F_SR_IOV] = "SR_IOV",
	[VIRTIO_F_IN_ORDER] = "IN_ORDER",
	[VIRTIO_NET_F_NOTF_COAL] = "NOTF_COAL", [VIRTIO_NET_F_RSC_EXT] = "RSC_EXT",
	[VIRTIO_NET_F_HASH_REPORT] = "HASH_REPORT", [VIRTIO_NET_F_RSS] = "RSS",
	[VIRTIO_NET_F_STANDBY] = "STANDBY", [VIRTIO_NET_F_SPEED_DUPLEX] = "SPEED_DUPLEX",
};

static void print_features(const char *key, const char *label, __u64 f)
{
	char bit[16];

	po_arr_open(key, label);
	for (int i = 0; i < 64; i++) {
		if (!(f & (1ULL << i)))
			continue;
		if (feature_names[i]) {
			po_arr_str(" %s", feature_names[i]);
		} else {
			snprintf(bit, sizeof(bit), "bit_%d", i);
			po_arr_str(" %s", bit);
		}
	}
	po_arr_close();
}

static const char *uplink_state_name(__u32 s)
{
	switch (s) {
	case VNET_UPLINK_ABSENT: return "absent";
	case VNET_UPLINK_NO_CARRIER: return "no-carrier";
	case VNET_UPLINK_UP: return "up";
	case VNET_UPLINK_NONE: return "none";
	default: return "unknown";
	}
}

/* enum vnet_migration: "logging" while the front-end migrates the guest */
static const char *migration_name(__u32 m)
{
	static const char *const names[] = { "unsupported", "idle", "logging" };

	return m < sizeof(names) / sizeof(names[0]) ? names[m] : "unknown";
}

/* reply attributes by type (kernel range and vendor range) */
struct tb {
	const struct nlattr *k[VNET_VDPA_ATTR_LAST + 1];
	const struct nlattr *v[VNET_ATTR_LAST - VNET_ATTR_BASE + 1];
};

static int tb_cb(const struct nlattr *a, void *data)
{
	struct tb *tb = data;
	unsigned int t = mnl_attr_get_type(a);

	if (t <= VNET_VDPA_ATTR_LAST)
		tb->k[t] = a;
	else if (t >= VNET_ATTR_BASE && t <= VNET_ATTR_LAST)
		tb->v[t - VNET_ATTR_BASE] = a;
	return MNL_CB_OK;
}

#define K(tb, x)	((tb)->k[VDPA_ATTR_##x])
#define V(tb, x)	((tb)->v[VNET_ATTR_##x - VNET_ATTR_BASE])

static int parse_reply(const struct nlmsghdr *nlh, struct tb *tb)
{
	memset(tb, 0, sizeof(*tb));
	if (mnl_attr_parse(nlh, GENL_HDRLEN, tb_cb, tb) < 0)
		return -EBADMSG;
	return 0;
}

/* a reply lacking what it must carry is an error, never a crash */
#define NEED(tb, x, type) (K(tb, x) && mnl_attr_validate(K(tb, x), type) >= 0)

/* An uplink's queues: which worker owns each, what its AF_XDP socket moved. */
/* The drop entry of uplink queue 'queue' (nl.h: only queues that dropped). */
static bool queue_drops(const struct nlattr *d, __u64 queue, __u64 *v)
{
	unsigned int i, n;

	if (!d)
		return false;
	n = mnl_attr_get_payload_len(d) / (VNET_UPLINK_QDROPS * sizeof(__u64));
	for (i = 0; i < n; i++) {
		/* the payload is only 4-byte aligned */
		memcpy(v, (const __u64 *)mnl_attr_get_payload(d) + i * VNET_UPLINK_QDROPS,
		       VNET_UPLINK_QDROPS * sizeof(__u64));
		if (v[0] == queue)
			return true;
	}
	return false;
}

/* one counter as " name value" / "name": value */
static void print_named(const char *name, __u64 v)
{
	char fmt[48];

	snprintf(fmt, sizeof(fmt), " %s %%" PRIu64, name);
	po_uint(name, fmt, v);
}

/* the fields of an uplink queue's drop entry after its queue number (nl.h),
 * and of a worker's after its worker number */
static const char *const qdrop_names[VNET_UPLINK_QDROPS - 1] = {
	"rx_too_long", "xsk_rx_dropped", "xsk_rx_invalid_descs", "xsk_tx_invalid_descs",
	"xsk_rx_ring_full", "xsk_rx_fill_ring_empty", "xsk_tx_ring_empty",
};
static const char *const wdrop_names[VNET_UPLINK_WDROPS - 1] = {
	"rx_bad_meta", "rx_no_port", "rx_over_mtu",
};

/*
 * Per uplink queue: its worker, its socket's frames, and what it dropped:
 * frames too long for the datapath (vnetd's count) and the kernel's
 * XDP_STATISTICS of the socket (0 for a queue that dropped nothing).
 */
static void print_uplink_queues(const struct nlattr *a, const struct nlattr *drops)
{
	const char *const *dnames = qdrop_names;
	const __u64 (*q)[4] = mnl_attr_get_payload(a);
	unsigned int i, k, n = mnl_attr_get_payload_len(a) / sizeof(q[0]);

	po_arr_open("queues", "");
	for (i = 0; i < n; i++) {
		__u64 v[4], d[VNET_UPLINK_QDROPS];

		memcpy(v, q[i], sizeof(v));	/* the payload is only 4-byte aligned */
		if (!queue_drops(drops, v[0], d))
			memset(d, 0, sizeof(d));
		po_nl();
		po_obj_open();
		po_uint("queue", "queue %" PRIu64, v[0]);
		po_uint("worker", " worker %" PRIu64, v[1]);
		po_uint("rx_frames", " rx_frames %" PRIu64, v[2]);
		po_uint("tx_frames", " tx_frames %" PRIu64, v[3]);
		for (k = 0; k < VNET_UPLINK_QDROPS - 1; k++)
			print_named(dnames[k], d[k + 1]);
		po_obj_close();
	}
	po_arr_close();
}

/* Per uplink worker: the receive drops it counted. */
static void print_worker_drops(const struct nlattr *a)
{
	unsigned int i, n = mnl_attr_get_payload_len(a) / (VNET_UPLINK_WDROPS * sizeof(__u64));

	po_arr_open("worker_drops", "");
	for (i = 0; i < n; i++) {
		__u64 v[VNET_UPLINK_WDROPS];

		memcpy(v, (const __u64 *)mnl_attr_get_payload(a) + i * VNET_UPLINK_WDROPS,
		       sizeof(v));
		po_nl();
		po_obj_open();
		po_uint("worker", "worker %" PRIu64, v[0]);
		for (unsigned int k = 0; k < VNET_UPLINK_WDROPS - 1; k++)
			print_named(wdrop_names[k], v[k + 1]);
		po_obj_close();
	}
	po_arr_close();
}

static int mgmtdev_cb(const struct nlmsghdr *nlh, void *data)
{
	char handle[64];
	struct tb tb;

	if (parse_reply(nlh, &tb) || !NEED(&tb, MGMTDEV_DEV_NAME, MNL_TYPE_NUL_STRING))
		return MNL_CB_ERROR;
	snprintf(handle, sizeof(handle), "%s%s%s",
		 K(&tb, MGMTDEV_BUS_NAME) ? mnl_attr_get_str(K(&tb, MGMTDEV_BUS_NAME)) : "",
		 K(&tb, MGMTDEV_BUS_NAME) ? "/" : "", mnl_attr_get_str(K(&tb, MGMTDEV_DEV_NAME)));
	po_handle_open(handle);
	if (NEED(&tb, MGMTDEV_SUPPORTED_CLASSES, MNL_TYPE_U64)) {
		po_nl();
		po_arr_open("supported_classes", "supported_classes");
		if (mnl_attr_get_u64(K(&tb, MGMTDEV_SUPPORTED_CLASSES)) & (1ULL << VIRTIO_ID_NET_DEV))
			po_arr_str(" %s", "net");
		po_arr_close();
	}
	if (NEED(&tb, DEV_MGMTDEV_MAX_VQS, MNL_TYPE_U32)) {
		po_nl();
		po_uint("max_supported_vqs", "max_supported_vqs %" PRIu64,
			mnl_attr_get_u32(K(&tb, DEV_MGMTDEV_MAX_VQS)));
	}
	if (NEED(&tb, DEV_SUPPORTED_FEATURES, MNL_TYPE_U64)) {
		po_nl();
		print_features("dev_features", "dev_features",
			       mnl_attr_get_u64(K(&tb, DEV_SUPPORTED_FEATURES)));
	}
	if (V(&tb, UPLINK_STATE)) {
		po_nl();
		po_str("uplink_state", "uplink_state %s",
		       uplink_state_name(mnl_attr_get_u32(V(&tb, UPLINK_STATE))));
	}
	if (V(&tb, UPLINK_MTU))
		po_uint("uplink_mtu", " uplink_mtu %" PRIu64, mnl_attr_get_u32(V(&tb, UPLINK_MTU)));
	if (V(&tb, UPLINK_DATAPATH) &&
	    mnl_attr_validate(V(&tb, UPLINK_DATAPATH), MNL_TYPE_NUL_STRING) >= 0)
		po_str("datapath", " datapath %s", mnl_attr_get_str(V(&tb, UPLINK_DATAPATH)));
	if (V(&tb, UPLINK_CARRIER_CHANGES) &&
	    mnl_attr_validate(V(&tb, UPLINK_CARRIER_CHANGES), MNL_TYPE_U64) >= 0)
		po_uint("carrier_changes", " carrier_changes %" PRIu64,
			mnl_attr_get_u64(V(&tb, UPLINK_CARRIER_CHANGES)));
	if (V(&tb, UPLINK_WORKERS) &&
	    mnl_attr_validate(V(&tb, UPLINK_WORKERS), MNL_TYPE_U32) >= 0)
		po_uint("workers", " workers %" PRIu64, mnl_attr_get_u32(V(&tb, UPLINK_WORKERS)));
	if (V(&tb, UPLINK_QUEUES))
		print_uplink_queues(V(&tb, UPLINK_QUEUES), V(&tb, UPLINK_QUEUE_DROPS));
	if (V(&tb, UPLINK_WORKER_DROPS))
		print_worker_drops(V(&tb, UPLINK_WORKER_DROPS));
	po_handle_close();
	return MNL_CB_OK;
}

/* An uplink device's port counters, when the daemon sent them. */
static void print_port_counters(const struct tb *tb)
{
	static const char *const names[] = {
		"rx_frames", "rx_dropped", "tx_wire", "tx_local", "tx_host", "tx_spoofed",
		"tx_dropped", "tx_rarp",
	};
	char key[32], fmt[48];

	for (unsigned int i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		const struct nlattr *a = tb->v[VNET_ATTR_PORT_RX_FRAMES + i - VNET_ATTR_BASE];

		if (!a || mnl_attr_validate(a, MNL_TYPE_U64) < 0)
			continue;
		if (!i)
			po_nl();
		snprintf(key, sizeof(key), "port_%s", names[i]);
		snprintf(fmt, sizeof(fmt), "%sport_%s %%%s", i ? " " : "", names[i], PRIu64);
		po_uint(key, fmt, mnl_attr_get_u64(a));
	}
	if (tb->v[VNET_ATTR_PORT_RX_KGRO - VNET_ATTR_BASE] &&
	    mnl_attr_validate(tb->v[VNET_ATTR_PORT_RX_KGRO - VNET_ATTR_BASE], MNL_TYPE_U64) >= 0)
		po_uint("port_rx_kgro", " port_rx_kgro %" PRIu64,
			mnl_attr_get_u64(tb->v[VNET_ATTR_PORT_RX_KGRO - VNET_ATTR_BASE]));
	if (tb->v[VNET_ATTR_PORT_RX_KGRO_PARKED - VNET_ATTR_BASE] &&
	    mnl_attr_validate(tb->v[VNET_ATTR_PORT_RX_KGRO_PARKED - VNET_ATTR_BASE],
			      MNL_TYPE_U64) >= 0)
		po_uint("port_rx_kgro_parked", " port_rx_kgro_parked %" PRIu64,
			mnl_attr_get_u64(tb->v[VNET_ATTR_PORT_RX_KGRO_PARKED - VNET_ATTR_BASE]));
}

/* A trusted device's learned source MACs, when the daemon sent any. */
static void print_learned_macs(const struct tb *tb)
{
	const struct nlattr *a = tb->v[VNET_ATTR_PORT_LEARNED_MACS - VNET_ATTR_BASE];
	const __u8 *m;
	char s[18];

	if (!a || mnl_attr_get_payload_len(a) < 6)
		return;
	po_nl();
	po_arr_open("learned_macs", "learned_macs");
	m = mnl_attr_get_payload(a);
	for (unsigned int i = 0; i + 6 <= mnl_attr_get_payload_len(a); i += 6) {
		snprintf(s, sizeof(s), "%02x:%02x:%02x:%02x:%02x:%02x", m[i], m[i + 1],
			 m[i + 2], m[i + 3], m[i + 4], m[i + 5]);
		po_arr_str(" %s", s);
	}
	po_arr_close();
}

/* A vendor string attribute of the reply, NULL when absent or malformed. */
static const char *vstr(const struct nlattr *a)
{
	return a && mnl_attr_validate(a, MNL_TYPE_NUL_STRING) >= 0 ? mnl_attr_get_str(a) : NULL;
}

/* A VDUSE device: its kernel driver, netdev or vhost device, refusals. */
static void print_vduse(const struct tb *tb)
{
	const struct nlattr *a = V(tb, BIND);
	const char *s;
	__u32 bind;

	if (!a || mnl_attr_validate(a, MNL_TYPE_U32) < 0)
		return;
	bind = mnl_attr_get_u32(a);
	po_nl();
	po_str("bind", "bind %s", bind < 3 ? bind_words[bind] : "unknown");
	if ((s = vstr(V(tb, NETNS))))
		po_str("netns", " netns %s", s);
	if ((s = vstr(V(tb, KERNEL_NETDEV))))
		po_str("netdev", " netdev %s", s);
	if ((s = vstr(V(tb, VHOST_DEV))))
		po_str("vhost_dev", " vhost_dev %s", s);
	a = V(tb, VDUSE_REFUSED);
	if (a && mnl_attr_validate(a, MNL_TYPE_U64) >= 0) {
		po_nl();
		print_features("vduse_refused", "vduse_refused", mnl_attr_get_u64(a));
	}
}

static int dev_cb(const struct nlmsghdr *nlh, void *data)
{
	char handle[64];
	struct tb tb;

	if (parse_reply(nlh, &tb) || !NEED(&tb, DEV_NAME, MNL_TYPE_NUL_STRING) ||
	    !NEED(&tb, MGMTDEV_DEV_NAME, MNL_TYPE_NUL_STRING) || !NEED(&tb, DEV_ID, MNL_TYPE_U32))
		return MNL_CB_ERROR;
	snprintf(handle, sizeof(handle), "%s%s%s",
		 K(&tb, MGMTDEV_BUS_NAME) ? mnl_attr_get_str(K(&tb, MGMTDEV_BUS_NAME)) : "",
		 K(&tb, MGMTDEV_BUS_NAME) ? "/" : "", mnl_attr_get_str(K(&tb, MGMTDEV_DEV_NAME)));
	po_handle_open(mnl_attr_get_str(K(&tb, DEV_NAME)));
	po_str("type", "type %s",
	       mnl_attr_get_u32(K(&tb, DEV_ID)) == VIRTIO_ID_NET_DEV ? "network" : "<unknown type>");
	po_str("mgmtdev", " mgmtdev %s", handle);
	if (NEED(&tb, DEV_VENDOR_ID, MNL_TYPE_U32))
		po_uint("vendor_id", " vendor_id %" PRIu64, mnl_attr_get_u32(K(&tb, DEV_VENDOR_ID)));
	if (NEED(&tb, DEV_MAX_VQS, MNL_TYPE_U32))
		po_uint("max_vqs", " max_vqs %" PRIu64, mnl_attr_get_u32(K(&tb, DEV_MAX_VQS)));
	if (NEED(&tb, DEV_MAX_VQ_SIZE, MNL_TYPE_U16))
		po_uint("max_vq_size", " max_vq_size %" PRIu64,
			mnl_attr_get_u16(K(&tb, DEV_MAX_VQ_SIZE)));
	if (V(&tb, TRANSPORT)) {
		__u32 t = mnl_attr_get_u32(V(&tb, TRANSPORT));

		po_nl();
		po_str("transport", "transport %s",
		       t == VNET_TRANSPORT_VHOST_USER ? "vhost-user" :
		       t == VNET_TRANSPORT_VDUSE ? "vduse" : "unknown");
	}
	if (V(&tb, SOCKET_PATH))
		po_str("socket", " socket %s", mnl_attr_get_str(V(&tb, SOCKET_PATH)));
	if (V(&tb, SOCKET_MODE))
		po_str("socket_mode", " socket_mode %s",
		       mnl_attr_get_u32(V(&tb, SOCKET_MODE)) == VNET_SOCK_CLIENT ? "client" : "server");
	if (V(&tb, UPLINK))
		po_str("uplink", " uplink %s", mnl_attr_get_str(V(&tb, UPLINK)));
	if (V(&tb, UPLINK_STATE))
		po_str("uplink_state", " uplink_state %s",
		       uplink_state_name(mnl_attr_get_u32(V(&tb, UPLINK_STATE))));
	if (V(&tb, TRUSTED))
		po_str("trust", " trust %s", mnl_attr_get_u8(V(&tb, TRUSTED)) ? "on" : "off");
	if (V(&tb, SPOOFCHK))
		po_str("spoofchk", " spoofchk %s", mnl_attr_get_u8(V(&tb, SPOOFCHK)) ? "on" : "off");
	if (V(&tb, DEV_STATUS))
		po_uint("status", " status 0x%02" PRIx64, mnl_attr_get_u8(V(&tb, DEV_STATUS)));
	if (V(&tb, DATAPATH))
		po_str("datapath", " datapath %s",
		       mnl_attr_get_u32(V(&tb, DATAPATH)) == VNET_DATAPATH_LOOPBACK ?
		       "loopback" : mnl_attr_get_u32(V(&tb, DATAPATH)) == VNET_DATAPATH_UPLINK ?
		       "uplink" : "none");
	if (V(&tb, MIGRATION))
		po_str("migration", " migration %s",
		       migration_name(mnl_attr_get_u32(V(&tb, MIGRATION))));
	print_port_counters(&tb);
	print_learned_macs(&tb);
	print_vduse(&tb);
	po_handle_close();
	return MNL_CB_OK;
}

static void print_rx_mode(__u32 m)
{
	static const char *const names[] = { "promisc", "allmulti", "alluni", "nomulti",
					     "nouni", "nobcast" };

	po_arr_open("rx_mode", " rx_mode");
	for (unsigned int i = 0; i < 6; i++)
		if (m & (1u << i))
			po_arr_str(" %s", names[i]);
	po_arr_close();
}

static int config_cb(const struct nlmsghdr *nlh, void *data)
{
	char mac[18];
	struct tb tb;

	if (parse_reply(nlh, &tb) || !NEED(&tb, DEV_NAME, MNL_TYPE_NUL_STRING) ||
	    !NEED(&tb, DEV_ID, MNL_TYPE_U32))
		return MNL_CB_ERROR;
	po_handle_open(mnl_attr_get_str(K(&tb, DEV_NAME)));
	if (K(&tb, DEV_NET_CFG_MACADDR) && mnl_attr_get_payload_len(K(&tb, DEV_NET_CFG_MACADDR)) == 6) {
		const __u8 *m = mnl_attr_get_payload(K(&tb, DEV_NET_CFG_MACADDR));

		snprintf(mac, sizeof(mac), "%02x:%02x:%02x:%02x:%02x:%02x",
			 m[0], m[1], m[2], m[3], m[4], m[5]);
		po_str("mac", "mac %s ", mac);
	}
	if (NEED(&tb, DEV_NET_STATUS, MNL_TYPE_U16)) {
		__u16 s = mnl_attr_get_u16(K(&tb, DEV_NET_STATUS));

		po_str("link", "link %s ", s & VIRTIO_NET_S_LINK_UP ? "up" : "down");
		po_bool("link_announce", "link_announce %s ", s & VIRTIO_NET_S_ANNOUNCE);
	}
	if (NEED(&tb, DEV_NET_CFG_MAX_VQP, MNL_TYPE_U16))
		po_uint("max_vq_pairs", "max_vq_pairs %" PRIu64 " ",
			mnl_attr_get_u16(K(&tb, DEV_NET_CFG_MAX_VQP)));
	if (NEED(&tb, DEV_NET_CFG_MTU, MNL_TYPE_U16))
		po_uint("mtu", "mtu %" PRIu64 " ", mnl_attr_get_u16(K(&tb, DEV_NET_CFG_MTU)));
	if (NEED(&tb, DEV_NEGOTIATED_FEATURES, MNL_TYPE_U64)) {
		po_nl();
		print_features("negotiated_features", "negotiated_features",
			       mnl_attr_get_u64(K(&tb, DEV_NEGOTIATED_FEATURES)));
	}
	if (NEED(&tb, DEV_FEATURES, MNL_TYPE_U64)) {
		po_nl();
		print_features("dev_features", "dev_features",
			       mnl_attr_get_u64(K(&tb, DEV_FEATURES)));
	}
	if (V(&tb, DEV_STATUS)) {
		po_nl();
		po_uint("status", "status 0x%02" PRIx64, mnl_attr_get_u8(V(&tb, DEV_STATUS)));
	}
	if (V(&tb, UPLINK_STATE))
		po_str("uplink_state", " uplink_state %s",
		       uplink_state_name(mnl_attr_get_u32(V(&tb, UPLINK_STATE))));
	if (V(&tb, RX_MODE)) {
		po_nl();
		if (!po_json())
			printf("filter");
		print_rx_mode(mnl_attr_get_u32(V(&tb, RX_MODE)));
	}
	if (V(&tb, MAC_TABLE_LEN))
		po_uint("mac_table_len", " mac_table_len %" PRIu64,
			mnl_attr_get_u32(V(&tb, MAC_TABLE_LEN)));
	if (V(&tb, VLAN_COUNT))
		po_uint("vlans", " vlans %" PRIu64, mnl_attr_get_u32(V(&tb, VLAN_COUNT)));
	if (V(&tb, ACTIVE_VQP)) {
		po_nl();
		po_uint("active_vq_pairs", "active_vq_pairs %" PRIu64,
			mnl_attr_get_u32(V(&tb, ACTIVE_VQP)));
	}
	if (V(&tb, RSS_HASH_TYPES))
		po_uint("rss_hash_types", " rss_hash_types 0x%" PRIx64,
			mnl_attr_get_u32(V(&tb, RSS_HASH_TYPES)));
	if (V(&tb, RSS_INDIR_LEN))
		po_uint("rss_indir_len", " rss_indir_len %" PRIu64,
			mnl_attr_get_u32(V(&tb, RSS_INDIR_LEN)));
	po_handle_close();
	return MNL_CB_OK;
}

static int vstats_attr_cb(const struct nlattr *a, void *data)
{
	const char **name = data;

	if (mnl_attr_get_type(a) == VDPA_ATTR_DEV_VENDOR_ATTR_NAME &&
	    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) >= 0) {
		*name = mnl_attr_get_str(a);
	} else if (mnl_attr_get_type(a) == VDPA_ATTR_DEV_VENDOR_ATTR_VALUE && *name &&
		   mnl_attr_validate(a, MNL_TYPE_U64) >= 0) {
		/* counters come as name/value pairs, as mlx5_vdpa's do */
		po_uint(*name, *name ? " %" PRIu64 : "", mnl_attr_get_u64(a));
		*name = NULL;
	}
	return MNL_CB_OK;
}

/* 'n' entries of 'per' u64 each: the sum of each field after the first */
static void sum_entries(const struct nlattr *a, unsigned int per, __u64 *sum)
{
	unsigned int i, k, n = a ? mnl_attr_get_payload_len(a) / (per * sizeof(__u64)) : 0;
	__u64 v[VNET_UPLINK_QDROPS];

	memset(sum, 0, (per - 1) * sizeof(*sum));
	for (i = 0; i < n; i++) {
		/* the payload is only 4-byte aligned */
		memcpy(v, (const __u64 *)mnl_attr_get_payload(a) + i * per, per * sizeof(__u64));
		for (k = 1; k < per; k++)
			sum[k - 1] += v[k];
	}
}

/*
 * dev vstats of a device on an uplink: its port's drops, then the drops of
 * the uplink its frames come through, summed over the uplink's queues and
 * workers (mgmtdev show has them one by one).
 */
static void print_vstats_uplink(const struct nlattr *nest)
{
	static const unsigned int port[] = {
		VNET_ATTR_PORT_RX_DROPPED, VNET_ATTR_PORT_TX_SPOOFED, VNET_ATTR_PORT_TX_DROPPED,
	};
	static const char *const port_names[] = {
		"port_rx_dropped", "port_tx_spoofed", "port_tx_dropped",
	};
	__u64 qsum[VNET_UPLINK_QDROPS - 1], wsum[VNET_UPLINK_WDROPS - 1];
	const struct nlattr *a;
	struct tb tb;
	unsigned int k;

	memset(&tb, 0, sizeof(tb));
	if (mnl_attr_parse_nested(nest, tb_cb, &tb) < 0 || !V(&tb, UPLINK) ||
	    mnl_attr_validate(V(&tb, UPLINK), MNL_TYPE_NUL_STRING) < 0)
		return;
	po_nl();
	po_obj_open_key("uplink", "uplink");
	po_str("name", " %s", mnl_attr_get_str(V(&tb, UPLINK)));
	for (k = 0; k < sizeof(port) / sizeof(port[0]); k++) {
		a = tb.v[port[k] - VNET_ATTR_BASE];
		if (a && mnl_attr_validate(a, MNL_TYPE_U64) >= 0)
			print_named(port_names[k], mnl_attr_get_u64(a));
	}
	sum_entries(V(&tb, UPLINK_QUEUE_DROPS), VNET_UPLINK_QDROPS, qsum);
	for (k = 0; k < VNET_UPLINK_QDROPS - 1; k++)
		print_named(qdrop_names[k], qsum[k]);
	sum_entries(V(&tb, UPLINK_WORKER_DROPS), VNET_UPLINK_WDROPS, wsum);
	for (k = 0; k < VNET_UPLINK_WDROPS - 1; k++)
		print_named(wdrop_names[k], wsum[k]);
	po_obj_close();
}

static int vstats_cb(const struct nlmsghdr *nlh, void *data)
{
	const char *name = NULL;
	struct tb tb;
	__u32 qidx;
	__u16 vqp = 1;
	__u64 f;

	if (parse_reply(nlh, &tb) || !NEED(&tb, DEV_NAME, MNL_TYPE_NUL_STRING) ||
	    !NEED(&tb, DEV_QUEUE_INDEX, MNL_TYPE_U32) ||
	    !NEED(&tb, DEV_NEGOTIATED_FEATURES, MNL_TYPE_U64))
		return MNL_CB_ERROR;
	qidx = mnl_attr_get_u32(K(&tb, DEV_QUEUE_INDEX));
	f = mnl_attr_get_u64(K(&tb, DEV_NEGOTIATED_FEATURES));
	if (NEED(&tb, DEV_NET_CFG_MAX_VQP, MNL_TYPE_U16))
		vqp = mnl_attr_get_u16(K(&tb, DEV_NET_CFG_MAX_VQP));
	po_handle_open(mnl_attr_get_str(K(&tb, DEV_NAME)));
	po_uint("queue_index", "qidx %" PRIu64, qidx);
	po_str("queue_type", " type %s",
	       qidx < 2u * vqp ? (qidx & 1 ? "tx" : "rx") :
	       (f & (1ULL << VIRTIO_NET_F_CTRL_VQ)) && qidx == 2u * vqp ? "control_vq" : "unknown");
	/* the values follow their names: print each as "name value" / "name": value */
	if (!po_json()) {
		const struct nlattr *a;

		mnl_attr_for_each(a, nlh, GENL_HDRLEN) {
			if (mnl_attr_get_type(a) == VDPA_ATTR_DEV_VENDOR_ATTR_NAME &&
			    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) >= 0)
				printf(" %s", mnl_attr_get_str(a));
			else if (mnl_attr_get_type(a) == VDPA_ATTR_DEV_VENDOR_ATTR_VALUE &&
				 mnl_attr_validate(a, MNL_TYPE_U64) >= 0)
				printf(" %" PRIu64, (uint64_t)mnl_attr_get_u64(a));
		}
	} else {
		mnl_attr_parse(nlh, GENL_HDRLEN, vstats_attr_cb, &name);
	}
	if (V(&tb, VSTATS_UPLINK))
		print_vstats_uplink(V(&tb, VSTATS_UPLINK));
	po_handle_close();
	return MNL_CB_OK;
}

/* --- commands -------------------------------------------------------------- */

static int run(struct ctl *ctl, struct nlmsghdr *nlh, mnl_cb_t cb, const char *section)
{
	int err;

	if (section)
		po_section_open(section);
	err = vnet_nlc_run(&ctl->nlc, nlh, cb, NULL);
	if (section) {
		po_section_close();
		po_finish();
	}
	if (err) {
		fflush(stdout);
		if (err == -ETIMEDOUT && !ctl->nlc.errmsg[0])
			fprintf(stderr, "Error: vnetd did not answer within %u s (-t, --timeout)\n",
				ctl->timeout_s);
		else if (ctl->nlc.errmsg[0])
			fprintf(stderr, "Error: %s (%s)\n", ctl->nlc.errmsg, strerror(-err));
		else
			fprintf(stderr, "Error: %s\n", strerror(-err));
	}
	return err;
}

static int show(struct ctl *ctl, __u8 cmd, mnl_cb_t cb, const char *section, int argc,
		char **argv, bool mgmt)
{
	char buf[VNET_NL_RECORD_MAX];
	struct nlmsghdr *nlh;

	if (argc > 1) {
		fprintf(stderr, "Unknown option \"%s\"\n", argv[1]);
		return -EINVAL;
	}
	nlh = vnet_nlc_prepare(&ctl->nlc, buf, cmd,
			       NLM_F_REQUEST | NLM_F_ACK | (argc ? 0 : NLM_F_DUMP));
	if (argc && mgmt) {
		if (parse_handle(argv[0], &ctl->o.bus, &ctl->o.mgmtdev))
			return -EINVAL;
		ctl->o.present |= O_MGMTDEV;
	} else if (argc) {
		ctl->o.name = argv[0];
		ctl->o.present |= O_NAME;
	}
	opts_put(nlh, &ctl->o);
	return run(ctl, nlh, cb, section);
}

static int cmd_send(struct ctl *ctl, __u8 cmd)
{
	char buf[VNET_NL_RECORD_MAX];
	struct nlmsghdr *nlh = vnet_nlc_prepare(&ctl->nlc, buf, cmd, NLM_F_REQUEST | NLM_F_ACK);

	opts_put(nlh, &ctl->o);
	return run(ctl, nlh, NULL, NULL);
}

static void help_dev(void)
{
	fprintf(stderr,
		"Usage: vnetctl dev show [ DEV ]\n"
		"       vnetctl dev add name NAME mgmtdev MANAGEMENTDEV [ mac MACADDR ] [ mtu MTU ]\n"
		"                       [ max_vqp MAX_VQ_PAIRS ] [ device_features FEATURES ]\n"
		"                       [ socket PATH ] [ socket_mode { server | client } ]\n"
		"                       [ trust { on | off } ] [ spoofchk { on | off } ]\n"
		"                       [ transport { vhost-user | vduse } ]\n"
		"                       [ bind { virtio | vhost | none } ] [ netns NETNS ]\n"
		"       vnetctl dev set name NAME [ mac MACADDR ] [ mtu MTU ] [ trust { on | off } ]\n"
		"                       [ spoofchk { on | off } ]\n"
		"       vnetctl dev del DEV\n"
		"       vnetctl dev config show [ DEV ]\n"
		"       vnetctl dev vstats show DEV qidx QUEUE_INDEX\n");
}

static void help(void)
{
	fprintf(stderr,
		"Usage: vnetctl [ OPTIONS ] OBJECT { COMMAND | help }\n"
		"where  OBJECT := { mgmtdev | dev }\n"
		"       OPTIONS := { -V[ersion] | -j[son] | -p[retty] | -s[ocket] PATH |\n"
		"                    -t[imeout] SECONDS }\n");
}

static int not_found(const char *what, const char *word)
{
	fprintf(stderr, "%s \"%s\" not found\n", what, word);
	return -ENOENT;
}

static int cmd_dev(struct ctl *ctl, int argc, char **argv)
{
	if (!argc || !strcmp(argv[0], "show") || !strcmp(argv[0], "list"))
		return show(ctl, VDPA_CMD_DEV_GET, dev_cb, "dev", argc ? argc - 1 : 0,
			    argv + 1, false);
	if (!strcmp(argv[0], "help")) {
		help_dev();
		return 0;
	}
	if (!strcmp(argv[0], "add")) {
		if (parse_kv(ctl, argc - 1, argv + 1, O_NAME | O_MGMTDEV,
			     O_MAC | O_MTU | O_MAX_VQP | O_SOCKET | O_SOCK_MODE | O_TRUST |
			     O_TRANSPORT | O_BIND | O_NETNS |
			     O_SPOOFCHK | O_FEATURES))
			return -EINVAL;
		return cmd_send(ctl, VDPA_CMD_DEV_NEW);
	}
	if (!strcmp(argv[0], "set")) {
		if (parse_kv(ctl, argc - 1, argv + 1, O_NAME, O_MAC | O_MTU | O_TRUST | O_SPOOFCHK))
			return -EINVAL;
		return cmd_send(ctl, VNET_VDPA_CMD_DEV_ATTR_SET);
	}
	if (!strcmp(argv[0], "del")) {
		if (argc != 2) {
			fprintf(stderr, argc < 2 ? "device name is not set.\n" :
				"Unknown option \"%s\"\n", argv[2]);
			return -EINVAL;
		}
		ctl->o.name = argv[1];
		ctl->o.present |= O_NAME;
		return cmd_send(ctl, VDPA_CMD_DEV_DEL);
	}
	if (!strcmp(argv[0], "config")) {
		if (argc == 1 || !strcmp(argv[1], "show"))
			return show(ctl, VDPA_CMD_DEV_CONFIG_GET, config_cb, "config",
				    argc > 1 ? argc - 2 : 0, argv + 2, false);
		if (!strcmp(argv[1], "help")) {
			fprintf(stderr, "Usage: vnetctl dev config show [ DEV ]\n");
			return 0;
		}
		return not_found("Command", argv[1]);
	}
	if (!strcmp(argv[0], "vstats")) {
		char buf[VNET_NL_RECORD_MAX];
		struct nlmsghdr *nlh;

		if (argc < 2 || !strcmp(argv[1], "help")) {
			fprintf(stderr, "Usage: vnetctl dev vstats show DEV qidx QUEUE_INDEX\n");
			return argc < 2 ? -EINVAL : 0;
		}
		if (strcmp(argv[1], "show"))
			return not_found("Command", argv[1]);
		if (argc < 3) {
			fprintf(stderr, "device name is not set.\n");
			return -EINVAL;
		}
		ctl->o.name = argv[2];
		ctl->o.present |= O_NAME;
		if (parse_kv(ctl, argc - 3, argv + 3, O_QIDX, 0))
			return -EINVAL;
		nlh = vnet_nlc_prepare(&ctl->nlc, buf, VDPA_CMD_DEV_VSTATS_GET,
				       NLM_F_REQUEST | NLM_F_ACK);
		opts_put(nlh, &ctl->o);
		return run(ctl, nlh, vstats_cb, "vstats");
	}
	return not_found("Command", argv[0]);
}

static int cmd_mgmtdev(struct ctl *ctl, int argc, char **argv)
{
	if (argc && !strcmp(argv[0], "help")) {
		fprintf(stderr, "Usage: vnetctl mgmtdev show [ DEV ]\n");
		return 0;
	}
	if (!argc || !strcmp(argv[0], "show") || !strcmp(argv[0], "list"))
		return show(ctl, VDPA_CMD_MGMTDEV_GET, mgmtdev_cb, "mgmtdev",
			    argc ? argc - 1 : 0, argv + 1, true);
	return not_found("Command", argv[0]);
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "Version", no_argument, NULL, 'V' },
		{ "json", no_argument, NULL, 'j' },
		{ "pretty", no_argument, NULL, 'p' },
		{ "socket", required_argument, NULL, 's' },
		{ "timeout", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct ctl *ctl = calloc(1, sizeof(*ctl));
	bool json = false, pretty = false;
	unsigned long long t;
	int opt, err, rc = 1;

	if (!ctl)
		return 1;
	ctl->timeout_s = CTL_TIMEOUT_DEFAULT;
	while ((opt = getopt_long(argc, argv, "+Vjps:t:h", longopts, NULL)) != -1) {
		switch (opt) {
		case 'V':
			printf("vnetctl, vnet control protocol (vdpa genl v%d)\n",
			       VDPA_GENL_VERSION);
			rc = 0;
			goto out_free;
		case 'j': json = true; break;
		case 'p': pretty = true; break;
		case 's': ctl->sock = optarg; break;
		case 't':
			/* a day at most: the value goes into a timeval */
			if (parse_num("timeout", optarg, 86400, &t))
				goto out_free;
			ctl->timeout_s = (unsigned int)t;
			break;
		case 'h': help(); rc = 0; goto out_free;
		default: help(); goto out_free;
		}
	}
	argc -= optind;
	argv += optind;
	if (!argc || !strcmp(argv[0], "help")) {
		help();
		rc = 0;
		goto out_free;
	}
	if (strcmp(argv[0], "dev") && strcmp(argv[0], "mgmtdev")) {
		not_found("Object", argv[0]);
		goto out_free;
	}
	po_init(json, pretty);
	err = vnet_nlc_open(&ctl->nlc, ctl->sock, ctl->timeout_s);
	if (err) {
		fprintf(stderr, "Failed to connect to vnetd at %s: %s\n",
			ctl->sock ?: getenv(VNET_NL_SOCK_ENV) ?: VNET_NL_DEFAULT_SOCK,
			err == -ETIMEDOUT ? "it did not answer in time (-t, --timeout)" :
			strerror(-err));
		goto out_free;
	}
	if (!strcmp(argv[0], "dev"))
		err = cmd_dev(ctl, argc - 1, argv + 1);
	else
		err = cmd_mgmtdev(ctl, argc - 1, argv + 1);
	rc = err ? 1 : 0;
	vnet_nlc_close(&ctl->nlc);
out_free:
	free(ctl);
	return rc;
}
