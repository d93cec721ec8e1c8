#!/bin/bash
# SPDX-License-Identifier: MIT
# End to end over a real uplink: vnetd manages veth up0 (namespace "host")
# whose peer wire0 is "the wire" (10.7.0.1); device v0 on vnet/up0 is driven
# by vnet-guest, whose TAP in namespace "guest" is 10.7.0.2 with the
# device's MAC. Frames go wire -> XDP -> AF_XDP -> vnetd's uplink worker ->
# the device's receive queues -> vnet-guest -> TAP, and back through the
# transmit queues and the AF_XDP tx ring (GSO sends: whole through the
# uplink's packet socket). Checked: ping both ways, TCP both ways with the
# sha256 of the data (the GSO sends crossing whole; again with the guest's
# offloads off in turn), the uplink's own address still answers,
# the host and the guest reach each other through the host port (ping,
# TCP both ways, never over the wire),
# RSS + hash report over two queue pairs (spread, no hash/queue mismatch),
# two devices on one uplink (device to device, broadcast to both),
# the spoof check (a foreign source MAC is dropped and counted unless the
# device is trusted), vhost-user SEND_RARP announcing a device on the wire, the host and the
# other device, and
# SIGTERM detaching XDP.
source "$(dirname "$0")/uplink_lib.sh"

ALL_TESTS="test_ping test_tcp test_udp_gso test_tcp_offloads test_host_ping test_guest_host test_rss test_spoofchk test_dev_to_dev test_rarp test_sigterm_detach"

VNETCTL=$VNET_BIN/vnetctl
FRAMES="python3 $SELFTEST_DIR/guest_frames.py"
WIRE_IP=10.7.0.1
GUEST_IP=10.7.0.2
UP_IP=10.7.0.3
GUEST2_IP=10.7.0.4
MAC0=02:00:00:07:00:02
MAC1=02:00:00:07:00:04

require_uplink_rig

setup()
{
	setup_ns NS_WIRE NS_HOST NS_G0 NS_G1 || exit 1
	veth_pair "$NS_HOST" up0 "$NS_WIRE" wire0 || exit 1
	uplink_addrs
	vnetd_up e2e
	"$VNETCTL" dev add name v0 mgmtdev vnet/up0 mac $MAC0 max_vqp 2 || exit 1
	guest_up G0 v0 "$NS_G0" $MAC0 $GUEST_IP --rss --hash-report || exit 1
}

test_ping()
{
	RET=0
	in_ns "$NS_WIRE" ping -c 3 -i 0.2 -W 2 $GUEST_IP >/dev/null
	check_err $? "wire -> guest ping failed"
	in_ns "$NS_G0" ping -c 3 -i 0.2 -W 2 $WIRE_IP >/dev/null
	check_err $? "guest -> wire ping failed"
	log_test "ping between the wire and a guest on the uplink"
}

test_tcp()
{
	RET=0
	local w0 w1 how="segmented in software"
	w0=$(wire_rx_packets)
	tcp_xfer "$NS_G0" "$NS_WIRE" $WIRE_IP $((32 << 20))
	check_err $? "guest -> wire TCP data differs"
	w1=$(wire_rx_packets)
	# the guest's TSO sends leave through the packet socket whole, and
	# up0 (a veth) hands them to wire0 whole: far fewer than the ~23000
	# MTU frames that 32 MiB make (veth counts an skb once)
	if grep -q "GSO sends whole to the kernel" "$TMP/vnetd.log"; then
		how="whole to the kernel"
		[ $((w1 - w0)) -lt 6000 ]
		check_err $? "guest -> wire: $((w1 - w0)) frames on wire0, GSO sends were cut"
	fi
	vlog "guest -> wire 32 MiB: $((w1 - w0)) frames on wire0"
	tcp_xfer "$NS_WIRE" "$NS_G0" $GUEST_IP $((32 << 20))
	check_err $? "wire -> guest TCP data differs"
	log_test "TCP 32 MiB each way, sha256 intact (guest TSO sends $how)"
}

