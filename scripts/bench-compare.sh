#!/bin/bash
# SPDX-License-Identifier: MIT
# make bench-compare BASE=REV [BENCH="vhost e2e e2e-tx"] [ROUNDS=3]: this tree
# against an older revision, in the same run. Each benchmark is run by each
# tree's own script with its own binaries (so a changed option cannot break
# the old side), one round of the old, one of the new, alternating, so
# whatever else the machine does falls on both alike. Not a test.
#
# Per round and benchmark row: vnet's rate in the old and the new build, and
# the ratio new/old of two figures: the raw rate, and the rate relative to
# the peer (DPDK) measured in the same script run, which cancels most of the
# disturbance of a noisy machine. The summary gives the median of each
# ratio over the rounds. A ratio near 1.00x is "no regression".
#
# The old revision is exported with git archive into $O/compare/REV and built
# there once (kept for the next run).
set -u
O=${O:-build}
BASE=${BASE:?BASE=REV: the revision to compare against (e.g. a commit before a refactor)}
BENCH=${BENCH:-vhost e2e e2e-tx}
ROUNDS=${ROUNDS:-3}
TOP=$(git rev-parse --show-toplevel) || exit 1
rev=$(git -C "$TOP" rev-parse --short "$BASE^{commit}") || { echo "unknown revision $BASE" >&2; exit 1; }
OLD=$(realpath -m "$O/compare/$rev")
NEW=$TOP
TMP=$(mktemp -d /tmp/vnet-compare-XXXXXX)
trap '[ -n "${KEEP:-}" ] || rm -rf "$TMP"' EXIT

if [ ! -x "$OLD/build/bin/vnetd" ]; then
	echo "building $rev in $OLD ..."
	rm -rf "$OLD" && mkdir -p "$OLD" || exit 1
	git -C "$TOP" archive "$rev" | tar -x -C "$OLD" || exit 1
	make -C "$OLD" -j2 all >"$OLD/build.log" 2>&1 ||
		{ echo "building $rev failed: $OLD/build.log" >&2; exit 1; }
fi
make -C "$NEW" -j2 all >/dev/null || exit 1

# run TREE BENCH: one round of BENCH in TREE; prints "ROW VNET PEER" lines
# (Mpps of vnet and of DPDK on that row)
run()
{
	local tree=$1 bench=$2 out=$TMP/out
	case $bench in
	vhost)	make -s -C "$tree" bench-vhost ROUNDS=1 >"$out" 2>&1
		# round mode vnet DPDK ratio ...
		# (since packed rings: round ring mode vnet DPDK ...; split rows compared)
		awk '$1 != 1 { next }
		     $2 == "txonly" || $2 == "rxonly" { print $2, $3, $4 }
		     $2 == "split" && ($3 == "txonly" || $3 == "rxonly") { print $3, $4, $5 }' "$out";;
	e2e)	make -s -C "$tree" bench-e2e ROUNDS=1 >"$out" 2>&1
		# round config sent gen in-XSK consumed lost Mpps ...
		awk '$1 == 1 && ($2 == "vnet" || $2 == "dpdk") { m[$2] = $8 }
		     END { print "rx", m["vnet"] + 0, m["dpdk"] + 0 }' "$out";;
	e2e-tx)	make -s -C "$tree" bench-e2e DIR=tx ROUNDS=1 >"$out" 2>&1
		# round config sent on-wire lost Mpps ...
		awk '$1 == 1 && ($2 == "vnet" || $2 == "dpdk") { m[$2] = $6 }
		     END { print "tx", m["vnet"] + 0, m["dpdk"] + 0 }' "$out";;
	*)	echo "unknown benchmark $bench (vhost, e2e, e2e-tx)" >&2; return 1;;
	esac
	cp "$out" "$TMP/last.$bench.$(basename "$tree")"
}

echo "old: $rev ($(git -C "$TOP" log -1 --format=%s "$rev" | cut -c1-60))"
echo "new: $(git -C "$TOP" rev-parse --short HEAD)$(git -C "$TOP" diff --quiet HEAD || echo '+changes')"
printf '%-6s %-8s %-7s %9s %9s %8s %8s %9s\n' round bench row "old Mpps" "new Mpps" \
	"new/old" "old/peer" "new/peer"
for round in $(seq 1 "$ROUNDS"); do
	for bench in $BENCH; do
		run "$OLD" "$bench" >"$TMP/old" || exit 1
		run "$NEW" "$bench" >"$TMP/new" || exit 1
		join <(sort "$TMP/old") <(sort "$TMP/new") | awk -v r="$round" -v b="$bench" '{
			printf "%-6s %-8s %-7s %9.2f %9.2f %7.2fx %7.2fx %8.2fx\n", r, b, $1, $2, $4,
			       $2 ? $4 / $2 : 0, $3 ? $2 / $3 : 0, $5 ? $4 / $5 : 0
			print b, $1, ($2 ? $4 / $2 : 0), ($3 && $5 && $2 ? ($4 / $5) / ($2 / $3) : 0) >> "'"$TMP/ratios"'"
		}'
		if ! [ -s "$TMP/old" ] || ! [ -s "$TMP/new" ] ||
		   awk '$2 == 0 { bad = 1 } END { exit !bad }' "$TMP/old" "$TMP/new"; then
			echo "$bench: a run gave no rate; its output: $TMP/last.$bench.* (KEEP=1 keeps it)" >&2
		fi
	done
done
# medians per bench and row
echo "median over $ROUNDS rounds (1.00x = unchanged):"
sort -k1,1 -k2,2 "$TMP/ratios" | awk '
	function med(a, n,   i, j, t) {
		for (i = 2; i <= n; i++) for (j = i; j > 1 && a[j - 1] > a[j]; j--) {
			t = a[j]; a[j] = a[j - 1]; a[j - 1] = t }
		return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
	}
	function flush() {
		if (key != "") printf "  %-16s new/old %.2fx raw, %.2fx relative to DPDK\n", key,
		       med(raw, n), med(rel, n)
		n = 0
	}
	$1 " " $2 != key { flush(); key = $1 " " $2 }
	{ n++; raw[n] = $3; rel[n] = $4 }
	END { flush() }'
