// SPDX-License-Identifier: MIT
/*
 * vhost-user sockets: listening (server mode) or connecting with retries
 * (client mode), reading messages with their fds, replies, the back-end
 * channel for config-change notifications, disconnect cleanup, and the
 * transport ops (include/vnet/transport.h) over all of it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <sys/un.h>
#include <unistd.h>

#include "vnet/log.h"
#include "vhost_user_int.h"

#define RECONNECT_NS	1000000000ll	/* client mode: retry every second */

static void ep_add(struct vnet_vu *vu, int fd)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };

	epoll_ctl(vu->epfd, EPOLL_CTL_ADD, fd, &ev);
}

static void ep_del(struct vnet_vu *vu, int fd)
{
	epoll_ctl(vu->epfd, EPOLL_CTL_DEL, fd, NULL);
}

/* config_changed: VHOST_USER_BACKEND_CONFIG_CHANGE_MSG, no reply wanted */
static void vu_config_changed(struct vnet_transport *t)
{
	struct vnet_vu *vu = vu_of(t);
	struct vhost_user_hdr hdr = {
		.request = VHOST_USER_BACKEND_CONFIG_CHANGE_MSG,
		.flags = VHOST_USER_VERSION,
	};

	if (vu->backend_fd < 0 ||
	    !(vu->protocol & (1ull << VHOST_USER_PROTOCOL_F_CONFIG)))
		return;
	/* never block the caller on a front-end that does not read */
	if (send(vu->backend_fd, &hdr, sizeof(hdr), MSG_DONTWAIT | MSG_NOSIGNAL) < 0)
		pr_info("%s: config change not sent: %s\n", vu->dev->params.name,
			strerror(errno));
}

/* notify: the ring's call eventfd (none: the front-end polls) */
static int vu_notify(struct vnet_transport *t, unsigned int index)
{
	int fd = t->dev->vrings[index].call_fd;
	__u64 one = 1;

	if (fd < 0)
		return 0;
	return write(fd, &one, sizeof(one)) == sizeof(one) ? 0 : -errno;
}

void vnet_vu_disconnect_state(struct vnet_vu *vu)
{
	vnet_netdev_detach(vu->dev);
	if (vu->backend_fd >= 0)
		close(vu->backend_fd);
	vu->backend_fd = -1;
	vu->owner = false;
	vu->protocol = 0;
	vu->protocol_offer = 0;
	vu->features_set = false;
	vu->proto_features = false;
}

static int alloc_vu(struct vnet_netdev *dev, struct vnet_vu **out)
{
	struct vnet_vu *vu = calloc(1, sizeof(*vu));

	if (!vu)
		return -ENOMEM;
	vu->t.ops = &vnet_vhost_user_transport;
	vu->dev = dev;
	vu->listen_fd = vu->conn_fd = vu->timer_fd = vu->backend_fd = -1;
	vu->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (vu->epfd < 0) {
		free(vu);
		return -errno;
	}
	vnet_transport_bind(&vu->t, dev);
	*out = vu;
	return 0;
}

int vnet_vu_create_detached(struct vnet_netdev *dev, struct vnet_vu **out)
{
	return alloc_vu(dev, out);
}

static int sun_fill(struct sockaddr_un *sun, const char *path)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sun->sun_path))
		return -ENAMETOOLONG;
	strcpy(sun->sun_path, path);
	return 0;
}

static void conn_close(struct vnet_vu *vu)
{
	if (vu->conn_fd < 0)
		return;
	ep_del(vu, vu->conn_fd);
	close(vu->conn_fd);
	vu->conn_fd = -1;
	vu->stats.disconnects++;
	vnet_netdev_lock_ctl(vu->dev);
	vnet_vu_disconnect_state(vu);
	pthread_mutex_unlock(&vu->dev->lock);
	pr_info("%s: vhost-user front-end gone\n", vu->dev->params.name);
	if (vu->listen_fd >= 0)
		ep_add(vu, vu->listen_fd);
	if (vu->timer_fd >= 0) {
		struct itimerspec its = { .it_value.tv_nsec = 1000000 };	/* soon */

		timerfd_settime(vu->timer_fd, 0, &its, NULL);
	}
}

static void conn_open(struct vnet_vu *vu, int fd)
{
	/* a front-end that stops mid-message must not hang us */
	struct timeval tv = { .tv_sec = 1 };

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	vu->conn_fd = fd;
	vu->stats.connections++;
	ep_add(vu, fd);
	pr_info("%s: vhost-user front-end connected\n", vu->dev->params.name);
}

static int try_connect(struct vnet_vu *vu)
{
	struct sockaddr_un sun;
	int fd, err;

	err = sun_fill(&sun, vu->path);
	if (err)
		return err;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sun, sizeof(sun))) {
		err = -errno;
		close(fd);
		return err;
	}
	conn_open(vu, fd);
	return 0;
}

