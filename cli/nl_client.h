/* SPDX-License-Identifier: MIT */
/*
 * Client side of vnetd's control socket (include/vnet/nl.h), built on
 * libmnl: messages are made and parsed with libmnl, sent over AF_UNIX
 * SOCK_SEQPACKET. Used by vnetctl and the test tools.
 */
#ifndef VNET_CLI_NL_CLIENT_H
#define VNET_CLI_NL_CLIENT_H

#include <stddef.h>
#include <libmnl/libmnl.h>

#include "vnet/nl.h"

struct vnet_nlc {
	int fd;
	unsigned int seq;
	char errmsg[256];	/* extended ack text of the last error, "" if none */
	unsigned int erroff;	/* NLMSGERR_ATTR_OFFS of the last error, 0 if none */
	unsigned char buf[VNET_NL_RECORD_MAX];
};

/* socket path: 'path', else $VNET_SOCK, else the default. A reply that
 * has not come within 'timeout_s' seconds (0: no limit) fails the request
 * with -ETIMEDOUT: a vnetd that is stuck makes its clients fail, not hang */
int vnet_nlc_open(struct vnet_nlc *c, const char *path, unsigned int timeout_s);
void vnet_nlc_close(struct vnet_nlc *c);
/* a vdpa request in 'buf' (at least VNET_NL_RECORD_MAX bytes) */
struct nlmsghdr *vnet_nlc_prepare(struct vnet_nlc *c, void *buf, __u8 cmd, __u16 flags);
/* sends nlh, runs cb on each reply until the ack/DONE; 0 or -errno */
int vnet_nlc_run(struct vnet_nlc *c, const struct nlmsghdr *nlh, mnl_cb_t cb, void *data);
/* sends raw bytes as one record and collects the error code of the
 * NLMSG_ERROR answering it (0 = ack); for tests of malformed input */
int vnet_nlc_raw(struct vnet_nlc *c, const void *buf, size_t len);

#endif
