#!/bin/bash
# SPDX-License-Identifier: MIT
# make bench-tcp: TCP throughput through vnet against a plain veth pair,
# in the same run. Not a test.
#
#   vnet   namespace "wire" (wire0, 10.7.0.1) <-> veth <-> up0 (namespace
#          "host", vnetd's uplink: XDP, AF_XDP, the packet socket of GSO
#          sends) -> device v0 (one queue pair) -> vnet-guest -> its TAP
#          vg0 in namespace "guest" (10.7.0.2). The guest's kernel stack
#          is the driver's: TSO/GSO sends reach the transmit queue whole
#          (HOST_TSO4/6), coalesced frames come out of it (GUEST_TSO4/6).
#   veth   namespace "a" (10.9.0.1) <-> veth <-> namespace "b" (10.9.0.2):
#          what the same kernel does with no userspace datapath at all.
#   xveth  namespace "c" (10.11.0.1) <-> veth <-> namespace "d" (10.11.0.2)
#          with an XDP program on vd that lets every frame on (vnet-gen
#          --count --pass) and GRO on: the kernel's own path once its
#          receiving veth has any XDP program, as up0 has. vd is up0's
#          twin (wire -> guest is c -> d, guest -> wire d -> c).
#          drivers/net/veth.c turns TSO off on a veth's peer while an XDP
#          program is attached, so here c sends MTU segments (software
#          GSO) where the plain veth moves 64 KiB TSO skbs end to end: no
#          datapath behind an XDP program on a veth can do better than the
#          kernel does here.
#
# iperf3 in both directions (guest -> wire: the device's transmit; wire ->
# guest: its receive), 1 and 4 streams (STREAMS), SECS seconds each. Per
# row: Gbit/s received, and CPU seconds per GB received of vnetd and of
# vnet-guest (utime + stime from /proc/PID/stat around the run, all
# threads); vnet/veth is the ratio of the rates; retr, the vnet sender's
# retransmits (a loss anywhere on the path). The receive queue's counters
# (drops: no guest buffer) close the report. The kernel's work in
# softirq (iperf3's stacks, the veth and TAP transmit) is in nobody's
# column: it lands on whichever process was running.
#
# wire0 has transmit checksumming (and so TSO) off, as in the selftests:
# up0's XDP program must see complete checksums, as from a NIC, so the
# wire namespace sends MTU-sized frames it checksummed itself. up0 keeps
# its offloads: the GSO sends vnetd hands to the kernel cross the veth
# whole (a NIC would segment them in hardware).
#
# No pinning: vnetd's worker, vnet-guest, both iperf3 ends and the softirqs
# share the machine's two CPUs as the scheduler places them (pinning two
# busy-polling processes onto one CPU measures the scheduler).
#
# PERF_DIR=DIR records `perf record -a -g` of both CPUs during each vnet
# run (quote figures from a run without it).
#
# ROUNDS=N repeats the table; the summary takes each row's best round
# (other work on the machine only ever takes throughput away). O=DIR runs
# another build's binaries (e.g. a checkout of the base commit, for a
# before/after). VNETD_ARGS / GUEST_ARGS are added to their command lines.
# DIRS="guest-wire wire-guest" (the default) picks the directions.
# VETH_TXOFF=1 turns transmit checksumming (and so TSO) off on the veth
# pair too, as on wire0: the reference then pays what the rig makes the
# wire pay (MTU segments built and checksummed in software, GRO at the
# receiver), which no datapath behind wire0 can avoid.
# UPQ=N gives the uplink veth (up0 and wire0) N queues (default 1), so N
# NAPI instances, N AF_XDP sockets and by default N vnetd workers (each
# reads its own packet socket of one fanout group for the kernel's merged
# TCP; VNETD_ARGS=-k turns that path off: AF_XDP and vnetd's coalescing).
set -u
O=${O:-build}
SECS=${SECS:-10}
ROUNDS=${ROUNDS:-1}
STREAMS=${STREAMS:-1 4}
DIRS=${DIRS:-guest-wire wire-guest}
MAC0=02:00:00:07:00:02
WIRE_IP=10.7.0.1
GUEST_IP=10.7.0.2
A_IP=10.9.0.1
B_IP=10.9.0.2
C_IP=10.11.0.1
D_IP=10.11.0.2

O=$(cd "$O" 2>/dev/null && pwd) || { echo "no build directory"; exit 1; }
VNET_BIN=$O/bin
source "$(dirname "$0")/../selftests/uplink_lib.sh"
VNETCTL=$VNET_BIN/vnetctl

