/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Parsing of the value syntaxes the config uses: sizes ("50MiB"), durations ("10m"),
 * rates ("200MiB/24h") and network matches ("10.20.0.0/16:443", "[::1]:5432"). Each
 * checks the end pointer and the range once, and returns 0, -EINVAL (not that syntax)
 * or -ERANGE (that syntax, but the value does not fit). On error *out is untouched.
 */
#ifndef EXFILMON_PARSE_H
#define EXFILMON_PARSE_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

/* Decimal digits only (no sign, no space, no 0x), min <= value <= max. */
int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);
/* Bytes: an integer, then optionally one space and a unit: B, K/k/KiB (1024), KB/kB
 * (1000), M/MiB, MB, G/GiB, GB, T/TiB, TB. Units are case sensitive ("50mb" is refused
 * rather than guessed). -ERANGE when the product overflows 64 bits. */
int parse_size(const char *s, uint64_t *out);
/* Nanoseconds: an integer, then optionally one space and ns, us, ms, s, m, h, d or w;
 * a bare number means seconds. -ERANGE past 2^64 ns (about 584 years). */
int parse_duration(const char *s, uint64_t *out);
/* "SIZE/DURATION" into bytes and nanoseconds; a zero duration is -ERANGE. */
int parse_rate(const char *s, uint64_t *bytes, uint64_t *per_ns);
/* Address with optional /prefix and :port into the IPv4-mapped 128-bit form (an IPv4
 * prefix n becomes 96 + n), host bits cleared, text copied. Forms: "a.b.c.d[/n][:port]",
 * "[v6[/n]][:port]" and a bare "v6[/n]"; a port is 1-65535, none means any (0). */
int parse_net_match(const char *s, struct net_match *out);
/* "HOST:PORT" into host (without brackets) and port: HOST is a DNS name, an IPv4 address
 * or "[IPv6]"; an unbracketed IPv6 address, a bracket left open ("[::1:514") or a port
 * outside 1-65535 is refused. */
int parse_host_port(const char *s, char *host, size_t host_len, uint16_t *port);
/* A decimal such as "10" or "2.5" starting with a digit, finite, min <= value <= max. */
int parse_double(const char *s, double min, double max, double *out);
/* A point in time into unix nanoseconds (parse_time.c): RFC 3339 with optional fraction
 * and offset ("2026-11-28T07:31:54.500Z", "2026-11-28T09:31:54+02:00", "t"/"z" and a
 * space for "T" accepted; no offset means UTC), a date "2026-11-28" (UTC midnight), unix
 * seconds with optional fraction, or relative to now_ns: "now", "-DURATION" ("-2h",
 * "-30m", "-7d"), "today" and "yesterday" (local midnight, by TZ). */
int parse_time(const char *s, uint64_t now_ns, uint64_t *out);

#endif
