// SPDX-License-Identifier: MIT
/*
 * Frames held for a receive queue without buffers (daemon/uplink/
 * uplink_hold.c), on a real receive queue (the coalescing rig) and checked
 * by the independent reference: held frames are copies, go out oldest
 * first and keep every flow in order (also across the FIFO's wrap), what
 * a chunk could not place stays held, and overflow and age drop and count.
 * The kernel's merged frames (khold) keep the virtio-net header in front
 * of them through the copy.
 */
#include <stdlib.h>
#include <string.h>
#include <linux/virtio_net.h>

#include <vnet/net.h>

#include "../../daemon/uplink/uplink_int.h"
#include "gro_ref.h"
#include "tcp_stream.h"
#include "test.h"

#define F(bit)		(1ull << (bit))
#define MSS		1448
#define BUF		4096
#define FEAT_GRO	(F(VIRTIO_NET_F_MRG_RXBUF) | F(VIRTIO_NET_F_GUEST_CSUM) | \
			 F(VIRTIO_NET_F_GUEST_TSO4) | F(VIRTIO_NET_F_GUEST_TSO6))
#define N		40

static struct gro_rig rig;
static struct up_port port;
static __u8 pool[N][2048], saved[N][2048];
static struct gro_ref_frame in[N];
static struct vnet_rx_pkt pk[N];
static char why[256];

/* n frames of flows a and b, interleaved (a b a b ...), as the uplink
 * hands them over; 'nbufs' receive buffers posted */
static bool setup(unsigned int nbufs)
{
	struct ts_flow a, b;

	gro_rig_fini(&rig);
	updp_hold_free(&port);
	memset(&port, 0, sizeof(port));
	if (gro_rig_init(&rig, FEAT_GRO, 1024, BUF, nbufs) || updp_hold_alloc(&port, 1))
		return false;
	ts_flow_init(&a, 4, 1);
	ts_flow_init(&b, 6, 2);
	for (unsigned int i = 0; i < N; i++) {
		in[i].data = pool[i];
		in[i].len = ts_build(i & 1 ? &b : &a, &(struct ts_seg){ .payload = MSS },
				     pool[i], sizeof(pool[i]));
		pk[i] = (struct vnet_rx_pkt){ .data = pool[i], .len = in[i].len };
	}
	memcpy(saved, pool, sizeof(pool));
	return true;
}

/* Everything delivered so far, against the reference and a shape. */
static void check(const char *shape)
{
	char got[64] = "";
	size_t o = 0;

	/* the uplink's frames went back to the kernel long ago */
	memcpy(pool, saved, sizeof(pool));
	gro_rig_collect(&rig);
	EXPECT(gro_ref_check(in, N, rig.out, rig.nout, GRO_REF_CSUM, why, sizeof(why)) == 0,
	       "reference: %s", why);
	for (unsigned int k = 0; k < rig.nout && o < sizeof(got) - 8; k++)
		o += (size_t)snprintf(got + o, sizeof(got) - o, "%s%u", k ? "," : "",
				      rig.out[k].nsegs);
	EXPECT(!strcmp(got, shape), "frames %s, want %s", got, shape);
}

static void test_hold_in_order(void)
{
	struct up_hold *h;
	unsigned int got;

	EXPECT(setup(10), "setup");
	h = &port.hold[0];
	updp_hold_add(&port, h, &rig.q, pk, N, ~0ull >> (64 - N), 1);
	memset(pool, 0xee, sizeof(pool));	/* held frames are copies */
	EXPECT(h->n == N && port.nheld == N, "held %u (%u)", h->n, port.nheld);
	/* 10 buffers: flow a's run (8) fits, b's does not and stays held */
	got = updp_hold_deliver(&port, h, &rig.q, 2);
	EXPECT(got == N / 2 && h->n == N / 2 && port.nheld == N / 2,
	       "delivered %u, held %u (%u)", got, h->n, port.nheld);
	gro_rig_post(&rig, 40);
	got = updp_hold_deliver(&port, h, &rig.q, 3);
	EXPECT(got == N / 2 && h->n == 0 && port.nheld == 0, "delivered %u, held %u", got, h->n);
	EXPECT(rig.q.stats.rx_drop_no_buf == 0 && port.st.rx_dropped == 0, "drops counted");
	check("20,20");
}

/* The FIFO wraps in the middle of the frames: chunks stop at its end. */
static void test_hold_wrap(void)
{
	struct up_hold *h;

	EXPECT(setup(200), "setup");
	h = &port.hold[0];
	h->head = UP_HOLD - 7;
	updp_hold_add(&port, h, &rig.q, pk, N, ~0ull >> (64 - N), 1);
	memset(pool, 0xee, sizeof(pool));
	EXPECT(updp_hold_deliver(&port, h, &rig.q, 2) == N && h->n == 0, "held %u", h->n);
	/* 7 frames before the wrap (4 a, 3 b), 33 after (17 b first, 16 a) */
	check("4,3,17,16");
}

