#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The VM harness of the selftests (sourced, not a test by itself): real QEMU
# guests running a Debian kernel, with the host's root read-only over 9p so
# the guest runs the host's binaries (vnetd, ip, ethtool, iperf3, python3).
#
#   source "$(dirname "$0")/vm_lib.sh"
#   vm_require                            # SKIPs the script without QEMU
#   vm_image 6.12                         # builds/caches build/vm/linux-6.12
#   vm_start vm1 -smp 2 -chardev ... -netdev vhost-user,... -device virtio-net-pci,...
#   vm_wait_ready vm1 120
#   vm_exec vm1 'ip -br link'             # or: vm_exec vm1 <<'EOF' ... EOF
#   vm_hmp vm1 'info status'
#   vm_local_initrd                       # a guest with nothing of the host
#                                         # mounted (migratable): VM_INITRD
#
# Guests use memory-backend-memfd,share=on (vhost-user needs shared memory),
# the serial console in $TMP/vm-NAME/console.log and the agent channel on the
# second serial port (vm_agent.sh, vm_console.py). KVM where /dev/kvm is
# usable, TCG otherwise. Each guest is killed at exit (defer).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

VM_MEM=${VM_MEM:-512}
VM_CONSOLE="python3 $SELFTEST_DIR/vm_console.py"

vm_require()
{
	require_command qemu-system-x86_64
	require_command python3
	require_command setpriv
	[ -r /dev/kvm ] && [ -w /dev/kvm ] && VM_ACCEL=kvm || VM_ACCEL=tcg
	# TCG on one host thread: with a thread per vCPU (MTTCG) Debian's 6.12
	# guests died now and then in the kernel's text patching ("Oops: int3"
	# in sched_clock_cpu at boot, a jump half patched in netif_receive_skb):
	# a vCPU ran code another one had just patched. One thread serialises
	# the vCPUs, as the patching protocol expects of real CPUs.
	VM_ACCEL_ARG=$VM_ACCEL
	if [ "$VM_ACCEL" = tcg ]; then
		VM_ACCEL_ARG=tcg,thread=single
	fi
}

# vm_image SERIES: the guest image of Debian kernel SERIES in $VM_IMG
vm_image()
{
	VM_IMG=$("$VNET_ROOT/scripts/vm-image.sh" "$1" "$VNET_BUILD/vm") ||
		skip "no guest image for kernel $1 (scripts/vm-image.sh failed)"
	VM_KVER=$(cat "$VM_IMG/version")
}

