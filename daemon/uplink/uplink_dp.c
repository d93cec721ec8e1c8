// SPDX-License-Identifier: MIT
/*
 * The uplink datapath's life cycle (include/vnet/uplink_dp.h; how the
 * files divide the rest: uplink_int.h). The control thread opens an
 * uplink, attaches its datapath to the netdev of that name (XDP program,
 * one AF_XDP socket per rx queue, unless DEDICATED the packet socket and
 * the host port) and detaches it when the netdev goes, adds and removes
 * ports; the worker (uplink_worker.c) runs the rest.
 */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>

#include "uplink_int.h"
#include "vnet/log.h"
#include "vnet/netutil.h"

static unsigned int uplink_rx_queues(const char *ifname)
{
	char path[128];
	struct dirent *de;
	unsigned int n = 0;
	DIR *d;

	snprintf(path, sizeof(path), "/sys/class/net/%s/queues", ifname);
	d = opendir(path);
	if (!d)
		return 1;
	while ((de = readdir(d)))
		if (!strncmp(de->d_name, "rx-", 3))
			n++;
	closedir(d);
	if (!n)
		n = 1;
	return n > VNET_DP_MAX_QUEUES ? VNET_DP_MAX_QUEUES : n;
}

/* The control thread: every worker between two of its rounds, by id. */
static void lock_all(struct vnet_updp *up)
{
	for (unsigned int i = 0; i < up->nwk; i++)
		vnet_worker_lock_ctl(&up->wk[i]->lock, &up->wk[i]->ctl_waiting);
}

static void unlock_all(struct vnet_updp *up)
{
	for (unsigned int i = up->nwk; i--;)
		pthread_mutex_unlock(&up->wk[i]->lock);
}

/* Worker 0, its own lock held: the others, in the same order. */
void updp_lock_others(struct vnet_updp *up)
{
	for (unsigned int i = 1; i < up->nwk; i++)
		vnet_worker_lock_ctl(&up->wk[i]->lock, &up->wk[i]->ctl_waiting);
}

void updp_unlock_others(struct vnet_updp *up)
{
	for (unsigned int i = up->nwk; i-- > 1;)
		pthread_mutex_unlock(&up->wk[i]->lock);
}

static void wake_all(struct vnet_updp *up)
{
	for (unsigned int i = 0; i < up->nwk; i++)
		vnet_worker_wake(&up->wk[i]->w);
}

/*
 * A vnetd that died (kill -9) left its program attached directly (the
 * fallback when libxdp has no dispatcher), and a second direct attach is
 * refused: take the uplink back, but only from our own program.
 */
static void detach_stale(const char *ifname, int ifindex)
{
	static const __u32 modes[] = { XDP_FLAGS_DRV_MODE, XDP_FLAGS_SKB_MODE };

	for (unsigned int i = 0; i < sizeof(modes) / sizeof(modes[0]); i++) {
		struct bpf_prog_info info = { 0 };
		__u32 id = 0, len = sizeof(info);
		int fd;

		if (bpf_xdp_query_id(ifindex, (int)modes[i], &id) || !id)
			continue;
		fd = bpf_prog_get_fd_by_id(id);
		if (fd < 0)
			continue;
		if (!bpf_obj_get_info_by_fd(fd, &info, &len) &&
		    !strcmp(info.name, "vnet_xdp_rx") &&
		    !bpf_xdp_detach(ifindex, (int)modes[i], NULL))
			pr_info("%s: detached a stale vnet XDP program (id %u)\n", ifname, id);
		close(fd);
	}
	/* and the host port's TC filter of a vnetd that was killed */
	if (!vnet_host_port_detach_stale(ifindex))
		pr_info("%s: removed a stale vnet host-port TC filter\n", ifname);
}

/*
 * Everything that belongs to one netdev of the uplink goes: the host port
 * and the packet socket (their totals logged), the AF_XDP sockets, the XDP
 * program (detached unless the netdev took it with it). The ports stay;
 * the maps they had are gone with the program, so a later attach pushes
 * their whole state again. Control thread, every worker's lock held (or
 * no worker runs).
 */
