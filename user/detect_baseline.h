/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Per-user daily source volume, learned on the endpoint and persisted as JSON, so a
 * restart keeps what was learned. Days are UTC.
 */
#ifndef EXFILMON_DETECT_BASELINE_H
#define EXFILMON_DETECT_BASELINE_H

#include <stdint.h>

#define BASELINE_DAYS 14
#define BASELINE_MIN_DAYS 3

struct baseline {
	uint32_t loginuid;
	uint32_t day;                /* UTC day number of today_bytes */
	uint64_t today_bytes;
	uint64_t days[BASELINE_DAYS];/* completed days, newest first */
	uint32_t n_days;
};

/* Adds bytes at time ts, rolling completed days into the history. */
void baseline_add(struct baseline *b, uint64_t ts_ns, uint64_t bytes);
/* Rolls days forward to now without adding (for idle users). */
void baseline_roll(struct baseline *b, uint64_t now_ns);
/* Mean of the completed days, or -1 while fewer than BASELINE_MIN_DAYS are learned. */
double baseline_mean(const struct baseline *b);

/* Saves/loads an array of baselines. Returns 0 or -errno; load of a missing file is 0. */
int baseline_save(const char *path, const struct baseline *v, size_t n);
int baseline_load(const char *path, struct baseline **v, size_t *n);

#endif
