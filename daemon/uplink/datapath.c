// SPDX-License-Identifier: MIT
/*
 * The XDP uplink datapath, userspace side: loads bpf/vnet_xdp.bpf.c from its
 * skeleton, attaches it (xdp_attach.c: native, else generic; libxdp's
 * dispatcher when the kernel takes it and vnet's program, else the program
 * alone), and turns
 * the device model's control-queue commands into map updates. It keeps a
 * shadow of everything it wrote (struct vnet_rx_state), which is what the C
 * reference (rx_filter.c) reads: both always see the same configuration.
 *
 * Steering changes (RSS, hash config, queue pairs) are written to the
 * device's spare slot, then one byte flips the live slot, then we wait for
 * an RCU grace period (an update of a map-in-map makes the kernel wait for
 * every running BPF program) so the old slot is unused before it is reused:
 * a packet never sees half a configuration.
 *
 * The MAC map is mirrored into the array 'mac_cache' (datapath.h), which
 * we write in place through mmap with ordered stores; the program trusts
 * a cache entry only when it reads it twice the same.
 */
#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "vnet/datapath.h"
#include "vnet/log.h"
#include "vnet/rx_filter.h"
#include "vnet/xdp_attach.h"
#include "vnet_xdp.skel.h"
#include "vnet_xdp_bitloop.skel.h"

/*
 * What the command API (set_rss, set_hash_config, set_queue_pairs) was
 * told, so that the last command decides the mode; the live vnet_dp_steer
 * is derived from it (vnet_rx_steer_derive, the receive decision's own).
 */
struct dev_ctl {
	enum vnet_steer_mode mode;
	__u16 vq_pairs;
	struct vnet_rss_config rss;
	__u32 hash_types;		/* HASH_CONFIG */
	__u8 hash_key_len;
	__u8 hash_key[VNET_TOEPLITZ_KEY_MAX];
};

struct vnet_dp {
	struct vnet_xdp_link link;	/* the object, and where it is attached */
	int ifindex;
	int fd_config, fd_mac, fd_cache, fd_vlan, fd_steer;
	int fd_host4, fd_xsks, fd_counters;
	int rcu_outer, rcu_inner;	/* map-in-map: a grace period on demand */
	int ncpus;
	__u8 slot[VNET_DP_MAX_DEVS];
	struct dev_ctl ctl[VNET_DP_MAX_DEVS];
	struct vnet_rx_state *st;
	struct vnet_dp_steer_slot *scratch;
	struct vnet_dp_mac_set *cache;		/* mmap of mac_cache, NULL: unused */
	__u16 cache_overflow[VNET_DP_MAC_SETS];	/* MACs of a set in mac_devs alone */
	struct vnet_dp_counters *percpu;	/* ncpus values, zeroed on dev add */
};

#define MAC_CACHE_BYTES	(sizeof(struct vnet_dp_mac_set) * VNET_DP_MAC_SETS)

static int push_config(struct vnet_dp *dp);
static int mac_cache_init(struct vnet_dp *dp);

static int map_fd(struct vnet_dp *dp, const char *name, int *fd)
{
	struct bpf_map *m = bpf_object__find_map_by_name(dp->link.obj, name);

	if (!m || bpf_map__fd(m) < 0) {
		pr_warn("datapath: map %s missing\n", name);
		return -ENOENT;
	}
	*fd = bpf_map__fd(m);
	return 0;
}

static int update(int fd, const void *key, const void *val)
{
	return bpf_map_update_elem(fd, key, val, BPF_ANY) ? -errno : 0;
}

/* Returns once every BPF program that might have seen old values is done. */
static int rcu_wait(struct vnet_dp *dp)
{
	__u32 zero = 0;

	return update(dp->rcu_outer, &zero, &dp->rcu_inner);
}

static int rcu_wait_init(struct vnet_dp *dp)
{
	LIBBPF_OPTS(bpf_map_create_opts, o);

	dp->rcu_inner = bpf_map_create(BPF_MAP_TYPE_ARRAY, "vnet_rcu_in", 4, 4, 1, NULL);
	if (dp->rcu_inner < 0)
		return -errno;
	o.inner_map_fd = dp->rcu_inner;
	dp->rcu_outer = bpf_map_create(BPF_MAP_TYPE_ARRAY_OF_MAPS, "vnet_rcu", 4, 4, 1, &o);
	if (dp->rcu_outer < 0)
		return -errno;
	return 0;
}

