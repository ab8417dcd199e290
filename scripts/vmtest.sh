#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Runs the integration suite (or a command) inside a Debian kernel under qemu, on the
# host's userspace and this work tree, so exfilmon is proven on the kernels endpoints
# run and their fast paths (fexit, BPF-LSM, vfat) get exercised.
#   scripts/vmtest.sh 6.1|6.12|5.10 [-- CMD...]
# Prints the guest's uname and the hooks exfilmon chose; exits with the command's status.
# A kernel that cannot be downloaded from the configured archives (5.10 on Debian 12) is
# skipped with exit 0 and a line saying so.
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=$(pwd)
KVER=${1:?usage: scripts/vmtest.sh KVER [-- CMD...]}
shift
[ "${1:-}" = "--" ] && shift
# The guest suite: the sensor, loss and restart tests (the PostgreSQL and Chromium tests
# are CPU-bound and prove nothing kernel-specific, so they run on the host only; so does
# test_sensors_fallback, the paths of pre-5.15 kernels, which any kernel can take).
DEFAULT="echo VMTEST-HOOKS: \$(timeout 120 build/exfilctl trace --duration 1 2>&1 >/dev/null | grep -o 'ready.*'); tests/integration/run.sh test_sensors test_gaps test_restart"
CMD=${*:-$DEFAULT}
VM=$WORK/.vm/$KVER
mkdir -p "$VM"

need() { command -v "$1" >/dev/null || { apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$2" >/dev/null; }; }
need qemu-system-x86_64 qemu-system-x86
need busybox busybox-static
need xz xz-utils
need zstd zstd
need modinfo kmod
need cpio cpio

package() {
	case $KVER in
	6.1) apt-cache depends linux-image-amd64 2>/dev/null | awk '/Depends: linux-image-6.1/ {print $2; exit}' ;;
	6.12) apt-cache search --names-only '^linux-image-6\.12\.[0-9]+\+deb12-amd64$' | awk '{print $1}' | sort -V | tail -1 ;;
	5.10) apt-cache search --names-only '^linux-image-5\.10\.[0-9-]+-amd64$' | awk '{print $1}' | sort -V | tail -1 ;;
	*) echo "vmtest: unknown kernel $KVER (6.1, 6.12 or 5.10)" >&2; exit 2 ;;
	esac
}

fetch_kernel() {
	local pkg
	[ -n "$(ls "$VM"/root/boot/vmlinuz-* 2>/dev/null)" ] && return 0
	pkg=$(package)
	if [ -z "$pkg" ]; then
		[ -n "$(ls /var/lib/apt/lists/*Packages 2>/dev/null)" ] || apt-get update -qq
		pkg=$(package)
	fi
	if [ -z "$pkg" ]; then
		echo "vmtest: $KVER kernel not available from the configured archives, skipped"
		exit 0
	fi
	(cd "$VM" && apt-get download "$pkg" >/dev/null 2>&1) ||
		{ echo "vmtest: $KVER kernel ($pkg) could not be downloaded, skipped"; exit 0; }
	rm -rf "$VM/root" && mkdir -p "$VM/root"
	dpkg-deb -x "$VM"/"$pkg"_*.deb "$VM/root"
}

# Modules and everything they depend on (the package ships no modules.dep), in load order.
MODULES="virtio virtio_ring virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci 9pnet
	9pnet_virtio 9p loop fuse fat vfat nls_cp437 nls_iso8859-1 nls_ascii veth"
resolve() {
	local m=$1 f dep
	f=$(find "$VM/root/lib/modules" -name "$m.ko*" | head -1)
	[ -n "$f" ] || return 0
	for dep in $(modinfo -F depends "$f" | tr ',' ' '); do
		grep -qx "$dep" "$VM/order.tmp" || resolve "$dep"
	done
	grep -qx "$m" "$VM/order.tmp" || echo "$m" >>"$VM/order.tmp"
}

build_initramfs() {
	local ir=$VM/initramfs m f
	[ -s "$VM/initramfs.cpio.gz" ] && [ "$VM/initramfs.cpio.gz" -nt scripts/vm/init ] && return 0
	rm -rf "$ir" "$VM/order.tmp" && mkdir -p "$ir"/{bin,proc,sys,dev,modules,newroot}
	: >"$VM/order.tmp"
	for m in $MODULES; do resolve "$(echo "$m" | tr - _)"; resolve "$m"; done
	: >"$ir/modules.order"
	while read -r m; do
		f=$(find "$VM/root/lib/modules" -name "$m.ko*" | head -1)
		case $f in
		*.ko.xz) xz -dc "$f" >"$ir/modules/$m.ko" ;;
		*.ko.zst) zstd -qdc "$f" >"$ir/modules/$m.ko" ;;
		*) cp "$f" "$ir/modules/$m.ko" ;;
		esac
		echo "$m.ko" >>"$ir/modules.order"
	done <"$VM/order.tmp"
	cp "$(command -v busybox)" "$ir/bin/busybox"
	cp scripts/vm/init "$ir/init"
	chmod +x "$ir/init"
	(cd "$ir" && find . | cpio -o -H newc --quiet | gzip -1) >"$VM/initramfs.cpio.gz"
}

fetch_kernel
build_initramfs
printf 'WORK=%q\nCMD=%q\n' "$WORK" "$CMD" >"$VM/vmtest.env"
# The environment travels in a second initramfs appended to the first.
(cd "$VM" && echo vmtest.env | cpio -o -H newc --quiet | gzip -1) >"$VM/env.cpio.gz"
cat "$VM/initramfs.cpio.gz" "$VM/env.cpio.gz" >"$VM/boot.cpio.gz"
rm -f "$WORK/.vm/result"
start=$(date +%s)
timeout 1500 qemu-system-x86_64 -machine q35 -accel tcg -cpu max -smp 2 -m 3072 \
	-kernel "$(ls "$VM"/root/boot/vmlinuz-* | head -1)" -initrd "$VM/boot.cpio.gz" \
	-append "console=ttyS0 panic=-1 quiet loglevel=3 rdinit=/init" \
	-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
	-virtfs local,path="$WORK",mount_tag=work,security_model=none,multidevs=remap \
	-nographic -no-reboot -serial mon:stdio -display none </dev/null |
	tr -d '\r' | grep -v '^\[' || true
rc=$(cat "$WORK/.vm/result" 2>/dev/null || echo 99)
echo "vmtest: $KVER finished in $(( $(date +%s) - start ))s with status $rc"
exit "$rc"
