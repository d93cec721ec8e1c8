#!/bin/bash
# SPDX-License-Identifier: MIT
# Helpers of the vnet-guest selftests (sourced; not a test by itself):
# a vnet-sim device behind a vhost-user socket, vnet-guest driving it with
# its TAP in a namespace, counters read as JSON.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

FRAMES="python3 $SELFTEST_DIR/guest_frames.py"
GTMP=$(mktemp -d /tmp/vnet-guest-st.XXXXXX)
defer rm -rf "$GTMP"

# sim_start [ARGS...]: a vnet/sim device on $GTMP/sim.sock, pid in SIM_PID
sim_start()
{
	"$VNET_BIN/vnet-sim" --socket "$GTMP/sim.sock" "$@" >>"$GTMP/sim.log" 2>&1 &
	SIM_PID=$!
	defer kill -9 "$SIM_PID"
	busywait 3000 test -S "$GTMP/sim.sock"
}

sim_stop()
{
	kill -9 "$SIM_PID" 2>/dev/null
	wait "$SIM_PID" 2>/dev/null
	rm -f "$GTMP/sim.sock"
}

# guest_start NS [ARGS...]: vnet-guest with TAP vg0 in NS, pid in GUEST_PID
guest_start()
{
	local ns=$1
	shift
	: >"$GTMP/guest.out"
	: >"$GTMP/guest.err"
	"$VNET_BIN/vnet-guest" --socket "$GTMP/sim.sock" --netns "$ns" --tap vg0 -j \
		"${GUEST_ARGS[@]}" "$@" \
		>"$GTMP/guest.out" 2>"$GTMP/guest.err" &
	GUEST_PID=$!
	defer kill -9 "$GUEST_PID"
	slowwait 5 ip -n "$ns" link show vg0 >/dev/null 2>&1 || return 1
	# the control queue has been set up once the first rx-mode sync ran
	sleep 0.3
	ip -n "$ns" link set vg0 up
	guest_args_took
}

# guest_args_took: VNET_GUEST_ARGS=--packed asked for packed rings, and the
# running vnet-guest negotiated them (a run on split rings would prove
# nothing)
guest_args_took()
{
	[[ " ${GUEST_ARGS[*]} " != *" --packed "* ]] || guest_packed
}

guest_stop()
{
	kill -TERM "$GUEST_PID" 2>/dev/null
	wait "$GUEST_PID" 2>/dev/null
}

__guest_out_grew()
{
	[ "$(wc -l <"$GTMP/guest.out")" -gt "$1" ]
}

# guest_stats: the current counters (one JSON document)
guest_stats()
{
	local n
	n=$(wc -l <"$GTMP/guest.out")
	kill -USR1 "$GUEST_PID" || return 1
	busywait 2000 __guest_out_grew "$n" || return 1
	tail -n 1 "$GTMP/guest.out"
}

# vepa_pair NS_G NS_A NS_B: macvlans in VEPA mode on vg0, one in each of
# NS_A (10.9.0.1, 2001:db8:9::1) and NS_B (.2, ::2). VEPA sends every frame,
# even between the two, out of vg0: the sim device reflects it back (it is a
# loopback device), and the TAP hands it to the other macvlan.
vepa_pair()
{
	local g=$1 a=$2 b=$3
	ip -n "$g" link add mva link vg0 type macvlan mode vepa || return 1
	ip -n "$g" link add mvb link vg0 type macvlan mode vepa || return 1
	ip -n "$g" link set mva netns "$a"
	ip -n "$g" link set mvb netns "$b"
	ip -n "$a" addr add 10.9.0.1/24 dev mva
	ip -n "$b" addr add 10.9.0.2/24 dev mvb
	ip -n "$a" addr add 2001:db8:9::1/64 dev mva nodad
	ip -n "$b" addr add 2001:db8:9::2/64 dev mvb nodad
	ip -n "$a" link set mva up
	ip -n "$b" link set mvb up
}

__listening()
{
	in_ns "$1" ss -ltn 'sport = :5201' | grep -q 5201
}

# tcp_transfer NS_A NS_B BYTES: a TCP transfer A -> B; 0 when the receiver
# got every byte with the sender's sha256
tcp_transfer()
{
	local a=$1 b=$2 bytes=$3 got sent
	in_ns "$b" $FRAMES tcp-server 10.9.0.2 5201 >"$GTMP/srv.out" 2>&1 &
	local srv=$!
	busywait 5000 __listening "$b"
	sent=$(in_ns "$a" timeout 60 $FRAMES tcp-client 10.9.0.2 5201 "$bytes")
	wait "$srv"
	got=$(cat "$GTMP/srv.out")
	vlog "sent $sent got $got"
	[ -n "$sent" ] && [ "$sent" = "$got" ]
}

# guest_packed: vnet-guest negotiated packed rings (VIRTIO_F_RING_PACKED,
# bit 34 of its JSON "features")
guest_packed()
{
	local f
	f=$(guest_stats | jq -r .features)
	vlog "guest features $f"
	[[ "$f" == 0x* ]] && [ $(( (f >> 34) & 1 )) = 1 ]
}

require_guest()
{
	require_root
	require_command ip
	require_command jq
	require_command python3
	require_bin vnet-sim
	require_bin vnet-guest
	[ -c /dev/net/tun ] || skip "no /dev/net/tun"
}
