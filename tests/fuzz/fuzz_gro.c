// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: receive coalescing (daemon/engine/gro.c) on streams
 * the input describes -- flows, segment sizes, flags, faults, reordering,
 * and raw frames straight from the input -- through a receive queue; every
 * burst is checked by the independent reference (tests/lib/gro_ref.c) and
 * a wrong delivery aborts. ASan catches any access outside the frames.
 *
 * Input: [0] offloads and buffers, [1] flows, then 4-byte records:
 *   flow, event, size (2 bytes); event 0xff: a raw frame of 'size' bytes
 *   taken from the input that follows.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <vnet/net.h>

#include "gro_ref.h"
#include "tcp_stream.h"

#define F(bit)		(1ull << (bit))
#define FEAT		(F(VIRTIO_NET_F_GUEST_CSUM) | F(VIRTIO_NET_F_GUEST_TSO4) | \
			 F(VIRTIO_NET_F_GUEST_TSO6) | F(VIRTIO_NET_F_GUEST_ECN))
#define MAXF		256

int LLVMFuzzerTestOneInput(const __u8 *data, size_t size);

static struct gro_rig mrg, big;
static bool ready;
static __u8 pool[MAXF][2048];
static struct gro_ref_frame in[MAXF];

static void event(struct ts_flow *f, struct ts_seg *s, __u8 ev, __u16 sz)
{
	s->payload = sz % 1461;
	switch (ev & 15) {
	case 0: case 1: case 2: case 3: case 4: case 5: break;
	case 6: s->add_flags = (__u8)(1u << (ev >> 5)); break;
	case 7: s->bad_csum = true; break;
	case 8: s->bad_ipcsum = true; break;
	case 9: s->ce = true; break;
	case 10: s->trunc = sz >> 8; break;
	case 11: s->pad = sz >> 12; break;
	case 12: s->ip_opts = true; break;
	case 13: f->seq -= (ev >> 4) * 1448u; break;
	case 14: f->ttl ^= (__u8)(ev >> 4); f->tsval += ev >> 6; break;
	case 15: f->id += (__u16)(ev >> 4); f->ack += ev >> 7; break;
	}
}

int LLVMFuzzerTestOneInput(const __u8 *data, size_t size)
{
	struct ts_flow fl[8];
	struct gro_rig *r;
	unsigned int n = 0, nflows, flags;
	size_t off = 2;
	__u64 off_bits;
	char why[256] = "";

	if (size < 2)
		return 0;
	if (!ready) {
		if (gro_rig_init(&mrg, FEAT | F(VIRTIO_NET_F_MRG_RXBUF), 1024, 1024, 1024) ||
		    gro_rig_init(&big, FEAT, 256, 65562, 256))
			abort();
		ready = true;
	}
	r = data[0] & 1 ? &big : &mrg;
	off_bits = F(VIRTIO_NET_F_GUEST_CSUM) |
		   (data[0] & 2 ? F(VIRTIO_NET_F_GUEST_TSO4) : 0) |
		   (data[0] & 4 ? F(VIRTIO_NET_F_GUEST_TSO6) : 0) |
		   (data[0] & 8 ? F(VIRTIO_NET_F_GUEST_ECN) : 0);
	if (data[0] & 16)
		off_bits &= ~F(VIRTIO_NET_F_GUEST_CSUM);
	vnet_netq_set_guest_offloads(&r->q, off_bits);
	nflows = 1 + data[1] % 8;
	for (unsigned int i = 0; i < nflows; i++) {
		ts_flow_init(&fl[i], (data[1] >> (3 + i % 5)) & 1 ? 6 : 4, i);
		fl[i].vlans = (int)((data[1] >> 4) % 3);
		fl[i].id_mode = (enum ts_id_mode)(i % 3);
		fl[i].ts = i & 1;
	}
	while (n < MAXF && off + 4 <= size) {
		const __u8 *rec = data + off;
		__u16 sz = (__u16)(rec[2] | rec[3] << 8);

		off += 4;
		in[n].data = pool[n];
		if (rec[1] == 0xff) {
			__u32 len = sz % sizeof(pool[0]);

			if (len > size - off)
				len = (__u32)(size - off);
			memcpy(pool[n], data + off, len);
			off += len;
			in[n].len = len;
		} else {
			struct ts_flow *f = &fl[rec[0] % nflows];
			struct ts_seg s = { 0 };

			event(f, &s, rec[1], sz);
			in[n].len = ts_build(f, &s, pool[n], sizeof(pool[0]));
		}
		n++;
	}
	gro_rig_burst(r, in, n, NULL);
	gro_rig_collect(r);
	flags = (r->q.guest_offloads & F(VIRTIO_NET_F_GUEST_CSUM) ? GRO_REF_CSUM : 0) |
		(r->q.guest_offloads & F(VIRTIO_NET_F_GUEST_ECN) ? GRO_REF_ECN : 0);
	if (r->bad || gro_ref_check(in, n, r->out, r->nout, flags, why, sizeof(why))) {
		fprintf(stderr, "gro: %s (bad %u)\n", why, r->bad);
		abort();
	}
	return 0;
}
