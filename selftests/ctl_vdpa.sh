#!/bin/bash
# SPDX-License-Identifier: MIT
# The control plane end to end: vnetd in a namespace with a veth uplink,
# driven by vnetctl and by the unmodified iproute2 vdpa through the preload
# library. Every test's vnetd, socket and state live under a mktemp -d dir.
source "$(dirname "$0")/lib.sh"

ALL_TESTS="test_same_scenario test_json test_restart test_carrier test_unpriv
	   test_bad_input_cli test_bad_input_raw test_stuck_daemon test_sigterm"

VNETCTL=$VNET_BIN/vnetctl
VDPA_WRAP=$VNET_BIN/vnet-vdpa
NLRAW=$VNET_BIN/vnet-nlraw
UNPRIV_GID=65534

setup()
{
	setup_ns NS NS_PEER || exit 1
	veth_pair "$NS" up0 "$NS_PEER" peer0 || exit 1
	TMP=$(mktemp -d /tmp/vnet-ctl.XXXXXX) || exit 1
	[ -n "${KEEP_TMP:-}" ] || defer rm -rf "$TMP"
	chmod 0755 "$TMP"	# the unprivileged user must reach the socket
	export VNET_SOCK=$TMP/run/vnetd.sock
	start_vnetd
}

start_vnetd()
{
	# ip netns exec execs vnetd: $! is vnetd itself (a shell function would
	# leave a subshell in between, and kill -9 would miss vnetd)
	ip netns exec "$NS" "$VNET_BIN/vnetd" -v -u up0 -u gone0 -s "$VNET_SOCK" -d "$TMP/state" \
		-g $UNPRIV_GID >>"$TMP/vnetd.log" 2>&1 &
	VNETD_PID=$!
	defer kill -9 "$VNETD_PID"
	busywait 5000 "$VNETCTL" mgmtdev show vnet/sim >/dev/null 2>&1 && alive ||
		{ echo "vnetd did not start"; cat "$TMP/vnetd.log"; exit 1; }
}

alive() { kill -0 "$VNETD_PID" 2>/dev/null; }

# everything the registry holds, as one comparable text
# dev show without the port counters: they are live (the host's own frames
# on up0 reach devices that have no driver yet) and start at 0 in a new vnetd
dev_show_static()
{
	"$VNETCTL" -j dev show | jq -c '.dev[] |= with_entries(select(.key | startswith("port_") | not))'
}

snapshot()
{
	dev_show_static && "$VNETCTL" -j dev config show && cat "$TMP/state/devices"
}

# the scenario of the acceptance: add, show, config show, vstats, del
scenario()
{
	local tool=$1 out=$2
	$tool dev add name simdev mgmtdev vnet/sim mac 02:00:00:00:00:01 max_vqp 4 mtu 1500 || return 1
	$tool dev add name updev mgmtdev vnet/up0 mac 02:00:00:00:00:02 max_vqp 2 mtu 1400 || return 1
	# the same questions, asked with vdpa's JSON (both tools are then compared)
	"$VDPA_WRAP" -j dev show >"$out.show" || return 1
	"$VDPA_WRAP" -j dev config show >"$out.config" || return 1
	"$VDPA_WRAP" -j mgmtdev show >"$out.mgmtdev" || return 1
	# no driver has connected to either device: vstats refused as by the
	# kernel (iproute2 6.1's vdpa exits 0 on a vstats error: judge by its
	# message). Counters with a driver: selftests/ctl_sim.sh (testpmd).
	"$VDPA_WRAP" dev vstats show updev qidx 0 2>"$out.vstats_err"
	grep -q "feature negotiation not complete" "$out.vstats_err" || return 1
	"$VDPA_WRAP" dev vstats show simdev qidx 1 2>"$out.vstats_sim_err"
	grep -q "feature negotiation not complete" "$out.vstats_sim_err" || return 1
	"$VNETCTL" dev vstats show updev qidx 0 2>/dev/null && return 1
	"$VNETCTL" dev vstats show simdev qidx 1 2>/dev/null && return 1
	dev_show_static >"$out.ctl_show" || return 1
	"$VNETCTL" -j dev config show >"$out.ctl_config" || return 1
	$tool dev del simdev || return 1
	$tool dev del updev || return 1
	[ "$("$VNETCTL" -j dev show)" = '{"dev":{}}' ]
}

