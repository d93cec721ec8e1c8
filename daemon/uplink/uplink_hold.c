// SPDX-License-Identifier: MIT
/*
 * Frames a receive queue had no buffer for, kept a little while instead of
 * dropped (uplink_int.h, struct up_hold). A driver that is a moment late
 * refilling its ring (its vCPU, or vnet-guest, not scheduled) otherwise
 * loses every frame of that moment: TCP through vnet lost ~4 % of its
 * segments that way (make bench-tcp, retr). vhost-net has the TAP's queue
 * for this; we have a FIFO per receive queue of copies (the AF_XDP frame
 * goes back to the kernel at once: nothing held depends on the uplink's
 * sockets, which may close meanwhile). The kernel's merged frames
 * (uplink_kgro.c) have a FIFO of their own per queue, of fewer and larger
 * slots, each frame with its virtio-net header in front of it: they are
 * copied out of a packet ring only when frames for others wait behind them.
 *
 * All under dev->lock. Order: a queue's held frames go before anything
 * newer, and newer frames queue behind them while any are held, so each
 * flow stays in order (vnet_net_rx_burst_hold says why the frames it
 * leaves are a flow's last). Bounded: cap frames a FIFO, and one that
 * takes nothing for UP_HOLD_NS has its held frames dropped (a guest that
 * stopped reading must not keep frames, or CPU, forever).
 */
#include <stdlib.h>
#include <string.h>
#include <linux/virtio_net.h>

#include "uplink_int.h"

static __u8 *hold_slot(const struct up_hold *h, unsigned int i)
{
	return h->slot + (size_t)i * h->size;
}

/* Bytes in front of a frame's data that belong to it: the kernel's header. */
static unsigned int hold_lead(const struct vnet_rx_pkt *pk)
{
	return pk->flags & VNET_RX_F_VHDR ? sizeof(struct virtio_net_hdr) : 0;
}

/* calloc of this size maps fresh pages: a queue that never holds a frame
 * never touches (and so never costs) its slots */
static int hold_init(struct up_hold *h, unsigned int cap, unsigned int size)
{
	h->cap = cap;
	h->size = size;
	h->slot = calloc(cap, size);
	h->pk = calloc(cap, sizeof(*h->pk));
	return h->slot && h->pk ? 0 : -1;
}

int updp_hold_alloc(struct up_port *p, unsigned int nq)
{
	p->hold = calloc(nq, sizeof(*p->hold));
	p->khold = calloc(nq, sizeof(*p->khold));
	if (!p->hold || !p->khold)
		return -1;	/* updp_hold_free takes what was made */
	p->nhold_q = nq;
	for (unsigned int i = 0; i < nq; i++)
		if (hold_init(&p->hold[i], UP_HOLD, UP_HOLD_FRAME) ||
		    hold_init(&p->khold[i], UP_KHOLD, UP_KHOLD_FRAME))
			return -1;
	return 0;
}

void updp_hold_free(struct up_port *p)
{
	for (unsigned int i = 0; i < p->nhold_q; i++) {
		if (p->hold) {
			free(p->hold[i].slot);
			free(p->hold[i].pk);
		}
		if (p->khold) {
			free(p->khold[i].slot);
			free(p->khold[i].pk);
		}
	}
	free(p->hold);
	free(p->khold);
	p->hold = p->khold = NULL;
}

void updp_hold_drop(struct up_port *p, struct up_hold *h, struct vnet_netq *nq)
{
	if (nq)
		vnet_net_rx_dropped(nq, h->n);
	p->st.rx_dropped += h->n;
	__atomic_sub_fetch(&p->nheld, h->n, __ATOMIC_RELAXED);
	h->head = h->n = 0;
}

/* Copy the frames of pk[0 .. n) whose bit is in 'mask' to the tail. */
void updp_hold_add(struct up_port *p, struct up_hold *h, struct vnet_netq *nq,
		   const struct vnet_rx_pkt *pk, unsigned int n, __u64 mask, __u64 now)
{
	unsigned int added = 0, dropped = 0;

	if (!h->n)
		h->since = now;
	for (unsigned int i = 0; i < n; i++) {
		unsigned int t, lead = hold_lead(&pk[i]);

		if (!(mask >> i & 1))
			continue;
		if (h->n == h->cap || lead + (size_t)pk[i].len > h->size) {
			dropped++;
			continue;
		}
		t = (h->head + h->n++) % h->cap;
		memcpy(hold_slot(h, t), pk[i].data - lead, lead + pk[i].len);
		h->pk[t] = pk[i];
		h->pk[t].data = hold_slot(h, t) + lead;
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
		unsigned int from = at + i, to, lead;

		if (!(left >> i & 1))
			continue;
		to = at + k - 1 - m++;
		if (to != from) {
			lead = hold_lead(&h->pk[from]);
			memcpy(hold_slot(h, to), hold_slot(h, from), lead + h->pk[from].len);
			h->pk[to] = h->pk[from];
			h->pk[to].data = hold_slot(h, to) + lead;
		}
	}
	return m;
}

/* Held frames of h into nq, oldest first; how many it took. */
unsigned int updp_hold_deliver(struct up_port *p, struct up_hold *h, struct vnet_netq *nq,
			       __u64 now)
{
	unsigned int got = 0;

	while (h->n) {
		/* a chunk never wraps: the burst wants consecutive frames */
		unsigned int k = h->n, took, left, done;
		__u64 nobuf;

		if (k > VNET_RX_HOLD_MAX)
			k = VNET_RX_HOLD_MAX;
		if (k > h->cap - h->head)
			k = h->cap - h->head;
		took = vnet_net_rx_burst_hold(nq, &h->pk[h->head], k, &nobuf);
		left = nobuf ? hold_compact(h, h->head, k, nobuf) : 0;
		done = k - left;	/* delivered, or dropped as too big */
		got += took;
		p->st.rx_dropped += done - took;
		h->head = (h->head + done) % h->cap;
		h->n -= done;
		__atomic_sub_fetch(&p->nheld, done, __ATOMIC_RELAXED);
		if (took)
			h->since = now;
		if (left)
			break;
	}
	if (h->n && now - h->since > UP_HOLD_NS)
		updp_hold_drop(p, h, nq);
	return got;
}

unsigned int updp_khold_deliver(struct up_port *p, unsigned int r, struct vnet_netq *nq,
				__u64 now)
{
	unsigned int got = updp_hold_deliver(p, &p->khold[r], nq, now);

	p->st.rx_kgro += got;
	return got;
}

unsigned int updp_hold_deliver_queue(struct up_port *p, unsigned int r, struct vnet_netq *nq,
				     __u64 now)
{
	unsigned int got = 0;

	if (p->hold[r].n)
		got += updp_hold_deliver(p, &p->hold[r], nq, now);
	if (p->khold[r].n)
		got += updp_khold_deliver(p, r, nq, now);
	return got;
}

void updp_hold_drop_queue(struct up_port *p, unsigned int r)
{
	updp_hold_drop(p, &p->hold[r], NULL);
	updp_hold_drop(p, &p->khold[r], NULL);
}
