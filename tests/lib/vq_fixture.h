/* SPDX-License-Identifier: MIT */
/*
 * An engine queue and its driver half (lib/vdriver) in one fixture, for the
 * ring tests of either layout (test_virtq, test_virtq_packed): set-up,
 * callbacks that count notifications and errors, and the checks both use.
 */
#ifndef VNET_TEST_VQ_FIXTURE_H
#define VNET_TEST_VQ_FIXTURE_H

#include <stdbool.h>

#include <vnet/virtq.h>

#include "vdriver.h"

struct vq_fx {
	struct vdriver d;
	struct vnet_virtq vq;
	int notifies, errors, last_err;	/* ops->notify / ops->error calls */
};

/*
 * A ring of 'size' (packed or split) with 1 MiB of buffer space, the
 * engine queue set up from the driver's configuration; the driver half
 * follows EVENT_IDX and IN_ORDER when 'features' has them.
 */
int vq_fx_setup(struct vq_fx *f, bool packed, __u16 size, __u64 features);
void vq_fx_done(struct vq_fx *f);

/* 'n' single-buffer chains through the ring, a flush each. */
void vq_fx_complete_each(struct vq_fx *f, int n);
/* Pop and complete everything available (one flush); reap it all. */
void vq_fx_pop_all(struct vq_fx *f);
/*
 * The next pop rejects a chain with 'err', which comes back with length 0
 * (with id 'id' unless id < 0) and the queue keeps working.
 */
void vq_fx_expect_bad(struct vq_fx *f, int id, int err);
/* A good chain goes through (after whatever came before). */
void vq_fx_expect_still_works(struct vq_fx *f);
/*
 * Every segment of a popped chain inside the driver's memory (failed
 * EXPECT otherwise); touch them as the device would: write the writable
 * ones, read the others (ASan sees any stray pointer).
 */
void vq_fx_touch_chain(struct vq_fx *f, const struct vnet_chain *c);

#endif
