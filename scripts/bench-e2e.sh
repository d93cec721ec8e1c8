#!/bin/bash
# SPDX-License-Identifier: MIT
# make bench-e2e: the whole receive path, wire -> guest, against peers in
# the same run. Not a test. DIR=tx make bench-e2e: the transmit path,
# guest -> wire, instead (described after the receive direction).
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
#
# UPQ="N ..." (receive direction; default 1): one table per N, the uplink
# with N queues. up0 and wire0 get N rx and N tx queues each, and every
# configuration serves all N of them, a thread per queue: vnetd with N
# uplink workers and device v0 with N queue pairs (the consumer drives
# all of them; vnet's XDP program spreads the flows over them by hash),
# testpmd with net_af_xdp queue_count=N, net_vhost queues=N and N
# forwarding lcores, the drop loop with N sockets and N threads. veth
# puts a frame its peer sent with XDP_TX on the receive queue of the
# sending CPU (smp_processor_id() % queues), whatever its flow: so N
# generators run, generator i on CPU i with source address 10.9.i.1 (its
# own FLOWS flows), and queue i's kernel half runs on CPU i. N is at most
# the CPUs there are. With N = 2 on this 2-CPU machine every CPU runs a
# generator, a queue's kernel half and a datapath thread, and CPU 0 the
# consumer too: the datapath process is not pinned (its threads float
# over both CPUs), and the rates say what the whole machine does, not
# what one more core buys. There DPDK's forwarding lcores busy-poll at
# nice 0 on both CPUs and a generator at nice 19 gets ~1/70 of its CPU:
# GEN_NICE=0 runs the generators at the datapath's priority instead (the
# consumer then waits for its slice, as the 1-queue notes above say).
#
# DIR=tx: the transmit direction, guest -> wire. The guest side is DPDK's
# dpdk-testpmd on net_virtio_user (queues=1, mac= the device's, so vnetd's
# spoof check passes), --forward-mode=txonly --txpkts 64: an independent
# driver that puts 64 B IPv4/UDP frames into the transmit queue as fast as
# the ring takes them. The frames leave through up0 and are counted on
# wire0 by `vnet-gen --count` (an XDP program that counts per CPU and
# drops, before the stack; veth copies each skb into a page to run it,
# the same cost in every configuration). One after another, same
# generator arguments:
#
#   vnet     vnetd manages up0; device v0 on vnet/up0, one queue pair; the
#            generator on the device's socket; vnetd moves the frames to
#            the AF_XDP tx ring of up0.
#   DPDK     dpdk-testpmd, io forwarding net_vhost -> net_af_xdp (iface=up0,
#            queue 0); the same generator on net_vhost's socket.
#   ceiling  vnet-xsk-recv --tx: vnetd's AF_XDP socket code (daemon/uplink/xsk.c)
#            transmitting one pre-written 64 B frame in bursts of 64 on up0
#            (copy mode), no generator: the best any AF_XDP design gets
#            out of this veth.
#
# Pinning (2 CPUs): the generator busy-polls, so it owns CPU 0 (its
# forwarding lcore; its main lcore sleeps on CPU 1). CPU 1 is the
# datapath's (vnetd, testpmd's forwarding lcore with its main lcore on CPU
# 0, the tx loop), and with it the whole kernel side of the transmit:
# copy-mode AF_XDP sends in the sendto of the sending process, veth_xmit
# schedules wire0's NAPI on that CPU, so wire0's XDP counter runs there
# too (in every configuration alike).
#
# Per row: frames the generator put into the ring (testpmd's TX-packets;
# the ceiling: frames queued on the tx ring) and frames counted on wire0,
# both over the generator's whole life; lost = the difference. Then, over a
# SECS window that starts once frames reach wire0 (net_vhost's link comes
# up seconds late) plus one second: the rate on wire0, the datapath
# process's CPU-seconds per million frames on wire0 (utime + stime from
# /proc/PID/stat) and its CPU use in percent. No idle line in this
# direction: txonly sends from the first moment. KEEP=1 keeps the
# temporary directory (logs; vnetd's transmit queue stats).
set -u
O=${O:-build}
SECS=${SECS:-10}
ROUNDS=${ROUNDS:-1}
IDLE_SECS=${IDLE_SECS:-5}
FLOWS=${FLOWS:-64}
DIR=${DIR:-rx}
UPQ=${UPQ:-1}
GEN_NICE=${GEN_NICE:-19}
GEN_CPU=0
DP_CPU=1
NQ=1		# uplink queues of the table being measured (UPQ)
GEN_CPUS=0	# the generators' CPUs, one per queue
DP_CPUS=1	# the datapath process's CPUs
SINK_CPUS=0	# the consumer's
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
case "$DIR" in
rx|tx) ;;
*) echo "DIR=rx (wire -> guest, the default) or DIR=tx (guest -> wire), not '$DIR'"; exit 1;;
esac
for q in $UPQ; do
	# a generator per queue, each on its own CPU (veth picks the queue by it)
	case "$q" in
	''|*[!0-9]*) q=0;;
	esac
	if [ "$q" -lt 1 ] || [ "$q" -gt "$(nproc)" ]; then
		echo "UPQ: uplink queue counts from 1 to $(nproc) (the CPUs), not '$UPQ'"
		exit 1
	fi
