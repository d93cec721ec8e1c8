#!/bin/bash
# SPDX-License-Identifier: MIT
# The uplink's life cycle under vnetd: veth up0 (namespace "host") with
# wire0 as the far end, device v0 on vnet/up0 driven by vnet-guest (TAP vg0
# in namespace "g0"). Checked:
#   test_uplink_gone     up0 deleted under TCP traffic: dev show says absent,
#                        mgmtdev show detached, the guest's TAP loses its
#                        carrier, vnetd says so once and sleeps (CPU from
#                        /proc/PID/stat over 1 s); up0 re-created: XDP and
#                        AF_XDP back, carrier back, the guest announced,
#                        ping and TCP both ways again
#   test_carrier_storm   120 carrier toggles (the far end down/up): vnetd's
#                        carrier_changes (mgmtdev show) = the kernel's count,
#                        the device ends in the right state (up: bounced once
#                        and announced; then a storm ending down), traffic
#   test_mtu_limit       up0's MTU raised to 3000 under vnetd: an MTU above
#                        what the uplink datapath carries is refused by dev
#                        add and dev set with the limit and the reason in the
#                        message, and changes nothing; a device at the limit
#                        passes full-sized pings both ways. The limit: 3000
#                        where the kernel has AF_XDP multi-buffer (the datapath
#                        is made again for the new MTU), else 1770 (one 2 KiB
#                        UMEM frame)
#   test_libxdp_refused  vnetd restarted with libxdp's attach refused (the
#                        test hook VNET_DP_FAULT=libxdp plays the dispatcher
#                        of Debian's 6.12 that will not take vnet's program):
#                        attached directly instead, said so once, traffic
#                        flows, the uplink's removal and return re-attach it
#                        directly, SIGTERM detaches it
#   test_map_full        a map update that fails is not taken as done: the
#                        MAC map filled with junk from outside (bpftool),
#                        a trusted guest (no control queue: it does not tell
#                        the device) sends from a new MAC; vnetd says
#                        once that the update failed, resyncs the maps
#                        from its own state within seconds (the junk goes)
#                        and says so; the wire reaches the guest's new MAC
source "$(dirname "$0")/uplink_lib.sh"

ALL_TESTS="test_uplink_gone test_carrier_storm test_mtu_limit test_libxdp_refused test_map_full"

VNETCTL=$VNET_BIN/vnetctl
WIRE_IP=10.8.0.1
GUEST_IP=10.8.0.2
UP_IP=10.8.0.3
MAC0=02:00:00:08:00:02
MAC1=02:00:00:08:00:04
MAC1_NEW=02:00:00:08:00:14
GUEST1_IP=10.8.0.4
# 2048-byte UMEM frame - 256 headroom - Ethernet header - two VLAN tags;
# with multi-buffer: the uplink's MTU in test_mtu_limit (setup decides)
MTU_MAX=1770
MTU_WHY="one 2 KiB AF_XDP frame per packet"
WIRE_MAC=02:00:00:08:00:01
# vnetd's CPU while the uplink is gone: at most this many percent of one CPU
CPU_IDLE_MAX=5

require_uplink_rig

# make_uplink: the veth pair up0 <-> wire0 (again), addresses, fixed MAC
make_uplink()
{
	veth_pair "$NS_HOST" up0 "$NS_WIRE" wire0 || return 1
	ip -n "$NS_WIRE" link set wire0 address $WIRE_MAC
	uplink_addrs
}

setup()
{
	setup_ns NS_WIRE NS_HOST NS_G0 NS_G1 || exit 1
	make_uplink || exit 1
	vnetd_up life
	if grep -q "AF_XDP multi-buffer (XDP_USE_SG): available" "$TMP/vnetd.log"; then
		MTU_MAX=3000
		MTU_WHY="AF_XDP multi-buffer, up to the uplink's MTU"
	fi
	"$VNETCTL" dev add name v0 mgmtdev vnet/up0 mac $MAC0 || exit 1
	guest_up G0 v0 "$NS_G0" $MAC0 $GUEST_IP || { cat "$TMP/G0.err"; exit 1; }
}

dev_field() { "$VNETCTL" -j dev show v0 | jq -r ".dev.v0.$1"; }
mgmt_field() { "$VNETCTL" -j mgmtdev show vnet/up0 | jq -r ".mgmtdev[\"vnet/up0\"].$1"; }
__is() { [ "$("$1" "$2")" = "$3" ]; }
tap_carrier() { ip -n "$NS_G0" link show vg0 | grep -q LOWER_UP; }