# UDP GSO (UDP_SEGMENT) from the guest: with HOST_USO the TAP hands the
# sends over whole, vnetd hands them to the kernel whole (VIRTIO_NET_HDR_
# GSO_UDP_L4 on the packet socket); every datagram arrives intact.
test_udp_gso()
{
	local pid w0 w1 sent good bad
	RET=0
	in_ns "$NS_WIRE" $FRAMES udp-count $WIRE_IP 5302 20 >"$TMP/udp.out" 2>"$TMP/udp.rdy" &
	pid=$!
	busywait $WAIT_MS __ready "$TMP/udp.rdy"
	w0=$(wire_rx_packets)
	sent=$(in_ns "$NS_G0" $FRAMES udp-gso-send $WIRE_IP 5302 200 8 1200)
	wait $pid
	w1=$(wire_rx_packets)
	read -r good bad <"$TMP/udp.out"
	vlog "UDP GSO: $sent datagrams sent, $good good, $bad bad, $((w1 - w0)) frames on wire0"
	[ "${bad:-1}" = 0 ]
	check_err $? "$bad datagrams arrived corrupted"
	[ "${good:-0}" -ge $((${sent:-1600} * 9 / 10)) ]
	check_err $? "$good of $sent datagrams arrived"
	# the TAP's USO and the packet socket's GSO_UDP_L4 came with Linux
	# 6.2: before it the guest's stack cuts the sends itself
	if in_ns "$NS_G0" ethtool -k vg0 | grep -q "tx-udp-segmentation: on" &&
	   grep -q "GSO sends whole to the kernel" "$TMP/vnetd.log"; then
		[ $((w1 - w0)) -lt $((sent / 2)) ]
		check_err $? "HOST_USO: $((w1 - w0)) frames on wire0 for $sent datagrams (cut before)"
	fi
	log_test "UDP GSO sends from the guest (HOST_USO): every datagram intact on the wire"
}

# tcp_both WHAT: 32 MiB each way between the guest and the wire, sha256 intact
tcp_both()
{
	tcp_both_ways $((32 << 20)) "$1: "
}

# guest_restart ARGS: G0 again on v0 (a new driver, features negotiated anew)
guest_restart()
{
	kill -TERM "$G0_PID"
	busywait $WAIT_MS sh -c "! kill -0 $G0_PID 2>/dev/null"
	slowwait $((WAIT_MS / 1000)) sh -c "! ip -n $NS_G0 link show vg0 >/dev/null 2>&1"
	guest_up G0 v0 "$NS_G0" $MAC0 $GUEST_IP "$@"
}