static void up_detach(struct vnet_updp *up)
{
	struct vnet_pktring_stats ps;
	unsigned int i;
	__u64 mask;

	for (i = 0; i < up->nwk; i++) {
		updp_xsk_watch(up->wk[i], false);
		up->wk[i]->sock_error = false;
	}
	if (up->kgro) {
		for (i = 0; i < up->nwk; i++)
			epoll_ctl(up->wk[i]->w.epfd, EPOLL_CTL_DEL, updp_kgro_fd(up, i), NULL);
		updp_kgro_close(up);
	}
	updp_gso_close(up);
	if (up->hport) {
		struct vnet_host_port_stats hs;

		vnet_host_port_stats(up->hport, &hs);
		pr_info("%s: host port: %llu frames to the host (%llu refused), %llu from it, "
			"%llu copies to devices, %llu wanted by none\n", up->ifname,
			(unsigned long long)hs.to_host, (unsigned long long)hs.errors,
			(unsigned long long)hs.from_host, (unsigned long long)up->host_copies,
			(unsigned long long)up->host_nobody);
		epoll_ctl(up->wk[0]->w.epfd, EPOLL_CTL_DEL, vnet_host_port_fd(up->hport), NULL);
		/* filters first: from here on the host's frames go to the wire */
		vnet_host_port_close(up->hport);
		up->hport = NULL;
		up->host_frames = up->host_copies = up->host_nobody = 0;
	}
	free(up->hbuf);
	up->hbuf = NULL;
	if (up->pkt) {
		vnet_pktring_stats(up->pkt, &ps);
		pr_info("%s: host group frames: %llu read, %llu copies to devices, %llu wanted by "
			"none, %llu malformed, %llu cut, %llu lost in the ring\n", up->ifname,
			(unsigned long long)up->grp_frames, (unsigned long long)up->grp_copies,
			(unsigned long long)up->grp_nobody, (unsigned long long)up->grp_malformed,
			(unsigned long long)ps.dropped, (unsigned long long)ps.kernel_drops);
		epoll_ctl(up->wk[0]->w.epfd, EPOLL_CTL_DEL, vnet_pktring_fd(up->pkt), NULL);
		/* the program may still run: group frames go to the host alone
		 * from here on, as they would with no vnetd at all */
		vnet_pktring_close(up->pkt);
		up->pkt = NULL;
		up->grp_frames = up->grp_copies = up->grp_nobody = up->grp_malformed = 0;
	}
	for (i = 0; i < up->nxsk; i++) {
		struct vnet_xsk_stats xs;

		vnet_xsk_get_stats(up->xsk[i], &xs);
		pr_info("%s: queue %u (worker %u): %llu frames received, %llu sent\n",
			up->ifname, i, i % up->nwk, (unsigned long long)xs.rx_frames,
			(unsigned long long)xs.tx_frames);
		/* the engine's output buffers of the last round were UMEM frames */
		for (unsigned int k = 0; k < UP_BURST; k++)
			up->txq[i].txb[k].data = NULL;
		vnet_dp_clear_xsk(up->dp, i);
		vnet_xsk_close(up->xsk[i]);
		up->xsk[i] = NULL;
	}
	up->nxsk = 0;
	/* detaches the program from the uplink, if the uplink still has it */
	vnet_dp_close(up->dp);
	up->dp = NULL;
	up->nhost4 = 0;
	up->attached = false;
	for (mask = up->port_mask; mask; mask &= mask - 1)
		up->ports[__builtin_ctzll(mask)]->pushed_valid = false;
}

/*
 * Host and devices reach each other through the host port (host_port.h).
 * Only with HOST_SHARED: the devices' group frames the port hands to the
 * host come back through the packet socket, which updp_run_pkt() recognises.
 * Without the port (no TUN, no TC) the uplink works as before: the host's
 * traffic to a device goes out to the wire and is lost there.
 */
static void host_port_start(struct vnet_updp *up)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = EV_HOST };
	int err;

	up->hbuf = malloc((size_t)UP_HOST_BURST * UP_HOST_FRAME);
	err = up->hbuf ? vnet_host_port_open(up->ifindex, vnet_dp_mac_devs_fd(up->dp),
					     &up->hport) : -ENOMEM;
	if (!err && epoll_ctl(up->wk[0]->w.epfd, EPOLL_CTL_ADD, vnet_host_port_fd(up->hport), &ev))
		err = -errno;
	if (err) {
		pr_warn("%s: no host port (%s): the host cannot reach the devices on it\n",
			up->ifname, strerror(-err));
		vnet_host_port_close(up->hport);
		up->hport = NULL;
		free(up->hbuf);
		up->hbuf = NULL;
	}
}

