#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Health and rotation on the real daemon: exfilctl status is healthy only while the daemon
# runs and ticks (a stopped main loop, a killed daemon and an ancient status file all exit
# 1 and say why), the status carries the version, the Prometheus metrics file is
# rewritten every tick and is read by a real node_exporter textfile collector (on
# 127.0.0.1:16501) without errors, and SIGHUP and SIGUSR1 with an unchanged config make
# the daemon reopen alerts.jsonl after logrotate moved it away.
. "$(dirname "$0")/../lib/itest.sh"

NODE_EXPORTER=/usr/bin/prometheus-node-exporter
[ -x "$NODE_EXPORTER" ] || die "prometheus-node-exporter missing (scripts/install-deps.sh test)"
VERSION=$(sed -n 's/^VERSION *:= *//p' "$ROOT/Makefile")
mkdir -p "$T/src" "$T/textfile"
head -c 1048576 /dev/urandom >"$T/src/customers.csv"
chmod -R a+rX "$T"
cat >"$T/exfilmon.yaml" <<YAML
sources:
  paths: ["$T/src"]
egress:
  allow: ["127.0.0.0/8"]
output:
  alerts: $T/log/alerts.jsonl
  evidence: $T/evidence
  syslog: "off"
  metrics: $T/textfile/exfilmon.prom
agent:
  state_dir: $T/state
  poll_interval: 200ms
YAML
status() { "$BUILD/exfilctl" status --file "$T/status.json" "$@"; }

daemon_start "$T/exfilmon.yaml"
wait_until 30 status >/dev/null 2>&1

