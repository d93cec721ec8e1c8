#!/bin/bash
# SPDX-License-Identifier: MIT
# The VM harness itself (vm_lib.sh, vm_agent.sh, vm_console.py), on one
# guest of Debian's 6.12 kernel: what the kernel matrix relies on to tell a
# slow script from a hung one and from a guest that stopped.
#   test_ping_while_running  a script running longer than VM_SILENCE: the
#                            agent answers the pings meanwhile, the script
#                            ends normally with its output and status
#   test_kill_on_timeout     a script past its time is killed with what it
#                            started (exit 124, its output so far), the
#                            guest serves the next one
#   test_stopped_guest       a guest whose CPUs stop (QEMU's `stop`) is
#                            reported (exit 123) after VM_SILENCE seconds,
#                            not after the script's time
#   test_post_mortem         SysRq from outside: the kernel prints its CPUs'
#                            stacks and its memory on the console
source "$(dirname "$0")/vm_lib.sh"

ALL_TESTS="test_ping_while_running test_kill_on_timeout test_stopped_guest test_post_mortem"
VM_KERNEL=${VM_KERNEL:-6.12}

require_root
vm_require

setup()
{
	TMP=$(mktemp -d /tmp/vnet-vmh.XXXXXX) || exit 1
	chmod 755 "$TMP"
	[ -n "${KEEP_TMP:-}" ] || defer rm -rf "$TMP"
	vm_image "$VM_KERNEL"
	vm_start h1 -smp 2
	if ! vm_wait_ready h1 180; then
		echo "the guest did not boot"
		vm_console_tail h1 30
		exit 1
	fi
}

test_ping_while_running()
{
	local out rc t0 t
	RET=0
	t0=$(date +%s)
	out=$(VM_SILENCE=4 vm_exec h1 -t 120 "echo one; sleep 10; echo two; exit 7")
	rc=$?
	[ $rc = 7 ]
	check_err $? "status $rc for a script that exits 7 (123: no pings answered)"
	t=$(($(date +%s) - t0))
	[ "$out" = "one
two" ]
	check_err $? "output: $out"
	[ $t -ge 10 ]
	check_err $? "a 10 s script ended after $t s"
	log_test "a script running past VM_SILENCE: pings answered, output and status kept"
}

__sleepers() { vm_exec h1 -t 30 "ps -e -o args= | grep -c '^sleep 60[0]'; exit 0"; }

test_kill_on_timeout()
{
	local out rc t0 t n
	RET=0
	t0=$(date +%s)
	out=$(vm_exec h1 -t 5 "echo before; sleep 600 & sleep 600; echo after" 2>"$TMP/err")
	rc=$?
	t=$(($(date +%s) - t0))
	[ $rc = 124 ]
	check_err $? "status $rc, want 124"
	[ "$(head -n 1 <<<"$out")" = before ] && ! grep -q after <<<"$out"
	check_err $? "output of the killed script: $out"
	[ $t -lt 40 ]
	check_err $? "the kill took $t s"
	grep -q "was killed" "$TMP/err"
	check_err $? "vm_console did not say why: $(cat "$TMP/err")"
	n=$(__sleepers)
	check_err $? "the guest does not serve the next script"
	[ "$n" = 0 ]
	check_err $? "$n of the script's processes left"
	log_test "a script past its time: killed with its children (124, output kept)"
}

test_stopped_guest()
{
	local rc t0 t
	RET=0
	vm_hmp h1 stop >/dev/null
	t0=$(date +%s)
	VM_SILENCE=6 vm_exec h1 -t 300 "echo never" >/dev/null 2>"$TMP/err"
	rc=$?
	t=$(($(date +%s) - t0))
	vm_hmp h1 cont >/dev/null
	[ $rc = 123 ]
	check_err $? "status $rc, want 123: $(cat "$TMP/err")"
	[ $t -lt 30 ]
	check_err $? "reported after $t s (VM_SILENCE 6, the script's time 300)"
	grep -q "stopped answering" "$TMP/err"
	check_err $? "vm_console did not say why: $(cat "$TMP/err")"
	vm_wait_ready h1 60
	check_err $? "the guest does not answer after cont"
	log_test "a stopped guest: reported after VM_SILENCE, not after the script's time"
}

test_post_mortem()
{
	local out
	RET=0
	out=$(vm_post_mortem h1)
	grep -q "post mortem of guest h1 (qemu: VM status: running)" <<<"$out"
	check_err $? "no QEMU state: $(head -n 3 <<<"$out")"
	grep -q "NMI backtrace for cpu" <<<"$out"
	check_err $? "no CPU stacks: $(head -n 5 <<<"$out")"
	grep -q "sysrq: Show Memory" <<<"$out"
	check_err $? "no memory report: $(tail -n 5 <<<"$out")"
	log_test "post mortem: SysRq through QEMU prints the CPUs' stacks and memory"
}

setup
tests_run
exit $EXIT_STATUS
