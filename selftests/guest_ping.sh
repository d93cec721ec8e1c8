#!/bin/bash
# SPDX-License-Identifier: MIT
# vnet-guest end to end on a vnet/sim device: ping and TCP through the TAP,
# MRG_RXBUF and checksum/TSO offloads on and off, receive coalescing
# (GUEST_TSO) negotiated or not and switched by the TAP's GRO feature
# (CTRL_GUEST_OFFLOADS), a back-end that dies; the same on packed
# virtqueues (--packed).
source "$(dirname "$0")/guest_lib.sh"

ALL_TESTS="test_ping test_tcp_offloads test_tcp_no_offloads test_no_mrg
	test_no_guest_tso test_gro_switch
	test_backend_killed test_no_reconnect test_sigterm
	test_packed test_packed_no_mrg test_packed_backend_killed"

# setup [GUEST ARGS...]: sim + guest + two VEPA macvlans
setup()
{
	setup_ns NS_G NS_A NS_B || return 1
	sim_start || return 1
	guest_start "$NS_G" "$@" || return 1
	vepa_pair "$NS_G" "$NS_A" "$NS_B"
}

teardown()
{
	guest_stop
	sim_stop
	ip netns del "$NS_A"; ip netns del "$NS_B"; ip netns del "$NS_G"
}

# ping_both: IPv4 and IPv6 through the two macvlans (check_err follows)
ping_both()
{
	busywait 3000 in_ns "$NS_A" ping -c 1 -W 1 10.9.0.2 >/dev/null &&
	in_ns "$NS_A" ping -c 5 -i 0.1 -W 1 10.9.0.2 >/dev/null &&
	busywait 3000 in_ns "$NS_A" ping -6 -c 1 -W 1 2001:db8:9::2 >/dev/null
}

test_ping()
{
	setup
	check_err $? "setup failed"
	busywait 3000 in_ns "$NS_A" ping -c 1 -W 1 10.9.0.2 >/dev/null
	in_ns "$NS_A" ping -c 5 -i 0.1 -W 1 10.9.0.2 >/dev/null
	check_err $? "IPv4 ping through vg0 failed"
	busywait 3000 in_ns "$NS_A" ping -6 -c 1 -W 1 2001:db8:9::2 >/dev/null
	check_err $? "IPv6 ping through vg0 failed"
	local s
	s=$(guest_stats)
	[ "$(jq '.tx[0].packets' <<<"$s")" -ge 10 ] && [ "$(jq '.rx[0].packets' <<<"$s")" -ge 10 ]
	check_err $? "frames did not pass through vnet-guest's rings: $s"
	teardown
	log_test "ping (IPv4, IPv6) through the TAP and the vnet/sim device"
}

# transfer, then check the counters with jq expression $1
transfer_check()
{
	local want=$1 s
	tcp_transfer "$NS_A" "$NS_B" 20000000
	check_err $? "TCP transfer incomplete or corrupted"
	s=$(guest_stats)
	jq -e "$want" <<<"$s" >/dev/null
	check_err $? "counters do not show '$want': $s"
}

test_tcp_offloads()
{
	setup
	check_err $? "setup failed"
	# TSO and partial checksums reach the device; MRG_RXBUF merges big
	# frames; the device coalesces the segments it loops back (GUEST_TSO)
	transfer_check '.tx[0].gso > 0 and .tx[0].csum > 0 and .rx[0].merged > 0 and
		.rx[0].gso > 0 and .rx[0].csum > 0'
	teardown
	log_test "TCP 20 MB intact with checksum/TSO offload, coalescing and MRG_RXBUF on"
}

test_tcp_no_offloads()
{
	setup --no-csum
	check_err $? "setup failed"
	transfer_check '.tx[0].gso == 0 and .tx[0].csum == 0 and .tx[0].packets > 1000'
	teardown
	log_test "TCP 20 MB intact with checksum/TSO offload off"
}

test_no_mrg()
{
	setup --no-mrg --no-tso
	check_err $? "setup failed"
	transfer_check '.rx[0].merged == 0 and .tx[0].gso == 0 and .tx[0].csum > 0 and
		(.features | test("^0x[0-9a-f]+$")) and
		((.features as $f | "0123456789abcdef" | index($f[-4:-3])) / 8 | floor) % 2 == 0'
	teardown
	log_test "TCP 20 MB intact with MRG_RXBUF off (and TSO off, csum on)"
}

test_no_guest_tso()
{
	setup --no-guest-tso
	check_err $? "setup failed"
	transfer_check '.tx[0].gso > 0 and .rx[0].gso == 0 and .rx[0].packets > 1000'
	teardown
	log_test "TCP 20 MB intact with GUEST_TSO refused: no coalesced receives"
}

__offload_changes()
{
	[ "$(guest_stats | jq .offload_changes)" -eq "$1" ]
}

