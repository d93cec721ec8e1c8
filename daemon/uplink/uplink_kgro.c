// SPDX-License-Identifier: MIT
/*
 * TCP for the devices coalesced by the kernel (VNET_UPDP_KGRO,
 * VNET_DP_CFG_KGRO in dp_layout.h). Through AF_XDP every 1500-byte segment
 * costs the kernel an skb, a copy into the UMEM and a free, and vnetd a
 * checksum and a copy (copy mode: veth has nothing else). Here the XDP
 * program passes a device's TCP segment to the stack with its metadata,
 * the uplink's NAPI GRO merges a flow's segments into frames of up to 64
 * KiB (veth GROs with GRO on: we turn it on), and vnetd takes each merged
 * frame from this packet socket with its virtio-net header
 * (PACKET_VNET_HDR: gso_type, gso_size, csum_start/offset -- what a guest
 * with GUEST_TSO4/6 wants). Packet taps run before TC ingress, where
 * bpf/vnet_kgro_tc.bpf.c drops the frame by its metadata, so the host's
 * stack never processes it.
 *
 * The socket: ETH_P_ALL on the uplink, PACKET_IGNORE_OUTGOING, a classic
 * BPF filter that takes only untagged unicast TCP not for the host
 * (PACKET_OTHERHOST: the kernel compared the destination with the
 * uplink's MAC) -- the XDP program's test (kgro_tcp) -- and a TPACKET_V2
 * ring of 64 KiB slots: a slot per frame, handed over at once (V3 hands
 * over a block when full or after a timeout, which would delay a flow's
 * frames by up to a millisecond). One such socket per uplink worker, all
 * in one PACKET_FANOUT_HASH group: the kernel hands each merged frame to
 * the socket its flow hash picks, so a flow's frames stay on one worker,
 * in order, while the flows spread over the workers (_QM would follow the
 * uplink's receive queue, which is one for every flow on a single-queue
 * uplink; _CPU the CPU that ran the uplink's NAPI, which moves with the
 * sender and would reorder a flow across two rings). Each worker walks
 * its own ring in place, classifies each frame with the C reference
 * (vnet_rx_fanout, the device's filters and steering, as the XDP program
 * did) and batches it with VNET_RX_F_VHDR; the engine honours the
 * guest's offloads (net_rx.c). No copy besides the kernel's into the ring
 * and ours into the guest, no syscall per frame, no lock but dev->lock
 * for a run's delivery (as for XSK frames).
 */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>
#include <net/if.h>
#include <linux/ethtool.h>
#include <linux/filter.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <linux/sockios.h>
#include <bpf/libbpf.h>

#include "pkt_ring.h"
#include "uplink_int.h"
#include "vnet/log.h"
#include "vnet/netutil.h"
#include "vnet_kgro_tc.skel.h"

#ifndef PACKET_FANOUT_FLAG_IGNORE_OUTGOING
#define PACKET_FANOUT_FLAG_IGNORE_OUTGOING	0x4000	/* Linux 6.9 */
#endif

/*
 * A slot holds the tpacket2 header, the virtio-net header and a frame of
 * up to 64 KiB + Ethernet header (GRO stops short of 64 KiB of IP).
 */
#define KGRO_SLOT	(17u * 4096u)
#define KGRO_SLOTS	128u
#define KGRO_TC_HANDLE	0x766b
#define KGRO_TC_PRIO	1
#define VHDR_LEN	sizeof(struct virtio_net_hdr)

/* One worker's socket of the fanout group and its ring: only it touches them. */
struct kgro_ring {
	int fd;
	__u8 *map;
	unsigned int cur;		/* next slot */
	bool stalled;			/* a guest without buffers stopped the walk */
	bool armed;			/* EPOLLIN in its worker's set (updp_kgro_arm) */
	__u64 stall_since;		/* ns; 0: not stalled */
	/* while stalled: slots from cur up to scan_end hold only frames for
	 * the stalled queue (or none to deliver); scan_end is -1 if unknown */
	int scan_end;
	/* frames to guests (GSO ones), nobody's, cut, over a device's MTU,
	 * dropped after UP_HOLD_NS without buffers, copied to a queue's
	 * khold for others' frames behind them */
	__u64 frames, gso, nobody, cut, over_mtu, stall_drops, parked;
} __attribute__((aligned(64)));	/* workers' counters on lines of their own */

