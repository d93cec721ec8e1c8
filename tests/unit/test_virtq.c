// SPDX-License-Identifier: MIT
/*
 * Virtqueue engine against a well-behaved and a misbehaving driver
 * (lib/vdriver.c): chain walking, indirect tables, every malformation
 * the engine must survive, used-ring publication and notifications. The
 * cases that go through the driver half's API run on split rings and again
 * on packed ones; those that write the split ring by hand run on it only
 * (the packed ring's own: test_virtq_packed.c).
 */
#include <endian.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <vnet/virtq.h>

#include "frame.h"
#include "kick_race.h"
#include "test.h"
#include "vdriver.h"
#include "vq_fixture.h"

#define F_INDIRECT	(1ull << VIRTIO_RING_F_INDIRECT_DESC)
#define F_EVENT_IDX	(1ull << VIRTIO_RING_F_EVENT_IDX)

static struct vnet_chain chain;
static bool packed;	/* the ring layout of this round (main) */

/* the shared fixture (tests/lib/vq_fixture.h) on this round's layout */
static int fx_setup(struct vq_fx *f, __u16 size, __u64 features)
{
	return vq_fx_setup(f, packed, size, features);
}

/* One buffer of 'n' segments through the driver's API, published; its id. */
static int add_one(struct vq_fx *f, const struct vdrv_seg *s, unsigned int n)
{
	int id = vdriver_add(&f->d, s, n, false);

	vdriver_publish(&f->d);
	return id;
}

/* Set raw descriptor i of the main table. */
static void set_desc(struct vdriver *d, __u16 i, __u64 addr, __u32 len,
		     __u16 flags, __u16 next)
{
	d->desc[i].addr = htole64(addr);
	d->desc[i].len = htole32(len);
	d->desc[i].flags = htole16(flags);
	d->desc[i].next = htole16(next);
}

static void test_direct_chain(void)
{
	struct vq_fx f;
	void *a, *b, *c;
	struct vdrv_seg s[3];
	__u32 len;
	int head;

	EXPECT(fx_setup(&f, 64, 0) == 0, "setup");
	s[0] = (struct vdrv_seg){ vdriver_alloc(&f.d, 12, &a), 12, false };
	s[1] = (struct vdrv_seg){ vdriver_alloc(&f.d, 100, &b), 100, false };
	s[2] = (struct vdrv_seg){ vdriver_alloc(&f.d, 2048, &c), 2048, true };
	head = vdriver_add(&f.d, s, 3, false);
	EXPECT(vnet_virtq_pop(&f.vq, &chain) == 0, "nothing before publish");
	vdriver_publish(&f.d);
	EXPECT(vnet_virtq_pop(&f.vq, &chain) == 1, "pop");
	EXPECT(vnet_chain_id(chain.head) == head, "head");
	EXPECT(chain.nr_out == 2 && chain.nr_in == 1, "out %u in %u",
	       chain.nr_out, chain.nr_in);
	EXPECT(chain.out_len == 112 && chain.in_len == 2048, "lens");
	EXPECT(chain.iov[0].base == a && chain.iov[1].base == b &&
	       chain.iov[2].base == c, "pointers");
	EXPECT(vnet_virtq_pop(&f.vq, &chain) == 0, "empty");
	vnet_virtq_push(&f.vq, chain.head, 1000);
	vnet_virtq_flush(&f.vq, 1);
	EXPECT(vdriver_get_used(&f.d, &len) == head && len == 1000, "used");
	EXPECT(f.notifies == 1, "notifies %d", f.notifies);
	vq_fx_done(&f);
}

static void test_indirect_chain(void)
{
	struct vq_fx f;
	struct vdrv_seg s[4];
	void *p;
	int head;

	EXPECT(fx_setup(&f, 64, F_INDIRECT) == 0, "setup");
	for (int i = 0; i < 4; i++)
		s[i] = (struct vdrv_seg){ vdriver_alloc(&f.d, 256, i == 0 ? &p : NULL),
					  256, i >= 2 };
	head = vdriver_add(&f.d, s, 4, true);
	vdriver_publish(&f.d);
	EXPECT(vnet_virtq_pop(&f.vq, &chain) == 1, "pop");
	EXPECT(vnet_chain_id(chain.head) == head && chain.nr_out == 2 && chain.nr_in == 2,
	       "shape %u/%u", chain.nr_out, chain.nr_in);
	EXPECT(chain.iov[0].base == p, "pointer");
	vnet_virtq_push(&f.vq, chain.head, 0);
	vnet_virtq_flush(&f.vq, 1);
	EXPECT(vdriver_get_used(&f.d, NULL) == head, "used");
	if (packed) {	/* no indirect table in a list (2.8.19): packed tests */
		vq_fx_done(&f);
		return;
	}

	/* split: direct descriptors followed by one indirect (2.7.5.3.2) */
	struct vring_desc *t;
	__u64 tgpa = vdriver_alloc(&f.d, 32, (void **)&t);
	__u64 buf = vdriver_alloc(&f.d, 64, NULL);

	set_desc(&f.d, 10, buf, 10, VRING_DESC_F_NEXT, 11);
	set_desc(&f.d, 11, tgpa, 32, VRING_DESC_F_INDIRECT, 0);
	t[0] = (struct vring_desc){ htole64(buf + 10), htole32(20),
				    htole16(VRING_DESC_F_NEXT), htole16(1) };
	t[1] = (struct vring_desc){ htole64(buf + 30), htole32(30),
				    htole16(VRING_DESC_F_WRITE), 0 };
	vdriver_add_raw(&f.d, 10);
	EXPECT(vnet_virtq_pop(&f.vq, &chain) == 1, "mixed pop");
	EXPECT(chain.out_len == 30 && chain.in_len == 30, "mixed %u/%u",
	       chain.out_len, chain.in_len);
	vq_fx_done(&f);
}

