// SPDX-License-Identifier: MIT
/*
 * An RSS change racing with traffic. Two configurations that differ in
 * every field (key, hash types, table length and contents, unclassified
 * queue, and the queue set: {0,1} against {2,3}) are swapped back and forth
 * while two threads push frames through the program. Every frame must carry
 * exactly the (queue, hash, report) of the old or of the new configuration,
 * as the C reference computes them: a half-applied change (new key with the
 * old table, new types with the old key...) would show as a mismatch.
 */
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "frame.h"
#include "test.h"
#include "xdp_util.h"

#define N_FRAMES	256
#define RACE_SECONDS	3

static const __u8 mac_dev[6] = { 0x02, 0x00, 0x00, 0x00, 0x00, 0x01 };

struct expect {
	__u16 queue;
	__u8 report;
	__u32 hash;
};

static struct {
	__u8 frame[N_FRAMES][256];
	size_t len[N_FRAMES];
	struct expect want[2][N_FRAMES];	/* under config A, config B */
	int prog_fd;
	atomic_int stop;
	atomic_long seen[2], bad, runs, outside;
	char bad_msg[256];
} R;

static void make_config(struct vnet_rss_config *c, int which, unsigned int *seed)
{
	memset(c, 0, sizeof(*c));
	c->hash_types = which ? VNET_HASH_TYPE_IPv4 : VNET_HASH_TYPE_IPv4 | VNET_HASH_TYPE_TCPv4;
	c->table_len = which ? 128 : 64;
	c->unclassified_queue = which ? 2 : 0;
	for (int i = 0; i < c->table_len; i++)
		c->table[i] = (__u16)((which ? 2 : 0) + (test_rand(seed) & 1));
	c->key_len = 40;
	for (int i = 0; i < 40; i++)
		c->key[i] = (__u8)test_rand(seed);
}

static void *traffic(void *arg)
{
	while (!atomic_load(&R.stop)) {
		for (int i = 0; i < N_FRAMES; i++) {
			struct xdp_out out;
			int match = -1;

			if (xdp_run(R.prog_fd, R.frame[i], R.len[i], &out) || !out.has_meta) {
				atomic_fetch_add(&R.bad, 1);
				continue;
			}
			atomic_fetch_add(&R.runs, 1);
			if (out.meta.queue > 3)
				atomic_fetch_add(&R.outside, 1);
			for (int c = 0; c < 2; c++)
				if (out.meta.queue == R.want[c][i].queue &&
				    out.meta.hash == R.want[c][i].hash &&
				    out.meta.report == R.want[c][i].report)
					match = c;
			if (match < 0) {
				if (atomic_fetch_add(&R.bad, 1) == 0)
					snprintf(R.bad_msg, sizeof(R.bad_msg),
						 "frame %d: q %u hash %08x rep %u; A: q %u %08x %u; B: q %u %08x %u",
						 i, out.meta.queue, out.meta.hash, out.meta.report,
						 R.want[0][i].queue, R.want[0][i].hash, R.want[0][i].report,
						 R.want[1][i].queue, R.want[1][i].hash, R.want[1][i].report);
				continue;
			}
			atomic_fetch_add(&R.seen[match], 1);
		}
	}
	return arg;
}

static void test_rss_update_races_traffic(void)
{
	struct vnet_rss_config cfg[2];
	unsigned int seed = 4242;
	pthread_t th[2];
	struct xdp_env e;
	struct timespec t0, t;
	long flips = 0;
	int err;

	err = xdp_env_open(&e, 0);
	EXPECT(!err, "datapath open: %s", strerror(-err));
	if (err)
		return;
	R.prog_fd = e.prog_fd;
	err = vnet_dp_dev_add(e.dp, 0, mac_dev, 4);
	EXPECT(!err, "dev add");
	make_config(&cfg[0], 0, &seed);
	make_config(&cfg[1], 1, &seed);

	for (int i = 0; i < N_FRAMES; i++) {
		struct frame_spec s;

		frame_spec_default(&s);
		memcpy(s.dst_mac, mac_dev, 6);
		s.l4 = IPPROTO_TCP;
		for (int b = 0; b < 4; b++)
			s.src[b] = (__u8)test_rand(&seed), s.dst[b] = (__u8)test_rand(&seed);
		s.sport = (__u16)test_rand(&seed);
		s.dport = (__u16)test_rand(&seed);
		if (i % 16 == 0) {	/* not IP: the unclassified queue */
			s.ip = 0;
			s.ethertype = 0x88b5;
		}
		R.len[i] = frame_build(&s, R.frame[i], sizeof(R.frame[i]));
	}
	/* what the reference says under each configuration */
	for (int c = 0; c < 2; c++) {
		EXPECT(!vnet_dp_set_rss(e.dp, 0, &cfg[c]), "set rss %d", c);
		for (int i = 0; i < N_FRAMES; i++) {
			struct vnet_rx_result ref;

			vnet_rx_classify(vnet_dp_state(e.dp), R.frame[i], R.len[i], &ref);
			R.want[c][i].queue = ref.meta.queue;
			R.want[c][i].hash = ref.meta.hash;
			R.want[c][i].report = ref.meta.report;
		}
	}
	/* the two configurations disagree on every frame */
	for (int i = 0; i < N_FRAMES; i++)
		EXPECT(R.want[0][i].queue != R.want[1][i].queue, "frame %d same queue", i);

	for (int i = 0; i < 2; i++)
		pthread_create(&th[i], NULL, traffic, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		err = vnet_dp_set_rss(e.dp, 0, &cfg[flips & 1 ? 1 : 0]);
		if (err)
			break;
		flips++;
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while (t.tv_sec - t0.tv_sec < RACE_SECONDS);
	atomic_store(&R.stop, 1);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);

	printf("  %ld updates, %ld frames: %ld under A, %ld under B, %ld mixed\n",
	       flips, atomic_load(&R.runs), atomic_load(&R.seen[0]),
	       atomic_load(&R.seen[1]), atomic_load(&R.bad));
	EXPECT(!err, "update failed: %d", err);
	EXPECT(atomic_load(&R.bad) == 0, "%ld frames matched neither configuration: %s",
	       atomic_load(&R.bad), R.bad_msg);
	EXPECT(atomic_load(&R.outside) == 0, "%ld frames outside the old and new queue sets",
	       atomic_load(&R.outside));
	/* the race really happened: both configurations carried traffic */
	EXPECT(flips >= 10 && atomic_load(&R.seen[0]) > 0 && atomic_load(&R.seen[1]) > 0,
	       "no race: %ld flips", flips);
	xdp_env_close(&e);
}

int main(void)
{
	if (geteuid() != 0) {
		printf("SKIP: needs root\n");
		return 4;
	}
	RUN(test_rss_update_races_traffic);
	return test_summary();
}