static int host_mac_of(int ifindex, __u8 mac[6])
{
	struct ifreq ifr = { 0 };
	int fd, err = 0;

	if (!if_indextoname(ifindex, ifr.ifr_name))
		return -errno;
	fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (ioctl(fd, SIOCGIFHWADDR, &ifr) < 0)
		err = -errno;
	else
		memcpy(mac, ifr.ifr_hwaddr.sa_data, 6);
	close(fd);
	return err;
}

int vnet_dp_open(const struct vnet_dp_opts *opts, struct vnet_dp **dpp)
{
	struct vnet_xdp_obj o = { .name = "vnet_xdp" };
	struct vnet_dp *dp;
	__u8 mac[6];
	int err;

	if (!opts || !dpp || (opts->mode != VNET_DP_ATTACH_NONE && opts->ifindex <= 0))
		return -EINVAL;
	dp = calloc(1, sizeof(*dp));
	if (!dp)
		return -ENOMEM;
	dp->ifindex = opts->ifindex;
	dp->rcu_inner = dp->rcu_outer = -1;
	dp->ncpus = libbpf_num_possible_cpus();
	dp->st = calloc(1, sizeof(*dp->st));
	dp->scratch = calloc(1, sizeof(*dp->scratch));
	dp->percpu = dp->ncpus > 0 ? calloc(dp->ncpus, sizeof(*dp->percpu)) : NULL;
	err = -ENOMEM;
	if (!dp->st || !dp->scratch || !dp->percpu)
		goto err_free;

	o.elf = opts->bitloop ? vnet_xdp_bitloop__elf_bytes(&o.elf_sz) :
				vnet_xdp__elf_bytes(&o.elf_sz);
	/* libxdp's dispatcher, else the program alone; native, else generic */
	err = vnet_xdp_link_open(&dp->link, &o, opts->ifindex, opts->mode, opts->fault);
	if (err) {
		pr_warn("datapath: load/attach failed: %s\n", strerror(-err));
		goto err_free;
	}
	err = map_fd(dp, "config", &dp->fd_config) ?:
	      map_fd(dp, "mac_devs", &dp->fd_mac) ?:
	      map_fd(dp, "mac_cache", &dp->fd_cache) ?:
	      map_fd(dp, "vlan_devs", &dp->fd_vlan) ?:
	      map_fd(dp, "steer", &dp->fd_steer) ?:
	      map_fd(dp, "host_ipv4", &dp->fd_host4) ?:
	      map_fd(dp, "xsks", &dp->fd_xsks) ?:
	      map_fd(dp, "counters", &dp->fd_counters) ?:
	      rcu_wait_init(dp) ?: mac_cache_init(dp) ?: push_config(dp);
	if (err)
		goto err_free;
	/* the uplink's own MAC belongs to the host */
	if (dp->ifindex > 0 && !host_mac_of(dp->ifindex, mac)) {
		err = vnet_dp_set_host_mac(dp, mac, 1);
		if (err)
			goto err_free;
	}
	*dpp = dp;
	return 0;

err_free:
	vnet_dp_close(dp);
	return err;
}

void vnet_dp_close(struct vnet_dp *dp)
{
	if (!dp)
		return;
	/* detaches, unless the netdev went away and took the program along */
	vnet_xdp_link_close(&dp->link);
	if (dp->cache)
		munmap(dp->cache, MAC_CACHE_BYTES);
	if (dp->rcu_outer >= 0)
		close(dp->rcu_outer);
	if (dp->rcu_inner >= 0)
		close(dp->rcu_inner);
	free(dp->percpu);
	free(dp->scratch);
	free(dp->st);
	free(dp);
}

const char *vnet_dp_attach_mode_name(const struct vnet_dp *dp)
{
	return vnet_xdp_mode_name(dp->link.mode);
}

const char *vnet_dp_attach_kind_name(const struct vnet_dp *dp)
{
	return vnet_xdp_kind_name(dp->link.kind);
}

