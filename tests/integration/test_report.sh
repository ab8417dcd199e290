#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The investigator's path on a real store: the daemon records a session that collects
# and uploads; the store is copied; exfilctl verify/sessions/report run on the copy; the
# HTML report is rendered in headless Chromium and must show the right user and figures.
# Then one byte of the copy is flipped and verify must name the altered block.
. "$(dirname "$0")/../lib/itest.sh"

SIZE=8388608
mkdir -p "$T/src" && head -c $SIZE /dev/urandom >"$T/src/export.csv"
chmod -R a+rX "$T"
ensure_user alice 1101
cat >"$T/exfilmon.yaml" <<YAML
sources:
  paths: ["$T/src"]
egress:
  allow: ["127.0.0.1/32"]
detect:
  bulk_read: 4MiB
  exfil: 1MiB
output:
  alerts: $T/alerts.jsonl
  evidence: $T/evidence
  syslog: "off"
agent:
  state_dir: $T/state
  poll_interval: 200ms
YAML
python3 "$LIB/dropsite.py" --count "$T/drop.count" >"$T/drop.out" 2>&1 &
itest_on_exit "kill $!"
wait_until 20 grep -q ready "$T/drop.out" || die "drop site"
"$BUILD/exfilmond" -c "$T/exfilmon.yaml" --status "$T/status.json" --stderr 2>"$T/daemon.log" &
DAEMON=$!
itest_on_exit "kill $DAEMON"
wait_until 60 test -s "$T/status.json" || { cat "$T/daemon.log"; die "daemon did not start"; }
in_session 1101 "$T/s.info" sh -c "curl -sS -T $T/src/export.csv http://127.0.0.77:8080/x -o /dev/null" ||
	die "workload"
sleep 1
kill -TERM $DAEMON; wait $DAEMON
S=$(info_session "$T/s.info")

cp -a "$T/evidence" "$T/copy"
"$BUILD/exfilctl" verify --dir "$T/copy" >/dev/null
check "copied store verifies" "$?" 0
"$BUILD/exfilctl" report --dir "$T/copy" --session "$S" -o "$T/report.html"
check "report written" "$?" 0
grep -qE '(src|href)="(https?:)?//' "$T/report.html"
check "report has no external assets" "$?" 1

command -v chromium >/dev/null || die "chromium missing (scripts/install-deps.sh test installs it)"
timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
	--disable-component-update --disable-sync --no-first-run --disable-quic \
	--user-data-dir="$T/chrome" --dump-dom "file://$T/report.html" >"$T/dom.html" 2>"$T/chrome.log" ||
	{ tail -5 "$T/chrome.log"; die "chromium could not render the report"; }
text() { python3 - "$T/dom.html" "$1" <<'PY'
import html.parser, sys
class P(html.parser.HTMLParser):
    def __init__(s, want):
        super().__init__(); s.want = want; s.depth = 0; s.out = []
    def handle_starttag(s, tag, attrs):
        if s.depth: s.depth += 1
        elif dict(attrs).get("id") == s.want: s.depth = 1
    def handle_endtag(s, tag):
        if s.depth: s.depth -= 1
    def handle_data(s, d):
        if s.depth: s.out.append(d)
p = P(sys.argv[2]); p.feed(open(sys.argv[1]).read()); print("".join(p.out).strip())
PY
}
check "rendered report names the user" "$(text user)" alice
check "rendered report shows bytes collected" "$(text collected)" $SIZE
# Sent out = the upload body plus its HTTP request head.
sent=$(text sent)
check "rendered report shows bytes sent out" "$(( sent >= SIZE && sent < SIZE + 4096 ))" 1
check "rendered report shows the verification" "$(text verify | cut -d: -f1)" intact
check_ge "rendered report lists the exfiltration alert" "$(text alerts | grep -o exfiltration | wc -l)" 1
check "rendered chart has both curves" "$(grep -o '<polyline' "$T/dom.html" | wc -l)" 2

# One flipped bit in the copy is caught and located.
seg=$(ls "$T/copy"/seg-*.xev | head -1)
python3 - "$seg" <<'PY'
import sys
p = sys.argv[1]; b = bytearray(open(p, "rb").read()); b[len(b) // 2] ^= 0x10
open(p, "wb").write(b)
PY
"$BUILD/exfilctl" verify --dir "$T/copy" >"$T/verify.txt"
check "flipped bit fails verify" "$?" 1
check "verify names the altered block" "$(grep -c 'NOT INTACT: seg-.*block [0-9]* at offset' "$T/verify.txt")" 1
"$BUILD/exfilctl" verify --dir "$T/nonexistent" 2>/dev/null
check "missing directory is an error, not a crash" "$?" 1
"$BUILD/exfilctl" report --dir "$T/copy" 2>/dev/null
check "bad arguments exit 2" "$?" 2
itest_finish