# The same data with every offload of the guest's path off in turn: the
# guest's stack segments and checksums itself (ethtool on the TAP), the
# uplink cannot segment (the kernel does, in software), and a driver that
# negotiates neither HOST_TSO/USO nor GUEST_TSO (vnet-guest --no-tso
# --no-guest-tso): MTU frames both ways.
test_tcp_offloads()
{
	local f before after
	RET=0
	in_ns "$NS_G0" ethtool -K vg0 tso off gso off >/dev/null
	check_err $? "ethtool -K vg0 tso off gso off"
	before=$(guest_stats G0)
	tcp_xfer "$NS_G0" "$NS_WIRE" $WIRE_IP $((32 << 20))
	check_err $? "guest TSO/GSO off: guest -> wire TCP data differs"
	# vnetd turns the driver's kicks off while it polls (spec 2.7.10):
	# fewer kicks than publishes. How many fewer is the load's: vnetd
	# goes back to sleep (and the driver rightly kicks again) whenever
	# it catches up. While it segmented the guest's TSO sends itself it
	# stayed busy and fewer than half kicked; now a 64 KiB send is one
	# sendmsg, and even on MTU frames (here, one way) about half kick
	# (one run: 680 kicks in 1304 publishes since the guest started).
	after=$(guest_stats G0)
	jq -e -n --argjson b "$before" --argjson a "$after" '
		(([$a.tx[].publishes] | add) - ([$b.tx[].publishes] | add)) as $p |
		(([$a.tx[].kicks] | add) - ([$b.tx[].kicks] | add)) as $k |
		$p >= 100 and $k < $p' >/dev/null
	check_err $? "kicks not suppressed while vnetd polls: $(jq -c '[.tx[] | {publishes, kicks}]' <<<"$after")"
	vlog "tx batches/kicks: $(jq -c '[.tx[] | {publishes, kicks}]' <<<"$after")"
	tcp_xfer "$NS_WIRE" "$NS_G0" $GUEST_IP $((32 << 20))
	check_err $? "guest TSO/GSO off: wire -> guest TCP data differs"
	in_ns "$NS_G0" ethtool -K vg0 tx off >/dev/null
	check_err $? "ethtool -K vg0 tx off"
	tcp_both "guest checksum offload off"
	in_ns "$NS_G0" ethtool -K vg0 tx on tso on gso on >/dev/null
	# an uplink that cannot segment: the kernel cuts the GSO sends vnetd
	# hands it (software GSO in dev_queue_xmit)
	in_ns "$NS_HOST" ethtool -K up0 tso off >/dev/null
	check_err $? "ethtool -K up0 tso off"
	tcp_both "uplink TSO off"
	in_ns "$NS_HOST" ethtool -K up0 tso on >/dev/null
	guest_restart --no-tso --no-guest-tso --rss --hash-report
	check_err $? "vnet-guest --no-tso --no-guest-tso did not come up"
	f=$(guest_stats G0 | jq -r .features)
	# HOST_TSO4 (11), HOST_TSO6 (12), GUEST_TSO4 (7), HOST_USO (56)
	[ -n "$f" ] && [ $(( f & (1 << 11 | 1 << 12 | 1 << 7 | 1 << 56) )) = 0 ]
	check_err $? "offloads still negotiated: $f"
	tcp_both "HOST_TSO and GUEST_TSO not negotiated"
	guest_restart --rss --hash-report
	check_err $? "vnet-guest did not come back"
	tcp_both "offloads on again"
	log_test "TCP 32 MiB each way, sha256 intact: guest TSO/GSO off, checksum offload off, uplink TSO off, no HOST_TSO/GUEST_TSO"
}

test_host_ping()
{
	RET=0
	in_ns "$NS_WIRE" ping -c 3 -i 0.2 -W 2 $UP_IP >/dev/null
	check_err $? "the uplink's own address does not answer"
	in_ns "$NS_WIRE" ping -c 2 -i 0.2 -W 2 $GUEST_IP >/dev/null
	check_err $? "the guest stopped answering"
	log_test "the uplink's own IP still answers while the device is active"
}

test_guest_host()
{
	local a b
	RET=0
	if ! grep -q "host port vnh" "$TMP/vnetd.log"; then
		log_skip "guest <-> host on the same uplink" "no host port: $(grep 'host port' "$TMP/vnetd.log")"
		return
	fi
	# ARP both ways goes through the port too: start with empty caches
	ip -n "$NS_HOST" neigh flush dev up0
	ip -n "$NS_G0" neigh flush dev vg0
	in_ns "$NS_G0" ping -c 3 -i 0.2 -W 2 $UP_IP >/dev/null
	check_err $? "guest -> host ping failed"
	in_ns "$NS_HOST" ping -c 3 -i 0.2 -W 2 $GUEST_IP >/dev/null
	check_err $? "host -> guest ping failed"
	a=$(wire_rx_packets)
	in_ns "$NS_G0" ping -c 20 -i 0.05 -W 2 $UP_IP >/dev/null
	check_err $? "guest -> host ping (20) failed"
	b=$(wire_rx_packets)
	[ $((b - a)) -lt 10 ]
	check_err $? "guest -> host frames went over the wire ($((b - a)) frames)"
	tcp_xfer "$NS_G0" "$NS_HOST" $UP_IP $((8 << 20))
	check_err $? "guest -> host TCP data differs"
	tcp_xfer "$NS_HOST" "$NS_G0" $GUEST_IP $((8 << 20))
	check_err $? "host -> guest TCP data differs"
	log_test "guest <-> host on the same uplink (host port), not over the wire"
}

