// SPDX-License-Identifier: MIT
/*
 * virtio-net receive: header (v1 / v1_hash), DATA_VALID, MRG_RXBUF with
 * num_buffers (5.1.6.4.1), drops that are counted, never truncation.
 */
#include <endian.h>
#include <string.h>

#include <vnet/net.h>

#include "test.h"
#include "vdriver.h"

#define F(bit)	(1ull << (bit))

struct fx {
	struct vdriver d;
	struct vnet_netq q;
	int notifies, errors;
};

static struct fx fx;
static __u8 frame[70000];
static bool packed;	/* the ring layout of this round (main) */

static void on_notify(struct vnet_virtq *vq, void *o) { ((struct fx *)o)->notifies++; }
static void on_error(struct vnet_virtq *vq, int e, void *o) { ((struct fx *)o)->errors++; }
static const struct vnet_virtq_ops ops = { on_notify, on_error };

static struct fx *fx_setup(__u64 features)
{
	struct vnet_virtq_cfg cfg;
	struct fx *f = &fx;

	memset(f, 0, sizeof(*f));
	if ((packed ? vdriver_create_packed : vdriver_create)(&f->d, 256, 4 << 20))
		return NULL;
	vnet_netq_init(&f->q, 0, features | F(VIRTIO_F_VERSION_1), 1500, &ops, f);
	vdriver_cfg(&f->d, features, &cfg);
	if (vnet_virtq_setup(&f->q.vq, &f->d.gm, &cfg))
		return NULL;
	for (unsigned int i = 0; i < sizeof(frame); i++)
		frame[i] = (__u8)(i * 13 + i / 251);
	return f;
}

/* Post n receive buffers of 'len' bytes; returns the gpa of the first. */
static __u64 post_rx(struct fx *f, int n, __u32 len)
{
	__u64 first = 0;

	for (int i = 0; i < n; i++) {
		struct vdrv_seg s = { vdriver_alloc(&f->d, len, NULL), len, true };

		if (!i)
			first = s.gpa;
		vdriver_add(&f->d, &s, 1, false);
	}
	vdriver_publish(&f->d);
	return first;
}

static struct vnet_rx_pkt pkt(__u32 len)
{
	return (struct vnet_rx_pkt){ .data = frame, .len = len };
}

static void test_rx_single_buffer(void)
{
	struct fx *f = fx_setup(0);
	struct vnet_rx_pkt p = pkt(100);
	struct virtio_net_hdr_v1 *h;
	__u64 gpa;
	__u32 len;

	EXPECT(f, "setup");
	gpa = post_rx(f, 1, 2048);
	EXPECT(vnet_net_rx_burst(&f->q, &p, 1) == 1, "delivered");
	EXPECT(vdriver_get_used(&f->d, &len) >= 0 && len == 112, "len %u", len);
	h = vdriver_hva(&f->d, gpa);
	EXPECT(h->flags == 0 && h->gso_type == 0, "flags %u gso %u", h->flags,
	       h->gso_type);
	EXPECT(le16toh(h->num_buffers) == 1, "num_buffers %u", le16toh(h->num_buffers));
	EXPECT(!memcmp((__u8 *)h + 12, frame, 100), "data");
	EXPECT(f->notifies == 1 && f->q.stats.rx_packets == 1 &&
	       f->q.stats.rx_bytes == 100, "stats");
	vdriver_destroy(&f->d);
}

static void test_rx_data_valid(void)
{
	struct fx *f = fx_setup(F(VIRTIO_NET_F_GUEST_CSUM));
	struct vnet_rx_pkt p = pkt(60);
	struct virtio_net_hdr_v1 *h;

	p.flags = VNET_RX_F_CSUM_VALID;
	h = vdriver_hva(&f->d, post_rx(f, 1, 2048));
	vnet_net_rx_burst(&f->q, &p, 1);
	EXPECT(h->flags == VIRTIO_NET_HDR_F_DATA_VALID, "DATA_VALID");
	vdriver_destroy(&f->d);

	/* 5.1.6.4.1: without GUEST_CSUM flags must be zero */
	f = fx_setup(0);
	h = vdriver_hva(&f->d, post_rx(f, 1, 2048));
	memset(h, 0xff, 12);
	vnet_net_rx_burst(&f->q, &p, 1);
	EXPECT(h->flags == 0, "flags %u without GUEST_CSUM", h->flags);
	vdriver_destroy(&f->d);
}

