// SPDX-License-Identifier: MIT
/*
 * Learned source MACs of a trusted device (include/vnet/mac_learn.h). A
 * handful of entries: a linear walk is cheaper than any index, and it only
 * runs for frames whose source is not the device's own MAC.
 */
#include <errno.h>
#include <string.h>

#include "vnet/mac_learn.h"

static bool mac_usable(const __u8 mac[6])
{
	static const __u8 zero[6];

	return !(mac[0] & 1) && memcmp(mac, zero, 6);
}

int vnet_mac_learn(struct vnet_mac_learn *t, const __u8 mac[6], __u64 now)
{
	unsigned int i;

	if (!mac_usable(mac))
		return -EINVAL;
	for (i = 0; i < t->n; i++) {
		if (!memcmp(t->mac[i], mac, 6)) {
			t->seen_ns[i] = now;
			return 0;
		}
	}
	if (t->n == VNET_LEARN_MAX) {
		t->full++;
		return -ENOSPC;
	}
	memcpy(t->mac[t->n], mac, 6);
	t->seen_ns[t->n++] = now;
	t->version++;
	return 1;
}

unsigned int vnet_mac_learn_age(struct vnet_mac_learn *t, __u64 now, __u64 age_ns)
{
	unsigned int i = 0, gone = 0;

	while (i < t->n) {
		if (now - t->seen_ns[i] <= age_ns) {
			i++;
			continue;
		}
		/* the last entry takes the slot: order carries no meaning */
		t->n--;
		memcpy(t->mac[i], t->mac[t->n], 6);
		t->seen_ns[i] = t->seen_ns[t->n];
		gone++;
	}
	if (gone)
		t->version++;
	return gone;
}

void vnet_mac_learn_clear(struct vnet_mac_learn *t)
{
	if (t->n)
		t->version++;
	t->n = 0;
}
