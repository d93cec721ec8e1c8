/* SPDX-License-Identifier: MIT */
/*
 * What a device's receive decision (include/vnet/rx_filter.h) is made of,
 * derived once from the device model's state (daemon/device/rx_conf.c):
 * its rx-mode switches, whether its VLAN filter applies, and what its
 * driver asked for steering. Every datapath takes it from here: the uplink
 * worker pushes it into the XDP maps (whose shadow the C reference reads),
 * vnet/sim fills its one device with it.
 *
 * A front-end that keeps the control queue itself (QEMU, DPDK's
 * virtio-user: no VIRTIO_NET_F_CTRL_VQ reaches the device) never tells the
 * device its filter; the device then steers by flow over the receive
 * queues the driver enabled, and what it receives is the datapath's
 * choice (enum vnet_rx_unfiltered): the spec leaves the device free when
 * CTRL_RX is not negotiated.
 */
#ifndef VNET_RX_CONF_H
#define VNET_RX_CONF_H

#include <stdbool.h>
#include <linux/types.h>

#include "vnet/cvq.h"
#include "vnet/rx_filter.h"

/* What a device whose driver cannot set an rx mode (no CTRL_RX) receives. */
enum vnet_rx_unfiltered {
	/*
	 * Its MAC, broadcast and all multicast, like the Linux driver
	 * expects: a device on an uplink, whose wire carries other
	 * stations' unicast (docs/ARCHITECTURE.md "Filter policy").
	 */
	VNET_RX_UNFILTERED_OWN = 0,
	/*
	 * Everything (PROMISC): vnet/sim's loopback, where every frame the
	 * driver sends is meant to come back (testpmd's macswap starts with
	 * a burst to a peer's MAC).
	 */
	VNET_RX_UNFILTERED_ALL,
};

struct vnet_rx_conf {
	__u8 mode[VNET_RX_MODE_MAX + 1];	/* enum vnet_rx_mode_cmd: 0 or 1 */
	bool vlan_filter;			/* spec "VLAN Filtering" applies */
	/* its receive queues take whatever GSO TCP frame the kernel's GRO
	 * makes: GUEST_CSUM, GUEST_TSO4, GUEST_TSO6 and GUEST_ECN (a run with
	 * CWR is an ECN frame) on (5.1.6.5.6.1), MRG_RXBUF (VNET_DP_CFG_KGRO) */
	bool gso_rx;
	struct vnet_rx_steer_req steer;
};

/*
 * The configuration of a device with control-queue state 'st', negotiated
 * features 'driver', 'active_rx' receive queues set up (counted from
 * receiveq1) and 'max_vqp' pairs.
 */
void vnet_rx_conf_of(const struct vnet_net_state *st, __u64 driver, unsigned int active_rx,
		     __u16 max_vqp, enum vnet_rx_unfiltered unfiltered, struct vnet_rx_conf *c);

/*
 * The device as the decision reads it: slot d's bits of 'f' (active, the
 * modes, the VLAN filter) and *dev (MAC, tables, VLAN set, live steering
 * with its Toeplitz table), for a datapath that holds its devices itself
 * (vnet/sim). The uplink's are built by the maps API from the same
 * configuration (datapath.c, through uplink_push.c).
 */
void vnet_rx_conf_fill(const struct vnet_net_state *st, const struct vnet_rx_conf *c,
		       __u16 max_vqp, struct vnet_dp_filter *f, unsigned int d,
		       struct vnet_rx_dev *dev);

/* The control-queue state's VLAN set as the decision's 64-bit words. */
static inline __u64 vnet_rx_conf_vlan_word(const struct vnet_net_state *st, unsigned int w)
{
	return (__u64)st->vlans[2 * w] | (__u64)st->vlans[2 * w + 1] << 32;
}

#endif
