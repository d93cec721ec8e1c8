// SPDX-License-Identifier: MIT
/*
 * Frames a receive queue had no buffer for, kept a little while instead of
 * dropped (uplink_int.h, struct up_hold). A driver that is a moment late
 * refilling its ring (its vCPU, or vnet-guest, not scheduled) otherwise
 * loses every frame of that moment: TCP through vnet lost ~4 % of its
 * segments that way (make bench-tcp, retr). vhost-net has the TAP's queue
 * for this; we have a FIFO per receive queue of copies (the AF_XDP frame
 * goes back to the kernel at once: nothing held depends on the uplink's
 * sockets, which may close meanwhile).
 *
 * All under dev->lock. Order: a queue's held frames go before anything
 * newer, and newer frames queue behind them while any are held, so each
 * flow stays in order (vnet_net_rx_burst_hold says why the frames it
 * leaves are a flow's last). Bounded: UP_HOLD frames a queue, and a queue
 * that takes nothing for UP_HOLD_NS has its held frames dropped (a guest
 * that stopped reading must not keep frames, or CPU, forever).
 */
#include <stdlib.h>
#include <string.h>

#include "uplink_int.h"

int updp_hold_alloc(struct up_port *p, unsigned int nq)
{
	/* calloc of this size maps fresh pages: a queue that never holds a
	 * frame never touches (and so never costs) its slots */
	p->hold = calloc(nq, sizeof(*p->hold));
	if (!p->hold)
		return -1;
	p->nhold_q = nq;
	for (unsigned int i = 0; i < nq; i++) {
		p->hold[i].slot = calloc(UP_HOLD, UP_HOLD_FRAME);
		if (!p->hold[i].slot)
			return -1;	/* updp_hold_free takes what was made */
	}
	return 0;
}

void updp_hold_free(struct up_port *p)
{
	for (unsigned int i = 0; p->hold && i < p->nhold_q; i++)
		free(p->hold[i].slot);
	free(p->hold);
	p->hold = NULL;
}

void updp_hold_drop(struct up_port *p, unsigned int r, struct vnet_netq *nq)
{
	struct up_hold *h = &p->hold[r];

	if (nq)
		vnet_net_rx_dropped(nq, h->n);
	p->st.rx_dropped += h->n;
	__atomic_sub_fetch(&p->nheld, h->n, __ATOMIC_RELAXED);
	h->head = h->n = 0;
}

/* Copy the frames of pk[0 .. n) whose bit is in 'mask' to the tail. */
void updp_hold_add(struct up_port *p, unsigned int r, struct vnet_netq *nq,
		   const struct vnet_rx_pkt *pk, unsigned int n, __u64 mask, __u64 now)
{
	struct up_hold *h = &p->hold[r];
	unsigned int added = 0, dropped = 0;

	if (!h->n)
		h->since = now;
	for (unsigned int i = 0; i < n; i++) {
		unsigned int t;

		if (!(mask >> i & 1))
			continue;
		/* a frame with the kernel's header (uplink_kgro.c) is not
		 * held: the copy would lose the header in front of it */
		if (h->n == UP_HOLD || pk[i].len > UP_HOLD_FRAME ||
		    (pk[i].flags & VNET_RX_F_VHDR)) {
			dropped++;
			continue;
		}
		t = (h->head + h->n++) % UP_HOLD;
		memcpy(h->slot[t], pk[i].data, pk[i].len);
		h->pk[t] = pk[i];
		h->pk[t].data = h->slot[t];
		added++;
	}
	if (dropped) {
		vnet_net_rx_dropped(nq, dropped);
		p->st.rx_dropped += dropped;
	}
	__atomic_add_fetch(&p->nheld, added, __ATOMIC_RELAXED);
}

/*
 * Frames of the chunk pk[0 .. k) (slots the same positions) that are still
 * held, moved to the chunk's end in order; returns how many there are. A
 * frame only ever moves up, and the last first, so none is overwritten.
 */
static unsigned int hold_compact(struct up_hold *h, unsigned int at, unsigned int k,
				 __u64 left)
{
	unsigned int m = 0;

	for (unsigned int i = k; i-- > 0;) {
		unsigned int from = at + i, to;

		if (!(left >> i & 1))
			continue;
		to = at + k - 1 - m++;
		if (to != from) {
			memcpy(h->slot[to], h->slot[from], h->pk[from].len);
			h->pk[to] = h->pk[from];
			h->pk[to].data = h->slot[to];
		}
	}
	return m;
}

/* Held frames of queue r into it, oldest first; how many it took. */
unsigned int updp_hold_deliver(struct up_port *p, unsigned int r, struct vnet_netq *nq,
			       __u64 now)
{
	struct up_hold *h = &p->hold[r];
	unsigned int got = 0;

	while (h->n) {
		/* a chunk never wraps: the burst wants consecutive frames */
		unsigned int k = h->n, took, left, done;
		__u64 nobuf;

		if (k > VNET_RX_HOLD_MAX)
			k = VNET_RX_HOLD_MAX;
		if (k > UP_HOLD - h->head)
			k = UP_HOLD - h->head;
		took = vnet_net_rx_burst_hold(nq, &h->pk[h->head], k, &nobuf);
		left = nobuf ? hold_compact(h, h->head, k, nobuf) : 0;
		done = k - left;	/* delivered, or dropped as too big */
		got += took;
		p->st.rx_dropped += done - took;
		h->head = (h->head + done) % UP_HOLD;
		h->n -= done;
		__atomic_sub_fetch(&p->nheld, done, __ATOMIC_RELAXED);
		if (took)
			h->since = now;
		if (left)
			break;
	}
	if (h->n && now - h->since > UP_HOLD_NS)
		updp_hold_drop(p, r, nq);
	return got;
}
