#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Sensors against the real BPF programs: every read path of a 10 MiB watched file reports
# exactly its bytes for the right pid, session and path; unwatched files report nothing;
# renames, hardlinks, symlinks, relative paths and bind mounts stay watched; TCP and UDP
# source/egress bytes are exact; writes to a FAT stick under /media are media egress;
# io_uring reads of a watched file are reported.
. "$(dirname "$0")/../lib/itest.sh"

SIZE=10485760
SRC=$T/src
mkdir -p "$SRC/sub" "$T/out" "$T/elsewhere" /media
head -c $SIZE /dev/urandom >"$SRC/customers.csv"
head -c $SIZE /dev/urandom >"$T/unwatched.csv"
cp "$SRC/customers.csv" "$SRC/to-rename.csv"
cp "$SRC/customers.csv" "$SRC/linked.csv"
chmod -R a+rX "$T"
# copy_file_range's output must be on the source's filesystem (no cross-fs copies on 6.1).
chmod 1777 "$T/out"
export TMPDIR=$T/out
gcc -O2 -o "$T/uring_read" "$LIB/uring_read.c" -luring || die "cannot build uring_read"

cat >"$T/exfilmon.yaml" <<YAML
sources:
  paths: ["$SRC"]
  services: ["127.0.0.2:5432"]
egress:
  allow: ["127.0.0.1/32", "127.0.0.2/32"]
  removable_media: true
  sync_folders: []
YAML

trace_start "$T/exfilmon.yaml" "$T/ev.json"

# After start: a file created inside the tree, and the tree reached through a bind mount.
head -c $SIZE /dev/urandom >"$SRC/sub/new.csv"
mkdir -p "$T/bind"
mount --bind "$SRC" "$T/bind" || die "bind mount"
itest_on_exit "umount -l $T/bind"
mv "$SRC/to-rename.csv" "$T/elsewhere/renamed.csv"
ln "$SRC/linked.csv" "$T/elsewhere/hardlink.csv"
ln -s "$SRC/customers.csv" "$T/elsewhere/symlink.csv"

declare -A WL=(
	[cat]="cat $SRC/customers.csv"
	[dd]="dd if=$SRC/customers.csv of=/dev/null bs=64k status=none"
	[read]="python3 $LIB/read_paths.py read $SRC/customers.csv"
	[readv]="python3 $LIB/read_paths.py readv $SRC/customers.csv"
	[pread]="python3 $LIB/read_paths.py pread $SRC/customers.csv"
	[preadv]="python3 $LIB/read_paths.py preadv $SRC/customers.csv"
	[sendfile]="python3 $LIB/read_paths.py sendfile $SRC/customers.csv"
	[splice]="python3 $LIB/read_paths.py splice $SRC/customers.csv"
	[copy_file_range]="python3 $LIB/read_paths.py copy_file_range $SRC/customers.csv"
	[renamed]="cat $T/elsewhere/renamed.csv"
	[hardlink]="cat $T/elsewhere/hardlink.csv"
	[symlink]="cat $T/elsewhere/symlink.csv"
	[relative]="sh -c 'cd $SRC/sub && cat ../sub/../customers.csv'"
	[bind]="cat $T/bind/sub/new.csv"
	[unwatched]="cat $T/unwatched.csv"
)
for w in "${!WL[@]}"; do
	eval "in_session 1001 \"\$T/$w.info\" ${WL[$w]}" >/dev/null || die "workload $w failed"
done
in_session 1001 "$T/mmap.info" python3 "$LIB/read_paths.py" mmap "$SRC/customers.csv" ||
	die "workload mmap failed"
in_session 1001 "$T/uring.info" "$T/uring_read" "$SRC/customers.csv" >/dev/null ||
	die "workload io_uring failed"

# Network: a source service on 127.0.0.2:5432 and a drop site on 127.0.0.77.
in_session 1001 "$T/net.info" python3 "$LIB/net_exchange.py" >"$T/net.out" ||
	die "network workload failed"

# A FAT stick under /media through fuse (this kernel has no in-kernel vfat).
mkfs.vfat -C "$T/stick.img" 16384 >/dev/null || die "mkfs.vfat"
mkdir -p /media/exfilmon-test-stick
fusefat -o rw+ "$T/stick.img" /media/exfilmon-test-stick >/dev/null || die "fusefat mount"
itest_on_exit "fusermount -u /media/exfilmon-test-stick; rmdir /media/exfilmon-test-stick"
# The mount reaches the agent through a mountinfo change event: wait until the agent
# says it treats it as a media sink (a fixed pause lost that race on a loaded machine).
stick_dev=$(awk '$5 == "/media/exfilmon-test-stick" { split($3, d, ":"); print d[1] * 1048576 + d[2] }' \
	/proc/self/mountinfo)
