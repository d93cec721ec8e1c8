// SPDX-License-Identifier: MIT
/*
 * Packed virtqueue engine (spec 2.8) against a well-behaved and a
 * misbehaving driver (lib/vdriver_packed.c): lists and wrap counters over
 * many laps, indirect tables, in-order and out-of-order completion, the
 * batched used writes, both event suppression structures, and every
 * malformation the engine must survive.
 */
#include <endian.h>
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <vnet/log.h>
#include <vnet/virtq.h>

#include "frame.h"
#include "kick_race.h"
#include "test.h"
#include "vdriver.h"
#include "vq_fixture.h"

#define F_INDIRECT	(1ull << VIRTIO_RING_F_INDIRECT_DESC)
#define F_EVENT_IDX	(1ull << VIRTIO_RING_F_EVENT_IDX)
#define F_IN_ORDER	(1ull << VIRTIO_F_IN_ORDER)
#define D_AVAIL		(1u << VRING_PACKED_DESC_F_AVAIL)
#define D_USED		(1u << VRING_PACKED_DESC_F_USED)

static struct vnet_chain chain;

/* the shared fixture (tests/lib/vq_fixture.h) on a packed ring */
static int fx_setup(struct vq_fx *f, __u16 size, __u64 features)
{
	return vq_fx_setup(f, true, size, features);
}

static struct vring_packed_desc raw(__u64 addr, __u32 len, __u16 flags)
{
	return (struct vring_packed_desc){ htole64(addr), htole32(len), 0, htole16(flags) };
}

static __u16 dflags(const struct vq_fx *f, __u16 i)
{
	return le16toh(__atomic_load_n(&f->d.pk.desc[i].flags, __ATOMIC_ACQUIRE));
}

/* 2.8.1-2.8.6: a list's descriptors, its id, the used descriptor over it */
static void test_packed_list(void)
{
	struct vdrv_seg s[3];
	struct vq_fx f;
	__u32 len;
	int id;

	EXPECT(fx_setup(&f, 64, 0) == 0, "setup");
	for (int i = 0; i < 3; i++)
		s[i] = (struct vdrv_seg){ vdriver_alloc(&f.d, 100, NULL), 100, i == 2 };
	id = vdriver_add(&f.d, s, 3, false);
	vdriver_publish(&f.d);
	EXPECT(vnet_virtq_avail_count(&f.vq) == 1, "one buffer waiting");
	EXPECT(vnet_virtq_pop(&f.vq, &chain) == 1 && vnet_chain_id(chain.head) == id, "pop");
	EXPECT(vnet_virtq_last_avail(&f.vq) == (3 | VNET_VQ_WRAP), "position %#x",
	       vnet_virtq_last_avail(&f.vq));
	vnet_virtq_push(&f.vq, chain.head, 1000);
	EXPECT(!vdriver_has_used(&f.d), "nothing used before the flush");
	vnet_virtq_flush(&f.vq, 1);
	/* 2.8.1, 2.8.3: the used descriptor overwrites the list's first */
	EXPECT(dflags(&f, 0) == (D_AVAIL | D_USED | VRING_DESC_F_WRITE), "used flags %#x",
	       dflags(&f, 0));
	EXPECT(le16toh(f.d.pk.desc[0].id) == id && le32toh(f.d.pk.desc[0].len) == 1000,
	       "id and length");
	EXPECT(vdriver_get_used(&f.d, &len) == id && len == 1000, "used");
	EXPECT(vnet_virtq_last_used(&f.vq) == (3 | VNET_VQ_WRAP), "used skips the list");
	vq_fx_expect_still_works(&f);
	vq_fx_done(&f);
}

