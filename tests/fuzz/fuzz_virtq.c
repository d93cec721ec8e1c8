// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: a hostile driver. The input becomes a descriptor table,
 * avail ring entries and guest memory contents (virtio-net headers and
 * frames); the engine walks the chains on a transmit and a receive queue,
 * the transmit queue with or without a sink for whole GSO sends.
 * ASan catches any access outside the guest memory mapping.
 *
 * Input: [0] feature bits (64: a GSO sink, 128: it says LATER), [1] avail count, [2..2+32) avail heads,
 *        then 16 descriptors of 12 bytes (addr32, len16, flags8, next8,
 *        4 spare), then guest data copied to the start of the heap.
 */
#include <endian.h>
#include <string.h>

#include <vnet/net.h>

#include "fuzz_net.h"
#include "vdriver.h"

#define QSIZE		16
#define DATA_MAX	8192

static struct vdriver drv;
static struct vnet_netq txq, rxq;

/*
 * A sink for whole GSO sends that reads all it is given, as the uplink's
 * sendmsg would (ASan: every byte inside the chain): the header copy and
 * the payload walked from payload_off. LATER while frames are pending,
 * when the input says so.
 */
static int sink_later;
static volatile __u8 sink_sum;

static int sink_xmit(void *ctx, const struct vnet_tx_gso_frame *f)
{
	__u32 skip = f->payload_off, left = f->payload_len;
	__u8 x = 0;

	(void)ctx;
	if (sink_later && f->pending)
		return VNET_TX_GSO_LATER;
	for (__u32 i = 0; i < f->hdr.hdr_len; i++)
		x ^= f->hdrs[i];
	for (unsigned int i = 0; i < f->niov && left; i++) {
		__u32 l = f->iov[i].len;

		if (skip >= l) {
			skip -= l;
			continue;
		}
		for (__u32 k = skip; k < l && left; k++, left--)
			x ^= f->iov[i].base[k];
		skip = 0;
	}
	sink_sum = x;
	return left ? VNET_TX_GSO_SOFTWARE : VNET_TX_GSO_TAKEN;
}

static const struct vnet_tx_gso sink = { .xmit = sink_xmit };

static void fill_ring(const __u8 *data, size_t size, __u64 heap)
{
	const __u8 *d = data + 2 + 32;

	memset(drv.desc, 0, 16 * QSIZE);
	for (int i = 0; i < QSIZE; i++, d += 12) {
		__u32 a = (__u32)(d[0] | d[1] << 8 | d[2] << 16 | d[3] << 24);
		__u64 addr;

		/* mostly inside the heap, sometimes anywhere */
		if (d[7] & 0x80)
			addr = a | (__u64)d[8] << 32;
		else
			addr = heap + (a % (DATA_MAX + 64));
		drv.desc[i].addr = htole64(addr);
		drv.desc[i].len = htole32((__u32)(d[4] | d[5] << 8) |
					  (d[7] & 0x40 ? 0xfff00000u : 0));
		drv.desc[i].flags = htole16(d[6] & 7);
		drv.desc[i].next = htole16(d[7] & 0x1f);
	}
	if (size > 2 + 32 + 12 * QSIZE) {
		size_t n = size - (2 + 32 + 12 * QSIZE);

		memcpy(vdriver_hva(&drv, heap), d, n < DATA_MAX ? n : DATA_MAX);
	}
}

static void publish(const __u8 *data)
{
	int n = data[1] % (QSIZE + 4);	/* sometimes more than the queue */

	for (int i = 0; i < n; i++)
		drv.avail->ring[drv.avail_idx++ & (QSIZE - 1)] =
			htole16(data[2 + i] % (QSIZE + 1));
	vdriver_publish(&drv);
}

static void queue_setup(struct vnet_netq *q, __u64 features)
{
	struct vnet_virtq_cfg cfg;

	vnet_netq_init(q, 0, features, 1500, NULL, NULL);
	memset(drv.avail, 0, 6 + 2 * QSIZE);
	memset(drv.used, 0, 6 + 8 * QSIZE);
	drv.avail_idx = 0;
	vdriver_cfg(&drv, features, &cfg);
	vnet_virtq_setup_split(&q->vq, &drv.gm, &cfg);
}

int LLVMFuzzerTestOneInput(const __u8 *data, size_t size)
{
	static int ready;
	static __u64 heap;
	__u64 features;
	struct vnet_rx_pkt pkt;

	if (!ready) {
		if (vdriver_create(&drv, QSIZE, DATA_MAX))
			return 0;
		heap = vdriver_alloc(&drv, DATA_MAX, NULL);
		fuzz_net_init();
		ready = 1;
	}
	if (size < 2 + 32 + 12 * QSIZE)
		return 0;
	features = fuzz_net_features(data[0], VIRTIO_NET_F_GUEST_HDRLEN);

	fill_ring(data, size, heap);
	queue_setup(&txq, features);
	publish(data);
	sink_later = data[0] & 128;
	while (vnet_net_tx_burst_gso(&txq, out, 64, data[0] & 64 ? &sink : NULL))
		;

	queue_setup(&rxq, features);
	publish(data);
	memset(&pkt, 0, sizeof(pkt));
	pkt.data = rxframe;
	pkt.len = (__u32)(data[1] * 37 % sizeof(rxframe));
	vnet_net_rx_burst(&rxq, &pkt, 1);
	return 0;
}
