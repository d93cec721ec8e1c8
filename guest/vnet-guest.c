// SPDX-License-Identifier: MIT
/*
 * vnet-guest: a vnet device (any vhost-user back-end) as a TAP interface,
 * driven by a userspace virtio-net driver. See man/vnet-guest.8 and
 * guest/guest.h for the layout.
 *
 * Life of a connection ("session"): connect, negotiate (spec 3.1.1),
 * memory + rings, DRIVER_OK, fill receive queues, control queue set-up,
 * then the event loop until SIGTERM (exit 0) or the back-end fails
 * (disconnect, refused message, unanswered control command, NEEDS_RESET):
 * carrier off, say so, reconnect - or with --no-reconnect exit 1.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>

#include "vnet/log.h"
#include "guest.h"

#define BIT(n)		(1ull << (n))
/* rx-mode mirror: at once on rtnetlink events, and periodically as a safety
 * net for what sends no event (SIOCADDMULTI) or an overrun socket */
#define RESYNC_MS	1000

enum ev_type { EV_SOCK = 1, EV_BACKEND, EV_RXCALL, EV_TXCALL, EV_TAP, EV_NL };
#define EV(t, q)	(((__u64)(t) << 32) | (q))

volatile sig_atomic_t guest_stop;
static volatile sig_atomic_t dump_stats, reload, migrated;

static void on_signal(int sig)
{
	if (sig == SIGUSR1)
		dump_stats = 1;
	else if (sig == SIGHUP)
		reload = 1;
	else if (sig == SIGUSR2)
		migrated = 1;
	else
		guest_stop = 1;
}

static void usage(FILE *f)
{
	fprintf(f,
"usage: vnet-guest --socket PATH [OPTIONS]\n"
"  -s, --socket PATH      vhost-user socket of the device (we connect to it)\n"
"  -i, --tap NAME         TAP interface name (default vg%%d)\n"
"  -n, --netns NAME       create the TAP in network namespace NAME\n"
"  -q, --queues N         queue pairs to use (default: all the device has)\n"
"      --rss              configure RSS (RSS_CONFIG)\n"
"      --hash-report      ask for hash reports (HASH_REPORT) and check them\n"
"      --hash-types LIST  ipv4,tcpv4,udpv4,ipv6,tcpv6,udpv6,ip_ex,tcp_ex,udp_ex|all\n"
"      --key HEX          Toeplitz key (default: the Microsoft key)\n"
"      --indir N          indirection table entries (default: the device's max)\n"
"      --no-mrg | --no-csum | --no-tso | --no-ctrl | --no-mq   refuse features\n"
"      --no-guest-tso     refuse GUEST_TSO4/TSO6/ECN (no coalesced receives)\n"
"      --packed           packed virtqueues (VIRTIO_F_RING_PACKED), not split\n"
"      --rx-ring N        receive queue size, a power of 2, 8..1024 (default 256)\n"
"      --nobcast | --nomulti | --nouni | --alluni   fixed rx-mode extras\n"
"      --vlan VID         keep VID in the VLAN filter (besides VLAN devices)\n"
"      --vlan-file PATH   more VIDs from PATH, re-read on SIGHUP (VLAN_ADD/DEL)\n"
"      --resync MS        periodic rx-mode re-sync besides netlink events (1000)\n"
"      --wait SECONDS     give up if no back-end appears in time (default: wait)\n"
"      --no-reconnect     exit 1 when the back-end goes away\n"
"      --cmd-timeout MS   control-command deadline (default 2000)\n"
"      --sink             no TAP: count and drop what the device delivers\n"
"                         (a benchmark consumer; implies --no-ctrl)\n"
"  -j, --json             counters as JSON (SIGUSR1 and at exit)\n"
"  -v, --verbose          more messages\n");
}