struct up_kgro {
	int ifindex;
	bool gro_set;			/* we turned GRO on: off again at close */
	bool tc_attached;
	struct vnet_kgro_tc *skel;
	unsigned int nring;		/* = the uplink's workers */
	struct kgro_ring ring[];	/* [nring]: worker i reads ring[i] */
};

#define KGRO_MAP_LEN	((size_t)KGRO_SLOT * KGRO_SLOTS)

/*
 * ld mark; jeq HOST_PORT_MARK -> drop; ld pkttype; jne OTHERHOST -> drop;
 * ld vlan_avail; jne 0 -> drop; ldh [12]; IPv4: ldb [14] == 0x45, ldb [23]
 * == TCP, ldh [20] & 0x3fff == 0 (no fragment); IPv6: ldb [20] == TCP.
 */
static struct sock_filter kgro_filter[] = {
	/* 0 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + SKF_AD_MARK),
	/* 1 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, VNET_HOST_PORT_MARK, 16, 0),
	/* 2 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + SKF_AD_PKTTYPE),
	/* 3 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, PACKET_OTHERHOST, 0, 14),
	/* 4 */ BPF_STMT(BPF_LD | BPF_W | BPF_ABS, SKF_AD_OFF + SKF_AD_VLAN_TAG_PRESENT),
	/* 5 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 0, 12),
	/* 6 */ BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 12),
	/* 7 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IP, 0, 6),
	/* 8 */ BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 14),
	/* 9 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0x45, 0, 8),
	/* 10 */ BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 23),
	/* 11 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 6, 0, 6),
	/* 12 */ BPF_STMT(BPF_LD | BPF_H | BPF_ABS, 20),
	/* 13 */ BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, 0x3fff, 4, 3),
	/* 14 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ETH_P_IPV6, 0, 3),
	/* 15 */ BPF_STMT(BPF_LD | BPF_B | BPF_ABS, 20),
	/* 16 */ BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 6, 0, 1),
	/* 17 */ BPF_STMT(BPF_RET | BPF_K, 0xffffffffu),
	/* 18 */ BPF_STMT(BPF_RET | BPF_K, 0),
};

static struct tpacket2_hdr *slot_hdr(const struct kgro_ring *r, unsigned int i)
{
	return (struct tpacket2_hdr *)(r->map + (size_t)i * KGRO_SLOT);
}

/* GRO on the uplink (veth has it off); -errno. */
static int gro_set(const char *ifname, __u32 on, __u32 *was)
{
	struct ethtool_value ev = { .cmd = ETHTOOL_GGRO };
	struct ifreq ifr;
	int err;

	memset(&ifr, 0, sizeof(ifr));
	snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", ifname);
	ifr.ifr_data = (void *)&ev;
	err = vnet_if_ioctl(SIOCETHTOOL, &ifr);
	if (err)
		return err;
	if (was)
		*was = ev.data;
	if (ev.data == on)
		return 0;
	ev.cmd = ETHTOOL_SGRO;
	ev.data = on;
	return vnet_if_ioctl(SIOCETHTOOL, &ifr);
}

static int tc_attach(struct up_kgro *k)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = k->ifindex,
			    .attach_point = BPF_TC_INGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, o, .handle = KGRO_TC_HANDLE, .priority = KGRO_TC_PRIO,
			    .flags = BPF_TC_F_REPLACE);
	libbpf_print_fn_t old;
	int err;

	k->skel = vnet_kgro_tc__open_and_load();
	if (!k->skel)
		return -errno ?: -ENOMEM;
	o.prog_fd = bpf_program__fd(k->skel->progs.vnet_kgro_ingress);
	/* "exists" is no news: quiet (host_port.c does the same) */
	old = libbpf_set_print(NULL);
	err = bpf_tc_hook_create(&hook);
	libbpf_set_print(old);
	if (err && err != -EEXIST)
		return err;
	err = bpf_tc_attach(&hook, &o);
	k->tc_attached = !err;
	return err;
}

