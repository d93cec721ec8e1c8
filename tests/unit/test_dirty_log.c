// SPDX-License-Identifier: MIT
/*
 * Dirty-page logging (live migration): with logging on, every write the
 * engine makes into guest memory marks exactly the pages it wrote. The
 * check is the one a migration relies on: a driver (lib/vdriver.c) keeps a
 * second image of guest memory, taken before the device runs; after the
 * traffic it copies only the pages the log marked and compares the two
 * images, which must be equal (nothing missed); every marked page must be
 * one the device wrote (nothing extra). Receive with MRG_RXBUF over page
 * boundaries, multi-segment chains, transmit completions, EVENT_IDX's
 * avail_event, kick suppression; used-ring writes logged at the
 * front-end's log_guest_addr; logging off marks nothing. Then the same
 * through the device model and the vnet/sim worker thread, control-queue
 * acks included, and the ring positions a migration's GET_VRING_BASE
 * reads. The engine's cases run on both ring layouts: a packed ring's
 * used descriptors (the descriptor ring) and its device event area are
 * logged at their own guest addresses, never at log_guest_addr.
 */
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>

#include <vnet/dirty_log.h>
#include <vnet/net.h>
#include "vnet/device.h"
#include "vnet/sim.h"

#include "frame.h"
#include "test.h"
#include "vdriver.h"

#define F(bit)	(1ull << (bit))
#define PAGE	4096u
#define RING	256		/* the cases' ring size */
#define RING_MAX	512		/* test_ring_pages' */

/* --- a driver with a second image ------------------------------------------ */

struct img {
	struct vdriver d;
	struct vnet_netq q;
	__u8 *copy;		/* the image the destination would have */
	__u8 *bits;		/* the dirty log, covering GPA 0 .. the image's end */
	struct vnet_dirty_log log;
	__u8 *must;		/* per page: the device wrote it (must be logged) */
	__u8 *may;		/* per page: the device may have written it */
	__u64 buf_gpa[RING_MAX][2];	/* head -> its segments (gpa, len) */
	__u32 buf_len[RING_MAX][2];
};

static struct img im;
static bool packed;	/* the cases' second run: VIRTIO_F_RING_PACKED */
static __u16 ring_size = RING;	/* the next img_setup's ring size */

static void on_notify(struct vnet_virtq *vq, void *o) { }
static void on_error(struct vnet_virtq *vq, int e, void *o) { }
static const struct vnet_virtq_ops ops = { on_notify, on_error };

static unsigned int npages(const struct img *m)
{
	return (unsigned int)(m->d.mem_size / PAGE);
}

static __u64 page_gpa(const struct img *m, unsigned int p)
{
	return m->d.gpa_base + (__u64)p * PAGE;
}

/* pages of [gpa, gpa + len) into 'set' */
static void want(const struct img *m, __u8 *set, __u64 gpa, __u64 len)
{
	if (!len)
		return;
	for (__u64 p = (gpa - m->d.gpa_base) / PAGE;
	     p <= (gpa + len - 1 - m->d.gpa_base) / PAGE; p++)
		set[p] = 1;
}

/*
 * A queue over a fresh image; 'logging': the queue gets the log; used-ring
 * writes logged at 'log_gpa' (0: the used ring's own, as QEMU does).
 */
static struct img *img_setup_at(__u64 features, bool logging, bool used_log, __u64 log_gpa)
{
	struct vnet_virtq_cfg cfg;
	struct img *m = &im;
	__u64 log_bytes;

	memset(m, 0, sizeof(*m));
	if ((packed ? vdriver_create_packed : vdriver_create)(&m->d, ring_size, 1 << 20))
		return NULL;
	/* receive buffers are poisoned: every byte the device writes changes */
	memset(m->d.mem + m->d.heap_start, 0xa5, m->d.mem_size - m->d.heap_start);
	log_bytes = ((m->d.gpa_base + m->d.mem_size) / PAGE + 7) / 8;
	m->bits = calloc(1, log_bytes);
	m->copy = malloc(m->d.mem_size);
	m->must = calloc(npages(m), 1);
	m->may = calloc(npages(m), 1);
	m->log = (struct vnet_dirty_log){ .bitmap = m->bits, .size = log_bytes };
	vnet_netq_init(&m->q, 0, features | F(VIRTIO_F_VERSION_1), 1500, &ops, m);
	vdriver_cfg(&m->d, features | F(VIRTIO_F_VERSION_1), &cfg);
	cfg.log = logging ? &m->log : NULL;
	cfg.used_log = used_log;
	/* QEMU: log_guest_addr = used_phys (packed: the device area) */
	cfg.used_log_gpa = log_gpa ? log_gpa : m->d.used_gpa;
	if (vnet_virtq_setup(&m->q.vq, &m->d.gm, &cfg))
		return NULL;
	return m;
}