done
[ "$DIR" = tx ] && [ "$UPQ" != 1 ] && { echo "UPQ is for the receive direction (DIR=rx)"; exit 1; }

TMP=$(mktemp -d /tmp/vnet-bench-e2e-XXXXXX)
[ -n "${KEEP:-}" ] || defer rm -rf "$TMP"
setup_ns NS_WIRE NS_HOST || exit 1
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

# set_queues N: the uplink (up0, wire0) with N queues each, and the CPUs
# of everything that runs for it (UPQ)
set_queues()
{
	NQ=$1
	ip -n "$NS_HOST" link del up0 2>/dev/null
	veth_pair "$NS_HOST" up0 "$NS_WIRE" wire0 "$NQ" || exit 1
	# only the generators' frames on up0: not the host's IPv6 (RS, MLD)
	ip netns exec "$NS_WIRE" sysctl -qw net.ipv6.conf.wire0.disable_ipv6=1 2>/dev/null
	GEN_CPUS=$(seq -s ' ' 0 $((NQ - 1)))
	if [ "$NQ" = 1 ]; then
		DP_CPUS=$DP_CPU
		SINK_CPUS=$GEN_CPU
	else
		DP_CPUS=0-$((NQ - 1))
		SINK_CPUS=0-$((NQ - 1))
	fi
}

# gen1 CPU: one generator on CPU, source address 10.9.CPU.1; its JSON line
gen1()
{
	in_ns "$NS_WIRE" taskset -c "$1" nice -n "$GEN_NICE" "$VNET_BIN/vnet-gen" -i wire0 --dst-mac $MAC \
		--src-ip "10.9.$1.1" -f "$FLOWS" -s "$SECS" -j 2>"$TMP/gen.$1.err"
}

# gen: run the generators, one per uplink queue (foreground); prints "SENT
# SECONDS" (their sum, the longest)
gen()
{
	local c
	for c in $GEN_CPUS; do
		gen1 "$c" >"$TMP/gen.$c.out" &
	done
	wait
	for c in $GEN_CPUS; do
		cat "$TMP/gen.$c.out"
	done | jq -rs 'if length > 0 then "\(map(.sent) | add) \(map(.seconds) | max)"
		       else "0 0" end' 2>/dev/null || echo "0 0"
}

