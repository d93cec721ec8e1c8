// SPDX-License-Identifier: MIT
/*
 * The uplink datapath: XDP + AF_XDP on one uplink and the worker that moves
 * frames between its sockets and the virtqueues of the uplink's devices
 * (include/vnet/uplink_dp.h, docs/ARCHITECTURE.md "Uplink datapath wiring").
 *
 * One worker thread per uplink owns: the AF_XDP sockets (one per uplink rx
 * queue; transmit goes through queue 0's socket), every virtqueue of every
 * device on the uplink, and the BPF maps' per-device entries after the
 * device was added. A round:
 *
 *   1. completions reaped (transmit frames back on the free stack);
 *   2. per device, under dev->lock: ring changes, control queue, the
 *      control-queue state pushed into the maps if it moved, transmit
 *      queues -> spoof check -> wire (XSK tx ring) and/or local devices;
 *      then, without that lock, local frames go through the C reference
 *      (vnet_rx_classify/vnet_rx_steer: the receiving device's filter and
 *      RSS exactly as XDP would apply them) into the batches;
 *   3. XSK rx rings -> metadata -> per (device, queue) batches; FLOOD
 *      frames replicated with the C reference; when the host shares the
 *      uplink, the group frames XDP passed to the host are read from the
 *      packet socket's ring (uplink_pkt.c) and replicated the same way;
 *   4. batches flushed, one vnet_net_rx_burst per (device, queue), each
 *      device locked once per flush; rx frames go back to the fill ring;
 *   5. one kick (sendto) per 32 transmit frames: copy mode needs it.
 *
 * The uplink's netdev may go (deleted, moved) and come back: the control
 * thread detaches everything that belonged to it -- program, sockets, host
 * port -- and the worker keeps serving the devices' control queues,
 * dropping what they send (their link is down) and sleeping otherwise;
 * when a netdev of that name is there again, it attaches anew and every
 * port rejoins the new maps (vnet_updp_set_link).
 *
 * Locks: up->lock (worker: a round; control thread: port add/del, attach,
 * detach) before dev->lock (one device at a time). The device's hooks
 * called with dev->lock held (state_changed, rings_changed) only set a flag
 * and write the wake eventfd, so they never take up->lock: no inversion.
 */
#include <errno.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <linux/if_link.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>

/* datapath.h before device.h: see cvq.h on enum vnet_steering */
#include "vnet/datapath.h"
#include "vnet/rx_filter.h"
#include "vnet/device.h"
#include "vnet/devq.h"
#include "vnet/host_port.h"
#include "vnet/log.h"
#include "vnet/mac_learn.h"
#include "vnet/net.h"
#include "vnet/netutil.h"
#include "vnet/uplink_dp.h"
#include "vnet/uplink_pkt.h"
#include "vnet/xsk.h"

#define BIT(n)		(1ull << (n))
#define UP_BURST	64	/* XSK rx peek; tx output buffers (64 KiB GSO) */
#define UP_RXB		64	/* frames per (device, receive queue) batch */
#define UP_LOCAL_MAX	256	/* device-to-device frames per device turn */
#define UP_POLL_NS	50000ull	/* busy-poll this long after work (sim.c) */
#define UP_SLEEP_MS	100
#define UP_CLOCK_ROUNDS	32
#define UP_SCAN_NS	1000000000ull	/* host IPv4 addresses re-read */
#define UP_MAX_UPLINKS	32
#define UP_PKT_BUDGET	256	/* packet-ring frames per round: XSK gets its turn */
#define UP_HOST_BURST	16	/* host-port frames per round (a read each) */
#define UP_HOST_FRAME	65536	/* a host frame: the TAP's MTU may grow with the uplink's */
#define ETH_HLEN_	14

/* epoll data: these, or a struct vnet_devq_q (a kick, never read) */
enum { EV_WAKE = 0, EV_XSK, EV_PKT, EV_HOST };

struct up_port {
	struct vnet_updp *up;
	struct vnet_netdev *dev;
	unsigned int slot;
	int trusted, spoofchk;		/* __atomic: set by the control thread */
	bool touched;			/* has frames in rxb */
	struct vnet_devq dq;		/* the device's queues */
	struct vnet_rx_pkt *rxb;	/* [max_vqp][UP_RXB] */
	unsigned int *rxn;		/* [max_vqp] */
	/* what the maps hold: push_state() diffs against it */
	bool pushed_valid;
	struct vnet_net_state pushed;
	__u64 pushed_driver;
	__u16 pushed_pairs;
	__u8 pushed_mode[VNET_RX_MODE_MAX + 1];
	bool pushed_vlan_filter;
	bool push_warned;
	__u32 pushed_learned;		/* learned.version the MAC table holds */
	/* trusted: the source MACs the guest sends from besides its own
	 * (dev->lock, like the rest of a port's device state) */
	struct vnet_mac_learn learned;
	__u64 learn_aged_ns;		/* when learned entries were last aged */
	bool spoof_warned;		/* the log said once why frames drop */
	struct vnet_updp_port_stats st;
};

struct local_frame {
	__u64 addr;
	__u32 len;
	__u8 from;		/* sender's slot */
	bool owned;		/* not on the wire: free after delivery */
};

struct vnet_updp {
	char ifname[IFNAMSIZ];
	unsigned int flags;		/* VNET_UPDP_* */
	/*
	 * The uplink's netdev, its XDP program and sockets, or none of them:
	 * the uplink is gone (deleted, not there yet) or refused XDP. Made and
	 * dropped by the control thread under up->lock (up_attach/up_detach);
	 * while detached the worker still serves the devices' control queues
	 * and drops what they send (their link is down), and sleeps.
	 */
	bool attached;
	int ifindex;			/* of the attached netdev */
	int refused_ifindex;		/* the netdev that refused the last attach */
	struct vnet_dp *dp;
	unsigned int nxsk;
	struct vnet_xsk *xsk[VNET_DP_MAX_QUEUES];
	bool xsk_watched;		/* the XSK fds are in epfd (xsk_watch) */
	bool sock_error;		/* an uplink socket reported one (logged) */
	pthread_t thread;
	bool running;
	int epfd, wake_fd;
	volatile bool stop;
	pthread_mutex_t lock;
	int ctl_waiting;
	struct up_port *ports[VNET_DP_MAX_DEVS];
	__u64 port_mask;
	struct up_port *touched[VNET_DP_MAX_DEVS];
	unsigned int ntouched;
	bool coal_pending;
	/* transmit scratch: frames of xsk[0] the engine writes into */
	struct vnet_tx_buf txb[UP_BURST];
	__u64 txaddr[UP_BURST];
	__u64 wire_addr[UP_BURST];
	__u32 wire_len[UP_BURST];
	struct local_frame local[UP_LOCAL_MAX];
	unsigned int nlocal;
	struct vnet_xsk_rx rx[UP_BURST];
	/* HOST_SHARED: the host's group frames, copied (NULL: dedicated uplink) */
	struct vnet_pktring *pkt;
	struct vnet_pkt_frame pf[UP_BURST];
	__u64 grp_frames, grp_copies, grp_nobody, grp_malformed;
	/* HOST_SHARED: host <-> devices without the wire (host_port.h) */
	struct vnet_host_port *hport;
	__u8 (*hbuf)[UP_HOST_FRAME];	/* [UP_HOST_BURST] */
	bool host_due;			/* read the host port this round */
	unsigned int host_rounds;
	__u64 host_frames, host_copies, host_nobody;
	__u32 host4[VNET_DP_MAX_HOST_IPS];
	unsigned int nhost4;
	__u64 last_scan;
	__u64 rx_bad_meta, rx_no_port;
	/* detached: transmit buffers whose frames are dropped (port_tx_drop) */
	struct vnet_tx_buf dtxb[UP_BURST];
	__u8 (*discard)[VNET_XSK_FRAME_SIZE];	/* [UP_BURST] */
};

