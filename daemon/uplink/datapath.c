// SPDX-License-Identifier: MIT
/*
 * The XDP uplink datapath, userspace side: opens bpf/vnet_xdp.bpf.c's
 * skeleton (its maps are skel->maps.*, its one knob skel->rodata: the
 * bit-serial Toeplitz loop for bench-xdp), attaches it (xdp_attach.c:
 * native, else generic; libxdp's dispatcher when the kernel takes it and
 * vnet's program, else the program alone), and turns the device model's
 * control-queue state into map updates. It keeps a shadow of everything it
 * wrote (struct vnet_rx_state), which is what the C reference
 * (rx_filter.c) reads: both always see the same configuration.
 *
 * Steering changes (RSS, hash config, queue pairs) are written to the
 * device's spare slot, then one byte flips the live slot, then we wait for
 * an RCU grace period (an update of a map-in-map makes the kernel wait for
 * every running BPF program) so the old slot is unused before it is reused:
 * a packet never sees half a configuration.
 *
 * The MAC map is mirrored into the array 'mac_cache' (dp_mac_cache.c),
 * which we write in place through mmap with ordered stores; the program
 * trusts a cache entry only when it reads it twice the same.
 */
#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "vnet/datapath.h"
#include "vnet/log.h"
#include "vnet/rx_filter.h"
#include "vnet/xdp_attach.h"
#include "datapath_int.h"