static struct img *img_setup(__u64 features, bool logging, bool used_log)
{
	return img_setup_at(features, logging, used_log, 0);
}

static void img_free(struct img *m)
{
	free(m->bits);
	free(m->copy);
	free(m->must);
	free(m->may);
	vdriver_destroy(&m->d);
}

/* The driver is done writing: the destination's image is this one. */
static void img_snap(struct img *m)
{
	memcpy(m->copy, m->d.mem, m->d.mem_size);
	memset(m->bits, 0, m->log.size);
	memset(m->must, 0, npages(m));
	memset(m->may, 0, npages(m));
}

/*
 * The device wrote the used ring (entries, idx, flags, avail_event); packed:
 * used descriptors (want_used_buffers() has their positions) and the
 * device event area.
 */
static void want_used(struct img *m)
{
	if (packed) {
		want(m, m->may, m->d.desc_gpa, 16ull * m->d.size);
		want(m, m->may, m->d.used_gpa, 4);
		return;
	}
	want(m, m->must, m->d.used_gpa + 2, 2);		/* idx */
	want(m, m->may, m->d.used_gpa, 6 + 8ull * m->d.size);	/* the whole ring */
}

/* where the device asks for kicks: avail_event (split), off_wrap (packed) */
static __u64 event_gpa(const struct img *m)
{
	return packed ? m->d.used_gpa : m->d.used_gpa + 4 + 8ull * m->d.size;
}

/* the buffer 'id' took 'len' bytes: the pages it wrote */
static void want_buffer(struct img *m, __u32 id, __u32 len)
{
	for (int s = 0; s < 2 && len && id < RING_MAX; s++) {
		__u32 k = len < m->buf_len[id][s] ? len : m->buf_len[id][s];

		want(m, m->must, m->buf_gpa[id][s], k);
		len -= k;
	}
}

/*
 * Packed: take the used descriptors as the driver does (that writes only
 * the driver's own state, no guest memory); each one the device wrote at
 * the driver's used position.
 */
static unsigned int want_used_packed(struct img *m)
{
	unsigned int n = 0;
	__u32 len;

	for (;;) {
		__u16 at = m->d.pk.next_used;
		int id = vdriver_get_used(&m->d, &len);

		if (id < 0)
			return n;
		want(m, m->must, m->d.desc_gpa + 16ull * at, 16);
		want_buffer(m, (__u32)id, len);
		n++;
	}
}
/*
 * What the completions since the snapshot wrote into their buffers. Read
 * from the used ring without taking them back: freeing descriptors is a
 * driver write the device's log has nothing to do with.
 */
static unsigned int want_used_buffers(struct img *m)
{
	__u16 start = m->d.last_used, end, i;

	if (packed)
		return want_used_packed(m);
	end = vdriver_used_idx(&m->d);
	for (i = start; i != end; i++) {
		const struct vring_used_elem *e = &m->d.used->ring[i & (m->d.size - 1)];

		want_buffer(m, le32toh(e->id), le32toh(e->len));
	}
	m->d.last_used = end;	/* never reclaimed: each test posts fresh chains */
	return (__u16)(end - start);
}

/*
 * Copy the logged pages into the second image; it must equal the first
 * (no write missed), and every logged page must be one the device may have
 * written, every page it surely wrote logged (exactly those pages).
 */
static void img_check(struct img *m, const char *what)
{
	unsigned int p, missed = 0, extra = 0, unlogged = 0;

	for (p = 0; p < npages(m); p++) {
		bool logged = vnet_dirty_log_test(&m->log, page_gpa(m, p));

		if (logged)
			memcpy(m->copy + p * PAGE, m->d.mem + p * PAGE, PAGE);
		if (memcmp(m->copy + p * PAGE, m->d.mem + p * PAGE, PAGE))
			missed++;
		if (logged && !m->must[p] && !m->may[p])
			extra++;
		if (!logged && m->must[p])
			unlogged++;
	}
	EXPECT(!missed, "%s: %u written pages not logged", what, missed);
	EXPECT(!extra, "%s: %u pages logged that the device did not write", what, extra);
	EXPECT(!unlogged, "%s: %u pages the device wrote not logged", what, unlogged);
}

static unsigned int bits_set(const struct img *m)
{
	unsigned int n = 0;

	for (__u64 i = 0; i < m->log.size; i++)
		n += __builtin_popcount(m->bits[i]);
	return n;
}

/* One receive buffer chain of one or two segments; returns the head. */
static int post_buf(struct img *m, __u64 gpa, __u32 len, __u64 gpa2, __u32 len2)
{
	struct vdrv_seg s[2] = { { gpa, len, true }, { gpa2, len2, true } };
	int head = vdriver_add(&m->d, s, len2 ? 2 : 1, false);

	if (head >= 0) {
		m->buf_gpa[head][0] = gpa, m->buf_len[head][0] = len;
		m->buf_gpa[head][1] = gpa2, m->buf_len[head][1] = len2;
	}
	return head;
}

