#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""What adb and every libusb program do: open a USB device's usbfs node and talk to it
with ioctls. Reads the device descriptor with one control transfer (USBDEVFS_CONTROL)
and prints "VID:PID BYTES", so the test knows a transfer really went through.

usage: usb_raw.py /dev/bus/usb/BBB/DDD
"""
import ctypes
import fcntl
import os
import struct
import sys

# struct usbdevfs_ctrltransfer (linux/usbdevice_fs.h): u8 bRequestType, u8 bRequest,
# u16 wValue, u16 wIndex, u16 wLength, u32 timeout (ms), void *data: 24 bytes on x86-64.
CTRL = struct.Struct("=BBHHHI4xQ")
USBDEVFS_CONTROL = (3 << 30) | (CTRL.size << 16) | (ord("U") << 8) | 0


def main():
    fd = os.open(sys.argv[1], os.O_RDWR)
    buf = ctypes.create_string_buffer(18)
    # Standard GET_DESCRIPTOR (device, in): 0x80, 6, wValue = type 1 << 8.
    req = bytearray(CTRL.pack(0x80, 6, 1 << 8, 0, len(buf), 1000, ctypes.addressof(buf)))
    n = fcntl.ioctl(fd, USBDEVFS_CONTROL, req)
    os.close(fd)
    desc = buf.raw[:n]
    if n < 12 or desc[1] != 1:
        sys.exit(f"usb_raw: not a device descriptor ({n} bytes)")
    vid, pid = struct.unpack_from("<HH", desc, 8)
    print(f"{vid:04x}:{pid:04x} {n}")


if __name__ == "__main__":
    main()