/* More than UP_HOLD, or a queue that takes nothing for UP_HOLD_NS: dropped. */
static void test_hold_bounds(void)
{
	struct up_hold *h;
	unsigned int i;

	EXPECT(setup(0), "setup");
	h = &port.hold[0];
	for (i = 0; i < UP_HOLD / N + 1; i++)
		updp_hold_add(&port, h, &rig.q, pk, N, ~0ull >> (64 - N), 1);
	EXPECT(h->n == UP_HOLD && port.nheld == UP_HOLD, "held %u", h->n);
	EXPECT(rig.q.stats.rx_drop_no_buf == (i * N - UP_HOLD) &&
	       port.st.rx_dropped == i * N - UP_HOLD, "overflow: %llu dropped",
	       (unsigned long long)rig.q.stats.rx_drop_no_buf);
	/* no buffers, not yet too old: kept */
	EXPECT(updp_hold_deliver(&port, h, &rig.q, 1 + UP_HOLD_NS) == 0 && h->n == UP_HOLD,
	       "held %u", h->n);
	EXPECT(updp_hold_deliver(&port, h, &rig.q, 2 + UP_HOLD_NS) == 0 && h->n == 0 &&
	       port.nheld == 0, "aged: held %u", h->n);
	EXPECT(port.st.rx_dropped == i * N, "dropped %llu",
	       (unsigned long long)port.st.rx_dropped);
}

/*
 * khold: frames with the kernel's header in front (VNET_RX_F_VHDR), each
 * its own buffer (never coalesced again). UP_KHOLD of them fit, the rest
 * drop; across the FIFO's wrap and a partial delivery every frame arrives
 * in order with its own header (DATA_VALID on the odd ones only).
 */
static __u8 kpool[N][sizeof(struct virtio_net_hdr) + 2048];

static void test_khold_vhdr(void)
{
	struct vnet_rx_pkt kp[N];
	struct up_hold *h;
	unsigned int i, got;

	EXPECT(setup(5), "setup");
	h = &port.khold[0];
	h->head = UP_KHOLD - 3;
	for (i = 0; i < N; i++) {
		struct virtio_net_hdr vh = { .flags = i & 1 ? VIRTIO_NET_HDR_F_DATA_VALID : 0 };

		memcpy(kpool[i], &vh, sizeof(vh));
		memcpy(kpool[i] + sizeof(vh), pool[i], in[i].len);
		kp[i] = (struct vnet_rx_pkt){ .data = kpool[i] + sizeof(vh), .len = in[i].len,
					      .flags = VNET_RX_F_VHDR };
	}
	updp_hold_add(&port, h, &rig.q, kp, N, ~0ull >> (64 - N), 1);
	memset(kpool, 0xee, sizeof(kpool));	/* held frames are copies */
	EXPECT(h->n == UP_KHOLD && port.nheld == UP_KHOLD &&
	       port.st.rx_dropped == N - UP_KHOLD, "held %u, dropped %llu", h->n,
	       (unsigned long long)port.st.rx_dropped);
	got = updp_hold_deliver(&port, h, &rig.q, 2);
	EXPECT(got == 5 && h->n == UP_KHOLD - 5, "delivered %u, held %u", got, h->n);
	gro_rig_post(&rig, 40);
	got = updp_hold_deliver(&port, h, &rig.q, 3);
	EXPECT(got == UP_KHOLD - 5 && h->n == 0 && port.nheld == 0, "delivered %u, held %u",
	       got, h->n);
	gro_rig_collect(&rig);
	EXPECT(rig.nout == UP_KHOLD, "%u frames out", rig.nout);
	for (i = 0; i < rig.nout && i < UP_KHOLD; i++) {
		EXPECT(rig.out[i].len == in[i].len && !memcmp(rig.out[i].data, saved[i], in[i].len),
		       "frame %u", i);
		EXPECT(rig.out[i].vh.flags == (i & 1 ? VIRTIO_NET_HDR_F_DATA_VALID : 0) &&
		       rig.out[i].vh.gso_type == 0, "frame %u header flags %u", i,
		       rig.out[i].vh.flags);
	}
}

int main(void)
{
	RUN(test_hold_in_order);
	RUN(test_hold_wrap);
	RUN(test_hold_bounds);
	RUN(test_khold_vhdr);
	gro_rig_fini(&rig);
	updp_hold_free(&port);
	return test_summary();
}
