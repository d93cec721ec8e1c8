/* SPDX-License-Identifier: MIT */
/*
 * virtio-net datapath on top of the ring engine (virtq.h): receive (frames
 * into the guest's receiveq) and transmit (guest's transmitq into frames,
 * with checksum completion and GSO in software). Spec: virtio-network.tex,
 * "Device Operation".
 *
 *   struct vnet_netq q;
 *   vnet_netq_init(&q, index, features, mtu, &ops, opaque);
 *   vnet_virtq_setup_split(&q.vq, mem, &cfg);
 *   receiveq:  vnet_net_rx_burst(&q, pkts, n)       (frames from the uplink)
 *   transmitq: vnet_net_tx_burst(&q, bufs, nbufs)   (on a kick, until 0)
 *
 * Each burst publishes the used ring once and notifies at most once.
 */
#ifndef VNET_NET_H
#define VNET_NET_H

#include <linux/types.h>
#include <linux/virtio_net.h>

#include <vnet/gro.h>
#include <vnet/virtq.h>

/* Newer than some installed UAPI headers (Linux 6.2+). */
#ifndef VIRTIO_NET_F_HOST_USO
#define VIRTIO_NET_F_HOST_USO		56
#endif
#ifndef VIRTIO_NET_F_GUEST_USO4
#define VIRTIO_NET_F_GUEST_USO4		54
#define VIRTIO_NET_F_GUEST_USO6		55
#endif
#ifndef VIRTIO_NET_F_GUEST_HDRLEN
#define VIRTIO_NET_F_GUEST_HDRLEN	59
#endif
#ifndef VIRTIO_NET_HDR_GSO_UDP_L4
#define VIRTIO_NET_HDR_GSO_UDP_L4	5
#endif

/* spec 5.1.6.5.6.1: the offloads a driver may switch at run time */
#define VNET_GUEST_OFFLOADS	((1ull << VIRTIO_NET_F_GUEST_CSUM) |	\
				 (1ull << VIRTIO_NET_F_GUEST_TSO4) |	\
				 (1ull << VIRTIO_NET_F_GUEST_TSO6) |	\
				 (1ull << VIRTIO_NET_F_GUEST_ECN) |	\
				 (1ull << VIRTIO_NET_F_GUEST_UFO) |	\
				 (1ull << VIRTIO_NET_F_GUEST_USO4) |	\
				 (1ull << VIRTIO_NET_F_GUEST_USO6))

#define VNET_NET_HDR_LEN	12	/* struct virtio_net_hdr_v1 */
#define VNET_NET_HDR_HASH_LEN	20	/* struct virtio_net_hdr_v1_hash */
#define VNET_RX_MAX_BUFS	256	/* MRG_RXBUF buffers for one frame */
#define VNET_RX_MAX_FRAME	65535	/* largest frame we place */
#define VNET_TX_BURST		64	/* chains per tx burst */

struct vnet_net_stats {
	__u64 rx_packets, rx_bytes;
	__u64 rx_drop_too_big;	/* larger than the buffers could take */
	__u64 rx_drop_no_buf;	/* receiveq empty (or broken) */
	__u64 rx_bad_buf;	/* buffer without room for the header */
	__u64 rx_gro_frames;	/* coalesced frames delivered (gro.h) */
	__u64 rx_gro_segs;	/* the segments they carried */
	__u64 rx_csum_bad;	/* TCP/IPv4 checksum wrong: not coalesced */
	__u64 rx_gro_bad;	/* TCP cut, padded or with IP options: not coalesced */
	__u64 rx_kgro_frames;	/* frames with the kernel's header (VNET_RX_F_VHDR) */
	__u64 rx_kgro_gso;	/* ... of them GSO frames */
	__u64 rx_kgro_bad;	/* ... refused: offloads off, or a bad header */
	__u64 tx_packets, tx_bytes;	/* guest frames accepted */
	__u64 tx_frames;	/* frames out (after GSO) */
	__u64 tx_csum;		/* NEEDS_CSUM completed */
	__u64 tx_gso;		/* GSO sends segmented */
	__u64 tx_gso_whole;	/* GSO sends a sink took whole (vnet_tx_gso) */
	__u64 tx_drop_malformed;	/* bad virtio-net header / headers */
	__u64 tx_drop_bad_desc;	/* device-writable buffers on a transmitq */
	__u64 tx_drop_too_big;	/* a frame larger than an output buffer */
};

/* A frame for the guest, with the datapath's metadata. */
struct vnet_rx_pkt {
	const __u8 *data;
	__u32 len;
	__u32 hash_value;	/* used when HASH_REPORT is negotiated */
	__u16 hash_report;	/* VIRTIO_NET_HASH_REPORT_* */
	__u16 flags;		/* VNET_RX_F_* */
};
#define VNET_RX_F_CSUM_VALID	1	/* checksum verified: DATA_VALID */
/*
 * The 10 bytes before data are the kernel's struct virtio_net_hdr for the
 * frame (a packet socket's PACKET_VNET_HDR, little endian): a frame the
 * kernel's GRO coalesced, delivered as it says if the guest's offloads take
 * it (GSO type, checksum flags), refused and counted (rx_kgro_bad) if not.
 * Never coalesced again.
 */
#define VNET_RX_F_VHDR		2

/* An output buffer for transmit (e.g. an AF_XDP UMEM frame). */
struct vnet_tx_buf {
	__u8 *data;
	__u32 cap;
	__u32 len;	/* set by the engine */
};

