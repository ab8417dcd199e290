#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Runs the integration suite (or a command) inside a Debian kernel under qemu, on the
# host's userspace and this work tree, so exfilmon is proven on the kernels endpoints
# run and their fast paths (fexit, BPF-LSM, kprobes, vfat) get exercised.
#   scripts/vmtest.sh 6.1|6.12|5.10 [-- CMD...]
# One CMD argument is shell code ('uname -r; mount'), several are a command and its
# arguments. Prints the guest's uname, LSM list and the hooks exfilmon chose; exits with
# the command's status (124: the guest timed out, 98: the guest could not set itself up,
# 99: no status came back). 5.10 is optional: when it cannot be downloaded the run prints
# "vmtest: 5.10 kernel not available, skipped (why)" and exits 0; a missing 6.1 or 6.12
# fails (exit 1).
# Environment: VMTEST_TIMEOUT (seconds, default 1500), VMTEST_MEM (MiB, default 3072),
# VMTEST_APPEND (extra kernel command line, e.g. "lsm=lockdown,yama,apparmor" to boot
# with BPF-LSM inactive, or "lockdown=integrity"), VMTEST_CPU (qemu -cpu, default qemu64),
# VMTEST_SMP (guest vCPUs, default 2),
# VMTEST_CACHE (kernels and initramfs images, default .vm). docs/kernel-matrix.md has more.
# The work is all inside main(), so bash has read the whole file before the long boot.
set -euo pipefail
cd "$(dirname "$0")/.."
WORK=$(pwd)
KVER=${1:?usage: scripts/vmtest.sh 6.1|6.12|5.10 [-- CMD...]}
shift
[ "${1:-}" = "--" ] && shift
# The guest suite: the tests that depend on the kernel. The PostgreSQL and Chromium tests
# are CPU-bound under emulation and prove nothing kernel-specific, so they run on the
# host only; so does test_sensors_fallback (the pre-5.15 paths, which any kernel takes).
# Both kernels run test_sensors (every hook the kernel offers); the other
# kernel-dependent tests are shared out between the two, since under emulation each
# costs one to two minutes and the whole suite has a time budget (docs/kernel-matrix.md).
# 6.1, Debian 12's own kernel and the one whose hooks differ most from the host's (no
# sock length tracepoints, the 5.19-6.3 io_uring form), takes test_lineage (labels on
# the fexit fast path and the syscall socket path), the flow quota and the hardening
# paths (AIO, mremap, datagram destinations, AF_PACKET on the syscall path, io_uring
# fixed files and sends, the overlay alert); 6.12 the restart over pinned maps, the
# /proc sweep of dead flows, the map tamper read-back, btrfs device numbers and raw USB.
# The ring-buffer loss accounting (test_gaps) does not depend on the kernel's hooks and
# runs on the host only. Any other kernel (5.10) runs them all. The guest_*.sh tests need hardware the
# build host lacks (a USB bus: dummy_hcd here) and run only in guests.
GUEST_COMMON="test_sensors"
case $KVER in
6.1) GUEST_TESTS="$GUEST_COMMON test_lineage test_harden_attrib test_harden_paths test_harden_evasion" ;;
6.12) GUEST_TESTS="$GUEST_COMMON test_restart test_harden_sweep test_harden_tamper test_harden_btrfs guest_usb_raw" ;;
*) GUEST_TESTS="$GUEST_COMMON test_lineage test_restart test_harden_attrib test_harden_paths test_harden_evasion test_gaps test_harden_sweep test_harden_tamper test_harden_btrfs guest_usb_raw test_uring_unseen" ;;
esac
DEFAULT="echo VMTEST-HOOKS: \$(timeout 120 build/exfilctl trace --duration 1 2>&1 >/dev/null | grep -o 'ready.*'); tests/integration/run.sh $GUEST_TESTS"
case $# in
0) CMD=$DEFAULT ;;
1) CMD=$1 ;;
*) CMD=$(printf '%q ' "$@") ;;
esac
CACHE=${VMTEST_CACHE:-$WORK/.vm}
VM=$CACHE/$KVER
# Where the guest writes the command's status: inside the work tree, per kernel, so two
# kernels can run at once.
RESULT=.vm/result-$KVER
TIMEOUT=${VMTEST_TIMEOUT:-1500}
# Modules the guest loads (with their dependencies): 9p over virtio-pci for the root and
# the work tree, overlay for a writable root, and what the tests use: loop + vfat for a
# "USB stick", fuse, veth, dummy_hcd for a USB bus (a virtual host controller and its
# root hub, whose usbfs node raw USB tests open), btrfs for its subvolume device
# numbers (crc32c_generic first: libcrc32c only soft-depends on it). Built-in ones are
# simply absent from the package.
MODULES="virtio_pci 9pnet_virtio 9p overlay loop fuse vfat nls_cp437 nls_iso8859-1
	nls_ascii nls_utf8 veth dummy_hcd crc32c_generic btrfs"
