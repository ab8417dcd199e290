#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Issue 11 A2: flows of processes whose exit records were lost (a full ring) are still
# forgotten. The daemon is stopped while 200 short-lived readers of a watched file come
# and go, with a 4 KiB ring: their exit records cannot all fit. After it resumes, the
# flow map must empty (the sweep finds them gone in /proc) and every byte is reported.
. "$(dirname "$0")/../lib/itest.sh"

N=200
mkdir -p "$T/src"
head -c 65536 /dev/urandom >"$T/src/data.csv"
chmod -R a+rX "$T"
cat >"$T/exfilmon.yaml" <<YAML
sources:
  paths: ["$T/src"]
egress:
  allow: ["127.0.0.0/8"]
$(itest_config_tail)
  ring_buffer: 4KiB
YAML
daemon_start "$T/exfilmon.yaml"
status() { python3 -c "import json,sys;d=json.load(open('$T/status.json'));print($1)"; }

kill -STOP $DAEMON
in_session 1001 "$T/readers.info" bash -c "
	for i in \$(seq $N); do cat $T/src/data.csv >/dev/null; done" || die "readers"
kill -CONT $DAEMON
S=$(info_session "$T/readers.info")
lost_exits() { status "d['lost_records']"; }
wait_true 10 '[ "$(lost_exits)" -gt 0 ]'
check_ge "exit and exec records were lost (the attack happened)" "$(lost_exits)" 1
flows_empty() { [ "$(status "d['flows']")" = 0 ]; }
wait_until 15 flows_empty
check "flow map empty once the readers are gone" "$(status "d['flows']")" 0
kill -TERM $DAEMON
wait $DAEMON
check "daemon exit status" "$?" 0
got=$("$BUILD/exfilctl" export --dir "$T/evidence" \
	--session "$S" 2>/dev/null | python3 -c "
import json,sys
n=0
for l in sys.stdin:
    try: r=json.loads(l)
    except ValueError: continue
    d=r.get('data',r)
    if d.get('kind')=='source_file': n+=d.get('bytes',0)
print(n)")
check "every byte read is in the evidence" "$got" $((N * 65536))
itest_finish
