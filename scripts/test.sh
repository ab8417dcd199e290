#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The whole test suite on a fresh Debian 12 machine, as root: installs what is missing,
# builds, runs the unit tests (plain, then under ASan and UBSan), the BPF tests, the
# root integration tests against the real BPF programs on this kernel, a short fuzz run
# of the evidence reader, the benchmark smoke run, and the integration suite inside
# Debian 6.1 and 6.12 kernels under qemu. Fails loudly.
set -uo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "test: run as root (integration tests load BPF)" >&2; exit 1; }

scripts/install-deps.sh test || exit 1
# Compiles run in parallel; the tests inside each step still run one after another.
JOBS=-j$(nproc)
make -s "$JOBS" all || exit 1

status=0
# Each step says how long it took: the suite's time budget is watched step by step.
step() {
	local name=$1 start=$SECONDS; shift
	echo "==== $name"
	if "$@"; then echo "==== $name: ok ($((SECONDS - start)) s)"
	else echo "==== $name: FAILED ($((SECONDS - start)) s)"; status=1; fi
}
step unit make -s "$JOBS" test
step unit-sanitizers make -s "$JOBS" SAN=address,undefined test
step bpf make -s "$JOBS" bpf-test
step integration tests/integration/run.sh
[ -x fuzz/run.sh ] && step fuzz fuzz/run.sh 20
[ -x bench/run.sh ] && step bench-smoke bench/run.sh --smoke
if [ -x scripts/vmtest.sh ]; then
	for k in 6.1 6.12; do step "vm-$k" scripts/vmtest.sh "$k"; done
fi
echo "==== suite: $([ $status = 0 ] && echo PASSED || echo FAILED) ($SECONDS s)"
exit $status
