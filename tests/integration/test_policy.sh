#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Signed policy bundles against the real daemon (docs/policy.md). With require_signed in
# force, a tampered config byte, a tampered header byte, an untrusted key, an expired or
# not yet valid bundle, a rollback, a bundle for another group and a plain YAML file are
# each refused with the documented reason, the running policy stays in force, and the
# refusal is an evidence record, a log line and a message on exfilmon.policyevent.<host>.
# Key rotation (old and new trusted, then old removed). Fleet delivery through a real
# nats-server: a push reaches the agent within 2 s; an agent cut off during two pushes
# ends on the latest at reconnect. A corrupted config at start runs the last-known-good,
# and with no valid policy at all the built-in default, loudly. Config errors exit 78.
. "$(dirname "$0")/../lib/itest.sh"

E=$BUILD/exfilctl
NATS_PORT=14280 PROXY_PORT=14281 SYSLOG_PORT=14282
HOST_ID=itest-policy
command -v nats-server >/dev/null || die "nats-server missing (scripts/install-deps.sh test)"
mkdir -p "$T/etc/trusted.d" "$T/keys" "$T/src" "$T/js"
chmod 700 "$T/keys"

for k in it-old it-new rogue; do
	"$E" policy keygen "$T/keys/$k" >/dev/null || die "keygen $k"
done
check "private key is 0600" "$(stat -c %a "$T/keys/it-old.key")" 600
"$E" policy keygen "$T/keys/it-old" 2>/dev/null
check "keygen refuses to overwrite a key" "$?" 1
cp "$T/keys/it-old.pub" "$T/etc/trusted.d/"

# The config under test; detect.window differs per serial so each policy is told apart.
config_yaml() { # MINUTES
	cat <<YAML
sources:
  paths: ["$T/src"]
egress:
  allow: ["127.0.0.0/8"]
detect:
  window: ${1}m
output:
  alerts: $T/alerts.jsonl
  evidence: $T/evidence
  syslog: tcp://127.0.0.1:$SYSLOG_PORT
agent:
  state_dir: $T/state
  poll_interval: 200ms
policy:
  require_signed: true
YAML
}

# sign SERIAL OUT [exfilctl policy sign options...]: KEY and GROUPS pick key and groups.
sign() {
	local serial=$1 out=$2; shift 2
	config_yaml "$((serial % 50 + 1))" >"$T/c-$serial.yaml"
	"$E" policy sign --key "${KEY:-$T/keys/it-old.key}" --serial "$serial" \
		--groups "${GROUPS_:-support}" --out "$out" "$@" "$T/c-$serial.yaml" >/dev/null ||
		die "sign $serial"
}

st() { python3 -c "import json,sys;d=json.load(open('$T/status.json'));print(eval(sys.argv[1]))" "$1"; }
serial() { st "d['policy']['serial']"; }
refusals() { st "d['policy']['refusals']"; }
last_refusal() { st "d['policy']['last_refusal']"; }
# Drops FILE in as the config, by rename as a config-management tool would.
drop_in() { cp "$1" "$T/etc/.new" && mv "$T/etc/.new" "$T/etc/exfilmon.yaml"; }

nats-server -a 127.0.0.1 -p $NATS_PORT -js -sd "$T/js" >"$T/nats.log" 2>&1 &
NATS=$!
itest_on_exit "kill $NATS; wait $NATS"
python3 "$LIB/tcp_proxy.py" 127.0.0.1:$PROXY_PORT 127.0.0.1:$NATS_PORT 2>"$T/proxy.ready" &
PROXY=$!
itest_on_exit 'kill $PROXY'
wait_until 10 grep -q ready "$T/proxy.ready" || die "proxy"
wait_until 10 python3 -c "import socket;socket.create_connection(('127.0.0.1',$NATS_PORT))" \
	2>/dev/null || die "nats-server did not start"
python3 "$LIB/syslog_sink.py" --port $SYSLOG_PORT --out "$T/syslog.txt" >"$T/syslog.ready" 2>&1 &
itest_on_exit "kill $!"
wait_until 10 grep -q ready "$T/syslog.ready" || die "syslog sink"
python3 "$LIB/nats_sub.py" 127.0.0.1:$NATS_PORT "exfilmon.policyevent.$HOST_ID" \
	"$T/events.jsonl" 2>"$T/sub.ready" &
itest_on_exit "kill $!"
wait_until 10 grep -q ready "$T/sub.ready" || die "subscriber"

# start_daemon [unshare...]: the daemon (with a prefix such as a private mount namespace).
start_daemon() {
	rm -f "$T/status.json"
	"$@" "$BUILD/exfilmond" -c "$T/etc/exfilmon.yaml" --status "$T/status.json" --stderr \
		--trusted "$T/etc/trusted.d" --policy-state "$T/pstate" --group support \
		--fleet nats://127.0.0.1:$PROXY_PORT --host-id $HOST_ID 2>>"$T/daemon.log" &
	DAEMON=$!
	wait_until 60 test -s "$T/status.json" || { cat "$T/daemon.log"; die "daemon did not start"; }
}
stop_daemon() { kill -TERM $DAEMON; wait $DAEMON; }
itest_on_exit 'kill $DAEMON; wait $DAEMON'

