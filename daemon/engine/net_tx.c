// SPDX-License-Identifier: MIT
/*
 * virtio-net transmit (spec 5.1.6.2): pop transmit chains, read and check
 * the virtio-net header, build frames (gso.c) or hand GSO sends whole to a
 * sink (vnet_tx_gso). Anything malformed is dropped and counted; the chain
 * always goes back to the driver.
 */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include <vnet/log.h>
#include <vnet/net.h>

void vnet_netq_init(struct vnet_netq *q, __u16 index, __u64 features,
		    __u16 mtu, const struct vnet_virtq_ops *ops, void *opaque)
{
	memset(q, 0, sizeof(*q));
	vnet_virtq_init(&q->vq, index, ops, opaque);
	q->features = features;
	q->mtu = mtu ? mtu : 1500;
	/* 5.1.6.5.6.1: negotiation turns the offloads on */
	q->guest_offloads = features & VNET_GUEST_OFFLOADS;
	/* 5.1.6: the hash fields exist only with HASH_REPORT, both ways */
	q->hdr_len = (features & (1ull << VIRTIO_NET_F_HASH_REPORT)) ?
		     VNET_NET_HDR_HASH_LEN : VNET_NET_HDR_LEN;
}

static bool has(const struct vnet_netq *q, unsigned int bit)
{
	return q->features & (1ull << bit);
}

/* The header fields we use, after the negotiated-feature rules (5.1.6.2.1). */
static int tx_header(const struct vnet_netq *q, const struct vnet_chain *c,
		     struct vnet_tx_hdr *th)
{
	struct virtio_net_hdr_v1 h;

	/* the header almost always sits in the first segment: no loop */
	if (c->nr_out && c->iov[0].len >= sizeof(h))
		memcpy(&h, c->iov[0].base, sizeof(h));
	else if (vnet_iov_read(c->iov, c->nr_out, 0, &h, sizeof(h)) != sizeof(h))
		return -EINVAL;
	th->flags = h.flags;
	th->gso_type = h.gso_type;
	th->hdr_len = le16toh(h.hdr_len);
	th->gso_size = le16toh(h.gso_size);
	th->csum_start = le16toh(h.csum_start);
	th->csum_offset = le16toh(h.csum_offset);

	switch (th->gso_type & ~VIRTIO_NET_HDR_GSO_ECN) {
	case VIRTIO_NET_HDR_GSO_NONE:
		if (th->gso_type & VIRTIO_NET_HDR_GSO_ECN)
			return -EINVAL;
		return 0;
	case VIRTIO_NET_HDR_GSO_TCPV4:
		return has(q, VIRTIO_NET_F_HOST_TSO4) ? 0 : -EINVAL;
	case VIRTIO_NET_HDR_GSO_TCPV6:
		return has(q, VIRTIO_NET_F_HOST_TSO6) ? 0 : -EINVAL;
	case VIRTIO_NET_HDR_GSO_UDP_L4:
		return has(q, VIRTIO_NET_F_HOST_USO) ? 0 : -EINVAL;
	default:	/* UFO (never offered) and unknown types */
		return -EINVAL;
	}
}

/*
 * >= 0: frames produced; -ENOSPC: did not fit into 'nout' (not consumed);
 * -EAGAIN: the sink takes it once the 'pending' frames before it are out.
 */
static int tx_one(struct vnet_netq *q, const struct vnet_chain *c,
		  struct vnet_tx_buf *out, unsigned int nout,
		  const struct vnet_tx_gso *sink, unsigned int pending)
{
	struct vnet_tx_hdr th;
	__u32 len;
	int n;

	if (c->nr_in) {
		/* 2.7.4.2 / 5.1.6.2: transmit buffers are device-readable */
		q->stats.tx_drop_bad_desc++;
		return 0;
	}
	if (c->out_len < q->hdr_len + 14u || tx_header(q, c, &th)) {
		q->stats.tx_drop_malformed++;
		return 0;
	}
	len = c->out_len - q->hdr_len;
	if (sink && th.gso_type != VIRTIO_NET_HDR_GSO_NONE) {
		n = vnet_gso_whole(q, &th, c->iov, c->nr_out, q->hdr_len, len, sink,
				   pending);
		if (n < 0) {
			q->stats.tx_drop_malformed++;
			return 0;
		}
		if (n == VNET_TX_GSO_LATER)
			return -EAGAIN;
		if (n == VNET_TX_GSO_TAKEN) {
			q->stats.tx_packets++;
			q->stats.tx_bytes += len;
			q->stats.tx_gso_whole++;
			return 0;
		}
	}
	n = vnet_gso_segment(q, &th, c->iov, c->nr_out, q->hdr_len, len,
			     out, nout);
	if (n == -ENOSPC)
		return n;
	if (n == -EMSGSIZE) {
		q->stats.tx_drop_too_big++;
		return 0;
	}
	if (n < 0) {
		q->stats.tx_drop_malformed++;
		return 0;
	}
	q->stats.tx_packets++;
	q->stats.tx_bytes += len;
	q->stats.tx_frames += n;
	if (th.gso_type != VIRTIO_NET_HDR_GSO_NONE)
		q->stats.tx_gso++;
	else if (th.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM)
		q->stats.tx_csum++;
	return n;
}

/* The ring layout 'l' is a constant here (vnet_net_tx_burst_gso, virtq.h). */
static inline __attribute__((always_inline)) unsigned int
tx_burst(struct vnet_netq *q, struct vnet_tx_buf *out, unsigned int nout,
	 const struct vnet_tx_gso *sink, enum vnet_virtq_layout l)
{
	struct vnet_virtq *vq = &q->vq;
	struct vnet_chain *c = &q->chain[0];
	unsigned int used = 0, chains = 0;

	while (chains < VNET_TX_BURST && used < nout) {
		int n;

		if (vnet_vq_pop(vq, c, l) <= 0)
			break;
		n = tx_one(q, c, out + used, nout - used, sink, used);
		if (n == -EAGAIN) {
			if (vnet_vq_unpop(vq, 1, l) == 1)
				break;		/* the sink's, next burst */
			/* cannot wait: in order through out[] instead */
			n = tx_one(q, c, out + used, nout - used, NULL, used);
		}
		if (n == -ENOSPC) {
			if (used && vnet_vq_unpop(vq, 1, l) == 1)
				break;		/* next burst takes it */
			/* could never fit: more segments than buffers */
			q->stats.tx_drop_too_big++;
			n = 0;
		}
		vnet_virtq_push(vq, c->head, 0);
		used += (unsigned int)n;
		chains++;
	}
	vnet_virtq_flush(vq, chains);
	return used;
}

unsigned int vnet_net_tx_burst_gso(struct vnet_netq *q, struct vnet_tx_buf *out,
				   unsigned int nout, const struct vnet_tx_gso *sink)
{
	/* the ring layout: one decision per burst */
	if (q->vq.layout == VNET_VQ_PACKED)
		return tx_burst(q, out, nout, sink, VNET_VQ_PACKED);
	return tx_burst(q, out, nout, sink, VNET_VQ_SPLIT);
}

unsigned int vnet_net_tx_burst(struct vnet_netq *q, struct vnet_tx_buf *out,
			       unsigned int nout)
{
	return vnet_net_tx_burst_gso(q, out, nout, NULL);
}
