// SPDX-License-Identifier: MIT
/*
 * vnet-sim: one vnet/sim device behind a vhost-user socket, without vnetd.
 * Transmitted frames come back to the device's receive side through the
 * reference classifier (rx filter, RSS, hash report). See man/vnet-sim.8.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vnet/device.h"
#include "vnet/log.h"
#include "vnet/sim.h"
#include "vnet/transport.h"
#include "vnet/netutil.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	stop = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: vnet-sim --socket PATH [--client] [--queues N] [--mac MAC]\n"
		"                [--mtu N] [--mode loopback|sink] [--gen] [--cpu N]\n"
		"                [--features HEX] [--stats-file PATH] [-v]\n");
}

/* one JSON line: the device's counters (selftests read it); the negotiated
 * features as a hex string (64 bits exceed a JSON number's 2^53) */
static void write_stats(const char *path, struct vnet_netdev *dev, struct vnet_sim *sim,
			struct vnet_transport *t)
{
	struct vnet_transport_stats v;
	struct vnet_features drv;
	struct vnet_sim_stats s;
	char tmp[4200];
	unsigned int i;
	FILE *f;

	vnet_sim_get_stats(sim, &s);
	t->ops->stats(t, &v);
	vnet_netdev_features(dev, &drv, NULL);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	f = fopen(tmp, "w");
	if (!f)
		return;
	fprintf(f, "{\"tx_frames\":%llu,\"rx_frames\":%llu,\"rx_dropped\":%llu,"
		"\"filtered\":%llu,\"gen_frames\":%llu,\"cvq_ok\":%llu,\"cvq_err\":%llu,"
		"\"hash_reported\":%llu,\"connections\":%llu,\"disconnects\":%llu,"
		"\"bad_messages\":%llu,\"sleeps\":%llu,\"status\":%u,\"features\":\"0x%llx\",\"rxq\":[",
		(unsigned long long)s.tx_frames, (unsigned long long)s.rx_frames,
		(unsigned long long)s.rx_dropped, (unsigned long long)s.filtered,
		(unsigned long long)s.gen_frames, (unsigned long long)s.cvq_ok,
		(unsigned long long)s.cvq_err, (unsigned long long)s.hash_reported,
		(unsigned long long)v.connections, (unsigned long long)v.disconnects,
		(unsigned long long)v.bad_messages, (unsigned long long)s.sleeps,
		vnet_netdev_status(dev),
		(unsigned long long)vnet_features_u64(&drv));
	/* per receive queue: packets placed */
	for (i = 0; i < dev->params.max_vqp; i++) {
		struct vnet_queue_stats qs = { 0 };

		vnet_netdev_queue_stats(dev, 2 * i, &qs);
		fprintf(f, "%s%llu", i ? "," : "", (unsigned long long)qs.packets);
	}
	fprintf(f, "]}\n");
	fclose(f);
	rename(tmp, path);
}

int main(int argc, char **argv)
{
	static const struct option lo[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "client", no_argument, NULL, 'c' },
		{ "queues", required_argument, NULL, 'q' },
		{ "mac", required_argument, NULL, 'm' },
		{ "mtu", required_argument, NULL, 'M' },
		{ "mode", required_argument, NULL, 'o' },
		{ "gen", no_argument, NULL, 'g' },
		{ "cpu", required_argument, NULL, 'C' },
		{ "features", required_argument, NULL, 'f' },
		{ "stats-file", required_argument, NULL, 'S' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct vnet_netdev_params p = {
		.name = "sim0", .mac = { 0x02, 0, 0, 0, 0, 0x01 }, .max_vqp = 1, .mtu = 1500,
		.speed = 10000, .duplex = 1,
	};
	struct vnet_sim_opts so = { .mode = VNET_SIM_LOOPBACK, .cpu = -1 };
	const char *path = NULL, *stats_path = NULL;
	struct vnet_netdev *dev = NULL;
	struct vnet_sim *sim = NULL;
	struct vnet_transport *t = NULL;
	const char *errmsg = NULL;
	bool client = false;
	int c, err, verbose = 0;
	time_t last = 0;

	while ((c = getopt_long(argc, argv, "s:q:vh", lo, NULL)) != -1) {
		switch (c) {
		case 's': path = optarg; break;
		case 'c': client = true; break;
		case 'q': p.max_vqp = (__u16)atoi(optarg); break;
		case 'm':
			if (vnet_mac_parse(optarg, p.mac)) {
				fprintf(stderr, "vnet-sim: bad MAC %s\n", optarg);
				return 2;
			}
			break;
		case 'M': p.mtu = (__u16)atoi(optarg); break;
		case 'o':
			if (!strcmp(optarg, "loopback"))
				so.mode = VNET_SIM_LOOPBACK;
			else if (!strcmp(optarg, "sink"))
				so.mode = VNET_SIM_SINK;
			else {
				fprintf(stderr, "vnet-sim: mode \"%s\" not found\n", optarg);
				return 2;
			}
			break;
		case 'g': so.gen = true; break;
		case 'C': so.cpu = atoi(optarg); break;
		case 'f':
			if (vnet_features_parse(optarg, &p.features)) {
				fprintf(stderr, "vnet-sim: bad feature set %s\n", optarg);
				return 2;
			}
			break;
		case 'S': stats_path = optarg; break;
		case 'v': verbose++; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!path) {
		usage(stderr);
		return 2;
	}
	vnet_log_init("vnet-sim", verbose);
	p.transport = VNET_TRANSPORT_VHOST_USER;
	p.sock_mode = client ? VNET_SOCK_CLIENT : VNET_SOCK_SERVER;
	snprintf(p.socket_path, sizeof(p.socket_path), "%s", path);
	err = vnet_netdev_create(&p, &dev);
	if (err) {
		fprintf(stderr, "vnet-sim: device: %s\n", strerror(-err));
		return 1;
	}
	err = vnet_transport_create(dev, &t, &errmsg);
	if (err) {
		fprintf(stderr, "vnet-sim: vhost-user socket %s: %s (%s)\n", path, errmsg,
			strerror(-err));
		goto out;
	}
	err = vnet_sim_start(dev, &so, &sim);
	if (err) {
		fprintf(stderr, "vnet-sim: worker: %s\n", strerror(-err));
		goto out;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGPIPE, SIG_IGN);
	pr_info("%s: vnet/sim device on %s (%u queue pairs)\n", p.name, path, p.max_vqp);
	while (!stop) {
		struct pollfd pfd = { .fd = t->ops->fd(t), .events = POLLIN };

		/* poll() ignores a negative fd: a transport with its own thread */
		if (poll(&pfd, 1, 200) > 0)
			t->ops->process(t);
		if (stats_path && time(NULL) != last) {
			last = time(NULL);
			write_stats(stats_path, dev, sim, t);
		}
	}
	if (stats_path)
		write_stats(stats_path, dev, sim, t);
	err = 0;
out:
	vnet_sim_stop(sim);
	vnet_transport_destroy(t);
	vnet_netdev_destroy(dev);
	return err ? 1 : 0;
}
