// SPDX-License-Identifier: MIT
/*
 * vnet-xsk-recv: attach the vnet XDP datapath to an uplink (libxdp, native
 * or generic), give it one device, bind an AF_XDP socket (copy mode) to an
 * uplink queue and print every frame it receives as one JSON line with the
 * metadata XDP wrote and what the C reference (rx_filter.c) says about the
 * same frame. Used by selftests/xdp_uplink.sh.
 *
 * --drop SECONDS: count and drop instead, for SECONDS, through vnetd's own
 * socket code (daemon/uplink/xsk.c, same ring sizes) and with vnetd's idle policy
 * (busy-poll 50 us after the last frame, then sleep in poll()); prints one
 * JSON line with the count. This is the AF_XDP receive ceiling of make
 * bench-e2e: the same XDP program and socket as vnetd, no virtio work.
 * --queues N: the sockets of N queues from QUEUE on, a thread each (as
 * vnetd's uplink workers), one line with the sum.
 *
 * --tx SECONDS: the transmit ceiling of make bench-e2e (DIR=tx): the same
 * socket code transmits one 64 B IPv4/UDP frame from MAC, again and
 * again, for SECONDS (or until SIGINT/SIGTERM): every transmit frame of
 * the UMEM is written once at the start, then each round reaps the
 * completions, queues up to TX_BURST free frames and kicks (the kernel
 * sends 32 a sendto in copy mode). No per-frame write, no virtio work:
 * what any AF_XDP design gets out of IF. Prints one JSON line with the
 * frames queued (all of them reached the kernel: the ring is drained
 * before the count is printed).
 *
 *   vnet-xsk-recv -i IF --mac MAC [-m native|skb] [-q QUEUE] [-n COUNT]
 *                 [-t TIMEOUT_MS] [--host-ip A.B.C.D] [--rss PAIRS] [-v]
 *                 [--drop SECONDS [--queues N] | --tx SECONDS]
 */
#include <arpa/inet.h>
#include <errno.h>
#include <getopt.h>
#include <net/if.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vnet/datapath.h"
#include "vnet/log.h"
#include "vnet/rx_filter.h"
#include "vnet/virtq.h"
#include "vnet/xsk.h"
#include "vnet/netutil.h"
#include "xsk_reader.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static int set_rss(struct vnet_dp *dp, unsigned int pairs)
{
	static const __u8 key[40] = {
		0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67,
		0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb,
		0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30,
		0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
	};
	struct vnet_rss_config rss = {
		.hash_types = VNET_HASH_TYPE_ALL, .table_len = 64, .key_len = 40,
	};

	for (unsigned int i = 0; i < rss.table_len; i++)
		rss.table[i] = (__u16)(i % pairs);
	memcpy(rss.key, key, sizeof(key));
	return vnet_dp_set_rss(dp, 0, &rss);
}

static void print_counters(struct vnet_dp *dp, unsigned int slot, const char *name)
{
	struct vnet_dp_counters c;

	if (vnet_dp_read_counters(dp, slot, &c))
		return;
	printf("{\"counters\":\"%s\"", name);
	for (unsigned int i = 0; i < VNET_CNT_HASH_BASE; i++)
		printf(",\"%s\":%llu", vnet_dp_counter_name(i), (unsigned long long)c.c[i]);
	for (unsigned int r = 0; r <= VNET_HASH_REPORT_MAX; r++)
		printf(",\"hash_%s\":%llu", vnet_hash_report_name(r),
		       (unsigned long long)c.c[VNET_CNT_HASH_BASE + r]);
	printf("}\n");
}

#define DROP_BURST	64
#define DROP_POLL_NS	50000ull	/* as vnetd's uplink worker (UP_POLL_NS) */
#define DROP_CLOCK_ROUNDS 32
#define DROP_MAX_QUEUES	64

/* one queue's socket of --drop, served by a thread of its own */
struct drop_q {
	struct vnet_xsk *x;
	__u64 end;
	unsigned long long got, wakeups;
	int err;
	pthread_t tid;
};

/* count and drop until 'end' or a signal, with vnetd's idle policy */
static void *drop_run(void *arg)
{
	struct drop_q *d = arg;
	struct vnet_xsk_rx rx[DROP_BURST];
	__u64 now = vnet_now_ns(), idle_since = 0;
	struct pollfd pfd = { .fd = vnet_xsk_fd(d->x), .events = POLLIN };
	unsigned int empty = 0, n;

	while (!stop && now < d->end) {
		n = vnet_xsk_rx_peek(d->x, rx, DROP_BURST);
		if (n) {
			vnet_xsk_rx_done(d->x, rx, n);
			d->got += n;
			idle_since = 0;
			empty = 0;
			continue;
		}
		if (++empty % DROP_CLOCK_ROUNDS)
			continue;
		now = vnet_now_ns();
		if (!idle_since)
			idle_since = now;
		if (now - idle_since < DROP_POLL_NS)
			continue;
		idle_since = 0;
		d->wakeups++;
		if (poll(&pfd, 1, 100) < 0 && errno != EINTR) {
			d->err = -errno;
			break;
		}
	}
	return NULL;
}

