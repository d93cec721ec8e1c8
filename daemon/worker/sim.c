// SPDX-License-Identifier: MIT
/*
 * vnet/sim: the queue worker of a device whose transmitted frames come back
 * to its own receive side (include/vnet/sim.h). It is also the reference of
 * how a worker drives the ring engine for a transport: rebuild a queue when
 * its vring's 'gen' moves, write the ring position back after each burst
 * (vhost-user GET_VRING_BASE reads it), never touch a ring without the
 * device lock.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>

#include "vnet/devq.h"
#include "vnet/log.h"
#include "vnet/net.h"
#include "vnet/netutil.h"
#include "vnet/rx_conf.h"
#include "vnet/rx_filter.h"
#include "vnet/sim.h"
#include "vnet/worker.h"

#define BIT(n)		(1ull << (n))
#define SIM_NBUF	64	/* tx output buffers per burst (GSO: 64 KiB) */
#define SIM_GEN_BURST	32
#define SIM_GEN_FLOWS	64
#define SIM_GEN_LEN	60	/* 64 B on the wire with the FCS */
struct vnet_sim {
	struct vnet_netdev *dev;
	struct vnet_sim_opts opts;
	struct vnet_worker w;		/* the thread and its loop (worker.h) */
	/* the queues; dq.kicks_on: asleep or about to be (kicks on) */
	struct vnet_devq dq;
	__u8 *tx_mem;
	__u32 tx_buf_size;
	struct vnet_tx_buf tx_bufs[SIM_NBUF];
	/* receive batches per receiveq for one tx burst */
	struct vnet_rx_pkt *rx_batch;	/* [max_vqp][SIM_NBUF] */
	unsigned int *rx_n;
	/*
	 * The receive decision's view of this one device (slot 0 of a filter
	 * of its own, rx_filter.h), rebuilt when the control-queue state, the
	 * features or the receive queues in use change (rx_version...).
	 */
	struct vnet_dp_filter rx_filter;
	struct vnet_rx_dev rx_dev;
	bool rx_valid;
	__u32 rx_version;
	__u64 rx_driver;
	unsigned int rx_active;
	__u8 gen_frames[SIM_GEN_FLOWS][SIM_GEN_LEN];
	unsigned int gen_next;
	struct vnet_sim_stats stats;
};

static unsigned int sim_pairs(const struct vnet_sim *sim)
{
	return vnet_netdev_data_pairs(sim->dev);
}

/* --- work --------------------------------------------------------------------- */

/*
 * Follow the control-queue state: the receive decision's configuration
 * (the one derivation, rx_conf.h: a loopback takes every frame when its
 * driver cannot say what it wants) and the NOTF_COAL parameters.
 */
static void state_apply(struct vnet_sim *sim, const struct vnet_net_state *st,
			unsigned int nq)
{
	struct vnet_netdev *dev = sim->dev;
	struct vnet_rx_conf c;

	if (!sim->rx_valid || st->version != sim->rx_version || dev->driver != sim->rx_driver ||
	    nq != sim->rx_active) {
		vnet_rx_conf_of(st, dev->driver, nq, dev->params.max_vqp,
				VNET_RX_UNFILTERED_ALL, &c);
		memset(&sim->rx_filter, 0, sizeof(sim->rx_filter));
		vnet_rx_conf_fill(st, &c, dev->params.max_vqp, &sim->rx_filter, 0, &sim->rx_dev);
		sim->rx_version = st->version;
		sim->rx_driver = dev->driver;
		sim->rx_active = nq;
		sim->rx_valid = true;
	}
	vnet_devq_coal_apply(&sim->dq, st);
}