case $KVER in
6.1 | 6.12 | 5.10) ;;
*) echo "vmtest: unknown kernel $KVER (6.1, 6.12 or 5.10)" >&2; exit 2 ;;
esac
mkdir -p "$VM" "$WORK/.vm"

need() {
	command -v "$1" >/dev/null && return 0
	[ -n "${APT_UPDATED:-}" ] || { apt-get update -qq; APT_UPDATED=1; }
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$2" >/dev/null
}

# 5.10 is Debian 11's: a private apt state for its archive, leaving the host's alone.
APT_OPTS=()
bullseye_apt() {
	local a=$CACHE/apt-5.10
	mkdir -p "$a/lists/partial" "$a/cache/archives/partial"
	cat >"$a/sources.list" <<-EOF
	deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bullseye main
	deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian-security bullseye-security main
	EOF
	APT_OPTS=(-o "Dir::Etc::SourceList=$a/sources.list" -o Dir::Etc::SourceParts=/nonexistent
		-o "Dir::State::Lists=$a/lists" -o "Dir::Cache=$a/cache")
	apt-get "${APT_OPTS[@]}" update -qq >/dev/null 2>&1
}

# The kernel package: the one Debian's linux-image-amd64 picks, else the newest.
package() {
	local re
	case $KVER in
	6.1) re='^linux-image-6\.1\.0-[0-9]+-amd64$' ;;
	6.12) re='^linux-image-6\.12\.[0-9]+\+deb12-amd64$' ;;
	5.10) re='^linux-image-5\.10\.0-[0-9]+-amd64$' ;;
	esac
	{ apt-cache "${APT_OPTS[@]}" depends linux-image-amd64 2>/dev/null |
		awk '/Depends: linux-image-/ {print $2}' | grep -E "$re" ||
	  apt-cache "${APT_OPTS[@]}" search --names-only "$re" 2>/dev/null |
		awk '{print $1}' | sort -V | tail -1; } | head -1
}

# 5.10 is optional: without it the run is skipped. 6.1 and 6.12 are what CI proves: fail.
skip() {
	if [ "$KVER" = 5.10 ]; then
		echo "vmtest: $KVER kernel not available, skipped ($*)"
		exit 0
	fi
	echo "vmtest: $KVER kernel not available ($*)" >&2
	exit 1
}

fetch_kernel() {
	local pkg deb
	ls "$VM"/root/boot/vmlinuz-* >/dev/null 2>&1 && return 0
	[ -n "$(ls /var/lib/apt/lists/*Packages 2>/dev/null)" ] || apt-get update -qq || true
	pkg=$(package)
	[ -n "$pkg" ] || { apt-get update -qq || true; pkg=$(package); }
	[ -n "$pkg" ] || [ "$KVER" != 5.10 ] || { bullseye_apt || true; pkg=$(package); }
	[ -n "$pkg" ] || skip "no package in the archives"
	echo "vmtest: downloading $pkg"
	rm -f "$VM"/*.deb
	(cd "$VM" && apt-get "${APT_OPTS[@]}" download -qq "$pkg" >/dev/null 2>&1) ||
		skip "$pkg could not be downloaded"
	deb=$(ls "$VM"/*.deb)
	rm -rf "$VM/root" && mkdir -p "$VM/root"
	dpkg-deb -x "$deb" "$VM/root"
	# Keep the kernel and its modules, not the 100 MB package.
	rm -f "$deb"
}

# Module and its dependencies, depth first, appended to $VM/order (no modules.dep in the
# package: each module's depends= is read with modinfo).
resolve() {
	local m=${1//-/_} f dep
	grep -qx "$m" "$VM/order" && return 0
	f=$(modpath "$m")
	[ -n "$f" ] || return 0
	for dep in $(modinfo -F depends "$f" | tr ',' ' '); do resolve "$dep"; done
	echo "$m" >>"$VM/order"
}

# The .ko file of a module; file names use '-' or '_' interchangeably.
modpath() {
	find "$VM/root/lib/modules" -regextype posix-extended \
		-regex ".*/$(echo "$1" | sed 's/[-_]/[-_]/g')\.ko(\.xz|\.zst|\.gz)?" | head -1
}

