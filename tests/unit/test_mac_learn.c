// SPDX-License-Identifier: MIT
/* include/vnet/mac_learn.h: a trusted device's learned source MACs. */
#include <errno.h>
#include <string.h>

#include "test.h"
#include "vnet/mac_learn.h"

#define S 1000000000ull

static void mac_n(__u8 m[6], unsigned int n)
{
	memcpy(m, "\x52\x54\x00\x00\x00\x00", 6);
	m[4] = (__u8)(n >> 8);
	m[5] = (__u8)n;
}

static void test_learn_bounded(void)
{
	struct vnet_mac_learn t = { 0 };
	__u8 m[6];
	__u32 v;
	unsigned int i;

	for (i = 0; i < VNET_LEARN_MAX; i++) {
		mac_n(m, i);
		EXPECT(vnet_mac_learn(&t, m, i * S) == 1, "mac %u not learned", i);
	}
	v = t.version;
	mac_n(m, 3);
	EXPECT(vnet_mac_learn(&t, m, 50 * S) == 0, "known MAC learned again");
	EXPECT(t.version == v && t.n == VNET_LEARN_MAX, "a known MAC changed the set");
	mac_n(m, 100);
	EXPECT(vnet_mac_learn(&t, m, 50 * S) == -ENOSPC, "a full table took more");
	EXPECT(t.full == 1 && t.version == v, "full: counted %llu", (unsigned long long)t.full);
	EXPECT(vnet_mac_learn(&t, (const __u8 *)"\x01\x00\x5e\x00\x00\x01", 0) == -EINVAL,
	       "a multicast source learned");
	EXPECT(vnet_mac_learn(&t, (const __u8 *)"\0\0\0\0\0\0", 0) == -EINVAL,
	       "the zero MAC learned");
}

static void test_learn_age(void)
{
	struct vnet_mac_learn t = { 0 };
	__u8 m[6];
	unsigned int i;
	__u32 v;

	for (i = 0; i < 4; i++) {
		mac_n(m, i);
		vnet_mac_learn(&t, m, i * 100 * S);	/* seen at 0, 100, 200, 300 s */
	}
	v = t.version;
	EXPECT(vnet_mac_learn_age(&t, 300 * S, VNET_LEARN_AGE_NS) == 0, "aged too early");
	EXPECT(t.version == v, "nothing aged, version moved");
	/* at 450 s: 0 and 100 are older than 300 s */
	EXPECT(vnet_mac_learn_age(&t, 450 * S, VNET_LEARN_AGE_NS) == 2, "not aged");
	EXPECT(t.n == 2 && t.version != v, "n %u", t.n);
	for (i = 0; i < t.n; i++)
		EXPECT(t.mac[i][5] == 2 || t.mac[i][5] == 3, "kept the wrong MAC %u", t.mac[i][5]);
	/* an aged slot is free again */
	mac_n(m, 9);
	EXPECT(vnet_mac_learn(&t, m, 450 * S) == 1 && t.n == 3, "slot not reused");
	v = t.version;
	vnet_mac_learn_clear(&t);
	EXPECT(t.n == 0 && t.version != v, "clear");
}

int main(void)
{
	RUN(test_learn_bounded);
	RUN(test_learn_age);
	return test_summary();
}
