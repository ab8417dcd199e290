#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Issue 11 B8 on every kernel: an io_uring transfer is counted or, where the kernel's
# tracepoints cannot name its file or destination (before 5.19: reads through a
# registered file, writes, sends), reported: a sensor_integrity event (uring_unseen)
# naming the session. Never silence, and no report where the bytes are counted. Each
# workload in its own login session against a 3 MiB watched file:
#   registered  a read through a file registered with IORING_REGISTER_FILES
#   write       a write into a sync folder (sync egress)
#   send        a SEND to a non-allowed peer (network egress)
#   plain       a plain io_uring read of the watched file (counted on every kernel)
# On this host (5.19+) all four are counted exactly and nothing is reported; in a 5.10
# guest (scripts/vmtest.sh 5.10 -- tests/integration/run.sh test_uring_unseen) the first
# three are reported and the plain read is counted.
. "$(dirname "$0")/../lib/itest.sh"

SIZE=3145728
SRC=$T/src
mkdir -p "$SRC" "$T/sync"
head -c $SIZE /dev/urandom >"$SRC/customers.csv"
chmod -R a+rX "$T"
chmod 1777 "$T/sync"
gcc -O2 -o "$T/uring_fixed" "$LIB/uring_fixed.c" -luring || die "cannot build uring_fixed"
gcc -O2 -o "$T/uring_read" "$LIB/uring_read.c" -luring || die "cannot build uring_read"
cat >"$T/exfilmon.yaml" <<YAML
sources:
  paths: ["$SRC"]
egress:
  allow: ["127.0.0.1/32"]
  sync_folders: ["$T/sync"]
YAML
trace_start "$T/exfilmon.yaml" "$T/ev.json"
grep -q "submit_sqe" "$T/ev.json.err" && LEGACY=1 || LEGACY=0
run() { # NAME CMD...: CMD in a new session of uid 1001
	local name=$1; shift
	in_session 1001 "$T/$name.info" "$@" >"$T/$name.out" || die "$name failed"
}
run registered "$T/uring_fixed" register "$SRC/customers.csv"
run write "$T/uring_fixed" write "$SRC/customers.csv" "$T/sync/up.csv"
run send "$T/uring_fixed" send "$SRC/customers.csv" 127.0.0.98 18099
run plain "$T/uring_read" "$SRC/customers.csv"
sleep 1
trace_stop

sid() { info_session "$T/$1.info"; }
sum() { events sum "$T/ev.json" --session "$(sid "$1")" "${@:2}"; }
unseen() { events count "$T/ev.json" --event integrity --reason uring_unseen --session "$(sid "$1")"; }
echo "  (io_uring path: $([ $LEGACY = 1 ] && echo 'before 5.19, paired by user_data' || echo '5.19+'))"
# Counted, or reported: for each, what this kernel can do.
verdict() { # NAME BYTES: "counted", "reported" or what went wrong
	local got=$2 rep
	rep=$(unseen "$1")
	if [ "$got" = $SIZE ] && [ "$rep" = 0 ]; then echo counted
	elif [ "$rep" = 1 ]; then echo reported
	else echo "silent (bytes $got, reports $rep)"; fi
}
expect=$([ $LEGACY = 1 ] && echo reported || echo counted)
check "registered-file read: $expect" "$(verdict registered "$(sum registered --kind source_file)")" \
	"$expect"
check "io_uring write into a sync folder: $expect" \
	"$(verdict write "$(sum write --kind egress_sync)")" "$expect"
check "io_uring SEND to a non-allowed peer: $expect" \
	"$(verdict send "$(sum send --kind egress_net --object 127.0.0.98:18099)")" "$expect"
check "plain io_uring read: counted on every kernel, nothing reported" \
	"$(verdict plain "$(sum plain --kind source_file)")" counted
itest_finish