__logged() { grep -q "$1" "$TMP/vnetd.log"; }


test_uplink_gone()
{
	local xfer s0 a0 a1 cpu n
	RET=0
	s0=$(guest_stats G0)
	a0=$(jq .announces <<<"$s0")
	# TCP wire -> guest in flight when the uplink goes (it cannot finish)
	in_ns "$NS_G0" $FRAMES tcp-server $GUEST_IP 5202 >/dev/null 2>&1 &
	defer kill $!
	busywait $WAIT_MS __listening "$NS_G0" 5202
	in_ns "$NS_WIRE" timeout 30 $FRAMES tcp-client $GUEST_IP 5202 $((1 << 30)) \
		>/dev/null 2>&1 &
	xfer=$!
	defer kill $xfer
	# data on its way: the guest's receive queues took some of it
	busywait $WAIT_MS __rx_grew G0 "$s0" 32
	check_err $? "no TCP data reached the guest before the uplink went"
	ip -n "$NS_HOST" link del up0
	check_err $? "cannot delete up0"

	busywait $WAIT_MS __is dev_field uplink_state absent
	check_err $? "dev show: uplink_state $(dev_field uplink_state), want absent"
	busywait $WAIT_MS __is mgmt_field datapath detached
	check_err $? "mgmtdev show: datapath $(mgmt_field datapath), want detached"
	busywait $WAIT_MS sh -c "! ip -n $NS_G0 link show vg0 | grep -q LOWER_UP"
	check_err $? "the guest's TAP kept its carrier"
	# what vnetd did meanwhile settles, then it must sleep: a second of
	# (almost) no CPU within 10 s (a vnetd that spins never gets one)
	slowwait 10 vnetd_idle $CPU_IDLE_MAX
	check_err $? "vnetd used $(cat "$TMP/vnetd.cpu")% of a CPU while the uplink was gone (max $CPU_IDLE_MAX%)"
	cpu=$(cat "$TMP/vnetd.cpu")
	busywait $WAIT_MS __logged "uplink gone: datapath detached"
	n=$(grep -c "uplink gone: datapath detached" "$TMP/vnetd.log")
	[ "$n" = 1 ]
	check_err $? "vnetd logged the loss $n times, want once"

	make_uplink
	check_err $? "cannot re-create up0"
	busywait $WAIT_MS __is dev_field uplink_state up
	check_err $? "dev show: uplink_state $(dev_field uplink_state) after the return"
	busywait $WAIT_MS tap_carrier
	check_err $? "the guest's TAP has no carrier after the return"
	busywait $WAIT_MS __logged "uplink is back (ifindex [0-9]*): datapath re-attached"
	check_err $? "vnetd did not re-attach the datapath: $(tail -n 5 "$TMP/vnetd.log")"
	ip -n "$NS_HOST" link show up0 | grep -q "prog/xdp\| xdp"
	check_err $? "no XDP program on the new up0"
	[ "$(mgmt_field datapath)" != detached ]
	check_err $? "mgmtdev show still says detached"
	in_ns "$NS_WIRE" ping -c 3 -i 0.2 -W 2 $GUEST_IP >/dev/null
	check_err $? "wire -> guest ping after the return failed"
	in_ns "$NS_G0" ping -c 3 -i 0.2 -W 2 $WIRE_IP >/dev/null
	check_err $? "guest -> wire ping after the return failed"
	tcp_xfer "$NS_WIRE" "$NS_G0" $GUEST_IP $((8 << 20))
	check_err $? "wire -> guest TCP after the return: data differs"
	tcp_xfer "$NS_G0" "$NS_WIRE" $WIRE_IP $((8 << 20))
	check_err $? "guest -> wire TCP after the return: data differs"
	# spec 5.1.6.5.4: the link came back, the guest announces itself
	a1=$(guest_stats G0 | jq .announces)
	[ "$a1" -gt "$a0" ]
	check_err $? "the guest was not asked to announce itself ($a0 -> $a1)"
	vlog "vnetd CPU while gone: ${cpu}%"
	log_test "uplink deleted under traffic (vnetd ${cpu}% CPU) and re-created: traffic resumes"
}

kernel_changes() { in_ns "$NS_HOST" cat /sys/class/net/up0/carrier_changes; }
# __announced_since N: the guest has announced itself more than N times
__announced_since() { [ "$(guest_stats G0 | jq .announces)" -gt "$1" ]; }
link_is() { [ "$("$VNETCTL" -j dev config show v0 | jq -r .config.v0.link)" = "$1" ]; }
__counted() { [ "$(mgmt_field carrier_changes)" = "$1" ]; }