static void test_indirect_rules(void)
{
	struct vq_fx f;
	struct vring_desc *t;
	__u64 tgpa, buf;

	/* not negotiated */
	EXPECT(fx_setup(&f, 16, 0) == 0, "setup");
	tgpa = vdriver_alloc(&f.d, 64, (void **)&t);
	buf = vdriver_alloc(&f.d, 64, NULL);
	t[0] = (struct vring_desc){ htole64(buf), htole32(64), 0, 0 };
	set_desc(&f.d, 0, tgpa, 16, VRING_DESC_F_INDIRECT, 0);
	vdriver_add_raw(&f.d, 0);
	vq_fx_expect_bad(&f, -1, -EINVAL);
	vq_fx_expect_still_works(&f);
	vq_fx_done(&f);

	EXPECT(fx_setup(&f, 16, F_INDIRECT) == 0, "setup");
	tgpa = vdriver_alloc(&f.d, 64, (void **)&t);
	buf = vdriver_alloc(&f.d, 64, NULL);
	/* indirect inside indirect */
	t[0] = (struct vring_desc){ htole64(tgpa), htole32(32),
				    htole16(VRING_DESC_F_INDIRECT), 0 };
	set_desc(&f.d, 0, tgpa, 16, VRING_DESC_F_INDIRECT, 0);
	vdriver_add_raw(&f.d, 0);
	vq_fx_expect_bad(&f, -1, -EINVAL);
	/* INDIRECT together with NEXT */
	t[0] = (struct vring_desc){ htole64(buf), htole32(64), 0, 0 };
	set_desc(&f.d, 0, tgpa, 16, VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT, 1);
	set_desc(&f.d, 1, buf, 8, 0, 0);
	vdriver_add_raw(&f.d, 0);
	vq_fx_expect_bad(&f, -1, -EINVAL);
	/* table length not a multiple of 16, and zero */
	set_desc(&f.d, 0, tgpa, 24, VRING_DESC_F_INDIRECT, 0);
	vdriver_add_raw(&f.d, 0);
	vq_fx_expect_bad(&f, -1, -EINVAL);
	set_desc(&f.d, 0, tgpa, 0, VRING_DESC_F_INDIRECT, 0);
	vdriver_add_raw(&f.d, 0);
	vq_fx_expect_bad(&f, -1, -EINVAL);
	/* table outside guest memory */
	set_desc(&f.d, 0, 0x1000, 16, VRING_DESC_F_INDIRECT, 0);
	vdriver_add_raw(&f.d, 0);
	vq_fx_expect_bad(&f, -1, -EFAULT);
	/* next inside the table out of range */
	t[0] = (struct vring_desc){ htole64(buf), htole32(8),
				    htole16(VRING_DESC_F_NEXT), htole16(2) };
	set_desc(&f.d, 0, tgpa, 32, VRING_DESC_F_INDIRECT, 0);
	vdriver_add_raw(&f.d, 0);
	vq_fx_expect_bad(&f, -1, -EINVAL);
	/* a loop inside the table */
	t[0] = (struct vring_desc){ htole64(buf), htole32(8),
				    htole16(VRING_DESC_F_NEXT), htole16(1) };
	t[1] = (struct vring_desc){ htole64(buf), htole32(8),
				    htole16(VRING_DESC_F_NEXT), htole16(0) };
	vdriver_add_raw(&f.d, 0);
	vq_fx_expect_bad(&f, -1, -ELOOP);
	vq_fx_expect_still_works(&f);
	vq_fx_done(&f);
}

static void test_descriptor_loop(void)
{
	struct vq_fx f;
	__u64 buf;

	EXPECT(fx_setup(&f, 16, 0) == 0, "setup");
	buf = vdriver_alloc(&f.d, 64, NULL);
	set_desc(&f.d, 3, buf, 8, VRING_DESC_F_NEXT, 4);
	set_desc(&f.d, 4, buf, 8, VRING_DESC_F_NEXT, 3);
	vdriver_add_raw(&f.d, 3);
	vq_fx_expect_bad(&f, -1, -ELOOP);
	/* self loop */
	set_desc(&f.d, 5, buf, 8, VRING_DESC_F_NEXT, 5);
	vdriver_add_raw(&f.d, 5);
	vq_fx_expect_bad(&f, -1, -ELOOP);
	/* next beyond the table */
	set_desc(&f.d, 6, buf, 8, VRING_DESC_F_NEXT, 16);
	vdriver_add_raw(&f.d, 6);
	vq_fx_expect_bad(&f, -1, -EINVAL);
	vq_fx_expect_still_works(&f);
	vq_fx_done(&f);
}

