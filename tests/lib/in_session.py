#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Runs a command in a fresh audit login session, as a login would.

Writing a uid to /proc/self/loginuid from a process whose loginuid is unset (or as root
with CAP_AUDIT_CONTROL) gives it a new audit session id, exactly what pam_loginuid does
for sshd and login. The session id and pid are written to --info before the exec, so a
test knows what to look for; then privileges drop to the uid and the command runs.

usage: in_session.py --uid N [--keep-root] --info FILE -- CMD [ARG...]
"""
import argparse
import os
import pwd
import sys


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--uid", type=int, required=True)
    ap.add_argument("--info", required=True)
    ap.add_argument("--keep-root", action="store_true",
                    help="stay root (for workloads that need it, e.g. mounts)")
    ap.add_argument("cmd", nargs=argparse.REMAINDER)
    a = ap.parse_args()
    cmd = a.cmd[1:] if a.cmd and a.cmd[0] == "--" else a.cmd
    if not cmd:
        ap.error("no command")
    with open("/proc/self/loginuid", "w") as f:
        f.write(str(a.uid))
    with open("/proc/self/sessionid") as f:
        session = f.read().strip()
    with open(a.info, "w") as f:
        f.write(f"{session} {os.getpid()}\n")
    if not a.keep_root:
        try:
            pw = pwd.getpwuid(a.uid)
            os.initgroups(pw.pw_name, pw.pw_gid)
            os.setgid(pw.pw_gid)
            os.environ["HOME"] = pw.pw_dir
            os.environ["USER"] = pw.pw_name
        except KeyError:
            os.setgroups([])
            os.setgid(a.uid)
        os.setuid(a.uid)
    os.execvp(cmd[0], cmd)


if __name__ == "__main__":
    sys.exit(main())