bool vnet_dp_is_attached(const struct vnet_dp *dp)
{
	return vnet_xdp_link_is_attached(&dp->link);
}

int vnet_dp_uses_dispatcher(const struct vnet_dp *dp)
{
	return dp->link.kind == VNET_XDP_DISPATCHER;
}

int vnet_dp_prog_fd(const struct vnet_dp *dp)
{
	return dp->link.prog_fd;
}

int vnet_dp_mac_devs_fd(const struct vnet_dp *dp)
{
	return dp->fd_mac;
}

const struct vnet_rx_state *vnet_dp_state(const struct vnet_dp *dp)
{
	return dp->st;
}

/* --- config, MAC and VLAN maps ------------------------------------------- */

/* The rx-mode masks and live slots as the program reads them: one value. */
static int push_config(struct vnet_dp *dp)
{
	struct vnet_dp_config c;
	__u32 zero = 0;

	memset(&c, 0, sizeof(c));
	c.filter = dp->st->filter;
	memcpy(c.slot, dp->slot, sizeof(dp->slot));
	if (dp->cache)
		c.flags |= VNET_DP_CFG_MAC_CACHE;
	c.flags |= dp->st->cfg_flags & VNET_DP_CFG_HOST_SHARED;
	return update(dp->fd_config, &zero, &c);
}

#define MACC_SEQ_MASK	(~0ull << VNET_DP_MACC_SEQ_SHIFT)

/*
 * The cache protocol relies on the program seeing our stores in order and
 * making its own loads in order: true on x86 (TSO). Elsewhere the cache
 * stays off and every lookup goes to the hash map.
 */
static int mac_cache_init(struct vnet_dp *dp)
{
#if defined(__x86_64__) || defined(__i386__)
	void *p = mmap(NULL, MAC_CACHE_BYTES, PROT_READ | PROT_WRITE, MAP_SHARED,
		       dp->fd_cache, 0);

	if (p == MAP_FAILED)
		return -errno;
	dp->cache = p;
#else
	(void)dp;
#endif
	return 0;
}

static __u64 mac48_of(const __u8 mac[6])
{
	__u64 v = 0;

	for (int i = 5; i >= 0; i--)
		v = v << 8 | mac[i];
	return v;
}

static int mac_cache_find(const struct vnet_dp_mac_set *s, __u64 mac48)
{
	for (int i = 0; i < VNET_DP_MAC_WAYS; i++) {
		__u64 k = s->way[i].key;

		if ((k & VNET_DP_MACC_VALID) && (k & VNET_DP_MACC_ADDR) == mac48)
			return i;
	}
	return -1;
}

/*
 * Rewrite one way: BUSY with the next sequence, the devices, then the final
 * key with the sequence after that. Release stores keep that order for the
 * program, which reads key, devs, key (mac_devs_of() in the program).
 */
static void mac_cache_write(struct vnet_dp_mac_set *s, int i, __u64 key, __u64 devs)
{
	struct vnet_dp_mac_way *w = &s->way[i];
	__u64 cur = w->key, keep = cur & VNET_DP_MACC_OVERFLOW;
	__u64 seq = cur & MACC_SEQ_MASK;

	__atomic_store_n(&w->key, keep | VNET_DP_MACC_BUSY |
			 ((seq + VNET_DP_MACC_SEQ_ONE) & MACC_SEQ_MASK), __ATOMIC_RELEASE);
	__atomic_store_n(&w->devs, devs, __ATOMIC_RELEASE);
	__atomic_store_n(&w->key, keep | key |
			 ((seq + 2 * VNET_DP_MACC_SEQ_ONE) & MACC_SEQ_MASK), __ATOMIC_RELEASE);
}

static void mac_cache_overflow(struct vnet_dp *dp, __u32 set, int delta)
{
	struct vnet_dp_mac_way *w0 = &dp->cache[set].way[0];
	__u64 k = w0->key;

	dp->cache_overflow[set] += delta;
	if (dp->cache_overflow[set])
		k |= VNET_DP_MACC_OVERFLOW;
	else
		k &= ~VNET_DP_MACC_OVERFLOW;
	__atomic_store_n(&w0->key, k, __ATOMIC_RELEASE);
}

