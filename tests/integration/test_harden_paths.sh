#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Issue 11 B: paths the sensors once missed, each driven for real against a 4 MiB watched
# file in its own login session, with exact byte counts:
#   B4  Linux AIO (io_submit IOCB_CMD_PREAD) reads
#   B6  mmap one page, mremap it to the whole file
#   B7  UDP sendmsg() with an address; a UDP socket connected to an allowed peer that
#       sendto()s elsewhere
#   B10 a staged file moved (mv, no byte written) into a sync folder, then opened there
#       by the sync client; a sync folder created after start
#   B11 a collector's forked child writing what it read (staging)
#   B12 AF_PACKET frames (a socket family that is not inet is egress)
#   B5  a static 32-bit program reading the file: its compat syscalls are not traced, so
#       its exec is a sensor_integrity event (compat_exec) naming the session
. "$(dirname "$0")/../lib/itest.sh"

SIZE=4194304
SRC=$T/src
mkdir -p "$SRC" "$T/out" "$T/sync"
head -c $SIZE /dev/urandom >"$SRC/customers.csv"
chmod -R a+rX "$T"
chmod 1777 "$T/out" "$T/sync"
gcc -m32 -static -nostdlib -fno-pie -no-pie -O1 -fno-stack-protector -o "$T/read32" \
	"$LIB/read32.c" || die "cannot build the 32-bit reader"
cat >"$T/exfilmon.yaml" <<YAML
sources:
  paths: ["$SRC"]
egress:
  allow: ["127.0.0.1/32"]
  sync_folders: ["$T/sync", "$T/later"]
YAML
trace_start "$T/exfilmon.yaml" "$T/ev.json"
run() { # NAME CMD...: CMD in a new session of uid 1001 (root kept for AF_PACKET)
	local name=$1; shift
	in_session --keep-root 1001 "$T/$name.info" "$@" >"$T/$name.out" || die "$name failed"
}
run aio python3 "$LIB/evasions.py" aio "$SRC/customers.csv"
run mremap python3 "$LIB/evasions.py" mremap "$SRC/customers.csv"
run sendmsg python3 "$LIB/evasions.py" udp-sendmsg "$SRC/customers.csv" 127.0.0.95 18095
run redirect python3 "$LIB/evasions.py" udp-redirect "$SRC/customers.csv" 127.0.0.1 \
	127.0.0.95 18096
run fork python3 "$LIB/evasions.py" fork-stage "$SRC/customers.csv" "$T/out/staged.bin"
run packet python3 "$LIB/evasions.py" packet "$SRC/customers.csv"
run compat "$T/read32" "$SRC/customers.csv"
run mv bash -c "cat $SRC/customers.csv >$T/out/stage.csv && mv $T/out/stage.csv $T/sync/ &&
	cat $T/sync/stage.csv >/dev/null"
mkdir -m 1777 "$T/later"
wait_until 15 grep -q "$T/later appeared" "$T/ev.json.err" || echo "  (later folder not discovered)"
run later cp "$SRC/customers.csv" "$T/later/"
sleep 1
trace_stop
# Kernels before 6.3 have no sock length tracepoints: the same AF_PACKET send through the
# syscall exits (forced here; 6.1 takes this path by itself).
EXFILMON_FORCE_SOCK_SYSCALLS=1 trace_start "$T/exfilmon.yaml" "$T/ev-sys.json"
run packet-sys python3 "$LIB/evasions.py" packet "$SRC/customers.csv"
sleep 1
trace_stop

sid() { info_session "$T/$1.info"; }
sum() { events sum "$T/ev.json" --session "$(sid "$1")" "${@:2}"; }
check "B4 AIO reads counted" "$(sum aio --kind source_file)" $SIZE
check "B6 mremap growth counted as mapped" "$(sum mremap --kind mmap_source)" $SIZE
check "B7 sendmsg with an address is egress" \
	"$(sum sendmsg --kind egress_net --object 127.0.0.95:18095)" "$(cat "$T/sendmsg.out")"
check "B7 connected to an allowed peer, sent elsewhere: egress" \
	"$(sum redirect --kind egress_net --object 127.0.0.95:18096)" "$(cat "$T/redirect.out")"
check "B7 nothing counted against the allowed peer" \
	"$(sum redirect --kind egress_net --object 127.0.0.1:18096)" 0
check "B10 a staged file moved into a sync folder is sync egress" \
	"$(sum mv --kind egress_sync)" $SIZE
check "B10 a sync folder created after start is watched" "$(sum later --kind egress_sync)" $SIZE
check "B11 a collector's child writing the data is staging" \
	"$(sum fork --kind staging --object "$T/out/staged.bin")" $SIZE
check "B12 AF_PACKET frames are egress" \
	"$(sum packet --kind egress_net --object 'AF_PACKET socket (family 17)')" \
	"$(cat "$T/packet.out")"
check "B12 AF_PACKET frames are egress on the syscall path" "$(events sum "$T/ev-sys.json" \
	--session "$(sid packet-sys)" --kind egress_net --object 'AF_PACKET socket (family 17)')" \
	"$(cat "$T/packet-sys.out")"
check "B5 a 32-bit exec is an integrity event" "$(events count "$T/ev.json" \
	--event integrity --reason compat_exec --session "$(sid compat)")" 1
itest_finish
