#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Issue 11 A3: watch-map exhaustion. 270,000 files in a sync folder (more than the sink
# map holds) must neither keep the daemon from starting nor crowd out sources: it starts
# with a partial policy and a sensor_integrity alert, and a source file created after
# start is still watched (a bulk read of it raises a collection alert).
. "$(dirname "$0")/../lib/itest.sh"

mkdir -p "$T/src" "$T/Dropbox"
python3 - "$T/Dropbox" <<'PY'
import os, sys
d = sys.argv[1]
for i in range(270000):
    os.close(os.open(f"{d}/f{i:06d}", os.O_CREAT | os.O_WRONLY, 0o644))
PY
chmod -R a+rX "$T"
cat >"$T/exfilmon.yaml" <<YAML
sources:
  paths: ["$T/src"]
egress:
  allow: ["127.0.0.0/8"]
  sync_folders: ["$T/Dropbox"]
detect:
  bulk_read: 16MiB
$(itest_config_tail)
YAML
daemon_start "$T/exfilmon.yaml" 90
check "daemon runs despite the full map" "$(kill -0 $DAEMON 2>/dev/null && echo yes)" yes
head -c $((20 << 20)) /dev/urandom >"$T/src/new-export.csv"
chmod a+r "$T/src/new-export.csv"
in_session 1001 "$T/reader.info" cat "$T/src/new-export.csv" >/dev/null || die "reader"
S=$(info_session "$T/reader.info")
alerts() { python3 "$LIB/alerts.py" "$T/alerts.jsonl" "$@"; }
bulk() { [ "$(alerts count --rule bulk_collection_bytes --session "$S")" = 1 ]; }
wait_until 10 bulk
check "a source created after start is watched" \
	"$(alerts count --rule bulk_collection_bytes --session "$S")" 1
check "the partial policy is an integrity alert" "$(grep -c '"reason":"policy_partial"' \
	"$T/alerts.jsonl")" 1
kill -TERM $DAEMON
wait $DAEMON
check "daemon exit status" "$?" 0
itest_finish
