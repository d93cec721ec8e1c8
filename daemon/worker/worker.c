// SPDX-License-Identifier: MIT
/*
 * The loop every queue worker runs: poll while there is work, sleep on
 * the wake sources when there has been none for a while
 * (include/vnet/worker.h). vnet/sim (sim.c) and the uplink worker
 * (daemon/uplink/uplink_worker.c) fill in struct vnet_worker_ops.
 */
#include <errno.h>
#include <sched.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <linux/virtio_config.h>

#include "vnet/netutil.h"
#include "vnet/worker.h"

#define CTL_YIELDS	1000	/* bounded: a control thread that never comes */

/* Let the control thread in between two rounds: the mutex is not fair. */
static void ctl_yield(const struct vnet_worker *w)
{
	for (int i = 0; i < CTL_YIELDS && __atomic_load_n(w->ctl_waiting, __ATOMIC_RELAXED); i++)
		sched_yield();
}

/* Sleep in epoll for up to 'timeout' ms; the wake eventfd is drained here. */
static void sleep_wait(struct vnet_worker *w, int timeout)
{
	struct epoll_event evs[16], mine[16];
	int n, i, k = 0;
	__u64 v;

	__atomic_add_fetch(&w->sleeps, 1, __ATOMIC_RELAXED);
	n = epoll_wait(w->epfd, evs, 16, timeout);
	for (i = 0; i < n; i++) {
		if (evs[i].data.u64 != VNET_WORKER_EV_WAKE)
			mine[k++] = evs[i];
		else if (read(w->wake_fd, &v, sizeof(v)) < 0)
			continue;	/* drained by an earlier wake-up */
	}
	w->ops->wake(w, mine, k);
}

static void *worker_thread(void *arg)
{
	struct vnet_worker *w = arg;
	__u64 idle_since = 0, now;
	unsigned int empty = 0;
	int timeout;

	while (!w->stop) {
		unsigned int work = w->ops->round(w);

		ctl_yield(w);
		if (work) {
			idle_since = 0;
			empty = 0;
			continue;
		}
		/* keep polling (kicks off) for a while after work */
		if (++empty % VNET_WORKER_CLOCK_ROUNDS)
			continue;
		now = vnet_now_ns();
		if (!idle_since)
			idle_since = now;
		if (now - idle_since < VNET_WORKER_POLL_NS)
			continue;
		idle_since = 0;
		timeout = w->ops->sleep(w, now);
		if (timeout == VNET_WORKER_POLL)
			continue;
		sleep_wait(w, timeout);
	}
	return NULL;
}

int vnet_worker_init(struct vnet_worker *w, const struct vnet_worker_ops *ops, void *ctx,
		     int *ctl_waiting)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = VNET_WORKER_EV_WAKE };
	int err;

	memset(w, 0, sizeof(*w));
	w->ops = ops;
	w->ctx = ctx;
	w->ctl_waiting = ctl_waiting;
	w->epfd = epoll_create1(EPOLL_CLOEXEC);
	w->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (w->epfd < 0 || w->wake_fd < 0 ||
	    epoll_ctl(w->epfd, EPOLL_CTL_ADD, w->wake_fd, &ev)) {
		err = -errno;
		vnet_worker_fini(w);
		return err;
	}
	return 0;
}

int vnet_worker_start(struct vnet_worker *w, const char *name, int cpu)
{
	int err;

	w->stop = false;
	err = -pthread_create(&w->thread, NULL, worker_thread, w);
	if (err)
		return err;
	w->running = true;
	if (name)
		pthread_setname_np(w->thread, name);
	if (cpu >= 0) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(cpu, &set);
		pthread_setaffinity_np(w->thread, sizeof(set), &set);
	}
	return 0;
}

void vnet_worker_stop(struct vnet_worker *w)
{
	if (!w->running)
		return;
	w->stop = true;
	vnet_worker_wake(w);
	pthread_join(w->thread, NULL);
	w->running = false;
}

void vnet_worker_fini(struct vnet_worker *w)
{
	vnet_worker_stop(w);
	if (w->epfd >= 0)
		close(w->epfd);
	if (w->wake_fd >= 0)
		close(w->wake_fd);
	w->epfd = w->wake_fd = -1;
}

void vnet_worker_wake(struct vnet_worker *w)
{
	__u64 one = 1;

	if (write(w->wake_fd, &one, sizeof(one)) < 0)
		return;		/* the counter is full: a wake-up is pending anyway */
}

void vnet_worker_lock_ctl(pthread_mutex_t *lock, int *ctl_waiting)
{
	__atomic_add_fetch(ctl_waiting, 1, __ATOMIC_RELAXED);
	pthread_mutex_lock(lock);
	__atomic_sub_fetch(ctl_waiting, 1, __ATOMIC_RELAXED);
}

bool vnet_worker_devq_arm(struct vnet_devq *dq, unsigned int owner, bool rx_wakes, bool rarp)
{
	struct vnet_netdev *dev = dq->dev;
	bool pending;

	pthread_mutex_lock(&dev->lock);
	vnet_devq_sync(dq);
	pending = vnet_devq_kicks_set(dq, owner, true, rx_wakes) || (rarp && dev->rarp_pending);
	if (dev->status & VIRTIO_CONFIG_S_NEEDS_RESET)
		pending = false;
	pthread_mutex_unlock(&dev->lock);
	return pending;
}