/* Returns once every BPF program that might have seen old values is done. */
static int rcu_wait(struct vnet_dp *dp)
{
	__u32 zero = 0;

	return dp_map_update(dp->rcu_outer, &zero, &dp->rcu_inner);
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

/* A fresh object for each attach attempt (xdp_attach.h): the skeleton. */
static struct bpf_object *skel_open(void *ctx)
{
	struct vnet_dp *dp = ctx;

	dp->skel = vnet_xdp__open();
	if (!dp->skel)
		return NULL;
	/* the bit-serial Toeplitz loop (bench-xdp's peer), else the table */
	dp->skel->rodata->toeplitz_bitloop = dp->bitloop;
	/*
	 * Jumbo frames: the program reads headers only (the first buffer),
	 * so it is frags-aware as it is. The flag lets it see frames of
	 * several buffers at all (veth refuses a plain program once its
	 * peer's MTU is over a page: "Peer MTU is too large to set XDP").
	 */
	if (dp->frags)
		bpf_program__set_flags(dp->skel->progs.vnet_xdp_rx,
				       bpf_program__flags(dp->skel->progs.vnet_xdp_rx) |
				       BPF_F_XDP_HAS_FRAGS);
	return dp->skel->obj;
}

static void skel_close(void *ctx, struct bpf_object *obj)
{
	struct vnet_dp *dp = ctx;

	vnet_xdp__destroy(dp->skel);
	dp->skel = NULL;
}

int vnet_dp_open(const struct vnet_dp_opts *opts, struct vnet_dp **dpp)
{
	struct vnet_xdp_obj o = { .open = skel_open, .close = skel_close };
	struct vnet_dp *dp;
	__u8 mac[6];
	int err;

	if (!opts || !dpp || (opts->mode != VNET_DP_ATTACH_NONE && opts->ifindex <= 0))
		return -EINVAL;
	dp = calloc(1, sizeof(*dp));
	if (!dp)
		return -ENOMEM;
	o.ctx = dp;
	dp->ifindex = opts->ifindex;
	dp->bitloop = opts->bitloop;
	dp->frags = opts->frags;
	dp->rcu_inner = dp->rcu_outer = -1;
	dp->ncpus = libbpf_num_possible_cpus();
	dp->st = calloc(1, sizeof(*dp->st));
	dp->scratch = calloc(1, sizeof(*dp->scratch));
	dp->percpu = dp->ncpus > 0 ? calloc(dp->ncpus, sizeof(*dp->percpu)) : NULL;
	err = -ENOMEM;
	if (!dp->st || !dp->scratch || !dp->percpu)
		goto err_free;

	/* libxdp's dispatcher, else the program alone; native, else generic */
	err = vnet_xdp_link_open(&dp->link, &o, opts->ifindex, opts->mode, opts->fault);
	if (err) {
		pr_warn("datapath: load/attach failed: %s\n", strerror(-err));
		goto err_free;
	}
	err = rcu_wait_init(dp) ?: dp_mac_cache_init(&dp->cache, MAP_FD(dp, mac_cache)) ?:
	      dp_push_config(dp);
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
	dp_mac_cache_fini(&dp->cache);
	/* detaches, unless the netdev went away and took the program along */
	vnet_xdp_link_close(&dp->link);
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
	return MAP_FD(dp, mac_devs);
}

const struct vnet_rx_state *vnet_dp_state(const struct vnet_dp *dp)
{
	return dp->st;
}

/* --- config, MAC and VLAN maps ------------------------------------------- */

/* The rx-mode masks and live slots as the program reads them: one value. */
int dp_push_config(struct vnet_dp *dp)
{
	struct vnet_dp_config c;
	__u32 zero = 0;

	memset(&c, 0, sizeof(c));
	c.filter = dp->st->filter;
	memcpy(c.slot, dp->slot, sizeof(dp->slot));
	if (dp_mac_cache_on(&dp->cache))
		c.flags |= VNET_DP_CFG_MAC_CACHE;
	c.flags |= dp->st->cfg_flags & (VNET_DP_CFG_HOST_SHARED | VNET_DP_CFG_KGRO);
	c.kgro = dp->st->kgro;
	return dp_map_update(MAP_FD(dp, config), &zero, &c);
}

/* Rewrite the MAC map entry of one address from the shadow. */
static int push_mac(struct vnet_dp *dp, const __u8 mac[6])
{
	struct vnet_dp_mac_key key = { 0 };
	__u64 devs = vnet_rx_mac_devs(dp->st, mac), old;
	int had, err;

	memcpy(key.mac, mac, 6);
	had = !bpf_map_lookup_elem(MAP_FD(dp, mac_devs), &key, &old);
	if (devs) {
		/* the authoritative map first: a cache miss may fall back to it */
		err = dp_map_update(MAP_FD(dp, mac_devs), &key, &devs);
		if (!err && dp_mac_cache_on(&dp->cache))
			dp_mac_cache_put(&dp->cache, mac, devs, had);
		return err;
	}
	if (dp_mac_cache_on(&dp->cache))
		dp_mac_cache_del(&dp->cache, mac, had);
	if (had && bpf_map_delete_elem(MAP_FD(dp, mac_devs), &key) && errno != ENOENT)
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

	return dp_map_update(MAP_FD(dp, vlan_devs), &key, &devs);
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
	err = dp_map_update(MAP_FD(dp, steer), &k, sl);
	if (err)
		return err;
	/* the flip: one byte of the config value, read once per packet */
	dp->slot[dev] = spare;
	err = dp_push_config(dp);
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
	return dp_map_update(MAP_FD(dp, counters), &slot, dp->percpu);
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
	err = dp_push_config(dp);
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
	dp->st->kgro &= ~(1ull << dev);
	err = dp_push_config(dp);		/* the device stops receiving first */
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

/*
 * A failed update leaves the maps behind the shadow (which already holds
 * the change); a failed delete leaves an entry the shadow no longer knows.
 * Rewrite everything from the shadow, stale MAC entries included: their
 * keys are collected first (push_mac may delete while we walk). Steering
 * needs nothing: its shadow moves only once the map took it, so the next
 * vnet_dp_set_steering() with the same request retries it.
 */
int vnet_dp_resync(struct vnet_dp *dp)
{
	struct vnet_dp_mac_key *keys, *prev = NULL;
	unsigned int n = 0, i;
	int err = dp_push_config(dp);

	keys = calloc(VNET_DP_MAX_MACS, sizeof(*keys));
	if (!keys)
		return -ENOMEM;
	while (!err && n < VNET_DP_MAX_MACS &&
	       !bpf_map_get_next_key(MAP_FD(dp, mac_devs), prev, &keys[n]))
		prev = &keys[n++];
	for (i = 0; !err && i < n; i++)
		err = push_mac(dp, keys[i].mac);
	free(keys);
	for (i = 0; !err && i < VNET_DP_MAX_DEVS; i++)
		if (vnet_rx_dev_present(dp->st, i))
			err = push_dev_macs(dp, &dp->st->dev[i]);
	for (i = 0; !err && i < VNET_VLAN_N; i++)
		err = push_vlan(dp, (__u16)i);
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
	return dp_push_config(dp);
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
	return dp_push_config(dp);
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