static __u8 frame[9000];

static struct vnet_rx_pkt pkt(__u32 len)
{
	return (struct vnet_rx_pkt){ .data = frame, .len = len };
}

/* --- the engine ------------------------------------------------------------- */

/*
 * MRG_RXBUF: buffers straddling page boundaries by different amounts; a
 * small frame whose bytes stay before the boundary (the next page is not
 * the device's), one that crosses it by a few bytes, a frame spread over
 * three buffers (num_buffers written last, into the first), a chain of two
 * segments in different pages.
 */
static void test_rx_mergeable(void)
{
	struct img *m = img_setup(F(VIRTIO_NET_F_MRG_RXBUF), true, true);
	struct vnet_rx_pkt p[4] = { pkt(60), pkt(60), pkt(2500), pkt(700) };
	__u64 b;

	EXPECT(m, "setup");
	if (!m)
		return;
	b = vdriver_alloc(&m->d, 64 * PAGE, NULL);	/* page aligned: heap start */
	post_buf(m, b + 1 * PAGE - 100, 1024, 0, 0);	/* 72 bytes: first page only */
	post_buf(m, b + 3 * PAGE - 30, 1024, 0, 0);	/* 72 bytes: both pages */
	post_buf(m, b + 5 * PAGE - 700, 1024, 0, 0);	/* 2512 bytes: 3 buffers */
	post_buf(m, b + 7 * PAGE - 1, 1024, 0, 0);
	post_buf(m, b + 9 * PAGE + 4000, 1024, 0, 0);
	/* two segments, 300 + 900 bytes, pages apart */
	post_buf(m, b + 20 * PAGE - 150, 300, b + 30 * PAGE + 2000, 900);
	vdriver_publish(&m->d);
	img_snap(m);
	EXPECT(vnet_net_rx_burst(&m->q, p, 4) == 4, "delivered %llu",
	       (unsigned long long)m->q.stats.rx_packets);
	EXPECT(want_used_buffers(m) == 6, "six buffers used");
	want_used(m);
	img_check(m, "mergeable receive");
	/* the boundary rule, spelled out: 72 bytes 100 before the end */
	EXPECT(vnet_dirty_log_test(&m->log, b) && !vnet_dirty_log_test(&m->log, b + PAGE),
	       "a buffer's untouched page logged (or the written one not)");
	EXPECT(vnet_dirty_log_test(&m->log, b + 30 * PAGE), "second segment not logged");
	img_free(m);
}

/* Without MRG_RXBUF: one buffer a frame, a frame too big leaves no mark. */
static void test_rx_single(void)
{
	struct img *m = img_setup(0, true, true);
	struct vnet_rx_pkt p[3] = { pkt(1400), pkt(3000), pkt(100) };
	__u64 b;

	EXPECT(m, "setup");
	if (!m)
		return;
	b = vdriver_alloc(&m->d, 16 * PAGE, NULL);
	post_buf(m, b + PAGE - 1000, 2048, 0, 0);
	post_buf(m, b + 4 * PAGE - 8, 2048, 0, 0);
	vdriver_publish(&m->d);
	img_snap(m);
	/* the 3000-byte frame does not fit a buffer: dropped, buffer kept */
	EXPECT(vnet_net_rx_burst(&m->q, p, 3) == 2, "two delivered");
	EXPECT(want_used_buffers(m) == 2, "two buffers used");
	want_used(m);
	img_check(m, "single-buffer receive");
	img_free(m);
}

/* Transmit: the device reads the buffers and writes the used ring only. */
static void test_tx_completions(void)
{
	struct img *m = img_setup(F(VIRTIO_NET_F_CSUM), true, true);
	struct vnet_tx_buf out[64];
	static __u8 bufs[64][2048];
	unsigned int i;

	EXPECT(m, "setup");
	if (!m)
		return;
	for (i = 0; i < 40; i++) {
		void *hva;
		struct vdrv_seg s = { vdriver_alloc(&m->d, 12 + 60, &hva), 12 + 60, false };

		memset(hva, 0, 12);
		memset((__u8 *)hva + 12, 0xff, 6);	/* broadcast */
		vdriver_add(&m->d, &s, 1, false);
	}
	vdriver_publish(&m->d);
	for (i = 0; i < 64; i++)
		out[i] = (struct vnet_tx_buf){ .data = bufs[i], .cap = sizeof(bufs[i]) };
	img_snap(m);
	EXPECT(vnet_net_tx_burst(&m->q, out, 64) == 40, "sent");
	EXPECT(want_used_buffers(m) == 40, "completed");
	want_used(m);
	img_check(m, "transmit completions");
	EXPECT(bits_set(m) == 1, "%u pages logged for one used ring page", bits_set(m));
	img_free(m);
}

