#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# exfilmon-central against a real nats-server (JetStream) and a real PostgreSQL 15, both
# started here on loopback (NATS 127.0.0.1:14260, PostgreSQL 127.0.0.3:5433) and stopped
# on exit. Synthetic hosts come from build/fleet_sim, whose stores are written by the
# real evidence writer, so every chain is real. Checks: a ring of four people found
# and four unrelated uploads not; fleet_user; agent_silent within 3 intervals and not
# after a clean stop; evidence_tampered (broken link, contradicting heartbeat, a
# sequence jumping back); evidence_gap (missing blocks, deleted unshipped); config_drift;
# central SIGKILLed, a second instance and PostgreSQL restarted mid-ingest with every
# record stored exactly once; exfilctl --db views equal to the local stores' views.
. "$(dirname "$0")/../lib/itest.sh"
. "$LIB/central_fixture.sh"

SIM=$BUILD/fleet_sim
CTL=$BUILD/exfilctl
command -v nats-server >/dev/null || die "nats-server missing (scripts/install-deps.sh test)"
[ -x "$SIM" ] && [ -x "$BUILD/exfilmon-central" ] || die "run make first"

alerts() { cf_sql "SELECT count(*) FROM alerts WHERE rule = '$1' AND alert_key LIKE '$2'"; }
wait_alert() { cf_wait "$3" bash -c "[ \"\$(psql -h $CF_PG_HOST -p $CF_PG_PORT -U postgres -d exfilmon -XAtqc \"SELECT count(*) FROM alerts WHERE rule = '$1' AND alert_key LIKE '$2'\")\" -ge 1 ]"; }
records_of() { cf_sql "SELECT count(*) FROM records WHERE host_id = '$1'"; }
wait_records() { # HOST N SECS
	cf_wait "$3" bash -c "[ \"\$(psql -h $CF_PG_HOST -p $CF_PG_PORT -U postgres -d exfilmon -XAtqc \"SELECT count(*) FROM records WHERE host_id = '$1'\")\" = $2 ]"
}
# Writes a host's store and publishes it: HOST USER UID SESSION SOURCE_BYTES EGRESS_BYTES DST [RECORDS]
host() {
	"$SIM" write "$T/st/$1" --host-name "$1" --user "$2" --uid "$3" --session "$4" \
		--source-bytes "$5" --egress-bytes "$6" ${7:+--dst "$7"} --records "${8:-20}" >/dev/null ||
		die "write $1"
	[ -n "${NOPUB:-}" ] && return
	"$SIM" publish "$T/st/$1" --server "$CF_NATS_URL" --host "$1" >/dev/null || die "publish $1"
}
stored() { "$SIM" count "$T/st/$1" | cut -d' ' -f2; }

cf_nats_start
cf_pg_init
"$SIM" mkstream --server "$CF_NATS_URL" || die "cannot create the stream"
mkdir -p "$T/st"

cf_config a
"$BUILD/exfilmon-central" --check-config -c "$T/central-a.yaml" >/dev/null
check "check-config accepts the test config" $? 0
printf 'ring:\n  min_users: 1\n  windw: 7d\n' >"$T/bad.yaml"
"$BUILD/exfilmon-central" --check-config -c "$T/bad.yaml" 2>"$T/bad.err"
check "check-config refuses a bad config (exit 1)" $? 1
check "bad config errors name FILE:LINE:COL and the key" \
	"$(grep -c "bad.yaml:2:14: ring.min_users: '1' is out of range\|bad.yaml:3:3: ring.windw: unknown key" "$T/bad.err")" 2
cf_central_start a
check "schema applied and recorded" "$(cf_sql 'SELECT string_agg(version::text, $$,$$ ORDER BY version) FROM schema_version')" 1,2,3