test_rss()
{
	local before after
	RET=0
	before=$(guest_stats G0)
	check_err $? "no counters from vnet-guest"
	# 64 flows x (TCP, UDP) x (IPv4, IPv6) addressed to the device; then
	# until the guest has them all (or its counters say why not)
	in_ns "$NS_WIRE" $FRAMES flows wire0 $MAC0 64
	slowwait 30 __rx_grew G0 "$before" 256
	after=$(guest_stats G0)
	check_err $? "no counters from vnet-guest"
	vlog "before $before"
	vlog "after $after"
	jq -e -n --argjson b "$before" --argjson a "$after" '
		[range(0; 2) | $a.rx[.].packets - $b.rx[.].packets] as $d |
		($d | all(. >= 16)) and ($d | add) >= 256' >/dev/null
	check_err $? "flows did not spread over both queues: $(echo "$after" | jq -c '[.rx[].packets]')"
	jq -e --argjson b "$before" '
		([.rx[].hash_checked] | add) - ([$b.rx[].hash_checked] | add) >= 256 and
		([.rx[].hash_mismatch] | add) == 0 and ([.rx[].queue_mismatch] | add) == 0' \
		<<<"$after" >/dev/null
	check_err $? "hash report differs from the reference: $(echo "$after" | jq -c '.rx')"
	log_test "RSS over 2 queue pairs from the wire: spread, every hash = reference"
}

test_dev_to_dev()
{
	local a b
	RET=0
	"$VNETCTL" dev add name v1 mgmtdev vnet/up0 mac $MAC1
	check_err $? "second device not made"
	guest_up G1 v1 "$NS_G1" $MAC1 $GUEST2_IP
	check_err $? "second guest did not come up"
	# ARP (broadcast) from the wire reaches both devices
	ip -n "$NS_WIRE" neigh flush dev wire0
	in_ns "$NS_WIRE" ping -c 2 -i 0.2 -W 2 $GUEST_IP >/dev/null
	check_err $? "wire -> v0 after ARP failed"
	in_ns "$NS_WIRE" ping -c 2 -i 0.2 -W 2 $GUEST2_IP >/dev/null
	check_err $? "wire -> v1 after ARP failed"
	# device to device: unicast between the two never reaches the wire
	in_ns "$NS_G0" ping -c 1 -W 2 $GUEST2_IP >/dev/null
	a=$(wire_rx_packets)
	in_ns "$NS_G0" ping -c 20 -i 0.05 -W 2 $GUEST2_IP >/dev/null
	check_err $? "v0 -> v1 ping failed"
	b=$(wire_rx_packets)
	[ $((b - a)) -lt 10 ]
	check_err $? "device-to-device frames went over the wire ($((b - a)) frames)"
	tcp_xfer "$NS_G1" "$NS_G0" $GUEST_IP $((8 << 20))
	check_err $? "v1 -> v0 TCP data differs"
	log_test "two devices on one uplink: device to device, broadcast to both"
}

# Not a test (not in ALL_TESTS): TESTS=bench_iperf prints TCP throughput
# with the CPU time vnetd used, for a quick look.
bench_iperf()
{
	local t0 t1 dir
	require_command iperf3
	in_ns "$NS_WIRE" iperf3 -s -1 -D >/dev/null
	in_ns "$NS_G0" iperf3 -s -1 -D >/dev/null
	sleep 0.3
	for dir in "$NS_G0 $WIRE_IP guest->wire" "$NS_WIRE $GUEST_IP wire->guest"; do
		set -- $dir
		t0=$(awk '{print $14 + $15}' /proc/"$VNETD_PID"/stat)
		echo "$3: $(in_ns "$1" iperf3 -c "$2" -t 5 -J | jq -r \
			'.end.sum_received.bits_per_second / 1e9 | tostring + " Gbit/s"')" \
			"vnetd CPU $(( $(awk '{print $14 + $15}' /proc/"$VNETD_PID"/stat) - t0 )) ticks / 5 s"
	done
}