for b in vnetd vnetctl vnet-guest vnet-gen; do
	[ -x "$VNET_BIN/$b" ] || { echo "build $b first"; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (namespaces, XDP)"; exit 4; }
for c in ip jq iperf3 ethtool; do
	command -v $c >/dev/null || { echo "SKIP: $c not found"; exit 4; }
done
[ -c /dev/net/tun ] || { echo "SKIP: no /dev/net/tun"; exit 4; }

TMP=$(mktemp -d /tmp/vnet-bench-tcp-XXXXXX)
[ -n "${KEEP:-}" ] || defer rm -rf "$TMP"
export VNET_SOCK=$TMP/run/vnetd.sock
setup_ns NS_WIRE NS_HOST NS_G NS_A NS_B NS_C NS_D || exit 1
veth_pair "$NS_HOST" up0 "$NS_WIRE" wire0 ${UPQ:-} || exit 1
ip -n "$NS_WIRE" addr add $WIRE_IP/24 dev wire0
in_ns "$NS_WIRE" ethtool -K wire0 tx off >/dev/null
veth_pair "$NS_A" va "$NS_B" vb || exit 1
ip -n "$NS_A" addr add $A_IP/24 dev va
ip -n "$NS_B" addr add $B_IP/24 dev vb
veth_pair "$NS_C" vc "$NS_D" vd || exit 1
ip -n "$NS_C" addr add $C_IP/24 dev vc
ip -n "$NS_D" addr add $D_IP/24 dev vd
if [ -n "${VETH_TXOFF:-}" ]; then
	in_ns "$NS_A" ethtool -K va tx off >/dev/null
	in_ns "$NS_B" ethtool -K vb tx off >/dev/null
fi
in_ns "$NS_D" ethtool -K vd gro on >/dev/null
# not in_ns (a function: $! would be its subshell, not vnet-gen)
ip netns exec "$NS_D" "$VNET_BIN/vnet-gen" -i vd --count --pass >"$TMP/xveth.out" 2>&1 &
defer kill -TERM "$!"
busywait 5000 grep -q '"ready":true' "$TMP/xveth.out" ||
	{ echo "SKIP: no XDP program on vd ($(tail -n 1 "$TMP/xveth.out"))"; exit 4; }

# shellcheck disable=SC2086
vnetd_start ${VNETD_ARGS:-} || { echo "SKIP: vnetd did not start"; cat "$TMP/vnetd.log"; exit 4; }
if ! busywait 2000 grep -q "uplink datapath: XDP" "$TMP/vnetd.log"; then
	echo "SKIP: no XDP/AF_XDP datapath on up0 ($(tail -n 1 "$TMP/vnetd.log"))"
	exit 4
fi
"$VNETCTL" dev add name v0 mgmtdev vnet/up0 mac $MAC0 max_vqp 1 >/dev/null ||
	{ echo "SKIP: vnetctl dev add failed"; exit 4; }
# shellcheck disable=SC2086
guest_up G0 v0 "$NS_G" $MAC0 $GUEST_IP ${GUEST_ARGS:-} ||
	{ echo "SKIP: vnet-guest did not come up ($(tail -n 2 "$TMP/G0.err"))"; exit 4; }
in_ns "$NS_WIRE" ping -c 2 -i 0.2 -W 2 $GUEST_IP >/dev/null ||
	{ echo "SKIP: the guest does not answer on the wire"; exit 4; }
in_ns "$NS_A" ping -c 1 -W 2 $B_IP >/dev/null || { echo "SKIP: veth pair down"; exit 4; }
in_ns "$NS_C" ping -c 1 -W 2 $D_IP >/dev/null || { echo "SKIP: XDP veth pair down"; exit 4; }

# CPU seconds (all threads) of a process so far
cpu_s() { awk '{ printf "%.2f\n", ($14 + $15) / 100 }' "/proc/$1/stat"; }

# iperf CLIENT_NS SERVER_NS SERVER_IP STREAMS [PERF_TAG]: "GBITS BYTES
# VNETD_CPU GUEST_CPU"; with PERF_DIR and a tag, a profile of both CPUs
# over the run into PERF_DIR/perf.TAG.data (its cost is in the figures)
iperf()
{
	local cns=$1 sns=$2 ip=$3 p=$4 tag=${5:-} srv c0 c1 g0 g1 out pp=
	in_ns "$sns" iperf3 -s -1 -p 5301 >/dev/null 2>&1 &
	srv=$!
	busywait 5000 __listening "$sns" 5301
	if [ -n "${PERF_DIR:-}" ] && [ -n "$tag" ]; then
		perf record -a -g -q -o "$PERF_DIR/perf.$tag.data" -- sleep "$SECS" \
			>/dev/null 2>&1 &
		pp=$!
	fi
	c0=$(cpu_s "$VNETD_PID")
	g0=$(cpu_s "$G0_PID")
	out=$(in_ns "$cns" timeout $((SECS + 30)) iperf3 -c "$ip" -p 5301 -t "$SECS" \
	      -P "$p" -J 2>/dev/null)
	c1=$(cpu_s "$VNETD_PID")
	g1=$(cpu_s "$G0_PID")
	[ -n "$pp" ] && wait "$pp"
	wait "$srv" 2>/dev/null
	out=$(jq -r --arg c "$(awk -v a="$c0" -v b="$c1" 'BEGIN { print b - a }')" \
	      --arg g "$(awk -v a="$g0" -v b="$g1" 'BEGIN { print b - a }')" \
		'"\(.end.sum_received.bits_per_second / 1e9) \(.end.sum_received.bytes) \($c) \($g) \(.end.sum_sent.retransmits // 0)"' \
		<<<"$out" 2>/dev/null)
	# no report (iperf3 failed): a zero row, not a short one
	[ -n "$out" ] && echo "$out" || echo "0 0 0 0 0"
}

echo "iperf3 TCP, ${SECS}s per run; vnet: wire namespace <-> vnetd (XDP, AF_XDP," \
	"GSO packet socket) <-> vnet-guest's TAP; veth: two namespaces; xveth: the same" \
	"with an XDP_PASS program and GRO on the receiving end (its peer: TSO $(in_ns "$NS_C" \
	ethtool -k vc | awk '/^tcp-segmentation-offload/ { print $2 }'))"
echo "$(grep -o 'uplink datapath: .*' "$TMP/vnetd.log" | head -1)"
echo "vnet-guest: features $(guest_stats G0 | jq -r .features)"
printf '%-5s %-12s %3s %8s %8s %7s %8s %7s %10s %10s %6s\n' round direction P "vnet" "veth" \
	"ratio" "xveth" "ratio" "vnetd" "vnet-guest" "retr"
printf '%-5s %-12s %3s %8s %8s %7s %8s %7s %10s %10s %6s\n' "" "" "" "Gbit/s" "Gbit/s" "" "Gbit/s" "" \
	"CPU-s/GB" "CPU-s/GB" "vnet"
: >"$TMP/rows"
for round in $(seq 1 "$ROUNDS"); do
	for dir in $DIRS; do
		for p in $STREAMS; do
			if [ $dir = guest-wire ]; then
				v=$(iperf "$NS_G" "$NS_WIRE" $WIRE_IP "$p" "g2w.$p.$round")
				w=$(iperf "$NS_A" "$NS_B" $B_IP "$p")
				x=$(iperf "$NS_D" "$NS_C" $C_IP "$p")
			else
				v=$(iperf "$NS_WIRE" "$NS_G" $GUEST_IP "$p" "w2g.$p.$round")
				w=$(iperf "$NS_B" "$NS_A" $A_IP "$p")
				x=$(iperf "$NS_C" "$NS_D" $D_IP "$p")
			fi
			# fields: round dir P, vnet $4-$8, veth $9-$13, xveth $14-$18
			echo "$round $dir $p $v $w $x" >>"$TMP/rows"
			echo "$round $dir $p $v $w $x" | awk '{
				gb = $5 / 1e9
				printf "%-5s %-12s %3s %8.2f %8.2f %6.2fx %8.2f %6.2fx %10.3f %10.3f %6d\n",
				       $1, $2 == "guest-wire" ? "guest->wire" : "wire->guest", $3, $4,
				       $9, $9 ? $4 / $9 : 0, $14, $14 ? $4 / $14 : 0,
				       gb ? $6 / gb : 0, gb ? $7 / gb : 0, $8 }'
		done
	done