# (1) The real agent on this machine ships through the same stream: its records reach the
# central store exactly once and the --db views equal its local store's. Needs the
# agent's fleet shipper (user/output/fleet.c, issue 12).
part_real_agent() {
	local A=$T/agent SRC=$T/src apid want
	echo "-- the real agent ships to the centre"
	ensure_user alice 1101
	mkdir -p "$A" "$SRC"
	chmod a+rx "$T" "$SRC"
	head -c 3000000 /dev/urandom | base64 -w 100 >"$SRC/customers.csv"
	chmod -R a+rX "$SRC"
	cat >"$A/cfg.yaml" <<YAML
sources:
  paths: ["$SRC"]
  services: []
egress:
  allow: ["127.0.0.2/32"]
detect:
  bulk_read: 2MiB
  exfil: 1MiB
output:
  alerts: $A/alerts.jsonl
  evidence: $A/evidence
  syslog: off
evidence:
  seal_interval: 1s
agent:
  state_dir: $A/state
  poll_interval: 200ms
fleet:
  servers: [$CF_NATS_URL]
  host_id: agent1
  heartbeat: 2s
YAML
	python3 "$LIB/dropsite.py" --addr 127.0.0.1 --port 14270 --count "$T/drop.count" >"$T/drop.out" 2>&1 &
	itest_on_exit "kill $!"
	wait_until 30 grep -q ready "$T/drop.out" || die "dropsite"
	"$BUILD/exfilmond" -c "$A/cfg.yaml" --status "$A/status.json" --stderr --log-level info \
		2>>"$A/daemon.log" &
	apid=$!
	itest_on_exit "kill -9 $apid"
	wait_until 60 test -s "$A/status.json" || { tail "$A/daemon.log"; die "agent did not start"; }
	python3 "$LIB/in_session.py" --uid 1101 --info "$T/alice.info" -- bash -c \
		"cd ~ && cat $SRC/customers.csv > c.csv &&
		 curl -sS -T c.csv http://127.0.0.1:14270/upload -o /dev/null && rm -f c.csv" ||
		die "alice workload"
	wait_until 20 grep -q '"exfiltration"' "$A/alerts.jsonl" || die "no exfiltration alert"
	kill -TERM "$apid"
	wait "$apid"
	check "agent stopped cleanly" $? 0
	want=$("$SIM" count "$A/evidence" | cut -d' ' -f2)
	wait_records agent1 "$want" 60
	check "every record of the real agent in the central store ($want)" "$(records_of agent1)" "$want"
	check "central chain of agent1 = its store's head" \
		"$(cf_sql "SELECT head_block || ' ' || head_hash FROM chain_state WHERE host_id = 'agent1'")" \
		"$("$SIM" count "$A/evidence" | cut -d' ' -f3,4)"
	for view in "sessions" "sessions --json" "alerts"; do
		$CTL $view --dir "$A/evidence" >"$T/local" 2>&1
		$CTL $view --db "$CF_CONNINFO" --host agent1 2>&1 |
			grep -Ev ' (ring|fleet_user|agent_silent|evidence_tampered|evidence_gap|config_drift) ' >"$T/central"
		cmp -s "$T/local" "$T/central"
		check "agent1: exfilctl $view --db = the store's" $? 0
	done
	$CTL timeline --user alice --dir "$A/evidence" >"$T/local" 2>&1
	$CTL timeline --user alice --db "$CF_CONNINFO" --host agent1 >"$T/central" 2>&1
	cmp -s "$T/local" "$T/central"
	check "agent1: exfilctl timeline --user alice --db = the store's" $? 0
	check "the agent's exfiltration alert stored once" \
		"$(cf_sql "SELECT count(*) FROM alerts WHERE host_id = 'agent1' AND rule = 'exfiltration'")" 1
	check "its last heartbeat said clean shutdown" \
		"$(cf_sql "SELECT clean_shutdown FROM hosts WHERE host_id = 'agent1'")" t
}
if [ -e "$ROOT/user/output/fleet.c" ]; then
	part_real_agent
else
	echo "-- the real agent: NOT RUN, this tree has no fleet shipper (user/output/fleet.c)"
fi