static void deliver_batches(struct vnet_sim *sim, unsigned int nq)
{
	unsigned int r, got;

	for (r = 0; r < nq; r++) {
		struct vnet_rx_pkt *b = sim->rx_batch + r * SIM_NBUF;
		struct vnet_devq_q *q = &sim->dq.q[2 * r];

		if (!sim->rx_n[r])
			continue;
		got = q->active ? vnet_net_rx_burst(&q->nq, b, sim->rx_n[r]) : 0;
		sim->stats.rx_frames += got;
		sim->stats.rx_dropped += sim->rx_n[r] - got;
		sim->rx_n[r] = 0;
	}
}

/*
 * Loopback one frame: the receive decision (rx_filter.h) for this device
 * picks its receiveq and hash; it joins that queue's batch.
 */
static void loop_frame(struct vnet_sim *sim, unsigned int nq, const __u8 *data, __u32 len)
{
	struct vnet_xdp_meta m;
	struct vnet_rx_pkt *p;
	unsigned int q;

	if (!nq) {
		sim->stats.rx_dropped++;
		return;
	}
	if (vnet_rx_dev_decide(&sim->rx_filter, 0, &sim->rx_dev, data, len, &m)) {
		sim->stats.filtered++;
		return;
	}
	/* a queue the driver has not set up: receiveq1 (as the uplink does) */
	q = m.queue < nq ? m.queue : 0;
	if (m.report && (sim->dev->driver & BIT(VIRTIO_NET_F_HASH_REPORT)))
		sim->stats.hash_reported++;
	if (sim->rx_n[q] == SIM_NBUF)
		deliver_batches(sim, nq);
	p = &sim->rx_batch[q * SIM_NBUF + sim->rx_n[q]++];
	p->data = data;
	p->len = len;
	p->hash_value = m.hash;
	p->hash_report = m.report;
	p->flags = 0;
}

static unsigned int run_tx(struct vnet_sim *sim, unsigned int nq)
{
	unsigned int i, k, n, work = 0;

	/* tx_bufs[].data/cap are set once at start; the engine sets len */
	for (i = 0; i < sim_pairs(sim); i++) {
		struct vnet_devq_q *q = &sim->dq.q[2 * i + 1];

		if (!q->active)
			continue;
		n = vnet_net_tx_burst(&q->nq, sim->tx_bufs, SIM_NBUF);
		work += n;
		sim->stats.tx_frames += n;
		vnet_devq_tx_stats(q);
		if (sim->opts.mode != VNET_SIM_LOOPBACK)
			continue;
		/* the frames live in tx_bufs until the next burst: deliver now */
		for (k = 0; k < n; k++)
			loop_frame(sim, nq, sim->tx_bufs[k].data, sim->tx_bufs[k].len);
		deliver_batches(sim, nq);
	}
	return work;
}

static unsigned int run_gen(struct vnet_sim *sim, const struct vnet_net_state *st,
			    unsigned int nq)
{
	struct vnet_rx_pkt pk[SIM_GEN_BURST];
	unsigned int r, k, got, work = 0;

	for (r = 0; r < nq; r++) {
		for (k = 0; k < SIM_GEN_BURST; k++) {
			/* each queue gets its own flows */
			__u8 *f = sim->gen_frames[(sim->gen_next + k) % SIM_GEN_FLOWS];

			memcpy(f, st->mac, 6);
			pk[k] = (struct vnet_rx_pkt){ .data = f, .len = SIM_GEN_LEN };
		}
		sim->gen_next += SIM_GEN_BURST;
		got = vnet_net_rx_burst(&sim->dq.q[2 * r].nq, pk, SIM_GEN_BURST);
		sim->stats.gen_frames += got;
		sim->stats.rx_frames += got;
		work += got;
	}
	return work;
}

static unsigned int run_cvq(struct vnet_sim *sim)
{
	unsigned int work, refused;

	work = vnet_devq_run_cvq(&sim->dq, &refused);
	sim->stats.cvq_ok += work - refused;
	sim->stats.cvq_err += refused;
	return work;
}

