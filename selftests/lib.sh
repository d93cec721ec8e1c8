#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Shared library of vnet's selftests, in the manner of the kernel's
# tools/testing/selftests/net/lib.sh:
#
#   source "$(dirname "$0")/lib.sh"
#   ALL_TESTS="test_a test_b"
#   test_a() { RET=0; cmd; check_err $? "cmd failed"; log_test "what a shows"; }
#   require_root; require_command ip
#   tests_run; exit $EXIT_STATUS
#
# Exit status: 0 pass, 1 fail, 4 skip (the worst result seen). Every
# namespace and process a test makes is registered with defer and removed on
# exit, even after a failure. TESTS="a b" runs a subset; -v / VERBOSE=1 shows
# commands; PAUSE_ON_FAIL=yes stops for a look before cleanup.

ksft_pass=0
ksft_fail=1
ksft_skip=4

EXIT_STATUS=0
RET=0
# the test tests_run is in and since when (SECONDS), for __killed
__TEST_NOW=
__TEST_SINCE=0
VERBOSE=${VERBOSE:-0}
PAUSE_ON_FAIL=${PAUSE_ON_FAIL:-no}

SELFTEST_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
VNET_ROOT=$(cd "$SELFTEST_DIR/.." && pwd)
VNET_BUILD=${VNET_BUILD:-$VNET_ROOT/build}
VNET_BIN=${VNET_BIN:-$VNET_BUILD/bin}
# more vnet-guest options for every selftest that runs it on a real device,
# e.g. VNET_GUEST_ARGS=--packed: the same tests on packed virtqueues
read -r -a GUEST_ARGS <<<"${VNET_GUEST_ARGS:-}"

[ "${1:-}" = "-v" ] && VERBOSE=1

# --- cleanup ------------------------------------------------------------------

__DEFER=()

# defer CMD ARGS...: run CMD at exit, last registered first.
defer()
{
	local cmd
	printf -v cmd '%q ' "$@"
	__DEFER+=("$cmd")
}

