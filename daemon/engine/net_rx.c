// SPDX-License-Identifier: MIT
/*
 * virtio-net receive (spec 5.1.6.3 "Setting Up Receive Buffers", 5.1.6.4
 * "Processing of Incoming Packets"): copy frames into the guest's buffers
 * behind a virtio_net_hdr_v1 (or _v1_hash), merging buffers with MRG_RXBUF.
 */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include <vnet/log.h>
#include <vnet/net.h>

static void rx_header(const struct vnet_netq *q, const struct vnet_rx_pkt *p,
		      __u16 num_buffers, struct virtio_net_hdr_v1_hash *h)
{
	memset(h, 0, sizeof(*h));
	/* 5.1.6.4.1: flags stay 0 unless GUEST_CSUM was negotiated */
	if ((q->features & (1ull << VIRTIO_NET_F_GUEST_CSUM)) &&
	    (p->flags & VNET_RX_F_CSUM_VALID))
		h->hdr.flags = VIRTIO_NET_HDR_F_DATA_VALID;
	h->hdr.gso_type = VIRTIO_NET_HDR_GSO_NONE;
	h->hdr.num_buffers = htole16(num_buffers);
	if (q->hdr_len == VNET_NET_HDR_HASH_LEN) {
		h->hash_value = htole32(p->hash_value);
		h->hash_report = htole16(p->hash_report);
	}
}

static inline struct vnet_iov *in_iov(struct vnet_chain *c)
{
	return c->iov + c->nr_out;
}

/* Give back the chains of a frame we could not place. */
static void rx_rewind(struct vnet_netq *q, unsigned int nbufs)
{
	__u16 back = vnet_virtq_unpop(&q->vq, (__u16)nbufs);

	/* chains before a malformed one cannot be re-popped: return them */
	for (unsigned int i = 0; i < nbufs - back; i++)
		vnet_virtq_push(&q->vq, (__u16)q->rx_bufs[i].id, 0);
}

/*
 * Place one frame. Returns 1 if delivered, 0 if dropped as too big, -ENOBUFS
 * when the receiveq ran out of buffers (or broke).
 */
static int rx_one(struct vnet_netq *q, const struct vnet_rx_pkt *p, bool mrg)
{
	struct virtio_net_hdr_v1_hash hdr;
	struct vnet_chain *first = &q->chain[0];
	__u32 hlen = q->hdr_len, done = 0;
	unsigned int nbufs = 0;

	while (nbufs == 0 || done < p->len) {
		struct vnet_chain *c = nbufs ? &q->chain[1] : first;
		__u32 at = nbufs ? 0 : hlen, room, k;

		if (vnet_virtq_pop(&q->vq, c) <= 0) {
			rx_rewind(q, nbufs);
			return -ENOBUFS;
		}
		if (c->in_len < at || c->in_len == 0) {
			/* no room for the header: useless, give it back */
			q->stats.rx_bad_buf++;
			vnet_virtq_discard(&q->vq, c->head);
			continue;
		}
		room = c->in_len - at;
		if (!mrg && room < p->len) {
			/* 5.1.6.3.1: one buffer only; never truncate */
			if (!vnet_virtq_unpop(&q->vq, 1))
				vnet_virtq_discard(&q->vq, c->head);
			return 0;
		}
		k = room < p->len - done ? room : p->len - done;
		vnet_iov_write(&q->vq, in_iov(c), c->nr_in, at, p->data + done, k);
		q->rx_bufs[nbufs].id = c->head;
		q->rx_bufs[nbufs].len = at + k;	/* full, but for the last */
		nbufs++;
		done += k;
		if (done < p->len && nbufs == VNET_RX_MAX_BUFS) {
			rx_rewind(q, nbufs);
			return 0;
		}
	}

	/* 5.1.6.4.1: num_buffers = buffers the frame is spread over */
	rx_header(q, p, (__u16)nbufs, &hdr);
	vnet_iov_write(&q->vq, in_iov(first), first->nr_in, 0, &hdr, hlen);
	/* all buffers of a frame become visible together (5.1.6.4.1) */
	if (vnet_virtq_shadow_room(&q->vq) < nbufs)
		vnet_virtq_publish(&q->vq);
	for (unsigned int i = 0; i < nbufs; i++)
		vnet_virtq_push(&q->vq, (__u16)q->rx_bufs[i].id,
				q->rx_bufs[i].len);
	return 1;
}

unsigned int vnet_net_rx_burst(struct vnet_netq *q,
			       const struct vnet_rx_pkt *pkts, unsigned int n)
{
	bool mrg = q->features & (1ull << VIRTIO_NET_F_MRG_RXBUF);
	unsigned int i, delivered = 0;

	if (q->vq.layout != VNET_VQ_SPLIT)
		return 0;
	for (i = 0; i < n; i++) {
		int r;

		if (pkts[i].len > VNET_RX_MAX_FRAME) {
			q->stats.rx_drop_too_big++;
			continue;
		}
		r = rx_one(q, &pkts[i], mrg);
		if (r < 0)
			break;
		if (!r) {
			q->stats.rx_drop_too_big++;
			continue;
		}
		delivered++;
		q->stats.rx_packets++;
		q->stats.rx_bytes += pkts[i].len;
	}
	q->stats.rx_drop_no_buf += n - i;
	vnet_virtq_flush(&q->vq, delivered);
	return delivered;
}
