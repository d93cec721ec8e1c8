#!/bin/bash
# SPDX-License-Identifier: MIT
# TCP to the devices coalesced by the kernel (vnetd -K, daemon/uplink/
# uplink_kgro.c): veth up0 (namespace "host") and its peer wire0 ("the
# wire"), device v0 driven by vnet-guest with GUEST_TSO4/6 (the default),
# device v1 by a vnet-guest that refuses them (--no-guest-tso).
#   test_kgro_tcp       32 MiB both ways, sha256 intact; v0's frames came
#                       through the kernel's GRO (port_rx_kgro), the guest
#                       received GSO buffers, and TC ingress dropped them
#                       before the host's stack (the clsact qdisc's drops)
#   test_kgro_no_tso    the guest without GUEST_TSO: TCP both ways intact
#                       through AF_XDP, port_rx_kgro stays 0
#   test_kgro_bad_input cut and lying TCP/IPv4 frames from the wire to v0:
#                       each reaches the guest alone (no GSO buffer), vnetd
#                       lives, TCP afterwards intact
# (pure ACKs stay on AF_XDP: GRO never merges a segment without payload)
#   test_kgro_stalled   a second GSO guest (v3, 16 receive buffers)
#                       stopped (SIGSTOP) in the middle of a stream to it,
#                       more than its ring takes in flight, while a
#                       stream to v0 runs: v3's frames are copied out of
#                       the ring for v0's behind them (port_rx_kgro_parked
#                       grows), TCP to v0 is intact meanwhile, and v3's
#                       stream goes on once it runs again
#   test_kgro_lifecycle the uplink deleted and made again: the path comes
#                       back (log line, port_rx_kgro grows), TCP intact
#   test_kgro_fanout    a second vnetd -K -w 2 on a 2-queue uplink of its
#                       own: 12 TCP flows wire -> guest at once, each
#                       sha256 intact, both workers' packet sockets (one
#                       PACKET_FANOUT group) carried merged frames (the
#                       per-worker totals vnetd logs at detach), and no
#                       frame went to two of them (port_rx_kgro at most
#                       the merged frames TC ingress dropped)
source "$(dirname "$0")/uplink_lib.sh"

ALL_TESTS="test_kgro_tcp test_kgro_no_tso test_kgro_bad_input test_kgro_stalled test_kgro_lifecycle
	   test_kgro_fanout"

VNETCTL=$VNET_BIN/vnetctl
WIRE_IP=10.11.0.1
GUEST_IP=10.11.0.2
GUEST1_IP=10.11.0.4
GUEST3_IP=10.11.0.6
MAC0=02:00:00:0b:00:02
MAC1=02:00:00:0b:00:04
MAC3=02:00:00:0b:00:06
KGRO_LINE="TCP to GSO guests coalesced by the kernel"

require_root
require_command ip
require_command jq
require_command python3
require_command ethtool
require_command tc
require_bin vnetd
require_bin vnetctl
require_bin vnet-guest
[ -c /dev/net/tun ] || skip "no /dev/net/tun"

setup()
{
	setup_ns NS_WIRE NS_HOST NS_G0 NS_G1 || exit 1
	veth_pair "$NS_HOST" up0 "$NS_WIRE" wire0 || exit 1
	ip -n "$NS_WIRE" addr add $WIRE_IP/24 dev wire0
	# full checksums from the wire, as from a NIC (e2e_uplink.sh)
	in_ns "$NS_WIRE" ethtool -K wire0 tx off >/dev/null
	TMP=$(mktemp -d /tmp/vnet-kgro.XXXXXX) || exit 1
	[ -n "${KEEP_TMP:-}" ] || defer rm -rf "$TMP"
	export VNET_SOCK=$TMP/run/vnetd.sock
	vnetd_start -K || { echo "vnetd did not start"; cat "$TMP/vnetd.log"; exit 1; }
	if ! grep -q "uplink datapath: XDP" "$TMP/vnetd.log"; then
		cat "$TMP/vnetd.log"
		skip "no XDP/AF_XDP datapath on the uplink"
	fi
	"$VNETCTL" dev add name v0 mgmtdev vnet/up0 mac $MAC0 || exit 1
	"$VNETCTL" dev add name v1 mgmtdev vnet/up0 mac $MAC1 || exit 1
	guest_up G0 v0 "$NS_G0" $MAC0 $GUEST_IP || exit 1
	guest_up G1 v1 "$NS_G1" $MAC1 $GUEST1_IP --no-guest-tso || exit 1
}

