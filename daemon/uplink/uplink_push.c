// SPDX-License-Identifier: MIT
/*
 * The uplink worker's maps side (uplink_int.h): what the devices' control-
 * queue state makes of them, pushed into the XDP program's maps as the
 * difference from what the maps hold; the trusted devices' learned MACs
 * kept fresh; the host's IPv4 addresses, re-read now and then.
 */
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <string.h>

#include "uplink_int.h"
#include "vnet/log.h"
#include "vnet/netutil.h"
#include "vnet/rx_conf.h"

/*
 * The uplink's IPv4 addresses: ARP for them stays with the host (rule 2 of
 * rx_filter.h), so the host keeps answering while devices want broadcasts.
 * Re-read every second: addresses come and go without telling us.
 */
void updp_scan_host_addrs(struct vnet_updp *up)
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

/* Trust turned off forgets what was learned; entries age like a bridge's. */
void updp_learn_maintain(struct up_port *p)
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
 * Push what the maps must know about the device: the one configuration its
 * control-queue state makes (rx_conf.h), the difference only
 * (vnet_updp_push_dev). Cheap when nothing moved: one compare a round
 * (every accepted change bumps the state's version, resets included).
 * The maps' shadow is what every worker's receive decision reads, so the
 * push runs with every worker's lock held (uplink_worker.c port_push).
 */
bool updp_push_due(const struct up_port *p, const struct vnet_net_state *st)
{
	/* after a failure: a resync once a second, whatever moved */
	if (p->push_failed)
		return vnet_now_ns() >= p->push_retry_ns;
	return !p->pushed_valid || p->dev->driver != p->pushed_driver ||
	       vnet_devq_active_rx(&p->dq) != p->pushed_active ||
	       st->version != p->pushed_version || p->learned.version != p->pushed_learned;
}

void updp_push_state(struct up_port *p, const struct vnet_net_state *st)
{
	struct vnet_netdev *dev = p->dev;
	unsigned int active = vnet_devq_active_rx(&p->dq);
	struct vnet_rx_conf c;
	int err;

	if (!updp_push_due(p, st))
		return;
	if (p->push_failed) {
		p->push_retry_ns = vnet_now_ns() + 1000000000ull;
		err = vnet_dp_resync(p->up->dp);
		if (err) {
			p->push_failures++;
			return;
		}
	}
	vnet_rx_conf_of(st, dev->driver, active, dev->params.max_vqp, VNET_RX_UNFILTERED_OWN,
			&c);
	err = vnet_updp_push_dev(p->up->dp, p->slot, st, &c,
				 (const __u8 (*)[6])p->learned.mac, p->learned.n);
	if (err) {
		/*
		 * Not recorded as applied: the maps are behind the device.
		 * Said once, resynced once a second (not every round: a map
		 * that stays full must not spin the worker).
		 */
		if (!p->push_failed) {
			pr_warn("%s: datapath update failed: %s; retrying every second\n",
				dev->params.name, strerror(-err));
			p->push_failed = true;
			p->push_failures = 1;
			p->push_retry_ns = vnet_now_ns() + 1000000000ull;
		} else {
			p->push_failures++;
		}
		return;
	}
	if (p->push_failed) {
		pr_info("%s: datapath updated after %u failed attempt(s)\n", dev->params.name,
			p->push_failures);
		p->push_failed = false;
	}
	p->pushed_version = st->version;
	p->pushed_driver = dev->driver;
	p->pushed_active = active;
	p->pushed_learned = p->learned.version;
	p->pushed_valid = true;
}

int vnet_updp_push_dev(struct vnet_dp *dp, unsigned int slot, const struct vnet_net_state *st,
		       const struct vnet_rx_conf *c, const __u8 (*extra_uc)[6],
		       unsigned int n_extra)
{
	const struct vnet_rx_state *s = vnet_dp_state(dp);
	const struct vnet_dp_filter *f = &s->filter;
	const __u64 *modes[VNET_RX_MODE_MAX + 1] = {
		[VNET_RX_PROMISC] = &f->promisc, [VNET_RX_ALLMULTI] = &f->allmulti,
		[VNET_RX_ALLUNI] = &f->alluni, [VNET_RX_NOMULTI] = &f->nomulti,
		[VNET_RX_NOUNI] = &f->nouni, [VNET_RX_NOBCAST] = &f->nobcast,
	};
	const struct vnet_rx_dev *d;
	__u8 uc[VNET_RX_MAC_TABLE_MAX][6];
	unsigned int n_uc = 0, n_mc, i, w;
	struct vnet_dp_steer steer;
	int err = 0;

	if (!vnet_rx_dev_present(s, slot))
		return -ENODEV;
	d = &s->dev[slot];
	for (i = 0; i <= VNET_RX_MODE_MAX; i++)
		if ((*modes[i] >> slot & 1) != c->mode[i])
			err = err ?: vnet_dp_set_rx_mode(dp, slot, i, c->mode[i]);
	if (memcmp(st->mac, d->mac, 6))
		err = err ?: vnet_dp_set_mac(dp, slot, st->mac);

	/*
	 * The unicast table in the maps: the driver's (CTRL_MAC_TABLE_SET)
	 * and the extra MACs (a trusted device's learned sources); what does
	 * not fit is left out (the driver's table overflowed to ALLUNI by
	 * then, spec 5.1.6.5.2).
	 */
	for (i = 0; i < st->n_uc && n_uc < VNET_RX_MAC_TABLE_MAX; i++)
		memcpy(uc[n_uc++], st->macs[i], 6);
	for (i = 0; i < n_extra && n_uc < VNET_RX_MAC_TABLE_MAX; i++)
		memcpy(uc[n_uc++], extra_uc[i], 6);
	n_mc = st->n_mc < VNET_RX_MAC_TABLE_MAX ? st->n_mc : VNET_RX_MAC_TABLE_MAX;
	if (n_uc != d->n_uc || n_mc != d->n_mc || memcmp(uc, d->uc, 6 * (size_t)n_uc) ||
	    memcmp(st->macs + st->n_uc, d->mc, 6 * (size_t)n_mc))
		err = err ?: vnet_dp_set_mac_table(dp, slot, (const __u8 (*)[6])uc, n_uc,
						   (const __u8 (*)[6])st->macs + st->n_uc, n_mc);

	if ((f->vlan_filter >> slot & 1) != c->vlan_filter)
		err = err ?: vnet_dp_set_vlan_filter(dp, slot, c->vlan_filter);
	for (w = 0; w < VNET_VLAN_N / 64; w++) {
		__u64 want = vnet_rx_conf_vlan_word(st, w), diff = want ^ d->vlans[w];

		while (diff && !err) {
			unsigned int b = (unsigned int)__builtin_ctzll(diff);
			__u16 vid = (__u16)(w * 64 + b);

			diff &= diff - 1;
			err = want >> b & 1 ? vnet_dp_vlan_add(dp, slot, vid) :
					      vnet_dp_vlan_del(dp, slot, vid);
		}
	}

	if ((s->kgro >> slot & 1) != c->gso_rx)
		err = err ?: vnet_dp_set_dev_kgro(dp, slot, c->gso_rx);

	/* each steering push waits a grace period (datapath.c): only a change */
	vnet_rx_steer_derive(&c->steer, &steer);
	if (memcmp(&steer, &d->steer, sizeof(steer)))
		err = err ?: vnet_dp_set_steering(dp, slot, &c->steer);
	return err;
}
