// SPDX-License-Identifier: GPL-2.0-only
/*
 * Sliding sums in fixed buckets, windowed distinct counting in open addressing, and
 * Space-Saving top-N tables: O(1) per activity and no allocation apart from the rare
 * doubling of a distinct table, so detection keeps up with a million activities a
 * second and its memory does not grow with the traffic.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "common/hash.h"
#include "detect_window.h"

#define MIN_SLOTS 64u
#define MAX_SLOTS (1u << 22)   /* 64 MiB per set at most; exact to 3M live ids */

static uint64_t width_of(uint64_t span_ns)
{
	uint64_t w = span_ns / WINDOW_BUCKETS;

	return w ? w : 1;
}

/* True when absolute bucket b is one of the WINDOW_BUCKETS ending at head. */
static bool in_window(uint64_t head, uint64_t b)
{
	return b <= head && head - b < WINDOW_BUCKETS;
}

void window_sum_init(struct window_sum *s, uint64_t span_ns)
{
	memset(s, 0, sizeof(*s));
	s->width_ns = width_of(span_ns);
}

/* Moves the head to bucket b, emptying the buckets that fall out of the window. */
static void sum_advance(struct window_sum *s, uint64_t b)
{
	if (b <= s->head)
		return;
	if (b - s->head >= WINDOW_BUCKETS) {
		memset(s->b, 0, sizeof(s->b));
		s->total = 0;
	} else {
		for (uint64_t i = s->head + 1; i <= b; i++) {
			struct window_bucket *k = &s->b[i % WINDOW_BUCKETS];

			s->total -= k->sum;
			memset(k, 0, sizeof(*k));
		}
	}
	s->head = b;
}

static void bucket_put(struct window_sum *s, uint64_t b, uint64_t v, uint64_t first_ns,
		       uint64_t seq)
{
	struct window_bucket *k = &s->b[b % WINDOW_BUCKETS];

	if (!k->sum || first_ns < k->first_ns) {
		k->first_ns = first_ns;
		k->first_seq = seq;
	}
	k->sum += v;
	s->total += v;
}

void window_sum_add(struct window_sum *s, uint64_t ts_ns, uint64_t v, uint64_t seq)
{
	uint64_t b = ts_ns / s->width_ns;

	if (!v)
		return;
	sum_advance(s, b);
	if (in_window(s->head, b))
		bucket_put(s, b, v, ts_ns, seq);
}

uint64_t window_sum_total(struct window_sum *s, uint64_t now_ns)
{
	sum_advance(s, now_ns / s->width_ns);
	return s->total;
}

bool window_sum_first(const struct window_sum *s, uint64_t *first_ns, uint64_t *first_seq)
{
	for (unsigned age = WINDOW_BUCKETS; age-- > 0;) {
		const struct window_bucket *k;

		if (age > s->head)
			continue;
		k = &s->b[(s->head - age) % WINDOW_BUCKETS];
		if (k->sum) {
			*first_ns = k->first_ns;
			*first_seq = k->first_seq;
			return true;
		}
	}
	return false;
}

void window_sum_resize(struct window_sum *s, uint64_t span_ns)
{
	struct window_sum old = *s;

	if (width_of(span_ns) == s->width_ns)
		return;
	window_sum_init(s, span_ns);
	s->head = old.head * old.width_ns / s->width_ns;
	/* Oldest first, so the newest bucket decides where the window ends. */
	for (unsigned age = WINDOW_BUCKETS; age-- > 0;) {
		const struct window_bucket *k;
		uint64_t b;

		if (age > old.head)
			continue;
		k = &old.b[(old.head - age) % WINDOW_BUCKETS];
		if (!k->sum)
			continue;
		b = k->first_ns / s->width_ns;
		sum_advance(s, b);
		if (in_window(s->head, b))
			bucket_put(s, b, k->sum, k->first_ns, k->first_seq);
	}
}

static uint32_t slots_for(uint64_t max_ids)
{
	uint64_t want = max_ids * 4 + 4, cap = MIN_SLOTS;

	while (cap < want && cap < MAX_SLOTS)
		cap <<= 1;
	return (uint32_t)cap;
}

