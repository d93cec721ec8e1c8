#!/bin/bash
# SPDX-License-Identifier: MIT
# VDUSE: vnet devices on the kernel's vdpa bus (transport vduse).
#
# On this host (no VDUSE: DESIGN.md, machine facts) `dev add ... transport
# vduse` must fail with a clear message and leave nothing behind. The rest
# runs inside one QEMU guest booted with Debian's 6.12 kernel (vm_lib.sh:
# the host's root over 9p, so the guest runs this build), which has VDUSE,
# virtio_vdpa and vhost_vdpa as modules; there this script runs again as
# VDUSE_INNER=1 and its TEST lines are passed on as they are:
#
#   vnetd (the guest's own namespace) manages veth up0, whose peer wire0
#   is "the wire" (namespace wire, 10.13.0.1). vd0 on vnet/up0, transport
#   vduse: VDUSE device, kernel vdpa bus, virtio_vdpa, its virtio_net
#   netdev moved into namespace ct (10.13.0.2).
#
# Checked in the guest: the unmodified iproute2 `vdpa dev show` / `dev
# config show` answer from the kernel and list vd0; the features the
# kernel's VDUSE refuses are left out and shown (dev show vduse_refused);
# ping and TCP both ways with the sha256 of the data; the uplink's carrier
# off -> the netdev's carrier off (config interrupt) and back; bind vhost
# gives a /dev/vhost-vdpa-N that opens and reports the device's features,
# bind none leaves the device without a driver; bad inputs (features the
# kernel refuses, a name it refuses, a missing namespace, a name another
# process's VDUSE device has) give clear errors and no half-made device; a
# vnetd killed with its devices there is replaced by one that takes the
# left-behind devices down and makes them again; dev del leaves nothing
# behind. Measured in the same run: TCP from the wire into the VDUSE
# netdev (kernel virtio_net on virtio_vdpa) against vnet-guest's TAP on
# the same uplink (vhost-user), as a ratio (TCG figures are only relative).
source "$(dirname "$0")/uplink_lib.sh"

VNETCTL=$VNET_BIN/vnetctl
TOOLS="python3 $SELFTEST_DIR/vduse_tools.py"
WIRE_IP=10.13.0.1
CT_IP=10.13.0.2
TAP_IP=10.13.0.3
MAC0=02:00:00:13:00:02
MAC1=02:00:00:13:00:05
MAC_TAP=02:00:00:13:00:03
VM_KERNEL=${VM_KERNEL:-6.12}
# the guest's modules: the uplinks, vnet-guest's TAP, the vdpa bus and
# VDUSE, both vdpa drivers (modprobe brings vhost, vhost_iotlb, irqbypass)
VDUSE_MODULES=veth,tun,vdpa,vduse,virtio_vdpa,vhost_vdpa

# --- inside the guest ------------------------------------------------------------

# vnetd in this (the initial) namespace: virtio_vdpa's netdev is born here
inner_vnetd_start()
{
	"$VNET_BIN/vnetd" -v -u up0 -s "$VNET_SOCK" -d "$TMP/state" -g 0 \
		>>"$TMP/vnetd.log" 2>&1 &
	VNETD_PID=$!
	defer kill -9 "$VNETD_PID"
	busywait 10000 "$VNETCTL" mgmtdev show vnet/up0 >/dev/null 2>&1
}

inner_setup()
{
	[ -c /dev/vduse/control ] || skip "no /dev/vduse/control in the guest"
	setup_ns NS_WIRE NS_CT NS_TAP || exit 1
	ip link add up0 type veth peer name wire0 netns "$NS_WIRE" || exit 1
	ip link set up0 up
	ip -n "$NS_WIRE" link set wire0 up
	ip -n "$NS_WIRE" addr add $WIRE_IP/24 dev wire0
	defer ip link del up0
	# veth leaves partial checksums for XDP to see (e2e_uplink.sh)
	in_ns "$NS_WIRE" ethtool -K wire0 tx off >/dev/null
	TMP=$(mktemp -d /tmp/vnet-vduse.XXXXXX) || exit 1
	export VNET_SOCK=$TMP/run/vnetd.sock
	inner_vnetd_start || { echo "vnetd did not start"; cat "$TMP/vnetd.log"; exit 1; }
}

dev_json() { "$VNETCTL" -j dev show "$1" | jq -e ".dev[\"$1\"]$2"; }
ct_ifname() { dev_json vd0 .netdev | tr -d '"'; }