# sink_start SOCKET...: the consumer, a vnet-guest per socket driving NQ /
# (sockets) queue pairs each, on CPU 0 with the generator (UPQ > 1: any
# CPU); pids in SINK
sink_start()
{
	local i=0 sock pid
	SINK=
	for sock in "$@"; do
		: >"$TMP/sink.$i.out"
		taskset -c "$SINK_CPUS" "$VNET_BIN/vnet-guest" --sink --socket "$sock" \
			-q $((NQ / $#)) -j --wait 10 >>"$TMP/sink.$i.out" 2>"$TMP/sink.$i.err" &
		pid=$!
		started $pid
		SINK="$SINK $pid"
		i=$((i + 1))
	done
	# SIGUSR1 asks for counters: not before vnet-guest has its handler
	for pid in $SINK; do
		busywait 2000 grep -qx vnet-guest "/proc/$pid/comm"
	done
	sleep 0.1
}

__sink_up()
{
	local i=0 n pid
	for pid in $SINK; do
		n=$(wc -l <"$TMP/sink.$i.out")
		kill -USR1 "$pid" 2>/dev/null || return 1
		sleep 0.1
		[ "$(wc -l <"$TMP/sink.$i.out")" -gt "$n" ] &&
			tail -n 1 "$TMP/sink.$i.out" | jq -e '.link_up and .connects > 0' >/dev/null ||
			return 1
		i=$((i + 1))
	done
}

# sink_stop: stop the consumer; SINK_GOT = the frames it counted and the
# used-buffer notifications (call eventfd wake-ups) it took. Not for $( ):
# `wait` in a subshell returns at once (not its child), and the last line
# read would be the one before the consumer's final count.
sink_stop()
{
	local i=0 pid
	for pid in $SINK; do
		kill -TERM "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
	done
	SINK_GOT=$(for pid in $SINK; do tail -n 1 "$TMP/sink.$i.out"; i=$((i + 1)); done |
		jq -rs '"\([.[].rx[].packets] | add // 0) \([.[].rx[].calls] | add // 0)"' \
		2>/dev/null)
	SINK_GOT=${SINK_GOT:-0 0}
}

# sinks_cpu: CPU seconds of the consumer's processes so far
sinks_cpu()
{
	local pid
	for pid in $SINK; do
		cpu_s "$pid"
	done | awk '{ s += $1 } END { print s + 0 }'
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

# frames up0's XDP program redirected into an AF_XDP socket so far, all
# queues (veth counts a redirect that the socket's rx ring refused as a
# drop instead)
xsk_in()
{
	in_ns "$NS_HOST" ethtool -S up0 |
		awk '/rx_queue_[0-9]+_xdp_redirect:/ { s += $2 } END { print s + 0 }'
}

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
	[ -n "${SINK:-}" ] && s0=$(sinks_cpu)
	read -r sent secs < <(gen)
	sleep 0.3	# what is in the rings reaches the consumer
	c1=$(cpu_s "$dp")
	[ -n "${SINK:-}" ] && s1=$(sinks_cpu)
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
	in_bpf_ns "$NS_HOST" taskset -c "$DP_CPUS" "$VNET_BIN/vnetd" -v -u up0 -s "$VNET_SOCK" \
		-d "$TMP/state" -g 0 -w "$NQ" >"$TMP/vnetd.log" 2>&1 &
	vnetd=$!
	started $vnetd
	if ! busywait 5000 "$VNET_BIN/vnetctl" mgmtdev show vnet/up0 >/dev/null 2>&1 ||
	   ! busywait 2000 grep -q "uplink datapath: XDP" "$TMP/vnetd.log"; then
		kill "$vnetd"; wait "$vnetd" 2>/dev/null
		echo "SKIP: vnetd has no XDP/AF_XDP datapath on up0 ($(tail -n 1 "$TMP/vnetd.log"))"
		return
	fi
	"$VNET_BIN/vnetctl" dev add name v0 mgmtdev vnet/up0 mac $MAC max_vqp "$NQ" >/dev/null || {
		kill "$vnetd"; wait "$vnetd" 2>/dev/null; echo "SKIP: vnetctl dev add failed"; return; }
	sink_start "$TMP/run/v0.sock"
	if ! slowwait 10 __sink_up; then
		kill "$vnetd"; wait "$vnetd" 2>/dev/null; sink_stop >/dev/null
		echo "SKIP: the consumer did not reach the device ($(tail -n 1 "$TMP/sink.err"))"
		return
	fi
	[ "$round" = 1 ] && idle_pct "$vnetd" >"$TMP/idle.vnet"
	res=$(measure "$vnetd")
	# where the frames went: per uplink queue and worker, the drops
	"$VNET_BIN/vnetctl" -j mgmtdev show vnet/up0 >"$TMP/mgmtdev.$PERF_TAG" 2>&1
	sink_stop
	got=$SINK_GOT	# "RECEIVED CALLS"
	kill -TERM "$vnetd"; wait "$vnetd" 2>/dev/null
	ip -n "$NS_HOST" link set up0 xdp off 2>/dev/null
	unset SINK
	echo "$res $got"
}

__testpmd_done() { grep -q "forwards packets" "$TMP/testpmd.log" || ! kill -0 "$1" 2>/dev/null; }

# testpmd's lcores (DPDK --lcores): the main one on CPU 0 (it sleeps
# between stats), forwarding lcore k (1..NQ) on CPU k mod the CPUs there
# are (NQ = 1: CPU 1, the datapath's)
#
# NQ > 1: DPDK 22.11's net_af_xdp takes its queue count from the
# interface's combined channels (ETHTOOL_GCHANNELS), which veth does not
# report: one queue per port, whatever queue_count says. And testpmd
# forwards port to port with the same queue count on each, so it cannot
# join NQ one-queue ports into one NQ-queue net_vhost. So: a pair of
# ports per uplink queue, net_af_xdp (start_queue=i) <-> net_vhost with
# one queue pair (testpmd's paired topology: ports 2i and 2i+1), NQ
# forwarding lcores, and the consumer a vnet-guest per net_vhost socket:
# the same NQ uplink queues, NQ forwarding threads and NQ receive queues
# as vnet, the queues in NQ vhost-user devices instead of one.
dpdk_vdevs()
{
	local i
	if [ "$NQ" = 1 ]; then
		echo "--vdev net_af_xdp0,iface=up0,start_queue=0,queue_count=1"
		echo "--vdev net_vhost0,iface=$TMP/d.sock,queues=1"
		return
	fi
	for i in $(seq 0 $((NQ - 1))); do
		echo "--vdev net_af_xdp$i,iface=up0,start_queue=$i,queue_count=1"
		echo "--vdev net_vhost$i,iface=$TMP/d$i.sock,queues=1"
	done
}

dpdk_socks()
{
	local i
	if [ "$NQ" = 1 ]; then
		echo "$TMP/d.sock"
	else
		for i in $(seq 0 $((NQ - 1))); do
			echo "$TMP/d$i.sock"
		done
	fi
}

dpdk_lcores()
{
	local k l=0@0
	for k in $(seq 1 "$NQ"); do
		l=$l,$k@$((k % $(nproc)))
	done
	echo "$l"
}

run_dpdk()
{
	local round=$1 tp res got
	command -v dpdk-testpmd >/dev/null || { echo "SKIP: dpdk-testpmd not found"; return; }
	rm -f $(dpdk_socks)
	: >"$TMP/testpmd.log"
	# shellcheck disable=SC2046 # the vdev arguments are words by design
	in_bpf_ns "$NS_HOST" dpdk-testpmd --lcores "$(dpdk_lcores)" --main-lcore 0 $EAL \
		--file-prefix=vbe$$ $(dpdk_vdevs) -- --forward-mode=io \
		--auto-start --stats-period 1 --nb-cores="$NQ" \
		--total-num-mbufs=$((16384 * NQ)) \
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
	# shellcheck disable=SC2046 # one path a line, no spaces (mktemp)
	sink_start $(dpdk_socks)
	if ! slowwait 15 __sink_up; then
		kill -INT $tp; wait $tp 2>/dev/null; sink_stop >/dev/null
		echo "SKIP: the consumer did not reach testpmd's net_vhost"
		return
	fi
	sleep 2	# net_vhost brings its link up late (bench-vhost.sh)
	[ "$round" = 1 ] && idle_pct $tp >"$TMP/idle.dpdk"
	res=$(measure $tp)
	sink_stop
	got=$SINK_GOT
	kill -INT $tp; wait $tp 2>/dev/null
	ip -n "$NS_HOST" link set up0 xdp off 2>/dev/null
	unset SINK
	echo "$res $got"
}

run_ceiling()
{
	local xr res got
	in_bpf_ns "$NS_HOST" taskset -c "$DP_CPUS" "$VNET_BIN/vnet-xsk-recv" -i up0 --mac $MAC \
		--drop $((SECS + 30)) --queues "$NQ" >"$TMP/xr.out" 2>"$TMP/xr.err" &
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
	awk -v r="$1" -v q="$NQ" '
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
			printf "%-6s ratios%s: vnet/DPDK %s (CPU per packet %s), vnet/ceiling %s\n", r,
			       (q > 1 ? sprintf(" (%d uplink queues)", q) : ""),
			       d ? sprintf("%.2fx", v / d) : "-",
			       cpu["dpdk"] && cpu["vnet"] ? sprintf("%.2fx", cpu["vnet"] / cpu["dpdk"]) : "-",
			       c ? sprintf("%.2fx", v / c) : "-"
		}' "$TMP/rows"
}

# --- the transmit direction (DIR=tx) ----------------------------------------

TX_MAC=$MAC	# the device's MAC: the generator's source MAC (spoof check)

# count_start: the counter on wire0, for the whole run; pid in COUNTER
count_start()
{
	: >"$TMP/count.out"
	ip netns exec "$NS_WIRE" "$VNET_BIN/vnet-gen" -i wire0 --count \
		>"$TMP/count.out" 2>"$TMP/count.err" &
	COUNTER=$!
	started $COUNTER
	busywait 5000 grep -q '"ready"' "$TMP/count.out"
}

__count_newer() { [ "$(wc -l <"$TMP/count.out")" -gt "$1" ]; }

# wire_count: prints "FRAMES NS" (frames counted on wire0 so far, when)
wire_count()
{
	local n
	n=$(wc -l <"$TMP/count.out")
	kill -USR1 "$COUNTER" 2>/dev/null && busywait 2000 __count_newer "$n" &&
		tail -n 1 "$TMP/count.out" | jq -r '"\(.counted) \(.ns)"' && return
	echo "0 0"
}

__wire_moving()
{
	local a b
	read -r a _ < <(wire_count)
	sleep 0.2
	read -r b _ < <(wire_count)
	[ "$b" -gt "$a" ]
}

# txgen_start SOCKET: DPDK's virtio-user driver in txonly mode on SOCKET,
# forwarding lcore on CPU 0 (it busy-polls), main lcore on CPU 1 (sleeps
# between stats); pid in TXGEN
txgen_start()
{
	dpdk-testpmd -l $GEN_CPU,$DP_CPU --main-lcore $DP_CPU $EAL --file-prefix=vbg$$ \
		--vdev "net_virtio_user0,path=$1,queues=1,mac=$TX_MAC" -- \
		--forward-mode=txonly --txpkts 64 --auto-start --stats-period 1 \
		--nb-cores=1 --total-num-mbufs=16384 >"$TMP/txgen.log" 2>&1 </dev/null &
	TXGEN=$!
	started $TXGEN
}

# txgen_stop: stop the generator; TXGEN_SENT = the frames it put into the
# ring (testpmd's totals at exit). Not for $( ), as sink_stop.
txgen_stop()
{
	kill -INT "$TXGEN" 2>/dev/null
	wait "$TXGEN" 2>/dev/null
	TXGEN_SENT=$(sed -n '/Accumulated forward statistics/,/+++++/p' "$TMP/txgen.log" |
		grep -o "TX-packets: *[0-9]*" | grep -o '[0-9]*$' | head -1)
	TXGEN_SENT=${TXGEN_SENT:-0}
}

# tx_measure DP_PID: once frames reach wire0 (or SKIP), one second more,
# then a SECS window; prints "WIN_FRAMES WIN_SECONDS DP_CPU" or "none"
tx_measure()
{
	local dp=$1 w0 t0 w1 t1 c0 c1 pp=
	slowwait 20 __wire_moving || { echo none; return; }
	sleep 1
	if [ -n "${PERF_DIR:-}" ]; then
		# a profile of both CPUs over the window (its cost is in the figures)
		perf record -a -g -q -o "$PERF_DIR/perf.$PERF_TAG.data" -- sleep "$SECS" \
			>/dev/null 2>&1 &
		pp=$!
	fi
	c0=$(cpu_s "$dp")
	read -r w0 t0 < <(wire_count)
	sleep "$SECS"
	c1=$(cpu_s "$dp")
	read -r w1 t1 < <(wire_count)
	[ -n "$pp" ] && wait "$pp"
	echo "$((w1 - w0)) $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", (b - a) / 1e9 }') \
$(awk -v a="$c0" -v b="$c1" 'BEGIN { print b - a }')"
}

