#!/bin/bash
# SPDX-License-Identifier: MIT
# Helpers of the selftests that run vnetd on a veth uplink (sourced; not a
# test by itself): vnetd managing up0 in $NS_HOST, vnet-guest instances
# driving its devices, their counters, TCP with a checksum. The caller sets
# NS_HOST, NS_WIRE, VNETCTL, TMP and VNET_SOCK (vnetd_up sets the last two).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

FRAMES="python3 $SELFTEST_DIR/guest_frames.py"

# Waits are on events, never on fixed windows; these are only their upper
# bounds, generous so that the same checks pass in an emulated guest (the
# kernel matrix's TCG, tens of times slower) and cost nothing when the
# event comes: WAIT_MS for a state to show, LISTEN_MAX (seconds) for a
# frame listener whose fence never comes.
WAIT_MS=${WAIT_MS:-30000}
LISTEN_MAX=${LISTEN_MAX:-60}

# on_killed (lib.sh): a script killed by a timeout shows vnetd's last words
# (the timeout signals the whole process group: vnetd's own shutdown and
# totals are the last of them)
on_killed()
{
	[ -s "${TMP:-}/vnetd.log" ] || return 0
	echo "vnetd's log ($TMP/vnetd.log), its last lines:"
	tail -n 20 "$TMP/vnetd.log"
}

# require_uplink_rig [COMMAND...]: skips unless root, with the tools every
# uplink selftest runs (and COMMANDs), vnetd, vnetctl, vnet-guest and TUN
require_uplink_rig()
{
	local c
	require_root
	for c in ip jq python3 ping ethtool "$@"; do
		require_command "$c"
	done
	require_bin vnetd
	require_bin vnetctl
	require_bin vnet-guest
	[ -c /dev/net/tun ] || skip "no /dev/net/tun"
}

# uplink_addrs: UP_IP/24 on up0 and WIRE_IP/24 on wire0 where set; wire0
# sends full checksums, as a NIC delivers them: veth hands partial ones
# through, and the XDP program sees the frame before anyone completes it
uplink_addrs()
{
	[ -z "${UP_IP:-}" ] || ip -n "$NS_HOST" addr add "$UP_IP/24" dev up0
	[ -z "${WIRE_IP:-}" ] || ip -n "$NS_WIRE" addr add "$WIRE_IP/24" dev wire0
	in_ns "$NS_WIRE" ethtool -K wire0 tx off >/dev/null
}

__vnetd_answers_or_died()
{
	"$VNETCTL" mgmtdev show vnet/up0 >/dev/null 2>&1 || ! kill -0 "$1" 2>/dev/null
}

# vnetd_start [ARGS]: vnetd on up0 (devices restored from $TMP/state); bpffs
# mounted inside first (ip netns exec remounts /sys); exec: $! is vnetd.
# 0 once it answers (loading and verifying its programs takes a while
# under emulation), 1 when it does not or exited
vnetd_start()
{
	ip netns exec "$NS_HOST" sh -c \
		'mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf; exec "$@"' sh \
		"$VNET_BIN/vnetd" -v -u up0 -s "$VNET_SOCK" -d "$TMP/state" -g 0 "$@" \
		>>"$TMP/vnetd.log" 2>&1 &
	VNETD_PID=$!
	defer kill -9 "$VNETD_PID"
	busywait $((2 * WAIT_MS)) __vnetd_answers_or_died "$VNETD_PID"
	"$VNETCTL" mgmtdev show vnet/up0 >/dev/null 2>&1
}

# vnetd_up TAG [ARGS]: TMP=/tmp/vnet-TAG.* (kept with KEEP_TMP), VNET_SOCK
# in it, vnetd_start ARGS; exits the script when vnetd does not start and
# skips it when the uplink got no XDP datapath
vnetd_up()
{
	local tag=$1
	shift
	TMP=$(mktemp -d "/tmp/vnet-$tag.XXXXXX") || exit 1
	[ -n "${KEEP_TMP:-}" ] || defer rm -rf "$TMP"
	export VNET_SOCK=$TMP/run/vnetd.sock
	vnetd_start "$@" || { echo "vnetd did not start"; cat "$TMP/vnetd.log"; exit 1; }
	if ! grep -q "uplink datapath: XDP" "$TMP/vnetd.log"; then
		cat "$TMP/vnetd.log"
		skip "no XDP/AF_XDP datapath on the uplink"
	fi
}

__ready() { grep -q ready "$1"; }

# listen NAME NS ARGS...: guest_frames.py ARGS (a counter: mark-count,
# rarp-count) in NS in the background, its count to $TMP/NAME, its pid in
# LISTEN_PID; returns once it listens (1 if it never does)
listen()
{
	local name=$1 ns=$2
	shift 2
	in_ns "$ns" $FRAMES "$@" >"$TMP/$name" 2>"$TMP/$name.rdy" &
	LISTEN_PID=$!
	defer kill "$LISTEN_PID"
	busywait $WAIT_MS __ready "$TMP/$name.rdy"
}

