// SPDX-License-Identifier: MIT
/*
 * The transport interface (include/vnet/transport.h): the table refuses a
 * transport it does not have with a clear error and binds nothing; the
 * vhost-user transport is made, served and ended through its ops; and the
 * worker reaches the driver only through the transport's notify: a test
 * transport counts the used-buffer notifications while vnet/sim loops
 * frames back, once per burst, and the ring's call eventfd, set like any
 * other, is never written by the worker itself.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <linux/virtio_config.h>

#include "vnet/device.h"
#include "vnet/sim.h"
#include "vnet/transport.h"
#include "vdriver.h"
#include "test.h"

#define MEM_SIZE	(1u << 20)
#define MEM_GPA		0x100000ull
#define RING_SIZE	64
#define NFRAMES		16
#define RX_BUF		2048
#define TX_OFF		(128u << 10)	/* buffers after the two rings */
#define RX_OFF		(256u << 10)

static struct vnet_netdev *make_dev(__u32 transport)
{
	struct vnet_netdev_params p = {
		.name = "t0", .mac = { 0x02, 0, 0, 0, 0, 1 }, .max_vqp = 1, .mtu = 1500,
		.transport = transport,
	};
	struct vnet_netdev *dev = NULL;

	snprintf(p.socket_path, sizeof(p.socket_path), "/tmp/vnet-test-tr-%d.sock", getpid());
	return vnet_netdev_create(&p, &dev) ? NULL : dev;
}

static void test_table(void)
{
	const struct vnet_transport_ops *ops;
	struct vnet_transport *t = NULL;
	struct vnet_netdev *dev;
	const char *msg = NULL;
	int err = 0;

	ops = vnet_transport_find(VNET_TRANSPORT_VHOST_USER, &err, &msg);
	EXPECT(ops == &vnet_vhost_user_transport && !strcmp(ops->name, "vhost-user"),
	       "vhost-user");
	/* every op is there: the control plane calls them unchecked */
	EXPECT(ops && ops->create && ops->destroy && ops->fd && ops->process && ops->notify &&
	       ops->config_changed && ops->connected && ops->stats, "an op is missing");
	/* VDUSE serves itself on a thread (no process); whether the kernel
	 * has it is create's to find out (selftests/vduse.sh) */
	ops = vnet_transport_find(VNET_TRANSPORT_VDUSE, &err, &msg);
	EXPECT(ops == &vnet_vduse_transport && !strcmp(ops->name, "vduse"), "VDUSE");
	EXPECT(ops && ops->features && ops->create && ops->destroy && ops->fd && ops->notify &&
	       ops->config_changed && ops->connected && ops->stats && ops->kinfo,
	       "a VDUSE op is missing");
	for (__u32 id = VNET_TRANSPORT_NR; id < VNET_TRANSPORT_NR + 3; id++) {
		msg = NULL;
		EXPECT(!vnet_transport_find(id, &err, &msg) && err == -EINVAL && msg &&
		       !strcmp(msg, "unknown transport"), "id %u: %d %s", id, err, msg ? msg : "-");
	}
	EXPECT(!vnet_transport_find(~0u, &err, &msg) && err == -EINVAL, "~0");
	/* a device that names an unknown transport gets none */
	dev = make_dev(42);
	msg = NULL;
	EXPECT(dev && vnet_transport_create(dev, &t, &msg) == -EINVAL && !t &&
	       msg && !strcmp(msg, "unknown transport"), "create: %s", msg ? msg : "-");
	EXPECT(!dev->transport && !dev->tr_notify, "something was bound");
	EXPECT(vnet_netdev_notify(dev, 0) == -ENOTCONN, "notify without a transport");
	vnet_netdev_destroy(dev);
}

