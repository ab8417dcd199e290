#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The benchmark: what exfilmon adds to the syscalls of the machine it watches, beside the
# floor (the cheapest tracer on the same hooks), bpftrace and auditd; then collector
# throughput, alert latency, memory and a burst through a small ring buffer. Prints one
# table; docs/benchmarks.md explains the method and holds the latest one.
#
# usage: bench/run.sh [--smoke] [--pairs N] [--cpu N] [--out DIR]
#   --smoke   a few seconds: every configuration that needs nothing installed, tiny
#             workloads, one pair, no timing gates; fails only if the harness is broken
#   --pairs   A/B pairs per configuration (default 9)
#   --cpu     the CPU the workloads are pinned to (default 1); peers use the next one
#   --out     keep the raw results there (default: a temporary directory, removed)
#
# Method: per configuration, pairs of phases, baseline (tracer stopped) and traced (tracer
# running), in ABBA order (odd pairs baseline first, even pairs traced first); a phase runs
# every workload once, pinned to one CPU. A pair's added ns/op is traced minus baseline,
# measured seconds apart, so the minutes-long drift of this kind of machine cancels out.
# The "none" configuration pairs baseline with baseline: its spread is the noise.
set -u
ROOT=$(cd "$(dirname "$0")/.." && pwd)
cd "$ROOT"
BUILD=$ROOT/build
W=$BUILD/bench/workloads
. "$ROOT/bench/config.sh"
SMOKE=0
PAIRS=9
CPU=1
OUT=
while [ $# -gt 0 ]; do
	case "$1" in
	--smoke) SMOKE=1 ;;
	--pairs) PAIRS=$2; shift ;;
	--cpu) CPU=$2; shift ;;
	--out) OUT=$2; shift ;;
	*) echo "usage: bench/run.sh [--smoke] [--pairs N] [--cpu N] [--out DIR]" >&2; exit 2 ;;
	esac
	shift
done
[ "$(id -u)" = 0 ] || { echo "bench: needs root (loads BPF programs, audit rules)" >&2; exit 1; }

T=$(mktemp -d /var/tmp/exfilmon-bench.XXXXXX)
RES=$T/results.tsv
EXTRA=$T/extra.tsv
STARTED=()          # pids this run started, stopped at exit
AUDIT_RULES=0       # 1 while our audit rules may be loaded
AUDITD_PID=
AUDIT_WAS_ENABLED=
BPF_STATS_WAS=

log() { echo "bench: $*" >&2; }
die() { log "FATAL: $*"; exit 1; }

stop_pid() { # PID: SIGTERM, then SIGINT, then SIGKILL, and reap
	local p=$1 i
	kill -0 "$p" 2>/dev/null || return 0
	kill -TERM "$p" 2>/dev/null
	kill -CONT "$p" 2>/dev/null
	for i in $(seq 1 100); do kill -0 "$p" 2>/dev/null || break; sleep 0.05; done
	kill -INT "$p" 2>/dev/null
	for i in $(seq 1 20); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
	kill -KILL "$p" 2>/dev/null
	wait "$p" 2>/dev/null
	return 0
}

cleanup() {
	local p
	audit_rules_del
	for p in "${STARTED[@]}"; do stop_pid "$p"; done
	[ -n "$AUDITD_PID" ] && stop_pid "$AUDITD_PID"
	[ -n "$AUDIT_WAS_ENABLED" ] && auditctl -e "$AUDIT_WAS_ENABLED" >/dev/null 2>&1
	[ -n "$BPF_STATS_WAS" ] && sysctl -q kernel.bpf_stats_enabled="$BPF_STATS_WAS"
	if [ -n "$OUT" ]; then
		mkdir -p "$OUT" && cp "$RES" "$EXTRA" "$OUT/" 2>/dev/null
	fi
	rm -rf "$T" "$EXFILMON_PIN_DIR"
	# Nothing of ours may stay attached: the floor's and exfilmon's programs have
	# recognizable names; bpftrace's are counted before and after.
	if bpftool prog list 2>/dev/null | grep -qE 'name (floor_|on_sys_|on_sched_|on_sock_)'; then
		log "WARNING: BPF programs still attached:"
		bpftool prog list | grep -E 'name (floor_|on_sys_|on_sched_|on_sock_)' >&2
	fi
}
# The daemon's lineage labels go to a pin directory of the bench's own, removed at exit.
export EXFILMON_PIN_DIR=/sys/fs/bpf/exfilmon-bench-$$
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- build -------------------------------------------------------------------------

build() {
	if ! command -v clang >/dev/null || ! command -v bpftool >/dev/null ||
	   ! pkg-config --exists libbpf; then
		scripts/install-deps.sh || die "installing build dependencies failed"
	fi
	make -s all build/libexfilmon.a >/dev/null || die "make failed"
	make -s -f bench/Makefile >/dev/null || die "building bench programs failed"
}

