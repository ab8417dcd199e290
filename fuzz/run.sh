#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Builds the evidence-reader and policy-bundle fuzz targets (make fuzz: clang's
# libFuzzer, AddressSanitizer and UndefinedBehaviorSanitizer), seeds a corpus from a real
# store written by tests/lib/gen_evidence.c (one seed per input mode, see the target),
# and runs it for SECONDS (default 30); then the bundle target (fuzz/bundle_fuzz.c, seeds
# written here) for BUNDLE_SECONDS (default 10). Exits non-zero on any crash, leak or
# sanitizer report.
# usage: fuzz/run.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-30}
out=build/fuzz
mkdir -p "$out/corpus"
# The Makefile builds the target and the seed generator (make fuzz) from the same
# sources as the agent, so nothing here lists them.
make -s fuzz OUT=build
if [ -z "$(ls "$out/corpus")" ]; then
	store=$(mktemp -d)
	"$out/gen_evidence" "$store/ev" 20
	python3 - "$store/ev" "$out/corpus" <<'PY'
import glob, os, struct, sys, zlib
store, corpus = sys.argv[1], sys.argv[2]


def lz4_block(src, raw_len):
    """LZ4 block format (evidence v2, codec 1): literals and back-references."""
    out, i = bytearray(), 0
    while i < len(src):
        tok = src[i]; i += 1
        n = tok >> 4
        if n == 15:
            while True:
                b = src[i]; i += 1; n += b
                if b != 255:
                    break
        out += src[i:i + n]; i += n
        if i >= len(src):
            break
        off = src[i] | src[i + 1] << 8; i += 2
        m = tok & 15
        if m == 15:
            while True:
                b = src[i]; i += 1; m += b
                if b != 255:
                    break
        for _ in range(m + 4):
            out.append(out[-off])
    assert len(out) == raw_len
    return bytes(out)


def payload(hdr, comp):
    version, = struct.unpack_from("<I", hdr, 8)
    flags, = struct.unpack_from("<I", hdr, 36)
    raw_len, = struct.unpack_from("<I", hdr, 56)
    if version == 3 and (flags >> 4) & 15 == 1:
        return lz4_block(comp, raw_len)
    return zlib.decompress(comp)


segs = sorted(glob.glob(store + "/seg-*.xev"))
for i, seg in enumerate(segs):
    data = open(seg, "rb").read()
    open(f"{corpus}/segment-{i}", "wb").write(b"\0" + data)
    off = 0
    while off + 128 <= len(data):
        n, = struct.unpack_from("<I", data, off + 32)
        clen, = struct.unpack_from("<I", data, off + 60)
        raw = payload(data[off:off + 128], data[off + 128:off + 128 + clen])
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

bsecs=${BUNDLE_SECONDS:-10}
mkdir -p "$out/bundle-corpus"
if [ -z "$(ls "$out/bundle-corpus")" ]; then
	yaml=$(cat examples/exfilmon.yaml)
	printf '\001\007%s\n' "$yaml" >"$out/bundle-corpus/signed-example"
	printf '\000exfilmon-policy 1\nserial: 3\nnot_before: 2026-12-01T00:00:00Z\nexpiry: 2027-12-01T00:00:00Z\ngroups: support,all\nkey_id: 0123456789abcdef\nconfig_sha256: %064d\nsignature: %0128d\nsources:\n  paths: [/srv]\n' 0 0 \
		>"$out/bundle-corpus/header"
	printf '\000%s\n' "$yaml" >"$out/bundle-corpus/plain"
fi
blog=$out/bundle_fuzz.log
if ! "$out/bundle_fuzz" -max_total_time="$bsecs" -max_len=16384 -timeout=10 \
	-print_final_stats=1 -artifact_prefix="$out/bundle-" "$out/bundle-corpus" >"$blog" 2>&1; then
	tail -40 "$blog"
	echo "fuzz: bundle FAILED (crash input saved under $out/bundle-*)"
	exit 1
fi
grep -E '^(#[0-9]+.*DONE|stat::number_of_executed_units)' "$blog" | tail -2
echo "fuzz: bundle: no crash in ${bsecs}s"
