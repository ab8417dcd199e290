#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The kernel caches the ancestry walk's verdict per directory (bpf/vfs.bpf.h) and drops
# the cache on every rename and directory removal. Attacks on that cache, with its age
# limit lengthened to an hour so that only the invalidation can keep the verdicts right
# (tests/lib/dir_moves.py does the moves right after warming the cache): a directory
# judged unwatched and then moved into the watched tree (by rename(2) and by renameat2(2))
# must count its files as sources; a directory judged watched and then moved out must not
# count a file never opened inside the tree; a removed directory whose inode number comes
# back outside the tree must not lend it its verdict.
. "$(dirname "$0")/../lib/itest.sh"

SIZE=1048576
SRC=$T/src
OUT=$T/outside
mkdir -p "$SRC" "$OUT/in1/inner" "$OUT/in2/inner" "$OUT/later"
head -c $SIZE /dev/urandom >"$OUT/staged.csv"
for d in in1 in2; do
	for f in warm x y; do
		head -c $SIZE /dev/urandom >"$OUT/$d/inner/$f.csv"
	done
done
chmod -R a+rwX "$T"

cat >"$T/exfilmon.yaml" <<YAML
sources:
  paths: ["$SRC"]
egress:
  removable_media: false
  sync_folders: []
YAML

EXFILMON_DIRCACHE_TTL_MS=3600000 trace_start "$T/exfilmon.yaml" "$T/ev.json"

in_session 1001 "$T/moves.info" python3 "$LIB/dir_moves.py" "$SRC" "$OUT" >"$T/moves.out" ||
	die "dir_moves.py failed"
trace_stop

s=$(info_session "$T/moves.info")
sum() { events sum "$T/ev.json" --kind source_file --session "$s" "$@"; }
echo "verdicts cached just before a rename or removal:"
check "unwatched directory: the warm-up reads count nothing" \
	"$(sum --object-prefix "$OUT/")" 0
check "moved into the tree by rename(2): counted" "$(sum --object "$SRC/in1/inner/x.csv")" $SIZE
check "moved into the tree by renameat2(2): counted" \
	"$(sum --object "$SRC/in2/inner/x.csv")" $SIZE
reused=$(sed -n 's/^reused //p' "$T/moves.out")
if [ -n "$reused" ]; then
	check "removed watched directory's inode number reused outside: not counted" \
		"$(sum --object "$reused/y.csv")" 0
else
	echo "  (the removed directory's inode number was not reused: that case did not run)"
fi
check "nothing else counted (moved out of the tree: a file never opened inside)" "$(sum)" \
	$((2 * SIZE + 16))
itest_finish