static void tc_detach(struct up_kgro *k)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = k->ifindex,
			    .attach_point = BPF_TC_INGRESS);
	DECLARE_LIBBPF_OPTS(bpf_tc_opts, o, .handle = KGRO_TC_HANDLE, .priority = KGRO_TC_PRIO);

	if (k->tc_attached) {
		int err = bpf_tc_detach(&hook, &o);

		if (err && err != -ENOENT && err != -ENODEV)
			pr_warn("kgro: TC filter on ifindex %d not removed: %s\n", k->ifindex,
				strerror(-err));
	}
	vnet_kgro_tc__destroy(k->skel);
}

/*
 * Joins r's socket (bound) to the uplink's fanout group: the first one
 * makes it (the kernel picks an unused id), the others join that id.
 * Outgoing frames ignored by the group where the kernel can (the
 * sockets' own PACKET_IGNORE_OUTGOING does not apply in a group); before
 * Linux 6.9 the filter refuses them instead (not PACKET_OTHERHOST).
 */
static int fanout_join(struct kgro_ring *r, int *id, int *flags)
{
	socklen_t len = sizeof(int);
	int arg;

	for (;;) {
		arg = *id >= 0 ? (*id | *flags << 16) :
				 (*flags | PACKET_FANOUT_FLAG_UNIQUEID) << 16;
		if (!setsockopt(r->fd, SOL_PACKET, PACKET_FANOUT, &arg, sizeof(arg)))
			break;
		if (errno != EINVAL || !(*flags & PACKET_FANOUT_FLAG_IGNORE_OUTGOING) || *id >= 0)
			return -errno;
		*flags &= ~PACKET_FANOUT_FLAG_IGNORE_OUTGOING;
	}
	if (*id < 0) {
		if (getsockopt(r->fd, SOL_PACKET, PACKET_FANOUT, &arg, &len))
			return -errno;
		*id = arg & 0xffff;
	}
	return 0;
}

/*
 * Until it joins the group, the socket sees all that the others see:
 * harmless, nothing is passed for GRO before vnet_dp_set_kgro.
 */
static int ring_open(struct kgro_ring *r, int ifindex)
{
	static const struct sock_fprog prog = {
		.len = sizeof(kgro_filter) / sizeof(kgro_filter[0]),
		.filter = kgro_filter,
	};
	static const struct tpacket_req req = {
		.tp_block_size = KGRO_SLOT,
		.tp_block_nr = KGRO_SLOTS,
		.tp_frame_size = KGRO_SLOT,
		.tp_frame_nr = KGRO_SLOTS,
	};
	const struct pkt_ring_cfg cfg = {
		.ifindex = ifindex,
		.filter = &prog,
		.version = TPACKET_V2,
		.req = &req,
		.req_len = sizeof(req),
		.map_len = KGRO_MAP_LEN,
		.vnet_hdr = true,
	};
	void *map;
	int err;

	err = pkt_ring_open(&cfg, &r->fd, &map);
	if (!err)
		r->map = map;
	return err;
}

static void kgro_free(struct vnet_updp *up, struct up_kgro *k)
{
	unsigned int i;

	tc_detach(k);
	for (i = 0; i < k->nring; i++) {
		struct kgro_ring *r = &k->ring[i];

		if (r->map != MAP_FAILED)
			munmap(r->map, KGRO_MAP_LEN);
		if (r->fd >= 0)
			close(r->fd);
	}
	if (k->gro_set)
		gro_set(up->ifname, 0, NULL);
	free(k);
}

/*
 * Socket, ring and TC program first, then the flag: no frame the XDP
 * program passes for GRO is without a reader. Every worker's lock held.
 */
int updp_kgro_open(struct vnet_updp *up)
{
	struct up_kgro *k;
	unsigned int i;
	__u32 was = 0;
	int err, id = -1, flags = PACKET_FANOUT_HASH | PACKET_FANOUT_FLAG_IGNORE_OUTGOING;

	k = aligned_alloc(64, sizeof(*k) + up->nwk * sizeof(k->ring[0]));
	if (!k)
		return -ENOMEM;
	memset(k, 0, sizeof(*k) + up->nwk * sizeof(k->ring[0]));
	k->nring = up->nwk;
	for (i = 0; i < k->nring; i++) {
		k->ring[i].fd = -1;
		k->ring[i].map = MAP_FAILED;
		k->ring[i].armed = true;	/* kgro_start adds it with EPOLLIN */
		k->ring[i].scan_end = -1;
	}
	k->ifindex = up->ifindex;
	err = gro_set(up->ifname, 1, &was);
	if (err)
		goto err;
	k->gro_set = !was;
	for (i = 0; i < k->nring && !err; i++)
		err = ring_open(&k->ring[i], k->ifindex) ?: fanout_join(&k->ring[i], &id, &flags);
	err = err ?: tc_attach(k) ?: vnet_dp_set_kgro(up->dp, 1);
	if (err)
		goto err;
	up->kgro = k;
	return 0;
err:
	kgro_free(up, k);
	return err;
}