# Tools the comparison needs; in smoke mode whatever is missing is skipped, not installed.
have_or_install() { # COMMAND PACKAGE
	command -v "$1" >/dev/null && return 0
	[ "$SMOKE" = 1 ] && return 1
	log "installing $2"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$2" >/dev/null 2>&1 ||
		{ apt-get update -q >/dev/null 2>&1 &&
		  DEBIAN_FRONTEND=noninteractive apt-get install -y -q "$2" >/dev/null 2>&1; }
	command -v "$1" >/dev/null
}

# --- fixtures ------------------------------------------------------------------------

SRC=$T/src          # watched
PLAIN=$T/plain      # the same files, unwatched
fixtures() {
	local n=10000
	[ "$SMOKE" = 1 ] && n=500
	SMALL_FILES=$n
	mkdir -p "$SRC" "$PLAIN" "$T/crm" "$T/cache" "$T/ev" "$T/state"
	for d in "$SRC" "$PLAIN"; do
		head -c $((8 << 20)) /dev/urandom >"$d/big"
		"$W" mkfiles "$d/small" "$n" 2048 || die "fixture $d"
	done
	"$W" mkfiles "$T/crm" 50 4096 && "$W" mkfiles "$T/cache" 50 4096 || die "fixtures"
	# Page-cached: the read workloads measure the syscall, not the disk.
	cat "$SRC/big" "$PLAIN/big" "$SRC"/small/* "$PLAIN"/small/* >/dev/null
	bench_config "$T/exfilmon.yaml" "$T" "$SRC" "$T/crm" "$T/cache"
}

# --- workloads -----------------------------------------------------------------------

# group | name | default ops | arguments. Ops are chosen so each run takes 0.1-0.3 s
# here. A pair's two phases run one group, so baseline and traced runs of a workload
# are never more than a few seconds apart.
workload_table() {
	cat <<-EOF
	reads read4k_unwatched 100000 read4k $PLAIN/big
	reads read4k_watched 100000 read4k $SRC/big
	reads read64_unwatched 100000 read64 $PLAIN/big
	reads read64_watched 100000 read64 $SRC/big
	files openclose_unwatched $SMALL_FILES openclose $PLAIN/small $SMALL_FILES
	files openclose_watched $SMALL_FILES openclose $SRC/small $SMALL_FILES
	net tcp_source 20000 tcp download 127.0.0.2 5432
	net tcp_egress 20000 tcp upload 127.0.0.77 15432
	net udp_egress 50000 udp 127.0.0.77 15433
	proc getppid 200000 getppid
	proc exec 40 exec /bin/true
	EOF
}

# run_phase CONFIG PAIR PHASE DIVISOR GROUP: the group's workloads once each, results
# appended to RES.
run_phase() {
	local cfg=$1 pair=$2 phase=$3 div=$4 group=$5 g name ops args out
	while read -r g name ops args; do
		[ "$g" = "$group" ] || continue
		ops=$(( ops / div )); [ "$ops" -lt 5 ] && ops=5
		# shellcheck disable=SC2086
		out=$("$W" -c "$CPU" -s -n "$ops" $args) || die "workload $name failed ($cfg)"
		printf '%s\t%s\t%s\t%s\t%s\n' "$cfg" "$pair" "$phase" "$name" "${out##* }" >>"$RES"
	done < <(workload_table)
}

# --- configurations: start_X leaves the tracer running, stop_X removes it ------------

wait_for() { # FILE PATTERN PID SECONDS
	local i
	for i in $(seq 1 $(( $4 * 10 ))); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		kill -0 "$3" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

TRACER_PID=
start_bg() { # LOGFILE PATTERN CMD...: starts CMD, waits for PATTERN in its output
	local logf=$1 pat=$2; shift 2
	"$@" >"$logf" 2>&1 &
	TRACER_PID=$!
	STARTED+=("$TRACER_PID")
	wait_for "$logf" "$pat" "$TRACER_PID" 60 || { cat "$logf" >&2; die "$1 did not start"; }
}
stop_bg() {
	local keep=() p
	stop_pid "$TRACER_PID"
	for p in "${STARTED[@]}"; do [ "$p" = "$TRACER_PID" ] || keep+=("$p"); done
	STARTED=("${keep[@]}")
	TRACER_PID=
}

start_none() { :; }
stop_none() { :; }
start_floor() { start_bg "$T/floor.log" "ready" "$BUILD/bench/floor"; }
stop_floor() { stop_bg; }
start_exfilmon() {
	start_bg "$T/exfilmond.log" "exfilmond: running" \
		"$BUILD/exfilmond" -c "$T/exfilmon.yaml" --stderr --status "$T/status.json"
}
stop_exfilmon() { stop_bg; }
start_bpftrace() { start_bg "$T/bpftrace.log" "^ready" bpftrace "$ROOT/bench/tracers/bpftrace.bt"; }
stop_bpftrace() { stop_bg; }

# auditd runs for the whole block (its own config and log under $T); the rules are what
# a traced phase adds: a read syscall rule for login sessions and a watch on the sources.
AUDIT_KEY=exfilmon-bench
audit_rules_add() {
	AUDIT_RULES=1
	auditctl -a always,exit -F arch=b64 -S read -F auid\>=1000 -F auid!=-1 -k "$AUDIT_KEY" >/dev/null &&
	auditctl -w "$SRC" -p r -k "$AUDIT_KEY" >/dev/null
}
audit_rules_del() {
	[ "$AUDIT_RULES" = 1 ] || return 0
	auditctl -d always,exit -F arch=b64 -S read -F auid\>=1000 -F auid!=-1 -k "$AUDIT_KEY" >/dev/null 2>&1
	auditctl -W "$SRC" -p r -k "$AUDIT_KEY" >/dev/null 2>&1
	AUDIT_RULES=0
}
setup_auditd() {
	local dir=$T/audit
	AUDIT_WAS_ENABLED=$(auditctl -s 2>/dev/null | awk '/^enabled/ { print $2 }')
	if [ -z "$(auditctl -s 2>/dev/null | awk '/^pid/ && $2 != 0')" ]; then
		mkdir -p "$dir/plugins.d"
		sed -e "s|^log_file.*|log_file = $dir/audit.log|" \
		    -e "s|^plugin_dir.*|plugin_dir = $dir/plugins.d|" \
		    -e "s|^max_log_file .*|max_log_file = 16|" -e "s|^num_logs.*|num_logs = 2|" \
		    /etc/audit/auditd.conf >"$dir/auditd.conf"
		chmod 0640 "$dir/auditd.conf"
		auditd -n -s enable -c "$dir" >"$T/auditd.log" 2>&1 &
		AUDITD_PID=$!
		for _ in $(seq 1 50); do
			auditctl -s | grep -q "^pid $AUDITD_PID" && break
			sleep 0.1
		done
		auditctl -s | grep -q "^pid $AUDITD_PID" || die "auditd did not start"
	fi
	auditctl -e 1 >/dev/null
}
teardown_auditd() {
	audit_rules_del
	[ -n "$AUDITD_PID" ] && stop_pid "$AUDITD_PID"
	AUDITD_PID=
	[ -n "$AUDIT_WAS_ENABLED" ] && auditctl -e "$AUDIT_WAS_ENABLED" >/dev/null
}
start_auditd() { audit_rules_add || die "auditctl failed"; }
stop_auditd() { audit_rules_del; }

# run_config NAME DIVISOR: PAIRS pairs of (baseline, traced) per workload group, in ABBA
# order (odd pairs baseline first).
run_config() {
	local cfg=$1 div=$2 p g
	log "configuration $cfg: $PAIRS pairs"
	for p in $(seq 1 "$PAIRS"); do
		for g in reads files net proc; do
			if [ $((p % 2)) = 1 ]; then
				run_phase "$cfg" "$p" base "$div" "$g"
				"start_$cfg"; run_phase "$cfg" "$p" traced "$div" "$g"; "stop_$cfg"
			else
				"start_$cfg"; run_phase "$cfg" "$p" traced "$div" "$g"; "stop_$cfg"
				run_phase "$cfg" "$p" base "$div" "$g"
			fi
		done
	done
}

extra() { printf '%s\t%s\t%s\n' "$1" "$2" "$3" >>"$EXTRA"; } # SECTION KEY VALUE

# --- main ----------------------------------------------------------------------------

build
fixtures
: >"$RES"
: >"$EXTRA"
DIV=1
[ "$SMOKE" = 1 ] && { DIV=50; PAIRS=1; }
BPF_BEFORE=$(bpftool prog list 2>/dev/null | grep -c '^[0-9]')

run_config none "$DIV"
run_config floor "$DIV"
run_config exfilmon "$DIV"
if have_or_install bpftrace bpftrace; then
	run_config bpftrace "$DIV"
else
	log "bpftrace not installed: skipped"
fi
if have_or_install auditd auditd; then
	# Every audited read writes a record to the log: a tenth of the operations keeps
	# the log small; ns/op stays comparable.
	setup_auditd
	run_config auditd $(( DIV * 10 ))
	teardown_auditd
else
	log "auditd not installed: skipped"
fi

. "$ROOT/bench/extras.sh"
run_extras

BPF_AFTER=$(bpftool prog list 2>/dev/null | grep -c '^[0-9]')
extra check bpf_programs_before_after "$BPF_BEFORE/$BPF_AFTER"
python3 "$ROOT/bench/report.py" "$RES" "$EXTRA" ${SMOKE:+--smoke=$SMOKE} ||
	die "report failed"
[ "$BPF_BEFORE" = "$BPF_AFTER" ] || die "BPF programs left attached ($BPF_BEFORE before, $BPF_AFTER after)"
