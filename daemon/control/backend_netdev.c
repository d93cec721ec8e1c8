// SPDX-License-Identifier: MIT
/*
 * The registry's backend over the virtio-net device model: what makes a
 * "vnetctl dev add" a device a driver can reach.
 *
 * One device is three objects, made in this order and undone in reverse:
 *
 *   struct vnet_netdev     the model (features, config, status, cvq state)
 *   struct vnet_transport  how its driver reaches it, as dev->p.transport
 *                        says (include/vnet/transport.h; vhost-user on
 *                        dev->p.socket_path), served by vnetd's control
 *                        loop through its ops->fd / ops->process
 *   the queue worker     vnet/sim: a struct vnet_sim thread in LOOPBACK
 *                        (tx comes back as rx);
 *                        vnet/<uplink>: a port of the uplink's datapath
 *                        (uplink_dp.c: XDP + AF_XDP, the uplink's worker
 *                        serves the queues; dev show: datapath uplink; it
 *                        stays a port while the uplink is gone), or, when
 *                        the uplink refused XDP at start, a vnet_sim in SINK
 *                        mode: frames the driver sends are counted and
 *                        dropped (datapath none)
 *
 * Nothing here knows which transport it is.
 * Everything here runs on the control thread. Getters take the device lock
 * through vnet_netdev_lock_ctl() (the worker steps aside); nothing waits on
 * a front-end. Destroy joins the worker thread, which leaves within one
 * burst once woken.
 */
#include <endian.h>
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>

#include "vnet/xsk.h"
#include "vnet/device.h"
#include "vnet/evloop.h"
#include "vnet/log.h"
#include "vnet/registry.h"
#include "vnet/sim.h"
#include "vnet/transport.h"
#include "vnet/uplink_dp.h"

struct nd_dev {
	struct vnet_dev *dev;
	struct vnet_netdev *nd;
	struct vnet_transport *tr;
	struct vnet_features refused;	/* what the transport cannot offer */
	struct vnet_sim *sim;
	struct vnet_updp_port *port;	/* uplink devices with a datapath */
	struct vnet_evt evt;		/* tr->ops->fd() in the control loop */
};

/* the control thread's epoll set: one per vnetd, given at start */
static int nd_epfd = -1;

static struct nd_dev *nd_of(struct vnet_dev *dev)
{
	return dev->priv;
}

static void nd_transport_event(struct vnet_evt *ev, unsigned int events)
{
	struct nd_dev *d = (struct nd_dev *)((char *)ev - offsetof(struct nd_dev, evt));
	int err = d->tr->ops->process(d->tr);

	if (err)
		pr_warn("%s: %s: %s\n", d->dev->p.name, d->tr->ops->name, strerror(-err));
}

