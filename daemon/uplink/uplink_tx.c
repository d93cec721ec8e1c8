// SPDX-License-Identifier: MIT
/*
 * The uplink worker's transmit side (uplink_int.h): a device's transmit
 * queues -> runt and spoof check (trusted devices learn their sources) ->
 * the wire (XSK tx ring, frames written once into UMEM), the host (host
 * port) and/or the other devices (device to device); SEND_RARP's
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

/* Output buffers for one burst: a prefix of txb[] holding frames. */
static unsigned int tx_bufs_ready(struct vnet_updp *up)
{
	struct vnet_xsk *x = up->xsk[0];
	unsigned int i;

	for (i = 0; i < UP_BURST; i++) {
		if (up->txb[i].data)
			continue;
		up->txb[i].data = vnet_xsk_tx_frame(x, &up->txaddr[i]);
		if (!up->txb[i].data)
			break;
		up->txb[i].cap = vnet_xsk_tx_cap(x);	/* multi-buffer: a jumbo frame */
	}
	return i;
}

/*
 * Where a device's frame goes once it passed the spoof check: the host
 * (host port: unicast to its MAC there only, group frames a copy), the
 * other devices (unicast to a MAC one of them owns there only; anything
 * else a copy, for their promiscuous or group receivers), the wire (the
 * rest). True: the caller puts it on the wire; false: it is taken care of
 * (freed, or owned by the local list). up->local must have room for one.
 */
static bool route_frame(struct vnet_updp *up, struct up_port *p, __u64 addr,
			const __u8 *data, __u32 len)
{
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
			vnet_xsk_tx_free(up->xsk[0], addr);
			return false;
		}
	}
	if (others) {
		wire = group || !(owners & others);
		up->local[up->nlocal++] = (struct local_frame){
			.addr = addr, .len = len, .from = (__u8)p->slot, .owned = !wire,
		};
	}
	return wire;
}

unsigned int updp_port_tx(struct vnet_updp *up, struct up_port *p,
			    const struct vnet_net_state *st)
{
	struct vnet_netdev *dev = p->dev;
	struct vnet_xsk *x = up->xsk[0];
	bool enforce = __atomic_load_n(&p->spoofchk, __ATOMIC_RELAXED) &&
		       !__atomic_load_n(&p->trusted, __ATOMIC_RELAXED);
	unsigned int i, k, n, nb, nwire, work = 0;

	for (i = 0; i < vnet_netdev_data_pairs(dev); i++) {
		struct vnet_devq_q *q = &p->dq.q[2 * i + 1];

		if (!q->active)
			continue;
		/* room for a whole burst of local frames, else next round */
		if (up->nlocal + UP_BURST > UP_LOCAL_MAX)
			break;
		nb = tx_bufs_ready(up);
		if (!nb)
			break;
		n = vnet_net_tx_burst(&q->nq, up->txb, nb);
		nwire = 0;
		for (k = 0; k < n; k++) {
			__u8 *data = up->txb[k].data;
			__u32 len = up->txb[k].len;
			__u64 addr = up->txaddr[k];

			up->txb[k].data = NULL;
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
			if (route_frame(up, p, addr, data, len)) {
				up->wire_addr[nwire] = addr;
				up->wire_len[nwire++] = len;
			}
		}
		vnet_xsk_tx_submit(x, up->wire_addr, up->wire_len, nwire);
		p->st.tx_wire += nwire;
		work += n;
		vnet_devq_tx_stats(q);
	}
	return work;
}

/* Device to device: after the sender's lock is dropped (one lock at a time). */
void updp_local_deliver(struct vnet_updp *up, struct up_port *from)
{
	unsigned int i;

	for (i = 0; i < up->nlocal; i++) {
		const struct local_frame *lf = &up->local[i];

		/* the host has no copy of a device's frame; with HOST_SHARED
		 * the program would PASS group frames, so ask for the copy set */
		updp_replicate(up, vnet_xsk_frame_data(up->xsk[0], lf->addr), lf->len,
			  BIT(lf->from), up->pkt != NULL);
	}
	updp_flush_touched(up);
	/* frames also on the wire come back through the completion ring,
	 * which is reaped at the start of the next round only */
	for (i = 0; i < up->nlocal; i++)
		if (up->local[i].owned)
			vnet_xsk_tx_free(up->xsk[0], up->local[i].addr);
	from->st.tx_local += up->nlocal;
	up->nlocal = 0;
}

/*
 * vhost-user SEND_RARP: after a migration QEMU asks the back-end to
 * announce a driver that cannot (no GUEST_ANNOUNCE), so that switches
 * learn where the MAC lives now. A RARP request from that MAC leaves the
 * port as if the device had sent it: the wire, the host, the other
 * devices (dev->lock held).
 */
void updp_port_rarp(struct vnet_updp *up, struct up_port *p)
{
	struct vnet_xsk *x = up->xsk[0];
	__u32 len;
	__u64 addr;
	__u8 *f;

	if (up->nlocal == UP_LOCAL_MAX)
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
	if (route_frame(up, p, addr, f, len)) {
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
unsigned int updp_port_tx_drop(struct vnet_updp *up, struct up_port *p)
{
	struct vnet_netdev *dev = p->dev;
	unsigned int i, k, n, work = 0;

	for (i = 0; i < vnet_netdev_data_pairs(dev); i++) {
		struct vnet_devq_q *q = &p->dq.q[2 * i + 1];

		if (!q->active)
			continue;
		for (k = 0; k < UP_BURST; k++)
			up->dtxb[k] = (struct vnet_tx_buf){
				.data = up->discard[k], .cap = VNET_XSK_FRAME_SIZE,
			};
		n = vnet_net_tx_burst(&q->nq, up->dtxb, UP_BURST);
		p->st.tx_dropped += n;
		work += n;
		vnet_devq_tx_stats(q);
	}
	return work;
}