# nothing of NAME is left: not in vnetd, not on the vdpa bus, no VDUSE device
nothing_left()
{
	local name=$1
	! "$VNETCTL" dev show "$name" >/dev/null 2>&1 &&
		! vdpa dev show "$name" >/dev/null 2>&1 &&
		[ ! -e "/sys/bus/vdpa/devices/$name" ] &&
		{ [ "$name" = control ] || [ ! -e "/dev/vduse/$name" ]; }
}

test_add_virtio()
{
	local out ifname
	RET=0
	"$VNETCTL" dev add name vd0 mgmtdev vnet/up0 transport vduse mac $MAC0 netns "$NS_CT"
	check_err $? "dev add transport vduse failed: $(tail -n 5 "$TMP/vnetd.log")"
	# the kernel's own vdpa netlink, unmodified iproute2
	out=$(vdpa dev show vd0 2>&1)
	[[ $out == *"vd0: type network mgmtdev vduse"* ]]
	check_err $? "vdpa dev show (kernel): $out"
	out=$(vdpa dev config show vd0 2>&1)
	[[ $out == *"mac $MAC0"* && $out == *negotiated_features*VERSION_1* ]]
	check_err $? "vdpa dev config show (kernel): $out"
	ifname=$(ct_ifname)
	[ -n "$ifname" ] && ip -n "$NS_CT" link show "$ifname" 2>/dev/null | grep -qi "$MAC0"
	check_err $? "no netdev with $MAC0 in namespace ct ($ifname): $(ip -n "$NS_CT" -br link)"
	dev_json vd0 .bind | grep -q virtio
	check_err $? "dev show: bind"
	log_test "vd0: VDUSE device on the kernel's vdpa bus, virtio_vdpa netdev $ifname in ct"
}

# has_words LIST WORD...: every WORD is a word of LIST
has_words()
{
	local list=" $1 " w
	shift
	for w in "$@"; do
		[[ $list == *" $w "* ]] || return 1
	done
}

test_features()
{
	local refused dfeat nfeat
	RET=0
	refused=$(dev_json vd0 '.vduse_refused | join(" ")' | tr -d '"')
	check_err $? "dev show has no vduse_refused"
	dfeat=$("$VNETCTL" -j dev config show vd0 | jq -r '.config.vd0.dev_features | join(" ")')
	nfeat=$(vdpa -j dev config show vd0 | jq -r '.config.vd0.negotiated_features | join(" ")')
	# 6.12 refuses the control queue for VDUSE net devices: refused,
	# not offered, not negotiated; what it takes is negotiated
	has_words "$refused" CTRL_VQ MQ
	check_err $? "CTRL_VQ/MQ not among the refused: $refused"
	! has_words "$dfeat" CTRL_VQ && ! has_words "$nfeat" CTRL_VQ
	check_err $? "CTRL_VQ offered or negotiated: $dfeat / $nfeat"
	has_words "$nfeat" MRG_RXBUF VERSION_1 ACCESS_PLATFORM MAC STATUS
	check_err $? "negotiated (kernel): $nfeat"
	vlog "refused: $refused; negotiated: $nfeat"
	log_test "the kernel's VDUSE refusals left out and shown (${refused// /,})"
}

ct_up()
{
	local ifname
	ifname=$(ct_ifname)
	ip -n "$NS_CT" addr flush dev "$ifname"
	ip -n "$NS_CT" addr add $CT_IP/24 dev "$ifname"
	ip -n "$NS_CT" link set "$ifname" up
	slowwait 10 sh -c "ip -n $NS_CT link show $ifname | grep -q LOWER_UP"
}

test_ping()
{
	RET=0
	ct_up
	check_err $? "netdev in ct has no carrier: $(ip -n "$NS_CT" link)"
	in_ns "$NS_WIRE" ping -c 3 -i 0.3 -W 3 $CT_IP >/dev/null
	check_err $? "wire -> ct ping failed"
	in_ns "$NS_CT" ping -c 3 -i 0.3 -W 3 $WIRE_IP >/dev/null
	check_err $? "ct -> wire ping failed"
	log_test "ping between the wire and the VDUSE netdev"
}

test_tcp()
{
	RET=0
	tcp_xfer "$NS_CT" "$NS_WIRE" $WIRE_IP $((8 << 20))
	check_err $? "ct -> wire TCP data differs"
	tcp_xfer "$NS_WIRE" "$NS_CT" $CT_IP $((8 << 20))
	check_err $? "wire -> ct TCP data differs"
	log_test "TCP 8 MiB each way through the VDUSE netdev, sha256 intact"
}

