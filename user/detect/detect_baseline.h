/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Per-user daily source volume, learned on the endpoint and persisted as JSON so a
 * restart keeps what was learned. Days are UTC. A learned day is a day on which the
 * user read some source data: weekends, holidays and days without customer work do not
 * pull the baseline down. The baseline is the median of the last BASELINE_DAYS learned
 * days, and exists once BASELINE_MIN_DAYS of them are known; a median, unlike a mean,
 * is not dragged up by one earlier big day.
 */
#ifndef EXFILMON_DETECT_BASELINE_H
#define EXFILMON_DETECT_BASELINE_H

#include <stddef.h>
#include <stdint.h>

#define BASELINE_DAYS 14
#define BASELINE_MIN_DAYS 3
#define BASELINE_MAX_USERS 65536
#define DAY_NS (86400ULL * 1000000000ULL)

struct baseline_day {
	uint32_t day;                /* UTC day number (days since the epoch) */
	uint64_t bytes;
};

struct baseline {
	uint32_t loginuid;
	uint32_t day;                /* UTC day of today_bytes; 0 before any activity */
	uint64_t today_bytes;
	uint32_t n_days;
	struct baseline_day days[BASELINE_DAYS]; /* learned days, newest first */
	double typical;              /* median of days[], -1 below BASELINE_MIN_DAYS */
};

/* Adds source bytes at ts_ns, first rolling a finished day into the learned days. */
void baseline_add(struct baseline *b, uint64_t ts_ns, uint64_t bytes);
/* Rolls a finished day into the learned days without adding (idle users, ticks). */
void baseline_roll(struct baseline *b, uint64_t now_ns);
/* The user's usual daily volume, or -1 while fewer than BASELINE_MIN_DAYS are learned. */
double baseline_typical(const struct baseline *b);

/* Every user's baseline; entries are allocated once and never move. */
struct baseline_set;

struct baseline_set *baseline_set_new(void);
void baseline_set_free(struct baseline_set *set);
/* The baseline of loginuid, created empty when absent; NULL when the set is full or
 * out of memory. */
struct baseline *baseline_get(struct baseline_set *set, uint32_t loginuid);
size_t baseline_count(const struct baseline_set *set);
/* Rolls every user's day forward to now_ns. */
void baseline_roll_all(struct baseline_set *set, uint64_t now_ns);

/*
 * Writes the set to path through path.tmp, fsync and rename, so a crash leaves the old
 * file or the new one whole. Returns 0 or -errno.
 */
int baseline_save(const struct baseline_set *set, const char *path);
/*
 * Reads path into set (replacing entries of the same users). A missing file is 0 and
 * leaves the set empty; an unreadable or malformed one is -EINVAL (or -errno) and loads
 * nothing.
 */
int baseline_load(struct baseline_set *set, const char *path);

#endif
