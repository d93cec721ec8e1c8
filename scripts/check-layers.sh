#!/bin/bash
# SPDX-License-Identifier: MIT
#
# The layering rule of daemon/ (docs/ARCHITECTURE.md "The tree"): each
# folder is a layer, and a layer includes headers of its own layer and of
# the layers below it only. From the bottom:
#
#   util < engine < classify < device < transport | worker < uplink < control
#
# transport and worker are side by side: neither includes the other. Every
# header of include/vnet/ belongs to one layer (table below; a new header
# must be added to it) and is checked like the sources of its layer; a
# private header beside its .c belongs to that folder. Skeletons
# (NAME.skel.h) belong to the layer that loads the program: uplink.
#
#   scripts/check-layers.sh [ROOT]      TEST lines, exit 1 on a violation
#   scripts/check-layers.sh --self-test the check catches what it must
set -u

declare -A RANK=([util]=0 [engine]=1 [classify]=2 [device]=3 [transport]=4
	[worker]=4 [uplink]=5 [control]=6)

# header (include/vnet/NAME.h) -> layer
declare -A HDR=(
	[log]=util [json]=util [netutil]=util [evloop]=util
	[guest_mem]=engine [virtq]=engine [net]=engine [csum]=engine
	[gro]=engine [dirty_log]=engine
	[classify]=classify [toeplitz]=classify [rx_filter]=classify
	[dp_layout]=classify
	[device]=device [cvq]=device [devq]=device [features]=device [rx_conf]=device
	[vhost_user]=transport [transport]=transport [vduse]=transport [kvdpa]=transport
	[sim]=worker [worker]=worker
	[datapath]=uplink [xdp_attach]=uplink [xsk]=uplink [uplink_dp]=uplink
	[uplink_pkt]=uplink [host_port]=uplink [mac_learn]=uplink
	[registry]=control [nl]=control [nl_server]=control [uplink]=control
)

# may_include FROM TO: layer FROM may include a header of layer TO
may_include()
{
	[ "$1" = "$2" ] && return 0
	[ "${RANK[$2]}" -lt "${RANK[$1]}" ]
}

# check_file LAYER FILE: every vnet header FILE includes; prints violations
check_file()
{
	local layer=$1 file=$2 inc name to bad=0
	while IFS= read -r inc; do
		case $inc in
		vnet/*.h)
			name=${inc#vnet/}
			name=${name%.h}
			to=${HDR[$name]:-}
			if [ -z "$to" ]; then
				echo "	$file: includes $inc, which has no layer (scripts/check-layers.sh)"
				bad=1
				continue
			fi
			;;
		*.skel.h) to=uplink ;;
		*) continue ;;	# a private header beside the source: same folder
		esac
		if ! may_include "$layer" "$to"; then
			echo "	$file ($layer) includes $inc ($to)"
			bad=1
		fi
	done < <(sed -n 's/^#[[:space:]]*include[[:space:]]*["<]\([^">]*\)[">].*/\1/p' "$file")
	return $bad
}

# check ROOT: TEST line per layer; 0 when all hold
check()
{
	local root=$1 layer f h name rc=0 lrc msgs
	for layer in util engine classify device transport worker uplink control; do
		lrc=0
		msgs=
		[ -d "$root/daemon/$layer" ] || continue
		for f in "$root"/daemon/"$layer"/*.[ch]; do
			[ -e "$f" ] || continue
			msgs+=$(check_file "$layer" "$f") || lrc=1
		done
		for h in "$root"/include/vnet/*.h; do
			name=$(basename "$h" .h)
			[ "${HDR[$name]:-}" = "$layer" ] || continue
			msgs+=$(check_file "$layer" "$h") || lrc=1
		done
		if [ $lrc -eq 0 ]; then
			printf 'TEST: %-70s [ OK ]\n' "layers: daemon/$layer includes only its own and lower layers"
		else
			printf 'TEST: %-70s [FAIL]\n' "layers: daemon/$layer includes only its own and lower layers"
			printf '%s\n' "$msgs"
			rc=1
		fi
	done
	for h in "$root"/include/vnet/*.h; do
		name=$(basename "$h" .h)
		if [ -z "${HDR[$name]:-}" ]; then
			printf 'TEST: %-70s [FAIL]\n' "layers: include/vnet/$name.h has a layer"
			rc=1
		fi
	done
	return $rc
}

self_test()
{
	local rc
	SELF_TMP=$(mktemp -d /tmp/vnet-layers.XXXXXX) || exit 1
	local t=$SELF_TMP
	trap 'rm -rf "$SELF_TMP"' EXIT
	mkdir -p "$t/daemon/engine" "$t/daemon/transport" "$t/include/vnet"
	printf '#include "vnet/log.h"\n#include <vnet/virtq.h>\n' >"$t/daemon/engine/ok.c"
	cp "$t/daemon/engine/ok.c" "$t/daemon/transport/ok.c"
	touch "$t/include/vnet/log.h" "$t/include/vnet/virtq.h"
	check "$t" >/dev/null
	rc=$?
	printf '#include "vnet/device.h"\n' >"$t/daemon/engine/bad.c"
	touch "$t/include/vnet/device.h"
	if [ $rc -eq 0 ] && ! check "$t" >/dev/null; then
		printf 'TEST: %-70s [ OK ]\n' "layers: the check refuses the engine including the device model"
	else
		printf 'TEST: %-70s [FAIL]\n' "layers: the check refuses the engine including the device model"
		return 1
	fi
	rm "$t/daemon/engine/bad.c"
	printf '#include "vnet/sim.h"\n' >"$t/daemon/transport/bad.c"
	touch "$t/include/vnet/sim.h"
	if ! check "$t" >/dev/null; then
		printf 'TEST: %-70s [ OK ]\n' "layers: the check refuses a transport including a worker"
	else
		printf 'TEST: %-70s [FAIL]\n' "layers: the check refuses a transport including a worker"
		return 1
	fi
}

if [ "${1:-}" = --self-test ]; then
	self_test
else
	check "${1:-$(cd "$(dirname "$0")/.." && pwd)}"
fi
