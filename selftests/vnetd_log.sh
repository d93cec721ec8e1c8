#!/bin/bash
# SPDX-License-Identifier: MIT
# vnetd's log on a normal start with a veth uplink: nothing at all at the
# default verbosity (libbpf's and libxdp's messages, such as the
# "permission error ... try raising 'ulimit -l'" of libxdp's expected
# dispatcher fallback, go one level down through vnet's logger), and with
# -v / -vvv those messages are there, each prefixed by "vnetd: ".
source "$(dirname "$0")/lib.sh"

ALL_TESTS="test_quiet_by_default test_verbose_shows_libbpf"

setup()
{
	setup_ns NS_HOST NS_WIRE || exit 1
	veth_pair "$NS_HOST" up0 "$NS_WIRE" wire0 || exit 1
	TMP=$(mktemp -d /tmp/vnet-log.XXXXXX) || exit 1
	defer rm -rf "$TMP"
}

# vnetd_run NAME [ARGS]: vnetd on up0 until it serves vnet/up0, then
# SIGTERM; its stderr in $TMP/NAME.err, stdout in $TMP/NAME.out
vnetd_run()
{
	local name=$1 pid rc
	shift
	rm -rf "$TMP/state"
	ip netns exec "$NS_HOST" sh -c \
		'mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf; exec "$@"' sh \
		"$VNET_BIN/vnetd" -u up0 -s "$TMP/vnetd.sock" -d "$TMP/state" -g 0 "$@" \
		>"$TMP/$name.out" 2>"$TMP/$name.err" &
	pid=$!
	defer kill -9 "$pid"
	busywait 5000 "$VNET_BIN/vnetctl" -s "$TMP/vnetd.sock" mgmtdev show vnet/up0 \
		>/dev/null 2>&1
	rc=$?
	kill -TERM "$pid"
	wait "$pid" || rc=1
	return $rc
}

# lib_lines FILE: the lines that came from libbpf or libxdp
lib_lines() { grep -E 'libbpf|libxdp' "$1"; }

# unrouted FILE: library lines that did not pass through vnetd's logger
unrouted() { lib_lines "$1" | grep -Ev '^vnetd: lib(bpf|xdp): '; }

test_quiet_by_default()
{
	RET=0
	vnetd_run quiet
	check_err $? "vnetd did not start (or stop) cleanly: $(head -3 "$TMP/quiet.err")"
	! lib_lines "$TMP/quiet.err" >/dev/null
	check_err $? "libbpf/libxdp output at the default level: $(lib_lines "$TMP/quiet.err" | head -2)"
	[ ! -s "$TMP/quiet.err" ] && [ ! -s "$TMP/quiet.out" ]
	check_err $? "vnetd printed: $(cat "$TMP/quiet.out" "$TMP/quiet.err" | head -3)"
	log_test "vnetd on a veth uplink says nothing at the default verbosity"
}

test_verbose_shows_libbpf()
{
	RET=0
	vnetd_run v -v
	check_err $? "vnetd -v did not start cleanly: $(head -3 "$TMP/v.err")"
	if ! grep -q "uplink datapath: XDP" "$TMP/v.err"; then
		log_skip "vnetd -v shows libbpf/libxdp messages" "no XDP datapath on the veth"
		return
	fi
	vlog "$(lib_lines "$TMP/v.err" | head -3)"
	# the dispatcher fallback warns; where the dispatcher loads, nothing does
	if grep -q "no dispatcher" "$TMP/v.err"; then
		lib_lines "$TMP/v.err" >/dev/null
		check_err $? "dispatcher fallback without libbpf/libxdp warnings at -v"
	fi
	! unrouted "$TMP/v.err" >/dev/null
	check_err $? "not through vnetd's logger: $(unrouted "$TMP/v.err" | head -2)"

	# -vvv: libbpf's debug output (loading the object) is always there
	vnetd_run vvv -vvv
	check_err $? "vnetd -vvv did not start cleanly"
	grep -q '^vnetd: libbpf: ' "$TMP/vvv.err"
	check_err $? "no libbpf debug output at -vvv"
	! unrouted "$TMP/vvv.err" >/dev/null
	check_err $? "not through vnetd's logger: $(unrouted "$TMP/vvv.err" | head -2)"
	log_test "vnetd -v / -vvv show libbpf/libxdp messages through its logger"
}

require_root
require_command ip
require_bin vnetd
require_bin vnetctl
setup
tests_run
exit $EXIT_STATUS