/* After mac_devs holds the MAC: the cache says the same. */
static void mac_cache_put(struct vnet_dp *dp, __u64 mac48, __u64 devs, int had)
{
	__u32 set = vnet_dp_mac_set_of(mac48);
	struct vnet_dp_mac_set *s = &dp->cache[set];
	int i = mac_cache_find(s, mac48);

	if (i < 0 && had)
		return;		/* it overflowed before: mac_devs alone has it */
	for (int j = 0; i < 0 && j < VNET_DP_MAC_WAYS; j++)
		if (!(s->way[j].key & VNET_DP_MACC_VALID))
			i = j;
	if (i < 0) {
		/* set full: the program asks mac_devs on a miss in this set */
		mac_cache_overflow(dp, set, 1);
		return;
	}
	mac_cache_write(s, i, VNET_DP_MACC_VALID | mac48, devs);
}

/* Before mac_devs loses the MAC: the cache forgets it. */
static void mac_cache_del(struct vnet_dp *dp, __u64 mac48, int had)
{
	__u32 set = vnet_dp_mac_set_of(mac48);
	int i = mac_cache_find(&dp->cache[set], mac48);

	if (i >= 0)
		mac_cache_write(&dp->cache[set], i, 0, 0);
	else if (had && dp->cache_overflow[set])
		mac_cache_overflow(dp, set, -1);
}

/* Rewrite the MAC map entry of one address from the shadow. */
static int push_mac(struct vnet_dp *dp, const __u8 mac[6])
{
	struct vnet_dp_mac_key key = { 0 };
	__u64 devs = vnet_rx_mac_devs(dp->st, mac), old;
	int had, err;

	memcpy(key.mac, mac, 6);
	had = !bpf_map_lookup_elem(dp->fd_mac, &key, &old);
	if (devs) {
		/* the authoritative map first: a cache miss may fall back to it */
		err = update(dp->fd_mac, &key, &devs);
		if (!err && dp->cache)
			mac_cache_put(dp, mac48_of(mac), devs, had);
		return err;
	}
	if (dp->cache)
		mac_cache_del(dp, mac48_of(mac), had);
	if (had && bpf_map_delete_elem(dp->fd_mac, &key) && errno != ENOENT)
		return -errno;
	return 0;
}

/* Every address a device answers to, in the map after a shadow change. */
static int push_dev_macs(struct vnet_dp *dp, const struct vnet_rx_dev *d)
{
	int err = push_mac(dp, d->mac);

	for (unsigned int i = 0; !err && i < d->n_uc; i++)
		err = push_mac(dp, d->uc[i]);
	for (unsigned int i = 0; !err && i < d->n_mc; i++)
		err = push_mac(dp, d->mc[i]);
	return err;
}

static int push_vlan(struct vnet_dp *dp, __u16 vid)
{
	__u32 key = vid;
	__u64 devs = vnet_rx_vlan_devs(dp->st, vid);

	return update(dp->fd_vlan, &key, &devs);
}

static struct vnet_rx_dev *dev_get(struct vnet_dp *dp, unsigned int dev)
{
	if (!dp || !vnet_rx_dev_present(dp->st, dev))
		return NULL;
	return &dp->st->dev[dev];
}

static void mask_set(__u64 *mask, unsigned int dev, int on)
{
	if (on)
		*mask |= 1ull << dev;
	else
		*mask &= ~(1ull << dev);
}

/* --- steering: spare slot, flip, grace period ------------------------------ */

/* The request the command API's memory of a device amounts to. */
static void ctl_request(const struct dev_ctl *c, struct vnet_rx_steer_req *r)
{
	memset(r, 0, sizeof(*r));
	r->mode = (__u8)c->mode;
	r->vq_pairs = c->vq_pairs ? c->vq_pairs : 1;
	if (c->mode == VNET_STEER_RSS) {
		r->hash_types = c->rss.hash_types;
		r->table_len = c->rss.table_len;
		r->unclassified_queue = c->rss.unclassified_queue;
		memcpy(r->table, c->rss.table, sizeof(r->table[0]) * c->rss.table_len);
		r->key_len = c->rss.key_len;
		memcpy(r->key, c->rss.key, c->rss.key_len);
		return;
	}
	r->hash_types = c->hash_types;
	r->key_len = c->hash_key_len;
	memcpy(r->key, c->hash_key, c->hash_key_len);
}