static void test_packed_indirect(void)
{
	struct vring_packed_desc *t, d[2];
	__u64 tgpa, buf;
	struct vq_fx f;
	int id;

	EXPECT(fx_setup(&f, 16, F_INDIRECT) == 0, "setup");

	/* 2.8.19: other flags in a table are ignored (DPDK sets NEXT and the
	 * ring bits there); a nested table is refused */
	tgpa = vdriver_alloc(&f.d, 64, (void **)&t);
	buf = vdriver_alloc(&f.d, 64, NULL);
	t[0] = raw(buf, 10, VRING_DESC_F_NEXT | D_AVAIL);
	t[1] = raw(buf + 10, 30, VRING_DESC_F_WRITE | D_USED);
	d[0] = raw(tgpa, 32, VRING_DESC_F_INDIRECT | VRING_DESC_F_WRITE);
	id = vdrv_packed_add_raw(&f.d, d, 1);
	EXPECT(vnet_virtq_pop(&f.vq, &chain) == 1, "flags in the table ignored");
	EXPECT(chain.out_len == 10 && chain.in_len == 30, "shape %u/%u",
	       chain.out_len, chain.in_len);
	vnet_virtq_push(&f.vq, chain.head, 0);
	vnet_virtq_flush(&f.vq, 1);
	EXPECT(vdriver_get_used(&f.d, NULL) == id, "used");
	t[1] = raw(tgpa, 16, VRING_DESC_F_INDIRECT);
	id = vdrv_packed_add_raw(&f.d, d, 1);
	vq_fx_expect_bad(&f, id, -EINVAL);
	/* INDIRECT with NEXT, or inside a list (2.8.19): the whole list is
	 * returned, and the next buffer starts after it */
	t[1] = raw(buf, 8, 0);
	d[0] = raw(tgpa, 32, VRING_DESC_F_INDIRECT | VRING_DESC_F_NEXT);
	d[1] = raw(buf, 8, 0);
	id = vdrv_packed_add_raw(&f.d, d, 2);
	vq_fx_expect_bad(&f, id, -EINVAL);
	d[0] = raw(buf, 8, VRING_DESC_F_NEXT);
	d[1] = raw(tgpa, 32, VRING_DESC_F_INDIRECT);
	id = vdrv_packed_add_raw(&f.d, d, 2);
	vq_fx_expect_bad(&f, id, -EINVAL);
	/* table length: not a multiple of 16, zero, more than the queue size */
	d[0] = raw(tgpa, 24, VRING_DESC_F_INDIRECT);
	vq_fx_expect_bad(&f, vdrv_packed_add_raw(&f.d, d, 1), -EINVAL);
	d[0] = raw(tgpa, 0, VRING_DESC_F_INDIRECT);
	vq_fx_expect_bad(&f, vdrv_packed_add_raw(&f.d, d, 1), -EINVAL);
	d[0] = raw(tgpa, 17 * 16, VRING_DESC_F_INDIRECT);
	vq_fx_expect_bad(&f, vdrv_packed_add_raw(&f.d, d, 1), -ELOOP);
	/* table outside guest memory */
	d[0] = raw(0x1000, 16, VRING_DESC_F_INDIRECT);
	vq_fx_expect_bad(&f, vdrv_packed_add_raw(&f.d, d, 1), -EFAULT);
	vq_fx_expect_still_works(&f);
	vq_fx_done(&f);

	/* not negotiated */
	EXPECT(fx_setup(&f, 16, 0) == 0, "setup");
	tgpa = vdriver_alloc(&f.d, 64, (void **)&t);
	t[0] = raw(vdriver_alloc(&f.d, 64, NULL), 64, 0);
	d[0] = raw(tgpa, 16, VRING_DESC_F_INDIRECT);
	vq_fx_expect_bad(&f, vdrv_packed_add_raw(&f.d, d, 1), -EINVAL);
	vq_fx_expect_still_works(&f);
	vq_fx_done(&f);
}

/*
 * Many laps over rings whose size is not a power of two: lists that wrap
 * around the end of the ring, indirect tables, random batch sizes on both
 * sides, completions in and out of order. Every id and length must come
 * back exactly once, and the data written must land in the right buffer.
 */
