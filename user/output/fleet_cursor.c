// SPDX-License-Identifier: GPL-2.0-only
/*
 * The shipping cursor: one line in the state directory, rewritten atomically after each
 * acknowledgement. Losing it (or a crash before the rename) only re-sends blocks the
 * server de-duplicates by message id; it never skips one.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/atomic_file.h"
#include "fleet.h"

#define CURSOR_FORMAT \
	"exfilmon-fleet-cursor 1 last=%39s next=%llu host=%64s deleted=%llu,%llu,%llu,%llu\n"

int fleet_cursor_load(const char *path, struct fleet_cursor *c)
{
	unsigned long long next, b, r, first, last;
	char line[512];
	FILE *f = fopen(path, "re");
	int n;

	memset(c, 0, sizeof(*c));
	if (!f)
		return -errno;
	if (!fgets(line, sizeof(line), f)) {
		fclose(f);
		return -EINVAL;
	}
	fclose(f);
	n = sscanf(line, CURSOR_FORMAT, c->last_acked, &next, c->host_id, &b, &r, &first, &last);
	if (n != 7 || !config_name_ok(c->host_id))
		return -EINVAL;
	c->next_block = next;
	c->deleted = (struct fleet_deleted){ b, r, first, last };
	return 0;
}

int fleet_cursor_save(const char *path, const struct fleet_cursor *c)
{
	char line[512];
	int n;

	n = snprintf(line, sizeof(line), CURSOR_FORMAT, c->last_acked[0] ? c->last_acked : "-",
		     (unsigned long long)c->next_block, c->host_id, (unsigned long long)c->deleted.blocks,
		     (unsigned long long)c->deleted.records,
		     (unsigned long long)c->deleted.first_block,
		     (unsigned long long)c->deleted.last_block);
	return atomic_file_write(path, line, (size_t)n, 0600);
}
