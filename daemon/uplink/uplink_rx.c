// SPDX-License-Identifier: MIT
/*
 * The uplink worker's receive side (uplink_int.h): XSK rx rings ->
 * metadata -> batches per (device, receive queue) -> one burst each;
 * flood frames, device-to-device frames and the host's frames (packet
 * socket, host port) replicated by the one receive decision
 * (vnet_rx_fanout, rx_filter.h).
 */
#include <errno.h>
#include <string.h>
#include <linux/virtio_config.h>

#include "uplink_int.h"

/*
 * A worker's batches for one port into its receive queues. Any worker may
 * deliver to any receive queue of the device: dev->lock, which the device
 * model wants around every ring access anyway, orders them (taken once a
 * batch, not per frame; docs/ARCHITECTURE.md "Uplink workers").
 */
/*
 * One receive queue: what it holds first, then the batch's frames; those
 * it has no buffer for are held (uplink_hold.c), behind any already held.
 * Returns the frames delivered.
 */
static unsigned int queue_flush(struct up_port *p, struct vnet_devq_q *q,
				const struct vnet_rx_pkt *pk, unsigned int n, __u64 now)
{
	unsigned int r = (unsigned int)(q - p->dq.q) / 2, got = 0, took;
	struct vnet_netq *nq = &q->nq;
	__u64 nobuf;

	if (updp_queue_holds(p, r))
		got = updp_hold_deliver_queue(p, r, nq, now);
	if (!n)
		return got;
	if (p->hold[r].n) {
		updp_hold_add(p, &p->hold[r], nq, pk, n, n < 64 ? (1ull << n) - 1 : ~0ull, now);
		return got;
	}
	took = vnet_net_rx_burst_hold(nq, pk, n, &nobuf);
	/* delivered, held, or else dropped as too big */
	p->st.rx_dropped += n - took - (unsigned int)__builtin_popcountll(nobuf);
	got += took;
	if (nobuf)
		updp_hold_add(p, &p->hold[r], nq, pk, n, nobuf, now);
	return got;
}

static void port_flush(struct up_port *p, struct up_batch *b)
{
	struct vnet_netdev *dev = p->dev;
	unsigned int r, got, total;
	__u64 now = vnet_now_ns();
	bool broken;

	pthread_mutex_lock(&dev->lock);
	if (b) {
		p->st.rx_dropped += b->over_mtu;
		b->over_mtu = 0;
	}
	vnet_devq_sync(&p->dq);
	broken = dev->status & VIRTIO_CONFIG_S_NEEDS_RESET;
	for (r = 0; r < dev->params.max_vqp; r++) {
		struct vnet_devq_q *q = &p->dq.q[2 * r];

		total = b ? b->rxn[r] : 0;
		if (b)
			b->rxn[r] = 0;
		if (!total && !updp_queue_holds(p, r))
			continue;
		/* a queue that cannot take frames now: what it held goes */
		if (broken || !q->active)
			updp_hold_drop_queue(p, r);
		if (!total)
			continue;
		/* a queue the driver has not set up: receiveq1 (like sim.c) */
		if (!q->active)
			q = &p->dq.q[0];
		if (broken || !q->active) {
			p->st.rx_dropped += total;
			continue;
		}
		got = queue_flush(p, q, b->rxb + r * UP_RXB, total, now);
		p->st.rx_frames += got;
		vnet_devq_rx_stats(q);
		/* GET_VRING_BASE may come before the next round */
		vnet_devq_save_position(q);
	}
	/* held frames of live queues that got no new ones: another try */
	for (r = 0; !broken && __atomic_load_n(&p->nheld, __ATOMIC_RELAXED) &&
		    r < dev->params.max_vqp; r++) {
		struct vnet_devq_q *q = &p->dq.q[2 * r];

		if (!updp_queue_holds(p, r) || !q->active)
			continue;
		got = updp_hold_deliver_queue(p, r, &q->nq, now);
		p->st.rx_frames += got;
		vnet_devq_rx_stats(q);
		vnet_devq_save_position(q);
	}
	pthread_mutex_unlock(&dev->lock);
}

