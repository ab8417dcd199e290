/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Parsing of the value syntaxes the config uses: sizes ("50MiB"), durations ("10m"),
 * rates ("200MiB/24h") and network matches ("10.20.0.0/16:443", "[::1]:5432"). Each
 * checks the end pointer and the range once, and returns 0, -EINVAL or -ERANGE.
 */
#ifndef EXFILMON_PARSE_H
#define EXFILMON_PARSE_H

#include <stdint.h>

#include "config.h"

int parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);
/* Bytes: plain number, or with B, K/KB/KiB, M/MB/MiB, G/GB/GiB, T/TB/TiB (KB = 1000,
 * KiB and K = 1024). */
int parse_size(const char *s, uint64_t *out);
/* Nanoseconds: number with ns, us, ms, s, m, h, d, w; a bare number means seconds. */
int parse_duration(const char *s, uint64_t *out);
/* "SIZE/DURATION". */
int parse_rate(const char *s, uint64_t *bytes, uint64_t *per_ns);
/* Address (IPv4 or IPv6, optional /prefix), optional port: "a.b.c.d[/n][:port]",
 * "[v6][/n][:port]" or a bare "v6[/n]". */
int parse_net_match(const char *s, struct net_match *out);
/* A positive decimal such as "10" or "2.5". */
int parse_double(const char *s, double min, double max, double *out);

#endif
