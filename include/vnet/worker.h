/* SPDX-License-Identifier: MIT */
/*
 * A queue worker: one thread and the loop every worker of vnet runs
 * (daemon/worker/worker.c), vnet/sim's loopback (sim.c) and the uplink's
 * (daemon/uplink/). What a worker serves is behind struct vnet_worker_ops;
 * the loop is the same for all:
 *
 *   round -> work done? poll on (kicks stay off: the driver writes no
 *   eventfd, we take no wake-up). Idle: an empty round, and the clock is
 *   read every VNET_WORKER_CLOCK_ROUNDS of them only (in a VM a clock read
 *   can cost more than an empty round); VNET_WORKER_POLL_NS after the last
 *   work, sleep: ops->sleep turns the wake sources on (kicks with the
 *   spec's re-check, 2.7.10) and says for how long, or that work came
 *   meanwhile; epoll_wait on the worker's epoll set; ops->wake gets what
 *   woke it; the next round turns kicks off again.
 *
 * Between rounds the worker steps aside while the control thread waits
 * for the lock the round takes (*ctl_waiting): the mutex is not fair.
 * The wake eventfd (ring changes, stop, a new device) is in the epoll set
 * with data.u64 == VNET_WORKER_EV_WAKE and drained by the loop itself.
 */
#ifndef VNET_WORKER_H
#define VNET_WORKER_H

#include <pthread.h>
#include <stdbool.h>
#include <sys/epoll.h>
#include <linux/types.h>

#include "vnet/devq.h"

/*
 * Busy-poll this long after the last work before sleeping. Under load a
 * burst comes every few microseconds and the worker never sleeps; an idle
 * worker costs one wake-up per sleep timeout.
 */
#define VNET_WORKER_POLL_NS	50000ull
#define VNET_WORKER_CLOCK_ROUNDS 32	/* empty rounds between clock reads */
#define VNET_WORKER_SLEEP_MS	100	/* a sleep's usual timeout (RARP, safety) */
#define VNET_WORKER_POLL	(-2)	/* ops->sleep: work came, poll on */
#define VNET_WORKER_EV_WAKE	0	/* epoll data of the wake eventfd */

struct vnet_worker;

struct vnet_worker_ops {
	/* One round over everything the worker serves, under its own locks:
	 * the work done (frames, commands), 0 for none. */
	unsigned int (*round)(struct vnet_worker *w);
	/*
	 * Idle for VNET_WORKER_POLL_NS ('now' is the clock): turn the wake
	 * sources on and look once more. Returns the epoll timeout in ms (-1:
	 * none), or VNET_WORKER_POLL when something is waiting after all.
	 */
	int (*sleep)(struct vnet_worker *w, __u64 now);
	/* Awake: the events that woke it but the wake eventfd (n may be 0,
	 * the timeout); turn off what sleep turned on for the sleep only. */
	void (*wake)(struct vnet_worker *w, const struct epoll_event *ev, int n);
};

struct vnet_worker {
	const struct vnet_worker_ops *ops;
	void *ctx;			/* the worker's owner */
	int epfd;			/* what may wake the worker */
	int wake_fd;			/* eventfd, in epfd as VNET_WORKER_EV_WAKE */
	int *ctl_waiting;		/* __atomic: the control thread wants the lock */
	volatile bool stop;
	bool running;
	pthread_t thread;
	__u64 sleeps;			/* __atomic: times it slept in epoll */
};

/* The epoll set and the wake eventfd; no thread yet. 0 or -errno. */
int vnet_worker_init(struct vnet_worker *w, const struct vnet_worker_ops *ops, void *ctx,
		     int *ctl_waiting);
/* The thread, named 'name' (NULL: unnamed), pinned to 'cpu' (< 0: not). */
int vnet_worker_start(struct vnet_worker *w, const char *name, int cpu);
/* Stops and joins the thread, if it runs. */
void vnet_worker_stop(struct vnet_worker *w);
/* vnet_worker_stop, then the fds closed. */
void vnet_worker_fini(struct vnet_worker *w);
/* From any thread: the worker runs a round soon (it may be asleep). */
void vnet_worker_wake(struct vnet_worker *w);

/*
 * The control thread's side of *ctl_waiting: take 'lock' while the worker
 * steps aside between its rounds.
 */
void vnet_worker_lock_ctl(pthread_mutex_t *lock, int *ctl_waiting);

/*
 * From a device's rings_changed hook (dev->lock held, so never the
 * worker's own locks): its queues sync on the next round, which comes
 * soon even if the worker sleeps.
 */
static inline void vnet_worker_rings_changed(struct vnet_worker *w, struct vnet_devq *dq)
{
	vnet_devq_rings_changed(dq);
	vnet_worker_wake(w);
}

/*
 * A device's queues in the round of worker 'owner' (vnet_devq_owner; dev->lock
 * held): while it polls,
 * the driver need not kick (spec 2.7.10), so kicks go off. rx_wakes: the
 * receive queues' kicks wake the worker too (vnet_devq_kicks_set).
 */
static inline void vnet_worker_devq_poll(struct vnet_devq *dq, unsigned int owner,
					 bool rx_wakes)
{
	if (dq->kicks_on >> owner & 1)
		vnet_devq_kicks_set(dq, owner, false, rx_wakes);
}

/*
 * Before sleeping (takes dev->lock): the device's kicks on, then the
 * spec's re-check (2.7.10). True when buffers are waiting (or, with
 * 'rarp', a RARP announce): poll on. A device that needs a reset serves
 * nothing, so what it has waiting is no reason to stay awake (the reset
 * comes as a ring change).
 */
bool vnet_worker_devq_arm(struct vnet_devq *dq, unsigned int owner, bool rx_wakes, bool rarp);

#endif