static void test_chain_longer_than_queue(void)
{
	struct vq_fx f;
	struct vring_desc *t;
	__u64 tgpa, buf;

	/* a loop-free indirect chain of 16 on a queue of 8 (2.7.5.3.1) */
	EXPECT(fx_setup(&f, 8, F_INDIRECT) == 0, "setup");
	tgpa = vdriver_alloc(&f.d, 16 * 16, (void **)&t);
	buf = vdriver_alloc(&f.d, 64, NULL);
	for (int i = 0; i < 16; i++)
		t[i] = (struct vring_desc){ htole64(buf), htole32(4),
			htole16(i < 15 ? VRING_DESC_F_NEXT : 0), htole16(i + 1) };
	set_desc(&f.d, 0, tgpa, 16 * 16, VRING_DESC_F_INDIRECT, 0);
	vdriver_add_raw(&f.d, 0);
	vq_fx_expect_bad(&f, -1, -ELOOP);
	/* exactly the queue size (7 in the table + the indirect one) is fine */
	t[6].flags = 0;
	vdriver_add_raw(&f.d, 0);
	EXPECT(vnet_virtq_pop(&f.vq, &chain) == 1, "8 descriptors");
	EXPECT(chain.out_len == 28, "len %u", chain.out_len);
	vq_fx_done(&f);
}

static void test_bad_addresses(void)
{
	struct vq_fx f;
	__u64 buf, end;

	EXPECT(fx_setup(&f, 16, 0) == 0, "setup");
	buf = vdriver_alloc(&f.d, 64, NULL);
	end = VDRV_GPA_BASE + f.d.mem_size;
	{
		const struct vdrv_seg bad[][2] = {
			{ { 0x1000, 64, false } },		/* below memory */
			{ { end - 32, 64, false } },		/* runs past the end */
			{ { buf, 0xffffffff, true } },
			{ { UINT64_MAX - 7, 64, false } },	/* addr + len wraps */
			{ { buf, 8, false }, { end, 8, false } },	/* bad second */
		};

		for (unsigned int i = 0; i < 5; i++)
			vq_fx_expect_bad(&f, add_one(&f, bad[i], i == 4 ? 2 : 1), -EFAULT);
	}
	vq_fx_expect_still_works(&f);
	vq_fx_done(&f);
}