sink_known() { bpftool -j map dump name sinkdevs 2>/dev/null | grep -Eq "\"key\": ?$stick_dev[,}]"; }
wait_until 30 sink_known || echo "  (the agent did not put the stick's device $stick_dev in sinkdevs within 30 s)"
in_session --keep-root 1001 "$T/media.info" sh -c \
	"head -c 1048576 $SRC/customers.csv > /media/exfilmon-test-stick/dump.csv; sync" ||
	die "media workload failed"
sleep 0.5
trace_stop

echo "read paths of a watched 10 MiB file:"
for w in cat dd read readv pread preadv sendfile splice copy_file_range; do
	s=$(info_session "$T/$w.info")
	check "$w bytes, pid and path" "$(events sum "$T/ev.json" --kind source_file --session "$s" \
		--pid "$(info_pid "$T/$w.info")" --object "$SRC/customers.csv")" $SIZE
	check "$w nothing else in the session" "$(events sum "$T/ev.json" --kind source_file \
		--session "$s")" $SIZE
done
check "relative path with .." "$(events sum "$T/ev.json" --kind source_file \
	--session "$(info_session "$T/relative.info")" --object "$SRC/customers.csv")" $SIZE

echo "identity survives renames, links and mounts:"
check "renamed" "$(events sum "$T/ev.json" --kind source_file \
	--session "$(info_session "$T/renamed.info")")" $SIZE
check "renamed path" "$(events count "$T/ev.json" --event open --path "$T/elsewhere/renamed.csv" \
	--session "$(info_session "$T/renamed.info")")" 1
check "hardlink" "$(events sum "$T/ev.json" --kind source_file \
	--session "$(info_session "$T/hardlink.info")")" $SIZE
check "symlink" "$(events sum "$T/ev.json" --kind source_file \
	--session "$(info_session "$T/symlink.info")")" $SIZE
check "bind mount, file created after start" "$(events sum "$T/ev.json" --kind source_file \
	--session "$(info_session "$T/bind.info")")" $SIZE
check "unwatched file" "$(events sum "$T/ev.json" --session "$(info_session "$T/unwatched.info")")" 0

echo "mmap and io_uring:"
s=$(info_session "$T/mmap.info")
check "mmap length" "$(events sum "$T/ev.json" --kind mmap_source --session "$s" \
	--pid "$(info_pid "$T/mmap.info")")" $SIZE
check "mmap record" "$(events count "$T/ev.json" --event mmap --session "$s")" 1
s=$(info_session "$T/uring.info")
check_ge "io_uring read reported" "$(events count "$T/ev.json" --event io_uring --session "$s" \
	--path "$SRC/customers.csv")" 1
check "io_uring bytes accounted" "$(events sum "$T/ev.json" --kind source_file --session "$s" \
	--pid "$(info_pid "$T/uring.info")")" $SIZE

echo "sockets:"
s=$(info_session "$T/net.info"); p=$(info_pid "$T/net.info")
read -r tcp_in udp_in tcp_out udp_out <"$T/net.out"
check "TCP+UDP bytes from source service" "$(events sum "$T/ev.json" --kind source_net \
	--session "$s" --pid "$p" --object 127.0.0.2:5432)" $((tcp_in + udp_in))
check "TCP upload to drop site" "$(events sum "$T/ev.json" --kind egress_net --session "$s" \
	--pid "$p" --object 127.0.0.77:8080)" "$tcp_out"
check "UDP to drop site" "$(events sum "$T/ev.json" --kind egress_net --session "$s" \
	--pid "$p" --object 127.0.0.77:9999)" "$udp_out"
check "allowlisted peer not egress" "$(events sum "$T/ev.json" --kind egress_net --session "$s" \
	--object-prefix 127.0.0.1:)" 0
check_ge "connect to source classified" "$(events count "$T/ev.json" --event connect \
	--session "$s" --class source)" 1
check_ge "connect to drop site classified" "$(events count "$T/ev.json" --event connect \
	--session "$s" --class egress)" 1

echo "removable media:"
s=$(info_session "$T/media.info")
check "FAT stick under /media" "$(events sum "$T/ev.json" --kind egress_media --session "$s")" 1048576

itest_finish
