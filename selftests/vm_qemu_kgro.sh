#!/bin/bash
# SPDX-License-Identifier: MIT
# vm_qemu.sh's real guests (Linux's virtio_net in QEMU) with vnetd -K: TCP
# to guests that take GSO frames is merged by the uplink's GRO and read
# from a packet socket (docs/ARCHITECTURE.md, "TCP coalesced by the
# kernel"). Every case of vm_qemu.sh runs; its TCP case also checks that
# vm1's frames took that path (port_rx_kgro).
VM_VNETD_ARGS="-K ${VM_VNETD_ARGS:-}" exec bash "$(dirname "$0")/vm_qemu.sh" "$@"
