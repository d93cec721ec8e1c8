#!/bin/bash
# SPDX-License-Identifier: MIT
# make bench-e2e: the whole receive path, wire -> guest, against peers in
# the same run. Not a test.
#
# Namespace "wire" holds wire0, namespace "host" its veth peer up0 (the
# uplink). vnet-gen (BPF_PROG_RUN live frames, XDP_TX) sends 64 B IPv4/UDP
# frames over FLOWS source ports out of wire0 into up0 for SECS seconds,
# addressed to the device's MAC; three receivers take them, one after
# another, with the same generator arguments:
#
#   vnet     vnetd manages up0 (its XDP program, AF_XDP socket, uplink
#            worker); device v0 on vnet/up0, one queue pair; consumer on
#            the device's vhost-user socket.
#   DPDK     dpdk-testpmd, io forwarding between net_af_xdp (iface=up0,
#            queue 0) and net_vhost; the same consumer on its socket.
#   ceiling  vnet-xsk-recv --drop: vnet's XDP program and vnetd's AF_XDP
#            socket code, count and drop in userspace. What any AF_XDP
#            design can get from this veth (copy mode only).
#
# The consumer is `vnet-guest --sink`: a virtio driver that drains the
# receive queue with used-buffer notifications off, counts, reposts, and
# sleeps on the call eventfd when the ring is empty. Not DPDK's
# net_virtio_user in rxonly mode: it busy-polls a core of its own, and this
# machine has two (a busy-polling consumer next to a busy-polling forwarder
# or the generator measures the scheduler). Not vnet-guest with a TAP: the
# TAP write costs ~1 us per frame and would be the only thing measured.
#
# Pinning (2 CPUs): CPU 0 runs the generator and, in softirq on the same
# CPU, the whole kernel side of the receive (up0's XDP program and the
# AF_XDP copy: veth schedules its peer's NAPI where the frame was sent);
# the consumer sleeps when idle, so it shares CPU 0, and the generator
# runs at nice 19 so that the consumer runs as soon as it is woken (at
# nice 0 both got fair slices and the 256-entry receive ring overflowed
# while the consumer waited for one: 15-25 % lost in the datapath, a
# figure of the scheduler, not of the datapath). CPU 1 is the
# datapath process's: vnetd (whole process), testpmd's forwarding lcore
# (main lcore on CPU 0, it sleeps), vnet-xsk-recv.
#
# Per row: frames the generator sent (program runs that returned
# XDP_TX); frames up0's XDP program got into the AF_XDP socket (veth's
# xdp_redirect counter: what is lost before it, the kernel side on CPU 0
# dropped; after it, the datapath or the consumer); frames the consumer
# counted; its rate (counted / generator seconds); CPU-seconds per
# million counted frames of the datapath process (utime + stime from
# /proc/PID/stat over the generator's run, what getrusage reports) and of
# the consumer; the used-buffer notifications the consumer was woken by,
# per thousand frames (each is an eventfd write on CPU 1 and a wake-up on
# CPU 0). The kernel part on CPU 0 is in no CPU column; it is the same for
# vnet and the ceiling (same XDP program), DPDK's af_xdp PMD loads its
# own, simpler one. Last, idle: the CPU vnetd and testpmd take with the
# consumer connected and no traffic.
#
# PERF_DIR=DIR also records `perf record -a -g` of both CPUs during each
# run into DIR/perf.CONFIG.ROUND.data (the profiler's own cost is in
# that run's figures: quote them from a run without it).
#
# ROUNDS=N repeats the table; SECS=N per run; FLOWS=N; IDLE_SECS=N. The
# summary gives each configuration's best round (other work on the machine
# only ever takes time away) and the ratios of those.
set -u
O=${O:-build}
SECS=${SECS:-10}
ROUNDS=${ROUNDS:-1}
IDLE_SECS=${IDLE_SECS:-5}
FLOWS=${FLOWS:-64}
GEN_CPU=0
DP_CPU=1
MAC=02:00:00:0e:00:02
EAL="--no-huge -m 1024 --no-pci"

O=$(cd "$O" 2>/dev/null && pwd) || { echo "no build directory"; exit 1; }
VNET_BIN=$O/bin
source "$(dirname "$0")/../selftests/lib.sh"

for b in vnetd vnetctl vnet-guest vnet-gen vnet-xsk-recv; do
	[ -x "$VNET_BIN/$b" ] || { echo "build $b first (make BUILD=...)"; exit 1; }
done
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (namespaces, XDP)"; exit 4; }
for c in ip jq taskset; do
	command -v $c >/dev/null || { echo "SKIP: $c not found"; exit 4; }
done
[ "$(nproc)" -ge 2 ] || { echo "SKIP: needs 2 CPUs"; exit 4; }