/* vhost-user made, served and ended through its ops only */
static void test_vhost_user_ops(void)
{
	struct vnet_netdev *dev = make_dev(VNET_TRANSPORT_VHOST_USER);
	struct vnet_transport_stats st = { .connections = 1, .messages = 1 };
	struct vnet_transport *t = NULL;
	const char *msg = NULL;
	const char *path = dev->params.socket_path;
	struct stat sb;
	int fd;

	unlink(path);
	EXPECT(vnet_transport_create(dev, &t, &msg) == 0 && t, "create: %s", msg ? msg : "-");
	if (!t)
		return;
	EXPECT(t->ops == &vnet_vhost_user_transport && t->dev == dev, "t");
	EXPECT(dev->transport == t && dev->tr_notify == t->ops->notify, "not bound");
	EXPECT(stat(path, &sb) == 0 && S_ISSOCK(sb.st_mode), "no socket at %s", path);
	EXPECT(t->ops->fd(t) >= 0 && !t->ops->connected(t), "fd, connected");
	EXPECT(t->ops->process(t) == 0, "process with nothing pending");
	t->ops->stats(t, &st);
	EXPECT(st.connections == 0 && st.messages == 0, "stats");
	vnet_transport_destroy(t);
	EXPECT(!dev->transport && !dev->tr_notify, "still bound after destroy");
	EXPECT(stat(path, &sb) < 0, "socket left behind");
	/* server mode never unlinks what is not a socket */
	fd = open(path, O_CREAT | O_WRONLY, 0600);
	close(fd);
	t = NULL;
	EXPECT(vnet_transport_create(dev, &t, &msg) == -EEXIST && !t && msg &&
	       strstr(msg, "not a socket"), "regular file: %s", msg ? msg : "-");
	EXPECT(stat(path, &sb) == 0 && S_ISREG(sb.st_mode), "the file was removed");
	unlink(path);
	vnet_netdev_destroy(dev);
}

/* --- notify through the transport while vnet/sim loops frames ------------ */

struct count_transport {
	struct vnet_transport t;
	unsigned int notifies[3];	/* calls per ring */
	unsigned int config_changes;
};

static int count_notify(struct vnet_transport *t, unsigned int index)
{
	struct count_transport *ct = (struct count_transport *)t;

	if (index < 3)
		ct->notifies[index]++;
	/* the transmit ring's notifications "fail": the device must not count them */
	return index == 1 ? -EIO : 0;
}

static void count_config(struct vnet_transport *t)
{
	((struct count_transport *)t)->config_changes++;
}

static const struct vnet_transport_ops count_ops = {
	.name = "count", .notify = count_notify, .config_changed = count_config,
};

static __u64 now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000 + (__u64)ts.tv_nsec / 1000000;
}

/* Ring 'index' as a transport sets it up, through the device's setters. */
static int ring_setup(struct vnet_netdev *dev, unsigned int index, const struct vdriver *d,
		      int kick, int call)
{
	struct vnet_vring_addr a = {
		.desc = d->desc_gpa, .avail = d->avail_gpa, .used = d->used_gpa,
	};
	struct vnet_vring_base b = { .last_avail_idx = 0 };

	return vnet_netdev_vring_set_num(dev, index, d->size) ||
	       vnet_netdev_vring_set_addr(dev, index, &a) ||
	       vnet_netdev_vring_set_base(dev, index, &b) ||
	       vnet_netdev_vring_set_fd(dev, index, VNET_VRING_KICK, dup(kick)) ||
	       vnet_netdev_vring_set_fd(dev, index, VNET_VRING_CALL, dup(call)) ||
	       vnet_netdev_vring_start(dev, index) ||
	       vnet_netdev_vring_enable(dev, index, true);
}

