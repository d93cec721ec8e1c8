/* SPDX-License-Identifier: MIT */
/*
 * The vnet/sim device's queue worker: one thread that runs every virtqueue
 * of a struct vnet_netdev (any transport), like the kernel's vdpa_sim_net.
 *
 *  - transmitq chains become frames (ring engine, net_tx.c);
 *  - in LOOPBACK mode each frame comes back to the device's own receive
 *    side through the one receive decision (rx_filter.h, configured from
 *    the control-queue state by rx_conf.h): rx filters (mode, MAC table,
 *    VLAN), queue choice (RSS indirection / automatic steering), hash
 *    report, exactly as an uplink would decide for the device alone;
 *    in SINK mode frames are counted and dropped;
 *  - with 'gen' the worker also generates 64 B UDP frames (64 flows) into
 *    every active receiveq as fast as the driver posts buffers;
 *  - the control queue (ring 2N, when the front-end passes it) is served
 *    through vnet_netdev_cvq_command().
 *
 * The thread sleeps on the kick eventfds (idle: no CPU) and polls while
 * there is work.
 */
#ifndef VNET_SIM_H
#define VNET_SIM_H

#include <stdbool.h>
#include <linux/types.h>

#include "vnet/device.h"

enum vnet_sim_mode { VNET_SIM_LOOPBACK = 0, VNET_SIM_SINK };

struct vnet_sim_opts {
	enum vnet_sim_mode mode;
	bool gen;		/* generate receive traffic */
	int cpu;		/* pin the worker; -1: no pinning */
};

struct vnet_sim_stats {
	__u64 tx_frames;	/* frames the driver transmitted */
	__u64 rx_frames;	/* frames placed into receive queues */
	__u64 rx_dropped;	/* no buffer / too big */
	__u64 filtered;		/* dropped by the rx filter */
	__u64 gen_frames;	/* generated frames delivered */
	__u64 cvq_ok, cvq_err;	/* control commands */
	__u64 hash_reported;	/* frames with a hash report != NONE */
	__u64 sleeps;		/* times the worker slept on the kick eventfds */
};

struct vnet_sim;

int vnet_sim_start(struct vnet_netdev *dev, const struct vnet_sim_opts *opts,
		   struct vnet_sim **out);
void vnet_sim_stop(struct vnet_sim *sim);
void vnet_sim_get_stats(struct vnet_sim *sim, struct vnet_sim_stats *st);

#endif