# vm_start NAME [QEMU ARGS...]: boot a guest of $VM_IMG (VM_MEM MiB; extra
# modules to load from VM_LOAD, comma-separated); its pid in VM_PID_NAME.
# QEMU dies with the script even when the script is killed (SIGKILL runs
# no defer): an orphaned TCG guest would eat a CPU of every test after it
vm_start()
{
	local name=$1 dir=$TMP/vm-$1 keep=
	shift
	mkdir -p "$dir"
	rm -f "$dir/cmd.sock" "$dir/mon.sock"
	# the guest mounts tmpfs on /tmp and /run: a checkout there is kept
	# visible (scripts/vm-image.sh's init, vnet.keep)
	case $VNET_ROOT in /tmp/*|/run/*) keep=" vnet.keep=$VNET_ROOT" ;; esac
	setpriv --pdeathsig KILL qemu-system-x86_64 -nodefaults -no-user-config -display none \
		-machine pc -accel "$VM_ACCEL_ARG" -cpu max -m "$VM_MEM" \
		-object memory-backend-memfd,id=mem,size="${VM_MEM}M",share=on \
		-numa node,memdev=mem \
		-kernel "$VM_IMG/vmlinuz" -initrd "${VM_INITRD:-$VM_IMG/initrd.img}" \
		-append "console=ttyS0 loglevel=5 vnet.agent=$SELFTEST_DIR/vm_agent.sh vnet.image=$VM_IMG vnet.load=${VM_LOAD:-}$keep" \
		-serial "file:$dir/console.log" \
		-serial "unix:$dir/cmd.sock,server=on,wait=off" \
		-monitor "unix:$dir/mon.sock,server=on,wait=off" \
		-virtfs local,path=/,mount_tag=host,security_model=none,readonly=on,multidevs=remap \
		"$@" >"$dir/qemu.log" 2>&1 &
	eval "VM_PID_$name=$!"
	defer kill -9 "$!"
	vlog "vm $name: pid $!, logs in $dir"
}

# vm_wait_ready NAME TIMEOUT_S: the agent answers (after boot or reboot)
vm_wait_ready()
{
	local dir=$TMP/vm-$1
	slowwait 10 test -S "$dir/cmd.sock" || return 1
	$VM_CONSOLE "$dir/cmd.sock" ready "$2"
}

# vm_exec NAME [-t TIMEOUT_S] [SCRIPT]: run SCRIPT (or stdin) in the guest;
# prints its output, returns its exit status; 124: still running after
# TIMEOUT_S, killed (what it printed is printed); 123: the guest stopped
# answering (VM_SILENCE seconds without a word from its agent; vm_console.py)
vm_exec()
{
	local name=$1 tmo=120
	shift
	if [ "${1:-}" = -t ]; then
		tmo=$2
		shift 2
	fi
	if [ $# -gt 0 ]; then
		printf '%s\n' "$*" | $VM_CONSOLE "$TMP/vm-$name/cmd.sock" run "$tmo"
	else
		$VM_CONSOLE "$TMP/vm-$name/cmd.sock" run "$tmo"
	fi
}

# vm_has_feature VM BIT: the guest's virtio_net negotiated feature BIT (the
# device's features file is a bit string, bit 0 first)
vm_has_feature()
{
	[ "$(vm_exec "$1" "cut -c$(($2 + 1)) /sys/class/net/eth0/device/features")" = 1 ]
}

# vm_hmp NAME CMD...: one QEMU monitor command, its output
vm_hmp()
{
	local name=$1
	shift
	$VM_CONSOLE "$TMP/vm-$name/mon.sock" hmp 10 "$*"
}

# vm_stop NAME: power the guest off (quit through the monitor, then kill)
vm_stop()
{
	local pid
	eval "pid=\${VM_PID_$1:-}"
	[ -n "$pid" ] || return 0
	vm_hmp "$1" quit >/dev/null 2>&1
	busywait 5000 sh -c "! kill -0 $pid 2>/dev/null" || kill -9 "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
	eval "VM_PID_$1="
	return 0
}

# vm_console_tail NAME [LINES]: the end of the guest's console, for failure
# messages
vm_console_tail()
{
	tail -n "${2:-15}" "$TMP/vm-$1/console.log" 2>/dev/null | sed 's/^/	console: /'
}

# vm_boot_digest NAME: one line on the guest's last boot (after its last
# reset), for a failure message of which CI shows only a few lines: how
# far it got, its soft lockups and where
vm_boot_digest()
{
	local boot lockups rip
	boot=$(awk '/sysrq: Resetting|Linux version/ { n = 0; delete l } { l[n++] = $0 }
		END { for (i = 0; i < n; i++) print l[i] }' "$TMP/vm-$1/console.log" 2>/dev/null)
	lockups=$(printf '%s\n' "$boot" | grep -c "soft lockup")
	rip=$(printf '%s\n' "$boot" | grep -m1 -A6 "soft lockup" |
		sed -n 's/.*RIP: [0-9a-f]*:\([^ ]*\).*/\1/p' | head -1)
	echo "last boot: $(printf '%s\n' "$boot" | grep -c .) console lines," \
		"$lockups soft lockup(s)${rip:+ (RIP $rip)}," \
		"last: $(printf '%s\n' "$boot" | grep -v sysrq | tail -n 1 | cut -c1-100)"
}

__console_size() { stat -c %s "$TMP/vm-$1/console.log" 2>/dev/null || echo 0; }

# __console_quiet NAME FILE: the console did not grow in 2 s, nor since
# the size FILE holds (updated)
__console_quiet()
{
	local now
	sleep 2
	now=$(__console_size "$1")
	[ "$now" = "$(cat "$2")" ] && return 0
	echo "$now" >"$2"
	return 1
}

