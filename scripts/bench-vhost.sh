#!/bin/bash
# SPDX-License-Identifier: MIT
# make bench-vhost: vnet (vnet-sim) as the vhost-user back-end of DPDK's
# virtio-user, against DPDK's own net_vhost back-end with the same driver, in
# the same run. 64 B frames; txonly (driver sends, back-end drops) and rxonly
# (back-end generates, driver receives), on split rings and on packed ones
# (virtio-user's packed_vq=1; RINGS="split packed" by default). The back-end
# runs on CPU 0, the driver's forwarding lcore on CPU 1 (main lcores sleep).
# Not a test.
#
# Per row: the driver's rate (mean of its per-second rates once traffic
# flows), and CPU-seconds per million packets of each back-end process
# (/proc/PID/stat utime + stime over the whole run, divided by the packets
# the driver counted at exit). DPDK's back-end busy-polls all the time, so
# its figure includes the seconds before the link comes up. Last, "idle":
# the CPU each back-end burns with a connected driver that moves nothing
# (testpmd rxonly against a back-end that sends nothing: vnet-sim in sink
# mode without --gen, DPDK's back-end in rxonly).
#
# ROUNDS=N repeats the whole table (these machines are noisy); SECS=N per run
# (>= 10: DPDK's back-end brings its link up seconds late). The summary
# gives each back-end's best round per mode: other processes on the machine
# can only take time from the pollers, so the best round is the least
# disturbed one; the "others" column shows how disturbed each run was.
set -u
O=${O:-build}
SECS=${SECS:-12}
ROUNDS=${ROUNDS:-1}
RINGS=${RINGS:-split packed}
RING=split
IDLE_SECS=${IDLE_SECS:-5}
TMP=$(mktemp -d /tmp/vnet-bench-XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$TMP"' EXIT
EAL="--no-huge -m 1024 --no-pci"

# busy jiffies of all CPUs (user nice system irq softirq steal... minus idle, iowait)
cpus_busy() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; }

