#!/bin/bash
# SPDX-License-Identifier: MIT
# A device made with vnetctl is a real device: vnetd creates the virtio-net
# model, its vhost-user socket and its queue worker, and DPDK's testpmd
# (net_virtio_user, a driver written by others) reaches it and passes
# traffic. Checked: negotiated features and vstats through vnetctl and the
# real iproute2 vdpa, dev del under a connected front-end, kill -9 +
# restart, SIGTERM, and a carrier change reaching a connected vnet-guest.
source "$(dirname "$0")/lib.sh"

ALL_TESTS="test_traffic test_del_connected test_restart test_link_change test_sigterm"

VNETCTL=$VNET_BIN/vnetctl
VDPA_WRAP=$VNET_BIN/vnet-vdpa
# two CPUs: testpmd forwards on one, vnetd's worker gets the other
NCPU=$(nproc)
FWD_CPU=$((NCPU > 1 ? 1 : 0))
MAIN_CPU=0

setup()
{
	setup_ns NS NS_PEER NS_GUEST || exit 1
	veth_pair "$NS" up0 "$NS_PEER" peer0 || exit 1
	TMP=$(mktemp -d /tmp/vnet-ctlsim.XXXXXX) || exit 1
	[ -n "${KEEP_TMP:-}" ] || defer rm -rf "$TMP"
	export VNET_SOCK=$TMP/run/vnetd.sock
	start_vnetd
}

start_vnetd()
{
	# ip netns exec execs vnetd: $! is vnetd itself
	ip netns exec "$NS" "$VNET_BIN/vnetd" -v -u up0 -s "$VNET_SOCK" -d "$TMP/state" \
		-g 0 >>"$TMP/vnetd.log" 2>&1 &
	VNETD_PID=$!
	defer kill -9 "$VNETD_PID"
	busywait 5000 "$VNETCTL" mgmtdev show vnet/sim >/dev/null 2>&1 && alive ||
		{ echo "vnetd did not start"; cat "$TMP/vnetd.log"; exit 1; }
}

alive() { kill -0 "$VNETD_PID" 2>/dev/null; }
nfds() { ls /proc/"$VNETD_PID"/fd | wc -l; }

# testpmd_bg NAME SECONDS SOCKET: macswap with a first burst: on a loopback
# device the burst circulates (tx -> device -> rx -> swapped -> tx ...)
testpmd_bg()
{
	local name=$1 secs=$2 sock=$3
	TP_LOG=$TMP/$name.testpmd.log
	timeout -s INT "$secs" dpdk-testpmd -l $MAIN_CPU,$FWD_CPU --main-lcore $MAIN_CPU \
		--no-huge -m 1024 --no-pci --file-prefix="vnet-ctlsim-$name-$$" \
		--vdev "net_virtio_user0,path=$sock,queues=1" -- \
		--forward-mode=macswap --tx-first --auto-start --stats-period 1 --nb-cores=1 \
		--total-num-mbufs=16384 >"$TP_LOG" 2>&1 </dev/null &
	TP_PID=$!
	defer kill -9 "$TP_PID"
	defer rm -rf "/var/run/dpdk/vnet-ctlsim-$name-$$"
}

tp_wait() { wait "$TP_PID" 2>/dev/null; }

# tp_count RX|TX: the accumulated count testpmd printed at exit
tp_count()
{
	sed -n '/Accumulated forward statistics/,/+++++/p' "$TP_LOG" |
		grep -o "$1-packets: *[0-9]*" | grep -o '[0-9]*$' | head -1
}

# the driver finished negotiation (FEATURES_OK | DRIVER_OK)
driver_ok()
{
	local s
	s=$("$VNETCTL" -j dev show "$1" | jq -r ".dev.$1.status") || return 1
	[ $((s & 0xc)) = 12 ]
}

