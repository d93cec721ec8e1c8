/* SPDX-License-Identifier: MIT */
/*
 * The uplink datapath's insides, shared by its files (the API is
 * include/vnet/uplink_dp.h; docs/ARCHITECTURE.md "Uplink datapath
 * wiring"): XDP + AF_XDP on one uplink and the worker that moves frames
 * between its sockets and the virtqueues of the uplink's devices.
 *
 *   uplink_dp.c      life cycle: open/close, attach/detach as the netdev
 *                    comes and goes (vnet_updp_set_link), ports added and
 *                    removed
 *   uplink_worker.c  the worker's round and its side of the shared loop
 *                    (worker.h): kicks and sockets armed before it sleeps,
 *                    the device hooks that wake it
 *   uplink_push.c    control-queue state -> BPF maps, learned MACs kept
 *                    fresh, the host's addresses
 *   uplink_rx.c      XSK rx, the host's frames (packet socket, host port),
 *                    flood and device-to-device replication -> batches ->
 *                    the devices' receive queues
 *   uplink_tx.c      the devices' transmit queues -> spoof check -> the
 *                    wire, the host port, the other devices; RARP
 *   uplink_gso.c     GSO sends to the wire whole: a packet socket with
 *                    PACKET_VNET_HDR, the kernel (or the NIC) segments
 *   uplink_hold.c    frames a receive queue had no buffer for, held a
 *                    little while (copies) instead of dropped
 *
 * N worker threads per uplink (struct up_wk; docs/ARCHITECTURE.md "Uplink
 * workers"): worker i owns the AF_XDP sockets of uplink queues q with
 * q % N == i and the transmit queue of queue pair k with k % N == i of
 * every device (sent through its own sockets); worker 0 also the control
 * queues, the BPF maps' per-device entries, the packet socket and the host
 * port. Receive queues belong to nobody: whoever holds a frame delivers
 * it under dev->lock, once per batch. A round of worker i:
 *
 *   1. its sockets' completions reaped (transmit frames back on the free
 *      stack);
 *   2. per device, under dev->lock: ring changes, its transmit queues ->
 *      spoof check -> wire (XSK tx ring) and/or local devices (worker 0:
 *      the control queue first); then, without that lock, local frames go
 *      through the one receive decision (vnet_rx_fanout: the receiving
 *      device's filter and RSS exactly as XDP would apply them) into the
 *      batches; worker 0: the control-queue state pushed into the maps if
 *      it moved, the other workers held between two rounds meanwhile;
 *   3. its sockets' XSK rx rings -> metadata -> per (device, queue)
 *      batches; FLOOD frames replicated with the same decision; worker 0,
 *      when the host shares the uplink: the group frames XDP passed to the
 *      host, read from the packet socket's ring (uplink_pkt.c), replicated
 *      the same way; with -K every worker: its own socket of the kernel-GRO
 *      fanout group (uplink_kgro.c), runs per (device, queue) delivered at
 *      once;
 *   4. batches flushed, one vnet_net_rx_burst per (device, queue), each
 *      device locked once per flush; rx frames go back to the fill ring;
 *   5. one kick (sendto) per 32 transmit frames: copy mode needs it.
 *
 * The uplink's netdev may go (deleted, moved) and come back: the control
 * thread detaches everything that belonged to it -- program, sockets, host
 * port -- and worker 0 keeps serving the devices' control queues, every
 * worker drops what its transmit queues send (their link is down), and
 * they sleep otherwise;
 * when a netdev of that name is there again, it attaches anew and every
 * port rejoins the new maps (vnet_updp_set_link).
 *
 * Locks: the workers' locks, by id (a worker: its own for a round; the
 * control thread: all of them for port add/del, attach, detach; worker 0:
 * the others too for a map push), before dev->lock (one device at a time).
 * The device's hooks called with dev->lock held (state_changed,
 * rings_changed) only set a flag and write the wake eventfds, so they
 * never take a worker's lock: no inversion.
 */
#ifndef VNET_UPLINK_INT_H
#define VNET_UPLINK_INT_H

#include <net/if.h>
#include <pthread.h>
#include <stdbool.h>
#include <linux/types.h>

#include "vnet/datapath.h"
#include "vnet/device.h"
#include "vnet/devq.h"
#include "vnet/host_port.h"
#include "vnet/mac_learn.h"
#include "vnet/net.h"
#include "vnet/uplink_dp.h"
#include "vnet/uplink_pkt.h"
#include "vnet/worker.h"
#include "vnet/xsk.h"

