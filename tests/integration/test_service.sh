#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The daemon as systemd sees it, against the real BPF programs: READY=1 only once the
# sensors are attached (and never for a config that cannot be used, which exits 78),
# WATCHDOG=1 pings from the main loop that stop when the loop stops, RELOADING=1/READY=1
# around SIGHUP, STOPPING=1 at SIGTERM (a notify socket of our own stands in for systemd).
# Then the unit's SystemCallFilter: a traced run (start, reads, reload, reopen, stop)
# may make no system call the filter (as systemd-analyze expands it) would refuse; and
# when systemd is PID 1, the daemon runs under systemd-run with the unit's filter.
. "$(dirname "$0")/../lib/itest.sh"

UNIT=$ROOT/scripts/exfilmond.service
mkdir -p "$T/src"
head -c 1048576 /dev/urandom >"$T/src/customers.csv"
chmod -R a+rX "$T"
write_config() { # FILE
	cat >"$1" <<YAML
sources:
  paths: ["$T/src"]
egress:
  allow: ["127.0.0.0/8"]
output:
  alerts: $T/log/alerts.jsonl
  evidence: $T/evidence
  syslog: tcp://localhost:16530
  metrics: $T/metrics.prom
agent:
  state_dir: $T/state
  poll_interval: 200ms
YAML
}
write_config "$T/exfilmon.yaml"
python3 "$LIB/notify_sink.py" "$T/notify.sock" "$T/notify.txt" >"$T/notify.ready" &
itest_on_exit "kill $!"
wait_until 10 grep -q ready "$T/notify.ready" || die "notify sink"
notes() { cut -d' ' -f2- "$T/notify.txt" 2>/dev/null; }
count() { notes | grep -c "$1" || true; }

echo "a config that cannot be used: exit 78, never READY"
printf 'detect:\n  window: ten minutes\n' >"$T/bad.yaml"
NOTIFY_SOCKET=$T/notify.sock "$BUILD/exfilmond" -c "$T/bad.yaml" --status "$T/bad.json" --stderr 2>"$T/bad.log"
check "bad config: exit 78" "$?" 78
NOTIFY_SOCKET=$T/notify.sock "$BUILD/exfilmond" -c "$T/missing.yaml" --status "$T/bad.json" --stderr 2>>"$T/bad.log"
check "missing config: exit 78" "$?" 78
sleep 0.2
check "bad config: no READY" "$(count READY=1)" 0

echo "notify protocol, traced (every system call recorded)"
NOTIFY_SOCKET=$T/notify.sock WATCHDOG_USEC=1000000 strace -f -qq -o "$T/trace.txt" \
	"$BUILD/exfilmond" -c "$T/exfilmon.yaml" --status "$T/status.json" --stderr --log-level info \
	2>"$T/daemon.log" &
TRACED=$!
itest_on_exit "kill $TRACED; wait $TRACED"
wait_until 90 sh -c "grep -q 'READY=1' '$T/notify.txt' 2>/dev/null" || { cat "$T/daemon.log"; die "no READY=1"; }
DAEMON=$(python3 -c "import json;print(json.load(open('$T/status.json'))['pid'])" 2>/dev/null ||
	pgrep -P "$TRACED" | head -1)
check "READY=1 after the sensors attached" \
	"$(grep -c 'exfilmond: running' "$T/daemon.log"):$(python3 -c "import json;print(json.load(open('$T/status.json'))['programs_attached'] > 0)" 2>/dev/null)" "1:True"
