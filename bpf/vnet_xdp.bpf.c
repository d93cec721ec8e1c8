// SPDX-License-Identifier: MIT
/*
 * vnet uplink receive: which device wants the frame (MAC map, rx mode,
 * VLAN set), which of its receive queues and with which hash (RSS or
 * automatic steering, Toeplitz by table), a metadata block in front of the
 * frame, then a redirect to the AF_XDP socket of the uplink queue it came in
 * on (the kernel lets a socket receive only from its own device and queue).
 * Frames no device wants go on to the host with XDP_PASS.
 *
 * The answers must equal the C reference, daemon/rx_filter.c; the maps are
 * written by daemon/datapath.c. Layouts: include/vnet/datapath.h.
 */
#include <linux/bpf.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "vnet/datapath.h"
#include "parse.h"
#include "hash.h"

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vnet_dp_filter);
} filter SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VNET_DP_MAX_MACS);
	__type(key, struct vnet_dp_mac_key);
	__type(value, __u64);			/* device set (+ VNET_DP_HOST_BIT) */
} mac_devs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VNET_VLAN_N);
	__type(key, __u32);
	__type(value, __u64);			/* devices admitting this VID */
} vlan_devs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VNET_DP_MAX_DEVS);
	__type(key, __u32);
	__type(value, __u32);			/* live steer slot, 0 or 1 */
} dev_slot SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VNET_DP_MAX_DEVS * 2);
	__type(key, __u32);
	__type(value, struct vnet_dp_steer);
} steer SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VNET_DP_MAX_DEVS * 2);
	__type(key, __u32);
	__type(value, struct vnet_toeplitz_table);
} keytbl SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, VNET_DP_MAX_HOST_IPS);
	__type(key, __u32);			/* IPv4 address, network order */
	__type(value, __u8);
} host_ipv4 SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, VNET_DP_MAX_QUEUES);
	__type(key, __u32);
	__type(value, __u32);
} xsks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, VNET_DP_COUNTER_SLOTS);
	__type(key, __u32);
	__type(value, struct vnet_dp_counters);
} counters SEC(".maps");

static __always_inline void count(__u32 slot, __u32 what)
{
	struct vnet_dp_counters *c = bpf_map_lookup_elem(&counters, &slot);

	if (c && what < VNET_CNT_MAX)
		c->c[what]++;
}

/* One counter for every device of a set (drop paths only). */
struct devs_count {
	__u64 devs;
	__u32 what;
};

static long count_dev_step(__u32 d, void *data)
{
	struct devs_count *c = data;

	if ((c->devs >> d) & 1)
		count(d, c->what);
	return 0;
}

static __always_inline void count_devs(__u64 devs, __u32 what)
{
	struct devs_count c = { .devs = devs, .what = what };

	/* bpf_loop: the verifier checks the body once, not 63 times */
	bpf_loop(VNET_DP_MAX_DEVS, count_dev_step, &c, 0);
}

/* Index of the one set bit of a power of two. */
static __always_inline __u32 bit_index(__u64 w)
{
	__u32 i = 0;

	if (w >> 32) { i += 32; w >>= 32; }
	if (w >> 16) { i += 16; w >>= 16; }
	if (w >> 8) { i += 8; w >>= 8; }
	if (w >> 4) { i += 4; w >>= 4; }
	if (w >> 2) { i += 2; w >>= 2; }
	if (w >> 1) i += 1;
	return i;
}

/* An ARP packet whose target address is one of the host's: the host's. */
static __always_inline int arp_for_host(struct xdp_md *ctx, const struct pkt *p)
{
	__u8 *arp = pkt_at(ctx, p->l2_len, 28);
	__u32 tpa;

	/* Ethernet/IPv4 ARP: hlen 6, plen 4, target protocol address at 24 */
	if (!arp || arp[4] != 6 || arp[5] != 4)
		return 0;
	__builtin_memcpy(&tpa, arp + 24, 4);
	return bpf_map_lookup_elem(&host_ipv4, &tpa) != NULL;
}

/*
 * Queue, hash and report of device d for a parsed frame (rx_filter.c twin).
 * Global, so the verifier checks it once.
 */
__noinline int steer_frame(__u32 d, const struct pkt *p,
				       struct vnet_xdp_meta *m)
{
	const struct vnet_toeplitz_table *tbl;
	const struct vnet_dp_steer *st;
	struct hash_in in;
	__u32 *slot, k, hash = 0;
	int report = VNET_HASH_REPORT_NONE;

	if (!p || !m)	/* global function arguments may be NULL */
		return -1;
	slot = bpf_map_lookup_elem(&dev_slot, &d);
	if (!slot)
		return -1;
	/* one read of the slot index: the whole configuration is that slot's */
	k = d * 2 + (*(volatile __u32 *)slot & 1);
	st = bpf_map_lookup_elem(&steer, &k);
	tbl = bpf_map_lookup_elem(&keytbl, &k);
	if (!st || !tbl)
		return -1;

	in.len = 0;
	if (st->hash_types)
		report = select_hash_input(p, st->hash_types, &in);
	if (report != VNET_HASH_REPORT_NONE)
		hash = toeplitz(tbl, st, &in);

