/* SPDX-License-Identifier: MIT */
/*
 * An AF_PACKET socket with an mmap'ed rx ring on an uplink, as the
 * group-frame copier (uplink_pkt.c, TPACKET_V3) and the kernel-GRO reader
 * (uplink_kgro.c, TPACKET_V2) both open one. Private to daemon/uplink/.
 */
#ifndef VNET_UPLINK_PKT_RING_H
#define VNET_UPLINK_PKT_RING_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/filter.h>

struct pkt_ring_cfg {
	int ifindex;
	const struct sock_fprog *filter;	/* attached before bind() */
	int version;				/* TPACKET_V2 or TPACKET_V3 */
	const void *req;			/* struct tpacket_req or _req3 */
	size_t req_len;
	size_t map_len;				/* the ring's bytes */
	int reserve;				/* PACKET_RESERVE; 0: none */
	bool vnet_hdr;				/* PACKET_VNET_HDR */
	bool try_locked;			/* MAP_LOCKED first, plain if refused */
};

/*
 * Opens, configures, maps and binds the socket (non-blocking, CLOEXEC,
 * outgoing frames ignored): 0 with *fd and *map set, or -errno with
 * nothing left open and *fd, *map untouched.
 */
int pkt_ring_open(const struct pkt_ring_cfg *c, int *fd, void **map);

#endif