ct_carrier() { ip -n "$NS_CT" link show "$(ct_ifname)" | grep -q "$1"; }

test_carrier()
{
	local eth
	RET=0
	# SPEED_DUPLEX: the kernel's virtio_net shows the uplink veth's settings
	eth=$(ip netns exec "$NS_CT" ethtool "$(ct_ifname)" 2>&1)
	[[ $eth == *"Speed: 10000Mb/s"* && $eth == *"Duplex: Full"* ]]
	check_err $? "the netdev does not show the uplink's speed/duplex: $eth"
	ip -n "$NS_WIRE" link set wire0 down
	slowwait 10 ct_carrier NO-CARRIER
	check_err $? "the netdev kept its carrier with the uplink's gone: $(ip -n "$NS_CT" link)"
	"$VNETCTL" dev config show vd0 | grep -q "link down"
	check_err $? "config space: link not down"
	ip -n "$NS_WIRE" link set wire0 up
	slowwait 10 ct_carrier LOWER_UP
	check_err $? "carrier did not come back"
	slowwait 10 in_ns "$NS_CT" ping -c 1 -W 1 $WIRE_IP >/dev/null
	check_err $? "no ping after the carrier came back"
	log_test "uplink carrier off/on -> the VDUSE netdev's carrier follows (config irq); speed 10000/full from the uplink"
}

test_bind_vhost()
{
	local vdev feat
	RET=0
	"$VNETCTL" dev add name vd1 mgmtdev vnet/up0 transport vduse bind vhost mac $MAC1
	check_err $? "dev add bind vhost failed: $(tail -n 3 "$TMP/vnetd.log")"
	vdev=$(dev_json vd1 .vhost_dev | tr -d '"')
	[ -c "$vdev" ]
	check_err $? "no vhost-vdpa character device ($vdev)"
	feat=$($TOOLS vhost-features "$vdev" 2>&1)
	check_err $? "$vdev does not open: $feat"
	[ -n "$feat" ] && (( (feat >> 32) & 1 )) && (( (feat >> 33) & 1 ))
	check_err $? "$vdev features $feat lack VERSION_1/ACCESS_PLATFORM"
	[ "$(basename "$(readlink /sys/bus/vdpa/devices/vd1/driver)")" = vhost_vdpa ]
	check_err $? "vd1 not bound to vhost_vdpa"
	vdpa dev show vd1 | grep -q "mgmtdev vduse"
	check_err $? "vdpa dev show vd1"
	"$VNETCTL" dev add name vd2 mgmtdev vnet/up0 transport vduse bind none
	check_err $? "dev add bind none failed"
	[ -e /sys/bus/vdpa/devices/vd2 ] && [ ! -e /sys/bus/vdpa/devices/vd2/driver ]
	check_err $? "vd2: not on the bus or has a driver"
	"$VNETCTL" dev del vd1 && "$VNETCTL" dev del vd2
	check_err $? "dev del vd1/vd2"
	nothing_left vd1 && nothing_left vd2
	check_err $? "vd1/vd2 left something behind"
	log_test "bind vhost: $vdev opens (features $feat); bind none: no driver"
}

# expect_refused WHAT TEXT ARGS...: dev add fails with TEXT, vdX left nowhere
expect_refused()
{
	local what=$1 text=$2 name=$3 out
	shift 2
	out=$("$VNETCTL" dev add name "$@" 2>&1)
	check_fail $? "$what: accepted"
	[[ $out == *"$text"* ]]
	check_err $? "$what: message \"$out\" lacks \"$text\""
	nothing_left "$name"
	check_err $? "$what: $name left behind"
}