static void laps(__u16 size, __u64 features, unsigned int seed)
{
	struct vq_fx f;
	__u8 *bufs;
	__u64 gpa;
	unsigned int sent = 0, done = 0, total = 200u * size, popped[64];
	__u32 expect_len[32768];
	bool out = false;

	EXPECT(fx_setup(&f, size, features | F_INDIRECT) == 0, "setup %u", size);
	gpa = vdriver_alloc(&f.d, (size_t)size * 512, (void **)&bufs);
	memset(expect_len, 0xff, sizeof(expect_len));
	while (done < total) {
		unsigned int nadd = test_rand(&seed) % 6, npop, n = 0, i;
		__u32 len;
		int id;

		/* the driver: lists of 1-3 descriptors (out, in), some indirect */
		for (i = 0; i < nadd && sent < total; i++) {
			unsigned int nseg = 1 + test_rand(&seed) % 3;
			/* a table is a list too: at most the queue size */
			bool ind = test_rand(&seed) % 4 == 0 && nseg <= size;
			__u16 next = vdriver_next_id(&f.d);
			struct vdrv_seg s[3];

			if (vdriver_num_free(&f.d) < (ind ? 1 : nseg))
				break;
			for (unsigned int k = 0; k < nseg; k++)
				s[k] = (struct vdrv_seg){ gpa + (__u64)next * 512 + k * 128,
							  100, k + 1 == nseg };
			id = vdriver_add(&f.d, s, nseg, ind);
			EXPECT(id == next, "id %d, next %u", id, next);
			sent++;
		}
		vdriver_publish(&f.d);
		/* the device: pop some, write a marker, push in or out of order */
		npop = test_rand(&seed) % 8;
		while (n < npop && vnet_virtq_pop(&f.vq, &chain) == 1) {
			__u16 cid = vnet_chain_id(chain.head);
			__u8 *w = chain.iov[chain.nr_out].base;

			EXPECT(chain.nr_in == 1 && chain.in_len == 100, "shape");
			EXPECT(w == bufs + (size_t)cid * 512 + (chain.nr_out * 128u),
			       "buffer of id %u", cid);
			*w = (__u8)cid;
			expect_len[cid] = 1 + cid % 100;
			popped[n++] = chain.head;
		}
		out = !out && !(features & F_IN_ORDER) && (test_rand(&seed) & 1);
		for (i = 0; i < n; i++) {
			__u32 h = popped[out ? n - 1 - i : i];

			vnet_virtq_push(&f.vq, h, expect_len[vnet_chain_id(h)]);
		}
		vnet_virtq_flush(&f.vq, n);
		while ((id = vdriver_get_used(&f.d, &len)) >= 0) {
			EXPECT(id < size && expect_len[id] == len, "id %d len %u want %u",
			       id, len, id < size ? expect_len[id] : 0);
			if (id < size)
				expect_len[id] = ~0u;
			done++;
		}
		if (test_case_failed)
			break;
	}
	EXPECT(!f.vq.broken && f.errors == 0, "no error");
	EXPECT(vnet_virtq_last_avail(&f.vq) == vnet_virtq_last_used(&f.vq),
	       "positions agree: %#x %#x", vnet_virtq_last_avail(&f.vq),
	       vnet_virtq_last_used(&f.vq));
	EXPECT(f.vq.stats.chains == total, "chains %llu of %u",
	       (unsigned long long)f.vq.stats.chains, total);
	vq_fx_done(&f);
}

static void test_packed_wrap_laps(void)
{
	laps(7, 0, 1);
	laps(24, F_EVENT_IDX, 2);
	laps(256, 0, 3);
	laps(5, F_IN_ORDER, 4);
	laps(1, 0, 5);
}

static void test_packed_bad_chains(void)
{
	struct vring_packed_desc d[3];
	__u64 buf, end;
	struct vq_fx f;
	int id;

	EXPECT(fx_setup(&f, 16, 0) == 0, "setup");
	buf = vdriver_alloc(&f.d, 64, NULL);
	end = VDRV_GPA_BASE + f.d.mem_size;
	/* a bad descriptor in the middle of a list: all three come back as
	 * one buffer, and the ring goes on after the list */
	d[0] = raw(buf, 8, VRING_DESC_F_NEXT);
	d[1] = raw(end, 8, VRING_DESC_F_NEXT);
	d[2] = raw(buf, 8, 0);
	id = vdrv_packed_add_raw(&f.d, d, 3);
	vq_fx_expect_bad(&f, id, -EFAULT);
	EXPECT(vnet_virtq_last_avail(&f.vq) == (3 | VNET_VQ_WRAP), "after the list: %#x",
	       vnet_virtq_last_avail(&f.vq));
	vq_fx_expect_still_works(&f);
	vq_fx_done(&f);
}