/* --- host addresses ------------------------------------------------------------ */

/*
 * The uplink's IPv4 addresses: ARP for them stays with the host (rule 2 of
 * rx_filter.h), so the host keeps answering while devices want broadcasts.
 * Re-read every second: addresses come and go without telling us.
 */
static void scan_host_addrs(struct vnet_updp *up)
{
	__u32 now[VNET_DP_MAX_HOST_IPS];
	unsigned int n = 0, i, j;
	struct ifaddrs *ifa, *a;

	if (getifaddrs(&ifa))
		return;
	for (a = ifa; a; a = a->ifa_next) {
		if (!a->ifa_addr || a->ifa_addr->sa_family != AF_INET ||
		    strcmp(a->ifa_name, up->ifname) || n == VNET_DP_MAX_HOST_IPS)
			continue;
		now[n++] = ((struct sockaddr_in *)a->ifa_addr)->sin_addr.s_addr;
	}
	freeifaddrs(ifa);
	for (i = 0; i < up->nhost4; i++) {
		for (j = 0; j < n && now[j] != up->host4[i]; j++)
			;
		if (j == n)
			vnet_dp_del_host_ipv4(up->dp, up->host4[i]);
	}
	for (j = 0; j < n; j++) {
		for (i = 0; i < up->nhost4 && now[j] != up->host4[i]; i++)
			;
		if (i == up->nhost4 && vnet_dp_add_host_ipv4(up->dp, now[j]))
			pr_warn("%s: cannot register a host address\n", up->ifname);
	}
	memcpy(up->host4, now, sizeof(now[0]) * n);
	up->nhost4 = n;
}

/* NOTF_COAL (spec 5.1.6.5.9): parameters on change, deferred notifications */
static void coal_run(struct up_port *p, const struct vnet_net_state *st)
{
	vnet_devq_coal_apply(&p->dq, st);
	if (vnet_devq_coal_expire(&p->dq))
		p->up->coal_pending = true;
}

/* --- control-queue state -> BPF maps ------------------------------------------- */

/*
 * The device's unicast table in the maps: the driver's (CTRL_MAC_TABLE_SET)
 * and, for a trusted device, the source MACs learned from its frames; what
 * does not fit is left out (the driver's table has overflowed to ALLUNI by
 * then, spec 5.1.6.5.2).
 */
static int push_mac_table(struct up_port *p, const struct vnet_net_state *st)
{
	__u8 uc[VNET_RX_MAC_TABLE_MAX][6];
	unsigned int n = st->n_uc < VNET_RX_MAC_TABLE_MAX ? st->n_uc : VNET_RX_MAC_TABLE_MAX;
	unsigned int i;

	memcpy(uc, st->macs, 6 * (size_t)n);
	for (i = 0; i < p->learned.n && n < VNET_RX_MAC_TABLE_MAX; i++)
		memcpy(uc[n++], p->learned.mac[i], 6);
	return vnet_dp_set_mac_table(p->up->dp, p->slot, (const __u8 (*)[6])uc, n,
				     (const __u8 (*)[6])st->macs + st->n_uc, st->n_mc);
}

/*
 * A frame from a source MAC that is not the device's. An untrusted device
 * drops it (DESIGN "Robustness rules") and says once why; a trusted one
 * learns the MAC so that frames to it reach the device (ARCHITECTURE.md,
 * "Filter policy"). False: drop the frame.
 */
static bool foreign_source(struct up_port *p, const __u8 *src, bool enforce)
{
	if (enforce) {
		p->st.tx_spoofed++;
		if (!p->spoof_warned) {
			pr_warn("%s: frames from source MAC %02x:%02x:%02x:%02x:%02x:%02x "
				"dropped: not the device's MAC (the guest changed it or "
				"bridges); 'trust on' lets the device learn it\n",
				p->dev->params.name, src[0], src[1], src[2], src[3],
				src[4], src[5]);
			p->spoof_warned = true;
		}
		return false;
	}
	if (__atomic_load_n(&p->trusted, __ATOMIC_RELAXED) &&
	    vnet_mac_learn(&p->learned, src, vnet_now_ns()) == 1)
		pr_info("%s: learned source MAC %02x:%02x:%02x:%02x:%02x:%02x\n",
			p->dev->params.name, src[0], src[1], src[2], src[3], src[4], src[5]);
	return true;
}

/* Trust turned off forgets what was learned; entries age like a bridge's. */
static void learn_maintain(struct up_port *p)
{
	__u64 now;

	if (!p->learned.n)
		return;
	if (!__atomic_load_n(&p->trusted, __ATOMIC_RELAXED)) {
		vnet_mac_learn_clear(&p->learned);
		return;
	}
	now = vnet_now_ns();
	if (now - p->learn_aged_ns < 1000000000ull)
		return;
	p->learn_aged_ns = now;
	vnet_mac_learn_age(&p->learned, now, VNET_LEARN_AGE_NS);
}

/*
 * Push what the maps must know about the device, as a diff against what
 * they hold. Cheap when nothing moved (one compare a round); the steering
 * part costs an RCU grace period per call (datapath.c), so it is pushed
 * only when one of its inputs changed.
 */