test_same_scenario()
{
	scenario "$VNETCTL" "$TMP/a"
	check_err $? "scenario with vnetctl failed"
	scenario "$VDPA_WRAP" "$TMP/b"
	check_err $? "scenario with vdpa (preload) failed"
	local f
	for f in show config mgmtdev ctl_show ctl_config vstats_err vstats_sim_err; do
		cmp -s "$TMP/a.$f" "$TMP/b.$f"
		check_err $? "answers differ ($f): $(diff "$TMP/a.$f" "$TMP/b.$f" | head -5)"
	done
	grep -q "feature negotiation not complete" "$TMP/a.vstats_err"
	check_err $? "vstats before FEATURES_OK: $(cat "$TMP/a.vstats_err")"
	# vnetctl and vdpa agree on every key vdpa knows ("link " is iproute2's spelling)
	python3 - "$TMP/a" <<'PY'
import json, sys
p = sys.argv[1]
def load(n): return json.load(open(p + "." + n))
for v, c in (("show", "ctl_show"), ("config", "ctl_config")):
    a, b = load(v), load(c)
    sec = list(a)[0]
    assert set(a[sec]) == set(b[sec]), (v, a, b)
    for dev, attrs in a[sec].items():
        for k, val in attrs.items():
            k2 = k.strip()
            assert b[sec][dev].get(k2) == val, (v, dev, k, val, b[sec][dev].get(k2))
cfg = load("config")["config"]
assert cfg["simdev"]["mac"] == "02:00:00:00:00:01" and cfg["simdev"]["max_vq_pairs"] == 4
assert cfg["simdev"]["mtu"] == 1500 and cfg["updev"]["mtu"] == 1400
# no driver yet on either: none shown, as the kernel
assert "negotiated_features" not in cfg["simdev"]
assert "negotiated_features" not in cfg["updev"]
PY
	check_err $? "vnetctl and vdpa answers do not match"
	log_test "same scenario via vnetctl and via /usr/sbin/vdpa: same devices, same answers"
}

test_json()
{
	"$VNETCTL" dev add name j0 mgmtdev vnet/up0 socket "$TMP/j0.sock" trust on >/dev/null
	check_err $? "add failed"
	local cmd
	for cmd in "mgmtdev show" "mgmtdev show vnet/up0" "dev show" "dev show j0" \
		   "dev config show" "dev config show j0"; do
		"$VNETCTL" -j $cmd | jq -e . >/dev/null
		check_err $? "vnetctl -j $cmd is not JSON for jq"
		"$VNETCTL" -j -p $cmd | python3 -c 'import json,sys; json.load(sys.stdin)'
		check_err $? "vnetctl -j -p $cmd is not JSON for python"
	done
	[ "$("$VNETCTL" -j dev show j0 | jq -r '.dev.j0.socket + " " + .dev.j0.trust')" = \
	  "$TMP/j0.sock on" ]
	check_err $? "vendor attributes missing: $("$VNETCTL" -j dev show j0)"
	"$VNETCTL" dev del j0
	log_test "-j / -p output parses with jq and python"
}

