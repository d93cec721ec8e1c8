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
mount -t bpf bpf /sys/fs/bpf 2>/dev/null
mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null
for m in virtio_net $load; do
	modprobe "$m" || echo "VNET-VM: modprobe $m failed" >/dev/ttyS0
done
ip link set lo up
hostname vnet-vm 2>/dev/null
ulimit -l unlimited

stty -F /dev/ttyS1 raw -echo 2>/dev/null
exec 3<>/dev/ttyS1
echo "VNET-VM-READY $kver" >/dev/ttyS0
while IFS=' ' read -r verb id arg <&3; do
	case $verb in
	PING)
		echo "PONG $id" >&3
		;;
	RUN)
		echo "$arg" | base64 -d >"/tmp/.vm-cmd.$id"
		sh "/tmp/.vm-cmd.$id" >"/tmp/.vm-out.$id" 2>&1 </dev/null
		rc=$?
		{ echo "BEGIN $id"; base64 -w 76 "/tmp/.vm-out.$id"; echo "END $id $rc"; } >&3
		rm -f "/tmp/.vm-cmd.$id" "/tmp/.vm-out.$id"
		;;
	esac
done
# the host closed the port for good: keep PID 1 alive
while :; do sleep 3600; done