/* vhost-user SEND_RARP: a RARP request for the MAC, like QEMU's announce */
static void run_rarp(struct vnet_sim *sim, unsigned int nq)
{
	static __u8 f[VNET_RARP_LEN];
	struct vnet_netdev *dev = sim->dev;

	vnet_rarp_build(f, dev->rarp_mac);
	dev->rarp_pending = false;
	if (sim->opts.mode == VNET_SIM_LOOPBACK) {
		loop_frame(sim, nq, f, sizeof(f));
		deliver_batches(sim, nq);
	}
}

/*
 * Which kicks wake the worker (vnet_devq_kicks_set): transmit and control
 * queues; receive queues only for the generator, which waits for buffers.
 * Loopback frames that find no receive buffer are dropped (like a NIC
 * without descriptors), so a refill is no reason to wake.
 */
static bool rx_wakes(const struct vnet_sim *sim)
{
	return sim->opts.gen;
}

static unsigned int sim_round(struct vnet_worker *w)
{
	struct vnet_sim *sim = w->ctx;
	struct vnet_netdev *dev = sim->dev;
	const struct vnet_net_state *st;
	unsigned int work = 0, nq, i;

	pthread_mutex_lock(&dev->lock);
	vnet_devq_sync(&sim->dq);
	vnet_worker_devq_poll(&sim->dq, 0, rx_wakes(sim));
	if (!(dev->status & VIRTIO_CONFIG_S_NEEDS_RESET)) {
		if (sim->dq.cvq_active)
			work += run_cvq(sim);
		st = vnet_netdev_state(dev);
		nq = vnet_devq_active_rx(&sim->dq);
		state_apply(sim, st, nq);
		if (dev->rarp_pending)
			run_rarp(sim, nq);
		work += run_tx(sim, nq);
		if (sim->opts.gen)
			work += run_gen(sim, st, nq);
		vnet_devq_coal_expire(&sim->dq);
		for (i = 0; i < nq; i++)
			vnet_devq_rx_stats(&sim->dq.q[2 * i]);
	}
	vnet_devq_save_positions(&sim->dq);
	pthread_mutex_unlock(&dev->lock);
	return work;
}

/* Kicks on and a last look; asleep until a kick or a ring change (a
 * generator: the receive queue's kick), 1 ms with NOTF_COAL pending. */
static int sim_sleep(struct vnet_worker *w, __u64 now)
{
	struct vnet_sim *sim = w->ctx;

	if (vnet_worker_devq_arm(&sim->dq, 0, rx_wakes(sim), true))
		return VNET_WORKER_POLL;
	return sim->dq.coal_pending ? 1 : VNET_WORKER_SLEEP_MS;
}

/* The kick eventfds are level-triggered here: read what woke us. */
static void sim_wake(struct vnet_worker *w, const struct epoll_event *ev, int n)
{
	__u64 v;

	for (int i = 0; i < n; i++) {
		const struct vnet_devq_q *q = ev[i].data.ptr;

		if (read(q->kick_fd, &v, sizeof(v)) < 0)
			continue;	/* another wake-up read it */
	}
}

static const struct vnet_worker_ops sim_loop_ops = {
	.round = sim_round,
	.sleep = sim_sleep,
	.wake = sim_wake,
};

static void sim_rings_changed(struct vnet_netdev *dev, void *opaque)
{
	struct vnet_sim *sim = opaque;

	vnet_worker_rings_changed(&sim->w, &sim->dq);
}

/* every guest-memory write of ours goes through the engine: it can log */
static const struct vnet_netdev_ops sim_worker_ops = {
	.rings_changed = sim_rings_changed,
	.dirty_log = true,
};