# storm N END: N carrier transitions of up0 (wire0 down/up), wire0 left END
storm()
{
	local i
	for ((i = 0; i < $1 / 2; i++)); do
		ip -n "$NS_WIRE" link set wire0 down
		ip -n "$NS_WIRE" link set wire0 up
	done
	ip -n "$NS_WIRE" link set wire0 "$2"
}

# storm_check N END: after storm N END, vnetd counted what the kernel did
# and the device, the guest's driver and its TAP are END
storm_check()
{
	local n=$1 end=$2 k0 k1 c0 want
	k0=$(kernel_changes)
	c0=$(mgmt_field carrier_changes)
	storm "$n" "$end"
	k1=$(kernel_changes)
	[ $((k1 - k0)) -ge "$n" ]
	check_err $? "the kernel counted $((k1 - k0)) carrier changes for $n toggles"
	want=$((c0 + k1 - k0))
	busywait $WAIT_MS __counted $want
	check_err $? "vnetd counted $(( $(mgmt_field carrier_changes) - c0 )) carrier changes, the kernel $((k1 - k0))"
	busywait $WAIT_MS link_is "$end"
	check_err $? "device link $("$VNETCTL" -j dev config show v0 | jq -r .config.v0.link) after a storm ending $end"
	if [ "$end" = up ]; then
		busywait $WAIT_MS tap_carrier
	else
		busywait $WAIT_MS sh -c "! ip -n $NS_G0 link show vg0 | grep -q LOWER_UP"
	fi
	check_err $? "the guest's TAP carrier is wrong after a storm ending $end"
	STORM_SEEN=$((k1 - k0))
}

test_carrier_storm()
{
	local s0 s1 s2
	RET=0
	busywait $WAIT_MS tap_carrier
	check_err $? "no carrier at the start"
	s0=$(guest_stats G0)
	# up -> 120 transitions -> up: the driver must see the bounce
	storm_check 120 up
	busywait $WAIT_MS __announced_since "$(jq .announces <<<"$s0")"
	check_err $? "no announce after a storm that ended up"
	s1=$(guest_stats G0)
	[ "$(jq .config_changes <<<"$s1")" -ge $(( $(jq .config_changes <<<"$s0") + 2 )) ]
	check_err $? "the driver saw no bounce: config changes $(jq .config_changes <<<"$s0") -> $(jq .config_changes <<<"$s1")"
	# up -> 121 transitions -> down, then back
	storm_check 120 down
	ip -n "$NS_WIRE" link set wire0 up
	busywait $WAIT_MS tap_carrier
	check_err $? "no carrier after the last storm"
	in_ns "$NS_WIRE" ping -c 3 -i 0.2 -W 2 $GUEST_IP >/dev/null
	check_err $? "wire -> guest ping after the storms failed"
	s2=$(guest_stats G0)
	jq -e '.link_up and .disconnects == 0' <<<"$s2" >/dev/null
	check_err $? "guest after the storms: $s2"
	vlog "guest: $s2"
	log_test "carrier storm (120 toggles, ${STORM_SEEN:-?} last): counted as the kernel did, right final state"
}

__uplink_mtu() { [ "$(mgmt_field uplink_mtu)" = "$1" ]; }

