// SPDX-License-Identifier: MIT
/*
 * vnetd: the vnet daemon. The main thread owns the process lifecycle
 * (signals, start-up, shutdown); all control work -- the netlink server, the
 * registry, the uplink watch -- runs on one epoll "control thread". Datapath
 * workers (the engine) are separate threads the control thread never waits
 * for, so a slow or hostile control client cannot stall packets.
 */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <libgen.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>

#include "vnet/evloop.h"
#include "vnet/log.h"
#include "vnet/nl_server.h"
#include "vnet/registry.h"
#include "vnet/uplink.h"
#include "vnet/uplink_dp.h"

#define DEFAULT_STATE_DIR	"/var/lib/vnetd"
#define DEFAULT_GROUP		"vnet"

struct vnetd {
	int epfd;
	struct vnet_evt stop;		/* eventfd: main asks the loop to end */
	bool stopping;
	struct vnet_registry reg;
	struct vnet_nl_server *srv;
	struct vnet_uplink_watch *watch;
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: vnetd [ OPTIONS ]\n"
		"  -u, --uplink IFNAME     manage uplink IFNAME as mgmtdev vnet/IFNAME (repeatable)\n"
		"  -D, --dedicated-uplink  the uplinks carry no traffic of this host: broadcast and\n"
		"                          multicast devices want go to them alone (default: the\n"
		"                          host keeps every such frame and devices get copies)\n"
		"  -K, --kernel-gro        TCP to devices whose guests take GSO frames is coalesced\n"
		"                          by the uplink's GRO and read from a packet socket\n"
		"                          (the default)\n"
		"  -k, --no-kernel-gro     such TCP goes through AF_XDP frame by frame and vnetd\n"
		"                          coalesces it; the uplink's GRO setting is left alone\n"
		"  -w, --uplink-workers N  worker threads per uplink, 1..%u (default: one per\n"
		"                          uplink rx queue, at most the online CPUs)\n"
		"  -s, --socket PATH       control socket (default %s)\n"
		"  -d, --state-dir DIR     where the device registry is kept (default %s)\n"
		"  -r, --run-dir DIR       default directory of vhost-user sockets\n"
		"                          (default: the control socket's directory)\n"
		"  -g, --group GROUP       group allowed to use the control socket (default %s)\n"
		"  -v, --verbose           more messages (repeat for more)\n"
		"  -h, --help              this text\n", VNET_UPDP_MAX_WORKERS, VNET_NL_DEFAULT_SOCK, DEFAULT_STATE_DIR,
		DEFAULT_GROUP);
}

static void stop_event(struct vnet_evt *ev, unsigned int events)
{
	struct vnetd *d = (struct vnetd *)((char *)ev - offsetof(struct vnetd, stop));
	uint64_t v;

	if (read(ev->fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
		pr_warn("stop eventfd: %s\n", strerror(errno));
	d->stopping = true;
}

static void *control_thread(void *arg)
{
	struct vnetd *d = arg;
	struct epoll_event evs[16];

	while (!d->stopping) {
		int n = epoll_wait(d->epfd, evs, 16, -1);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			pr_warn("epoll_wait: %s\n", strerror(errno));
			break;
		}
		for (int i = 0; i < n; i++) {
			struct vnet_evt *ev = evs[i].data.ptr;

			ev->fn(ev, evs[i].events);
		}
	}
	return NULL;
}

static int mkdir_p(const char *path, mode_t mode)
{
	char buf[4096];

	if (strlen(path) >= sizeof(buf))
		return -ENAMETOOLONG;
	strcpy(buf, path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0755) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, mode) && errno != EEXIST)
		return -errno;
	return 0;
}