int updp_kgro_fd(const struct vnet_updp *up, unsigned int wk)
{
	return up->kgro && wk < up->kgro->nring ? up->kgro->ring[wk].fd : -1;
}

void updp_kgro_close(struct vnet_updp *up)
{
	struct up_kgro *k = up->kgro;
	struct kgro_ring t = { 0 };
	char per[UP_MAX_WORKERS * 24] = "";
	__u64 ring_full = 0;
	size_t off = 0;
	unsigned int i;

	if (!k)
		return;
	for (i = 0; i < k->nring; i++) {
		const struct kgro_ring *r = &k->ring[i];
		struct tpacket_stats ps = { 0 };
		socklen_t len = sizeof(ps);

		/* the kernel's: frames it found no free slot for */
		if (!getsockopt(r->fd, SOL_PACKET, PACKET_STATISTICS, &ps, &len))
			ring_full += ps.tp_drops;
		t.frames += r->frames;
		t.gso += r->gso;
		t.nobody += r->nobody;
		t.cut += r->cut;
		t.over_mtu += r->over_mtu;
		t.stall_drops += r->stall_drops;
		t.parked += r->parked;
		off += (size_t)snprintf(per + off, sizeof(per) - off, "%s%llu", i ? " " : "",
					(unsigned long long)r->frames);
	}
	pr_info("%s: kernel GRO path: %llu frames to devices (%llu GSO), %llu wanted by none, "
		"%llu cut, %llu over a device's MTU, %llu dropped without guest buffers, "
		"%llu with the rings full, %llu copied out for frames behind them; "
		"frames per worker: %s\n",
		up->ifname, (unsigned long long)t.frames, (unsigned long long)t.gso,
		(unsigned long long)t.nobody, (unsigned long long)t.cut,
		(unsigned long long)t.over_mtu, (unsigned long long)t.stall_drops,
		(unsigned long long)ring_full, (unsigned long long)t.parked, per);
	/* the program stops passing first (the maps may already be gone) */
	if (up->dp)
		vnet_dp_set_kgro(up->dp, 0);
	kgro_free(up, k);
	up->kgro = NULL;
}

/*
 * Whether a frame's segments fit the device's MTU (spec 5.1.4.1): for a
 * GSO frame, its headers and gso_size; else the frame.
 */
static bool kgro_fits(const struct up_port *p, const __u8 *data, __u32 len)
{
	const struct virtio_net_hdr *h = (const void *)(data - VHDR_LEN);
	__u32 l4 = le16toh(h->csum_start), mtu;

	if (h->gso_type == VIRTIO_NET_HDR_GSO_NONE)
		return updp_rx_fits(p, data, len);
	/* a bad header: let the engine refuse and count it */
	if (l4 + 20 > len)
		return true;
	mtu = p->dev->params.mtu ? p->dev->params.mtu : 1500;
	return l4 - ETH_HLEN_ + (data[l4 + 12] >> 4) * 4u + le16toh(h->gso_size) <= mtu;
}

/* One frame of a run: its ring slot, and whether it goes to the guest. */
struct kgro_ent {
	unsigned int slot;
	bool valid, gso;
};

/* The run's frames up to the taken-th valid one go back to the kernel. */
static unsigned int run_release(struct kgro_ring *k, const struct kgro_ent *e, unsigned int n,
				unsigned int taken)
{
	unsigned int i;

	for (i = 0; i < n; i++) {
		if (e[i].valid && !taken--)
			break;
		k->frames += e[i].valid;
		k->gso += e[i].gso;
		__atomic_store_n(&slot_hdr(k, e[i].slot)->tp_status, TP_STATUS_KERNEL,
				 __ATOMIC_RELEASE);
	}
	return i;
}