# vm_post_mortem NAME: what a guest that stopped answering does, seen from
# outside: SysRq through QEMU's keyboard (the agent enabled every function)
# makes the kernel print the stacks of its CPUs (l), its blocked tasks (w)
# and its memory (m) on the console; prints what the console got since,
# and the state QEMU sees
vm_post_mortem()
{
	local name=$1 log=$TMP/vm-$1/console.log from k
	from=$(($(wc -l <"$log" 2>/dev/null || echo 0) + 1))
	for k in 8 l w m; do
		vm_hmp "$name" "sendkey alt-sysrq-$k" >/dev/null 2>&1
	done
	# until the console stops growing for 2 s (TCG prints slowly), 60 s at most
	__console_size "$name" >"$TMP/vm-$name/size"
	slowwait 60 __console_quiet "$name" "$TMP/vm-$name/size"
	echo "	post mortem of guest $name (qemu: $(vm_hmp "$name" 'info status' | tr -d '\r\n'))"
	if [ "$(tail -n +"$from" "$log" | wc -l)" -gt 0 ]; then
		tail -n +"$from" "$log" | tail -n 150 | sed 's/^/	console: /'
	else
		echo "	console: nothing after SysRq; before it:"
		vm_console_tail "$name" 40
	fi
}

# vm_diag NAME: what a guest whose script hung runs (its agent answers):
# processes (busiest first), load, memory, the kernel's last words; the
# post mortem when the agent does not answer this either
vm_diag()
{
	local out
	out=$(vm_exec "$1" -t 30 "cat /proc/loadavg; free -m | head -2;
		ps -e -o pid,ppid,stat,wchan:22,time,rss,args --sort=-time | head -30;
		dmesg | tail -n 30")
	if [ $? -ne 0 ] && [ -z "$out" ]; then
		vm_post_mortem "$1"
		return
	fi
	echo "	state of guest $1:"
	printf '%s\n' "$out" | sed 's/^/	guest: /'
}

# vm_local_initrd: VM_INITRD for guests that keep nothing of the host
# mounted. QEMU refuses to migrate a guest that has a 9p export mounted
# ("Migration is disabled when VirtFS export path is mounted"), so a guest
# to migrate runs busybox from its initramfs instead of the host's root:
# the image's initramfs with an overlay (a second cpio archive: the kernel
# unpacks both, later files win) whose /init loads virtio_net and runs the
# same agent (vm_agent.sh). busybox has ip, ping, nc, sha256sum, dd.
vm_local_initrd()
{
	local ov=$TMP/vm-local mods=$VM_IMG/lib/modules/$VM_KVER line m i deps load
	rm -rf "$ov"
	mkdir -p "$ov/mod"
	for m in virtio_pci virtio_net; do
		line=$(grep -E "(^|/)$m\.ko(\.xz)?:" "$mods/modules.dep") || continue	# built in
		# modules.dep lists a module's dependencies last-loaded first
		deps=(${line#*:})
		for ((i = ${#deps[@]} - 1; i >= 0; i--)); do
			__vm_local_mod "$mods/${deps[i]}" "$ov/mod"
		done
		__vm_local_mod "$mods/${line%%:*}" "$ov/mod"
	done
	load=$(tr "\n" " " <"$ov/mod/.order" 2>/dev/null)
	cp "$SELFTEST_DIR/vm_agent.sh" "$ov/agent.sh"
	cat >"$ov/init" <<EOF
#!/bin/sh
# vnet VM selftest guest without the host's root: busybox and the agent
/bin/busybox --install -s /bin
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mkdir -p /tmp /run
mount -t tmpfs tmp /tmp
mount -t tmpfs run /run
for m in $load; do insmod /mod/\$m.ko; done
exec /bin/sh /agent.sh
EOF
	chmod +x "$ov/init"
	rm -f "$ov/mod/.order"
	(cd "$ov" && find . | cpio -o -H newc --quiet | gzip -1) >"$TMP/vm-local-overlay.img" &&
		cat "$VM_IMG/initrd.img" "$TMP/vm-local-overlay.img" >"$TMP/vm-local-initrd.img" ||
		return 1
	VM_INITRD=$TMP/vm-local-initrd.img
}

# __vm_local_mod FILE DIR: a module, decompressed (busybox insmod reads no
# .xz), once, in load order (DIR/.order)
__vm_local_mod()
{
	local m
	m=$(basename "${1%.xz}" .ko)
	grep -qx "$m" "$2/.order" 2>/dev/null && return 0
	xz -dc "$1" >"$2/$m.ko" 2>/dev/null || cp "$1" "$2/$m.ko"
	echo "$m" >>"$2/.order"
}
