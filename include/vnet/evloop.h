/* SPDX-License-Identifier: MIT */
/*
 * vnetd's control thread is one epoll loop; everything on it registers a
 * struct vnet_evt as epoll data.ptr, and the loop calls ev->fn.
 */
#ifndef VNET_EVLOOP_H
#define VNET_EVLOOP_H

struct vnet_evt {
	int fd;
	void (*fn)(struct vnet_evt *ev, unsigned int events);
};

#endif