test_bad_inputs()
{
	local before after hold
	RET=0
	before=$(ls /dev/vduse; ls /sys/bus/vdpa/devices)
	# VERSION_1 | MAC | CTRL_VQ: asked for by name, refused by the kernel
	expect_refused "refused feature" "refuses provisioned features" \
		vdx mgmtdev vnet/up0 transport vduse device_features 0x100020020
	expect_refused "name the kernel refuses" "refused the name" \
		control mgmtdev vnet/up0 transport vduse
	expect_refused "missing namespace" "network namespace nope-$$ not found" \
		vdx mgmtdev vnet/up0 transport vduse netns nope-$$
	# another process's VDUSE device of that name: not ours to take
	coproc hold { $TOOLS foreign vdf; }
	read -r -t 10 _ <&"${hold[0]}"
	"$VNETCTL" dev add name vdf mgmtdev vnet/up0 transport vduse >"$TMP/vdf.out" 2>&1
	check_fail $? "another process's VDUSE device: taken"
	grep -q "another process serves it" "$TMP/vdf.out"
	check_err $? "another process's device: $(cat "$TMP/vdf.out")"
	[ -e /dev/vduse/vdf ]
	check_err $? "the other process's device was destroyed"
	eval "exec ${hold[1]}>&-"
	wait "$hold_PID"
	after=$(ls /dev/vduse; ls /sys/bus/vdpa/devices)
	[ "$before" = "$after" ]
	check_err $? "devices changed: [$before] -> [$after]"
	vdpa dev show | grep -q "^vd0: .*mgmtdev vduse" && ! vdpa dev show | grep -v "^vd0:" | grep -q mgmtdev
	check_err $? "the kernel's bus has more than vd0: $(vdpa dev show)"
	log_test "bad inputs: clear errors, no half-made device"
}

test_restart()
{
	local ifname
	RET=0
	# killed with its device there: the kernel keeps vd0, nobody answers it
	kill -9 "$VNETD_PID"
	wait "$VNETD_PID" 2>/dev/null
	[ -e /dev/vduse/vd0 ]
	check_err $? "vd0 gone with vnetd"
	inner_vnetd_start
	check_err $? "vnetd did not restart"
	slowwait 20 sh -c "'$VNETCTL' -j dev show vd0 2>/dev/null | jq -e '.dev.vd0.netdev' >/dev/null"
	check_err $? "vd0 not restored: $(tail -n 5 "$TMP/vnetd.log")"
	grep -q "left behind" "$TMP/vnetd.log"
	check_err $? "the left-behind device was not taken down first"
	ifname=$(ct_ifname)
	ip -n "$NS_CT" link show "$ifname" >/dev/null 2>&1
	check_err $? "restored netdev $ifname not in ct"
	ct_up
	check_err $? "restored netdev has no carrier"
	slowwait 10 in_ns "$NS_WIRE" ping -c 1 -W 1 $CT_IP >/dev/null
	check_err $? "no ping after the restart"
	log_test "vnetd killed and restarted: left-behind vd0 replaced, traffic again"
}

# iperf3 from the wire into NS for SECS: Mbit/s received
iperf_mbit()
{
	local ns=$1 ip=$2 out
	in_ns "$ns" iperf3 -s -1 -p 5301 >/dev/null 2>&1 &
	local srv=$!
	busywait 5000 __listening "$ns" 5301
	out=$(in_ns "$NS_WIRE" timeout 60 iperf3 -c "$ip" -p 5301 -t "${BENCH_SECS:-5}" -J 2>/dev/null)
	wait "$srv"
	jq -r '.end.sum_received.bits_per_second / 1e6 | floor' <<<"$out" 2>/dev/null
}

test_bench()
{
	local vduse tap
	RET=0
	if ! command -v iperf3 >/dev/null; then
		log_skip "TCP: VDUSE netdev against vnet-guest's TAP" "no iperf3"
		return
	fi
	"$VNETCTL" dev add name vt0 mgmtdev vnet/up0 mac $MAC_TAP
	check_err $? "dev add vt0 (vhost-user)"
	mkdir -p "$TMP/run"
	guest_up G0 vt0 "$NS_TAP" $MAC_TAP $TAP_IP
	check_err $? "vnet-guest on vt0"
	vduse=$(iperf_mbit "$NS_CT" $CT_IP)
	tap=$(iperf_mbit "$NS_TAP" $TAP_IP)
	[ -n "$vduse" ] && [ -n "$tap" ] && [ "$vduse" -gt 0 ] && [ "$tap" -gt 0 ]
	check_err $? "not measured: vduse '$vduse' tap '$tap'"
	echo "# TCP wire -> VDUSE netdev (virtio_vdpa): $vduse Mbit/s; wire -> vnet-guest TAP" \
	     "(vhost-user): $tap Mbit/s; ratio $(awk "BEGIN { if ($tap > 0) printf \"%.2f\", $vduse / $tap }")"
	"$VNETCTL" dev del vt0
	log_test "TCP wire -> VDUSE netdev ${vduse:-?} Mbit/s, -> vnet-guest TAP ${tap:-?} Mbit/s"
}

