#!/bin/bash
# SPDX-License-Identifier: MIT
# `make demo`: show vnet at work, each step printing what it proves; exits
# non-zero as soon as a step fails.
#   1. the reference classifier on sample frames (no root needed)
#   2. (root) vnetd on an uplink (a veth into a "wire" namespace) with its
#      XDP datapath, and a device created like a vDPA device
#   3. a real Linux VM (QEMU, Debian's kernel, Linux's virtio_net) on that
#      device: ping and TCP to the wire, two queue pairs, the counters
#   4. a vnet/sim device (loopback) through the unmodified iproute2 vdpa,
#      vnet-guest driving it behind a TAP with RSS over 4 queue pairs
set -u
O=${O:-build}
BIN=$(cd "$O/bin" && pwd)
ROOT=$(cd "$(dirname "$0")/.." && pwd)

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
say() { printf '   %s\n' "$*"; }
die() { printf '\033[1;31mdemo failed: %s\033[0m\n' "$*" >&2; exit 1; }
run() { printf '\033[2m$ %s\033[0m\n' "$*"; "$@" || die "$*"; }
step "1. The reference classifier on sample frames (all hash types, 4 queues)"
say "Each frame is parsed, the spec's hash type chosen (TCP > UDP > IP; the _EX"
say "types use the Home Address / type-2 routing address), hashed with Toeplitz"
say "in both forms (bit-serial definition, per-byte table) and steered through a"
say "128-entry indirection table."
run "$BIN/vnet-classify"
say "Microsoft RSS verification vector 1 (66.9.149.187:2794 > 161.142.100.80:1766):"
h=$("$BIN/vnet-classify" -j -t tcpv4 \
	0200000000010200000000020800450000280000000040060000420995bba18e64500aea06e600000000000000005018ffff00000000 |
	jq -r '.frames[0].hash_value')
printf '   tcpv4 hash 0x%08x (the verification suite says 0x51ccc178)\n' "$h"

if [ "$(id -u)" -ne 0 ]; then
	step "Steps 2-4 need root (network namespaces, TAP, QEMU): run 'make demo' as root"
	exit 0
fi

# --- 2 and 3: the main job, run with the selftests' helpers -----------------
vm_demo()
(
	# shellcheck source=../selftests/vm_lib.sh
	source "$ROOT/selftests/uplink_lib.sh"
	source "$ROOT/selftests/vm_lib.sh"
	VNET_BIN=$BIN VNETCTL=$BIN/vnetctl
	local mac=52:54:00:de:00:02 out

	step "2. vnetd on an uplink: XDP on veth up0, whose peer is 'the wire' (10.42.0.1)"
	setup_ns NS_WIRE NS_HOST || die "namespaces"
	veth_pair "$NS_HOST" up0 "$NS_WIRE" wire0 || die "veth"
	ip -n "$NS_WIRE" addr add 10.42.0.1/24 dev wire0
	ip netns exec "$NS_WIRE" ethtool -K wire0 tx off >/dev/null
	TMP=$(mktemp -d /tmp/vnet-demo.XXXXXX)
	chmod 755 "$TMP"
	defer rm -rf "$TMP"
	export VNET_SOCK=$TMP/run/vnetd.sock
	vnetd_start || { cat "$TMP/vnetd.log"; die "vnetd did not start"; }
	run "$VNETCTL" mgmtdev show vnet/up0
	run ip -n "$NS_HOST" -br link show up0
	run ip -n "$NS_HOST" link show up0 | grep -E "prog/xdp|xdp" || die "no XDP program on up0"
	run "$VNETCTL" dev add name vm0 mgmtdev vnet/up0 mac $mac max_vqp 2
	run "$VNETCTL" dev show vm0

	step "3. A real Linux VM on vm0: QEMU + Debian's 6.12 kernel + Linux's virtio_net"
	vm_require
	say "The guest image is built once from Debian packages (build/vm, first time ~30 s)."
	vm_image 6.12
	say "QEMU: -netdev vhost-user,queues=2 -device virtio-net-pci,mq=on (${VM_ACCEL^^})"
	VM_MEM=384 vm_start demo -smp 2 \
		-chardev socket,id=c0,path="$TMP/run/vm0.sock",reconnect=1 \
		-netdev vhost-user,id=n0,chardev=c0,queues=2 \
		-device virtio-net-pci,netdev=n0,mac=$mac,mq=on,vectors=0
	vm_wait_ready demo 180 || { vm_console_tail demo 30; die "the VM did not boot"; }
	vm_exec demo "ip link set eth0 up && ip addr add 10.42.0.2/24 dev eth0 &&
		for i in \$(seq 50); do ip link show eth0 | grep -q LOWER_UP && break; sleep 0.1; done" ||
		die "guest eth0"
	say "in the guest:"
	vm_exec demo "uname -r; ethtool -i eth0 | head -1; ip -br addr show eth0; ethtool -l eth0 | tail -5"
	say "guest -> wire ping, through vnet's transmit path and the XDP uplink:"
	vm_exec demo "ping -c 3 -i 0.3 -W 3 10.42.0.1" || die "guest -> wire ping"
	say "wire -> guest ping, filtered and steered by the XDP program to AF_XDP:"
	run ip netns exec "$NS_WIRE" ping -c 3 -i 0.3 -W 3 10.42.0.2
	say "TCP, 8 MiB guest -> wire; both ends print the sha256 of the data:"
	ip netns exec "$NS_WIRE" python3 "$ROOT/selftests/guest_frames.py" tcp-server 10.42.0.1 5201 \
		>"$TMP/srv.out" 2>&1 &
	local srv=$! sent got
	sleep 0.5
	sent=$(vm_exec demo -t 180 "python3 $ROOT/selftests/guest_frames.py tcp-client 10.42.0.1 5201 8388608")
	wait $srv
	got=$(cat "$TMP/srv.out")
	say "guest sent: $sent"
	say "wire got:   $got"
	[ -n "$sent" ] && [ "$sent" = "$got" ] || die "TCP data differs"
	say "flows from the wire spread over the guest's 2 receive queues (vnet's steering):"
	ip netns exec "$NS_WIRE" python3 "$ROOT/selftests/guest_frames.py" flows wire0 $mac 32 >/dev/null
	sleep 0.5
	run "$VNETCTL" dev vstats show vm0 qidx 0
	run "$VNETCTL" dev vstats show vm0 qidx 2
	run "$VNETCTL" dev show vm0
	vm_stop demo
	say "Done: the VM is off; vnetd and the namespaces go now."
)

