// SPDX-License-Identifier: GPL-2.0-only
/*
 * Process table: open addressing with linear probing on the pid, slots pointing at
 * individually allocated entries so a pointer handed out stays valid while its process
 * is known. Deletion shifts the following run back (no tombstones), so lookups never
 * slow down as processes come and go. The table doubles while it is more than half full,
 * up to twice the entry cap; the cap is what bounds memory.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "process_table.h"

#define INITIAL_SLOTS 1024

struct process_table {
	struct process_info **slots;
	size_t n_slots;           /* a power of two */
	size_t count;
	size_t max;
	uint64_t refused;
};

/* Fibonacci hashing spreads consecutive pids over the table. */
static size_t slot_of(const struct process_table *t, uint32_t pid)
{
	return (size_t)((pid * 0x9E3779B97F4A7C15ULL) >> 32) & (t->n_slots - 1);
}

struct process_table *process_table_new(size_t max_entries)
{
	struct process_table *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->max = max_entries ? max_entries : PROCESS_TABLE_MAX;
	t->n_slots = INITIAL_SLOTS;
	t->slots = calloc(t->n_slots, sizeof(*t->slots));
	if (!t->slots) {
		free(t);
		return NULL;
	}
	return t;
}

void process_table_free(struct process_table *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->n_slots; i++)
		free(t->slots[i]);
	free(t->slots);
	free(t);
}

/* Index of pid's slot, or of the empty slot where it would go. */
static size_t find(const struct process_table *t, uint32_t pid)
{
	size_t i = slot_of(t, pid);

	while (t->slots[i] && t->slots[i]->pid != pid)
		i = (i + 1) & (t->n_slots - 1);
	return i;
}

struct process_info *process_table_get(const struct process_table *t, uint32_t pid)
{
	return t->slots[find(t, pid)];
}

static int grow(struct process_table *t)
{
	struct process_info **old = t->slots;
	size_t old_n = t->n_slots;

	t->slots = calloc(old_n * 2, sizeof(*t->slots));
	if (!t->slots) {
		t->slots = old;
		return -ENOMEM;
	}
	t->n_slots = old_n * 2;
	for (size_t i = 0; i < old_n; i++)
		if (old[i])
			t->slots[find(t, old[i]->pid)] = old[i];
	free(old);
	return 0;
}

/* Empties slot i and moves later entries of the same probe run back into the hole. */
static void remove_at(struct process_table *t, size_t i)
{
	size_t mask = t->n_slots - 1, j = i;

	free(t->slots[i]);
	t->slots[i] = NULL;
	t->count--;
	for (;;) {
		size_t home;

		j = (j + 1) & mask;
		if (!t->slots[j])
			return;
		home = slot_of(t, t->slots[j]->pid);
		/* An entry may move back only if the hole lies between its home and its slot. */
		if (((j - home) & mask) >= ((j - i) & mask)) {
			t->slots[i] = t->slots[j];
			t->slots[j] = NULL;
			i = j;
		}
	}
}

void process_table_del(struct process_table *t, uint32_t pid)
{
	size_t i = find(t, pid);

	if (t->slots[i])
		remove_at(t, i);
}

size_t process_table_expire(struct process_table *t, uint64_t cutoff_ns)
{
	size_t removed = 0;

	/* After a removal slot i holds an entry shifted back from later: look at i again. */
	for (size_t i = 0; i < t->n_slots;) {
		const struct process_info *p = t->slots[i];

		if (p && p->exited && p->exit_ns <= cutoff_ns) {
			remove_at(t, i);
			removed++;
		} else {
			i++;
		}
	}
	return removed;
}

/* Makes room at the cap by forgetting the older half (by exit time) of exited processes. */
static size_t evict_exited(struct process_table *t)
{
	uint64_t oldest = UINT64_MAX, newest = 0;

	for (size_t i = 0; i < t->n_slots; i++) {
		const struct process_info *p = t->slots[i];

		if (!p || !p->exited)
			continue;
		oldest = p->exit_ns < oldest ? p->exit_ns : oldest;
		newest = p->exit_ns > newest ? p->exit_ns : newest;
	}
	if (oldest == UINT64_MAX)
		return 0;
	return process_table_expire(t, oldest + (newest - oldest) / 2);
}

struct process_info *process_table_put(struct process_table *t, uint32_t pid)
{
	struct process_info *p;
	size_t i = find(t, pid);

	if (t->slots[i])
		return t->slots[i];
	if (t->count >= t->max && !evict_exited(t)) {
		t->refused++;
		return NULL;
	}
	if (2 * (t->count + 1) > t->n_slots && grow(t))
		return NULL;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	p->pid = pid;
	t->slots[find(t, pid)] = p;
	t->count++;
	return p;
}

size_t process_table_count(const struct process_table *t)
{
	return t->count;
}

uint64_t process_table_refused(const struct process_table *t)
{
	return t->refused;
}