# tx_finish W_START SENT WINDOW: prints the row's fields once the rings
# are drained: "SENT ON_WIRE WIN_FRAMES WIN_SECONDS DP_CPU"
tx_finish()
{
	local w
	sleep 0.3
	read -r w _ < <(wire_count)
	echo "$2 $((w - $1)) $3"
}

run_vnet_tx()
{
	local vnetd w res sent
	command -v dpdk-testpmd >/dev/null || { echo "SKIP: dpdk-testpmd (the generator) not found"; return; }
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
	read -r w _ < <(wire_count)
	txgen_start "$TMP/run/v0.sock"
	res=$(tx_measure "$vnetd")
	# the queue's counters while the driver is still there
	"$VNET_BIN/vnetctl" -j dev vstats show v0 qidx 1 >"$TMP/vstats.$PERF_TAG" 2>&1
	txgen_stop
	sent=$TXGEN_SENT
	if [ "$res" = none ]; then
		kill "$vnetd"; wait "$vnetd" 2>/dev/null
		echo "SKIP: no frames from testpmd (net_virtio_user txonly) via vnetd on wire0" \
			"($(grep -i -m1 "error\|fail\|not found\|no such" "$TMP/txgen.log"))"
		return
	fi
	res=$(tx_finish "$w" "$sent" "$res")
	kill -TERM "$vnetd"; wait "$vnetd" 2>/dev/null
	ip -n "$NS_HOST" link set up0 xdp off 2>/dev/null
	echo "$res"
}

