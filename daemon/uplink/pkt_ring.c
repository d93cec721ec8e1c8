// SPDX-License-Identifier: MIT
/*
 * The packet-socket ring the uplink's packet readers share (pkt_ring.h).
 * The order matters: protocol 0 at socket() so that nothing is queued
 * before the filter is attached (bind() sets ETH_P_ALL last);
 * PACKET_VNET_HDR, PACKET_VERSION and PACKET_RESERVE before the ring (the
 * kernel refuses them with EBUSY after).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>

#include "pkt_ring.h"

#ifndef PACKET_IGNORE_OUTGOING
#define PACKET_IGNORE_OUTGOING	23	/* Linux 4.20 */
#endif

static int sockopt_int(int fd, int name, int val)
{
	return setsockopt(fd, SOL_PACKET, name, &val, sizeof(val)) ? -errno : 0;
}

static int configure(int fd, const struct pkt_ring_cfg *c)
{
	if (setsockopt(fd, SOL_SOCKET, SO_ATTACH_FILTER, c->filter, sizeof(*c->filter)))
		return -errno;
	/* our own AF_XDP and packet-socket transmissions are not receptions */
	return sockopt_int(fd, PACKET_IGNORE_OUTGOING, 1) ?:
	       (c->vnet_hdr ? sockopt_int(fd, PACKET_VNET_HDR, 1) : 0) ?:
	       sockopt_int(fd, PACKET_VERSION, c->version) ?:
	       (c->reserve ? sockopt_int(fd, PACKET_RESERVE, c->reserve) : 0) ?:
	       (setsockopt(fd, SOL_PACKET, PACKET_RX_RING, c->req, c->req_len) ? -errno : 0);
}

int pkt_ring_open(const struct pkt_ring_cfg *c, int *fd, void **map)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_ALL),
		.sll_ifindex = c->ifindex,
	};
	void *m = MAP_FAILED;
	int s, err;

	if (c->ifindex <= 0 || !c->filter || !c->req || !c->map_len)
		return -EINVAL;
	s = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (s < 0)
		return -errno;
	err = configure(s, c);
	if (err)
		goto err_close;
	if (c->try_locked)
		m = mmap(NULL, c->map_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_LOCKED, s, 0);
	if (m == MAP_FAILED)
		m = mmap(NULL, c->map_len, PROT_READ | PROT_WRITE, MAP_SHARED, s, 0);
	if (m == MAP_FAILED) {
		err = -errno;
		goto err_close;
	}
	if (bind(s, (struct sockaddr *)&sll, sizeof(sll))) {
		err = -errno;
		goto err_unmap;
	}
	*fd = s;
	*map = m;
	return 0;

err_unmap:
	munmap(m, c->map_len);
err_close:
	close(s);
	return err;
}