/*
 * The host shares the uplink: the packet socket first, then the flag, so no
 * group frame passed to the host misses its copy. Without the socket
 * (old kernel) the uplink stays in the dedicated mode and says so.
 */
static void host_share_start(struct vnet_updp *up)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = EV_PKT };
	int err;

	err = vnet_pktring_open(up->ifindex, &up->pkt);
	if (!err && epoll_ctl(up->wk[0]->w.epfd, EPOLL_CTL_ADD, vnet_pktring_fd(up->pkt), &ev))
		err = -errno;
	if (!err)
		err = vnet_dp_set_host_shared(up->dp, 1);
	if (err) {
		pr_warn("%s: no packet socket for the host's group frames (%s): devices that "
			"want broadcast/multicast take them from the host\n", up->ifname,
			strerror(-err));
		if (up->pkt)
			epoll_ctl(up->wk[0]->w.epfd, EPOLL_CTL_DEL, vnet_pktring_fd(up->pkt), NULL);
		vnet_pktring_close(up->pkt);
		up->pkt = NULL;
		return;
	}
	host_port_start(up);
}

/*
 * VNET_UPDP_KGRO: the devices' TCP coalesced by the uplink's GRO, read
 * from a packet socket per worker (uplink_kgro.c), each in its worker's
 * epoll set. Without them (no TC, an old kernel) TCP takes the AF_XDP
 * path like everything else, and vnetd says so.
 */
static void kgro_start(struct vnet_updp *up)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = EV_KGRO };
	int err = updp_kgro_open(up);
	unsigned int i;

	for (i = 0; !err && i < up->nwk; i++) {
		if (!epoll_ctl(up->wk[i]->w.epfd, EPOLL_CTL_ADD, updp_kgro_fd(up, i), &ev))
			continue;
		err = -errno;
		while (i--)
			epoll_ctl(up->wk[i]->w.epfd, EPOLL_CTL_DEL, updp_kgro_fd(up, i), NULL);
		updp_kgro_close(up);
	}
	if (err)
		pr_warn("%s: no kernel GRO path (%s): TCP to the devices through AF_XDP\n",
			up->ifname, strerror(-err));
}

/* A port's device joins the maps of a new program in its reset state. */
static int port_attach(struct vnet_updp *up, struct up_port *p)
{
	struct vnet_netdev *dev = p->dev;

	p->pushed_valid = false;
	p->push_failed = false;
	return vnet_dp_dev_add(up->dp, p->slot, dev->params.mac, dev->params.max_vqp);
}

/*
 * The uplink's netdev 'ifindex' gets the datapath: XDP program (native,
 * else generic; datapath.c), one AF_XDP socket per rx queue, the host's
 * addresses, unless DEDICATED the packet socket and the host port, and
 * every port's device in the maps (worker 0 pushes their state on its
 * next round). All or nothing. Control thread, every worker's lock held
 * (or no worker runs).
 */
