#!/bin/bash
# SPDX-License-Identifier: MIT
# make bench-vhost: vnet (vnet-sim) as the vhost-user back-end of DPDK's
# virtio-user, against DPDK's own net_vhost back-end with the same driver, in
# the same run. 64 B frames; txonly (driver sends, back-end drops) and rxonly
# (back-end generates, driver receives). The back-end runs on CPU 0, the
# driver's forwarding lcore on CPU 1 (main lcores sleep). Not a test.
set -u
O=${O:-build}
SECS=${SECS:-12}
TMP=$(mktemp -d /tmp/vnet-bench-XXXXXX)
trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; [ -n "${KEEP:-}" ] || rm -rf "$TMP"' EXIT
EAL="--no-huge -m 1024 --no-pci"

# front-end MODE: virtio-user on $TMP/s.sock, fwd lcore 1; prints its pps
front()
{
	timeout -s INT "$SECS" dpdk-testpmd -l 0,1 --main-lcore 0 $EAL --file-prefix=vbf$$ \
		--vdev "net_virtio_user0,path=$TMP/s.sock,queues=1" -- --forward-mode="$1" \
		--auto-start --stats-period 1 --nb-cores=1 --total-num-mbufs=16384 \
		>"$TMP/front.log" 2>&1 </dev/null
	# mean of the per-second rates once traffic runs (the link of DPDK's
	# vhost back-end comes up seconds late): skip the zeros and one more
	local key=Rx-pps
	[ "$1" = txonly ] && key=Tx-pps
	grep -o "$key: *[0-9]*" "$TMP/front.log" | grep -o '[0-9]*$' |
		awk '$1 > 0 && !on { on = 1; next } on && $1 > 0 { s += $1; n++ }
		     END { printf "%d\n", n ? s / n : 0 }'
}

cpu_s() { awk '{ printf "%.2f\n", ($14 + $15) / 100 }' "/proc/$1/stat"; }

run_vnet()
{
	local mode=$1 args=(--mode sink) pps c0 c1
	[ "$mode" = rxonly ] && args+=(--gen)
	rm -f "$TMP/s.sock"
	"$O/bin/vnet-sim" --socket "$TMP/s.sock" --cpu 0 "${args[@]}" 2>/dev/null &
	local pid=$!
	while [ ! -S "$TMP/s.sock" ]; do sleep 0.05; done
	c0=$(cpu_s $pid)
	pps=$(front "$mode")
	c1=$(cpu_s $pid)
	kill $pid; wait $pid 2>/dev/null
	echo "$pps $(awk -v a="$c0" -v b="$c1" -v p="$pps" -v s="$SECS" \
		'BEGIN { printf "%.3f", (p > 0 ? (b - a) / (p * s / 1e6) : 0) }')"
}

run_dpdk()
{
	local mode=$1 back=rxonly pps
	[ "$mode" = rxonly ] && back=txonly
	rm -f "$TMP/s.sock"
	dpdk-testpmd -l 1,0 --main-lcore 1 $EAL --file-prefix=vbb$$ \
		--vdev "net_vhost0,iface=$TMP/s.sock,queues=1" -- --forward-mode=$back \
		--auto-start --stats-period 1 --nb-cores=1 --total-num-mbufs=16384 \
		>"$TMP/back.log" 2>&1 </dev/null &
	local pid=$!
	while [ ! -S "$TMP/s.sock" ]; do sleep 0.05; done
	pps=$(front "$mode")
	kill -INT $pid; wait $pid 2>/dev/null
	echo "$pps"
}

command -v dpdk-testpmd >/dev/null || { echo "SKIP: dpdk-testpmd not found"; exit 4; }
[ -x "$O/bin/vnet-sim" ] || { echo "build vnet-sim first"; exit 1; }
printf '%-8s %14s %14s %8s %20s\n' mode "vnet Mpps" "DPDK Mpps" ratio "vnet CPU-s/Mpkt"
for mode in txonly rxonly; do
	read -r v cpu < <(run_vnet $mode)
	d=$(run_dpdk $mode)
	awk -v m=$mode -v v="$v" -v d="$d" -v c="$cpu" 'BEGIN {
		printf "%-8s %14.2f %14.2f %7.2fx %20s\n", m, v / 1e6, d / 1e6, d ? v / d : 0, c }'
done
