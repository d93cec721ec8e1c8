// SPDX-License-Identifier: MIT
/*
 * The uplink worker's round and its side of the shared loop (worker.h,
 * uplink_int.h): per port under dev->lock the control queue, the maps,
 * transmit; then receive; kicks and sockets armed before it sleeps; the
 * device hooks that wake it.
 */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <linux/virtio_config.h>

#include "uplink_int.h"
#include "vnet/log.h"

/* NOTF_COAL (spec 5.1.6.5.9): parameters on change, deferred notifications */
static void coal_run(struct up_port *p, const struct vnet_net_state *st)
{
	vnet_devq_coal_apply(&p->dq, st);
	if (vnet_devq_coal_expire(&p->dq))
		p->up->coal_pending = true;
}

static unsigned int port_service(struct vnet_updp *up, struct up_port *p)
{
	struct vnet_netdev *dev = p->dev;
	const struct vnet_net_state *st;
	unsigned int work = 0, refused;	/* no per-port cvq counters: vstats has them */

	pthread_mutex_lock(&dev->lock);
	vnet_devq_sync(&p->dq);
	/* polling: the driver need not kick (spec 2.7.10); on before we sleep */
	vnet_worker_devq_poll(&p->dq, false);
	if (!(dev->status & VIRTIO_CONFIG_S_NEEDS_RESET)) {
		if (p->dq.cvq_active)
			work += vnet_devq_run_cvq(&p->dq, &refused);
		st = vnet_netdev_state(dev);
		if (up->attached) {
			updp_learn_maintain(p);
			updp_push_state(p, st);
			work += updp_port_tx(up, p, st);
		} else {
			/* the maps get the whole state on attach (up_attach) */
			work += updp_port_tx_drop(up, p);
		}
		coal_run(p, st);
	}
	/* detached: the announce waits for the uplink's return */
	if (dev->rarp_pending && up->attached)
		updp_port_rarp(up, p);
	vnet_devq_save_positions(&p->dq);
	pthread_mutex_unlock(&dev->lock);
	if (up->nlocal)
		updp_local_deliver(up, p);
	return work;
}

static unsigned int run_round(struct vnet_updp *up)
{
	unsigned int work = 0, d;
	__u64 mask;

	if (up->attached)
		vnet_xsk_tx_complete(up->xsk[0]);
	up->coal_pending = false;
	for (mask = up->port_mask; mask; mask &= mask - 1) {
		d = (unsigned int)__builtin_ctzll(mask);
		work += port_service(up, up->ports[d]);
	}
	if (!up->attached)
		return work;
	vnet_xsk_tx_kick(up->xsk[0]);
	work += updp_run_rx(up);
	work += updp_run_pkt(up);
	if (++up->host_rounds % UP_HOST_ROUNDS == 0)
		up->host_due = true;
	work += updp_run_host(up);
	return work;
}

/*
 * The AF_XDP sockets are in the epoll set only while the worker sleeps.
 * An epoll entry stays on the socket's wait queue, so every receive flush
 * of the kernel would run the epoll callback under its lock even while we
 * busy-poll (bench-e2e: a fifth of the receiving CPU). EPOLL_CTL_ADD
 * reports a socket that is already readable, so no frame is missed.
 * Under up->lock: up_detach() closes the sockets.
 */
void updp_xsk_watch(struct vnet_updp *up, bool on)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = EV_XSK };
	unsigned int i;

	if (on == up->xsk_watched || (on && !up->attached))
		return;
	for (i = 0; i < up->nxsk; i++)
		epoll_ctl(up->w.epfd, on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL,
			  vnet_xsk_fd(up->xsk[i]), &ev);
	up->xsk_watched = on;
}

/*
 * Before sleeping (up->lock held): every port's transmit and control
 * queues get their kicks back, then a last look (vnet_worker_devq_arm).
 * False: a driver posted buffers meanwhile, poll on.
 */
static bool kicks_arm(struct vnet_updp *up)
{
	bool pending = false;
	__u64 mask;

	for (mask = up->port_mask; mask; mask &= mask - 1) {
		struct up_port *p = up->ports[__builtin_ctzll(mask)];

		if (vnet_worker_devq_arm(&p->dq, false, false))
			pending = true;
	}
	return !pending;
}

