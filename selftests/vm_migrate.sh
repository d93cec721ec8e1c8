#!/bin/bash
# SPDX-License-Identifier: MIT
# Live migration of a QEMU guest between two vnetd "hosts". Each host is a
# network namespace with its own vnetd on its own uplink veth (up0); the
# uplinks' peers are bridged in the "wire" namespace (br0, 10.9.0.1). The
# guest (Debian's 6.12 with busybox only, vm_local_initrd: QEMU does not
# migrate a guest that has the host's root mounted over 9p) runs on host
# A's device g0; a second QEMU waits with -incoming on host B's device g0,
# same MAC. QEMU migrates over a unix socket (HMP migrate -d).
#   test_cancel       migrate_cancel half way: the source runs on, its
#                     device stops logging
#   test_dest_killed  host B's vnetd killed during the migration; QEMU
#                     pauses before the switchover (pause-before-switchover,
#                     as a management layer runs it), the destination's
#                     backend is gone, the migration is cancelled: the
#                     source, whose device was stopped for the switchover,
#                     runs on with its rings where they were
#   test_migrate      while the wire sends the guest a TCP stream and both
#                     ping each other, the guest moves A -> B: the migration
#                     completes, the data's sha256 is intact, the ping loss
#                     is reported (goal: under one second), and the wire
#                     reaches the guest through host B afterwards
# MIG_PACKED=1: the guest's NIC on packed virtqueues (packed=on, checked
# negotiated), so the ring writes logged are packed ones
# VM_VNETD_ARGS: more options for both vnetds (-k: the AF_XDP receive path)
#
# QEMU 7.2's TCG (this machine has no KVM) loses some of the guest's own
# writes in a live migration: a guest on QEMU alone, no vnet and no NIC
# (-nic none), writing memory (dd from /dev/urandom to tmpfs) and migrated
# the same way, wakes up on the destination with a corrupted kernel in 10
# of 14 moves here, whatever the CPU model (max, qemu64, max without AVX
# and XSAVE) and with share=off memory too. The lost writes are the vCPU's,
# which QEMU tracks itself; vnetd's are in the vhost-user log. When the
# destination guest's kernel reports such corruption (TCG_CORRUPTION) and
# the source's did not, test_migrate says so and moves a new guest, up to
# MIG_TRIES times; any other failure, or corruption every time, fails.
source "$(dirname "$0")/vm_lib.sh"

ALL_TESTS="test_cancel test_dest_killed test_migrate"

VNETCTL=$VNET_BIN/vnetctl
FRAMES="python3 $SELFTEST_DIR/guest_frames.py"
WIRE_IP=10.9.0.1
VM_IP=10.9.0.11
MAC=52:54:00:09:00:31
VM_KERNEL=${VM_KERNEL:-6.12}
MIG_MEM=${MIG_MEM:-320}		# MiB: small, so TCG migrates it quickly
PING_IV=0.1			# seconds between pings
LOSS_GOAL_MS=1000
DST=0				# destination QEMUs started so far
MIG_PACKED=${MIG_PACKED:-0}
MIG_WPING= MIG_TCP=		# a move's wire ping and TCP sender (pids)
MIG_TRIES=${MIG_TRIES:-3}	# moves test_migrate may make (QEMU's TCG: the header)
# what the guest's kernel says of memory it did not write
TCG_CORRUPTION='BUG:|Oops|Kernel panic|kernel BUG|stack is corrupted|general protection fault|is not a head'

require_root
require_command ip
require_command jq
require_command ping
require_command bridge
require_command cpio
require_bin vnetd
require_bin vnetctl
vm_require

# ctl HOST ARGS...: vnetctl of host HOST's vnetd
ctl()
{
	local h=$1
	shift
	VNET_SOCK=$TMP/$h/vnetd.sock "$VNETCTL" "$@"
}

# host_start HOST: vnetd of host HOST (namespace NS_HOST) on its up0; its
# devices come back from its state file
host_start()
{
	local h=$1 ns
	eval "ns=\$NS_${h^^}"
	mkdir -p "$TMP/$h"
	ip netns exec "$ns" sh -c \
		'mountpoint -q /sys/fs/bpf || mount -t bpf bpf /sys/fs/bpf; exec "$@"' sh \
		"$VNET_BIN/vnetd" -v ${VM_VNETD_ARGS:-} -u up0 -s "$TMP/$h/vnetd.sock" -d "$TMP/$h/state" -g 0 \
		>>"$TMP/$h/vnetd.log" 2>&1 &
	eval "VNETD_${h^^}=$!"
	defer kill -9 "$!"
	busywait 5000 ctl "$h" mgmtdev show vnet/up0 >/dev/null 2>&1
}

