#!/bin/bash
# SPDX-License-Identifier: MIT
# The XDP uplink datapath on a real veth uplink in a namespace: attached by
# libxdp (native, and generic), an AF_XDP socket receives the device's frames
# with the metadata the C reference expects, the host's own traffic (ping to
# the uplink's address) still works, and the program is gone after exit.
source "$(dirname "$0")/lib.sh"

ALL_TESTS="test_native_metadata_and_ping test_generic_mode test_detach_on_exit"

DEV_MAC=02:00:00:00:00:10
UP_IP=192.0.2.1
PEER_IP=192.0.2.2
DEV_IP=192.0.2.10

setup()
{
	setup_ns NS_U NS_P || exit 1
	veth_pair "$NS_U" up0 "$NS_P" peer0 || exit 1
	ip -n "$NS_U" addr add $UP_IP/24 dev up0
	ip -n "$NS_P" addr add $PEER_IP/24 dev peer0
	# frames for the device: the peer knows its MAC
	ip -n "$NS_P" neigh add $DEV_IP lladdr $DEV_MAC dev peer0
	OUT=$(mktemp)
	defer rm -f "$OUT"
}

# bpffs is per mount namespace and `ip netns exec` makes a new one each time
run_in_uplink_ns()
{
	in_ns "$NS_U" sh -c 'mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf; exec "$@"' \
		sh "$@"
}

# xdp_attached xdp|xdpgeneric: the link line names the mode, the next the
# program: vnet's, or libxdp's dispatcher when the receiver says it runs
# behind one (Debian's 6.1; on 6.12 vnet's program is attached alone)
xdp_attached()
{
	local prog=vnet_xdp_rx
	jq -e 'select(.ready) | .attach == "dispatcher"' <"$OUT" >/dev/null && prog=xdp_dispatcher
	ip -n "$NS_U" -d link show up0 | grep -q "mtu [0-9]* $1 " &&
		ip -n "$NS_U" -d link show up0 | grep -q "prog/xdp id .* name $prog"
}

# no_xdp: no XDP program of any kind on the uplink
no_xdp()
{
	! ip -n "$NS_U" -d link show up0 | grep -q "prog/xdp"
}

# send_udp COUNT: datagrams from the peer to the device, several ports
send_udp()
{
	local i
	for ((i = 0; i < $1; i++)); do
		in_ns "$NS_P" bash -c "echo vnet$i > /dev/udp/$DEV_IP/$((5000 + i))"
	done
}

# start_recv MODE COUNT: the receiver in the background, ready when it says
# so. It ends after COUNT frames; its time limit and the wait for it to be
# ready are only bounds, generous for emulated guests (kernel_matrix.sh:
# loading and verifying the program under TCG takes seconds)
start_recv()
{
	: >"$OUT"
	start_bg RECV run_in_uplink_ns "$VNET_BIN/vnet-xsk-recv" -i up0 -m "$1" \
		--mac $DEV_MAC --host-ip $UP_IP --rss 4 -n "$2" -t 120000 >"$OUT"
	slowwait 60 sh -c "grep -q '\"ready\":true' '$OUT' || ! kill -0 $RECV 2>/dev/null"
	grep -q '"ready":true' "$OUT"
}

# check_frames N REPORT: N frames, metadata magic, device 0, equal to the reference
check_frames()
{
	local n=$1 report=$2 lines
	lines=$(grep '"len"' "$OUT" | wc -l)
	[ "$lines" -eq "$n" ] || { retmsg="received $lines frames, want $n"; return 1; }
	grep '"len"' "$OUT" | jq -e --arg r "$report" \
		'.magic_ok and .dev == 0 and .report == $r and .hash != 0 and
		 .queue == .ref_queue and .hash == .ref_hash and .report == .ref_report and
		 .flags == .ref_flags and .queue < 4' >/dev/null ||
		{ retmsg="metadata differs: $(grep '"len"' "$OUT" | head -2)"; return 1; }
}

test_native_metadata_and_ping()
{
	RET=0
	start_recv native 6
	check_err $? "receiver did not come up: $(cat "$OUT")"
	grep -q '"mode":"native"' "$OUT"
	check_err $? "not attached in native mode: $(head -1 "$OUT")"
	xdp_attached xdp
	check_err $? "ip link shows no native XDP program"
	vlog "$(head -1 "$OUT")"

	# the host's own traffic is untouched while the program runs
	in_ns "$NS_P" ping -c 2 -i 0.2 -W 2 $UP_IP >/dev/null
	check_err $? "ping to the uplink's own address failed with XDP attached"
	in_ns "$NS_U" ping -c 1 -W 2 $PEER_IP >/dev/null
	check_err $? "ping from the uplink failed with XDP attached"

	send_udp 6
	wait "$RECV"
	check_frames 6 udpv4
	check_err $? "$retmsg"
	# different flows spread over the RSS queues
	[ "$(grep '"len"' "$OUT" | jq -s 'map(.queue) | unique | length')" -ge 2 ]
	check_err $? "6 flows all on one queue"
	grep '"counters":"uplink"' "$OUT" | jq -e '.host >= 1' >/dev/null
	check_err $? "host ARP/MAC traffic not counted: $(grep uplink "$OUT")"
	grep '"counters":"dev0"' "$OUT" | jq -e '.delivered == 6 and .hash_udpv4 == 6' >/dev/null
	check_err $? "device counters: $(grep dev0 "$OUT")"
	log_test "native XDP via libxdp: AF_XDP gets the device's frames with metadata, ping works"
}

test_generic_mode()
{
	RET=0
	start_recv skb 3
	check_err $? "receiver did not come up: $(cat "$OUT")"
	grep -q '"mode":"skb"' "$OUT"
	check_err $? "not attached in generic mode: $(head -1 "$OUT")"
	xdp_attached xdpgeneric
	check_err $? "ip link shows no generic XDP program"
	in_ns "$NS_P" ping -c 1 -W 2 $UP_IP >/dev/null
	check_err $? "ping to the uplink failed in generic mode"
	send_udp 3
	wait "$RECV"
	check_frames 3 udpv4
	check_err $? "$retmsg"
	log_test "generic (skb) XDP: the same frames and metadata"
}

test_detach_on_exit()
{
	RET=0
	start_recv native 1000
	check_err $? "receiver did not come up"
	# libxdp could not use its dispatcher here or could: either way one program
	vlog "$(head -1 "$OUT")"
	xdp_attached xdp
	check_err $? "not attached"
	# the receiver itself, not the shell that started it
	kill -TERM "$(jq -r 'select(.ready) | .pid' <"$OUT")"
	wait "$RECV"
	check_err $? "receiver failed on SIGTERM"
	no_xdp
	check_err $? "XDP program still attached after exit"
	in_ns "$NS_P" ping -c 1 -W 2 $UP_IP >/dev/null
	check_err $? "ping after detach failed"
	log_test "SIGTERM detaches the program cleanly ($(jq -r 'select(.ready) | {dispatcher: "libxdp dispatcher",
		single: "libxdp single-program fallback", direct: "attached directly, libxdp refused"}[.attach] // .attach' <"$OUT"))"
}

require_root
require_command ip
require_command ping
require_command jq
require_bin vnet-xsk-recv
setup
tests_run
exit $EXIT_STATUS