/*
 * --drop: count and drop for secs seconds on the sockets of queues
 * queue .. queue + nq - 1, a thread each (as vnetd's workers, one per
 * uplink queue); one JSON line with the sum. 0 or -errno.
 */
static int drop_loop(struct vnet_dp *dp, const char *ifname, unsigned int queue,
		     unsigned int nq, double secs)
{
	struct drop_q d[DROP_MAX_QUEUES] = { 0 };
	unsigned long long got = 0, wakeups = 0;
	unsigned int i, nx, nt = 0;
	__u64 t0;
	int err = 0;

	for (nx = 0; nx < nq; nx++) {
		err = vnet_xsk_open(ifname, queue + nx, &d[nx].x);
		if (err) {
			pr_warn("AF_XDP socket on %s queue %u: %s\n", ifname, queue + nx,
				strerror(-err));
			goto out;
		}
		err = vnet_dp_set_xsk(dp, queue + nx, vnet_xsk_fd(d[nx].x));
		if (err) {
			nx++;
			goto out;
		}
	}
	printf("{\"ready\":true,\"pid\":%d,\"mode\":\"%s\",\"queues\":%u}\n", (int)getpid(),
	       vnet_dp_attach_mode_name(dp), nq);
	fflush(stdout);
	t0 = vnet_now_ns();
	for (i = 0; i < nq; i++)
		d[i].end = t0 + (__u64)(secs * 1e9);
	/* queue 0's loop on this thread, the others on their own */
	for (nt = 1; nt < nq; nt++) {
		err = -pthread_create(&d[nt].tid, NULL, drop_run, &d[nt]);
		if (err) {
			stop = 1;
			break;
		}
	}
	drop_run(&d[0]);
	for (i = 1; i < nt; i++)
		pthread_join(d[i].tid, NULL);
	for (i = 0; i < nq; i++) {
		got += d[i].got;
		wakeups += d[i].wakeups;
		if (!err)
			err = d[i].err;
	}
	printf("{\"received\":%llu,\"seconds\":%.3f,\"sleeps\":%llu}\n", got,
	       (double)(vnet_now_ns() - t0) / 1e9, wakeups);
	fflush(stdout);
	for (i = 0; i < nq; i++)
		vnet_dp_clear_xsk(dp, queue + i);
out:
	while (nx--)
		vnet_xsk_close(d[nx].x);
	return err;
}

#define TX_BURST	64	/* two kernel batches a kick, as vnetd's bigger rounds */
#define TX_LEN		64	/* without FCS, as DPDK's --txpkts 64 */
#define TX_DRAIN_NS	100000000ull

/* testpmd's txonly frame: IPv4/UDP 198.18.0.1:9 -> 198.18.0.2:9 */
static void tx_frame_build(__u8 *f, const __u8 src[6])
{
	static const __u8 dst[6] = { 0x02, 0, 0, 0, 0, 0 };
	__u8 ip[20] = {
		0x45, 0, 0, TX_LEN - 14, 0, 0, 0, 0, 64, 17, 0, 0,
		198, 18, 0, 1, 198, 18, 0, 2,
	};
	__u32 sum = 0;

	memset(f, 0, TX_LEN);
	memcpy(f, dst, 6);
	memcpy(f + 6, src, 6);
	f[12] = 0x08;
	for (unsigned int i = 0; i < sizeof(ip); i += 2)
		sum += (__u32)ip[i] << 8 | ip[i + 1];
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	ip[10] = (__u8)(~sum >> 8);
	ip[11] = (__u8)~sum;
	memcpy(f + 14, ip, sizeof(ip));
	/* UDP 9 -> 9, checksum 0 (none) */
	f[35] = 9;
	f[37] = 9;
	f[39] = TX_LEN - 14 - 20;
}

