// SPDX-License-Identifier: MIT
/*
 * bench-engine: the ring engine against the in-process test driver, one
 * thread playing both sides in turn (driver posts a ring-full, engine runs
 * bursts, driver reaps). Packets/s for 64 B and 1500 B frames in both
 * directions, 64 KiB TCPv4 GSO sends (segments and Gbit/s of payload), and
 * receive of 1514 B TCP segments, each burst one in-order run, with and
 * without coalescing (GUEST_TSO4: gro.c); on split rings, then on packed
 * ones.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <vnet/net.h>

#include "frame.h"
#include "tcp_stream.h"
#include "vdriver.h"

#define QSIZE	256
#define BURST	32
#define SECONDS	1.0

static struct vdriver drv;
static bool packed;	/* the ring layout of this round */
static struct vnet_netq q;
static __u8 outmem[64][2048], frame[70000];
static struct vnet_tx_buf out[64];

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void setup(__u64 features)
{
	struct vnet_virtq_cfg cfg;

	vdriver_destroy(&drv);
	if ((packed ? vdriver_create_packed : vdriver_create)(&drv, QSIZE, 32 << 20))
		return;
	vnet_netq_init(&q, 0, features | (1ull << VIRTIO_F_VERSION_1), 1500,
		       NULL, NULL);
	vdriver_cfg(&drv, features, &cfg);
	vnet_virtq_setup(&q.vq, &drv.gm, &cfg);
	for (int i = 0; i < 64; i++)
		out[i] = (struct vnet_tx_buf){ outmem[i], sizeof(outmem[i]), 0 };
}

/* Transmit: one descriptor per packet (header + frame, ANY_LAYOUT style). */
static void bench_tx(const char *name, __u32 len, const struct virtio_net_hdr_v1 *h,
		     __u64 features)
{
	__u64 gpa[QSIZE], pkts = 0, frames = 0;
	double t0, t;

	setup(features);
	for (int i = 0; i < QSIZE; i++) {
		__u8 *p;

		gpa[i] = vdriver_alloc(&drv, 12 + len, (void **)&p);
		memcpy(p, h, 12);
		memcpy(p + 12, frame, len);
	}
	t0 = now();
	do {
		for (int r = 0; r < 64; r++) {
			for (int i = 0; drv.num_free; i++) {
				struct vdrv_seg s = { gpa[i], 12 + len, false };

				vdriver_add(&drv, &s, 1, false);
			}
			vdriver_publish(&drv);
			for (;;) {
				unsigned int n = vnet_net_tx_burst(&q, out, 64);

				if (!n)
					break;
				frames += n;
			}
			while (vdriver_get_used(&drv, NULL) >= 0)
				pkts++;
		}
		t = now() - t0;
	} while (t < SECONDS);
	if (h->gso_type)
		printf("%-28s %8.3f Msends/s %8.3f Mframes/s %7.2f Gbit/s payload\n",
		       name, pkts / t / 1e6, frames / t / 1e6,
		       pkts * (double)(len - 54) * 8 / t / 1e9);
	else
		printf("%-28s %8.3f Mpps %7.2f Gbit/s\n", name, pkts / t / 1e6,
		       pkts * (double)len * 8 / t / 1e9);
	if (q.stats.tx_drop_malformed || q.stats.tx_drop_too_big)
		printf("  (drops: %llu malformed %llu too big)\n",
		       (unsigned long long)q.stats.tx_drop_malformed,
		       (unsigned long long)q.stats.tx_drop_too_big);
}