static int up_attach(struct vnet_updp *up, int ifindex)
{
	struct vnet_dp_opts o = { .mode = VNET_DP_ATTACH_NATIVE, .ifindex = ifindex };
	unsigned int i, nq;
	__u64 mask;
	int err;

	up->ifindex = ifindex;
	detach_stale(up->ifname, ifindex);
	/* jumbo frames: multi-buffer where the uplink's MTU needs it */
	up->frame_want = up->frame_max = updp_frame_max(up->ifname, true);
	o.frags = up->frame_max != 0;
	/* native XDP first, generic as the fallback (datapath.c) */
	err = vnet_dp_open(&o, &up->dp);
	if (err) {
		up->dp = NULL;
		return err;
	}
	/* the kernel delivers a frame only to the socket of its queue
	 * (xsk_rcv_check): one socket per uplink rx queue */
	nq = uplink_rx_queues(up->ifname);
	for (i = 0; i < nq; i++) {
		err = updp_xsk_open(up->ifname, i, up->frame_max, &up->xsk[i]);
		if (err) {
			pr_warn("%s: AF_XDP socket on queue %u: %s\n", up->ifname, i,
				strerror(-err));
			goto err_detach;
		}
		up->nxsk = i + 1;
		err = vnet_dp_set_xsk(up->dp, i, vnet_xsk_fd(up->xsk[i]));
		if (err)
			goto err_detach;
		/* in the epoll set only while the worker sleeps: updp_xsk_watch() */
	}
	for (mask = up->port_mask; mask; mask &= mask - 1) {
		err = port_attach(up, up->ports[__builtin_ctzll(mask)]);
		if (err)
			goto err_detach;
	}
	if (!(up->flags & VNET_UPDP_DEDICATED))
		host_share_start(up);
	err = updp_gso_open(up);
	if (err)
		pr_warn("%s: no packet socket for GSO sends (%s): segmented in software\n",
			up->ifname, strerror(-err));
	if (up->flags & VNET_UPDP_KGRO)
		kgro_start(up);
	updp_scan_host_addrs(up);
	up->last_scan = vnet_now_ns();
	up->attached = true;
	/* multi-buffer only if every socket got it: the bound is the smallest */
	for (i = 0; i < up->nxsk && up->frame_max; i++)
		if (!vnet_xsk_is_sg(up->xsk[i]))
			up->frame_max = 0;
	pr_info("%s: uplink datapath: XDP %s, %u AF_XDP socket(s), %u worker(s), copy mode, %s, "
		"GSO sends %s, TCP to GSO guests %s, frames up to %u bytes%s\n", up->ifname,
		vnet_dp_attach_mode_name(up->dp), up->nxsk, up->nwk,
		up->pkt ? "group frames shared with the host" : "dedicated uplink",
		up->wk[0]->gso ? "whole to the kernel" : "segmented in software",
		up->kgro ? "coalesced by the kernel (packet socket)" : "through AF_XDP",
		up->frame_max ? up->frame_max : VNET_XSK_RX_FRAME_MAX,
		up->frame_max ? " (multi-buffer)" : "");
	if (up->nxsk < up->nwk)
		pr_warn("%s: %u queue(s) for %u workers: the transmit queues of workers %u.. "
			"have no socket and drop their frames\n", up->ifname, up->nxsk, up->nwk,
			up->nxsk);
	return 0;

err_detach:
	up_detach(up);
	return err;
}

_Static_assert(UP_MAX_WORKERS == VNET_UPDP_MAX_WORKERS, "uplink workers");

static void wk_free(struct up_wk *wk)
{
	vnet_worker_fini(&wk->w);
	free(wk->discard);
	free(wk->sg_buf);
	pthread_mutex_destroy(&wk->lock);
	free(wk);
}

static void up_free(struct vnet_updp *up)
{
	unsigned int i;

	for (i = 0; i < up->nwk; i++)
		vnet_worker_stop(&up->wk[i]->w);
	up_detach(up);
	for (i = 0; i < up->nwk; i++)
		wk_free(up->wk[i]);
	free(up);
}

static int wk_new(struct vnet_updp *up, unsigned int id)
{
	struct up_wk *wk = calloc(1, sizeof(*wk));
	int err;

	if (!wk)
		return -ENOMEM;
	wk->up = up;
	wk->id = id;
	pthread_mutex_init(&wk->lock, NULL);
	err = vnet_worker_init(&wk->w, &updp_loop_ops, wk, &wk->ctl_waiting);
	if (err) {
		pthread_mutex_destroy(&wk->lock);
		free(wk);
		return err;
	}
	wk->discard = malloc((size_t)UP_BURST * VNET_XSK_FRAME_SIZE);
	/* its own gather slots: two workers never share one (uplink_rx.c) */
	wk->sg_buf = malloc((size_t)UP_SG_SLOTS * VNET_XSK_SG_FRAME_MAX);
	if (!wk->discard || !wk->sg_buf) {
		wk_free(wk);
		return -ENOMEM;
	}
	up->wk[up->nwk++] = wk;
	return 0;
}

/*
 * How many workers: asked for, else one per uplink rx queue up to the
 * online CPUs (a worker busy-polls while there is work: more of them than
 * CPUs would only take turns).
 */
