#!/bin/bash
# SPDX-License-Identifier: MIT
# Real VMs on vnet: QEMU guests running Linux's virtio_net (Debian's 6.12
# kernel, the host's root over 9p; vm_lib.sh) on vnet devices of a veth
# uplink. vnetd manages up0 (namespace "host"), whose peer wire0 is "the
# wire" (10.9.0.1, fd00:9::1).
#   vm1: 1 queue pair on packed virtqueues (packed=on), vnetd the
#        vhost-user server (QEMU connects)
#   vm2: 4 queue pairs on 2 vCPUs on split virtqueues, QEMU the server and
#        vnetd the client, as libvirt sets it up
# The uplink and the wire are at MTU 9000, and so is vm1's device where the
# kernel has AF_XDP multi-buffer (vm2's keeps 1500).
# Checked: ping, IPv6 (neighbour discovery, unicast) and TCP both ways with
# the sha256 of the data (vm1, packed rings negotiated on both sides; at
# MTU 9000: jumbo frames through the multi-buffer datapath; ping -M do
# -s 8000 both ways); multiqueue negotiated, `ethtool -L` changing
# the active pairs and flows from the wire spreading over exactly the
# enabled receive queues (vm2); the two VMs reach each other and the wire,
# and each sees only its own unicast; a guest that changes its MAC is
# dropped and counted when untrusted and keeps working when trusted (the
# device learns the MAC); after a driver reload (device reset), a power
# cycle (QEMU quits, a new one connects) and a reboot in place traffic
# resumes.
# VM_VNETD_ARGS: more vnetd options. By default TCP from the wire reaches
# the guests through the uplink's GRO (vnetd -K); the TCP case checks vm1's
# frames took that path (port_rx_kgro), or with -k (vm_qemu_xsk.sh) that
# none did.
source "$(dirname "$0")/uplink_lib.sh"
source "$(dirname "$0")/vm_lib.sh"

ALL_TESTS="test_vm1_ping test_vm1_packed test_vm1_jumbo test_vm1_ipv6 test_vm1_tcp
	test_vm2_mq test_vm2_spread
	test_two_vms test_mac_change test_driver_reload test_power_cycle test_reboot"

VNETCTL=$VNET_BIN/vnetctl
FRAMES="python3 $SELFTEST_DIR/guest_frames.py"
WIRE_IP=10.9.0.1
WIRE_IP6=fd00:9::1
VM1_IP=10.9.0.11
VM1_IP6=fd00:9::11
VM2_IP=10.9.0.12
MAC1=52:54:00:09:00:11
MAC2=52:54:00:09:00:12
MAC1_NEW=52:54:00:09:00:21
VM_KERNEL=${VM_KERNEL:-6.12}
# vnetd's CPU with idle guests: at most this many percent of one CPU
VNETD_IDLE_MAX=10
JUMBO=9000
VM1_MTU=1500		# JUMBO where the datapath is multi-buffer (setup)

require_root
require_command ip
require_command jq
require_command ping
require_bin vnetd
require_bin vnetctl
vm_require

# vm_netdev ID CHARDEV-ARGS QUEUES MAC [,DEVICE-PROPS]: QEMU arguments of a
# vhost-user NIC
vm_netdev()
{
	local id=$1 chardev=$2 q=$3 mac=$4 props=${5:-} mq=off
	[ "$q" -gt 1 ] && mq=on
	# vectors=0 (INTx): QEMU 7.2 under TCG crashes setting up MSI-X
	# vector notifiers for vhost-user (DESIGN.md, machine facts); QEMU
	# offers VIRTIO_NET_F_MTU (its own config space) only with host_mtu
	echo "-chardev socket,id=c$id,$chardev" \
		"-netdev vhost-user,id=n$id,chardev=c$id,queues=$q" \
		"-device virtio-net-pci,netdev=n$id,mac=$mac,mq=$mq,vectors=0$props"
}

# vm_net_up VM IP [IP6]: the guest's eth0 up with its addresses
vm_net_up()
{
	vm_exec "$1" "ip link set eth0 up && ip addr add $2/24 dev eth0 &&
		{ [ -z '${3:-}' ] || ip addr add ${3:-}/64 dev eth0 nodad; } &&
		for i in \$(seq 50); do ip link show eth0 | grep -q LOWER_UP && exit 0; sleep 0.1; done; exit 1"
}

