#!/bin/bash
# SPDX-License-Identifier: MIT
# Helpers of the selftests that run vnetd on a veth uplink (sourced; not a
# test by itself): vnetd managing up0 in $NS_HOST, vnet-guest instances
# driving its devices. The caller sets TMP, VNET_SOCK, NS_HOST and VNETCTL.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# vnetd_start [ARGS]: vnetd on up0 (devices restored from $TMP/state); bpffs
# mounted inside first (ip netns exec remounts /sys); exec: $! is vnetd
vnetd_start()
{
	ip netns exec "$NS_HOST" sh -c \
		'mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf; exec "$@"' sh \
		"$VNET_BIN/vnetd" -v -u up0 -s "$VNET_SOCK" -d "$TMP/state" -g 0 "$@" \
		>>"$TMP/vnetd.log" 2>&1 &
	VNETD_PID=$!
	defer kill -9 "$VNETD_PID"
	busywait 5000 "$VNETCTL" mgmtdev show vnet/up0 >/dev/null 2>&1
}

# guest_up VAR DEV NS MAC IP [ARGS]: vnet-guest on DEV's socket, TAP vg0 in
# NS with MAC and IP; pid in VAR_PID, its counters in $TMP/VAR.out
guest_up()
{
	local var=$1 dev=$2 ns=$3 mac=$4 ip=$5
	shift 5
	"$VNET_BIN/vnet-guest" --socket "$TMP/run/$dev.sock" --netns "$ns" --tap vg0 -j \
		"$@" >"$TMP/$var.out" 2>"$TMP/$var.err" &
	eval "${var}_PID=$!"
	defer kill -9 "$!"
	slowwait 5 ip -n "$ns" link show vg0 >/dev/null 2>&1 || return 1
	sleep 0.3
	ip -n "$ns" link set vg0 address "$mac"
	ip -n "$ns" addr add "$ip/24" dev vg0
	ip -n "$ns" link set vg0 up
	# the device reaches DRIVER_OK and the carrier follows the uplink
	slowwait 5 sh -c "ip -n $ns link show vg0 | grep -q LOWER_UP"
}
