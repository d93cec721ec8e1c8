// SPDX-License-Identifier: MIT
/* Guest memory translation: regions, partial mappings, hostile arithmetic. */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <vnet/guest_mem.h>

#include "test.h"

static __u8 buf_a[0x1000], buf_b[0x2000], buf_top[0x1000];

static void mem_init(struct vnet_guest_mem *m)
{
	memset(m, 0, sizeof(*m));
	m->nregions = 3;
	m->regions[0] = (struct vnet_mem_region){ .gpa = 0x1000, .size = 0x1000,
		.uaddr = 0x7000, .hva = buf_a, .fd = -1 };
	/* contiguous in gpa with A, but elsewhere in our address space */
	m->regions[1] = (struct vnet_mem_region){ .gpa = 0x2000, .size = 0x2000,
		.uaddr = 0x9000, .hva = buf_b, .fd = -1 };
	/* the very top of the 64-bit space: end arithmetic would wrap */
	m->regions[2] = (struct vnet_mem_region){ .gpa = UINT64_MAX - 0xfff,
		.size = 0x1000, .uaddr = 0x20000, .hva = buf_top, .fd = -1 };
}

static void test_translate_inside(void)
{
	struct vnet_guest_mem m;
	__u64 len = 0x100;

	mem_init(&m);
	EXPECT(vnet_gpa_to_hva(&m, 0x1010, &len, VNET_MEM_READ) == buf_a + 0x10,
	       "wrong pointer");
	EXPECT(len == 0x100, "len %llu", (unsigned long long)len);
	len = 1;
	EXPECT(vnet_gpa_to_hva(&m, 0x3fff, &len, VNET_MEM_WRITE) == buf_b + 0x1fff,
	       "last byte of B");
}

static void test_partial_mapping_shrinks(void)
{
	struct vnet_guest_mem m;
	__u64 len = 0x100;

	mem_init(&m);
	EXPECT(vnet_gpa_to_hva(&m, 0x1f80, &len, VNET_MEM_READ) == buf_a + 0xf80,
	       "pointer");
	EXPECT(len == 0x80, "shrunk to %llu", (unsigned long long)len);
	/* a range across two regions is not contiguous for us */
	EXPECT(!vnet_gpa_range(&m, 0x1f80, 0x100, VNET_MEM_READ), "range across");
	EXPECT(vnet_gpa_range(&m, 0x1f80, 0x80, VNET_MEM_READ) == buf_a + 0xf80,
	       "range inside");
}

static void test_outside_and_zero(void)
{
	struct vnet_guest_mem m;
	__u64 len;

	mem_init(&m);
	len = 16;
	EXPECT(!vnet_gpa_to_hva(&m, 0x0, &len, VNET_MEM_READ), "below");
	len = 16;
	EXPECT(!vnet_gpa_to_hva(&m, 0x4000, &len, VNET_MEM_READ), "after B");
	len = 0;
	EXPECT(!vnet_gpa_to_hva(&m, 0x1000, &len, VNET_MEM_READ), "zero length");
	EXPECT(!vnet_gpa_to_hva(NULL, 0x1000, &len, VNET_MEM_READ), "no table");
	m.nregions = 1000;	/* a corrupt count must not walk off the table */
	len = 16;
	EXPECT(vnet_gpa_to_hva(&m, 0x1000, &len, VNET_MEM_READ) == buf_a, "clamped");
}

static void test_overflowing_lengths(void)
{
	struct vnet_guest_mem m;
	__u64 len;

	mem_init(&m);
	len = UINT64_MAX;
	EXPECT(vnet_gpa_to_hva(&m, 0x1000, &len, VNET_MEM_READ) == buf_a, "ptr");
	EXPECT(len == 0x1000, "huge len shrunk to %llu", (unsigned long long)len);
	len = 0x100;
	EXPECT(vnet_gpa_to_hva(&m, UINT64_MAX - 0xf, &len, VNET_MEM_READ) ==
	       buf_top + 0xff0, "top region");
	EXPECT(len == 0x10, "top shrunk to %llu", (unsigned long long)len);
	EXPECT(!vnet_gpa_range(&m, UINT64_MAX - 0xf, 0x20, VNET_MEM_READ),
	       "wrapping range");
	EXPECT(!vnet_gpa_range(&m, 0x1000, UINT64_MAX, VNET_MEM_READ),
	       "max length");
}

