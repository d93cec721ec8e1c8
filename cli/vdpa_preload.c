// SPDX-License-Identifier: MIT
/*
 * libvnet-vdpa.so: lets the unmodified iproute2 `vdpa` binary manage vnetd
 * devices on machines without the kernel's vdpa bus.
 *
 *   LD_PRELOAD=libvnet-vdpa.so vdpa dev show     (or: vnet-vdpa dev show)
 *
 * vdpa talks generic netlink through libmnl: socket(AF_NETLINK, ...,
 * NETLINK_GENERIC), setsockopt(SOL_NETLINK), bind, getsockname, sendto,
 * recvmsg. We interpose those libc calls: the socket becomes an AF_UNIX
 * SOCK_SEQPACKET connection to vnetd (which keeps message boundaries, as
 * netlink does, and speaks the same bytes, CTRL_CMD_GETFAMILY included);
 * addresses are faked so libmnl's sockaddr_nl checks hold; the two ack
 * socket options are forwarded as a VNET_NLMSG_SOCKOPT message. Every
 * other socket is passed through untouched. Socket path: $VNET_SOCK, else
 * /run/vnetd/vnetd.sock.
 */
#include <dlfcn.h>
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <linux/netlink.h>

#include "vnet/nl.h"

#define MAX_FD		1024	/* fds above are not redirected (vdpa uses one) */

#ifndef SOL_NETLINK
#define SOL_NETLINK	270
#endif

static bool redirected[MAX_FD];
static __u32 fake_pid[MAX_FD];

