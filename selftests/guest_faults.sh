#!/bin/bash
# SPDX-License-Identifier: MIT
# vnet-guest against devices that misbehave: back-ends that never answer,
# answer with the wrong request code or stall mid-handshake (a fake
# back-end: clear error, exit 1 or retry, never a hang), and vnetd devices
# under a config-change storm (uplink carrier toggled 2 x 60 times, the MAC
# set 60 times) while frames flow: the TAP carrier ends as the link, the
# MAC as the last one set, traffic still passes, every config change is
# counted, SIGUSR1 is answered. The uplink's return asks for an announce
# (S_ANNOUNCE): vnet-guest sends a gratuitous ARP and acks. Bad command
# lines (vnet-guest --rx-ring, vnet-gen --pass) are refused with exit 2
# and the reason, before anything is opened.
source "$(dirname "$0")/guest_lib.sh"

ALL_TESTS="test_bad_options test_fake_backend test_fake_retry test_link_storm test_announce
	   test_mac_storm"
VNETCTL=$VNET_BIN/vnetctl

test_bad_options()
{
	RET=0
	local v out rc

	for v in 0 4 12 2048 abc 16x ""; do
		out=$("$VNET_BIN/vnet-guest" --socket "$GTMP/none.sock" --rx-ring "$v" 2>&1)
		rc=$?
		[ $rc = 2 ] && grep -q "rx-ring: a power of 2, 8..1024" <<<"$out"
		check_err $? "vnet-guest --rx-ring '$v': exit $rc, '$out'"
	done
	out=$("$VNET_BIN/vnet-gen" -i lo --pass 2>&1)
	rc=$?
	[ $rc = 2 ] && grep -q "usage" <<<"$out"
	check_err $? "vnet-gen --pass without --count: exit $rc, '$(head -n 1 <<<"$out")'"
	log_test "bad options: --rx-ring outside 8..1024 or not a power of 2, --pass without --count"
}

# fake_start MODE: the fake back-end on $GTMP/fake.sock
fake_start()
{
	rm -f "$GTMP/fake.sock" "$GTMP/fake.sock.log"
	$FRAMES fake-backend "$GTMP/fake.sock" "$1" &
	FAKE_PID=$!
	defer kill -9 "$FAKE_PID"
	busywait 3000 test -S "$GTMP/fake.sock"
}

fake_stop()
{
	kill -9 "$FAKE_PID" 2>/dev/null
	wait "$FAKE_PID" 2>/dev/null
}

# Each misbehaviour: vnet-guest --no-reconnect names what went wrong and
# exits 1 within its reply deadline (3 s), not after the 15 s of timeout(1).
test_fake_backend()
{
	local mode msg t0 t1 rc ns
	setup_ns ns || { check_err 1 "setup_ns"; log_test "fake back-ends"; return; }
	for mode in silent wrong-code stall; do
		case $mode in
		silent) msg="did not answer GET_FEATURES (1) within" ;;
		wrong-code) msg="answered GET_FEATURES (1) with request 99" ;;
		stall) msg="did not answer GET_PROTOCOL_FEATURES (15) within" ;;
		esac
		fake_start $mode
		t0=$(date +%s%3N)
		timeout 15 "$VNET_BIN/vnet-guest" --socket "$GTMP/fake.sock" --netns "$ns" \
			--tap vgf0 --no-reconnect >"$GTMP/fake.out" 2>"$GTMP/fake.err"
		rc=$?
		t1=$(date +%s%3N)
		vlog "$mode: rc $rc in $((t1 - t0)) ms: $(tr '\n' '|' <"$GTMP/fake.err")"
		[ "$rc" = 1 ]
		check_err $? "$mode: exit status $rc, not 1"
		[ $((t1 - t0)) -lt 6000 ]
		check_err $? "$mode: took $((t1 - t0)) ms"
		grep -q "$msg" "$GTMP/fake.err" && grep -q "exiting (--no-reconnect)" "$GTMP/fake.err"
		check_err $? "$mode: no clear report: $(cat "$GTMP/fake.err")"
		fake_stop
	done
	log_test "silent, wrong-code and stalling back-ends: clear error, exit 1 in < 6 s"
}

__fake_connects() { [ "$(wc -l <"$GTMP/fake.sock.log" 2>/dev/null || echo 0)" -ge "$1" ]; }

