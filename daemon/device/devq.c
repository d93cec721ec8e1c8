// SPDX-License-Identifier: MIT
/*
 * The device's queues as a queue worker sees them (include/vnet/devq.h):
 * what the vnet/sim worker and the uplink worker share. Rebuild an engine
 * queue when its vring's 'gen' moves, before touching the ring (so
 * SET_MEM_TABLE may unmap the old memory at once), serve the control queue,
 * apply NOTF_COAL, write counters and ring positions back. dev->lock held
 * throughout, as for every ring access.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>

#include "vnet/devq.h"
#include "vnet/log.h"

#define BIT(n)		(1ull << (n))

/* Per burst: the transport delivers it (vhost-user writes the call eventfd,
 * VDUSE injects an interrupt); never the worker's own write. */
static void q_notify(struct vnet_virtq *vq, void *opaque)
{
	struct vnet_devq_q *q = opaque;
	struct vnet_netdev *dev = q->dq->dev;

	if (vnet_netdev_notify(dev, q->index) == 0)
		dev->vrings[q->index].stats.notifies++;
}

static void q_error(struct vnet_virtq *vq, int err, void *opaque)
{
	struct vnet_devq_q *q = opaque;
	struct vnet_netdev *dev = q->dq->dev;

	/* spec 2.1.2: the device signals it needs a reset */
	pr_warn("%s: queue %u broken (%d): DEVICE_NEEDS_RESET\n", dev->params.name,
		q->index, err);
	dev->status |= VIRTIO_CONFIG_S_NEEDS_RESET;
	dev->vrings[q->index].stats.errors++;
	vnet_netdev_config_changed(dev);
}

static const struct vnet_virtq_ops q_ops = { .notify = q_notify, .error = q_error };

static void q_stop(struct vnet_devq_q *q)
{
	if (q->kick_fd >= 0) {
		epoll_ctl(q->dq->epfd[vnet_devq_owner(q->dq, q->index)], EPOLL_CTL_DEL,
			  q->kick_fd, NULL);
		close(q->kick_fd);
		q->kick_fd = -1;
	}
	if (q->active)
		vnet_virtq_reset(&q->nq.vq);
	q->active = false;
}

/* Does this queue's kick wake the worker: transmit and control always. */
static bool q_kick_wanted(const struct vnet_devq *dq, const struct vnet_devq_q *q)
{
	return dq->kick_rx || (q->index & 1) || q->index == vnet_netdev_cvq_index(dq->dev);
}

static void q_sync(struct vnet_devq *dq, struct vnet_devq_q *q)
{
	struct vnet_netdev *dev = dq->dev;
	struct vnet_vring *vr = &dev->vrings[q->index];
	struct vnet_virtq_cfg cfg = {
		.size = vr->num,
		.desc = vr->desc, .avail = vr->avail, .used = vr->used,
		.addr_type = vr->uva ? VNET_VQ_ADDR_UVA : VNET_VQ_ADDR_GPA,
		.features = dev->driver,
		.last_avail_idx = vr->last_avail_idx,
		.last_used_idx = vr->last_used_idx,
		/* migration: the queue marks what it writes (dev_log.c) */
		.log = vnet_netdev_logging(dev) ? &dev->log : NULL,
		.used_log = vr->addr_flags & VNET_VRING_F_LOG,
		.used_log_gpa = vr->log_addr,
	};
	int err;

	q_stop(q);
	q->gen = vr->gen;
	if (!vr->ready)
		return;
	vnet_netq_init(&q->nq, (__u16)q->index, dev->driver, dev->params.mtu, &q_ops, q);
	q->base = vr->stats;
	err = vnet_virtq_setup(&q->nq.vq, &dev->mem, &cfg);
	if (err) {
		pr_info("%s: queue %u not usable: %s\n", dev->params.name, q->index,
			strerror(-err));
		return;
	}
	q->active = true;
	dq->coal_version = ~0u;		/* apply NOTF_COAL to the new queue */
	/* a new queue starts with kicks on; a polling worker needs none */
	if (!(dq->kicks_on >> vnet_devq_owner(dq, q->index) & 1))
		vnet_virtq_notify_enable(&q->nq.vq, false);
	if (vr->kick_fd >= 0 && q_kick_wanted(dq, q)) {
		struct epoll_event ev = { .events = dq->kick_events, .data.ptr = q };

		q->kick_fd = dup(vr->kick_fd);
		if (q->kick_fd >= 0)
			epoll_ctl(dq->epfd[vnet_devq_owner(dq, q->index)], EPOLL_CTL_ADD,
				  q->kick_fd, &ev);
	}
}

