#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Whole-syscall A/B of exfilmond builds on one workload: for each round, each build in
# turn is started on bench/run.sh's kind of config, the workload runs three times
# (pinned, fresh audit session) and the middle ns/op is kept; then the same with no
# daemon at all. Prints one line per (round, build) and the median per build. For the
# rows of bench/run.sh whose pairs move between runs (UDP): several builds in one run.
#
#     sudo bench/ab.sh [--rounds N] [--ops N] -- WORKLOAD [ARG...] -- EXFILMOND...
#     sudo bench/ab.sh -- udp 127.0.0.77 15433 -- /var/tmp/old-exfilmond build/exfilmond
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
W=$ROOT/build/bench/workloads
. "$ROOT/bench/config.sh"
ROUNDS=5
OPS=50000
while [ $# -gt 0 ] && [ "$1" != -- ]; do
	case "$1" in
	--rounds) ROUNDS=$2; shift ;;
	--ops) OPS=$2; shift ;;
	*) echo "usage: bench/ab.sh [--rounds N] [--ops N] -- WORKLOAD [ARG...] -- EXFILMOND..." >&2
	   exit 2 ;;
	esac
	shift
done
[ "${1:-}" = -- ] || { echo "ab: no workload (see the usage at the top)" >&2; exit 2; }
shift
WORK=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do WORK+=("$1"); shift; done
[ "${1:-}" = -- ] && shift
[ ${#WORK[@]} -gt 0 ] && [ $# -gt 0 ] || { echo "ab: need a workload and builds" >&2; exit 2; }
[ "$(id -u)" = 0 ] || { echo "ab: needs root" >&2; exit 1; }
[ -x "$W" ] || { echo "ab: $W missing: run make first" >&2; exit 1; }

T=$(mktemp -d /var/tmp/exfilmon-ab.XXXXXX)
PID=
cleanup() {
	[ -n "$PID" ] && kill "$PID" 2>/dev/null && wait "$PID" 2>/dev/null
	rm -rf "$T" "/sys/fs/bpf/exfilmon-ab-$$"
}
trap cleanup EXIT
mkdir -p "$T/src"
bench_config "$T/exfilmon.yaml" "$T" "$T/src"
export EXFILMON_PIN_DIR=/sys/fs/bpf/exfilmon-ab-$$

# The middle of three runs, in ns per operation.
measure() {
	for _ in 1 2 3; do
		"$W" -c 1 -s -n "$OPS" "${WORK[@]}" | awk '{ print $2 }'
	done | sort -n | sed -n 2p
}

for ((r = 1; r <= ROUNDS; r++)); do
	for b in "$@" none; do
		if [ "$b" != none ]; then
			rm -f "$T/status.json"
			"$b" -c "$T/exfilmon.yaml" --status "$T/status.json" 2>"$T/daemon.err" &
			PID=$!
			for _ in $(seq 100); do [ -s "$T/status.json" ] && break; sleep 0.2; done
			[ -s "$T/status.json" ] || { cat "$T/daemon.err" >&2; exit 1; }
		fi
		echo "$r $b $(measure)"
		if [ -n "$PID" ]; then kill "$PID"; wait "$PID" 2>/dev/null; PID=; fi
	done
done | tee "$T/out"
echo "median ns/op over $ROUNDS rounds (${WORK[*]}):"
awk '{ v[$2] = v[$2] " " $3 } END { for (b in v) print b, v[b] }' "$T/out" |
	while read -r b vals; do
		printf '  %-40s %s\n' "$b" "$(tr ' ' '\n' <<<"$vals" | sort -n |
			awk '{ a[NR] = $1 } END { print a[int((NR + 1) / 2)] }')"
	done
