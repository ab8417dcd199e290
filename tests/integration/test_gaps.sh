#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# A burst that overflows a deliberately small ring buffer: byte totals stay exact (they
# live in maps, not in the ring), and every lost record is accounted for by gap records
# that name the session: opens seen + opens lost = opens made.
. "$(dirname "$0")/../lib/itest.sh"

N=3000
mkdir -p "$T/src"
for i in $(seq 1 $N); do head -c 4096 /dev/urandom >"$T/src/f$i.csv"; done
chmod -R a+rX "$T"
cat >"$T/exfilmon.yaml" <<YAML
sources:
  paths: ["$T/src"]
egress:
  allow: ["127.0.0.0/8"]
agent:
  ring_buffer: 4KiB
YAML
trace_start "$T/exfilmon.yaml" "$T/ev.json"
in_session 1001 "$T/burst.info" sh -c \
	"ls $T/src | sed 's|^|$T/src/|' | xargs -P 16 -n 8 cat >/dev/null" || die "burst failed"
sleep 0.5
trace_stop

S=$(info_session "$T/burst.info")
check "bytes exact despite the full ring" "$(events sum "$T/ev.json" --kind source_file \
	--session "$S")" $((N * 4096))
lost=$(events lost "$T/ev.json" --session "$S" --what open)
seen=$(events count "$T/ev.json" --event open --session "$S")
check_ge "gap records report lost opens" "$lost" 1
check "opens seen + opens lost = opens made" $((seen + lost)) $N
itest_finish