/* Post n one-descriptor frames (72 bytes, broadcast) from the heap. */
static unsigned int tx_post(struct img *m, unsigned int n)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		void *hva;
		struct vdrv_seg s = { vdriver_alloc(&m->d, 12 + 60, &hva), 12 + 60, false };

		memset(hva, 0, 12);
		memset((__u8 *)hva + 12, 0xff, 6);
		if (vdriver_add(&m->d, &s, 1, false) < 0)
			break;
	}
	vdriver_publish(&m->d);
	return i;
}

/*
 * The device sends all it finds, in bursts of 50 (one publish each): not a
 * divisor of 256, so a burst's used entries straddle a page boundary.
 */
static unsigned int tx_send(struct img *m)
{
	struct vnet_tx_buf out[50];
	static __u8 bufs[50][2048];
	unsigned int i, sent = 0, got;

	for (i = 0; i < 50; i++)
		out[i] = (struct vnet_tx_buf){ .data = bufs[i], .cap = sizeof(bufs[i]) };
	do {
		got = vnet_net_tx_burst(&m->q, out, 50);
		sent += got;
	} while (got);
	return sent;
}

/*
 * A ring whose device-written part spans pages (512 entries: a packed
 * descriptor ring of two pages, a split used ring over a boundary), used
 * twice over so the second round wraps: every page written is logged
 * and no other, the marks that skip a page already marked included.
 */
static void test_ring_pages(void)
{
	struct img *m;
	__u16 first;

	ring_size = RING_MAX;
	m = img_setup(F(VIRTIO_NET_F_CSUM), true, true);
	ring_size = RING;
	EXPECT(m, "setup");
	if (!m)
		return;
	EXPECT(tx_post(m, 300) == 300, "first round posted");
	img_snap(m);
	first = m->d.last_used;
	EXPECT(tx_send(m) == 300, "first round sent");
	EXPECT(want_used_buffers(m) == 300, "first round completed");
	want_used(m);
	img_check(m, "300 completions");
	if (packed)
		EXPECT(vnet_dirty_log_test(&m->log, m->d.desc_gpa) &&
		       vnet_dirty_log_test(&m->log, m->d.desc_gpa + PAGE),
		       "descriptors 0..299: both pages of the descriptor ring");
	/* split: the driver takes the descriptors back (packed: done) */
	if (!packed) {
		m->d.last_used = first;
		while (vdriver_get_used(&m->d, NULL) >= 0)
			;
	}
	EXPECT(tx_post(m, 300) == 300, "second round posted");
	img_snap(m);
	EXPECT(tx_send(m) == 300, "second round sent");
	EXPECT(want_used_buffers(m) == 300, "second round completed");
	want_used(m);
	img_check(m, "300 completions over the ring's end");
	img_free(m);
}

/*
 * EVENT_IDX: an empty pop writes avail_event; kicks off and on move it
 * too (spec 2.7.10), all in the used ring: logged, nothing else.
 */
static void test_event_idx(void)
{
	struct img *m = img_setup(F(VIRTIO_RING_F_EVENT_IDX), true, true);
	struct vnet_rx_pkt p = pkt(100);

	EXPECT(m, "setup");
	if (!m)
		return;
	img_snap(m);
	EXPECT(vnet_net_rx_burst(&m->q, &p, 1) == 0, "no buffer, no frame");
	want(m, m->must, event_gpa(m), 2);	/* avail_event / off_wrap */
	img_check(m, "avail_event of an empty pop");
	EXPECT(bits_set(m) == 1, "avail_event: %u pages", bits_set(m));

	img_snap(m);
	vnet_virtq_notify_enable(&m->q.vq, false);
	vnet_virtq_notify_enable(&m->q.vq, true);
	want(m, m->must, event_gpa(m), 2);
	img_check(m, "kicks off and on");
	img_free(m);

	/* without EVENT_IDX the request is used->flags (packed: flags) */
	m = img_setup(0, true, true);
	EXPECT(m, "setup");
	if (!m)
		return;
	img_snap(m);
	vnet_virtq_notify_enable(&m->q.vq, false);
	want(m, m->must, m->d.used_gpa + (packed ? 2 : 0), 2);
	img_check(m, "VRING_USED_F_NO_NOTIFY");
	img_free(m);
}

/*
 * Used-ring writes are logged at log_guest_addr + their offset (which need
 * not be guest memory): placed 4 bytes before a page boundary, idx lands
 * on one log page and the entries and avail_event on the next, so each
 * write's own offset shows. Without VHOST_VRING_F_LOG nothing of the ring
 * is logged, only the buffers.
 */
/* The queue afresh with 'cfg', one receive buffer posted, the log cleared. */
static void requeue(struct img *m, const struct vnet_virtq_cfg *cfg)
{
	vnet_virtq_reset(&m->q.vq);
	EXPECT(vnet_virtq_setup_split(&m->q.vq, &m->d.gm, cfg) == 0, "setup");
	post_buf(m, vdriver_alloc(&m->d, 2048, NULL), 2048, 0, 0);
	vdriver_publish(&m->d);
	memset(m->bits, 0, m->log.size);
}

