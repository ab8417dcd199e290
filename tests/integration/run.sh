#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Runs every root integration test against the real BPF programs. A test that cannot
# load BPF fails; nothing is skipped. Prints "N passed, N failed" over the test files.
# usage: tests/integration/run.sh [TEST_NAME...]
# Without names: every test_*.sh. The guest_*.sh tests need hardware this host lacks (a
# USB bus) and are named by scripts/vmtest.sh, which runs them inside Debian's kernels.
set -u
cd "$(dirname "$0")/../.."
[ "$(id -u)" = 0 ] || { echo "integration: must run as root" >&2; exit 1; }
[ -x build/exfilmond ] && [ -x build/exfilctl ] || { echo "integration: run make first" >&2; exit 1; }

# The tests run workloads, scripts and exfilctl from this checkout as unprivileged users
# (in their own login sessions): every directory above it must let them through. A clone
# made under `mktemp -d` (0700) does not; give such directories search permission only
# (o+x: nothing in them becomes listable or readable that was not).
d=$(pwd)
while [ "$d" != / ]; do
	[ -n "$(find "$d" -maxdepth 0 -perm -o+x)" ] || { echo "integration: chmod o+x $d"; chmod o+x "$d"; }
	d=$(dirname "$d")
done

tests=("$@")
[ ${#tests[@]} -gt 0 ] || mapfile -t tests < <(ls tests/integration/test_*.sh | xargs -n1 basename | sed 's/\.sh$//')

passed=0 failed=0 failed_names=()
for t in "${tests[@]}"; do
	echo "== $t"
	start=$(date +%s)
	if timeout 600 bash "tests/integration/$t.sh"; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1)); failed_names+=("$t")
	fi
	echo "   ($(( $(date +%s) - start ))s)"
done
echo "integration: ${failed_names[*]:+failed: ${failed_names[*]}}"
echo "$passed passed, $failed failed"
[ "$failed" = 0 ]