TMP=$(mktemp -d /tmp/vnet-bench-e2e-XXXXXX)
[ -n "${KEEP:-}" ] || defer rm -rf "$TMP"
setup_ns NS_WIRE NS_HOST || exit 1
veth_pair "$NS_HOST" up0 "$NS_WIRE" wire0 || exit 1
# processes still running at exit (an interrupted run), by pid, before
# the namespaces go: every background start is noted in $TMP/pids
defer __kill_started
__kill_started()
{
	local p
	for p in $(cat "$TMP/pids" 2>/dev/null); do
		kill "$p" 2>/dev/null
	done
}
started() { echo "$1" >>"$TMP/pids"; }

# in_bpf_ns NS CMD... &: CMD in NS with bpffs mounted (libxdp wants it;
# `ip netns exec` remounts /sys). Every step execs, so $! is CMD itself.
in_bpf_ns()
{
	local ns=$1
	shift
	exec ip netns exec "$ns" sh -c \
		'mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf; exec "$@"' sh "$@"
}

# CPU seconds (all threads) of a process so far
cpu_s() { awk '{ printf "%.2f\n", ($14 + $15) / 100 }' "/proc/$1/stat"; }

# gen: run the generator (foreground); prints "SENT SECONDS"
gen()
{
	in_ns "$NS_WIRE" taskset -c $GEN_CPU nice -n 19 "$VNET_BIN/vnet-gen" -i wire0 --dst-mac $MAC \
		-f "$FLOWS" -s "$SECS" -j 2>"$TMP/gen.err" | jq -r '"\(.sent) \(.seconds)"' ||
		echo "0 0"
}

# sink_start SOCKET: the consumer on CPU 0 (with the generator); pid in SINK
sink_start()
{
	: >"$TMP/sink.out"
	taskset -c $GEN_CPU "$VNET_BIN/vnet-guest" --sink --socket "$1" -q 1 -j --wait 10 \
		>>"$TMP/sink.out" 2>"$TMP/sink.err" &
	SINK=$!
	started $SINK
	# SIGUSR1 asks for counters: not before vnet-guest has its handler
	busywait 2000 grep -qx vnet-guest "/proc/$SINK/comm"
	sleep 0.1
}

__sink_up()
{
	local n
	n=$(wc -l <"$TMP/sink.out")
	kill -USR1 "$SINK" 2>/dev/null || return 1
	sleep 0.1
	[ "$(wc -l <"$TMP/sink.out")" -gt "$n" ] &&
		tail -n 1 "$TMP/sink.out" | jq -e '.link_up and .connects > 0' >/dev/null
}

# sink_stop: stop the consumer; prints the frames it counted and the
# used-buffer notifications (call eventfd wake-ups) it took
sink_stop()
{
	kill -TERM "$SINK" 2>/dev/null
	wait "$SINK" 2>/dev/null
	tail -n 1 "$TMP/sink.out" | jq -r '"\([.rx[].packets] | add // 0) \([.rx[].calls] | add // 0)"' \
		2>/dev/null || echo "0 0"
}

# idle_pct PID: CPU percent of PID over IDLE_SECS
idle_pct()
{
	local c0 c1
	c0=$(cpu_s "$1")
	sleep "$IDLE_SECS"
	c1=$(cpu_s "$1")
	awk -v a="$c0" -v b="$c1" -v s="$IDLE_SECS" 'BEGIN { printf "%.1f%%", 100 * (b - a) / s }'
}

# frames up0's XDP program redirected into an AF_XDP socket so far (veth
# counts a redirect that the socket's rx ring refused as a drop instead)
xsk_in() { in_ns "$NS_HOST" ethtool -S up0 | awk '/rx_queue_0_xdp_redirect:/ { print $2 }'; }

# measure DP_PID: generator run; prints "SENT SECONDS DP_CPU SINK_CPU
# IN_XSK"; the consumer's count comes from the caller (sink_stop or the
# drop loop)
measure()
{
	local dp=$1 c0 c1 s0=0 s1=0 x0 x1 sent secs
	if [ -n "${PERF_DIR:-}" ]; then
		# a profile of both CPUs in the middle of the run (not in the table's run)
		(sleep 1; perf record -a -g -q -o "$PERF_DIR/perf.$PERF_TAG.data" \
			-- sleep $((SECS > 3 ? SECS - 2 : 1)) >/dev/null 2>&1) &
	fi
	x0=$(xsk_in)
	c0=$(cpu_s "$dp")
	[ -n "${SINK:-}" ] && s0=$(cpu_s "$SINK")
	read -r sent secs < <(gen)
	sleep 0.3	# what is in the rings reaches the consumer
	c1=$(cpu_s "$dp")
	[ -n "${SINK:-}" ] && s1=$(cpu_s "$SINK")
	x1=$(xsk_in)
	echo "$sent $secs $(awk -v a="$c0" -v b="$c1" 'BEGIN { print b - a }') \
$(awk -v a="$s0" -v b="$s1" 'BEGIN { print b - a }') $((${x1:-0} - ${x0:-0}))"
}