static int nd_create(struct vnet_dev *dev, const char **errmsg)
{
	struct vnet_netdev_params np = {
		.max_vqp = dev->p.max_vqp,
		.mtu = dev->p.mtu,
		.duplex = 0xff,			/* unknown, like speed 0 */
		.features = dev->p.features,
		.transport = dev->p.transport,
		.sock_mode = dev->p.sock_mode,
		.bind = dev->p.bind,
	};
	const struct vnet_transport_ops *ops;
	struct vnet_features refused = { 0 };
	struct epoll_event ee = { .events = EPOLLIN };
	struct vnet_sim_opts so = {
		.mode = dev->mgmt->is_sim ? VNET_SIM_LOOPBACK : VNET_SIM_SINK,
		.cpu = -1,
	};
	struct vnet_updp *updp = dev->mgmt->datapath;
	const char *why = NULL;
	struct nd_dev *d;
	int err;

	if (nd_epfd < 0) {
		*errmsg = "backend not initialised";
		return -EINVAL;
	}
	ops = vnet_transport_find(dev->p.transport, &err, errmsg);
	if (!ops)
		return err;
	/*
	 * What the transport can offer (VDUSE: what the running kernel
	 * accepts), before the model is made with it. The registry keeps the
	 * narrowed set (what vnet supports of it: not the transport's own
	 * bits), so a restart offers the same.
	 */
	if (ops->features) {
		err = ops->features(&np, dev->p.mask & VNET_P_FEATURES, &refused, errmsg);
		if (err)
			return err;
		dev->p.features = vnet_features_and(&np.features,
						    &dev->ops->supported_features);
	}
	/* the registry checked subset/VERSION_1; the model's own rules give
	 * the clearer message (spec 5.1.3.1) */
	if (vnet_net_features_check(&dev->p.features, &why)) {
		*errmsg = why;
		return -EINVAL;
	}
	d = calloc(1, sizeof(*d));
	if (!d) {
		*errmsg = "out of memory";
		return -ENOMEM;
	}
	d->dev = dev;
	snprintf(np.name, sizeof(np.name), "%s", dev->p.name);
	memcpy(np.mac, dev->p.mac, 6);
	snprintf(np.socket_path, sizeof(np.socket_path), "%s", dev->p.socket_path);
	snprintf(np.netns, sizeof(np.netns), "%s", dev->p.netns);
	d->refused = refused;

	err = vnet_netdev_create(&np, &d->nd);
	if (err) {
		*errmsg = "the device model refused the parameters";
		goto err_free;
	}
	/* no driver yet: nobody to notify */
	vnet_netdev_set_speed(d->nd, dev->mgmt->uplink_speed, dev->mgmt->uplink_duplex);
	vnet_netdev_set_link(d->nd, dev->mgmt->is_sim ||
				    dev->mgmt->uplink_state == VNET_UPLINK_UP);

	err = vnet_transport_create(d->nd, &d->tr, errmsg);
	if (err)
		goto err_netdev;
	if (updp)
		err = vnet_updp_port_add(updp, d->nd, dev->p.trusted, dev->p.spoofchk, &d->port);
	else
		err = vnet_sim_start(d->nd, &so, &d->sim);
	if (err) {
		*errmsg = "cannot start the queue worker";
		goto err_tr;
	}
	/* a transport with a thread of its own has no fd for us */
	d->evt.fd = d->tr->ops->fd(d->tr);
	d->evt.fn = nd_transport_event;
	ee.data.ptr = &d->evt;
	if (d->evt.fd >= 0 && epoll_ctl(nd_epfd, EPOLL_CTL_ADD, d->evt.fd, &ee)) {
		err = -errno;
		*errmsg = "cannot watch the transport";
		goto err_sim;
	}
	dev->priv = d;
	dev->datapath = dev->mgmt->is_sim ? VNET_DATAPATH_LOOPBACK :
			updp ? VNET_DATAPATH_UPLINK : VNET_DATAPATH_NONE;
	pr_info("%s: %s, %s\n", dev->p.name, d->tr->ops->name, dev->mgmt->is_sim ? "loopback" :
		updp ? "uplink datapath" : "no datapath (guest frames counted and dropped)");
	return 0;

err_sim:
	vnet_updp_port_del(d->port);
	vnet_sim_stop(d->sim);
err_tr:
	vnet_transport_destroy(d->tr);
err_netdev:
	vnet_netdev_destroy(d->nd);
err_free:
	free(d);
	return err;
}

static void nd_destroy(struct vnet_dev *dev)
{
	struct nd_dev *d = nd_of(dev);

	if (!d)
		return;
	if (d->evt.fd >= 0)
		epoll_ctl(nd_epfd, EPOLL_CTL_DEL, d->evt.fd, NULL);
	/* the worker first: the front-end's rings and memory go with vu */
	vnet_updp_port_del(d->port);
	vnet_sim_stop(d->sim);
	/* detaches the driver (vhost-user: closes the front-end's
	 * connection, which sees EOF, and in server mode removes the socket) */
	vnet_transport_destroy(d->tr);
	vnet_netdev_destroy(d->nd);
	free(d);
	dev->priv = NULL;
}

static void nd_get_config(struct vnet_dev *dev, struct vnet_net_config *cfg)
{
	struct vnet_netdev_config c;

	vnet_netdev_read_config(nd_of(dev)->nd, &c);
	memset(cfg, 0, sizeof(*cfg));
	memcpy(cfg->mac, c.mac, 6);
	cfg->status = le16toh(c.status);
	cfg->max_virtqueue_pairs = le16toh(c.max_virtqueue_pairs);
	cfg->mtu = le16toh(c.mtu);
}

