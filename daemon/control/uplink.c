// SPDX-License-Identifier: MIT
/*
 * Uplink watch with libnl-route: a cache manager subscribed to RTNLGRP_LINK
 * tells us *that* links changed (its socket sits in the control thread's
 * epoll); what they are now comes from a fresh dump into our own link cache.
 * Deriving each uplink's state (absent, up without carrier, running) from a
 * full dump rather than from single events means a missed or coalesced
 * notification cannot leave a device with a stale link state -- and the
 * manager's incremental cache was seen to miss the carrier of a link
 * re-created under the same name and ifindex.
 */
#include <errno.h>
#include <net/if.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <netlink/cache.h>
#include <netlink/route/link.h>

#include "vnet/evloop.h"
#include "vnet/log.h"
#include "vnet/netutil.h"
#include "vnet/uplink.h"

struct vnet_uplink_watch {
	struct vnet_evt ev;
	struct vnet_registry *reg;
	struct nl_cache_mngr *mngr;
	struct nl_cache *mngr_links;	/* the manager's; only a notification source */
	struct nl_cache *links;		/* refilled from a dump after each change */
	struct nl_sock *sync;		/* the dump socket */
	int epfd;
};

void vnet_uplink_watch_refresh(struct vnet_uplink_watch *w)
{
	for (int i = 0; i < w->reg->n_mgmt; i++) {
		struct vnet_mgmtdev *m = &w->reg->mgmt[i];
		struct vnet_uplink_link l = {
			.state = VNET_UPLINK_ABSENT, .speed = 0xffffffff, .duplex = 0xff,
		};
		struct rtnl_link *link;

		if (m->is_sim)
			continue;
		link = rtnl_link_get_by_name(w->links, m->name);
		if (link) {
			bool up = (rtnl_link_get_flags(link) & IFF_UP) &&
				  rtnl_link_get_carrier(link);

			l.state = up ? VNET_UPLINK_UP : VNET_UPLINK_NO_CARRIER;
			l.mtu = rtnl_link_get_mtu(link);
			l.ifindex = rtnl_link_get_ifindex(link);
			/* absent (kernel < 3.15): 0, no transition ever counted */
			rtnl_link_get_carrier_changes(link, &l.carrier_changes);
			rtnl_link_put(link);
			/* a link without carrier has no speed to speak of */
			if (up)
				vnet_if_speed(m->name, &l.speed, &l.duplex);
		}
		vnet_registry_uplink_update(w->reg, m->name, &l);
	}
}

static void link_changed(struct nl_cache *cache, struct nl_object *obj, int action,
			 void *data)
{
	/* the state is recomputed from the whole cache after data_ready */
}

static void watch_event(struct vnet_evt *ev, unsigned int events)
{
	struct vnet_uplink_watch *w = (struct vnet_uplink_watch *)ev;
	int err = nl_cache_mngr_data_ready(w->mngr);

	if (err < 0)	/* e.g. ENOBUFS after a notification storm: the dump resyncs */
		pr_info("uplink watch: %s, resyncing\n", nl_geterror(err));
	err = nl_cache_refill(w->sync, w->links);
	if (err < 0)
		pr_warn("uplink watch: link dump failed: %s\n", nl_geterror(err));
	vnet_uplink_watch_refresh(w);
}

int vnet_uplink_watch_open(struct vnet_uplink_watch **wp, struct vnet_registry *reg,
			   int epfd)
{
	struct epoll_event ee = { .events = EPOLLIN };
	struct vnet_uplink_watch *w;
	int err;

	w = calloc(1, sizeof(*w));
	if (!w)
		return -ENOMEM;
	w->reg = reg;
	w->epfd = epfd;
	err = nl_cache_mngr_alloc(NULL, NETLINK_ROUTE, NL_AUTO_PROVIDE, &w->mngr);
	if (err < 0) {
		pr_warn("uplink watch: %s\n", nl_geterror(err));
		err = -EIO;
		goto err_free;
	}
	w->sync = nl_socket_alloc();
	if (!w->sync || nl_connect(w->sync, NETLINK_ROUTE) < 0) {
		err = -EIO;
		goto err_mngr;
	}
	err = nl_cache_mngr_add(w->mngr, "route/link", link_changed, w, &w->mngr_links);
	if (!err)
		err = rtnl_link_alloc_cache(w->sync, AF_UNSPEC, &w->links);
	if (err < 0) {
		pr_warn("uplink watch: %s\n", nl_geterror(err));
		err = -EIO;
		goto err_mngr;
	}
	w->ev.fd = nl_cache_mngr_get_fd(w->mngr);
	w->ev.fn = watch_event;
	ee.data.ptr = &w->ev;
	if (epoll_ctl(epfd, EPOLL_CTL_ADD, w->ev.fd, &ee)) {
		err = -errno;
		goto err_mngr;
	}
	vnet_uplink_watch_refresh(w);
	*wp = w;
	return 0;

err_mngr:
	if (w->links)
		nl_cache_free(w->links);
	if (w->sync)
		nl_socket_free(w->sync);
	nl_cache_mngr_free(w->mngr);
err_free:
	free(w);
	return err;
}

void vnet_uplink_watch_close(struct vnet_uplink_watch *w)
{
	if (!w)
		return;
	epoll_ctl(w->epfd, EPOLL_CTL_DEL, w->ev.fd, NULL);
	nl_cache_free(w->links);
	nl_cache_mngr_free(w->mngr);
	nl_socket_free(w->sync);
	free(w);
}
