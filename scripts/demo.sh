#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# exfilmon end to end on the built-in default config: installs what is missing, builds,
# starts the daemon, and plays the case that started it all. A support agent (alice)
# logs in, pulls every customer record from the internal database on 127.0.0.2 with psql,
# compresses it and uploads it to a drop site on 127.0.0.77; a colleague (carol) does
# ordinary single-customer lookups. Then it reads the alerts and the evidence the way an
# investigator would. Everything stays on loopback; the database and drop site are
# stopped at the end; the evidence stays in /var/lib/exfilmon/evidence for exploring.
set -euo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "demo: run as root (it loads BPF programs)" >&2; exit 1; }

scripts/install-deps.sh demo
make -s
. tests/lib/itest.sh
. tests/lib/scenario.sh
set +u

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

say "Setting up: customer DB on 127.0.0.2:5432, export share /srv/crm-exports, drop site 127.0.0.77:8080"
SCENARIO_ROWS=600000 scenario_setup "$T/work" /srv/crm-exports

say "Starting exfilmond with the built-in default config"
rm -f /var/log/exfilmon/alerts.jsonl
build/exfilmond --stderr --status "$T/status.json" 2>"$T/daemon.log" &
DAEMON=$!
itest_on_exit "kill $DAEMON"
wait_until 60 test -s "$T/status.json" || { cat "$T/daemon.log"; exit 1; }
build/exfilctl status --file "$T/status.json"

say "carol (uid 1103) looks up ten customers for callers"
scenario_benign_carol "$T/carol.info"
say "alice (uid 1101) dumps the customers table, compresses it, uploads it to 127.0.0.77"
scenario_exfil_alice "$T/alice.info"
sleep 3
kill -TERM $DAEMON; wait $DAEMON || true

A=$(info_session "$T/alice.info")
say "Alerts (/var/log/exfilmon/alerts.jsonl)"
build/exfilctl alerts
say "Sessions in the evidence"
build/exfilctl sessions
say "Timeline of alice's session $A"
# Into a file first: head closing the pipe early would end exfilctl (and this script,
# under pipefail) with SIGPIPE.
build/exfilctl timeline --session "$A" >"$T/timeline.txt"
head -40 "$T/timeline.txt"
echo "... $(wc -l <"$T/timeline.txt") lines in all: build/exfilctl timeline --session $A"
say "Verifying the evidence chain"
build/exfilctl verify
build/exfilctl report --session "$A" -o /var/tmp/exfilmon-demo-report.html
say "Incident report: /var/tmp/exfilmon-demo-report.html"
n=$(python3 tests/lib/alerts.py /var/log/exfilmon/alerts.jsonl count --rule exfiltration --user alice)
if [ "$n" -ge 1 ]; then
	echo "demo: DETECTED: alice's exfiltration raised $n exfiltration alert(s); carol raised" \
		"$(python3 tests/lib/alerts.py /var/log/exfilmon/alerts.jsonl count --user carol)."
else
	echo "demo: no exfiltration alert for alice: something is wrong (see $T/daemon.log)" >&2
	cat "$T/daemon.log" >&2
	exit 1
fi