# migration HOST: what host HOST's device says of migration (dev show)
migration()
{
	ctl "$1" -j dev show g0 | jq -r '.dev.g0.migration'
}

__migration_is() { [ "$(migration "$1")" = "$2" ]; }

# vm_nic SOCKET: the guest's NIC, identical on both QEMUs but for the socket
vm_nic()
{
	# vectors=0 (INTx): QEMU 7.2 under TCG crashes setting up MSI-X
	# vector notifiers for vhost-user (DESIGN.md, machine facts)
	echo "-chardev socket,id=c0,path=$1,reconnect=1" \
		"-netdev vhost-user,id=n0,chardev=c0,queues=1" \
		"-device virtio-net-pci,netdev=n0,mac=$MAC,vectors=0$([ "$MIG_PACKED" = 1 ] && echo ,packed=on)"
}

__connections() { grep -c "g0: vhost-user front-end connected" "$TMP/b/vnetd.log"; }
__connected() { [ "$(__connections)" -gt "$1" ]; }

# dst_start: a new destination QEMU on host B, waiting for the migration
# on $TMP/mig$DST.sock; its name in DST_VM
dst_start()
{
	local n
	n=$(__connections)
	DST=$((DST + 1))
	DST_VM=dst$DST
	VM_MEM=$MIG_MEM vm_start "$DST_VM" -smp 1 $(vm_nic "$TMP/b/g0.sock") \
		-incoming "unix:$TMP/mig$DST.sock"
	# it listens for the stream and has done vhost-user's handshake
	slowwait 30 test -S "$TMP/mig$DST.sock" && slowwait 30 __connected "$n"
}

# mig_status VM: QEMU's migration status (active, completed, failed, ...)
mig_status()
{
	vm_hmp "$1" "info migrate" | sed -n 's/^Migration status: *//p' | tr -d '\r'
}

__mig_status_in() { case " $2 " in *" $(mig_status "$1") "*) return 0 ;; esac; return 1; }

# mig_bytes VM: bytes of RAM sent so far
mig_bytes()
{
	vm_hmp "$1" "info migrate" | sed -n 's/^transferred ram: *\([0-9]*\) kbytes.*/\1/p' |
		tr -d '\r'
}

__mig_sent() { [ "$(mig_bytes "$1")" -ge "$2" ] 2>/dev/null; }

# migrate SRC BANDWIDTH: start migrating SRC to the newest destination
migrate()
{
	vm_hmp "$1" "migrate_set_parameter max-bandwidth $2" >/dev/null
	vm_hmp "$1" "migrate -d unix:$TMP/mig$DST.sock"
}

# vm_running VM: the guest runs there and answers
vm_running()
{
	vm_hmp "$1" "info status" | grep -q "VM status: running" &&
		vm_exec "$1" -t 30 true
}

# wire_ping COUNT: the wire pings the guest
wire_ping()
{
	in_ns "$NS_WIRE" ping -c "${1:-3}" -i 0.3 -W 3 $VM_IP >/dev/null
}

__replies() { [ "$(grep -c 'bytes from' "$1")" -ge "$2" ]; }

# rx_start VM: the guest listens on port 5202, the sha256 of what it gets
# goes to /tmp/rx.sum (busybox nc: it ends when the sender closes). The
# initramfs's static busybox has no nohup: setsid detaches it from the agent.
rx_start()
{
	vm_exec "$1" "rm -f /tmp/rx.sum
		setsid sh -c 'nc -l -p 5202 </dev/null | sha256sum >/tmp/rx.sum' </dev/null >/dev/null 2>&1 &
		for i in \$(seq 50); do netstat -ltn | grep -q :5202 && exit 0; sleep 0.1; done
		exit 1"
}

# rx_sum VM: the sha256 the guest computed
rx_sum()
{
	vm_exec "$1" "for i in \$(seq 100); do [ -s /tmp/rx.sum ] && break; sleep 0.1; done
		cut -d' ' -f1 /tmp/rx.sum"
}