/* The slot holds a whole untagged frame with its header (not cut by the ring). */
static bool slot_whole(const struct tpacket2_hdr *h, __u32 st)
{
	return h->tp_snaplen >= h->tp_len && h->tp_mac >= sizeof(*h) + VHDR_LEN &&
	       h->tp_mac + (size_t)h->tp_snaplen <= KGRO_SLOT && !(st & TP_STATUS_VLAN_VALID);
}

enum kgro_dest { KGRO_OK, KGRO_CUT, KGRO_NOBODY, KGRO_OVER_MTU };

/*
 * Where the frame of slot h goes (*port, *qi, its metadata in m[0]), as the
 * XDP program decided: the C reference over the device's filters and
 * steering, and the device's MTU against the segment size.
 */
static enum kgro_dest kgro_dest(struct vnet_updp *up, const struct tpacket2_hdr *h, __u32 st,
				struct vnet_xdp_meta *m, struct up_port **port, unsigned int *qi)
{
	const __u8 *data;
	struct up_port *p;

	/* cut by the ring, or no room for the header: not the frame */
	if (!slot_whole(h, st))
		return KGRO_CUT;
	data = (const __u8 *)h + h->tp_mac;
	if (vnet_rx_fanout(vnet_dp_state(up->dp), data, h->tp_snaplen, ~up->port_mask, false,
			   m) != 1 || !(p = up->ports[m[0].dev]))
		return KGRO_NOBODY;
	if (!kgro_fits(p, data, h->tp_snaplen))
		return KGRO_OVER_MTU;
	*port = p;
	*qi = m[0].queue < p->dev->params.max_vqp ? m[0].queue : 0;
	return KGRO_OK;
}

/*
 * A frame of slot s for the run, or false (released at once by the run:
 * cut, nobody's, over the MTU). *port, *qi: where it goes.
 */
static bool kgro_frame(struct vnet_updp *up, struct kgro_ring *k, struct tpacket2_hdr *h,
		       __u32 st, struct vnet_rx_pkt *pk, struct up_port **port, unsigned int *qi)
{
	struct vnet_xdp_meta m[VNET_DP_MAX_DEVS];
	const __u8 *data = (const __u8 *)h + h->tp_mac;

	switch (kgro_dest(up, h, st, m, port, qi)) {
	case KGRO_OK:
		break;
	case KGRO_CUT:
		k->cut++;
		return false;
	case KGRO_NOBODY:
		k->nobody++;
		return false;
	case KGRO_OVER_MTU:
		k->over_mtu++;
		return false;
	}
	pk->data = data;
	pk->len = h->tp_snaplen;
	pk->hash_value = m[0].hash;
	pk->hash_report = m[0].report;
	pk->flags = VNET_RX_F_VHDR;
	return true;
}

/*
 * Whether a frame the kernel put after the first n slots from cur is for
 * another (device, queue) than (port, qi): someone a stalled queue would
 * keep waiting. Frames that will not be delivered (cut, nobody's, too
 * long) wait for nobody. While the walk stays stalled, what was scanned is
 * remembered (scan_end), so a round reads only what came since.
 */
static bool kgro_others_behind(struct vnet_updp *up, struct kgro_ring *k, unsigned int n,
			       const struct up_port *port, unsigned int qi)
{
	unsigned int j = n;

	if (k->scan_end >= 0) {
		unsigned int known = ((unsigned int)k->scan_end + KGRO_SLOTS - k->cur) % KGRO_SLOTS;

		if (known > j)
			j = known;
	}
	for (; j < KGRO_SLOTS; j++) {
		unsigned int s = (k->cur + j) % KGRO_SLOTS;
		struct tpacket2_hdr *h = slot_hdr(k, s);
		__u32 st = __atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE);
		struct vnet_xdp_meta m[VNET_DP_MAX_DEVS];
		struct up_port *p;
		unsigned int q;

		if (!(st & TP_STATUS_USER))
			break;
		if (kgro_dest(up, h, st, m, &p, &q) == KGRO_OK && (p != port || q != qi))
			return true;
	}
	k->scan_end = (int)((k->cur + j) % KGRO_SLOTS);
	return false;
}