run_dpdk_tx()
{
	local tp w res sent
	command -v dpdk-testpmd >/dev/null || { echo "SKIP: dpdk-testpmd not found"; return; }
	rm -f "$TMP/d.sock"
	# main lcore on CPU 0 (sleeps between stats), forwarding lcore on CPU 1
	in_bpf_ns "$NS_HOST" dpdk-testpmd -l $GEN_CPU,$DP_CPU --main-lcore $GEN_CPU $EAL \
		--file-prefix=vbe$$ \
		--vdev "net_af_xdp0,iface=up0,start_queue=0,queue_count=1" \
		--vdev "net_vhost0,iface=$TMP/d.sock,queues=1" -- --forward-mode=io \
		--auto-start --stats-period 1 --nb-cores=1 --total-num-mbufs=16384 \
		>"$TMP/testpmd.log" 2>&1 </dev/null &
	tp=$!
	started $tp
	busywait 20000 __testpmd_done $tp
	if ! kill -0 $tp 2>/dev/null || ! grep -q "forwards packets" "$TMP/testpmd.log"; then
		kill -INT $tp 2>/dev/null; wait $tp 2>/dev/null
		echo "SKIP: testpmd with net_vhost + net_af_xdp did not start" \
			"($(grep -i -m1 "error\|fail\|not found\|no such" "$TMP/testpmd.log"))"
		return
	fi
	read -r w _ < <(wire_count)
	txgen_start "$TMP/d.sock"
	res=$(tx_measure $tp)
	txgen_stop
	sent=$TXGEN_SENT
	if [ "$res" = none ]; then
		kill -INT $tp; wait $tp 2>/dev/null
		echo "SKIP: no frames from testpmd (net_virtio_user txonly) via net_vhost on wire0" \
			"($(grep -i -m1 "error\|fail\|not found\|no such" "$TMP/txgen.log"))"
		return
	fi
	res=$(tx_finish "$w" "$sent" "$res")
	kill -INT $tp; wait $tp 2>/dev/null
	ip -n "$NS_HOST" link set up0 xdp off 2>/dev/null
	echo "$res"
}