/* A list that runs into a descriptor not made available breaks the ring. */
static void test_packed_ring_errors(void)
{
	struct vnet_virtq_cfg cfg;
	struct vq_fx f, g;
	__u64 buf;

	EXPECT(fx_setup(&f, 16, 0) == 0, "setup f");
	EXPECT(fx_setup(&g, 16, 0) == 0, "setup g");
	buf = vdriver_alloc(&f.d, 64, NULL);
	{
		struct vring_packed_desc d = raw(buf, 8, VRING_DESC_F_NEXT);

		vdrv_packed_add_raw(&f.d, &d, 1);
	}
	EXPECT(vnet_virtq_pop(&f.vq, &chain) == -EIO, "broken: -EIO");
	EXPECT(f.errors == 1 && f.last_err == -EPROTO, "error callback %d/%d",
	       f.errors, f.last_err);
	EXPECT(f.vq.broken, "broken");
	EXPECT(vnet_virtq_pop(&f.vq, &chain) == -EIO, "stays broken");
	EXPECT(vnet_virtq_notify_enable(&f.vq, true) == -EIO, "notify_enable: -EIO");
	EXPECT(f.errors == 1, "error reported once");
	vnet_virtq_push(&f.vq, 0, 0);
	vnet_virtq_flush(&f.vq, 1);
	EXPECT(!vdriver_has_used(&f.d), "broken queue wrote nothing");
	vq_fx_expect_still_works(&g);

	/* a list whose second descriptor carries the other lap's bits */
	vdriver_destroy(&f.d);
	EXPECT(vdriver_create_packed(&f.d, 16, 1 << 20) == 0, "driver again");
	vnet_virtq_reset(&f.vq);
	vdriver_cfg(&f.d, 0, &cfg);
	EXPECT(vnet_virtq_setup(&f.vq, &f.d.gm, &cfg) == 0, "re-setup");
	f.errors = 0;
	buf = vdriver_alloc(&f.d, 64, NULL);
	{
		struct vring_packed_desc d[2] = { raw(buf, 8, VRING_DESC_F_NEXT),
						  raw(buf, 8, 0) };

		vdrv_packed_add_raw(&f.d, d, 2);
		f.d.pk.desc[1].flags ^= htole16(D_AVAIL | D_USED);
	}
	EXPECT(vnet_virtq_pop(&f.vq, &chain) == -EIO && f.errors == 1, "wrong lap");

	/* reset and set up again (a new driver): works */
	vdriver_destroy(&f.d);
	EXPECT(vdriver_create_packed(&f.d, 16, 1 << 20) == 0, "driver again");
	vnet_virtq_reset(&f.vq);
	vdriver_cfg(&f.d, 0, &cfg);
	EXPECT(vnet_virtq_setup(&f.vq, &f.d.gm, &cfg) == 0, "re-setup");
	vq_fx_expect_still_works(&f);
	vq_fx_done(&f);
	vq_fx_done(&g);
}

/* Set-up of packed positions (the rest: test_virtq test_bad_ring_setup) */
static void test_packed_setup(void)
{
	struct vnet_virtq_cfg cfg;
	struct vq_fx f;

	EXPECT(fx_setup(&f, 24, 0) == 0, "size 24: any size (2.8)");
	vdriver_cfg(&f.d, 0, &cfg);
	cfg.last_avail_idx = 24 | VNET_VQ_WRAP;
	EXPECT(vnet_virtq_setup(&f.vq, &f.d.gm, &cfg) == -EINVAL, "position past the ring");
	vdriver_cfg(&f.d, 0, &cfg);
	cfg.last_used_idx = 30;
	EXPECT(vnet_virtq_setup(&f.vq, &f.d.gm, &cfg) == -EINVAL, "used past the ring");
	vdriver_cfg(&f.d, 0, &cfg);
	EXPECT(vnet_virtq_setup(&f.vq, &f.d.gm, &cfg) == 0, "a new ring");
	vq_fx_expect_still_works(&f);
	vq_fx_done(&f);
}

/* A stopped ring resumes where GET_VRING_BASE said (vhost-user). */
static void test_packed_resume(void)
{
	struct vnet_virtq_cfg cfg;
	struct vq_fx f;
	__u16 avail, used;

	EXPECT(fx_setup(&f, 10, 0) == 0, "setup");
	for (int i = 0; i < 13; i++)	/* past the end: wrap counter 0 */
		vq_fx_expect_still_works(&f);
	avail = vnet_virtq_last_avail(&f.vq);
	used = vnet_virtq_last_used(&f.vq);
	EXPECT(avail == 3 && used == 3, "position %#x/%#x, want 3 (wrap 0)", avail, used);
	vnet_virtq_reset(&f.vq);
	vdriver_cfg(&f.d, 0, &cfg);
	cfg.last_avail_idx = avail;
	cfg.last_used_idx = used;
	EXPECT(vnet_virtq_setup(&f.vq, &f.d.gm, &cfg) == 0, "setup at 3");
	for (int i = 0; i < 25; i++)
		vq_fx_expect_still_works(&f);
	EXPECT(vnet_virtq_last_avail(&f.vq) == 8, "position %#x", vnet_virtq_last_avail(&f.vq));
	vq_fx_done(&f);
}