# wait_traffic DEV: frames counted on receiveq 0 (testpmd's EAL start-up
# takes seconds on a loaded machine)
wait_traffic()
{
	slowwait 10 sh -c "[ \"\$(\"$VNETCTL\" -j dev vstats show $1 qidx 0 2>/dev/null |
		jq -r .vstats.$1.rx_packets)\" -gt 0 ] 2>/dev/null"
}

# vstat DEV QIDX NAME: one counter from vnetctl vstats
vstat()
{
	"$VNETCTL" -j dev vstats show "$1" qidx "$2" | jq -r ".vstats.$1.$3"
}

test_traffic()
{
	local rx1 rx2 tx rx neg
	"$VNETCTL" dev add name s0 mgmtdev vnet/sim mac 02:00:00:00:00:01 max_vqp 1 mtu 1500
	check_err $? "add failed"
	[ -S "$TMP/run/s0.sock" ]
	check_err $? "no vhost-user socket at the default path"
	"$VNETCTL" dev config show s0 | grep -q negotiated_features
	check_fail $? "negotiated features shown before any driver"
	"$VNETCTL" dev vstats show s0 qidx 0 2>"$TMP/err"
	check_fail $? "vstats answered before FEATURES_OK"
	grep -q "feature negotiation not complete" "$TMP/err"
	check_err $? "vstats before the driver: $(cat "$TMP/err")"

	testpmd_bg traffic 15 "$TMP/run/s0.sock"
	busywait 8000 driver_ok s0
	check_err $? "testpmd did not reach DRIVER_OK"
	wait_traffic s0
	check_err $? "no traffic counted in vstats qidx 0"
	# the same negotiated features through vnetctl and the real vdpa
	"$VNETCTL" -j dev config show s0 >"$TMP/ctl_config"
	"$VDPA_WRAP" -j dev config show s0 >"$TMP/vdpa_config"
	"$VNETCTL" -j dev vstats show s0 qidx 0 >"$TMP/ctl_vstats"
	"$VDPA_WRAP" -j dev vstats show s0 qidx 0 >"$TMP/vdpa_vstats"
	rx1=$(vstat s0 0 rx_packets)
	sleep 1
	rx2=$(vstat s0 0 rx_packets)
	"$VNETCTL" dev vstats show s0 qidx 1 >"$TMP/vstats1"
	"$VNETCTL" dev vstats show s0 qidx 5 2>"$TMP/err"
	check_fail $? "vstats of a queue that does not exist"
	grep -q "queue index out of range" "$TMP/err"
	check_err $? "no clear error for qidx 5: $(cat "$TMP/err")"
	tp_wait
	tx=$(tp_count TX)
	rx=$(tp_count RX)
	vlog "testpmd RX $rx TX $tx; vstats rx_packets $rx1 -> $rx2; $(cat "$TMP/vstats1")"
	neg=$(jq -r '.config.s0.negotiated_features | join(" ")' "$TMP/ctl_config")
	[ -n "$neg" ] && [[ " $neg " == *" VERSION_1 "* ]]
	check_err $? "negotiated features after FEATURES_OK: '$neg'"
	python3 - "$TMP" <<'PY'
import json, sys
p = sys.argv[1]
def load(n): return json.load(open(p + "/" + n))
for v, c in (("vdpa_config", "ctl_config"),):
    a, b = load(v), load(c)
    for k, val in a["config"]["s0"].items():
        assert b["config"]["s0"].get(k.strip()) == val, (k, val, b["config"]["s0"].get(k.strip()))
# vdpa prints "name": N, "value": V pairs (repeated keys): compare the names
raw = open(p + "/vdpa_vstats").read()
b = load("ctl_vstats")["vstats"]["s0"]
assert b["queue_type"] == "rx" and '"queue_type":"rx"' in raw.replace(" ", ""), (raw, b)
for k in ("rx_packets", "rx_bytes", "rx_drops", "rx_errors", "notifications"):
    assert k in b and '"' + k + '"' in raw, (k, raw, b)
PY
	check_err $? "vnetctl and vdpa disagree: $(cat "$TMP/vdpa_config" "$TMP/ctl_config")"
	[ "${rx1:-0}" -gt 0 ] && [ "${rx2:-0}" -gt "${rx1:-0}" ]
	check_err $? "vstats rx_packets did not grow: ${rx1:-none} -> ${rx2:-none}"
	[ "${rx:-0}" -gt 10000 ] && [ "${tx:-0}" -gt 10000 ]
	check_err $? "testpmd RX ${rx:-0} TX ${tx:-0}"
	# the front-end is gone: no driver, as before
	busywait 3000 sh -c "! \"$VNETCTL\" dev config show s0 | grep -q negotiated_features"
	check_err $? "negotiated features still shown after the front-end left"
	"$VNETCTL" dev del s0
	log_test "vnetctl dev add on vnet/sim + testpmd: RX $rx TX $tx, features and vstats via vnetctl and vdpa"
}