static void push_state(struct up_port *p, const struct vnet_net_state *st)
{
	struct vnet_dp *dp = p->up->dp;
	struct vnet_netdev *dev = p->dev;
	const struct vnet_net_state *old = &p->pushed;
	__u64 drv = dev->driver;
	const __u64 steer_bits = BIT(VIRTIO_NET_F_RSS) | BIT(VIRTIO_NET_F_HASH_REPORT) |
				 BIT(VIRTIO_NET_F_CTRL_VQ);
	bool cvq = drv & BIT(VIRTIO_NET_F_CTRL_VQ);
	bool ctrl_rx = cvq && (drv & BIT(VIRTIO_NET_F_CTRL_RX));
	bool vf = cvq && (drv & BIT(VIRTIO_NET_F_CTRL_VLAN));
	__u8 mode[VNET_RX_MODE_MAX + 1] = { 0 };
	unsigned int i, w, slot = p->slot;
	__u16 pairs = st->vq_pairs;
	int err = 0;

	/* a front-end that keeps the control queue (QEMU style) uses the
	 * receive queues it enabled, steered by flow (ARCHITECTURE.md) */
	if (!cvq)
		pairs = (__u16)vnet_devq_active_rx(&p->dq);
	if (!pairs)
		pairs = 1;
	if (pairs > dev->params.max_vqp)
		pairs = dev->params.max_vqp;
	/* every accepted change bumps version, resets included (cvq.c,
	 * device.c): one compare instead of a memcmp of the whole state */
	if (p->pushed_valid && drv == p->pushed_driver && pairs == p->pushed_pairs &&
	    st->version == old->version && p->learned.version == p->pushed_learned)
		return;

	if (ctrl_rx) {
		mode[VNET_RX_PROMISC] = st->promisc;
		/* spec 5.1.6.5.2 footnote: a table too long -> all-multi/all-uni */
		mode[VNET_RX_ALLMULTI] = st->allmulti || st->mc_overflow;
		mode[VNET_RX_ALLUNI] = st->alluni || st->uc_overflow;
		mode[VNET_RX_NOMULTI] = st->nomulti;
		mode[VNET_RX_NOUNI] = st->nouni;
		mode[VNET_RX_NOBCAST] = st->nobcast;
	} else {
		/* a driver without CTRL_RX cannot ask for multicast: it gets all
		 * of it, like the Linux driver expects (ARCHITECTURE.md, XDP) */
		mode[VNET_RX_ALLMULTI] = 1;
	}
	for (i = 0; i <= VNET_RX_MODE_MAX; i++)
		if (!p->pushed_valid || mode[i] != p->pushed_mode[i])
			err = err ?: vnet_dp_set_rx_mode(dp, slot, i, mode[i]);
	memcpy(p->pushed_mode, mode, sizeof(mode));

	if (memcmp(st->mac, old->mac, 6))
		err = err ?: vnet_dp_set_mac(dp, slot, st->mac);
	if (st->n_uc != old->n_uc || st->n_mc != old->n_mc ||
	    memcmp(st->macs, old->macs, 6 * (size_t)(st->n_uc + st->n_mc)) ||
	    p->learned.version != p->pushed_learned)
		err = err ?: push_mac_table(p, st);
	p->pushed_learned = p->learned.version;

	/* spec "VLAN Filtering": only a driver with CTRL_VLAN has a filter */
	if (!p->pushed_valid || vf != p->pushed_vlan_filter)
		err = err ?: vnet_dp_set_vlan_filter(dp, slot, vf);
	p->pushed_vlan_filter = vf;
	for (w = 0; w < VNET_VLAN_N / 32; w++) {
		__u32 diff = st->vlans[w] ^ old->vlans[w];

		while (diff && !err) {
			unsigned int b = (unsigned int)__builtin_ctz(diff);
			__u16 vid = (__u16)(w * 32 + b);

			diff &= diff - 1;
			err = st->vlans[w] & (1u << b) ? vnet_dp_vlan_add(dp, slot, vid) :
							 vnet_dp_vlan_del(dp, slot, vid);
		}
	}

	if (!p->pushed_valid || pairs != p->pushed_pairs ||
	    (drv & steer_bits) != (p->pushed_driver & steer_bits) ||
	    st->steering != old->steering || st->vq_pairs != old->vq_pairs ||
	    st->hash_types != old->hash_types || st->indir_mask != old->indir_mask ||
	    st->unclassified_queue != old->unclassified_queue ||
	    memcmp(st->indir, old->indir, sizeof(st->indir)) ||
	    st->key_len != old->key_len || memcmp(st->key, old->key, sizeof(st->key))) {
		if (cvq && st->steering == VNET_STEER_RSS && (drv & BIT(VIRTIO_NET_F_RSS))) {
			struct vnet_rss_config rss = {
				.hash_types = st->hash_types,
				.table_len = (__u16)(st->indir_mask + 1u),
				.unclassified_queue = st->unclassified_queue,
				.key_len = st->key_len,
			};

			memcpy(rss.table, st->indir, sizeof(__u16) * rss.table_len);
			memcpy(rss.key, st->key, st->key_len);
			err = err ?: vnet_dp_set_rss(dp, slot, &rss);
		} else {
			/* hash parameters only matter with HASH_REPORT (spec
			 * "Hash calculation for incoming packets") */
			bool report = cvq && (drv & BIT(VIRTIO_NET_F_HASH_REPORT));

			err = err ?: vnet_dp_set_queue_pairs(dp, slot, pairs);
			err = err ?: vnet_dp_set_hash_config(dp, slot, report ? st->hash_types : 0,
							     st->key, report ? st->key_len : 0);
		}
	}
	if (err && !p->push_warned) {
		pr_warn("%s: datapath update failed: %s\n", dev->params.name, strerror(-err));
		p->push_warned = true;
	}
	p->pushed = *st;
	p->pushed_driver = drv;
	p->pushed_pairs = pairs;
	p->pushed_valid = true;
}

/* --- receive batches -------------------------------------------------------------- */

static void port_flush(struct up_port *p)
{
	struct vnet_netdev *dev = p->dev;
	unsigned int r, got, total;
	bool broken;

	pthread_mutex_lock(&dev->lock);
	vnet_devq_sync(&p->dq);
	broken = dev->status & VIRTIO_CONFIG_S_NEEDS_RESET;
	for (r = 0; r < dev->params.max_vqp; r++) {
		struct vnet_devq_q *q = &p->dq.q[2 * r];

		total = p->rxn[r];
		if (!total)
			continue;
		p->rxn[r] = 0;
		/* a queue the driver has not set up: receiveq1 (like sim.c) */
		if (!q->active)
			q = &p->dq.q[0];
		got = !broken && q->active ?
		      vnet_net_rx_burst(&q->nq, p->rxb + r * UP_RXB, total) : 0;
		p->st.rx_frames += got;
		p->st.rx_dropped += total - got;
		if (q->active) {
			vnet_devq_rx_stats(q);
			/* GET_VRING_BASE may come before the next round */
			vnet_devq_save_position(q);
		}
	}
	pthread_mutex_unlock(&dev->lock);
}

static void flush_touched(struct vnet_updp *up)
{
	unsigned int i;

	for (i = 0; i < up->ntouched; i++) {
		port_flush(up->touched[i]);
		up->touched[i]->touched = false;
	}
	up->ntouched = 0;
}