test_restart()
{
	local before after
	"$VNETCTL" dev add name r0 mgmtdev vnet/sim mac 02:00:00:00:01:00 max_vqp 8 mtu 9000 &&
	"$VNETCTL" dev add name r1 mgmtdev vnet/up0 mac 02:00:00:00:01:01 max_vqp 2 mtu 1280 \
		socket "$TMP/r1.sock" &&
	"$VNETCTL" dev add name r2 mgmtdev vnet/gone0 max_vqp 3
	check_err $? "adding devices failed"
	before=$(snapshot)
	kill -9 "$VNETD_PID"
	wait "$VNETD_PID" 2>/dev/null
	alive
	check_fail $? "vnetd survived kill -9"
	local old=$VNETD_PID
	start_vnetd
	[ "$old" != "$VNETD_PID" ] && alive
	check_err $? "no new vnetd"
	after=$(snapshot)
	[ "$before" = "$after" ]
	check_err $? "registry differs after kill -9 + restart: $(diff <(echo "$before") <(echo "$after") | head -6)"
	[ "$("$VNETCTL" -j dev config show r1 | jq -r '.config.r1 | "\(.mac) \(.max_vq_pairs) \(.mtu)"')" = \
	  "02:00:00:00:01:01 2 1280" ] &&
	[ "$("$VNETCTL" -j dev show r1 | jq -r .dev.r1.socket)" = "$TMP/r1.sock" ]
	check_err $? "r1 not restored with its MAC, queue pairs, MTU and socket"
	! ls "$TMP/state/" | grep -q tmp
	check_err $? "temporary state file left behind"
	for d in r0 r1 r2; do "$VNETCTL" dev del $d; done
	log_test "kill -9 and restart restores every device (name, MAC, vqp, MTU, socket)"
}

link_is() { [ "$("$VNETCTL" -j dev config show c0 | jq -r .config.c0.link)" = "$1" ]; }

test_carrier()
{
	"$VNETCTL" dev add name c0 mgmtdev vnet/up0 max_vqp 1
	check_err $? "add failed"
	busywait 3000 link_is up
	check_err $? "link not up with carrier"
	ip -n "$NS_PEER" link set peer0 down
	busywait 3000 link_is down
	check_err $? "carrier loss not shown in config show"
	ip -n "$NS_PEER" link set peer0 up
	busywait 3000 link_is up
	check_err $? "carrier return not shown"
	# the uplink bounds the MTU
	ip -n "$NS" link set up0 mtu 1400
	busywait 3000 sh -c "\"$VNETCTL\" -j mgmtdev show vnet/up0 | grep -q '\"uplink_mtu\":1400'"
	check_err $? "uplink MTU change not seen"
	"$VNETCTL" dev add name c1 mgmtdev vnet/up0 mtu 1500 2>"$TMP/err" && "$VNETCTL" dev del c1
	check_fail $? "device MTU above the uplink's accepted"
	grep -q "uplink" "$TMP/err"
	check_err $? "no clear error for MTU above uplink: $(cat "$TMP/err")"
	# the uplink disappears and comes back
	ip -n "$NS" link del up0
	busywait 3000 link_is down
	check_err $? "link not down after the uplink vanished"
	[ "$("$VNETCTL" -j dev show c0 | jq -r .dev.c0.uplink_state)" = absent ]
	check_err $? "uplink not reported absent"
	veth_pair "$NS" up0 "$NS_PEER" peer0
	busywait 3000 link_is up
	check_err $? "link not up after the uplink returned"
	"$VNETCTL" dev del c0
	log_test "uplink carrier, MTU and presence show up in dev config show"
}

# unpriv_copy: what the unprivileged user runs, copied to $TMP/unpriv (world
# readable, in /tmp): the checkout may sit in a directory only root can
# enter (/root/vnet, mode 0700), where uid 65534 cannot reach build/bin.
# Sets U_VNETCTL and U_VDPA_WRAP (which finds its library in ../lib).
unpriv_copy()
{
	local d=$TMP/unpriv
	mkdir -p "$d/bin" "$d/lib" &&
		cp "$VNETCTL" "$VDPA_WRAP" "$d/bin/" &&
		cp "$VNET_BUILD/lib/libvnet-vdpa.so" "$d/lib/" &&
		chmod -R a+rX "$d" || return 1
	U_VNETCTL=$d/bin/vnetctl
	U_VDPA_WRAP=$d/bin/vnet-vdpa
}

