#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Per-program BPF cost, floor beside exfilmon, from the kernel's own statistics
# (kernel.bpf_stats_enabled=1: run_time_ns / run_cnt of each program). Quicker and far
# less noisy than the A/B pairs of bench/run.sh: it measures time inside the programs
# only, without the tracepoint dispatch both tracers pay alike.
#
#     sudo bench/profile.sh [--cpu N] [--rounds N] [--only floor|exfilmon] [--work REGEX]
#                           [--together] [--also NAME=EXFILMOND]
#
# Workloads (bench/workloads, fresh audit session, pinned): read4k and read64 of an
# unwatched and of a watched 8 MiB file, open+read(2 KiB)+close of 5,000 unwatched and
# of 5,000 watched small files (each opened once, as in bench/run.sh), unconnected UDP
# sendto of 1 KiB to 127.0.0.77 (egress). Prints one line
# per (workload, tracer, program) with the average ns per run, the median (and the
# minimum) over the rounds; programs that ran fewer than 1,000 times in a workload
# (background activity) only with VERBOSE=1. CYCLES=K makes the open+read+close workloads
# pass K times over their files: on a busy machine other processes' opens run the same
# programs, and more passes drown them (repeat opens of a watched file find it by inode). Programs are matched by the fds of the
# process that holds them, so other tracers on the machine do not disturb the numbers.
#
# This machine's speed drifts by 2x over minutes, so tracers measured one after the
# other are hard to compare. --together attaches them all at once: every traced call
# runs each of them in turn, and their averages come from the same calls. --also adds
# another exfilmond binary (say, a build of the previous commit) as tracer NAME, for a
# before/after in one run. Restores kernel.bpf_stats_enabled and stops what it started.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=$ROOT/build
W=$BUILD/bench/workloads
. "$ROOT/bench/config.sh"
CPU=1
ROUNDS=3
ONLY=
WORK=.
TOGETHER=0
ALSO=()
N=5000
CYCLES=${CYCLES:-1}
while [ $# -gt 0 ]; do
	case "$1" in
	--cpu) CPU=$2; shift ;;
	--rounds) ROUNDS=$2; shift ;;
	--only) ONLY=$2; shift ;;
	--work) WORK=$2; shift ;;
	--together) TOGETHER=1 ;;
	--also) ALSO+=("$2"); shift ;;
	*) echo "usage: bench/profile.sh [--cpu N] [--rounds N] [--only floor|exfilmon]" \
		"[--work REGEX] [--together] [--also NAME=EXFILMOND]" >&2
	   exit 2 ;;
	esac
	shift
done
[ "$(id -u)" = 0 ] || { echo "profile: needs root" >&2; exit 1; }

T=$(mktemp -d /var/tmp/exfilmon-profile.XXXXXX)
NAMES=()            # tracers running now, and their pids
PIDS=()
STATS_WAS=$(sysctl -n kernel.bpf_stats_enabled)
die() { echo "profile: FATAL: $*" >&2; exit 1; }
stop() {
	local p
	for p in "${PIDS[@]}"; do
		kill -TERM "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	NAMES=()
	PIDS=()
}
PIN=/sys/fs/bpf/exfilmon-profile-$$
cleanup() {
	stop
	sysctl -q kernel.bpf_stats_enabled="$STATS_WAS"
	rm -rf "$T" "$PIN"-*
}
trap cleanup EXIT
trap 'exit 130' INT TERM

make -s -C "$ROOT" all >/dev/null || die "make failed"
make -s -C "$ROOT" -f bench/Makefile >/dev/null || die "building bench programs failed"

mkdir -p "$T/src" "$T/plain" "$T/ev" "$T/state"
for d in "$T/src" "$T/plain"; do
	head -c $((8 << 20)) /dev/urandom >"$d/big"
	"$W" mkfiles "$d/small" "$N" 2048 >/dev/null || die "fixture $d"