# tcp_to_guest VM BYTES: the wire sends BYTES to the guest; 0 when the
# guest got them with their sha256 intact
tcp_to_guest()
{
	local sent got
	rx_start "$1" || return 1
	sent=$(in_ns "$NS_WIRE" timeout 60 $FRAMES tcp-client $VM_IP 5202 "$2" | cut -d' ' -f1)
	got=$(rx_sum "$1")
	vlog "sent $sent got $got"
	[ -n "$sent" ] && [ "$sent" = "$got" ]
}

setup()
{
	setup_ns NS_WIRE NS_A NS_B || exit 1
	veth_pair "$NS_A" up0 "$NS_WIRE" wa || exit 1
	veth_pair "$NS_B" up0 "$NS_WIRE" wb || exit 1
	ip -n "$NS_WIRE" link add br0 type bridge || exit 1
	ip -n "$NS_WIRE" link set wa master br0
	ip -n "$NS_WIRE" link set wb master br0
	ip -n "$NS_WIRE" link set br0 up
	ip -n "$NS_WIRE" addr add $WIRE_IP/24 dev br0
	# veth's partial checksums reach XDP uncompleted (ARCHITECTURE.md)
	local i
	for i in br0 wa wb; do
		in_ns "$NS_WIRE" ethtool -K $i tx off >/dev/null
	done
	TMP=$(mktemp -d /tmp/vnet-mig.XXXXXX) || exit 1
	chmod 755 "$TMP"
	[ -n "${KEEP_TMP:-}" ] || defer rm -rf "$TMP"
	for i in a b; do
		host_start $i || { echo "vnetd $i did not start"; cat "$TMP/$i/vnetd.log"; exit 1; }
		grep -q "uplink datapath: XDP" "$TMP/$i/vnetd.log" ||
			{ cat "$TMP/$i/vnetd.log"; skip "no XDP/AF_XDP datapath on the uplink"; }
		ctl $i dev add name g0 mgmtdev vnet/up0 mac $MAC max_vqp 1 \
			socket "$TMP/$i/g0.sock" || exit 1
	done
	vm_image "$VM_KERNEL"
	vm_local_initrd || { echo "cannot build the local initrd"; exit 1; }
	src_boot || exit 1
}

# src_boot: the guest (QEMU "src") boots on host A's device, its eth0 up
# with $VM_IP, and the wire reaches it; 1 (with the reason) if not
src_boot()
{
	VM_MEM=$MIG_MEM vm_start src -smp 1 $(vm_nic "$TMP/a/g0.sock")
	if ! vm_wait_ready src 180; then
		echo "the guest did not boot"
		vm_console_tail src 30
		cat "$TMP/vm-src/qemu.log"
		return 1
	fi
	vm_exec src "ip link set eth0 up && ip addr add $VM_IP/24 dev eth0 &&
		for i in \$(seq 50); do ip link show eth0 | grep -q LOWER_UP && exit 0; sleep 0.1; done
		exit 1" || { echo "the guest's eth0 has no carrier"; vm_console_tail src; return 1; }
	wire_ping 3 || { echo "the wire cannot reach the guest on host A"; return 1; }
	if [ "$MIG_PACKED" = 1 ] && ! vm_has_feature src 34; then
		echo "MIG_PACKED=1: the guest did not negotiate VIRTIO_F_RING_PACKED"
		return 1
	fi
}

# qemu_corrupted VM: the guest's kernel reports memory it did not write
# (QEMU 7.2's TCG loses guest writes in a live migration: see the header)
qemu_corrupted()
{
	grep -aE "$TCG_CORRUPTION" "$TMP/vm-$1/console.log" 2>/dev/null | head -n 3
}

# mig_half_way: a new destination, and a migration to it slow enough to be
# caught half way (320 MiB at 16 MiB/s), with host A's device logging
mig_half_way()
{
	dst_start
	check_err $? "the destination QEMU did not come up"
	migrate src 16M
	slowwait 30 __mig_sent src 32768
	check_err $? "the migration did not get going: $(mig_status src)"
	busywait 10000 __migration_is a logging
	check_err $? "host A's device does not log during the migration: $(migration a)"
}