static unsigned int workers_default(const char *ifname, unsigned int want)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned int n = want;

	if (!n) {
		n = if_nametoindex(ifname) ? uplink_rx_queues(ifname) : 1;
		if (ncpu > 0 && n > (unsigned long)ncpu)
			n = (unsigned int)ncpu;
	}
	return n > UP_MAX_WORKERS ? UP_MAX_WORKERS : n ? n : 1;
}

int vnet_updp_open(const char *ifname, unsigned int flags, unsigned int workers,
		   struct vnet_updp **out)
{
	struct vnet_updp *up;
	unsigned int i, n;
	int err, ifindex;
	char name[32];		/* "vnetd-uplink15": a thread name fits 15 */

	if (strlen(ifname) >= IFNAMSIZ || workers > UP_MAX_WORKERS)
		return -EINVAL;
	up = calloc(1, sizeof(*up));
	if (!up)
		return -ENOMEM;
	snprintf(up->ifname, sizeof(up->ifname), "%s", ifname);
	up->flags = flags;
	n = workers_default(ifname, workers);
	for (i = 0; i < n; i++) {
		err = wk_new(up, i);
		if (err)
			goto err_free;
	}
	/*
	 * An uplink that is not there yet is managed all the same: its
	 * devices are ports with link down, and the datapath attaches when
	 * the uplink watch sees it appear (vnet_updp_set_link). One that is
	 * there and refuses XDP is an error: its devices get no datapath.
	 */
	ifindex = (int)if_nametoindex(ifname);
	if (ifindex) {
		err = up_attach(up, ifindex);
		if (err)
			goto err_free;
	} else {
		pr_info("%s: uplink absent: its datapath attaches when it appears\n", ifname);
	}
	for (i = 0; i < up->nwk; i++) {
		snprintf(name, sizeof(name), "vnetd-uplink%u", i);
		err = vnet_worker_start(&up->wk[i]->w, name, -1);
		if (err)
			goto err_free;
	}
	*out = up;
	return 0;

err_free:
	up_free(up);
	return err;
}

unsigned int vnet_updp_workers(const struct vnet_updp *up)
{
	return up->nwk;
}

unsigned int vnet_updp_queue_stats(struct vnet_updp *up, __u64 (*q)[4], unsigned int max)
{
	struct vnet_xsk_stats xs;
	unsigned int i;

	lock_all(up);
	for (i = 0; i < up->nxsk && i < max; i++) {
		vnet_xsk_get_stats(up->xsk[i], &xs);
		q[i][0] = i;
		q[i][1] = i % up->nwk;
		q[i][2] = xs.rx_frames;
		q[i][3] = xs.tx_frames;
	}
	unlock_all(up);
	return i;
}

unsigned int vnet_updp_drop_stats(struct vnet_updp *up, __u64 (*qd)[VNET_UPDP_QDROPS],
				  unsigned int maxq, unsigned int *nqd,
				  __u64 (*wd)[VNET_UPDP_WDROPS], unsigned int maxw)
{
	__u64 too_long[VNET_DP_MAX_QUEUES];
	struct vnet_xsk_kstats ks;
	struct vnet_xsk_stats xs;
	unsigned int i, n = 0, nw;

	/* what the workers count, between two of their rounds */
	lock_all(up);
	for (nw = 0; nw < up->nwk && nw < maxw; nw++) {
		const struct up_wk *wk = up->wk[nw];

		wd[nw][0] = nw;
		wd[nw][1] = wk->rx_bad_meta;
		wd[nw][2] = wk->rx_no_port;
		wd[nw][3] = wk->rx_over_mtu;
	}
	for (i = 0; i < up->nxsk; i++) {
		vnet_xsk_get_stats(up->xsk[i], &xs);
		too_long[i] = xs.rx_too_long;
	}
	unlock_all(up);
	/* the kernel's: a system call each, without holding the workers
	 * (the sockets change only on this thread) */
	for (i = 0; i < up->nxsk && n < maxq; i++) {
		_Static_assert(sizeof(ks) / sizeof(__u64) == VNET_UPDP_QDROPS - 2,
			       "XDP_STATISTICS fields");
		if (vnet_xsk_kernel_stats(up->xsk[i], &ks))
			memset(&ks, 0, sizeof(ks));
		if (!too_long[i] && !memcmp(&ks, &(struct vnet_xsk_kstats){ 0 }, sizeof(ks)))
			continue;	/* nothing dropped: not shown */
		qd[n][0] = i;
		qd[n][1] = too_long[i];
		memcpy(&qd[n][2], &ks, sizeof(ks));
		n++;
	}
	*nqd = n;
	return nw;
}

