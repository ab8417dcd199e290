#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Issue 11 B8, B9, B12: evasions the tracepoint sensors once missed, each in its own login
# session against a 3 MiB watched file:
#   B8  io_uring reads through a registered (fixed) file, and through a file opened by
#       OPENAT straight into a fixed slot (no fd, so io_uring_file_get never fires):
#       counted at completion; io_uring writes into a sync folder: sync egress; io_uring
#       SEND to a non-allowed peer, with the sock length tracepoints (6.3+) and without
#       them (forced, as on 6.1): egress, counted once
#   B12 writes to a gvfs FUSE mount (MTP phones appear as fuse.gvfsd-fuse): media egress
#   B9  an overlay mounted in a user namespace over the source tree: a sensor_integrity
#       alert (userns_overlay) naming the session
. "$(dirname "$0")/../lib/itest.sh"

SIZE=3145728
SRC=$T/src
mkdir -p "$SRC" "$T/sync" "$T/out" "$T/gvfs" "$T/ov/empty" "$T/ov/merged"
head -c $SIZE /dev/urandom >"$SRC/customers.csv"
chmod -R a+rX "$T"
chmod 1777 "$T/sync" "$T/out"
gcc -O2 -o "$T/uring_fixed" "$LIB/uring_fixed.c" -luring || die "cannot build uring_fixed"
# A FUSE filesystem typed fuse.gvfsd-fuse, as gvfs mounts MTP devices (not under /media,
# so only the type can make it media).
mkfs.vfat -C "$T/phone.img" 8192 >/dev/null || die "mkfs.vfat"
cat >"$T/exfilmon.yaml" <<YAML
sources:
  paths: ["$SRC"]
egress:
  allow: ["127.0.0.1/32"]
  sync_folders: ["$T/sync"]
YAML
trace_start "$T/exfilmon.yaml" "$T/ev.json"
run() { # NAME CMD...: CMD in a new session of uid 1001
	local name=$1; shift
	in_session 1001 "$T/$name.info" "$@" >"$T/$name.out" || die "$name failed"
}
run registered "$T/uring_fixed" register "$SRC/customers.csv"
run direct "$T/uring_fixed" direct "$SRC/customers.csv"
run uwrite "$T/uring_fixed" write "$SRC/customers.csv" "$T/sync/up.csv"
run ustage "$T/uring_fixed" write "$SRC/customers.csv" "$T/out/staged.bin"
run usend "$T/uring_fixed" send "$SRC/customers.csv" 127.0.0.97 18097

fusefat -o rw+,allow_other,subtype=gvfsd-fuse "$T/phone.img" "$T/gvfs" >/dev/null 2>&1 ||
	die "fusefat mount"
itest_on_exit "fusermount -u $T/gvfs"
phone_dev=$(awk -v m="$T/gvfs" '$5 == m { split($3, d, ":"); print d[1] * 1048576 + d[2] }' \
	/proc/self/mountinfo)
sink_known() { bpftool -j map dump name sinkdevs 2>/dev/null | grep -Eq "\"key\": ?$phone_dev[,}]"; }
wait_until 30 sink_known || echo "  (the gvfs mount's device $phone_dev is not in sinkdevs)"
in_session --keep-root 1001 "$T/mtp.info" sh -c \
	"head -c 1048576 $SRC/customers.csv > $T/gvfs/dump.csv; sync" || die "mtp workload failed"
in_session --keep-root 1001 "$T/umtp.info" "$T/uring_fixed" write "$SRC/customers.csv" \
	"$T/gvfs/up.csv" >/dev/null || die "io_uring mtp workload failed"
# B9: a read-only overlay (two lower layers, no upper) over the source tree, made by the
# unprivileged user in a user namespace of its own; the file is read through it.
run overlay unshare -Urm sh -c "mount -t overlay overlay \
	-o lowerdir=$SRC:$T/ov/empty $T/ov/merged && cat $T/ov/merged/customers.csv | wc -c"
sleep 1
trace_stop
EXFILMON_FORCE_SOCK_SYSCALLS=1 trace_start "$T/exfilmon.yaml" "$T/ev-sys.json"
run usend-sys "$T/uring_fixed" send "$SRC/customers.csv" 127.0.0.97 18098
sleep 1
trace_stop

sid() { info_session "$T/$1.info"; }
sum() { events sum "$T/ev.json" --session "$(sid "$1")" "${@:2}"; }
check "B8 io_uring read through a registered file" "$(sum registered --kind source_file)" $SIZE
check "B8 io_uring read through a file opened into a fixed slot" \
	"$(sum direct --kind source_file)" $SIZE
check "B8 io_uring write into a sync folder is sync egress" "$(sum uwrite --kind egress_sync)" \
	$SIZE
check "B8 io_uring write by a collector to an ordinary file is staging" \
	"$(sum ustage --kind staging --object "$T/out/staged.bin")" $SIZE
check "B8 io_uring write to media is media egress" "$(sum umtp --kind egress_media)" $SIZE
check "B8 io_uring SEND to a non-allowed peer is egress, once" \
	"$(sum usend --kind egress_net --object 127.0.0.97:18097)" $SIZE
check "B8 io_uring SEND is egress without the sock length tracepoints" \
	"$(events sum "$T/ev-sys.json" --session "$(sid usend-sys)" --kind egress_net \
	--object 127.0.0.97:18098)" $SIZE
check "B12 a write to a gvfs (MTP) FUSE mount is media egress" \
	"$(sum mtp --kind egress_media)" 1048576
check "B9 the file was read through the overlay" "$(tr -d ' ' <"$T/overlay.out")" $SIZE
check "B9 an overlay in a user namespace is an integrity event naming the session" \
	"$(events count "$T/ev.json" --event integrity --reason userns_overlay \
	--session "$(sid overlay)")" 1
itest_finish