static void batch_add(struct vnet_updp *up, struct up_port *p, const struct vnet_xdp_meta *m,
		      const __u8 *data, __u32 len)
{
	unsigned int qi = m->queue < p->dev->params.max_vqp ? m->queue : 0;
	struct vnet_rx_pkt *pk;

	if (p->rxn[qi] == UP_RXB)
		port_flush(p);		/* a full batch goes now; 'touched' stays */
	if (!p->touched) {
		p->touched = true;
		up->touched[up->ntouched++] = p;
	}
	pk = &p->rxb[qi * UP_RXB + p->rxn[qi]++];
	pk->data = data;
	pk->len = len;
	pk->hash_value = m->hash;
	pk->hash_report = m->report;
	pk->flags = 0;
}

/*
 * A frame for several devices, or from one device to others, or a group
 * frame the host received too (copy: vnet_rx_classify_copy, rx_filter.h):
 * the C reference decides who wants it and, per device, queue and hash.
 * Returns the number of devices it was queued for, or -EINVAL when its L2
 * header is cut (nobody can even filter it).
 */
static int replicate(struct vnet_updp *up, const __u8 *data, __u32 len, __u64 exclude,
		     bool copy)
{
	const struct vnet_rx_state *s = vnet_dp_state(up->dp);
	struct vnet_rx_result r;
	struct vnet_xdp_meta m;
	__u64 want;
	int n = 0;

	if ((copy ? vnet_rx_classify_copy(s, data, len, &r) :
		    vnet_rx_classify(s, data, len, &r)) ||
	    r.verdict == VNET_RX_PASS)
		return r.pass_reason == VNET_CNT_MALFORMED ? -EINVAL : 0;
	want = r.want & up->port_mask & ~exclude;
	while (want) {
		unsigned int d = (unsigned int)__builtin_ctzll(want);

		want &= want - 1;
		if (!vnet_rx_steer(s, d, data, len, &m)) {
			batch_add(up, up->ports[d], &m, data, len);
			n++;
		}
	}
	return n;
}

/*
 * The group frames XDP passed to the host (HOST_SHARED), read from the
 * packet socket's ring: each goes to the devices the C reference picks,
 * exactly as XDP's flood frames did. Frames stay in the ring until their
 * batches are flushed; then the block goes back to the kernel.
 */
static unsigned int run_pkt(struct vnet_updp *up)
{
	unsigned int k, n, work = 0;

	if (!up->pkt)
		return 0;
	while (work < UP_PKT_BUDGET && (n = vnet_pktring_peek(up->pkt, up->pf, UP_BURST))) {
		for (k = 0; k < n; k++) {
			/* the devices' own group frames the host port handed to
			 * the host never get here: their mark (uplink_pkt.c) */
			int got = replicate(up, up->pf[k].data, up->pf[k].len, 0, true);

			if (got > 0)
				up->grp_copies += (unsigned int)got;
			else if (got < 0)
				up->grp_malformed++;
			else
				up->grp_nobody++;
		}
		flush_touched(up);
		vnet_pktring_done(up->pkt);
		up->grp_frames += n;
		work += n;
	}
	return work;
}

/*
 * What the host sent to the devices through the host port (unicast to a
 * device's MAC; a copy of its group frames): the C reference picks the
 * devices as for the host's group frames from the packet socket.
 */
static unsigned int run_host(struct vnet_updp *up)
{
	unsigned int i, n = 0;

	/* a read is a system call: only when epoll said so, a full burst
	 * came last time, or every UP_CLOCK_ROUNDS rounds of busy polling */
	if (!up->hport || !up->host_due)
		return 0;
	up->host_due = false;
	for (i = 0; i < UP_HOST_BURST; i++) {
		ssize_t len = vnet_host_port_recv(up->hport, up->hbuf[n], UP_HOST_FRAME);
		int got;

		if (!len)
			continue;	/* a runt, dropped */
		if (len < 0)
			break;
		got = replicate(up, up->hbuf[n], (__u32)len, 0, true);
		if (got > 0) {
			up->host_copies += (unsigned int)got;
			n++;		/* its buffer is batched until the flush */
		} else {
			up->host_nobody++;
		}
		up->host_frames++;
	}
	if (n)
		flush_touched(up);
	if (i == UP_HOST_BURST)
		up->host_due = true;
	return i;
}

static unsigned int run_rx(struct vnet_updp *up)
{
	unsigned int i, k, n, work = 0;

	for (i = 0; i < up->nxsk; i++) {
		struct vnet_xsk *x = up->xsk[i];

		n = vnet_xsk_rx_peek(x, up->rx, UP_BURST);
		if (!n)
			continue;
		for (k = 0; k < n; k++) {
			const struct vnet_xsk_rx *f = &up->rx[k];
			struct vnet_xdp_meta m;

			if (!f->meta || !f->len) {
				up->rx_bad_meta++;
				continue;
			}
			memcpy(&m, f->meta, sizeof(m));
			if (m.magic != VNET_META_MAGIC) {
				up->rx_bad_meta++;
			} else if (m.flags & VNET_META_F_FLOOD) {
				replicate(up, f->data, f->len, 0, false);
			} else if (m.dev < VNET_DP_MAX_DEVS && up->ports[m.dev]) {
				batch_add(up, up->ports[m.dev], &m, f->data, f->len);
			} else {
				up->rx_no_port++;	/* device went away meanwhile */
			}
		}
		flush_touched(up);
		vnet_xsk_rx_done(x, up->rx, n);
		work += n;
	}
	return work;
}

/* --- transmit ------------------------------------------------------------------------ */

/* Output buffers for one burst: a prefix of txb[] holding frames. */
static unsigned int tx_bufs_ready(struct vnet_updp *up)
{
	struct vnet_xsk *x = up->xsk[0];
	unsigned int i;

	for (i = 0; i < UP_BURST; i++) {
		if (up->txb[i].data)
			continue;
		up->txb[i].data = vnet_xsk_tx_frame(x, &up->txaddr[i]);
		if (!up->txb[i].data)
			break;
		up->txb[i].cap = VNET_XSK_FRAME_SIZE;
	}
	return i;
}

/*
 * Where a device's frame goes once it passed the spoof check: the host
 * (host port: unicast to its MAC there only, group frames a copy), the
 * other devices (unicast to a MAC one of them owns there only; anything
 * else a copy, for their promiscuous or group receivers), the wire (the
 * rest). True: the caller puts it on the wire; false: it is taken care of
 * (freed, or owned by the local list). up->local must have room for one.
 */
