#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Checks NDJSON records on stdin against the ECS reference rows in FIXTURE
(tests/lib/fixtures/ecs_fields.txt): every field outside the stored record (seq, ts_ns,
type, data) and exfilmon.* must be listed there, with a value of its type, and the
categorization fields must hold allowed values; the fields SIEMs key on must be present.
Prints "ok N records" or the first problem. usage: ecs_check.py FIXTURE < records"""
import ipaddress
import json
import re
import sys

REQUIRED = ["@timestamp", "ecs.version", "event.kind", "event.category", "event.type",
            "event.severity", "agent.type", "agent.name", "agent.id", "agent.version",
            "host.id", "host.name"]
NOT_ECS = {"seq", "ts_ns", "type", "data", "exfilmon"}
DATE = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$")


def load(path):
    types, allowed = {}, {}
    for line in open(path):
        words = line.split()
        if not words or words[0].startswith("#"):
            continue
        if words[0] == "allowed":
            allowed[words[1]] = set(words[2:])
        else:
            types[words[0]] = words[1]
    return types, allowed


def leaves(obj, prefix=""):
    for key, value in obj.items():
        path = prefix + key
        if not prefix and key in NOT_ECS:
            continue
        if isinstance(value, dict):
            yield from leaves(value, path + ".")
        elif isinstance(value, list):
            for item in value:
                yield path, item
        else:
            yield path, value


def problem(field, value, types, allowed):
    kind = types.get(field)
    if kind is None:
        return "not an ECS field in the fixture"
    if kind == "long" and not (isinstance(value, int) and not isinstance(value, bool)):
        return "not a long"
    if kind in ("keyword", "date", "ip") and not isinstance(value, str):
        return "not a string"
    if kind == "date" and not DATE.match(value):
        return "not an RFC 3339 UTC date"
    if kind == "ip":
        try:
            ipaddress.ip_address(value)
        except ValueError:
            return "not an IP address"
    if field in allowed and value not in allowed[field]:
        return "not an allowed value"
    return None


def main():
    types, allowed = load(sys.argv[1])
    n = 0
    for n, line in enumerate(sys.stdin, 1):
        rec = json.loads(line)
        seen = set()
        for field, value in leaves(rec):
            why = problem(field, value, types, allowed)
            if why:
                print(f"record {n}: {field}={value!r}: {why}")
                return 1
            seen.add(field)
        missing = [f for f in REQUIRED if f not in seen]
        if missing:
            print(f"record {n}: missing {', '.join(missing)}")
            return 1
    print(f"ok {n} records")
    return 0


sys.exit(main())
