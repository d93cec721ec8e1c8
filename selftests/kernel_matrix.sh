#!/bin/bash
# SPDX-License-Identifier: MIT
# run-tests timeout: 2400
# (two TCG guests, each running every uplink script: 700-800 s here, too
# close to the 900 s bound scripts/run-tests.sh gives a selftest by default;
# 3 times that, as MATRIX_TIMEOUT below)
# The kernel matrix: the XDP/AF_XDP selftests again inside QEMU guests
# booted with Debian 12's kernels (vm_lib.sh: the host's root read-only
# over 9p, so the guest runs this build's vnetd and tests), one guest per
# kernel series in VM_KERNELS (default "6.1 6.12"). This machine's kernel
# cannot load libxdp's dispatcher, Debian's 6.1 can (vnet's program runs
# behind it), and Debian's 6.12 loads it but refuses vnet's program as its
# extension (vnetd attaches the program directly instead): each path runs
# here for real.
#
# Every inner result is one line "TEST: KERNEL SCRIPT: NAME [ OK ]|[FAIL]|
# [SKIP]"; per kernel one more says how vnetd attached XDP (from its log in
# e2e_uplink.sh, right after it ran): dispatcher, single or direct --
# dispatcher wanted on 6.1, dispatcher or direct on 6.12, anything but "no
# datapath" elsewhere.
#
# The inner tests (MATRIX_TESTS, a list of SCRIPT[:TEST,TEST...], replaces
# them), about 2 minutes a kernel under TCG on 2 cores:
#   xdp_uplink.sh          all
#   e2e_uplink.sh          all
#   uplink_lifecycle.sh    all but test_carrier_storm (~25 s under TCG, and
#                          it counts netlink carrier events, nothing of XDP)
#   uplink_jumbo.sh        all: MTU 9000 through multi-buffer on 6.12; on 6.1
#                          (no XDP_USE_SG) only the refusal with its reason;
#                          on 6.12 not test_ring_drops: Debian's 6.12.118
#                          panicked once in netif_receive_skb (in interrupt)
#                          while the sockets' rings overflowed with jumbo
#                          frames (a guest kernel fault, not vnetd's; the
#                          test runs on this machine's 6.18)
#   uplink_kgro.sh         all: vnetd -K, TCP through the uplink's GRO, a
#                          packet socket with PACKET_VNET_HDR and TC ingress
# Guests: VM_MEM 1024 MiB, 2 vCPUs, no NIC; veth, tun and the TC modules of
# the host port loaded (VM_LOAD). The scripts wait for events with generous
# bounds (uplink_lib.sh), so TCG's slowness costs time, never a result.
#
# A script gets MATRIX_TIMEOUT seconds: 3 times the longest here
# (e2e_uplink.sh, uplink_kgro.sh: 125-160 s). TCG's speed is the host's:
# with two busy loops beside the guest on this machine's 2 cores, e2e took
# 253 s, and a CI run killed one at the earlier 300 s. One still running
# then is killed with what it started (its output so far is relayed, and
# lib.sh's __killed names the test and the functions it was in) and the
# guest's processes and kernel log are shown. A guest whose agent stops answering
# is reported after VM_SILENCE (60) seconds, not after the script's time,
# with the kernel's own account (SysRq: CPU stacks, blocked tasks, memory).
# Either way the scripts after it run in a freshly booted guest. Per kernel
# a last line says how tight the guest's memory was (PSI stall time, OOM
# kills).
# before vm_lib.sh, whose default (512) is for the small guests of vm_qemu.sh
VM_MEM=${VM_MEM:-1024}
source "$(dirname "$0")/vm_lib.sh"