echo "-- ring: four people, four hosts, one destination network"
# Each under every per-person threshold: 10 MB collected (bulk 50MiB), 4 MB sent.
# Written first and published together: a detection pass between two members' blocks
# would see a ring of three (min_users 3) and revise it when the fourth arrives.
NOPUB=1 host r1 ann 1201 11 10000000 4000000 198.51.100.10:443
NOPUB=1 host r2 ben 1202 12 10000000 4000000 198.51.100.10:443
NOPUB=1 host r3 cat 1203 13 10000000 4000000 198.51.100.11:443
NOPUB=1 host r4 dan 1204 14 10000000 4000000 198.51.100.12:8443
rpubs=()
for h in r1 r2 r3 r4; do
	"$SIM" publish "$T/st/$h" --server "$CF_NATS_URL" --host $h >/dev/null & rpubs+=($!)
done
for p in "${rpubs[@]}"; do wait "$p" || die "publish ring host"; done
# fay sends there too, but her own agent already raised exfiltration: not a ring member.
host r5 fay 1205 15 90000000 60000000 198.51.100.13:443
"$SIM" alert --server "$CF_NATS_URL" --host r5 --json '{"@timestamp":"'"$(date -u +%FT%T.000Z)"'","event":{"kind":"alert"},"rule":{"name":"exfiltration"},"user":{"name":"fay","id":"1205"},"host":{"name":"r5"},"exfilmon":{"alert_id":1,"revision":1,"session_id":15,"episode_start":"x","source_bytes":90000000,"egress_bytes":60000000}}'
# Four people, four unrelated destinations: no ring.
host d1 gus 1301 21 10000000 4000000 203.0.113.5:443
host d2 hal 1302 22 10000000 4000000 198.18.0.5:443
host d3 ida 1303 23 10000000 4000000 100.64.1.5:443
host d4 jon 1304 24 10000000 4000000 192.0.2.5:443
wait_alert ring 'ring:%' 20 || true
sleep 2     # another detection pass or two: nothing more may appear
check "one ring alert" "$(cf_sql "SELECT count(*) FROM alerts WHERE rule = 'ring'")" 1
check "the ring is 198.51.100.0/24" "$(cf_sql "SELECT doc->'exfilmon'->>'destination_net' FROM alerts WHERE rule = 'ring'")" "198.51.100.0/24"
check "ring members: all four, not fay" "$(cf_sql "SELECT doc->'exfilmon'->>'users' FROM alerts WHERE rule = 'ring'")" '["ann", "ben", "cat", "dan"]'
check "ring names each member's host, session, bytes, destination, evidence range" \
	"$(cf_sql "SELECT string_agg(m->>'user' || '@' || (m->>'host') || '/' || (m->>'session_id') || ':' || (m->>'source_bytes') || '>' || (m->>'egress_bytes') || '>' || (m->'destinations'->0->>'name') || ':' || CASE WHEN (m->>'evidence_first_seq')::int >= 0 AND (m->>'evidence_last_seq')::int > (m->>'evidence_first_seq')::int THEN 'seq' ELSE 'noseq' END, ' ' ORDER BY m->>'user') FROM alerts, jsonb_array_elements(doc->'exfilmon'->'members') m WHERE rule = 'ring'")" \
	"ann@r1/11:10000000>4000000>198.51.100.10:443:seq ben@r2/12:10000000>4000000>198.51.100.10:443:seq cat@r3/13:10000000>4000000>198.51.100.11:443:seq dan@r4/14:10000000>4000000>198.51.100.12:8443:seq"
check "ring alert is ECS like the agent's" "$(cf_sql "SELECT doc->'event'->>'kind' || ' ' || (doc->'rule'->>'name') || ' ' || (doc->'exfilmon'->>'revision') FROM alerts WHERE rule = 'ring'")" "alert ring 1"
check "ring alert in the JSON-lines file once" "$(grep -c '"name":"ring"' "$T/central-a-alerts.jsonl")" 1
check "no ring for the four separate destinations" "$(cf_sql "SELECT count(*) FROM alerts WHERE rule = 'ring' AND doc::text ~ '(gus|hal|ida|jon)'")" 0