static void build_gen_frames(struct vnet_sim *sim)
{
	unsigned int i;

	for (i = 0; i < SIM_GEN_FLOWS; i++) {
		__u8 *f = sim->gen_frames[i];

		memset(f, 0, SIM_GEN_LEN);
		f[6] = 0x02, f[11] = 0xfe;			/* src 02:00:00:00:00:fe */
		f[12] = 0x08;					/* IPv4 */
		f[14] = 0x45, f[17] = 46, f[22] = 64, f[23] = 17;	/* len 46, ttl, udp */
		f[26] = 10, f[29] = 1, f[30] = 10, f[33] = 2;	/* 10.0.0.1 -> 10.0.0.2 */
		f[34] = 0x10, f[35] = (__u8)i;			/* sport 4096 + i */
		f[36] = 0x07, f[37] = 0xd0;			/* dport 2000 */
		f[39] = 26;					/* udp len */
	}
}

static void sim_free(struct vnet_sim *sim)
{
	vnet_worker_fini(&sim->w);
	free(sim->tx_mem);
	free(sim->rx_batch);
	free(sim->rx_n);
	free(sim);
}

int vnet_sim_start(struct vnet_netdev *dev, const struct vnet_sim_opts *opts,
		   struct vnet_sim **out)
{
	struct vnet_sim *sim;
	unsigned int i;
	int err;

	sim = calloc(1, sizeof(*sim));
	if (!sim)
		return -ENOMEM;
	sim->dev = dev;
	sim->opts = *opts;
	err = vnet_worker_init(&sim->w, &sim_loop_ops, sim, &dev->ctl_waiting);
	if (err) {
		free(sim);
		return err;
	}
	sim->tx_buf_size = dev->params.mtu + 64 > 2048 ? dev->params.mtu + 64u : 2048u;
	sim->tx_mem = malloc((size_t)SIM_NBUF * sim->tx_buf_size);
	sim->rx_batch = calloc((size_t)dev->params.max_vqp * SIM_NBUF, sizeof(*sim->rx_batch));
	sim->rx_n = calloc(dev->params.max_vqp, sizeof(*sim->rx_n));
	err = -ENOMEM;
	if (!sim->tx_mem || !sim->rx_batch || !sim->rx_n)
		goto err_free;
	build_gen_frames(sim);
	for (i = 0; i < SIM_NBUF; i++) {
		sim->tx_bufs[i].data = sim->tx_mem + (size_t)i * sim->tx_buf_size;
		sim->tx_bufs[i].cap = sim->tx_buf_size;
	}
	/* level-triggered on every queue (the sleeper reads the kick); new
	 * queues start with kicks off: the worker polls until it sleeps */
	err = vnet_devq_init(&sim->dq, dev, &sim->w.epfd, 1, EPOLLIN, true, false);
	if (err)
		goto err_free;
	pthread_mutex_lock(&dev->lock);
	vnet_netdev_set_worker_ops(dev, &sim_worker_ops, sim);
	pthread_mutex_unlock(&dev->lock);
	err = vnet_worker_start(&sim->w, NULL, opts->cpu);
	if (err)
		goto err_ops;
	*out = sim;
	return 0;

err_ops:
	pthread_mutex_lock(&dev->lock);
	vnet_netdev_set_worker_ops(dev, NULL, NULL);
	vnet_devq_fini(&sim->dq);
	pthread_mutex_unlock(&dev->lock);
err_free:
	sim_free(sim);
	return err;
}

void vnet_sim_stop(struct vnet_sim *sim)
{
	if (!sim)
		return;
	vnet_worker_stop(&sim->w);
	pthread_mutex_lock(&sim->dev->lock);
	vnet_netdev_set_worker_ops(sim->dev, NULL, NULL);
	vnet_devq_fini(&sim->dq);
	pthread_mutex_unlock(&sim->dev->lock);
	sim_free(sim);
}

void vnet_sim_get_stats(struct vnet_sim *sim, struct vnet_sim_stats *st)
{
	pthread_mutex_lock(&sim->dev->lock);
	*st = sim->stats;
	pthread_mutex_unlock(&sim->dev->lock);
	st->sleeps = __atomic_load_n(&sim->w.sleeps, __ATOMIC_RELAXED);
}