vm_demo || exit 1

TMP=$(mktemp -d /tmp/vnet-demo.XXXXXX)
NS_G=vnet-demo-g-$$ NS_A=vnet-demo-a-$$ NS_B=vnet-demo-b-$$
cleanup()
{
	[ -n "${GUEST_PID:-}" ] && kill "$GUEST_PID" 2>/dev/null
	[ -n "${VNETD_PID:-}" ] && kill "$VNETD_PID" 2>/dev/null
	wait 2>/dev/null
	for ns in "$NS_G" "$NS_A" "$NS_B"; do ip netns del "$ns" 2>/dev/null; done
	rm -rf "$TMP"
}
trap cleanup EXIT
export VNET_SOCK=$TMP/vnetd.sock
VNETCTL="$BIN/vnetctl"

step "4. vnet/sim: a loopback device, through vnetctl and the unmodified iproute2 vdpa"
"$BIN/vnetd" -s "$VNET_SOCK" -d "$TMP/state" -g 0 >"$TMP/vnetd.log" 2>&1 &
VNETD_PID=$!
for _ in $(seq 50); do "$VNETCTL" mgmtdev show >/dev/null 2>&1 && break; sleep 0.1; done
run "$VNETCTL" mgmtdev show
run "$VNETCTL" dev add name demo0 mgmtdev vnet/sim mac 02:00:00:00:00:01 max_vqp 4 mtu 1500
run "$VNETCTL" dev show demo0
say "The same device through the unmodified iproute2 vdpa binary (LD_PRELOAD shim):"
run "$BIN/vnet-vdpa" dev show
say "No driver yet: the config has no negotiated features (as the kernel's vdpa):"
run "$VNETCTL" dev config show demo0
SOCK=$("$VNETCTL" -j dev show demo0 | jq -r '.. | .socket? // empty' | head -1)
[ -S "$SOCK" ] || SOCK=$TMP/demo0.sock

say "vnet-guest: a userspace virtio-net driver behind a TAP, RSS over 4 queues"
ip netns add "$NS_G"; ip netns add "$NS_A"; ip netns add "$NS_B"
"$BIN/vnet-guest" --socket "$SOCK" --netns "$NS_G" --tap vg0 --rss --hash-report \
	--hash-types all -j >"$TMP/guest.out" 2>"$TMP/guest.err" &
GUEST_PID=$!
for _ in $(seq 50); do ip -n "$NS_G" link show vg0 >/dev/null 2>&1 && break; sleep 0.1; done
sleep 0.5
ip -n "$NS_G" link set vg0 up
run ip -n "$NS_G" -br link show vg0
say "vnet/sim reflects what the driver sends back to its receive queues, through"
say "the rx filters and RSS. Two macvlans in VEPA mode on the TAP (one per"
say "namespace) talk through it: every frame crosses the virtqueues twice."
ip -n "$NS_G" link add mva link vg0 type macvlan mode vepa
ip -n "$NS_G" link add mvb link vg0 type macvlan mode vepa
ip -n "$NS_G" link set mva netns "$NS_A"; ip -n "$NS_G" link set mvb netns "$NS_B"
ip -n "$NS_A" addr add 10.77.0.1/24 dev mva; ip -n "$NS_A" link set mva up
ip -n "$NS_B" addr add 10.77.0.2/24 dev mvb; ip -n "$NS_B" link set mvb up
# vnet-guest mirrors the TAP's filters into the device every 100 ms: give
# the new macvlans' addresses a moment to reach the device's MAC table
for _ in 1 2 3; do ip netns exec "$NS_A" ping -c 1 -W 1 10.77.0.2 >/dev/null && break; done
run ip netns exec "$NS_A" ping -c 5 -i 0.2 10.77.0.2

say "What the device and the driver saw:"
run "$VNETCTL" dev config show demo0
run "$VNETCTL" dev vstats show demo0 qidx 0
kill -USR1 "$GUEST_PID"; sleep 0.5
say "vnet-guest's counters (every reported hash checked against the C reference):"
tail -n 1 "$TMP/guest.out" | jq -c '.' | cut -c1-600
run "$VNETCTL" dev del demo0
say "Done: device removed, vnetd and vnet-guest stop now."