/* 2.8 device requirements: buffers may complete out of order. */
static void test_packed_out_of_order(void)
{
	struct vdrv_seg s[2];
	__u32 heads[3], len;
	struct vq_fx f;
	int ids[3];

	EXPECT(fx_setup(&f, 8, 0) == 0, "setup");
	s[0] = (struct vdrv_seg){ vdriver_alloc(&f.d, 64, NULL), 64, false };
	s[1] = (struct vdrv_seg){ vdriver_alloc(&f.d, 64, NULL), 64, true };
	ids[0] = vdriver_add(&f.d, s, 2, false);
	ids[1] = vdriver_add(&f.d, &s[1], 1, false);
	ids[2] = vdriver_add(&f.d, s, 2, false);
	vdriver_publish(&f.d);
	for (int i = 0; i < 3; i++) {
		EXPECT(vnet_virtq_pop(&f.vq, &chain) == 1, "pop %d", i);
		heads[i] = chain.head;
	}
	/* completion order 2, 0, 1 */
	vnet_virtq_push(&f.vq, heads[2], 30);
	vnet_virtq_push(&f.vq, heads[0], 10);
	vnet_virtq_push(&f.vq, heads[1], 20);
	vnet_virtq_flush(&f.vq, 3);
	EXPECT(vdriver_get_used(&f.d, &len) == ids[2] && len == 30, "2 first");
	EXPECT(vdriver_get_used(&f.d, &len) == ids[0] && len == 10, "then 0");
	EXPECT(vdriver_get_used(&f.d, &len) == ids[1] && len == 20, "then 1");
	EXPECT(vnet_virtq_last_used(&f.vq) == (5 | VNET_VQ_WRAP), "5 descriptors used");
	for (int i = 0; i < 10; i++)	/* and on across the end of the ring */
		vq_fx_expect_still_works(&f);
	vq_fx_done(&f);
}

/*
 * 2.8.8: with IN_ORDER a run of read-only buffers (transmit) gets one used
 * descriptor with the last id; buffers the device wrote keep their own.
 */
static void test_packed_in_order(void)
{
	struct vdrv_seg ro = { 0, 64, false }, w = { 0, 64, true };
	__u32 heads[6], len;
	struct vq_fx f;
	int ids[6], i;

	EXPECT(fx_setup(&f, 16, F_IN_ORDER) == 0, "setup");
	ro.gpa = w.gpa = vdriver_alloc(&f.d, 64, NULL);
	ids[0] = vdriver_add(&f.d, &ro, 1, false);
	{
		struct vdrv_seg two[2] = { ro, ro };

		ids[1] = vdriver_add(&f.d, two, 2, false);
	}
	ids[2] = vdriver_add(&f.d, &ro, 1, false);
	ids[3] = vdriver_add(&f.d, &w, 1, false);
	ids[4] = vdriver_add(&f.d, &ro, 1, false);
	ids[5] = vdriver_add(&f.d, &w, 1, false);
	vdriver_publish(&f.d);
	for (i = 0; i < 6; i++) {
		EXPECT(vnet_virtq_pop(&f.vq, &chain) == 1, "pop %d", i);
		heads[i] = chain.head;
		vnet_virtq_push(&f.vq, heads[i], i == 3 || i == 5 ? 40u + i : 0);
	}
	vnet_virtq_flush(&f.vq, 6);
	/* used descriptors at 0 (ids 0-2 folded, 4 ring descriptors), 4, 5, 6 */
	EXPECT(le16toh(f.d.pk.desc[0].id) == ids[2], "run ends with id %d: %u", ids[2],
	       le16toh(f.d.pk.desc[0].id));
	EXPECT(!(dflags(&f, 1) & D_USED) && !(dflags(&f, 3) & D_USED),
	       "folded buffers have no used descriptor");
	EXPECT((dflags(&f, 4) & D_USED) && le16toh(f.d.pk.desc[4].id) == ids[3], "written one");
	EXPECT((dflags(&f, 5) & D_USED) && le16toh(f.d.pk.desc[5].id) == ids[4], "lone ro");
	EXPECT((dflags(&f, 6) & D_USED) && le16toh(f.d.pk.desc[6].id) == ids[5], "written");
	EXPECT(vdriver_used_idx(&f.d) == 6, "6 buffers used");
	for (i = 0; i < 6; i++) {
		int id = vdriver_get_used(&f.d, &len);

		EXPECT(id == ids[i], "in order: %d, want %d", id, ids[i]);
		EXPECT(len == (i == 3 || i == 5 ? 40u + i : 0), "len %u", len);
	}
	EXPECT(vdriver_get_used(&f.d, &len) < 0, "nothing more");
	for (i = 0; i < 20; i++)
		vq_fx_expect_still_works(&f);
	vq_fx_done(&f);
}