echo "-- fleet_user: one person over three hosts"
host f1 kim 1401 31 20000000 0 "" 10
host f2 kim 1401 32 20000000 0 "" 10
host f3 kim 1401 33 20000000 0 "" 10
wait_alert fleet_user 'fleet_user:bulk:kim:%' 20
check "fleet_user alert for kim (3 x 20 MB, each under 50 MiB)" "$(alerts fleet_user 'fleet_user:bulk:kim:%')" 1
check "no fleet_user for one-host people" "$(cf_sql "SELECT count(*) FROM alerts WHERE rule = 'fleet_user' AND user_name <> 'kim'")" 0

echo "-- agent_silent"
"$SIM" heartbeat --server "$CF_NATS_URL" --host s2 --interval 2 --count 2 --every-ms 2000 --clean --start-id aaaaaaaaaaaaaaa2 &
s2=$!
"$SIM" heartbeat --server "$CF_NATS_URL" --host s1 --interval 2 --count 2 --every-ms 2000 --start-id aaaaaaaaaaaaaaa1
wait $s2
sleep 2
check "not silent after one interval" "$(alerts agent_silent 'agent_silent:s1:%')" 0
wait_alert agent_silent 'agent_silent:s1:%' 20
check "agent_silent for the stopped agent" "$(alerts agent_silent 'agent_silent:s1:%')" 1
# From the last heartbeat's arrival to the alert: not before 3 intervals (6 s), and
# within the next interval (a detection pass runs every second; slack for a loaded machine).
check "agent_silent raised 6-8 s (3 to 4 intervals) after the last heartbeat" \
	"$(cf_sql "SELECT extract(epoch FROM a.ts - h.hb_received) BETWEEN 6 AND 8 FROM alerts a JOIN hosts h USING (host_id) WHERE a.rule = 'agent_silent' AND h.host_id = 's1'")" t
sleep 3
check "no agent_silent after a clean stop" "$(alerts agent_silent 'agent_silent:s2:%' ):$(alerts agent_silent 'agent_silent:agent1:%')" "0:0"

echo "-- evidence_tampered and evidence_gap"
"$SIM" write "$T/st/t1" --host-name t1 --user lee --uid 1501 --session 41 --source-bytes 1000000 --records 200 >/dev/null
"$SIM" publish "$T/st/t1" --server "$CF_NATS_URL" --host t1 --to 2 >/dev/null
"$SIM" publish "$T/st/t1" --server "$CF_NATS_URL" --host t1 --from 3 --to 3 --tamper-link 3 >/dev/null
wait_alert evidence_tampered 'evidence_tampered:t1:broken_link:3:%' 15
check "broken chain link at block 3 alerted" "$(alerts evidence_tampered 'evidence_tampered:t1:broken_link:3:%')" 1
"$SIM" publish "$T/st/t1" --server "$CF_NATS_URL" --host t1 --from 1 --to 1 --tamper-link 1 >/dev/null
wait_alert evidence_tampered 'evidence_tampered:t1:jumped_back:1:%' 15
check "block 1 again with other content: sequence jumped back" "$(alerts evidence_tampered 'evidence_tampered:t1:jumped_back:1:%')" 1
"$SIM" publish "$T/st/t1" --server "$CF_NATS_URL" --host t1 --from 1 --to 1 >/dev/null
sleep 1
check "block 1 redelivered unchanged: nothing" "$(cf_sql "SELECT count(*) FROM alerts WHERE host_id = 't1' AND rule = 'evidence_tampered'")" 2
$CTL verify --db "$CF_CONNINFO" --host t1 >"$T/verify-t1" 2>&1
check "exfilctl verify --db names the tampered block (exit 1)" "$?:$(grep -c '^TAMPERED: block 3' "$T/verify-t1")" "1:1"

