// SPDX-License-Identifier: MIT
/*
 * The uplink worker's transmit side (uplink_int.h): a device's transmit
 * queues -> runt and spoof check (trusted devices learn their sources) ->
 * the wire (XSK tx ring, frames written once into UMEM; GSO sends whole
 * through the packet socket of uplink_gso.c), the host (host port) and/or
 * the other devices (device to device); SEND_RARP's
 * announce; a detached uplink's drops.
 */
#include <string.h>

#include "uplink_int.h"
#include "vnet/log.h"
#include "vnet/netutil.h"

/*
 * A frame from a source MAC that is not the device's. An untrusted device
 * drops it (DESIGN "Robustness rules") and says once why; a trusted one
 * learns the MAC so that frames to it reach the device (ARCHITECTURE.md,
 * "Filter policy"). False: drop the frame.
 */
static bool foreign_source(struct up_port *p, const __u8 *src, bool enforce)
{
	if (enforce) {
		p->st.tx_spoofed++;
		if (!p->spoof_warned) {
			pr_warn("%s: frames from source MAC %02x:%02x:%02x:%02x:%02x:%02x "
				"dropped: not the device's MAC (the guest changed it or "
				"bridges); 'trust on' lets the device learn it\n",
				p->dev->params.name, src[0], src[1], src[2], src[3],
				src[4], src[5]);
			p->spoof_warned = true;
		}
		return false;
	}
	if (__atomic_load_n(&p->trusted, __ATOMIC_RELAXED) &&
	    vnet_mac_learn(&p->learned, src, vnet_now_ns()) == 1)
		pr_info("%s: learned source MAC %02x:%02x:%02x:%02x:%02x:%02x\n",
			p->dev->params.name, src[0], src[1], src[2], src[3], src[4], src[5]);
	return true;
}

/* Output buffers for one burst: a prefix of the socket's txb[] holding frames. */
static unsigned int tx_bufs_ready(struct vnet_xsk *x, struct up_txq *t)
{
	unsigned int i;

	for (i = 0; i < UP_BURST; i++) {
		if (t->txb[i].data)
			continue;
		t->txb[i].data = vnet_xsk_tx_frame(x, &t->txaddr[i]);
		if (!t->txb[i].data)
			break;
		t->txb[i].cap = vnet_xsk_tx_cap(x);	/* multi-buffer: a jumbo frame */
	}
	return i;
}

/*
 * Where a device's frame goes once it passed the spoof check: the host
 * (host port: unicast to its MAC there only, group frames a copy), the
 * other devices (unicast to a MAC one of them owns there only; anything
 * else a copy, for their promiscuous or group receivers), the wire (the
 * rest). True: the caller puts it on the wire; false: it is taken care of
 * (freed, or owned by the local list). wk->local must have room for one.
 */
static bool route_frame(struct up_wk *wk, struct up_port *p, unsigned int sock, __u64 addr,
			const __u8 *data, __u32 len)
{
	struct vnet_updp *up = wk->up;
	__u64 others = up->port_mask & ~BIT(p->slot), owners = 0;
	bool group = data[0] & 1, wire = true;

	/* one MAC lookup answers both "the host's?" and "another device's?" */
	if (!group && (up->hport || others))
		owners = vnet_rx_mac_devs(vnet_dp_state(up->dp), data);
	if (up->hport && (group || (owners & VNET_DP_HOST_BIT))) {
		if (vnet_host_port_send(up->hport, data, len))
			p->st.tx_host_dropped++;
		else
			p->st.tx_host++;
		if (!group) {
			vnet_xsk_tx_free(up->xsk[sock], addr);
			return false;
		}
	}
	if (others) {
		wire = group || !(owners & others);
		p->st.tx_local++;
		wk->local[wk->nlocal++] = (struct local_frame){
			.addr = addr, .len = len, .from = (__u8)p->slot, .sock = (__u8)sock,
			.owned = !wire,
		};
	}
	return wire;
}

struct gso_ctx {
	struct up_wk *wk;
	struct vnet_xsk *x;		/* the queue's socket: kicked before a send */
	struct up_port *p;
	const struct vnet_net_state *st;
	bool enforce;
	unsigned int taken;
};