check "READY carries a STATUS" "$(notes | grep -c '^READY=1|STATUS=.')" 1
wait_until 10 sh -c "[ \$(grep -c 'WATCHDOG=1' '$T/notify.txt') -ge 3 ]"
check "watchdog pinged by the running loop" "$?" 0
in_session 1001 "$T/reader.info" cat "$T/src/customers.csv" >/dev/null
kill -HUP "$DAEMON"
wait_until 10 sh -c "grep -q 'RELOADING=1' '$T/notify.txt' && [ \$(grep -c 'READY=1' '$T/notify.txt') -ge 2 ]"
check "SIGHUP: RELOADING=1, then READY=1" "$(notes | grep -E '^(RELOADING|READY)=1' | cut -c1-11 | tr '\n' ,)" "READY=1|STA,RELOADING=1,READY=1|STA,"
kill -USR1 "$DAEMON"
sleep 0.5
kill -STOP "$DAEMON"
before=$(count WATCHDOG=1)
sleep 1.5
check "a stopped loop stops the pings" "$(count WATCHDOG=1)" "$before"
kill -CONT "$DAEMON"
wait_until 10 sh -c "[ \$(grep -c 'WATCHDOG=1' '$T/notify.txt') -gt $before ]"
check "pings resume with the loop" "$?" 0
kill -TERM "$DAEMON"
wait "$TRACED"
check "SIGTERM: clean exit" "$?" 0
check "SIGTERM: STOPPING=1" "$(count STOPPING=1)" 1

sed "s|/usr/sbin/exfilmond|$BUILD/exfilmond|" "$UNIT" >"$T/exfilmond.service"
check "systemd-analyze verify: the unit is valid" \
	"$(systemd-analyze verify --man=no "$T/exfilmond.service" >"$T/verify.txt" 2>&1; echo $?)" 0
check "the unit asks for notify, a watchdog and no restart on exit 78" \
	"$(grep -cE '^(Type=notify|WatchdogSec=[0-9]+s|RestartPreventExitStatus=78)$' "$UNIT")" 3

echo "SystemCallFilter"
filter=$(sed -n 's/^SystemCallFilter=//p' "$UNIT")
[ -n "$filter" ] || die "the unit has no SystemCallFilter"
# Expands @groups recursively as systemd does, into one system call name per line.
expand_filter() {
	local todo=("$@") seen=" " item
	while [ ${#todo[@]} -gt 0 ]; do
		item=${todo[0]}; todo=("${todo[@]:1}")
		case "$seen" in *" $item "*) continue ;; esac
		seen="$seen$item "
		if [ "${item#@}" != "$item" ]; then
			mapfile -t -O "${#todo[@]}" todo < <(systemd-analyze syscall-filter "$item" |
				sed -n 's/^ \{4\}\([-@a-z0-9_]*\)$/\1/p')
		else
			echo "$item"
		fi
	done
}
expand_filter $filter | sort -u >"$T/allowed.txt"
check_ge "filter expands to system calls" "$(wc -l <"$T/allowed.txt")" 100
# strace lines: "PID name(args...) = ret"; "<... name resumed>" repeats a name already seen.
awk '$1 ~ /^[0-9]+$/ && $2 !~ /^(<|\+\+\+|---)/ { sub(/\(.*/, "", $2); print $2 }' "$T/trace.txt" |
	sort -u >"$T/used.txt"
check_ge "traced run made system calls" "$(wc -l <"$T/used.txt")" 30
check "BPF calls were among them" "$(grep -cx bpf "$T/used.txt")" 1
check "every system call of the run is allowed by the unit's filter" \
	"$(comm -23 "$T/used.txt" "$T/allowed.txt" | tr '\n' ' ')" ""

if [ "$(ps -p 1 -o comm=)" = systemd ]; then
	echo "systemd is PID 1: the daemon under systemd-run with the unit's filter"
	props=()
	while IFS= read -r line; do props+=(-p "$line"); done < <(grep -E '^(SystemCallFilter|SystemCallErrorNumber|SystemCallArchitectures)=' "$UNIT")
	timeout 60 systemd-run --wait --quiet -p Type=notify -p RuntimeMaxSec=8 "${props[@]}" \
		"$BUILD/exfilmond" -c "$T/exfilmon.yaml" --status "$T/run.json" --stderr
	rc=$?
	check "under systemd-run with the filter: ran until stopped (RuntimeMaxSec), no seccomp kill" \
		"$([ -s "$T/run.json" ] && echo started):$rc" "started:0"
else
	echo "  (PID 1 is $(ps -p 1 -o comm=), not systemd: the filter is checked against the traced run only)"
fi
itest_finish