run_ceiling_tx()
{
	local xr w res sent
	read -r w _ < <(wire_count)
	in_bpf_ns "$NS_HOST" taskset -c $DP_CPU "$VNET_BIN/vnet-xsk-recv" -i up0 --mac $MAC \
		--tx $((SECS + 30)) >"$TMP/xt.out" 2>"$TMP/xt.err" &
	xr=$!
	started $xr
	if ! busywait 5000 grep -q '"ready"' "$TMP/xt.out"; then
		kill $xr 2>/dev/null; wait $xr 2>/dev/null
		echo "SKIP: no AF_XDP socket on up0 ($(tail -n 1 "$TMP/xt.err"))"
		return
	fi
	res=$(tx_measure $xr)
	kill -INT $xr; wait $xr 2>/dev/null
	if [ "$res" = none ]; then
		echo "SKIP: the AF_XDP tx loop got no frame to wire0 ($(tail -n 1 "$TMP/xt.err"))"
		return
	fi
	sent=$(grep '"sent"' "$TMP/xt.out" | jq .sent)
	res=$(tx_finish "$w" "${sent:-0}" "$res")
	ip -n "$NS_HOST" link set up0 xdp off 2>/dev/null
	echo "$res"
}

# row_tx ROUND NAME "SENT ON_WIRE WIN_FRAMES WIN_SECONDS DP_CPU": print it, keep it
row_tx()
{
	local round=$1 name=$2
	shift 2
	case "$*" in
	SKIP*) printf '%-6s %-8s %s\n' "$round" "$name" "$*"; return;;
	esac
	echo "$round $name $*" >>"$TMP/rows"
	echo "$*" | awk -v r="$round" -v n="$name" '{
		sent = $1; wire = $2; win = $3; secs = $4; dp = $5
		printf "%-6s %-8s %8.2f %8.2f %6.2f%% %7.2f %9.3f %6.0f%%\n", r, n,
		       sent / 1e6, wire / 1e6, sent ? 100 * (sent - wire) / sent : 0,
		       secs ? win / secs / 1e6 : 0, win ? dp / (win / 1e6) : 0,
		       secs ? 100 * dp / secs : 0 }'
}

