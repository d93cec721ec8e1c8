/* SPDX-License-Identifier: MIT */
/* A registry backend without sockets or threads, for tests (backend_stub.c). */
#ifndef VNET_TEST_BACKEND_STUB_H
#define VNET_TEST_BACKEND_STUB_H

#include "vnet/registry.h"

extern const struct vnet_backend_ops vnet_stub_backend;

/* A device's link as the backend was told, and how often it flipped. */
bool vnet_stub_link_up(const struct vnet_dev *dev);
unsigned int vnet_stub_link_changes(const struct vnet_dev *dev);

#endif