echo "start on a signed bundle"
sign 10 "$T/etc/exfilmon.yaml"
# The first push creates the bucket (a JetStream stream: slow on a loaded machine), so
# the delivery time measured below is the agent's, not the server's set-up.
"$E" policy push --server nats://127.0.0.1:$NATS_PORT --trusted "$T/etc/trusted.d" \
	"$T/etc/exfilmon.yaml" >/dev/null || die "first push"
start_daemon
check "serial 10 in force" "$(serial)" 10
check "from the config file" "$(st "d['policy']['source']")" "config file"
SHA10=$(st "d['config_sha256']")

# refuse NAME EXPECTED_REASON: the bundle at $T/cand is dropped in and must be refused.
n_ref=0
refuse() {
	n_ref=$((n_ref + 1))
	drop_in "$T/cand"
	wait_true 10 '[ "$(refusals)" -ge $n_ref ]' || true
	check "$1: refused" "$(refusals)" $n_ref
	case "$(last_refusal)" in
	*"$2"*) check "$1: reason" ok ok ;;
	*) check "$1: reason" "$(last_refusal)" "*$2*" ;;
	esac
	check "$1: serial 10 stays in force" "$(serial)" 10
	check "$1: config stays in force" "$(st "d['config_sha256']")" "$SHA10"
}

echo "attacks, each refused"
sign 11 "$T/cand"; sed -i 's/^  window: 12m$/  window: 99m/' "$T/cand"
refuse "tampered config byte" "config does not match the signed config_sha256"
sign 11 "$T/cand"; sed -i 's/^serial: 11$/serial: 12/' "$T/cand"
refuse "tampered header byte" "bad signature"
KEY=$T/keys/rogue.key sign 11 "$T/cand"
refuse "untrusted key" "which is not trusted"
sign 11 "$T/cand" --not-before 2020-01-01T00:00:00Z --expiry 2021-01-01T00:00:00Z
refuse "expired" "expired at 2021-01-01T00:00:00Z"
sign 11 "$T/cand" --not-before 2099-01-01T00:00:00Z --expiry 2099-02-01T00:00:00Z
refuse "not yet valid" "not valid before 2099-01-01T00:00:00Z"
sign 9 "$T/cand"
refuse "rollback" "rollback: serial 9 is below serial 10 in force"
GROUPS_=finance sign 11 "$T/cand"
refuse "wrong group" "wrong group: bundle is for finance, this host is in support"
config_yaml 3 >"$T/cand"
refuse "unsigned config" "not a signed bundle, and policy.require_signed is in force"
wait_true 5 '[ "$(grep -c "POLICY - policy refused" "$T/syslog.txt")" -ge $n_ref ]'
check "refusals reached syslog" "$(grep -c 'POLICY - policy refused' "$T/syslog.txt")" $n_ref
check "refusals logged" "$(grep -c 'policy: .* refused; the running policy (serial 10' "$T/daemon.log")" $n_ref
"$E" status --file "$T/status.json" >"$T/status.txt"
check "exfilctl status shows the refusals" "$(grep -c "^policy refusals: $n_ref, last: " "$T/status.txt")" 1

echo "key rotation"
cp "$T/keys/it-new.pub" "$T/etc/trusted.d/"
KEY=$T/keys/it-new.key sign 11 "$T/cand"; drop_in "$T/cand"
wait_true 10 '[ "$(serial)" = 11 ]'
check "new key accepted while both are trusted" "$(serial)" 11
sign 12 "$T/cand"; drop_in "$T/cand"
wait_true 10 '[ "$(serial)" = 12 ]'
check "old key still accepted while both are trusted" "$(serial)" 12
rm "$T/etc/trusted.d/it-old.pub"
sign 13 "$T/cand"; drop_in "$T/cand"
n_ref=$((n_ref + 1))
wait_true 10 '[ "$(refusals)" -ge $n_ref ]'
check "old key refused once removed" "$(serial)" 12
KEY=$T/keys/it-new.key sign 13 "$T/cand"; drop_in "$T/cand"
wait_true 10 '[ "$(serial)" = 13 ]'
check "new key accepted after rotation" "$(serial)" 13
export KEY=$T/keys/it-new.key

echo "fleet push"
sign 14 "$T/b14"
pushed=$(date -u +%H:%M:%S.%N)
"$E" policy push --server nats://127.0.0.1:$NATS_PORT --trusted "$T/etc/trusted.d" "$T/b14" \
	>/dev/null || die "push"
wait_true 10 '[ "$(serial)" = 14 ]'
check "push reached the agent" "$(serial)" 14
# From the start of the push to the daemon's own "applied" log line, on the same clock,
# so the time the test's polling takes is not counted.
applied=$(grep -o '^[0-9:.]* info  policy: applied exfilmon-policy/support@[0-9]* (signed, serial 14' \
	"$T/daemon.log" | cut -d' ' -f1)
