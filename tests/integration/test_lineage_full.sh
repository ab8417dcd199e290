#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# A full process-label map must not make data clean (docs/detection.md, Lineage, Limits).
# The map holds 65536 live processes; an insider who keeps that many labelled processes
# alive, or a busy machine, fills it. Here root fills it with bpftool (entries for pids
# that cannot exist, so no exit ever frees them), then: alice copies an export to the
# shared folder and bob uploads it (a hand-off), and carol runs cat | gzip | curl. Every
# process involved gets its session's fallback label; what they write must still be
# derived, and both uploads must raise derived_exfiltration naming the origin, flagged
# origin_unknown. Before the fallback label was also used for writes, alice's copy left
# the shared file unlabelled and bob's upload went unseen. Last, a restart must drop the
# labels of pids that are gone.
. "$(dirname "$0")/../lib/itest.sh"
. "$LIB/lineage_fixture.sh"

LABELS=$EXFILMON_PIN_DIR/labels
[ -e "$LABELS" ] || die "no pinned labels map at $LABELS"
MAX=$(bpftool -j map show pinned "$LABELS" | python3 -c "import json,sys; print(json.load(sys.stdin)['max_entries'])")
echo "filling the process-label map ($MAX entries) with bpftool"
# Keys from 0x7f000000 up: above PID_MAX_LIMIT (4194304), never a real process.
python3 -c "
zero = ' '.join(['00'] * 80)
for i in range($MAX):
    k = i.to_bytes(3, 'little') + b'\x7f'
    print('map update pinned $LABELS key hex %s value hex %s noexist' % (k.hex(' '), zero))
" >"$T/fill.batch"
# The batch stops at the first update the full map refuses (or after the last one).
bpftool batch file "$T/fill.batch" >"$T/fill.out" 2>&1
filled=$(bpftool -j map dump pinned "$LABELS" | python3 -c "import json,sys; print(len(json.load(sys.stdin)))")
check "the label map is full" "$filled" "$MAX"
check "one more label is refused" \
	"$(bpftool map update pinned "$LABELS" key hex ff ff ff 7e value hex $(printf '00 %.0s' $(seq 80)) \
		noexist >/dev/null 2>&1 && echo accepted || echo refused)" refused

echo "hand-off under a full map: alice copies an export to the shared folder, bob uploads it"
handoff
check "bob: derived exfiltration naming alice's session, origin flagged unknown" \
	"$(derived --user bob --session "$B" --origin-session "$A" --origin-user alice \
		--hand-off true --origin-unknown true)" 1

echo "pipeline under a full map: carol runs cat | gzip | curl"
pipeline
check "carol: derived exfiltration, her own session, origin flagged unknown" \
	"$(derived --user carol --session "$C" --origin-session "$C" --origin-unknown true)" 1

sleep 1
check "refused label creations are counted" "$(python3 -c "
import json; print(json.load(open('$T/status.json'))['drops']['label_full'] > 0)")" True
kill -TERM $DAEMON
wait $DAEMON
check "daemon exit status" "$?" 0

# The filler entries stand for processes that exited while no agent ran (the exit hook
# deletes a label only while the programs run): the next start must drop them, or a
# reused pid would inherit a stranger's label.
echo "restart over the pinned maps: labels of processes that are gone are dropped"
fillers() { bpftool -j map dump pinned "$LABELS" | python3 -c "
import json, sys
print(sum(1 for e in json.load(sys.stdin) if int(e['key'][3], 16) == 0x7f))"; }
check "before the restart the filler labels are there" "$(fillers)" "$MAX"
start_daemon
check "after the restart none is left" "$(fillers)" 0
check "the start says so" \
	"$(grep -c "$MAX labels of processes that exited while no agent ran dropped" "$T/daemon.log")" 1
# The counts are recounted at the start (the fillers with them) and counted down as the
# fillers go: the labels left are all counted.
labels_counted "after the restart"
kill -TERM $DAEMON
wait $DAEMON
check "daemon exit status after the restart" "$?" 0
"$BUILD/exfilctl" verify --dir "$T/evidence" >/dev/null 2>&1
check "evidence verifies" "$?" 0
[ "$FAIL" = 0 ] || { echo "alerts:"; cat "$T/alerts.jsonl"; tail -20 "$T/daemon.log"; }
itest_finish