#define BIT(n)		(1ull << (n))
#define UP_BURST	64	/* XSK rx peek; tx output buffers (64 KiB GSO) */
#define UP_RXB		64	/* frames per (device, receive queue) batch */
#define UP_LOCAL_MAX	256	/* device-to-device frames per device turn */
#define UP_HOST_ROUNDS	32	/* busy rounds between reads of a quiet host port */
#define UP_SCAN_NS	1000000000ull	/* host IPv4 addresses re-read */
#define UP_PKT_BUDGET	256	/* packet-ring frames per round: XSK gets its turn */
#define UP_HOST_BURST	16	/* host-port frames per round (a read each) */
#define UP_HOST_FRAME	65536	/* a host frame: the TAP's MTU may grow with the uplink's */
#define UP_SG_SLOTS	8	/* multi-buffer frames gathered per batch flush */
#define ETH_HLEN_	14
#define UP_MAX_WORKERS	VNET_DEVQ_MAX_OWNERS
/* a receive queue without buffers: frames kept for it (uplink_hold.c) */
#define UP_HOLD		512	/* frames (~ a 1 MiB ring of 4 KiB buffers' worth) */
#define UP_HOLD_FRAME	2048	/* larger frames are dropped, never held */
#define UP_HOLD_NS	20000000ull	/* a queue taking nothing this long: dropped */
/* the kernel's merged frames (uplink_kgro.c) a queue had no buffer for,
 * copied out of a packet ring so frames for others behind them go on:
 * up to 64 KiB + the Ethernet header, VLAN tags and the virtio-net header */
#define UP_KHOLD	16
#define UP_KHOLD_FRAME	(65536u + 64u)

/* epoll data: these, or a struct vnet_devq_q (a kick, never read) */
enum { EV_WAKE = VNET_WORKER_EV_WAKE, EV_XSK, EV_PKT, EV_HOST, EV_KGRO };

/* One worker's frames for one port, per receive queue, until its flush. */
struct up_batch {
	bool touched;			/* has frames in rxb, or drops in over_mtu */
	unsigned int over_mtu;		/* dropped: longer than the device's MTU */
	struct vnet_rx_pkt *rxb;	/* [max_vqp][UP_RXB] */
	unsigned int *rxn;		/* [max_vqp] */
};

/*
 * One receive queue's held frames: a FIFO of copies (uplink_hold.c), cap
 * slots of size bytes; pk[i].data is in slot i (after the frame's
 * virtio-net header, VNET_RX_F_VHDR).
 */
struct up_hold {
	__u8 *slot;
	struct vnet_rx_pkt *pk;
	unsigned int cap, size;
	unsigned int head, n;
	__u64 since;			/* the queue last took one (or the first came) */
};

struct up_port {
	struct vnet_updp *up;
	struct vnet_netdev *dev;
	unsigned int slot;
	int trusted, spoofchk;		/* __atomic: set by the control thread */
	struct vnet_devq dq;		/* the device's queues */
	struct up_batch b[UP_MAX_WORKERS];	/* [up->nwk]: each worker's own */
	/* what the last updp_push_state() was made from (the maps' shadow,
	 * vnet_dp_state(), holds what it pushed); worker 0 */
	bool pushed_valid;
	__u32 pushed_version;		/* of the control-queue state */
	__u64 pushed_driver;
	unsigned int pushed_active;	/* receive queues set up */
	__u32 pushed_learned;		/* learned.version the MAC table holds */
	/* a push failed: the maps are behind; resynced once a second until
	 * they take it (updp_push_state) */
	bool push_failed;
	unsigned int push_failures;	/* failed attempts in a row */
	__u64 push_retry_ns;
	/* trusted: the source MACs the guest sends from besides its own
	 * (dev->lock, like the rest of a port's device state) */
	struct vnet_mac_learn learned;
	__u64 learn_aged_ns;		/* when learned entries were last aged */
	bool spoof_warned;		/* the log said once why frames drop */
	struct vnet_updp_port_stats st;	/* dev->lock: every worker counts here */
	/* per receive queue (dev->lock): AF_XDP frames (hold) and the
	 * kernel's merged ones (khold); nheld, all of them (read unlocked) */
	struct up_hold *hold, *khold;
	unsigned int nhold_q;
	unsigned int nheld;
};

struct local_frame {
	__u64 addr;
	__u32 len;
	__u8 from;		/* sender's slot */
	__u8 sock;		/* the socket whose UMEM holds the frame */
	bool owned;		/* not on the wire: free after delivery */
};

/* An uplink socket's transmit scratch: frames of its UMEM the engine writes
 * into (only its owner, worker sock % nwk, touches it) */
struct up_txq {
	struct vnet_tx_buf txb[UP_BURST];
	__u64 txaddr[UP_BURST];
};

/*
 * One worker of the uplink (docs/ARCHITECTURE.md "Uplink workers"): the
 * sockets of the uplink queues q with q % nwk == id, the transmit queues
 * of queue pairs k with k % nwk == id of every device; worker 0 also the
 * control queues, the maps, the host port and the packet socket. Its
 * round runs under its own lock, which only the control thread (and
 * worker 0 for a map push) ever takes besides it.
 */