/*
 * Packed: a packed ring has no used ring; its descriptor ring and device
 * area are logged at their own guest addresses (the memory table's), not
 * at log_guest_addr, and only with VHOST_VRING_F_LOG.
 */
static void packed_log_address(void)
{
	const __u64 at = 0x3000 - 4;
	struct vnet_rx_pkt p = pkt(100);

	for (int flag = 1; flag >= 0; flag--) {
		struct img *m = img_setup_at(F(VIRTIO_RING_F_EVENT_IDX), true, flag, at);

		EXPECT(m, "setup");
		if (!m)
			return;
		post_buf(m, vdriver_alloc(&m->d, 2048, NULL), 2048, 0, 0);
		vdriver_publish(&m->d);
		memset(m->bits, 0, m->log.size);
		/* a completion, then an empty pop asks for a kick (off_wrap) */
		EXPECT(vnet_net_rx_burst(&m->q, &p, 1) == 1, "delivered");
		EXPECT(vnet_net_rx_burst(&m->q, &p, 1) == 0, "no buffer left");
		EXPECT(!vnet_dirty_log_test(&m->log, 0x2000) &&
		       !vnet_dirty_log_test(&m->log, 0x3000), "logged at log_guest_addr");
		EXPECT(vnet_dirty_log_test(&m->log, m->d.desc_gpa) == flag,
		       "used descriptor: logged %d, VRING_F_LOG %d",
		       vnet_dirty_log_test(&m->log, m->d.desc_gpa), flag);
		EXPECT(vnet_dirty_log_test(&m->log, m->d.used_gpa) == flag,
		       "device area: logged %d, VRING_F_LOG %d",
		       vnet_dirty_log_test(&m->log, m->d.used_gpa), flag);
		/* the buffer's page, always; the ring's two pages with the flag */
		EXPECT(bits_set(m) == (flag ? 3u : 1u), "%u pages logged (VRING_F_LOG %d)",
		       bits_set(m), flag);
		img_free(m);
	}
}

static void test_used_log_address(void)
{
	const __u64 at = 0x3000 - 4;	/* below the image: GPA 0x40000000 */
	struct vnet_virtq_cfg cfg;
	struct img *m;
	struct vnet_rx_pkt p = pkt(100);

	if (packed) {
		packed_log_address();
		return;
	}
	m = img_setup(F(VIRTIO_RING_F_EVENT_IDX), true, true);
	EXPECT(m, "setup");
	if (!m)
		return;
	vdriver_cfg(&m->d, F(VIRTIO_RING_F_EVENT_IDX) | F(VIRTIO_F_VERSION_1), &cfg);
	cfg.log = &m->log;
	cfg.used_log = true;
	cfg.used_log_gpa = at;
	requeue(m, &cfg);
	/* a completion: the entry (page 0x3000) and idx (page 0x2000) */
	EXPECT(vnet_net_rx_burst(&m->q, &p, 1) == 1, "delivered");
	EXPECT(vnet_dirty_log_test(&m->log, 0x2000), "used->idx not logged at its offset");
	EXPECT(vnet_dirty_log_test(&m->log, 0x3000), "used entry not logged at its offset");
	EXPECT(!vnet_dirty_log_test(&m->log, m->d.used_gpa), "logged at the ring's own address");
	/* kicks: avail_event only (entries' page) */
	memset(m->bits, 0, m->log.size);
	vnet_virtq_notify_enable(&m->q.vq, false);
	EXPECT(vnet_dirty_log_test(&m->log, 0x3000) && !vnet_dirty_log_test(&m->log, 0x2000),
	       "avail_event logged at the wrong offset");

	/* no VHOST_VRING_F_LOG: the buffer's page, not the ring */
	cfg.used_log = false;
	requeue(m, &cfg);
	EXPECT(vnet_net_rx_burst(&m->q, &p, 1) == 1, "delivered");
	EXPECT(bits_set(m) == 1, "%u pages without used-ring logging", bits_set(m));
	img_free(m);
}

/* Logging off: the same traffic marks nothing. */
static void test_logging_off(void)
{
	struct img *m = img_setup(F(VIRTIO_NET_F_MRG_RXBUF) | F(VIRTIO_RING_F_EVENT_IDX),
				  false, true);
	struct vnet_rx_pkt p[2] = { pkt(3000), pkt(60) };
	__u64 b;

	EXPECT(m, "setup");
	if (!m)
		return;
	b = vdriver_alloc(&m->d, 16 * PAGE, NULL);
	for (int i = 0; i < 8; i++)
		post_buf(m, b + i * PAGE + 3000, 1500, 0, 0);
	vdriver_publish(&m->d);
	img_snap(m);
	EXPECT(vnet_net_rx_burst(&m->q, p, 2) == 2, "delivered");
	EXPECT(vnet_net_rx_burst(&m->q, p, 0) == 0, "empty burst");
	vnet_virtq_notify_enable(&m->q.vq, false);
	EXPECT(bits_set(m) == 0, "%u pages logged with logging off", bits_set(m));
	img_free(m);
}