# run_vnet ROUND: prints "SENT SECONDS DP_CPU SINK_CPU IN_XSK RECEIVED
# CALLS" (or SKIP: ...)
run_vnet()
{
	local round=$1 vnetd res got
	export VNET_SOCK=$TMP/run/vnetd.sock
	rm -rf "$TMP/run" "$TMP/state"
	in_bpf_ns "$NS_HOST" taskset -c $DP_CPU "$VNET_BIN/vnetd" -v -u up0 -s "$VNET_SOCK" \
		-d "$TMP/state" -g 0 >"$TMP/vnetd.log" 2>&1 &
	vnetd=$!
	started $vnetd
	if ! busywait 5000 "$VNET_BIN/vnetctl" mgmtdev show vnet/up0 >/dev/null 2>&1 ||
	   ! busywait 2000 grep -q "uplink datapath: XDP" "$TMP/vnetd.log"; then
		kill "$vnetd"; wait "$vnetd" 2>/dev/null
		echo "SKIP: vnetd has no XDP/AF_XDP datapath on up0 ($(tail -n 1 "$TMP/vnetd.log"))"
		return
	fi
	"$VNET_BIN/vnetctl" dev add name v0 mgmtdev vnet/up0 mac $MAC max_vqp 1 >/dev/null || {
		kill "$vnetd"; wait "$vnetd" 2>/dev/null; echo "SKIP: vnetctl dev add failed"; return; }
	sink_start "$TMP/run/v0.sock"
	if ! slowwait 10 __sink_up; then
		kill "$vnetd"; wait "$vnetd" 2>/dev/null; sink_stop >/dev/null
		echo "SKIP: the consumer did not reach the device ($(tail -n 1 "$TMP/sink.err"))"
		return
	fi
	[ "$round" = 1 ] && idle_pct "$vnetd" >"$TMP/idle.vnet"
	res=$(measure "$vnetd")
	got=$(sink_stop)	# "RECEIVED CALLS"
	kill -TERM "$vnetd"; wait "$vnetd" 2>/dev/null
	ip -n "$NS_HOST" link set up0 xdp off 2>/dev/null
	unset SINK
	echo "$res $got"
}

__testpmd_done() { grep -q "forwards packets" "$TMP/testpmd.log" || ! kill -0 "$1" 2>/dev/null; }

run_dpdk()
{
	local round=$1 tp res got
	command -v dpdk-testpmd >/dev/null || { echo "SKIP: dpdk-testpmd not found"; return; }
	rm -f "$TMP/d.sock"
	# main lcore on CPU 0 (sleeps between stats), forwarding lcore on CPU 1
	in_bpf_ns "$NS_HOST" dpdk-testpmd -l 0,1 --main-lcore 0 $EAL --file-prefix=vbe$$ \
		--vdev "net_af_xdp0,iface=up0,start_queue=0,queue_count=1" \
		--vdev "net_vhost0,iface=$TMP/d.sock,queues=1" -- --forward-mode=io \
		--auto-start --stats-period 1 --nb-cores=1 --total-num-mbufs=16384 \
		>"$TMP/testpmd.log" 2>&1 </dev/null &
	tp=$!
	started $tp
	# both ports configured and forwarding started, or testpmd gone
	busywait 20000 __testpmd_done $tp
	if ! kill -0 $tp 2>/dev/null || ! grep -q "forwards packets" "$TMP/testpmd.log"; then
		kill -INT $tp 2>/dev/null; wait $tp 2>/dev/null
		echo "SKIP: testpmd with net_af_xdp + net_vhost did not start" \
			"($(grep -i -m1 "error\|fail\|not found\|no such" "$TMP/testpmd.log"))"
		return
	fi
	sink_start "$TMP/d.sock"
	if ! slowwait 15 __sink_up; then
		kill -INT $tp; wait $tp 2>/dev/null; sink_stop >/dev/null
		echo "SKIP: the consumer did not reach testpmd's net_vhost"
		return
	fi
	sleep 2	# net_vhost brings its link up late (bench-vhost.sh)
	[ "$round" = 1 ] && idle_pct $tp >"$TMP/idle.dpdk"
	res=$(measure $tp)
	got=$(sink_stop)
	kill -INT $tp; wait $tp 2>/dev/null
	ip -n "$NS_HOST" link set up0 xdp off 2>/dev/null
	unset SINK
	echo "$res $got"
}