int vnet_devq_init(struct vnet_devq *dq, struct vnet_netdev *dev, const int *epfd,
		   unsigned int nowners, __u32 kick_events, bool kick_rx, bool kicks_on)
{
	unsigned int i;

	memset(dq, 0, sizeof(*dq));
	if (!nowners || nowners > VNET_DEVQ_MAX_OWNERS)
		return -EINVAL;
	dq->q = calloc(dev->nvrings, sizeof(*dq->q));
	if (!dq->q)
		return -ENOMEM;
	dq->dev = dev;
	dq->nowners = nowners;
	memcpy(dq->epfd, epfd, nowners * sizeof(*epfd));
	dq->kick_events = kick_events;
	dq->kick_rx = kick_rx;
	dq->kicks_on = kicks_on ? ~0u : 0;
	dq->resync = true;
	dq->coal_version = ~0u;
	for (i = 0; i < dev->nvrings; i++) {
		dq->q[i].dq = dq;
		dq->q[i].index = i;
		dq->q[i].kick_fd = -1;
		dq->q[i].gen = dev->vrings[i].gen - 1;	/* sync on the first round */
	}
	return 0;
}

void vnet_devq_fini(struct vnet_devq *dq)
{
	unsigned int i;

	if (!dq->q)
		return;
	for (i = 0; i < dq->dev->nvrings; i++)
		q_stop(&dq->q[i]);
	free(dq->q);
	dq->q = NULL;
}

void vnet_devq_sync(struct vnet_devq *dq)
{
	struct vnet_netdev *dev = dq->dev;
	unsigned int i, cvq;

	/*
	 * Every gen change is followed by rings_changed (device.c), which
	 * sets resync: a polling round skips the walk over all vrings.
	 */
	if (!__atomic_load_n(&dq->resync, __ATOMIC_RELAXED) ||
	    !__atomic_exchange_n(&dq->resync, false, __ATOMIC_ACQUIRE))
		return;	/* a plain load first: no locked op per round */
	cvq = vnet_netdev_cvq_index(dev);
	for (i = 0; i < dev->nvrings; i++)
		if (dq->q[i].gen != dev->vrings[i].gen)
			q_sync(dq, &dq->q[i]);
	dq->cvq_active = dq->q[cvq].active && (dev->driver & BIT(VIRTIO_NET_F_CTRL_VQ));
}

unsigned int vnet_devq_active_rx(const struct vnet_devq *dq)
{
	unsigned int n = 0, pairs = vnet_netdev_data_pairs(dq->dev);

	while (n < pairs && dq->q[2 * n].active)
		n++;
	return n;
}