/* unpop gives back whole lists, also across the end of the ring */
static void test_packed_unpop(void)
{
	struct vdrv_seg s[2];
	struct vq_fx f;
	int h1, h2;

	EXPECT(fx_setup(&f, 5, 0) == 0, "setup");
	for (int i = 0; i < 1003; i++)
		vq_fx_expect_still_works(&f);
	s[0] = (struct vdrv_seg){ vdriver_alloc(&f.d, 64, NULL), 64, true };
	s[1] = s[0];
	h1 = vdriver_add(&f.d, s, 1, false);
	h2 = vdriver_add(&f.d, s, 2, false);
	vdriver_publish(&f.d);
	EXPECT(vnet_virtq_pop(&f.vq, &chain) == 1 && vnet_chain_id(chain.head) == h1, "pop");
	EXPECT(vnet_virtq_pop(&f.vq, &chain) == 1 && vnet_chain_id(chain.head) == h2, "pop");
	EXPECT(vnet_virtq_last_avail(&f.vq) == 1, "lap 1, past the end: %#x",
	       vnet_virtq_last_avail(&f.vq));
	EXPECT(vnet_virtq_unpop(&f.vq, 2) == 2, "unpop after laps");
	EXPECT(vnet_virtq_last_avail(&f.vq) == (3 | VNET_VQ_WRAP), "back: %#x",
	       vnet_virtq_last_avail(&f.vq));
	EXPECT(vnet_virtq_pop(&f.vq, &chain) == 1 && vnet_chain_id(chain.head) == h1, "h1");
	EXPECT(vnet_virtq_pop(&f.vq, &chain) == 1 && vnet_chain_id(chain.head) == h2, "h2");
	EXPECT(chain.in_len == 128, "the whole list again");
	vq_fx_done(&f);
}

/* Used buffer notifications: the driver area (2.8.10, 2.8.14). */
static void test_packed_used_notifications(void)
{
	struct vq_fx f;

	EXPECT(fx_setup(&f, 8, 0) == 0, "setup");
	vq_fx_complete_each(&f, 2);
	EXPECT(f.notifies == 2, "ENABLE: %d", f.notifies);
	vdrv_packed_set_event(&f.d, VRING_PACKED_EVENT_FLAG_DISABLE, 0);
	vq_fx_complete_each(&f, 3);
	EXPECT(f.notifies == 2 && f.vq.stats.suppressed == 3, "DISABLE");
	/* DESC is only valid with EVENT_IDX: without, notify */
	vdrv_packed_set_event(&f.d, VRING_PACKED_EVENT_FLAG_DESC, 0);
	vq_fx_complete_each(&f, 1);
	EXPECT(f.notifies == 3, "DESC without EVENT_IDX: %d", f.notifies);
	vdrv_packed_set_event(&f.d, 3, 0);	/* reserved */
	vq_fx_complete_each(&f, 1);
	EXPECT(f.notifies == 4, "reserved value: %d", f.notifies);
	vq_fx_done(&f);

	EXPECT(fx_setup(&f, 8, F_EVENT_IDX) == 0, "setup");
	vq_fx_complete_each(&f, 1);
	EXPECT(f.notifies == 1, "first decision notifies: %d", f.notifies);
	/* used position is 1 (wrap 1): ask for the used descriptor at 4 */
	vdrv_packed_set_event(&f.d, VRING_PACKED_EVENT_FLAG_DESC, 4 | 0x8000);
	vq_fx_complete_each(&f, 3);		/* writes 1, 2, 3 */
	EXPECT(f.notifies == 1, "before the event: %d", f.notifies);
	vq_fx_complete_each(&f, 1);		/* writes 4 */
	EXPECT(f.notifies == 2, "at the event: %d", f.notifies);
	vq_fx_complete_each(&f, 5);		/* 5, 6, 7, then 0, 1 of the next lap */
	EXPECT(f.notifies == 2, "past it, next lap: %d", f.notifies);
	/* the event in the next lap (wrap 0): position 3 */
	vdrv_packed_set_event(&f.d, VRING_PACKED_EVENT_FLAG_DESC, 3);
	vq_fx_complete_each(&f, 1);		/* 2 */
	EXPECT(f.notifies == 2, "lap 2, before: %d", f.notifies);
	vq_fx_complete_each(&f, 1);		/* 3 */
	EXPECT(f.notifies == 3, "lap 2, at the event: %d", f.notifies);
	/* ENABLE with EVENT_IDX notifies every time */
	vdrv_packed_set_event(&f.d, VRING_PACKED_EVENT_FLAG_ENABLE, 0);
	vq_fx_complete_each(&f, 2);
	EXPECT(f.notifies == 5, "ENABLE: %d", f.notifies);
	/* a batch that writes past the event in one flush */
	vdrv_packed_set_event(&f.d, VRING_PACKED_EVENT_FLAG_DESC,
			      vnet_virtq_last_used(&f.vq) ^ 0);	/* the next one */
	{
		struct vdrv_seg s = { vdriver_alloc(&f.d, 64, NULL), 64, true };
		int n = 0;

		for (int i = 0; i < 3; i++)
			vdriver_add(&f.d, &s, 1, false);
		vdriver_publish(&f.d);
		while (vnet_virtq_pop(&f.vq, &chain) == 1) {
			vnet_virtq_push(&f.vq, chain.head, 0);
			n++;
		}
		vnet_virtq_flush(&f.vq, (__u32)n);
		EXPECT(f.notifies == 6, "event inside the batch: %d", f.notifies);
		while (vdriver_get_used(&f.d, NULL) >= 0)
			;
	}
	/* the event missed by a full lap without a decision (coalescing):
	 * still notified */
	vdrv_packed_set_event(&f.d, VRING_PACKED_EVENT_FLAG_DESC, 0);
	vnet_virtq_set_coalesce(&f.vq, 100, 10 * 1000 * 1000);
	vq_fx_complete_each(&f, 9);
	EXPECT(f.notifies == 6, "coalesced: %d", f.notifies);
	vnet_virtq_coal_expire(&f.vq, vnet_virtq_coal_deadline(&f.vq));
	EXPECT(f.notifies == 7, "a lap later: %d", f.notifies);
	vq_fx_done(&f);
}

