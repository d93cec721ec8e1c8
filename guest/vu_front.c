// SPDX-License-Identifier: MIT
/*
 * vhost-user front-end (QEMU docs/interop/vhost-user.rst): the messages a
 * VMM sends to hand a device's rings and memory to a back-end. The
 * back-end is not trusted to answer: every reply is read with a deadline
 * and checked for its request code and size, so a dead or misbehaving
 * back-end becomes an error here, never a hang.
 */
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>

#include "vnet/log.h"
#include "vnet/vhost_user.h"
#include "guest.h"

#define BIT(n)		(1ull << (n))
#define VU_REPLY_MS	3000

/* protocol features vnet-guest uses */
#define GUEST_PROTOCOL (BIT(VHOST_USER_PROTOCOL_F_MQ) | BIT(VHOST_USER_PROTOCOL_F_REPLY_ACK) | \
			BIT(VHOST_USER_PROTOCOL_F_BACKEND_REQ) | BIT(VHOST_USER_PROTOCOL_F_CONFIG) | \
			BIT(VHOST_USER_PROTOCOL_F_STATUS) | BIT(VHOST_USER_PROTOCOL_F_RARP))

static int vu_send_fd(int fd, struct vhost_user_msg *m, const int *fds, unsigned int nfds)
{
	char cbuf[CMSG_SPACE(sizeof(int) * VHOST_USER_MAX_FDS)];
	struct iovec iov[2] = {
		{ .iov_base = &m->hdr, .iov_len = sizeof(m->hdr) },
		{ .iov_base = &m->payload, .iov_len = m->hdr.size },
	};
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = m->hdr.size ? 2 : 1 };
	ssize_t n;

	m->hdr.flags |= VHOST_USER_VERSION;
	if (nfds) {
		struct cmsghdr *c;

		memset(cbuf, 0, sizeof(cbuf));
		mh.msg_control = cbuf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	do {
		n = sendmsg(fd, &mh, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if ((size_t)n != sizeof(m->hdr) + m->hdr.size)
		return -EIO;
	return 0;
}

static int vu_send(struct guest *g, struct vhost_user_msg *m, const int *fds,
		   unsigned int nfds)
{
	return vu_send_fd(g->sock, m, fds, nfds);
}

/* read exactly len bytes before the deadline */
static int read_full(int fd, void *buf, size_t len, int timeout_ms)
{
	__u8 *p = buf;

	while (len) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t n;
		int r = poll(&pfd, 1, timeout_ms);

		/* a signal: SIGTERM ends the wait, others (SIGUSR1) do not */
		if (r < 0 && errno == EINTR && guest_stop)
			return -EINTR;
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return r ? -errno : -ETIMEDOUT;
		n = recv(fd, p, len, 0);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (!n)
			return -ECONNRESET;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static const char *vu_req_name(__u32 req)
{
	static const char *const names[] = {
		[VHOST_USER_GET_FEATURES] = "GET_FEATURES",
		[VHOST_USER_SET_FEATURES] = "SET_FEATURES",
		[VHOST_USER_SET_OWNER] = "SET_OWNER",
		[VHOST_USER_SET_MEM_TABLE] = "SET_MEM_TABLE",
		[VHOST_USER_SET_VRING_NUM] = "SET_VRING_NUM",
		[VHOST_USER_SET_VRING_ADDR] = "SET_VRING_ADDR",
		[VHOST_USER_SET_VRING_BASE] = "SET_VRING_BASE",
		[VHOST_USER_SET_VRING_KICK] = "SET_VRING_KICK",
		[VHOST_USER_SET_VRING_CALL] = "SET_VRING_CALL",
		[VHOST_USER_GET_PROTOCOL_FEATURES] = "GET_PROTOCOL_FEATURES",
		[VHOST_USER_SET_PROTOCOL_FEATURES] = "SET_PROTOCOL_FEATURES",
		[VHOST_USER_GET_QUEUE_NUM] = "GET_QUEUE_NUM",
		[VHOST_USER_SET_VRING_ENABLE] = "SET_VRING_ENABLE",
		[VHOST_USER_SET_BACKEND_REQ_FD] = "SET_BACKEND_REQ_FD",
		[VHOST_USER_GET_CONFIG] = "GET_CONFIG",
		[VHOST_USER_SET_STATUS] = "SET_STATUS",
		[VHOST_USER_GET_STATUS] = "GET_STATUS",
	};

	return req < sizeof(names) / sizeof(names[0]) && names[req] ? names[req] : "request";
}

static int vu_recv_reply(struct guest *g, __u32 req, struct vhost_user_msg *r)
{
	int err;

	err = read_full(g->sock, &r->hdr, sizeof(r->hdr), VU_REPLY_MS);
	if (!err && r->hdr.size > sizeof(r->payload))
		err = -EPROTO;
	if (!err)
		err = read_full(g->sock, &r->payload, r->hdr.size, VU_REPLY_MS);
	if (err == -ETIMEDOUT)
		pr_warn("back-end did not answer %s (%u) within %d ms\n", vu_req_name(req), req,
			VU_REPLY_MS);
	else if (err == -EPROTO)
		pr_warn("back-end sent a reply of %u bytes to %s (%u)\n", r->hdr.size,
			vu_req_name(req), req);
	else if (err == -ECONNRESET)
		pr_warn("back-end closed the connection instead of answering %s (%u)\n",
			vu_req_name(req), req);
	if (err)
		return err;
	if (r->hdr.request != req || !(r->hdr.flags & VHOST_USER_REPLY_MASK)) {
		pr_warn("back-end answered %s (%u) with request %u, flags %#x\n",
			vu_req_name(req), req, r->hdr.request, r->hdr.flags);
		return -EPROTO;
	}
	return 0;
}

/* A request without a reply of its own: with REPLY_ACK ask for one, so a
 * refusal is seen here and not as a silently dead ring later. */
static int vu_request(struct guest *g, __u32 req, const void *payload, __u32 size,
		      const int *fds, unsigned int nfds)
{
	struct vhost_user_msg m = { .hdr = { .request = req, .size = size } };
	struct vhost_user_msg r;
	int err;

	if (size)
		memcpy(&m.payload, payload, size);
	if (g->protocol & BIT(VHOST_USER_PROTOCOL_F_REPLY_ACK))
		m.hdr.flags |= VHOST_USER_NEED_REPLY_MASK;
	err = vu_send(g, &m, fds, nfds);
	if (err || !(m.hdr.flags & VHOST_USER_NEED_REPLY_MASK))
		return err;
	err = vu_recv_reply(g, req, &r);
	if (err)
		return err;
	if (r.hdr.size != 8)
		return -EPROTO;
	if (r.payload.u64) {
		pr_warn("back-end refused request %u\n", req);
		return -EREMOTEIO;
	}
	return 0;
}

static int vu_get_u64(struct guest *g, __u32 req, __u64 *val)
{
	struct vhost_user_msg m = { .hdr = { .request = req } };
	struct vhost_user_msg r;
	int err;

	err = vu_send(g, &m, NULL, 0);
	if (!err)
		err = vu_recv_reply(g, req, &r);
	if (err)
		return err;
	if (r.hdr.size != 8)
		return -EPROTO;
	*val = r.payload.u64;
	return 0;
}

static int vu_set_u64(struct guest *g, __u32 req, __u64 val)
{
	return vu_request(g, req, &val, sizeof(val), NULL, 0);
}

/*
 * What QEMU sends after a migration for a driver without GUEST_ANNOUNCE:
 * the back-end announces the MAC for us (vhost-user SEND_RARP).
 */
int vu_send_rarp(struct guest *g, const __u8 mac[6])
{
	__u64 payload = 0;

	if (!(g->protocol & BIT(VHOST_USER_PROTOCOL_F_RARP)))
		return -EOPNOTSUPP;
	memcpy(&payload, mac, 6);
	return vu_set_u64(g, VHOST_USER_SEND_RARP, payload);
}

int vu_connect(struct guest *g, unsigned int wait_s)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	time_t start = time(NULL), told = start;
	int fd;

	if (strlen(g->o.socket) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, g->o.socket);
	for (;;) {
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		if (!connect(fd, (struct sockaddr *)&sa, sizeof(sa)))
			break;
		close(fd);
		if (errno != ENOENT && errno != ECONNREFUSED && errno != EAGAIN)
			return -errno;
		if (wait_s && time(NULL) - start >= wait_s)
			return -ETIMEDOUT;
		/* never wait silently: say so every ten seconds */
		if (time(NULL) - told >= 10) {
			pr_warn("still waiting for a back-end on %s\n", g->o.socket);
			told = time(NULL);
		}
		usleep(100 * 1000);
		if (guest_stop)
			return -EINTR;
	}
	g->sock = fd;
	return 0;
}

void vu_close(struct guest *g)
{
	if (g->sock >= 0)
		close(g->sock);
	if (g->backend_fd >= 0)
		close(g->backend_fd);
	g->sock = g->backend_fd = -1;
}

/* spec 2.1.2: DEVICE_NEEDS_RESET set by the device */
int vu_check_status(struct guest *g)
{
	__u64 status;
	int err;

	if (!(g->protocol & BIT(VHOST_USER_PROTOCOL_F_STATUS)))
		return 0;
	err = vu_get_u64(g, VHOST_USER_GET_STATUS, &status);
	if (err)
		return err;
	if (status & VIRTIO_CONFIG_S_NEEDS_RESET) {
		pr_warn("device status %#llx: DEVICE_NEEDS_RESET\n", (unsigned long long)status);
		return -EIO;
	}
	return 0;
}

int vu_get_config(struct guest *g)
{
	struct vhost_user_msg m = { .hdr = { .request = VHOST_USER_GET_CONFIG } };
	struct vhost_user_msg r;
	int err;

	if (!(g->protocol & BIT(VHOST_USER_PROTOCOL_F_CONFIG)))
		return -EOPNOTSUPP;
	m.hdr.size = 12 + sizeof(g->config);
	m.payload.config.offset = 0;
	m.payload.config.size = sizeof(g->config);
	err = vu_send(g, &m, NULL, 0);
	if (!err)
		err = vu_recv_reply(g, VHOST_USER_GET_CONFIG, &r);
	if (err)
		return err;
	if (r.hdr.size != 12 + sizeof(g->config) || r.payload.config.size != sizeof(g->config))
		return -EPROTO;
	memcpy(g->config, r.payload.config.payload, sizeof(g->config));
	pr_debug("config: mac %02x:%02x:%02x:%02x:%02x:%02x status %#x pairs %u mtu %u\n",
		 g->config[0], g->config[1], g->config[2], g->config[3], g->config[4],
		 g->config[5], g->config[6] | g->config[7] << 8, g->config[8] | g->config[9] << 8,
		 g->config[10] | g->config[11] << 8);
	return 0;
}

static __u16 cfg16(const struct guest *g, unsigned int off)
{
	return (__u16)(g->config[off] | g->config[off + 1] << 8);
}

/* spec 3.1.1 steps 1-6, over vhost-user */
int vu_negotiate(struct guest *g)
{
	__u64 proto = 0, qn = 0, status = 0;
	int sv[2], err;
	__u8 mac[6];

	g->protocol = 0;
	err = vu_request(g, VHOST_USER_SET_OWNER, NULL, 0, NULL, 0);
	if (!err)
		err = vu_get_u64(g, VHOST_USER_GET_FEATURES, &g->dev_features);
	if (err)
		return err;
	if (g->dev_features & BIT(VHOST_USER_F_PROTOCOL_FEATURES)) {
		err = vu_get_u64(g, VHOST_USER_GET_PROTOCOL_FEATURES, &proto);
		if (err)
			return err;
		proto &= GUEST_PROTOCOL;
		err = vu_set_u64(g, VHOST_USER_SET_PROTOCOL_FEATURES, proto);
		if (err)
			return err;
		g->protocol = proto;
	}
	g->dev_max_qp = 1;
	if (proto & BIT(VHOST_USER_PROTOCOL_F_MQ)) {
		err = vu_get_u64(g, VHOST_USER_GET_QUEUE_NUM, &qn);
		if (err)
			return err;
		if (qn >= 1 && qn <= GUEST_MAX_QP)
			g->dev_max_qp = (unsigned int)qn;
		else if (qn > GUEST_MAX_QP)
			g->dev_max_qp = GUEST_MAX_QP;
	}
	/* spec 3.1.1 step 4: the driver may read config before accepting */
	memset(g->config, 0, sizeof(g->config));
	err = vu_get_config(g);
	if (err && err != -EOPNOTSUPP)
		return err;
	g->features = guest_driver_features(g, g->dev_features);
	if (!g->features)
		return -ENOTSUP;
	err = vu_set_u64(g, VHOST_USER_SET_FEATURES,
			 g->features | (g->dev_features & BIT(VHOST_USER_F_PROTOCOL_FEATURES)));
	if (err)
		return err;
	if (g->protocol & BIT(VHOST_USER_PROTOCOL_F_STATUS)) {
		/* spec 3.1.1 steps 5-6: FEATURES_OK, then read it back */
		err = vu_set_u64(g, VHOST_USER_SET_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE |
				 VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK);
		if (err == -EREMOTEIO)
			return -ENOTSUP;
		if (!err)
			err = vu_get_u64(g, VHOST_USER_GET_STATUS, &status);
		if (err)
			return err;
		if (!(status & VIRTIO_CONFIG_S_FEATURES_OK)) {
			pr_warn("device refused our features 0x%llx\n",
				(unsigned long long)g->features);
			return -ENOTSUP;
		}
	}
	/* config again: fields depend on the negotiated features. A device
	 * that loses its MAC on FEATURES_OK (an all-zero or multicast MAC)
	 * keeps the one it offered; ctrl_sync_rxmode() sets it explicitly. */
	memcpy(mac, g->config, 6);
	vu_get_config(g);
	if ((g->config[0] & 1) || !memcmp(g->config, "\0\0\0\0\0\0", 6)) {
		pr_info("device MAC invalid after FEATURES_OK: keeping the offered one\n");
		memcpy(g->config, mac, 6);
	}
	g->mtu = (g->features & BIT(VIRTIO_NET_F_MTU)) ? cfg16(g, 10) : 1500;
	if (g->mtu < 68)
		g->mtu = 1500;
	if (g->features & (BIT(VIRTIO_NET_F_MQ) | BIT(VIRTIO_NET_F_RSS))) {
		unsigned int cq = cfg16(g, 8);

		/* spec 5.1.4.1: max_virtqueue_pairs 1..0x8000 */
		if (cq >= 1 && cq < g->dev_max_qp)
			g->dev_max_qp = cq;
	} else {
		g->dev_max_qp = 1;
	}
	g->rss_max_key = g->config[17];
	g->rss_max_indir = cfg16(g, 18);
	g->supported_hash = (__u32)(g->config[20] | g->config[21] << 8 |
				    g->config[22] << 16 | (__u32)g->config[23] << 24);
	g->link_up = !(g->features & BIT(VIRTIO_NET_F_STATUS)) || (cfg16(g, 6) & VIRTIO_NET_S_LINK_UP);
	g->hdr_len = (g->features & BIT(VIRTIO_NET_F_HASH_REPORT)) ? 20 : 12;

	if (g->protocol & BIT(VHOST_USER_PROTOCOL_F_BACKEND_REQ)) {
		/* the channel config-change notifications come on */
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
			return -errno;
		err = vu_request(g, VHOST_USER_SET_BACKEND_REQ_FD, NULL, 0, &sv[1], 1);
		close(sv[1]);
		if (err) {
			close(sv[0]);
			return err;
		}
		g->backend_fd = sv[0];
	}
	return 0;
}

static int vu_ring(struct guest *g, unsigned int idx, struct vdriver *vd, int kick, int call)
{
	struct vhost_user_vring_state st = { .index = idx, .num = vd->size };
	struct vhost_user_vring_addr a = {
		.index = idx,
		/* front-end virtual addresses; our GPAs are the same numbers */
		.desc = vd->desc_gpa, .avail = vd->avail_gpa, .used = vd->used_gpa,
	};
	int err;

	err = vu_request(g, VHOST_USER_SET_VRING_NUM, &st, sizeof(st), NULL, 0);
	if (err)
		return err;
	/* a new ring; packed (vhost-user.rst): the avail position in bits
	 * 0-15, the used one in 16-31, each index | wrap counter << 15, and
	 * both wrap counters start at 1 (spec 2.8.1) */
	st.num = vd->packed ? 0x80008000u : 0;
	err = vu_request(g, VHOST_USER_SET_VRING_BASE, &st, sizeof(st), NULL, 0);
	if (!err)
		err = vu_request(g, VHOST_USER_SET_VRING_ADDR, &a, sizeof(a), NULL, 0);
	if (!err) {
		__u64 i = idx;

		err = vu_request(g, VHOST_USER_SET_VRING_CALL, &i, sizeof(i), &call, 1);
	}
	if (!err) {
		__u64 i = idx;

		err = vu_request(g, VHOST_USER_SET_VRING_KICK, &i, sizeof(i), &kick, 1);
	}
	if (!err && (g->dev_features & BIT(VHOST_USER_F_PROTOCOL_FEATURES))) {
		st.num = 1;
		err = vu_request(g, VHOST_USER_SET_VRING_ENABLE, &st, sizeof(st), NULL, 0);
	}
	return err;
}

int vu_setup_rings(struct guest *g)
{
	struct vhost_user_memory mt = { .nregions = 1 };
	unsigned int q;
	int err;

	mt.regions[0].guest_addr = (__u64)(unsigned long)g->mem;
	mt.regions[0].user_addr = (__u64)(unsigned long)g->mem;
	mt.regions[0].size = g->mem_size;
	mt.regions[0].mmap_offset = 0;
	err = vu_request(g, VHOST_USER_SET_MEM_TABLE, &mt,
			 8 + sizeof(struct vhost_user_mem_region), &g->mem_fd, 1);
	if (err)
		return err;
	for (q = 0; q < g->nqp && !err; q++) {
		err = vu_ring(g, 2 * q, &g->rxq[q].vd, g->rxq[q].kick_fd, g->rxq[q].call_fd);
		if (!err)
			err = vu_ring(g, 2 * q + 1, &g->txq[q].vd, g->txq[q].kick_fd,
				      g->txq[q].call_fd);
	}
	/* spec 5.1.2: controlq is 2N, N = max_virtqueue_pairs with MQ or RSS */
	if (!err && g->has_cvq)
		err = vu_ring(g, 2 * g->dev_max_qp, &g->cvq.vd, g->cvq.kick_fd, g->cvq.call_fd);
	return err;
}

int vu_start(struct guest *g)
{
	if (!(g->protocol & BIT(VHOST_USER_PROTOCOL_F_STATUS)))
		return 0;
	return vu_set_u64(g, VHOST_USER_SET_STATUS, VIRTIO_CONFIG_S_ACKNOWLEDGE |
			  VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK |
			  VIRTIO_CONFIG_S_DRIVER_OK);
}

/* A message on the back-end channel: only CONFIG_CHANGE_MSG is expected. */
int vu_backend_event(struct guest *g, bool *config_changed)
{
	struct vhost_user_msg m;
	int err;

	*config_changed = false;
	err = read_full(g->backend_fd, &m.hdr, sizeof(m.hdr), VU_REPLY_MS);
	if (err)
		return err;
	if (m.hdr.size > sizeof(m.payload))
		return -EPROTO;
	err = read_full(g->backend_fd, &m.payload, m.hdr.size, VU_REPLY_MS);
	if (err)
		return err;
	if (m.hdr.request == VHOST_USER_BACKEND_CONFIG_CHANGE_MSG)
		*config_changed = true;
	else
		pr_info("back-end request %u ignored\n", m.hdr.request);
	if (m.hdr.flags & VHOST_USER_NEED_REPLY_MASK) {
		struct vhost_user_msg r = { .hdr = { .request = m.hdr.request, .size = 8,
			.flags = VHOST_USER_REPLY_MASK } };

		r.payload.u64 = *config_changed ? 0 : 1;
		return vu_send_fd(g->backend_fd, &r, NULL, 0);
	}
	return 0;
}