static int parse_types(const char *arg, __u32 *out)
{
	static const char *const names[] = { "ipv4", "tcpv4", "udpv4", "ipv6", "tcpv6",
					     "udpv6", "ip_ex", "tcp_ex", "udp_ex" };
	char buf[256], *tok, *save = NULL;
	__u32 mask = 0;
	unsigned int i;

	if (!strcmp(arg, "all")) {
		*out = VNET_HASH_TYPE_ALL;
		return 0;
	}
	snprintf(buf, sizeof(buf), "%s", arg);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		for (i = 0; i < 9; i++)
			if (!strcmp(tok, names[i]))
				break;
		if (i == 9)
			return -EINVAL;
		mask |= 1u << i;
	}
	*out = mask;
	return mask ? 0 : -EINVAL;
}

static int parse_key(const char *s, __u8 *key, __u8 *len)
{
	unsigned int n = 0, b;

	while (*s) {
		if (*s == ':') {
			s++;
			continue;
		}
		if (n == VNET_TOEPLITZ_KEY_MAX || sscanf(s, "%2x", &b) != 1 || !s[1])
			return -EINVAL;
		key[n++] = (__u8)b;
		s += 2;
	}
	*len = (__u8)n;
	return n ? 0 : -EINVAL;
}

static __u64 now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000 + (__u64)ts.tv_nsec / 1000000;
}

static int ep_add(struct guest *g, int fd, __u32 events, __u64 data)
{
	struct epoll_event ev = { .events = events, .data.u64 = data };

	return epoll_ctl(g->epfd, EPOLL_CTL_ADD, fd, &ev) ? -errno : 0;
}

static void tap_rearm(struct guest *g, unsigned int q, bool on)
{
	struct epoll_event ev = { .events = on ? EPOLLIN : 0, .data.u64 = EV(EV_TAP, q) };

	epoll_ctl(g->epfd, EPOLL_CTL_MOD, g->txq[q].tap_fd, &ev);
}

/*
 * The device's MAC moved (an administrator's "vdpa dev set ... mac": the
 * device is being provisioned): the TAP takes it, and the mirror then sends
 * the same address back with MAC_ADDR_SET. The config MAC also follows our
 * own MAC_ADDR_SET (spec 5.1.6.5.2): a MAC we sent ourselves is no news.
 */