/* The bitmap itself: exact bits, never past its end, no wrap. */
static void test_mark_bounds(void)
{
	__u8 *bits = calloc(1, 8);
	struct vnet_dirty_log log = { .bitmap = bits + 2, .size = 4 };	/* 32 pages */
	unsigned int n = 0;

	vnet_dirty_log_mark(&log, 5 * PAGE + 100, 15 * PAGE);	/* pages 5..20 */
	for (unsigned int p = 0; p < 32; p++)
		n += vnet_dirty_log_test(&log, (__u64)p * PAGE) != (p >= 5 && p <= 20);
	EXPECT(!n, "%u wrong bits for pages 5..20", n);
	memset(bits, 0, 8);
	vnet_dirty_log_mark(&log, 31 * PAGE, 100 * PAGE);	/* the last page on */
	EXPECT(bits[5] == 0x80 && !bits[0] && !bits[1] && !bits[6] && !bits[7],
	       "past the end: %02x %02x", bits[6], bits[7]);
	memset(bits, 0, 8);
	vnet_dirty_log_mark(&log, ~0ull - 10, 100);		/* would wrap to 0 */
	vnet_dirty_log_mark(&log, 3 * PAGE, 0);
	EXPECT(!bits[2] && !bits[3] && !bits[4] && !bits[5], "wrapped or empty range logged");
	free(bits);
}

/* The reverse translation the iov write path uses, two regions. */
static void test_hva_to_gpa(void)
{
	static __u8 a[8192], b[4096];
	struct vnet_guest_mem gm = { .nregions = 2 };
	__u64 gpa = 0;

	gm.regions[0] = (struct vnet_mem_region){ .gpa = 0x1000, .size = sizeof(a), .hva = a };
	gm.regions[1] = (struct vnet_mem_region){ .gpa = 0x100000, .size = sizeof(b), .hva = b };
	EXPECT(vnet_hva_to_gpa(&gm, a + 5000, 100, &gpa) == 0 && gpa == 0x1000 + 5000, "a");
	EXPECT(vnet_hva_to_gpa(&gm, b + 4000, 96, &gpa) == 0 && gpa == 0x100000 + 4000, "b");
	EXPECT(vnet_hva_to_gpa(&gm, b + 4000, 97, &gpa) == -ERANGE, "past a region's end");
	EXPECT(vnet_hva_to_gpa(&gm, frame, 1, &gpa) == -ERANGE, "outside");
}

/* --- the device model and the vnet/sim worker ------------------------------ */

#define DMEM_GPA	0x100000ull
#define DMEM_SIZE	(1u << 20)
#define DRING		64
#define DFRAMES		16
#define D_RX		(256u << 10)	/* receive buffers, straddling pages */
#define D_TX		(512u << 10)
#define D_CMD		(640u << 10)
#define D_ACK		((644u << 10) + 100)
#define LOG_OFF		128		/* the bitmap's offset in its memfd */
#define LOG_BYTES	((DMEM_GPA + DMEM_SIZE) / PAGE / 8)

/* Ring 'index' through the device's setters, used ring logged, not enabled. */
static int dring_setup(struct vnet_netdev *dev, unsigned int index, const struct vdriver *d,
		       int kick)
{
	struct vnet_vring_addr a = {
		.desc = d->desc_gpa, .avail = d->avail_gpa, .used = d->used_gpa,
		.flags = VNET_VRING_F_LOG, .log = d->used_gpa,
	};
	struct vnet_vring_base b = { 0 };

	return vnet_netdev_vring_set_num(dev, index, d->size) ||
	       vnet_netdev_vring_set_addr(dev, index, &a) ||
	       vnet_netdev_vring_set_base(dev, index, &b) ||
	       vnet_netdev_vring_set_fd(dev, index, VNET_VRING_KICK, dup(kick)) ||
	       vnet_netdev_vring_start(dev, index);
}

/* n broadcast ARP requests behind a zeroed virtio_net_hdr_v1 */
static void d_tx_frames(struct vdriver *tx, __u8 *mem, unsigned int n)
{
	static const __u8 bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	static const __u8 src[6] = { 0x02, 0, 0, 0, 0, 0x02 };

	for (unsigned int i = 0; i < n; i++) {
		struct vdrv_seg s = { DMEM_GPA + D_TX + i * 128, 12 + 60, false };

		memset(mem + D_TX + i * 128, 0, 12);
		frame_build_arp_request(mem + D_TX + i * 128 + 12, bcast, src, "10.0.0.9");
		vdriver_add(tx, &s, 1, false);
	}
	vdriver_publish(tx);
}