# ratios_tx ROUND|best: vnet/DPDK and vnet/ceiling of the rate on wire0
ratios_tx()
{
	awk -v r="$1" '
		$1 == r || r == "best" {
			rate = $6 ? $5 / $6 : 0
			if (r != "best" || rate > best[$2]) { best[$2] = rate; cpu[$2] = $5 ? $7 / ($5 / 1e6) : 0 }
		}
		END {
			v = best["vnet"]; d = best["dpdk"]; c = best["ceiling"]
			if (r == "best")
				for (n in best)
					printf "best   %-8s %7.2f Mpps on wire0, %.3f CPU-s/Mpkt (datapath)\n",
					       n, best[n] / 1e6, cpu[n]
			printf "%-6s ratios: vnet/DPDK %s (CPU per packet %s), vnet/ceiling %s\n", r,
			       v && d ? sprintf("%.2fx", v / d) : "-",
			       cpu["dpdk"] && cpu["vnet"] ? sprintf("%.2fx", cpu["vnet"] / cpu["dpdk"]) : "-",
			       v && c ? sprintf("%.2fx", v / c) : "-"
		}' "$TMP/rows"
}

main_tx()
{
	local round
	count_start || { echo "SKIP: no XDP counter on wire0 ($(tail -n 1 "$TMP/count.err"))"; exit 4; }
	# only the datapaths' frames on wire0: not the host's IPv6 on up0 (RS, MLD)
	ip netns exec "$NS_HOST" sysctl -qw net.ipv6.conf.up0.disable_ipv6=1 2>/dev/null
	echo "transmit, guest -> wire: 64 B IPv4/UDP (testpmd txonly on net_virtio_user)," \
		"${SECS}s per window; generator on CPU $GEN_CPU, datapath + kernel transmit +" \
		"wire0's XDP counter on CPU $DP_CPU"
	printf '%-6s %-8s %8s %8s %7s %7s %9s %7s\n' round config "sent" "on wire" "lost" \
		"Mpps" "datapath" "dp CPU"
	printf '%-6s %-8s %8s %8s %7s %7s %9s %7s\n' "" "" "(M)" "(M)" "" "on wire" \
		"CPU-s/Mp" ""
	touch "$TMP/rows"
	for round in $(seq 1 "$ROUNDS"); do
		row_tx "$round" vnet "$(PERF_TAG=vnet-tx.$round run_vnet_tx)"
		row_tx "$round" dpdk "$(PERF_TAG=dpdk-tx.$round run_dpdk_tx)"
		row_tx "$round" ceiling "$(PERF_TAG=ceiling-tx.$round run_ceiling_tx)"
		ratios_tx "$round"
	done
	[ "$ROUNDS" -gt 1 ] && ratios_tx best
	if [ -n "${KEEP:-}" ]; then
		echo "kept: $TMP (vnetd's transmit queue stats in vstats.*)"
	fi
}

