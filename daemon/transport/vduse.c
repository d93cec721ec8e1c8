// SPDX-License-Identifier: MIT
/*
 * VDUSE transport: the device and the kernel's requests
 * (include/vnet/transport.h, include/vnet/vduse.h). vduse_bus.c puts the
 * device on the kernel's vdpa bus, vduse_iotlb.c maps the IOTLB,
 * vduse_probe.c finds the features the kernel accepts.
 *
 * One thread per device waits on the device fd and answers every request
 * at once, the device model locked through vnet_netdev_lock_ctl() as for
 * any transport message. The kernel waits for each answer (30 s, then the
 * device is broken for good), and the requests come from inside the
 * control thread's own calls (a netlink DEV_NEW probes the driver, which
 * resets the device and negotiates features): they cannot be answered on
 * that thread, so the transport has no fd for the control loop.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>
#include <linux/virtio_config.h>
#include <linux/virtio_ids.h>
#include <linux/virtio_net.h>

#include "vnet/log.h"
#include "vduse_int.h"

#define BIT64(n)	(1ULL << (n))

/* epoll tags of the request thread */
#define TAG_STOP	0
#define TAG_DEV		1

#define STAT_INC(vd, f)	__atomic_add_fetch(&(vd)->stats.f, 1, __ATOMIC_RELAXED)
#define STAT_GET(vd, f)	__atomic_load_n(&(vd)->stats.f, __ATOMIC_RELAXED)

static struct vnet_vduse *vd_of(const struct vnet_transport *t)
{
	return (struct vnet_vduse *)t;
}

int vnet_vduse_available(const char **why)
{
	if (access(VNET_VDUSE_CONTROL, R_OK | W_OK) == 0)
		return 0;
	if (errno == ENOENT) {
		*why = "VDUSE not available: no " VNET_VDUSE_CONTROL
		       " (a kernel without CONFIG_VDPA_USER, or the vduse module not loaded)";
		return -EOPNOTSUPP;
	}
	*why = "VDUSE not available: cannot open " VNET_VDUSE_CONTROL;
	return -errno;
}

