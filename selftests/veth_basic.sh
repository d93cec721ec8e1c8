#!/bin/bash
# SPDX-License-Identifier: MIT
# The harness itself: two namespaces joined by a veth pair, frames crossing.
source "$(dirname "$0")/lib.sh"

ALL_TESTS="test_ping test_ipv6_ping test_cleanup_on_exit"

setup()
{
	setup_ns NS_A NS_B || exit 1
	veth_pair "$NS_A" veth-a "$NS_B" veth-b || exit 1
	ip -n "$NS_A" addr add 192.0.2.1/24 dev veth-a
	ip -n "$NS_B" addr add 192.0.2.2/24 dev veth-b
	ip -n "$NS_A" addr add 2001:db8::1/64 dev veth-a nodad
	ip -n "$NS_B" addr add 2001:db8::2/64 dev veth-b nodad
}

test_ping()
{
	in_ns "$NS_A" ping -c 2 -i 0.2 -W 2 192.0.2.2 >/dev/null
	check_err $? "IPv4 ping across the veth failed"
	# the frames really crossed: the peer's rx counter moved
	local rx
	rx=$(ip -n "$NS_B" -s -j link show veth-b | jq '.[0].stats64.rx.packets')
	[ "${rx:-0}" -ge 2 ]
	check_err $? "veth-b counted $rx received packets"
	log_test "IPv4 frames cross a veth pair between namespaces"
}

test_ipv6_ping()
{
	busywait 3000 in_ns "$NS_A" ping -6 -c 1 -W 1 2001:db8::2 >/dev/null
	check_err $? "IPv6 ping failed"
	log_test "IPv6 frames cross a veth pair between namespaces"
}

# A child that fails must still remove what it made.
test_cleanup_on_exit()
{
	local name
	name=$(bash -c "source '$SELFTEST_DIR/lib.sh'; setup_ns X; echo \$X; false")
	[ -n "$name" ] && ! ip netns list | grep -q "^$name"
	check_err $? "namespace $name survived its script"
	log_test "namespaces are removed on exit, even after a failure"
}

require_root
require_command ip
require_command ping
require_command jq
setup
tests_run
exit $EXIT_STATUS
