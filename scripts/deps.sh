#!/bin/bash
# SPDX-License-Identifier: MIT
# Install, from Debian 12 packages, everything vnet needs to build, test and
# demo. Idempotent: installs only what is missing, and runs apt-get update
# itself when a package is not known yet. `make check` and `make demo` call it.
set -eu

PKGS=(
	# build
	build-essential pkg-config clang llvm libclang-rt-14-dev
	libbpf-dev libxdp-dev bpftool libelf-dev zlib1g-dev
	libmnl-dev libnl-3-dev libnl-route-3-dev
	# tests and demo
	iproute2 iputils-ping ethtool iperf3 jq python3 tcpdump xdp-tools
	# interop and benchmarks: DPDK's testpmd and its PMDs
	dpdk-dev librte-net-virtio23 librte-net-vhost23 librte-net-af-xdp23
	librte-mempool-ring23
	# VM selftests: QEMU guests booting a Debian kernel (scripts/vm-image.sh)
	qemu-system-x86 busybox-static kmod cpio xz-utils
)

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
	echo "deps: missing packages: ${missing[*]}" >&2
	echo "deps: run 'make deps' as root (or: sudo apt-get install ${missing[*]})" >&2
	exit 1
fi

echo "deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y -q --no-install-recommends "${missing[@]}" >/tmp/vnet-deps.log 2>&1; then
	apt-get update -q >>/tmp/vnet-deps.log 2>&1
	if ! apt-get install -y -q --no-install-recommends "${missing[@]}" >>/tmp/vnet-deps.log 2>&1; then
		tail -20 /tmp/vnet-deps.log >&2
		echo "deps: apt-get install failed (log: /tmp/vnet-deps.log)" >&2
		exit 1
	fi
fi
echo "deps: done"