test_mtu_limit()
{
	local state0 err
	RET=0
	# the uplink's own MTU is not what refuses here
	ip -n "$NS_WIRE" link set wire0 mtu 3000 && ip -n "$NS_HOST" link set up0 mtu 3000
	check_err $? "cannot raise the uplink's MTU"
	busywait $WAIT_MS __uplink_mtu 3000
	check_err $? "uplink_mtu $(mgmt_field uplink_mtu), want 3000"
	state0=$(cat "$TMP/state/devices")
	for m in 9000 $((MTU_MAX + 1)); do
		"$VNETCTL" dev add name m0 mgmtdev vnet/up0 mac $MAC1 mtu $m 2>"$TMP/err"
		check_fail $? "dev add with mtu $m accepted"
		grep -qF "MTU $m is more than the uplink datapath carries (max $MTU_MAX: $MTU_WHY" "$TMP/err"
		check_err $? "dev add mtu $m: no clear error: $(cat "$TMP/err")"
		"$VNETCTL" dev show m0 >/dev/null 2>&1
		check_fail $? "device m0 exists after a refused dev add (mtu $m)"
		[ "$(cat "$TMP/state/devices")" = "$state0" ]
		check_err $? "the state file changed after a refused dev add (mtu $m)"
	done
	"$VNETCTL" dev set name v0 mtu 9000 2>"$TMP/err"
	check_fail $? "dev set mtu 9000 accepted"
	grep -qF "MTU 9000 is more than the uplink datapath carries (max $MTU_MAX: $MTU_WHY" "$TMP/err"
	check_err $? "dev set mtu 9000: no clear error: $(cat "$TMP/err")"
	[ "$("$VNETCTL" -j dev config show v0 | jq .config.v0.mtu)" = 1500 ]
	check_err $? "v0's MTU changed"
	# a device at the limit carries full-sized frames both ways
	"$VNETCTL" dev add name m1 mgmtdev vnet/up0 mac $MAC1 mtu $MTU_MAX
	check_err $? "dev add at the limit ($MTU_MAX) refused"
	guest_up G1 m1 "$NS_G1" $MAC1 $GUEST1_IP
	check_err $? "guest on m1 did not come up"
	[ "$(ip -n "$NS_G1" -j link show vg0 | jq '.[0].mtu')" = $MTU_MAX ]
	check_err $? "the guest's TAP MTU is not $MTU_MAX"
	# ICMP payload = MTU - 20 (IPv4) - 8 (ICMP), never fragmented
	in_ns "$NS_WIRE" ping -c 3 -i 0.2 -W 2 -M do -s $((MTU_MAX - 28)) $GUEST1_IP >/dev/null
	check_err $? "wire -> guest ping of $MTU_MAX-byte packets failed"
	in_ns "$NS_G1" ping -c 3 -i 0.2 -W 2 -M do -s $((MTU_MAX - 28)) $WIRE_IP >/dev/null
	check_err $? "guest -> wire ping of $MTU_MAX-byte packets failed"
	{ kill -9 "$G1_PID"; wait "$G1_PID"; } 2>/dev/null
	"$VNETCTL" dev del m1
	ip -n "$NS_HOST" link set up0 mtu 1500 && ip -n "$NS_WIRE" link set wire0 mtu 1500
	log_test "MTU above $MTU_MAX refused (dev add, dev set), nothing changed; $MTU_MAX carried"
}

xdp_on_uplink() { ip -n "$NS_HOST" link show up0 | grep -q "prog/xdp\| xdp"; }
__logged_since() { tail -n +"$1" "$TMP/vnetd.log" | grep -q "$2"; }

vnetd_stop()
{
	kill -TERM "$VNETD_PID" 2>/dev/null
	busywait $WAIT_MS sh -c "! kill -0 $VNETD_PID 2>/dev/null"
}

test_libxdp_refused()
{
	local n
	RET=0
	vnetd_stop
	check_err $? "vnetd did not stop"
	# this vnetd's lines only: on a kernel whose dispatcher really refuses
	# vnet's program (Debian's 6.12) the earlier ones say it too
	local from=$(($(wc -l <"$TMP/vnetd.log") + 1))
	export VNET_DP_FAULT=libxdp
	vnetd_start
	check_err $? "vnetd did not start with libxdp refused"
	unset VNET_DP_FAULT
	busywait $WAIT_MS __is mgmt_field datapath "native direct"
	check_err $? "mgmtdev show: datapath $(mgmt_field datapath), want native direct"
	busywait $WAIT_MS __logged_since $from "libxdp could not attach the program"
	n=$(tail -n +$from "$TMP/vnetd.log" |
		grep -c "libxdp could not attach the program (.*) but the program alone attaches")
	[ "$n" = 1 ]
	check_err $? "the fallback was logged $n times, want once"
	tail -n +$from "$TMP/vnetd.log" | grep -q "no datapath"
	check_fail $? "vnetd says no datapath: $(grep "no datapath" "$TMP/vnetd.log")"
	xdp_on_uplink
	check_err $? "no XDP program on up0"
	# vnet-guest reconnects to the restored device on its own
	busywait $((2 * WAIT_MS)) tap_carrier
	check_err $? "the guest's TAP has no carrier after the restart"
	in_ns "$NS_WIRE" ping -c 3 -i 0.2 -W 2 $GUEST_IP >/dev/null
	check_err $? "wire -> guest ping over the direct attach failed"
	# gone and back: attached directly again (the hook stays on in vnetd)
	ip -n "$NS_HOST" link del up0
	busywait $WAIT_MS __is mgmt_field datapath detached
	check_err $? "mgmtdev show: datapath $(mgmt_field datapath) while gone"
	make_uplink
	busywait $WAIT_MS __is mgmt_field datapath "native direct"
	check_err $? "mgmtdev show: datapath $(mgmt_field datapath) after the return"
	busywait $WAIT_MS tap_carrier
	in_ns "$NS_WIRE" ping -c 3 -i 0.2 -W 2 $GUEST_IP >/dev/null
	check_err $? "wire -> guest ping after the return failed"
	vnetd_stop
	xdp_on_uplink
	check_fail $? "the direct attach stayed after SIGTERM"
	# the normal vnetd again, for whatever runs next
	vnetd_start
	log_test "libxdp refused: attached directly, said once, traffic, removal/return, detach"
}