# vm_ping VM DST [COUNT]: the guest pings DST
vm_ping()
{
	vm_exec "$1" -t 60 "ping -c ${3:-3} -i 0.3 -W 3 $2 >/dev/null 2>&1 || ping -c ${3:-3} -i 0.3 -W 3 $2"
}

# vm1_start: boot vm1 (its QEMU connects to vnetd's socket)
vm1_start()
{
	VM_MEM=384 vm_start vm1 -smp 1 \
		$(vm_netdev 0 "path=$TMP/run/vm1.sock,reconnect=1" 1 $MAC1 \
			,packed=on,host_mtu=$VM1_MTU)
}

setup()
{
	setup_ns NS_WIRE NS_HOST || exit 1
	veth_pair "$NS_HOST" up0 "$NS_WIRE" wire0 || exit 1
	ip -n "$NS_HOST" link set up0 mtu $JUMBO || exit 1
	ip -n "$NS_WIRE" link set wire0 mtu $JUMBO || exit 1
	ip -n "$NS_WIRE" addr add $WIRE_IP/24 dev wire0
	ip -n "$NS_WIRE" addr add $WIRE_IP6/64 dev wire0 nodad
	in_ns "$NS_WIRE" ethtool -K wire0 tx off >/dev/null
	TMP=$(mktemp -d /tmp/vnet-vm.XXXXXX) || exit 1
	chmod 755 "$TMP"
	[ -n "${KEEP_TMP:-}" ] || defer rm -rf "$TMP"
	export VNET_SOCK=$TMP/run/vnetd.sock
	vnetd_start ${VM_VNETD_ARGS:-} || { echo "vnetd did not start"; cat "$TMP/vnetd.log"; exit 1; }
	grep -q "uplink datapath: XDP" "$TMP/vnetd.log" ||
		{ cat "$TMP/vnetd.log"; skip "no XDP/AF_XDP datapath on the uplink"; }
	vm_image "$VM_KERNEL"

	grep -q "frames up to $((JUMBO + 22)) bytes (multi-buffer)" "$TMP/vnetd.log" &&
		VM1_MTU=$JUMBO
	"$VNETCTL" dev add name vm1 mgmtdev vnet/up0 mac $MAC1 max_vqp 1 mtu $VM1_MTU || exit 1
	vm1_start
	# QEMU is the server of vm2's socket; it waits for vnetd to connect
	VM_MEM=384 vm_start vm2 -smp 2 \
		$(vm_netdev 0 "path=$TMP/vm2.sock,server=on,wait=off" 4 $MAC2)
	slowwait 20 test -S "$TMP/vm2.sock" || { cat "$TMP/vm-vm2/qemu.log"; exit 1; }
	"$VNETCTL" dev add name vm2 mgmtdev vnet/up0 mac $MAC2 max_vqp 4 \
		socket "$TMP/vm2.sock" socket_mode client || exit 1
	local v
	for v in vm1 vm2; do
		if ! vm_wait_ready $v 180; then
			echo "guest $v did not boot"
			vm_console_tail $v 30
			cat "$TMP/vm-$v/qemu.log"
			exit 1
		fi
	done
	vm_net_up vm1 $VM1_IP $VM1_IP6 || { echo "vm1: eth0 has no carrier"; vm_console_tail vm1; }
	vm_net_up vm2 $VM2_IP || { echo "vm2: eth0 has no carrier"; vm_console_tail vm2; }
}

test_vm1_ping()
{
	RET=0
	vm_ping vm1 $WIRE_IP
	check_err $? "guest -> wire ping failed"
	in_ns "$NS_WIRE" ping -c 3 -i 0.3 -W 3 $VM1_IP >/dev/null
	check_err $? "wire -> guest ping failed"
	log_test "QEMU + virtio_net, 1 queue pair: ping both ways"
}

