// SPDX-License-Identifier: MIT
/*
 * The XDP datapath's uplink side (datapath_int.h): the AF_XDP sockets in
 * the XSKMAP, the host's IPv4 addresses, the config value's flags
 * (HOST_SHARED, KGRO and its devices) and the per-CPU counters.
 */
#include <string.h>

#include "datapath_int.h"

int vnet_dp_set_xsk(struct vnet_dp *dp, unsigned int rx_queue, int xsk_fd)
{
	if (!dp || rx_queue >= VNET_DP_MAX_QUEUES || xsk_fd < 0)
		return -EINVAL;
	return dp_map_update(MAP_FD(dp, xsks), &rx_queue, &xsk_fd);
}

int vnet_dp_clear_xsk(struct vnet_dp *dp, unsigned int rx_queue)
{
	if (!dp || rx_queue >= VNET_DP_MAX_QUEUES)
		return -EINVAL;
	if (bpf_map_delete_elem(MAP_FD(dp, xsks), &rx_queue) && errno != ENOENT)
		return -errno;
	return 0;
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
	err = dp_map_update(MAP_FD(dp, host_ipv4), &addr_be, &one);
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
		if (bpf_map_delete_elem(MAP_FD(dp, host_ipv4), &addr_be))
			return -errno;
		return 0;
	}
	return -ENOENT;
}

/* The config value's flags and KGRO devices; the shadow keeps what the map holds. */
static int cfg_update(struct vnet_dp *dp, __u32 flags, __u64 kgro)
{
	__u32 old_flags = dp->st->cfg_flags;
	__u64 old_kgro = dp->st->kgro;
	int err;

	if (flags == old_flags && kgro == old_kgro)
		return 0;
	dp->st->cfg_flags = flags;
	dp->st->kgro = kgro;
	err = dp_push_config(dp);
	if (err) {
		dp->st->cfg_flags = old_flags;
		dp->st->kgro = old_kgro;
	}
	return err;
}

static __u32 flag_set(__u32 flags, __u32 f, int on)
{
	return on ? flags | f : flags & ~f;
}

int vnet_dp_set_host_shared(struct vnet_dp *dp, int on)
{
	return dp ? cfg_update(dp, flag_set(dp->st->cfg_flags, VNET_DP_CFG_HOST_SHARED, on),
			       dp->st->kgro) : -EINVAL;
}

int vnet_dp_set_kgro(struct vnet_dp *dp, int on)
{
	return dp ? cfg_update(dp, flag_set(dp->st->cfg_flags, VNET_DP_CFG_KGRO, on),
			       dp->st->kgro) : -EINVAL;
}

int vnet_dp_set_dev_kgro(struct vnet_dp *dp, unsigned int dev, int on)
{
	if (!dp || dev >= VNET_DP_MAX_DEVS)
		return -EINVAL;
	return cfg_update(dp, dp->st->cfg_flags,
			  on ? dp->st->kgro | 1ull << dev : dp->st->kgro & ~(1ull << dev));
}

int vnet_dp_read_counters(struct vnet_dp *dp, unsigned int slot,
			  struct vnet_dp_counters *out)
{
	if (!dp || !out || slot >= VNET_DP_COUNTER_SLOTS)
		return -EINVAL;
	if (bpf_map_lookup_elem(MAP_FD(dp, counters), &slot, dp->percpu))
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
		"no_socket", "malformed", "host", "group_host", "kgro",
	};

	if (counter < sizeof(names) / sizeof(names[0]))
		return names[counter];
	if (counter < VNET_CNT_MAX)
		return "hash";	/* + vnet_hash_report_name(counter - HASH_BASE) */
	return "?";
}
