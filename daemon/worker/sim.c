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
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>

#include "vnet/classify.h"
#include "vnet/devq.h"
#include "vnet/log.h"
#include "vnet/net.h"
#include "vnet/sim.h"
#include "vnet/netutil.h"

#define BIT(n)		(1ull << (n))
#define SIM_NBUF	64	/* tx output buffers per burst (GSO: 64 KiB) */
#define SIM_GEN_BURST	32
#define SIM_GEN_FLOWS	64
#define SIM_GEN_LEN	60	/* 64 B on the wire with the FCS */
/*
 * Busy-poll this long after the last work before sleeping on the kick
 * eventfds. Under load a burst comes every few microseconds and the worker
 * never sleeps (kicks stay off: no eventfd write on the driver's side, no
 * wake-up on ours); an idle device costs one wake-up per timeout.
 */
#define SIM_POLL_NS	50000ull
#define SIM_SLEEP_MS	100	/* epoll timeout when idle (RARP, safety) */
#define SIM_CLOCK_ROUNDS 32	/* empty rounds between clock reads */

struct vnet_sim {
	struct vnet_netdev *dev;
	struct vnet_sim_opts opts;
	pthread_t thread;
	int epfd, wake_fd;
	volatile bool stop;
	/* the queues; dq.kicks_on: asleep or about to be (kicks on) */
	struct vnet_devq dq;
	__u8 *tx_mem;
	__u32 tx_buf_size;
	struct vnet_tx_buf tx_bufs[SIM_NBUF];
	/* receive batches per receiveq for one tx burst */
	struct vnet_rx_pkt *rx_batch;	/* [max_vqp][SIM_NBUF] */
	unsigned int *rx_n;
	__u32 key_version;
	struct vnet_toeplitz_table key_tbl;	/* the driver's key */
	struct vnet_toeplitz_table auto_tbl;	/* automatic steering */
	__u8 gen_frames[SIM_GEN_FLOWS][SIM_GEN_LEN];
	unsigned int gen_next;
	struct vnet_sim_stats stats;
};

/* the key of the Microsoft RSS verification suite: any fixed key works */
static const __u8 auto_key[40] = {
	0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d,
	0x43, 0xa3, 0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb, 0xae, 0x7b, 0x30, 0xb4,
	0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b,
	0xbe, 0xac, 0x01, 0xfa,
};

/* --- the receive decision ----------------------------------------------------- */

static bool mac_in(const __u8 (*macs)[6], unsigned int n, const __u8 *mac)
{
	unsigned int i;

	for (i = 0; i < n; i++)
		if (!memcmp(macs[i], mac, 6))
			return true;
	return false;
}