struct up_wk {
	struct vnet_updp *up;
	unsigned int id;
	struct vnet_worker w;		/* the thread, its loop and epoll set */
	pthread_mutex_t lock;
	int ctl_waiting;
	bool xsk_watched;		/* its XSK fds are in epfd (updp_xsk_watch) */
	bool sock_error;		/* a socket it watches reported one (logged) */
	bool coal_pending;
	unsigned int host_rounds;
	struct up_port *touched[VNET_DP_MAX_DEVS];
	unsigned int ntouched;
	__u64 wire_addr[UP_BURST];
	__u32 wire_len[UP_BURST];
	struct local_frame local[UP_LOCAL_MAX];
	unsigned int nlocal;
	struct vnet_xsk_rx rx[UP_BURST];
	__u64 rx_bad_meta, rx_no_port;
	/*
	 * Multi-buffer frames of its sockets, each gathered into a slot of
	 * its own until the batch flush delivers it (uplink_jumbo.c): the
	 * worker's, never shared with another worker, allocated once with it.
	 */
	__u8 (*sg_buf)[VNET_XSK_SG_FRAME_MAX];	/* [UP_SG_SLOTS] */
	unsigned int sg_used;
	__u64 rx_over_mtu;		/* frames longer than a device's MTU */
	/* detached: transmit buffers whose frames are dropped (updp_port_tx_drop) */
	struct vnet_tx_buf dtxb[UP_BURST];
	__u8 (*discard)[VNET_XSK_FRAME_SIZE];	/* [UP_BURST] */
	/* its GSO sends to the wire whole (uplink_gso.c): a packet socket of
	 * its own, as its AF_XDP sockets; NULL: segmented in software */
	struct up_gso *gso;
};

struct vnet_updp {
	char ifname[IFNAMSIZ];
	unsigned int flags;		/* VNET_UPDP_* */
	/*
	 * The uplink's netdev, its XDP program and sockets, or none of them:
	 * the uplink is gone (deleted, not there yet) or refused XDP. Made and
	 * dropped by the control thread with every worker's lock held
	 * (up_attach/up_detach); while detached worker 0 still serves the
	 * devices' control queues, every worker drops what its transmit
	 * queues send (their link is down), and they sleep.
	 */
	bool attached;
	int ifindex;			/* of the attached netdev */
	int refused_ifindex;		/* the netdev that refused the last attach */
	struct vnet_dp *dp;
	unsigned int nxsk;
	struct vnet_xsk *xsk[VNET_DP_MAX_QUEUES];
	struct up_txq txq[VNET_DP_MAX_QUEUES];
	unsigned int nwk;
	struct up_wk *wk[UP_MAX_WORKERS];
	/* the ports: changed with every worker's lock held, so stable in a round */
	struct up_port *ports[VNET_DP_MAX_DEVS];
	__u64 port_mask;
	/* HOST_SHARED: the host's group frames, copied (NULL: dedicated uplink);
	 * worker 0 */
	struct vnet_pktring *pkt;
	struct vnet_pkt_frame pf[UP_BURST];
	__u64 grp_frames, grp_copies, grp_nobody, grp_malformed;
	/* HOST_SHARED: host <-> devices without the wire (host_port.h); read by
	 * worker 0, written to by every worker (a write(2) each) */
	struct vnet_host_port *hport;
	__u8 (*hbuf)[UP_HOST_FRAME];	/* [UP_HOST_BURST] */
	bool host_due;			/* read the host port this round */
	__u64 host_frames, host_copies, host_nobody;
	/* VNET_UPDP_KGRO: TCP the kernel's GRO coalesced, from packet
	 * sockets in a fanout group (uplink_kgro.c); worker i: ring i */
	struct up_kgro *kgro;
	__u32 host4[VNET_DP_MAX_HOST_IPS];
	unsigned int nhost4;
	__u64 last_scan;
	/* multi-buffer (uplink_jumbo.c): what the uplink's MTU asked for at
	 * attach, and what the sockets got (0: one UMEM frame per packet) */
	__u32 frame_want;
	__u32 frame_max;
};

/* The socket a worker transmits queue pair 'k' through, or -1: none. */
static inline int updp_tx_sock(const struct vnet_updp *up, unsigned int k)
{
	unsigned int id = k % up->nwk, n;

	if (id >= up->nxsk)
		return -1;
	n = (up->nxsk - id + up->nwk - 1) / up->nwk;	/* sockets it owns */
	return (int)(id + k / up->nwk % n * up->nwk);
}

/* uplink_dp.c: worker 0 takes the other workers' locks (a map push) */
void updp_lock_others(struct vnet_updp *up);
void updp_unlock_others(struct vnet_updp *up);