static int parse_group(const char *name, gid_t *gid)
{
	struct group *gr;
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(name, &end, 10);
	if (*name && !*end && !errno && v < (gid_t)-1) {
		*gid = v;
		return 0;
	}
	gr = getgrnam(name);
	if (!gr)
		return -ENOENT;
	*gid = gr->gr_gid;
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "uplink", required_argument, NULL, 'u' },
		{ "dedicated-uplink", no_argument, NULL, 'D' },
		{ "kernel-gro", no_argument, NULL, 'K' },
		{ "no-kernel-gro", no_argument, NULL, 'k' },
		{ "uplink-workers", required_argument, NULL, 'w' },
		{ "socket", required_argument, NULL, 's' },
		{ "state-dir", required_argument, NULL, 'd' },
		{ "run-dir", required_argument, NULL, 'r' },
		{ "group", required_argument, NULL, 'g' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *sock = getenv(VNET_NL_SOCK_ENV) ?: VNET_NL_DEFAULT_SOCK;
	const char *state_dir = DEFAULT_STATE_DIR, *run_dir = NULL, *group = NULL;
	const char *uplinks[VNET_MAX_MGMTDEVS];
	struct vnet_nl_server_opts so = { .gid = (gid_t)-1, .mode = 0660 };
	struct epoll_event ee = { .events = EPOLLIN };
	char state_path[4096], sockdir[4096];
	struct vnetd d = { .epfd = -1 };
	int n_uplinks = 0, verbose = 0, opt, err, sig, ret = 1;
	unsigned int up_flags = VNET_UPDP_KGRO, up_workers = 0;
	char *end;
	pthread_t ctl;
	sigset_t sigs;

	while ((opt = getopt_long(argc, argv, "u:DKkw:s:d:r:g:vh", longopts, NULL)) != -1) {
		switch (opt) {
		case 'u':
			if (n_uplinks == VNET_MAX_MGMTDEVS - 1 || !*optarg ||
			    strlen(optarg) >= IFNAMSIZ || strchr(optarg, '/') ||
			    !strcmp(optarg, VNET_MGMT_SIM)) {
				fprintf(stderr, "vnetd: bad uplink \"%s\"\n", optarg);
				return 1;
			}
			uplinks[n_uplinks++] = optarg;
			break;
		case 'D': up_flags |= VNET_UPDP_DEDICATED; break;
		case 'K': up_flags |= VNET_UPDP_KGRO; break;
		case 'k': up_flags &= ~VNET_UPDP_KGRO; break;
		case 'w':
			up_workers = (unsigned int)strtoul(optarg, &end, 10);
			if (*end || !*optarg || !up_workers || up_workers > VNET_UPDP_MAX_WORKERS) {
				fprintf(stderr, "vnetd: bad uplink worker count \"%s\" (1..%u)\n",
					optarg, VNET_UPDP_MAX_WORKERS);
				return 1;
			}
			break;
		case 's': sock = optarg; break;
		case 'd': state_dir = optarg; break;
		case 'r': run_dir = optarg; break;
		case 'g': group = optarg; break;
		case 'v': verbose++; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 1;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "vnetd: unexpected argument \"%s\"\n", argv[optind]);
		usage(stderr);
		return 1;
	}
	vnet_log_init(argv[0], verbose);

	if (parse_group(group ?: DEFAULT_GROUP, &so.gid)) {
		if (group) {
			pr_warn("unknown group \"%s\"\n", group);
			return 1;
		}
		pr_info("no group \"%s\": the control socket is root-only\n", DEFAULT_GROUP);
	}
	snprintf(sockdir, sizeof(sockdir), "%s", sock);
	dirname(sockdir);
	if (!run_dir)
		run_dir = sockdir;
	if (snprintf(state_path, sizeof(state_path), "%s/devices", state_dir) >=
	    (int)sizeof(state_path)) {
		pr_warn("state directory path too long\n");
		return 1;
	}
	err = mkdir_p(state_dir, 0700);
	if (!err)
		err = mkdir_p(sockdir, 0755);
	if (!err && strcmp(run_dir, sockdir))
		err = mkdir_p(run_dir, 0755);
	if (err) {
		pr_warn("cannot create directories: %s\n", strerror(-err));
		return 1;
	}

	/* signals are taken by the main thread alone, synchronously */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);

	d.epfd = epoll_create1(EPOLL_CLOEXEC);
	d.stop.fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	d.stop.fn = stop_event;
	ee.data.ptr = &d.stop;
	if (d.epfd < 0 || d.stop.fd < 0 || epoll_ctl(d.epfd, EPOLL_CTL_ADD, d.stop.fd, &ee)) {
		pr_warn("epoll/eventfd: %s\n", strerror(errno));
		goto out;
	}

	/* devices are served by this loop: their vhost-user fds join d.epfd */
	vnet_registry_init(&d.reg, vnet_netdev_backend(d.epfd), run_dir, state_path);
	for (int i = 0; i < n_uplinks; i++) {
		err = vnet_registry_add_mgmtdev(&d.reg, uplinks[i]);
		if (err && err != -EEXIST) {
			pr_warn("uplink %s: %s\n", uplinks[i], strerror(-err));
			goto out_reg;
		}
		/*
		 * XDP + AF_XDP on the uplink before any device (restored ones
		 * included) is made. An uplink that is absent now, or refuses
		 * XDP, is still managed: its devices count and drop their
		 * frames (datapath none).
		 */
		if (!err) {
			struct vnet_mgmtdev *m = vnet_registry_find_mgmtdev(&d.reg, NULL,
									  uplinks[i]);

			err = vnet_updp_open(uplinks[i], up_flags, up_workers, &m->datapath);
			if (err) {
				m->datapath = NULL;
				pr_warn("uplink %s: no datapath: %s\n", uplinks[i],
					strerror(-err));
			}
		}
	}
	err = vnet_state_load(&d.reg);
	if (err < 0) {
		pr_warn("cannot read %s: %s\n", state_path, strerror(-err));
		goto out_reg;
	}
	err = vnet_uplink_watch_open(&d.watch, &d.reg, d.epfd);
	if (err) {
		pr_warn("cannot watch uplinks: %s\n", strerror(-err));
		goto out_reg;
	}
	so.path = sock;
	err = vnet_nl_server_open(&d.srv, &d.reg, d.epfd, &so);
	if (err) {
		pr_warn("cannot serve %s: %s\n", sock, strerror(-err));
		goto out_watch;
	}
	err = pthread_create(&ctl, NULL, control_thread, &d);
	if (err) {
		pr_warn("cannot start the control thread: %s\n", strerror(err));
		goto out_srv;
	}
	pthread_setname_np(ctl, "vnetd-ctl");
	pr_info("serving %s (%d device(s), %d uplink(s))\n", sock, d.reg.n_devs,
		d.reg.n_mgmt - 1);

	do {
		sig = sigwaitinfo(&sigs, NULL);
	} while (sig < 0 && errno == EINTR);
	pr_info("signal %d: shutting down\n", sig);
	{
		uint64_t one = 1;

		if (write(d.stop.fd, &one, sizeof(one)) != sizeof(one))
			pr_warn("cannot stop the control thread\n");
	}
	pthread_join(ctl, NULL);
	ret = 0;
out_srv:
	vnet_nl_server_close(d.srv);
out_watch:
	vnet_uplink_watch_close(d.watch);
out_reg:
	/*
	 * Devices are stopped, not forgotten: the state file keeps them. Each
	 * one's worker is joined, its front-end disconnected and its server
	 * socket removed. Then the uplinks' workers stop, their sockets close
	 * and XDP is detached: the host's traffic is the host's again.
	 */
	vnet_registry_fini(&d.reg);
	for (int i = 0; i < d.reg.n_mgmt; i++) {
		vnet_updp_close(d.reg.mgmt[i].datapath);
		d.reg.mgmt[i].datapath = NULL;
	}
out:
	if (d.stop.fd >= 0)
		close(d.stop.fd);
	if (d.epfd >= 0)
		close(d.epfd);
	return ret;
}
