#!/bin/bash
# SPDX-License-Identifier: MIT
# vm_qemu.sh's real guests (Linux's virtio_net in QEMU) with vnetd -k: TCP
# from the wire to the guests takes AF_XDP frame by frame and vnetd's own
# coalescing (docs/ARCHITECTURE.md, "Receive coalescing"), not the
# kernel's GRO that vnetd uses by default. Every case of vm_qemu.sh runs;
# its TCP case also checks that no frame reached vm1 through the kernel's
# GRO (port_rx_kgro 0).
VM_VNETD_ARGS="-k ${VM_VNETD_ARGS:-}" exec bash "$(dirname "$0")/vm_qemu.sh" "$@"
