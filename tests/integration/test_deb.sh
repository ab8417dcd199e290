#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The Debian package in a clean root: `make deb`, lintian (no error or warning), then in a
# Debian 12 chroot made by debootstrap from Debian's archive: install (config validated,
# binaries, unit, man pages, logrotate, completion, docs in place), an upgrade over a
# conffile the admin modified (kept), remove (config and evidence kept), purge (evidence
# kept; deleted only with EXFILMON_PURGE_EVIDENCE=yes). Also `make install` twice over a
# site config (kept) and `make uninstall`. debootstrap runs while the package builds.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
T=$(mktemp -d /var/tmp/exfilmon-deb.XXXXXX)
CH=$T/chroot
MOUNTED=()
cleanup() {
	local m
	[ -n "${BOOT:-}" ] && kill "$BOOT" 2>/dev/null && wait "$BOOT" 2>/dev/null
	for m in "${MOUNTED[@]}"; do umount -l "$m" 2>/dev/null; done
	rm -rf "$T"
}
trap cleanup EXIT
PASS=0 FAIL=0
check() { # NAME ACTUAL EXPECTED
	if [ "$2" = "$3" ]; then PASS=$((PASS + 1)); echo "  ok   $1 ($2)"
	else FAIL=$((FAIL + 1)); echo "  FAIL $1: got '$2', expected '$3'"; fi
}
die() { echo "test_deb: FATAL: $*" >&2; exit 1; }
[ "$(id -u)" = 0 ] || die "needs root (chroot)"
for tool in debootstrap dpkg-buildpackage lintian; do
	command -v "$tool" >/dev/null || die "$tool missing (scripts/install-deps.sh test)"
