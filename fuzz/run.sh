#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Builds the evidence-reader fuzz target with clang's libFuzzer, AddressSanitizer and
# UndefinedBehaviorSanitizer, seeds a corpus from a real store written by
# tests/lib/gen_evidence.c (one seed per input mode, see the target), and runs it for
# SECONDS (default 30). Exits non-zero on any crash, leak or sanitizer report.
# usage: fuzz/run.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-30}
out=build/fuzz
mkdir -p "$out/corpus"
libs=$(pkg-config --cflags --libs zlib liblz4 libcrypto jansson)
src="user/evidence/evidence_format.c user/evidence/evidence_read.c user/evidence/evidence_store.c user/evidence/evidence_recover.c user/evidence/evidence_retention.c user/common/log.c"
# shellcheck disable=SC2086
clang -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
	-Iinclude -Iuser fuzz/evidence_reader_fuzz.c $src $libs -o "$out/evidence_reader_fuzz"
if [ -z "$(ls "$out/corpus")" ]; then
	# shellcheck disable=SC2086
	clang -g -O1 -Iinclude -Iuser tests/lib/gen_evidence.c $src $libs -o "$out/gen_evidence"
	store=$(mktemp -d)
	"$out/gen_evidence" "$store/ev" 20
	python3 - "$store/ev" "$out/corpus" <<'PY'
import glob, os, struct, sys, zlib
store, corpus = sys.argv[1], sys.argv[2]
segs = sorted(glob.glob(store + "/seg-*.xev"))
for i, seg in enumerate(segs):
    data = open(seg, "rb").read()
    open(f"{corpus}/segment-{i}", "wb").write(b"\0" + data)
    off = 0
    while off + 128 <= len(data):
        n, = struct.unpack_from("<I", data, off + 32)
        clen, = struct.unpack_from("<I", data, off + 60)
        raw = zlib.decompress(data[off + 128:off + 128 + clen])
        open(f"{corpus}/payload-{i}-{off}", "wb").write(bytes([1, n & 255]) + raw)
        off += 128 + clen
    idx = seg[:-4] + ".idx"
    open(f"{corpus}/index-{i}", "wb").write(b"\2" + open(idx, "rb").read())
PY
	rm -rf "$store"
fi
log=$out/fuzz.log
# The target writes its scratch store under TMPDIR; this one goes away with the run.
TMPDIR=$(mktemp -d)
export TMPDIR
trap 'rm -rf "$TMPDIR"' EXIT
if ! "$out/evidence_reader_fuzz" -max_total_time="$secs" -max_len=65536 -timeout=10 \
	-print_final_stats=1 -artifact_prefix="$out/" "$out/corpus" >"$log" 2>&1; then
	tail -40 "$log"
	echo "fuzz: FAILED (crash input saved under $out/)"
	exit 1
fi
grep -E '^(#[0-9]+.*DONE|stat::number_of_executed_units)' "$log" | tail -2
echo "fuzz: no crash in ${secs}s"