static int commit_steer(struct vnet_dp *dp, unsigned int dev)
{
	struct vnet_rx_dev *d = &dp->st->dev[dev];
	struct vnet_dp_steer_slot *sl = dp->scratch;
	__u32 spare = dp->slot[dev] ^ 1, k = dev * 2 + spare;
	struct vnet_rx_steer_req req;
	int err;

	ctl_request(&dp->ctl[dev], &req);
	vnet_rx_steer_derive(&req, &sl->steer);
	vnet_toeplitz_expand(sl->steer.key, sl->steer.key_len, &sl->tbl);
	err = update(dp->fd_steer, &k, sl);
	if (err)
		return err;
	/* the flip: one byte of the config value, read once per packet */
	dp->slot[dev] = spare;
	err = push_config(dp);
	if (err) {
		dp->slot[dev] ^= 1;
		return err;
	}
	d->steer = sl->steer;
	memcpy(&d->tbl, &sl->tbl, sizeof(d->tbl));
	/* no packet uses the old slot after this: it may be rewritten next */
	return rcu_wait(dp);
}

/* --- device lifecycle ------------------------------------------------------- */

static int zero_counters(struct vnet_dp *dp, __u32 slot)
{
	memset(dp->percpu, 0, sizeof(*dp->percpu) * dp->ncpus);
	return update(dp->fd_counters, &slot, dp->percpu);
}

static void filter_forget(struct vnet_dp_filter *f, unsigned int dev)
{
	__u64 *masks[] = {
		&f->active, &f->promisc, &f->allmulti, &f->alluni, &f->nomulti,
		&f->nouni, &f->nobcast, &f->vlan_filter,
	};

	for (size_t i = 0; i < sizeof(masks) / sizeof(masks[0]); i++)
		mask_set(masks[i], dev, 0);
}

int vnet_dp_dev_add(struct vnet_dp *dp, unsigned int dev, const __u8 mac[6],
		    __u16 max_vq_pairs)
{
	struct vnet_rx_dev *d;
	int err;

	if (!dp || !mac || dev >= VNET_DP_MAX_DEVS || !max_vq_pairs)
		return -EINVAL;
	d = &dp->st->dev[dev];
	if (vnet_rx_dev_present(dp->st, dev))
		return -EEXIST;
	/* spec: empty MAC table, receiveq1 only, no hash after reset */
	memset(d, 0, sizeof(*d));
	memset(&dp->ctl[dev], 0, sizeof(dp->ctl[dev]));
	d->max_vq_pairs = max_vq_pairs;
	memcpy(d->mac, mac, 6);
	dp->st->present_mask |= 1ull << dev;
	err = zero_counters(dp, dev) ?: commit_steer(dp, dev) ?: push_mac(dp, mac);
	if (err)
		goto err_undo;
	mask_set(&dp->st->filter.active, dev, 1);
	err = push_config(dp);
	if (err)
		goto err_undo;
	return 0;

err_undo:
	vnet_dp_dev_del(dp, dev);
	return err;
}

int vnet_dp_dev_del(struct vnet_dp *dp, unsigned int dev)
{
	struct vnet_rx_dev *d = dev_get(dp, dev), old;
	int err;

	if (!d)
		return -ENODEV;
	filter_forget(&dp->st->filter, dev);
	err = push_config(dp);		/* the device stops receiving first */
	old = *d;
	dp->st->present_mask &= ~(1ull << dev);
	if (!err)
		err = push_dev_macs(dp, &old);
	for (unsigned int vid = 0; !err && vid < VNET_VLAN_N; vid++)
		if (old.vlans[vid / 64] >> (vid % 64) & 1)
			err = push_vlan(dp, vid);
	memset(d, 0, sizeof(*d));
	return err;
}

/* --- control-queue commands ------------------------------------------------- */