int vnet_vu_create(struct vnet_netdev *dev, const char *path, bool client,
		   struct vnet_vu **out)
{
	struct itimerspec its = { .it_value.tv_nsec = 1000, .it_interval.tv_sec = 0 };
	struct sockaddr_un sun;
	struct vnet_vu *vu;
	int err;

	err = sun_fill(&sun, path);
	if (err)
		return err;
	err = alloc_vu(dev, &vu);
	if (err)
		return err;
	strcpy(vu->path, path);
	vu->client = client;
	if (client) {
		vu->timer_fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC | TFD_NONBLOCK);
		if (vu->timer_fd < 0) {
			err = -errno;
			goto err_free;
		}
		timerfd_settime(vu->timer_fd, 0, &its, NULL);
		ep_add(vu, vu->timer_fd);
	} else {
		vu->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
		if (vu->listen_fd < 0) {
			err = -errno;
			goto err_free;
		}
		unlink(path);	/* a stale socket of an earlier run */
		if (bind(vu->listen_fd, (struct sockaddr *)&sun, sizeof(sun)) ||
		    listen(vu->listen_fd, 4)) {
			err = -errno;
			goto err_free;
		}
		ep_add(vu, vu->listen_fd);
	}
	*out = vu;
	return 0;

err_free:
	vnet_vu_destroy(vu);
	return err;
}

void vnet_vu_destroy(struct vnet_vu *vu)
{
	if (!vu)
		return;
	conn_close(vu);
	vnet_netdev_lock_ctl(vu->dev);
	vnet_vu_disconnect_state(vu);
	pthread_mutex_unlock(&vu->dev->lock);
	vnet_transport_unbind(&vu->t);
	if (vu->listen_fd >= 0) {
		close(vu->listen_fd);
		unlink(vu->path);
	}
	if (vu->timer_fd >= 0)
		close(vu->timer_fd);
	close(vu->epfd);
	free(vu);
}

int vnet_vu_fd(const struct vnet_vu *vu)
{
	return vu->epfd;
}

bool vnet_vu_connected(const struct vnet_vu *vu)
{
	return vu->conn_fd >= 0;
}

/*
 * Read one message: the header with its fds (SCM_RIGHTS), then the payload.
 * Returns 0, or -errno to close (EOF, truncation, too many fds, too big).
 */
static int read_msg(int fd, struct vhost_user_msg *msg, int *fds, unsigned int *nfds)
{
	char cbuf[CMSG_SPACE(sizeof(int) * VHOST_USER_MAX_FDS)];
	struct iovec iov = { .iov_base = &msg->hdr, .iov_len = sizeof(msg->hdr) };
	struct msghdr mh = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm;
	ssize_t n;

	*nfds = 0;
	n = recvmsg(fd, &mh, MSG_CMSG_CLOEXEC);
	for (cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
		if (cm->cmsg_level == SOL_SOCKET && cm->cmsg_type == SCM_RIGHTS) {
			unsigned int k = (cm->cmsg_len - CMSG_LEN(0)) / sizeof(int);

			if (k > VHOST_USER_MAX_FDS - *nfds)
				k = VHOST_USER_MAX_FDS - *nfds;	/* cannot happen: cbuf */
			memcpy(fds + *nfds, CMSG_DATA(cm), k * sizeof(int));
			*nfds += k;
		}
	}
	if (n == 0)
		return -ECONNRESET;
	if (n < 0)
		return -errno;
	/* the kernel dropped fds that did not fit: too many for any message */
	if (mh.msg_flags & MSG_CTRUNC)
		return -E2BIG;
	if ((size_t)n != sizeof(msg->hdr))
		return -EPROTO;
	if (msg->hdr.size > VHOST_USER_PAYLOAD_MAX)
		return -EMSGSIZE;
	if (msg->hdr.size) {
		n = recv(fd, &msg->payload, msg->hdr.size, MSG_WAITALL);
		if (n != (ssize_t)msg->hdr.size)
			return n < 0 ? -errno : -EPROTO;
	}
	return 0;
}

