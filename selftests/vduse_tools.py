#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Kernel-side helpers of selftests/vduse.sh (no vnet code in here).

  vhost-features PATH     open /dev/vhost-vdpa-N and print the device's
                          features (VHOST_GET_FEATURES) in hex
  foreign NAME [keep]     another process's VDUSE net device: create NAME,
                          open it, print "ready" and hold it until stdin
                          closes; then close it and destroy it (or, with
                          "keep", leave it behind as a crashed owner would)
"""
import fcntl
import os
import struct
import sys

VDUSE_BASE = 0x81
VHOST_VIRTIO = 0xAF


def _iow(typ, nr, size):
    return (1 << 30) | (size << 16) | (typ << 8) | nr


def _ior(typ, nr, size):
    return (2 << 30) | (size << 16) | (typ << 8) | nr


# struct vduse_dev_config without its config bytes: name[256], vendor_id,
# device_id, features (u64), vq_num, vq_align, reserved[13], config_size
VDUSE_DEV_CONFIG = struct.Struct('<256sIIQII52sI')
VDUSE_SET_API_VERSION = _iow(VDUSE_BASE, 0x01, 8)
VDUSE_CREATE_DEV = _iow(VDUSE_BASE, 0x02, VDUSE_DEV_CONFIG.size)
VDUSE_DESTROY_DEV = _iow(VDUSE_BASE, 0x03, 256)
VHOST_GET_FEATURES = _ior(VHOST_VIRTIO, 0x00, 8)

VIRTIO_ID_NET = 1
F_VERSION_1 = 1 << 32
F_ACCESS_PLATFORM = 1 << 33
F_MAC = 1 << 5


def vhost_features(path):
    fd = os.open(path, os.O_RDWR)
    try:
        buf = fcntl.ioctl(fd, VHOST_GET_FEATURES, bytes(8))
    finally:
        os.close(fd)
    print('0x%x' % struct.unpack('<Q', buf)[0])
    return 0


def foreign(name, keep):
    ctl = os.open('/dev/vduse/control', os.O_RDWR)
    fcntl.ioctl(ctl, VDUSE_SET_API_VERSION, struct.pack('<Q', 0))
    config = bytes([0x02, 0, 0, 0, 0, 0x99]) + bytes(18)
    hdr = VDUSE_DEV_CONFIG.pack(name.encode(), 0, VIRTIO_ID_NET,
                                F_VERSION_1 | F_ACCESS_PLATFORM | F_MAC, 2,
                                os.sysconf('SC_PAGE_SIZE'), bytes(52), len(config))
    fcntl.ioctl(ctl, VDUSE_CREATE_DEV, bytearray(hdr + config))
    dev = os.open('/dev/vduse/' + name, os.O_RDWR)
    print('ready', flush=True)
    sys.stdin.read()
    os.close(dev)
    if not keep:
        fcntl.ioctl(ctl, VDUSE_DESTROY_DEV, name.encode().ljust(256, b'\0'))
    os.close(ctl)
    return 0


def main(a):
    if len(a) == 2 and a[0] == 'vhost-features':
        return vhost_features(a[1])
    if len(a) in (2, 3) and a[0] == 'foreign':
        return foreign(a[1], len(a) == 3 and a[2] == 'keep')
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