done
cat "$T"/src/big "$T"/plain/big "$T"/src/small/* "$T"/plain/small/* >/dev/null
bench_config "$T/config.yaml" "$T" "$T/src"

start() { # NAME PATTERN CMD...
	local name=$1 pat=$2 pid i
	shift 2
	"$@" >"$T/$name.log" 2>&1 &
	pid=$!
	NAMES+=("$name")
	PIDS+=("$pid")
	for i in $(seq 1 600); do
		grep -q "$pat" "$T/$name.log" 2>/dev/null && return 0
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	cat "$T/$name.log" >&2
	die "$* did not start"
}

start_floor() { start floor ready "$BUILD/bench/floor"; }
# Each daemon pins its lineage maps in a directory of its own (removed at exit): two
# tracers attached together must not share labels, nor leave them in the default one.
start_exfilmon() { # NAME EXFILMOND: its own state, evidence, alerts and pinned maps
	mkdir -p "$T/$1/ev" "$T/$1/state"
	sed -e "s|$T/ev|$T/$1/ev|" -e "s|$T/alerts.jsonl|$T/$1/alerts.jsonl|" \
	    -e "s|$T/state|$T/$1/state|" "$T/config.yaml" >"$T/$1.yaml"
	EXFILMON_PIN_DIR=$PIN-$1 start "$1" "exfilmond: running" "$2" -c "$T/$1.yaml" --stderr \
		--status "$T/$1/status.json"
}
start_all() {
	local a
	[ "$ONLY" != exfilmon ] && start_floor
	[ "$ONLY" != floor ] && start_exfilmon exfilmon "$BUILD/exfilmond"
	for a in "${ALSO[@]}"; do start_exfilmon "${a%%=*}" "${a#*=}"; done
}

# "tracer:name run_time_ns run_cnt" for every program of every running tracer (the
# prog_id lines in its fdinfo say which programs it holds)
stats() {
	local i
	for i in "${!PIDS[@]}"; do
		bpftool -j prog show | python3 -c '
import glob, json, sys
ids = set()
for f in glob.glob("/proc/%s/fdinfo/*" % sys.argv[1]):
    try:
        for line in open(f):
            if line.startswith("prog_id:"):
                ids.add(int(line.split()[1]))
    except OSError:
        pass
for p in json.load(sys.stdin):
    if p["id"] in ids:
        print("%s:%s" % (sys.argv[2], p["name"]), p.get("run_time_ns", 0), p.get("run_cnt", 0))' \
			"${PIDS[$i]}" "${NAMES[$i]}"
	done
}

# Programs that ran during one workload: "tracer name avg_ns runs"
delta() {
	join <(sort "$1") <(sort "$2") | awk '$5 > $3 { sub(":", " ", $1)
		printf "%s %.0f %d\n", $1, ($4 - $2) / ($5 - $3), $5 - $3 }'
}

workloads() {
	cat <<-EOF
	read4k_unwatched -n 200000 read4k $T/plain/big
	read4k_watched -n 200000 read4k $T/src/big
	read64_unwatched -n 200000 read64 $T/plain/big
	read64_watched -n 200000 read64 $T/src/big
	openclose_unwatched -n $((N * CYCLES)) openclose $T/plain/small $N
	openclose_watched -n $((N * CYCLES)) openclose $T/src/small $N
	udp_egress -n 200000 udp 127.0.0.77 15433
	EOF
}

profile() {
	local name args r
	while read -r name args; do
		for r in $(seq 1 "$ROUNDS"); do
			stats >"$T/s0"
			# shellcheck disable=SC2086
			"$W" -c "$CPU" -s $args >/dev/null || die "workload $name"
			stats >"$T/s1"
			delta "$T/s0" "$T/s1" | awk -v w="$name" '{ print $1, w, $2, $3, $4 }'
		done
	done < <(workloads | grep -E -- "^[^ ]*($WORK)")
}

sysctl -q kernel.bpf_stats_enabled=1
{
	if [ "$TOGETHER" = 1 ]; then
		start_all
		profile
		stop
	else
		saved=("${ALSO[@]}")
		for t in floor exfilmon "${saved[@]}"; do
			case "$t" in
			floor) [ "$ONLY" != exfilmon ] && start_floor ;;
			exfilmon) [ "$ONLY" != floor ] && start_exfilmon exfilmon "$BUILD/exfilmond" ;;
			*) start_exfilmon "${t%%=*}" "${t#*=}" ;;
			esac
			[ "${#PIDS[@]}" -gt 0 ] && profile
			stop
		done
	fi
} >"$T/raw"
# Median over the rounds, per tracer, workload and program.
python3 - "$T/raw" <<'PY'
import collections, os, sys
verbose = os.environ.get("VERBOSE") == "1"
runs = collections.defaultdict(list)
for line in open(sys.argv[1]):
    tracer, work, prog, ns, cnt = line.split()
    runs[(work, tracer, prog)].append((int(ns), int(cnt)))
for (work, tracer, prog), v in sorted(runs.items()):
    v.sort()
    ns, cnt = v[(len(v) - 1) // 2]
    if cnt < 1000 and not verbose:
        continue
    print(f"{work:20} {tracer:10} {prog:28} {ns:6d} ns  (min {v[0][0]}, {cnt} runs)")
PY