test_unpriv()
{
	local as_user="setpriv --reuid=65534 --regid=$UNPRIV_GID --clear-groups"
	local as_other="setpriv --reuid=65534 --regid=12345 --clear-groups"
	local before U_VNETCTL U_VDPA_WRAP
	if ! unpriv_copy; then
		RET=1 retmsg="cannot copy vnetctl and vnet-vdpa to $TMP/unpriv"
		log_test "unprivileged group member can show but not add or delete"
		return
	fi
	"$VNETCTL" dev add name u0 mgmtdev vnet/sim >/dev/null
	before=$(snapshot)
	[ "$(stat -c '%a %g' "$VNET_SOCK")" = "660 $UNPRIV_GID" ]
	check_err $? "socket mode/group: $(stat -c '%a %g' "$VNET_SOCK")"
	$as_user "$U_VNETCTL" dev show u0 >/dev/null && $as_user "$U_VNETCTL" dev config show >/dev/null &&
		$as_user "$U_VNETCTL" mgmtdev show >/dev/null && $as_user "$U_VDPA_WRAP" dev show u0 >/dev/null
	check_err $? "group member cannot show"
	$as_user "$U_VNETCTL" dev add name u1 mgmtdev vnet/sim 2>"$TMP/err"
	check_fail $? "unprivileged add accepted"
	grep -q "CAP_NET_ADMIN" "$TMP/err"
	check_err $? "no clear error: $(cat "$TMP/err")"
	$as_user "$U_VNETCTL" dev del u0 2>/dev/null
	check_fail $? "unprivileged del accepted"
	$as_user "$U_VDPA_WRAP" dev del u0 2>/dev/null
	check_fail $? "unprivileged del via vdpa accepted"
	$as_other "$U_VNETCTL" dev show 2>/dev/null
	check_fail $? "a user outside the group could connect"
	[ "$before" = "$(snapshot)" ]
	check_err $? "registry changed"
	"$VNETCTL" dev del u0
	log_test "unprivileged group member can show but not add or delete"
}

# bad_cli EXPECTED_TEXT ARGS...: must fail with a message, change nothing
bad_cli()
{
	local want=$1
	shift
	"$VNETCTL" "$@" >/dev/null 2>"$TMP/err"
	check_fail $? "accepted: vnetctl $*"
	grep -q -- "$want" "$TMP/err"
	check_err $? "vnetctl $*: expected \"$want\", got \"$(cat "$TMP/err")\""
}

test_bad_input_cli()
{
	local before long
	long=$(printf 'n%.0s' $(seq 40))
	"$VNETCTL" dev add name keep0 mgmtdev vnet/sim mac 02:00:00:00:00:99
	before=$(snapshot)
	bad_cli 'Object "bogus" not found' bogus show
	bad_cli 'Command "frob" not found' dev frob
	bad_cli 'Command "sh" not found' dev sh			# exact keywords only
	bad_cli 'Unknown option "colour"' dev add name x mgmtdev vnet/sim colour red
	bad_cli 'duplicate "mac"' dev add name x mgmtdev vnet/sim mac 02:00:00:00:00:03 mac 02:00:00:00:00:04
	bad_cli 'device name too long' dev add name "$long" mgmtdev vnet/sim
	bad_cli 'not a MAC address' dev add name x mgmtdev vnet/sim mac 02:00:00:00:00
	bad_cli 'not a MAC address' dev add name x mgmtdev vnet/sim mac 02:00:00:00:00:zz
	bad_cli 'Invalid MAC address: multicast' dev add name x mgmtdev vnet/sim mac 01:00:5e:00:00:01
	bad_cli 'max_vqp must be at least 1' dev add name x mgmtdev vnet/sim max_vqp 0
	bad_cli 'max_vqp above the limit' dev add name x mgmtdev vnet/sim max_vqp 65
	bad_cli 'MTU out of range' dev add name x mgmtdev vnet/sim mtu 67
	bad_cli 'out of range' dev add name x mgmtdev vnet/sim mtu 65536
	bad_cli 'device name already exists' dev add name keep0 mgmtdev vnet/sim
	bad_cli 'Fail to find the specified mgmt device' dev add name x mgmtdev vnet/nope
	bad_cli 'Fail to find the specified mgmt device' dev add name x mgmtdev other/sim
	bad_cli 'management device handle not set' dev add name x
	bad_cli 'device not found' dev del nosuchdev
	bad_cli 'device not found' dev config show nosuchdev
	bad_cli 'queue index is not set' dev vstats show keep0
	# (queue index out of range with a driver: selftests/ctl_sim.sh)
	bad_cli 'feature negotiation not complete' dev vstats show keep0 qidx 5
	bad_cli 'socket path must be absolute' dev add name x mgmtdev vnet/up0 socket rel.sock
	bad_cli 'must be "on" or "off"' dev set name keep0 trust maybe
	alive
	check_err $? "vnetd died"
	[ "$before" = "$(snapshot)" ]
	check_err $? "registry changed by rejected requests"
	log_test "bad input via vnetctl: clear errors, vnetd alive, registry unchanged"
}

