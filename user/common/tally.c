// SPDX-License-Identifier: GPL-2.0-only
/*
 * Byte totals per (group, name): open addressing with linear probing over a power-of-two
 * table kept at most 70% full, FNV-1a over both strings. The top N come from a min-heap
 * of N rows (the caller's array), so picking them needs no memory beyond the table.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "tally.h"

#define INITIAL_SLOTS 64

struct entry {
	uint64_t hash;
	struct tally_row row;        /* row.group == NULL: a free slot */
};

struct tally {
	struct entry *slots;
	size_t cap;                  /* a power of two */
	size_t used;
};

static uint64_t key_hash(const char *group, const char *name)
{
	/* The separator keeps ("ab", "c") and ("a", "bc") apart. */
	return fnv1a64_str(name, fnv1a64_str(group, FNV1A64_INIT) ^ 0xff);
}

struct tally *tally_new(void)
{
	struct tally *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->slots = calloc(INITIAL_SLOTS, sizeof(*t->slots));
	if (!t->slots) {
		free(t);
		return NULL;
	}
	t->cap = INITIAL_SLOTS;
	return t;
}

static struct entry *probe(struct entry *slots, size_t cap, uint64_t hash, const char *group,
			   const char *name)
{
	for (size_t i = hash & (cap - 1);; i = (i + 1) & (cap - 1)) {
		struct entry *e = &slots[i];

		if (!e->row.group || (e->hash == hash && !strcmp(e->row.group, group) &&
				      !strcmp(e->row.name, name)))
			return e;
	}
}

static int grow(struct tally *t)
{
	size_t cap = t->cap * 2;
	struct entry *slots = calloc(cap, sizeof(*slots));

	if (!slots)
		return -ENOMEM;
	for (size_t i = 0; i < t->cap; i++) {
		struct entry *e = &t->slots[i];

		if (e->row.group)
			*probe(slots, cap, e->hash, e->row.group, e->row.name) = *e;
	}
	free(t->slots);
	t->slots = slots;
	t->cap = cap;
	return 0;
}

/* group and name in one allocation, owned by the entry. */
static int fill(struct entry *e, uint64_t hash, const char *group, const char *name)
{
	size_t gl = strlen(group) + 1, nl = strlen(name) + 1;
	char *key = malloc(gl + nl);

	if (!key)
		return -ENOMEM;
	memcpy(key, group, gl);
	memcpy(key + gl, name, nl);
	*e = (struct entry){ .hash = hash, .row = { .group = key, .name = key + gl } };
	return 0;
}

int tally_add(struct tally *t, const char *group, const char *name, uint64_t bytes)
{
	uint64_t hash;
	struct entry *e;

	group = group ? group : "";
	name = name ? name : "";
	hash = key_hash(group, name);
	if ((t->used + 1) * 10 > t->cap * 7 && grow(t))
		return -ENOMEM;
	e = probe(t->slots, t->cap, hash, group, name);
	if (!e->row.group) {
		if (fill(e, hash, group, name))
			return -ENOMEM;
		t->used++;
	}
	e->row.bytes = bytes > UINT64_MAX - e->row.bytes ? UINT64_MAX : e->row.bytes + bytes;
	e->row.count++;
	return 0;
}

size_t tally_size(const struct tally *t)
{
	return t->used;
}

/* a ranks above b: more bytes, then the smaller group and name. */
static bool above(const struct tally_row *a, const struct tally_row *b)
{
	int c;

	if (a->bytes != b->bytes)
		return a->bytes > b->bytes;
	c = strcmp(a->group, b->group);
	return c ? c < 0 : strcmp(a->name, b->name) < 0;
}

/* Min-heap by rank: rows[0] is the lowest-ranked row kept so far. */
static void sift_down(struct tally_row *h, size_t n, size_t i)
{
	for (;;) {
		size_t low = i, l = 2 * i + 1, r = l + 1;
		struct tally_row tmp;

		if (l < n && above(&h[low], &h[l]))
			low = l;
		if (r < n && above(&h[low], &h[r]))
			low = r;
		if (low == i)
			return;
		tmp = h[i];
		h[i] = h[low];
		h[low] = tmp;
		i = low;
	}
}

static void sift_up(struct tally_row *h, size_t i)
{
	while (i) {
		size_t parent = (i - 1) / 2;
		struct tally_row tmp;

		if (!above(&h[parent], &h[i]))
			return;
		tmp = h[i];
		h[i] = h[parent];
		h[parent] = tmp;
		i = parent;
	}
}

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return b > UINT64_MAX - a ? UINT64_MAX : a + b;
}

size_t tally_top(const struct tally *t, struct tally_row *rows, size_t max,
		 struct tally_rest *rest)
{
	struct tally_rest all = { 0 };
	size_t n = 0;

	for (size_t i = 0; i < t->cap; i++) {
		const struct tally_row *r = &t->slots[i].row;

		if (!r->group)
			continue;
		all.names++;
		all.bytes = sat_add(all.bytes, r->bytes);
		all.count = sat_add(all.count, r->count);
		if (n < max) {
			rows[n] = *r;
			sift_up(rows, n++);
		} else if (max && above(r, &rows[0])) {
			rows[0] = *r;
			sift_down(rows, n, 0);
		}
	}
	/* Heap sort: the lowest goes to the end each time, leaving highest first. */
	for (size_t end = n; end > 1; end--) {
		struct tally_row tmp = rows[0];

		rows[0] = rows[end - 1];
		rows[end - 1] = tmp;
		sift_down(rows, end - 1, 0);
	}
	if (rest) {
		/* Saturated sums cannot be taken apart again; the rest then stays "at least". */
		*rest = all;
		rest->names -= n;
		for (size_t i = 0; i < n; i++) {
			rest->bytes = all.bytes == UINT64_MAX ? UINT64_MAX : rest->bytes - rows[i].bytes;
			rest->count = all.count == UINT64_MAX ? UINT64_MAX : rest->count - rows[i].count;
		}
	}
	return n;
}

void tally_free(struct tally *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->cap; i++)
		free((char *)t->slots[i].row.group);
	free(t->slots);
	free(t);
}