# vm1's rings are packed (spec 2.8): the guest's virtio_net and vnetd both
# say so, and the traffic of the tests around this one runs on them
test_vm1_packed()
{
	RET=0
	vm_has_feature vm1 34	# VIRTIO_F_RING_PACKED
	check_err $? "the guest did not negotiate VIRTIO_F_RING_PACKED"
	dev_negotiated vm1 | grep -qx RING_PACKED
	check_err $? "vnetd's negotiated features lack RING_PACKED: $(dev_negotiated vm1 | tr '\n' ' ')"
	dev_negotiated vm2 | grep -qx RING_PACKED
	check_fail $? "vm2 (split rings) negotiated RING_PACKED"
	vm_ping vm1 $WIRE_IP 5
	check_err $? "guest -> wire ping on packed rings failed"
	log_test "QEMU packed=on + virtio_net: packed rings negotiated, traffic"
}

test_vm1_jumbo()
{
	RET=0
	if [ $VM1_MTU != $JUMBO ]; then
		# uplink_jumbo.sh checks the refusal; a kernel that has
		# multi-buffer must use it
		grep -q "AF_XDP multi-buffer (XDP_USE_SG): available" "$TMP/vnetd.log"
		check_fail $? "multi-buffer available but up0's datapath is not: $(grep 'uplink datapath' "$TMP/vnetd.log")"
		log_test "QEMU + virtio_net at MTU $JUMBO (no AF_XDP multi-buffer here: MTU 1500)"
		return
	fi
	[ "$(vm_exec vm1 "cat /sys/class/net/eth0/mtu")" = $JUMBO ]
	check_err $? "virtio_net did not take the device's MTU $JUMBO"
	vm_exec vm1 -t 60 "ping -c 3 -i 0.3 -W 3 -M do -s 8000 $WIRE_IP >/dev/null"
	check_err $? "guest -> wire ping -s 8000 failed"
	in_ns "$NS_WIRE" ping -c 3 -i 0.3 -W 3 -M do -s 8000 $VM1_IP >/dev/null
	check_err $? "wire -> guest ping -s 8000 failed"
	log_test "QEMU + virtio_net at MTU $JUMBO: ping -M do -s 8000 both ways"
}

test_vm1_ipv6()
{
	RET=0
	ip -n "$NS_WIRE" -6 neigh flush dev wire0
	vm_exec vm1 "ip -6 neigh flush dev eth0"
	vm_ping vm1 $WIRE_IP6
	check_err $? "guest -> wire IPv6 ping failed (neighbour discovery)"
	in_ns "$NS_WIRE" ping -6 -c 3 -i 0.3 -W 3 $VM1_IP6 >/dev/null
	check_err $? "wire -> guest IPv6 ping failed"
	in_ns "$NS_WIRE" ip -6 neigh show dev wire0 | grep -q "$VM1_IP6 .*$MAC1"
	check_err $? "the wire did not learn the guest by neighbour discovery"
	log_test "QEMU + virtio_net: IPv6 neighbour discovery and unicast"
}

__listening() { in_ns "$1" ss -ltn "sport = :$2" | grep -q "$2"; }

# vm_tcp_to_wire VM BYTES: the guest sends BYTES to the wire; 0 when the
# sha256 the wire received is the one the guest sent
vm_tcp_to_wire()
{
	local sent got
	in_ns "$NS_WIRE" $FRAMES tcp-server $WIRE_IP 5201 >"$TMP/srv.out" 2>&1 &
	local srv=$!
	busywait 5000 __listening "$NS_WIRE" 5201
	sent=$(vm_exec "$1" -t 180 "$FRAMES tcp-client $WIRE_IP 5201 $2")
	wait $srv
	got=$(cat "$TMP/srv.out")
	vlog "sent $sent got $got"
	[ -n "$sent" ] && [ "$sent" = "$got" ]
}

# vm_tcp_from_wire VM VM_IP BYTES: the wire sends BYTES to the guest
vm_tcp_from_wire()
{
	local sent got
	vm_exec "$1" "nohup $FRAMES tcp-server $2 5202 >/tmp/srv.out 2>&1 &
		for i in \$(seq 50); do ss -ltn 'sport = :5202' | grep -q 5202 && exit 0; sleep 0.1; done; exit 1" ||
		return 1
	sent=$(in_ns "$NS_WIRE" timeout 180 $FRAMES tcp-client "$2" 5202 "$3")
	got=$(vm_exec "$1" "for i in \$(seq 100); do [ -s /tmp/srv.out ] && break; sleep 0.1; done; cat /tmp/srv.out")
	vlog "sent $sent got $got"
	[ -n "$sent" ] && [ "$sent" = "$got" ]
}