# spoof_burst TAG: 5 broadcasts from a foreign source MAC out of the guest,
# then one from its own MAC carrying END$TAG (the fence); prints how many
# carrying TAG reached wire0, the host (up0; "-" without a host port) and
# the sender itself (vg0: an echo would be a loop). Every listener counts
# until its fence, not for a fixed time: the wire and the host get the
# guest's own, which left after the spoofed ones; vg0 gets one from the
# wire, sent once the wire had the guest's -- vnetd had handled every
# spoofed frame by then, and the wire's frame reaches vg0 behind anything
# that put on v0's receive queue. A fence that never came fails.
spoof_burst()
{
	local tag=$1 fence=END$1 wire host=- self rc=0
	listen spoof.wire "$NS_WIRE" mark-count wire0 "$tag" $LISTEN_MAX "$fence" || return 1
	wire=$LISTEN_PID
	if grep -q "host port vnh" "$TMP/vnetd.log"; then
		listen spoof.host "$NS_HOST" mark-count up0 "$tag" $LISTEN_MAX "$fence" || return 1
		host=$LISTEN_PID
	fi
	listen spoof.self "$NS_G0" mark-count vg0 "$tag" $LISTEN_MAX "$fence" || return 1
	self=$LISTEN_PID
	in_ns "$NS_G0" $FRAMES spoof-send vg0 02:00:00:00:de:ad "$tag" 5 "$fence"
	wait "$wire" || rc=1
	[ "$host" = - ] || wait "$host" || rc=1
	in_ns "$NS_WIRE" $FRAMES mark-send wire0 $MAC0 "$fence" 1
	wait "$self" || rc=1
	if [ $rc != 0 ]; then
		echo "a fence did not arrive: wire $(cat "$TMP/spoof.wire") host $(cat "$TMP/spoof.host" 2>/dev/null) self $(cat "$TMP/spoof.self")"
		return 1
	fi
	echo "$(cat "$TMP/spoof.wire") $([ "$host" = - ] && echo - || cat "$TMP/spoof.host") $(cat "$TMP/spoof.self")"
}

# DESIGN "Robustness rules": a device that is not trusted cannot send with
# a foreign source MAC; vnetctl shows the drops; trust lets them through.
test_spoofchk()
{
	local before after n want
	RET=0
	before=$(port_counter v0 tx_spoofed)
	check_err $? "no port counters in vnetctl dev show"
	n=$(spoof_burst SPOOFA)
	check_err $? "$n"
	[[ $n = "0 0 0" || $n = "0 - 0" ]]
	check_err $? "frames with a foreign source MAC got out (wire host self): $n"
	after=$(port_counter v0 tx_spoofed)
	[ "$((after - before))" = 5 ]
	check_err $? "tx_spoofed moved by $((after - before)), want 5"
	"$VNETCTL" dev set name v0 trust on
	check_err $? "trust on refused"
	n=$(spoof_burst SPOOFB)
	check_err $? "$n"
	want="5 5 0"
	grep -q "host port vnh" "$TMP/vnetd.log" || want="5 - 0"
	[ "$n" = "$want" ]
	check_err $? "trusted device, 5 broadcasts (wire host self): $n, want $want"
	"$VNETCTL" -j dev show v0 | jq -e '.dev.v0.learned_macs | length > 0' >/dev/null
	check_err $? "the trusted device learned no source MAC: $("$VNETCTL" dev show v0)"
	"$VNETCTL" dev set name v0 trust off
	# forgotten at once, not at the worker's next round
	"$VNETCTL" -j dev show v0 | jq -e '.dev.v0.learned_macs == null' >/dev/null
	check_err $? "trust off: dev show still lists learned MACs"
	in_ns "$NS_WIRE" ping -c 1 -W 2 $GUEST_IP >/dev/null
	vlog "$("$VNETCTL" dev show v0)"
	[ "$(port_counter v0 tx_wire)" -gt 0 ] && [ "$(port_counter v0 rx_frames)" -gt 0 ]
	check_err $? "port counters do not move: $("$VNETCTL" -j dev show v0)"
	log_test "spoof check: foreign source MAC dropped and counted; trusted: to wire and host, no echo"
}

__port_counter_above() { [ "$(port_counter "$1" "$2")" -gt "$3" ]; }