static __u8 nd_get_status(struct vnet_dev *dev)
{
	return vnet_netdev_status(nd_of(dev)->nd);
}

static struct vnet_features nd_get_device_features(struct vnet_dev *dev)
{
	struct vnet_features offered;

	vnet_netdev_features(nd_of(dev)->nd, NULL, &offered);
	return offered;
}

static struct vnet_features nd_get_driver_features(struct vnet_dev *dev)
{
	struct vnet_features driver;

	/* empty until FEATURES_OK: the kernel shows none before either */
	vnet_netdev_features(nd_of(dev)->nd, &driver, NULL);
	return driver;
}

/*
 * Per-queue counters as the kernel's vdpa_sim_net names them ("rx packets",
 * ...), written with '_' so that vnetctl's "name value" text stays one word
 * per name, plus vnet's "notifications" (used-buffer notifications sent)
 * and, after them, what rx_drops / tx_drops are made of (more name/value
 * pairs: iproute2's vdpa prints whatever pairs come).
 * Data queues are those of the pairs the driver may use (even: receiveq);
 * the control queue is where the negotiated features put it (spec 5.1.2).
 */
static int nd_get_vq_stats(struct vnet_dev *dev, __u32 qidx, struct vnet_vq_stat *st,
			   int max, const char **errmsg)
{
	static const char *const rx[] = { "rx_packets", "rx_bytes", "rx_drops", "rx_errors",
					  "notifications", "rx_drops_no_buffer",
					  "rx_drops_too_big" };
	static const char *const tx[] = { "tx_packets", "tx_bytes", "tx_drops", "tx_errors",
					  "notifications", "tx_drops_malformed",
					  "tx_drops_bad_desc", "tx_drops_too_big" };
	static const char *const cvq[] = { "cvq_requests", "cvq_successes", "cvq_errors",
					   "notifications" };
	struct vnet_netdev *nd = nd_of(dev)->nd;
	struct vnet_queue_stats qs;
	const char *const *names;
	__u64 val[8];
	unsigned int cvq_idx, data_q;
	bool has_cvq, is_cvq;
	int n, err;

	vnet_netdev_lock_ctl(nd);
	cvq_idx = vnet_netdev_cvq_index(nd);
	data_q = 2 * vnet_netdev_data_pairs(nd);
	has_cvq = vnet_features_has(&nd->driver_set, VIRTIO_NET_F_CTRL_VQ);
	pthread_mutex_unlock(&nd->lock);

	is_cvq = has_cvq && qidx == cvq_idx;
	if (!is_cvq && qidx >= data_q) {
		*errmsg = "queue index out of range";
		return -ERANGE;
	}
	err = vnet_netdev_queue_stats(nd, qidx, &qs);
	if (err) {
		*errmsg = "queue index out of range";
		return -ERANGE;
	}
	if (is_cvq) {
		/* the worker counts commands in packets, refused ones in drops */
		names = cvq;
		val[0] = qs.packets;
		val[1] = qs.packets - qs.drops;
		val[2] = qs.drops;
		val[3] = qs.notifies;
		n = 4;
	} else {
		names = qidx & 1 ? tx : rx;
		val[0] = qs.packets;
		val[1] = qs.bytes;
		val[2] = qs.drops;
		val[3] = qs.errors;
		val[4] = qs.notifies;
		if (qidx & 1) {
			val[5] = qs.drop_malformed;
			val[6] = qs.drop_bad_desc;
			val[7] = qs.drop_too_big;
			n = 8;
		} else {
			val[5] = qs.drop_no_buf;
			val[6] = qs.drop_too_big;
			n = 7;
		}
	}
	if (n > max)
		n = max;
	for (int i = 0; i < n; i++) {
		snprintf(st[i].name, sizeof(st[i].name), "%s", names[i]);
		st[i].value = val[i];
	}
	return n;
}

static int nd_set_attr(struct vnet_dev *dev, const struct vnet_dev_params *p,
		       const char **errmsg)
{
	/*
	 * MAC: the device's config space and filter address change at once
	 * and the driver is told (config change), as vdpa_sim and mlx5 do.
	 * trust / spoofchk (already in dev->p) are enforced by the uplink
	 * datapath's transmit path.
	 */
	if (p->mask & VNET_P_MAC)
		vnet_netdev_set_mac(nd_of(dev)->nd, p->mac);
	if (nd_of(dev)->port)
		vnet_updp_port_set_policy(nd_of(dev)->port, dev->p.trusted, dev->p.spoofchk);
	return 0;
}