ms=$(python3 -c "
import sys
def ms(t):
    h, m, s = t.split(':')
    return (int(h) * 3600 + int(m) * 60 + float(s)) * 1000
print(int(ms(sys.argv[2]) - ms(sys.argv[1])))" "$pushed" "${applied:-00:00:00}")
check "within 2 s of the push (${ms} ms)" "$([ "$ms" -le 2000 ] && echo yes)" yes
check "from the fleet" "$(st "d['policy']['source']")" fleet
check "config file now holds the pushed bundle" "$(cmp -s "$T/b14" "$T/etc/exfilmon.yaml" && echo same)" same
GROUPS_=finance sign 15 "$T/b15"
"$E" policy push --server nats://127.0.0.1:$NATS_PORT --trusted "$T/etc/trusted.d" "$T/b15" \
	>/dev/null || die "push finance"
sleep 1
check "another group's push leaves this host alone" "$(serial)" 14

echo "agent cut off during two pushes"
kill $PROXY; wait $PROXY 2>/dev/null
sign 16 "$T/b16"; sign 17 "$T/b17"
for b in b16 b17; do
	"$E" policy push --server nats://127.0.0.1:$NATS_PORT --trusted "$T/etc/trusted.d" \
		"$T/$b" >/dev/null || die "push $b"
done
sleep 1
check "no delivery while cut off" "$(serial)" 14
python3 "$LIB/tcp_proxy.py" 127.0.0.1:$PROXY_PORT 127.0.0.1:$NATS_PORT 2>"$T/proxy.ready" &
PROXY=$!
wait_true 15 '[ "$(serial)" = 17 ]'
check "latest serial after reconnect" "$(serial)" 17

echo "policy events on the fleet"
wait_true 5 '[ "$(grep -c "\"event\":\"refused\"" "$T/events.jsonl")" -ge $n_ref ]'
check "one refused event per refusal" "$(grep -c '"event":"refused"' "$T/events.jsonl")" $n_ref
check "applied event for serial 17" "$(grep -c "\"event\":\"applied\",\"serial\":17" "$T/events.jsonl")" 1
check "events name the host" "$(grep -vc "\"host_id\":\"$HOST_ID\"" "$T/events.jsonl")" 0

echo "start on last-known-good, then on the built-in default"
stop_daemon
check "daemon stopped cleanly" "$?" 0
sed -i 's/^  window: 18m$/  window: 19m/' "$T/etc/exfilmon.yaml"
"$BUILD/exfilmond" --check-config "$T/etc/exfilmon.yaml" --trusted "$T/etc/trusted.d" \
	--group support >/dev/null 2>&1
check "--check-config on a corrupted bundle exits 78" "$?" 78
"$BUILD/exfilmond" --group 'bad group' --check-config "$T/etc/exfilmon.yaml" >/dev/null 2>&1
check "a bad bootstrap option exits 78" "$?" 78
start_daemon
check "corrupted config: last-known-good in force" "$(st "d['policy']['source']")" last-known-good
check "last-known-good is serial 17" "$(serial)" 17
check "status says why" "$("$E" status --file "$T/status.json" | grep -c '^policy note: *started on last-known-good')" 1
check "log says so" "$(grep -c 'policy: started on last-known-good' "$T/daemon.log")" 1
stop_daemon
rm "$T/pstate/last-known-good"
# The built-in default writes to /var/lib/exfilmon and /var/log/exfilmon: those are
# private tmpfs mounts for this run, so the test leaves nothing behind there.
mkdir -p /var/lib/exfilmon /var/log/exfilmon
start_daemon unshare -m --propagation private sh -c 'mount -t tmpfs none /var/lib/exfilmon &&
	mount -t tmpfs none /var/log/exfilmon && exec "$0" "$@"'
check "no valid policy: built-in default, loudly" "$(grep -c 'policy: NO VALID POLICY, running the built-in default' "$T/daemon.log")" 1
check "in force at start: the built-in default" "$(grep -c 'policy: in force: built-in default' "$T/daemon.log")" 1
wait_true 10 '[ "$(serial)" = 17 ]'
check "the fleet brings the policy back" "$(serial)" 17
stop_daemon

echo "evidence"
"$E" export --dir "$T/evidence" --format json >"$T/export.jsonl" || die "export"
count() { python3 - "$T/export.jsonl" "$1" <<'PY'
import json, sys
n = 0
for line in open(sys.argv[1]):
    r = json.loads(line)
    d = r.get("data") if isinstance(r.get("data"), dict) else r
    if r.get("type") == "policy" and d.get("event") == sys.argv[2]:
        n += 1
print(n)
PY
}
check "every refusal is an evidence record" "$(count refused)" $n_ref
check "the start on last-known-good is an evidence record" "$(count start_fallback)" 1
check "applied policies are evidence records" "$(count applied)" 5
"$E" verify --dir "$T/evidence" >/dev/null 2>&1
check "evidence verifies" "$?" 0
itest_finish