# dev del while testpmd is connected: testpmd loses its device (its
# traffic stops), vnetd keeps running, every fd of the device is closed.
test_del_connected()
{
	local fds0 fds1 pps
	# vnetd closes a finished vnetctl's connection when it sees EOF, a
	# moment later: count when no client is connected
	sleep 0.5
	fds0=$(nfds)
	"$VNETCTL" dev add name d0 mgmtdev vnet/sim
	check_err $? "add failed"
	testpmd_bg del 15 "$TMP/run/d0.sock"
	busywait 8000 driver_ok d0
	check_err $? "testpmd did not reach DRIVER_OK"
	wait_traffic d0
	check_err $? "no traffic before dev del"
	"$VNETCTL" dev del d0
	check_err $? "del with a connected front-end failed"
	alive
	check_err $? "vnetd died"
	[ ! -e "$TMP/run/d0.sock" ]
	check_err $? "socket left behind"
	busywait 2000 sh -c "[ \$(ls /proc/$VNETD_PID/fd | wc -l) = $fds0 ]"
	fds1=$(nfds)
	[ "$fds1" = "$fds0" ]
	check_err $? "vnetd fds: $fds0 before add, $fds1 after del: $(ls -l /proc/$VNETD_PID/fd)"
	kill -0 "$TP_PID" 2>/dev/null
	check_err $? "testpmd died when its device went away"
	tp_wait
	# Rx-pps once a second: traffic flowed, then stopped for good
	pps=$(grep -a 'Rx-pps' "$TP_LOG" | awk '{print $2}' | tr '\n' ' ')
	vlog "testpmd Rx-pps: $pps"
	[ "$(echo $pps | tr ' ' '\n' | sort -n | tail -1)" -gt 0 ] &&
		[ "$(echo $pps | awk '{print $NF}')" = 0 ] &&
		[ "$(echo $pps | awk '{print $(NF-1)}')" = 0 ]
	check_err $? "testpmd's traffic did not stop after dev del: $pps"
	grep -q "device d0 deleted" "$TMP/vnetd.log"
	check_err $? "vnetd did not log the deletion"
	log_test "dev del with testpmd connected: clean, vnetd alive, no fd leaked ($fds0 = $fds1)"
}

test_restart()
{
	local rx
	"$VNETCTL" dev add name k0 mgmtdev vnet/sim mac 02:00:00:00:02:00
	check_err $? "add failed"
	kill -9 "$VNETD_PID"
	wait "$VNETD_PID" 2>/dev/null
	start_vnetd
	[ "$("$VNETCTL" -j dev show k0 | jq -r '.dev.k0.socket')" = "$TMP/run/k0.sock" ]
	check_err $? "k0 not restored: $("$VNETCTL" dev show 2>&1)"
	testpmd_bg restart 8 "$TMP/run/k0.sock"
	tp_wait
	rx=$(tp_count RX)
	[ "${rx:-0}" -gt 10000 ]
	check_err $? "testpmd received ${rx:-0} after the restart"
	"$VNETCTL" dev del k0
	log_test "kill -9 + restart restores the sim device, testpmd connects again (RX $rx)"
}

