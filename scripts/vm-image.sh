#!/bin/bash
# SPDX-License-Identifier: MIT
#
# Build (once, cached) a bootable guest for the VM selftests from Debian
# packages: a Debian kernel and a busybox initramfs whose /init mounts the
# host's root over 9p read-only and runs selftests/vm_agent.sh in it, so the
# guest has every host binary (vnetd, ip, ethtool, iperf3, python3).
#
#   scripts/vm-image.sh KERNEL [OUTDIR]
#
# KERNEL is a Debian 12 kernel series: "6.12" (linux-image-6.12.*+deb12-amd64-
# unsigned, the one with VDUSE) or "6.1" (linux-image-6.1.0-*-amd64-unsigned).
# The package is downloaded with `apt-get download` into /var/cache/vnet/debs;
# the image lands in OUTDIR (default build/vm)/linux-KERNEL/ as vmlinuz,
# initrd.img and lib/modules/VERSION (depmod'ed, for modprobe in the guest).
# Prints that directory. Idempotent: a finished image is reused.
set -eu

series=${1:?usage: vm-image.sh KERNEL [OUTDIR]}
root=$(cd "$(dirname "$0")/.." && pwd)
out=${2:-$root/build/vm}
dir=$out/linux-$series
debs=${VNET_DEB_CACHE:-/var/cache/vnet/debs}

die() { echo "vm-image: $*" >&2; exit 1; }

# bump when the image's layout or contents change: older images are rebuilt
format=3
[ "$(cat "$dir/.done" 2>/dev/null)" = "$format" ] && { echo "$dir"; exit 0; }

for c in busybox depmod xz cpio apt-get dpkg-deb; do
	command -v "$c" >/dev/null || die "$c not found (make deps installs it)"
done

case $series in
6.12) pattern='^linux-image-6\.12\.[0-9]+\+deb12-amd64-unsigned$' ;;
6.1) pattern='^linux-image-6\.1\.0-[0-9]+-amd64-unsigned$' ;;
*) die "unknown kernel series '$series' (6.1 or 6.12)" ;;
esac

pick_pkg()
{
	apt-cache search --names-only "$pattern" 2>/dev/null | awk '{print $1}' |
		grep -E "$pattern" | sort -V | tail -1
}

pkg=$(pick_pkg)
if [ -z "$pkg" ]; then
	apt-get update -q >/dev/null 2>&1 || true
	pkg=$(pick_pkg)
fi
[ -n "$pkg" ] || die "no Debian package matches $pattern (apt-get update?)"

mkdir -p "$debs"
deb=$(ls "$debs/${pkg}"_*.deb 2>/dev/null | tail -1 || true)
if [ -z "$deb" ]; then
	echo "vm-image: downloading $pkg" >&2
	(cd "$debs" && apt-get download -q "$pkg" >&2) || die "apt-get download $pkg failed"
	deb=$(ls "$debs/${pkg}"_*.deb | tail -1)
fi

rm -rf "$dir.tmp"
mkdir -p "$dir.tmp/x"
echo "vm-image: unpacking $(basename "$deb")" >&2
dpkg-deb -x "$deb" "$dir.tmp/x"
kver=$(ls "$dir.tmp/x/lib/modules" | head -1)
[ -n "$kver" ] || die "$deb has no modules"
mv "$dir.tmp/x/boot/vmlinuz-$kver" "$dir.tmp/vmlinuz"
mkdir -p "$dir.tmp/lib/modules"
mv "$dir.tmp/x/lib/modules/$kver" "$dir.tmp/lib/modules/"
rm -rf "$dir.tmp/x"
depmod -b "$dir.tmp" "$kver"
echo "$kver" >"$dir.tmp/version"

# The initramfs: busybox, the modules 9p over virtio-pci needs with their
# dependencies from modules.dep (6.12 builds virtio and virtio_pci in, 6.1
# has them as modules and 9p needs fscache there), decompressed: busybox
# insmod reads no .xz.
ird=$dir.tmp/initrd
mkdir -p "$ird/bin" "$ird/mod" "$ird/proc" "$ird/sys" "$ird/dev" "$ird/host"
cp "$(command -v busybox)" "$ird/bin/busybox"
for app in sh mount insmod mkdir sleep cat echo poweroff chroot; do
	ln -s busybox "$ird/bin/$app"
done
mods=$dir.tmp/lib/modules/$kver
load=()
# add_mod PATH: the module at PATH (relative to $mods) into the initramfs
add_mod()
{
	local f=$1 m
	m=$(basename "$f")
	m=${m%.xz}
	m=${m%.ko}
	case " ${load[*]} " in *" $m "*) return ;; esac
	xz -dc "$mods/$f" >"$ird/mod/$m.ko" 2>/dev/null || cp "$mods/$f" "$ird/mod/$m.ko"
	load+=("$m")
}
for m in virtio_pci 9pnet_virtio 9p; do
	line=$(grep -E "(^|/)$m\.ko(\.xz)?:" "$mods/modules.dep" || true)
	[ -n "$line" ] || continue		# built in
	# modules.dep lists a module's dependencies last-loaded first
	deps=(${line#*:})
	for ((i = ${#deps[@]} - 1; i >= 0; i--)); do
		add_mod "${deps[i]}"
	done
	add_mod "${line%%:*}"
done
cat >"$ird/init" <<EOF
#!/bin/sh
# vnet VM selftest guest: the host's root over 9p, then the agent in it.
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in ${load[*]}; do insmod /mod/\$m.ko; done
agent=
keep=
for w in \$(cat /proc/cmdline); do
	case \$w in
	vnet.agent=*) agent=\${w#vnet.agent=} ;;
	vnet.keep=*) keep=\${w#vnet.keep=} ;;
	esac
done
if ! mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144,cache=loose host /host; then
	echo "VNET-VM-FAIL: cannot mount the host's root"; sleep 2; poweroff -f
fi
mount -t proc proc /host/proc
mount -t sysfs sys /host/sys
mount -t devtmpfs dev /host/dev
# a checkout under /tmp or /run (vnet.keep) stays visible through the
# guest's own tmpfs there: set aside, then moved back onto it
if [ -n "\$keep" ]; then
	mkdir -p /keep
	mount -o bind "/host\$keep" /keep
fi
mount -t tmpfs tmp /host/tmp
mount -t tmpfs run /host/run
if [ -n "\$keep" ]; then
	mkdir -p "/host\$keep"
	mount -o move /keep "/host\$keep"
fi
exec chroot /host /bin/sh "\$agent"
EOF
chmod +x "$ird/init"
(cd "$ird" && find . | cpio -o -H newc --quiet | gzip -1) >"$dir.tmp/initrd.img"
rm -rf "$ird"

echo "$format" >"$dir.tmp/.done"
rm -rf "$dir"
mv "$dir.tmp" "$dir"
echo "$dir"