# front MODE [SECS]: virtio-user on $TMP/s.sock, fwd lcore 1, the ring
# layout $RING; prints "RATE TOTAL" (pps, packets counted at exit); leaves
# the driver's CPU seconds in $TMP/front.cpu
front()
{
	local secs=${2:-$SECS} tp packed=
	[ "$RING" = packed ] && packed=,packed_vq=1
	dpdk-testpmd -l 0,1 --main-lcore 0 $EAL --file-prefix=vbf$$ \
		--vdev "net_virtio_user0,path=$TMP/s.sock,queues=1$packed" -- --forward-mode="$1" \
		--auto-start --stats-period 1 --nb-cores=1 --total-num-mbufs=16384 \
		>"$TMP/front.log" 2>&1 </dev/null &
	tp=$!
	sleep "$secs"
	cpu_s $tp >"$TMP/front.cpu"
	kill -INT $tp
	wait $tp
	# mean of the per-second rates once traffic runs (the link of DPDK's
	# vhost back-end comes up seconds late): skip the zeros and one more
	local key=Rx-pps tot=RX
	[ "$1" = txonly ] && key=Tx-pps tot=TX
	local rate total
	rate=$(grep -o "$key: *[0-9]*" "$TMP/front.log" | grep -o '[0-9]*$' |
		awk '$1 > 0 && !on { on = 1; next } on && $1 > 0 { s += $1; n++ }
		     END { printf "%d\n", n ? s / n : 0 }')
	total=$(sed -n '/Accumulated forward statistics/,/+++++/p' "$TMP/front.log" |
		grep -o "$tot-packets: *[0-9]*" | grep -o '[0-9]*$' | head -1)
	echo "$rate ${total:-0}"
}

# CPU seconds (all threads) of a process so far
cpu_s() { awk '{ printf "%.2f\n", ($14 + $15) / 100 }' "/proc/$1/stat"; }

# others BUSY0 BUSY1 BACK_CPU_DELTA: CPU-seconds per second that neither the
# back-end nor the driver used (other processes on this shared machine:
# their CPU time is taken from the two pollers, so the run is disturbed)
others()
{
	awk -v a="$1" -v b="$2" -v c="$3" -v f="$(cat "$TMP/front.cpu")" -v s="$SECS" \
		'BEGIN { o = ((b - a) / 100 - c - f) / s; printf "%.2f", o < 0 ? 0 : o }'
}

# per_mpkt CPU0 CPU1 TOTAL
per_mpkt()
{
	awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN { printf "%.3f", (t > 0 ? (b - a) / (t / 1e6) : 0) }'
}

start_sock_wait()
{
	while [ ! -S "$TMP/s.sock" ]; do sleep 0.05; done
}

# idle_cpu PID: CPU percent of PID over IDLE_SECS with an idle driver
idle_cpu()
{
	local pid=$1 fpid c0 c1
	front rxonly $((IDLE_SECS + 3)) >/dev/null &
	fpid=$!
	sleep 2
	c0=$(cpu_s "$pid")
	sleep "$IDLE_SECS"
	c1=$(cpu_s "$pid")
	wait $fpid
	awk -v a="$c0" -v b="$c1" -v s="$IDLE_SECS" 'BEGIN { printf "%.1f%%\n", 100 * (b - a) / s }'
}

# run_vnet MODE|idle: prints "RATE CPU/MPKT" (idle: "CPU-percent")
run_vnet()
{
	local mode=$1 args=(--mode sink) c0 c1 b0 b1 rate total
	[ "$mode" = rxonly ] && args+=(--gen)
	rm -f "$TMP/s.sock"
	"$O/bin/vnet-sim" --socket "$TMP/s.sock" --cpu 0 "${args[@]}" 2>/dev/null &
	local pid=$!
	start_sock_wait
	if [ "$mode" = idle ]; then
		idle_cpu $pid
		kill $pid; wait $pid 2>/dev/null
		return
	fi
	b0=$(cpus_busy)
	c0=$(cpu_s $pid)
	read -r rate total < <(front "$mode")
	c1=$(cpu_s $pid)
	b1=$(cpus_busy)
	kill $pid; wait $pid 2>/dev/null
	echo "$rate $(per_mpkt "$c0" "$c1" "$total") $(others "$b0" "$b1" \
		"$(awk -v a="$c0" -v b="$c1" 'BEGIN { print b - a }')")"
}

run_dpdk()
{
	local mode=$1 back=rxonly c0 c1 b0 b1 rate total
	[ "$mode" = rxonly ] && back=txonly	# idle: rxonly, sends nothing
	rm -f "$TMP/s.sock"
	dpdk-testpmd -l 1,0 --main-lcore 1 $EAL --file-prefix=vbb$$ \
		--vdev "net_vhost0,iface=$TMP/s.sock,queues=1" -- --forward-mode=$back \
		--auto-start --stats-period 1 --nb-cores=1 --total-num-mbufs=16384 \
		>"$TMP/back.log" 2>&1 </dev/null &
	local pid=$!
	start_sock_wait
	if [ "$mode" = idle ]; then
		idle_cpu $pid
		kill -INT $pid; wait $pid 2>/dev/null
		return
	fi
	b0=$(cpus_busy)
	c0=$(cpu_s $pid)
	read -r rate total < <(front "$mode")
	c1=$(cpu_s $pid)
	b1=$(cpus_busy)
	kill -INT $pid; wait $pid 2>/dev/null
	echo "$rate $(per_mpkt "$c0" "$c1" "$total") $(others "$b0" "$b1" \
		"$(awk -v a="$c0" -v b="$c1" 'BEGIN { print b - a }')")"
}

command -v dpdk-testpmd >/dev/null || { echo "SKIP: dpdk-testpmd not found"; exit 4; }
[ -x "$O/bin/vnet-sim" ] || { echo "build vnet-sim first"; exit 1; }
# "others": CPUs' worth of time other processes took during each run (vnet
# run / DPDK run); a ratio is only meaningful when both are near 0.
printf '%-6s %-6s %-7s %9s %9s %7s %10s %10s %13s\n' round ring mode "vnet Mpps" \
	"DPDK Mpps" ratio "vnet CPU-s" "DPDK CPU-s" "others"
printf '%-6s %-6s %-7s %9s %9s %7s %10s %10s %13s\n' "" "" "" "" "" "" "per Mpkt" "per Mpkt" \
	"vnet/DPDK"
for round in $(seq 1 "$ROUNDS"); do
	for RING in $RINGS; do
		for mode in txonly rxonly; do
			read -r v vc vo < <(run_vnet $mode)
			read -r d dc dn < <(run_dpdk $mode)
			awk -v r=$round -v g=$RING -v m=$mode -v v="$v" -v d="$d" -v vc="$vc" \
				-v dc="$dc" -v vo="$vo" -v dn="$dn" 'BEGIN {
				printf "%-6s %-6s %-7s %9.2f %9.2f %6.2fx %10s %10s %13s\n", r, g, m,
				       v / 1e6, d / 1e6, d ? v / d : 0, vc, dc, vo "/" dn }'
			echo "$RING $mode $v $vc $d $dc" >>"$TMP/rows"
		done
	done
done
for RING in $RINGS; do
	for mode in txonly rxonly; do
		awk -v g=$RING -v m=$mode '$1 == g && $2 == m {
			if ($3 > bv) { bv = $3; bvc = $4 } if ($5 > bd) { bd = $5; bdc = $6 } }
			END { if (bd) printf "best   %-6s %-7s %9.2f %9.2f %6.2fx %10s %10s\n", g, m,
			      bv / 1e6, bd / 1e6, bv / bd, bvc, bdc }' "$TMP/rows"
	done
done
RING=split
printf 'idle (connected driver, no traffic, %ss): vnet-sim %s CPU, DPDK net_vhost %s CPU\n' \
	"$IDLE_SECS" "$(run_vnet idle)" "$(run_dpdk idle)"