static void test_rx_hash_report(void)
{
	struct fx *f = fx_setup(F(VIRTIO_NET_F_HASH_REPORT));
	struct vnet_rx_pkt p = pkt(80);
	struct virtio_net_hdr_v1_hash *h;
	__u32 len;

	p.hash_value = 0xdeadbeef;
	p.hash_report = VIRTIO_NET_HASH_REPORT_TCPv4;
	h = vdriver_hva(&f->d, post_rx(f, 1, 2048));
	EXPECT(vnet_net_rx_burst(&f->q, &p, 1) == 1, "delivered");
	EXPECT(vdriver_get_used(&f->d, &len) >= 0 && len == 100, "len %u", len);
	EXPECT(le32toh(h->hash_value) == 0xdeadbeef, "hash value");
	EXPECT(le16toh(h->hash_report) == VIRTIO_NET_HASH_REPORT_TCPv4, "report");
	EXPECT(!memcmp((__u8 *)h + 20, frame, 80), "data after 20 bytes");
	vdriver_destroy(&f->d);
}

static void test_rx_mergeable(void)
{
	struct fx *f = fx_setup(F(VIRTIO_NET_F_MRG_RXBUF));
	struct vnet_rx_pkt p[2] = { pkt(1500), pkt(300) };
	__u8 out[4096], *b;
	__u32 len, want[4] = { 512, 512, 488, 312 };
	__u64 gpa;
	int off = 0;

	gpa = post_rx(f, 8, 512);
	EXPECT(vnet_net_rx_burst(&f->q, p, 2) == 2, "delivered");
	EXPECT(f->notifies == 1 && f->q.vq.stats.flushes == 1, "one flush/notify");
	/* 5.1.6.4.1: all buffers but the last used completely */
	for (int i = 0; i < 4; i++) {
		EXPECT(vdriver_get_used(&f->d, &len) >= 0, "used %d", i);
		EXPECT(len == want[i], "buffer %d len %u want %u", i, len, want[i]);
	}
	b = vdriver_hva(&f->d, gpa);	/* consecutive 512-byte buffers */
	EXPECT(le16toh(((struct virtio_net_hdr_v1 *)b)->num_buffers) == 3,
	       "num_buffers %u", le16toh(((struct virtio_net_hdr_v1 *)b)->num_buffers));
	memcpy(out, b + 12, 500);
	off = 500;
	memcpy(out + off, b + 512, 512);
	memcpy(out + off + 512, b + 1024, 488 - 0);
	EXPECT(!memcmp(out, frame, 1500), "frame reassembled");
	EXPECT(le16toh(((struct virtio_net_hdr_v1 *)(b + 1536))->num_buffers) == 1,
	       "second frame num_buffers");
	vdriver_destroy(&f->d);
}

static void test_rx_too_big_without_mrg(void)
{
	struct fx *f = fx_setup(0);
	struct vnet_rx_pkt big = pkt(1500), small = pkt(500);
	__u32 len;

	post_rx(f, 1, 1024);
	EXPECT(vnet_net_rx_burst(&f->q, &big, 1) == 0, "not delivered");
	EXPECT(f->q.stats.rx_drop_too_big == 1, "counted");
	EXPECT(vdriver_used_idx(&f->d) == 0, "buffer not consumed (no truncation)");
	EXPECT(vnet_net_rx_burst(&f->q, &small, 1) == 1, "small one fits");
	EXPECT(vdriver_get_used(&f->d, &len) == 0 && len == 512, "same buffer");
	vdriver_destroy(&f->d);
}