build_initramfs() {
	local ir=$VM/initramfs m f
	[ -s "$VM/initramfs.cpio.gz" ] && [ "$VM/initramfs.cpio.gz" -nt scripts/vm/init ] &&
		[ "$VM/initramfs.cpio.gz" -nt scripts/vmtest.sh ] && return 0
	rm -rf "$ir" && mkdir -p "$ir"/{bin,proc,sys,dev,modules}
	: >"$VM/order"
	for m in $MODULES; do resolve "$m"; done
	# Busybox insmod does not decompress: modules go in plain.
	while read -r m; do
		f=$(modpath "$m")
		case $f in
		*.ko.xz) xz -dc "$f" ;;
		*.ko.zst) zstd -qdc "$f" ;;
		*.ko.gz) gzip -dc "$f" ;;
		*) cat "$f" ;;
		esac >"$ir/modules/$m.ko"
		echo "$m.ko"
	done <"$VM/order" >"$ir/modules.order"
	cp "$(command -v busybox)" "$ir/bin/busybox"
	cp scripts/vm/init "$ir/init"
	chmod +x "$ir/init"
	(cd "$ir" && find . | cpio -o -H newc --quiet | gzip -1) >"$VM/initramfs.cpio.gz"
}

# The console without firmware noise, escape sequences and blank lines (kernel messages
# at error level stay); all of it is kept in $VM/console.log.
console_filter() {
	tee "$VM/console.log" | sed -u -e 's/\r$//' -e 's/\x1b\[[0-9;?]*[a-zA-Z]//g' -e 's/\x1bc//g' |
		grep --line-buffered -v -E '^(SeaBIOS|iPXE|Booting from|Press Ctrl-B)|^\[ *[0-9.]+\] reboot: Power down$|^$' ||
		true
}

main() {
	need qemu-system-x86_64 qemu-system-x86
	need busybox busybox-static
	need xz xz-utils
	need zstd zstd
	need modinfo kmod
	need cpio cpio
	fetch_kernel
	build_initramfs
	boot
}

# Boot the kernel with the command; the command's status, or 124 on timeout.
boot() {
	printf 'WORK=%q\nCMD=%q\nRESULT=%q\n' "$WORK" "$CMD" "$RESULT" >"$VM/vmtest.env"
	# The run's settings travel in a second initramfs appended to the first.
	(cd "$VM" && echo vmtest.env | cpio -o -H newc --quiet | gzip -1) >"$VM/env.cpio.gz"
	cat "$VM/initramfs.cpio.gz" "$VM/env.cpio.gz" >"$VM/boot.cpio.gz"
	local bios=() start took qrc=0 rc
	[ -f /usr/share/qemu/qboot.rom ] && bios=(-bios /usr/share/qemu/qboot.rom)
	rm -f "$WORK/$RESULT"
	echo "vmtest: booting $(basename "$(ls "$VM"/root/boot/vmlinuz-*)") (timeout ${TIMEOUT}s)"
	start=$(date +%s)
	# qemu64, not max: without AVX the guest's glibc takes its SSE2 string and memory
	# functions, which TCG runs faster; test_sensors in the 6.1 guest took 69-70 s with
	# qemu64 against 93-94 s with max, run by turns. The BPF hooks do not depend on it.
	timeout "$TIMEOUT" qemu-system-x86_64 -machine q35 -accel tcg -cpu "${VMTEST_CPU:-qemu64}" \
		-smp "${VMTEST_SMP:-2}" \
		-m "${VMTEST_MEM:-3072}" "${bios[@]}" -nic none -nographic -no-reboot \
		-kernel "$(ls "$VM"/root/boot/vmlinuz-*)" -initrd "$VM/boot.cpio.gz" \
		-append "console=ttyS0 panic=-1 quiet loglevel=3 rdinit=/init ${VMTEST_APPEND:-}" \
		-virtfs local,path=/,mount_tag=hostroot,security_model=none,readonly=on,multidevs=remap \
		-virtfs local,path="$WORK",mount_tag=work,security_model=none,multidevs=remap \
		</dev/null | console_filter || qrc=$?
	took=$(($(date +%s) - start))
	if [ "$qrc" = 124 ]; then
		echo "vmtest: $KVER timed out after ${TIMEOUT}s"
		return 124
	fi
	rc=$(cat "$WORK/$RESULT" 2>/dev/null ||
		sed -n 's/^VMTEST-EXIT=\([0-9]*\).*/\1/p' "$VM/console.log" | tail -1)
	rm -f "$WORK/$RESULT"
	echo "vmtest: $KVER finished in ${took}s with status ${rc:-unknown}"
	[ -n "$rc" ] || echo "vmtest: no status from the guest (qemu exited with $qrc)"
	return "${rc:-99}"
}

main "$@"; exit $?