static uint32_t home_of(const struct window_distinct *d, uint64_t id)
{
	return (uint32_t)((id * 0x9e3779b97f4a7c15ULL) >> 32) & (d->cap - 1);
}

/* The slot holding id, or the empty slot where it would go. */
static struct window_distinct_slot *probe(struct window_distinct *d, uint64_t id)
{
	uint32_t i = home_of(d, id), mask = d->cap - 1;

	while (d->slot[i].bucket && d->slot[i].id != id)
		i = (i + 1) & mask;
	return &d->slot[i];
}

int window_distinct_init(struct window_distinct *d, uint64_t span_ns, uint64_t max_ids)
{
	memset(d, 0, sizeof(*d));
	d->width_ns = width_of(span_ns);
	d->cap = MIN_SLOTS;
	d->max_cap = slots_for(max_ids);
	d->slot = calloc(d->cap, sizeof(*d->slot));
	return d->slot ? 0 : -ENOMEM;
}

void window_distinct_free(struct window_distinct *d)
{
	free(d->slot);
	d->slot = NULL;
	d->cap = d->used = d->live = 0;
}

void window_distinct_set_limit(struct window_distinct *d, uint64_t max_ids)
{
	uint32_t cap = slots_for(max_ids);

	if (cap > d->max_cap)
		d->max_cap = cap;
	if (d->max_cap > d->cap)
		d->saturated = false;
}

static void distinct_advance(struct window_distinct *d, uint64_t b)
{
	if (b <= d->head)
		return;
	for (uint64_t i = d->head + 1; i <= b && i - d->head <= WINDOW_BUCKETS; i++) {
		uint32_t *c = &d->count[i % WINDOW_BUCKETS];

		d->live -= *c;
		d->expired += *c;
		*c = 0;
	}
	d->head = b;
}

/* Empties the slots of ids outside the window and re-places the survivors, in place:
 * after the purge, every occupied slot after an empty one is taken out and put back from
 * its home, which closes the gaps the purge left in the probe chains. */
static void sweep(struct window_distinct *d)
{
	uint32_t mask = d->cap - 1, start = 0;

	d->used = 0;
	for (uint32_t i = 0; i < d->cap; i++) {
		struct window_distinct_slot *s = &d->slot[i];

		if (s->bucket && !in_window(d->head, s->bucket - 1))
			s->bucket = 0;
		if (!s->bucket)
			start = i;
		else
			d->used++;
	}
	for (uint32_t k = 1; k <= d->cap; k++) {
		struct window_distinct_slot *s = &d->slot[(start + k) & mask], tmp = *s;

		if (!tmp.bucket)
			continue;
		s->bucket = 0;
		*probe(d, tmp.id) = tmp;
	}
	d->expired = 0;
}

static int grow(struct window_distinct *d)
{
	struct window_distinct_slot *old = d->slot;
	uint32_t old_cap = d->cap;

	d->slot = calloc((size_t)old_cap * 2, sizeof(*d->slot));
	if (!d->slot) {
		d->slot = old;
		return -ENOMEM;
	}
	d->cap = old_cap * 2;
	d->used = 0;
	for (uint32_t i = 0; i < old_cap; i++) {
		if (old[i].bucket && in_window(d->head, old[i].bucket - 1)) {
			*probe(d, old[i].id) = old[i];
			d->used++;
		}
	}
	d->expired = 0;
	free(old);
	return 0;
}

/* Keeps a quarter of the slots free so probe chains stay short. */
static int make_room(struct window_distinct *d)
{
	if (d->expired && d->expired >= d->used / 4)
		sweep(d);
	if ((uint64_t)(d->used + 1) * 4 <= (uint64_t)d->cap * 3)
		return 0;
	if (d->cap < d->max_cap)
		return grow(d);
	d->saturated = true;
	return -ENOSPC;
}

static int insert(struct window_distinct *d, uint64_t id, uint64_t b)
{
	struct window_distinct_slot *s;
	int err;

	err = make_room(d);
	if (err)
		return err;
	s = probe(d, id);
	s->id = id;
	s->bucket = b + 1;
	d->used++;
	d->count[b % WINDOW_BUCKETS]++;
	d->live++;
	return 1;
}

