#!/bin/bash
# SPDX-License-Identifier: MIT
# The test runner itself (scripts/run-tests.sh) on stand-in test binaries:
# each way a binary can end is counted the way the runner's header says.
source "$(dirname "$0")/lib.sh"

ALL_TESTS="test_counting"

setup()
{
	FAKE=$(mktemp -d /tmp/vnet-runner.XXXXXX) || exit 1
	defer rm -rf "$FAKE"
	mkdir -p "$FAKE/tests/unit"
	# name, then the body of the stand-in
	fake ok      'echo "TEST: one [ OK ]"; echo "TEST: two [ OK ]"'
	fake silent  'exit 0'
	fake skip4   'echo "SKIP: not here"; exit 4'
	fake crash   'exit 3'
	fake failed  'echo "TEST: bad [FAIL]"; exit 1'
}

fake()
{
	printf '#!/bin/sh\n%s\n' "$2" >"$FAKE/tests/unit/$1"
	chmod +x "$FAKE/tests/unit/$1"
}

# runner NAME...: the runner over the stand-ins NAME, its output in $FAKE/out
runner()
{
	env -u ONLY O="$FAKE" UNIT_TESTS="$*" BPF_TESTS= FUZZERS= SOURCE_CHECKS= SELFTESTS= \
		bash "$VNET_ROOT/scripts/run-tests.sh" >"$FAKE/out" 2>&1
}

# counted NAME "P ok F fail S skip": the runner's line for unit/NAME
counted()
{
	grep -q "^unit/$1 *${2// / *} " "$FAKE/out"
}

test_counting()
{
	RET=0
	runner ok silent skip4 crash failed
	check_fail $? "the runner passed with failing stand-ins"
	counted ok "2 ok 0 fail 0 skip"
	check_err $? "two OK lines: $(grep unit/ok "$FAKE/out")"
	counted silent "0 ok 1 fail 0 skip"
	check_err $? "exit 0 without results not a failure: $(grep unit/silent "$FAKE/out")"
	grep -q "reported no TEST: lines" "$FAKE/test-logs/unit_silent.log"
	check_err $? "no message for a binary without results"
	counted skip4 "0 ok 0 fail 1 skip"
	check_err $? "exit 4 without lines not a skip: $(grep unit/skip4 "$FAKE/out")"
	counted crash "0 ok 1 fail 0 skip"
	check_err $? "exit 3 without lines not a failure: $(grep unit/crash "$FAKE/out")"
	counted failed "0 ok 1 fail 0 skip"
	check_err $? "a FAIL line counted twice or not at all: $(grep unit/failed "$FAKE/out")"
	grep -q "^2 passed, 3 failed, 1 skipped$" "$FAKE/out"
	check_err $? "closing line: $(tail -1 "$FAKE/out")"

	runner ok skip4
	check_err $? "the runner failed on a pass and a skip: $(tail -1 "$FAKE/out")"
	log_test "the runner counts passes, failures, skips and silent binaries"
}

setup
tests_run
exit $EXIT_STATUS
