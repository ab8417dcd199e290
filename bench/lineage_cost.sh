#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# What lineage costs a process that carries no label, per traced syscall: the kernel's
# own run-time statistics (kernel.bpf_stats_enabled) of the read and write exit programs
# of two builds, measured in alternation on the same workloads: 4 KiB reads of an
# unwatched regular file, 4 KiB writes to one, and 4 KiB writes into a pipe and reads
# out of it (none of them labelled). Prints ns per program run for each build and round,
# then the medians and the per-round difference A - B.
#
# usage: bench/lineage_cost.sh BUILD_A BUILD_B [ROUNDS]
#   BUILD_A, BUILD_B: build directories holding exfilctl (e.g. a build of main and build/)
set -u
A=${1:?usage: bench/lineage_cost.sh BUILD_A BUILD_B [ROUNDS]}
B=${2:?usage: bench/lineage_cost.sh BUILD_A BUILD_B [ROUNDS]}
ROUNDS=${3:-3}
N=262144
[ "$(id -u)" = 0 ] || { echo "lineage_cost: needs root" >&2; exit 1; }
T=$(mktemp -d /var/tmp/exfilmon-lineage-cost.XXXXXX)
STATS_WAS=$(sysctl -n kernel.bpf_stats_enabled)
TRACE=
cleanup() {
	[ -n "$TRACE" ] && kill -INT "$TRACE" 2>/dev/null && wait "$TRACE" 2>/dev/null
	sysctl -qw kernel.bpf_stats_enabled="$STATS_WAS"
	rm -rf "$T"
}
trap cleanup EXIT
mkdir -p "$T/src"
head -c 4096 /dev/urandom >"$T/src/watched.csv"
head -c $((N * 4096 / 16)) /dev/urandom >"$T/plain.bin"
printf 'sources:\n  paths: ["%s/src"]\negress:\n  allow: ["127.0.0.0/8"]\n' "$T" >"$T/cfg.yaml"

prog_ids() { # NAME...: ids of loaded programs with these names
	bpftool prog show --json | python3 -c "
import json, sys
names = set(sys.argv[1:])
print(' '.join(str(p['id']) for p in json.load(sys.stdin) if p.get('name') in names))" "$@"
}

# ns per run and runs of the given program ids
prog_ns() {
	bpftool prog show --json | python3 -c "
import json, sys
ids = set(int(i) for i in sys.argv[1:])
t = n = 0
for p in json.load(sys.stdin):
    if p['id'] in ids:
        t += p.get('run_time_ns', 0); n += p.get('run_cnt', 0)
print(f'{t / n:.0f} ns/run over {n} runs' if n else 'no runs')" "$@"
}

measure() { # BUILD LABEL A|B ROUND
	local names="on_sys_exit_read on_sys_exit_write on_vfs_read on_vfs_write" before after mine
	before=" $(prog_ids $names) "
	"$1/exfilctl" trace -c "$T/cfg.yaml" >/dev/null 2>"$T/trace.err" &
	TRACE=$!
	for _ in $(seq 1 600); do grep -q ready "$T/trace.err" && break; sleep 0.1; done
	grep -q ready "$T/trace.err" || { cat "$T/trace.err" >&2; exit 1; }
	after=$(prog_ids $names)
	mine=$(for i in $after; do case "$before" in *" $i "*) ;; *) echo "$i" ;; esac; done)
	sysctl -qw kernel.bpf_stats_enabled=1
	for _ in 1 2 3 4; do
		taskset -c 1 dd if="$T/plain.bin" of=/dev/null bs=4k status=none
		taskset -c 1 dd if=/dev/zero of="$T/out.bin" bs=4k count=$((N / 4)) status=none
		taskset -c 1 dd if=/dev/zero bs=4k count=$((N / 4)) status=none |
			taskset -c 1 dd of=/dev/null bs=4k status=none
	done
	local ns
	ns=$(prog_ns $mine)
	echo "$2: read/write exit programs: $ns"
	echo "$3 $4 ${ns%% *}" >>"$T/results"
	sysctl -qw kernel.bpf_stats_enabled="$STATS_WAS"
	kill -INT "$TRACE"
	wait "$TRACE" 2>/dev/null
	TRACE=
}

for r in $(seq 1 "$ROUNDS"); do
	if [ $((r % 2)) = 1 ]; then
		measure "$A" "round $r A ($A)" A "$r"
		measure "$B" "round $r B ($B)" B "$r"
	else
		measure "$B" "round $r B ($B)" B "$r"
		measure "$A" "round $r A ($A)" A "$r"
	fi
done
# The rounds of one build spread more than two builds differ: the paired difference
# (A - B within a round, both run back to back) is the figure to read.
python3 - "$T/results" <<'PY'
import statistics, sys
ns = {'A': {}, 'B': {}}
for line in open(sys.argv[1]):
    build, rnd, v = line.split()
    if v.isdigit():
        ns[build][rnd] = int(v)
d = sorted(ns['A'][r] - ns['B'][r] for r in ns['A'] if r in ns['B'])
if d:
    print(f"median ns/run: A {statistics.median(ns['A'].values())}, "
          f"B {statistics.median(ns['B'].values())}; A - B per round {d}, "
          f"median {statistics.median(d)}")
PY