# A migration cancelled half way: QEMU turns logging off, the guest runs on.
test_cancel()
{
	RET=0
	[ "$(migration a)" = idle ]
	check_err $? "host A's device before the migration: $(migration a), not idle"
	mig_half_way
	vm_hmp src migrate_cancel >/dev/null
	slowwait 30 __mig_status_in src "cancelled failed"
	check_err $? "migrate_cancel: status $(mig_status src)"
	busywait 10000 __migration_is a idle
	check_err $? "host A's device still logs after the cancel: $(migration a)"
	vm_running src
	check_err $? "the source does not run after the cancel"
	wire_ping 3
	check_err $? "the wire cannot reach the guest on host A after the cancel"
	vm_stop "$DST_VM"
	log_test "migrate_cancel half way: the source runs on, logging off"
}

# Host B's vnetd dies during the migration. QEMU 7.2 would complete the
# migration anyway (the destination's NIC waits for its back-end), so the
# migration pauses before the switchover, as a management layer runs it
# (pause-before-switchover), sees the destination's back-end gone and
# cancels. By then the source had stopped its device for the switchover
# (SET_STATUS(0), GET_VRING_BASE): it must resume where its rings were.
test_dest_killed()
{
	local st
	RET=0
	vm_hmp src "migrate_set_capability pause-before-switchover on" >/dev/null
	mig_half_way
	kill -9 "$VNETD_B"
	wait "$VNETD_B" 2>/dev/null
	# and now as fast as it goes, into the switchover
	vm_hmp src "migrate_set_parameter max-bandwidth 1G" >/dev/null
	slowwait 120 __mig_status_in src "pre-switchover completed failed cancelled"
	st=$(mig_status src)
	[ "$st" = pre-switchover ]
	check_err $? "migration status '$st', not paused before the switchover"
	# the management layer's look at the destination: no back-end
	! ctl b dev show g0 >/dev/null 2>&1
	check_err $? "host B's vnetd still answers"
	vm_hmp src migrate_cancel >/dev/null
	slowwait 30 __mig_status_in src "cancelled failed"
	check_err $? "migrate_cancel before the switchover: status $(mig_status src)"
	vm_hmp src "migrate_set_capability pause-before-switchover off" >/dev/null
	busywait 10000 __migration_is a idle
	check_err $? "host A's device still logs after the failed migration: $(migration a)"
	vm_running src
	check_err $? "the source does not run after the failed migration"
	wire_ping 3
	check_err $? "the wire cannot reach the guest on host A after the failed migration"
	tcp_to_guest src $((4 << 20))
	check_err $? "TCP to the guest after its device was stopped and resumed: data differs"
	vm_stop "$DST_VM"
	host_start b
	check_err $? "host B's vnetd did not come back"
	log_test "destination vnetd killed: the migration fails, the source runs on"
}

# The guest moves A -> B under traffic. QEMU 7.2's TCG can corrupt the
# guest in the move (the header): then, and only then, the move is tried
# again with a new guest, at most MIG_TRIES times, each one reported.
test_migrate()
{
	local try seen
	for ((try = 1; try <= MIG_TRIES; try++)); do
		RET=0
		migrate_under_traffic
		[ "$RET" -ne 0 ] || break
		seen=$(qemu_corrupted "$DST_VM")
		[ -n "$seen" ] && [ -z "$(qemu_corrupted src)" ] && [ "$try" -lt $MIG_TRIES ] ||
			break
		echo "	try $try: the guest's kernel on host B reports corrupted memory" \
			"(QEMU's TCG, not the device: $retmsg):"
		echo "$seen" | sed 's/^/		/'
		vm_stop "$DST_VM"
		kill "$MIG_WPING" "$MIG_TCP" 2>/dev/null
		RET=0
		src_boot
		check_err $? "try $((try + 1)): the new guest did not come up on host A"
		[ "$RET" -eq 0 ] || break
	done
	log_test "live migration A -> B under TCP and ping: completes, data intact"
}