/* --- available buffer notifications (kicks): the device area ------------- */

static bool add_and_kick(struct vq_fx *f)
{
	struct vdrv_seg s = { vdriver_alloc(&f->d, 64, NULL), 64, false };

	vdriver_add(&f->d, &s, 1, false);
	vdriver_publish(&f->d);
	return vdriver_kick_needed(&f->d);
}

static void device_event(const struct vq_fx *f, __u16 *flags, __u16 *off_wrap)
{
	vdrv_packed_device_event(&f->d, flags, off_wrap);
}

static void test_packed_kicks(void)
{
	struct vnet_virtq_cfg cfg;
	__u16 fl, ow;
	struct vq_fx f;

	EXPECT(fx_setup(&f, 8, 0) == 0, "setup");
	/* a ring left with DISABLE by an earlier worker: setup clears it */
	f.d.pk.device->flags = htole16(VRING_PACKED_EVENT_FLAG_DISABLE);
	vdriver_cfg(&f.d, 0, &cfg);
	EXPECT(vnet_virtq_setup(&f.vq, &f.d.gm, &cfg) == 0, "setup again");
	device_event(&f, &fl, &ow);
	EXPECT(fl == VRING_PACKED_EVENT_FLAG_ENABLE, "setup: ENABLE, %u", fl);
	EXPECT(add_and_kick(&f), "kicks on: driver kicks");
	vq_fx_pop_all(&f);
	EXPECT(vnet_virtq_notify_enable(&f.vq, false) == 0, "disable");
	device_event(&f, &fl, &ow);
	EXPECT(fl == VRING_PACKED_EVENT_FLAG_DISABLE, "DISABLE, %u", fl);
	for (int i = 0; i < 12; i++) {	/* across the end of the ring */
		EXPECT(!add_and_kick(&f), "polling: no kick (%d)", i);
		vq_fx_pop_all(&f);
	}
	EXPECT(vnet_virtq_notify_enable(&f.vq, true) == 0, "empty");
	device_event(&f, &fl, &ow);
	EXPECT(fl == VRING_PACKED_EVENT_FLAG_ENABLE, "ENABLE again");
	EXPECT(add_and_kick(&f), "asleep: driver kicks");
	EXPECT(vnet_virtq_notify_enable(&f.vq, true) == 1, "re-check finds it");
	vq_fx_pop_all(&f);
	vq_fx_done(&f);

	EXPECT(fx_setup(&f, 8, F_EVENT_IDX) == 0, "setup");
	device_event(&f, &fl, &ow);
	EXPECT(fl == VRING_PACKED_EVENT_FLAG_DESC && ow == vnet_virtq_last_avail(&f.vq),
	       "setup: DESC at our position (%u %#x)", fl, ow);
	EXPECT(add_and_kick(&f), "the event descriptor kicks");
	EXPECT(!add_and_kick(&f), "one kick is enough until we look");
	vq_fx_pop_all(&f);
	/* an empty pop re-arms the event at our position */
	EXPECT(vnet_virtq_pop(&f.vq, &chain) == 0, "empty");
	device_event(&f, &fl, &ow);
	EXPECT(ow == vnet_virtq_last_avail(&f.vq), "re-armed at %#x: %#x",
	       vnet_virtq_last_avail(&f.vq), ow);
	EXPECT(vnet_virtq_notify_enable(&f.vq, false) == 0, "disable");
	for (int i = 0; i < 20; i++) {	/* more than two laps */
		EXPECT(!add_and_kick(&f), "polling: no kick (%d)", i);
		vq_fx_pop_all(&f);
		EXPECT(vnet_virtq_pop(&f.vq, &chain) == 0, "empty");
	}
	device_event(&f, &fl, &ow);
	EXPECT(fl == VRING_PACKED_EVENT_FLAG_DISABLE, "kicks off: DISABLE");
	EXPECT(vnet_virtq_notify_enable(&f.vq, true) == 0, "enable, empty");
	device_event(&f, &fl, &ow);
	EXPECT(fl == VRING_PACKED_EVENT_FLAG_DESC && ow == vnet_virtq_last_avail(&f.vq),
	       "DESC at our position again");
	EXPECT(add_and_kick(&f), "asleep: the next one kicks");
	vq_fx_done(&f);
}