/* Receive: 2 KiB mergeable buffers, bursts of 32 frames (pkts, or len B). */
static void bench_rx(const char *name, __u32 len, const struct vnet_rx_pkt *in,
		     __u64 features)
{
	struct vnet_rx_pkt pkts[BURST];
	__u64 gpa[QSIZE], done = 0;
	double t0, t;
	int head;

	setup((1ull << VIRTIO_NET_F_MRG_RXBUF) | features);
	for (int i = 0; i < QSIZE; i++)
		gpa[i] = vdriver_alloc(&drv, 2048, NULL);
	for (int i = 0; i < BURST; i++)
		pkts[i] = in ? in[i] : (struct vnet_rx_pkt){ .data = frame, .len = len };
	for (int i = 0; i < QSIZE; i++) {
		struct vdrv_seg s = { gpa[i], 2048, true };

		vdriver_add(&drv, &s, 1, false);
	}
	vdriver_publish(&drv);
	t0 = now();
	do {
		for (int r = 0; r < 256; r++) {
			done += vnet_net_rx_burst(&q, pkts, BURST);
			while ((head = vdriver_get_used(&drv, NULL)) >= 0) {
				struct vdrv_seg s = { gpa[head], 2048, true };

				vdriver_add(&drv, &s, 1, false);
			}
			vdriver_publish(&drv);
		}
		t = now() - t0;
	} while (t < SECONDS);
	printf("%-28s %8.3f Mpps %7.2f Gbit/s\n", name, done / t / 1e6,
	       done * (double)pkts[0].len * 8 / t / 1e9);
	if (q.stats.rx_gro_frames)
		printf("  (%.1f segments per coalesced frame)\n",
		       (double)q.stats.rx_gro_segs / (double)q.stats.rx_gro_frames);
	if (q.stats.rx_drop_no_buf || q.stats.rx_drop_too_big)
		printf("  (drops: %llu no buffer)\n",
		       (unsigned long long)q.stats.rx_drop_no_buf);
}

/* A burst of in-order 1448-byte TCP segments of one flow. */
static void bench_rx_tcp(void)
{
	static __u8 seg[BURST][1600];
	struct vnet_rx_pkt in[BURST];
	__u64 gro = (1ull << VIRTIO_NET_F_GUEST_CSUM) | (1ull << VIRTIO_NET_F_GUEST_TSO4);
	struct ts_flow f;

	ts_flow_init(&f, 4, 1);
	for (int i = 0; i < BURST; i++)
		in[i] = (struct vnet_rx_pkt){
			.data = seg[i],
			.len = ts_build(&f, &(struct ts_seg){ .payload = 1448 }, seg[i], 1600),
		};
	bench_rx("rx 1514 B TCP", 0, in, 1ull << VIRTIO_NET_F_GUEST_CSUM);
	bench_rx("rx 1514 B TCP coalesced", 0, in, gro);
}

int main(void)
{
	struct virtio_net_hdr_v1 plain = { 0 }, gso = {
		.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
		.gso_type = VIRTIO_NET_HDR_GSO_TCPV4,
		.hdr_len = 54, .gso_size = 1448, .csum_start = 34,
		.csum_offset = 16,
	};
	struct frame_spec s;
	__u64 tso = (1ull << VIRTIO_NET_F_HOST_TSO4) | (1ull << VIRTIO_NET_F_CSUM);

	for (int layout = 0; layout < 2; layout++) {
		packed = layout;
		printf("%s rings\n", packed ? "packed" : "split");
		frame_spec_default(&s);
		s.payload_len = 64 - 42;
		frame_build(&s, frame, sizeof(frame));
		bench_tx("tx 64 B", 64, &plain, 0);
		bench_rx("rx 64 B", 64, NULL, 0);
		s.payload_len = 1500 - 28;
		frame_build(&s, frame, sizeof(frame));
		bench_tx("tx 1514 B", 1514, &plain, 0);
		bench_rx("rx 1514 B", 1514, NULL, 0);
		bench_rx_tcp();
		s.l4 = 6;	/* TCP */
		s.payload_len = 65535 - 40;
		frame_build(&s, frame, sizeof(frame));
		bench_tx("tx 64 KiB TCPv4 GSO", 65535 + 14, &gso, tso);
	}
	vdriver_destroy(&drv);
	return 0;
}