if [ "$DIR" = tx ]; then
	set_queues 1
	main_tx
	exit 0
fi

# the receive direction, one table per uplink queue count of UPQ
for NQ in $UPQ; do
	set_queues "$NQ"
	if [ "$NQ" = 1 ]; then
		echo "64 B IPv4/UDP, $FLOWS flows, ${SECS}s per run; generator + kernel receive +" \
			"consumer on CPU $GEN_CPU, datapath on CPU $DP_CPU; consumer: vnet-guest --sink;" \
			"1 uplink queue"
	else
		echo "64 B IPv4/UDP, $FLOWS flows per generator, ${SECS}s per run; $NQ uplink queues:" \
			"generator i and queue i's kernel receive on CPU i, datapath ($NQ threads)" \
			"and consumer ($NQ queue pairs) on CPUs $DP_CPUS"
	fi
	printf '%-6s %-8s %8s %7s %8s %8s %7s %7s %9s %9s %6s\n' round config "sent" "gen" \
		"in XSK" "consumed" "lost" "Mpps" "datapath" "consumer" "calls"
	printf '%-6s %-8s %8s %7s %8s %8s %7s %7s %9s %9s %6s\n' "" "" "(M)" "Mpps" "(M)" "(M)" \
		"" "" "CPU-s/Mp" "CPU-s/Mp" "/kpkt"
	: >"$TMP/rows"
	rm -f "$TMP/idle.vnet" "$TMP/idle.dpdk"
	for round in $(seq 1 "$ROUNDS"); do
		row "$round" vnet "$(PERF_TAG=vnet.q$NQ.$round run_vnet "$round")"
		row "$round" dpdk "$(PERF_TAG=dpdk.q$NQ.$round run_dpdk "$round")"
		row "$round" ceiling "$(PERF_TAG=ceiling.q$NQ.$round run_ceiling)"
		ratios "$round"
	done
	[ "$ROUNDS" -gt 1 ] && ratios best
	printf 'idle (device up, consumer connected, no traffic, %ss): vnetd %s CPU, testpmd %s CPU\n' \
		"$IDLE_SECS" "$(cat "$TMP/idle.vnet" 2>/dev/null || echo -)" \
		"$(cat "$TMP/idle.dpdk" 2>/dev/null || echo -)"
done
[ -n "${KEEP:-}" ] && echo "kept: $TMP (per run: the uplink's queues and drops in mgmtdev.*)"
exit 0