static void test_rx_no_buffers(void)
{
	struct fx *f = fx_setup(F(VIRTIO_NET_F_MRG_RXBUF));
	struct vnet_rx_pkt p[3] = { pkt(1500), pkt(800), pkt(60) };

	post_rx(f, 2, 512);
	/* 1500 needs 3 buffers: none used, frame dropped; the rest too */
	EXPECT(vnet_net_rx_burst(&f->q, p, 3) == 0, "none delivered");
	EXPECT(f->q.stats.rx_drop_no_buf == 3, "no_buf %llu",
	       (unsigned long long)f->q.stats.rx_drop_no_buf);
	EXPECT(vdriver_used_idx(&f->d) == 0, "buffers given back");
	EXPECT(vnet_net_rx_burst(&f->q, &p[1], 1) == 1, "800 fits into 2");
	EXPECT(vdriver_used_idx(&f->d) == 2, "two used");
	vdriver_destroy(&f->d);
}

static void test_rx_header_across_descriptors(void)
{
	struct fx *f = fx_setup(F(VIRTIO_NET_F_MRG_RXBUF));
	struct vnet_rx_pkt p = pkt(200);
	struct vdrv_seg s[3];
	__u8 *a, *b, *c;
	__u32 len;

	s[0] = (struct vdrv_seg){ vdriver_alloc(&f->d, 4, (void **)&a), 4, true };
	s[1] = (struct vdrv_seg){ vdriver_alloc(&f->d, 10, (void **)&b), 10, true };
	s[2] = (struct vdrv_seg){ vdriver_alloc(&f->d, 1000, (void **)&c), 1000, true };
	vdriver_add(&f->d, s, 3, false);
	vdriver_publish(&f->d);
	EXPECT(vnet_net_rx_burst(&f->q, &p, 1) == 1, "delivered");
	EXPECT(vdriver_get_used(&f->d, &len) == 0 && len == 212, "len %u", len);
	EXPECT(a[0] == 0 && b[6] == 1 && b[7] == 0, "num_buffers split 4|8");
	EXPECT(!memcmp(b + 8, frame, 2) && !memcmp(c, frame + 2, 198), "data");
	vdriver_destroy(&f->d);
}

static void test_rx_bad_buffers(void)
{
	struct fx *f = fx_setup(F(VIRTIO_NET_F_MRG_RXBUF) | F(VIRTIO_RING_F_INDIRECT_DESC));
	struct vnet_rx_pkt p = pkt(100);
	struct vdrv_seg ro = { vdriver_alloc(&f->d, 512, NULL), 512, false };
	struct vdrv_seg tiny = { vdriver_alloc(&f->d, 8, NULL), 8, true };
	struct vdrv_seg good[2] = {
		{ vdriver_alloc(&f->d, 64, NULL), 64, true },
		{ vdriver_alloc(&f->d, 512, NULL), 512, true },
	};
	int h_ro, h_tiny, h_good;
	__u32 len;

	h_ro = vdriver_add(&f->d, &ro, 1, false);	/* device-readable only */
	h_tiny = vdriver_add(&f->d, &tiny, 1, false);	/* smaller than header */
	h_good = vdriver_add(&f->d, good, 2, true);	/* indirect */
	vdriver_publish(&f->d);
	EXPECT(vnet_net_rx_burst(&f->q, &p, 1) == 1, "delivered");
	EXPECT(f->q.stats.rx_bad_buf == 2, "bad bufs %llu",
	       (unsigned long long)f->q.stats.rx_bad_buf);
	EXPECT(vdriver_get_used(&f->d, &len) == h_ro && len == 0, "ro returned");
	EXPECT(vdriver_get_used(&f->d, &len) == h_tiny && len == 0, "tiny returned");
	EXPECT(vdriver_get_used(&f->d, &len) == h_good && len == 112, "good %u", len);
	vdriver_destroy(&f->d);
}

