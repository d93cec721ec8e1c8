// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: a hostile driver of a packed ring (spec 2.8). The input
 * becomes the ring size (any, 1..16), where the device resumes (index and
 * wrap counter, as vhost-user SET_VRING_BASE gives them), the driver's event
 * suppression area, descriptors with any flags (the AVAIL/USED bits right,
 * wrong or missing, NEXT lists running anywhere, indirect tables in the
 * fuzzed guest memory) and that memory's contents (virtio-net headers and
 * frames). The engine walks it on a transmit and a receive queue, with
 * completions in and out of order; ASan catches any access outside the
 * guest memory mapping. The ring is also popped raw and completed in
 * reverse order.
 *
 * Input: [0] feature bits, [1] ring size, [2] start (bit 7: wrap counter),
 *        [3] driver area flags, [4..6) its off_wrap, [6] receive frame
 *        length, [7] 1: kicks off while polling; then 16 descriptors of 12
 *        bytes (addr32, len16, flags8, id16, mode8, 2 spare), then guest
 *        data copied to the start of the heap.
 */
#include <endian.h>
#include <string.h>

#include <vnet/net.h>

#include "fuzz_net.h"
#include "vdriver.h"

#define QMAX		16
#define HDR		8
#define DESC_IN		12
#define DATA_MAX	8192

static struct vdriver drv;
static struct vnet_netq txq, rxq;

/* The descriptors, from the device's start position on. */
static void fill_ring(const __u8 *data, size_t size, __u64 heap, __u16 qsize,
		      __u16 start, bool wrap)
{
	const __u8 *d = data + HDR;
	__u16 at = start;

	memset(drv.pk.desc, 0, 16 * QMAX);
	for (int i = 0; i < QMAX; i++, d += DESC_IN) {
		__u32 a = (__u32)(d[0] | d[1] << 8 | d[2] << 16 | d[3] << 24);
		struct vring_packed_desc *r = &drv.pk.desc[at];
		__u16 flags = d[6] & 7, mode = d[9];
		__u64 addr;

		if (i >= qsize)
			break;
		/* mostly inside the heap, sometimes anywhere */
		if (mode & 0x80)
			addr = a | (__u64)(mode & 0x7f) << 32;
		else
			addr = heap + (a % (DATA_MAX + 64));
		/* the ring bits: right for this lap, inverted, "used", none */
		switch ((mode >> 4) & 3) {
		case 0: flags |= vdrv_packed_avail_bits(wrap); break;
		case 1: flags |= vdrv_packed_avail_bits(!wrap); break;
		case 2: flags |= wrap ? 0x8080 : 0; break;
		default: break;
		}
		r->addr = htole64(addr);
		r->len = htole32((__u32)(d[4] | d[5] << 8) | (mode & 0x40 ? 0xfff00000u : 0));
		r->id = htole16((__u16)(d[7] | d[8] << 8));
		r->flags = htole16(flags);
		if (++at == qsize) {
			at = 0;
			wrap = !wrap;
		}
	}
	if (size > HDR + DESC_IN * QMAX) {
		size_t n = size - (HDR + DESC_IN * QMAX);

		memcpy(vdriver_hva(&drv, heap), d, n < DATA_MAX ? n : DATA_MAX);
	}
}

static void queue_setup(struct vnet_netq *q, __u64 features, __u16 qsize,
			__u16 pos, const __u8 *data)
{
	struct vnet_virtq_cfg cfg;

	vnet_netq_init(q, 0, features, 1500, NULL, NULL);
	vdriver_cfg(&drv, features, &cfg);
	cfg.size = qsize;
	cfg.last_avail_idx = pos;
	cfg.last_used_idx = pos;
	drv.pk.driver->flags = htole16(data[3]);
	drv.pk.driver->off_wrap = htole16((__u16)(data[4] | data[5] << 8));
	if (vnet_virtq_setup(&q->vq, &drv.gm, &cfg))
		return;
	if (data[7] & 1)
		vnet_virtq_notify_enable(&q->vq, false);
}

int LLVMFuzzerTestOneInput(const __u8 *data, size_t size)
{
	static int ready;
	static __u64 heap;
	struct vnet_rx_pkt pkt;
	__u16 qsize, start, pos;
	__u64 features;
	bool wrap;
	int rounds;

	if (!ready) {
		if (vdriver_create_packed(&drv, QMAX, DATA_MAX))
			return 0;
		heap = vdriver_alloc(&drv, DATA_MAX, NULL);
		fuzz_net_init();
		ready = 1;
	}
	if (size < HDR + DESC_IN * QMAX)
		return 0;
	features = fuzz_net_features(data[0], VIRTIO_F_IN_ORDER);
	qsize = 1 + data[1] % QMAX;
	start = (data[2] & 0x7f) % qsize;
	wrap = data[2] & 0x80;
	pos = start | (wrap ? VNET_VQ_WRAP : 0);

	fill_ring(data, size, heap, qsize, start, wrap);
	queue_setup(&txq, features, qsize, pos, data);
	for (rounds = 0; rounds < 64 && vnet_net_tx_burst(&txq, out, 64); rounds++)
		;
	vnet_virtq_notify_enable(&txq.vq, true);

	/* the raw engine: completions out of order */
	fill_ring(data, size, heap, qsize, start, wrap);
	queue_setup(&txq, features, qsize, pos, data);
	{
		static struct vnet_chain c[QMAX];
		int n = 0;

		while (n < QMAX && vnet_virtq_pop(&txq.vq, &c[n]) == 1)
			n++;
		while (n--)
			vnet_virtq_push(&txq.vq, c[n].head, c[n].in_len);
		vnet_virtq_flush(&txq.vq, 1);
	}

	fill_ring(data, size, heap, qsize, start, wrap);
	queue_setup(&rxq, features, qsize, pos, data);
	memset(&pkt, 0, sizeof(pkt));
	pkt.data = rxframe;
	pkt.len = (__u32)(data[6] * 37 % sizeof(rxframe));
	vnet_net_rx_burst(&rxq, &pkt, 1);
	vnet_net_rx_burst(&rxq, &pkt, 1);
	vnet_virtq_notify_enable(&rxq.vq, true);
	return 0;
}
