/* SPDX-License-Identifier: MIT */
/*
 * The lost-wakeup race of available buffer notifications (spec 2.7.10,
 * 2.8.21.2) with real interleavings, for either ring layout: a driver
 * thread publishes bursts and kicks an eventfd only when the device's
 * suppression request says so (vdriver_kick_needed), while the device polls
 * with kicks off and sleeps on the eventfd after the re-check of
 * vnet_virtq_notify_enable(true). A lost kick shows as a device asleep with
 * buffers waiting (2 s timeout).
 */
#ifndef VNET_TEST_KICK_RACE_H
#define VNET_TEST_KICK_RACE_H

#include <vnet/virtq.h>

#include "vdriver.h"

struct kick_race {
	unsigned int kicks;	/* eventfd writes by the driver */
	unsigned int sleeps;	/* the device slept on the eventfd */
	unsigned int rechecks;	/* the re-check found a buffer: no sleep */
	unsigned int lost;	/* the device slept 2 s with buffers waiting */
};

/* 'chains' single-descriptor buffers through d and vq; 0, or -errno. */
int kick_race_run(struct vdriver *d, struct vnet_virtq *vq, unsigned int chains,
		  struct kick_race *out);

/*
 * The test case: 30000 buffers on a ring of 'size' of the layout, without
 * and with EVENT_IDX. No lost kick, the device slept, and with EVENT_IDX
 * at most one kick a sleep (only the event entry kicks; with flags every
 * burst published between a wake-up and the next disable kicks: counted).
 */
void kick_race_test(bool packed, __u16 size);

#endif
