#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# exfilmon-central knows what IT pushed (docs/central.md, "What was pushed"): bundles
# pushed with `exfilctl policy push` to the exfilmon-policy bucket of a real nats-server
# (JetStream, 127.0.0.1:14300) are recorded in a real PostgreSQL 15 (127.0.0.4:5434) once
# their signature verifies against policy.trusted; forged values (another key, a changed
# header byte, a bundle under a key its header does not name) are ignored and logged.
# Synthetic hosts' heartbeats then give config_drift: a host behind the newest push past
# detect.drift_grace, a host running a config never pushed; none for a host up to date
# or one that catches up within the grace; the group-majority rule only where nothing
# was pushed. A push while nats-server is down and back is still recorded (rewatch).
CF_NATS_PORT=14300 CF_PG_HOST=127.0.0.4 CF_PG_PORT=5434
. "$(dirname "$0")/../lib/itest.sh"
. "$LIB/central_fixture.sh"

SIM=$BUILD/fleet_sim
E=$BUILD/exfilctl
command -v nats-server >/dev/null || die "nats-server missing (scripts/install-deps.sh test)"
make -s -C "$ROOT" build/tests/nats_tool || die "cannot build nats_tool"
[ -x "$SIM" ] && [ -x "$BUILD/exfilmon-central" ] || die "run make first"

wait_sql() { # SECS SQL WANT
	cf_wait "$1" bash -c "[ \"\$(psql -h $CF_PG_HOST -p $CF_PG_PORT -U postgres -d exfilmon -XAtqc \"$2\")\" = '$3' ]"
}
drift() { cf_sql "SELECT count(*) FROM alerts WHERE rule = 'config_drift' AND alert_key LIKE '$1'"; }
push() { "$E" policy push --server "$CF_NATS_URL" --trusted "$T/trusted" "$1" >/dev/null || die "push $1"; }

mkdir -p "$T/keys" "$T/trusted"
chmod 700 "$T/keys"
for k in it rogue; do "$E" policy keygen "$T/keys/$k" >/dev/null || die "keygen $k"; done
cp "$T/keys/it.pub" "$T/trusted/"
for n in 1 2 3 4; do
	printf 'detect:\n  window: %sm\n' "$n" >"$T/c$n.yaml"
	"$E" policy sign --key "$T/keys/${KEY:-it}.key" --serial "$n" --groups g1 \
		--out "$T/b$n" "$T/c$n.yaml" >/dev/null || die "sign $n"
done
"$E" policy sign --key "$T/keys/rogue.key" --serial 9 --groups g1 --out "$T/rogue" "$T/c4.yaml" >/dev/null
sha() { sha256sum "$T/c$1.yaml" | cut -d' ' -f1; }
check "bundle's config_sha256 is the config file's" "$("$E" policy show "$T/b1" | grep -c "config_sha256: $(sha 1)")" 1

# --check-config validates policy.trusted.
CF_TRUSTED=$T/nowhere cf_config bad
"$BUILD/exfilmon-central" --check-config -c "$T/central-bad.yaml" 2>"$T/bad.err"
check "check-config refuses a missing policy.trusted (exit 1)" "$?:$(grep -c 'policy.trusted: .*nowhere' "$T/bad.err")" "1:1"
mkdir -p "$T/badkeys" && echo junk >"$T/badkeys/x.pub"
CF_TRUSTED=$T/badkeys cf_config bad
"$BUILD/exfilmon-central" --check-config -c "$T/central-bad.yaml" 2>"$T/bad.err"
check "check-config refuses a trusted dir with a bad key file (exit 1)" "$?:$(grep -c 'x.pub' "$T/bad.err")" "1:1"

cf_nats_start
cf_pg_init
"$SIM" mkstream --server "$CF_NATS_URL" || die "cannot create the stream"
CF_TRUSTED=$T/trusted CF_DRIFT_GRACE=3s cf_config a
"$BUILD/exfilmon-central" --check-config -c "$T/central-a.yaml" >/dev/null
check "check-config accepts the test config" $? 0
cf_central_start a
check "schema 002 applied" "$(cf_sql 'SELECT count(*) FROM schema_version WHERE version = 2')" 1

echo "-- pushes recorded, forgeries not"
push "$T/b1"
wait_sql 15 "SELECT count(*) FROM policy_pushes WHERE serial = 1" 1 || true
push "$T/b2"
wait_sql 15 "SELECT count(*) FROM policy_pushes WHERE serial = 2" 1 || true
check "both pushes to g1 recorded with serial and sha" \
	"$(cf_sql "SELECT string_agg(grp || ':' || serial || ':' || config_sha256, ' ' ORDER BY serial) FROM policy_pushes")" \
	"g1:1:$(sha 1) g1:2:$(sha 2)"
