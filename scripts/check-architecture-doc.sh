#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# docs/architecture.md must name every layer folder of user/ and every module in it
# (ctl_<name>.c subcommands are covered by the pattern the doc names), so a newcomer
# finds any module from the doc in one hop. Prints what is missing and exits 1.
set -u
cd "$(dirname "$0")/.."
doc=docs/architecture.md
bad=0
for d in user/*/; do
	d=${d#user/}; d=${d%/}
	grep -q "\`$d/\`" "$doc" || { echo "$doc: folder user/$d/ not in the layer table" >&2; bad=1; }
done
for f in user/*/*.c; do
	base=${f#user/}
	case $base in ctl/ctl_*.c) grep -q 'ctl_<name>.c' "$doc" && continue ;; esac
	grep -q "${base##*/}" "$doc" || { echo "$doc: module $f not described" >&2; bad=1; }
done
exit $bad
