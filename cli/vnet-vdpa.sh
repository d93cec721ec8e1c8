#!/bin/sh
# SPDX-License-Identifier: MIT
# vnet-vdpa: run iproute2's vdpa(8) against vnetd through libvnet-vdpa.so.
#   vnet-vdpa dev add name vnet0 mgmtdev vnet/eth0 max_vqp 4
# The library is looked up next to this script (../lib/), then in the
# system library path. $VNET_SOCK selects the control socket.
here=$(dirname "$(readlink -f "$0")")
lib=${VNET_PRELOAD_LIB:-$here/../lib/libvnet-vdpa.so}
[ -e "$lib" ] || lib=libvnet-vdpa.so
LD_PRELOAD="$lib${LD_PRELOAD:+:$LD_PRELOAD}" exec "${VDPA:-vdpa}" "$@"