static void test_rx_too_many_buffers(void)
{
	struct fx *f = fx_setup(F(VIRTIO_NET_F_MRG_RXBUF));
	struct vnet_rx_pkt p = pkt(65535);

	/* 256 buffers of 64 bytes cannot take 64 KiB: drop, nothing used */
	post_rx(f, 256, 64);
	EXPECT(vnet_net_rx_burst(&f->q, &p, 1) == 0, "dropped");
	EXPECT(f->q.stats.rx_drop_too_big + f->q.stats.rx_drop_no_buf == 1,
	       "counted");
	EXPECT(vdriver_used_idx(&f->d) == 0, "no partial frame visible");
	p.len = 65536;
	EXPECT(vnet_net_rx_burst(&f->q, &p, 1) == 0, "oversize frame dropped");
	vdriver_destroy(&f->d);
}

static void test_rx_broken_ring(void)
{
	struct fx *f = fx_setup(0);
	struct vnet_rx_pkt p = pkt(60);

	post_rx(f, 1, 2048);
	if (packed)	/* a list running into a descriptor not made available */
		f->d.pk.desc[0].flags |= htole16(VRING_DESC_F_NEXT);
	else		/* avail idx jumps past the queue size */
		f->d.avail->idx = htole16(1000);
	EXPECT(vnet_net_rx_burst(&f->q, &p, 1) == 0, "nothing delivered");
	EXPECT(f->errors == 1 && f->q.vq.broken, "NEEDS_RESET raised");
	EXPECT(f->q.stats.rx_drop_no_buf == 1, "dropped, counted");
	vdriver_destroy(&f->d);
}

/*
 * Frames with the kernel's virtio-net header in front (VNET_RX_F_VHDR,
 * uplink_kgro.c): a 20000-byte TCP/IPv4 GSO frame, its header at
 * kbuf[0..10), the frame after it.
 */
static __u8 kbuf[sizeof(struct virtio_net_hdr) + 20000];
#define KG_TSO	(F(VIRTIO_NET_F_MRG_RXBUF) | F(VIRTIO_NET_F_GUEST_CSUM) | \
		 F(VIRTIO_NET_F_GUEST_TSO4) | F(VIRTIO_NET_F_GUEST_TSO6))

static struct vnet_rx_pkt kgro_pkt(__u8 gso_type, __u16 csum_start, __u8 doff)
{
	struct virtio_net_hdr h = {
		.flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .gso_type = gso_type,
		.hdr_len = htole16(128),	/* the kernel's: its linear part */
		.gso_size = htole16(1448), .csum_start = htole16(csum_start),
		.csum_offset = htole16(16),
	};
	__u8 *fr = kbuf + sizeof(h);

	for (unsigned int i = 0; i < 20000; i++)
		fr[i] = (__u8)(i * 7 + 3);
	memcpy(kbuf, &h, sizeof(h));
	fr[12] = 0x08, fr[13] = 0x00;		/* IPv4 */
	fr[14] = 0x45;
	fr[14 + 20 + 12] = (__u8)(doff << 4);	/* TCP data offset */
	return (struct vnet_rx_pkt){ .data = fr, .len = 20000, .flags = VNET_RX_F_VHDR };
}

