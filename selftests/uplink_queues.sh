#!/bin/bash
# SPDX-License-Identifier: MIT
# An uplink with several queues and several workers (docs/ARCHITECTURE.md
# "Uplink workers"). vnetd manages veth up0 (namespace "host") made with 4
# rx and 4 tx queues, whose peer wire0 (4 and 4 too) is "the wire"; device
# v0 has 4 queue pairs, driven by vnet-guest with RSS. vnetd runs with 4
# workers: worker i owns the AF_XDP sockets of uplink queues i, i+4, ...
# and the device's queue pairs k with k % 4 == i.
#
# Checked: one thread per worker; many UDP/TCP flows from the wire arrive
# on several uplink rx queues (so several workers receive) and every frame
# reaches the device, spread over its 4 receive queues with every hash and
# queue as the reference says; many UDP flows from the guest leave through
# several transmit queues of the device and so several uplink queues, and
# all reach the wire; TCP with sha256 both ways; a second device with 4
# queue pairs reached device to device; the uplink deleted and made again
# (every worker's sockets go and come back); and vnetd restarted without -w
# takes the default, min(uplink queues, online CPUs) workers.
source "$(dirname "$0")/uplink_lib.sh"

ALL_TESTS="test_threads test_wire_to_guest test_guest_to_wire test_tcp test_dev_to_dev"
ALL_TESTS+=" test_uplink_return test_default_workers"

VNETCTL=$VNET_BIN/vnetctl
WIRE_IP=10.11.0.1
GUEST_IP=10.11.0.2
UP_IP=10.11.0.3
GUEST2_IP=10.11.0.4
MAC0=02:00:00:0b:00:02
MAC1=02:00:00:0b:00:04
NQ=4

require_uplink_rig

# uplink_make: up0 and wire0, 4 rx and 4 tx queues each, addresses on
uplink_make()
{
	veth_mq $NQ || return 1
	uplink_addrs
}

setup()
{
	setup_ns NS_WIRE NS_HOST NS_G0 NS_G1 || exit 1
	uplink_make || exit 1
	vnetd_up uq -w $NQ
	"$VNETCTL" dev add name v0 mgmtdev vnet/up0 mac $MAC0 max_vqp $NQ || exit 1
	guest_up G0 v0 "$NS_G0" $MAC0 $GUEST_IP --rss --hash-report || exit 1
}