static bool route_frame(struct vnet_updp *up, struct up_port *p, __u64 addr,
			const __u8 *data, __u32 len)
{
	__u64 others = up->port_mask & ~BIT(p->slot), owners = 0;
	bool group = data[0] & 1, wire = true;

	/* one MAC lookup answers both "the host's?" and "another device's?" */
	if (!group && (up->hport || others))
		owners = vnet_rx_mac_devs(vnet_dp_state(up->dp), data);
	if (up->hport && (group || (owners & VNET_DP_HOST_BIT))) {
		if (vnet_host_port_send(up->hport, data, len))
			p->st.tx_host_dropped++;
		else
			p->st.tx_host++;
		if (!group) {
			vnet_xsk_tx_free(up->xsk[0], addr);
			return false;
		}
	}
	if (others) {
		wire = group || !(owners & others);
		up->local[up->nlocal++] = (struct local_frame){
			.addr = addr, .len = len, .from = (__u8)p->slot, .owned = !wire,
		};
	}
	return wire;
}

static unsigned int port_tx(struct vnet_updp *up, struct up_port *p,
			    const struct vnet_net_state *st)
{
	struct vnet_netdev *dev = p->dev;
	struct vnet_xsk *x = up->xsk[0];
	bool enforce = __atomic_load_n(&p->spoofchk, __ATOMIC_RELAXED) &&
		       !__atomic_load_n(&p->trusted, __ATOMIC_RELAXED);
	unsigned int i, k, n, nb, nwire, work = 0;

	for (i = 0; i < vnet_netdev_data_pairs(dev); i++) {
		struct vnet_devq_q *q = &p->dq.q[2 * i + 1];

		if (!q->active)
			continue;
		/* room for a whole burst of local frames, else next round */
		if (up->nlocal + UP_BURST > UP_LOCAL_MAX)
			break;
		nb = tx_bufs_ready(up);
		if (!nb)
			break;
		n = vnet_net_tx_burst(&q->nq, up->txb, nb);
		nwire = 0;
		for (k = 0; k < n; k++) {
			__u8 *data = up->txb[k].data;
			__u32 len = up->txb[k].len;
			__u64 addr = up->txaddr[k];

			up->txb[k].data = NULL;
			if (len < ETH_HLEN_) {
				p->st.tx_dropped++;
				vnet_xsk_tx_free(x, addr);
				continue;
			}
			if (memcmp(data + 6, st->mac, 6) &&
			    !foreign_source(p, data + 6, enforce)) {
				vnet_xsk_tx_free(x, addr);
				continue;
			}
			if (route_frame(up, p, addr, data, len)) {
				up->wire_addr[nwire] = addr;
				up->wire_len[nwire++] = len;
			}
		}
		vnet_xsk_tx_submit(x, up->wire_addr, up->wire_len, nwire);
		p->st.tx_wire += nwire;
		work += n;
		vnet_devq_tx_stats(q);
	}
	return work;
}

/* Device to device: after the sender's lock is dropped (one lock at a time). */
static void local_deliver(struct vnet_updp *up, struct up_port *from)
{
	unsigned int i;

	for (i = 0; i < up->nlocal; i++) {
		const struct local_frame *lf = &up->local[i];

		/* the host has no copy of a device's frame; with HOST_SHARED
		 * the program would PASS group frames, so ask for the copy set */
		replicate(up, vnet_xsk_frame_data(up->xsk[0], lf->addr), lf->len,
			  BIT(lf->from), up->pkt != NULL);
	}
	flush_touched(up);
	/* frames also on the wire come back through the completion ring,
	 * which is reaped at the start of the next round only */
	for (i = 0; i < up->nlocal; i++)
		if (up->local[i].owned)
			vnet_xsk_tx_free(up->xsk[0], up->local[i].addr);
	from->st.tx_local += up->nlocal;
	up->nlocal = 0;
}

/*
 * vhost-user SEND_RARP: after a migration QEMU asks the back-end to
 * announce a driver that cannot (no GUEST_ANNOUNCE), so that switches
 * learn where the MAC lives now. A RARP request from that MAC leaves the
 * port as if the device had sent it: the wire, the host, the other
 * devices (dev->lock held).
 */
static void port_rarp(struct vnet_updp *up, struct up_port *p)
{
	struct vnet_xsk *x = up->xsk[0];
	__u32 len;
	__u64 addr;
	__u8 *f;

	if (up->nlocal == UP_LOCAL_MAX)
		return;		/* no room for the local copy: next round */
	p->dev->rarp_pending = false;
	f = vnet_xsk_tx_frame(x, &addr);
	if (!f) {
		p->st.tx_dropped++;
		return;
	}
	len = (__u32)vnet_rarp_build(f, p->dev->rarp_mac);
	p->st.tx_rarp++;
	/* a broadcast: route_frame() always keeps it for the wire too */
	if (route_frame(up, p, addr, f, len)) {
		vnet_xsk_tx_submit(x, &addr, &len, 1);
		p->st.tx_wire++;
	}
}

/*
 * The uplink is gone: every device on it has link down, and nothing can
 * leave. A driver that sends anyway gets its buffers back, as from a NIC
 * without link: the frames are dropped and counted (tx_dropped), so its
 * queue never stalls and the worker can sleep.
 */
static unsigned int port_tx_drop(struct vnet_updp *up, struct up_port *p)
{
	struct vnet_netdev *dev = p->dev;
	unsigned int i, k, n, work = 0;

	for (i = 0; i < vnet_netdev_data_pairs(dev); i++) {
		struct vnet_devq_q *q = &p->dq.q[2 * i + 1];

		if (!q->active)
			continue;
		for (k = 0; k < UP_BURST; k++)
			up->dtxb[k] = (struct vnet_tx_buf){
				.data = up->discard[k], .cap = VNET_XSK_FRAME_SIZE,
			};
		n = vnet_net_tx_burst(&q->nq, up->dtxb, UP_BURST);
		p->st.tx_dropped += n;
		work += n;
		vnet_devq_tx_stats(q);
	}
	return work;
}

static unsigned int port_service(struct vnet_updp *up, struct up_port *p)
{
	struct vnet_netdev *dev = p->dev;
	const struct vnet_net_state *st;
	unsigned int work = 0, refused;	/* no per-port cvq counters: vstats has them */

	pthread_mutex_lock(&dev->lock);
	vnet_devq_sync(&p->dq);
	/* polling: the driver need not kick (spec 2.7.10); on before we sleep */
	if (p->dq.kicks_on)
		vnet_devq_kicks_set(&p->dq, false, false);
	if (!(dev->status & VIRTIO_CONFIG_S_NEEDS_RESET)) {
		if (p->dq.cvq_active)
			work += vnet_devq_run_cvq(&p->dq, &refused);
		st = vnet_netdev_state(dev);
		if (up->attached) {
			learn_maintain(p);
			push_state(p, st);
			work += port_tx(up, p, st);
		} else {
			/* the maps get the whole state on attach (up_attach) */
			work += port_tx_drop(up, p);
		}
		coal_run(p, st);
	}
	/* detached: the announce waits for the uplink's return */
	if (dev->rarp_pending && up->attached)
		port_rarp(up, p);
	vnet_devq_save_positions(&p->dq);
	pthread_mutex_unlock(&dev->lock);
	if (up->nlocal)
		local_deliver(up, p);
	return work;
}

