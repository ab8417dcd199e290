#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Queries a JSON-lines event stream (exfilctl trace --json) for the integration tests.

  events.py sum FILE [--kind K] [--session S] [--pid P] [--object O] [--object-prefix P]
      total bytes of matching activity records
  events.py count FILE [--event E] [--kind K] [--session S] [--pid P] [--path P] [--class C]
      number of matching records
  events.py lost FILE [--session S] [--what W]
      records lost according to gap records
"""
import argparse
import json
import sys


def records(path):
    with open(path, encoding="utf-8", errors="replace") as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line.startswith("{"):
                continue
            try:
                yield json.loads(line)
            except json.JSONDecodeError as e:
                sys.exit(f"{path}:{n}: not JSON: {e}")


def match(r, a):
    checks = [("kind", a.kind), ("event", a.event), ("object", a.object), ("what", a.what),
              ("path", a.path), ("class", a.cls),
              ("reason", a.reason)]
    for key, want in checks:
        if want is not None and str(r.get(key)) != want:
            return False
    if a.session is not None and str(r.get("session_id")) != a.session:
        return False
    if a.pid is not None and str(r.get("pid")) != a.pid:
        return False
    if a.object_prefix and not str(r.get("object", "")).startswith(a.object_prefix):
        return False
    return True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("op", choices=["sum", "count", "lost"])
    ap.add_argument("file")
    for opt in ("kind", "event", "session", "pid", "object", "path", "object-prefix", "what",
                "reason"):
        ap.add_argument("--" + opt)
    ap.add_argument("--class", dest="cls")
    a = ap.parse_args()
    sel = [r for r in records(a.file) if match(r, a)]
    if a.op == "lost":
        print(sum(int(r.get("count", 0)) for r in sel if r.get("event") == "gap"))
    elif a.op == "sum":
        print(sum(int(r.get("bytes", 0)) for r in sel if "kind" in r))
    else:
        print(len(sel))


if __name__ == "__main__":
    main()