/*
 * A GSO send the engine checked (vnet_tx_gso): to the kernel whole when it
 * goes to the wire alone. Anything route_frame() would also copy -- group
 * frames, unicast to the host or another device, or any device that takes
 * foreign unicast (promiscuous, ALLUNI) -- and VLAN-tagged frames are left
 * to software segmentation and the AF_XDP path, which decides for each
 * segment as for any frame. The spoof check is the same as there; it reads
 * the engine's copy of the headers, which is what the kernel gets.
 */
static int gso_to_wire(void *ctx, const struct vnet_tx_gso_frame *f)
{
	struct gso_ctx *c = ctx;
	struct vnet_updp *up = c->wk->up;
	struct up_port *p = c->p;
	const struct vnet_rx_state *rs = vnet_dp_state(up->dp);
	__u64 others = up->port_mask & ~BIT(p->slot);
	const __u8 *data = f->hdrs;

	if ((data[0] & 1) || f->l3off != ETH_HLEN_)
		return VNET_TX_GSO_SOFTWARE;
	if ((up->hport || others) &&
	    (vnet_rx_mac_devs(rs, data) & (VNET_DP_HOST_BIT | others)))
		return VNET_TX_GSO_SOFTWARE;
	if (others & rs->filter.active & (rs->filter.promisc | rs->filter.alluni))
		return VNET_TX_GSO_SOFTWARE;
	/* the frames before it in this burst go to the XSK ring after the
	 * burst: they leave first, or a flow's segments would cross */
	if (f->pending)
		return VNET_TX_GSO_LATER;
	if (memcmp(data + 6, c->st->mac, 6) && !foreign_source(p, data + 6, c->enforce)) {
		c->taken++;
		return VNET_TX_GSO_TAKEN;	/* dropped and counted: tx_spoofed */
	}
	/* and what earlier bursts of this round queued there */
	vnet_xsk_tx_kick(c->x);
	if (!updp_gso_send(c->wk, f))
		return VNET_TX_GSO_SOFTWARE;
	p->st.tx_wire++;
	c->taken++;
	return VNET_TX_GSO_TAKEN;
}

/* A transmit queue whose frames cannot leave: dropped, counted. */
static unsigned int queue_drop(struct up_wk *wk, struct up_port *p, struct vnet_devq_q *q)
{
	unsigned int k, n;

	for (k = 0; k < UP_BURST; k++)
		wk->dtxb[k] = (struct vnet_tx_buf){
			.data = wk->discard[k], .cap = VNET_XSK_FRAME_SIZE,
		};
	n = vnet_net_tx_burst(&q->nq, wk->dtxb, UP_BURST);
	p->st.tx_dropped += n;
	vnet_devq_tx_stats(q);
	return n;
}

/*
 * The worker's transmit queues of the port: pairs k with k % nwk == id,
 * each through one of the worker's own sockets (updp_tx_sock), so the
 * device's queues spread over the uplink's.
 */
unsigned int updp_port_tx(struct up_wk *wk, struct up_port *p,
			  const struct vnet_net_state *st)
{
	struct vnet_updp *up = wk->up;
	struct vnet_netdev *dev = p->dev;
	bool enforce = __atomic_load_n(&p->spoofchk, __ATOMIC_RELAXED) &&
		       !__atomic_load_n(&p->trusted, __ATOMIC_RELAXED);
	struct gso_ctx gc = { .wk = wk, .p = p, .st = st, .enforce = enforce };
	const struct vnet_tx_gso sink = { .xmit = gso_to_wire, .ctx = &gc };
	unsigned int i, k, n, nb, nwire, work = 0;

	for (i = wk->id; i < vnet_netdev_data_pairs(dev); i += up->nwk) {
		struct vnet_devq_q *q = &p->dq.q[2 * i + 1];
		int sock = updp_tx_sock(up, i);
		struct vnet_xsk *x;
		struct up_txq *t;

		if (!q->active)
			continue;
		/* the uplink came back with fewer queues than workers: this
		 * worker has no socket (logged by up_attach) */
		if (sock < 0) {
			work += queue_drop(wk, p, q);
			continue;
		}
		x = up->xsk[sock];
		t = &up->txq[sock];
		/* room for a whole burst of local frames, else next round */
		if (wk->nlocal + UP_BURST > UP_LOCAL_MAX)
			break;
		nb = tx_bufs_ready(x, t);
		if (!nb)
			continue;
		gc.x = x;
		gc.taken = 0;
		n = vnet_net_tx_burst_gso(&q->nq, t->txb, nb, wk->gso ? &sink : NULL);
		work += gc.taken;
		nwire = 0;
		for (k = 0; k < n; k++) {
			__u8 *data = t->txb[k].data;
			__u32 len = t->txb[k].len;
			__u64 addr = t->txaddr[k];

			t->txb[k].data = NULL;
			if (len < ETH_HLEN_) {
				p->st.tx_dropped++;
				vnet_xsk_tx_free(x, addr);
				continue;
			}
			if (memcmp(data + 6, st->mac, 6) &&
			    !foreign_source(p, data + 6, enforce)) {
				vnet_xsk_tx_free(x, addr);
				continue;
			}
			if (route_frame(wk, p, (unsigned int)sock, addr, data, len)) {
				wk->wire_addr[nwire] = addr;
				wk->wire_len[nwire++] = len;
			}
		}
		vnet_xsk_tx_submit(x, wk->wire_addr, wk->wire_len, nwire);
		p->st.tx_wire += nwire;
		work += n;
		vnet_devq_tx_stats(q);
	}
	return work;
}