host t2 max 1502 42 1000000 0 "" 50
wait_records t2 "$(stored t2)" 20
"$SIM" heartbeat "$T/st/t2" --server "$CF_NATS_URL" --host t2 --interval 60 --start-id bbbbbbbbbbbbbbb2 --seq 1
"$SIM" heartbeat "$T/st/t2" --server "$CF_NATS_URL" --host t2 --interval 60 --start-id bbbbbbbbbbbbbbb2 --seq 2 \
	--chain-hash 0000000000000000000000000000000000000000000000000000000000000bad
wait_alert evidence_tampered 'evidence_tampered:t2:heartbeat:%' 15
check "heartbeat contradicting the blocks: evidence_tampered" "$(alerts evidence_tampered 'evidence_tampered:t2:heartbeat:%')" 1
check "the agreeing heartbeat raised nothing else" "$(cf_sql "SELECT count(*) FROM alerts WHERE host_id = 't2'")" 1

"$SIM" write "$T/st/g1" --host-name g1 --user ned --uid 1601 --session 51 --source-bytes 1000000 --records 200 >/dev/null
"$SIM" publish "$T/st/g1" --server "$CF_NATS_URL" --host g1 --to 1 >/dev/null
"$SIM" publish "$T/st/g1" --server "$CF_NATS_URL" --host g1 --from 4 >/dev/null
wait_alert evidence_gap 'evidence_gap:g1:missing:2-3' 20
check "blocks 2-3 never arrived: evidence_gap" "$(alerts evidence_gap 'evidence_gap:g1:missing:2-3')" 1
check "blocks after the gap still stored" "$(cf_sql "SELECT head_block = (SELECT max(block_no) FROM blocks WHERE host_id = 'g1') FROM chain_state WHERE host_id = 'g1'")" t
"$SIM" heartbeat "$T/st/g1" --server "$CF_NATS_URL" --host g1 --interval 60 --deleted 5:4000:10:14
wait_alert evidence_gap 'evidence_gap:g1:deleted:10-14' 15
check "deleted_unshipped reported: evidence_gap" "$(alerts evidence_gap 'evidence_gap:g1:deleted:10-14')" 1

echo "-- replayed records"
# A forger's block that continues the chain correctly but carries records the centre
# already has (block 1 again, as the block after the last): alerted, nothing stored
# twice. p2 first has its chain's next record number broken in the database, so the
# block takes the fast path into the records' key, fails once, and is taken carefully.
for h in p1 p2; do
	"$SIM" write "$T/st/$h" --host-name $h --user pia --uid 1901 --session 81 --source-bytes 1000000 --records 200 >/dev/null
	"$SIM" publish "$T/st/$h" --server "$CF_NATS_URL" --host $h >/dev/null
	wait_records $h "$(stored $h)" 20
done
cf_sql "UPDATE chain_state SET next_seq = 0 WHERE host_id = 'p2'" >/dev/null
dups() { cat "$T"/central-*.log | grep -c ' error .*duplicate key value violates unique constraint "records_'; }
check "no key violation before p2's replay" "$(dups)" 0
for h in p1 p2; do
	"$SIM" publish "$T/st/$h" --server "$CF_NATS_URL" --host $h --from 999999 --replay 1 >/dev/null
	wait_alert evidence_tampered "evidence_tampered:$h:replayed_records:%" 20
	check "$h: a chained block repeating stored records: evidence_tampered (replayed_records)" \
		"$(alerts evidence_tampered "evidence_tampered:$h:replayed_records:%")" 1
	check "$h: its records not stored again" "$(records_of $h)" "$(stored $h)"
	check "$h: nor counted again in the rollup" \
		"$(cf_sql "SELECT sum(bytes) FROM activity_daily WHERE host_id = '$h' AND kind = 'source_net'")" 1000000
	check "$h: the chain went on (head is the replayed block)" \
		"$(cf_sql "SELECT head_block = (SELECT max(block_no) FROM blocks WHERE host_id = '$h') AND head_block > 1 FROM chain_state WHERE host_id = '$h'")" t
done
check_ge "p2: the fast path hit the records' key (then the careful retry stored it)" "$(dups)" 1

