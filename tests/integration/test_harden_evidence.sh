#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Issue 11 C16: the investigator is not misled by an edited store.
#  - an edited .idx (a session's id replaced in every line) must not hide the session
#    from timeline or export: the block hash covers the session list, so the lie is
#    caught and the blocks are read in full (with a warning);
#  - the store cut back at a block boundary verifies as a valid chain, but not against
#    the last chain head syslog received (verify --expect);
#  - a heartbeat block is sealed every evidence.heartbeat, so a frozen agent shows as a
#    silence in verify.
. "$(dirname "$0")/../lib/itest.sh"

mkdir -p "$T/src"
head -c 1048576 /dev/urandom >"$T/src/customers.csv"
chmod -R a+rX "$T"
python3 "$LIB/syslog_sink.py" --port 15594 --out "$T/syslog.txt" >"$T/syslog.ready" 2>&1 &
itest_on_exit "kill $!"
wait_until 10 grep -q ready "$T/syslog.ready" || die "syslog sink"
cat >"$T/exfilmon.yaml" <<YAML
sources:
  paths: ["$T/src"]
egress:
  allow: ["127.0.0.0/8"]
output:
  alerts: $T/alerts.jsonl
  evidence: $T/evidence
  syslog: tcp://127.0.0.1:15594
evidence:
  seal_interval: 500ms
  heartbeat: 1s
agent:
  state_dir: $T/state
  poll_interval: 200ms
YAML
daemon_start "$T/exfilmon.yaml"
in_session 1001 "$T/reader.info" cat "$T/src/customers.csv" >/dev/null || die "reader"
S=$(info_session "$T/reader.info")
sleep 2
kill -STOP $DAEMON   # a frozen agent: no block for 4 s
sleep 4
kill -CONT $DAEMON
sleep 2.5
kill -TERM $DAEMON
wait $DAEMON
check "daemon exit status" "$?" 0

json() { python3 -c "import json,sys;print(json.load(sys.stdin)$1)"; }
"$BUILD/exfilctl" verify --dir "$T/evidence" --json >"$T/verify.json"
check "store verifies" "$(json "['intact']" <"$T/verify.json")" True
check "heartbeat records were sealed" "$("$BUILD/exfilctl" export --dir "$T/evidence" |
	grep -c '"heartbeat"' | awk '{print ($1 >= 3)}')" 1
check_ge "the frozen agent is a silence of 3 s or more" \
	"$(json ".get('silence_ns', 0) // 1000000000" <"$T/verify.json")" 3

reads() { # DIR: bytes of the session's source reads as export and timeline show them
	"$BUILD/exfilctl" export --dir "$1" --session "$S" 2>/dev/null | grep -c '"source_file"'
}
check_ge "export shows the session's reads" "$(reads "$T/evidence")" 1

echo "an edited index"
cp -a "$T/evidence" "$T/edited"
# The session id replaced by another in every index line: the session's blocks would
# be skipped by a query that trusted the index.
sed -i -E "s/([ ,])$S(,|\$)/\\1999999\\2/" "$T"/edited/*.idx
check "the index no longer names the session" "$(cat "$T"/edited/*.idx | grep -cE "[ ,]$S(,|\$)")" 0
check_ge "export still shows the session" "$(reads "$T/edited")" 1
"$BUILD/exfilctl" timeline --dir "$T/edited" --session "$S" >"$T/timeline.txt" 2>"$T/timeline.err"
check_ge "timeline still shows the read" "$(grep -c customers.csv "$T/timeline.txt")" 1
check_ge "timeline warns about the index" "$(grep -c 'index was altered' "$T/timeline.err")" 1

echo "the store cut back at a block boundary"
cp -a "$T/evidence" "$T/cut"
last=$(ls "$T"/cut/seg-*.xev | tail -1)
idx=${last%.xev}.idx
off=$(tail -1 "$idx" | cut -d' ' -f2)
truncate -s "$off" "$last"
sed -i '$d' "$idx"
"$BUILD/exfilctl" verify --dir "$T/cut" >/dev/null 2>&1
check "the cut store is a valid chain by itself" "$?" 0
# The last chain head the syslog sink received, as SEGMENT:BLOCK:HASH.
HEAD=$(grep -o 'evidence sealed segment=[^ ]* block=[0-9]* head=[0-9a-f]*' "$T/syslog.txt" |
	tail -1 | sed -E 's/.*segment=([^ ]*) block=([0-9]*) head=([0-9a-f]*)/\1:\2:\3/')
"$BUILD/exfilctl" verify --dir "$T/cut" --expect "$HEAD" >"$T/cut.txt" 2>&1
check "verify against the last head sent off the box fails" "$?" 1
check "and says it was cut" "$(grep -c 'cut off' "$T/cut.txt")" 1
"$BUILD/exfilctl" verify --dir "$T/evidence" --expect "$HEAD" >/dev/null 2>&1
check "the whole store passes against the same head" "$?" 0
itest_finish