int window_distinct_add(struct window_distinct *d, uint64_t id, uint64_t ts_ns)
{
	uint64_t b = ts_ns / d->width_ns, last;
	struct window_distinct_slot *s;

	distinct_advance(d, b);
	if (!d->slot || !in_window(d->head, b))
		return 0;
	s = probe(d, id);
	if (!s->bucket)
		return insert(d, id, b);
	last = s->bucket - 1;
	if (in_window(d->head, last)) {
		if (b > last) {
			d->count[last % WINDOW_BUCKETS]--;
			d->count[b % WINDOW_BUCKETS]++;
			s->bucket = b + 1;
		}
		return 0;
	}
	/* Seen before the window only: it enters again. */
	s->bucket = b + 1;
	d->count[b % WINDOW_BUCKETS]++;
	d->live++;
	if (d->expired)
		d->expired--;
	return 1;
}

uint32_t window_distinct_count(struct window_distinct *d, uint64_t now_ns)
{
	distinct_advance(d, now_ns / d->width_ns);
	return d->live;
}

int window_distinct_resize(struct window_distinct *d, uint64_t span_ns)
{
	uint64_t old_w = d->width_ns, new_w = width_of(span_ns);

	if (new_w == old_w || !d->slot)
		return 0;
	d->width_ns = new_w;
	d->head = d->head * old_w / new_w;
	for (uint32_t i = 0; i < d->cap; i++)
		if (d->slot[i].bucket)
			d->slot[i].bucket = (d->slot[i].bucket - 1) * old_w / new_w + 1;
	sweep(d);
	memset(d->count, 0, sizeof(d->count));
	d->live = 0;
	for (uint32_t i = 0; i < d->cap; i++) {
		if (d->slot[i].bucket) {
			d->count[(d->slot[i].bucket - 1) % WINDOW_BUCKETS]++;
			d->live++;
		}
	}
	return 0;
}

void window_top_reset(struct window_top *t)
{
	t->n = 0;
}

static void top_fill(struct window_top_entry *e, uint64_t key, const char *name, uint32_t pid)
{
	size_t len = strnlen(name, TOP_NAME - 1);

	e->key = key;
	e->pid = pid;
	memcpy(e->name, name, len);
	e->name[len] = '\0';
}

void window_top_add(struct window_top *t, uint64_t key, const char *name, uint32_t pid,
		    uint64_t bytes)
{
	unsigned smallest = 0;

	for (unsigned i = 0; i < t->n; i++) {
		if (t->v[i].key == key) {
			t->v[i].bytes += bytes;
			return;
		}
		if (t->v[i].bytes < t->v[smallest].bytes)
			smallest = i;
	}
	if (t->n < TOP_N) {
		struct window_top_entry *e = &t->v[t->n++];

		top_fill(e, key, name ? name : "?", pid);
		e->bytes = bytes;
		e->err = 0;
		return;
	}
	/* Space-Saving: the newcomer replaces the smallest and inherits its count. */
	t->v[smallest].err = t->v[smallest].bytes;
	t->v[smallest].bytes += bytes;
	top_fill(&t->v[smallest], key, name ? name : "?", pid);
}

static int by_certain_desc(const void *a, const void *b)
{
	const struct window_top_entry *x = a, *y = b;
	uint64_t cx = x->bytes - x->err, cy = y->bytes - y->err;

	return cx < cy ? 1 : cx > cy ? -1 : 0;
}

unsigned window_top_sorted(const struct window_top *t, struct window_top_entry *out, unsigned max)
{
	struct window_top_entry tmp[TOP_N];
	unsigned n = t->n;

	memcpy(tmp, t->v, n * sizeof(tmp[0]));
	for (unsigned i = 0; i < n; i++) {
		tmp[i].bytes -= tmp[i].err;
		tmp[i].err = 0;
	}
	qsort(tmp, n, sizeof(tmp[0]), by_certain_desc);
	if (n > max)
		n = max;
	memcpy(out, tmp, n * sizeof(tmp[0]));
	return n;
}

uint64_t window_top_key(const char *s, uint64_t seed)
{
	return fnv1a64_str(s, FNV1A64_INIT ^ seed);
}