int vnet_dp_set_rx_mode(struct vnet_dp *dp, unsigned int dev,
			enum vnet_rx_mode_cmd cmd, int on)
{
	struct vnet_dp_filter *f;
	__u64 *mask;

	if (!dev_get(dp, dev))
		return -ENODEV;
	f = &dp->st->filter;
	switch (cmd) {
	case VNET_RX_PROMISC: mask = &f->promisc; break;
	case VNET_RX_ALLMULTI: mask = &f->allmulti; break;
	case VNET_RX_ALLUNI: mask = &f->alluni; break;
	case VNET_RX_NOMULTI: mask = &f->nomulti; break;
	case VNET_RX_NOUNI: mask = &f->nouni; break;
	case VNET_RX_NOBCAST: mask = &f->nobcast; break;
	default: return -EINVAL;
	}
	mask_set(mask, dev, on);
	return push_config(dp);
}

int vnet_dp_set_mac(struct vnet_dp *dp, unsigned int dev, const __u8 mac[6])
{
	struct vnet_rx_dev *d = dev_get(dp, dev);
	__u8 old[6];

	if (!d)
		return -ENODEV;
	if (!mac)
		return -EINVAL;
	memcpy(old, d->mac, 6);
	memcpy(d->mac, mac, 6);
	return push_mac(dp, old) ?: push_mac(dp, mac);
}

int vnet_dp_set_mac_table(struct vnet_dp *dp, unsigned int dev,
			  const __u8 (*uc)[6], unsigned int n_uc,
			  const __u8 (*mc)[6], unsigned int n_mc)
{
	struct vnet_rx_dev *d = dev_get(dp, dev), old;

	if (!d)
		return -ENODEV;
	/* more than we hold: the device model falls back to ALLUNI/ALLMULTI */
	if (n_uc > VNET_RX_MAC_TABLE_MAX || n_mc > VNET_RX_MAC_TABLE_MAX)
		return -E2BIG;
	if ((n_uc && !uc) || (n_mc && !mc))
		return -EINVAL;
	old = *d;
	d->n_uc = n_uc;
	d->n_mc = n_mc;
	if (n_uc)
		memcpy(d->uc, uc, 6 * (size_t)n_uc);
	if (n_mc)
		memcpy(d->mc, mc, 6 * (size_t)n_mc);
	/* addresses that left, then addresses that came */
	return push_dev_macs(dp, &old) ?: push_dev_macs(dp, d);
}

int vnet_dp_set_vlan_filter(struct vnet_dp *dp, unsigned int dev, int on)
{
	if (!dev_get(dp, dev))
		return -ENODEV;
	mask_set(&dp->st->filter.vlan_filter, dev, on);
	return push_config(dp);
}

static int vlan_set(struct vnet_dp *dp, unsigned int dev, __u16 vid, int on)
{
	struct vnet_rx_dev *d = dev_get(dp, dev);

	if (!d)
		return -ENODEV;
	if (vid >= VNET_VLAN_N)
		return -EINVAL;
	if (on)
		d->vlans[vid / 64] |= 1ull << (vid % 64);
	else
		d->vlans[vid / 64] &= ~(1ull << (vid % 64));
	return push_vlan(dp, vid);
}

int vnet_dp_vlan_add(struct vnet_dp *dp, unsigned int dev, __u16 vid)
{
	return vlan_set(dp, dev, vid, 1);
}

int vnet_dp_vlan_del(struct vnet_dp *dp, unsigned int dev, __u16 vid)
{
	return vlan_set(dp, dev, vid, 0);
}

/* spec "Setting RSS parameters": table length a power of two, queues the device has */
static bool rss_valid(const struct vnet_rx_dev *d, __u32 types, __u16 table_len,
		      const __u16 *table, __u16 unclassified, __u8 key_len)
{
	if (!table_len || table_len > VNET_RSS_TABLE_MAX || (table_len & (table_len - 1)) ||
	    key_len > VNET_TOEPLITZ_KEY_MAX || (types & ~VNET_HASH_TYPE_ALL) ||
	    unclassified >= d->max_vq_pairs)
		return false;
	for (unsigned int i = 0; i < table_len; i++)
		if (table[i] >= d->max_vq_pairs)
			return false;
	return true;
}