test_vm1_tcp()
{
	RET=0
	local kgro=0 path=
	vm_tcp_to_wire vm1 $((8 << 20))
	check_err $? "guest -> wire TCP data differs"
	vm_tcp_from_wire vm1 $VM1_IP $((8 << 20))
	check_err $? "wire -> guest TCP data differs"
	kgro=$("$VNETCTL" -j dev show vm1 | jq -e ".dev.vm1.port_rx_kgro")
	if grep -q "TCP to GSO guests coalesced by the kernel" "$TMP/vnetd.log"; then
		[ "${kgro:-0}" -gt 0 ]
		check_err $? "no frame reached vm1 through the kernel's GRO (port_rx_kgro ${kgro:-none})"
		path=", $kgro GSO frames through the kernel's GRO"
	else
		[ "$kgro" = 0 ]
		check_err $? "vnetd -k: frames reached vm1 through the kernel's GRO (port_rx_kgro ${kgro:-none})"
		path=", through AF_XDP"
	fi
	log_test "QEMU + virtio_net: TCP 8 MiB each way at MTU $VM1_MTU, sha256 intact$path"
}

# dev_features DEV: the features the driver negotiated (vnetctl -j)
dev_negotiated()
{
	"$VNETCTL" -j dev config show "$1" | jq -r ".config.$1.negotiated_features[]?" 2>/dev/null
}

# vm_queues VM N: ethtool -L in the guest, then the active pair count
vm_queues()
{
	vm_exec "$1" "ethtool -L eth0 combined $2 && ethtool -l eth0 | awk '/Current/ {c=1} c && /Combined/ {print \$2; exit}'"
}

test_vm2_mq()
{
	local n
	RET=0
	vm_has_feature vm2 22	# VIRTIO_NET_F_MQ
	check_err $? "the guest did not negotiate MQ"
	"$VNETCTL" -j dev vstats show vm2 qidx 6 | jq -e '.vstats.vm2.queue_type == "rx"' >/dev/null
	check_err $? "vstats does not know qidx 6 is a receive queue"
	n=$(vm_exec vm2 "ethtool -l eth0 | awk '/maximums/ {c=1} c && /Combined/ {print \$2; exit}'")
	[ "$n" = 4 ]
	check_err $? "the guest sees $n queue pairs, not 4"
	vm_ping vm2 $WIRE_IP
	check_err $? "guest -> wire ping failed with 4 queue pairs"
	n=$(vm_queues vm2 4)
	[ "$n" = 4 ]
	check_err $? "ethtool -L combined 4: $n active"
	vm_tcp_to_wire vm2 $((4 << 20))
	check_err $? "guest -> wire TCP data differs (4 pairs)"
	vm_tcp_from_wire vm2 $VM2_IP $((4 << 20))
	check_err $? "wire -> guest TCP data differs (4 pairs)"
	# QEMU warned about protocol features it cannot use (F_CONFIG)
	! grep -i "vhost-user backend supports" "$TMP"/vm-vm*/qemu.log
	check_err $? "QEMU warns about what vnetd offers"
	# QEMU keeps the control queue: queue 2 is a receive queue, whose
	# buffers are no work (taken for the control queue, vnetd never slept
	# and starved the TCG guests)
	slowwait 20 vnetd_idle $VNETD_IDLE_MAX
	check_err $? "vnetd uses $(cat "$TMP/vnetd.cpu")% of a CPU with idle multiqueue guests (max $VNETD_IDLE_MAX%)"
	log_test "QEMU + virtio_net, 4 queue pairs (vnetd the client): MQ, ping, TCP, vnetd idle"
}

# rxq_packets DEV: rx packets of each receive queue (vq 0, 2, ...), one line
rxq_packets()
{
	local q out=""
	for q in 0 2 4 6; do
		out+="$("$VNETCTL" -j dev vstats show "$1" qidx $q | jq -r ".vstats.$1.rx_packets // 0") "
	done
	echo "$out"
}

