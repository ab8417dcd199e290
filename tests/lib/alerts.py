#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Counts alert episodes in an alerts JSON-lines file (ECS field names, docs/alerts.md).
Revisions of one episode count once: the episode is exfilmon.alert_id.

usage: alerts.py FILE count [--rule R] [--user U] [--session S] [--session-none]
                            [--destination D] [--destination-prefix P] [--config-sha H]
                            [--origin-session S] [--origin-user U] [--hand-off true|false]
                            [--chain-contains TEXT] [--source NAME] [--exclude-rule R]
                            [--origin-unknown true|false] [--reason R]
       alerts.py FILE max-egress [filters]: the largest egress_bytes of the matching alerts
"""
import argparse
import json


def dig(o, path):
    for k in path.split("."):
        if not isinstance(o, dict):
            return None
        o = o.get(k)
    return o


def matches(al, a):
    x = al.get("exfilmon", {})
    if a.rule and dig(al, "rule.name") != a.rule:
        return False
    if a.exclude_rule and dig(al, "rule.name") == a.exclude_rule:
        return False
    if a.user and dig(al, "user.name") != a.user:
        return False
    if a.reason and x.get("reason") != a.reason:
        return False
    if a.session and str(x.get("session_id")) != a.session:
        return False
    # Outside any login: no session and no person. (A per-user alert over several
    # sessions also has no session id, but it names its user.)
    if a.session_none and (x.get("session_id") is not None or dig(al, "user.name")):
        return False
    if a.config_sha and x.get("config_sha256") != a.config_sha:
        return False
    if a.source and a.source not in [s.get("name", "") for s in x.get("sources", [])]:
        return False
    dests = [d.get("name", "") for d in x.get("destinations", [])]
    if a.destination and a.destination not in dests:
        return False
    if a.destination_prefix and not any(d.startswith(a.destination_prefix) for d in dests):
        return False
    origins = x.get("origins", [])
    if a.origin_session and not any(str(o.get("session_id")) == a.origin_session
                                     for o in origins):
        return False
    if a.origin_user and not any(o.get("user") == a.origin_user for o in origins):
        return False
    if a.hand_off and str(x.get("hand_off")).lower() != a.hand_off:
        return False
    if a.origin_unknown and str(x.get("origin_unknown")).lower() != a.origin_unknown:
        return False
    chain = " | ".join(c.get("name", "") for c in x.get("chain", []))
    if a.chain_contains and a.chain_contains not in chain:
        return False
    return True


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("op", choices=["count", "max-egress"])
    for o in ("rule", "user", "session", "destination", "destination-prefix", "config-sha",
              "origin-session", "origin-user", "hand-off", "chain-contains", "source",
              "exclude-rule", "origin-unknown", "reason"):
        ap.add_argument("--" + o)
    ap.add_argument("--session-none", action="store_true")
    a = ap.parse_args()
    episodes = set()
    egress = 0
    try:
        with open(a.file) as f:
            for line in f:
                if line.strip():
                    al = json.loads(line)
                    if matches(al, a):
                        episodes.add(dig(al, "exfilmon.alert_id"))
                        egress = max(egress, dig(al, "exfilmon.egress_bytes") or 0)
    except FileNotFoundError:
        pass
    print(egress if a.op == "max-egress" else len(episodes))


if __name__ == "__main__":
    main()