int vduse_control_open(void)
{
	__u64 ver = VDUSE_API_VERSION;
	int fd = open(VNET_VDUSE_CONTROL, O_RDWR | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	/* the layout of include/uapi/linux/vduse.h is version 0's */
	if (ioctl(fd, VDUSE_SET_API_VERSION, &ver)) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

int vduse_dev_config_create(int ctl_fd, const char *name, __u64 features, __u32 vq_num,
			    const void *config, __u32 config_size)
{
	struct vduse_dev_config *c;
	int err = 0;

	c = calloc(1, sizeof(*c) + config_size);
	if (!c)
		return -ENOMEM;
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->vendor_id = VDUSE_VENDOR_ID;
	c->device_id = VIRTIO_ID_NET;
	c->features = features;
	c->vq_num = vq_num;
	c->vq_align = (__u32)sysconf(_SC_PAGESIZE);
	c->config_size = config_size;
	memcpy(c->config, config, config_size);
	if (ioctl(ctl_fd, VDUSE_CREATE_DEV, c))
		err = -errno;
	free(c);
	return err;
}

/*
 * VDUSE_DESTROY_DEV is refused (EBUSY) while the vdpa device is still
 * referenced: its last reference goes a little after DEV_DEL returned.
 */
static int dev_destroy(const char *name)
{
	char kname[VDUSE_NAME_MAX] = { 0 };
	struct timespec ts = { .tv_nsec = 20 * 1000 * 1000 };
	int fd = vduse_control_open(), err = 0, tries = 100;

	if (fd < 0)
		return fd;
	snprintf(kname, sizeof(kname), "%s", name);
	while (ioctl(fd, VDUSE_DESTROY_DEV, kname)) {
		err = -errno;
		if (err != -EBUSY || !--tries)
			break;
		nanosleep(&ts, NULL);
		err = 0;
	}
	close(fd);
	return err;
}

/* --- what the device tells the driver ------------------------------------- */

/* The whole config space into the kernel's copy; dev->lock held. */
static int push_config(struct vnet_vduse *vd)
{
	union {
		struct vduse_config_data h;
		__u8 raw[sizeof(struct vduse_config_data) + sizeof(struct vnet_netdev_config)];
	} u;
	struct vnet_netdev_config cfg;
	size_t len = vnet_netdev_build_config(vd->dev, &cfg);

	u.h.offset = 0;
	u.h.length = (__u32)len;
	memcpy(u.h.buffer, &cfg, len);
	return ioctl(vd->dev_fd, VDUSE_DEV_SET_CONFIG, &u) ? -errno : 0;
}

/* ops->config_changed (link, MAC, announce); dev->lock held */
static void vduse_config_changed(struct vnet_transport *t)
{
	struct vnet_vduse *vd = vd_of(t);

	if (push_config(vd)) {
		pr_info("%s: VDUSE config update: %s\n", vd->name, strerror(errno));
		return;
	}
	/* refused before DRIVER_OK: the driver reads the config when it starts */
	ioctl(vd->dev_fd, VDUSE_DEV_INJECT_CONFIG_IRQ);
}

/* ops->notify: from the worker, once per burst, dev->lock held */
static int vduse_notify(struct vnet_transport *t, unsigned int index)
{
	__u32 idx = index;

	return ioctl(vd_of(t)->dev_fd, VDUSE_VQ_INJECT_IRQ, &idx) ? -errno : 0;
}

/* --- queues ------------------------------------------------------------- */

static void kick_deassign(struct vnet_vduse *vd, unsigned int i)
{
	struct vduse_vq_eventfd efd = { .index = i, .fd = VDUSE_EVENTFD_DEASSIGN };

	ioctl(vd->dev_fd, VDUSE_VQ_SETUP_KICKFD, &efd);
}

/*
 * One queue from the kernel's view of it (VDUSE_VQ_GET_INFO) through the
 * model's ring setters: size, ring addresses (IOVAs: set_addr's check maps
 * them through the IOTLB miss hook), where the driver starts, and a kick
 * eventfd of ours the kernel signals. dev->lock held.
 */
static int ring_start(struct vnet_vduse *vd, unsigned int i)
{
	struct vnet_netdev *dev = vd->dev;
	struct vduse_vq_info info = { .index = i };
	struct vduse_vq_eventfd efd = { .index = i };
	struct vnet_vring_addr a;
	struct vnet_vring_base b;
	int kick, err;

	if (ioctl(vd->dev_fd, VDUSE_VQ_GET_INFO, &info))
		return -errno;
	if (!info.ready)
		return 0;	/* the driver does not use this queue */
	if (info.num > VNET_VDUSE_VQ_SIZE)
		return -EINVAL;	/* more than VDUSE_VQ_SETUP allowed */
	a = (struct vnet_vring_addr){ .desc = info.desc_addr, .avail = info.driver_addr,
				      .used = info.device_addr };
	b = (struct vnet_vring_base){ .last_avail_idx = info.split.avail_index };
	err = vnet_netdev_vring_set_num(dev, i, info.num);
	if (!err)
		err = vnet_netdev_vring_set_addr(dev, i, &a);
	if (!err)
		err = vnet_netdev_vring_set_base(dev, i, &b);
	if (err)
		return err;
	kick = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (kick < 0)
		return -errno;
	efd.fd = kick;
	if (ioctl(vd->dev_fd, VDUSE_VQ_SETUP_KICKFD, &efd)) {
		err = -errno;
		close(kick);
		return err;
	}
	err = vnet_netdev_vring_set_fd(dev, i, VNET_VRING_KICK, kick);
	if (!err)
		err = vnet_netdev_vring_start(dev, i);
	if (!err)
		err = vnet_netdev_vring_enable(dev, i, true);
	return err;
}

static void rings_start(struct vnet_vduse *vd)
{
	for (unsigned int i = 0; i < vd->nvqs; i++) {
		int err = ring_start(vd, i);

		if (err)
			pr_warn("%s: VDUSE queue %u not started: %s\n", vd->name, i,
				strerror(-err));
	}
	vd->rings_up = true;
	STAT_INC(vd, drivers);
}

/* Rings, kicks and mappings forgotten, the model reset. dev->lock held. */
static void rings_stop(struct vnet_vduse *vd)
{
	if (vd->rings_up) {
		for (unsigned int i = 0; i < vd->nvqs; i++)
			kick_deassign(vd, i);
		STAT_INC(vd, resets);
	}
	vd->rings_up = false;
	vnet_netdev_reset(vd->dev);	/* closes the model's kick fds */
	/* the kernel drops its bounce mappings on a reset: so do we, every
	 * entry is looked up again when met */
	vnet_netdev_mem_clear(vd->dev);
}

/* --- requests ----------------------------------------------------------- */

/*
 * SET_STATUS (spec 2.1, 3.1.1): the kernel keeps the status only when we
 * answer OK, so an unacceptable feature set is refused here and the driver
 * sees FEATURES_OK unset when it reads the status back.
 */
static __u32 set_status(struct vnet_vduse *vd, __u8 status)
{
	struct vnet_netdev *dev = vd->dev;
	__u8 old = dev->status;
	__u64 word;

	if (!status) {
		rings_stop(vd);
		push_config(vd);	/* what the next driver reads */
		return VDUSE_REQ_RESULT_OK;
	}
	if ((status & VIRTIO_CONFIG_S_FEATURES_OK) && !(old & VIRTIO_CONFIG_S_FEATURES_OK)) {
		struct vnet_features f;

		if (ioctl(vd->dev_fd, VDUSE_DEV_GET_FEATURES, &word))
			return VDUSE_REQ_RESULT_FAILED;
		f = vnet_features_from_u64(word);
		if (vnet_netdev_set_driver_features(dev, &f))
			return VDUSE_REQ_RESULT_FAILED;
	}
	vnet_netdev_set_status(dev, status);
	if ((status & VIRTIO_CONFIG_S_FEATURES_OK) &&
	    !(dev->status & VIRTIO_CONFIG_S_FEATURES_OK)) {
		dev->status = old;
		return VDUSE_REQ_RESULT_FAILED;
	}
	if ((status & VIRTIO_CONFIG_S_DRIVER_OK) && !vd->rings_up) {
		rings_start(vd);
		pr_info("%s: VDUSE driver ready, features %#llx\n", vd->name,
			(unsigned long long)dev->driver);
	}
	return VDUSE_REQ_RESULT_OK;
}

/* One request; dev->lock held when there is a model. */
static void handle(struct vnet_vduse *vd, const struct vduse_dev_request *req,
		   struct vduse_dev_response *resp)
{
	struct vnet_vring_base b;
	const struct vduse_iova_range *r = &req->iova;

	resp->result = VDUSE_REQ_RESULT_OK;
	switch (req->type) {
	case VDUSE_GET_VQ_STATE:
		/* where the driver's next buffer is (vhost_vdpa asks on stop) */
		resp->vq_state.index = req->vq_state.index;
		if (req->vq_state.index >= vd->nvqs)
			resp->result = VDUSE_REQ_RESULT_FAILED;
		else if (vd->dev && !vnet_netdev_vring_get_base(vd->dev, req->vq_state.index, &b))
			resp->vq_state.split.avail_index = b.last_avail_idx;
		break;
	case VDUSE_SET_STATUS:
		if (vd->dev)
			resp->result = set_status(vd, req->s.status);
		break;
	case VDUSE_UPDATE_IOTLB:
		/* mapped again when the engine meets the addresses next */
		STAT_INC(vd, iotlb_updates);
		if (vd->dev && r->start <= r->last)
			vnet_netdev_mem_invalidate(vd->dev, r->start,
						   r->last - r->start + 1 ? : UINT64_MAX);
		break;
	default:
		resp->result = VDUSE_REQ_RESULT_FAILED;
		break;
	}
}

/*
 * Answer everything the kernel has queued. 0, or -errno when the device fd
 * no longer works (the caller stops watching it rather than spin).
 */
static int serve_requests(struct vnet_vduse *vd)
{
	struct vduse_dev_request req;
	struct vduse_dev_response resp;

	for (;;) {
		ssize_t n = read(vd->dev_fd, &req, sizeof(req));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return 0;	/* nothing more */
		if (n != (ssize_t)sizeof(req))
			return n < 0 ? -errno : -EPROTO;
		memset(&resp, 0, sizeof(resp));
		resp.request_id = req.request_id;
		if (vd->dev)
			vnet_netdev_lock_ctl(vd->dev);
		handle(vd, &req, &resp);
		if (vd->dev)
			pthread_mutex_unlock(&vd->dev->lock);
		if (resp.result != VDUSE_REQ_RESULT_OK)
			STAT_INC(vd, failed);
		STAT_INC(vd, requests);
		if (write(vd->dev_fd, &resp, sizeof(resp)) != (ssize_t)sizeof(resp))
			pr_warn("%s: VDUSE answer to request %u lost: %s\n", vd->name,
				req.request_id, strerror(errno));
	}
}

/* The kernel gave up on the device (a request unanswered for too long). */
static void dev_fd_dead(struct vnet_vduse *vd, const char *why)
{
	pr_warn("%s: VDUSE device unusable (%s): nothing more is answered\n", vd->name, why);
	__atomic_store_n(&vd->broken, true, __ATOMIC_RELAXED);
	epoll_ctl(vd->epfd, EPOLL_CTL_DEL, vd->dev_fd, NULL);
}

static void *request_thread(void *arg)
{
	struct vnet_vduse *vd = arg;
	struct epoll_event evs[4];
	int err;

	for (;;) {
		int n = epoll_wait(vd->epfd, evs, 4, -1);

		if (n < 0 && errno != EINTR)
			break;
		for (int i = 0; i < n; i++) {
			if (evs[i].data.u64 == TAG_STOP)
				return NULL;
			if (evs[i].events & EPOLLERR) {
				dev_fd_dead(vd, "the kernel marked it broken");
				continue;
			}
			err = serve_requests(vd);
			if (err)
				dev_fd_dead(vd, strerror(-err));
		}
	}
	return NULL;
}

/* --- life --------------------------------------------------------------- */

static struct vnet_vduse *vd_alloc(const char *name)
{
	struct vnet_vduse *vd = calloc(1, sizeof(*vd));

	if (!vd)
		return NULL;
	vd->t.ops = &vnet_vduse_transport;
	snprintf(vd->name, sizeof(vd->name), "%s", name);
	vd->dev_fd = vd->epfd = vd->stop_fd = -1;
	return vd;
}

/* Open /dev/vduse/NAME (one opener at a time: EBUSY) and the thread's epoll set. */
static int vd_open(struct vnet_vduse *vd)
{
	struct epoll_event ev = { .events = EPOLLIN };
	char path[sizeof(VNET_VDUSE_DIR) + VDUSE_NAME_LEN + 1];

	snprintf(path, sizeof(path), VNET_VDUSE_DIR "/%s", vd->name);
	vd->dev_fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
	if (vd->dev_fd < 0)
		return -errno;
	vd->epfd = epoll_create1(EPOLL_CLOEXEC);
	vd->stop_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (vd->epfd < 0 || vd->stop_fd < 0)
		return -errno;
	ev.data.u64 = TAG_STOP;
	if (epoll_ctl(vd->epfd, EPOLL_CTL_ADD, vd->stop_fd, &ev))
		return -errno;
	ev.data.u64 = TAG_DEV;
	if (epoll_ctl(vd->epfd, EPOLL_CTL_ADD, vd->dev_fd, &ev))
		return -errno;
	return 0;
}

/* From here on the kernel's requests are answered. */
static int vd_start(struct vnet_vduse *vd)
{
	int err = pthread_create(&vd->thread, NULL, request_thread, vd);

	if (err)
		return -err;
	vd->thread_started = true;
	return 0;
}

/* Stop the thread and close what vd_open() opened. */
static void vd_close(struct vnet_vduse *vd)
{
	__u64 one = 1;

	if (vd->thread_started) {
		if (write(vd->stop_fd, &one, sizeof(one)) < 0)
			pr_warn("%s: cannot stop the VDUSE thread\n", vd->name);
		pthread_join(vd->thread, NULL);
		vd->thread_started = false;
	}
	if (vd->stop_fd >= 0)
		close(vd->stop_fd);
	if (vd->epfd >= 0)
		close(vd->epfd);
	if (vd->dev_fd >= 0)
		close(vd->dev_fd);
	vd->dev_fd = vd->epfd = vd->stop_fd = -1;
}

static const char *create_errmsg(int err)
{
	switch (err) {
	case -EEXIST:
		return "the kernel already has a VDUSE device of that name";
	case -EINVAL:
		return "the kernel's VDUSE refused the device (its name or its features)";
	case -EPERM:
	case -EACCES:
		return "VDUSE net devices need CAP_NET_ADMIN";
	default:
		return "VDUSE_CREATE_DEV failed";
	}
}

/*
 * The VDUSE device for 'dev' (its offered features, config space, 2 *
 * max_vqp queues and the control queue when offered), answering the
 * kernel, bound to the model. Not on the vdpa bus yet.
 */
int vduse_dev_create(struct vnet_netdev *dev, struct vnet_vduse **out, const char **errmsg)
{
	const char *name = dev->params.name;
	struct vnet_netdev_config cfg;
	struct vnet_vduse *vd;
	size_t cfg_len;
	int ctl, err;

	err = vnet_vduse_available(errmsg);
	if (err)
		return err;
	/* VDUSE carries 64 feature bits; vduse_probe.c offered no others */
	if (!(dev->offered & BIT64(VIRTIO_F_ACCESS_PLATFORM)) ||
	    !vnet_features_equal(&dev->offered_set, &(struct vnet_features){ .w = { dev->offered } })) {
		*errmsg = "a VDUSE device offers ACCESS_PLATFORM and no feature above bit 63";
		return -EINVAL;
	}
	vd = vd_alloc(name);
	if (!vd) {
		*errmsg = "out of memory";
		return -ENOMEM;
	}
	vd->dev = dev;
	/* spec 5.1.2: N receive/transmit pairs, the control queue after them */
	vd->nvqs = 2u * dev->params.max_vqp + (dev->offered & BIT64(VIRTIO_NET_F_CTRL_VQ) ? 1 : 0);
	ctl = vduse_control_open();
	if (ctl < 0) {
		err = ctl;
		*errmsg = "cannot open " VNET_VDUSE_CONTROL;
		goto err_free;
	}
	vnet_netdev_lock_ctl(dev);
	cfg_len = vnet_netdev_build_config(dev, &cfg);
	pthread_mutex_unlock(&dev->lock);
	err = vduse_dev_config_create(ctl, name, dev->offered, vd->nvqs, &cfg, (__u32)cfg_len);
	close(ctl);
	if (err) {
		pr_info("%s: VDUSE_CREATE_DEV: %s\n", name, strerror(-err));
		*errmsg = create_errmsg(err);
		goto err_free;
	}
	err = vd_open(vd);
	if (err) {
		*errmsg = "cannot open the VDUSE device";
		goto err_close;
	}
	/* the kernel refuses the vdpa bus until every queue is set up */
	for (unsigned int i = 0; i < vd->nvqs; i++) {
		struct vduse_vq_config vq = { .index = i, .max_size = VNET_VDUSE_VQ_SIZE };

		if (ioctl(vd->dev_fd, VDUSE_VQ_SETUP, &vq)) {
			err = -errno;
			*errmsg = "cannot set up the VDUSE device's queues";
			goto err_close;
		}
	}
	vnet_transport_bind(&vd->t, dev);
	vnet_netdev_lock_ctl(dev);
	dev->mem.miss = vduse_iotlb_miss;
	dev->mem.miss_opaque = vd;
	pthread_mutex_unlock(&dev->lock);
	err = vd_start(vd);
	if (err) {
		*errmsg = "cannot start the VDUSE request thread";
		goto err_bound;
	}
	pr_info("%s: VDUSE device with %u queues, features %#llx\n", name, vd->nvqs,
		(unsigned long long)dev->offered);
	*out = vd;
	return 0;

err_bound:
	vnet_netdev_lock_ctl(dev);
	dev->mem.miss = NULL;
	pthread_mutex_unlock(&dev->lock);
	vnet_transport_unbind(&vd->t);
err_close:
	vd_close(vd);
	dev_destroy(name);
err_free:
	free(vd);
	return err;
}

/* Stop answering, forget rings and memory, unbind, VDUSE_DESTROY_DEV. */
void vduse_dev_destroy(struct vnet_vduse *vd)
{
	int err;

	vd_close(vd);
	if (vd->dev) {
		vnet_netdev_lock_ctl(vd->dev);
		vd->rings_up = false;
		vnet_netdev_reset(vd->dev);
		vnet_netdev_mem_clear(vd->dev);
		vd->dev->mem.miss = NULL;
		vd->dev->mem.miss_opaque = NULL;
		pthread_mutex_unlock(&vd->dev->lock);
		vnet_transport_unbind(&vd->t);
	}
	err = dev_destroy(vd->name);
	if (err)
		pr_warn("%s: VDUSE_DESTROY_DEV: %s\n", vd->name, strerror(-err));
	free(vd);
}

int vduse_dev_reclaim(const char *name, struct vnet_vduse **out)
{
	struct vnet_vduse *vd = vd_alloc(name);
	int err;

	if (!vd)
		return -ENOMEM;
	/* the kernel keeps no queue count we could read: answer for any */
	vd->nvqs = VNET_NETDEV_MAX_VRINGS;
	err = vd_open(vd);
	if (!err)
		err = vd_start(vd);
	if (err) {
		vd_close(vd);
		free(vd);
		return err;
	}
	*out = vd;
	return 0;
}

/* --- the ops the control plane sees --------------------------------------- */

static bool vduse_connected(const struct vnet_transport *t)
{
	return __atomic_load_n(&vd_of(t)->rings_up, __ATOMIC_RELAXED);
}

static void vduse_stats(const struct vnet_transport *t, struct vnet_transport_stats *st)
{
	struct vnet_vduse *vd = vd_of(t);

	st->connections = STAT_GET(vd, drivers);
	st->disconnects = STAT_GET(vd, resets);
	st->bad_messages = STAT_GET(vd, failed);
	st->messages = STAT_GET(vd, requests);
}

static void vduse_kinfo(const struct vnet_transport *t, struct vnet_transport_kinfo *ki)
{
	*ki = vd_of(t)->kinfo;
}

const struct vnet_transport_ops vnet_vduse_transport = {
	.name = "vduse",
	.features = vduse_features,
	.create = vduse_create,
	.destroy = vduse_destroy,
	.fd = vduse_fd,
	.process = NULL,	/* fd() is -1: the request thread serves it */
	.notify = vduse_notify,
	.config_changed = vduse_config_changed,
	.connected = vduse_connected,
	.stats = vduse_stats,
	.kinfo = vduse_kinfo,
};