static void test_chain_over_4g(void)
{
	struct vq_fx f;
	size_t big = 0xa0000000ul;	/* 2.5 GiB, never touched */
	void *p = mmap(NULL, big, PROT_NONE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	struct vnet_mem_region *r;

	if (p == MAP_FAILED)
		SKIP("cannot reserve 2.5 GiB of address space");
	EXPECT(fx_setup(&f, 16, 0) == 0, "setup");
	r = &f.d.gm.regions[f.d.gm.nregions++];
	*r = (struct vnet_mem_region){ .gpa = 0x100000000ull, .size = big,
				       .hva = p, .fd = -1 };
	/* 2.7.5.2: a chain is shorter than 2^32 bytes */
	{
		const struct vdrv_seg s[2] = { { 0x100000000ull, (__u32)big, false },
					       { 0x100000000ull, (__u32)big, false } };

		vq_fx_expect_bad(&f, add_one(&f, s, 2), -EOVERFLOW);
	}
	vq_fx_done(&f);
	munmap(p, big);
}

static void test_readable_after_writable(void)
{
	struct vq_fx f;
	__u64 buf;

	EXPECT(fx_setup(&f, 16, 0) == 0, "setup");
	buf = vdriver_alloc(&f.d, 64, NULL);
	{
		const struct vdrv_seg s[2] = { { buf, 8, true }, { buf + 8, 8, false } };

		vq_fx_expect_bad(&f, add_one(&f, s, 2), -EINVAL);
	}
	vq_fx_expect_still_works(&f);
	vq_fx_done(&f);
}

static void test_zero_length_buffers(void)
{
	struct vq_fx f;
	__u64 buf;

	EXPECT(fx_setup(&f, 16, 0) == 0, "setup");
	buf = vdriver_alloc(&f.d, 64, NULL);
	{
		const struct vdrv_seg s[3] = { { buf, 8, false },
					       { 0 /* never mapped */, 0, false },
					       { buf + 8, 8, false } }, e = { 0, 0, true };

		add_one(&f, s, 3);
		EXPECT(vnet_virtq_pop(&f.vq, &chain) == 1, "pop");
		EXPECT(chain.nr_out == 2 && chain.out_len == 16, "zero-length skipped");
		add_one(&f, &e, 1);
	}
	EXPECT(vnet_virtq_pop(&f.vq, &chain) == 1, "pop empty chain");
	EXPECT(chain.nr_out == 0 && chain.nr_in == 0, "no segments");
	vq_fx_done(&f);
}

static void test_avail_index_jump(void)
{
	struct vq_fx f, g;
	__u64 bad_idx;

	EXPECT(fx_setup(&f, 16, 0) == 0, "setup f");
	EXPECT(fx_setup(&g, 16, 0) == 0, "setup g");
	bad_idx = 17;	/* 17 new entries on a queue of 16 (2.7.6) */
	f.d.avail->idx = htole16((__u16)bad_idx);
	EXPECT(vnet_virtq_pop(&f.vq, &chain) == -EIO, "jump -> -EIO");
	EXPECT(f.errors == 1 && f.last_err == -EPROTO, "error callback %d/%d",
	       f.errors, f.last_err);
	EXPECT(f.vq.broken, "broken");
	EXPECT(vnet_virtq_pop(&f.vq, &chain) == -EIO, "stays broken");
	EXPECT(f.errors == 1, "error reported once");
	vnet_virtq_push(&f.vq, 0, 0);
	vnet_virtq_flush(&f.vq, 1);
	EXPECT(vdriver_used_idx(&f.d) == 0, "broken queue wrote nothing");
	/* the other queue keeps working */
	vq_fx_expect_still_works(&g);
	/* reset and set up again: works */
	vnet_virtq_reset(&f.vq);
	f.d.avail->idx = 0;
	f.d.avail_idx = 0;
	{
		struct vnet_virtq_cfg cfg;

		vdriver_cfg(&f.d, 0, &cfg);
		EXPECT(vnet_virtq_setup_split(&f.vq, &f.d.gm, &cfg) == 0, "re-setup");
	}
	vq_fx_expect_still_works(&f);
	vq_fx_done(&f);
	vq_fx_done(&g);
}

static void test_head_out_of_range(void)
{
	struct vq_fx f;

	EXPECT(fx_setup(&f, 16, 0) == 0, "setup");
	vdriver_add_raw(&f.d, 16);
	EXPECT(vnet_virtq_pop(&f.vq, &chain) == -EIO, "head 16 of 16");
	EXPECT(f.errors == 1, "needs reset");
	vq_fx_done(&f);
}

static void test_bad_ring_setup(void)
{
	struct vq_fx f;
	struct vnet_virtq_cfg cfg;

	EXPECT(fx_setup(&f, 16, 0) == 0, "setup");
	vdriver_cfg(&f.d, 0, &cfg);
	cfg.size = 24;	/* split: a power of two (2.7); packed: any (2.8) */
	EXPECT(vnet_virtq_setup(&f.vq, &f.d.gm, &cfg) == (packed ? 0 : -EINVAL), "size 24");
	cfg.size = 0;
	EXPECT(vnet_virtq_setup(&f.vq, &f.d.gm, &cfg) == -EINVAL, "size 0");
	cfg.size = 40000;
	EXPECT(vnet_virtq_setup(&f.vq, &f.d.gm, &cfg) == -EINVAL, "size 40000");
	vdriver_cfg(&f.d, 0, &cfg);
	cfg.desc += 8;
	EXPECT(vnet_virtq_setup(&f.vq, &f.d.gm, &cfg) == -EFAULT, "misaligned");
	vdriver_cfg(&f.d, 0, &cfg);
	cfg.avail += 2;	/* split: aligned 2 is fine; packed: 4 (2.8.10.1) */
	EXPECT(vnet_virtq_setup(&f.vq, &f.d.gm, &cfg) == (packed ? -EFAULT : 0),
	       "avail ring / driver area at +2");
	vdriver_cfg(&f.d, 0, &cfg);
	cfg.used = VDRV_GPA_BASE + f.d.mem_size - (packed ? 0 : 64);
	EXPECT(vnet_virtq_setup(&f.vq, &f.d.gm, &cfg) == -EFAULT, "used past end");
	vdriver_cfg(&f.d, 0, &cfg);
	cfg.addr_type = VNET_VQ_ADDR_UVA;	/* gpas are not uvas */
	EXPECT(vnet_virtq_setup(&f.vq, &f.d.gm, &cfg) == -EFAULT, "uva");
	cfg.desc += VDRV_UVA_BASE - VDRV_GPA_BASE;
	cfg.avail += VDRV_UVA_BASE - VDRV_GPA_BASE;
	cfg.used += VDRV_UVA_BASE - VDRV_GPA_BASE;
	EXPECT(vnet_virtq_setup(&f.vq, &f.d.gm, &cfg) == 0, "uva ok");
	vq_fx_expect_still_works(&f);
	vq_fx_done(&f);
}

static void test_used_published_once_per_burst(void)
{
	struct vq_fx f;
	__u64 buf;
	struct vdrv_seg s;

	EXPECT(fx_setup(&f, 64, 0) == 0, "setup");
	buf = vdriver_alloc(&f.d, 64, NULL);
	s = (struct vdrv_seg){ buf, 64, true };
	for (int i = 0; i < 5; i++)
		vdriver_add(&f.d, &s, 1, false);
	vdriver_publish(&f.d);
	for (int i = 0; i < 5; i++) {
		EXPECT(vnet_virtq_pop(&f.vq, &chain) == 1, "pop %d", i);
		vnet_virtq_push(&f.vq, chain.head, (__u32)i);
		EXPECT(vdriver_used_idx(&f.d) == 0, "published early");
	}
	vnet_virtq_flush(&f.vq, 5);
	EXPECT(vdriver_used_idx(&f.d) == 5, "used idx %u", vdriver_used_idx(&f.d));
	EXPECT(f.vq.stats.flushes == 1 && f.notifies == 1, "flushes %llu notifies %d",
	       (unsigned long long)f.vq.stats.flushes, f.notifies);
	for (__u32 i = 0; i < 5; i++) {
		__u32 len;

		EXPECT(vdriver_get_used(&f.d, &len) >= 0 && len == i, "order");
	}
	vq_fx_done(&f);
}

static void test_notify_flags_suppression(void)
{
	struct vq_fx f;

	EXPECT(fx_setup(&f, 64, 0) == 0, "setup");
	/* split: VRING_AVAIL_F_NO_INTERRUPT; packed: DISABLE (2.8.10) */
	vdriver_intr_set(&f.d, false);
	vq_fx_complete_each(&f, 3);
	EXPECT(f.notifies == 0 && f.vq.stats.suppressed == 3, "suppressed");
	vdriver_intr_set(&f.d, true);
	vq_fx_complete_each(&f, 2);
	EXPECT(f.notifies == 2, "notifies %d", f.notifies);
	vq_fx_done(&f);
}

static void test_event_idx(void)
{
	struct vq_fx f;

	EXPECT(fx_setup(&f, 64, F_EVENT_IDX) == 0, "setup");
	/* the first decision always notifies (nothing signalled yet) */
	vq_fx_complete_each(&f, 1);
	EXPECT(f.notifies == 1, "first %d", f.notifies);
	/* the driver wants to hear when used idx passes 4 */
	vdriver_set_used_event(&f.d, 4);
	vq_fx_complete_each(&f, 3);		/* used idx 2..4 */
	EXPECT(f.notifies == 1, "early notify %d", f.notifies);
	vq_fx_complete_each(&f, 1);		/* used idx 5: crosses 4 */
	EXPECT(f.notifies == 2, "crossing %d", f.notifies);
	vq_fx_complete_each(&f, 5);
	EXPECT(f.notifies == 2, "after the event %d", f.notifies);
	/* flags are ignored with EVENT_IDX (2.7.7.2) */
	f.d.avail->flags = htole16(VRING_AVAIL_F_NO_INTERRUPT);
	vdriver_set_used_event(&f.d, vdriver_used_idx(&f.d));
	vq_fx_complete_each(&f, 1);
	EXPECT(f.notifies == 3, "event with flags set %d", f.notifies);
	/* avail_event: the device asks for a kick at its next entry */
	EXPECT(vnet_virtq_pop(&f.vq, &chain) == 0, "empty");
	EXPECT(vdriver_avail_event(&f.d) == vnet_virtq_last_avail(&f.vq),
	       "avail_event %u last_avail %u", vdriver_avail_event(&f.d),
	       vnet_virtq_last_avail(&f.vq));
	vq_fx_done(&f);
}

static void test_coalescing(void)
{
	struct vq_fx f;
	__u64 deadline;

	EXPECT(fx_setup(&f, 64, 0) == 0, "setup");
	vnet_virtq_set_coalesce(&f.vq, 4, 10 * 1000 * 1000);	/* 4 pkts / 10 s */
	vq_fx_complete_each(&f, 3);
	EXPECT(f.notifies == 0, "held back %d", f.notifies);
	vq_fx_complete_each(&f, 1);
	EXPECT(f.notifies == 1, "max_packets reached %d", f.notifies);

	/* the time limit: one packet, then the timer fires */
	vnet_virtq_set_coalesce(&f.vq, 1000, 50);
	vq_fx_complete_each(&f, 1);
	EXPECT(f.notifies == 1, "held back by usecs");
	deadline = vnet_virtq_coal_deadline(&f.vq);
	EXPECT(deadline != 0, "deadline set");
	vnet_virtq_coal_expire(&f.vq, deadline - 1);
	EXPECT(f.notifies == 1, "not before the deadline");
	vnet_virtq_coal_expire(&f.vq, deadline);
	EXPECT(f.notifies == 2, "timer fired %d", f.notifies);
	EXPECT(vnet_virtq_coal_deadline(&f.vq) == 0, "nothing pending");

	/* coalescing never overrides suppression */
	vnet_virtq_set_coalesce(&f.vq, 1, 10 * 1000 * 1000);
	vdriver_intr_set(&f.d, false);
	vq_fx_complete_each(&f, 2);
	EXPECT(f.notifies == 2, "suppressed %d", f.notifies);
	vdriver_intr_set(&f.d, true);

	/* reset: all parameters 0 (5.1.6.5.9.2) -> immediate */
	vnet_virtq_reset(&f.vq);
	EXPECT(f.vq.coal.max_packets == 0 && f.vq.coal.usecs == 0 &&
	       f.vq.coal.pending == 0, "reset zeroes coalescing");
	vq_fx_done(&f);
}

static void test_unpop(void)
{
	struct vq_fx f;
	struct vdrv_seg s;
	int h1, h2;

	EXPECT(fx_setup(&f, 16, 0) == 0, "setup");
	s = (struct vdrv_seg){ vdriver_alloc(&f.d, 64, NULL), 64, true };
	h1 = vdriver_add(&f.d, &s, 1, false);
	h2 = vdriver_add(&f.d, &s, 1, false);
	vdriver_publish(&f.d);
	EXPECT(vnet_virtq_pop(&f.vq, &chain) == 1 && vnet_chain_id(chain.head) == h1, "h1");
	EXPECT(vnet_virtq_pop(&f.vq, &chain) == 1 && vnet_chain_id(chain.head) == h2, "h2");
	EXPECT(vnet_virtq_unpop(&f.vq, 2) == 2, "unpop 2");
	EXPECT(vnet_virtq_pop(&f.vq, &chain) == 1 && vnet_chain_id(chain.head) == h1, "h1 again");
	/* a bad chain in between: unpop must not return it twice */
	{
		const struct vdrv_seg bad = { 0x10, 8, false };	/* not mapped */

		vdriver_add(&f.d, &bad, 1, false);
	}
	s.write = false;
	vdriver_add(&f.d, &s, 1, false);
	vdriver_publish(&f.d);
	EXPECT(vnet_virtq_pop(&f.vq, &chain) == 1 && vnet_chain_id(chain.head) == h2, "h2");
	EXPECT(vnet_virtq_pop(&f.vq, &chain) == 1, "after the bad one");
	EXPECT(vnet_virtq_unpop(&f.vq, 3) == 1, "stops at the bad chain");
	vq_fx_done(&f);

	/* still possible after the 16-bit indexes (split) wrapped, after
	 * many laps (packed) (found by bench) */
	EXPECT(fx_setup(&f, 16, 0) == 0, "setup");
	vq_fx_complete_each(&f, 70000);
	s = (struct vdrv_seg){ vdriver_alloc(&f.d, 64, NULL), 64, true };
	h1 = vdriver_add(&f.d, &s, 1, false);
	vdriver_publish(&f.d);
	EXPECT(vnet_virtq_pop(&f.vq, &chain) == 1 && vnet_chain_id(chain.head) == h1, "pop");
	EXPECT(vnet_virtq_unpop(&f.vq, 1) == 1, "unpop after wrap");
	vq_fx_done(&f);
}

/* --- available buffer notification (kick) suppression, spec 2.7.10 --- */

static __u16 used_flags(const struct vq_fx *f)
{
	return le16toh(__atomic_load_n(&f->d.used->flags, __ATOMIC_ACQUIRE));
}

/* Add one 64-byte chain and publish it; true if the driver must kick
 * (2.7.10 / 2.8.21.2: the driver half follows the device's request). */
static bool add_and_kick(struct vq_fx *f)
{
	struct vdrv_seg s = { vdriver_alloc(&f->d, 64, NULL), 64, false };

	add_one(f, &s, 1);
	return vdriver_kick_needed(&f->d);
}

static void test_kick_suppression_flags(void)
{
	struct vnet_virtq_cfg cfg;
	struct vq_fx f;

	EXPECT(fx_setup(&f, 64, 0) == 0, "setup");
	/* a ring left with NO_NOTIFY by an earlier worker: setup clears it */
	f.d.used->flags = htole16(VRING_USED_F_NO_NOTIFY);
	vdriver_cfg(&f.d, 0, &cfg);
	EXPECT(vnet_virtq_setup_split(&f.vq, &f.d.gm, &cfg) == 0, "setup again");
	EXPECT(used_flags(&f) == 0, "setup leaves kicks on: flags %u", used_flags(&f));
	EXPECT(add_and_kick(&f), "kicks on: driver kicks");
	vq_fx_pop_all(&f);

	EXPECT(vnet_virtq_notify_enable(&f.vq, false) == 0, "disable");
	EXPECT(used_flags(&f) == VRING_USED_F_NO_NOTIFY, "NO_NOTIFY set");
	for (int i = 0; i < 3; i++)
		EXPECT(!add_and_kick(&f), "polling: no kick (%d)", i);
	vq_fx_pop_all(&f);
	EXPECT(used_flags(&f) == VRING_USED_F_NO_NOTIFY, "pop keeps kicks off");

	/* re-enable on an empty ring: nothing pending, safe to sleep */
	EXPECT(vnet_virtq_notify_enable(&f.vq, true) == 0, "empty");
	EXPECT(used_flags(&f) == 0, "flags cleared");
	EXPECT(add_and_kick(&f), "asleep: driver kicks");
	vq_fx_pop_all(&f);

	/* a broken queue says so */
	vdriver_add_raw(&f.d, 200);
	EXPECT(vnet_virtq_pop(&f.vq, &chain) == -EIO, "head out of range breaks");
	EXPECT(vnet_virtq_notify_enable(&f.vq, true) == -EIO, "broken: -EIO");
	vq_fx_done(&f);
}

static void test_kick_suppression_event_idx(void)
{
	struct vq_fx f;
	__u16 ev;

	EXPECT(fx_setup(&f, 64, F_EVENT_IDX) == 0, "setup");
	EXPECT(vdriver_avail_event(&f.d) == vnet_virtq_last_avail(&f.vq),
	       "setup asks for a kick at the next entry");
	EXPECT(vnet_virtq_notify_enable(&f.vq, false) == 0, "disable");
	/* 2.7.10: with EVENT_IDX the device MUST keep flags 0 */
	EXPECT(used_flags(&f) == 0, "flags %u", used_flags(&f));
	ev = vdriver_avail_event(&f.d);
	EXPECT(ev == (__u16)(vnet_virtq_last_avail(&f.vq) - 1), "avail_event behind");
	for (int i = 0; i < 5; i++)
		EXPECT(!add_and_kick(&f), "polling: no kick (%d)", i);
	/* an empty pop no longer re-arms avail_event while kicks are off */
	vq_fx_pop_all(&f);
	EXPECT(vnet_virtq_pop(&f.vq, &chain) == 0, "empty");
	EXPECT(vdriver_avail_event(&f.d) == ev, "pop re-armed avail_event");
	EXPECT(!add_and_kick(&f), "still no kick");
	vq_fx_pop_all(&f);

	EXPECT(vnet_virtq_notify_enable(&f.vq, true) == 0, "enable, empty");
	EXPECT(vdriver_avail_event(&f.d) == vnet_virtq_last_avail(&f.vq),
	       "avail_event at our position");
	EXPECT(used_flags(&f) == 0, "flags stay 0");
	EXPECT(add_and_kick(&f), "asleep: the next entry kicks");
	EXPECT(!add_and_kick(&f), "one kick is enough until we look");
	vq_fx_pop_all(&f);
	/* kicks on again: old behaviour, an empty pop re-arms */
	EXPECT(vnet_virtq_pop(&f.vq, &chain) == 0, "empty");
	EXPECT(vdriver_avail_event(&f.d) == vnet_virtq_last_avail(&f.vq), "re-armed");
	vq_fx_done(&f);
}

/*
 * The race the re-check closes: the driver publishes while the device is
 * still polling with kicks off, sees "no kick needed", and the device then
 * decides to sleep. notify_enable(true) must report the buffer.
 */
static void test_kick_enable_race(void)
{
	for (int mode = 0; mode < 2; mode++) {
		bool eidx = mode;
		struct vq_fx f;
		int r;

		EXPECT(fx_setup(&f, 64, eidx ? F_EVENT_IDX : 0) == 0, "setup");
		vnet_virtq_notify_enable(&f.vq, false);
		EXPECT(!add_and_kick(&f), "%s: suppressed", eidx ? "event" : "flags");
		r = vnet_virtq_notify_enable(&f.vq, true);
		EXPECT(r == 1, "%s: re-check found %d, want 1", eidx ? "event" : "flags", r);
		/* the caller polls instead of sleeping and gets the buffer */
		vnet_virtq_notify_enable(&f.vq, false);
		EXPECT(vnet_virtq_pop(&f.vq, &chain) == 1, "buffer popped");
		vnet_virtq_push(&f.vq, chain.head, 0);
		vnet_virtq_flush(&f.vq, 1);
		/* the other order: enabled first, then the driver must kick */
		EXPECT(vnet_virtq_notify_enable(&f.vq, true) == 0, "empty now");
		EXPECT(add_and_kick(&f), "%s: kick after enable", eidx ? "event" : "flags");
		vq_fx_done(&f);
	}
}

/*
 * Two threads, the real interleavings (tests/lib/kick_race.c): a driver that
 * kicks only when 2.7.10 says so, a device that polls with kicks off and
 * sleeps on an eventfd after the re-check.
 */
static void test_kick_no_lost_wakeup(void)
{
	kick_race_test(packed, packed ? 200 : 256);	/* packed: any size */
}

/* 2.7.9 / 2.8.8: with IN_ORDER a discard must not overtake held chains. */
static void test_in_order_discard(void)
{
	for (int mode = 0; mode < 2; mode++) {
		__u64 feat = mode ? (1ull << VIRTIO_F_IN_ORDER) : 0;
		struct vdrv_seg s;
		struct vq_fx f;
		int h1, hb, r;
		__u32 held;

		EXPECT(fx_setup(&f, 16, feat) == 0, "setup");
		s = (struct vdrv_seg){ vdriver_alloc(&f.d, 64, NULL), 64, true };
		h1 = vdriver_add(&f.d, &s, 1, false);
		s.gpa = 0x10;	/* not mapped */
		hb = add_one(&f, &s, 1);
		/* a receive frame in progress holds h1, then meets the bad one */
		EXPECT(vnet_virtq_pop(&f.vq, &chain) == 1 && vnet_chain_id(chain.head) == h1, "h1");
		held = chain.head;
		r = vnet_virtq_pop(&f.vq, &chain);
		if (mode) {
			EXPECT(r == -EIO && f.vq.broken && f.errors == 1,
			       "IN_ORDER: queue broken (r %d)", r);
		} else {
			EXPECT(r == 0 && !f.vq.broken, "no IN_ORDER: discarded (r %d)", r);
			vnet_virtq_push(&f.vq, held, 0);
			vnet_virtq_flush(&f.vq, 1);
			EXPECT(vdriver_get_used(&f.d, NULL) == hb, "bad one first");
			EXPECT(vdriver_get_used(&f.d, NULL) == h1, "then h1");
		}
		vq_fx_done(&f);
	}
	/* IN_ORDER with nothing held: a bad chain is discarded as before */
	{
		struct vq_fx f;

		const struct vdrv_seg bad = { 0x10, 8, false };

		EXPECT(fx_setup(&f, 16, 1ull << VIRTIO_F_IN_ORDER) == 0, "setup");
		vq_fx_expect_bad(&f, add_one(&f, &bad, 1), -EFAULT);
		vq_fx_expect_still_works(&f);
		vq_fx_done(&f);
	}
}

/* A driver writing garbage: the engine must never touch foreign memory. */
static void test_random_hostile_driver(void)
{
	unsigned int seed = 4242;
	struct vq_fx f;

	EXPECT(fx_setup(&f, 32, F_INDIRECT | F_EVENT_IDX) == 0, "setup");
	for (int round = 0; round < 3000; round++) {
		__u64 base = VDRV_GPA_BASE;
		int r;

		for (int i = 0; i < 32; i++) {
			__u32 x = test_rand(&seed);
			__u64 addr = (x & 3) == 0 ? test_rand(&seed) :
				     base + (test_rand(&seed) % (f.d.mem_size + 64));
			__u32 len = (x & 12) == 0 ? test_rand(&seed) :
				    test_rand(&seed) % 512;

			set_desc(&f.d, (__u16)i, addr, len,
				 (__u16)(test_rand(&seed) & 7),
				 (__u16)(test_rand(&seed) % 40));
		}
		vdriver_add_raw(&f.d, (__u16)(test_rand(&seed) % 32));
		while ((r = vnet_virtq_pop(&f.vq, &chain)) == 1) {
			vq_fx_touch_chain(&f, &chain);
			vnet_virtq_push(&f.vq, chain.head, chain.in_len);
		}
		EXPECT(r == 0, "pop %d", r);
		vnet_virtq_flush(&f.vq, 1);
	}
	EXPECT(f.errors == 0, "no reset needed for chain garbage");
	EXPECT(f.vq.stats.chains > 100 && f.vq.stats.bad_chains > 100,
	       "both kinds seen: %llu good %llu bad",
	       (unsigned long long)f.vq.stats.chains,
	       (unsigned long long)f.vq.stats.bad_chains);
	vq_fx_done(&f);
}

/* Through the driver half's API: on both layouts. */
static const struct test_case both[] = {
	TEST_CASE(test_direct_chain),
	TEST_CASE(test_indirect_chain),
	TEST_CASE(test_bad_addresses),
	TEST_CASE(test_chain_over_4g),
	TEST_CASE(test_readable_after_writable),
	TEST_CASE(test_zero_length_buffers),
	TEST_CASE(test_used_published_once_per_burst),
	TEST_CASE(test_notify_flags_suppression),
	TEST_CASE(test_coalescing),
	TEST_CASE(test_unpop),
	TEST_CASE(test_kick_enable_race),
	TEST_CASE(test_kick_no_lost_wakeup),
	TEST_CASE(test_in_order_discard),
	TEST_CASE(test_bad_ring_setup),
};

int main(void)
{
	test_run_variants(both, sizeof(both) / sizeof(both[0]), &packed, "_packed");
	/* the split ring written by hand */
	packed = false;
	RUN(test_indirect_rules);
	RUN(test_descriptor_loop);
	RUN(test_chain_longer_than_queue);
	RUN(test_avail_index_jump);
	RUN(test_head_out_of_range);
	RUN(test_event_idx);
	RUN(test_kick_suppression_flags);
	RUN(test_kick_suppression_event_idx);
	RUN(test_random_hostile_driver);
	return test_summary();
}