done
MIRROR=${EXFILMON_DEB_MIRROR:-http://deb.debian.org/debian}
VERSION=$(cd "$ROOT" && dpkg-parsechangelog -S Version)

echo "debootstrap (background) and make deb"
debootstrap --variant=minbase \
	--include=libbpf1,libelf1,libyaml-0-2,libjansson4,libssl3,libsystemd0,zlib1g,libnats3.4,liblz4-1,logrotate \
	bookworm "$CH" "$MIRROR" >"$T/debootstrap.log" 2>&1 &
BOOT=$!
(cd "$ROOT" && make -s deb OUT="$T/build") >"$T/deb.log" 2>&1 || { tail -30 "$T/deb.log"; die "make deb"; }
DEB=$T/build/deb/exfilmon_${VERSION}_$(dpkg --print-architecture).deb
check "make deb: package built" "$(test -s "$DEB" && echo yes)" yes
lintian --fail-on error,warning "$DEB" >"$T/lintian.txt" 2>&1
check "lintian: no error or warning" "$?:$(grep -c '^[EW]:' "$T/lintian.txt")" "0:0"
grep '^[EW]:' "$T/lintian.txt" | head -10
contents=$(dpkg-deb -c "$DEB" | awk '{ print $6 }')
for f in ./usr/sbin/exfilmond ./usr/sbin/exfilctl ./lib/systemd/system/exfilmond.service \
	 ./usr/share/man/man8/exfilmond.8.gz ./usr/share/man/man8/exfilctl.8.gz \
	 ./usr/share/man/man5/exfilmon.yaml.5.gz ./etc/logrotate.d/exfilmon \
	 ./usr/share/bash-completion/completions/exfilctl ./usr/share/doc/exfilmon/deploy.md.gz \
	 ./usr/share/doc/exfilmon/copyright ./etc/exfilmon/exfilmon.yaml; do
	check "package holds $f" "$(grep -cx -- "$f" <<<"$contents")" 1
done
check "the config and the logrotate file are conffiles" \
	"$(dpkg-deb --ctrl-tarfile "$DEB" | tar -xO ./conffiles | sort | tr '\n' ' ')" \
	"/etc/exfilmon/exfilmon.yaml /etc/logrotate.d/exfilmon "

echo "make install twice over a site config, then make uninstall"
(cd "$ROOT" && make -s install DESTDIR="$T/inst" ) >"$T/install.log" 2>&1 ||
	{ tail "$T/install.log"; die "make install"; }
echo "# site change" >>"$T/inst/etc/exfilmon/exfilmon.yaml"
(cd "$ROOT" && make -s install DESTDIR="$T/inst" ) >>"$T/install.log" 2>&1
check "make install again: site config kept" "$(tail -1 "$T/inst/etc/exfilmon/exfilmon.yaml")" "# site change"
check "make install again: example beside it" "$(test -f "$T/inst/etc/exfilmon/exfilmon.yaml.dist" && echo yes)" yes
(cd "$ROOT" && make -s uninstall DESTDIR="$T/inst" ) >>"$T/install.log" 2>&1
check "make uninstall: binaries gone, config kept" \
	"$(ls "$T/inst/usr/sbin" | wc -l):$(test -f "$T/inst/etc/exfilmon/exfilmon.yaml" && echo kept)" "0:kept"

wait "$BOOT" || { tail -20 "$T/debootstrap.log"; die "debootstrap"; }
BOOT=
for m in proc sys dev; do mount --bind "/$m" "$CH/$m" && MOUNTED=("$CH/$m" "${MOUNTED[@]}"); done
cp "$DEB" "$CH/tmp/exfilmon.deb"
in_root() { chroot "$CH" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C "$@"; }

# The libraries the package was linked against (its shlibs Depends) must all be in the
# root: whatever the include list above missed comes from the archive now, so a new
# library in the build is a dependency the package declares, not a broken install.
deps=$(dpkg-deb -f "$DEB" Depends | sed 's/([^)]*)//g; s/|[^,]*//g; s/,/ /g')
missing=$(for d in $deps; do in_root dpkg -s "$d" >/dev/null 2>&1 || echo "$d"; done)
if [ -n "$missing" ]; then
	echo "installing into the root: $missing"
	{ in_root apt-get update -qq && in_root apt-get install -y -qq --no-install-recommends $missing; } \
		>"$T/deps.log" 2>&1 || { tail -20 "$T/deps.log"; die "dependencies into the root"; }
fi

echo "install"
in_root dpkg -i /tmp/exfilmon.deb >"$T/install-deb.log" 2>&1
check "dpkg -i: exit 0" "$?" 0
check "postinst validated the config" "$(grep -c '/etc/exfilmon/exfilmon.yaml: valid, sha256=' "$T/install-deb.log")" 1
check "exfilmond --version in the root" "$(in_root exfilmond --version)" "exfilmond $VERSION"
check "man pages readable" "$(in_root zcat /usr/share/man/man8/exfilctl.8.gz | grep -c '^\.TH EXFILCTL 8')" 1
check "config mode 0600" "$(stat -c %a "$CH/etc/exfilmon/exfilmon.yaml")" 600
check "unit enabled" "$(test -L "$CH/etc/systemd/system/multi-user.target.wants/exfilmond.service" && echo yes)" yes
check "logrotate accepts the file" "$(in_root logrotate -d /etc/logrotate.d/exfilmon >/dev/null 2>&1; echo $?)" 0

echo "upgrade over a modified conffile"
echo "# local change by the admin" >>"$CH/etc/exfilmon/exfilmon.yaml"
# The next version ships a changed default config: dpkg must keep the admin's.
mkdir "$T/next" && dpkg-deb -R "$DEB" "$T/next/pkg"
sed -i "s/^Version: .*/Version: $VERSION+next1/" "$T/next/pkg/DEBIAN/control"
echo "# new default in the next version" >>"$T/next/pkg/etc/exfilmon/exfilmon.yaml"
(cd "$T/next/pkg" && find . -path ./DEBIAN -prune -o -type f -print0 | sed -z 's|^\./||' |
	grep -zv '^etc/' | xargs -0 md5sum >DEBIAN/md5sums)
dpkg-deb -b --root-owner-group "$T/next/pkg" "$CH/tmp/next.deb" >/dev/null
in_root dpkg -i --force-confold /tmp/next.deb >"$T/upgrade.log" 2>&1
check "upgrade: exit 0" "$?" 0
check "upgrade: version" "$(in_root dpkg-query -W -f='${Version}' exfilmon)" "$VERSION+next1"
check "upgrade: the admin's change kept" "$(tail -1 "$CH/etc/exfilmon/exfilmon.yaml")" "# local change by the admin"
check "upgrade: new default offered beside it" "$(tail -1 "$CH/etc/exfilmon/exfilmon.yaml.dpkg-dist")" "# new default in the next version"
check "upgrade: config validated again" "$(grep -c 'valid, sha256=' "$T/upgrade.log")" 1
printf 'detect:\n  window: ten minutes\n' >"$CH/etc/exfilmon/exfilmon.yaml"
in_root dpkg-reconfigure exfilmon >"$T/reconf.log" 2>&1
check "postinst with a bad config: does not fail the package" "$?" 0
check "postinst with a bad config: says why and does not start" \
	"$(grep -c 'detect.window\|was not (re)started' "$T/reconf.log")" 2

echo "remove, purge"
mkdir -p "$CH/var/lib/exfilmon/evidence" "$CH/var/lib/exfilmon/state"
echo evidence >"$CH/var/lib/exfilmon/evidence/seg-0000000000000000.xev"
echo '{}' >"$CH/var/log/exfilmon/alerts.jsonl"
in_root dpkg -r exfilmon >"$T/remove.log" 2>&1
check "remove: exit 0" "$?" 0
check "remove: binaries gone" "$(test -e "$CH/usr/sbin/exfilmond" && echo present || echo gone)" gone
check "remove: config kept" "$(test -f "$CH/etc/exfilmon/exfilmon.yaml" && echo kept)" kept
check "remove: evidence kept" "$(cat "$CH/var/lib/exfilmon/evidence/seg-0000000000000000.xev")" evidence
in_root dpkg -P exfilmon >"$T/purge.log" 2>&1
check "purge: exit 0" "$?" 0
check "purge: config gone" "$(test -e "$CH/etc/exfilmon/exfilmon.yaml" && echo present || echo gone)" gone
check "purge: state gone" "$(test -e "$CH/var/lib/exfilmon/state" && echo present || echo gone)" gone
check "purge: evidence kept (legal hold)" "$(cat "$CH/var/lib/exfilmon/evidence/seg-0000000000000000.xev")" evidence
check "purge: alert log kept" "$(cat "$CH/var/log/exfilmon/alerts.jsonl")" "{}"
check "purge: says where the evidence is" "$(grep -c 'kept the evidence (/var/lib/exfilmon)' "$T/purge.log")" 1
in_root dpkg -i /tmp/exfilmon.deb >/dev/null 2>&1
in_root env EXFILMON_PURGE_EVIDENCE=yes dpkg -P exfilmon >"$T/purge2.log" 2>&1
check "purge with EXFILMON_PURGE_EVIDENCE=yes: evidence and log deleted" \
	"$(test -e "$CH/var/lib/exfilmon" && echo present || echo gone):$(test -e "$CH/var/log/exfilmon" && echo present || echo gone)" "gone:gone"

echo "test_deb: $PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