/* Device to device: after the sender's lock is dropped (one lock at a time). */
void updp_local_deliver(struct up_wk *wk, struct up_port *from)
{
	struct vnet_updp *up = wk->up;
	unsigned int i;

	for (i = 0; i < wk->nlocal; i++) {
		const struct local_frame *lf = &wk->local[i];

		/* the host has no copy of a device's frame; with HOST_SHARED
		 * the program would PASS group frames, so ask for the copy set */
		updp_replicate(wk, vnet_xsk_frame_data(up->xsk[lf->sock], lf->addr), lf->len,
			       BIT(lf->from), up->pkt != NULL);
	}
	updp_flush_touched(wk);
	/* frames also on the wire come back through the completion ring,
	 * which is reaped at the start of the next round only */
	for (i = 0; i < wk->nlocal; i++)
		if (wk->local[i].owned)
			vnet_xsk_tx_free(up->xsk[wk->local[i].sock], wk->local[i].addr);
	wk->nlocal = 0;
}

/*
 * vhost-user SEND_RARP: after a migration QEMU asks the back-end to
 * announce a driver that cannot (no GUEST_ANNOUNCE), so that switches
 * learn where the MAC lives now. A RARP request from that MAC leaves the
 * port as if the device had sent it: the wire, the host, the other
 * devices (dev->lock held).
 */
void updp_port_rarp(struct up_wk *wk, struct up_port *p)
{
	struct vnet_xsk *x = wk->up->xsk[0];	/* worker 0's */
	__u32 len;
	__u64 addr;
	__u8 *f;

	if (wk->nlocal == UP_LOCAL_MAX)
		return;		/* no room for the local copy: next round */
	p->dev->rarp_pending = false;
	f = vnet_xsk_tx_frame(x, &addr);
	if (!f) {
		p->st.tx_dropped++;
		return;
	}
	len = (__u32)vnet_rarp_build(f, p->dev->rarp_mac);
	p->st.tx_rarp++;
	/* a broadcast: route_frame() always keeps it for the wire too */
	if (route_frame(wk, p, 0, addr, f, len)) {
		vnet_xsk_tx_submit(x, &addr, &len, 1);
		p->st.tx_wire++;
	}
}

/*
 * The uplink is gone: every device on it has link down, and nothing can
 * leave. A driver that sends anyway gets its buffers back, as from a NIC
 * without link: the frames are dropped and counted (tx_dropped), so its
 * queue never stalls and the worker can sleep.
 */
unsigned int updp_port_tx_drop(struct up_wk *wk, struct up_port *p)
{
	struct vnet_netdev *dev = p->dev;
	unsigned int i, work = 0;

	for (i = wk->id; i < vnet_netdev_data_pairs(dev); i += wk->up->nwk) {
		struct vnet_devq_q *q = &p->dq.q[2 * i + 1];

		if (q->active)
			work += queue_drop(wk, p, q);
	}
	return work;
}
