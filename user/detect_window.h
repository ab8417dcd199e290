/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Bounded-memory primitives for detection: a bucketed sliding sum, a distinct-object
 * set with last-seen times, and a small top-N table of named byte counts.
 */
#ifndef EXFILMON_DETECT_WINDOW_H
#define EXFILMON_DETECT_WINDOW_H

#include <stddef.h>
#include <stdint.h>

#define WINDOW_BUCKETS 60

/* Sum of values over the last span_ns, in WINDOW_BUCKETS buckets (exact to 1/60 span). */
struct slide_sum {
	uint64_t span_ns;
	uint64_t head;               /* index of the newest bucket (absolute) */
	uint64_t total;
	uint64_t bucket[WINDOW_BUCKETS];
};

void slide_init(struct slide_sum *s, uint64_t span_ns);
/* Adds v at time ts (times may only move forward; older ones land in the newest bucket). */
void slide_add(struct slide_sum *s, uint64_t ts, uint64_t v);
/* The sum over (now - span, now]. */
uint64_t slide_total(struct slide_sum *s, uint64_t now);

/* Distinct ids seen within a span; capped, beyond the cap the count saturates. */
struct distinct_set {
	uint64_t *ids;
	uint64_t *seen;
	size_t cap, n;               /* open addressing, n live slots */
	uint64_t span_ns;
};

int distinct_init(struct distinct_set *d, size_t cap, uint64_t span_ns);
void distinct_free(struct distinct_set *d);
/* Notes id at ts; returns the number of distinct ids seen in (ts - span, ts]. */
size_t distinct_add(struct distinct_set *d, uint64_t id, uint64_t ts);

#define TOP_N 16

struct top_entry {
	char name[256];
	uint64_t bytes;
	uint32_t pid;
};

struct top_list {
	struct top_entry v[TOP_N];
	unsigned n;
};

/* Adds bytes to name (pid only identifies processes); keeps the TOP_N largest. */
void top_add(struct top_list *t, const char *name, uint32_t pid, uint64_t bytes);
/* Copies the largest entries, biggest first, into out (max entries). Returns count. */
unsigned top_sorted(const struct top_list *t, struct top_entry *out, unsigned max);

#endif