# mac_map_id: the id of the MAC map among vnetd's own file descriptors
mac_map_id()
{
	local f id
	for f in /proc/"$VNETD_PID"/fdinfo/*; do
		id=$(awk '/^map_id:/ { print $2 }' "$f" 2>/dev/null)
		[ -n "$id" ] || continue
		bpftool -j map show id "$id" 2>/dev/null |
			jq -e '.name == "mac_devs"' >/dev/null && { echo "$id"; return 0; }
	done
	return 1
}

map_entries() { bpftool -j map dump id "$1" | jq length; }

# __sent_and_logged FROM TEXT: the guest on mf sends one frame (a ping to
# the wire, from whatever MAC its TAP has), and vnetd said TEXT since line
# FROM
__sent_and_logged()
{
	in_ns "$NS_G1" ping -c 1 -W 1 $WIRE_IP >/dev/null 2>&1
	__logged_since "$1" "$2"
}

test_map_full()
{
	local id from n
	RET=0
	# the guest does not tell the device its new MAC (--no-ctrl: no
	# control queue, as QEMU keeps it): vnet-guest otherwise mirrors its
	# TAP's MAC with MAC_ADDR_SET, a device MAC change and no learning
	"$VNETCTL" dev add name mf mgmtdev vnet/up0 mac $MAC1
	check_err $? "dev add mf failed"
	guest_up G1 mf "$NS_G1" $MAC1 $GUEST1_IP --no-ctrl
	check_err $? "guest on mf did not come up"
	from=$(($(wc -l <"$TMP/vnetd.log") + 1))
	id=$(mac_map_id)
	check_err $? "no mac_devs map among vnetd's descriptors"
	# junk until the map refuses (bpftool's batch stops at the first error)
	python3 -c 'import sys
for i in range(4096):
    print("map update id %s key hex 02 ee %02x %02x 00 00 00 00 value hex 0 0 0 0 0 0 0 0"
          % (sys.argv[1], i >> 8, i & 255))' "$id" >"$TMP/fill"
	bpftool batch file "$TMP/fill" >/dev/null 2>&1
	n=$(map_entries "$id")
	[ "$n" = 4096 ]
	check_err $? "the MAC map holds $n entries, not full"
	# a trusted guest sending from a new MAC needs a new entry
	"$VNETCTL" dev set name mf trust on
	ip -n "$NS_G1" link set vg0 address $MAC1_NEW
	busywait $((2 * WAIT_MS)) __sent_and_logged $from \
		"mf: datapath update failed: .*; retrying every second"
	check_err $? "no log line for the failed update (learned: $("$VNETCTL" -j dev show mf |
		jq -c .dev.mf.learned_macs), map: $(map_entries "$id") entries)"
	busywait $((3 * WAIT_MS)) __logged_since $from "mf: datapath updated after [0-9]* failed attempt"
	check_err $? "the maps were not resynced: $(tail -n +$from "$TMP/vnetd.log")"
	# (v0's own updates may fail meanwhile too: the map is the uplink's)
	n=$(tail -n +$from "$TMP/vnetd.log" | grep -c "mf: datapath update failed")
	[ "$n" = 1 ]
	check_err $? "the failure was logged $n times, want once"
	n=$(map_entries "$id")
	[ "$n" -lt 64 ]
	check_err $? "the junk stayed in the MAC map ($n entries)"
	"$VNETCTL" -j dev show mf | jq -e ".dev.mf.learned_macs | index(\"$MAC1_NEW\")" >/dev/null
	check_err $? "dev show does not list the learned MAC"
	in_ns "$NS_WIRE" ip neigh flush dev wire0
	in_ns "$NS_WIRE" ping -c 3 -i 0.2 -W 2 $GUEST1_IP >/dev/null
	check_err $? "wire -> guest at its new MAC failed"
	{ kill -9 "$G1_PID"; wait "$G1_PID"; } 2>/dev/null
	"$VNETCTL" dev del mf
	in_ns "$NS_WIRE" ip neigh flush dev wire0
	log_test "a failed map update (MAC map full): said once, resynced, the new MAC reached"
}

setup
tests_run
exit $EXIT_STATUS
