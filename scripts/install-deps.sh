#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Installs the Debian 12 packages that building, running and testing exfilmon need.
# Idempotent: only calls apt-get when something is missing.
set -euo pipefail

BUILD_PKGS="clang llvm make gcc pkg-config bpftool libbpf-dev libelf-dev zlib1g-dev liblz4-dev
	libcmocka-dev libyaml-dev libjansson-dev libssl-dev libsystemd-dev
	libpq-dev libnats-dev"
# Workloads and fixtures the demo and the integration tests drive.
TEST_PKGS="postgresql postgresql-client curl python3 fusefat dosfstools exfat-fuse exfatprogs
	rsyslog iproute2 util-linux procps liburing-dev chromium tzdata prometheus-node-exporter
	rsyslog-openssl openssl debhelper lintian fakeroot debootstrap strace systemd
	nats-server btrfs-progs"

want="$BUILD_PKGS"
case "${1:-build}" in
	build) ;;
	test|demo) want="$want $TEST_PKGS" ;;
	*) echo "usage: $0 [build|test|demo]" >&2; exit 2 ;;
esac

missing=""
for p in $want; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
	echo "install-deps: installing:$missing"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi
echo "install-deps: all packages present"
