#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# A burst that overflows a deliberately small ring buffer: byte totals stay exact (they
# live in maps, not in the ring), and every lost record is accounted for by gap records
# that name the session: opens seen + opens lost = opens made.
. "$(dirname "$0")/../lib/itest.sh"

N=3000
mkdir -p "$T/src"
# One process writes all the files: a process per file is minutes under emulation.
head -c $((N * 4096)) /dev/urandom | split -b 4096 -d -a 4 --additional-suffix=.csv - "$T/src/f"
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
# Phase one reads 10 files with the consumer running; then the consumer is stopped for
# the rest so the ring overflows on any machine, however fast the reader. The kernel
# side keeps counting bytes and losses while it is stopped.
mkdir -m 1777 "$T/sync"
# Phase one paces its opens: with a 4 KiB ring a consumer that is briefly off the CPU
# (a busy CI machine) could otherwise lose one of them before the stall even begins.
in_session 1001 "$T/burst.info" sh -c "
	for f in \$(ls $T/src | sed -n '1,10s|^|$T/src/|p'); do cat \$f >/dev/null; sleep 0.05; done
	touch $T/sync/phase1
	while [ ! -e $T/sync/go ]; do sleep 0.05; done
	ls $T/src | tail -n +11 | sed 's|^|$T/src/|' | xargs -P 16 -n 8 cat >/dev/null" &
BURST=$!
wait_until 30 test -e "$T/sync/phase1" || die "phase one did not finish"
sleep 1
kill -STOP "$TRACE_PID"
touch "$T/sync/go"
wait "$BURST" || die "burst failed"
kill -CONT "$TRACE_PID"
sleep 0.5
trace_stop

S=$(info_session "$T/burst.info")
check "bytes exact despite the full ring" "$(events sum "$T/ev.json" --kind source_file \
	--session "$S")" $((N * 4096))
lost=$(events lost "$T/ev.json" --session "$S" --what open)
seen=$(events count "$T/ev.json" --event open --session "$S")
check_ge "opens read before the stall are seen" "$seen" 10
check_ge "gap records report lost opens" "$lost" 1
check "opens seen + opens lost = opens made" $((seen + lost)) $N
itest_finish
