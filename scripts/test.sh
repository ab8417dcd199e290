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
make -s all || exit 1

status=0
step() {
	local name=$1; shift
	echo "==== $name"
	if "$@"; then echo "==== $name: ok"; else echo "==== $name: FAILED"; status=1; fi
}
step unit make -s test
step unit-sanitizers make -s SAN=address,undefined test
step bpf make -s bpf-test
step integration tests/integration/run.sh
[ -x fuzz/run.sh ] && step fuzz fuzz/run.sh 20
[ -x bench/run.sh ] && step bench-smoke bench/run.sh --smoke
if [ -x scripts/vmtest.sh ]; then
	for k in 6.1 6.12; do step "vm-$k" scripts/vmtest.sh "$k"; done
fi
echo "==== suite: $([ $status = 0 ] && echo PASSED || echo FAILED)"
exit $status
