#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# exfilmon-central at scale: a synthetic fleet (build/fleet_sim fleet: HOSTS hosts x DAYS
# days x RECORDS records a day, written by the real evidence writer) is published to a
# private JetStream first, then ingested by one central instance and, on a fresh
# database with a fresh consumer, by two; then the detection pass and the investigator
# queries are timed on the full store. Prints one "key value" line per figure.
# usage: bench/central_bench.sh [HOSTS [DAYS [RECORDS_PER_DAY]]]   (root)
. "$(dirname "$0")/../tests/lib/itest.sh"
. "$LIB/central_fixture.sh"
HOSTS=${1:-100}
DAYS=${2:-30}
PER_DAY=${3:-200}

cf_nats_start
cf_pg_init
"$BUILD/fleet_sim" mkstream --server "$CF_NATS_URL" || die "mkstream"
mkdir -p "$T/fleet"
"$BUILD/fleet_sim" fleet "$T/fleet" --server "$CF_NATS_URL" --hosts "$HOSTS" --days "$DAYS" \
	--records-per-day "$PER_DAY" | sed 's/^/fleet_sim: /'
rm -rf "$T/fleet"
want=$((HOSTS * DAYS * (PER_DAY + 6)))   # write_story: 6 records besides the reads

# CPU time (clock ticks, user + system) of the processes named: where ingest's time goes.
ticks() { # PID...
	local p sum=0
	for p in "$@"; do
		[ -r "/proc/$p/stat" ] && sum=$((sum + $(awk '{ print $14 + $15 }' "/proc/$p/stat")))
	done
	echo "$sum"
}

ingest() { # NAME INSTANCES
	local t0 t1 i pg0 pg1 cen=0 hz
	hz=$(getconf CLK_TCK)
	for i in $(seq 1 "$2"); do
		cf_config "$1$i" "$(printf 'nats:\n  consumer: %s\n  fetch_batch: 64\ndatabase:\n  batch_records: 50000\ndetect:\n  interval: 1h\nlog:\n  level: debug' "$1")"
	done
	t0=$(date +%s.%N)
	pg0=$(ticks $(pgrep -u postgres))
	for i in $(seq 1 "$2"); do cf_central_start "$1$i"; done
	# Polls the chain counters (committed with the records), not count(*) on records: a
	# parallel scan of the growing table every 0.2 s took a fifth of a CPU from ingest.
	cf_wait 3600 bash -c "[ \$(psql -h $CF_PG_HOST -p $CF_PG_PORT -U postgres -d exfilmon -XAtqc 'SELECT coalesce(sum(records), 0) FROM chain_state') -ge $want ]" ||
		die "ingest did not finish"
	t1=$(date +%s.%N)
	echo "ingest_records_per_s_${2}_instances $(awk "BEGIN { printf \"%d\", $want / ($t1 - $t0) }")"
	# PostgreSQL's processes before the instances' backends exit (a backend's time
	# leaves with it); the new backends started after pg0 count from zero.
	pg1=$(ticks $(pgrep -u postgres))
	for i in $(seq 1 "$2"); do cen=$((cen + $(ticks "$(cat "$T/central-$1$i.pid")"))); done
	echo "ingest_cpu_us_per_record_${2}_instances central $(awk "BEGIN { printf \"%.1f\", $cen * 1e6 / $hz / $want }") postgres $(awk "BEGIN { printf \"%.1f\", ($pg1 - $pg0) * 1e6 / $hz / $want }")"
	for i in $(seq 1 "$2"); do cf_central_stop "$1$i"; done
}

echo "records $want"
ingest one 1
echo "pg_bytes_per_host_day $(( $(cf_sql 'SELECT pg_database_size(current_database())') / (HOSTS * DAYS) ))"
# The detections on the full store: one pass, each rule timed by the daemon.
cf_config det "$(printf 'nats:\n  consumer: det\ndetect:\n  interval: 1s\nlog:\n  level: debug')"
cf_central_start det
cf_wait 60 grep -q "detect: pass took" "$T/central-det.log"
cf_central_stop det
grep -o "detect: [a-z_]* took [0-9.]* ms" "$T/central-det.log" | head -7 | awk '{print "detect_" $2 "_ms " $4}'
t0=$(date +%s.%N); "$BUILD/exfilctl" hosts --db "$CF_CONNINFO" >/dev/null; t1=$(date +%s.%N)
echo "query_hosts_ms $(awk "BEGIN { printf \"%d\", ($t1 - $t0) * 1000 }")"
t0=$(date +%s.%N); "$BUILD/exfilctl" timeline --db "$CF_CONNINFO" --user user0007 >"$T/tl"; t1=$(date +%s.%N)
echo "query_timeline_user_ms $(awk "BEGIN { printf \"%d\", ($t1 - $t0) * 1000 }") ($(wc -l <"$T/tl") lines)"
# Two instances on a fresh database and a fresh consumer over the same stream.
psql -h "$CF_PG_HOST" -p "$CF_PG_PORT" -U postgres -qc "DROP DATABASE exfilmon" -c "CREATE DATABASE exfilmon"
ingest two 2
