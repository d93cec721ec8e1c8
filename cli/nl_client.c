// SPDX-License-Identifier: MIT
/* Client of vnetd's control socket: see cli/nl_client.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>

#include "vnet/netutil.h"
#include "nl_client.h"

static int set_opt(struct vnet_nlc *c, __u32 opt)
{
	char buf[64];
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct vnet_nl_sockopt *o;

	nlh->nlmsg_type = VNET_NLMSG_SOCKOPT;
	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	nlh->nlmsg_seq = ++c->seq;
	o = mnl_nlmsg_put_extra_header(nlh, sizeof(*o));
	o->optname = opt;
	o->value = 1;
	return vnet_nlc_run(c, nlh, NULL, NULL);
}

/* -errno of a failed send()/recv(); the socket's timeout (SO_SNDTIMEO,
 * SO_RCVTIMEO: vnetd stopped reading or answering) is -ETIMEDOUT */
static int sock_err(void)
{
	return errno == EAGAIN || errno == EWOULDBLOCK ? -ETIMEDOUT : -errno;
}

static int request_send(struct vnet_nlc *c, const void *buf, size_t len)
{
	return send(c->fd, buf, len, MSG_NOSIGNAL) < 0 ? sock_err() : 0;
}

/* a reply's record: its length, or -errno (-ECONNRESET: vnetd hung up) */
static ssize_t reply_recv(struct vnet_nlc *c)
{
	ssize_t n = recv(c->fd, c->buf, sizeof(c->buf), 0);

	if (n < 0)
		return sock_err();
	return n ? n : -ECONNRESET;
}

int vnet_nlc_open(struct vnet_nlc *c, const char *path, unsigned int timeout_s)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct timeval tv = { .tv_sec = timeout_s };
	int err;

	memset(c, 0, sizeof(*c));
	if (!path)
		path = getenv(VNET_NL_SOCK_ENV);
	if (!path || !*path)
		path = VNET_NL_DEFAULT_SOCK;
	if (strlen(path) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	strcpy(sun.sun_path, path);
	c->fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return -errno;
	if ((timeout_s && (setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
			   setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)))) ||
	    connect(c->fd, (struct sockaddr *)&sun, sizeof(sun))) {
		err = -errno;
		close(c->fd);
		c->fd = -1;
		return err;
	}
	/* the same ack format iproute2 asks the kernel for */
	err = set_opt(c, NETLINK_CAP_ACK);
	if (!err)
		err = set_opt(c, NETLINK_EXT_ACK);
	if (err) {
		close(c->fd);
		c->fd = -1;
	}
	return err;
}

void vnet_nlc_close(struct vnet_nlc *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
}

struct nlmsghdr *vnet_nlc_prepare(struct vnet_nlc *c, void *buf, __u8 cmd, __u16 flags)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);
	struct genlmsghdr *g;

	nlh->nlmsg_type = VNET_VDPA_FAMILY_ID;
	nlh->nlmsg_flags = flags;
	nlh->nlmsg_seq = ++c->seq;
	g = mnl_nlmsg_put_extra_header(nlh, sizeof(*g));
	g->cmd = cmd;
	g->version = VDPA_GENL_VERSION;
	return nlh;
}

/* NLMSG_ERROR: remember the extended ack, stop (ack) or fail */
static int error_cb(const struct nlmsghdr *nlh, void *data)
{
	struct vnet_nlc *c = data;
	int err = vnet_nl_ack_parse(nlh, c->errmsg, sizeof(c->errmsg), &c->erroff);

	if (!err)
		return MNL_CB_STOP;
	errno = -err;
	return MNL_CB_ERROR;
}

/* The control callbacks get the user's data pointer; wrap both in one. */
struct run_ctx {
	struct vnet_nlc *c;
	mnl_cb_t cb;
	void *data;
};

static int data_tramp(const struct nlmsghdr *nlh, void *d)
{
	struct run_ctx *r = d;

	return r->cb ? r->cb(nlh, r->data) : MNL_CB_OK;
}

static int error_tramp(const struct nlmsghdr *nlh, void *d)
{
	return error_cb(nlh, ((struct run_ctx *)d)->c);
}

static int done_cb(const struct nlmsghdr *nlh, void *d)
{
	return MNL_CB_STOP;
}

int vnet_nlc_run(struct vnet_nlc *c, const struct nlmsghdr *nlh, mnl_cb_t cb, void *data)
{
	/* a given control array replaces libmnl's defaults: DONE must stop too */
	mnl_cb_t ctl[NLMSG_MIN_TYPE] = { [NLMSG_ERROR] = error_tramp, [NLMSG_DONE] = done_cb };
	struct run_ctx r = { c, cb, data };
	ssize_t n;
	int ret;

	c->errmsg[0] = '\0';
	c->erroff = 0;
	ret = request_send(c, nlh, nlh->nlmsg_len);
	if (ret)
		return ret;
	do {
		n = reply_recv(c);
		if (n < 0)
			return (int)n;
		errno = 0;
		ret = mnl_cb_run2(c->buf, n, nlh->nlmsg_seq, 0, data_tramp, &r, ctl,
				  NLMSG_MIN_TYPE);
	} while (ret > 0);
	return ret < 0 ? -(errno ? errno : EPROTO) : 0;
}

int vnet_nlc_raw(struct vnet_nlc *c, const void *buf, size_t len)
{
	const struct nlmsghdr *nlh;
	ssize_t n;
	int rem;

	c->errmsg[0] = '\0';
	c->erroff = 0;
	n = request_send(c, buf, len);
	if (n)
		return (int)n;
	for (;;) {
		n = reply_recv(c);
		if (n < 0)
			return (int)n;
		rem = n;
		for (nlh = (const void *)c->buf; mnl_nlmsg_ok(nlh, rem);
		     nlh = mnl_nlmsg_next(nlh, &rem)) {
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				struct vnet_nlc *cc = c;
				int ret = error_cb(nlh, cc);

				return ret == MNL_CB_STOP ? 0 : -errno;
			}
			if (nlh->nlmsg_type == NLMSG_DONE)
				return 0;
		}
	}
}
