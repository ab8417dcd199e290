#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""Turns bench/run.sh's raw results into the one table it prints.

results.tsv: CONFIG PAIR PHASE(base|traced) WORKLOAD NS_PER_OP, one line per run.
extra.tsv:   SECTION KEY VALUE, for everything that is not an A/B pair.

For each configuration and workload, a pair's added ns/op is its traced run minus its
baseline run; the table gives the median and the min-max over the pairs, the ratio of
exfilmon's median to the floor's, and the targets of the benchmarks issue.

usage: report.py RESULTS EXTRA [--smoke=1]
"""
import statistics
import sys
from collections import defaultdict

CONFIGS = ["none", "floor", "exfilmon", "bpftrace", "auditd"]
WORKLOADS = [
    "read4k_unwatched", "read4k_watched", "read64_unwatched", "read64_watched",
    "openclose_unwatched", "openclose_watched", "tcp_source", "tcp_egress", "udp_egress",
    "getppid", "exec",
]
# workload -> (kind, limit): "floor" = exfilmon added <= limit x floor added,
# "ns" = added <= limit ns, "pct" = added <= limit % of the baseline.
TARGETS = {
    "read4k_unwatched": ("floor", 1.2), "read64_unwatched": ("floor", 1.2),
    "read4k_watched": ("floor", 1.5), "read64_watched": ("floor", 1.5),
    "openclose_unwatched": ("floor", 1.5), "openclose_watched": ("floor", 1.5),
    "getppid": ("ns", 25), "tcp_source": ("pct", 5), "tcp_egress": ("pct", 5),
    "exec": ("pct", 10),
}


def load_pairs(path):
    runs = defaultdict(dict)  # (cfg, workload, pair) -> {phase: ns}
    with open(path) as f:
        for line in f:
            cfg, pair, phase, wl, ns = line.rstrip("\n").split("\t")
            runs[(cfg, wl, pair)][phase] = float(ns)
    added = defaultdict(list)  # (cfg, workload) -> [traced - base]
    base = defaultdict(list)
    for (cfg, wl, _), ph in runs.items():
        if "base" in ph and "traced" in ph:
            added[(cfg, wl)].append(ph["traced"] - ph["base"])
            base[(cfg, wl)].append(ph["base"])
    return added, base


def load_extra(path):
    extra = defaultdict(dict)
    with open(path) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) == 3:
                extra[parts[0]][parts[1]] = parts[2]
    return extra


def fmt_ns(v):
    return f"{v:+.0f}" if abs(v) < 100000 else f"{v / 1000:+.0f}µs".replace("µs", "k")


def cell(values):
    if not values:
        return "-"
    return f"{fmt_ns(statistics.median(values))} [{fmt_ns(min(values))}..{fmt_ns(max(values))}]"


def median_or_none(values):
    return statistics.median(values) if values else None


def verdict(wl, added, base):
    kind, limit = TARGETS[wl]
    x = median_or_none(added.get(("exfilmon", wl), []))
    if x is None:
        return None
    if kind == "floor":
        fl = median_or_none(added.get(("floor", wl), []))
        if not fl or fl <= 0:
            return None
        return x / fl <= limit, f"{x / fl:.2f}x floor (<= {limit}x)"
    if kind == "ns":
        return x <= limit, f"{x:+.0f} ns (<= {limit} ns)"
    b = statistics.median(base[("exfilmon", wl)])
    return 100 * x / b <= limit, f"{100 * x / b:+.1f}% (<= {limit}%)"


def pair_table(added, base, smoke):
    cfgs = [c for c in CONFIGS if any((c, w) in added for w in WORKLOADS)]
    head = ["workload", "base ns/op"] + [f"{c} +ns" for c in cfgs] + ["exfilmon/floor", "exfilmon %"]
    rows = []
    for wl in WORKLOADS:
        b = median_or_none(base.get(("none", wl), []) or base.get(("exfilmon", wl), []))
        if b is None:
            continue
        row = [wl, f"{b:.0f}"] + [cell(added.get((c, wl), [])) for c in cfgs]
        x = median_or_none(added.get(("exfilmon", wl), []))
        fl = median_or_none(added.get(("floor", wl), []))
        row.append(f"{x / fl:.2f}x" if x is not None and fl and fl > 30 else "-")
        bx = median_or_none(base.get(("exfilmon", wl), []))
        row.append(f"{100 * x / bx:+.1f}%" if x is not None and bx else "-")
        rows.append(row)
    widths = [max(len(r[i]) for r in rows + [head]) for i in range(len(head))]
    line = lambda r: "| " + " | ".join(v.ljust(widths[i]) for i, v in enumerate(r)) + " |"
    out = [line(head), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    out += [line(r) for r in rows]
    return out


def targets(added, base, extra):
    out = []
    for wl in WORKLOADS:
        if wl not in TARGETS:
            continue
        v = verdict(wl, added, base)
        if v:
            out.append((v[0], f"{wl}: {v[1]}"))
    for wl in WORKLOADS:
        x = median_or_none(added.get(("exfilmon", wl), []))
        for other in ("bpftrace", "auditd"):
            o = median_or_none(added.get((other, wl), []))
            if x is not None and o is not None and x >= o:
                out.append((False, f"{wl}: exfilmon {x:+.0f} ns not below {other} {o:+.0f} ns"))
    col, mem = extra.get("collector", {}), extra.get("memory", {})
    if "events_per_s" in col:
        out.append((float(col["events_per_s"]) >= 1e6,
                    f"collector: {float(col['events_per_s']):.0f} events/s (>= 1000000)"))
    lat = extra.get("latency", {})
    if "daemon_p99_ms" in lat:
        out.append((float(lat["daemon_p99_ms"]) <= 1000,
                    f"alert latency p99: {lat['daemon_p99_ms']} ms (<= 1000 ms)"))
    if "rss_idle_kib" in mem:
        out.append((int(mem["rss_idle_kib"]) <= 24 * 1024,
                    f"daemon RSS idle: {int(mem['rss_idle_kib']) / 1024:.1f} MiB (<= 24 MiB)"))
    if "bpf_maps_idle_bytes" in mem:
        out.append((int(mem["bpf_maps_idle_bytes"]) <= 64 << 20,
                    f"BPF map memory: {int(mem['bpf_maps_idle_bytes']) / 1048576:.1f} MiB (<= 64 MiB)"))
    return out


def main():
    if len(sys.argv) < 3:
        print(__doc__, file=sys.stderr)
        return 2
    smoke = "--smoke=1" in sys.argv[3:]
    added, base = load_pairs(sys.argv[1])
    extra = load_extra(sys.argv[2])
    if not added:
        print("report: no complete pairs", file=sys.stderr)
        return 1
    pairs = max(len(v) for v in added.values())
    print(f"\nAdded ns per operation, traced minus baseline in the same pair: median "
          f"[min..max] over {pairs} pairs. 'none' pairs baseline with baseline (noise).")
    print("\n".join(pair_table(added, base, smoke)))
    for section in ("profile", "collector", "latency", "memory", "burst", "check"):
        if section in extra:
            print(f"\n{section}: " + ", ".join(f"{k}={v}" for k, v in extra[section].items()))
    if smoke:
        print("\nsmoke run: harness works; numbers are not meaningful and not judged")
        return 0
    print("\ntargets:")
    for ok, text in targets(added, base, extra):
        print(f"  {'met   ' if ok else 'MISSED'} {text}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