/* uplink_worker.c: the shared loop's operations, the device hooks */
extern const struct vnet_worker_ops updp_loop_ops;
extern const struct vnet_netdev_ops updp_port_ops;
void updp_xsk_watch(struct up_wk *wk, bool on);

/* uplink_jumbo.c */
__u32 updp_frame_max(const char *ifname, bool verbose);
__u32 updp_mtu_max(const struct vnet_updp *up, const char **why);
int updp_xsk_open(const char *ifname, __u32 queue, __u32 frame_max, struct vnet_xsk **x);
bool updp_rx_fits(const struct up_port *p, const __u8 *data, __u32 len);

/* uplink_push.c (worker 0 with every worker's lock; push_state and
 * learning: dev->lock too) */
void updp_scan_host_addrs(struct vnet_updp *up);
void updp_learn_maintain(struct up_port *p);
bool updp_push_due(const struct up_port *p, const struct vnet_net_state *st);
void updp_push_state(struct up_port *p, const struct vnet_net_state *st);

/* uplink_rx.c (wk->lock held; run_pkt, run_host: worker 0) */
unsigned int updp_run_rx(struct up_wk *wk);
unsigned int updp_run_pkt(struct up_wk *wk);
unsigned int updp_run_host(struct up_wk *wk);
int updp_replicate(struct up_wk *wk, const __u8 *data, __u32 len, __u64 exclude,
		   bool copy);
void updp_flush_touched(struct up_wk *wk);
unsigned int updp_deliver_now(struct up_port *p, unsigned int qi,
			      const struct vnet_rx_pkt *pk, unsigned int n, unsigned int *parked);
void updp_batch_add(struct up_wk *wk, struct up_port *p, const struct vnet_xdp_meta *m,
		    const __u8 *data, __u32 len, bool fits, __u16 flags);
/* held frames of ports this worker retries (slot % nwk == id); work done */
unsigned int updp_hold_retry(struct up_wk *wk);
bool updp_holding(const struct up_wk *wk);

/* uplink_hold.c (dev->lock held, but for alloc/free); h is p->hold + r or
 * p->khold + r */
int updp_hold_alloc(struct up_port *p, unsigned int nq);
void updp_hold_free(struct up_port *p);
void updp_hold_add(struct up_port *p, struct up_hold *h, struct vnet_netq *nq,
		   const struct vnet_rx_pkt *pk, unsigned int n, __u64 mask, __u64 now);
unsigned int updp_hold_deliver(struct up_port *p, struct up_hold *h, struct vnet_netq *nq,
			       __u64 now);
/* everything h holds, dropped (and counted on nq if not NULL) */
void updp_hold_drop(struct up_port *p, struct up_hold *h, struct vnet_netq *nq);
/* queue r's merged frames (counted in rx_kgro too); how many it took */
unsigned int updp_khold_deliver(struct up_port *p, unsigned int r, struct vnet_netq *nq,
				__u64 now);
/* queue r's frames of both kinds: delivered (how many), dropped */
unsigned int updp_hold_deliver_queue(struct up_port *p, unsigned int r, struct vnet_netq *nq,
				     __u64 now);
void updp_hold_drop_queue(struct up_port *p, unsigned int r);
static inline bool updp_queue_holds(const struct up_port *p, unsigned int r)
{
	return p->hold[r].n || p->khold[r].n;
}

/* uplink_gso.c: open/close with the attach (every worker's lock held), one
 * socket per worker; send: that worker */
struct up_gso;
int updp_gso_open(struct vnet_updp *up);
void updp_gso_close(struct vnet_updp *up);
bool updp_gso_send(struct up_wk *wk, const struct vnet_tx_gso_frame *f);

/* uplink_kgro.c: open/close with the attach (every worker's lock held);
 * run, stalled, arm: each worker its own socket's ring */
struct up_kgro;
int updp_kgro_open(struct vnet_updp *up);
void updp_kgro_close(struct vnet_updp *up);
unsigned int updp_run_kgro(struct up_wk *wk);
int updp_kgro_fd(const struct vnet_updp *up, unsigned int wk);
/* a guest without buffers stopped the ring: poll it at most every 1 ms */
bool updp_kgro_stalled(const struct up_wk *wk);
void updp_kgro_arm(struct up_wk *wk);

/* uplink_tx.c (wk->lock held; the port's: dev->lock too, local_deliver: not) */
unsigned int updp_port_tx(struct up_wk *wk, struct up_port *p,
			  const struct vnet_net_state *st);
unsigned int updp_port_tx_drop(struct up_wk *wk, struct up_port *p);
void updp_port_rarp(struct up_wk *wk, struct up_port *p);
void updp_local_deliver(struct up_wk *wk, struct up_port *from);

#endif