static void test_rx_kernel_gso(void)
{
	struct fx *f = fx_setup(KG_TSO);
	struct vnet_rx_pkt p[2] = { kgro_pkt(VIRTIO_NET_HDR_GSO_TCPV4, 34, 8), pkt(300) };
	struct virtio_net_hdr_v1 *h;
	__u32 len, total = 0;
	__u8 *b;
	__u64 gpa;
	int used;

	gpa = post_rx(f, 8, 4096);
	EXPECT(vnet_net_rx_burst(&f->q, p, 2) == 2, "both delivered");
	h = vdriver_hva(&f->d, gpa);
	EXPECT(h->gso_type == VIRTIO_NET_HDR_GSO_TCPV4 && le16toh(h->gso_size) == 1448 &&
	       h->flags == VIRTIO_NET_HDR_F_NEEDS_CSUM && le16toh(h->csum_start) == 34 &&
	       le16toh(h->csum_offset) == 16, "GSO header as the kernel's: type %u size %u",
	       h->gso_type, le16toh(h->gso_size));
	/* exact (GUEST_HDRLEN may be negotiated): Ethernet + IPv4 + 32-byte TCP */
	EXPECT(le16toh(h->hdr_len) == 14 + 20 + 32, "hdr_len %u", le16toh(h->hdr_len));
	EXPECT(le16toh(h->num_buffers) == 5, "num_buffers %u", le16toh(h->num_buffers));
	for (used = 0; used < 5; used++) {
		EXPECT(vdriver_get_used(&f->d, &len) >= 0, "used %d", used);
		total += len;
	}
	EXPECT(total == 20000 + 12, "frame bytes %u", total);
	b = (__u8 *)h;
	EXPECT(!memcmp(b + 12, p[0].data, 4096 - 12) &&
	       !memcmp(b + 4096, p[0].data + 4096 - 12, 4096), "frame data");
	/* the plain frame after it: no coalescing, no GSO */
	h = vdriver_hva(&f->d, gpa + 5 * 4096);
	EXPECT(h->gso_type == 0 && !memcmp((__u8 *)h + 12, frame, 300), "plain frame after");
	EXPECT(f->q.stats.rx_kgro_frames == 1 && f->q.stats.rx_kgro_gso == 1 &&
	       !f->q.stats.rx_kgro_bad && f->q.stats.rx_packets == 2, "stats");
	vdriver_destroy(&f->d);
}

/* What the guest's offloads cannot take, or a header that lies: refused,
 * counted, no buffer used. */
static void test_rx_kernel_refused(void)
{
	static const struct {
		__u64 features;
		__u8 gso_type;
		__u16 csum_start;
		__u8 doff;
		const char *what;
	} c[] = {
		{ KG_TSO & ~F(VIRTIO_NET_F_GUEST_TSO4), VIRTIO_NET_HDR_GSO_TCPV4, 34, 5, "no TSO4" },
		{ KG_TSO, VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN, 34, 5, "no ECN" },
		{ KG_TSO, VIRTIO_NET_HDR_GSO_UDP_L4, 34, 5, "UDP" },
		{ KG_TSO, VIRTIO_NET_HDR_GSO_TCPV4, 19990, 5, "csum_start past the frame" },
		{ KG_TSO, VIRTIO_NET_HDR_GSO_TCPV4, 34, 2, "TCP header under 20 bytes" },
		{ KG_TSO & ~F(VIRTIO_NET_F_GUEST_CSUM), VIRTIO_NET_HDR_GSO_NONE, 34, 5,
		  "NEEDS_CSUM without GUEST_CSUM" },
	};

	for (unsigned int i = 0; i < sizeof(c) / sizeof(c[0]); i++) {
		struct fx *f = fx_setup(c[i].features);
		struct vnet_rx_pkt p = kgro_pkt(c[i].gso_type, c[i].csum_start, c[i].doff);
		__u32 len;

		post_rx(f, 8, 4096);
		EXPECT(vnet_net_rx_burst(&f->q, &p, 1) == 0, "%s: not delivered", c[i].what);
		EXPECT(f->q.stats.rx_kgro_bad == 1, "%s: counted", c[i].what);
		EXPECT(vdriver_get_used(&f->d, &len) < 0, "%s: no buffer used", c[i].what);
		vdriver_destroy(&f->d);
	}
}

/* Every case on a split ring, then on a packed one (the same engine
 * calls, the other layout under them). */
static const struct test_case cases[] = {
	TEST_CASE(test_rx_single_buffer),
	TEST_CASE(test_rx_data_valid),
	TEST_CASE(test_rx_hash_report),
	TEST_CASE(test_rx_mergeable),
	TEST_CASE(test_rx_too_big_without_mrg),
	TEST_CASE(test_rx_no_buffers),
	TEST_CASE(test_rx_header_across_descriptors),
	TEST_CASE(test_rx_bad_buffers),
	TEST_CASE(test_rx_too_many_buffers),
	TEST_CASE(test_rx_broken_ring),
	TEST_CASE(test_rx_kernel_gso),
	TEST_CASE(test_rx_kernel_refused),
};

int main(void)
{
	test_run_variants(cases, sizeof(cases) / sizeof(cases[0]), &packed, "_packed");
	return test_summary();
}