echo "-- hostile input"
"$SIM" write "$T/st/x1" --host-name x1 --user oto --uid 1801 --session 71 --source-bytes 1000 --records 3 --hostile >/dev/null
"$SIM" publish "$T/st/x1" --server "$CF_NATS_URL" --host x1 >/dev/null
wait_records x1 "$(stored x1)" 20
check "records with a NUL escape, bad UTF-8 and no JSON at all are stored, not lost" "$(records_of x1)" "$(stored x1)"
check "and kept readable" "$(cf_sql "SELECT count(*) FROM records WHERE host_id = 'x1' AND (doc::text LIKE '%unparsed%')")" 3
"$SIM" heartbeat --server "$CF_NATS_URL" --host x1 --interval 60 --host-name 'ws\u001b[2J\u001b]0;owned\u0007' \
	--config-sha 'c\u001b[31m'
cf_wait 15 bash -c "[ -n \"\$(psql -h $CF_PG_HOST -p $CF_PG_PORT -U postgres -d exfilmon -XAtqc \"SELECT host_name FROM hosts WHERE host_id = 'x1'\")\" ]"
$CTL hosts --db "$CF_CONNINFO" --host x1 >"$T/hosts-x1" 2>&1
check "a hostile host name and config reach the terminal escaped" \
	"$(grep -c $'\e' "$T/hosts-x1"):$(grep -c 'ws\\x1b\[2J' "$T/hosts-x1")" "0:1"
$CTL timeline --db "$CF_CONNINFO" --user oto --host x1 >"$T/tl-x1" 2>&1
check "timeline --db escapes hostile records" "$(grep -c $'\e' "$T/tl-x1"):$(grep -c 'x\\x1b\[2J' "$T/tl-x1")" "0:1"

echo "-- config_drift"
for h in c1 c2 c3; do
	"$SIM" heartbeat --server "$CF_NATS_URL" --host $h --interval 60 --group support --config-sha aaaa
done
"$SIM" heartbeat --server "$CF_NATS_URL" --host c4 --interval 60 --group support --config-sha bbbb
wait_alert config_drift 'config_drift:c4:support:bbbb' 15
check "the odd config in group support: config_drift" "$(cf_sql "SELECT count(*) FROM alerts WHERE rule = 'config_drift' AND doc::text LIKE '%support%'")" 1

echo "-- kills: central SIGKILLed, a second instance, PostgreSQL restarted, mid-ingest"
for i in 1 2 3 4; do
	"$SIM" write "$T/st/k$i" --host-name k$i --user u$i --uid $((1700 + i)) --session $((60 + i)) \
		--source-bytes 400000000 --records 30000 --block-bytes 8192 >/dev/null
done
want=0
for i in 1 2 3 4; do want=$((want + $(stored k$i))); done
pubs=()
for i in 1 2 3 4; do
	"$SIM" publish "$T/st/k$i" --server "$CF_NATS_URL" --host k$i --every-ms 4 >"$T/pub-k$i" 2>&1 &
	pubs+=($!)
done
k_rows() { cf_sql "SELECT count(*) FROM records WHERE host_id LIKE 'k%'"; }
k_above() { cf_wait 60 bash -c "[ \$(psql -h $CF_PG_HOST -p $CF_PG_PORT -U postgres -d exfilmon -XAtqc \"SELECT count(*) FROM records WHERE host_id LIKE 'k%'\") -gt $1 ]"; }
cf_config b
cf_central_start b
k_above $((want / 5)) || die "ingest of the k hosts did not start"
check_ge "rows still missing when central a is SIGKILLed" $((want - $(k_rows))) 1
cf_central_stop a KILL
cf_central_start a
before=$(k_rows)
check_ge "rows still missing when PostgreSQL stops" $((want - before)) 1
cf_pg_stop fast
sleep 1
cf_pg_start
for p in "${pubs[@]}"; do wait "$p"; done
cf_wait 120 bash -c "[ \$(psql -h $CF_PG_HOST -p $CF_PG_PORT -U postgres -d exfilmon -XAtqc \"SELECT count(*) FROM records WHERE host_id LIKE 'k%'\") = $want ]"
check "every published record stored (rows = records in the stores)" \
	"$(cf_sql "SELECT count(*) FROM records WHERE host_id LIKE 'k%'")" "$want"
