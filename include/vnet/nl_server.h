/* SPDX-License-Identifier: MIT */
/*
 * vnetd's netlink server. Two layers:
 *
 *  - vnet_nl_handle(): one received record in, reply records out. Pure (no
 *    I/O), so unit tests and the fuzzer drive it directly.
 *  - vnet_nl_server_*(): the AF_UNIX SOCK_SEQPACKET listener, connections,
 *    peer credentials and non-blocking output, driven by an epoll loop.
 */
#ifndef VNET_NL_SERVER_H
#define VNET_NL_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "vnet/nl.h"
#include "vnet/registry.h"

struct vnet_nl_rec {
	struct vnet_nl_rec *next;
	size_t len;
	unsigned char data[VNET_NL_RECORD_MAX];
};

/* reply records, sent in order */
struct vnet_nl_out {
	struct vnet_nl_rec *head, *tail;
	int count;
};

/* per connection: what the peer may do and which ack format it asked for */
struct vnet_nl_ctx {
	struct vnet_registry *reg;
	bool admin;		/* root or CAP_NET_ADMIN: may change things */
	bool cap_ack;		/* NETLINK_CAP_ACK */
	bool ext_ack;		/* NETLINK_EXT_ACK */
};

/* Handles every message of one record; replies go to 'out'. 0 or -ENOMEM. */
int vnet_nl_handle(struct vnet_nl_ctx *ctx, const void *rec, size_t len,
		   struct vnet_nl_out *out);
/* a record that could not be read whole (bigger than VNET_NL_REQ_MAX) */
int vnet_nl_reject_oversized(struct vnet_nl_ctx *ctx, const void *rec, size_t len,
			     struct vnet_nl_out *out);
void vnet_nl_out_free(struct vnet_nl_out *out);

/* --- the socket server --- */

struct vnet_nl_server;

struct vnet_nl_server_opts {
	const char *path;	/* control socket */
	gid_t gid;		/* group allowed to connect; (gid_t)-1: keep */
	mode_t mode;		/* socket file mode, 0660 */
};

int vnet_nl_server_open(struct vnet_nl_server **srvp, struct vnet_registry *reg,
			int epfd, const struct vnet_nl_server_opts *opts);
/* registers its fds with epfd as struct vnet_evt (include/vnet/evloop.h) */
void vnet_nl_server_close(struct vnet_nl_server *srv);

#endif
