/* SPDX-License-Identifier: MIT */
/*
 * The host port of an uplink (bpf/vnet_host_tc.bpf.c says what the TC
 * programs do): a TAP owned by vnetd through which the host's stack and the
 * devices on the uplink exchange frames without the wire.
 *
 *   vnet_host_port_open()   TAP "vnh<uplink ifindex>" (up, no addresses, no
 *                           IPv6, the uplink's MTU); TC egress program on the
 *                           uplink, TC ingress program on the TAP, sharing
 *                           the XDP program's mac_devs map
 *   vnet_host_port_recv()   a frame the host sent to a device (or a copy of
 *                           a group frame it sent): its length, 0 for a
 *                           runt (dropped), -EAGAIN when none
 *   vnet_host_port_send()   a frame from a device to the host
 *   vnet_host_port_close()  filters removed, TAP gone
 *
 * One read or write system call per frame: this is the host-local path,
 * not the wire path (docs/ARCHITECTURE.md "Host port").
 */
#ifndef VNET_HOST_PORT_H
#define VNET_HOST_PORT_H

#include <stddef.h>
#include <sys/types.h>
#include <linux/types.h>

struct vnet_host_port;

struct vnet_host_port_stats {
	__u64 to_host;		/* frames written for the host */
	__u64 from_host;	/* frames read from the host */
	__u64 errors;		/* writes the TAP refused */
};

int vnet_host_port_open(int uplink_ifindex, int mac_devs_fd, struct vnet_host_port **out);
void vnet_host_port_close(struct vnet_host_port *hp);
/* A killed vnetd's filter on the uplink: 0 removed, -ENOENT none. */
int vnet_host_port_detach_stale(int uplink_ifindex);
int vnet_host_port_fd(const struct vnet_host_port *hp);	/* EPOLLIN: recv */
const char *vnet_host_port_name(const struct vnet_host_port *hp);
ssize_t vnet_host_port_recv(struct vnet_host_port *hp, void *buf, size_t len);
int vnet_host_port_send(struct vnet_host_port *hp, const void *frame, size_t len);
void vnet_host_port_stats(const struct vnet_host_port *hp, struct vnet_host_port_stats *st);

#endif