# spread_check DEV PAIRS: flows from the wire reach exactly the first PAIRS
# receive queues, each of them
spread_check()
{
	local before after i b a
	before=($(rxq_packets "$1"))
	in_ns "$NS_WIRE" $FRAMES flows wire0 $MAC2 32 >/dev/null
	sleep 1
	after=($(rxq_packets "$1"))
	vlog "pairs $2: before ${before[*]} after ${after[*]}"
	for i in 0 1 2 3; do
		b=${before[i]} a=${after[i]}
		if [ "$i" -lt "$2" ]; then
			[ $((a - b)) -ge 8 ] || { echo "queue $i got $((a - b))"; return 1; }
		else
			[ $((a - b)) -eq 0 ] || { echo "disabled queue $i got $((a - b))"; return 1; }
		fi
	done
}

test_vm2_spread()
{
	local n msg
	RET=0
	for n in 2 1 3 4; do
		[ "$(vm_queues vm2 $n)" = $n ]
		check_err $? "ethtool -L combined $n did not take"
		sleep 0.5
		msg=$(spread_check vm2 $n)
		check_err $? "combined $n: $msg (rx per queue: $(rxq_packets vm2))"
	done
	vm_ping vm2 $WIRE_IP
	check_err $? "ping after the queue changes failed"
	log_test "ethtool -L in the guest: flows spread over exactly the enabled rx queues"
}

test_two_vms()
{
	local tag n
	RET=0
	vm_ping vm1 $VM2_IP
	check_err $? "vm1 -> vm2 ping failed"
	vm_ping vm2 $VM1_IP
	check_err $? "vm2 -> vm1 ping failed"
	vm_ping vm2 $WIRE_IP
	check_err $? "vm2 -> wire ping failed"
	# unicast from the wire to vm1 reaches vm1, never vm2
	tag=u$RANDOM
	vm_exec vm2 "nohup $FRAMES mark-count eth0 $tag 4 >/tmp/mc.out 2>/tmp/mc.err &
		for i in \$(seq 50); do grep -q ready /tmp/mc.err && exit 0; sleep 0.1; done"
	vm_exec vm1 "nohup $FRAMES mark-count eth0 $tag 4 >/tmp/mc.out 2>/tmp/mc.err &
		for i in \$(seq 50); do grep -q ready /tmp/mc.err && exit 0; sleep 0.1; done"
	in_ns "$NS_WIRE" $FRAMES mark-send wire0 $MAC1 $tag 20
	sleep 4.5
	n=$(vm_exec vm1 "cat /tmp/mc.out")
	[ "$n" = 20 ]
	check_err $? "vm1 got $n of its 20 unicast frames"
	n=$(vm_exec vm2 "cat /tmp/mc.out")
	[ "$n" = 0 ]
	check_err $? "vm2 got $n frames addressed to vm1"
	log_test "two VMs on one uplink: each other, the wire, only their own unicast"
}

test_mac_change()
{
	local sp0 sp1
	RET=0
	sp0=$(port_counter vm1 tx_spoofed)
	vm_exec vm1 "ip link set eth0 address $MAC1_NEW && ip neigh flush dev eth0"
	ip -n "$NS_WIRE" neigh flush dev wire0
	vm_ping vm1 $WIRE_IP 2 >/dev/null
	check_fail $? "untrusted device: a guest with a new MAC still passes traffic"
	sp1=$(port_counter vm1 tx_spoofed)
	[ "$sp1" -gt "$sp0" ]
	check_err $? "untrusted device: frames from the new MAC not counted as spoofed ($sp0 -> $sp1)"
	grep -q "vm1:.*source MAC $MAC1_NEW" "$TMP/vnetd.log"
	check_err $? "vnetd did not say why vm1's frames are dropped"
	"$VNETCTL" dev set name vm1 trust on
	check_err $? "trust on failed"
	vm_ping vm1 $WIRE_IP
	check_err $? "trusted device: a guest that changed its MAC is blackholed"
	in_ns "$NS_WIRE" ping -c 3 -i 0.3 -W 3 $VM1_IP >/dev/null
	check_err $? "trusted device: the wire cannot reach the guest's new MAC"
	"$VNETCTL" -j dev show vm1 | jq -e ".dev.vm1.learned_macs | index(\"$MAC1_NEW\")" >/dev/null
	check_err $? "dev show does not list the learned MAC: $("$VNETCTL" dev show vm1)"
	"$VNETCTL" dev set name vm1 trust off
	"$VNETCTL" -j dev show vm1 | jq -e ".dev.vm1.learned_macs == null" >/dev/null
	check_err $? "trust off kept the learned MACs"
	# back to the device's MAC for the tests after this one
	vm_exec vm1 "ip link set eth0 address $MAC1 && ip neigh flush dev eth0"
	ip -n "$NS_WIRE" neigh flush dev wire0
	log_test "guest MAC change: untrusted dropped and counted, trusted learned"
}