# vnetctl against a daemon that takes requests and never answers: an error
# after -t seconds (60 by default), not a hang; bad -t values refused
test_stuck_daemon()
{
	local sock=$TMP/stuck.sock t0 rc

	RET=0
	python3 "$SELFTEST_DIR/guest_frames.py" stuck-vnetd "$sock" &
	defer kill $!
	busywait 5000 test -S "$sock"
	t0=$(date +%s%3N)
	timeout 30 "$VNETCTL" -s "$sock" -t 2 dev show >/dev/null 2>"$TMP/err"
	rc=$?
	[ "$rc" = 1 ]
	check_err $? "vnetctl -t 2 against a silent daemon: exit $rc, want 1 (124: it hung)"
	grep -q "vnetd did not answer within 2 s" "$TMP/err"
	check_err $? "no clear error: \"$(cat "$TMP/err")\""
	[ $(($(date +%s%3N) - t0)) -lt 10000 ]
	check_err $? "took $(($(date +%s%3N) - t0)) ms for a 2 s timeout"
	bad_cli 'argument "x" of "timeout" is not a number' -t x dev show
	bad_cli 'argument "-1" of "timeout" is not a number' -t -1 dev show
	bad_cli 'out of range (max 86400)' --timeout 86401 dev show
	# the real vnetd answers within the default and with a short -t
	"$VNETCTL" -t 5 dev show >/dev/null
	check_err $? "vnetctl -t 5 against vnetd failed"
	log_test "vnetctl against a daemon that never answers: an error after -t seconds, no hang"
}

test_bad_input_raw()
{
	local before c out
	before=$(snapshot)
	for c in unknown-attr dup-attr trusted-2 set-spoofchk-2 mtu-as-u32 mac-5-bytes \
		 mac-multicast name-unterminated \
		 unknown-cmd unknown-family no-genl-header truncated short attr-overrun \
		 oversized dump-del; do
		out=$("$NLRAW" "$c")
		check_err $? "case $c was not rejected: $out"
		[[ $out =~ ^error\ [1-9][0-9]*\ .+ ]]
		check_err $? "case $c: no errno and extended-ack text: $out"
		vlog "$c: $out"
	done
	alive
	check_err $? "vnetd died"
	[ "$before" = "$(snapshot)" ]
	check_err $? "registry changed by rejected requests"
	"$NLRAW" valid-add >/dev/null
	check_fail $? "the well-formed raw request was not acked"
	"$VNETCTL" dev del rawdev
	check_err $? "raw-added device missing"
	log_test "malformed netlink messages: NLMSG_ERROR with ext ack, nothing changed"
}

test_sigterm()
{
	"$VNETCTL" dev add name term0 mgmtdev vnet/sim
	check_err $? "add failed"
	kill -TERM "$VNETD_PID"
	slowwait 5 sh -c "! kill -0 $VNETD_PID 2>/dev/null"
	check_err $? "vnetd did not exit on SIGTERM"
	wait "$VNETD_PID"
	check_err $? "vnetd exit status not 0"
	[ ! -e "$VNET_SOCK" ] && [ ! -e "$TMP/run/term0.sock" ]
	check_err $? "socket left behind: $(ls "$TMP/run")"
	log_test "SIGTERM: clean exit, control and vhost-user sockets removed"
}

require_root
require_command ip
require_command jq
require_command python3
require_command setpriv
require_bin vnetd
require_bin vnetctl
require_bin vnet-vdpa
require_bin vnet-nlraw
[ -x /usr/sbin/vdpa ] || skip "iproute2 vdpa not installed"
[ -e "$VNET_BUILD/lib/libvnet-vdpa.so" ] || skip "libvnet-vdpa.so not built"

setup
tests_run
exit $EXIT_STATUS