/*
 * A driver writing garbage (random addresses, lengths, ids and every flag,
 * the ring bits included): the engine never touches memory outside the
 * guest's, and either returns bad chains or breaks the ring (then: reset,
 * set up again).
 */
static void test_packed_random_hostile_driver(void)
{
	unsigned int seed = 4242, breaks = 0;
	struct vnet_virtq_cfg cfg;
	struct vq_fx f;

	EXPECT(fx_setup(&f, 32, F_INDIRECT | F_EVENT_IDX) == 0, "setup");
	vnet_log_level = -1;	/* a thousand "device needs reset" */
	for (int round = 0; round < 3000; round++) {
		unsigned int n = 1 + test_rand(&seed) % 32, k = 0;
		int r;

		for (unsigned int i = 0; i < n; i++) {
			struct vring_packed_desc *d = &f.d.pk.desc[(f.vq.packed.avail_idx + i) % 32];
			__u32 x = test_rand(&seed);
			__u64 addr = (x & 3) == 0 ? (__u64)test_rand(&seed) :
				     VDRV_GPA_BASE + (test_rand(&seed) % (f.d.mem_size + 64));
			__u32 len = (x & 12) == 0 ? test_rand(&seed) : test_rand(&seed) % 512;
			__u16 fl = (__u16)(test_rand(&seed) & 7);
			bool wrap = f.vq.packed.avail_wrap ^
				    (f.vq.packed.avail_idx + i >= 32);

			/* mostly available with the right lap, sometimes not */
			if (test_rand(&seed) % 16)
				fl |= vdrv_packed_avail_bits(wrap);
			else
				fl |= (__u16)(test_rand(&seed) & (D_AVAIL | D_USED));
			*d = raw(addr, len, fl);
			d->id = htole16((__u16)test_rand(&seed));
		}
		while ((r = vnet_virtq_pop(&f.vq, &chain)) == 1 && k++ < 64) {
			vq_fx_touch_chain(&f, &chain);
			vnet_virtq_push(&f.vq, chain.head, chain.in_len);
		}
		vnet_virtq_flush(&f.vq, 1);
		if (r == -EIO) {
			breaks++;
			vnet_virtq_reset(&f.vq);
			vdriver_cfg(&f.d, F_INDIRECT | F_EVENT_IDX, &cfg);
			memset(f.d.pk.desc, 0, 32 * sizeof(*f.d.pk.desc));
			EXPECT(vnet_virtq_setup(&f.vq, &f.d.gm, &cfg) == 0, "setup again");
		}
	}
	vnet_log_level = VNET_LOG_WARN;
	EXPECT(f.vq.stats.bad_chains > 100 && breaks > 10 && f.errors == (int)breaks,
	       "%llu bad chains, %u breaks, %d errors",
	       (unsigned long long)f.vq.stats.bad_chains, breaks, f.errors);
	printf("  %u broken rings, %llu good and %llu bad chains in the last one\n", breaks,
	       (unsigned long long)f.vq.stats.chains, (unsigned long long)f.vq.stats.bad_chains);
	vq_fx_done(&f);
}

int main(void)
{
	RUN(test_packed_list);
	RUN(test_packed_indirect);
	RUN(test_packed_wrap_laps);
	RUN(test_packed_bad_chains);
	RUN(test_packed_ring_errors);
	RUN(test_packed_setup);
	RUN(test_packed_resume);
	RUN(test_packed_out_of_order);
	RUN(test_packed_in_order);
	RUN(test_packed_unpop);
	RUN(test_packed_used_notifications);
	RUN(test_packed_kicks);
	RUN(test_packed_random_hostile_driver);
	return test_summary();
}