# worker_threads: vnetd's threads named vnetd-uplink*
worker_threads()
{
	grep -l '^vnetd-uplink' /proc/"$VNETD_PID"/task/*/comm 2>/dev/null | wc -l
}

test_threads()
{
	local n
	RET=0
	n=$("$VNETCTL" -j mgmtdev show vnet/up0 | jq '.mgmtdev["vnet/up0"].workers')
	[ "$n" = $NQ ]
	check_err $? "mgmtdev show: workers $n, want $NQ"
	[ "$(worker_threads)" = $NQ ]
	check_err $? "vnetd has $(worker_threads) uplink worker threads, want $NQ"
	[ "$(uplink_queues | jq 'length')" = $NQ ] &&
		[ "$(uplink_queues | jq -c '[.[].worker]')" = "[0,1,2,3]" ]
	check_err $? "queues and their workers: $(uplink_queues)"
	grep -q "4 AF_XDP socket(s), 4 worker(s)" "$TMP/vnetd.log"
	check_err $? "the attach log line does not say 4 sockets, 4 workers"
	log_test "4 uplink queues, 4 workers: one thread and one socket each"
}

test_wire_to_guest()
{
	local before after qb qa n
	RET=0
	in_ns "$NS_WIRE" ping -c 2 -i 0.2 -W 2 $GUEST_IP >/dev/null
	check_err $? "wire -> guest ping failed"
	before=$(guest_stats G0)
	qb=$(uplink_queues)
	# 64 flows x (TCP, UDP) x (IPv4, IPv6): wire0's transmit hash spreads
	# them over its 4 queues, so over up0's 4 rx queues
	in_ns "$NS_WIRE" $FRAMES flows wire0 $MAC0 64
	__all_in() {
		after=$(guest_stats G0) &&
		jq -e -n --argjson b "$before" --argjson a "$after" \
			'([$a.rx[].packets] | add) - ([$b.rx[].packets] | add) >= 256' >/dev/null
	}
	busywait 5000 __all_in
	check_err $? "not every frame from the wire reached the guest"
	qa=$(uplink_queues)
	vlog "queues before $qb"
	vlog "queues after $qa"
	vlog "guest rx $(echo "$after" | jq -c '[.rx[].packets]')"
	n=$(queues_moved "$qb" "$qa" rx_frames)
	[ "$n" -ge 3 ]
	check_err $? "frames arrived on $n uplink queues, want >= 3: $qa"
	jq -e -n --argjson b "$before" --argjson a "$after" '
		[range(0; 4) | $a.rx[.].packets - $b.rx[.].packets] | all(. >= 16)' >/dev/null
	check_err $? "flows did not spread over the 4 receive queues: $(echo "$after" | jq -c '[.rx[].packets]')"
	jq -e '([.rx[].hash_mismatch] | add) == 0 and ([.rx[].queue_mismatch] | add) == 0' \
		<<<"$after" >/dev/null
	check_err $? "hash or queue differs from the reference: $(echo "$after" | jq -c '.rx')"
	log_test "wire -> guest over 4 uplink queues and workers: all delivered, RSS as the reference"
}

test_guest_to_wire()
{
	local qb qa n a b sent gb ga
	RET=0
	in_ns "$NS_G0" ping -c 2 -i 0.2 -W 2 $WIRE_IP >/dev/null
	check_err $? "guest -> wire ping failed"
	qb=$(uplink_queues)
	gb=$(guest_stats G0)
	a=$(wire_rx_packets)
	# each socket is a flow: the TAP's queue, so the device's transmit
	# queue, follows its hash
	sent=$(in_ns "$NS_G0" $FRAMES udp-flows $WIRE_IP 9 64 4)
	[ "$sent" = 256 ]
	check_err $? "the guest sent $sent datagrams, want 256"
	__wire_got() { b=$(wire_rx_packets); [ $((b - a)) -ge 256 ]; }
	busywait 5000 __wire_got
	check_err $? "the wire got $((b - a)) frames, want >= 256"
	qa=$(uplink_queues)
	ga=$(guest_stats G0)
	vlog "queues before $qb"
	vlog "queues after $qa"
	vlog "guest tx $(echo "$ga" | jq -c '[.tx[].packets]')"
	n=$(jq -n --argjson b "$gb" --argjson a "$ga" \
		'[range(0; 4) | select($a.tx[.].packets - $b.tx[.].packets >= 8)] | length')
	[ "$n" -ge 2 ]
	check_err $? "the guest sent on $n transmit queues, want >= 2"
	n=$(queues_moved "$qb" "$qa" tx_frames)
	[ "$n" -ge 2 ]
	check_err $? "frames left through $n uplink queues, want >= 2: $qa"
	log_test "guest -> wire from several transmit queues through several uplink queues"
}

test_tcp()
{
	RET=0
	tcp_both_ways $((16 << 20))
	log_test "TCP with sha256 both ways over a 4-queue uplink"
}

test_dev_to_dev()
{
	RET=0
	"$VNETCTL" dev add name v1 mgmtdev vnet/up0 mac $MAC1 max_vqp $NQ
	check_err $? "second device not made"
	guest_up G1 v1 "$NS_G1" $MAC1 $GUEST2_IP --rss
	check_err $? "second guest did not come up"
	in_ns "$NS_WIRE" ping -c 2 -i 0.2 -W 2 $GUEST2_IP >/dev/null
	check_err $? "wire -> v1 ping failed"
	in_ns "$NS_G0" ping -c 5 -i 0.1 -W 2 $GUEST2_IP >/dev/null
	check_err $? "v0 -> v1 ping failed"
	tcp_xfer "$NS_G1" "$NS_G0" $GUEST_IP $((8 << 20))
	check_err $? "v1 -> v0 TCP data differs"
	log_test "two 4-queue devices on the uplink: device to device"
}

__logged() { [ "$(grep -c "$1" "$TMP/vnetd.log")" -ge "$2" ]; }

test_uplink_return()
{
	local n
	RET=0
	n=$(grep -c "uplink is back" "$TMP/vnetd.log")
	ip -n "$NS_HOST" link del up0
	slowwait 10 __logged "uplink gone: datapath detached" 1
	check_err $? "vnetd did not log the uplink's removal"
	uplink_make
	check_err $? "the uplink could not be made again"
	slowwait 10 __logged "uplink is back" $((n + 1))
	check_err $? "vnetd did not re-attach the datapath"
	[ "$("$VNETCTL" -j mgmtdev show vnet/up0 | jq '.mgmtdev["vnet/up0"].queues | length')" = $NQ ]
	check_err $? "queues after the return: $(uplink_queues)"
	slowwait 10 in_ns "$NS_WIRE" ping -c 1 -W 1 $GUEST_IP >/dev/null
	check_err $? "wire -> v0 ping after the uplink came back failed"
	in_ns "$NS_WIRE" ping -c 2 -i 0.2 -W 2 $GUEST2_IP >/dev/null
	check_err $? "wire -> v1 ping after the uplink came back failed"
	log_test "uplink deleted and made again: 4 workers' sockets back, traffic resumes"
}

test_default_workers()
{
	local ncpu want n
	RET=0
	ncpu=$(nproc)
	want=$((ncpu < NQ ? ncpu : NQ))
	{ kill -9 "$G0_PID" "$G1_PID"; wait "$G0_PID" "$G1_PID"; } 2>/dev/null
	slowwait 5 sh -c "! ip -n $NS_G0 link show vg0 >/dev/null 2>&1"
	kill -TERM "$VNETD_PID"
	busywait 5000 sh -c "! kill -0 $VNETD_PID 2>/dev/null"
	check_err $? "vnetd did not exit on SIGTERM"
	vnetd_start
	check_err $? "vnetd did not start again"
	n=$("$VNETCTL" -j mgmtdev show vnet/up0 | jq '.mgmtdev["vnet/up0"].workers')
	[ "$n" = "$want" ]
	check_err $? "default workers $n, want min($NQ queues, $ncpu CPUs) = $want"
	[ "$(worker_threads)" = "$want" ]
	check_err $? "vnetd has $(worker_threads) uplink worker threads, want $want"
	# the devices come back from the state directory
	guest_up G0 v0 "$NS_G0" $MAC0 $GUEST_IP --rss
	check_err $? "the guest did not come back"
	slowwait 10 in_ns "$NS_WIRE" ping -c 1 -W 1 $GUEST_IP >/dev/null
	check_err $? "wire -> guest ping after the restart failed"
	log_test "default workers: min(uplink queues, online CPUs) = $want"
}

setup
tests_run
exit $EXIT_STATUS
