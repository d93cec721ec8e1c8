/* SPDX-License-Identifier: MIT */
/* What the virtqueue fuzzers (fuzz_virtq, fuzz_virtq_packed) share. */
#ifndef VNET_FUZZ_NET_H
#define VNET_FUZZ_NET_H

#include <vnet/net.h>

int LLVMFuzzerTestOneInput(const __u8 *data, size_t size);

/* transmit output buffers (fuzz_net_init), a receive frame */
static __u8 outmem[64][2048];
static struct vnet_tx_buf out[64];
static __u8 rxframe[9000];

static inline void fuzz_net_init(void)
{
	for (int i = 0; i < 64; i++)
		out[i] = (struct vnet_tx_buf){ outmem[i], sizeof(outmem[i]), 0 };
}

/*
 * Negotiated features from one input byte: bit 0 INDIRECT_DESC, 1
 * EVENT_IDX, 2 HOST_TSO4/6, HOST_USO and CSUM, 3 MRG_RXBUF, 4 HASH_REPORT,
 * 5 GUEST_HDRLEN (split) or IN_ORDER (packed, 'b5').
 */
static inline __u64 fuzz_net_features(__u8 b, unsigned int b5)
{
	__u64 f = 1ull << VIRTIO_F_VERSION_1;

	if (b & 1)
		f |= 1ull << VIRTIO_RING_F_INDIRECT_DESC;
	if (b & 2)
		f |= 1ull << VIRTIO_RING_F_EVENT_IDX;
	if (b & 4)
		f |= (1ull << VIRTIO_NET_F_HOST_TSO4) | (1ull << VIRTIO_NET_F_HOST_TSO6) |
		     (1ull << VIRTIO_NET_F_HOST_USO) | (1ull << VIRTIO_NET_F_CSUM);
	if (b & 8)
		f |= 1ull << VIRTIO_NET_F_MRG_RXBUF;
	if (b & 16)
		f |= 1ull << VIRTIO_NET_F_HASH_REPORT;
	if (b & 32)
		f |= 1ull << b5;
	return f;
}

#endif