static void nd_link_change(struct vnet_dev *dev, bool up)
{
	/* SPEED_DUPLEX: the uplink's, in place before the link is up again */
	if (up)
		vnet_netdev_set_speed(nd_of(dev)->nd, dev->mgmt->uplink_speed,
				      dev->mgmt->uplink_duplex);
	/* LINK_UP in status + the transport's config change notification */
	vnet_netdev_set_link(nd_of(dev)->nd, up);
	/*
	 * Spec 5.1.6.5.4 "Gratuitous Packet Sending": the device asks for an
	 * announce when "the link configuration has changed"; after the uplink
	 * returns, switches beyond it may have forgotten the guest's MAC. Only a
	 * driver that negotiated GUEST_ANNOUNCE is asked (-EOPNOTSUPP otherwise).
	 */
	if (up)
		vnet_netdev_announce(nd_of(dev)->nd);
}

static int nd_get_port_counters(struct vnet_dev *dev, struct vnet_port_counters *pc)
{
	struct vnet_updp_port_stats st;
	struct nd_dev *d = nd_of(dev);

	if (!d->port)
		return -ENODEV;
	vnet_updp_port_stats(d->port, &st);
	*pc = (struct vnet_port_counters){
		.rx_frames = st.rx_frames, .rx_dropped = st.rx_dropped,
		.tx_wire = st.tx_wire, .tx_local = st.tx_local, .tx_host = st.tx_host,
		.tx_spoofed = st.tx_spoofed,
		.tx_dropped = st.tx_dropped + st.tx_host_dropped, .tx_rarp = st.tx_rarp,
		.rx_kgro = st.rx_kgro, .rx_kgro_parked = st.rx_kgro_parked,
	};
	return 0;
}

static unsigned int nd_get_learned_macs(struct vnet_dev *dev, __u8 (*macs)[6],
					unsigned int max)
{
	struct nd_dev *d = nd_of(dev);

	return d->port ? vnet_updp_port_learned(d->port, macs, max) : 0;
}

static int nd_uplink_change(struct vnet_mgmtdev *m, int ifindex)
{
	struct vnet_updp *up = m->datapath;

	/* an uplink without a datapath since start has nothing to re-attach */
	return up ? vnet_updp_set_link(up, ifindex) : 0;
}

static __u32 nd_uplink_mtu_limit(const struct vnet_mgmtdev *m, const char **why)
{
	return m->datapath ? vnet_updp_mtu_max(m->datapath, why) : 0;
}

static void nd_uplink_describe(const struct vnet_mgmtdev *m, char *buf, size_t len)
{
	const struct vnet_updp *up = m->datapath;

	if (up)
		vnet_updp_describe(up, buf, len);
	else
		snprintf(buf, len, "none");
}

static unsigned int nd_uplink_queues(const struct vnet_mgmtdev *m, __u64 (*q)[4],
				     unsigned int max, unsigned int *nq)
{
	struct vnet_updp *up = m->datapath;

	*nq = up ? vnet_updp_queue_stats(up, q, max) : 0;
	return up ? vnet_updp_workers(up) : 0;
}

/* the uplink's entries are the wire's (nl.h) */
_Static_assert(VNET_UPDP_QDROPS == VNET_UPLINK_QDROPS && VNET_UPDP_WDROPS == VNET_UPLINK_WDROPS,
	       "uplink drop entries");

static unsigned int nd_uplink_drops(const struct vnet_mgmtdev *m,
				    __u64 (*qd)[VNET_UPLINK_QDROPS], unsigned int maxq,
				    unsigned int *nqd, __u64 (*wd)[VNET_UPLINK_WDROPS],
				    unsigned int maxw)
{
	struct vnet_updp *up = m->datapath;

	*nqd = 0;
	return up ? vnet_updp_drop_stats(up, qd, maxq, nqd, wd, maxw) : 0;
}