guest_carrier()
{
	ip -n "$NS_GUEST" -j link show vgt0 | jq -e ".[0].flags | index(\"LOWER_UP\") $1" >/dev/null
}

# An uplink's carrier reaches a connected front-end as a config change
# (BACKEND_CONFIG_CHANGE_MSG). testpmd's virtio-user does not negotiate the
# back-end channel (it emulates STATUS itself), so vnet-guest is the
# front-end here: its TAP carrier is the device's LINK_UP.
test_link_change()
{
	local gpid
	"$VNETCTL" dev add name l0 mgmtdev vnet/up0
	check_err $? "add failed"
	# uplink when vnetd could attach XDP to up0 (bpffs), none otherwise
	"$VNETCTL" -j dev show l0 | jq -r .dev.l0.datapath | grep -qx 'none\|uplink'
	check_err $? "an uplink device does not say what carries its frames"
	"$VNET_BIN/vnet-guest" --socket "$TMP/run/l0.sock" --netns "$NS_GUEST" --tap vgt0 \
		--no-reconnect "${GUEST_ARGS[@]}" >"$TMP/guest.log" 2>&1 &
	gpid=$!
	defer kill -9 "$gpid"
	busywait 5000 driver_ok l0
	check_err $? "vnet-guest did not reach DRIVER_OK"
	slowwait 5 ip -n "$NS_GUEST" link set vgt0 up	# carrier shows on an up link
	busywait 3000 guest_carrier "!= null"
	check_err $? "guest carrier not up"
	ip -n "$NS_PEER" link set peer0 down
	busywait 3000 guest_carrier "== null"
	check_err $? "carrier loss did not reach the guest"
	ip -n "$NS_PEER" link set peer0 up
	busywait 3000 guest_carrier "!= null"
	check_err $? "carrier return did not reach the guest"
	grep -q "vgt0: link down" "$TMP/guest.log"
	check_err $? "vnet-guest did not report the config change"
	"$VNETCTL" dev del l0
	wait "$gpid" 2>/dev/null
	log_test "uplink carrier -> LINK_UP -> config change at a connected vnet-guest"
}

test_sigterm()
{
	"$VNETCTL" dev add name t0 mgmtdev vnet/sim && "$VNETCTL" dev add name t1 mgmtdev vnet/up0
	check_err $? "add failed"
	testpmd_bg sigterm 12 "$TMP/run/t0.sock"
	busywait 8000 driver_ok t0
	check_err $? "testpmd did not connect"
	kill -TERM "$VNETD_PID"
	slowwait 5 sh -c "! kill -0 $VNETD_PID 2>/dev/null"
	check_err $? "vnetd did not exit on SIGTERM"
	wait "$VNETD_PID"
	check_err $? "vnetd exit status not 0"
	[ ! -e "$VNET_SOCK" ] && [ ! -e "$TMP/run/t0.sock" ] && [ ! -e "$TMP/run/t1.sock" ]
	check_err $? "sockets left behind: $(ls "$TMP/run")"
	grep -q "t0 t1\|dev name=t0" "$TMP/state/devices" && grep -q "name=t1" "$TMP/state/devices"
	check_err $? "devices not kept in the state file"
	tp_wait
	log_test "SIGTERM with a connected front-end: clean exit, every socket removed"
}

require_root
require_command ip
require_command jq
require_command python3
require_command dpdk-testpmd
require_bin vnetd
require_bin vnetctl
require_bin vnet-vdpa
require_bin vnet-guest
[ -x /usr/sbin/vdpa ] || skip "iproute2 vdpa not installed"
[ -e "$VNET_BUILD/lib/libvnet-vdpa.so" ] || skip "libvnet-vdpa.so not built"
dpdk-testpmd --no-huge -m 64 --no-pci --file-prefix="vnet-probe-$$" \
	--vdev "net_virtio_user0,path=/nonexistent" -- -h 2>&1 |
	grep -q "Couldn't find\|unknown driver\|No such device: net_virtio_user" &&
	skip "net_virtio_user PMD not available"

setup
tests_run
exit $EXIT_STATUS