#define REAL(ret, name, ...)						\
	static ret (*real_##name)(__VA_ARGS__);				\
	static void resolve_##name(void)				\
	{								\
		if (!real_##name)					\
			real_##name = dlsym(RTLD_NEXT, #name);		\
	}

REAL(int, socket, int, int, int)
REAL(int, close, int)
REAL(int, setsockopt, int, int, int, const void *, socklen_t)
REAL(int, bind, int, const struct sockaddr *, socklen_t)
REAL(int, connect, int, const struct sockaddr *, socklen_t)
REAL(int, getsockname, int, struct sockaddr *, socklen_t *)
REAL(ssize_t, sendto, int, const void *, size_t, int, const struct sockaddr *, socklen_t)
REAL(ssize_t, sendmsg, int, const struct msghdr *, int)
REAL(ssize_t, recvmsg, int, struct msghdr *, int)
REAL(ssize_t, recvfrom, int, void *, size_t, int, struct sockaddr *, socklen_t *)

static bool ours(int fd)
{
	return fd >= 0 && fd < MAX_FD && redirected[fd];
}

/* what recvmsg/recvfrom report as the sender: the kernel, port 0 */
static void fill_kernel_addr(void *addr, socklen_t *len)
{
	struct sockaddr_nl nl = { .nl_family = AF_NETLINK };

	if (!addr || !len)
		return;
	memcpy(addr, &nl, *len < sizeof(nl) ? *len : sizeof(nl));
	*len = sizeof(nl);
}

int socket(int domain, int type, int protocol)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	const char *path = getenv(VNET_NL_SOCK_ENV);
	int fd, err;

	resolve_socket();
	if (domain != AF_NETLINK || protocol != NETLINK_GENERIC)
		return real_socket(domain, type, protocol);
	if (!path || !*path)
		path = VNET_NL_DEFAULT_SOCK;
	if (strlen(path) >= sizeof(sun.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	strcpy(sun.sun_path, path);
	fd = real_socket(AF_UNIX, SOCK_SEQPACKET | (type & (SOCK_CLOEXEC | SOCK_NONBLOCK)), 0);
	if (fd < 0)
		return -1;
	resolve_connect();
	if (real_connect(fd, (struct sockaddr *)&sun, sizeof(sun))) {
		err = errno;
		resolve_close();
		real_close(fd);
		errno = err;
		return -1;
	}
	if (fd < MAX_FD) {
		redirected[fd] = true;
		fake_pid[fd] = (__u32)getpid();
	}
	return fd;
}

int close(int fd)
{
	resolve_close();
	if (fd >= 0 && fd < MAX_FD)
		redirected[fd] = false;
	return real_close(fd);
}

/* forwards NETLINK_CAP_ACK / NETLINK_EXT_ACK to vnetd and waits for the ack */
static int forward_sockopt(int fd, int opt, int value)
{
	struct {
		struct nlmsghdr nlh;
		struct vnet_nl_sockopt o;
	} req = {
		.nlh = {
			.nlmsg_len = sizeof(req),
			.nlmsg_type = VNET_NLMSG_SOCKOPT,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK,
		},
		.o = { .optname = opt, .value = !!value },
	};
	struct {
		struct nlmsghdr nlh;
		struct nlmsgerr err;
		char tlvs[256];
	} ans;
	ssize_t n;

	resolve_sendto();
	resolve_recvfrom();
	if (real_sendto(fd, &req, sizeof(req), MSG_NOSIGNAL, NULL, 0) < 0)
		return -1;
	do
		n = real_recvfrom(fd, &ans, sizeof(ans), 0, NULL, NULL);
	while (n < 0 && errno == EINTR);
	if (n < (ssize_t)(sizeof(ans.nlh) + sizeof(int)) || ans.nlh.nlmsg_type != NLMSG_ERROR) {
		errno = EPROTO;
		return -1;
	}
	if (ans.err.error) {
		errno = -ans.err.error;
		return -1;
	}
	return 0;
}

int setsockopt(int fd, int level, int optname, const void *optval, socklen_t optlen)
{
	resolve_setsockopt();
	if (!ours(fd) || level != SOL_NETLINK)
		return real_setsockopt(fd, level, optname, optval, optlen);
	if ((optname == NETLINK_CAP_ACK || optname == NETLINK_EXT_ACK) &&
	    optval && optlen >= sizeof(int))
		return forward_sockopt(fd, optname, *(const int *)optval);
	return 0;	/* other netlink options mean nothing to vnetd */
}

int bind(int fd, const struct sockaddr *addr, socklen_t len)
{
	resolve_bind();
	if (!ours(fd))
		return real_bind(fd, addr, len);
	if (addr && len >= sizeof(struct sockaddr_nl) &&
	    ((const struct sockaddr_nl *)addr)->nl_pid)
		fake_pid[fd] = ((const struct sockaddr_nl *)addr)->nl_pid;
	return 0;
}

int connect(int fd, const struct sockaddr *addr, socklen_t len)
{
	resolve_connect();
	return ours(fd) ? 0 : real_connect(fd, addr, len);
}

int getsockname(int fd, struct sockaddr *addr, socklen_t *len)
{
	struct sockaddr_nl nl = { .nl_family = AF_NETLINK };

	resolve_getsockname();
	if (!ours(fd))
		return real_getsockname(fd, addr, len);
	if (!addr || !len) {
		errno = EFAULT;
		return -1;
	}
	nl.nl_pid = fake_pid[fd];
	memcpy(addr, &nl, *len < sizeof(nl) ? *len : sizeof(nl));
	*len = sizeof(nl);
	return 0;
}

ssize_t sendto(int fd, const void *buf, size_t len, int flags,
	       const struct sockaddr *addr, socklen_t alen)
{
	resolve_sendto();
	if (!ours(fd))
		return real_sendto(fd, buf, len, flags, addr, alen);
	return real_sendto(fd, buf, len, flags | MSG_NOSIGNAL, NULL, 0);
}

ssize_t sendmsg(int fd, const struct msghdr *msg, int flags)
{
	struct msghdr m;

	resolve_sendmsg();
	if (!ours(fd))
		return real_sendmsg(fd, msg, flags);
	m = *msg;
	m.msg_name = NULL;
	m.msg_namelen = 0;
	return real_sendmsg(fd, &m, flags | MSG_NOSIGNAL);
}

ssize_t recvmsg(int fd, struct msghdr *msg, int flags)
{
	void *name;
	socklen_t namelen;
	ssize_t n;

	resolve_recvmsg();
	if (!ours(fd))
		return real_recvmsg(fd, msg, flags);
	name = msg->msg_name;
	namelen = msg->msg_namelen;
	msg->msg_name = NULL;
	msg->msg_namelen = 0;
	n = real_recvmsg(fd, msg, flags);
	msg->msg_name = name;
	msg->msg_namelen = namelen;
	if (n >= 0)
		fill_kernel_addr(name, &msg->msg_namelen);
	return n;
}

ssize_t recvfrom(int fd, void *buf, size_t len, int flags, struct sockaddr *addr,
		 socklen_t *alen)
{
	ssize_t n;

	resolve_recvfrom();
	if (!ours(fd))
		return real_recvfrom(fd, buf, len, flags, addr, alen);
	n = real_recvfrom(fd, buf, len, flags, NULL, NULL);
	if (n >= 0)
		fill_kernel_addr(addr, alen);
	return n;
}
