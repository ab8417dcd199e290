#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Issue 11 C15: root edits the agent's maps with bpftool (an allowlist entry for the drop
# site, a watched file deleted). The agent reads its maps back, raises a sensor_integrity
# alert (policy_tamper) for each, and puts the policy back: the file is watched again and
# the added allowlist entry is gone.
. "$(dirname "$0")/../lib/itest.sh"
. "$LIB/daemon_map.sh"

mkdir -p "$T/src"
head -c 1048576 /dev/urandom >"$T/src/customers.csv"
chmod -R a+rX "$T"
cat >"$T/exfilmon.yaml" <<YAML
sources:
  paths: ["$T/src"]
egress:
  allow: ["127.0.0.1/32"]
$(itest_config_tail)
YAML
daemon_start "$T/exfilmon.yaml"
ALLOW=$(daemon_map $DAEMON allow) || die "allow map of the daemon not found"
WATCH=$(daemon_map $DAEMON watch) || die "watch map of the daemon not found"

# allow: ::ffff:127.0.0.0/104 (all of loopback), as an insider would add the drop site.
key="104 0 0 0  0 0 0 0 0 0 0 0 0 0 255 255 127 0 0 0  0 0 0 0"
bpftool map update id "$ALLOW" key $key value 0 0 0 0 0 0 0 0 || die "bpftool update allow"
# watch: the source file's entry, deleted (dev in the kernel's encoding).
ino=$(stat -c %i "$T/src/customers.csv")
dev=$(python3 -c "import os;d=os.stat('$T/src/customers.csv').st_dev;print(os.major(d)<<20|os.minor(d))")
wkey=$(python3 -c "import struct;print(' '.join(str(b) for b in struct.pack('<QII',$ino,$dev,0)))")
bpftool map delete id "$WATCH" key $wkey || die "bpftool delete watch"

tampers() { grep -c '"reason":"policy_tamper"' "$T/alerts.jsonl" 2>/dev/null; }
wait_true 15 '[ "$(tampers)" -ge 2 ]'
check "allow edit raised policy_tamper" "$(grep '"reason":"policy_tamper"' "$T/alerts.jsonl" |
	grep -c 'allow map')" 1
check "watch deletion raised policy_tamper" "$(grep '"reason":"policy_tamper"' \
	"$T/alerts.jsonl" | grep -c 'watch map.*deleted')" 1
check "the added allow entry was removed" \
	"$(bpftool map lookup id "$ALLOW" key $key >/dev/null 2>&1 && echo present || echo gone)" gone
check "the deleted watch entry was put back" \
	"$(bpftool map lookup id "$WATCH" key $wkey >/dev/null 2>&1 && echo present || echo gone)" present
kill -TERM $DAEMON
wait $DAEMON
check "daemon exit status" "$?" 0
itest_finish