/*
 * The ring in order, in runs of frames for one (device, queue), each run
 * one burst under dev->lock. A frame the guest has no buffer for stays in
 * the ring (the kernel's queue: up to KGRO_SLOTS frames, then it drops, as
 * a NIC's ring would) and the walk stops there until the next round, as
 * long as no frame for another queue waits behind it; when one does, the
 * stalled queue's frames are copied to its khold (UP_KHOLD frames, the
 * rest dropped) and the walk goes on, so a guest that stopped reading
 * holds up nobody but itself. A frame that stays in the ring without
 * progress for UP_HOLD_NS is dropped.
 */
unsigned int updp_run_kgro(struct up_wk *wk)
{
	struct vnet_updp *up = wk->up;
	struct kgro_ring *k;
	struct kgro_ent e[UP_RXB + 1];
	struct vnet_rx_pkt pk[UP_RXB];
	unsigned int work = 0;

	if (!up->kgro || wk->id >= up->kgro->nring)
		return 0;
	k = &up->kgro->ring[wk->id];
	while (work < UP_PKT_BUDGET) {
		struct up_port *port = NULL, *fp;
		unsigned int n = 0, nv = 0, qi = 0, fq, taken, done, parked = 0;
		bool others = false;

		/* a run: consecutive frames for one (device, queue) */
		while (n < UP_RXB + 1 && nv < UP_RXB) {
			unsigned int s = (k->cur + n) % KGRO_SLOTS;
			struct tpacket2_hdr *h = slot_hdr(k, s);
			__u32 st = __atomic_load_n(&h->tp_status, __ATOMIC_ACQUIRE);

			if (!(st & TP_STATUS_USER))
				break;
			if (!kgro_frame(up, k, h, st, &pk[nv], &fp, &fq)) {
				e[n++] = (struct kgro_ent){ s, false, false };
				continue;
			}
			if (nv && (fp != port || fq != qi)) {
				others = true;
				break;
			}
			port = fp;
			qi = fq;
			e[n++] = (struct kgro_ent){ s, true,
						    ((const struct virtio_net_hdr *)
						     (pk[nv].data - VHDR_LEN))->gso_type != 0 };
			nv++;
		}
		if (!n)
			break;
		taken = nv ? updp_deliver_now(port, qi, pk, nv, NULL) : 0;
		if (taken < nv && (others || kgro_others_behind(up, k, n, port, qi))) {
			taken += updp_deliver_now(port, qi, pk + taken, nv - taken, &parked);
			k->parked += parked;
		}
		if (taken < nv && !k->stall_since)
			k->stall_since = vnet_now_ns();
		if (taken < nv && !taken && vnet_now_ns() - k->stall_since > UP_HOLD_NS) {
			k->stall_drops++;
			taken = 1;	/* the oldest goes, the next one gets its turn */
		}
		if (taken)
			k->stall_since = 0;
		done = run_release(k, e, n, taken);
		k->cur = (k->cur + done) % KGRO_SLOTS;
		work += done;
		if (done)
			k->scan_end = -1;
		if (taken < nv) {
			k->stalled = true;
			break;
		}
		k->stalled = false;
	}
	return work;
}

bool updp_kgro_stalled(const struct up_wk *wk)
{
	const struct up_kgro *k = wk->up->kgro;

	return k && wk->id < k->nring && k->ring[wk->id].stalled;
}

/*
 * Before a worker sleeps: its socket in its epoll set only while the walk
 * is not stalled. A stalled frame keeps the ring readable, which would
 * wake the worker at once, forever; stalled, it looks every 1 ms instead
 * (sleep_timeout), as for held frames.
 */
void updp_kgro_arm(struct up_wk *wk)
{
	struct up_kgro *kg = wk->up->kgro;
	struct epoll_event ev = { .data.u64 = EV_KGRO };
	struct kgro_ring *k;
	bool want;

	if (!kg || wk->id >= kg->nring)
		return;
	k = &kg->ring[wk->id];
	want = !k->stalled;
	if (want == k->armed)
		return;
	ev.events = want ? EPOLLIN : 0;
	if (!epoll_ctl(wk->w.epfd, EPOLL_CTL_MOD, k->fd, &ev))
		k->armed = want;
}
