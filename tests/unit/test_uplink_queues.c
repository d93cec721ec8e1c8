// SPDX-License-Identifier: MIT
/*
 * Who serves what when an uplink has several workers (docs/ARCHITECTURE.md
 * "Uplink workers"): a device's queue pair k belongs to worker k % N and
 * its control queue to worker 0 (vnet_devq_owner), kicks go on and off per
 * worker; queue pair k transmits through a socket of its own worker
 * (updp_tx_sock), and the pairs spread over the uplink's queues.
 */
#include <errno.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>
#include <linux/virtio_config.h>
#include <linux/virtio_net.h>

#include "vnet/devq.h"
#include "../../daemon/uplink/uplink_int.h"
#include "test.h"

static struct vnet_netdev *mq_dev(__u16 max_vqp)
{
	struct vnet_netdev_params p = {
		.name = "t0", .mac = { 0x02, 0, 0, 0, 0, 1 }, .max_vqp = max_vqp,
		.mtu = 1500, .speed = 10000, .duplex = 1,
	};
	struct vnet_features f = { .w = { BIT(VIRTIO_F_VERSION_1) | BIT(VIRTIO_NET_F_CTRL_VQ) |
					  BIT(VIRTIO_NET_F_MQ) } };
	struct vnet_netdev *dev = NULL;

	if (vnet_netdev_create(&p, &dev))
		return NULL;
	if (vnet_netdev_set_driver_features(dev, &f)) {
		vnet_netdev_destroy(dev);
		return NULL;
	}
	return dev;
}

static void test_devq_owner(void)
{
	struct vnet_netdev *dev = mq_dev(4);
	int epfd[VNET_DEVQ_MAX_OWNERS];
	struct vnet_devq dq;
	unsigned int n, i, cvq;

	EXPECT(dev, "create");
	if (!dev)
		return;
	cvq = vnet_netdev_cvq_index(dev);
	EXPECT(cvq == 8, "cvq %u", cvq);
	for (i = 0; i < VNET_DEVQ_MAX_OWNERS; i++)
		epfd[i] = -1;	/* no queue is active: nothing goes into them */
	for (n = 1; n <= 4; n++) {
		EXPECT(vnet_devq_init(&dq, dev, epfd, n, EPOLLIN, false, true) == 0, "init %u", n);
		for (i = 0; i < 8; i++)
			EXPECT(vnet_devq_owner(&dq, i) == i / 2 % n,
			       "%u workers: vring %u owned by %u", n, i, vnet_devq_owner(&dq, i));
		EXPECT(vnet_devq_owner(&dq, cvq) == 0, "%u workers: cvq owned by %u", n,
		       vnet_devq_owner(&dq, cvq));
		vnet_devq_fini(&dq);
	}
	EXPECT(vnet_devq_init(&dq, dev, epfd, 0, EPOLLIN, false, true) == -EINVAL, "0 owners");
	EXPECT(vnet_devq_init(&dq, dev, epfd, VNET_DEVQ_MAX_OWNERS + 1, EPOLLIN, false, true) ==
	       -EINVAL, "too many owners");
	vnet_netdev_destroy(dev);
}

/* Kicks off for one worker (it polls) leave the others' as they were. */
static void test_kicks_per_owner(void)
{
	struct vnet_netdev *dev = mq_dev(4);
	int epfd[VNET_DEVQ_MAX_OWNERS] = { -1, -1, -1 };
	struct vnet_devq dq;

	EXPECT(dev, "create");
	if (!dev)
		return;
	EXPECT(vnet_devq_init(&dq, dev, epfd, 3, EPOLLIN, false, true) == 0, "init");
	EXPECT(dq.kicks_on & 7, "kicks start on");
	vnet_worker_devq_poll(&dq, 1, false);
	EXPECT((dq.kicks_on & 7) == 5, "worker 1 polls: kicks_on %#x", dq.kicks_on & 7);
	EXPECT(!vnet_devq_kicks_set(&dq, 2, false, false), "no active queue, nothing pending");
	EXPECT((dq.kicks_on & 7) == 1, "worker 2 polls too: kicks_on %#x", dq.kicks_on & 7);
	vnet_devq_kicks_set(&dq, 1, true, false);
	EXPECT((dq.kicks_on & 7) == 3, "worker 1 sleeps: kicks_on %#x", dq.kicks_on & 7);
	vnet_devq_kicks_set(&dq, VNET_DEVQ_ALL, false, false);
	EXPECT(!(dq.kicks_on & 7), "all poll: kicks_on %#x", dq.kicks_on & 7);
	vnet_devq_fini(&dq);
	vnet_netdev_destroy(dev);
}

/* Every pair leaves through a socket its own worker owns; they spread. */
static void test_tx_sock(void)
{
	static struct vnet_updp up;
	unsigned int nwk, nxsk, k, used;
	int s;

	for (nwk = 1; nwk <= 4; nwk++) {
		for (nxsk = 1; nxsk <= 8; nxsk++) {
			up.nwk = nwk;
			up.nxsk = nxsk;
			used = 0;
			for (k = 0; k < 16; k++) {
				s = updp_tx_sock(&up, k);
				if (k % nwk >= nxsk) {
					EXPECT(s == -1, "%u workers, %u sockets: pair %u got %d "
					       "(its worker has none)", nwk, nxsk, k, s);
					continue;
				}
				EXPECT(s >= 0 && (unsigned int)s < nxsk &&
				       (unsigned int)s % nwk == k % nwk,
				       "%u workers, %u sockets: pair %u -> socket %d", nwk, nxsk,
				       k, s);
				if (s >= 0 && s < 32)
					used |= 1u << s;
			}
			/* 16 pairs cover every socket a worker has */
			if (nwk <= nxsk)
				EXPECT(used == (1u << nxsk) - 1, "%u workers, %u sockets: used %#x",
				       nwk, nxsk, used);
		}
	}
}

int main(void)
{
	RUN(test_devq_owner);
	RUN(test_kicks_per_owner);
	RUN(test_tx_sock);
	return test_summary();
}
