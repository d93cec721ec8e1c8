// SPDX-License-Identifier: MIT
/*
 * The control socket: AF_UNIX SOCK_SEQPACKET, so every send is one record
 * with its boundaries kept, like a netlink socket's. Access control has two
 * layers: the socket file (0660 root:<group>) decides who may connect at
 * all, the peer's credentials (SO_PEERCRED, read at accept) decide who may
 * change things -- root or CAP_NET_ADMIN, as the kernel's GENL_ADMIN_PERM.
 *
 * Nothing here blocks: requests are read when epoll says so, replies are
 * queued and written as the peer's receive queue has room (EPOLLOUT); a
 * connection with unsent replies is not read from until they are gone.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <linux/capability.h>

#include "vnet/evloop.h"
#include "vnet/log.h"
#include "vnet/nl_server.h"

#define MAX_CONNS	64

struct nl_conn {
	struct vnet_evt ev;		/* first: epoll hands back &ev */
	struct vnet_nl_server *srv;
	struct vnet_nl_ctx ctx;
	struct vnet_nl_out out;
	struct ucred cred;
	bool want_out;			/* registered for EPOLLOUT */
};

struct vnet_nl_server {
	struct vnet_evt ev;		/* the listener */
	struct vnet_registry *reg;
	int epfd;
	char path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct nl_conn *conns[MAX_CONNS];
};

/* CAP_NET_ADMIN in the peer's effective set (/proc/<pid>/status CapEff) */
static bool peer_has_net_admin(pid_t pid)
{
	char path[64], line[256];
	unsigned long long caps = 0;
	bool found = false;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &caps) == 1) {
			found = true;
			break;
		}
	fclose(f);
	return found && (caps & (1ULL << CAP_NET_ADMIN));
}

static void conn_close(struct nl_conn *c)
{
	struct vnet_nl_server *srv = c->srv;

	for (int i = 0; i < MAX_CONNS; i++)
		if (srv->conns[i] == c)
			srv->conns[i] = NULL;
	epoll_ctl(srv->epfd, EPOLL_CTL_DEL, c->ev.fd, NULL);
	close(c->ev.fd);
	vnet_nl_out_free(&c->out);
	pr_debug("connection of pid %d closed\n", (int)c->cred.pid);
	free(c);
}

static int conn_set_events(struct nl_conn *c, bool want_out)
{
	struct epoll_event ee = {
		.events = want_out ? EPOLLOUT : EPOLLIN,
		.data.ptr = &c->ev,
	};

	if (c->want_out == want_out)
		return 0;
	c->want_out = want_out;
	return epoll_ctl(c->srv->epfd, EPOLL_CTL_MOD, c->ev.fd, &ee) ? -errno : 0;
}

/* Sends queued records; 0 when all sent or waiting for room, -errno to drop. */
static int conn_flush(struct nl_conn *c)
{
	struct vnet_nl_rec *rec;

	while ((rec = c->out.head)) {
		ssize_t n = send(c->ev.fd, rec->data, rec->len, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return conn_set_events(c, true);
			return -errno;
		}
		c->out.head = rec->next;
		if (!c->out.head)
			c->out.tail = NULL;
		c->out.count--;
		free(rec);
	}
	return conn_set_events(c, false);
}

static void conn_event(struct vnet_evt *ev, unsigned int events)
{
	struct nl_conn *c = (struct nl_conn *)ev;
	static unsigned char buf[VNET_NL_REQ_MAX];
	ssize_t n;
	int err;

	if (events & EPOLLOUT) {
		if (conn_flush(c))
			goto drop;
		return;
	}
	if (!(events & EPOLLIN))
		goto drop;	/* HUP/ERR without data */
	n = recv(ev->fd, buf, sizeof(buf), MSG_DONTWAIT | MSG_TRUNC);
	if (n < 0) {
		if (errno == EAGAIN || errno == EINTR)
			return;
		goto drop;
	}
	if (n == 0)
		goto drop;	/* orderly close */
	if ((size_t)n > sizeof(buf))
		err = vnet_nl_reject_oversized(&c->ctx, buf, sizeof(buf), &c->out);
	else
		err = vnet_nl_handle(&c->ctx, buf, n, &c->out);
	if (err) {
		pr_warn("out of memory answering pid %d\n", (int)c->cred.pid);
		goto drop;
	}
	if (conn_flush(c))
		goto drop;
	return;
drop:
	conn_close(c);
}