static unsigned int run_round(struct vnet_updp *up)
{
	unsigned int work = 0, d;
	__u64 mask;

	if (up->attached)
		vnet_xsk_tx_complete(up->xsk[0]);
	up->coal_pending = false;
	for (mask = up->port_mask; mask; mask &= mask - 1) {
		d = (unsigned int)__builtin_ctzll(mask);
		work += port_service(up, up->ports[d]);
	}
	if (!up->attached)
		return work;
	vnet_xsk_tx_kick(up->xsk[0]);
	work += run_rx(up);
	work += run_pkt(up);
	if (++up->host_rounds % UP_CLOCK_ROUNDS == 0)
		up->host_due = true;
	work += run_host(up);
	return work;
}

/*
 * The AF_XDP sockets are in the epoll set only while the worker sleeps.
 * An epoll entry stays on the socket's wait queue, so every receive flush
 * of the kernel would run the epoll callback under its lock even while we
 * busy-poll (bench-e2e: a fifth of the receiving CPU). EPOLL_CTL_ADD
 * reports a socket that is already readable, so no frame is missed.
 * Under up->lock: up_detach() closes the sockets.
 */
static void xsk_watch(struct vnet_updp *up, bool on)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = EV_XSK };
	unsigned int i;

	if (on == up->xsk_watched || (on && !up->attached))
		return;
	for (i = 0; i < up->nxsk; i++)
		epoll_ctl(up->epfd, on ? EPOLL_CTL_ADD : EPOLL_CTL_DEL,
			  vnet_xsk_fd(up->xsk[i]), &ev);
	up->xsk_watched = on;
}

/*
 * Before sleeping (up->lock held): every port's transmit and control
 * queues get their kicks back, then a last look. False: a driver posted
 * buffers meanwhile, poll on (the next round turns kicks off again). A
 * device that needs a reset serves nothing, so its buffers are no reason
 * to stay awake.
 */
static bool kicks_arm(struct vnet_updp *up)
{
	bool pending = false;
	__u64 mask;

	for (mask = up->port_mask; mask; mask &= mask - 1) {
		struct up_port *p = up->ports[__builtin_ctzll(mask)];
		struct vnet_netdev *dev = p->dev;

		pthread_mutex_lock(&dev->lock);
		vnet_devq_sync(&p->dq);
		if (vnet_devq_kicks_set(&p->dq, true, false) &&
		    !(dev->status & VIRTIO_CONFIG_S_NEEDS_RESET))
			pending = true;
		pthread_mutex_unlock(&dev->lock);
	}
	return !pending;
}

/*
 * How long the worker may sleep (up->lock held): frames waiting for the
 * kernel or a deferred notification bring it back soon; attached, the
 * host addresses are re-read now and then; detached, only a kick, a ring
 * change or the uplink's return (the wake eventfd) can give it work.
 */
static int sleep_timeout(const struct vnet_updp *up)
{
	if (up->coal_pending)
		return 1;
	if (!up->attached)
		return -1;
	return vnet_xsk_tx_outstanding(up->xsk[0]) ? 1 : UP_SLEEP_MS;
}

/* Reads (and so clears) a socket's pending error: 0 when there was none. */
static int sock_take_error(int fd)
{
	int err = 0;
	socklen_t len = sizeof(err);

	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len))
		return errno;
	return err;
}

/*
 * A socket of the uplink reports an error (EPOLLERR). The packet socket
 * gets ENETDOWN when the uplink goes down or is unregistered
 * (packet_notifier), and the error stays pending -- level-triggered, it
 * would wake us forever, even after the uplink came back up -- until it is
 * read: so read it. The host port's TAP is ours and not a socket: if it
 * fails it leaves the epoll set (up->lock held).
 */
static void sock_error(struct vnet_updp *up, __u64 which, __u32 events)
{
	int err = 0;

	if (!up->attached)
		return;
	if (which == EV_PKT && up->pkt) {
		err = sock_take_error(vnet_pktring_fd(up->pkt));
		if (events & EPOLLHUP)
			epoll_ctl(up->epfd, EPOLL_CTL_DEL, vnet_pktring_fd(up->pkt), NULL);
	} else if (which == EV_XSK) {
		for (unsigned int i = 0; i < up->nxsk; i++)
			err = sock_take_error(vnet_xsk_fd(up->xsk[i])) ?: err;
	} else if (which == EV_HOST && up->hport) {
		epoll_ctl(up->epfd, EPOLL_CTL_DEL, vnet_host_port_fd(up->hport), NULL);
		err = EIO;
	}
	if (!up->sock_error)
		pr_info("%s: uplink socket error: %s (uplink down or going away)\n", up->ifname,
			strerror(err ?: EIO));
	up->sock_error = true;	/* logged once per attach */
}

static void *up_thread(void *arg)
{
	struct vnet_updp *up = arg;
	__u64 idle_since = 0, now;
	unsigned int empty = 0, work;

	while (!up->stop) {
		struct epoll_event evs[16];
		int n, i, timeout;

		pthread_mutex_lock(&up->lock);
		work = run_round(up);
		pthread_mutex_unlock(&up->lock);
		/* let the control thread in: the mutex is not fair */
		for (i = 0; i < 1000 && __atomic_load_n(&up->ctl_waiting, __ATOMIC_RELAXED); i++)
			sched_yield();
		if (work) {
			idle_since = 0;
			empty = 0;
			continue;
		}
		if (++empty % UP_CLOCK_ROUNDS)
			continue;
		now = vnet_now_ns();
		if (!idle_since)
			idle_since = now;
		if (now - idle_since < UP_POLL_NS)
			continue;
		idle_since = 0;
		pthread_mutex_lock(&up->lock);
		if (up->attached && now - up->last_scan > UP_SCAN_NS) {
			scan_host_addrs(up);
			up->last_scan = now;
		}
		/* sleep until a kick, a frame, a change or the timeout */
		if (!kicks_arm(up)) {
			pthread_mutex_unlock(&up->lock);
			continue;
		}
		timeout = sleep_timeout(up);
		xsk_watch(up, true);
		pthread_mutex_unlock(&up->lock);
		n = epoll_wait(up->epfd, evs, 16, timeout);
		pthread_mutex_lock(&up->lock);
		xsk_watch(up, false);
		for (i = 0; i < n; i++) {
			__u64 v;

			if (evs[i].data.u64 != EV_WAKE && evs[i].data.u64 <= EV_HOST &&
			    (evs[i].events & (EPOLLERR | EPOLLHUP)))
				sock_error(up, evs[i].data.u64, evs[i].events);
			if (evs[i].data.u64 == EV_HOST)
				up->host_due = true;
			if (evs[i].data.u64 == EV_WAKE && read(up->wake_fd, &v, sizeof(v)) < 0)
				continue;
		}
		pthread_mutex_unlock(&up->lock);
	}
	return NULL;
}