/*
 * pk[0 .. n), the kernel's merged frames (uplink_kgro.c), for receive
 * queue qi of p, in order, now (dev->lock once): after what the queue's
 * khold has. Returns how many leading frames were taken (delivered, or
 * dropped as too big; with 'parked', every frame: *parked of them found
 * no buffer and were copied to the khold, or dropped when it is full);
 * the ones after found no buffer and are still the caller's.
 */
unsigned int updp_deliver_now(struct up_port *p, unsigned int qi,
			      const struct vnet_rx_pkt *pk, unsigned int n, unsigned int *parked)
{
	struct vnet_netdev *dev = p->dev;
	struct vnet_devq_q *q;
	unsigned int took = 0, t = 0, r = qi;
	__u64 nobuf = 0, now = 0;

	pthread_mutex_lock(&dev->lock);
	vnet_devq_sync(&p->dq);
	q = &p->dq.q[2 * qi];
	/* a queue the driver has not set up: receiveq1 (like port_flush) */
	if (!q->active) {
		q = &p->dq.q[0];
		r = 0;
	}
	if ((dev->status & VIRTIO_CONFIG_S_NEEDS_RESET) || !q->active) {
		updp_hold_drop(p, &p->khold[r], NULL);
		p->st.rx_dropped += n;
		pthread_mutex_unlock(&dev->lock);
		return n;
	}
	/* the clock only for a khold: not on every run's way */
	if (p->khold[r].n || parked)
		now = vnet_now_ns();
	if (p->khold[r].n)
		p->st.rx_frames += updp_khold_deliver(p, r, &q->nq, now);
	if (!p->khold[r].n) {
		took = vnet_net_rx_burst_hold(&q->nq, pk, n, &nobuf);
		/* without coalescing the frames without a buffer are the tail */
		t = nobuf ? (unsigned int)__builtin_ctzll(nobuf) : n;
		p->st.rx_dropped += t - took;
		p->st.rx_frames += took;
		p->st.rx_kgro += took;
	}
	if (parked && t < n) {
		updp_hold_add(p, &p->khold[r], &q->nq, pk + t, n - t,
			      n - t < 64 ? (1ull << (n - t)) - 1 : ~0ull, now);
		*parked = n - t;
		p->st.rx_kgro_parked += n - t;
		t = n;
	}
	vnet_devq_rx_stats(q);
	vnet_devq_save_position(q);
	pthread_mutex_unlock(&dev->lock);
	return t;
}

/* The worker's ports (slot % nwk == id) with held frames: another try. */
unsigned int updp_hold_retry(struct up_wk *wk)
{
	struct vnet_updp *up = wk->up;
	unsigned int work = 0;
	__u64 mask;

	for (mask = up->port_mask; mask; mask &= mask - 1) {
		struct up_port *p = up->ports[__builtin_ctzll(mask)];
		unsigned int before = __atomic_load_n(&p->nheld, __ATOMIC_RELAXED);

		if (!before || p->slot % up->nwk != wk->id)
			continue;
		port_flush(p, NULL);
		if (__atomic_load_n(&p->nheld, __ATOMIC_RELAXED) != before)
			work++;
	}
	return work;
}

bool updp_holding(const struct up_wk *wk)
{
	const struct vnet_updp *up = wk->up;
	__u64 mask;

	for (mask = up->port_mask; mask; mask &= mask - 1) {
		const struct up_port *p = up->ports[__builtin_ctzll(mask)];

		if (p->slot % up->nwk == wk->id && __atomic_load_n(&p->nheld, __ATOMIC_RELAXED))
			return true;
	}
	return false;
}

