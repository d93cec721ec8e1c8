// SPDX-License-Identifier: MIT
/*
 * The MAC cache of the XDP program (dp_mac_cache.h): the array map
 * 'mac_cache', written in place through mmap with ordered stores, a copy of
 * the authoritative hash map 'mac_devs' that the program trusts only when it
 * reads a way's key twice the same (include/vnet/dp_layout.h).
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>

#include "dp_mac_cache.h"

#define MAC_CACHE_BYTES	(sizeof(struct vnet_dp_mac_set) * VNET_DP_MAC_SETS)
#define MACC_SEQ_MASK	(~0ull << VNET_DP_MACC_SEQ_SHIFT)

/*
 * The cache protocol relies on the program seeing our stores in order and
 * making its own loads in order: true on x86 (TSO). Elsewhere the cache
 * stays off and every lookup goes to the hash map.
 */
int dp_mac_cache_init(struct dp_mac_cache *c, int map_fd)
{
	memset(c, 0, sizeof(*c));
#if defined(__x86_64__) || defined(__i386__)
	void *p = mmap(NULL, MAC_CACHE_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED, map_fd, 0);

	if (p == MAP_FAILED)
		return -errno;
	c->sets = p;
#else
	(void)map_fd;
#endif
	return 0;
}

void dp_mac_cache_fini(struct dp_mac_cache *c)
{
	if (c->sets)
		munmap(c->sets, MAC_CACHE_BYTES);
	c->sets = NULL;
}

static __u64 mac48_of(const __u8 mac[6])
{
	__u64 v = 0;

	for (int i = 5; i >= 0; i--)
		v = v << 8 | mac[i];
	return v;
}

static int mac_cache_find(const struct vnet_dp_mac_set *s, __u64 mac48)
{
	for (int i = 0; i < VNET_DP_MAC_WAYS; i++) {
		__u64 k = s->way[i].key;

		if ((k & VNET_DP_MACC_VALID) && (k & VNET_DP_MACC_ADDR) == mac48)
			return i;
	}
	return -1;
}

/*
 * Rewrite one way: BUSY with the next sequence, the devices, then the final
 * key with the sequence after that. Release stores keep that order for the
 * program, which reads key, devs, key (mac_devs_of() in the program).
 */
static void mac_cache_write(struct vnet_dp_mac_set *s, int i, __u64 key, __u64 devs)
{
	struct vnet_dp_mac_way *w = &s->way[i];
	__u64 cur = w->key, keep = cur & VNET_DP_MACC_OVERFLOW;
	__u64 seq = cur & MACC_SEQ_MASK;

	__atomic_store_n(&w->key, keep | VNET_DP_MACC_BUSY |
			 ((seq + VNET_DP_MACC_SEQ_ONE) & MACC_SEQ_MASK), __ATOMIC_RELEASE);
	__atomic_store_n(&w->devs, devs, __ATOMIC_RELEASE);
	__atomic_store_n(&w->key, keep | key |
			 ((seq + 2 * VNET_DP_MACC_SEQ_ONE) & MACC_SEQ_MASK), __ATOMIC_RELEASE);
}

static void mac_cache_overflow(struct dp_mac_cache *c, __u32 set, int delta)
{
	struct vnet_dp_mac_way *w0 = &c->sets[set].way[0];
	__u64 k = w0->key;

	c->overflow[set] += delta;
	if (c->overflow[set])
		k |= VNET_DP_MACC_OVERFLOW;
	else
		k &= ~VNET_DP_MACC_OVERFLOW;
	__atomic_store_n(&w0->key, k, __ATOMIC_RELEASE);
}

void dp_mac_cache_put(struct dp_mac_cache *c, const __u8 mac[6], __u64 devs, int had)
{
	__u64 mac48 = mac48_of(mac);
	__u32 set = vnet_dp_mac_set_of(mac48);
	struct vnet_dp_mac_set *s = &c->sets[set];
	int i = mac_cache_find(s, mac48);

	if (i < 0 && had)
		return;		/* it overflowed before: mac_devs alone has it */
	for (int j = 0; i < 0 && j < VNET_DP_MAC_WAYS; j++)
		if (!(s->way[j].key & VNET_DP_MACC_VALID))
			i = j;
	if (i < 0) {
		/* set full: the program asks mac_devs on a miss in this set */
		mac_cache_overflow(c, set, 1);
		return;
	}
	mac_cache_write(s, i, VNET_DP_MACC_VALID | mac48, devs);
}

void dp_mac_cache_del(struct dp_mac_cache *c, const __u8 mac[6], int had)
{
	__u64 mac48 = mac48_of(mac);
	__u32 set = vnet_dp_mac_set_of(mac48);
	int i = mac_cache_find(&c->sets[set], mac48);

	if (i >= 0)
		mac_cache_write(&c->sets[set], i, 0, 0);
	else if (had && c->overflow[set])
		mac_cache_overflow(c, set, -1);
}