static void listen_event(struct vnet_evt *ev, unsigned int events)
{
	struct vnet_nl_server *srv = (struct vnet_nl_server *)ev;
	socklen_t len = sizeof(struct ucred);
	struct epoll_event ee = { .events = EPOLLIN };
	struct nl_conn *c;
	int fd, slot;

	fd = accept4(ev->fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
	if (fd < 0)
		return;
	for (slot = 0; slot < MAX_CONNS && srv->conns[slot]; slot++)
		;
	c = slot < MAX_CONNS ? calloc(1, sizeof(*c)) : NULL;
	if (!c) {
		pr_warn("too many control connections, refusing one\n");
		close(fd);
		return;
	}
	c->ev.fd = fd;
	c->ev.fn = conn_event;
	c->srv = srv;
	c->ctx.reg = srv->reg;
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &c->cred, &len)) {
		free(c);
		close(fd);
		return;
	}
	/* read once, at connect: what the peer was when it connected counts */
	c->ctx.admin = c->cred.uid == 0 || peer_has_net_admin(c->cred.pid);
	ee.data.ptr = &c->ev;
	if (epoll_ctl(srv->epfd, EPOLL_CTL_ADD, fd, &ee)) {
		free(c);
		close(fd);
		return;
	}
	srv->conns[slot] = c;
	pr_debug("connection from pid %d uid %d%s\n", (int)c->cred.pid, (int)c->cred.uid,
		 c->ctx.admin ? " (admin)" : "");
}

int vnet_nl_server_open(struct vnet_nl_server **srvp, struct vnet_registry *reg,
			int epfd, const struct vnet_nl_server_opts *opts)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct epoll_event ee = { .events = EPOLLIN };
	struct vnet_nl_server *srv;
	int fd, err;

	if (strlen(opts->path) >= sizeof(sun.sun_path))
		return -ENAMETOOLONG;
	srv = calloc(1, sizeof(*srv));
	if (!srv)
		return -ENOMEM;
	srv->reg = reg;
	srv->epfd = epfd;
	strcpy(srv->path, opts->path);
	strcpy(sun.sun_path, opts->path);

	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err = -errno;
		goto err_free;
	}
	/* a stale socket of a killed vnetd: ours to replace (the pid file would
	 * say if another vnetd runs; we check by connecting) */
	{
		int probe = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

		if (probe >= 0 && !connect(probe, (struct sockaddr *)&sun, sizeof(sun))) {
			close(probe);
			err = -EADDRINUSE;
			pr_warn("another vnetd serves %s\n", opts->path);
			goto err_close;
		}
		if (probe >= 0)
			close(probe);
		unlink(opts->path);
	}
	/* no window in which the socket is reachable with looser permissions */
	{
		mode_t old = umask(0177);

		err = bind(fd, (struct sockaddr *)&sun, sizeof(sun)) ? -errno : 0;
		umask(old);
	}
	if (err)
		goto err_close;
	if ((opts->gid != (gid_t)-1 && chown(opts->path, 0, opts->gid)) ||
	    chmod(opts->path, opts->mode)) {
		err = -errno;
		goto err_unlink;
	}
	if (listen(fd, 16)) {
		err = -errno;
		goto err_unlink;
	}
	srv->ev.fd = fd;
	srv->ev.fn = listen_event;
	ee.data.ptr = &srv->ev;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &ee)) {
		err = -errno;
		goto err_unlink;
	}
	*srvp = srv;
	return 0;

err_unlink:
	unlink(opts->path);
err_close:
	close(fd);
err_free:
	free(srv);
	return err;
}

void vnet_nl_server_close(struct vnet_nl_server *srv)
{
	if (!srv)
		return;
	for (int i = 0; i < MAX_CONNS; i++)
		if (srv->conns[i])
			conn_close(srv->conns[i]);
	epoll_ctl(srv->epfd, EPOLL_CTL_DEL, srv->ev.fd, NULL);
	close(srv->ev.fd);
	unlink(srv->path);
	free(srv);
}
