/* SPDX-License-Identifier: MIT */
/*
 * The device's queues as a queue worker sees them (daemon/device/devq.c): one
 * engine queue per vring of a struct vnet_netdev, rebuilt when the vring's
 * 'gen' moves, with the rules every worker follows (docs/ARCHITECTURE.md,
 * "vhost-user and the device model"): never touch a ring without dev->lock,
 * write the ring position back after each round, DEVICE_NEEDS_RESET on a
 * broken ring, NOTF_COAL from the control-queue state.
 *
 * Used by the vnet/sim worker (sim.c) and the uplink worker (uplink_dp.c);
 * what differs between them is a parameter of vnet_devq_init() or stays in
 * the worker. Everything here runs per burst or per ring change, never per
 * packet. All calls but init/the ring-change hook: dev->lock held.
 */
#ifndef VNET_DEVQ_H
#define VNET_DEVQ_H

#include <stdbool.h>
#include <linux/types.h>

#include "vnet/device.h"
#include "vnet/net.h"

struct vnet_devq;

#define VNET_DEVQ_MAX_OWNERS	16	/* workers sharing one device's queues */
#define VNET_DEVQ_ALL		(~0u)	/* vnet_devq_kicks_set(): every owner */

struct vnet_devq_q {
	struct vnet_devq *dq;
	unsigned int index;	/* vring index */
	bool active;		/* set up from a ready vring */
	__u32 gen;		/* the vring's gen this queue was built from */
	int kick_fd;		/* our dup of the vring's kick fd in epfd, -1 */
	struct vnet_queue_stats base;	/* the vring's counters when nq was built */
	struct vnet_netq nq;
};

struct vnet_devq {
	struct vnet_netdev *dev;
	struct vnet_devq_q *q;		/* dev->nvrings entries */
	/*
	 * The workers serving the device: queue pair k belongs to owner
	 * k % nowners, the control queue to owner 0 (vnet_devq_owner). Each
	 * owner's kick fds go into its own epoll set (data.ptr: the queue).
	 */
	unsigned int nowners;
	int epfd[VNET_DEVQ_MAX_OWNERS];
	__u32 kick_events;		/* EPOLLIN, or EPOLLIN | EPOLLET */
	bool kick_rx;			/* receive queues' kicks too, else transmit + control */
	__u32 kicks_on;			/* bit per owner: new queues keep kicks on; clear:
					 * a polling owner, its new queues start with kicks off */
	bool resync;			/* __atomic: a vring's gen moved */
	bool cvq_active;		/* the driver uses our control queue */
	bool coal_pending;		/* a deferred notification is due later */
	__u32 coal_version;		/* state version whose NOTF_COAL is applied */
};

/*
 * Every queue starts stopped and is built on the first vnet_devq_sync().
 * kick_events/kick_rx: how the workers want to be woken by kicks; epfd:
 * one epoll set per worker (nowners of them, at most VNET_DEVQ_MAX_OWNERS).
 */
int vnet_devq_init(struct vnet_devq *dq, struct vnet_netdev *dev, const int *epfd,
		   unsigned int nowners, __u32 kick_events, bool kick_rx, bool kicks_on);
/* The worker (0 .. nowners - 1) that serves vring 'index'. */
static inline unsigned int vnet_devq_owner(const struct vnet_devq *dq, unsigned int index)
{
	return index == vnet_netdev_cvq_index(dq->dev) ? 0 : index / 2 % dq->nowners;
}
/*
 * Kicks on (the worker is about to sleep) or off (it polls) for every
 * active queue of 'owner' (VNET_DEVQ_ALL: of all) that can wake it:
 * transmit queues, the control queue and, with rx_wakes, the receive
 * queues. Returns true if a queue had buffers waiting when kicks came on:
 * sleeping then could miss them (spec 2.7.10, the re-check after
 * re-enabling). dev->lock held.
 */
bool vnet_devq_kicks_set(struct vnet_devq *dq, unsigned int owner, bool on, bool rx_wakes);

/* Stops every queue (dev->lock held) and frees the array. */
void vnet_devq_fini(struct vnet_devq *dq);

/* From the device's rings_changed hook (dev->lock held): sync next round. */
static inline void vnet_devq_rings_changed(struct vnet_devq *dq)
{
	__atomic_store_n(&dq->resync, true, __ATOMIC_RELEASE);
}

/* Rebuild the queues whose vring changed since the last call; cheap if none. */
void vnet_devq_sync(struct vnet_devq *dq);
/* Receive queues the driver has set up, counted from receiveq1. */
unsigned int vnet_devq_active_rx(const struct vnet_devq *dq);
/* Serve the control queue; returns commands done, *refused of them failed. */
unsigned int vnet_devq_run_cvq(struct vnet_devq *dq, unsigned int *refused);
/*
 * The state's per-queue parameters, when its version moved: NOTF_COAL
 * (spec 5.1.6.5.9) on every queue, the guest's offloads (5.1.6.5.6.1) on
 * the receive queues.
 */
void vnet_devq_coal_apply(struct vnet_devq *dq, const struct vnet_net_state *st);
/* Deferred notifications whose time has come; true if some are still due. */
bool vnet_devq_coal_expire(struct vnet_devq *dq);
/* Where the next pop starts: GET_VRING_BASE answers with it. */
void vnet_devq_save_positions(struct vnet_devq *dq);
/*
 * The same for one queue, after a burst outside the worker's round (whose
 * end saves them all): dev->lock may go to a GET_VRING_BASE or a ring
 * rebuild right after, and both start from the saved position.
 */
static inline void vnet_devq_save_position(struct vnet_devq_q *q)
{
	q->dq->dev->vrings[q->index].last_avail_idx = vnet_virtq_last_avail(&q->nq.vq);
}

/*
 * The engine's counters into the vring's (vdpa vstats), after a burst. The
 * engine queue counts from 0 each time it is rebuilt (a ring enabled again,
 * new memory, a reset); the vring's counters are the device's and go on
 * from where they were (base).
 */
static inline void vnet_devq_tx_stats(struct vnet_devq_q *q)
{
	struct vnet_queue_stats *s = &q->dq->dev->vrings[q->index].stats;

	s->packets = q->base.packets + q->nq.stats.tx_packets;
	s->bytes = q->base.bytes + q->nq.stats.tx_bytes;
	s->drop_malformed = q->base.drop_malformed + q->nq.stats.tx_drop_malformed;
	s->drop_bad_desc = q->base.drop_bad_desc + q->nq.stats.tx_drop_bad_desc;
	s->drop_too_big = q->base.drop_too_big + q->nq.stats.tx_drop_too_big;
	s->drops = q->base.drops + q->nq.stats.tx_drop_malformed +
		   q->nq.stats.tx_drop_bad_desc + q->nq.stats.tx_drop_too_big;
}

static inline void vnet_devq_rx_stats(struct vnet_devq_q *q)
{
	struct vnet_queue_stats *s = &q->dq->dev->vrings[q->index].stats;

	s->packets = q->base.packets + q->nq.stats.rx_packets;
	s->bytes = q->base.bytes + q->nq.stats.rx_bytes;
	s->drop_no_buf = q->base.drop_no_buf + q->nq.stats.rx_drop_no_buf;
	s->drop_too_big = q->base.drop_too_big + q->nq.stats.rx_drop_too_big;
	s->drops = q->base.drops + q->nq.stats.rx_drop_no_buf + q->nq.stats.rx_drop_too_big;
}

#endif
