#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The layering of user/: a file may include headers of its own folder and of the
# folders its layer lists below, nothing else. Lower layers never include higher ones,
# and siblings (agent, detect, evidence, output) do not include each other: what they
# share lives lower. central/ builds on common, model, config and evidence only.
# Prints every offending include as FILE:LINE and exits 1 if there is one.
set -u
cd "$(dirname "$0")/.."
declare -A allowed=(
	[common]="common"
	[model]="common model"
	[config]="common model config"
	[evidence]="common model evidence"
	[detect]="common model config detect"
	[output]="common model config evidence output"
	[agent]="common model config agent"
	[daemon]="common model config evidence detect output agent daemon"
	[ctl]="common model config evidence detect output agent ctl"
	[central]="common model config evidence central"
)
bad=0
while IFS= read -r f; do
	dir=${f#*/}; layer=${dir%%/*}
	[ "$f" = "central/${f#central/}" ] && layer=central
	[ -n "${allowed[$layer]+x}" ] || { echo "$f: folder '$layer' is not in the layer table" >&2; bad=1; continue; }
	while IFS=: read -r line inc; do
		target=${inc%%/*}
		[ "$target" = "$inc" ] && continue   # same folder
		case " ${allowed[$layer]} " in *" $target "*) ;; *)
			echo "$f:$line: $layer/ may not include $inc" >&2; bad=1 ;;
		esac
	done < <(grep -n -o '#include "[^"]*"' "$f" | sed 's/:#include "/:/; s/"$//')
done < <(find user central -name '*.[ch]' 2>/dev/null | sort)
[ "$bad" = 0 ] || echo "check-layers: includes that break the layering (see docs/architecture.md)" >&2
exit $bad