int vnet_dp_set_rss(struct vnet_dp *dp, unsigned int dev,
		    const struct vnet_rss_config *rss)
{
	struct vnet_rx_dev *d = dev_get(dp, dev);
	struct dev_ctl *c;

	if (!d)
		return -ENODEV;
	if (!rss || !rss_valid(d, rss->hash_types, rss->table_len, rss->table,
			       rss->unclassified_queue, rss->key_len))
		return -EINVAL;
	c = &dp->ctl[dev];
	c->rss = *rss;
	c->mode = VNET_STEER_RSS;
	return commit_steer(dp, dev);
}

int vnet_dp_set_hash_config(struct vnet_dp *dp, unsigned int dev,
			    __u32 hash_types, const __u8 *key, size_t key_len)
{
	struct dev_ctl *c;

	if (!dev_get(dp, dev))
		return -ENODEV;
	if ((hash_types & ~VNET_HASH_TYPE_ALL) || key_len > VNET_TOEPLITZ_KEY_MAX ||
	    (key_len && !key))
		return -EINVAL;
	c = &dp->ctl[dev];
	c->hash_types = hash_types;
	c->hash_key_len = (__u8)key_len;
	memset(c->hash_key, 0, sizeof(c->hash_key));
	if (key_len)
		memcpy(c->hash_key, key, key_len);
	/* spec "Device operation in multiqueue mode": the last command rules */
	if (c->mode == VNET_STEER_RSS)
		c->mode = c->vq_pairs > 1 ? VNET_STEER_AUTO : VNET_STEER_SINGLE;
	return commit_steer(dp, dev);
}

int vnet_dp_set_queue_pairs(struct vnet_dp *dp, unsigned int dev, __u16 pairs)
{
	struct vnet_rx_dev *d = dev_get(dp, dev);
	struct dev_ctl *c;

	if (!d)
		return -ENODEV;
	/* spec: 1 <= virtqueue_pairs <= max_virtqueue_pairs */
	if (!pairs || pairs > d->max_vq_pairs)
		return -EINVAL;
	c = &dp->ctl[dev];
	c->vq_pairs = pairs;
	c->mode = pairs > 1 ? VNET_STEER_AUTO : VNET_STEER_SINGLE;
	return commit_steer(dp, dev);
}

int vnet_dp_set_steering(struct vnet_dp *dp, unsigned int dev,
			 const struct vnet_rx_steer_req *r)
{
	struct vnet_rx_dev *d = dev_get(dp, dev);
	struct dev_ctl *c;

	if (!d)
		return -ENODEV;
	if (!r || !r->vq_pairs || r->vq_pairs > d->max_vq_pairs || r->mode > VNET_STEER_RSS ||
	    r->key_len > VNET_TOEPLITZ_KEY_MAX || (r->hash_types & ~VNET_HASH_TYPE_ALL))
		return -EINVAL;
	if (r->mode == VNET_STEER_RSS &&
	    !rss_valid(d, r->hash_types, r->table_len, r->table, r->unclassified_queue,
		       r->key_len))
		return -EINVAL;
	c = &dp->ctl[dev];
	c->mode = r->mode;
	c->vq_pairs = r->vq_pairs;
	if (r->mode == VNET_STEER_RSS) {
		c->rss.hash_types = r->hash_types;
		c->rss.table_len = r->table_len;
		c->rss.unclassified_queue = r->unclassified_queue;
		memcpy(c->rss.table, r->table, sizeof(r->table[0]) * r->table_len);
		c->rss.key_len = r->key_len;
		memcpy(c->rss.key, r->key, r->key_len);
	} else {
		c->hash_types = r->hash_types;
		c->hash_key_len = r->key_len;
		memset(c->hash_key, 0, sizeof(c->hash_key));
		memcpy(c->hash_key, r->key, r->key_len);
	}
	return commit_steer(dp, dev);
}

/* --- uplink ------------------------------------------------------------------ */

int vnet_dp_set_xsk(struct vnet_dp *dp, unsigned int rx_queue, int xsk_fd)
{
	if (!dp || rx_queue >= VNET_DP_MAX_QUEUES || xsk_fd < 0)
		return -EINVAL;
	return update(dp->fd_xsks, &rx_queue, &xsk_fd);
}