VM_KERNELS=${VM_KERNELS:-6.1 6.12}
MATRIX_TESTS=${MATRIX_TESTS:-"xdp_uplink.sh e2e_uplink.sh
	uplink_lifecycle.sh:test_uplink_gone,test_mtu_limit,test_libxdp_refused
	uplink_jumbo.sh uplink_kgro.sh"}
# veth: the uplinks; tun: vnet-guest's TAPs and the host port's; clsact and
# cls_bpf: the host port's TC programs
VM_LOAD=${VM_LOAD:-veth,tun,sch_ingress,cls_bpf}
# one inner script in the guest at most this long
MATRIX_TIMEOUT=${MATRIX_TIMEOUT:-480}

require_root
require_command jq
require_bin vnetd
require_bin vnetctl
require_bin vnet-guest
require_bin vnet-xsk-recv
vm_require

TMP=$(mktemp -d /tmp/vnet-matrix.XXXXXX) || exit 1
chmod 755 "$TMP"
[ -n "${KEEP_TMP:-}" ] || defer rm -rf "$TMP"

# result KERNEL NAME OK|FAIL|SKIP [MESSAGE]: one line for the runner
result()
{
	local tag
	case $3 in
	OK) tag="[ OK ]" ;;
	FAIL) tag="[FAIL]"; __set_exit $ksft_fail ;;
	*) tag="[SKIP]"; __set_exit $ksft_skip ;;
	esac
	printf "TEST: %-70s %s\n" "$1 $2" "$tag"
	[ -n "${4:-}" ] && printf '\t%s\n' "$4"
	return 0
}

# relay KERNEL SCRIPT RC: the inner script's output on stdin, its result
# lines prefixed with the kernel and the script, the rest indented; a
# script that failed without a [FAIL] line (or skipped without lines) is
# one result of its own. What it printed after its last result (a killed
# script's account of where it was, lib.sh __killed) follows that result,
# as a check's message follows its [FAIL]
relay()
{
	local k=$1 s=$2 rc=$3 line name res n=0 f=0 why tail=()
	while IFS= read -r line; do
		if [[ $line =~ ^TEST:\ (.*[^ ])\ +\[( OK |FAIL|SKIP)\]$ ]]; then
			[ ${#tail[@]} -eq 0 ] || printf '\t%s\n' "${tail[@]}"
			tail=()
			name=${BASH_REMATCH[1]} res=${BASH_REMATCH[2]// /}
			result "$k" "$s: $name" "$res"
			n=$((n + 1))
			[ "$res" = FAIL ] && f=1
		elif [ -n "$line" ]; then
			tail+=("$line")
		fi
	done
	if [ "$rc" -eq $ksft_skip ] && [ $n -eq 0 ]; then
		result "$k" "$s" SKIP "the whole script skipped"
	elif [ "$rc" -ne 0 ] && [ "$rc" -ne $ksft_skip ] && [ $f -eq 0 ]; then
		case $rc in
		123) why=" (the guest stopped answering)" ;;
		124) why=" (still running after ${MATRIX_TIMEOUT}s: killed)" ;;
		125) why=" (the guest's channel failed)" ;;
		*) why= ;;
		esac
		result "$k" "$s" FAIL "exited with status $rc$why"
	fi
	[ ${#tail[@]} -eq 0 ] || printf '\t%s\n' "${tail[@]}"
}

# attach_line KERNEL VM: how vnetd attached XDP in that guest's e2e run
attach_line()
{
	local k=$1 vm=$2 log kind want
	log=$(vm_exec "$vm" -t 30 "grep -h -e 'datapath: attached to' -e 'no datapath' \
		/tmp/vnet-e2e.*/vnetd.log 2>/dev/null | head -3")
	case $log in
	*"libxdp dispatcher"*) kind=dispatcher ;;
	*"single program"*) kind=single ;;
	*"attached directly"*) kind=direct ;;
	*) kind=none ;;
	esac
	case $k in
	6.1) want=dispatcher ;;
	6.12) want="dispatcher direct" ;;
	*) want="dispatcher single direct" ;;
	esac
	echo "# kernel $k ($VM_KVER): vnetd XDP attach: $kind"
	if [[ " $want " == *" $kind "* ]]; then
		result "$k" "vnetd's XDP attach: $kind" OK
	else
		result "$k" "vnetd's XDP attach: $kind" FAIL "want one of: $want; vnetd said: ${log:-nothing}"
	fi
}