# kgro DEV: the device's port_rx_kgro
kgro() { "$VNETCTL" -j dev show "$1" | jq -e ".dev.$1.port_rx_kgro"; }

__kgro_grew() { [ $(($(kgro "$1") - $2)) -ge "$3" ]; }

# parked DEV: the device's port_rx_kgro_parked
parked() { "$VNETCTL" -j dev show "$1" | jq -e ".dev.$1.port_rx_kgro_parked"; }

# guest_rx VAR FIELD: the sum of FIELD over the guest's receive queues
guest_rx() { guest_stats "$1" | jq "[.rx[].$2] | add"; }

# up0's clsact qdisc: the frames its filters dropped
ingress_drops()
{
	tc -n "$NS_HOST" -s -j qdisc show dev up0 | jq '[.[] | select(.kind == "clsact") | .drops] | add // 0'
}

test_kgro_tcp()
{
	RET=0
	local k0 k1 g0 g1 d0 d1

	grep -q "$KGRO_LINE" "$TMP/vnetd.log"
	check_err $? "vnetd does not say the kernel GRO path is on: $(grep -o 'uplink datapath.*' "$TMP/vnetd.log")"
	k0=$(kgro v0)
	check_err $? "no port_rx_kgro in vnetctl dev show"
	g0=$(guest_rx G0 gso)
	d0=$(ingress_drops)
	tcp_both_ways $((32 << 20))
	k1=$(kgro v0)
	g1=$(guest_rx G0 gso)
	d1=$(ingress_drops)
	vlog "port_rx_kgro $k0 -> $k1, guest gso $g0 -> $g1, ingress drops $d0 -> $d1"
	[ "$k1" -gt "$k0" ]
	check_err $? "no frame came through the kernel's GRO (port_rx_kgro $k0 -> $k1)"
	# 32 MiB in ~64 KiB frames: far fewer than the 23k MTU segments
	[ "$g1" -gt "$g0" ] && [ $((k1 - k0)) -lt 12000 ]
	check_err $? "not coalesced: guest GSO buffers $g0 -> $g1, $((k1 - k0)) frames"
	[ $((d1 - d0)) -ge $((k1 - k0)) ]
	check_err $? "TC ingress dropped $((d1 - d0)) of $((k1 - k0)) frames: the host got them too"
	log_test "kernel GRO: TCP both ways intact, GSO frames to the guest, none to the host"
}

test_kgro_no_tso()
{
	RET=0
	local k0 k1

	k0=$(kgro v1)
	tcp_xfer "$NS_G1" "$NS_WIRE" $WIRE_IP $((8 << 20))
	check_err $? "guest without TSO -> wire TCP data differs"
	tcp_xfer "$NS_WIRE" "$NS_G1" $GUEST1_IP $((8 << 20))
	check_err $? "wire -> guest without TSO TCP data differs"
	k1=$(kgro v1)
	[ "$k0" = 0 ] && [ "$k1" = 0 ]
	check_err $? "frames with GSO headers for a guest without GUEST_TSO ($k0 -> $k1)"
	log_test "kernel GRO: a guest without GUEST_TSO keeps the AF_XDP path"
}