# resets NAME: how many resets of device NAME vnetd has logged
resets() { grep -c "$1: device reset (status 0)" "$TMP/vnetd.log"; }

__resets_grew() { [ "$(resets "$1")" -gt "$2" ]; }

test_driver_reload()
{
	local r0
	RET=0
	r0=$(resets vm1)
	vm_exec vm1 "rmmod virtio_net && modprobe virtio_net"
	check_err $? "rmmod/modprobe virtio_net failed in the guest"
	busywait 5000 __resets_grew vm1 "$r0"
	check_err $? "vnetd logged no reset of vm1 (QEMU stops the device: SET_STATUS 0)"
	vm_net_up vm1 $VM1_IP
	check_err $? "no carrier after the driver reload"
	vm_ping vm1 $WIRE_IP
	check_err $? "no traffic after the driver reload"
	log_test "guest driver reload: the device resets, traffic resumes"
}

# A guest power cycle: QEMU quits with the rings running (the front-end
# goes away), a new QEMU connects on the same socket and the new guest's
# virtio_net sets the device up from scratch.
test_power_cycle()
{
	local gone
	RET=0
	gone=$(grep -c "vm1: vhost-user front-end gone" "$TMP/vnetd.log")
	vm_stop vm1
	busywait 5000 sh -c "[ \$(grep -c 'vm1: vhost-user front-end gone' '$TMP/vnetd.log') -gt $gone ]"
	check_err $? "vnetd did not see vm1's QEMU go"
	vm1_start
	if ! vm_wait_ready vm1 180; then
		check_err 1 "the guest did not boot again; $(vm_boot_digest vm1)"
		vm_console_tail vm1 30
		vm_post_mortem vm1
	fi
	vm_net_up vm1 $VM1_IP
	check_err $? "no carrier after the power cycle"
	vm_ping vm1 $WIRE_IP
	check_err $? "no traffic after the power cycle"
	in_ns "$NS_WIRE" ping -c 3 -i 0.3 -W 3 $VM1_IP >/dev/null
	check_err $? "wire -> guest ping failed after the power cycle"
	log_test "guest power cycle (QEMU quits, a new one connects): device set up again, traffic"
}

# A guest reboot in place (sysrq b: the machine resets, the same QEMU
# boots the guest again): QEMU stops the device at the reset, the new
# kernel's virtio_net sets it up from scratch. vm2 is stopped first: two
# TCG guests on this 2-CPU machine made a reboot take minutes (the CI
# failures); alone, vm1's reset to ping took 22-56 s in 27 reboots
# (docs/ARCHITECTURE.md, "Guest reboots in place"), hence the bound.
test_reboot()
{
	local r0 t0
	RET=0
	vm_stop vm2
	r0=$(resets vm1)
	t0=$SECONDS
	vm_exec vm1 -t 5 "echo b >/proc/sysrq-trigger" >/dev/null 2>&1
	busywait 10000 __resets_grew vm1 "$r0"
	check_err $? "vnetd logged no reset of vm1 at the guest's reboot"
	if ! vm_wait_ready vm1 300; then
		check_err 1 "the guest did not come back from its reboot; $(vm_boot_digest vm1)"
		vm_console_tail vm1 30
		vm_post_mortem vm1
	fi
	vm_net_up vm1 $VM1_IP
	check_err $? "no carrier after the reboot"
	vm_ping vm1 $WIRE_IP
	check_err $? "no traffic after the reboot"
	in_ns "$NS_WIRE" ping -c 3 -i 0.3 -W 3 $VM1_IP >/dev/null
	check_err $? "wire -> guest ping failed after the reboot"
	log_test "guest reboot in place: the device resets, the new kernel sets it up, traffic ($((SECONDS - t0)) s)"
}

setup
tests_run
[ "$EXIT_STATUS" -ne 0 ] && { tail -n 30 "$TMP/vnetd.log" | sed 's/^/	vnetd: /'; }
exit $EXIT_STATUS
