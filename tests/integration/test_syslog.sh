#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Syslog that arrives, checked against a real rsyslogd (its default parsers, its own
# config, pid and work directory; the system's rsyslog is never touched): the local form
# (RFC 3164 on a unix socket) is parsed with the right program name, facility, severity
# and the JSON intact; RFC 5424 over plain TCP and over TLS (RFC 5425, throwaway CA and
# certificate made here with openssl) arrive complete; a certificate for another name or
# from another CA is refused and counted as dropped; a collector name that does not
# resolve at first is retried and delivered once it does (in a private mount namespace
# with its own /etc/hosts); the daemon itself sends its chain heads with the facility, URL
# and CA of its config, locally and over TLS. Ports 127.0.0.1:16510-16512.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BUILD=$ROOT/build
T=$(mktemp -d /tmp/exfilmon-syslog.XXXXXX)
PIDS=()
# The daemon's lineage labels pinned in a directory of this test's own (as itest.sh does).
export EXFILMON_PIN_DIR=/sys/fs/bpf/exfilmon-test-syslog-$$
cleanup() {
	local p
	for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done
	rm -rf "$T" "$EXFILMON_PIN_DIR"
}
trap cleanup EXIT
[ -n "${KEEP:-}" ] && trap "cp -a $T /tmp/syslog-keep; cleanup" EXIT
PASS=0 FAIL=0
check() { # NAME ACTUAL EXPECTED
	if [ "$2" = "$3" ]; then PASS=$((PASS + 1)); echo "  ok   $1 ($2)"
	else FAIL=$((FAIL + 1)); echo "  FAIL $1: got '$2', expected '$3'"; fi
}
die() { echo "test_syslog: FATAL: $*" >&2; exit 1; }
wait_until() { # SECONDS CMD...
	local deadline=$(( $(date +%s) + $1 )); shift
	until "$@"; do [ "$(date +%s)" -lt "$deadline" ] || return 1; sleep 0.1; done
}
RSYSLOGD=/usr/sbin/rsyslogd
[ -x "$RSYSLOGD" ] || die "rsyslog missing (scripts/install-deps.sh test)"
[ -f /usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_ossl.so ] || ls /usr/lib/*/rsyslog/lmnsd_ossl.so >/dev/null 2>&1 ||
	die "rsyslog-openssl missing (scripts/install-deps.sh test)"
[ -f "$BUILD/libexfilmon.a" ] || die "run make first"
cc -std=gnu11 -Wall -Wextra -Werror -I"$ROOT/user" -I"$ROOT/include" "$ROOT/tests/lib/syslog_send.c" \
	"$BUILD/libexfilmon.a" $(pkg-config --libs libssl libcrypto) -o "$T/syslog_send" || die "syslog_send build"

echo "throwaway CA and certificates"
cd "$T"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=exfilmon test CA" \
	-keyout ca.key -out ca.pem >/dev/null 2>&1 || die "CA"
cert() { # NAME CN SAN CA_PREFIX
	openssl req -newkey rsa:2048 -nodes -subj "/CN=$2" -keyout "$1.key" -out "$1.csr" >/dev/null 2>&1 &&
	openssl x509 -req -in "$1.csr" -CA "$4.pem" -CAkey "$4.key" -CAcreateserial -days 2 \
		-extfile <(printf 'subjectAltName=%s\n' "$3") -out "$1.pem" >/dev/null 2>&1
}
cert server collector.test "DNS:collector.test,DNS:localhost,IP:127.0.0.1" ca || die "server cert"
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj "/CN=other CA" -keyout other.key \
	-out other.pem >/dev/null 2>&1 || die "other CA"
chmod 0644 ./*.pem ./*.key

start_rsyslogd() { # NAME CONFIG_BODY: an rsyslogd of its own, logging to $T/NAME.out
	mkdir -p "$T/$1.work"
	cat >"$T/$1.conf" <<CONF
global(workDirectory="$T/$1.work" ${3:-})
module(load="imuxsock" SysSock.Use="off")
$2
template(name="fields" type="string"
	string="%programname%|%syslogfacility-text%|%syslogseverity-text%|%app-name%|%msgid%|%msg%\n")
action(type="omfile" file="$T/$1.out" template="fields")
CONF
	"$RSYSLOGD" -n -f "$T/$1.conf" -i "$T/$1.pid" >"$T/$1.log" 2>&1 &
	PIDS+=($!)
}
start_rsyslogd plain "input(type=\"imuxsock\" Socket=\"$T/log.sock\" CreatePath=\"on\")
module(load=\"imtcp\")
input(type=\"imtcp\" address=\"127.0.0.1\" port=\"16510\")"
start_rsyslogd tls "module(load=\"imtcp\" StreamDriver.Name=\"ossl\" StreamDriver.Mode=\"1\" StreamDriver.AuthMode=\"anon\")
input(type=\"imtcp\" address=\"127.0.0.1\" port=\"16511\")" \
	"DefaultNetstreamDriverCAFile=\"$T/ca.pem\" DefaultNetstreamDriverCertFile=\"$T/server.pem\" DefaultNetstreamDriverKeyFile=\"$T/server.key\""
listening() { ss -ltn | grep -q "127.0.0.1:$1 "; }
wait_until 20 test -S "$T/log.sock" || { cat "$T/plain.log"; die "rsyslogd (plain) did not start"; }
wait_until 20 listening 16510 || { cat "$T/plain.log"; die "rsyslogd (plain) not listening"; }
wait_until 20 listening 16511 || { cat "$T/tls.log"; die "rsyslogd (tls) not listening"; }
send() { "$T/syslog_send" "$@" 2>>"$T/send.log"; }
lines() { grep -c "$2" "$T/$1.out" 2>/dev/null || true; }

echo "local: RFC 3164 on a unix socket, rsyslog's default parser"
check "local: all sent" "$(send "unix:$T/log.sock" 21 - 5 1 local)" "sent 6 dropped 0 queued 0"
wait_until 10 sh -c "[ \$(grep -c '^exfilmon-chain' '$T/plain.out' 2>/dev/null) -ge 1 ]"
check "local: alerts under program name exfilmon-alert, facility local5, severity crit" \
	"$(lines plain '^exfilmon-alert|local5|crit|exfilmon-alert|-| {"event":{"kind":"alert"},"n":[0-4],"text":"local"}$')" 5
check "local: the message is the JSON, parseable as it arrived" \
	"$(grep '^exfilmon-alert|' "$T/plain.out" | cut -d'|' -f6- | python3 -c 'import json,sys; print(sum(1 for l in sys.stdin if json.loads(l)["event"]["kind"] == "alert"))')" 5
check "local: chain head under exfilmon-chain, severity info" \
	"$(lines plain '^exfilmon-chain|local5|info|exfilmon-chain|-| evidence sealed segment=seg-0 block=1 head=ab$')" 1

echo "plain TCP: RFC 5424, octet counting"
check "tcp: all sent" "$(send tcp://127.0.0.1:16510 16 - 200 10 tcp)" "sent 201 dropped 0 queued 0"
wait_until 10 sh -c "[ \$(grep -c '\"text\":\"tcp\"' '$T/plain.out') -ge 200 ]"
check "tcp: 200 alerts, app-name exfilmon, msgid ALERT, facility local0" \
	"$(lines plain '^exfilmon|local0|crit|exfilmon|ALERT|{"event":{"kind":"alert"},"n":[0-9]*,"text":"tcp"}$')" 200

echo "TLS: RFC 5425 with the collector's certificate checked"
check "tls: all sent" "$(send tls://127.0.0.1:16511 21 "$T/ca.pem" 200 10 tls)" "sent 201 dropped 0 queued 0"
wait_until 10 sh -c "[ \$(grep -c '\"text\":\"tls\"' '$T/tls.out' 2>/dev/null) -ge 200 ]"
check "tls: 200 alerts and the chain head, complete" \
	"$(lines tls '^exfilmon|local5|crit|exfilmon|ALERT|{"event":{"kind":"alert"},"n":[0-9]*,"text":"tls"}$'):$(lines tls '|CHAIN|evidence sealed')" "200:1"
check "tls by name (SNI and host name check): delivered" "$(send tls://localhost:16511 21 "$T/ca.pem" 3 10 tlsname)" "sent 4 dropped 0 queued 0"
check "tls: a CA that did not sign the collector is refused, and the loss counted" \
	"$(send tls://127.0.0.1:16511 21 "$T/other.pem" 3 2 wrongca | cut -d' ' -f1-4)" "sent 4 dropped 4"
check "tls: refused for a reason the log names" "$(grep -c 'tls://127.0.0.1:16511: tls handshake: self-signed certificate in certificate chain' "$T/send.log")" 1
echo "127.0.0.2 collector.other" >"$T/hosts.other"
check "tls: a certificate for another name is refused" \
	"$(unshare -m sh -c "mount --bind '$T/hosts.other' /etc/hosts && echo '127.0.0.1 wrong.test' >>/etc/hosts && '$T/syslog_send' tls://wrong.test:16511 21 '$T/ca.pem' 2 2 wrongname 2>>'$T/send.log'" | cut -d' ' -f1-4)" \
	"sent 3 dropped 3"
check "tls: refused for the name" "$(grep -c 'tls://wrong.test:16511: tls handshake: hostname mismatch' "$T/send.log")" 1
sleep 0.5
check "tls: nothing from the refused senders arrived" "$(lines tls 'wrongca\|wrongname')" 0

echo "DNS: a collector name that does not resolve yet is retried, then delivered"
printf '127.0.0.1 localhost\n' >"$T/hosts"
unshare -m sh -c "mount --bind '$T/hosts' /etc/hosts && exec '$T/syslog_send' tcp://late.test:16510 16 - 5 20 late" \
	>"$T/late.txt" 2>>"$T/send.log" &
LATE=$!
PIDS+=($LATE)
sleep 1.5
check "dns: nothing delivered while the name does not resolve" "$(lines plain '"text":"late"')" 0
echo "127.0.0.1 late.test" >>"$T/hosts"
wait "$LATE"
check "dns: delivered after the name resolved" "$(cat "$T/late.txt")" "sent 6 dropped 0 queued 0"
check "dns: the failure was logged once" "$(grep -c 'late.test:16510: resolve' "$T/send.log")" 1
wait_until 10 sh -c "[ \$(grep -c '\"text\":\"late\"' '$T/plain.out') -ge 5 ]"
check "dns: all 5 alerts arrived" "$(lines plain '"text":"late"')" 5

echo "honest drops: a collector that never comes"
check "down collector: everything counted as dropped" "$(send tcp://127.0.0.1:16512 16 - 10 1 down | cut -d' ' -f1-4)" "sent 11 dropped 11"

echo "the daemon itself: chain heads through its config (facility, TLS, CA)"
[ -x "$BUILD/exfilmond" ] || die "run make first"
mkdir -p "$T/src"
daemon_run() { # NAME SYSLOG_URL FACILITY CA OUT PATTERN: exfilmond until PATTERN is in OUT
	cat >"$T/$1.yaml" <<YAML
sources:
  paths: ["$T/src"]
output:
  alerts: $T/$1/alerts.jsonl
  evidence: $T/$1/evidence
  syslog: $2
  syslog_facility: $3
  syslog_ca: $4
evidence:
  seal_interval: 100ms
agent:
  state_dir: $T/$1/state
  poll_interval: 100ms
YAML
	"$BUILD/exfilmond" -c "$T/$1.yaml" --status "$T/$1.json" --stderr 2>"$T/$1.log" &
	local pid=$!
	PIDS+=($pid)
	wait_until 60 grep -q "$6" "$T/$5.out"
	# The status is rewritten every tick: wait for one written after the delivery (a
	# loaded machine delivered the first chain head before the first status existed).
	rm -f "$T/$1.json"
	wait_until 30 test -s "$T/$1.json"
	kill -TERM "$pid"
	wait "$pid"
}
LOCAL_CHAIN='^exfilmon-chain|local3|info|exfilmon-chain|-| evidence sealed segment=seg-[0-9a-f]*\.xev block=[0-9]* head=[0-9a-f]\{64\}$'
daemon_run local "unix:$T/log.sock" local3 system plain "$LOCAL_CHAIN"
check "daemon, local socket: chain heads under exfilmon-chain, facility local3" \
	"$(grep -q "$LOCAL_CHAIN" "$T/plain.out" && echo arrived)" arrived
TLS_CHAIN='^exfilmon|local6|info|exfilmon|CHAIN|evidence sealed segment=seg-[0-9a-f]*\.xev block=[0-9]* head=[0-9a-f]\{64\}$'
daemon_run tls "tls://localhost:16511" local6 "$T/ca.pem" tls "$TLS_CHAIN"
check "daemon, TLS: chain heads with app-name exfilmon, msgid CHAIN, facility local6" \
	"$(grep -q "$TLS_CHAIN" "$T/tls.out" && echo arrived)" arrived
check "daemon, TLS: nothing dropped" "$(python3 -c "import json;print(json.load(open('$T/tls.json'))['syslog_dropped'])")" 0

echo "test_syslog: $PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
