# SPDX-License-Identifier: GPL-2.0-only
# The measurements of bench/run.sh that are not A/B pairs: per-program BPF run times,
# collector throughput, alert latency, memory, and a burst through a tiny ring buffer.
# Sourced by run.sh (uses its T, W, BUILD, SRC, CPU, SMOKE, start_*/stop_*, extra, die).

# Per-program run time from the kernel's own BPF statistics: average ns per run of the
# read and openat programs while one workload runs, for the floor and for exfilmon.
prog_stats() { # PREFIX -> "name run_time_ns run_cnt" lines
	bpftool -j prog show | python3 -c '
import json, sys
for p in json.load(sys.stdin):
    if p.get("name", "").startswith(sys.argv[1]):
        print(p["name"], p.get("run_time_ns", 0), p.get("run_cnt", 0))' "$1"
}

avg_ns() { # BEFORE AFTER PROGNAME
	join <(sort "$1") <(sort "$2") | awk -v n="$3" '$1 == n && $5 > $3 {
		printf "%.0f", ($4 - $2) / ($5 - $3) }'
}

profile_one() { # CONFIG PROGPREFIX READPROG OPENPROG
	local cfg=$1 pre=$2 rp=$3 op=$4 w
	"start_$cfg"
	prog_stats "$pre" >"$T/ps0"
	for w in "read4k $PLAIN/big" "read4k $SRC/big" "openclose $SRC/small $SMALL_FILES"; do
		# shellcheck disable=SC2086
		"$W" -c "$CPU" -s $w >/dev/null || die "profile workload"
		prog_stats "$pre" >"$T/ps1"
		case "$w" in
		"read4k $PLAIN"*) extra profile "${cfg}_read_unwatched_ns" "$(avg_ns "$T/ps0" "$T/ps1" "$rp")" ;;
		"read4k $SRC"*) extra profile "${cfg}_read_watched_ns" "$(avg_ns "$T/ps0" "$T/ps1" "$rp")" ;;
		openclose*) extra profile "${cfg}_openat_watched_ns" "$(avg_ns "$T/ps0" "$T/ps1" "$op")" ;;
		esac
		mv "$T/ps1" "$T/ps0"
	done
	"stop_$cfg"
}

profile_bpf_stats() {
	BPF_STATS_WAS=$(sysctl -n kernel.bpf_stats_enabled)
	sysctl -q kernel.bpf_stats_enabled=1
	profile_one floor floor_ floor_exit_read floor_exit_openat
	profile_one exfilmon on_ on_sys_exit_read on_sys_exit_openat
	sysctl -q kernel.bpf_stats_enabled="$BPF_STATS_WAS"
	BPF_STATS_WAS=
}

collector() {
	local n=3000000 trials=200 out
	[ "$SMOKE" = 1 ] && { n=20000; trials=5; }
	mkdir -p "$T/cb"
	sed -e "s|$T/ev|$T/cb/ev|" -e "s|$T/alerts.jsonl|$T/cb/alerts.jsonl|" \
	    -e "s|$T/state|$T/cb/state|" "$T/exfilmon.yaml" >"$T/cb.yaml"
	out=$(taskset -c "$CPU" "$BUILD/bench/collector_bench" "$T/cb.yaml" "$n" "$trials") ||
		die "collector bench failed"
	while read -r k v; do extra collector "$k" "$v"; done <<<"$out"
	# The store the fast path wrote must verify, index included (the collector hands the
	# store each record's session instead of having it parsed back).
	"$BUILD/exfilctl" verify --dir "$T/cb/ev" >"$T/cb-verify.txt" 2>&1 ||
		{ cat "$T/cb-verify.txt" >&2; die "collector bench: evidence does not verify"; }
	rm -rf "$T/cb"
}

# End to end on the daemon: a fresh session reads past bulk_read; milliseconds from the
# last read to the alert line, which includes waiting for the next counter drain.
alert_latency() {
	local i out lat=()
	sed -e "s|^agent:|detect:\n  bulk_read: 4MiB\nagent:|" "$T/exfilmon.yaml" >"$T/lat.yaml"
	sed -i -e "s|$T/alerts.jsonl|$T/lat-alerts.jsonl|" "$T/lat.yaml"
	start_bg "$T/lat.log" "exfilmond: running" \
		"$BUILD/exfilmond" -c "$T/lat.yaml" --stderr --status "$T/lat-status.json"
	for i in $(seq 1 20); do
		# A random phase against the daemon's drain timer, or every trial would
		# start just after the drain that ended the previous one.
		sleep "0.$(printf '%03d' $((RANDOM % 1000)))"
		out=$("$W" -l $((2000 + i)) alertlat "$SRC/big" $((5 << 20)) "$T/lat-alerts.jsonl") ||
			die "alert latency trial $i"
		lat+=("${out##* }")
	done
	stop_bg
	printf '%s\n' "${lat[@]}" | sort -n | awk '{ v[NR] = $1 } END {
		printf "daemon_p50_ms %s\ndaemon_p99_ms %s\ndaemon_trials %d\n",
			v[int((NR + 1) / 2)], v[NR], NR }' >"$T/lat.out"
	while read -r k v; do extra latency "$k" "$v"; done <"$T/lat.out"
}

daemon_rss_kib() { awk '/^VmRSS/ { print $2 }' "/proc/$TRACER_PID/status"; }

