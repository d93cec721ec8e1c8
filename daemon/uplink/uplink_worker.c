// SPDX-License-Identifier: MIT
/*
 * An uplink worker's round and its side of the shared loop (worker.h,
 * uplink_int.h), one per worker: per port under dev->lock its transmit
 * queues (worker 0: the control queue, the maps, RARP too); then its
 * sockets' receive; kicks and sockets armed before it sleeps; the device
 * hooks that wake the workers.
 */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <linux/virtio_config.h>

#include "uplink_int.h"
#include "vnet/log.h"

/*
 * NOTF_COAL (spec 5.1.6.5.9): parameters on change, deferred notifications.
 * Every worker looks (dev->lock held): its own deliveries may have deferred
 * one, and it stays awake (wk->coal_pending) until it is due.
 */
static void coal_run(struct up_wk *wk, struct up_port *p, const struct vnet_net_state *st)
{
	vnet_devq_coal_apply(&p->dq, st);
	if (vnet_devq_coal_expire(&p->dq))
		wk->coal_pending = true;
}

/*
 * Worker 0: the device's control-queue state into the maps. Every worker's
 * receive decision reads the maps' shadow (vnet_dp_state), so the others
 * are held between two of their rounds meanwhile. Lock order, the control
 * thread's too: the workers' locks by id, then dev->lock.
 */
static void port_push(struct vnet_updp *up, struct up_port *p)
{
	struct vnet_netdev *dev = p->dev;

	updp_lock_others(up);
	pthread_mutex_lock(&dev->lock);
	if (!(dev->status & VIRTIO_CONFIG_S_NEEDS_RESET))
		updp_push_state(p, vnet_netdev_state(dev));
	pthread_mutex_unlock(&dev->lock);
	updp_unlock_others(up);
}

static unsigned int port_service(struct up_wk *wk, struct up_port *p)
{
	struct vnet_updp *up = wk->up;
	struct vnet_netdev *dev = p->dev;
	const struct vnet_net_state *st;
	unsigned int work = 0, refused;	/* no per-port cvq counters: vstats has them */
	bool home = wk->id == 0, push = false;

	pthread_mutex_lock(&dev->lock);
	vnet_devq_sync(&p->dq);
	/* polling: the driver need not kick (spec 2.7.10); on before we sleep */
	vnet_worker_devq_poll(&p->dq, wk->id, false);
	if (!(dev->status & VIRTIO_CONFIG_S_NEEDS_RESET)) {
		if (home && p->dq.cvq_active)
			work += vnet_devq_run_cvq(&p->dq, &refused);
		st = vnet_netdev_state(dev);
		if (up->attached) {
			if (home) {
				updp_learn_maintain(p);
				push = updp_push_due(p, st);
			}
			work += updp_port_tx(wk, p, st);
		} else {
			/* the maps get the whole state on attach (up_attach) */
			work += updp_port_tx_drop(wk, p);
		}
		coal_run(wk, p, st);
	}
	/* detached: the announce waits for the uplink's return */
	if (home && dev->rarp_pending && up->attached)
		updp_port_rarp(wk, p);
	vnet_devq_save_positions(&p->dq);
	pthread_mutex_unlock(&dev->lock);
	if (wk->nlocal)
		updp_local_deliver(wk, p);
	if (push)
		port_push(up, p);
	return work;
}

static unsigned int run_round(struct up_wk *wk)
{
	struct vnet_updp *up = wk->up;
	unsigned int work = 0, d, i;
	__u64 mask;

	if (up->attached)
		for (i = wk->id; i < up->nxsk; i += up->nwk)
			vnet_xsk_tx_complete(up->xsk[i]);
	wk->coal_pending = false;
	for (mask = up->port_mask; mask; mask &= mask - 1) {
		d = (unsigned int)__builtin_ctzll(mask);
		work += port_service(wk, up->ports[d]);
	}
	/* frames held for a receive queue are ours: detached too */
	work += updp_hold_retry(wk);
	if (!up->attached)
		return work;
	for (i = wk->id; i < up->nxsk; i += up->nwk)
		vnet_xsk_tx_kick(up->xsk[i]);
	work += updp_run_rx(wk);
	work += updp_run_kgro(wk);
	if (wk->id)
		return work;
	work += updp_run_pkt(wk);
	if (++wk->host_rounds % UP_HOST_ROUNDS == 0)
		up->host_due = true;
	work += updp_run_host(wk);
	return work;
}