static void up_wake(struct vnet_updp *up)
{
	__u64 one = 1;

	if (write(up->wake_fd, &one, sizeof(one)) < 0)
		return;
}

/* --- device hooks (called with dev->lock held: flag + wake only) ---------------- */

static void port_rings_changed(struct vnet_netdev *dev, void *opaque)
{
	struct up_port *p = opaque;

	vnet_devq_rings_changed(&p->dq);
	up_wake(p->up);
}

static void port_state_changed(struct vnet_netdev *dev, __u32 changed, void *opaque)
{
	/* the worker diffs the state each round: it only needs to wake up */
	up_wake(((struct up_port *)opaque)->up);
}

static const struct vnet_netdev_ops port_worker_ops = {
	.rings_changed = port_rings_changed,
	.state_changed = port_state_changed,
	.dirty_log = true,	/* guest memory only through the engine */
};

/* --- open / close --------------------------------------------------------------- */

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
 * their whole state again. Control thread, up->lock held (or no worker).
 */
static void up_detach(struct vnet_updp *up)
{
	struct vnet_pktring_stats ps;
	unsigned int i;
	__u64 mask;

	xsk_watch(up, false);
	if (up->hport) {
		struct vnet_host_port_stats hs;

		vnet_host_port_stats(up->hport, &hs);
		pr_info("%s: host port: %llu frames to the host (%llu refused), %llu from it, "
			"%llu copies to devices, %llu wanted by none\n", up->ifname,
			(unsigned long long)hs.to_host, (unsigned long long)hs.errors,
			(unsigned long long)hs.from_host, (unsigned long long)up->host_copies,
			(unsigned long long)up->host_nobody);
		epoll_ctl(up->epfd, EPOLL_CTL_DEL, vnet_host_port_fd(up->hport), NULL);
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
		epoll_ctl(up->epfd, EPOLL_CTL_DEL, vnet_pktring_fd(up->pkt), NULL);
		/* the program may still run: group frames go to the host alone
		 * from here on, as they would with no vnetd at all */
		vnet_pktring_close(up->pkt);
		up->pkt = NULL;
		up->grp_frames = up->grp_copies = up->grp_nobody = up->grp_malformed = 0;
	}
	/* the engine's output buffers of the last round were UMEM frames */
	for (i = 0; i < UP_BURST; i++)
		up->txb[i].data = NULL;
	for (i = 0; i < up->nxsk; i++) {
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
	up->sock_error = false;
	for (mask = up->port_mask; mask; mask &= mask - 1)
		up->ports[__builtin_ctzll(mask)]->pushed_valid = false;
}

/*
 * Host and devices reach each other through the host port (host_port.h).
 * Only with HOST_SHARED: the devices' group frames the port hands to the
 * host come back through the packet socket, which run_pkt() recognises.
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
	if (!err && epoll_ctl(up->epfd, EPOLL_CTL_ADD, vnet_host_port_fd(up->hport), &ev))
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
	if (!err && epoll_ctl(up->epfd, EPOLL_CTL_ADD, vnet_pktring_fd(up->pkt), &ev))
		err = -errno;
	if (!err)
		err = vnet_dp_set_host_shared(up->dp, 1);
	if (err) {
		pr_warn("%s: no packet socket for the host's group frames (%s): devices that "
			"want broadcast/multicast take them from the host\n", up->ifname,
			strerror(-err));
		if (up->pkt)
			epoll_ctl(up->epfd, EPOLL_CTL_DEL, vnet_pktring_fd(up->pkt), NULL);
		vnet_pktring_close(up->pkt);
		up->pkt = NULL;
		return;
	}
	host_port_start(up);
}

/* A port's device joins the maps of a new program in its reset state. */
static int port_attach(struct vnet_updp *up, struct up_port *p)
{
	struct vnet_netdev *dev = p->dev;

	memset(&p->pushed, 0, sizeof(p->pushed));
	memcpy(p->pushed.mac, dev->params.mac, 6);
	p->pushed_valid = false;
	p->push_warned = false;
	return vnet_dp_dev_add(up->dp, p->slot, dev->params.mac, dev->params.max_vqp);
}

/*
 * The uplink's netdev 'ifindex' gets the datapath: XDP program (native,
 * else generic; datapath.c), one AF_XDP socket per rx queue, the host's
 * addresses, unless DEDICATED the packet socket and the host port, and
 * every port's device in the maps (the worker pushes their state on its
 * next round). All or nothing. Control thread, up->lock held (or no worker).
 */
static int up_attach(struct vnet_updp *up, int ifindex)
{
	struct vnet_dp_opts o = { .mode = VNET_DP_ATTACH_NATIVE, .ifindex = ifindex };
	unsigned int i, nq;
	__u64 mask;
	int err;

	up->ifindex = ifindex;
	detach_stale(up->ifname, ifindex);
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
		err = vnet_xsk_open(up->ifname, i, &up->xsk[i]);
		if (err) {
			pr_warn("%s: AF_XDP socket on queue %u: %s\n", up->ifname, i,
				strerror(-err));
			goto err_detach;
		}
		up->nxsk = i + 1;
		err = vnet_dp_set_xsk(up->dp, i, vnet_xsk_fd(up->xsk[i]));
		if (err)
			goto err_detach;
		/* in the epoll set only while the worker sleeps: xsk_watch() */
	}
	for (mask = up->port_mask; mask; mask &= mask - 1) {
		err = port_attach(up, up->ports[__builtin_ctzll(mask)]);
		if (err)
			goto err_detach;
	}
	if (!(up->flags & VNET_UPDP_DEDICATED))
		host_share_start(up);
	scan_host_addrs(up);
	up->last_scan = vnet_now_ns();
	up->attached = true;
	pr_info("%s: uplink datapath: XDP %s, %u AF_XDP socket(s), copy mode, %s\n", up->ifname,
		vnet_dp_attach_mode_name(up->dp), up->nxsk,
		up->pkt ? "group frames shared with the host" : "dedicated uplink");
	return 0;

err_detach:
	up_detach(up);
	return err;
}

static void up_free(struct vnet_updp *up)
{
	up_detach(up);
	if (up->epfd >= 0)
		close(up->epfd);
	if (up->wake_fd >= 0)
		close(up->wake_fd);
	free(up->discard);
	pthread_mutex_destroy(&up->lock);
	free(up);
}

