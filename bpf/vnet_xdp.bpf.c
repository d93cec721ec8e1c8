// SPDX-License-Identifier: MIT
/*
 * vnet uplink receive: which device wants the frame (MAC map, rx mode,
 * VLAN set), which of its receive queues and with which hash (RSS or
 * automatic steering, Toeplitz by table), a metadata block in front of the
 * frame, then a redirect to the AF_XDP socket of the uplink queue it came in
 * on (the kernel lets a socket receive only from its own device and queue).
 * Frames no device wants go on to the host with XDP_PASS; so do all group
 * frames when the host shares the uplink (VNET_DP_CFG_HOST_SHARED).
 *
 * The answers must equal the C reference, daemon/classify/rx_filter.c; the maps are
 * written by daemon/uplink/datapath.c. Layouts: include/vnet/dp_layout.h.
 */
#include <linux/bpf.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "vnet/dp_layout.h"
#include "parse.h"
#include "hash.h"
#include "mac_map.h"

/*
 * The bit-serial Toeplitz loop instead of the table (bench-xdp's point of
 * comparison), set in the skeleton's rodata before load (datapath.c). The
 * verifier knows a read-only value: it keeps only the branch taken, so
 * the table path costs what it did without the knob.
 */
const volatile __u8 toeplitz_bitloop = 0;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct vnet_dp_config);
} config SEC(".maps");

/* mac_map.h: authoritative MAC -> devices; mac_cache answers most lookups first. */

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VNET_DP_MAC_SETS);
	__uint(map_flags, BPF_F_MMAPABLE);	/* userspace writes it in place */
	__type(key, __u32);
	__type(value, struct vnet_dp_mac_set);
} mac_cache SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VNET_VLAN_N);
	__type(key, __u32);
	__type(value, __u64);			/* devices admitting this VID */
} vlan_devs SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VNET_DP_MAX_DEVS * 2);
	__type(key, __u32);
	__type(value, struct vnet_dp_steer_slot);
} steer SEC(".maps");

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

/* One counter of one slot: the exits that count a single thing. */
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
static __always_inline int arp_for_host(struct xdp_md *ctx, const struct l2 *l2)
{
	__u8 *arp = pkt_at(ctx, l2->l2_len, 28);
	__u32 tpa;

	/* Ethernet/IPv4 ARP: hlen 6, plen 4, target protocol address at 24 */
	if (!arp || arp[4] != 6 || arp[5] != 4)
		return 0;
	tpa = *(__u32 *)(arp + 24);
	return bpf_map_lookup_elem(&host_ipv4, &tpa) != NULL;
}

/*
 * Devices (and VNET_DP_HOST_BIT) owning a destination MAC. The cache first
 * (datapath.h says why its answer can be trusted); a set being rewritten,
 * or one that overflowed into the hash map, asks the hash map.
 */
static __always_inline __u64 mac_devs_of(const struct vnet_dp_config *cfg, __u64 mac48)
{
	__u64 *devs;

	if (cfg->flags & VNET_DP_CFG_MAC_CACHE) {
		__u32 set = vnet_dp_mac_set_of(mac48);
		struct vnet_dp_mac_set *s = bpf_map_lookup_elem(&mac_cache, &set);
		__u64 overflow = 0;

		if (!s)
			return 0;
#pragma unroll
		for (int i = 0; i < VNET_DP_MAC_WAYS; i++) {
			volatile struct vnet_dp_mac_way *w = &s->way[i];
			__u64 k = w->key, v;

			if (!i)
				overflow = k & VNET_DP_MACC_OVERFLOW;
			if (k & VNET_DP_MACC_BUSY)
				goto slow;
			if ((k & (VNET_DP_MACC_VALID | VNET_DP_MACC_ADDR)) !=
			    (VNET_DP_MACC_VALID | mac48))
				continue;
			v = w->devs;
			/* the same key (and sequence) before and after: v is its devs */
			if (w->key != k)
				goto slow;
			return v;
		}
		if (!overflow)
			return 0;
	}
slow:
	/* the key is struct vnet_dp_mac_key: the MAC bytes, zero padded */
	devs = bpf_map_lookup_elem(&mac_devs, &mac48);
	return devs ? *devs : 0;
}

/*
 * An untagged TCP segment with payload the kernel's GRO may merge
 * (VNET_DP_CFG_KGRO): IPv4 without options or fragmentation, or IPv6 whose
 * next header is TCP. A segment without payload (a pure ACK, most of what
 * a receiving peer sends) is never merged: it stays on AF_XDP, where it
 * costs less than the stack's path. The packet socket's filter
 * (uplink_kgro.c) takes a superset. A global function: the verifier
 * checks it once, not in every state of its caller.
 */
