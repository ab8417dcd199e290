#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The whole test suite on a fresh Debian 12 machine, as root: installs what is missing,
# builds, runs the unit tests (plain, then under ASan and UBSan), the BPF tests, the
# root integration tests against the real BPF programs on this kernel, a short fuzz run
# of the evidence reader, the benchmark smoke run, and (beside the host's integration
# tests) the integration suite inside Debian 6.1 and 6.12 kernels under qemu. Fails
# loudly.
set -uo pipefail
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "test: run as root (integration tests load BPF)" >&2; exit 1; }

scripts/install-deps.sh test || exit 1
# Compiles run in parallel; the tests inside each step still run one after another.
JOBS=-j$(nproc)
make -s "$JOBS" all || exit 1

status=0
# Each step says how long it took: the suite's time budget is watched step by step.
# verdict NAME RC SECONDS: the step's closing line; a failure fails the suite.
verdict() {
	if [ "$2" = 0 ]; then echo "==== $1: ok ($3 s)"
	else echo "==== $1: FAILED ($3 s)"; status=1; fi
}
step() {
	local name=$1 start=$SECONDS rc=0; shift
	echo "==== $name"
	"$@" || rc=$?
	verdict "$name" "$rc" "$((SECONDS - start))"
}
# The guest suites run beside the host's integration tests: under emulation they are
# CPU-bound, while the host tests mostly wait (29% of two cores over that step, read
# from /proc/stat), so each guest gets one vCPU and they run one after the other, leaving
# the host tests a core. Each kernel is fetched and booted once first (vm-K-ready), so
# nothing of theirs uses apt while the host tests install their packages. One after the
# other, the guests with two vCPUs added about 500 s to the suite; beside the host tests
# they took 649 s together and the host step 701 s instead of 653-668.
VM_KERNELS=""
[ -x scripts/vmtest.sh ] && VM_KERNELS="6.1 6.12"
VM_LOGS=$(mktemp -d)
trap 'rm -rf "$VM_LOGS"' EXIT
guests() {
	local k start
	for k in $VM_KERNELS; do
		start=$SECONDS
		VMTEST_SMP=1 scripts/vmtest.sh "$k" >"$VM_LOGS/$k.log" 2>&1
		echo "$? $((SECONDS - start))" >"$VM_LOGS/$k.rc"
	done
}
# The guest logs go into the suite's output in turn, each under its own step line.
guest_report() {
	local k rc took
	for k in $VM_KERNELS; do
		echo "==== vm-$k (beside the host tests)"
		cat "$VM_LOGS/$k.log"
		read -r rc took <"$VM_LOGS/$k.rc" 2>/dev/null || { rc=99; took=?; }
		verdict "vm-$k" "$rc" "$took"
	done
}

step unit make -s "$JOBS" test
step unit-sanitizers make -s "$JOBS" SAN=address,undefined test
step bpf make -s "$JOBS" bpf-test
for k in $VM_KERNELS; do step "vm-$k-ready" scripts/vmtest.sh "$k" -- true; done
guests &
GUESTS=$!
step integration tests/integration/run.sh
[ -x fuzz/run.sh ] && step fuzz fuzz/run.sh 20
[ -x bench/run.sh ] && step bench-smoke bench/run.sh --smoke
wait "$GUESTS"
guest_report
echo "==== suite: $([ $status = 0 ] && echo PASSED || echo FAILED) ($SECONDS s)"
exit $status