# After a migration QEMU asks the back-end to announce a driver without
# GUEST_ANNOUNCE (vnet-guest plays it on SIGUSR2): one RARP from the
# device's MAC, out of its port like a frame it sent. The listeners count
# until a broadcast the guest sends once vnetd counted the RARP (tx_rarp):
# it follows the RARP on every path.
test_rarp()
{
	local before after r0 fence=ENDRARP$RANDOM host= g1= rc=0 p pids
	RET=0
	before=$(guest_stats G0)
	r0=$(port_counter v0 tx_rarp)
	check_err $? "no tx_rarp port counter"
	listen rarp.wire "$NS_WIRE" rarp-count wire0 $MAC0 $LISTEN_MAX $fence
	check_err $? "the wire's listener did not start"
	pids=$LISTEN_PID
	if grep -q "host port vnh" "$TMP/vnetd.log"; then
		listen rarp.host "$NS_HOST" rarp-count up0 $MAC0 $LISTEN_MAX $fence
		check_err $? "the host's listener did not start"
		pids="$pids $LISTEN_PID" host=1
	fi
	# the second device exists once test_dev_to_dev ran
	if [ -n "${G1_PID:-}" ]; then
		listen rarp.g1 "$NS_G1" rarp-count vg0 $MAC0 $LISTEN_MAX $fence
		check_err $? "the other device's listener did not start"
		pids="$pids $LISTEN_PID" g1=1
	fi
	kill -USR2 "$G0_PID"
	busywait 30000 __port_counter_above v0 tx_rarp "$r0"
	check_err $? "vnetd sent no RARP (port tx_rarp $r0 -> $(port_counter v0 tx_rarp))"
	in_ns "$NS_G0" $FRAMES mark-send vg0 ff:ff:ff:ff:ff:ff $fence 1
	for p in $pids; do
		wait "$p" || rc=1
	done
	check_err $rc "the broadcast behind the RARP did not arrive everywhere"
	after=$(guest_stats G0)
	[ "$(jq .rarps_sent <<<"$after")" -gt "$(jq .rarps_sent <<<"$before")" ]
	check_err $? "the back-end did not take SEND_RARP"
	[ "$(cat "$TMP/rarp.wire")" = 1 ]
	check_err $? "RARPs from $MAC0 on the wire: $(cat "$TMP/rarp.wire") (want 1)"
	if [ -n "$host" ]; then
		[ "$(cat "$TMP/rarp.host")" -ge 1 ]
		check_err $? "the host saw no RARP from $MAC0"
	fi
	if [ -n "$g1" ]; then
		[ "$(cat "$TMP/rarp.g1")" = 1 ]
		check_err $? "the other device saw $(cat "$TMP/rarp.g1") RARPs (want 1)"
	fi
	log_test "SEND_RARP: the device announced on the wire, to the host and the other device"
}

test_sigterm_detach()
{
	RET=0
	ip -n "$NS_HOST" link show up0 | grep -q "prog/xdp\| xdp"
	check_err $? "no XDP program on the uplink while vnetd runs"
	# the host port's TC filter (handle 0x766e) and TAP, when there is one
	local port=0
	in_ns "$NS_HOST" tc filter show dev up0 egress | grep -q "handle 0x766e" && port=1
	kill -TERM "$VNETD_PID"
	busywait $WAIT_MS sh -c "! kill -0 $VNETD_PID 2>/dev/null"
	check_err $? "vnetd did not exit on SIGTERM"
	ip -n "$NS_HOST" link show up0 | grep -q "prog/xdp\| xdp"
	check_fail $? "XDP still attached after SIGTERM"
	if [ $port = 1 ]; then
		in_ns "$NS_HOST" tc filter show dev up0 egress | grep -q "handle 0x766e"
		check_fail $? "host port TC filter left on the uplink after SIGTERM"
		ip -n "$NS_HOST" -o link show | grep -q " vnh[0-9]*:"
		check_fail $? "host port TAP left after SIGTERM"
	fi
	in_ns "$NS_WIRE" ping -c 2 -i 0.2 -W 2 $UP_IP >/dev/null
	check_err $? "the uplink's own address does not answer after exit"
	log_test "SIGTERM detaches XDP (and the host port) from the uplink"
}

setup
tests_run
exit $EXIT_STATUS