# guest_up VAR DEV NS MAC IP [ARGS]: vnet-guest on DEV's socket, TAP vg0 in
# NS with MAC and IP; pid in VAR_PID, its counters in $TMP/VAR.out
guest_up()
{
	local var=$1 dev=$2 ns=$3 mac=$4 ip=$5
	shift 5
	"$VNET_BIN/vnet-guest" --socket "$TMP/run/$dev.sock" --netns "$ns" --tap vg0 -j -v \
		"${GUEST_ARGS[@]}" "$@" >"$TMP/$var.out" 2>"$TMP/$var.err" &
	eval "${var}_PID=$!"
	defer kill -9 "$!"
	# the TAP is set up (vnet-guest gave it the device's MAC and MTU)
	# once vnet-guest says how many queue pairs it has
	slowwait $((WAIT_MS / 1000)) grep -q "vg0: .* queue pairs" "$TMP/$var.err" || return 1
	ip -n "$ns" link set vg0 address "$mac"
	ip -n "$ns" addr add "$ip/24" dev vg0
	ip -n "$ns" link set vg0 up
	# the device reaches DRIVER_OK and the carrier follows the uplink
	slowwait $((WAIT_MS / 1000)) sh -c "ip -n $ns link show vg0 | grep -q LOWER_UP" || return 1
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
	busywait $WAIT_MS __out_grew "$out" "$n" || return 1
	tail -n 1 "$out"
}

# __rx_grew VAR BEFORE N: the guest's receive queues took N frames more
# than in BEFORE (counters of guest_stats)
__rx_grew()
{
	local now
	now=$(guest_stats "$1") || return 1
	jq -e -n --argjson b "$2" --argjson a "$now" --argjson n "$3" \
		'([$a.rx[].packets] | add) - ([$b.rx[].packets] | add) >= $n' >/dev/null
}

__listening() { in_ns "$1" ss -ltn "sport = :$2" | grep -q "$2"; }

# tcp_xfer NS_SRC NS_DST DST_IP BYTES: 0 when the receiver got every byte
tcp_xfer()
{
	local src=$1 dst=$2 ip=$3 bytes=$4 sent got
	in_ns "$dst" $FRAMES tcp-server "$ip" 5201 >"$TMP/srv.out" 2>&1 &
	local srv=$!
	busywait $WAIT_MS __listening "$dst" 5201
	sent=$(in_ns "$src" timeout 300 $FRAMES tcp-client "$ip" 5201 "$bytes")
	wait "$srv"
	got=$(cat "$TMP/srv.out")
	vlog "sent $sent got $got"
	[ -n "$sent" ] && [ "$sent" = "$got" ]
}

# tcp_both_ways BYTES [PREFIX]: tcp_xfer guest ($NS_G0) -> wire and wire ->
# guest ($GUEST_IP), each checked (check_err, messages led by PREFIX)
tcp_both_ways()
{
	tcp_xfer "$NS_G0" "$NS_WIRE" $WIRE_IP "$1"
	check_err $? "${2:-}guest -> wire TCP data differs"
	tcp_xfer "$NS_WIRE" "$NS_G0" $GUEST_IP "$1"
	check_err $? "${2:-}wire -> guest TCP data differs"
}

# wire_rx_packets: frames wire0 (in $NS_WIRE) received
wire_rx_packets()
{
	ip -n "$NS_WIRE" -j -s link show wire0 | jq '.[0].stats64.rx.packets'
}

# port_counter DEV NAME: an uplink port counter from vnetctl dev show
port_counter()
{
	"$VNETCTL" -j dev show "$1" | jq -e ".dev.$1.port_$2"
}

# cpu_percent PID SECONDS: the CPU PID used over SECONDS, in percent of one CPU
cpu_percent()
{
	local pid=$1 secs=$2 hz a b
	hz=$(getconf CLK_TCK)
	a=$(awk '{print $14 + $15}' /proc/"$pid"/stat)
	sleep "$secs"
	b=$(awk '{print $14 + $15}' /proc/"$pid"/stat)
	echo $(( (b - a) * 100 / hz / secs ))
}

# vnetd_idle MAX: vnetd used at most MAX% of a CPU over a second (the
# number is left in $TMP/vnetd.cpu). With slowwait: a vnetd that settles
# gets such a second soon, one that spins never does.
vnetd_idle()
{
	local cpu

	cpu=$(cpu_percent "$VNETD_PID" 1)
	echo "$cpu" >"$TMP/vnetd.cpu"
	[ "$cpu" -le "$1" ]
}

# veth_mq NQ: veth up0 (in $NS_HOST) and its peer wire0 (in $NS_WIRE), NQ
# rx and NQ tx queues each, both up (native XDP on a veth wants as many rx
# queues as its peer has tx queues)
veth_mq() { veth_pair "$NS_HOST" up0 "$NS_WIRE" wire0 "$1"; }

# uplink_queues: up0's per-queue counters (vnetctl mgmtdev show), one JSON
# array
uplink_queues()
{
	"$VNETCTL" -j mgmtdev show vnet/up0 | jq -c '.mgmtdev["vnet/up0"].queues'
}

# queues_moved BEFORE AFTER FIELD: how many queues (arrays of
# uplink_queues) moved FIELD by at least 8
queues_moved()
{
	jq -n --argjson b "$1" --argjson a "$2" --arg f "$3" \
		'[range(0; $a | length) | select($a[.][$f] - $b[.][$f] >= 8)] | length'
}