/* --tx: transmit for secs seconds on queue's socket; 0 or -errno */
static int tx_loop(const char *ifname, unsigned int queue, const __u8 mac[6], double secs)
{
	__u64 addr[TX_BURST], t0, end, now, all[VNET_XSK_TX_FRAMES];
	__u32 len[TX_BURST];
	unsigned long long rounds = 0;
	struct vnet_xsk_stats st;
	unsigned int n, i, nall = 0;
	struct vnet_xsk *x;
	__u8 *f;
	int err;

	err = vnet_xsk_open(ifname, queue, &x);
	if (err) {
		pr_warn("AF_XDP socket on %s queue %u: %s\n", ifname, queue, strerror(-err));
		return err;
	}
	/* the frame goes into every transmit frame once; they come back as is */
	while (nall < VNET_XSK_TX_FRAMES && (f = vnet_xsk_tx_frame(x, &all[nall]))) {
		tx_frame_build(f, mac);
		nall++;
	}
	for (i = nall; i > 0; i--)
		vnet_xsk_tx_free(x, all[i - 1]);
	for (i = 0; i < TX_BURST; i++)
		len[i] = TX_LEN;
	printf("{\"ready\":true,\"pid\":%d,\"frames\":%u}\n", (int)getpid(), nall);
	fflush(stdout);
	t0 = vnet_now_ns();
	end = t0 + (__u64)(secs * 1e9);
	now = t0;
	while (!stop && now < end) {
		vnet_xsk_tx_complete(x);
		for (n = 0; n < TX_BURST && vnet_xsk_tx_frame(x, &addr[n]); n++)
			;
		vnet_xsk_tx_submit(x, addr, len, n);
		vnet_xsk_tx_kick(x);
		if (!(++rounds % DROP_CLOCK_ROUNDS))
			now = vnet_now_ns();
	}
	now = vnet_now_ns();
	/* what is still in the tx ring reaches the kernel before we count */
	end = now + TX_DRAIN_NS;
	while (vnet_xsk_tx_outstanding(x) && vnet_now_ns() < end) {
		vnet_xsk_tx_kick(x);
		vnet_xsk_tx_complete(x);
	}
	vnet_xsk_get_stats(x, &st);
	printf("{\"sent\":%llu,\"seconds\":%.3f,\"kicks\":%llu,\"kick_errors\":%llu,"
	       "\"left\":%u}\n", (unsigned long long)st.tx_frames, (double)(now - t0) / 1e9,
	       (unsigned long long)st.tx_kicks, (unsigned long long)st.tx_kick_errors,
	       vnet_xsk_tx_outstanding(x));
	fflush(stdout);
	vnet_xsk_close(x);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "mac", required_argument, NULL, 'M' },
		{ "host-ip", required_argument, NULL, 'H' },
		{ "rss", required_argument, NULL, 'R' },
		{ "drop", required_argument, NULL, 'D' },
		{ "tx", required_argument, NULL, 'T' },
		{ "queues", required_argument, NULL, 'Q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct vnet_dp_opts o = { .mode = VNET_DP_ATTACH_NATIVE };
	const char *ifname = NULL;
	unsigned int queue = 0, count = 1, rss_pairs = 0, nq = 1;
	int timeout_ms = 5000, verbose = 0, opt, err, got = 0;
	struct vnet_dp *dp = NULL;
	struct xsk_reader x;
	__u8 mac[6];
	__u32 host_ip = 0;
	int have_mac = 0;
	double drop_secs = 0, tx_secs = 0;
	struct timespec t0, t;

	while ((opt = getopt_long(argc, argv, "i:m:q:n:t:v", lopts, NULL)) != -1) {
		switch (opt) {
		case 'i': ifname = optarg; break;
		case 'm':
			if (!strcmp(optarg, "native"))
				o.mode = VNET_DP_ATTACH_NATIVE;
			else if (!strcmp(optarg, "skb"))
				o.mode = VNET_DP_ATTACH_SKB;
			else
				goto usage;
			break;
		case 'q': queue = (unsigned int)atoi(optarg); break;
		case 'n': count = (unsigned int)atoi(optarg); break;
		case 't': timeout_ms = atoi(optarg); break;
		case 'v': verbose++; break;
		case 'M':
			if (vnet_mac_parse(optarg, mac))
				goto usage;
			have_mac = 1;
			break;
		case 'H':
			if (inet_pton(AF_INET, optarg, &host_ip) != 1)
				goto usage;
			break;
		case 'R': rss_pairs = (unsigned int)atoi(optarg); break;
		case 'D':
			drop_secs = strtod(optarg, NULL);
			if (drop_secs <= 0)
				goto usage;
			break;
		case 'T':
			tx_secs = strtod(optarg, NULL);
			if (tx_secs <= 0)
				goto usage;
			break;
		case 'Q':
			nq = (unsigned int)atoi(optarg);
			if (!nq || nq > DROP_MAX_QUEUES)
				goto usage;
			break;
		case 'h':
			printf("usage: %s -i IF --mac MAC [-m native|skb] [-q QUEUE] [-n COUNT]\n"
			       "          [-t TIMEOUT_MS] [--host-ip A.B.C.D] [--rss PAIRS] [-v]\n"
			       "          [--drop SECONDS [--queues N] | --tx SECONDS]\n", argv[0]);
			return 0;
		default: goto usage;
		}
	}
	if (!ifname || !have_mac || (drop_secs && tx_secs) || (nq > 1 && !drop_secs))
		goto usage;
	vnet_log_init("vnet-xsk-recv", verbose);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);

	o.ifindex = (int)if_nametoindex(ifname);
	if (!o.ifindex) {
		pr_warn("no interface %s\n", ifname);
		return 1;
	}
	err = vnet_dp_open(&o, &dp);
	if (err) {
		pr_warn("datapath: %s\n", strerror(-err));
		return 1;
	}
	err = vnet_dp_dev_add(dp, 0, mac, rss_pairs ? (__u16)rss_pairs : 1);
	if (!err && host_ip)
		err = vnet_dp_add_host_ipv4(dp, host_ip);
	if (!err && rss_pairs)
		err = set_rss(dp, rss_pairs);
	if (err) {
		pr_warn("configure: %s\n", strerror(-err));
		goto out_dp;
	}
	if (tx_secs) {
		/* the uplink as vnetd leaves it (its XDP program, one device) */
		err = tx_loop(ifname, queue, mac, tx_secs);
		goto out_dp;
	}
	if (drop_secs) {
		err = drop_loop(dp, ifname, queue, nq, drop_secs);
		print_counters(dp, 0, "dev0");
		goto out_dp;
	}
	err = xsk_reader_open(&x, ifname, queue);
	if (err) {
		pr_warn("AF_XDP socket on %s queue %u: %s\n", ifname, queue, strerror(-err));
		goto out_dp;
	}
	err = vnet_dp_set_xsk(dp, queue, xsk_reader_fd(&x));
	if (err)
		goto out_xsk;
	printf("{\"ready\":true,\"pid\":%d,\"mode\":\"%s\",\"dispatcher\":%s,\"attach\":\"%s\"}\n",
	       (int)getpid(), vnet_dp_attach_mode_name(dp),
	       vnet_dp_uses_dispatcher(dp) ? "true" : "false", vnet_dp_attach_kind_name(dp));
	fflush(stdout);

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (!stop && (unsigned int)got < count) {
		struct vnet_xdp_meta m;
		struct vnet_rx_result ref;
		__u8 frame[2048];
		long left;
		int n;

		clock_gettime(CLOCK_MONOTONIC, &t);
		left = timeout_ms - ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000);
		if (left <= 0)
			break;
		n = xsk_reader_recv(&x, &m, frame, sizeof(frame), left > 200 ? 200 : (int)left);
		if (n < 0) {
			err = n;
			break;
		}
		if (!n)
			continue;
		got++;
		vnet_rx_classify(vnet_dp_state(dp), frame, (size_t)n, &ref);
		printf("{\"len\":%d,\"magic_ok\":%s,\"dev\":%u,\"queue\":%u,\"hash\":%u,"
		       "\"report\":\"%s\",\"flags\":%u,\"ref_dev\":%u,\"ref_queue\":%u,"
		       "\"ref_hash\":%u,\"ref_report\":\"%s\",\"ref_flags\":%u}\n",
		       n, m.magic == VNET_META_MAGIC ? "true" : "false", m.dev, m.queue,
		       m.hash, vnet_hash_report_name(m.report), m.flags, ref.meta.dev,
		       ref.meta.queue, ref.meta.hash, vnet_hash_report_name(ref.meta.report),
		       ref.meta.flags);
		fflush(stdout);
	}
	print_counters(dp, 0, "dev0");
	print_counters(dp, VNET_DP_UPLINK_SLOT, "uplink");
	vnet_dp_clear_xsk(dp, queue);
out_xsk:
	xsk_reader_close(&x);
out_dp:
	vnet_dp_close(dp);
	return err ? 1 : 0;

usage:
	fprintf(stderr, "usage: %s -i IF --mac MAC [-m native|skb] [-q QUEUE] [-n COUNT]\n"
		"          [-t TIMEOUT_MS] [--host-ip A.B.C.D] [--rss PAIRS] [-v]\n"
		"          [--drop SECONDS [--queues N] | --tx SECONDS]\n", argv[0]);
	return 2;
}