# Without --no-reconnect: report, retry, and still end at once on SIGTERM
# (even while waiting for a reply).
test_fake_retry()
{
	local ns pid t0 t1 rc
	setup_ns ns || { check_err 1 "setup_ns"; log_test "fake back-end retry"; return; }
	fake_start stall
	"$VNET_BIN/vnet-guest" --socket "$GTMP/fake.sock" --netns "$ns" --tap vgf0 \
		>"$GTMP/fake.out" 2>"$GTMP/fake.err" &
	pid=$!
	defer kill -9 "$pid"
	slowwait 10 __fake_connects 2
	check_err $? "vnet-guest did not retry: $(cat "$GTMP/fake.sock.log" 2>/dev/null)"
	grep -q "failed: Connection timed out; carrier off, reconnecting" "$GTMP/fake.err"
	check_err $? "retry not reported: $(cat "$GTMP/fake.err")"
	t0=$(date +%s%3N)
	kill -TERM "$pid"
	busywait 2000 sh -c "! kill -0 $pid 2>/dev/null"
	check_err $? "vnet-guest did not end within 2 s of SIGTERM"
	wait "$pid"
	rc=$?
	t1=$(date +%s%3N)
	[ "$rc" = 0 ]
	check_err $? "exit status $rc after SIGTERM"
	fake_stop
	log_test "stalling back-end: retried, reported, SIGTERM ends it ($((t1 - t0)) ms)"
}

# --- vnetd devices ------------------------------------------------------------------

vnetd_setup()
{
	[ -n "${VNETD_PID:-}" ] && return 0
	setup_ns NS NS_PEER || return 1
	veth_pair "$NS" up0 "$NS_PEER" peer0 || return 1
	export VNET_SOCK=$GTMP/run/vnetd.sock
	ip netns exec "$NS" "$VNET_BIN/vnetd" -v -u up0 -s "$VNET_SOCK" -d "$GTMP/state" \
		-g 0 >>"$GTMP/vnetd.log" 2>&1 &
	VNETD_PID=$!
	defer kill -9 "$VNETD_PID"
	busywait 5000 "$VNETCTL" mgmtdev show vnet/sim >/dev/null 2>&1
}

driver_ok()
{
	local s
	s=$("$VNETCTL" -j dev show "$1" | jq -r ".dev.$1.status") || return 1
	[ $((s & 0xc)) = 12 ]
}

# vguest DEV: vnet-guest on vnetd's device DEV, TAP vg0 in a new NS_G, up,
# 10.77.0.1/24, no IPv6 (quiet: every frame on the TX queue is ours)
vguest()
{
	local dev=$1
	setup_ns NS_G || return 1
	: >"$GTMP/guest.out"
	"$VNET_BIN/vnet-guest" --socket "$GTMP/run/$dev.sock" --netns "$NS_G" --tap vg0 -j \
		--no-reconnect "${GUEST_ARGS[@]}" >"$GTMP/guest.out" 2>"$GTMP/guest.err" &
	GUEST_PID=$!
	defer kill -9 "$GUEST_PID"
	busywait 5000 driver_ok "$dev" || return 1
	slowwait 5 ip -n "$NS_G" link show vg0 >/dev/null 2>&1 || return 1
	guest_args_took || return 1
	in_ns "$NS_G" sysctl -qw net.ipv6.conf.vg0.disable_ipv6=1
	ip -n "$NS_G" addr add 10.77.0.1/24 dev vg0
	ip -n "$NS_G" link set vg0 up
}

carrier()
{
	ip -n "$NS_G" -j link show vg0 | jq -e ".[0].flags | index(\"LOWER_UP\") $1" >/dev/null
}

# devtx DEV: frames the device took from the guest's TX queue (qidx 1)
devtx()
{
	"$VNETCTL" -j dev vstats show "$1" qidx 1 | jq -r ".vstats.$1.tx_packets // .vstats.$1.rx_packets"
}

__grown() { [ "$(devtx "$1")" -ge "$2" ]; }

# storm N END: toggle the uplink N times, leave it END (up|down)
storm()
{
	local i
	for ((i = 0; i < $1; i++)); do
		ip -n "$NS_PEER" link set peer0 down
		ip -n "$NS_PEER" link set peer0 up
	done
	ip -n "$NS_PEER" link set peer0 "$2"
}

__uplink_events() { grep -c "uplink up0: " "$GTMP/vnetd.log"; }

