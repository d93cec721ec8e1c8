#!/bin/bash
# SPDX-License-Identifier: MIT
# `make install` into a staging directory: every program, the preload
# library, man pages and the systemd unit land where they belong, and the
# installed programs run from there.
source "$(dirname "$0")/lib.sh"

ALL_TESTS="test_layout test_installed_programs_run"

STAGE=$(mktemp -d)
defer rm -rf "$STAGE"
PREFIX=/usr

test_layout()
{
	local f missing=""
	for f in sbin/vnetd sbin/vnetctl sbin/vnet-guest bin/vnet-sim bin/vnet-classify \
		 bin/vnet-vdpa lib/libvnet-vdpa.so share/man/man8/vnetd.8 \
		 share/man/man8/vnetctl.8 share/man/man8/vnet-guest.8 \
		 share/man/man1/vnet-classify.1 lib/systemd/system/vnetd.service; do
		[ -e "$STAGE$PREFIX/$f" ] || missing="$missing $f"
	done
	[ -z "$missing" ]
	check_err $? "missing after install:$missing"
	grep -q "ExecStart=$PREFIX/sbin/vnetd" "$STAGE$PREFIX/lib/systemd/system/vnetd.service"
	check_err $? "unit does not start $PREFIX/sbin/vnetd"
	log_test "make install puts programs, library, man pages and unit in place"
}

test_installed_programs_run()
{
	"$STAGE$PREFIX/bin/vnet-classify" -j >/dev/null
	check_err $? "installed vnet-classify failed"
	"$STAGE$PREFIX/sbin/vnetctl" help >/dev/null 2>&1 || "$STAGE$PREFIX/sbin/vnetctl" -h >/dev/null 2>&1
	check_err $? "installed vnetctl has no help"
	command -v man >/dev/null || { log_test "installed programs run (man not installed)"; return; }
	for m in "$STAGE$PREFIX"/share/man/man*/*; do
		man -l "$m" >/dev/null 2>&1 || { check_err 1 "man page $m does not render"; break; }
	done
	log_test "installed programs run and man pages render"
}

require_command make
make -s -C "$VNET_ROOT" BUILD="$VNET_BUILD" DESTDIR="$STAGE" PREFIX="$PREFIX" install >/dev/null ||
	{ echo "make install failed"; exit 1; }
tests_run
exit $EXIT_STATUS