# the TAP's GRO feature turns the device's coalescing off and on again
test_gro_switch()
{
	local s
	setup
	check_err $? "setup failed"
	in_ns "$NS_G" ethtool -K vg0 gro off
	check_err $? "ethtool -K vg0 gro off"
	busywait 5000 __offload_changes 1
	check_err $? "no CTRL_GUEST_OFFLOADS_SET after gro off: $(guest_stats)"
	transfer_check '.rx[0].gso == 0 and .rx[0].packets > 1000 and .ctrl_err == 0'
	s=$(guest_stats)
	# GUEST_CSUM (bit 1) only
	[ "$(jq -r .guest_offloads <<<"$s")" = "0x2" ]
	check_err $? "offloads with gro off: $s"
	in_ns "$NS_G" ethtool -K vg0 gro on
	busywait 5000 __offload_changes 2
	check_err $? "no CTRL_GUEST_OFFLOADS_SET after gro on: $(guest_stats)"
	transfer_check '.rx[0].gso > 0 and .ctrl_err == 0'
	teardown
	log_test "TAP gro off/on: CTRL_GUEST_OFFLOADS turns coalescing off and on"
}

test_backend_killed()
{
	setup "$@"
	check_err $? "setup failed"
	busywait 3000 in_ns "$NS_A" ping -c 1 -W 1 10.9.0.2 >/dev/null
	# traffic in flight when the device dies
	in_ns "$NS_A" ping -f -w 2 10.9.0.2 >/dev/null 2>&1 &
	local pinger=$!
	sleep 0.5
	sim_stop
	busywait 3000 grep -q "back-end on .* failed: .*reconnecting" "$GTMP/guest.err"
	check_err $? "vnet-guest did not report the lost back-end"
	busywait 3000 sh -c "ip -n $NS_G link show vg0 | grep -q NO-CARRIER"
	check_err $? "TAP carrier still up without a back-end"
	kill -0 "$GUEST_PID"
	check_err $? "vnet-guest exited instead of waiting"
	sim_start
	busywait 5000 grep -q "reconnected" "$GTMP/guest.err"
	check_err $? "vnet-guest did not reconnect"
	busywait 5000 in_ns "$NS_A" ping -c 1 -W 1 10.9.0.2 >/dev/null
	check_err $? "no ping after the back-end came back"
	wait "$pinger"
	[ "${1:-}" != --packed ] || guest_packed
	check_err $? "packed rings after the reconnect"
	teardown
	log_test "$([ "${1:-}" = --packed ] && echo "packed rings: ")back-end killed mid-transfer: reported, carrier off, reconnect"
}

test_no_reconnect()
{
	setup --no-reconnect
	check_err $? "setup failed"
	sim_stop
	local rc=0
	busywait 3000 sh -c "! kill -0 $GUEST_PID 2>/dev/null"
	check_err $? "vnet-guest --no-reconnect still running"
	wait "$GUEST_PID"
	rc=$?
	[ "$rc" -eq 1 ]
	check_err $? "exit status $rc, want 1"
	grep -q "exiting" "$GTMP/guest.err"
	check_err $? "no message says why"
	ip netns del "$NS_A"; ip netns del "$NS_B"; ip netns del "$NS_G"
	log_test "back-end gone with --no-reconnect: exit 1 with a message"
}

test_sigterm()
{
	setup
	check_err $? "setup failed"
	local t0 rc
	t0=$(date +%s%3N)
	kill -TERM "$GUEST_PID"
	wait "$GUEST_PID"
	rc=$?
	[ "$rc" -eq 0 ] && [ $(($(date +%s%3N) - t0)) -lt 2000 ]
	check_err $? "exit $rc after SIGTERM"
	tail -n 1 "$GTMP/guest.out" | jq -e '.rx[0].packets >= 0' >/dev/null
	check_err $? "no final counters at exit"
	! ip -n "$NS_G" link show vg0 >/dev/null 2>&1
	check_err $? "TAP left behind"
	sim_stop
	ip netns del "$NS_A"; ip netns del "$NS_B"; ip netns del "$NS_G"
	log_test "SIGTERM: clean exit 0, final counters, TAP removed"
}

# Packed virtqueues (VIRTIO_F_RING_PACKED) on every queue, the control
# queue's too: ping both ways, TCP with checksum/TSO offload and MRG_RXBUF.
test_packed()
{
	setup --packed
	check_err $? "setup failed"
	guest_packed
	check_err $? "vnet-guest --packed did not negotiate packed rings"
	ping_both
	check_err $? "ping through vg0 failed"
	transfer_check '.tx[0].gso > 0 and .tx[0].csum > 0 and .rx[0].merged > 0 and
		.ctrl_ok > 0 and .ctrl_err == 0'
	teardown
	log_test "packed rings: ping, TCP 20 MB with offloads and MRG_RXBUF, control queue"
}

test_packed_no_mrg()
{
	setup --packed --no-mrg --no-tso
	check_err $? "setup failed"
	guest_packed
	check_err $? "vnet-guest --packed did not negotiate packed rings"
	transfer_check '.rx[0].merged == 0 and .tx[0].gso == 0 and .tx[0].csum > 0'
	teardown
	log_test "packed rings: TCP 20 MB with MRG_RXBUF and TSO off"
}

test_packed_backend_killed()
{
	test_backend_killed --packed
}

require_guest
require_command ping
require_command ss
require_command ethtool
tests_run
exit $EXIT_STATUS
