#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# A changed allowlist applies to connections already open. The kernel caches each
# socket's peer class (bpf/sockclass.bpf.h); a policy apply moves the classes'
# generation, so the next send on an open connection is judged by the new rules. The
# attack: open a connection to an allowed peer, have IT drop that peer from the
# allowlist (or be counted before it is added), and keep sending on the same socket.
# One process in a login session keeps two TCP connections open across a config change:
#   to 127.0.0.78 (allowed before, not after): only what is sent after counts as egress;
#   to 127.0.0.79 (not allowed before, allowed after): only what was sent before counts.
. "$(dirname "$0")/../lib/itest.sh"

MIB=1048576
mkdir -p "$T/src"
chmod -R a+rwX "$T"
config() { # ALLOWED_NET
	cat >"$T/new.yaml" <<YAML
sources:
  paths: ["$T/src"]
egress:
  allow: ["$1"]
$(itest_config_tail)
YAML
	mv "$T/new.yaml" "$T/exfilmon.yaml"
}
config 127.0.0.78/32
daemon_start "$T/exfilmon.yaml"

# The peers: read everything, on both addresses.
python3 - "$T/ready" <<'PY' &
import socket, sys, threading
def serve(addr):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((addr, 18111)); s.listen(1)
    c, _ = s.accept()
    while c.recv(1 << 16): pass
ts = [threading.Thread(target=serve, args=(a,)) for a in ("127.0.0.78", "127.0.0.79")]
for t in ts: t.start()
open(sys.argv[1], "w").close()
for t in ts: t.join()
PY
PEERS=$!
itest_on_exit "kill $PEERS 2>/dev/null"
wait_until 10 test -e "$T/ready"

cat >"$T/client.py" <<'PY'
import os, socket, sys, time
t = sys.argv[1]
socks = [socket.create_connection((a, 18111)) for a in ("127.0.0.78", "127.0.0.79")]
for s in socks: s.sendall(b"a" * (1 << 20))
open(t + "/phase1", "w").close()
while not os.path.exists(t + "/go"): time.sleep(0.05)
for s in socks: s.sendall(b"b" * (2 << 20))
for s in socks: s.close()
PY
in_session 1001 "$T/client.info" python3 "$T/client.py" "$T" &
CLIENT=$!
wait_until 20 test -e "$T/phase1" || die "client did not send its first part"
applied() { grep -c "policy: applied" "$T/daemon.log"; }
before=$(applied)
config 127.0.0.79/32
wait_true 20 '[ "$(applied)" -gt '"$before"' ]' || die "the new config was not applied"
touch "$T/go"
wait $CLIENT || die "client failed"
sleep 1
kill -TERM $DAEMON
wait $DAEMON
check "daemon exit status" "$?" 0
S=$(info_session "$T/client.info")
egress() { # PEER: egress_net bytes of the client's session to PEER:18111 in the evidence
	"$BUILD/exfilctl" export --dir "$T/evidence" --session "$S" 2>/dev/null | python3 -c "
import json, sys
n = 0
for l in sys.stdin:
    try: r = json.loads(l)
    except ValueError: continue
    d = r.get('data', r)
    if d.get('kind') == 'egress_net' and d.get('object') == '$1:18111': n += d.get('bytes', 0)
print(n)"
}
check "peer dropped from the allowlist: what is sent after counts as egress" \
	"$(egress 127.0.0.78)" $((2 * MIB))
check "peer added to the allowlist: only what was sent before counts" \
	"$(egress 127.0.0.79)" $MIB
itest_finish