static void test_uva(void)
{
	struct vnet_guest_mem m;
	__u64 len = 0x2000;

	mem_init(&m);
	EXPECT(vnet_uva_to_hva(&m, 0x9100, &len) == buf_b + 0x100, "uva B");
	EXPECT(len == 0x1f00, "uva shrink %llu", (unsigned long long)len);
	len = 4;
	EXPECT(!vnet_uva_to_hva(&m, 0x1000, &len), "gpa is not a uva");
}

/* A read-only IOTLB entry is never handed out for writing (it would fault). */
static void test_denied_access(void)
{
	struct vnet_guest_mem m;
	__u64 len = 16;

	mem_init(&m);
	m.regions[1].deny = VNET_MEM_WRITE;
	EXPECT(vnet_gpa_to_hva(&m, 0x2000, &len, VNET_MEM_READ) == buf_b, "read allowed");
	len = 16;
	EXPECT(!vnet_gpa_to_hva(&m, 0x2000, &len, VNET_MEM_WRITE), "write denied");
	len = 16;
	EXPECT(!vnet_gpa_to_hva(&m, 0x2000, &len, VNET_MEM_READ | VNET_MEM_WRITE),
	       "read-write denied");
	len = 16;
	EXPECT(vnet_gpa_to_hva(&m, 0x1000, &len, VNET_MEM_WRITE) == buf_a, "other region");
}

struct miss_ctx {
	unsigned int calls;
	bool add;		/* map the region, or fail */
	__u64 last_addr;
};

static __u8 buf_miss[0x1000];

static int miss_add(const struct vnet_guest_mem *cm, __u64 addr, void *opaque)
{
	struct vnet_guest_mem *m = (struct vnet_guest_mem *)cm;
	struct miss_ctx *c = opaque;

	c->calls++;
	c->last_addr = addr;
	if (!c->add)
		return -EINVAL;
	m->regions[m->nregions++] = (struct vnet_mem_region){ .gpa = 0x8000,
		.size = 0x1000, .hva = buf_miss, .fd = -1 };
	return 0;
}

/* An IOTLB that maps lazily: a miss asks once, then the lookup is retried. */
static void test_miss_hook(void)
{
	struct vnet_guest_mem m;
	struct miss_ctx c = { 0 };
	__u64 len = 16;

	mem_init(&m);
	m.miss = miss_add;
	m.miss_opaque = &c;
	EXPECT(vnet_gpa_to_hva(&m, 0x1000, &len, VNET_MEM_READ) == buf_a, "hit");
	EXPECT(c.calls == 0, "a hit must not ask (%u)", c.calls);
	len = 16;
	EXPECT(!vnet_gpa_to_hva(&m, 0x8010, &len, VNET_MEM_READ), "refused miss");
	EXPECT(c.calls == 1 && c.last_addr == 0x8010, "asked once (%u)", c.calls);
	c.add = true;
	len = 16;
	EXPECT(vnet_gpa_to_hva(&m, 0x8010, &len, VNET_MEM_WRITE) == buf_miss + 0x10,
	       "mapped on the miss");
	EXPECT(c.calls == 2 && m.nregions == 4, "calls %u regions %u", c.calls, m.nregions);
	len = 16;
	EXPECT(vnet_gpa_to_hva(&m, 0x8020, &len, VNET_MEM_READ) == buf_miss + 0x20, "now a hit");
	EXPECT(c.calls == 2, "no more asking (%u)", c.calls);
	len = 0;
	EXPECT(!vnet_gpa_to_hva(&m, 0x9000, &len, VNET_MEM_READ) && c.calls == 2,
	       "zero length never asks");
	/* frontend virtual addresses have no IOTLB */
	len = 16;
	EXPECT(!vnet_uva_to_hva(&m, 0x100000, &len) && c.calls == 2, "uva never asks");
}

int main(void)
{
	RUN(test_translate_inside);
	RUN(test_partial_mapping_shrinks);
	RUN(test_outside_and_zero);
	RUN(test_overflowing_lengths);
	RUN(test_uva);
	RUN(test_denied_access);
	RUN(test_miss_hook);
	return test_summary();
}