struct vnet_netq {
	struct vnet_virtq vq;
	__u64 features;		/* negotiated */
	__u16 mtu;		/* IP MTU of GSO segments */
	__u16 hdr_len;		/* 12, or 20 with HASH_REPORT */
	__u64 guest_offloads;	/* GUEST_* offloads on now (5.1.6.5.6.1) */
	struct vnet_net_stats stats;
	struct vnet_chain chain[2];	/* scratch: first and current chain */
	struct vnet_used_elem rx_bufs[VNET_RX_MAX_BUFS];
	struct vnet_gro gro;	/* receive coalescing, per burst */
};

void vnet_netq_init(struct vnet_netq *q, __u16 index, __u64 features,
		    __u16 mtu, const struct vnet_virtq_ops *ops, void *opaque);

/*
 * The guest's offloads (CTRL_GUEST_OFFLOADS_SET, spec 5.1.6.5.6.1): a
 * bitmask of VIRTIO_NET_F_GUEST_* bits, limited to the negotiated ones.
 * After init every negotiated one is on. GUEST_CSUM allows DATA_VALID and
 * NEEDS_CSUM on receive; with it, GUEST_TSO4/TSO6 turn on coalescing of
 * IPv4/IPv6 TCP (gro.h) and GUEST_ECN lets runs start with CWR.
 */
void vnet_netq_set_guest_offloads(struct vnet_netq *q, __u64 offloads);

/*
 * Place up to n frames into the receiveq. Returns how many were delivered
 * (a coalesced frame counts the frames it carries); every other frame was
 * dropped and counted (too big for the buffers, or no buffers). The caller
 * owns pkts[].data again when this returns.
 */
unsigned int vnet_net_rx_burst(struct vnet_netq *q,
			       const struct vnet_rx_pkt *pkts, unsigned int n);

/*
 * vnet_net_rx_burst, but a frame the receiveq had no buffer for is not
 * dropped: bit i of *nobuf set says pkts[i] is still the caller's, to
 * deliver later or drop (vnet_net_rx_dropped counts it). Within a flow
 * (coalescing keeps each flow's order) those are always its last frames
 * of the burst, so delivering them before anything newer keeps every flow
 * in order. n at most VNET_RX_HOLD_MAX (more: dropped as by
 * vnet_net_rx_burst, *nobuf 0).
 */
#define VNET_RX_HOLD_MAX	64
unsigned int vnet_net_rx_burst_hold(struct vnet_netq *q, const struct vnet_rx_pkt *pkts,
				    unsigned int n, __u64 *nobuf);
void vnet_net_rx_dropped(struct vnet_netq *q, unsigned int n);

/*
 * Pop up to VNET_TX_BURST transmit chains and turn them into frames in
 * out[0 .. return). A chain is popped only if all its segments fit into the
 * remaining buffers (it stays in the ring otherwise: call again); one that
 * could never fit (more segments than nout) is dropped and counted. Call
 * with nout >= 64 so a 64 KiB send at MTU 1500 fits.
 */
unsigned int vnet_net_tx_burst(struct vnet_netq *q, struct vnet_tx_buf *out,
			       unsigned int nout);

/* Software GSO / checksum of one frame (gso.c); used by tx and tests. */
struct vnet_tx_hdr {
	__u8 flags, gso_type;
	__u16 hdr_len, gso_size, csum_start, csum_offset;
};

/*
 * A GSO send handed on whole to a sink that segments it later (the
 * uplink's packet socket with PACKET_VNET_HDR: the kernel, or the NIC's
 * TSO). The engine checked it as for software segmentation first. The
 * headers are the engine's copy: the sink sends those, never the guest's
 * bytes again, so the driver cannot change what the checks (the engine's,
 * the sink's spoof check) saw. The payload is still in the chain, which
 * goes back to the driver when xmit returns.
 */
struct vnet_tx_gso_frame {
	struct vnet_tx_hdr hdr;	/* hdr_len exact; gso_size <= an MTU segment's */
	__u16 l3off;		/* 14, or more behind VLAN tags */
	const __u8 *hdrs;	/* Ethernet .. L4 header: hdr.hdr_len bytes */
	const struct vnet_iov *iov;
	unsigned int niov;
	__u32 payload_off, payload_len;	/* the rest of the frame, in iov */
	unsigned int pending;	/* frames of this burst already in out[] */
};

enum vnet_tx_gso_verdict {
	VNET_TX_GSO_SOFTWARE = 0,	/* not for the sink: segment it here */
	VNET_TX_GSO_TAKEN,		/* sent, or dropped and counted by the sink */
	/*
	 * The sink would send it, but the frames already in out[] must
	 * leave first (the same flow's order): the burst ends before the
	 * send, which stays in the ring for the next burst.
	 */
	VNET_TX_GSO_LATER,
};

struct vnet_tx_gso {
	int (*xmit)(void *ctx, const struct vnet_tx_gso_frame *f);	/* a verdict */
	void *ctx;
};

/*
 * vnet_net_tx_burst, with GSO sends offered whole to 'sink' first (NULL:
 * none). Frames a sink took are not in out[]; q->stats.tx_gso_whole
 * counts them.
 */
unsigned int vnet_net_tx_burst_gso(struct vnet_netq *q, struct vnet_tx_buf *out,
				   unsigned int nout, const struct vnet_tx_gso *sink);

/* The sink's verdict on a checked send, or -errno: malformed (gso.c) */
int vnet_gso_whole(const struct vnet_netq *q, const struct vnet_tx_hdr *h,
		   const struct vnet_iov *iov, unsigned int niov, __u32 off,
		   __u32 len, const struct vnet_tx_gso *sink, unsigned int pending);
int vnet_gso_segment(const struct vnet_netq *q, const struct vnet_tx_hdr *h,
		     const struct vnet_iov *iov, unsigned int niov, __u32 off,
		     __u32 len, struct vnet_tx_buf *out, unsigned int nout);

#endif
