// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: sequences of vhost-user messages with fake fds into one
 * back-end (vnet_vu_handle_msg, the code behind the socket). Input format,
 * repeated: u8 fd spec (low 2 bits: how many fds; bit 2: memfd instead of
 * eventfd; bits 3-4: memfd size 4 KiB << n), then a 12-byte header, then
 * min(hdr.size, payload size) bytes. After the sequence the connection ends
 * (disconnect cleanup) and no fd may be left over. The device has a worker
 * that says it logs, so the migration messages (SET_LOG_BASE, LOG_ALL) are
 * offered and reached.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vnet/device.h"
#include "vnet/vhost_user.h"

int LLVMFuzzerTestOneInput(const __u8 *data, size_t size);

/* no thread: only the promise that makes LOG_SHMFD and LOG_ALL offered */
static const struct vnet_netdev_ops logging_worker = { .dirty_log = true };

static int fake_fd(__u8 spec)
{
	int fd;

	if (!(spec & 4))
		return eventfd(0, EFD_CLOEXEC);
	fd = memfd_create("fuzz", MFD_CLOEXEC);
	if (fd >= 0 && ftruncate(fd, 4096 << ((spec >> 3) & 3)))
		;
	return fd;
}

int LLVMFuzzerTestOneInput(const __u8 *data, size_t size)
{
	static struct vnet_netdev *dev;
	static struct vnet_vu *vu;
	struct vhost_user_msg msg, reply;
	size_t off = 0;

	if (!dev) {
		struct vnet_netdev_params p = {
			.name = "fz", .mac = { 2, 0, 0, 0, 0, 1 }, .max_vqp = 2, .mtu = 1500,
		};

		if (vnet_netdev_create(&p, &dev) || vnet_vu_create_detached(dev, &vu))
			abort();
		vnet_netdev_set_worker_ops(dev, &logging_worker, NULL);
	}
	while (off + 13 <= size) {
		__u8 spec = data[off++];
		int fds[3];
		unsigned int nfds = spec & 3, i;
		size_t plen;

		memset(&msg, 0, sizeof(msg));
		memcpy(&msg.hdr, data + off, sizeof(msg.hdr));
		off += sizeof(msg.hdr);
		plen = msg.hdr.size < sizeof(msg.payload) ? msg.hdr.size : sizeof(msg.payload);
		if (plen > size - off)
			plen = size - off;
		memcpy(&msg.payload, data + off, plen);
		off += plen;
		for (i = 0; i < nfds; i++)
			fds[i] = fake_fd(spec);
		if (vnet_vu_handle_msg(vu, &msg, fds, nfds, &reply))
			break;	/* the socket layer would close the connection */
	}
	vnet_vu_disconnect_state(vu);
	return 0;
}
