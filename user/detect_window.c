// SPDX-License-Identifier: GPL-2.0-only
/*
 * Sliding sums in fixed buckets, distinct sets in open addressing, and top-N tables:
 * O(1) per activity, no allocation after setup, so detection keeps up with a million
 * activities a second and its memory does not grow with the traffic.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "detect_window.h"

void slide_init(struct slide_sum *s, uint64_t span_ns)
{
	memset(s, 0, sizeof(*s));
	s->span_ns = span_ns ? span_ns : 1;
}

static uint64_t bucket_of(const struct slide_sum *s, uint64_t ts)
{
	uint64_t width = s->span_ns / WINDOW_BUCKETS;

	return ts / (width ? width : 1);
}

/* Moves the head to bucket b, zeroing the buckets that fall out of the window. */
static void advance(struct slide_sum *s, uint64_t b)
{
	if (b <= s->head)
		return;
	if (b - s->head >= WINDOW_BUCKETS) {
		memset(s->bucket, 0, sizeof(s->bucket));
		s->total = 0;
	} else {
		for (uint64_t i = s->head + 1; i <= b; i++) {
			s->total -= s->bucket[i % WINDOW_BUCKETS];
			s->bucket[i % WINDOW_BUCKETS] = 0;
		}
	}
	s->head = b;
}

void slide_add(struct slide_sum *s, uint64_t ts, uint64_t v)
{
	uint64_t b = bucket_of(s, ts);

	advance(s, b);
	s->bucket[s->head % WINDOW_BUCKETS] += v;
	s->total += v;
}

uint64_t slide_total(struct slide_sum *s, uint64_t now)
{
	advance(s, bucket_of(s, now));
	return s->total;
}

int distinct_init(struct distinct_set *d, size_t cap, uint64_t span_ns)
{
	memset(d, 0, sizeof(*d));
	d->cap = cap;
	d->span_ns = span_ns;
	d->ids = calloc(cap, sizeof(*d->ids));
	d->seen = calloc(cap, sizeof(*d->seen));
	if (!d->ids || !d->seen) {
		distinct_free(d);
		return -ENOMEM;
	}
	return 0;
}

void distinct_free(struct distinct_set *d)
{
	free(d->ids);
	free(d->seen);
	d->ids = d->seen = NULL;
}

/* Drops ids not seen within the span, rehashing the survivors. */
static void purge(struct distinct_set *d, uint64_t now)
{
	uint64_t cut = now > d->span_ns ? now - d->span_ns : 0;
	uint64_t *ids = d->ids, *seen = d->seen;
	size_t cap = d->cap;

	d->ids = calloc(cap, sizeof(*ids));
	d->seen = calloc(cap, sizeof(*seen));
	if (!d->ids || !d->seen) {
		free(d->ids);
		free(d->seen);
		d->ids = ids;
		d->seen = seen;
		return;
	}
	d->n = 0;
	for (size_t i = 0; i < cap; i++)
		if (seen[i] && seen[i] > cut)
			distinct_add(d, ids[i], seen[i]);
	free(ids);
	free(seen);
}

size_t distinct_add(struct distinct_set *d, uint64_t id, uint64_t ts)
{
	size_t mask = d->cap - 1, i = (id * 0x9e3779b97f4a7c15ULL) >> 20 & mask;

	if (!d->cap || !ts)
		return d->n;
	for (size_t probe = 0; probe < d->cap; probe++, i = (i + 1) & mask) {
		if (d->seen[i] && d->ids[i] == id) {
			d->seen[i] = ts;
			return d->n;
		}
		if (!d->seen[i])
			break;
	}
	/* Keep a quarter free so probes stay short; purge, and saturate if still full. */
	if (d->n + 1 > d->cap * 3 / 4) {
		purge(d, ts);
		if (d->n + 1 > d->cap * 3 / 4)
			return d->n;
		return distinct_add(d, id, ts);
	}
	d->ids[i] = id;
	d->seen[i] = ts;
	return ++d->n;
}

void top_add(struct top_list *t, const char *name, uint32_t pid, uint64_t bytes)
{
	unsigned smallest = 0;

	for (unsigned i = 0; i < t->n; i++) {
		if (t->v[i].pid == pid && !strcmp(t->v[i].name, name)) {
			t->v[i].bytes += bytes;
			return;
		}
		if (t->v[i].bytes < t->v[smallest].bytes)
			smallest = i;
	}
	if (t->n < TOP_N)
		smallest = t->n++;
	else if (t->v[smallest].bytes >= bytes)
		return;
	strncpy(t->v[smallest].name, name, sizeof(t->v[smallest].name) - 1);
	t->v[smallest].name[sizeof(t->v[smallest].name) - 1] = '\0';
	t->v[smallest].bytes = bytes;
	t->v[smallest].pid = pid;
}

static int by_bytes_desc(const void *a, const void *b)
{
	const struct top_entry *x = a, *y = b;

	return x->bytes < y->bytes ? 1 : x->bytes > y->bytes ? -1 : 0;
}

unsigned top_sorted(const struct top_list *t, struct top_entry *out, unsigned max)
{
	struct top_entry tmp[TOP_N];
	unsigned n = t->n;

	memcpy(tmp, t->v, n * sizeof(tmp[0]));
	qsort(tmp, n, sizeof(tmp[0]), by_bytes_desc);
	if (n > max)
		n = max;
	memcpy(out, tmp, n * sizeof(tmp[0]));
	return n;
}