/*
 * The uplink watch's view of the netdev: 'ifindex' (0: no netdev of that
 * name). Gone: the datapath is detached and the worker sleeps. There (again,
 * or a new netdev under the old name): the datapath is attached to it.
 * The program still on the same netdev: nothing to do.
 */
int vnet_updp_set_link(struct vnet_updp *up, int ifindex)
{
	bool same = up->attached && ifindex == up->ifindex && vnet_dp_is_attached(up->dp);
	unsigned int ndev;
	int err = 0;

	/* the same netdev, still running our program, its MTU not moved
	 * across what the datapath was made for (uplink_jumbo.c) */
	if (same && updp_frame_max(up->ifname, false) == up->frame_want)
		return 0;
	/* nothing to detach; or a netdev that refused us already (said once) */
	if (!up->attached && (!ifindex || ifindex == up->refused_ifindex))
		return 0;
	lock_all(up);
	ndev = (unsigned int)__builtin_popcountll(up->port_mask);
	if (same) {
		up_detach(up);
		pr_info("%s: uplink MTU changed: datapath made again for it\n", up->ifname);
	} else if (up->attached) {
		up_detach(up);
		pr_info("%s: uplink gone: datapath detached; %u device(s) without link, "
			"their frames dropped, until %s returns\n", up->ifname, ndev, up->ifname);
	}
	if (ifindex) {
		err = up_attach(up, ifindex);
		up->refused_ifindex = err ? ifindex : 0;
		if (err)
			pr_warn("%s: uplink is back (ifindex %d) but its datapath is not: %s; "
				"%u device(s) drop their frames\n", up->ifname, ifindex,
				strerror(-err), ndev);
		else if (!same)
			pr_info("%s: uplink is back (ifindex %d): datapath re-attached for %u "
				"device(s)\n", up->ifname, ifindex, ndev);
	}
	unlock_all(up);
	wake_all(up);
	return err ? err : ifindex ? 1 : 0;
}

__u32 vnet_updp_mtu_max(const struct vnet_updp *up, const char **why)
{
	return up->attached ? updp_mtu_max(up, why) : 0;
}

bool vnet_updp_attached(const struct vnet_updp *up)
{
	return __atomic_load_n(&up->attached, __ATOMIC_RELAXED);
}

/* The control thread is the only one that attaches and detaches. */
void vnet_updp_describe(const struct vnet_updp *up, char *buf, size_t len)
{
	if (!up->attached)
		snprintf(buf, len, "detached");
	else
		snprintf(buf, len, "%s %s", vnet_dp_attach_mode_name(up->dp),
			 vnet_dp_attach_kind_name(up->dp));
}

void vnet_updp_close(struct vnet_updp *up)
{
	if (!up)
		return;
	for (unsigned int i = 0; i < up->nwk; i++)
		vnet_worker_stop(&up->wk[i]->w);
	if (up->port_mask)
		pr_warn("%s: closing the uplink with devices attached\n", up->ifname);
	up_free(up);
}

static void port_free(struct up_port *p)
{
	vnet_devq_fini(&p->dq);
	for (unsigned int i = 0; i < UP_MAX_WORKERS; i++) {
		free(p->b[i].rxb);
		free(p->b[i].rxn);
	}
	updp_hold_free(p);
	free(p);
}