static bool d_wait(const struct vdriver *d, __u16 idx)
{
	for (int i = 0; i < 5000 && vdriver_used_idx(d) != idx; i++)
		usleep(1000);
	return vdriver_used_idx(d) == idx;
}

static bool d_logged(const __u8 *bits, __u64 gpa)
{
	return (bits[(gpa / PAGE) / 8] >> ((gpa / PAGE) % 8)) & 1;
}

/*
 * vnet/sim in loopback, logging through the device's setters (the bitmap
 * at an offset of its memfd): frames sent come back into receive buffers
 * that straddle pages, a control command is acked; the second image, given
 * the logged pages, equals guest memory, and only the receive buffers, the
 * used rings and the ack page were logged. The rings stop where the used
 * index is (what GET_VRING_BASE hands the destination). Logging off: the
 * same traffic marks nothing.
 */
static void test_sim_worker(void)
{
	const __u64 feat = F(VIRTIO_F_VERSION_1) | F(VIRTIO_NET_F_MRG_RXBUF) |
			   F(VIRTIO_RING_F_EVENT_IDX) | F(VIRTIO_NET_F_CTRL_VQ) |
			   F(VIRTIO_NET_F_CTRL_RX);
	struct vnet_netdev_params np = {
		.name = "lg0", .mac = { 0x02, 0, 0, 0, 0, 1 }, .max_vqp = 1, .mtu = 1500,
	};
	struct vnet_sim_opts so = { .mode = VNET_SIM_LOOPBACK, .cpu = -1 };
	struct vnet_mem_desc md = { .gpa = DMEM_GPA, .size = DMEM_SIZE };
	struct vnet_features f = vnet_features_from_u64(feat);
	int mfd = memfd_create("guest", MFD_CLOEXEC), lfd = memfd_create("log", MFD_CLOEXEC);
	int kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	struct vnet_netdev *dev = NULL;
	struct vnet_sim *sim = NULL;
	struct vdriver rx, tx, cq;
	struct vnet_vring_base base;
	unsigned int i, missed = 0, extra = 0;
	__u8 *mem, *copy = malloc(DMEM_SIZE), *lmap, *bits;
	__u64 v = 1;

	EXPECT(mfd >= 0 && ftruncate(mfd, DMEM_SIZE) == 0, "memfd");
	EXPECT(lfd >= 0 && ftruncate(lfd, PAGE) == 0, "log memfd");
	EXPECT(vnet_netdev_create(&np, &dev) == 0, "device");
	mem = mmap(NULL, DMEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	lmap = mmap(NULL, PAGE, PROT_READ | PROT_WRITE, MAP_SHARED, lfd, 0);
	if (!dev || mem == MAP_FAILED || lmap == MAP_FAILED || !copy)
		return;
	bits = lmap + LOG_OFF;
	EXPECT(vdriver_create_at(&rx, DRING, false, mem, DMEM_GPA) == 0 &&
	       vdriver_create_at(&tx, DRING, false, mem + (64u << 10), DMEM_GPA + (64u << 10)) == 0 &&
	       vdriver_create_at(&cq, DRING, false, mem + (128u << 10), DMEM_GPA + (128u << 10)) == 0,
	       "rings");
	pthread_mutex_lock(&dev->lock);
	EXPECT(vnet_netdev_mem_add(dev, &md, dup(mfd), 0) == 0, "memory");
	EXPECT(vnet_netdev_set_driver_features(dev, &f) == 0, "features");
	vnet_netdev_set_status(dev, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
			       VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
	EXPECT(!dring_setup(dev, 0, &rx, kick) && !dring_setup(dev, 1, &tx, kick) &&
	       !dring_setup(dev, 2, &cq, kick), "ring setup");
	/* no worker that could log yet: refused */
	EXPECT(vnet_netdev_log_all(dev, true) == -EOPNOTSUPP, "logging without a worker");
	pthread_mutex_unlock(&dev->lock);
	EXPECT(vnet_sim_start(dev, &so, &sim) == 0, "worker");

	pthread_mutex_lock(&dev->lock);
	EXPECT(vnet_netdev_log_set_base(dev, dup(lfd), LOG_BYTES, LOG_OFF) == 0, "log base");
	EXPECT(vnet_netdev_log_all(dev, true) == 0 && vnet_netdev_logging(dev), "logging on");
	pthread_mutex_unlock(&dev->lock);

	/* the driver's writes: buffers, frames, a command; then the snapshot */
	for (i = 0; i < DFRAMES; i++) {
		struct vdrv_seg s = { DMEM_GPA + D_RX + i * PAGE + 3000, 1500, true };

		vdriver_add(&rx, &s, 1, false);
	}
	vdriver_publish(&rx);
	memset(mem + D_RX, 0xa5, DFRAMES * PAGE + PAGE);
	d_tx_frames(&tx, mem, DFRAMES);
	{
		struct vdrv_seg s[2] = { { DMEM_GPA + D_CMD, 3, false },
					 { DMEM_GPA + D_ACK, 1, true } };

		mem[D_CMD] = VIRTIO_NET_CTRL_RX;
		mem[D_CMD + 1] = VIRTIO_NET_CTRL_RX_PROMISC;
		mem[D_CMD + 2] = 1;
		mem[D_ACK] = 0xee;
		vdriver_add(&cq, s, 2, false);
		vdriver_publish(&cq);
	}
	memcpy(copy, mem, DMEM_SIZE);
	memset(bits, 0, LOG_BYTES);

	pthread_mutex_lock(&dev->lock);
	for (i = 0; i < 3; i++)
		vnet_netdev_vring_enable(dev, i, true);
	pthread_mutex_unlock(&dev->lock);
	EXPECT(write(kick, &v, sizeof(v)) == sizeof(v), "kick");
	EXPECT(d_wait(&rx, DFRAMES), "%u of %u frames came back", vdriver_used_idx(&rx), DFRAMES);
	EXPECT(d_wait(&cq, 1) && mem[D_ACK] == VIRTIO_NET_OK, "ack %u", mem[D_ACK]);
	EXPECT(d_wait(&tx, DFRAMES), "transmit completions");

	pthread_mutex_lock(&dev->lock);
	for (i = 0; i < DMEM_SIZE / PAGE; i++) {
		__u64 gpa = DMEM_GPA + (__u64)i * PAGE;
		bool logged = d_logged(bits, gpa);
		bool rxbuf = i * PAGE >= D_RX && i * PAGE < D_RX + (DFRAMES + 1) * PAGE;
		bool ring = i == 0 || i == 16 || i == 32;	/* used rings' pages */

		if (logged)
			memcpy(copy + i * PAGE, mem + i * PAGE, PAGE);
		missed += !!memcmp(copy + i * PAGE, mem + i * PAGE, PAGE);
		extra += logged && !rxbuf && !ring && i != D_ACK / PAGE;
	}
	EXPECT(!missed, "%u written pages not logged", missed);
	EXPECT(!extra, "%u pages logged that the device did not write", extra);
	EXPECT(d_logged(bits, DMEM_GPA + D_ACK) && !d_logged(bits, DMEM_GPA + D_TX) &&
	       !d_logged(bits, DMEM_GPA + D_CMD), "ack / frames / command pages");
	/* a stopped ring resumes where its used index is (GET_VRING_BASE) */
	EXPECT(vnet_netdev_vring_get_base(dev, 0, &base) == 0 &&
	       base.last_avail_idx == vdriver_used_idx(&rx), "rx base %u used %u",
	       base.last_avail_idx, vdriver_used_idx(&rx));
	EXPECT(vnet_netdev_vring_get_base(dev, 1, &base) == 0 &&
	       base.last_avail_idx == vdriver_used_idx(&tx), "tx base %u", base.last_avail_idx);

	/* logging off: the same traffic again marks nothing */
	EXPECT(vnet_netdev_log_all(dev, false) == 0 && !vnet_netdev_logging(dev), "off");
	memset(bits, 0, LOG_BYTES);
	pthread_mutex_unlock(&dev->lock);
	d_tx_frames(&tx, mem, DFRAMES / 2);
	EXPECT(write(kick, &v, sizeof(v)) == sizeof(v), "kick");
	EXPECT(d_wait(&tx, DFRAMES + DFRAMES / 2), "transmit with logging off");
	vnet_sim_stop(sim);
	for (i = 0, extra = 0; i < LOG_BYTES; i++)
		extra += bits[i] != 0;
	EXPECT(!extra, "logging off: %u bitmap bytes set", extra);

	vdriver_destroy(&rx);
	vdriver_destroy(&tx);
	vdriver_destroy(&cq);
	vnet_netdev_destroy(dev);
	munmap(mem, DMEM_SIZE);
	munmap(lmap, PAGE);
	free(copy);
	close(mfd);
	close(lfd);
	close(kick);
}

int main(void)
{
	static const struct test_case engine[] = {
		TEST_CASE(test_rx_mergeable),
		TEST_CASE(test_rx_single),
		TEST_CASE(test_tx_completions),
		TEST_CASE(test_event_idx),
		TEST_CASE(test_used_log_address),
		TEST_CASE(test_logging_off),
		TEST_CASE(test_ring_pages),
	};

	for (unsigned int i = 0; i < sizeof(frame); i++)
		frame[i] = (__u8)(i * 7 + 1);
	test_run_variants(engine, sizeof(engine) / sizeof(engine[0]), &packed, "_packed");
	RUN(test_mark_bounds);
	RUN(test_hva_to_gpa);
	RUN(test_sim_worker);
	return test_summary();
}