check "pushed_at is the revision's time (within a minute), validity from the header" \
	"$(cf_sql "SELECT bool_and(abs(extract(epoch FROM now() - pushed_at)) < 60 AND expiry > now() + interval '80 days' AND not_before < now()) FROM policy_pushes")" t
KV='$KV.exfilmon-policy'
kv_put() { # KEY MSGID FILE: the file's exact bytes ($(cat) would drop its last newline)
	local v; v=$(cat "$3"; echo x)
	"$BUILD/tests/nats_tool" publish "$CF_NATS_URL" "$KV.$1" "$2" "${v%x}" || die "publish $3"
}
kv_put g1 forged-rogue "$T/rogue"
sed 's/^serial: 3$/serial: 7/' "$T/b3" >"$T/tampered"
cmp -s "$T/b3" "$T/tampered" && die "tampering did not change the header"
kv_put g1 forged-header "$T/tampered"
kv_put g2 forged-key "$T/b3"
cf_wait 15 bash -c "[ \$(grep -c 'ignored (not believed)' $T/central-a.log) -ge 3 ]"
grep 'ignored' "$T/central-a.log" | sed 's/^/    /'
check "a bundle signed by an untrusted key: ignored and logged" \
	"$(grep -c 'exfilmon-policy/g1 revision [0-9]* ignored (not believed): signed by key .*not trusted' "$T/central-a.log")" 1
check "a changed header byte: ignored and logged" \
	"$(grep -c 'exfilmon-policy/g1 revision [0-9]* ignored (not believed): bad signature' "$T/central-a.log")" 1
check "a good bundle under a key its header does not name: ignored and logged" \
	"$(grep -c 'exfilmon-policy/g2 revision [0-9]* ignored (not believed): stored under key g2' "$T/central-a.log")" 1
check "no forged push recorded" "$(cf_sql "SELECT count(*) FROM policy_pushes")" 2

echo "-- config_drift against what was pushed (grace 3 s)"
hb() { # HOST GROUP POLICY COUNT [SHA]
	"$SIM" heartbeat --server "$CF_NATS_URL" --host "$1" --group "$2" --interval 60 \
		--start-id "$(printf '%016x' "$RANDOM")" --config-sha "${5:-c0ffee}" \
		${3:+--policy "$3"} --count "$4" --every-ms 1500
}
hbs=()
hb old g1 "1:$(sha 1)" 4 & hbs+=($!)
hb new g1 "2:$(sha 2)" 4 & hbs+=($!)
hb unk g1 "2:$(printf 'ab%.0s' {1..32})" 1 & hbs+=($!)
hb late g1 "1:$(sha 1)" 1 & hbs+=($!)
hb nopol g1 "" 1 "$(sha 2)" & hbs+=($!)
for p in "${hbs[@]}"; do wait "$p"; done
hb late g1 "2:$(sha 2)" 3
wait_sql 15 "SELECT count(*) FROM alerts WHERE rule = 'config_drift' AND host_id IN ('old', 'unk')" 2 || true
sleep 2   # two more passes: nothing else may appear
check "host still on serial 1 past the grace: config_drift behind serial 2" "$(drift 'config_drift:old:behind:2')" 1
check "host running a sha never pushed: config_drift unknown" "$(drift "config_drift:unk:unknown:2:abab%")" 1
check "host on the newest serial: none" "$(drift 'config_drift:new:%')" 0
check "host that caught up within the grace: none" "$(drift 'config_drift:late:%')" 0
check "host without a policy field whose config is the newest push: none" "$(drift 'config_drift:nopol:%')" 0
check "behind alert names the serials and when it fell behind" \
	"$(cf_sql "SELECT (doc->'exfilmon'->>'problem') || ' ' || (doc->'exfilmon'->>'applied_serial') || ' ' || (doc->'exfilmon'->>'pushed_serial') || ' ' || (doc->'exfilmon'->>'behind_since' IS NOT NULL) || ' ' || (doc->'rule'->>'name') || ' ' || (doc->'event'->>'kind') || ' ' || (doc->'host'->>'name') FROM alerts WHERE alert_key = 'config_drift:old:behind:2'")" \
	"behind 1 2 true config_drift alert old"
hb old g1 "1:$(sha 1)" 2
sleep 2
check "raised once per (host, serial)" "$(drift 'config_drift:old:%')" 1