int vnet_updp_port_add(struct vnet_updp *up, struct vnet_netdev *dev, bool trusted,
		       bool spoofchk, struct vnet_updp_port **out)
{
	int epfd[UP_MAX_WORKERS];
	struct up_port *p;
	unsigned int slot, i;
	int err;

	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
	p->up = up;
	p->dev = dev;
	p->trusted = trusted;
	p->spoofchk = spoofchk;
	/*
	 * Kicks stay on (the queue's reset state): transmit and control queue
	 * kicks wake the worker that owns the queue (vnet_devq_owner: pair k
	 * is worker k % nwk's). Edge-triggered, so the eventfd is never read:
	 * every write is a new edge (fs/eventfd.c wakes on each write).
	 */
	for (i = 0; i < up->nwk; i++)
		epfd[i] = up->wk[i]->w.epfd;
	err = vnet_devq_init(&p->dq, dev, epfd, up->nwk, EPOLLIN | EPOLLET, false, true);
	if (err)
		goto err_free;
	for (i = 0; i < up->nwk; i++) {
		p->b[i].rxb = calloc((size_t)dev->params.max_vqp * UP_RXB, sizeof(*p->b[i].rxb));
		p->b[i].rxn = calloc(dev->params.max_vqp, sizeof(*p->b[i].rxn));
		if (!p->b[i].rxb || !p->b[i].rxn) {
			err = -ENOMEM;
			goto err_free;
		}
	}
	if (updp_hold_alloc(p, dev->params.max_vqp)) {
		err = -ENOMEM;
		goto err_free;
	}
	lock_all(up);
	for (slot = 0; slot < VNET_DP_MAX_DEVS && (up->port_mask & BIT(slot)); slot++)
		;
	err = -ENOSPC;
	if (slot == VNET_DP_MAX_DEVS)
		goto err_unlock;
	p->slot = slot;
	/* detached: the device joins the maps when the uplink returns */
	err = up->attached ? vnet_dp_dev_add(up->dp, slot, dev->params.mac,
					     dev->params.max_vqp) : 0;
	if (err)
		goto err_unlock;
	vnet_netdev_lock_ctl(dev);
	vnet_netdev_set_worker_ops(dev, &updp_port_ops, p);
	pthread_mutex_unlock(&dev->lock);
	up->ports[slot] = p;
	up->port_mask |= BIT(slot);
	unlock_all(up);
	wake_all(up);
	*out = (struct vnet_updp_port *)p;
	return 0;

err_unlock:
	unlock_all(up);
err_free:
	port_free(p);
	return err;
}

void vnet_updp_port_del(struct vnet_updp_port *port)
{
	struct up_port *p = (struct up_port *)port;
	struct vnet_updp *up;

	if (!p)
		return;
	up = p->up;
	lock_all(up);
	/* the maps forget the device first: XDP stops redirecting to it */
	if (up->attached)
		vnet_dp_dev_del(up->dp, p->slot);
	up->port_mask &= ~BIT(p->slot);
	up->ports[p->slot] = NULL;
	vnet_netdev_lock_ctl(p->dev);
	vnet_netdev_set_worker_ops(p->dev, NULL, NULL);
	/* the queues stop under the device lock: a ring is never touched
	 * without it */
	vnet_devq_fini(&p->dq);
	pthread_mutex_unlock(&p->dev->lock);
	unlock_all(up);
	port_free(p);
}

void vnet_updp_port_set_policy(struct vnet_updp_port *port, bool trusted, bool spoofchk)
{
	struct up_port *p = (struct up_port *)port;

	__atomic_store_n(&p->trusted, trusted, __ATOMIC_RELAXED);
	__atomic_store_n(&p->spoofchk, spoofchk, __ATOMIC_RELAXED);
	if (trusted)
		return;
	/*
	 * Trust off forgets what was learned now, not at the worker's next
	 * round (it may be asleep): a 'dev show' right after must not list
	 * them. The table is read and written under dev->lock; worker 0
	 * pushes the maps without them (the table's version moved).
	 */
	vnet_netdev_lock_ctl(p->dev);
	vnet_mac_learn_clear(&p->learned);
	pthread_mutex_unlock(&p->dev->lock);
	wake_all(p->up);
}

unsigned int vnet_updp_port_learned(struct vnet_updp_port *port, __u8 (*macs)[6],
				    unsigned int max)
{
	struct up_port *p = (struct up_port *)port;
	unsigned int n;

	vnet_netdev_lock_ctl(p->dev);
	n = p->learned.n < max ? p->learned.n : max;
	memcpy(macs, p->learned.mac, 6 * (size_t)n);
	pthread_mutex_unlock(&p->dev->lock);
	return n;
}

void vnet_updp_port_stats(struct vnet_updp_port *port, struct vnet_updp_port_stats *st)
{
	struct up_port *p = (struct up_port *)port;

	/* every worker counts under dev->lock */
	vnet_netdev_lock_ctl(p->dev);
	*st = p->st;
	pthread_mutex_unlock(&p->dev->lock);
}
