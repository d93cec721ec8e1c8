/* SPDX-License-Identifier: MIT */
/*
 * The uplink datapath of vnetd: what connects the devices of mgmtdev
 * vnet/<ifname> to the wire (docs/ARCHITECTURE.md "Uplink datapath wiring").
 *
 *   vnet_updp_open()   XDP program attached (native, else generic; libxdp),
 *                      one AF_XDP socket per uplink rx queue in the XSKMAP,
 *                      the uplink's MAC and IPv4 addresses as host addresses,
 *                      unless DEDICATED a packet socket for the group frames
 *                      the host shares (uplink_pkt.h), one worker thread
 *   vnet_updp_port_add()   a device joins: a free device slot in the maps
 *                      (vnet_dp_dev_add), its virtqueues are served by the
 *                      uplink's worker from now on
 *   vnet_updp_port_del()   the other way round
 *   vnet_updp_set_link()   the uplink watch saw the netdev go or come:
 *                      detach (worker sleeps, devices keep their ports) or
 *                      attach again (every port back in the new maps)
 *   vnet_updp_close()  worker stopped, sockets closed, XDP detached
 *
 * The worker: XSK rx ring -> metadata -> the device's receiveq meta.queue
 * (flood frames replicated with the C reference, vnet_rx_steer); the packet
 * socket's group frames -> the devices the C reference picks; transmitq
 * -> spoof check -> local devices (device to device, no wire) and/or the
 * XSK tx ring; the control queue; control-queue state -> BPF maps.
 *
 * Threads: open/close/port_add/port_del/set_policy run on the control
 * thread (or main at exit); everything else on the worker.
 */
#ifndef VNET_UPLINK_DP_H
#define VNET_UPLINK_DP_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#include "vnet/device.h"

struct vnet_updp;
struct vnet_updp_port;

/*
 * vnet_updp_open() flags. DEDICATED: nothing but vnetd uses the uplink, so
 * group frames devices want are redirected to them alone (the host's stack
 * does not get them); without it the host shares the uplink and keeps every
 * broadcast/multicast frame, the devices get copies (VNET_DP_CFG_HOST_SHARED).
 */
#define VNET_UPDP_DEDICATED	(1u << 0)
/* TCP to devices whose guests take GSO frames coalesced by the uplink's
 * GRO, read from a packet socket (uplink_kgro.c, VNET_DP_CFG_KGRO) */
#define VNET_UPDP_KGRO		(1u << 1)

/*
 * workers: the uplink's worker threads (0: one per uplink rx queue, at most
 * the online CPUs; docs/ARCHITECTURE.md "Uplink workers"), at most
 * VNET_UPDP_MAX_WORKERS.
 */
#define VNET_UPDP_MAX_WORKERS	16
int vnet_updp_open(const char *ifname, unsigned int flags, unsigned int workers,
		   struct vnet_updp **out);
/* How many worker threads serve the uplink. */
unsigned int vnet_updp_workers(const struct vnet_updp *up);
/*
 * Per uplink queue (its AF_XDP socket; none while detached): {queue, the
 * worker that owns it, frames received, frames sent}, up to 'max'; how
 * many. Control thread (holds the workers between two rounds).
 */
unsigned int vnet_updp_queue_stats(struct vnet_updp *up, __u64 (*q)[4], unsigned int max);
/*
 * Receive drops (nl.h VNET_ATTR_UPLINK_QUEUE_DROPS, _WORKER_DROPS): per
 * uplink queue that dropped any, {queue, rx_too_long, the socket's
 * XDP_STATISTICS}, up to maxq into qd, *nqd of them; per worker
 * {worker, rx_bad_meta, rx_no_port, rx_over_mtu} into wd, how many.
 * Control thread: a getsockopt per socket, never on the packet path.
 */
#define VNET_UPDP_QDROPS	8
#define VNET_UPDP_WDROPS	4
unsigned int vnet_updp_drop_stats(struct vnet_updp *up, __u64 (*qd)[VNET_UPDP_QDROPS],
				  unsigned int maxq, unsigned int *nqd,
				  __u64 (*wd)[VNET_UPDP_WDROPS], unsigned int maxw);
void vnet_updp_close(struct vnet_updp *up);
/*
 * The uplink's netdev now (uplink watch, control thread): ifindex, or 0
 * when there is no netdev of that name. Gone: the datapath is detached,
 * the worker sleeps, the ports stay (their frames dropped). Back, or a new
 * netdev under the same name: attached again, every port in the new maps.
 * Returns 1 when it attached the datapath now, 0 when nothing changed (or
 * it detached), -errno when the new netdev refused it.
 */
int vnet_updp_set_link(struct vnet_updp *up, int ifindex);
/* XDP and AF_XDP are on the uplink now. */
bool vnet_updp_attached(const struct vnet_updp *up);
/*
 * The largest device MTU the attached datapath carries (one UMEM frame, or
 * multi-buffer up to the uplink's MTU) and why; 0 while detached.
 * Control thread.
 */
__u32 vnet_updp_mtu_max(const struct vnet_updp *up, const char **why);
/* "native dispatcher", "skb direct", ..., or "detached": mgmtdev show */
void vnet_updp_describe(const struct vnet_updp *up, char *buf, size_t len);

int vnet_updp_port_add(struct vnet_updp *up, struct vnet_netdev *dev, bool trusted,
		       bool spoofchk, struct vnet_updp_port **out);
void vnet_updp_port_del(struct vnet_updp_port *port);
/* A device that is not trusted cannot send with a foreign source MAC when
 * spoofchk is on (DESIGN "Robustness rules"). */
void vnet_updp_port_set_policy(struct vnet_updp_port *port, bool trusted, bool spoofchk);

struct vnet_updp_port_stats {
	__u64 rx_frames;	/* from the wire into receive queues */
	__u64 rx_dropped;	/* no receive queue / no buffer */
	__u64 rx_kgro;		/* ... of rx_frames: coalesced by the uplink's GRO (-K) */
	__u64 rx_kgro_parked;	/* such frames copied to a khold: frames behind waited */
	__u64 tx_wire;		/* frames sent to the wire */
	__u64 tx_local;		/* frames offered to the other devices (d2d) */
	__u64 tx_host;		/* frames handed to the host (host port) */
	__u64 tx_host_dropped;	/* ... that the host port refused */
	__u64 tx_rarp;		/* RARP announces sent for vhost-user SEND_RARP */
	__u64 tx_spoofed;	/* dropped: foreign source MAC */
	__u64 tx_dropped;	/* runt frames */
};
void vnet_updp_port_stats(struct vnet_updp_port *port, struct vnet_updp_port_stats *st);
/*
 * One device's configuration (rx_conf.h; its MAC, tables and VLAN set from
 * 'st', the extra unicast MACs after the driver's) into the maps of 'dp',
 * device slot 'slot': only what differs from what the maps hold. The
 * uplink worker pushes every port this way; exported for tests. 0, or the
 * -errno of the first update that failed (it stops there).
 */
struct vnet_dp;
struct vnet_rx_conf;
int vnet_updp_push_dev(struct vnet_dp *dp, unsigned int slot, const struct vnet_net_state *st,
		       const struct vnet_rx_conf *c, const __u8 (*extra_uc)[6],
		       unsigned int n_extra);

/* A trusted device's learned source MACs (include/vnet/mac_learn.h): up to
 * 'max' into 'macs', how many returned. Control thread. */
unsigned int vnet_updp_port_learned(struct vnet_updp_port *port, __u8 (*macs)[6],
				    unsigned int max);

#endif