# bad_frames DST_MAC SRC_MAC: hex frames, one a line: TCP/IPv4 to
# GUEST_IP:5999 whose IPv4 total length says more than the frame carries
# (four in sequence, so GRO would merge them if it believed them), and one
# whose TCP header is cut
bad_frames()
{
	python3 - "$1" "$2" "$WIRE_IP" "$GUEST_IP" <<'EOF'
import socket, struct, sys
dst, src = (bytes.fromhex(m.replace(':', '')) for m in sys.argv[1:3])
sa, da = (socket.inet_aton(a) for a in sys.argv[3:5])
def csum(b):
    s = sum(struct.unpack('!%dH' % (len(b) // 2), b))
    while s >> 16:
        s = (s & 0xffff) + (s >> 16)
    return ~s & 0xffff
def frame(tot_len, l4):
    ip = struct.pack('!BBHHHBBH4s4s', 0x45, 0, tot_len, 1, 0x4000, 64, 6, 0, sa, da)
    ip = ip[:10] + struct.pack('!H', csum(ip)) + ip[12:]
    return (dst + src + b'\x08\x00' + ip + l4).hex()
for i in range(4):
    tcp = struct.pack('!HHIIBBHHH', 40000, 5999, 1000 + 100 * i, 0, 5 << 4, 0x10, 65535, 0, 0)
    print(frame(20 + 20 + 1400, tcp + bytes(100)))
print(frame(20 + 10, struct.pack('!HHIH', 40000, 5999, 1, 0)))
EOF
}

test_kgro_bad_input()
{
	RET=0
	local wmac p0 p1 g0 g1 k0 f

	wmac=$(ip -n "$NS_WIRE" -j link show wire0 | jq -r '.[0].address')
	k0=$(kgro v0)
	p0=$(guest_rx G0 packets)
	g0=$(guest_rx G0 gso)
	# a file, not <(...): the kernel matrix's guests have no /dev/fd
	bad_frames $MAC0 "$wmac" >"$TMP/bad.hex"
	while read -r f; do
		in_ns "$NS_WIRE" $FRAMES raw-send wire0 "$f" >/dev/null
		check_err $? "raw-send failed"
	done <"$TMP/bad.hex"
	# the four with payload through the kernel's path, each to the guest
	# alone (the cut one has no room for a TCP header: AF_XDP)
	busywait $WAIT_MS __kgro_grew v0 "$k0" 4
	check_err $? "the bad frames did not reach the guest ($k0 -> $(kgro v0))"
	p1=$(guest_rx G0 packets)
	g1=$(guest_rx G0 gso)
	vlog "guest rx packets $p0 -> $p1, gso $g0 -> $g1"
	[ "$g1" = "$g0" ] && [ $((p1 - p0)) -ge 5 ]
	check_err $? "a bad frame became a GSO buffer (gso $g0 -> $g1, packets $p0 -> $p1)"
	kill -0 "$VNETD_PID"
	check_err $? "vnetd died"
	tcp_both_ways $((4 << 20)) "after bad frames: "
	log_test "kernel GRO: cut and lying TCP frames are not coalesced"
}

# endless_stream NS_SRC NS_DST DST_IP PORT: a TCP stream that lasts until
# killed; its server's and client's pids added to STREAM_PIDS (killed at
# exit too)
endless_stream()
{
	# ip netns exec, not in_ns: $! of a function run in the background is
	# its subshell, and killing that would leave the stream running
	ip netns exec "$2" $FRAMES tcp-server "$3" "$4" >/dev/null 2>&1 &
	STREAM_PIDS+=("$!")
	defer kill "$!"
	busywait $WAIT_MS __listening "$2" "$4"
	ip netns exec "$1" timeout 300 $FRAMES tcp-client "$3" "$4" $((1 << 40)) >/dev/null 2>&1 &
	STREAM_PIDS+=("$!")
	defer kill "$!"
}

__parked_grew() { [ "$(parked "$1")" -gt "$2" ]; }

test_kgro_stalled()
{
	RET=0
	local NS_G3 k0 k1 p0 p1 s0 STREAM_PIDS=()

	setup_ns NS_G3 || return 1
	"$VNETCTL" dev add name v3 mgmtdev vnet/up0 mac $MAC3 >/dev/null &&
		guest_up G3 v3 "$NS_G3" $MAC3 $GUEST3_IP --rx-ring 16
	check_err $? "no second GSO guest"
	slowwait 10 in_ns "$NS_WIRE" ping -c 1 -W 1 $GUEST3_IP >/dev/null
	p0=$(parked v3)
	check_err $? "no port_rx_kgro_parked in vnetctl dev show"
	# streams to v3 and v0 that last until they are killed
	endless_stream "$NS_WIRE" "$NS_G3" $GUEST3_IP 5231
	endless_stream "$NS_WIRE" "$NS_G0" $GUEST_IP 5232
	k0=$(kgro v3)
	busywait $((4 * WAIT_MS)) __kgro_grew v3 "$k0" 8
	check_err $? "the stream to v3 did not take the kernel's path"
	# v3's driver stops taking buffers in the middle of the stream; what
	# its sender has in flight (and resends) waits for it in vnetd, with
	# v0's stream behind it
	kill -STOP "$G3_PID"
	busywait $((10 * WAIT_MS)) __parked_grew v3 "$p0"
	check_err $? "v3's frames were never copied out for v0's behind them"
	p1=$(parked v3)
	# and v0 still gets what is sent to it, whole
	s0=$(kgro v0)
	tcp_xfer "$NS_WIRE" "$NS_G0" $GUEST_IP $((8 << 20))
	check_err $? "wire -> v0 data differs while v3 is stopped"
	vlog "v0's port_rx_kgro $s0 -> $(kgro v0) while v3 was stopped"
	# v3 runs again: its stream goes on through the kernel's path
	kill -CONT "$G3_PID"
	k1=$(kgro v3)
	busywait $((10 * WAIT_MS)) __kgro_grew v3 "$k1" 8
	check_err $? "v3's stream did not go on after it ran again ($k1 -> $(kgro v3))"
	vlog "parked $p0 -> $p1; v3's port_rx_kgro $k0 -> $k1 -> $(kgro v3)"
	# the streams end here, not at exit: the next cases want the CPUs
	kill "${STREAM_PIDS[@]}" 2>/dev/null
	wait "${STREAM_PIDS[@]}" 2>/dev/null
	kill "$G3_PID" 2>/dev/null
	wait "$G3_PID" 2>/dev/null
	"$VNETCTL" dev del v3
	kill -0 "$VNETD_PID"
	check_err $? "vnetd died"
	log_test "kernel GRO: a stopped guest holds up nobody but itself"
}

test_kgro_lifecycle()
{
	RET=0
	local n k0 k1

	n=$(grep -c "$KGRO_LINE" "$TMP/vnetd.log")
	ip -n "$NS_HOST" link del up0
	busywait $((2 * WAIT_MS)) grep -q "uplink gone" "$TMP/vnetd.log"
	check_err $? "vnetd did not see the uplink go"
	grep -q "kernel GRO path: .* frames to devices" "$TMP/vnetd.log"
	check_err $? "no kernel GRO totals at detach"
	veth_pair "$NS_HOST" up0 "$NS_WIRE" wire0 || return 1
	ip -n "$NS_WIRE" addr add $WIRE_IP/24 dev wire0
	in_ns "$NS_WIRE" ethtool -K wire0 tx off >/dev/null
	busywait $((4 * WAIT_MS)) sh -c "[ \$(grep -c '$KGRO_LINE' '$TMP/vnetd.log') -gt $n ]"
	check_err $? "the kernel GRO path did not come back with the uplink"
	[ "$(in_ns "$NS_HOST" ethtool -k up0 | awk '/generic-receive-offload/ { print $2 }')" = on ]
	check_err $? "GRO not on on the new uplink"
	slowwait 10 in_ns "$NS_WIRE" ping -c 1 -W 1 $GUEST_IP >/dev/null
	k0=$(kgro v0)
	tcp_both_ways $((8 << 20)) "after the uplink came back: "
	k1=$(kgro v0)
	[ "$k1" -gt "$k0" ]
	check_err $? "no frame through the kernel's GRO after the return ($k0 -> $k1)"
	log_test "kernel GRO: uplink removed and back, the path with it"
}

# flows NS_SRC NS_DST DST_IP N BYTES: N TCP transfers at once (ports 5211..),
# 0 when every receiver got every byte (sha256 and length)
flows()
{
	local src=$1 dst=$2 ip=$3 n=$4 bytes=$5 i bad=0
	local srv=() cli=()

	for ((i = 0; i < n; i++)); do
		in_ns "$dst" $FRAMES tcp-server "$ip" $((5211 + i)) >"$TMP/fsrv.$i" 2>&1 &
		srv+=($!)
	done
	for ((i = 0; i < n; i++)); do
		busywait $WAIT_MS __listening "$dst" $((5211 + i)) || return 1
	done
	for ((i = 0; i < n; i++)); do
		in_ns "$src" timeout 300 $FRAMES tcp-client "$ip" $((5211 + i)) "$bytes" \
			>"$TMP/fcli.$i" &
		cli+=($!)
	done
	wait "${cli[@]}" "${srv[@]}"
	for ((i = 0; i < n; i++)); do
		[ -s "$TMP/fcli.$i" ] && cmp -s "$TMP/fcli.$i" "$TMP/fsrv.$i" || bad=$((bad + 1))
	done
	vlog "$n flows, $bad differ"
	[ $bad = 0 ]
}

test_kgro_fanout()
{
	RET=0
	local NS_HOST NS_WIRE NS_G0 TMP=$TMP/fanout VNETD_PID G2_PID line per k d
	local VNET_SOCK=$TMP/run/vnetd.sock

	export VNET_SOCK
	mkdir -p "$TMP"
	setup_ns NS_WIRE NS_HOST NS_G0 || return 1
	veth_pair "$NS_HOST" up0 "$NS_WIRE" wire0 2 || return 1
	ip -n "$NS_WIRE" addr add $WIRE_IP/24 dev wire0
	in_ns "$NS_WIRE" ethtool -K wire0 tx off >/dev/null
	vnetd_start -K -w 2
	check_err $? "vnetd -K -w 2 did not start"
	grep -q "2 AF_XDP socket(s), 2 worker(s).*$KGRO_LINE" "$TMP/vnetd.log"
	check_err $? "not 2 workers with the kernel GRO path: $(grep -o 'uplink datapath.*' "$TMP/vnetd.log")"
	"$VNETCTL" dev add name v2 mgmtdev vnet/up0 mac $MAC0 >/dev/null &&
		guest_up G2 v2 "$NS_G0" $MAC0 $GUEST_IP
	check_err $? "no guest on the 2-worker vnetd"
	slowwait 10 in_ns "$NS_WIRE" ping -c 1 -W 1 $GUEST_IP >/dev/null
	flows "$NS_WIRE" "$NS_G0" $GUEST_IP 12 $((2 << 20))
	check_err $? "wire -> guest: a flow's data differs ($(cat "$TMP"/fsrv.* | tr '\n' ' '))"
	k=$(kgro v2)
	d=$(ingress_drops)
	vlog "port_rx_kgro $k, ingress drops $d"
	[ "$k" -gt 0 ]
	check_err $? "no frame through the kernel's GRO"
	# each merged frame reaches one socket of the group, not every one
	[ "$k" -le "$d" ]
	check_err $? "$k frames to the guest for $d merged frames: taken by more than one socket"
	ip -n "$NS_HOST" link del up0
	busywait $((2 * WAIT_MS)) grep -q "kernel GRO path: .*frames per worker" "$TMP/vnetd.log"
	line=$(grep -o "kernel GRO path: .*" "$TMP/vnetd.log" | tail -n 1)
	vlog "$line"
	per=$(sed -n 's/.*frames per worker: //p' <<<"$line")
	[ "$(wc -w <<<"$per")" = 2 ] && [ "$(cut -d' ' -f1 <<<"$per")" -gt 0 ] &&
		[ "$(cut -d' ' -f2 <<<"$per")" -gt 0 ]
	check_err $? "not both workers' sockets carried merged frames: $line"
	kill -0 "$VNETD_PID"
	check_err $? "vnetd died"
	log_test "kernel GRO: 2 workers, one fanout group, both carry flows intact"
}

setup
tests_run
exit $EXIT_STATUS