test_link_storm()
{
	local s blaster t0 cc0 ev0 ev
	vnetd_setup && "$VNETCTL" dev add name l0 mgmtdev vnet/up0 && vguest l0
	check_err $? "setup failed"
	busywait 3000 carrier "!= null"
	check_err $? "carrier not up at start"
	cc0=$(guest_stats | jq .config_changes)
	ev0=$(__uplink_events)
	in_ns "$NS_G" $FRAMES blast vg0 02:00:00:00:77:02 4 >"$GTMP/blast" &
	blaster=$!
	storm 60 down
	busywait 3000 carrier "== null"
	check_err $? "after a storm ending down, the TAP carrier is up"
	storm 60 up
	busywait 3000 carrier "!= null"
	check_err $? "after a storm ending up, the TAP carrier is down"
	wait "$blaster"
	s=$(guest_stats)
	check_err $? "no answer to SIGUSR1 within 2 s after the storm"
	# vnetd reads the uplink's state per rtnetlink event, so fast toggles
	# collapse; every transition it logged must have reached the guest
	ev=$(($(__uplink_events) - ev0))
	vlog "$s; blasted $(cat "$GTMP/blast"); config changes before $cc0; vnetd saw $ev"
	jq -e ".link_up and .disconnects == 0 and .config_changes >= $cc0 + $ev and $ev >= 2 and
		.tx[0].packets > 1000 and .ctrl_err == 0" <<<"$s" >/dev/null
	check_err $? "counters after the storm: $s"
	kill -0 "$GUEST_PID"
	check_err $? "vnet-guest exited: $(cat "$GTMP/guest.err")"
	# still passes traffic: 100 more frames reach the device
	t0=$(devtx l0)
	in_ns "$NS_G" $FRAMES flows vg0 02:00:00:00:77:02 25
	busywait 3000 __grown l0 $((t0 + 100))
	check_err $? "frames after the storm did not reach the device: $t0 -> $(devtx l0)"
	log_test "uplink toggled 2 x 60 times under traffic: carrier follows, $(jq .config_changes <<<"$s") changes counted"
	guest_stop
	"$VNETCTL" dev del l0
	ip netns del "$NS_G"
}

test_announce()
{
	local s t0 a0
	vnetd_setup && "$VNETCTL" dev add name a0 mgmtdev vnet/up0 && vguest a0
	check_err $? "setup failed"
	busywait 3000 carrier "!= null"
	check_err $? "carrier not up at start"
	ip -n "$NS_PEER" link set peer0 down
	busywait 3000 carrier "== null"
	check_err $? "carrier still up"
	a0=$(guest_stats | jq .announces)
	t0=$(devtx a0)
	ip -n "$NS_PEER" link set peer0 up
	busywait 3000 carrier "!= null"
	check_err $? "carrier not back"
	busywait 3000 sh -c "[ \$(kill -USR1 $GUEST_PID; sleep 0.1; tail -n1 $GTMP/guest.out | jq .announces) -gt $a0 ]"
	check_err $? "no announce after the link came back"
	s=$(guest_stats)
	vlog "$s"
	# one gratuitous ARP per IPv4 address, through the device's TX queue
	jq -e '.announce_frames >= 1 and .ctrl_err == 0' <<<"$s" >/dev/null
	check_err $? "counters: $s"
	busywait 3000 __grown a0 $((t0 + 1))
	check_err $? "the gratuitous ARP did not reach the device"
	"$VNETCTL" -j dev config show a0 | jq -e '.config.a0.link_announce == false' >/dev/null
	check_err $? "S_ANNOUNCE not acknowledged: $("$VNETCTL" dev config show a0)"
	grep -q "vg0: announced (1 frames)" "$GTMP/guest.err" || [ "$VERBOSE" = 0 ]
	log_test "link up -> S_ANNOUNCE -> gratuitous ARP + ANNOUNCE_ACK"
	guest_stop
	"$VNETCTL" dev del a0
	ip netns del "$NS_G"
}

__tap_mac_is() { [ "$(in_ns "$NS_G" cat /sys/class/net/vg0/address)" = "$1" ]; }

test_mac_storm()
{
	local s blaster i cc0 mac got
	vnetd_setup && "$VNETCTL" dev add name m0 mgmtdev vnet/sim mac 02:00:00:00:10:00 &&
		vguest m0
	check_err $? "setup failed"
	cc0=$(guest_stats | jq .config_changes)
	in_ns "$NS_G" $FRAMES blast vg0 ff:ff:ff:ff:ff:ff 3 >"$GTMP/blast" &
	blaster=$!
	for ((i = 1; i <= 60; i++)); do
		mac=$(printf "02:00:00:00:10:%02x" "$i")
		"$VNETCTL" dev set name m0 mac "$mac" || break
	done
	wait "$blaster"
	busywait 3000 __tap_mac_is "$mac"
	check_err $? "TAP MAC $(in_ns "$NS_G" cat /sys/class/net/vg0/address), device's $mac"
	got=$(in_ns "$NS_G" $FRAMES probe vg0 "$mac" 20)
	[ "$got" = 20 ]
	check_err $? "$got of 20 frames to the final MAC came back through the device"
	s=$(guest_stats)
	check_err $? "no answer to SIGUSR1 within 2 s after the storm"
	vlog "$s"
	jq -e ".disconnects == 0 and .config_changes >= $cc0 + 60 and .ctrl_err == 0 and
		.rx[0].packets > 1000" <<<"$s" >/dev/null
	check_err $? "counters after the storm: $s"
	log_test "MAC set 60 times under traffic: TAP follows, traffic passes, changes counted"
	guest_stop
	"$VNETCTL" dev del m0
	ip netns del "$NS_G"
}

require_guest
require_bin vnetd
require_bin vnetctl
tests_run
exit $EXIT_STATUS