# One move under traffic (test_migrate); RET and retmsg say how it went.
migrate_under_traffic()
{
	local bytes=$((48 << 20)) rate=$((4 << 20)) sent got st tx rx lost lost_ms out
	dst_start
	check_err $? "the destination QEMU did not come up"
	# the guest receives a paced TCP stream and pings the wire; the wire pings it
	rx_start src
	check_err $? "the guest's receiver did not start"
	vm_exec src "setsid ping -i $PING_IV -W 1 $WIRE_IP </dev/null >/tmp/ping.out 2>&1 &"
	check_err $? "the guest's ping did not start"
	# ip netns exec execs: $! is ping's (tcp-client's) own pid
	ip netns exec "$NS_WIRE" ping -i $PING_IV -W 1 $VM_IP >"$TMP/wire-ping.out" 2>&1 &
	MIG_WPING=$!
	defer kill "$MIG_WPING"
	ip netns exec "$NS_WIRE" timeout 120 $FRAMES tcp-client $VM_IP 5202 $bytes $rate \
		>"$TMP/tcp.out" 2>&1 &
	MIG_TCP=$!
	defer kill "$MIG_TCP"
	# both pings answered and the stream going before the move
	slowwait 30 __replies "$TMP/wire-ping.out" 10
	check_err $? "the wire's ping gets no answers before the migration"
	migrate src 1G
	slowwait 120 __mig_status_in src "completed failed cancelled"
	st=$(mig_status src)
	[ "$st" = completed ]
	check_err $? "migration status '$st'"
	vm_hmp src "info migrate" | grep -E "downtime|total time" | tr -d '\r' |
		sed 's/^/	/'
	vm_stop src
	wait "$MIG_TCP"
	check_err $? "the TCP transfer from the wire failed: $(cat "$TMP/tcp.out")"
	sent=$(cut -d' ' -f1 "$TMP/tcp.out")
	got=$(rx_sum "$DST_VM")
	vlog "sent $sent got $got"
	[ -n "$sent" ] && [ "$sent" = "$got" ]
	check_err $? "TCP data differs after the migration: sent $sent, the guest got $got"
	# the pings of both sides
	kill -INT "$MIG_WPING"
	wait "$MIG_WPING" 2>/dev/null
	out=$(vm_exec "$DST_VM" "kill -INT \$(pidof ping)
		for i in \$(seq 50); do grep -q transmitted /tmp/ping.out && break; sleep 0.1; done
		cat /tmp/ping.out")
	for side in guest wire; do
		[ $side = wire ] && out=$(cat "$TMP/wire-ping.out")
		tx=$(echo "$out" | sed -n 's/^\([0-9]*\) packets transmitted.*/\1/p')
		rx=$(echo "$out" | sed -n 's/.* \([0-9]*\) \(packets \)\{0,1\}received.*/\1/p')
		lost=$((${tx:-0} - ${rx:-0}))
		lost_ms=$(awk "BEGIN { print int($lost * $PING_IV * 1000) }")
		echo "	ping $side -> other side: $lost of ${tx:-?} lost (${lost_ms} ms;" \
			"goal < $LOSS_GOAL_MS ms)"
		[ -n "$tx" ] && [ "$tx" -gt 0 ] && [ "$lost_ms" -lt $((5 * LOSS_GOAL_MS)) ]
		check_err $? "ping $side: $lost of ${tx:-none} lost"
	done
	# the wire reaches the guest through host B now, and B learned nothing to log
	wire_ping 3
	check_err $? "the wire cannot reach the guest after the migration"
	bridge -n "$NS_WIRE" fdb show br br0 | grep -qi "$MAC dev wb"
	check_err $? "the wire did not learn the guest's new path: $(bridge -n "$NS_WIRE" fdb show br br0 | grep -i "$MAC")"
	echo "	announce: $(ctl b -j dev show g0 | jq -r '.dev.g0.port_tx_rarp') RARP(s) from" \
		"host B for QEMU's SEND_RARP (0: the guest announced itself)"
	[ "$(ctl b -j dev show g0 | jq -r '.dev.g0.port_rx_frames')" -gt 0 ]
	check_err $? "host B's device received nothing"
	[ "$(migration b)" = idle ]
	check_err $? "host B's device: migration $(migration b)"
}

setup
tests_run
if [ "$EXIT_STATUS" -ne 0 ]; then
	for h in a b; do
		tail -n 30 "$TMP/$h/vnetd.log" | sed "s/^/	vnetd $h: /"
	done
	for v in "$TMP"/vm-*/qemu.log; do
		sed "s|^|	$(basename "$(dirname "$v")"): |" "$v"
	done
fi
exit $EXIT_STATUS