# boot KERNEL VM: the guest up with its agent answering; 1 (reported) if not
boot()
{
	local k=$1 vm=$2 t0
	t0=$(date +%s)
	vm_start "$vm" -smp 2
	if ! vm_wait_ready "$vm" 180; then
		result "$k" "guest boots" FAIL "no agent; console: $(vm_console_tail "$vm" 5)"
		vm_stop "$vm"
		return 1
	fi
	BOOT_S=$(($(date +%s) - t0))
}

run_kernel()
{
	local k=$1 vm=k${1//./_} t s sel out rc t0 up
	VM_IMG=$("$VNET_ROOT/scripts/vm-image.sh" "$k" "$VNET_BUILD/vm" 2>"$TMP/image-$k.log")
	if [ -z "$VM_IMG" ]; then
		# as vm_image(): no kernel package to be had is this machine's limit
		result "$k" "guest image" SKIP "scripts/vm-image.sh $k: $(tail -n 1 "$TMP/image-$k.log")"
		return
	fi
	VM_KVER=$(cat "$VM_IMG/version")
	boot "$k" "$vm" || return
	if ! grep -q "modprobe .* failed" "$TMP/vm-$vm/console.log"; then
		result "$k" "guest boots ($VM_KVER, $BOOT_S s), modules $VM_LOAD" OK
	else
		result "$k" "guest boots ($VM_KVER), modules $VM_LOAD" FAIL \
			"$(grep -o "modprobe .* failed" "$TMP/vm-$vm/console.log" | tr '\n' ' ')"
	fi
	up=1
	for t in $MATRIX_TESTS; do
		s=${t%%:*} sel=
		[ "$s" != "$t" ] && sel=${t#*:} sel=${sel//,/ }
		if [ $up = 0 ]; then
			result "$k" "$s" FAIL "not run: the guest did not come back"
			continue
		fi
		t0=$(date +%s)
		# the guest's /tmp is its own; the tests write nowhere else. The
		# script's own timeout lets it clean up; the agent kills what is
		# left at MATRIX_TIMEOUT (vm_console.py)
		out=$(vm_exec "$vm" -t "$MATRIX_TIMEOUT" \
			"cd /tmp && VNET_BUILD='$VNET_BUILD' TESTS='$sel' KEEP_TMP=1 \
			 VNET_EMULATED=$([ "$VM_ACCEL" = tcg ] && echo 1) VNET_MATRIX_KERNEL=$k \
			 timeout -k 5 $((MATRIX_TIMEOUT - 20)) bash '$SELFTEST_DIR/$s' </dev/null")
		rc=$?
		relay "$k" "$s" "$rc" <<<"$out"
		echo "# kernel $k: $s ${sel:+($sel) }took $(($(date +%s) - t0)) s"
		case $rc in
		123 | 124 | 125)
			# what hung, then a fresh guest for the scripts after it
			if [ $rc = 124 ]; then
				vm_diag "$vm"
			else
				vm_post_mortem "$vm"
			fi
			vm_stop "$vm"
			boot "$k" "$vm" || up=0
			;;
		*)
			[ "$s" = e2e_uplink.sh ] && attach_line "$k" "$vm"
			;;
		esac
	done
	[ $up = 1 ] && memory_line "$k" "$vm"
	vm_stop "$vm"
}

# memory_line KERNEL VM: how tight the guest's memory was, for the log: the
# time its tasks stalled on memory (PSI), OOM kills, what is left
memory_line()
{
	echo "# kernel $1: guest memory ($VM_MEM MiB): $(vm_exec "$2" -t 30 \
		"awk '/^MemAvailable/ {printf \"%d MiB available, \", \$2 / 1024}' /proc/meminfo
		 awk '/^some/ {sub(\"total=\", \"\", \$5); printf \"stalled %d ms, \", \$5 / 1000}' /proc/pressure/memory
		 awk '/^oom_kill / {printf \"%d OOM kills\", \$2}' /proc/vmstat" 2>&1)"
}

for k in $VM_KERNELS; do
	run_kernel "$k"
done
exit $EXIT_STATUS