run_ceiling()
{
	local xr res got
	in_bpf_ns "$NS_HOST" taskset -c $DP_CPU "$VNET_BIN/vnet-xsk-recv" -i up0 --mac $MAC \
		--drop $((SECS + 30)) >"$TMP/xr.out" 2>"$TMP/xr.err" &
	xr=$!
	started $xr
	if ! busywait 5000 grep -q '"ready"' "$TMP/xr.out"; then
		kill $xr 2>/dev/null; wait $xr 2>/dev/null
		echo "SKIP: no AF_XDP socket on up0 ($(tail -n 1 "$TMP/xr.err"))"
		return
	fi
	res=$(measure $xr)
	kill -INT $xr; wait $xr 2>/dev/null
	got=$(grep '"received"' "$TMP/xr.out" | jq .received)
	ip -n "$NS_HOST" link set up0 xdp off 2>/dev/null
	echo "$res ${got:-0} 0"
}

# row ROUND NAME "SENT SECS DPCPU SINKCPU IN_XSK RECEIVED CALLS": print it, keep it
row()
{
	local round=$1 name=$2
	shift 2
	case "$*" in
	SKIP*) printf '%-6s %-8s %s\n' "$round" "$name" "$*"; return;;
	esac
	echo "$round $name $*" >>"$TMP/rows"
	# ceiling: no consumer (the drop loop is both); its column stays "-"
	echo "$*" | awk -v r="$round" -v n="$name" '{
		sent = $1; secs = $2; dp = $3; sk = $4; xsk = $5; got = $6; calls = $7
		printf "%-6s %-8s %8.2f %7.2f %8.2f %8.2f %6.2f%% %7.2f %9.3f %9s %6s\n", r, n,
		       sent / 1e6, secs ? sent / secs / 1e6 : 0, xsk / 1e6, got / 1e6,
		       sent ? 100 * (sent - got) / sent : 0, secs ? got / secs / 1e6 : 0,
		       got ? dp / (got / 1e6) : 0,
		       n == "ceiling" ? "-" : sprintf("%.3f", got ? sk / (got / 1e6) : 0),
		       n == "ceiling" ? "-" : sprintf("%.1f", got ? calls / (got / 1e3) : 0) }'
}

# ratios ROUND|best: vnet/DPDK and vnet/ceiling of the consumer's rate
ratios()
{
	awk -v r="$1" '
		$1 == r || r == "best" {
			rate = $4 ? $8 / $4 : 0
			if (r != "best" || rate > best[$2]) { best[$2] = rate; cpu[$2] = $8 ? $5 / ($8 / 1e6) : 0 }
		}
		END {
			v = best["vnet"]; d = best["dpdk"]; c = best["ceiling"]
			if (r == "best")
				for (n in best)
					printf "best   %-8s %7.2f Mpps at the consumer, %.3f CPU-s/Mpkt (datapath)\n",
					       n, best[n] / 1e6, cpu[n]
			printf "%-6s ratios: vnet/DPDK %s (CPU per packet %s), vnet/ceiling %s\n", r,
			       d ? sprintf("%.2fx", v / d) : "-",
			       cpu["dpdk"] && cpu["vnet"] ? sprintf("%.2fx", cpu["vnet"] / cpu["dpdk"]) : "-",
			       c ? sprintf("%.2fx", v / c) : "-"
		}' "$TMP/rows"
}

echo "64 B IPv4/UDP, $FLOWS flows, ${SECS}s per run; generator + kernel receive + consumer" \
	"on CPU $GEN_CPU, datapath on CPU $DP_CPU; consumer: vnet-guest --sink"
printf '%-6s %-8s %8s %7s %8s %8s %7s %7s %9s %9s %6s\n' round config "sent" "gen" "in XSK" \
	"consumed" "lost" "Mpps" "datapath" "consumer" "calls"
printf '%-6s %-8s %8s %7s %8s %8s %7s %7s %9s %9s %6s\n' "" "" "(M)" "Mpps" "(M)" "(M)" "" "" \
	"CPU-s/Mp" "CPU-s/Mp" "/kpkt"
touch "$TMP/rows"
for round in $(seq 1 "$ROUNDS"); do
	row "$round" vnet "$(PERF_TAG=vnet.$round run_vnet "$round")"
	row "$round" dpdk "$(PERF_TAG=dpdk.$round run_dpdk "$round")"
	row "$round" ceiling "$(PERF_TAG=ceiling.$round run_ceiling)"
	ratios "$round"
done
[ "$ROUNDS" -gt 1 ] && ratios best
printf 'idle (device up, consumer connected, no traffic, %ss): vnetd %s CPU, testpmd %s CPU\n' \
	"$IDLE_SECS" "$(cat "$TMP/idle.vnet" 2>/dev/null || echo -)" \
	"$(cat "$TMP/idle.dpdk" 2>/dev/null || echo -)"
