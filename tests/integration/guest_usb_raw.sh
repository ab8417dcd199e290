#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Issue 11 B12 (adb): raw USB through usbfs. adb, fastboot and every libusb program open
# the device's node under /dev/bus/usb and move data with USBDEVFS_* ioctls, which no
# sensor counts; the open is reported instead: a sensor_integrity alert (usb_raw) naming
# the session. Other character devices (/dev/null, /dev/urandom, a tty) raise nothing,
# and neither does a usbfs open outside any login session.
# Needs a USB bus, which the build host does not have: scripts/vmtest.sh loads dummy_hcd
# (a virtual host controller and its root hub) and runs this test in the guest. Run
# anywhere else it fails, never skips.
. "$(dirname "$0")/../lib/itest.sh"

NODE=$(ls -d /dev/bus/usb/[0-9]*/[0-9]* 2>/dev/null | head -1)
[ -n "$NODE" ] || die "no USB device node under /dev/bus/usb (this test runs in the \
scripts/vmtest.sh guests, where dummy_hcd provides a bus)"
# As adb's udev rules do for phones: the user may open the device.
chmod 0666 "$NODE"
ensure_user alice 1101
SRC=$T/src
mkdir -p "$SRC"
echo "id,name" >"$SRC/customers.csv"
chmod -R a+rX "$T"
cat >"$T/exfilmon.yaml" <<YAML
sources:
  paths: ["$SRC"]
egress:
  allow: ["127.0.0.1/32"]
$(itest_config_tail)
YAML
daemon_start "$T/exfilmon.yaml"

in_session 1101 "$T/usb.info" python3 "$LIB/usb_raw.py" "$NODE" >"$T/usb.out" ||
	die "the usbfs workload failed: $(cat "$T/usb.out")"
in_session 1101 "$T/chr.info" sh -c "head -c 64 /dev/urandom >/dev/null; : </dev/zero; \
	script -qc true /dev/null" >/dev/null || die "the char device workload failed"
# Outside any login session (as udev or fwupd would): not an insider's open.
python3 "$LIB/usb_raw.py" "$NODE" >"$T/root.out" || die "the sessionless usbfs open failed"
U=$(info_session "$T/usb.info"); C=$(info_session "$T/chr.info")
alerts() { python3 "$LIB/alerts.py" "$T/alerts.jsonl" count --rule sensor_integrity \
	--reason usb_raw "$@"; }
wait_true 30 '[ "$(alerts --session "$U")" -ge 1 ]'
kill -TERM $DAEMON
wait $DAEMON
check "daemon exit status" "$?" 0

check "a real transfer went through usbfs (the device descriptor was read)" \
	"$(awk '{print $2}' "$T/usb.out")" 18
check "usbfs open in a session: a usb_raw alert naming the session and the person" \
	"$(alerts --session "$U" --user alice)" 1
check "the alert names the device node" \
	"$(grep -F "$NODE" "$T/alerts.jsonl" | grep -c '"usb_raw"')" 1
check "other character devices raise nothing" "$(alerts --session "$C")" 0
check "no usb_raw alert outside the session that opened the device" "$(alerts)" 1
itest_finish