static void test_notify_through_transport(void)
{
	struct count_transport ct = { .t.ops = &count_ops };
	struct vnet_sim_opts so = { .mode = VNET_SIM_LOOPBACK, .cpu = -1 };
	struct vnet_mem_desc md = { .gpa = MEM_GPA, .size = MEM_SIZE };
	struct vnet_features f = vnet_features_from_u64(1ull << VIRTIO_F_VERSION_1);
	struct vnet_netdev *dev = make_dev(VNET_TRANSPORT_VHOST_USER);
	int mfd = memfd_create("guest", MFD_CLOEXEC);
	int kick = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	int call = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	struct vnet_sim *sim = NULL;
	struct vdriver rx, tx;
	unsigned int got = 0, i;
	__u64 v, deadline;
	__u8 *mem;

	EXPECT(mfd >= 0 && ftruncate(mfd, MEM_SIZE) == 0, "memfd");
	mem = mmap(NULL, MEM_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, mfd, 0);
	EXPECT(mem != MAP_FAILED, "mmap");
	if (mem == MAP_FAILED)
		return;
	EXPECT(vdriver_create_at(&rx, RING_SIZE, false, mem, MEM_GPA) == 0 &&
	       vdriver_create_at(&tx, RING_SIZE, false, mem + (64u << 10), MEM_GPA + (64u << 10)) == 0,
	       "rings");
	vnet_transport_bind(&ct.t, dev);
	pthread_mutex_lock(&dev->lock);
	EXPECT(vnet_netdev_mem_add(dev, &md, dup(mfd), 0) == 0, "memory");
	EXPECT(vnet_netdev_set_driver_features(dev, &f) == 0, "features");
	vnet_netdev_set_status(dev, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER |
			       VIRTIO_CONFIG_S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
	EXPECT(ring_setup(dev, 0, &rx, kick, call) == 0 && ring_setup(dev, 1, &tx, kick, call) == 0,
	       "ring setup");
	EXPECT(dev->vrings[0].ready && dev->vrings[1].ready, "rings not ready");
	pthread_mutex_unlock(&dev->lock);

	/* receive buffers, then NFRAMES frames published at once */
	for (i = 0; i < NFRAMES; i++) {
		struct vdrv_seg s = { MEM_GPA + RX_OFF + i * RX_BUF, RX_BUF, true };

		vdriver_add(&rx, &s, 1, false);
	}
	vdriver_publish(&rx);
	for (i = 0; i < NFRAMES; i++) {
		__u8 *fr = mem + TX_OFF + i * 128;
		struct vdrv_seg s = { MEM_GPA + TX_OFF + i * 128, 12 + 60, false };

		memset(fr, 0, 12 + 60);		/* virtio_net_hdr_v1, then the frame */
		memset(fr + 12, 0xff, 6);	/* broadcast */
		fr[12 + 6] = 0x02, fr[12 + 11] = 0x02;
		fr[12 + 12] = 0x08, fr[12 + 13] = 0x00;
		vdriver_add(&tx, &s, 1, false);
	}
	vdriver_publish(&tx);
	EXPECT(vnet_sim_start(dev, &so, &sim) == 0, "worker");
	v = 1;
	EXPECT(write(kick, &v, sizeof(v)) == sizeof(v), "kick");
	deadline = now_ms() + 5000;
	while (got < NFRAMES && now_ms() < deadline) {
		if (vdriver_get_used(&rx, NULL) >= 0)
			got++;
		else
			usleep(1000);
	}
	vnet_sim_stop(sim);
	EXPECT(got == NFRAMES, "%u of %d frames came back", got, NFRAMES);
	/* every notification went through the transport, one per burst */
	EXPECT(ct.notifies[0] >= 1 && ct.notifies[1] >= 1, "notifies rx %u tx %u",
	       ct.notifies[0], ct.notifies[1]);
	EXPECT(ct.notifies[0] < NFRAMES && ct.notifies[1] < NFRAMES,
	       "per packet, not per burst: rx %u tx %u", ct.notifies[0], ct.notifies[1]);
	/* the device counts what the transport delivered */
	EXPECT(dev->vrings[0].stats.notifies == ct.notifies[0], "rx counted %llu of %u",
	       (unsigned long long)dev->vrings[0].stats.notifies, ct.notifies[0]);
	EXPECT(dev->vrings[1].stats.notifies == 0, "a failed notify counted");
	/* and nobody but the transport writes the driver's eventfd */
	EXPECT(read(call, &v, sizeof(v)) < 0 && errno == EAGAIN, "call eventfd written");
	EXPECT(ct.config_changes == 0, "config change");
	/* the device's config change goes through the same transport */
	vnet_netdev_set_link(dev, false);
	EXPECT(ct.config_changes == 0, "STATUS not negotiated, yet notified");
	pthread_mutex_lock(&dev->lock);
	vnet_netdev_config_changed(dev);
	pthread_mutex_unlock(&dev->lock);
	EXPECT(ct.config_changes == 1, "config change not through the transport");
	vnet_transport_unbind(&ct.t);
	EXPECT(!dev->tr_notify, "unbind");
	vdriver_destroy(&rx);
	vdriver_destroy(&tx);
	munmap(mem, MEM_SIZE);
	close(mfd);
	close(kick);
	close(call);
	vnet_netdev_destroy(dev);
}

int main(void)
{
	RUN(test_table);
	RUN(test_vhost_user_ops);
	RUN(test_notify_through_transport);
	return test_summary();
}
