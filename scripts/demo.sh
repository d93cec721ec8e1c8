#!/bin/bash
# SPDX-License-Identifier: MIT
# `make demo`: show vnet at work, each step printing what it proves.
set -eu
O=${O:-build}
BIN=$O/bin

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "The reference classifier on sample frames (all hash types enabled, 4 queues)"
echo "   Each frame is parsed, the spec's hash type is chosen (TCP > UDP > IP; _EX types"
echo "   use the Home Address / type-2 routing address), hashed with Toeplitz in both"
echo "   forms (bit-serial definition and per-byte table) and steered via a 128-entry"
echo "   indirection table."
"$BIN/vnet-classify"

step "The same frames with only IPv4/IPv6 address hashing enabled"
"$BIN/vnet-classify" -t ipv4,ipv6

step "The Microsoft RSS verification vector 1 as JSON"
"$BIN/vnet-classify" -p -t tcpv4 \
	0200000000010200000000020800450000280000000040060000420995bba18e64500aea06e600000000000000005018ffff00000000
echo "   (0x51ccc178 is the value the Microsoft verification suite gives for this tuple)"