/*
 * The AF_XDP sockets are in the epoll set only while the worker sleeps.
 * An epoll entry stays on the socket's wait queue, so every receive flush
 * of the kernel would run the epoll callback under its lock even while we
 * busy-poll (bench-e2e: a fifth of the receiving CPU). EPOLL_CTL_ADD
 * reports a socket that is already readable, so no frame is missed.
 * Under wk->lock: up_detach() closes the sockets with it held.
 */
void updp_xsk_watch(struct up_wk *wk, bool on)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = EV_XSK };
	struct vnet_updp *up = wk->up;
	unsigned int i;

	if (on == wk->xsk_watched || (on && !up->attached))
		return;
	for (i = wk->id; i < up->nxsk; i += up->nwk)
		epoll_ctl(wk->w.epfd, on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL,
			  vnet_xsk_fd(up->xsk[i]), &ev);
	wk->xsk_watched = on;
}

/*
 * Before sleeping (wk->lock held): every port's queues of this worker get
 * their kicks back, then a last look (vnet_worker_devq_arm). False: a
 * driver posted buffers meanwhile, poll on.
 */
static bool kicks_arm(struct up_wk *wk)
{
	struct vnet_updp *up = wk->up;
	bool pending = false;
	__u64 mask;

	for (mask = up->port_mask; mask; mask &= mask - 1) {
		struct up_port *p = up->ports[__builtin_ctzll(mask)];

		if (vnet_worker_devq_arm(&p->dq, wk->id, false, false))
			pending = true;
	}
	return !pending;
}

/*
 * How long the worker may sleep (wk->lock held): frames waiting for the
 * kernel or a deferred notification bring it back soon; attached, the
 * host addresses are re-read now and then; detached, only a kick, a ring
 * change or the uplink's return (the wake eventfd) can give it work.
 */
static int sleep_timeout(const struct up_wk *wk)
{
	const struct vnet_updp *up = wk->up;
	unsigned int i;

	if (wk->coal_pending || updp_holding(wk) || updp_kgro_stalled(wk))
		return 1;
	if (!up->attached)
		return -1;
	for (i = wk->id; i < up->nxsk; i += up->nwk)
		if (vnet_xsk_tx_outstanding(up->xsk[i]))
			return 1;
	return VNET_WORKER_SLEEP_MS;
}

/* Reads (and so clears) a socket's pending error: 0 when there was none. */
static int sock_take_error(int fd)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len))
		return errno;
	return err;
}

/*
 * A socket of the uplink reports an error (EPOLLERR). The packet socket
 * gets ENETDOWN when the uplink goes down or is unregistered
 * (packet_notifier), and the error stays pending -- level-triggered, it
 * would wake us forever, even after the uplink came back up -- until it is
 * read: so read it. The host port's TAP is ours and not a socket: if it
 * fails it leaves the epoll set (wk->lock held; the packet socket and the
 * host port are worker 0's).
 */
