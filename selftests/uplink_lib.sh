#!/bin/bash
# SPDX-License-Identifier: MIT
# Helpers of the selftests that run vnetd on a veth uplink (sourced; not a
# test by itself): vnetd managing up0 in $NS_HOST, vnet-guest instances
# driving its devices, their counters, TCP with a checksum. The caller sets
# TMP, VNET_SOCK, NS_HOST and VNETCTL.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

FRAMES="python3 $SELFTEST_DIR/guest_frames.py"

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
		"${GUEST_ARGS[@]}" "$@" >"$TMP/$var.out" 2>"$TMP/$var.err" &
	eval "${var}_PID=$!"
	defer kill -9 "$!"
	slowwait 5 ip -n "$ns" link show vg0 >/dev/null 2>&1 || return 1
	sleep 0.3
	ip -n "$ns" link set vg0 address "$mac"
	ip -n "$ns" addr add "$ip/24" dev vg0
	ip -n "$ns" link set vg0 up
	# the device reaches DRIVER_OK and the carrier follows the uplink
	slowwait 5 sh -c "ip -n $ns link show vg0 | grep -q LOWER_UP" || return 1
	# VNET_GUEST_ARGS=--packed: packed rings (VIRTIO_F_RING_PACKED, bit
	# 34) negotiated, or the run proves nothing
	if [[ " ${GUEST_ARGS[*]} " == *" --packed "* ]]; then
		local f
		f=$(guest_stats "$var" | jq -r .features)
		[[ "$f" == 0x* ]] && [ $(( (f >> 34) & 1 )) = 1 ] || return 1
	fi
}

__out_grew() { [ "$(wc -l <"$1")" -gt "$2" ]; }

# guest_stats VAR: the guest's counters now (one JSON document)
guest_stats()
{
	local out=$TMP/$1.out pid n
	eval "pid=\$${1}_PID"
	n=$(wc -l <"$out")
	kill -USR1 "$pid" || return 1
	busywait 2000 __out_grew "$out" "$n" || return 1
	tail -n 1 "$out"
}

__listening() { in_ns "$1" ss -ltn "sport = :$2" | grep -q "$2"; }

# tcp_xfer NS_SRC NS_DST DST_IP BYTES: 0 when the receiver got every byte
tcp_xfer()
{
	local src=$1 dst=$2 ip=$3 bytes=$4 sent got
	in_ns "$dst" $FRAMES tcp-server "$ip" 5201 >"$TMP/srv.out" 2>&1 &
	local srv=$!
	busywait 5000 __listening "$dst" 5201
	sent=$(in_ns "$src" timeout 60 $FRAMES tcp-client "$ip" 5201 "$bytes")
	wait "$srv"
	got=$(cat "$TMP/srv.out")
	vlog "sent $sent got $got"
	[ -n "$sent" ] && [ "$sent" = "$got" ]
}

# port_counter DEV NAME: an uplink port counter from vnetctl dev show
port_counter()
{
	"$VNETCTL" -j dev show "$1" | jq -e ".dev.$1.port_$2"
}