# Where the daemon's RSS is, from smaps: heap, the BPF ring buffer and maps mapped into it
# (anon_inode:bpf-map; the ring's data pages are mapped twice and count twice), shared
# libraries and the binary (file-backed, mostly shared with other processes), the rest.
daemon_rss_breakdown() { # PREFIX
	awk -v p="$1" '/^[0-9a-f]+-[0-9a-f]+ / { n = $6 == "" ? "anon" : $6 }
		/^Rss:/ { if (n == "[heap]") h += $2; else if (n ~ /bpf-map/) b += $2
			  else if (n ~ /^\//) f += $2; else o += $2 }
		END { printf "%s_heap_kib %d\n%s_bpf_maps_kib %d\n%s_files_kib %d\n%s_other_kib %d\n",
			p, h, p, b, p, f, p, o }' "/proc/$TRACER_PID/smaps"
}

# Bytes of the maps the daemon's programs use (bpftool's memlock accounting).
bpf_map_bytes() {
	bpftool -j prog show | python3 -c '
import json, subprocess, sys
ids = set()
for p in json.load(sys.stdin):
    if p.get("name", "").startswith(("on_sys_", "on_sched_", "on_sock_", "on_io_uring")):
        ids.update(p.get("map_ids", []))
maps = json.loads(subprocess.check_output(["bpftool", "-j", "map", "show"]))
print(sum(m.get("bytes_memlock", 0) for m in maps if m["id"] in ids))'
}

holder_start() { # NAME CMD...: a workload that holds until its stdin closes
	local name=$1; shift
	rm -f "$T/$name.fifo"; mkfifo "$T/$name.fifo"
	"$@" <"$T/$name.fifo" >"$T/$name.out" &
	HOLDER_PID=$!
	STARTED+=("$HOLDER_PID")
	exec 7>"$T/$name.fifo"
	wait_for "$T/$name.out" ready "$HOLDER_PID" 120 || die "$name did not start"
}
holder_stop() {
	exec 7>&-
	wait "$HOLDER_PID"
}

memory() {
	local procs=10000 files=100000
	"$W" mkfiles "$SRC/many" "$files" 0 || die "fixture many"
	start_exfilmon
	sleep 2
	extra memory rss_idle_kib "$(daemon_rss_kib)"
	while read -r k v; do extra memory "$k" "$v"; done < <(daemon_rss_breakdown rss_idle)
	extra memory bpf_maps_idle_bytes "$(bpf_map_bytes)"
	holder_start sleepers "$W" -s sleepers "$procs"
	sleep 3
	extra memory rss_10k_procs_kib "$(daemon_rss_kib)"
	extra memory bpf_maps_10k_procs_bytes "$(bpf_map_bytes)"
	holder_stop
	holder_start holdopen "$W" -s holdopen "$SRC/many" "$files"
	sleep 3
	extra memory rss_100k_files_kib "$(daemon_rss_kib)"
	extra memory bpf_maps_100k_files_bytes "$(bpf_map_bytes)"
	holder_stop
	stop_exfilmon
	rm -rf "$SRC/many"
}

# A million watched 4 KiB reads from 500 processes at once, through a 4 KiB ring: the
# byte total must match what the processes read, and the lost opens, forks and exits
# must show up as gap records.
burst() {
	local ops=1000000 procs=500 out bytes session seen lost opens_seen opens_lost
	[ "$SMOKE" = 1 ] && { ops=40000; procs=400; }
	sed -e "s|^agent:|agent:\n  ring_buffer: 4KiB|" "$T/exfilmon.yaml" >"$T/burst.yaml"
	start_bg "$T/burst.err" "ready" \
		sh -c "exec '$BUILD/exfilctl' trace --json --all -c '$T/burst.yaml' --interval 200 \
			>'$T/burst.json'"
	# The consumer is stopped for the burst so the ring overflows however fast the
	# machine drains it; the kernel keeps counting bytes and losses meanwhile.
	kill -STOP "$TRACER_PID"
	out=$("$W" -s -n "$ops" burst "$SRC/big" "$procs") || { kill -CONT "$TRACER_PID"; die "burst workload"; }
	kill -CONT "$TRACER_PID"
	sleep 1
	stop_bg
	read -r bytes session <<<"$out"
	seen=$(python3 "$ROOT/tests/lib/events.py" sum "$T/burst.json" --kind source_file --session "$session")
	lost=$(python3 "$ROOT/tests/lib/events.py" lost "$T/burst.json" --session "$session")
	opens_lost=$(python3 "$ROOT/tests/lib/events.py" lost "$T/burst.json" --session "$session" --what open)
	opens_seen=$(python3 "$ROOT/tests/lib/events.py" count "$T/burst.json" --event open --session "$session")
	extra burst reads "$ops"
	extra burst processes "$procs"
	extra burst bytes_read "$bytes"
	extra burst bytes_counted "$seen"
	extra burst gap_records "$(python3 "$ROOT/tests/lib/events.py" count "$T/burst.json" --event gap --session "$session")"
	extra burst records_lost "$lost"
	[ "$bytes" = "$seen" ] || die "burst: sensor counted $seen bytes, processes read $bytes"
	[ "$lost" -ge 1 ] || die "burst: a 4 KiB ring lost nothing? no gap records"
	[ $((opens_seen + opens_lost)) = "$procs" ] ||
		die "burst: opens seen $opens_seen + lost $opens_lost != $procs processes"
}

run_extras() {
	log "extras: burst"
	burst
	log "extras: collector"
	collector
	[ "$SMOKE" = 1 ] && return 0
	log "extras: bpf_stats profile"
	profile_bpf_stats
	log "extras: alert latency"
	alert_latency
	log "extras: memory"
	memory
}