/*
 * How long the worker may sleep (up->lock held): frames waiting for the
 * kernel or a deferred notification bring it back soon; attached, the
 * host addresses are re-read now and then; detached, only a kick, a ring
 * change or the uplink's return (the wake eventfd) can give it work.
 */
static int sleep_timeout(const struct vnet_updp *up)
{
	if (up->coal_pending)
		return 1;
	if (!up->attached)
		return -1;
	return vnet_xsk_tx_outstanding(up->xsk[0]) ? 1 : VNET_WORKER_SLEEP_MS;
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
 * fails it leaves the epoll set (up->lock held).
 */
static void sock_error(struct vnet_updp *up, __u64 which, __u32 events)
{
	int err = 0;

	if (!up->attached)
		return;
	if (which == EV_PKT && up->pkt) {
		err = sock_take_error(vnet_pktring_fd(up->pkt));
		if (events & EPOLLHUP)
			epoll_ctl(up->w.epfd, EPOLL_CTL_DEL, vnet_pktring_fd(up->pkt), NULL);
	} else if (which == EV_XSK) {
		for (unsigned int i = 0; i < up->nxsk; i++)
			err = sock_take_error(vnet_xsk_fd(up->xsk[i])) ?: err;
	} else if (which == EV_HOST && up->hport) {
		epoll_ctl(up->w.epfd, EPOLL_CTL_DEL, vnet_host_port_fd(up->hport), NULL);
		err = EIO;
	}
	if (!up->sock_error)
		pr_info("%s: uplink socket error: %s (uplink down or going away)\n", up->ifname,
			strerror(err ?: EIO));
	up->sock_error = true;	/* logged once per attach */
}

static unsigned int up_round(struct vnet_worker *w)
{
	struct vnet_updp *up = w->ctx;
	unsigned int work;

	pthread_mutex_lock(&up->lock);
	work = run_round(up);
	pthread_mutex_unlock(&up->lock);
	return work;
}

/* Idle: the host addresses when due, kicks on, the XSK fds watched. */
static int up_sleep(struct vnet_worker *w, __u64 now)
{
	struct vnet_updp *up = w->ctx;
	int timeout = VNET_WORKER_POLL;

	pthread_mutex_lock(&up->lock);
	if (up->attached && now - up->last_scan > UP_SCAN_NS) {
		updp_scan_host_addrs(up);
		up->last_scan = now;
	}
	/* sleep until a kick, a frame, a change or the timeout */
	if (kicks_arm(up)) {
		timeout = sleep_timeout(up);
		updp_xsk_watch(up, true);
	}
	pthread_mutex_unlock(&up->lock);
	return timeout;
}

static void up_wake(struct vnet_worker *w, const struct epoll_event *ev, int n)
{
	struct vnet_updp *up = w->ctx;

	pthread_mutex_lock(&up->lock);
	updp_xsk_watch(up, false);
	for (int i = 0; i < n; i++) {
		if (ev[i].data.u64 <= EV_HOST && (ev[i].events & (EPOLLERR | EPOLLHUP)))
			sock_error(up, ev[i].data.u64, ev[i].events);
		if (ev[i].data.u64 == EV_HOST)
			up->host_due = true;
	}
	pthread_mutex_unlock(&up->lock);
}

const struct vnet_worker_ops updp_loop_ops = {
	.round = up_round,
	.sleep = up_sleep,
	.wake = up_wake,
};

static void port_rings_changed(struct vnet_netdev *dev, void *opaque)
{
	struct up_port *p = opaque;

	vnet_worker_rings_changed(&p->up->w, &p->dq);
}

static void port_state_changed(struct vnet_netdev *dev, __u32 changed, void *opaque)
{
	/* the worker diffs the state each round: it only needs to wake up */
	vnet_worker_wake(&((struct up_port *)opaque)->up->w);
}

const struct vnet_netdev_ops updp_port_ops = {
	.rings_changed = port_rings_changed,
	.state_changed = port_state_changed,
	.dirty_log = true,	/* guest memory only through the engine */
};
