#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Builds the Debian package (debian/) from a copy of the files git tracks, plus those not
# yet committed, so the working tree's build/ is never cleaned by dpkg-buildpackage.
# The .deb, .buildinfo and .changes land in OUT_DIR. usage: scripts/build-deb.sh OUT_DIR
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mkdir -p "$1" && cd "$1" && pwd)
version=$(dpkg-parsechangelog -S Version)
src=$out/src/exfilmon-$version
rm -rf "$out/src" && mkdir -p "$src"
git ls-files -co --exclude-standard -z | grep -zv '^build/' | xargs -0 cp -P --parents -t "$src"
# The package is built by its own make: nothing of the calling make (OUT=...) may leak in.
unset MAKEFLAGS MFLAGS MAKELEVEL MAKEOVERRIDES OUT DESTDIR PREFIX
(cd "$src" && DEB_BUILD_OPTIONS="${DEB_BUILD_OPTIONS:+$DEB_BUILD_OPTIONS }parallel=2" \
	dpkg-buildpackage -us -uc -b --no-sign >"$out/build.log" 2>&1) ||
	{ tail -40 "$out/build.log"; echo "build-deb: failed (full log: $out/build.log)" >&2; exit 1; }
mv "$out"/src/exfilmon_"$version"_* "$out"/
rm -rf "$out/src"
ls "$out"/exfilmon_"$version"_*.deb