__noinline int kgro_tcp(struct xdp_md *ctx, __u32 ethertype)
{
	void *data, *end;
	int payload;
	__u8 *ip;

	if (!ctx)
		return 0;
	data = (void *)(long)ctx->data;
	end = (void *)(long)ctx->data_end;
	ip = data + 14;
	if (ethertype == ETH_P_IPV4_) {
		if ((void *)(ip + 40) > end || ip[0] != 0x45 || ip[9] != IPPROTO_TCP ||
		    (*(__u16 *)(ip + 6) & bpf_htons(0x3fff)))
			return 0;
		payload = bpf_ntohs(*(__u16 *)(ip + 2)) - 20 - (ip[32] >> 4) * 4;
		return payload > 0;
	}
	if (ethertype == ETH_P_IPV6_) {
		if ((void *)(ip + 60) > end || ip[0] >> 4 != 6 || ip[6] != IPPROTO_TCP)
			return 0;
		payload = bpf_ntohs(*(__u16 *)(ip + 4)) - (ip[52] >> 4) * 4;
		return payload > 0;
	}
	return 0;
}

/*
 * The 16 bytes in front of the frame are ours: size the metadata area to
 * exactly that, whatever an earlier program (or an earlier run of
 * BPF_PROG_TEST_RUN's repeat loop) left there. NULL: no room.
 */
static __always_inline struct vnet_xdp_meta *meta_reserve(struct xdp_md *ctx)
{
	struct vnet_xdp_meta *out;

	if (bpf_xdp_adjust_meta(ctx, (int)(ctx->data - ctx->data_meta) -
				     (int)sizeof(struct vnet_xdp_meta)))
		return NULL;
	out = (void *)(long)ctx->data_meta;
	if ((void *)(out + 1) > (void *)(long)ctx->data)
		return NULL;
	return out;
}

/*
 * The frame goes on to the stack for GRO with metadata that says so
 * (bpf/vnet_kgro_tc.bpf.c drops it after vnetd's packet socket took it).
 * The same 16 bytes for every frame of every flow: GRO merges only
 * frames with equal metadata. Global: verified once.
 */
__noinline int kgro_pass(struct xdp_md *ctx, __u32 slot)
{
	struct vnet_xdp_meta *out;

	if (!ctx || !(out = meta_reserve(ctx)))
		return XDP_PASS;
	__builtin_memset(out, 0, sizeof(*out));
	out->dev = VNET_DEV_NONE;
	out->flags = VNET_META_F_KGRO;
	out->magic = VNET_META_MAGIC;
	count(slot, VNET_CNT_KGRO);
	return XDP_PASS;
}

/*
 * The whole decision for one frame; 'bitloop' is a constant in each of the
 * two copies the program holds (vnet_xdp_rx picks one).
 */