/* spec 5.1.6.5.1 / 5.1.6.5.2 / 5.1.6.5.3 */
static bool rx_filter_pass(const struct vnet_net_state *st, __u64 features,
			   const struct vnet_parsed *p)
{
	static const __u8 bcast[6] = { 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
	const __u8 *dst = p->dst_mac;

	if ((features & BIT(VIRTIO_NET_F_CTRL_VLAN)) && p->vlan_tags &&
	    !vnet_net_state_vlan_ok(st, p->vlan_id))
		return false;
	if (st->promisc)
		return true;
	if (!memcmp(dst, bcast, 6))
		return !st->nobcast;
	if (dst[0] & 1) {
		if (st->nomulti)
			return false;
		return st->allmulti || st->mc_overflow ||
		       mac_in(st->macs + st->n_uc, st->n_mc, dst);
	}
	if (st->nouni)
		return false;
	return st->alluni || st->uc_overflow || !memcmp(dst, st->mac, 6) ||
	       mac_in(st->macs, st->n_uc, dst);
}

int vnet_sim_rx_select(const struct vnet_net_state *st, __u64 features, bool filter,
		       unsigned int nq, const void *frame, __u32 len,
		       const struct vnet_toeplitz_table *key_tbl,
		       const struct vnet_toeplitz_table *auto_tbl,
		       struct vnet_sim_rx *out)
{
	struct vnet_hash_result h = { 0 };
	struct vnet_parsed p;
	bool report = features & BIT(VIRTIO_NET_F_HASH_REPORT);
	unsigned int pairs;

	memset(out, 0, sizeof(*out));
	if (vnet_parse_frame(frame, len, &p))
		return filter ? -ENOENT : 0;	/* no L2 header: nothing to filter on */
	if (filter && (features & BIT(VIRTIO_NET_F_CTRL_RX)) && !rx_filter_pass(st, features, &p))
		return -ENOENT;
	if (filter && !(features & BIT(VIRTIO_NET_F_CTRL_RX)) &&
	    (features & BIT(VIRTIO_NET_F_CTRL_VLAN)) && p.vlan_tags &&
	    !vnet_net_state_vlan_ok(st, p.vlan_id))
		return -ENOENT;

	/* with the control queue elsewhere (QEMU style) the pairs in use are
	 * those the driver enabled: nq */
	pairs = filter ? st->vq_pairs : nq;
	if (pairs > nq)
		pairs = nq;
	if (!pairs)
		pairs = 1;

	if (filter && st->steering == VNET_STEER_RSS) {
		/* 5.1.6.5.7.2: hash; none -> unclassified_queue; else indirection */
		vnet_classify_hash(frame, len, st->hash_types, key_tbl, &h);
		out->queue = h.report == VNET_HASH_REPORT_NONE ? st->unclassified_queue
			     : st->indir[h.value & st->indir_mask];
	} else if (pairs > 1) {
		/* automatic steering (5.1.6.5.5): by flow over the active pairs */
		struct vnet_hash_result a;

		vnet_classify_hash(frame, len, VNET_HASH_TYPE_ALL, auto_tbl, &a);
		out->queue = (__u16)(a.value % pairs);
		if (report && st->hash_types)
			vnet_classify_hash(frame, len, st->hash_types, key_tbl, &h);
	} else if (report && st->hash_types) {
		vnet_classify_hash(frame, len, st->hash_types, key_tbl, &h);
	}
	if (report) {
		out->hash = h.value;
		out->report = h.report;
	}
	if (out->queue >= nq)
		out->queue = 0;
	return 0;
}

static unsigned int sim_pairs(const struct vnet_sim *sim)
{
	return vnet_netdev_data_pairs(sim->dev);
}

/* --- work --------------------------------------------------------------------- */

/* Follow the control-queue state: the key table, NOTF_COAL parameters. */
static void state_apply(struct vnet_sim *sim, const struct vnet_net_state *st)
{
	if (st->version != sim->key_version) {
		vnet_toeplitz_expand(st->key, st->key_len, &sim->key_tbl);
		sim->key_version = st->version;
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

/* Loopback one frame: decide its receiveq, add it to that batch. */
static void loop_frame(struct vnet_sim *sim, const struct vnet_net_state *st,
		       unsigned int nq, const __u8 *data, __u32 len)
{
	struct vnet_sim_rx rx;
	struct vnet_rx_pkt *p;

	if (!nq) {
		sim->stats.rx_dropped++;
		return;
	}
	if (vnet_sim_rx_select(st, sim->dev->driver, sim->dq.cvq_active, nq, data, len,
			       &sim->key_tbl, &sim->auto_tbl, &rx)) {
		sim->stats.filtered++;
		return;
	}
	if (rx.report)
		sim->stats.hash_reported++;
	if (sim->rx_n[rx.queue] == SIM_NBUF)
		deliver_batches(sim, nq);
	p = &sim->rx_batch[rx.queue * SIM_NBUF + sim->rx_n[rx.queue]++];
	p->data = data;
	p->len = len;
	p->hash_value = rx.hash;
	p->hash_report = rx.report;
	p->flags = 0;
}

static unsigned int run_tx(struct vnet_sim *sim, const struct vnet_net_state *st,
			   unsigned int nq)
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
			loop_frame(sim, st, nq, sim->tx_bufs[k].data, sim->tx_bufs[k].len);
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
static void run_rarp(struct vnet_sim *sim, const struct vnet_net_state *st, unsigned int nq)
{
	static __u8 f[VNET_RARP_LEN];
	struct vnet_netdev *dev = sim->dev;

	vnet_rarp_build(f, dev->rarp_mac);
	dev->rarp_pending = false;
	if (sim->opts.mode == VNET_SIM_LOOPBACK) {
		loop_frame(sim, st, nq, f, sizeof(f));
		deliver_batches(sim, nq);
	}
}

/*
 * Kicks on or off (vnet_devq_kicks_set). Receive queues wake only the
 * generator, which waits for buffers: loopback frames that find no
 * receive buffer are dropped (like a NIC without descriptors), so a
 * refill is no reason to wake.
 */
static bool kicks_set(struct vnet_sim *sim, bool on)
{
	return vnet_devq_kicks_set(&sim->dq, on, sim->opts.gen);
}

/* Before sleeping: kicks on, then look once more. True: safe to sleep. */
static bool kicks_arm(struct vnet_sim *sim)
{
	struct vnet_netdev *dev = sim->dev;
	bool pending;

	pthread_mutex_lock(&dev->lock);
	vnet_devq_sync(&sim->dq);
	pending = kicks_set(sim, true) || dev->rarp_pending;
	/* a device that needs a reset serves nothing: waiting buffers are
	 * no reason to stay awake (the reset comes as a ring change) */
	if (dev->status & VIRTIO_CONFIG_S_NEEDS_RESET)
		pending = false;
	if (pending)
		kicks_set(sim, false);
	pthread_mutex_unlock(&dev->lock);
	return !pending;
}

static unsigned int run_once(struct vnet_sim *sim)
{
	struct vnet_netdev *dev = sim->dev;
	const struct vnet_net_state *st;
	unsigned int work = 0, nq, i;

	pthread_mutex_lock(&dev->lock);
	vnet_devq_sync(&sim->dq);
	if (sim->dq.kicks_on)
		kicks_set(sim, false);
	if (!(dev->status & VIRTIO_CONFIG_S_NEEDS_RESET)) {
		if (sim->dq.cvq_active)
			work += run_cvq(sim);
		st = vnet_netdev_state(dev);
		state_apply(sim, st);
		nq = vnet_devq_active_rx(&sim->dq);
		if (dev->rarp_pending)
			run_rarp(sim, st, nq);
		work += run_tx(sim, st, nq);
		if (sim->opts.gen)
			work += run_gen(sim, st, nq);
		vnet_devq_coal_expire(&sim->dq);
		for (i = 0; i < nq; i++)
			vnet_devq_rx_stats(&sim->dq.q[2 * i]);
	}
	vnet_devq_save_positions(&sim->dq);
	pthread_mutex_unlock(&dev->lock);
	/* let the control thread in: the mutex is not fair */
	for (i = 0; i < 1000 && __atomic_load_n(&dev->ctl_waiting, __ATOMIC_RELAXED); i++)
		sched_yield();
	return work;
}

static void *sim_thread(void *arg)
{
	struct vnet_sim *sim = arg;
	__u64 idle_since = 0, now;
	unsigned int empty = 0;

	if (sim->opts.cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(sim->opts.cpu, &set);
		pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	}
	while (!sim->stop) {
		struct epoll_event evs[16];
		int n, i;

		if (run_once(sim)) {
			idle_since = 0;
			empty = 0;
			continue;
		}
		/* adaptive: keep polling (kicks off) for a while after work;
		 * the clock is read every few empty rounds only (in a VM a
		 * clock read can cost more than an empty round) */
		if (++empty % SIM_CLOCK_ROUNDS)
			continue;
		now = vnet_now_ns();
		if (!idle_since)
			idle_since = now;
		if (now - idle_since < SIM_POLL_NS)
			continue;
		idle_since = 0;
		if (!kicks_arm(sim))
			continue;
		/* nothing to do: sleep until a kick (or a ring change); a
		 * generator is woken by the receive queue's kick */
		sim->stats.sleeps++;
		n = epoll_wait(sim->epfd, evs, 16, sim->dq.coal_pending ? 1 : SIM_SLEEP_MS);
		for (i = 0; i < n; i++) {
			__u64 v;

			if (evs[i].data.ptr == NULL) {
				if (read(sim->wake_fd, &v, sizeof(v)) < 0)
					continue;
			} else {
				struct vnet_devq_q *q = evs[i].data.ptr;

				if (read(q->kick_fd, &v, sizeof(v)) < 0)
					continue;
			}
		}
	}
	return NULL;
}

static void sim_rings_changed(struct vnet_netdev *dev, void *opaque)
{
	struct vnet_sim *sim = opaque;
	__u64 one = 1;

	vnet_devq_rings_changed(&sim->dq);
	if (write(sim->wake_fd, &one, sizeof(one)) < 0)
		return;
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

int vnet_sim_start(struct vnet_netdev *dev, const struct vnet_sim_opts *opts,
		   struct vnet_sim **out)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = NULL };
	struct vnet_sim *sim;
	unsigned int i;
	int err = -ENOMEM;

	sim = calloc(1, sizeof(*sim));
	if (!sim)
		return -ENOMEM;
	sim->dev = dev;
	sim->opts = *opts;
	sim->epfd = sim->wake_fd = -1;
	sim->tx_buf_size = dev->params.mtu + 64 > 2048 ? dev->params.mtu + 64u : 2048u;
	sim->tx_mem = malloc((size_t)SIM_NBUF * sim->tx_buf_size);
	sim->rx_batch = calloc((size_t)dev->params.max_vqp * SIM_NBUF, sizeof(*sim->rx_batch));
	sim->rx_n = calloc(dev->params.max_vqp, sizeof(*sim->rx_n));
	if (!sim->tx_mem || !sim->rx_batch || !sim->rx_n)
		goto err_free;
	vnet_toeplitz_expand(auto_key, sizeof(auto_key), &sim->auto_tbl);
	sim->key_version = ~0u;
	build_gen_frames(sim);
	for (i = 0; i < SIM_NBUF; i++) {
		sim->tx_bufs[i].data = sim->tx_mem + (size_t)i * sim->tx_buf_size;
		sim->tx_bufs[i].cap = sim->tx_buf_size;
	}
	sim->epfd = epoll_create1(EPOLL_CLOEXEC);
	sim->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (sim->epfd < 0 || sim->wake_fd < 0) {
		err = -errno;
		goto err_free;
	}
	epoll_ctl(sim->epfd, EPOLL_CTL_ADD, sim->wake_fd, &ev);
	/* level-triggered on every queue (the sleeper reads the kick); new
	 * queues start with kicks off: the worker polls until it sleeps */
	err = vnet_devq_init(&sim->dq, dev, sim->epfd, EPOLLIN, true, false);
	if (err)
		goto err_free;
	pthread_mutex_lock(&dev->lock);
	vnet_netdev_set_worker_ops(dev, &sim_worker_ops, sim);
	pthread_mutex_unlock(&dev->lock);
	err = -pthread_create(&sim->thread, NULL, sim_thread, sim);
	if (err)
		goto err_ops;
	*out = sim;
	return 0;

err_ops:
	pthread_mutex_lock(&dev->lock);
	vnet_netdev_set_worker_ops(dev, NULL, NULL);
	pthread_mutex_unlock(&dev->lock);
	vnet_devq_fini(&sim->dq);
err_free:
	if (sim->epfd >= 0)
		close(sim->epfd);
	if (sim->wake_fd >= 0)
		close(sim->wake_fd);
	free(sim->tx_mem);
	free(sim->rx_batch);
	free(sim->rx_n);
	free(sim);
	return err;
}

void vnet_sim_stop(struct vnet_sim *sim)
{
	if (!sim)
		return;
	sim->stop = true;
	sim_rings_changed(sim->dev, sim);
	pthread_join(sim->thread, NULL);
	pthread_mutex_lock(&sim->dev->lock);
	vnet_netdev_set_worker_ops(sim->dev, NULL, NULL);
	vnet_devq_fini(&sim->dq);
	pthread_mutex_unlock(&sim->dev->lock);
	close(sim->epfd);
	close(sim->wake_fd);
	free(sim->tx_mem);
	free(sim->rx_batch);
	free(sim->rx_n);
	free(sim);
}

void vnet_sim_get_stats(struct vnet_sim *sim, struct vnet_sim_stats *st)
{
	pthread_mutex_lock(&sim->dev->lock);
	*st = sim->stats;
	pthread_mutex_unlock(&sim->dev->lock);
}
