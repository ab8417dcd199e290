#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Fleet shipping figures for docs/benchmarks.md and docs/fleet.md, against a local
# nats-server (JetStream, file storage, 127.0.0.1:14227) and the real agent:
#  - backlog drain: OPS watched open+read+close operations in a login session while the
#    server is down, then the server started: records, blocks and bytes of the backlog,
#    time to ship it, blocks/s, records/s, MB/s, bytes on the wire per record;
#  - CPU: the shipping thread's and its libnats threads' (all named xm-fleet) CPU time
#    against the whole daemon's over the
#    burst and the drain, from /proc/PID/task/*/stat;
#  - alert-to-stream latency: TRIALS bulk reads in fresh login sessions, each raising an
#    alert; latency = JetStream's stored time of the alert's first revision minus the
#    alert's raise time (@timestamp, millisecond precision, same clock), p50 and p99.
# usage: bench/fleet_bench.sh [OPS] [TRIALS]   (root; defaults 600000 and 20)
. "$(dirname "$0")/../tests/lib/itest.sh"
. "$LIB/nats_fixture.sh"

OPS=${1:-600000}
TRIALS=${2:-20}
URL=nats://127.0.0.1:14227
make -s -C "$ROOT" all build/tests/nats_tool || die "build"
gcc -O2 -o "$T/workloads" "$ROOT/bench/workloads.c" || die "workloads"
SRC=$T/src
mkdir -p "$SRC"
chmod a+rx "$T" "$SRC"
"$T/workloads" mkfiles "$SRC/many" 20000 2048 >/dev/null || die "mkfiles"
head -c 8000000 /dev/urandom >"$SRC/big"
chmod -R a+rX "$SRC"

D=$T/agent
mkdir -p "$D"
cat >"$D/cfg.yaml" <<YAML
sources:
  paths: ["$SRC"]
  services: []
detect:
  bulk_read: 5MiB
  bulk_objects: 1000000
output:
  alerts: $D/alerts.jsonl
  evidence: $D/evidence
  syslog: off
agent:
  state_dir: $D/state
  poll_interval: 250ms
fleet:
  servers: [$URL]
  host_id: bench
YAML
nats_write_conf b0 14227
"$BUILD/exfilmond" -c "$D/cfg.yaml" --status "$D/status.json" --stderr 2>"$D/daemon.log" &
PID=$!
itest_on_exit "kill -9 $PID"
wait_until 60 grep -q "exfilmond: running" "$D/daemon.log" || die "agent did not start"

status() { python3 -c "import json,sys; s=json.load(open('$D/status.json')); print(eval(sys.argv[1]))" "$1"; }
cpu_ticks() { # all | fleet: utime+stime of the daemon's threads
	local t sum=0 comm
	for t in /proc/$PID/task/*; do
		comm=$(cat "$t/comm")
		[ "$1" = fleet ] && [ "$comm" != xm-fleet ] && continue
		sum=$((sum + $(awk '{ print $14 + $15 }' "$t/stat")))
	done
	echo "$sum"
}

rec0=$(status "s['evidence_next_seq']")
cpu_all0=$(cpu_ticks all)
cpu_fleet0=$(cpu_ticks fleet)
"$T/workloads" -l 1999 -n "$OPS" openclose "$SRC/many" 20000 >/dev/null || die "burst"
sleep 6   # the last seal (evidence.seal_interval 5s) and a status refresh
records=$(($(status "s['evidence_next_seq']") - rec0))
blocks=$(status "s['fleet']['backlog_blocks']")
bytes=$(status "s['fleet']['backlog_bytes']")
nats_run b0
nats_tool_out=$("$NATS_TOOL" stream "$URL" 1 2>&1) || die "stream: $nats_tool_out"
# The clock starts when the agent has reconnected (its backoff is at most 5 s).
connected() { [ "$(status "s['fleet']['connected']")" = True ]; }
wait_until 30 connected || die "agent did not reconnect"
t0=$(date +%s.%N)
drained() { [ "$(status "s['fleet']['backlog_blocks']")" = 0 ]; }
wait_until 300 drained || { grep fleet "$D/daemon.log" | tail -3; die "backlog not drained"; }
t1=$(date +%s.%N)
cpu_all=$(($(cpu_ticks all) - cpu_all0))
cpu_fleet=$(($(cpu_ticks fleet) - cpu_fleet0))

t_trials=$(date +%s.%N)
for i in $(seq 1 "$TRIALS"); do
	sleep "0.$(printf '%03d' $((RANDOM % 1000)))"
	"$T/workloads" -l $((3000 + i)) alertlat "$SRC/big" $((6 << 20)) "$D/alerts.jsonl" \
		>/dev/null || die "alert trial $i"
done
sleep 2
kill -TERM $PID
wait $PID
"$NATS_TOOL" dump "$URL" alert >"$T/alerts.stream" || die "dump"

python3 - "$T/alerts.stream" <<PY
import datetime, json, sys
lat = []
for line in open(sys.argv[1]):
    mid, stored, js = line.split(" ", 2)
    a = json.loads(js)
    raised = datetime.datetime.strptime(a["@timestamp"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(
        tzinfo=datetime.timezone.utc).timestamp()
    # first revisions of the trials' alerts (not the burst's, raised while offline)
    if not mid.endswith(":1") or raised < $t_trials:
        continue
    lat.append((int(stored) / 1e9 - raised) * 1000)
lat.sort()
dur = $t1 - $t0
print(f"backlog_records {$records}")
print(f"backlog_blocks {$blocks}")
print(f"backlog_bytes {$bytes}")
print(f"wire_bytes_per_record {$bytes / max($records, 1):.1f}")
print(f"drain_s {dur:.2f} (reconnected to backlog 0, status polled every 0.1 s)")
print(f"drain_blocks_per_s {$blocks / dur:.0f}")
print(f"drain_records_per_s {$records / dur:.0f}")
print(f"drain_MB_per_s {$bytes / dur / 1e6:.1f}")
print(f"cpu_daemon_s {$cpu_all / 100:.2f}")
print(f"cpu_fleet_thread_s {$cpu_fleet / 100:.2f}")
print(f"fleet_share_of_daemon_cpu_pct {100 * $cpu_fleet / max($cpu_all, 1):.1f}")
print(f"alert_trials {len(lat)}")
if lat:
    print(f"alert_to_stream_p50_ms {lat[(len(lat) - 1) // 2]:.0f}")
    print(f"alert_to_stream_p99_ms {lat[min(len(lat) - 1, int(len(lat) * 0.99))]:.0f}")
PY
