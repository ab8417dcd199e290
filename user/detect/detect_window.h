/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Bounded-memory primitives detection builds its rules from: a sliding sum in fixed
 * time buckets, a distinct-object counter over the same kind of window, and a top-N
 * table of named byte counts. None allocates per call on the hot path and none scans
 * more than a constant number of entries per call, so a subject costs the same whether
 * it moved one byte or a terabyte. Everything here is named window_: window_sum_*,
 * window_distinct_* and window_top_*.
 */
#ifndef EXFILMON_DETECT_WINDOW_H
#define EXFILMON_DETECT_WINDOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A window is WINDOW_BUCKETS buckets of span/WINDOW_BUCKETS each: totals are exact to
 * one bucket (the effective span lies between span - span/60 and span). */
#define WINDOW_BUCKETS 60

struct window_bucket {
	uint64_t sum;
	uint64_t first_ns;           /* earliest activity in the bucket */
	uint64_t first_seq;          /* its evidence seq; 0 when unknown */
};

struct window_sum {
	uint64_t width_ns;           /* span / WINDOW_BUCKETS, at least 1 */
	uint64_t head;               /* absolute index (ts / width) of the newest bucket */
	uint64_t total;              /* sum of the live buckets */
	struct window_bucket b[WINDOW_BUCKETS];
};

/* Empties s and sets its span (0 is taken as 1ns). */
void window_sum_init(struct window_sum *s, uint64_t span_ns);
/*
 * Adds v at time ts_ns. A time older than the newest bucket lands in its own bucket
 * while it is still inside the window and is left out once it is not; a newer time
 * slides the window forward.
 */
void window_sum_add(struct window_sum *s, uint64_t ts_ns, uint64_t v, uint64_t seq);
/* The sum over the window ending at now_ns (slides the window forward to now_ns). */
uint64_t window_sum_total(struct window_sum *s, uint64_t now_ns);
/* Earliest time and evidence seq still inside the window; false when it is empty. */
bool window_sum_first(const struct window_sum *s, uint64_t *first_ns, uint64_t *first_seq);
/* Changes the span, moving what the old buckets hold into the new ones by time. */
void window_sum_resize(struct window_sum *s, uint64_t span_ns);

/*
 * Distinct ids whose last sighting lies within a sliding window. Open addressing with
 * the absolute bucket of each id's last sighting and a count of ids per bucket, so
 * the count is exact (to one bucket, as for window_sum) and expiry is O(1) per bucket.
 * The table starts small and doubles, up to about 4 x max_ids slots (at most 2^22);
 * ids that left the window are swept out in place when they crowd it. Counts are exact
 * up to 3 x max_ids live ids; past that the table is full of live ids, further new ids
 * are not counted and window_distinct_add returns -ENOSPC.
 */
struct window_distinct_slot {
	uint64_t id;
	uint64_t bucket;             /* absolute bucket of the last sighting + 1; 0 empty */
};

struct window_distinct {
	struct window_distinct_slot *slot;
	uint32_t cap, used;          /* slots; slots occupied by live or expired ids */
	uint32_t max_cap;
	uint32_t live;               /* ids seen within the window */
	uint32_t expired;            /* ids that left the window since the last sweep */
	uint64_t width_ns, head;
	uint32_t count[WINDOW_BUCKETS];
	bool saturated;              /* set once an id could not be counted */
};

/* Sizes the set for exact counts up to at least max_ids. Returns 0 or -ENOMEM. */
int window_distinct_init(struct window_distinct *d, uint64_t span_ns, uint64_t max_ids);
/* Frees the table (accepts a zeroed set). */
void window_distinct_free(struct window_distinct *d);
/* Raises the exact-count limit (a table never shrinks). */
void window_distinct_set_limit(struct window_distinct *d, uint64_t max_ids);
/*
 * Notes id at ts_ns. Returns 1 when the id entered the window (never seen, or seen
 * only before the window), 0 when it was already inside or ts_ns is too old to count,
 * -ENOSPC when the set is saturated, -ENOMEM when growing failed.
 */
int window_distinct_add(struct window_distinct *d, uint64_t id, uint64_t ts_ns);
/* Distinct ids within the window ending at now_ns. */
uint32_t window_distinct_count(struct window_distinct *d, uint64_t now_ns);
/* Changes the span; ids keep their last-sighting times. Returns 0 or -ENOMEM. */
int window_distinct_resize(struct window_distinct *d, uint64_t span_ns);

/*
 * Top-N heavy hitters by bytes (the Space-Saving algorithm): exact while at most TOP_N
 * distinct keys were added since the last reset; beyond that a newcomer takes the place
 * of the smallest entry and inherits its count as an error bound, so a large object that
 * arrives late in many small slices still makes the list. Keys identify entries (an
 * object id, a pid, a hash of a destination); the name is copied on entry only.
 */
#define TOP_N 16
#define TOP_NAME 256

struct window_top_entry {
	uint64_t key;
	uint64_t bytes;              /* upper bound of the entry's bytes */
	uint64_t err;                /* bytes that may belong to evicted entries */
	uint32_t pid;
	char name[TOP_NAME];
};

struct window_top {
	unsigned n;
	struct window_top_entry v[TOP_N];
};

void window_top_reset(struct window_top *t);
/* Adds bytes to the entry for key, creating it with name and pid when new. */
void window_top_add(struct window_top *t, uint64_t key, const char *name, uint32_t pid,
		    uint64_t bytes);
/*
 * Copies up to max entries into out, largest first, with bytes set to the count that is
 * certain (bytes - err). Returns how many were copied.
 */
unsigned window_top_sorted(const struct window_top *t, struct window_top_entry *out, unsigned max);

/* 64-bit FNV-1a of a string, for keys of named entries (not for security). */
uint64_t window_top_key(const char *s, uint64_t seed);

#endif
