/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Exact byte totals per (group, name), for the investigator's summaries ("top files
 * read", "where data went"). Every name is kept: a hash table that grows with the
 * number of distinct names, so a flood of one-byte decoys can neither evict the real
 * destination nor cost more than the decoys' own names. The top rows are chosen by
 * bytes, largest first, never by when a name was first seen, and everything below them
 * is summed into one honest "everything else" row.
 */
#ifndef EXFILMON_TALLY_H
#define EXFILMON_TALLY_H

#include <stddef.h>
#include <stdint.h>

struct tally;

struct tally_row {
	const char *group;           /* owned by the tally, valid until tally_free */
	const char *name;
	uint64_t bytes;              /* saturates at UINT64_MAX rather than wrapping */
	uint64_t count;              /* how many tally_add calls made it */
};

/* What tally_top left out: how many names and their summed bytes and adds. */
struct tally_rest {
	size_t names;
	uint64_t bytes;
	uint64_t count;
};

/* An empty tally, or NULL with errno set. */
struct tally *tally_new(void);
/* Adds bytes to (group, name), creating it at first sight. NULL strings count as "".
 * Returns 0 or -ENOMEM (the tally is unchanged then). */
int tally_add(struct tally *t, const char *group, const char *name, uint64_t bytes);
/* Number of distinct (group, name) pairs. */
size_t tally_size(const struct tally *t);
/* Fills rows[0..ret) with the largest max entries, most bytes first, ties by group then
 * name (so the order never depends on insertion), and *rest (may be NULL) with the
 * others. Returns the number of rows filled. O(size log max), no allocation. */
size_t tally_top(const struct tally *t, struct tally_row *rows, size_t max,
		 struct tally_rest *rest);
/* Accepts NULL. */
void tally_free(struct tally *t);

#endif
