#!/bin/sh
# SPDX-License-Identifier: MIT
#
# The in-guest agent of the VM selftests (see vm_lib.sh). The initramfs of
# scripts/vm-image.sh mounts the host's root read-only over 9p and runs this
# as PID 1 inside it. It makes the few writable places the tools need, loads
# the guest kernel's modules (bind-mounted from the image), and then serves
# the host on the second serial port (ttyS1):
#
#   host:  PING ID              agent: PONG ID
#   host:  RUN ID BASE64-SCRIPT agent: BEGIN ID / base64 of the output / END ID RC
#   host:  KILL ID              the script of RUN ID and everything it started
#                               get SIGTERM, SIGKILL 5 s later; RUN ID then
#                               answers as usual, with what it printed so far
#
# Each script runs in its own session, in the background: the agent keeps
# answering PING while scripts run, so the host tells a busy script from a
# guest that stopped (vm_console.py), and can KILL a script that hangs. A
# reply is written whole under a lock: replies never interleave.
#
# Kernel messages stay on ttyS0 (the console log), so ttyS1 carries only this.
PATH=/usr/sbin:/usr/bin:/sbin:/bin
export PATH

img=
load=
for w in $(cat /proc/cmdline); do
	case $w in
	vnet.image=*) img=${w#vnet.image=} ;;
	vnet.load=*) load=$(echo "${w#vnet.load=}" | tr , ' ') ;;
	esac
done

kver=$(uname -r)
# modprobe (and every script run here) finds the guest kernel's modules in
# the image: the host's root has no /lib/modules to mount them on
MODPROBE_OPTIONS="-d $img"
export MODPROBE_OPTIONS
mkdir -p /dev/pts /dev/shm
mount -t devpts devpts /dev/pts
mount -t tmpfs shm /dev/shm
# and so does the kernel when it loads a module on demand (ss's sock_diag,
# a qdisc, a classifier): its helper gets no environment, so a wrapper
printf '#!/bin/sh\nexec /sbin/modprobe -d %s "$@"\n' "$img" >/tmp/.vm-modprobe
chmod 755 /tmp/.vm-modprobe
echo /tmp/.vm-modprobe >/proc/sys/kernel/modprobe
mount -t bpf bpf /sys/fs/bpf 2>/dev/null
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
for m in virtio_net $load; do
	modprobe "$m" || echo "VNET-VM: modprobe $m failed" >/dev/ttyS0
done
ip link set lo up
hostname vnet-vm 2>/dev/null
ulimit -l unlimited
# every SysRq function: a guest that stops answering is examined from the
# host with QEMU's sendkey (vm_lib.sh vm_post_mortem)
echo 1 >/proc/sys/kernel/sysrq

stty -F /dev/ttyS1 raw -echo 2>/dev/null
exec 3<>/dev/ttyS1
lock=/tmp/.vm-tty.lock

# The agent also runs under busybox alone (vm_lib.sh vm_local_initrd: a
# guest to migrate has nothing of the host mounted): no flock(1), no
# setsid -w, a ps without -e. So: a mkdir lock where flock is missing;
# busybox's setsid execs in place (no fork: it waits by itself) when its
# caller leads no process group, as a background job here never does;
# sessions are read from /proc.
if command -v flock >/dev/null 2>&1; then
	HAVE_FLOCK=1
fi
SETSID="setsid -w"
setsid -w true 2>/dev/null || SETSID=setsid

# reply: stdin to the host in one piece
reply()
{
	if [ -n "${HAVE_FLOCK:-}" ]; then
		flock "$lock" cat >&3
		return
	fi
	until mkdir "$lock.d" 2>/dev/null; do
		usleep 10000 2>/dev/null || sleep 1
	done
	cat >&3
	rmdir "$lock.d"
}

# run_job ID: the script /tmp/.vm-cmd.ID in a session of its own (its id
# in /tmp/.vm-sid.ID for KILL), then its output and status to the host
run_job()
{
	$SETSID sh -c 'echo $$ >"$1"; exec sh "$2"' sh "/tmp/.vm-sid.$1" "/tmp/.vm-cmd.$1" \
		>"/tmp/.vm-out.$1" 2>&1 </dev/null 3>&-
	rc=$?
	{ echo "BEGIN $1"; base64 -w 76 "/tmp/.vm-out.$1"; echo "END $1 $rc"; } | reply
	rm -f "/tmp/.vm-cmd.$1" "/tmp/.vm-out.$1" "/tmp/.vm-sid.$1"
}

# kill_session SIG SID: SIG to every process of session SID (a script's
# own `timeout` makes process groups of its own, so not by group)
kill_session()
{
	sig=$1 sid=$2
	for d in /proc/[0-9]*; do
		st=$(cat "$d/stat" 2>/dev/null) || continue
		# after the command's ") ": state ppid pgrp session ...
		set -- ${st##*) }
		[ "${4:-}" = "$sid" ] && kill "-$sig" "${d#/proc/}" 2>/dev/null
	done
}

# kill_job ID: TERM, and KILL 5 s later, to what the script of ID runs
kill_job()
{
	sid=$(cat "/tmp/.vm-sid.$1" 2>/dev/null)
	[ -n "$sid" ] || return 0
	echo "VNET-VM: KILL $1 (session $sid)" >/dev/ttyS0
	kill_session TERM "$sid"
	sleep 5
	kill_session KILL "$sid"
}

echo "VNET-VM-READY $kver" >/dev/ttyS0
while IFS=' ' read -r verb id arg <&3; do
	case $verb in
	PING)
		echo "PONG $id" | reply
		;;
	RUN)
		echo "$arg" | base64 -d >"/tmp/.vm-cmd.$id"
		run_job "$id" &
		;;
	KILL)
		kill_job "$id" &
		;;
	esac
done
# the host closed the port for good: keep PID 1 alive
while :; do sleep 3600; done