void updp_flush_touched(struct up_wk *wk)
{
	unsigned int i;

	for (i = 0; i < wk->ntouched; i++) {
		struct up_batch *b = &wk->touched[i]->b[wk->id];

		port_flush(wk->touched[i], b);
		b->touched = false;
	}
	wk->ntouched = 0;
}

/*
 * A frame into the worker's batch for p. fits: within the device's MTU
 * (updp_rx_fits; for a frame the kernel coalesced, its segments); flags:
 * VNET_RX_F_*.
 */
void updp_batch_add(struct up_wk *wk, struct up_port *p, const struct vnet_xdp_meta *m,
		    const __u8 *data, __u32 len, bool fits, __u16 flags)
{
	unsigned int qi = m->queue < p->dev->params.max_vqp ? m->queue : 0;
	struct up_batch *b = &p->b[wk->id];
	struct vnet_rx_pkt *pk;

	if (fits && b->rxn[qi] == UP_RXB)
		port_flush(p, b);	/* a full batch goes now; 'touched' stays */
	if (!b->touched) {
		b->touched = true;
		wk->touched[wk->ntouched++] = p;
	}
	if (!fits) {
		/* spec 5.1.4.1: longer than the device's MTU (uplink_jumbo.c);
		 * the port's rx_dropped counts it at the flush (dev->lock) */
		wk->rx_over_mtu++;
		b->over_mtu++;
		return;
	}
	pk = &b->rxb[qi * UP_RXB + b->rxn[qi]++];
	pk->data = data;
	pk->len = len;
	pk->hash_value = m->hash;
	pk->hash_report = m->report;
	pk->flags = flags;
}

static inline void batch_add(struct up_wk *wk, struct up_port *p,
			     const struct vnet_xdp_meta *m, const __u8 *data, __u32 len)
{
	updp_batch_add(wk, p, m, data, len, updp_rx_fits(p, data, len), 0);
}

/*
 * A frame for several devices, or from one device to others, or a group
 * frame the host received too (copy: vnet_rx_classify_copy, rx_filter.h):
 * the C reference decides who wants it and, per device, queue and hash.
 * Returns the number of devices it was queued for, or -EINVAL when its L2
 * header is cut (nobody can even filter it).
 */
int updp_replicate(struct up_wk *wk, const __u8 *data, __u32 len, __u64 exclude,
		   bool copy)
{
	struct vnet_updp *up = wk->up;
	struct vnet_xdp_meta m[VNET_DP_MAX_DEVS];
	int i, n;

	n = vnet_rx_fanout(vnet_dp_state(up->dp), data, len, exclude | ~up->port_mask, copy, m);
	for (i = 0; i < n; i++)
		batch_add(wk, up->ports[m[i].dev], &m[i], data, len);
	return n;
}

/*
 * The group frames XDP passed to the host (HOST_SHARED), read from the
 * packet socket's ring: each goes to the devices the C reference picks,
 * exactly as XDP's flood frames did. Frames stay in the ring until their
 * batches are flushed; then the block goes back to the kernel.
 */
unsigned int updp_run_pkt(struct up_wk *wk)
{
	struct vnet_updp *up = wk->up;
	unsigned int k, n, work = 0;

	if (!up->pkt)
		return 0;
	while (work < UP_PKT_BUDGET && (n = vnet_pktring_peek(up->pkt, up->pf, UP_BURST))) {
		for (k = 0; k < n; k++) {
			/* the devices' own group frames the host port handed to
			 * the host never get here: their mark (uplink_pkt.c) */
			int got = updp_replicate(wk, up->pf[k].data, up->pf[k].len, 0, true);

			if (got > 0)
				up->grp_copies += (unsigned int)got;
			else if (got < 0)
				up->grp_malformed++;
			else
				up->grp_nobody++;
		}
		updp_flush_touched(wk);
		vnet_pktring_done(up->pkt);
		up->grp_frames += n;
		work += n;
	}
	return work;
}