check "no record twice" "$(cf_sql "SELECT count(*) - count(DISTINCT (host_id, seq)) FROM records")" 0
check "rollup counted every byte once (4 x 400000000)" \
	"$(cf_sql "SELECT sum(bytes) FROM activity_daily WHERE host_id LIKE 'k%' AND kind = 'source_net'")" 1600000000
check "every k chain whole and at the stores' heads" \
	"$(cf_sql "SELECT count(*) FROM chain_state WHERE host_id LIKE 'k%' AND broken_links = 0 AND gaps = 0")" 4
for i in 1 2 3 4; do
	$CTL verify --db "$CF_CONNINFO" --host k$i --dir "$T/st/k$i" >"$T/verify-k$i" 2>&1
	check "exfilctl verify --db k$i: intact and the same head as its store" "$?:$(grep -c 'agrees' "$T/verify-k$i")" "0:1"
done
check "no tampering or gap alerts from the restarts" \
	"$(cf_sql "SELECT count(*) FROM alerts WHERE host_id LIKE 'k%'")" 0
grep -q "connection lost" "$T/central-a.log" "$T/central-b.log"
check "central saw PostgreSQL go away and reconnected" $? 0

echo "-- exfilctl --db views equal the local store's"
for h in r1 t2 k3; do
	for view in "sessions" "sessions --json" "alerts"; do
		$CTL $view --dir "$T/st/$h" >"$T/local" 2>&1
		# The store holds the agent's alerts; the centre's own (ring, ...) are not in it.
		$CTL $view --db "$CF_CONNINFO" --host $h 2>&1 |
			grep -Ev ' (ring|fleet_user|agent_silent|evidence_tampered|evidence_gap|config_drift) ' >"$T/central"
		cmp -s "$T/local" "$T/central"
		check "$h: exfilctl $view --db = the store's" $? 0
	done
	u=$(cf_sql "SELECT user_name FROM sessions WHERE host_id = '$h'")
	$CTL timeline --user "$u" --dir "$T/st/$h" >"$T/local" 2>&1
	$CTL timeline --user "$u" --db "$CF_CONNINFO" --host $h >"$T/central" 2>&1
	cmp -s "$T/local" "$T/central"
	check "$h: exfilctl timeline --user $u --db = the store's ($(wc -l <"$T/local") lines)" $? 0
done
$CTL alerts --db "$CF_CONNINFO" --rule ring --since -1h >"$T/ring" 2>&1
check "alerts --rule ring --since -1h" "$(grep -c ' ring ' "$T/ring")" 1
$CTL timeline --db "$CF_CONNINFO" --user kim >"$T/kim" 2>&1
check "timeline --user kim spans her three hosts" "$(grep -o ' f[123] ' "$T/kim" | sort -u | wc -l)" 3
$CTL hosts --db "$CF_CONNINFO" >"$T/hosts" 2>&1
check "hosts lists s1 silent and t1 tampered" "$(grep -c '^s1 .*SILENT$\|^t1 .*TAMPERED$' "$T/hosts")" 2
$CTL report --db "$CF_CONNINFO" --rule ring -o "$T/report.html"
check "report shows the ring's four members" "$(grep -o '<tr><td>\(ann\|ben\|cat\|dan\)</td>' "$T/report.html" | wc -l)" 4
cat "$T"/central-*.log | grep ' error ' |
	grep -v 'connection\|server closed\|terminating\|shutting down\|starting up\|not open' |
	grep -v 'duplicate key value violates unique constraint "records_' >"$T/errors" || true
sed 's/^/    /' "$T/errors" | head -5
check "no central errors but those of the PostgreSQL restart" "$(wc -l <"$T/errors")" 0
itest_finish