echo "-- majority rule only where nothing was pushed"
for h in m1 m2 m3; do hb $h nog "" 1 aaaa; done
hb m4 nog "" 1 bbbb
hb p1 g1 "" 1 "$(sha 2)"
hb p2 g1 "" 1 "$(sha 2)"
wait_sql 15 "SELECT count(*) FROM alerts WHERE alert_key = 'config_drift:m4:nog:bbbb'" 1
check "group without pushes: the odd config is config_drift (majority)" "$(drift 'config_drift:m4:nog:bbbb')" 1
check "no majority alert in a group with pushes" "$(cf_sql "SELECT count(*) FROM alerts WHERE rule = 'config_drift' AND doc->'exfilmon'->>'problem' = 'majority' AND host_id NOT LIKE 'm%'")" 0

echo "-- exfilctl hosts --db"
$E hosts --db "$CF_CONNINFO" >"$T/hosts" 2>&1
sed 's/^/    /' "$T/hosts" | head -12
check "hosts: old behind (serial 1, pushed 2)" "$(grep -c '^old .* g1 \+1 \+2 \+behind' "$T/hosts")" 1
check "hosts: new current" "$(grep -c '^new .* g1 \+2 \+2 \+current' "$T/hosts")" 1
check "hosts: unk runs an unknown sha" "$(grep -c '^unk .* g1 \+2 \+2 \+unknown-sha' "$T/hosts")" 1
check "hosts: m1 has no pushes" "$(grep -c '^m1 .* nog \+- \+- \+no-push' "$T/hosts")" 1
$E hosts --db "$CF_CONNINFO" --host old --json >"$T/old.json"
check "hosts --json has groups, applied and pushed serial, drift" \
	"$(python3 -c "import json;d=json.load(open('$T/old.json'));print(d['groups'],d['policy_serial'],d['pushed_serial'],d['drift'])")" \
	"['g1'] 1 2 behind"

echo "-- a push while NATS is away and back, and while central is down"
kill "$(cat "$T/nats/pid")"
cf_wait 10 bash -c "! kill -0 $(cat "$T/nats/pid")"
nats-server -a 127.0.0.1 -p "$CF_NATS_PORT" -js -sd "$T/nats/js" >>"$T/nats/log" 2>&1 &
echo $! >"$T/nats/pid"
cf_wait 20 bash -c "exec 3<>/dev/tcp/127.0.0.1/$CF_NATS_PORT" || die "nats-server did not restart"
push "$T/b3"
wait_sql 20 "SELECT count(*) FROM policy_pushes WHERE serial = 3" 1
check "push after a NATS restart recorded (the watch was made anew)" "$(cf_sql "SELECT count(*) FROM policy_pushes WHERE serial = 3")" 1
cf_central_stop a
push "$T/b4"
cf_central_start a
wait_sql 20 "SELECT count(*) FROM policy_pushes WHERE serial = 4" 1
check "push while central was down recorded at start; nothing twice" \
	"$(cf_sql "SELECT count(*) || ' ' || count(DISTINCT (grp, revision)) FROM policy_pushes")" "4 4"
echo "-- a host's policy refusal (exfilmon.policyevent.HOST) is a central alert"
pe() { # MSGID EVENT SERIAL REASON
	"$BUILD/tests/nats_tool" publish "$CF_NATS_URL" exfilmon.policyevent.old "$1" \
		"{\"host_id\":\"old\",\"ts\":\"2026-12-04T17:00:00.000Z\",\"event\":\"$2\",\"serial\":$3,\"sha256\":\"$(sha 1)\",\"reason\":\"$4\"}" \
		>/dev/null || die "publish policy event $1"
}
pe pe-applied applied 2 ""
pe pe-refused refused 1 "rollback: serial 1 is below serial 2 in force"
pe pe-refused-again refused 1 "rollback: serial 1 is below serial 2 in force"
wait_sql 15 "SELECT count(*) FROM alerts WHERE rule = 'policy_refused'" 1 || true
check "refused bundle: one policy_refused alert naming host, serial and reason" \
	"$(cf_sql "SELECT count(*) || ' ' || min(host_id) || ' ' || min(doc->'exfilmon'->>'serial') || ' ' || min(doc->'exfilmon'->>'reason') FROM alerts WHERE rule = 'policy_refused'")" \
	"1 old 1 rollback: serial 1 is below serial 2 in force"
check "an applied event raises nothing" \
	"$(cf_sql "SELECT count(*) FROM alerts WHERE rule = 'policy_refused' AND doc->'exfilmon'->>'serial' = '2'")" 0

cat "$T"/central-a.log | grep ' error ' >"$T/errors" || true
sed 's/^/    /' "$T/errors" | head -5
check "no central errors" "$(wc -l <"$T/errors")" 0
itest_finish