/*
 * What the host sent to the devices through the host port (unicast to a
 * device's MAC; a copy of its group frames): the C reference picks the
 * devices as for the host's group frames from the packet socket.
 */
unsigned int updp_run_host(struct up_wk *wk)
{
	struct vnet_updp *up = wk->up;
	unsigned int i, n = 0;

	/* a read is a system call: only when epoll said so, a full burst
	 * came last time, or every UP_HOST_ROUNDS rounds of busy polling */
	if (!up->hport || !up->host_due)
		return 0;
	up->host_due = false;
	for (i = 0; i < UP_HOST_BURST; i++) {
		ssize_t len = vnet_host_port_recv(up->hport, up->hbuf[n], UP_HOST_FRAME);
		int got;

		if (!len)
			continue;	/* a runt, dropped */
		if (len < 0)
			break;
		got = updp_replicate(wk, up->hbuf[n], (__u32)len, 0, true);
		if (got > 0) {
			up->host_copies += (unsigned int)got;
			n++;		/* its buffer is batched until the flush */
		} else {
			up->host_nobody++;
		}
		up->host_frames++;
	}
	if (n)
		updp_flush_touched(wk);
	if (i == UP_HOST_BURST)
		up->host_due = true;
	return i;
}

/*
 * The frame at rx[0] of n descriptors, flat: in its UMEM frame, or, when
 * it came in several (multi-buffer), copied into one of the worker's
 * gather slots, which stays valid until the batches are flushed (a flush
 * frees every slot). Returns how many descriptors it took; *len 0:
 * dropped (counted).
 */
static unsigned int rx_frame(struct up_wk *wk, struct vnet_xsk *x,
			     const struct vnet_xsk_rx *rx, unsigned int n,
			     const __u8 **data, __u32 *len)
{
	unsigned int used;

	if (rx[0].more && wk->sg_used == UP_SG_SLOTS) {
		updp_flush_touched(wk);
		wk->sg_used = 0;
	}
	used = vnet_xsk_gather(rx, n, wk->sg_buf[wk->sg_used], VNET_XSK_SG_FRAME_MAX,
			       data, len);
	if (used > 1 && *len)
		wk->sg_used++;
	else if (used > 1)
		vnet_xsk_rx_count_too_long(x);	/* over frame_max, or a bad piece */
	else if (!*len)
		wk->rx_bad_meta++;	/* a descriptor outside its UMEM frame */
	return used;
}

/* The worker's own sockets: uplink queues id, id + nwk, ... */
unsigned int updp_run_rx(struct up_wk *wk)
{
	struct vnet_updp *up = wk->up;
	unsigned int i, k, n, used, work = 0;

	for (i = wk->id; i < up->nxsk; i += up->nwk) {
		struct vnet_xsk *x = up->xsk[i];

		n = vnet_xsk_rx_peek(x, wk->rx, UP_BURST);
		if (!n)
			continue;
		for (k = 0; k < n; k += used) {
			const struct vnet_xsk_rx *f = &wk->rx[k];
			struct vnet_xdp_meta m;
			const __u8 *data;
			__u32 len;

			used = rx_frame(wk, x, f, n - k, &data, &len);
			if (!len)
				continue;
			if (!f->meta) {
				wk->rx_bad_meta++;
				continue;
			}
			memcpy(&m, f->meta, sizeof(m));
			if (m.magic != VNET_META_MAGIC) {
				wk->rx_bad_meta++;
			} else if (m.flags & VNET_META_F_FLOOD) {
				updp_replicate(wk, data, len, 0, false);
			} else if (m.dev < VNET_DP_MAX_DEVS && up->ports[m.dev]) {
				batch_add(wk, up->ports[m.dev], &m, data, len);
			} else {
				wk->rx_no_port++;	/* device went away meanwhile */
			}
		}
		updp_flush_touched(wk);
		wk->sg_used = 0;
		vnet_xsk_rx_done(x, wk->rx, n);
		work += n;
	}
	return work;
}