static void config_mac_changed(struct guest *g)
{
	const __u8 *mac = g->config;
	int err;

	if (!(g->features & BIT(VIRTIO_NET_F_MAC)) || !memcmp(mac, g->cfg_mac, 6))
		return;
	memcpy(g->cfg_mac, mac, 6);
	if ((mac[0] & 1) || !memcmp(mac, "\0\0\0\0\0\0", 6) ||
	    (g->sent_valid && !memcmp(mac, g->sent.mac, 6)))
		return;
	pr_warn("%s: device MAC now %02x:%02x:%02x:%02x:%02x:%02x\n", g->tap_name,
		mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
	err = tap_set_mac(g, mac);
	if (err)
		pr_warn("%s: cannot take the device's MAC: %s\n", g->tap_name, strerror(-err));
}

/* the config space moved: link status (TAP carrier), MAC, announce, reset */
static int config_changed(struct guest *g)
{
	__u16 status;
	bool up;
	int err;

	g->config_changes++;
	err = vu_check_status(g);
	if (!err)
		err = vu_get_config(g);
	if (err)
		return err;
	config_mac_changed(g);
	status = (__u16)(g->config[6] | g->config[7] << 8);
	if (!(g->features & BIT(VIRTIO_NET_F_STATUS)))
		return 0;
	up = status & VIRTIO_NET_S_LINK_UP;
	if (up != g->link_up) {
		pr_warn("%s: link %s\n", g->tap_name, up ? "up" : "down");
		g->link_up = up;
		tap_set_carrier(g, up);
	}
	/* spec 5.1.6.5.4: send the gratuitous packets, then ANNOUNCE_ACK.
	 * A TAP that cannot send (administratively down) still acks: the
	 * device must not keep asking a driver that has nothing to say. */
	if ((status & VIRTIO_NET_S_ANNOUNCE) && (g->features & BIT(VIRTIO_NET_F_GUEST_ANNOUNCE))) {
		err = tap_announce(g);
		if (err < 0)
			pr_info("%s: announce: %s\n", g->tap_name, strerror(-err));
		else
			pr_info("%s: announced (%d frames)\n", g->tap_name, err);
		return ctrl_announce_ack(g);
	}
	return 0;
}

static int session_setup(struct guest *g)
{
	unsigned int want, q;
	int err;

	err = vu_negotiate(g);
	if (err)
		return err;
	want = g->o.queues ? g->o.queues : g->dev_max_qp;
	g->nqp = (g->features & (BIT(VIRTIO_NET_F_MQ) | BIT(VIRTIO_NET_F_RSS))) ?
		 (want < g->dev_max_qp ? want : g->dev_max_qp) : 1;
	if (g->o.queues > g->nqp)
		pr_warn("device gives %u queue pairs, not %u\n", g->nqp, g->o.queues);
	if (g->o.sink) {
		/* nothing to mirror, nothing to send: the rings are all */
		snprintf(g->tap_name, sizeof(g->tap_name), "sink");
	} else if (!g->ntap) {
		err = tap_open(g);
		if (err) {
			pr_warn("TAP: %s\n", strerror(-err));
			return -ENODEV;
		}
		pr_info("%s: %u queue pairs, features 0x%llx\n", g->tap_name, g->nqp,
			(unsigned long long)g->features);
		err = tap_events_open(g);
		if (err)
			pr_warn("%s: no rtnetlink events (%s): periodic re-sync only\n",
				g->tap_name, strerror(-err));
	} else if (g->nqp != g->ntap) {
		/* the TAP's queues are fixed for its life: same count or give up */
		if (g->nqp < g->ntap) {
			pr_warn("back-end now has %u queue pairs, the TAP %u\n", g->nqp, g->ntap);
			return -ENODEV;
		}
		g->nqp = g->ntap;
	}
	err = g->o.sink ? 0 : tap_set_offloads(g);
	if (err) {
		pr_warn("%s: offloads: %s\n", g->tap_name, strerror(-err));
		return -ENODEV;
	}
	g->has_cvq = g->features & BIT(VIRTIO_NET_F_CTRL_VQ);
	err = guest_mem_init(g);
	if (!err)
		err = guest_rings_init(g);
	if (!err)
		err = vu_setup_rings(g);
	if (!err)
		err = vu_start(g);
	if (err)
		return err;
	for (q = 0; q < g->nqp; q++)
		guest_rx_fill(g, q);
	err = ctrl_setup_queues(g);
	if (err == -EINVAL || err == -EREMOTEIO) {
		pr_warn("queue configuration refused\n");
		return -ENOTSUP;
	}
	if (err)
		return err;
	memcpy(g->cfg_mac, g->config, 6);
	err = ctrl_sync_rxmode(g, true);
	if (err)
		return err;
	tap_set_carrier(g, g->link_up);

	err = ep_add(g, g->sock, EPOLLIN | EPOLLRDHUP, EV(EV_SOCK, 0));
	if (!err && g->backend_fd >= 0)
		err = ep_add(g, g->backend_fd, EPOLLIN, EV(EV_BACKEND, 0));
	if (!err && g->nl_fd >= 0)
		err = ep_add(g, g->nl_fd, EPOLLIN, EV(EV_NL, 0));
	for (q = 0; q < g->nqp && !err; q++) {
		err = ep_add(g, g->rxq[q].call_fd, EPOLLIN, EV(EV_RXCALL, q));
		if (!err)
			err = ep_add(g, g->txq[q].call_fd, EPOLLIN, EV(EV_TXCALL, q));
		if (!err && !g->o.sink)
			err = ep_add(g, g->txq[q].tap_fd, EPOLLIN, EV(EV_TAP, q));
	}
	return err;
}

/* One connection: 0 on SIGTERM, -errno when the back-end failed. */
static int session_run(struct guest *g)
{
	__u64 last_sync = now_ms();

	while (!guest_stop) {
		struct epoll_event evs[32];
		bool sync = false;
		int n, i, err = 0;

		if (dump_stats) {
			dump_stats = 0;
			stats_print(g, g->o.json);
		}
		if (migrated) {
			__u8 mac[6];

			/* as QEMU after a migration: the back-end announces us */
			migrated = 0;
			err = tap_get_mac(g, mac) ?: vu_send_rarp(g, mac);
			if (err)
				pr_warn("%s: SEND_RARP: %s\n", g->tap_name, strerror(-err));
			else
				g->rarps_sent++;
			err = 0;
		}
		if (reload) {
			reload = 0;
			err = tap_load_vlan_file(g);
			if (err)
				pr_warn("%s: %s: %s; VLANs unchanged\n", g->tap_name,
					g->o.vlan_file, strerror(-err));
			else if (g->o.vlan_file)
				pr_info("%s: VLANs re-read from %s\n", g->tap_name, g->o.vlan_file);
			err = 0;
			sync = true;
		}
		n = epoll_wait(g->epfd, evs, 32, sync ? 0 : (int)g->o.resync_ms);
		if (n < 0 && errno != EINTR)
			return -errno;
		for (i = 0; i < n && !err; i++) {
			unsigned int t = (unsigned int)(evs[i].data.u64 >> 32);
			unsigned int q = (unsigned int)evs[i].data.u64;
			bool cc;

			switch (t) {
			case EV_SOCK:
				/* the back-end says nothing unasked: this is a close */
				pr_warn("back-end on %s closed the connection\n", g->o.socket);
				return -ECONNRESET;
			case EV_BACKEND:
				err = vu_backend_event(g, &cc);
				if (!err && cc)
					err = config_changed(g);
				break;
			case EV_RXCALL:
				g->rxq[q].st.calls++;
				err = g->o.sink ? guest_rx_sink(g, q) : guest_rx_poll(g, q);
				break;
			case EV_TXCALL:
				guest_tx_reclaim(g, q);
				if (g->txq[q].blocked && vdriver_num_free(&g->txq[q].vd)) {
					g->txq[q].blocked = false;
					tap_rearm(g, q, true);
				}
				break;
			case EV_TAP:
				guest_tx_poll(g, q);
				if (g->txq[q].blocked)
					tap_rearm(g, q, false);
				break;
			case EV_NL:
				sync |= tap_events_drain(g);
				break;
			}
		}
		if (err)
			return err;
		if (sync || now_ms() - last_sync >= g->o.resync_ms) {
			last_sync = now_ms();
			g->syncs++;
			err = ctrl_sync_rxmode(g, false);
			if (err)
				return err;
		}
	}
	return 0;
}

static void session_end(struct guest *g)
{
	if (g->epfd >= 0)
		close(g->epfd);
	g->epfd = -1;
	vu_close(g);
	guest_rings_fini(g);
	guest_mem_fini(g);
	g->sent_valid = false;
}

static bool fatal(int err)
{
	/* a device we cannot drive, or a TAP we cannot run: retrying won't help */
	return err == -ENOTSUP || err == -ENODEV || err == -EINVAL || err == -ENAMETOOLONG;
}

int main(int argc, char **argv)
{
	enum { O_RSS = 256, O_HASH, O_TYPES, O_KEY, O_INDIR, O_NOMRG, O_NOCSUM, O_NOTSO, O_NOGTSO,
	       O_NOCTRL, O_NOMQ, O_NOBCAST, O_NOMULTI, O_NOUNI, O_ALLUNI, O_WAIT,
	       O_NORECONNECT, O_CMDTMO, O_VLAN, O_VLANFILE, O_RESYNC, O_SINK,
	       O_PACKED, O_RXRING };
	static const struct option lo[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "tap", required_argument, NULL, 'i' },
		{ "netns", required_argument, NULL, 'n' },
		{ "queues", required_argument, NULL, 'q' },
		{ "rss", no_argument, NULL, O_RSS },
		{ "hash-report", no_argument, NULL, O_HASH },
		{ "hash-types", required_argument, NULL, O_TYPES },
		{ "key", required_argument, NULL, O_KEY },
		{ "indir", required_argument, NULL, O_INDIR },
		{ "no-mrg", no_argument, NULL, O_NOMRG },
		{ "no-csum", no_argument, NULL, O_NOCSUM },
		{ "no-tso", no_argument, NULL, O_NOTSO },
		{ "no-guest-tso", no_argument, NULL, O_NOGTSO },
		{ "no-ctrl", no_argument, NULL, O_NOCTRL },
		{ "no-mq", no_argument, NULL, O_NOMQ },
		{ "nobcast", no_argument, NULL, O_NOBCAST },
		{ "nomulti", no_argument, NULL, O_NOMULTI },
		{ "nouni", no_argument, NULL, O_NOUNI },
		{ "alluni", no_argument, NULL, O_ALLUNI },
		{ "wait", required_argument, NULL, O_WAIT },
		{ "no-reconnect", no_argument, NULL, O_NORECONNECT },
		{ "cmd-timeout", required_argument, NULL, O_CMDTMO },
		{ "vlan", required_argument, NULL, O_VLAN },
		{ "vlan-file", required_argument, NULL, O_VLANFILE },
		{ "resync", required_argument, NULL, O_RESYNC },
		{ "sink", no_argument, NULL, O_SINK },
		{ "rx-ring", required_argument, NULL, O_RXRING },
		{ "packed", no_argument, NULL, O_PACKED },
		{ "json", no_argument, NULL, 'j' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	static struct guest g;	/* large: scratch buffer */
	struct sigaction sa = { .sa_handler = on_signal };
	int c, err, verbose = 0, rc = 0;
	bool first = true;

	g.o.tap_name = "vg%d";
	g.o.hash_types = VNET_HASH_TYPE_ALL;
	g.o.cmd_timeout_ms = 2000;
	g.o.resync_ms = RESYNC_MS;
	g.o.rx_ring = GUEST_RX_RING;
	g.sock = g.backend_fd = g.mem_fd = g.epfd = g.nl_fd = -1;
	for (c = 0; c < GUEST_MAX_QP; c++) {
		g.rxq[c].kick_fd = g.rxq[c].call_fd = -1;
		g.txq[c].kick_fd = g.txq[c].call_fd = -1;
	}
	g.cvq.kick_fd = g.cvq.call_fd = -1;
	while ((c = getopt_long(argc, argv, "s:i:n:q:jvh", lo, NULL)) != -1) {
		switch (c) {
		case 's': g.o.socket = optarg; break;
		case 'i': g.o.tap_name = optarg; break;
		case 'n': g.o.netns = optarg; break;
		case 'q':
			g.o.queues = (unsigned int)atoi(optarg);
			if (!g.o.queues || g.o.queues > GUEST_MAX_QP) {
				fprintf(stderr, "vnet-guest: queues 1..%u\n", GUEST_MAX_QP);
				return 2;
			}
			break;
		case O_RSS: g.o.rss = true; break;
		case O_HASH: g.o.hash_report = true; break;
		case O_TYPES:
			if (parse_types(optarg, &g.o.hash_types)) {
				fprintf(stderr, "vnet-guest: bad hash types \"%s\"\n", optarg);
				return 2;
			}
			break;
		case O_KEY:
			if (parse_key(optarg, g.o.key, &g.o.key_len)) {
				fprintf(stderr, "vnet-guest: bad key \"%s\"\n", optarg);
				return 2;
			}
			break;
		case O_INDIR: g.o.indir_len = (__u16)atoi(optarg); break;
		case O_NOMRG: g.o.no_mrg = true; break;
		case O_NOCSUM: g.o.no_csum = true; break;
		case O_NOTSO: g.o.no_tso = true; break;
		case O_NOGTSO: g.o.no_guest_tso = true; break;
		case O_NOCTRL: g.o.no_ctrl = true; break;
		case O_NOMQ: g.o.no_mq = true; break;
		case O_PACKED: g.o.packed = true; break;
		case O_NOBCAST: g.o.nobcast = true; break;
		case O_NOMULTI: g.o.nomulti = true; break;
		case O_NOUNI: g.o.nouni = true; break;
		case O_ALLUNI: g.o.alluni = true; break;
		case O_WAIT: g.o.wait_s = (unsigned int)atoi(optarg); break;
		case O_NORECONNECT: g.o.no_reconnect = true; break;
		case O_RXRING: {
			char *end;
			unsigned long n = strtoul(optarg, &end, 10);

			if (*end || n < GUEST_RX_RING_MIN || n > GUEST_RX_RING_MAX || (n & (n - 1))) {
				fprintf(stderr, "vnet-guest: --rx-ring: a power of 2, %u..%u\n",
					GUEST_RX_RING_MIN, GUEST_RX_RING_MAX);
				return 2;
			}
			g.o.rx_ring = (unsigned int)n;
			break;
		}
		case O_CMDTMO: g.o.cmd_timeout_ms = (unsigned int)atoi(optarg); break;
		case O_VLAN: {
			unsigned int vid = (unsigned int)atoi(optarg);

			if (!vid || vid >= VNET_VLAN_N) {
				fprintf(stderr, "vnet-guest: VLAN 1..4095\n");
				return 2;
			}
			g.o.vlans[vid / 32] |= 1u << (vid % 32);
			break;
		}
		case O_VLANFILE: g.o.vlan_file = optarg; break;
		case O_RESYNC:
			g.o.resync_ms = (unsigned int)atoi(optarg);
			if (g.o.resync_ms < 10) {
				fprintf(stderr, "vnet-guest: --resync takes at least 10 ms\n");
				return 2;
			}
			break;
		case O_SINK:
			/* no TAP to mirror an rx mode from: the device's own MAC */
			g.o.sink = true;
			g.o.no_ctrl = true;
			break;
		case 'j': g.o.json = true; break;
		case 'v': verbose++; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!g.o.socket || optind != argc) {
		usage(stderr);
		return 2;
	}
	vnet_log_init("vnet-guest", verbose);
	/* no SA_RESTART: a signal interrupts epoll_wait and connect waits */
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGUSR1, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	sigaction(SIGUSR2, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	err = tap_load_vlan_file(&g);
	if (err) {
		fprintf(stderr, "vnet-guest: %s: %s\n", g.o.vlan_file, strerror(-err));
		return 2;
	}
	if (g.o.netns) {
		err = enter_netns(g.o.netns);
		if (err) {
			fprintf(stderr, "vnet-guest: netns %s: %s\n", g.o.netns, strerror(-err));
			return 1;
		}
	}
	while (!guest_stop) {
		err = vu_connect(&g, first || g.o.wait_s ? g.o.wait_s : 0);
		if (err) {
			if (err != -EINTR) {
				pr_warn("no back-end on %s: %s\n", g.o.socket, strerror(-err));
				rc = 1;
			}
			break;
		}
		g.connects++;
		g.epfd = epoll_create1(EPOLL_CLOEXEC);
		err = g.epfd < 0 ? -errno : session_setup(&g);
		if (!err) {
			if (!first)
				pr_warn("%s: reconnected to %s\n", g.tap_name, g.o.socket);
			first = false;
			err = session_run(&g);
		}
		session_end(&g);
		if (!err || guest_stop)
			break;
		g.disconnects++;
		tap_set_carrier(&g, false);
		if (fatal(err)) {
			pr_warn("cannot drive the device on %s: %s\n", g.o.socket, strerror(-err));
			rc = 1;
			break;
		}
		if (g.o.no_reconnect) {
			pr_warn("back-end on %s failed: %s; exiting (--no-reconnect)\n",
				g.o.socket, strerror(-err));
			rc = 1;
			break;
		}
		pr_warn("back-end on %s failed: %s; carrier off, reconnecting\n", g.o.socket,
			strerror(-err));
		usleep(100 * 1000);
	}
	stats_print(&g, g.o.json);
	if (g.nl_fd >= 0)
		close(g.nl_fd);
	tap_close(&g);
	return rc;
}