int vnet_dp_clear_xsk(struct vnet_dp *dp, unsigned int rx_queue)
{
	if (!dp || rx_queue >= VNET_DP_MAX_QUEUES)
		return -EINVAL;
	if (bpf_map_delete_elem(dp->fd_xsks, &rx_queue) && errno != ENOENT)
		return -errno;
	return 0;
}

int vnet_dp_set_host_mac(struct vnet_dp *dp, const __u8 mac[6], int on)
{
	struct vnet_rx_state *s;
	unsigned int i;

	if (!dp || !mac)
		return -EINVAL;
	s = dp->st;
	for (i = 0; i < s->n_host_macs; i++)
		if (!memcmp(s->host_macs[i], mac, 6))
			break;
	if (on && i == s->n_host_macs) {
		if (s->n_host_macs == VNET_RX_HOST_MACS_MAX)
			return -ENOSPC;
		memcpy(s->host_macs[s->n_host_macs++], mac, 6);
	} else if (!on && i < s->n_host_macs) {
		memmove(s->host_macs[i], s->host_macs[i + 1], 6 * (s->n_host_macs - i - 1));
		s->n_host_macs--;
	}
	return push_mac(dp, mac);
}

int vnet_dp_add_host_ipv4(struct vnet_dp *dp, __u32 addr_be)
{
	struct vnet_rx_state *s;
	__u8 one = 1;
	int err;

	if (!dp)
		return -EINVAL;
	s = dp->st;
	for (unsigned int i = 0; i < s->n_host_ipv4; i++)
		if (s->host_ipv4[i] == addr_be)
			return 0;
	if (s->n_host_ipv4 == VNET_DP_MAX_HOST_IPS)
		return -ENOSPC;
	err = update(dp->fd_host4, &addr_be, &one);
	if (!err)
		s->host_ipv4[s->n_host_ipv4++] = addr_be;
	return err;
}

int vnet_dp_del_host_ipv4(struct vnet_dp *dp, __u32 addr_be)
{
	struct vnet_rx_state *s;

	if (!dp)
		return -EINVAL;
	s = dp->st;
	for (unsigned int i = 0; i < s->n_host_ipv4; i++) {
		if (s->host_ipv4[i] != addr_be)
			continue;
		s->host_ipv4[i] = s->host_ipv4[--s->n_host_ipv4];
		if (bpf_map_delete_elem(dp->fd_host4, &addr_be))
			return -errno;
		return 0;
	}
	return -ENOENT;
}

int vnet_dp_set_host_shared(struct vnet_dp *dp, int on)
{
	__u32 old;
	int err;

	if (!dp)
		return -EINVAL;
	old = dp->st->cfg_flags;
	if (on)
		dp->st->cfg_flags |= VNET_DP_CFG_HOST_SHARED;
	else
		dp->st->cfg_flags &= ~VNET_DP_CFG_HOST_SHARED;
	err = push_config(dp);
	if (err)
		dp->st->cfg_flags = old;	/* the shadow says what the map holds */
	return err;
}

int vnet_dp_read_counters(struct vnet_dp *dp, unsigned int slot,
			  struct vnet_dp_counters *out)
{
	if (!dp || !out || slot >= VNET_DP_COUNTER_SLOTS)
		return -EINVAL;
	if (bpf_map_lookup_elem(dp->fd_counters, &slot, dp->percpu))
		return -errno;
	memset(out, 0, sizeof(*out));
	for (int cpu = 0; cpu < dp->ncpus; cpu++)
		for (unsigned int i = 0; i < VNET_CNT_MAX; i++)
			out->c[i] += dp->percpu[cpu].c[i];
	return 0;
}

const char *vnet_dp_counter_name(unsigned int counter)
{
	static const char *const names[] = {
		"delivered", "flood", "filter_mac", "filter_rxmode", "filter_vlan",
		"no_socket", "malformed", "host", "group_host",
	};

	if (counter < sizeof(names) / sizeof(names[0]))
		return names[counter];
	if (counter < VNET_CNT_MAX)
		return "hash";	/* + vnet_hash_report_name(counter - HASH_BASE) */
	return "?";
}