	m->queue = 0;
	if (st->mode == VNET_STEER_RSS) {
		/* spec "RSS processing": no hash -> unclassified_queue */
		if (report != VNET_HASH_REPORT_NONE)
			m->queue = st->table[hash & st->table_mask & (VNET_RSS_TABLE_MAX - 1)];
		else
			m->queue = st->unclassified_queue;
	} else if (st->mode == VNET_STEER_AUTO && report != VNET_HASH_REPORT_NONE) {
		/* spec "Automatic receive steering": a flow stays on one pair */
		m->queue = (__u16)(((__u64)hash * st->vq_pairs) >> 32);
	}
	if (st->flags & VNET_STEER_F_INTERNAL_HASH) {
		report = VNET_HASH_REPORT_NONE;
		hash = 0;
	}
	m->hash = hash;
	m->report = report;
	return 0;
}

SEC("xdp")
int vnet_xdp_rx(struct xdp_md *ctx)
{
	struct vnet_dp_mac_key key = {};
	struct vnet_xdp_meta m = {};
	const struct vnet_dp_filter *f;
	__u64 *macdevs, *vl, devs = 0, cand, mode_drop, vlan_drop = 0, want;
	struct vnet_xdp_meta *out;
	__u32 zero = 0, rxq, d = VNET_DP_UPLINK_SLOT, vid;
	struct pkt p;
	__u8 *eth;
	void *data;
	int bcast, mcast;

	__builtin_memset(&p, 0, sizeof(p));
	if (parse_l2(ctx, &p)) {
		count(VNET_DP_UPLINK_SLOT, VNET_CNT_MALFORMED);
		return XDP_PASS;
	}
	f = bpf_map_lookup_elem(&filter, &zero);
	eth = pkt_at(ctx, 0, 14);
	if (!f || !eth)
		return XDP_PASS;
	if (p.ethertype == ETH_P_ARP_ && arp_for_host(ctx, &p)) {
		count(VNET_DP_UPLINK_SLOT, VNET_CNT_HOST);
		return XDP_PASS;
	}

	__builtin_memcpy(key.mac, eth, 6);
	macdevs = bpf_map_lookup_elem(&mac_devs, &key);
	if (macdevs)
		devs = *macdevs;
	bcast = *(__u32 *)eth == 0xffffffff && *(__u16 *)(eth + 4) == 0xffff;
	mcast = !bcast && (eth[0] & 1);

	/* spec "Packet Receive Filtering": PROMISC beats every NO* mode */
	if (bcast) {
		cand = f->active;
		mode_drop = cand & f->nobcast & ~f->promisc;
	} else if (mcast) {
		cand = f->active & (devs | f->allmulti | f->promisc);
		mode_drop = cand & f->nomulti & ~f->promisc;
	} else {
		/* the uplink's own MAC is the host's, even for PROMISC devices */
		if (devs & VNET_DP_HOST_BIT) {
			count(VNET_DP_UPLINK_SLOT, VNET_CNT_HOST);
			return XDP_PASS;
		}
		cand = f->active & (devs | f->alluni | f->promisc);
		mode_drop = cand & f->nouni & ~f->promisc;
	}
	want = cand & ~mode_drop;
	/* spec "VLAN Filtering": only with CTRL_VLAN; the outer VID counts */
	if (p.vlan_tags && (want & f->vlan_filter)) {
		vid = p.vlan_id;
		vl = bpf_map_lookup_elem(&vlan_devs, &vid);
		vlan_drop = want & f->vlan_filter & ~(vl ? *vl : 0);
		want &= ~vlan_drop;
	}
	if (mode_drop)
		count_devs(mode_drop, VNET_CNT_FILTER_RXMODE);
	if (vlan_drop)
		count_devs(vlan_drop, VNET_CNT_FILTER_VLAN);
	if (!want) {
		if (!cand)
			count(VNET_DP_UPLINK_SLOT, VNET_CNT_FILTER_MAC);
		return XDP_PASS;
	}

	parse_l3(ctx, &p);
	if (p.flags & VNET_PF_MALFORMED)
		m.flags |= VNET_META_F_MALFORMED;
	if (p.vlan_tags) {
		m.flags |= VNET_META_F_TAGGED;
		m.vlan_id = p.vlan_id;
	}
	if (want & (want - 1)) {
		/* several devices: one copy, replicated by the engine */
		m.dev = VNET_DEV_NONE;
		m.flags |= VNET_META_F_FLOOD;
	} else {
		d = bit_index(want);
		if (d >= VNET_DP_MAX_DEVS || steer_frame(d, &p, &m))
			return XDP_PASS;
		m.dev = d;
	}
	m.magic = VNET_META_MAGIC;

	rxq = ctx->rx_queue_index;
	if (!bpf_map_lookup_elem(&xsks, &rxq)) {
		count(d, VNET_CNT_NO_SOCKET);
		return XDP_PASS;
	}
	/*
	 * The 16 bytes in front of the frame are ours: size the metadata area
	 * to exactly that, whatever an earlier program (or an earlier run of
	 * BPF_PROG_TEST_RUN's repeat loop) left there.
	 */
	if (bpf_xdp_adjust_meta(ctx, (int)(ctx->data - ctx->data_meta) - (int)sizeof(m)))
		return XDP_PASS;
	data = (void *)(long)ctx->data;
	out = (void *)(long)ctx->data_meta;
	if ((void *)(out + 1) > data)
		return XDP_PASS;
	__builtin_memcpy(out, &m, sizeof(m));

	if (d == VNET_DP_UPLINK_SLOT) {
		count(d, VNET_CNT_FLOOD);
	} else {
		count(d, VNET_CNT_DELIVERED);
		count(d, VNET_CNT_HASH_BASE + m.report);
		if (m.flags & VNET_META_F_MALFORMED)
			count(d, VNET_CNT_MALFORMED);
	}
	return bpf_redirect_map(&xsks, rxq, XDP_PASS);
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