static void sock_error(struct up_wk *wk, __u64 which, __u32 events)
{
	struct vnet_updp *up = wk->up;
	int err = 0;

	if (!up->attached)
		return;
	if (which == EV_PKT && up->pkt) {
		err = sock_take_error(vnet_pktring_fd(up->pkt));
		if (events & EPOLLHUP)
			epoll_ctl(wk->w.epfd, EPOLL_CTL_DEL, vnet_pktring_fd(up->pkt), NULL);
	} else if (which == EV_XSK) {
		for (unsigned int i = wk->id; i < up->nxsk; i += up->nwk)
			err = sock_take_error(vnet_xsk_fd(up->xsk[i])) ?: err;
	} else if (which == EV_KGRO && up->kgro) {
		err = sock_take_error(updp_kgro_fd(up, wk->id));
		if (events & EPOLLHUP)
			epoll_ctl(wk->w.epfd, EPOLL_CTL_DEL, updp_kgro_fd(up, wk->id), NULL);
	} else if (which == EV_HOST && up->hport) {
		epoll_ctl(wk->w.epfd, EPOLL_CTL_DEL, vnet_host_port_fd(up->hport), NULL);
		err = EIO;
	}
	if (!wk->sock_error)
		pr_info("%s: uplink socket error (worker %u): %s (uplink down or going away)\n",
			up->ifname, wk->id, strerror(err ?: EIO));
	wk->sock_error = true;	/* logged once per attach */
}

static unsigned int up_round(struct vnet_worker *w)
{
	struct up_wk *wk = w->ctx;
	unsigned int work;

	pthread_mutex_lock(&wk->lock);
	work = run_round(wk);
	pthread_mutex_unlock(&wk->lock);
	return work;
}

/* Idle: the host addresses when due (worker 0), kicks on, the XSK fds watched. */
static int up_sleep(struct vnet_worker *w, __u64 now)
{
	struct up_wk *wk = w->ctx;
	struct vnet_updp *up = wk->up;
	int timeout = VNET_WORKER_POLL;

	pthread_mutex_lock(&wk->lock);
	if (!wk->id && up->attached && now - up->last_scan > UP_SCAN_NS) {
		/* the maps' shadow again: the others between two rounds */
		updp_lock_others(up);
		updp_scan_host_addrs(up);
		updp_unlock_others(up);
		up->last_scan = now;
	}
	/* sleep until a kick, a frame, a change or the timeout */
	if (kicks_arm(wk)) {
		timeout = sleep_timeout(wk);
		updp_xsk_watch(wk, true);
		updp_kgro_arm(wk);
	}
	pthread_mutex_unlock(&wk->lock);
	return timeout;
}

static void up_wake(struct vnet_worker *w, const struct epoll_event *ev, int n)
{
	struct up_wk *wk = w->ctx;

	pthread_mutex_lock(&wk->lock);
	updp_xsk_watch(wk, false);
	for (int i = 0; i < n; i++) {
		if (ev[i].data.u64 <= EV_KGRO && (ev[i].events & (EPOLLERR | EPOLLHUP)))
			sock_error(wk, ev[i].data.u64, ev[i].events);
		if (ev[i].data.u64 == EV_HOST)
			wk->up->host_due = true;
	}
	pthread_mutex_unlock(&wk->lock);
}

const struct vnet_worker_ops updp_loop_ops = {
	.round = up_round,
	.sleep = up_sleep,
	.wake = up_wake,
};

static void wake_all(struct vnet_updp *up)
{
	for (unsigned int i = 0; i < up->nwk; i++)
		vnet_worker_wake(&up->wk[i]->w);
}

static void port_rings_changed(struct vnet_netdev *dev, void *opaque)
{
	struct up_port *p = opaque;

	/* whichever worker comes first syncs the device's queues (dev->lock) */
	vnet_devq_rings_changed(&p->dq);
	wake_all(p->up);
}

static void port_state_changed(struct vnet_netdev *dev, __u32 changed, void *opaque)
{
	/* the workers diff the state each round: they only need to wake up */
	wake_all(((struct up_port *)opaque)->up);
}

const struct vnet_netdev_ops updp_port_ops = {
	.rings_changed = port_rings_changed,
	.state_changed = port_state_changed,
	.dirty_log = true,	/* guest memory only through the engine */
};
