// SPDX-License-Identifier: MIT
/*
 * A guest's GSO sends (HOST_TSO4/TSO6/USO) leave the uplink whole: an
 * AF_PACKET socket with PACKET_VNET_HDR hands the frame and its virtio-net
 * header to the kernel, which segments it in software GSO only if the
 * netdev cannot (a NIC with TSO, or a veth, takes it whole). AF_XDP has no
 * offloads: there a 64 KiB send is 45 frames the engine cuts, checksums and
 * copies, and the kernel builds an skb for each (copy mode). Here it is one
 * sendmsg and one skb. Not PACKET_QDISC_BYPASS: its __dev_direct_xmit
 * drops every skb that validate_xmit_skb changed, so a send the netdev
 * cannot segment itself (TSO off, UDP on most NICs) would always be
 * refused (ENOBUFS); through the qdisc the kernel segments it in software
 * GSO. Small frames stay on AF_XDP (batched, one kick per 32);
 * docs/ARCHITECTURE.md "Uplink datapath wiring" says why and how fast.
 *
 * Which sends come here and the checks they pass first (spoof check,
 * routing) are uplink_tx.c's; the engine checked the header (gso.c) and
 * hands its own copy of the frame's headers, which is what we send.
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>

#include "uplink_int.h"
#include "vnet/log.h"

#define GSO_SNDBUF	(4u << 20)	/* 64 x 64 KiB sends in flight */

struct up_gso {
	int fd;
	struct virtio_net_hdr vh;	/* the kernel's is the legacy 10 bytes */
	struct iovec iov[2 + VNET_CHAIN_MAX_IOV];
	__u64 sent, bytes, refused;
	int last_err;			/* logged once per new errno */
};

static int gso_open_one(struct vnet_updp *up, struct up_gso **out)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_ifindex = up->ifindex,
	};
	int one = 1, sndbuf = GSO_SNDBUF;
	struct up_gso *g;
	int err;

	g = calloc(1, sizeof(*g));
	if (!g)
		return -ENOMEM;
	/* protocol 0: the socket only sends, it never queues a reception */
	g->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (g->fd < 0) {
		err = -errno;
		goto err_free;
	}
	if (setsockopt(g->fd, SOL_PACKET, PACKET_VNET_HDR, &one, sizeof(one)) ||
	    bind(g->fd, (struct sockaddr *)&sll, sizeof(sll))) {
		err = -errno;
		goto err_close;
	}
	/* best effort: the default (~200 KiB) holds three sends in flight */
	if (setsockopt(g->fd, SOL_SOCKET, SO_SNDBUFFORCE, &sndbuf, sizeof(sndbuf)))
		setsockopt(g->fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	*out = g;
	return 0;

err_close:
	close(g->fd);
err_free:
	free(g);
	return err;
}

/* One socket per worker, as its AF_XDP sockets: nothing shared on a send. */
int updp_gso_open(struct vnet_updp *up)
{
	int err = 0;

	for (unsigned int i = 0; !err && i < up->nwk; i++)
		err = gso_open_one(up, &up->wk[i]->gso);
	if (err)
		updp_gso_close(up);
	return err;
}

void updp_gso_close(struct vnet_updp *up)
{
	__u64 sent = 0, bytes = 0, refused = 0;
	bool any = false;

	for (unsigned int i = 0; i < up->nwk; i++) {
		struct up_gso *g = up->wk[i]->gso;

		if (!g)
			continue;
		any = true;
		sent += g->sent;
		bytes += g->bytes;
		refused += g->refused;
		close(g->fd);
		free(g);
		up->wk[i]->gso = NULL;
	}
	if (any)
		pr_info("%s: GSO sends to the kernel whole: %llu (%llu bytes), %llu refused "
			"(segmented in software instead)\n", up->ifname,
			(unsigned long long)sent, (unsigned long long)bytes,
			(unsigned long long)refused);
}

/*
 * The virtio-net header the kernel parses (virtio_net_hdr_to_skb), little
 * endian as for a VERSION_1 device: from the engine's checked fields, so
 * hdr_len is exact and gso_size an MTU segment's at most.
 */
static void gso_vnet_hdr(struct virtio_net_hdr *vh, const struct vnet_tx_hdr *h)
{
	vh->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
	vh->gso_type = h->gso_type;
	vh->hdr_len = htole16(h->hdr_len);
	vh->gso_size = htole16(h->gso_size);
	vh->csum_start = htole16(h->csum_start);
	vh->csum_offset = htole16(h->csum_offset);
}

/* The payload's part of f->iov, from payload_off on, into g->iov[2..]. */
static unsigned int gso_payload_iov(struct up_gso *g, const struct vnet_tx_gso_frame *f)
{
	__u32 skip = f->payload_off, left = f->payload_len;
	unsigned int i, n = 2;

	for (i = 0; i < f->niov && left; i++) {
		__u32 l = f->iov[i].len;

		if (skip >= l) {
			skip -= l;
			continue;
		}
		l -= skip;
		if (l > left)
			l = left;
		g->iov[n].iov_base = f->iov[i].base + skip;
		g->iov[n].iov_len = l;
		n++;
		left -= l;
		skip = 0;
	}
	return n;
}

bool updp_gso_send(struct up_wk *wk, const struct vnet_tx_gso_frame *f)
{
	struct up_gso *g = wk->gso;
	struct msghdr msg = { .msg_iov = g->iov };
	size_t want = sizeof(g->vh) + f->hdr.hdr_len + f->payload_len;
	ssize_t n;

	gso_vnet_hdr(&g->vh, &f->hdr);
	g->iov[0] = (struct iovec){ .iov_base = &g->vh, .iov_len = sizeof(g->vh) };
	g->iov[1] = (struct iovec){ .iov_base = (void *)f->hdrs, .iov_len = f->hdr.hdr_len };
	msg.msg_iovlen = gso_payload_iov(g, f);
	/* never wait: a full socket buffer means the software path this once */
	n = sendmsg(g->fd, &msg, MSG_DONTWAIT);
	if (n == (ssize_t)want) {
		g->sent++;
		g->bytes += f->hdr.hdr_len + f->payload_len;
		return true;
	}
	g->refused++;
	n = n < 0 ? -errno : -EIO;
	if (n != g->last_err && n != -EAGAIN && n != -ENOBUFS) {
		pr_warn("%s: the kernel refused a GSO send (%s): segmented in software\n",
			wk->up->ifname, strerror((int)-n));
		g->last_err = (int)n;
	}
	return false;
}