static int handle_one(struct vnet_vu *vu)
{
	struct vhost_user_msg msg, reply;
	int fds[VHOST_USER_MAX_FDS];
	unsigned int nfds, i;
	int err;

	memset(&msg, 0, sizeof(msg));
	err = read_msg(vu->conn_fd, &msg, fds, &nfds);
	if (err) {
		for (i = 0; i < nfds; i++)
			close(fds[i]);
		if (err != -ECONNRESET) {
			vu->stats.bad_messages++;
			pr_info("%s: vhost-user: bad message: %s\n", vu->dev->params.name,
				strerror(-err));
		}
		return err;
	}
	vnet_netdev_lock_ctl(vu->dev);
	err = vnet_vu_handle_msg(vu, &msg, fds, nfds, &reply);
	pthread_mutex_unlock(&vu->dev->lock);
	if (err)
		return err;
	if (reply.hdr.request) {
		struct iovec iov[2] = {
			{ .iov_base = &reply.hdr, .iov_len = sizeof(reply.hdr) },
			{ .iov_base = &reply.payload, .iov_len = reply.hdr.size },
		};
		struct msghdr mh = { .msg_iov = iov, .msg_iovlen = 2 };
		ssize_t len = (ssize_t)(sizeof(reply.hdr) + reply.hdr.size);

		if (sendmsg(vu->conn_fd, &mh, MSG_NOSIGNAL) != len)
			return -EPIPE;
	}
	return 0;
}

int vnet_vu_process(struct vnet_vu *vu)
{
	struct epoll_event evs[4];
	int n, i, fd;

	n = epoll_wait(vu->epfd, evs, 4, 0);
	for (i = 0; i < n; i++) {
		fd = evs[i].data.fd;
		if (fd == vu->listen_fd && vu->conn_fd < 0) {
			int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);

			if (c < 0)
				continue;
			/* one front-end at a time: stop listening meanwhile */
			ep_del(vu, vu->listen_fd);
			conn_open(vu, c);
		} else if (fd == vu->timer_fd) {
			__u64 ticks;
			struct itimerspec its = { .it_value.tv_sec = 1 };

			if (read(fd, &ticks, sizeof(ticks)) < 0)
				continue;
			if (vu->conn_fd < 0 && try_connect(vu))
				timerfd_settime(vu->timer_fd, 0, &its, NULL);
		} else if (fd == vu->conn_fd) {
			/* drain what is there; the socket is blocking with a
			 * receive timeout, so peek first */
			int rounds = 64;

			while (vu->conn_fd >= 0 && rounds--) {
				char c;
				ssize_t r = recv(vu->conn_fd, &c, 1, MSG_PEEK | MSG_DONTWAIT);

				if (r < 0 && (errno == EAGAIN || errno == EINTR))
					break;
				if (r <= 0 || handle_one(vu)) {
					conn_close(vu);
					break;
				}
			}
		}
	}
	return n < 0 && errno != EINTR ? -errno : 0;
}

/* --- the transport ops --------------------------------------------------- */

/*
 * The server side unlinks a stale socket before it binds: never let a
 * socket path given by an admin remove something that is not a socket.
 */
static int check_socket_path(const char *path, const char **errmsg)
{
	struct stat st;

	if (lstat(path, &st)) {
		if (errno == ENOENT)
			return 0;
		*errmsg = "cannot inspect the socket path";
		return -errno;
	}
	if (!S_ISSOCK(st.st_mode)) {
		*errmsg = "socket path exists and is not a socket";
		return -EEXIST;
	}
	return 0;
}

static int vu_create(struct vnet_netdev *dev, struct vnet_transport **out, const char **errmsg)
{
	const char *path = dev->params.socket_path;
	bool client = dev->params.sock_mode == VNET_SOCK_CLIENT;
	struct vnet_vu *vu;
	int err;

	if (!client) {
		err = check_socket_path(path, errmsg);
		if (err)
			return err;
	}
	err = vnet_vu_create(dev, path, client, &vu);
	if (err) {
		pr_warn("%s: vhost-user socket %s: %s\n", dev->params.name, path, strerror(-err));
		*errmsg = client ? "cannot set up the vhost-user client socket" :
				   "cannot listen on the vhost-user socket path";
		return err;
	}
	pr_info("%s: vhost-user %s on %s\n", dev->params.name, client ? "client" : "server", path);
	*out = &vu->t;
	return 0;
}

static void vu_destroy(struct vnet_transport *t)
{
	vnet_vu_destroy(vu_of(t));
}

static int vu_fd(const struct vnet_transport *t)
{
	return ((const struct vnet_vu *)t)->epfd;
}

static int vu_process(struct vnet_transport *t)
{
	return vnet_vu_process(vu_of(t));
}

static bool vu_connected(const struct vnet_transport *t)
{
	return vnet_vu_connected((const struct vnet_vu *)t);
}

static void vu_stats(const struct vnet_transport *t, struct vnet_transport_stats *st)
{
	*st = ((const struct vnet_vu *)t)->stats;
}

const struct vnet_transport_ops vnet_vhost_user_transport = {
	.name = "vhost-user",
	.create = vu_create,
	.destroy = vu_destroy,
	.fd = vu_fd,
	.process = vu_process,
	.notify = vu_notify,
	.config_changed = vu_config_changed,
	.connected = vu_connected,
	.stats = vu_stats,
};
