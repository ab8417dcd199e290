#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Writes the man pages from the same sources as --help and docs/config.md, so they
cannot drift: exfilmond(8) from `exfilmond --help`, exfilctl(8) from `exfilctl help` and
each command's --help, exfilmon.yaml(5) from the key table in docs/config.md.
usage: gen-man.py BUILD_DIR OUT_DIR VERSION"""
import os
import re
import subprocess
import sys

build, out, version = sys.argv[1], sys.argv[2], sys.argv[3]
DATE = "2026-12-04"


def esc(text):
    """roff-safe text: backslashes, leading dots and quotes, dashes of options."""
    text = text.replace("\\", "\\e").replace("-", "\\-")
    return "\n".join(("\\&" + line) if line[:1] in (".", "'") else line
                     for line in text.split("\n"))


def md(text):
    """Inline markdown (`code`, **bold**) to roff fonts, escaped."""
    parts = re.split(r"(`[^`]*`|\*\*[^*]*\*\*)", text)
    res = []
    for p in parts:
        if p.startswith("`") and p.endswith("`") and len(p) > 1:
            res.append("\\fB" + esc(p[1:-1]) + "\\fR")
        elif p.startswith("**") and p.endswith("**") and len(p) > 3:
            res.append("\\fB" + esc(p[2:-2]) + "\\fR")
        else:
            res.append(esc(p))
    return "".join(res)


def run(*args):
    return subprocess.run(args, capture_output=True, text=True, check=False).stdout


def header(name, section, title):
    return (f'.TH {name.upper()} {section} "{DATE}" "exfilmon {version}" "{title}"\n'
            f".SH NAME\n{esc(name)} \\- ")


def verbatim(text):
    return ".nf\n" + esc(text.rstrip("\n")) + "\n.fi\n"


def exfilmond():
    page = header("exfilmond", 8, "System Administration")
    page += "the exfilmon endpoint agent\n.SH SYNOPSIS\n"
    page += verbatim(run(f"{build}/exfilmond", "--help"))
    page += """.SH DESCRIPTION
\\fBexfilmond\\fR loads the eBPF sensors, ties the bytes they count to audit login
sessions, detects bulk collection, staging and exfiltration of customer data, writes
alerts (JSON lines, syslog) and keeps every event in a hash\\-chained evidence store.
It runs as the systemd service \\fBexfilmond.service\\fR (Type=notify: READY once the
sensors are attached, a watchdog fed by the main loop).
.SH SIGNALS
.TP
.B SIGHUP
Re\\-read and validate the config (a bad one is refused, the running one stays), and
reopen the alerts file and syslog.
.TP
.B SIGUSR1
Reopen the alerts file and syslog only (logrotate).
.TP
.B SIGTERM
Drain the kernel counters, seal the evidence, flush syslog, exit 0.
.SH FILES
.TP
.I /etc/exfilmon/exfilmon.yaml
the configuration, see \\fBexfilmon.yaml\\fR(5)
.TP
.I /var/lib/exfilmon/evidence
the evidence store
.TP
.I /var/log/exfilmon/alerts.jsonl
alerts, one JSON object per line
.TP
.I /run/exfilmon/status.json
health, read by \\fBexfilctl status\\fR
.SH SEE ALSO
\\fBexfilctl\\fR(8), \\fBexfilmon.yaml\\fR(5), /usr/share/doc/exfilmon/
"""
    return page


def exfilctl():
    page = header("exfilctl", 8, "System Administration")
    page += "investigate and check the exfilmon agent\n.SH SYNOPSIS\n"
    page += ".B exfilctl\n.I COMMAND\n.RI [ OPTIONS ]\n.br\n.B exfilctl \\-\\-version\n"
    page += ".SH DESCRIPTION\n" + verbatim(run(f"{build}/exfilctl", "help"))
    page += ".SH COMMANDS\n"
    for line in run(f"{build}/exfilctl", "help").splitlines():
        m = re.match(r"^  ([a-z]+) ", line)
        if not m:
            continue
        cmd = m.group(1)
        page += f".SS {cmd}\n" + verbatim(run(f"{build}/exfilctl", cmd, "--help"))
    page += """.SH EXIT STATUS
0 success, 1 failure, 2 bad usage (also an option the command does not take).
\\fBverify\\fR: 0 intact, 1 not intact (tampered, cut off, or the \\-\\-expect head not
matched), 3 the store could not be read. \\fBstatus\\fR: 0 healthy, 1 not running,
stale, no sensors or no status file.
.SH SEE ALSO
\\fBexfilmond\\fR(8), \\fBexfilmon.yaml\\fR(5), /usr/share/doc/exfilmon/investigation.md
"""
    return page


def config_keys(path):
    rows = []
    in_keys = False
    for line in open(path):
        if line.startswith("## Keys"):
            in_keys = True
            continue
        if in_keys and line.startswith("## "):
            break
        if in_keys and line.startswith("| `"):
            cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
            if len(cells) == 4:
                rows.append(cells)
    return rows


def exfilmon_yaml(root):
    page = header("exfilmon.yaml", 5, "File Formats")
    page += "configuration of the exfilmon agent\n.SH SYNOPSIS\n"
    page += ".I /etc/exfilmon/exfilmon.yaml\n.SH DESCRIPTION\n"
    page += ("One YAML mapping of the sections sources, egress, detect, output, evidence and "
             "agent. Every key is optional; an unknown key, a key given twice or a value of "
             "the wrong kind is an error that names file, line, column and key. Check a file "
             "with \\fBexfilmond \\-\\-check\\-config\\fR \\fIFILE\\fR. The running daemon "
             "applies a changed file on SIGHUP or when the file is replaced, and keeps the "
             "running config when the new one is refused.\n.SH KEYS\n")
    for key, kind, default, meaning in config_keys(os.path.join(root, "docs/config.md")):
        page += f".TP\n{md(key)}\n{md(kind)}; default {md(default)}.\n{md(meaning)}\n"
    page += """.SH SEE ALSO
\\fBexfilmond\\fR(8), \\fBexfilctl\\fR(8), /usr/share/doc/exfilmon/config.md
"""
    return page


root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
os.makedirs(out, exist_ok=True)
for name, text in (("exfilmond.8", exfilmond()), ("exfilctl.8", exfilctl()),
                   ("exfilmon.yaml.5", exfilmon_yaml(root))):
    with open(os.path.join(out, name), "w") as f:
        f.write(text)
