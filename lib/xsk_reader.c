// SPDX-License-Identifier: MIT
/* A blocking AF_XDP reader on daemon/uplink/xsk.c: see xsk_reader.h. */
#include <errno.h>
#include <poll.h>
#include <string.h>

#include "xsk_reader.h"

int xsk_reader_open(struct xsk_reader *x, const char *ifname, __u32 queue)
{
	x->xsk = NULL;
	return vnet_xsk_open(ifname, queue, &x->xsk);
}

void xsk_reader_close(struct xsk_reader *x)
{
	vnet_xsk_close(x->xsk);
	x->xsk = NULL;
}

int xsk_reader_fd(const struct xsk_reader *x)
{
	return vnet_xsk_fd(x->xsk);
}

int xsk_reader_recv(struct xsk_reader *x, struct vnet_xdp_meta *meta,
		    void *buf, size_t cap, int timeout_ms)
{
	struct pollfd pfd = { .fd = vnet_xsk_fd(x->xsk), .events = POLLIN };
	struct vnet_xsk_rx rx;
	size_t n;

	if (!vnet_xsk_rx_peek(x->xsk, &rx, 1)) {
		int r = poll(&pfd, 1, timeout_ms);

		if (r < 0)
			return errno == EINTR ? 0 : -errno;
		if (!vnet_xsk_rx_peek(x->xsk, &rx, 1))
			return 0;
	}
	/* the metadata sits right in front of the frame (xsk.c checks it) */
	if (rx.meta)
		memcpy(meta, rx.meta, sizeof(*meta));
	else
		memset(meta, 0, sizeof(*meta));
	n = rx.len < cap ? rx.len : cap;
	memcpy(buf, rx.data, n);
	vnet_xsk_rx_done(x->xsk, &rx, 1);
	return (int)rx.len;
}
