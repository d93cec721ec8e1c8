#!/bin/bash
# SPDX-License-Identifier: MIT
# `make demo`: show vnet at work, each step printing what it proves.
#   1. the reference classifier on sample frames (no root needed)
#   2. (root) vnetd managing a vnet/sim device through vnetctl and the
#      unmodified iproute2 vdpa, vnet-guest driving it behind a TAP with
#      RSS over 4 queue pairs, and ping crossing the device.
set -u
O=${O:-build}
BIN=$(cd "$O/bin" && pwd)

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
say() { printf '   %s\n' "$*"; }
run() { printf '\033[2m$ %s\033[0m\n' "$*"; "$@"; }

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
	step "Steps 2-4 need root (network namespaces, TAP): run 'make demo' as root"
	exit 0
fi

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

step "2. vnetd, and a virtio-net device created like a vDPA device"
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

step "3. vnet-guest: a userspace virtio-net driver behind a TAP, RSS over 4 queues"
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
ip -n "$NS_A" addr add 10.9.0.1/24 dev mva; ip -n "$NS_A" link set mva up
ip -n "$NS_B" addr add 10.9.0.2/24 dev mvb; ip -n "$NS_B" link set mvb up
# vnet-guest mirrors the TAP's filters into the device every 100 ms: give
# the new macvlans' addresses a moment to reach the device's MAC table
for _ in 1 2 3; do ip netns exec "$NS_A" ping -c 1 -W 1 10.9.0.2 >/dev/null && break; done
run ip netns exec "$NS_A" ping -c 5 -i 0.2 10.9.0.2

step "4. What the device and the driver saw"
run "$VNETCTL" dev config show demo0
run "$VNETCTL" dev vstats show demo0 qidx 0
kill -USR1 "$GUEST_PID"; sleep 0.5
say "vnet-guest's counters (every reported hash checked against the C reference):"
tail -n 1 "$TMP/guest.out" | jq -c '.' | cut -c1-600
run "$VNETCTL" dev del demo0
say "Done: device removed, vnetd and vnet-guest stop now."
