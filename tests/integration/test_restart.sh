#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# A daemon restart neither loses nor doubles counts: one process reads a watched file,
# the daemon restarts, the same process reads it again; the evidence store then holds
# exactly two files' worth of source bytes for that session.
. "$(dirname "$0")/../lib/itest.sh"

SIZE=10485760
mkdir -p "$T/src"
head -c $SIZE /dev/urandom >"$T/src/customers.csv"
mkdir -p "$T/flags" && chmod 1777 "$T/flags"
chmod -R a+rX "$T"
cat >"$T/exfilmon.yaml" <<YAML
sources:
  paths: ["$T/src"]
egress:
  allow: ["127.0.0.0/8"]
$(itest_config_tail)
YAML

start_daemon() {
	rm -f "$T/status.json"
	"$BUILD/exfilmond" -c "$T/exfilmon.yaml" --status "$T/status.json" --stderr 2>>"$T/daemon.log" &
	DAEMON=$!
	wait_until 60 test -s "$T/status.json" || { cat "$T/daemon.log"; die "daemon did not start"; }
}
stop_daemon() { kill -TERM $DAEMON; wait $DAEMON; }
itest_on_exit 'kill $DAEMON'

start_daemon
in_session 1001 "$T/reader.info" python3 -c "
import os, time
def slurp():
    with open('$T/src/customers.csv', 'rb') as f:
        while f.read(1 << 20):
            pass
slurp()
open('$T/flags/first-done', 'w').close()
while not os.path.exists('$T/flags/go'):
    time.sleep(0.05)
slurp()
" &
READER=$!
wait_until 30 test -e "$T/flags/first-done" || die "reader did not start"
stop_daemon
check "first daemon stopped cleanly" "$?" 0
start_daemon
touch "$T/flags/go"
wait $READER
stop_daemon

S=$(info_session "$T/reader.info")
"$BUILD/exfilctl" export --dir "$T/evidence" --format json >"$T/export.jsonl" ||
	die "export failed"
total=$(python3 - "$T/export.jsonl" "$S" <<'PY'
import json, sys
total = 0
for line in open(sys.argv[1]):
    if not line.strip():
        continue
    r = json.loads(line)
    d = r.get("data", r) if isinstance(r.get("data"), dict) else r
    if (r.get("type") or d.get("type")) != "activity":
        continue
    if str(d.get("session_id")) == sys.argv[2] and d.get("kind") == "source_file":
        total += int(d.get("bytes", 0))
print(total)
PY
)
check "bytes across a restart: not lost, not doubled" "$total" $((2 * SIZE))
"$BUILD/exfilctl" verify --dir "$T/evidence" >/dev/null 2>&1
check "evidence spanning two daemon runs verifies" "$?" 0
itest_finish