__run_deferred()
{
	local i
	for ((i = ${#__DEFER[@]} - 1; i >= 0; i--)); do
		eval "${__DEFER[i]}" >/dev/null 2>&1
	done
	__DEFER=()
}
trap __run_deferred EXIT
trap 'exit 1' INT
trap __killed TERM

# __killed: SIGTERM, from a timeout (run-tests.sh, the kernel matrix) as a
# rule: before the cleanup, say where the script was, so that a hang reads
# as "in tcp_xfer (test_x.sh:139) < test_x ..." rather than as a
# bare exit status. The stack is the one the signal interrupted; a script
# may define on_killed to add its own account (uplink_lib.sh: vnetd's log).
__killed()
{
	local i where=

	# each function with the line it was called from (bash gives a trap
	# no line of the command it interrupted)
	for ((i = 1; i < ${#FUNCNAME[@]} - 1; i++)); do
		where+="${where:+ < }${FUNCNAME[i]} (${BASH_SOURCE[i + 1]##*/}:${BASH_LINENO[i]})"
	done
	# indented, as a [FAIL]'s message: run-tests.sh shows such lines
	{
		echo "killed (SIGTERM)${__TEST_NOW:+ in $__TEST_NOW, $((SECONDS - __TEST_SINCE)) s into it}"
		echo "in: ${where:-the top level of the script}"
		[ "$RET" -eq 0 ] || echo "its first failed check: ${retmsg:-}"
		! declare -F on_killed >/dev/null || on_killed 2>&1
	} | sed 's/^/\t# /'
	exit 1
}

# --- results --------------------------------------------------------------------

__set_exit()
{
	local rc=$1
	# fail beats skip beats pass
	if [ "$rc" -eq $ksft_fail ] || { [ "$rc" -eq $ksft_skip ] && [ $EXIT_STATUS -eq 0 ]; }; then
		EXIT_STATUS=$rc
	fi
}

check_err()
{
	local err=$1 msg=$2
	if [ "$RET" -eq 0 ] && [ "$err" -ne 0 ]; then
		RET=$err
		retmsg=$msg
	fi
}

check_fail()
{
	local err=$1 msg=$2
	if [ "$RET" -eq 0 ] && [ "$err" -eq 0 ]; then
		RET=1
		retmsg=$msg
	fi
}

# log_test DESCRIPTION: print the result line of the current test (RET).
log_test()
{
	local desc=$1
	if [ "$RET" -eq $ksft_skip ]; then
		printf "TEST: %-60s [SKIP]\n" "$desc"
		[ -n "${retmsg:-}" ] && echo "	$retmsg"
		__set_exit $ksft_skip
	elif [ "$RET" -ne 0 ]; then
		printf "TEST: %-60s [FAIL]\n" "$desc"
		[ -n "${retmsg:-}" ] && echo "	$retmsg"
		__set_exit $ksft_fail
		if [ "$PAUSE_ON_FAIL" = yes ]; then
			echo "Hit enter to continue, 'q' to quit"
			read -r a
			[ "$a" = q ] && exit 1
		fi
	else
		printf "TEST: %-60s [ OK ]\n" "$desc"
	fi
	RET=0
	retmsg=
}

log_skip()
{
	RET=$ksft_skip
	retmsg=$2
	log_test "$1"
}

# skip REASON: the whole script cannot run here.
skip()
{
	echo "SKIP: $*"
	exit $ksft_skip
}

tests_run()
{
	local t
	for t in ${TESTS:-$ALL_TESTS}; do
		RET=0
		retmsg=
		__TEST_NOW=$t __TEST_SINCE=$SECONDS
		$t
	done
	__TEST_NOW=
}

# --- requirements ---------------------------------------------------------------

require_root()
{
	[ "$(id -u)" -eq 0 ] || skip "needs root"
}

require_command()
{
	command -v "$1" >/dev/null 2>&1 || skip "command $1 not found"
}

require_bin()
{
	[ -x "$VNET_BIN/$1" ] || skip "$VNET_BIN/$1 not built (run make)"
}

# --- namespaces -----------------------------------------------------------------

# setup_ns VAR...: make a uniquely named namespace per VAR, store its name in
# VAR, bring its loopback up and remove it at exit.
setup_ns()
{
	local var name
	for var in "$@"; do
		name="vnet-${var,,}-$(mktemp -u XXXXXX)"
		ip netns add "$name" || return 1
		defer ip netns del "$name"
		ip -n "$name" link set lo up
		eval "$var=$name"
	done
}

# in_ns NS CMD...: run CMD in NS (bpffs mounted there, see below).
in_ns()
{
	local ns=$1
	shift
	ip netns exec "$ns" "$@"
}

# `ip netns exec` remounts /sys, so libxdp/libbpf users need bpffs inside.
ns_mount_bpffs()
{
	ip netns exec "$1" sh -c \
		'mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf'
}

# veth_pair NS_A IF_A NS_B IF_B [NQ]: a veth pair, one end in each namespace.
veth_pair()
{
	local nsa=$1 ifa=$2 nsb=$3 ifb=$4 q=()
	# NQ: as many rx and tx queues on each end (native XDP on a veth wants
	# as many rx queues as its peer has tx queues)
	[ -n "${5:-}" ] && q=(numtxqueues "$5" numrxqueues "$5")
	ip link add "$ifa" netns "$nsa" "${q[@]}" type veth peer name "$ifb" netns "$nsb" "${q[@]}" ||
		return 1
	ip -n "$nsa" link set "$ifa" up
	ip -n "$nsb" link set "$ifb" up
}

# --- waiting --------------------------------------------------------------------

# busywait TIMEOUT_MS CMD...: retry CMD until it succeeds or time runs out.
busywait()
{
	local timeout_ms=$1
	shift
	local start now
	start=$(date +%s%3N)
	while true; do
		"$@" && return 0
		now=$(date +%s%3N)
		[ $((now - start)) -ge "$timeout_ms" ] && return 1
		sleep 0.05
	done
}

# slowwait TIMEOUT_S CMD...: the same, checking every 0.2 s.
slowwait()
{
	local timeout_s=$1
	shift
	local deadline=$(($(date +%s) + timeout_s))
	while true; do
		"$@" && return 0
		[ "$(date +%s)" -ge "$deadline" ] && return 1
		sleep 0.2
	done
}

# start_bg VAR CMD...: start CMD in the background, its pid in VAR, killed at exit.
start_bg()
{
	local var=$1
	shift
	"$@" &
	local pid=$!
	eval "$var=$pid"
	defer kill "$pid"
}

vlog()
{
	[ "$VERBOSE" = 1 ] && echo "    $*"
	return 0
}