int vnet_updp_open(const char *ifname, unsigned int flags, struct vnet_updp **out)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.u64 = EV_WAKE };
	struct vnet_updp *up;
	int err, ifindex;

	if (strlen(ifname) >= IFNAMSIZ)
		return -EINVAL;
	up = calloc(1, sizeof(*up));
	if (!up)
		return -ENOMEM;
	snprintf(up->ifname, sizeof(up->ifname), "%s", ifname);
	up->flags = flags;
	up->epfd = up->wake_fd = -1;
	pthread_mutex_init(&up->lock, NULL);
	up->discard = malloc((size_t)UP_BURST * VNET_XSK_FRAME_SIZE);
	up->epfd = epoll_create1(EPOLL_CLOEXEC);
	up->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	err = -ENOMEM;
	if (!up->discard)
		goto err_free;
	if (up->epfd < 0 || up->wake_fd < 0 ||
	    epoll_ctl(up->epfd, EPOLL_CTL_ADD, up->wake_fd, &ev)) {
		err = -errno;
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
	err = -pthread_create(&up->thread, NULL, up_thread, up);
	if (err)
		goto err_free;
	pthread_setname_np(up->thread, "vnetd-uplink");
	up->running = true;
	*out = up;
	return 0;

err_free:
	up_free(up);
	return err;
}

/*
 * The uplink watch's view of the netdev: 'ifindex' (0: no netdev of that
 * name). Gone: the datapath is detached and the worker sleeps. There (again,
 * or a new netdev under the old name): the datapath is attached to it.
 * The program still on the same netdev: nothing to do.
 */
int vnet_updp_set_link(struct vnet_updp *up, int ifindex)
{
	unsigned int ndev;
	int err = 0;

	if (up->attached && ifindex == up->ifindex && vnet_dp_is_attached(up->dp))
		return 0;
	/* nothing to detach; or a netdev that refused us already (said once) */
	if (!up->attached && (!ifindex || ifindex == up->refused_ifindex))
		return 0;
	__atomic_add_fetch(&up->ctl_waiting, 1, __ATOMIC_RELAXED);
	pthread_mutex_lock(&up->lock);
	__atomic_sub_fetch(&up->ctl_waiting, 1, __ATOMIC_RELAXED);
	ndev = (unsigned int)__builtin_popcountll(up->port_mask);
	if (up->attached) {
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
		else
			pr_info("%s: uplink is back (ifindex %d): datapath re-attached for %u "
				"device(s)\n", up->ifname, ifindex, ndev);
	}
	pthread_mutex_unlock(&up->lock);
	up_wake(up);
	return err ? err : ifindex ? 1 : 0;
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
	if (up->running) {
		up->stop = true;
		up_wake(up);
		pthread_join(up->thread, NULL);
	}
	if (up->port_mask)
		pr_warn("%s: closing the uplink with devices attached\n", up->ifname);
	up_free(up);
}

/* --- devices ---------------------------------------------------------------------- */

static void port_free(struct up_port *p)
{
	vnet_devq_fini(&p->dq);
	free(p->rxb);
	free(p->rxn);
	free(p);
}

int vnet_updp_port_add(struct vnet_updp *up, struct vnet_netdev *dev, bool trusted,
		       bool spoofchk, struct vnet_updp_port **out)
{
	struct up_port *p;
	unsigned int slot;
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
	 * kicks wake the worker. Edge-triggered, so the eventfd is never read:
	 * every write is a new edge (fs/eventfd.c wakes on each write).
	 */
	err = vnet_devq_init(&p->dq, dev, up->epfd, EPOLLIN | EPOLLET, false, true);
	if (err)
		goto err_free;
	p->rxb = calloc((size_t)dev->params.max_vqp * UP_RXB, sizeof(*p->rxb));
	p->rxn = calloc(dev->params.max_vqp, sizeof(*p->rxn));
	if (!p->rxb || !p->rxn) {
		err = -ENOMEM;
		goto err_free;
	}
	/* the maps' reset state for the device (vnet_dp_dev_add) */
	memcpy(p->pushed.mac, dev->params.mac, 6);

	__atomic_add_fetch(&up->ctl_waiting, 1, __ATOMIC_RELAXED);
	pthread_mutex_lock(&up->lock);
	__atomic_sub_fetch(&up->ctl_waiting, 1, __ATOMIC_RELAXED);
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
	vnet_netdev_set_worker_ops(dev, &port_worker_ops, p);
	pthread_mutex_unlock(&dev->lock);
	up->ports[slot] = p;
	up->port_mask |= BIT(slot);
	pthread_mutex_unlock(&up->lock);
	up_wake(up);
	*out = (struct vnet_updp_port *)p;
	return 0;

err_unlock:
	pthread_mutex_unlock(&up->lock);
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
	__atomic_add_fetch(&up->ctl_waiting, 1, __ATOMIC_RELAXED);
	pthread_mutex_lock(&up->lock);
	__atomic_sub_fetch(&up->ctl_waiting, 1, __ATOMIC_RELAXED);
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
	pthread_mutex_unlock(&up->lock);
	port_free(p);
}

void vnet_updp_port_set_policy(struct vnet_updp_port *port, bool trusted, bool spoofchk)
{
	struct up_port *p = (struct up_port *)port;

	__atomic_store_n(&p->trusted, trusted, __ATOMIC_RELAXED);
	__atomic_store_n(&p->spoofchk, spoofchk, __ATOMIC_RELAXED);
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

	pthread_mutex_lock(&p->up->lock);
	*st = p->st;
	pthread_mutex_unlock(&p->up->lock);
}

/* --- the uplinks of this process ------------------------------------------------- */

static struct vnet_updp *uplinks[UP_MAX_UPLINKS];

struct vnet_updp *vnet_updp_find(const char *ifname)
{
	for (unsigned int i = 0; i < UP_MAX_UPLINKS; i++)
		if (uplinks[i] && !strcmp(uplinks[i]->ifname, ifname))
			return uplinks[i];
	return NULL;
}

int vnet_updp_open_named(const char *ifname, unsigned int flags)
{
	unsigned int i;
	int err;

	if (vnet_updp_find(ifname))
		return -EEXIST;
	for (i = 0; i < UP_MAX_UPLINKS && uplinks[i]; i++)
		;
	if (i == UP_MAX_UPLINKS)
		return -ENOSPC;
	err = vnet_updp_open(ifname, flags, &uplinks[i]);
	if (err)
		uplinks[i] = NULL;
	return err;
}

void vnet_updp_close_all(void)
{
	for (unsigned int i = 0; i < UP_MAX_UPLINKS; i++) {
		vnet_updp_close(uplinks[i]);
		uplinks[i] = NULL;
	}
}