static void nd_get_filter_state(struct vnet_dev *dev, struct vnet_filter_state *fs)
{
	struct vnet_netdev *nd = nd_of(dev)->nd;
	const struct vnet_net_state *st;

	memset(fs, 0, sizeof(*fs));
	vnet_netdev_lock_ctl(nd);
	st = vnet_netdev_state(nd);
	fs->rx_mode = (st->promisc ? VNET_RX_MODE_PROMISC : 0) |
		      (st->allmulti ? VNET_RX_MODE_ALLMULTI : 0) |
		      (st->alluni ? VNET_RX_MODE_ALLUNI : 0) |
		      (st->nomulti ? VNET_RX_MODE_NOMULTI : 0) |
		      (st->nouni ? VNET_RX_MODE_NOUNI : 0) |
		      (st->nobcast ? VNET_RX_MODE_NOBCAST : 0);
	fs->mac_table_len = st->n_uc + st->n_mc;
	for (unsigned int i = 0; i < VNET_VLAN_N / 32; i++)
		fs->vlan_count += __builtin_popcount(st->vlans[i]);
	fs->rss_hash_types = st->hash_types;
	fs->rss_indir_len = st->steering == VNET_STEER_RSS ? st->indir_mask + 1u : 0;
	fs->active_vqp = st->vq_pairs;
	pthread_mutex_unlock(&nd->lock);
}

static __u32 nd_get_migration(struct vnet_dev *dev)
{
	bool capable, logging;

	vnet_netdev_migration(nd_of(dev)->nd, &capable, &logging);
	return !capable ? VNET_MIGRATION_UNSUPPORTED :
	       logging ? VNET_MIGRATION_LOGGING : VNET_MIGRATION_IDLE;
}

static int nd_get_kernel_info(struct vnet_dev *dev, struct vnet_kernel_info *ki)
{
	struct nd_dev *d = nd_of(dev);
	struct vnet_transport_kinfo tk;

	if (!d->tr->ops->kinfo)
		return -ENODEV;
	d->tr->ops->kinfo(d->tr, &tk);
	memset(ki, 0, sizeof(*ki));
	snprintf(ki->netdev, sizeof(ki->netdev), "%s", tk.netdev);
	snprintf(ki->chardev, sizeof(ki->chardev), "%s", tk.chardev);
	ki->refused = d->refused;
	return 0;
}

static struct vnet_backend_ops nd_ops = {
	.name = "netdev",
	.create = nd_create,
	.destroy = nd_destroy,
	.get_config = nd_get_config,
	.get_status = nd_get_status,
	.get_device_features = nd_get_device_features,
	.get_driver_features = nd_get_driver_features,
	.get_vq_stats = nd_get_vq_stats,
	.set_attr = nd_set_attr,
	.link_change = nd_link_change,
	.get_filter_state = nd_get_filter_state,
	.get_port_counters = nd_get_port_counters,
	.get_learned_macs = nd_get_learned_macs,
	.get_migration = nd_get_migration,
	.uplink_change = nd_uplink_change,
	.uplink_describe = nd_uplink_describe,
	.uplink_mtu_limit = nd_uplink_mtu_limit,
	.uplink_queues = nd_uplink_queues,
	.uplink_drops = nd_uplink_drops,
	.get_kernel_info = nd_get_kernel_info,
};

const struct vnet_backend_ops *vnet_netdev_backend(int epfd)
{
	nd_epfd = epfd;
	/* what the model offers is what a device may be provisioned with */
	nd_ops.supported_features = vnet_netdev_default_features();
	/*
	 * A device's frame must fit what the uplink datapath receives
	 * (xsk.h): one 2 KiB UMEM frame, or with AF_XDP multi-buffer (Linux
	 * 6.6) a jumbo frame of several; the uplink's own MTU bounds it too.
	 */
	if (vnet_xsk_sg_supported()) {
		nd_ops.uplink_mtu_max = VNET_XSK_SG_MTU_MAX;
		nd_ops.uplink_mtu_why = "AF_XDP multi-buffer, jumbo frames up to 9216";
	} else {
		nd_ops.uplink_mtu_max = VNET_XSK_MTU_MAX;
		nd_ops.uplink_mtu_why = VNET_XSK_NO_SG_WHY;
	}
	return &nd_ops;
}
