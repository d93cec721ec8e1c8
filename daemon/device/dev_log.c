// SPDX-License-Identifier: MIT
/*
 * Dirty-page logging of the device model (include/vnet/device.h,
 * "dirty-page logging"; QEMU docs/interop/vhost-user.rst "Migration"): the
 * front-end's bitmap mapped into vnetd, and whether the worker's queues
 * mark their writes in it. A transport only describes the log and says
 * when logging starts and ends; the engine queues see it through the
 * vring configuration the worker builds (devq.c).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "vnet/log.h"
#include "device_int.h"

static void log_unmap(struct vnet_netdev *dev)
{
	if (dev->log_mmap)
		munmap(dev->log_mmap, dev->log_mmap_len);
	dev->log_mmap = NULL;
	dev->log_mmap_len = 0;
	dev->log.bitmap = NULL;
	dev->log.size = 0;
}

/* Logging moved from 'was' to what it is now: the queues carry the log. */
static void log_state_moved(struct vnet_netdev *dev, bool was)
{
	if (vnet_netdev_logging(dev) == was)
		return;
	pr_info("%s: dirty-page logging %s\n", dev->params.name,
		was ? "off" : "on (migration)");
	vnet_vrings_rebuild(dev);
}

int vnet_netdev_log_set_base(struct vnet_netdev *dev, int fd, __u64 size, __u64 offset)
{
	bool was = vnet_netdev_logging(dev);
	struct stat st;
	size_t len;
	void *p;

	if (fd < 0)
		return -EBADF;
	if (!size || size > VNET_LOG_MAX_BYTES || offset > UINT64_MAX - size ||
	    offset + size > SIZE_MAX)
		goto inval;
	len = (size_t)(offset + size);
	/* the front-end's memfd: shorter than the mapping would SIGBUS us */
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || (__u64)st.st_size < offset + size)
		goto inval;
	/* ...and so would shrinking it later (QEMU seals its log anyway) */
	if (fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK) < 0)
		pr_debug("%s: dirty log fd cannot be sealed against shrinking\n",
			 dev->params.name);
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (p == MAP_FAILED)
		return -errno;
	/*
	 * The new log replaces the old at once: the worker does not run while
	 * we hold dev->lock, and its queues reach the bitmap through dev->log.
	 */
	log_unmap(dev);
	dev->log_mmap = p;
	dev->log_mmap_len = len;
	dev->log.bitmap = (__u8 *)p + offset;
	dev->log.size = size;
	log_state_moved(dev, was);
	return 0;
inval:
	close(fd);
	return -EINVAL;
}

int vnet_netdev_log_all(struct vnet_netdev *dev, bool on)
{
	bool was = vnet_netdev_logging(dev);

	if (on && !vnet_netdev_log_capable(dev))
		return -EOPNOTSUPP;
	dev->log_all = on;
	log_state_moved(dev, was);
	return 0;
}

void vnet_netdev_log_clear(struct vnet_netdev *dev)
{
	bool was = vnet_netdev_logging(dev);

	dev->log_all = false;
	log_unmap(dev);
	log_state_moved(dev, was);
}

void vnet_netdev_migration(struct vnet_netdev *dev, bool *capable, bool *logging)
{
	vnet_netdev_lock_ctl(dev);
	*capable = vnet_netdev_log_capable(dev);
	*logging = vnet_netdev_logging(dev);
	pthread_mutex_unlock(&dev->lock);
}
