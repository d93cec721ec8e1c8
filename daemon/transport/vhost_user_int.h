/* SPDX-License-Identifier: MIT */
/* Internal state of the vhost-user back-end (vhost_user.c, vhost_user_msg.c). */
#ifndef VNET_VHOST_USER_INT_H
#define VNET_VHOST_USER_INT_H

#include "vnet/vhost_user.h"

struct vnet_vu {
	struct vnet_transport t;	/* first: the ops see this */
	struct vnet_netdev *dev;
	char path[108];
	bool client;
	int epfd;		/* what vnet_vu_fd() returns */
	int listen_fd;		/* server mode, -1 otherwise */
	int conn_fd;		/* the front-end, -1 when none */
	int timer_fd;		/* client mode: reconnect timer */
	int backend_fd;		/* SET_BACKEND_REQ_FD channel, -1 when none */
	bool owner;
	__u64 protocol;		/* negotiated protocol features */
	__u64 protocol_offer;	/* what this connection is offered (0: not asked yet) */
	bool features_set;	/* SET_FEATURES seen */
	bool proto_features;	/* VHOST_USER_F_PROTOCOL_FEATURES negotiated */
	struct vnet_transport_stats stats;
};

/* the back-end of a transport whose ops are vnet_vhost_user_transport */
static inline struct vnet_vu *vu_of(struct vnet_transport *t)
{
	return (struct vnet_vu *)t;
}

#endif