done
if [ "$ROUNDS" -gt 1 ]; then
	# each row's best round: vnet, veth and xveth independently
	awk '{ k = $2 " " $3
	       if ($4 > v[k]) { v[k] = $4; gb = $5 / 1e9; c[k] = gb ? $6 / gb : 0; g[k] = gb ? $7 / gb : 0 }
	       if ($9 > w[k]) w[k] = $9
	       if ($14 > x[k]) x[k] = $14 }
	     END { for (k in v) { split(k, a, " ")
		   printf "best  %-12s %3s %8.2f %8.2f %6.2fx %8.2f %6.2fx %10.3f %10.3f\n",
			  a[1] == "guest-wire" ? "guest->wire" : "wire->guest", a[2], v[k], w[k],
			  w[k] ? v[k] / w[k] : 0, x[k], x[k] ? v[k] / x[k] : 0, c[k], g[k] } }' \
		"$TMP/rows" | sort -k2,2 -k3n
fi
echo "v0 receiveq: $("$VNETCTL" -j dev vstats show v0 qidx 0)"
# the veth's own losses (its peer's ring full: the uplink's NAPI behind)
echo "veth drops: wire0 tx $(ip -n "$NS_WIRE" -j -s link show wire0 | jq '.[0].stats64.tx.dropped')," \
	"up0 rx $(ip -n "$NS_HOST" -j -s link show up0 | jq '.[0].stats64.rx.dropped')"
# vnetd logs its GSO totals when the uplink detaches
kill -TERM "$VNETD_PID"
busywait 5000 sh -c "! kill -0 $VNETD_PID 2>/dev/null"
grep -o "GSO sends to the kernel whole.*" "$TMP/vnetd.log" | tail -1
grep -o "kernel GRO path: .*" "$TMP/vnetd.log" | tail -1
exit 0