test_del()
{
	local ifname
	RET=0
	ifname=$(ct_ifname)
	"$VNETCTL" dev del vd0
	check_err $? "dev del vd0"
	nothing_left vd0
	check_err $? "vd0 left behind: $(ls /dev/vduse /sys/bus/vdpa/devices)"
	! ip -n "$NS_CT" link show "$ifname" >/dev/null 2>&1
	check_err $? "netdev $ifname still in ct"
	[ -z "$(vdpa dev show)" ] && [ "$(ls /dev/vduse)" = control ]
	check_err $? "the kernel still has devices: $(vdpa dev show) / $(ls /dev/vduse)"
	log_test "dev del: off the bus, VDUSE device destroyed, netdev gone"
}

inner()
{
	ALL_TESTS="test_add_virtio test_features test_ping test_tcp test_carrier test_bind_vhost
		test_bad_inputs test_restart test_bench test_del"
	require_root
	require_command jq
	require_command vdpa
	require_command python3
	require_bin vnetd
	require_bin vnetctl
	require_bin vnet-guest
	inner_setup
	tests_run
	if [ $EXIT_STATUS -ne 0 ] || [ "$VERBOSE" = 1 ]; then
		echo "# vnetd log:"
		sed 's/^/#   /' "$TMP/vnetd.log" | tail -n 40
	fi
	exit $EXIT_STATUS
}

[ -n "${VDUSE_INNER:-}" ] && inner

# --- on this host ------------------------------------------------------------------

source "$SELFTEST_DIR/vm_lib.sh"

require_root
require_command jq
require_bin vnetd
require_bin vnetctl

TMP=$(mktemp -d /tmp/vnet-vduse.XXXXXX) || exit 1
chmod 755 "$TMP"
[ -n "${KEEP_TMP:-}" ] || defer rm -rf "$TMP"

test_host_refused()
{
	local out
	RET=0
	if [ -c /dev/vduse/control ]; then
		log_skip "no VDUSE here: transport vduse refused clearly" "this host has VDUSE"
		return
	fi
	"$VNET_BIN/vnetd" -s "$TMP/h.sock" -d "$TMP/hstate" -g 0 >"$TMP/hvnetd.log" 2>&1 &
	local pid=$!
	defer kill -9 "$pid"
	busywait 5000 "$VNETCTL" -s "$TMP/h.sock" mgmtdev show >/dev/null 2>&1
	out=$("$VNETCTL" -s "$TMP/h.sock" dev add name vd0 mgmtdev vnet/sim transport vduse 2>&1)
	check_fail $? "transport vduse accepted without VDUSE"
	[[ $out == *"VDUSE not available"*"/dev/vduse/control"* ]]
	check_err $? "unclear message: $out"
	[ -z "$("$VNETCTL" -s "$TMP/h.sock" dev show)" ]
	check_err $? "a device was left: $("$VNETCTL" -s "$TMP/h.sock" dev show)"
	kill "$pid"
	log_test "no VDUSE here: transport vduse refused clearly ($out)"
}

test_host_refused

vm_require
vm_image "$VM_KERNEL"
VM_MEM=${VM_MEM:-1024}
VM_LOAD=$VDUSE_MODULES
t0=$(date +%s)
vm_start vd -smp 2
if ! vm_wait_ready vd 180; then
	RET=1 retmsg="no agent; $(vm_console_tail vd 5)"
	log_test "guest boots ($VM_KVER)"
	exit $EXIT_STATUS
fi
RET=0
grep -q "modprobe .* failed" "$TMP/vm-vd/console.log"
check_fail $? "$(grep -o "modprobe .* failed" "$TMP/vm-vd/console.log" | tr '\n' ' ')"
log_test "guest boots ($VM_KVER, $(($(date +%s) - t0)) s), modules $VM_LOAD"
out=$(vm_exec vd -t "${VDUSE_TIMEOUT:-600}" \
	"cd /tmp && VNET_BUILD='$VNET_BUILD' VDUSE_INNER=1 VERBOSE=$VERBOSE \
	 TESTS='${TESTS:-}' timeout $((${VDUSE_TIMEOUT:-600} - 10)) bash '$SELFTEST_DIR/vduse.sh' </dev/null")
rc=$?
printf '%s\n' "$out"
if [ $rc -ne 0 ] && [ $rc -ne $ksft_skip ] && ! grep -q "\[FAIL\]" <<<"$out"; then
	RET=1 retmsg="exited with status $rc"
	log_test "the guest's tests ran to the end"
fi
__set_exit $rc
vm_stop vd
exit $EXIT_STATUS
