#!/bin/bash
# SPDX-License-Identifier: MIT
#
# vnet's test runner (called by `make check`). Runs, in order:
#   1. unit tests, normal build          build/tests/unit/*
#   2. unit tests under ASan/UBSan       build/asan/tests/unit/*
#   3. BPF program tests (root)          build/tests/bpf/*
#   4. fuzzers, a short run each         build/fuzz/*  (FUZZ_SECONDS, default 15)
#   5. source checks                     SOURCE_CHECKS (scripts/check-*.sh)
#   6. selftests (root, namespaces)      selftests/*.sh (900 s each, or the
#      script's own "# run-tests timeout: N" line)
# Every executable prints kselftest-style lines "TEST: name [ OK ]|[FAIL]|[SKIP]"
# which are counted; an executable that exits with a failure (or crashes)
# without a [FAIL] line counts as one failure, exit 0 without any line as
# one failure too (it tested nothing), exit 4 without lines as one skip.
# Logs: build/test-logs/. A failure shows its [FAIL] lines with context
# at once and again at the end, above the closing line "N passed, N
# failed, N skipped".
#
# Environment: O (build dir), UNIT_TESTS, BPF_TESTS, FUZZERS, SOURCE_CHECKS, SELFTESTS (from
# the Makefile), ONLY=regex to run a subset, FUZZ_SECONDS.
set -u

O=${O:-build}
LOGDIR=$O/test-logs
FUZZ_SECONDS=${FUZZ_SECONDS:-15}
ONLY=${ONLY:-}
mkdir -p "$LOGDIR"
# selftests find the binaries of this build
export VNET_BUILD=${VNET_BUILD:-$(cd "$O" && pwd)}

passed=0 failed=0 skipped=0
failures=()
# per failed executable: its label and its first [FAIL] lines with context
failure_why=()

# run_one LABEL TIMEOUT CMD...
run_one()
{
	local label=$1 tmo=$2
	shift 2
	local log="$LOGDIR/${label//\//_}.log" rc start end p f s why

	if [ -n "$ONLY" ] && ! [[ $label =~ $ONLY ]]; then
		return
	fi
	start=$(date +%s)
	timeout --kill-after=10 "$tmo" "$@" >"$log" 2>&1 </dev/null
	rc=$?
	end=$(date +%s)
	p=$(grep -c '^TEST: .*\[ OK \]$' "$log")
	f=$(grep -c '^TEST: .*\[FAIL\]$' "$log")
	s=$(grep -c '^TEST: .*\[SKIP\]$' "$log")
	if [ "$rc" -eq 4 ] && [ $((p + f + s)) -eq 0 ]; then
		s=1
		echo "TEST: $label [SKIP] $(grep -m1 -i skip "$log")" >>"$log"
	elif [ "$rc" -eq 0 ] && [ $((p + f + s)) -eq 0 ]; then
		# a test that ran nothing (empty list, early return) is not a pass
		f=1
		echo "TEST: $label exited 0 but reported no TEST: lines [FAIL]" >>"$log"
	elif [ "$rc" -ne 0 ] && [ "$rc" -ne 4 ] && [ "$f" -eq 0 ]; then
		f=1
		[ "$rc" -eq 124 ] && echo "TIMEOUT after ${tmo}s" >>"$log"
		echo "TEST: $label exited with status $rc [FAIL]" >>"$log"
	fi
	passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + s))

	if [ "$f" -gt 0 ]; then
		printf '%-44s %3d ok %3d fail %3d skip  %4ss  FAIL\n' "$label" "$p" "$f" "$s" $((end - start))
		failures+=("$label")
		why=$(grep -E '^TEST: .*\[FAIL\]|^    |^	' "$log" | head -20 | sed 's/^/    | /')
		printf '%s\n    | log: %s\n' "$why" "$log"
		failure_why+=("$label:"$'\n'"$(head -n 16 <<<"$why")")
	else
		printf '%-44s %3d ok %3d fail %3d skip  %4ss\n' "$label" "$p" "$f" "$s" $((end - start))
		grep -E '^TEST: .*\[SKIP\]' "$log" | head -5 | sed 's/^/    | /'
	fi
}

is_root() { [ "$(id -u)" -eq 0 ]; }

echo "== unit tests"
for t in ${UNIT_TESTS:-}; do
	run_one "unit/$t" 300 "$O/tests/unit/$t"
done

echo "== unit tests under ASan/UBSan"
for t in ${UNIT_TESTS:-}; do
	if [ -x "$O/asan/tests/unit/$t" ]; then
		ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
			run_one "asan/$t" 600 "$O/asan/tests/unit/$t"
	fi
done

echo "== BPF program tests"
for t in ${BPF_TESTS:-}; do
	if is_root; then
		run_one "bpf/$t" 600 "$O/tests/bpf/$t"
	else
		run_one "bpf/$t" 5 sh -c "echo 'SKIP: needs root'; exit 4"
	fi
done

echo "== fuzzers (${FUZZ_SECONDS}s each)"
for t in ${FUZZERS:-}; do
	corpus=tests/fuzz/corpus/$t
	work=$O/fuzz-work/$t
	mkdir -p "$work"
	# a fuzzer run passes when it finds nothing in its time
	run_one "fuzz/$t" $((FUZZ_SECONDS + 120)) sh -c \
		"'$O/fuzz/$t' -max_total_time=$FUZZ_SECONDS -timeout=10 -rss_limit_mb=2048 \
		   -artifact_prefix='$work/' '$work' '$corpus' && \
		 echo 'TEST: $t: no crash in ${FUZZ_SECONDS}s [ OK ]'"
done

echo "== source checks"
# each a script that checks the tree, and checks itself with --self-test
for t in ${SOURCE_CHECKS:-}; do
	run_one "$(basename "$t" .sh)" 60 "$t"
	run_one "$(basename "$t" .sh)-self-test" 60 "$t" --self-test
done

echo "== selftests"
for t in ${SELFTESTS:-}; do
	tmo=$(sed -n 's/^# run-tests timeout: \([0-9][0-9]*\)$/\1/p' "$t" | head -n 1)
	run_one "$t" "${tmo:-900}" bash "$t"
done

echo
if [ ${#failures[@]} -gt 0 ]; then
	# once more where a reader of the output's end (a CI page) sees it
	printf '%s\n' "${failure_why[@]}"
	echo "failed: ${failures[*]}"
fi
echo "$passed passed, $failed failed, $skipped skipped"
[ "$failed" -eq 0 ]