unsigned int vnet_devq_run_cvq(struct vnet_devq *dq, unsigned int *refused)
{
	struct vnet_netdev *dev = dq->dev;
	struct vnet_devq_q *q = &dq->q[vnet_netdev_cvq_index(dev)];
	struct vnet_queue_stats *s = &dev->vrings[q->index].stats;
	struct vnet_chain *c = &q->nq.chain[0];
	__u8 cmd[4096];
	unsigned int work = 0;
	__u8 ack;

	*refused = 0;
	while (vnet_virtq_pop(&q->nq.vq, c) == 1) {
		__u32 len = c->out_len;

		/* spec 5.1.6.5: command in driver-readable, ack in a writable byte */
		if (len > sizeof(cmd) || c->in_len < 1) {
			ack = VIRTIO_NET_ERR;
		} else {
			vnet_iov_read(c->iov, c->nr_out, 0, cmd, len);
			ack = (__u8)vnet_netdev_cvq_command(dev, cmd, len);
		}
		/* the queue's counters (vdpa vstats): commands, refused ones */
		s->packets++;
		if (ack != VIRTIO_NET_OK) {
			s->drops++;
			(*refused)++;
		}
		if (c->in_len >= 1)
			vnet_iov_write(&q->nq.vq, c->iov + c->nr_out, c->nr_in, 0, &ack, 1);
		vnet_virtq_push(&q->nq.vq, c->head, c->in_len >= 1 ? 1 : 0);
		work++;
	}
	if (work)
		vnet_virtq_flush(&q->nq.vq, work);
	return work;
}

void vnet_devq_coal_apply(struct vnet_devq *dq, const struct vnet_net_state *st)
{
	unsigned int i, nq = 2 * vnet_netdev_data_pairs(dq->dev);

	if (st->version == dq->coal_version)
		return;
	dq->coal_version = st->version;
	/* even queues receive, odd ones transmit */
	for (i = 0; i < nq; i++) {
		if (!dq->q[i].active)
			continue;
		vnet_virtq_set_coalesce(&dq->q[i].nq.vq,
					i & 1 ? st->tx_max_packets : st->rx_max_packets,
					i & 1 ? st->tx_usecs : st->rx_usecs);
		if (!(i & 1))
			vnet_netq_set_guest_offloads(&dq->q[i].nq, st->guest_offloads);
	}
}

bool vnet_devq_coal_expire(struct vnet_devq *dq)
{
	unsigned int i, nq = 2 * vnet_netdev_data_pairs(dq->dev);
	__u64 now = 0, due;

	dq->coal_pending = false;
	for (i = 0; i < nq; i++) {
		if (!dq->q[i].active)
			continue;
		due = vnet_virtq_coal_deadline(&dq->q[i].nq.vq);
		if (!due)
			continue;
		/* the clock only when a deadline is set: idle rounds skip it */
		if (!now)
			now = vnet_now_ns();
		if (now >= due)
			vnet_virtq_coal_expire(&dq->q[i].nq.vq, now);
		else
			dq->coal_pending = true;
	}
	return dq->coal_pending;
}

void vnet_devq_save_positions(struct vnet_devq *dq)
{
	unsigned int i;

	for (i = 0; i < dq->dev->nvrings; i++) {
		struct vnet_vring *vr = &dq->dev->vrings[i];

		if (!dq->q[i].active)
			continue;
		vr->last_avail_idx = vnet_virtq_last_avail(&dq->q[i].nq.vq);
		vr->last_used_idx = vnet_virtq_last_used(&dq->q[i].nq.vq);
	}
}

bool vnet_devq_kicks_set(struct vnet_devq *dq, unsigned int owner, bool on, bool rx_wakes)
{
	unsigned int i, cvq = vnet_netdev_cvq_index(dq->dev);
	__u32 mask = owner == VNET_DEVQ_ALL ? ~0u : 1u << owner;
	bool pending = false;

	dq->kicks_on = on ? dq->kicks_on | mask : dq->kicks_on & ~mask;
	for (i = 0; i < dq->dev->nvrings; i++) {
		struct vnet_devq_q *q = &dq->q[i];

		if (!q->active || !(mask >> vnet_devq_owner(dq, i) & 1))
			continue;
		/* a queue that cannot wake us keeps kicks off while we sleep */
		if (on && !(q->index & 1) && q->index != cvq && !rx_wakes)
			continue;
		if (vnet_virtq_notify_enable(&q->nq.vq, on) > 0)
			pending = true;
	}
	return pending;
}