static __always_inline int rx_frame(struct xdp_md *ctx, const int bitloop)
{
	const struct vnet_dp_steer_slot *ss = NULL;
	const struct vnet_dp_config *cfg;
	const struct vnet_dp_filter *f;
	struct vnet_dp_counters *cnt;
	struct vnet_xdp_meta *out;
	struct hash_in in;
	struct l2 l2;
	__u64 mac48, devs, cand, mode_drop, vlan_drop = 0, want;
	__u32 zero = 0, slot = VNET_DP_UPLINK_SLOT, mflags = 0, hash = 0, vid, k;
	__u16 queue = 0;
	int report = VNET_HASH_REPORT_NONE;
	__u8 *eth;

	if (parse_l2(ctx, &l2)) {
		count(VNET_DP_UPLINK_SLOT, VNET_CNT_MALFORMED);
		return XDP_PASS;
	}
	cfg = bpf_map_lookup_elem(&config, &zero);
	eth = pkt_at(ctx, 0, 14);
	if (!cfg || !eth)
		return XDP_PASS;
	f = &cfg->filter;
	/*
	 * The host shares the uplink: XDP cannot clone, so every group frame
	 * (byte 0 bit 0: broadcast, multicast) goes on to the host, and vnetd
	 * copies it to the devices from its packet socket (datapath.h).
	 */
	if ((cfg->flags & VNET_DP_CFG_HOST_SHARED) && (eth[0] & 1)) {
		count(VNET_DP_UPLINK_SLOT, VNET_CNT_GROUP_HOST);
		return XDP_PASS;
	}
	if (l2.ethertype == ETH_P_ARP_ && arp_for_host(ctx, &l2)) {
		count(VNET_DP_UPLINK_SLOT, VNET_CNT_HOST);
		return XDP_PASS;
	}

	/* the destination MAC as 48 bits, byte 0 lowest: two loads, not six */
	mac48 = *(__u32 *)eth | (__u64)*(__u16 *)(eth + 4) << 32;
	devs = mac_devs_of(cfg, mac48);

	/* spec "Packet Receive Filtering": PROMISC beats every NO* mode */
	if (mac48 == VNET_DP_MACC_ADDR) {	/* broadcast */
		cand = f->active;
		mode_drop = cand & f->nobcast & ~f->promisc;
	} else if (mac48 & 1) {			/* multicast */
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
	if (l2.vlan_tags && (want & f->vlan_filter)) {
		__u64 *vl;

		vid = l2.vlan_id;
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

	if (!(want & (want - 1))) {
		/* one device: its live slot, read once; all of it is that slot's */
		slot = bit_index(want);
		if (slot >= VNET_DP_MAX_DEVS)
			return XDP_PASS;
		k = slot * 2 + (*(volatile __u8 *)&cfg->slot[slot] & 1);
		ss = bpf_map_lookup_elem(&steer, &k);
		if (!ss)
			return XDP_PASS;
		/*
		 * TCP for a device whose guest takes GSO frames: on to the
		 * stack, where the uplink's GRO merges it; vnetd reads the
		 * merged frame from its packet socket (and classifies it again
		 * for queue and hash) and TC ingress drops it by its metadata.
		 */
		if ((cfg->flags & VNET_DP_CFG_KGRO) && (cfg->kgro >> slot & 1) &&
		    !l2.vlan_tags && kgro_tcp(ctx, l2.ethertype))
			return kgro_pass(ctx, slot);
	}
	/* several devices: one copy, no hash; the engine replicates it */
	report = parse_hash_in(ctx, &l2, ss ? ss->steer.hash_types : 0, &in, &mflags);
	if (ss) {
		const struct vnet_dp_steer *st = &ss->steer;

		if (report != VNET_HASH_REPORT_NONE)
			hash = bitloop ? toeplitz_bits(st, &in) : toeplitz_table(ss, &in);
		if (st->mode == VNET_STEER_RSS) {
			/* spec "RSS processing": no hash -> unclassified_queue */
			if (report != VNET_HASH_REPORT_NONE)
				queue = st->table[hash & st->table_mask & (VNET_RSS_TABLE_MAX - 1)];
			else
				queue = st->unclassified_queue;
		} else if (st->mode == VNET_STEER_AUTO && report != VNET_HASH_REPORT_NONE) {
			/* spec "Automatic receive steering": a flow stays on one pair */
			queue = (__u16)(((__u64)hash * st->vq_pairs) >> 32);
		}
		if (st->flags & VNET_STEER_F_INTERNAL_HASH) {
			report = VNET_HASH_REPORT_NONE;
			hash = 0;
		}
	}

	/*
	 * The socket of the queue the frame came in on. The helper only
	 * records the target (the redirect happens after we return), so ask
	 * first: without a socket the frame goes on untouched, no metadata.
	 */
	if (bpf_redirect_map(&xsks, ctx->rx_queue_index, XDP_PASS) != XDP_REDIRECT) {
		count(slot, VNET_CNT_NO_SOCKET);
		return XDP_PASS;
	}
	out = meta_reserve(ctx);
	if (!out)
		return XDP_PASS;
	if (l2.vlan_tags)
		mflags |= VNET_META_F_TAGGED;
	if (!ss)
		mflags |= VNET_META_F_FLOOD;
	out->hash = hash;
	out->dev = ss ? slot : VNET_DEV_NONE;
	out->queue = queue;
	out->report = report;
	out->flags = mflags;
	out->vlan_id = l2.vlan_tags ? l2.vlan_id : 0;
	out->magic = VNET_META_MAGIC;

	/* one counter lookup for everything this frame counts */
	cnt = bpf_map_lookup_elem(&counters, &slot);
	if (cnt) {
		if (!ss) {
			cnt->c[VNET_CNT_FLOOD]++;
		} else {
			cnt->c[VNET_CNT_DELIVERED]++;
			if (report >= 0 && report <= VNET_HASH_REPORT_MAX)
				cnt->c[VNET_CNT_HASH_BASE + report]++;
			if (mflags & VNET_META_F_MALFORMED)
				cnt->c[VNET_CNT_MALFORMED]++;
		}
	}
	return XDP_REDIRECT;
}

SEC("xdp")
int vnet_xdp_rx(struct xdp_md *ctx)
{
	/*
	 * The knob is read-only: the verifier follows the copy it selects
	 * and drops the other, so the table copy is the program it was
	 * before the knob (the same code, the same cost per packet).
	 */
	if (toeplitz_bitloop)
		return rx_frame(ctx, 1);
	return rx_frame(ctx, 0);
}

char LICENSE[] SEC("license") = "Dual MIT/GPL";