status >"$T/status.txt" 2>&1
check "status: healthy daemon exits 0" "$?" 0
check "status: version shown" "$(grep -c "^daemon: *running (pid $DAEMON, version $VERSION," "$T/status.txt")" 1
check "status --json: version, healthy" \
	"$(status --json | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["version"], d["healthy"], d["problem"])')" \
	"$VERSION True None"

echo "metrics file"
in_session 1001 "$T/reader.info" cat "$T/src/customers.csv" >/dev/null
prom() { # NAME{LABELS}: its value in the metrics file
	awk -v n="$1" '$1 == n { print $2 }' "$T/textfile/exfilmon.prom"
}
wait_until 30 sh -c "awk '\$1 == \"exfilmon_activities_total\" && \$2 > 0' '$T/textfile/exfilmon.prom' | grep -q ."
check_ge "metrics: events counted" "$(prom exfilmon_events_total)" 1
check_ge "metrics: activity counted" "$(prom exfilmon_activities_total)" 1
check "metrics: flow map capacity" "$(prom 'exfilmon_map_capacity{map="flows"}')" 65536
# One line per drop reason of the ABI (enum xm_drop, up to XM_DROP_MAX).
n_drops=$(sed -n '/^enum xm_drop {/,/XM_DROP_MAX/p' "$ROOT/include/abi.h" | grep -v XM_DROP_MAX | grep -c '^\s*XM_DROP_[A-Z_]*\( = 0\)\?,')
check "metrics: drops by reason" "$(grep -c '^exfilmon_drops_total{reason="[a-z_]*"} [0-9]*$' "$T/textfile/exfilmon.prom")" "$n_drops"
check "metrics: gaps" "$(prom exfilmon_gaps_total | grep -c '^[0-9]*$')" 1
wait_until 30 sh -c "awk '\$1 == \"exfilmon_evidence_bytes\" && \$2 > 0' '$T/textfile/exfilmon.prom' | grep -q ."
check_ge "metrics: evidence bytes" "$(prom exfilmon_evidence_bytes)" 1
check "metrics: info with version" "$(grep -c "^exfilmon_info{version=\"$VERSION\"," "$T/textfile/exfilmon.prom")" 1
t1=$(prom exfilmon_last_update_seconds)
wait_until 5 sh -c "[ \"\$(awk '\$1 == \"exfilmon_last_update_seconds\" { print \$2 }' '$T/textfile/exfilmon.prom')\" != '$t1' ]"
check "metrics: rewritten every tick" "$?" 0
check "metrics: no temp file left behind" "$(ls "$T/textfile" | tr '\n' ' ')" "exfilmon.prom "

"$NODE_EXPORTER" --web.listen-address=127.0.0.1:16501 --collector.disable-defaults \
	--collector.textfile --collector.textfile.directory="$T/textfile" >"$T/ne.log" 2>&1 &
NE=$!
itest_on_exit "kill $NE; wait $NE"
wait_until 20 curl -sf -o "$T/scrape.txt" http://127.0.0.1:16501/metrics || { cat "$T/ne.log"; die "node_exporter"; }
check "node_exporter: textfile parsed without error" "$(awk '$1 == "node_textfile_scrape_error" { print $2 }' "$T/scrape.txt")" 0
check_ge "node_exporter: exports exfilmon_events_total" "$(awk '$1 == "exfilmon_events_total" { print $2 }' "$T/scrape.txt")" 1
check "node_exporter: exports the flow map fill" "$(grep -c '^exfilmon_map_entries{map="flows"} ' "$T/scrape.txt")" 1

echo "logrotate: SIGHUP and SIGUSR1 reopen alerts.jsonl with an unchanged config"
alerts_fd_target() { readlink "/proc/$DAEMON/fd/$(ls -l /proc/$DAEMON/fd | awk '/alerts.jsonl/ { print $9; exit }')"; }
check "alerts file open" "$(alerts_fd_target)" "$T/log/alerts.jsonl"
for sig in HUP USR1; do
	mv "$T/log/alerts.jsonl" "$T/log/alerts.jsonl.1"
	check "SIG$sig: before, the daemon holds the rotated file" "$(alerts_fd_target)" "$T/log/alerts.jsonl.1"
	kill -$sig $DAEMON
	wait_until 10 test -e "$T/log/alerts.jsonl"
	wait_until 10 sh -c "[ \"\$(readlink /proc/$DAEMON/fd/* 2>/dev/null | grep -c 'alerts.jsonl\$')\" = 1 ]"
	check "SIG$sig: the daemon writes to a new alerts.jsonl" "$(alerts_fd_target)" "$T/log/alerts.jsonl"
	check "SIG$sig: nothing holds the rotated file" "$(readlink /proc/$DAEMON/fd/* | grep -c 'alerts.jsonl.1')" 0
	rm -f "$T/log/alerts.jsonl.1"
done
check "still healthy after the reopens" "$(status >/dev/null 2>&1; echo $?)" 0
check "config not reloaded (unchanged)" "$(grep -c 'config: reloaded' "$T/daemon.log")" 0

echo "a stuck main loop, a dead daemon, an ancient file"
kill -STOP $DAEMON
sleep 2.5
status >"$T/status.txt" 2>"$T/status.err"
check "stopped loop: status exits 1" "$?" 1
check "stopped loop: says stale" "$(grep -c 'NOT HEALTHY: status is .* old, more than three ticks' "$T/status.err")" 1
kill -CONT $DAEMON
wait_until 10 status >/dev/null 2>&1
check "resumed: healthy again" "$?" 0
cp "$T/status.json" "$T/status.saved"
kill -KILL $DAEMON
wait $DAEMON 2>/dev/null
cp "$T/status.saved" "$T/status.json"
status >"$T/status.txt" 2>"$T/status.err"
check "killed daemon, fresh file: status exits 1" "$?" 1
check "killed daemon: says gone" "$(grep -c 'NOT HEALTHY: daemon pid [0-9]* is gone' "$T/status.err")" 1
check "killed daemon: not 'running'" "$(grep -c 'daemon: *running' "$T/status.txt")" 0
python3 - "$T/status.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1])); d["updated_ns"] = 0; d["programs_attached"] = 0; d["pid"] = 1
json.dump(d, open(sys.argv[1], "w"))
PY
status >/dev/null 2>"$T/status.err"
check "56-year-old file naming pid 1 (not exfilmond): exits 1" "$?" 1
check "missing status file: exits 1" "$("$BUILD/exfilctl" status --file "$T/none.json" >/dev/null 2>&1; echo $?)" 1
itest_finish
