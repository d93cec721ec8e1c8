// SPDX-License-Identifier: MIT
/* The kick race of both ring layouts' tests: see kick_race.h. */
#include <errno.h>
#include <stdio.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "kick_race.h"
#include "test.h"
#include "vq_fixture.h"

struct race {
	struct vdriver *d;
	struct vnet_virtq *vq;
	unsigned int chains;
	int kick_fd;
	struct kick_race res;
	bool done;
};

static void *race_driver(void *arg)
{
	struct race *r = arg;
	struct vdriver *d = r->d;
	struct vdrv_seg s = { vdriver_alloc(d, 64, NULL), 64, false };
	unsigned int sent = 0, seed = 7;

	while (sent < r->chains && !__atomic_load_n(&r->done, __ATOMIC_ACQUIRE)) {
		unsigned int burst = 1 + rand_r(&seed) % 16, k;
		__u64 one = 1;

		while (vdriver_get_used(d, NULL) >= 0)
			;
		for (k = 0; k < burst && sent < r->chains && vdriver_num_free(d); k++, sent++)
			vdriver_add(d, &s, 1, false);
		if (!k)
			continue;
		vdriver_publish(d);
		if (vdriver_kick_needed(d)) {
			r->res.kicks++;
			if (write(r->kick_fd, &one, sizeof(one)) < 0)
				break;
		}
		/* idle gaps of 0-20 us so the device goes to sleep often */
		if (rand_r(&seed) % 4 == 0)
			usleep(rand_r(&seed) % 20);
	}
	return NULL;
}

static void race_device(struct race *r)
{
	struct vnet_virtq *vq = r->vq;
	unsigned int got = 0, idle = 0;
	struct vnet_chain *c = malloc(sizeof(*c));

	if (!c)
		goto out;
	vnet_virtq_notify_enable(vq, false);
	while (got < r->chains) {
		struct pollfd pfd = { .fd = r->kick_fd, .events = POLLIN };
		unsigned int n = 0;
		__u64 v;

		while (n < 32 && vnet_virtq_pop(vq, c) == 1) {
			vnet_virtq_push(vq, c->head, 0);
			n++;
		}
		vnet_virtq_flush(vq, n);
		got += n;
		if (n || ++idle < 50) {
			if (n)
				idle = 0;
			continue;
		}
		idle = 0;
		if (vnet_virtq_notify_enable(vq, true) != 0) {
			r->res.rechecks++;
			vnet_virtq_notify_enable(vq, false);
			continue;
		}
		r->res.sleeps++;
		if (poll(&pfd, 1, 2000) != 1) {
			r->res.lost++;
			break;
		}
		if (read(r->kick_fd, &v, sizeof(v)) < 0)
			break;
		vnet_virtq_notify_enable(vq, false);
	}
	free(c);
out:
	__atomic_store_n(&r->done, true, __ATOMIC_RELEASE);
}

int kick_race_run(struct vdriver *d, struct vnet_virtq *vq, unsigned int chains,
		  struct kick_race *out)
{
	struct race r = { .d = d, .vq = vq, .chains = chains };
	pthread_t t;
	int err;

	r.kick_fd = eventfd(0, EFD_CLOEXEC);
	if (r.kick_fd < 0)
		return -errno;
	err = -pthread_create(&t, NULL, race_driver, &r);
	if (!err) {
		race_device(&r);
		pthread_join(t, NULL);
	}
	close(r.kick_fd);
	*out = r.res;
	return err;
}

void kick_race_test(bool packed, __u16 size)
{
	for (int mode = 0; mode < 2; mode++) {
		const char *what = mode ? "event_idx" : "flags";
		struct kick_race r;
		struct vq_fx f;

		EXPECT(vq_fx_setup(&f, packed, size,
				   mode ? 1ull << VIRTIO_RING_F_EVENT_IDX : 0) == 0, "setup");
		EXPECT(kick_race_run(&f.d, &f.vq, 30000, &r) == 0, "race");
		EXPECT(r.lost == 0, "%s: device slept with buffers waiting (lost kick)", what);
		EXPECT(r.sleeps > 0, "%s: the device never slept", what);
		if (mode)
			EXPECT(r.kicks <= r.sleeps + r.rechecks + 1,
			       "event_idx: %u kicks for %u sleeps, %u re-checks",
			       r.kicks, r.sleeps, r.rechecks);
		printf("  %s: %u sleeps, %u re-checks caught a buffer, %u kicks\n",
		       what, r.sleeps, r.rechecks, r.kicks);
		vq_fx_done(&f);
	}
}
