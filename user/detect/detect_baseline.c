// SPDX-License-Identifier: GPL-2.0-only
/*
 * User baselines: today's source bytes and up to two weeks of learned days, the median
 * kept ready so the per-activity check is a comparison. Saved as small JSON through a
 * temporary file, fsync and rename; loaded all-or-nothing.
 *
 * {"version": 1, "users": [{"loginuid": 1101, "day": 20781, "today_bytes": 123,
 *   "days": [{"day": 20780, "bytes": 456}, ...]}]}
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <jansson.h>

#include "detect_baseline.h"

#define STATE_VERSION 1

struct baseline_set {
	struct baseline **v;
	size_t n, cap;
};

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void update_typical(struct baseline *b)
{
	uint64_t v[BASELINE_DAYS];
	uint32_t n = b->n_days;

	if (n < BASELINE_MIN_DAYS) {
		b->typical = -1;
		return;
	}
	for (uint32_t i = 0; i < n; i++)
		v[i] = b->days[i].bytes;
	qsort(v, n, sizeof(v[0]), cmp_u64);
	b->typical = n % 2 ? (double)v[n / 2] : ((double)v[n / 2 - 1] + (double)v[n / 2]) / 2;
}

static void learn(struct baseline *b, uint32_t day, uint64_t bytes)
{
	memmove(b->days + 1, b->days, (BASELINE_DAYS - 1) * sizeof(b->days[0]));
	b->days[0].day = day;
	b->days[0].bytes = bytes;
	if (b->n_days < BASELINE_DAYS)
		b->n_days++;
	update_typical(b);
}

void baseline_roll(struct baseline *b, uint64_t now_ns)
{
	uint32_t today = (uint32_t)(now_ns / DAY_NS);

	if (today <= b->day)
		return;
	/* Only days with source reads are learned: an idle day says nothing of usual work. */
	if (b->today_bytes)
		learn(b, b->day, b->today_bytes);
	b->day = today;
	b->today_bytes = 0;
}

void baseline_add(struct baseline *b, uint64_t ts_ns, uint64_t bytes)
{
	baseline_roll(b, ts_ns);
	/* A slice stamped a little before midnight after the roll still counts today. */
	b->today_bytes += bytes;
}

double baseline_typical(const struct baseline *b)
{
	return b->typical;
}

struct baseline_set *baseline_set_new(void)
{
	return calloc(1, sizeof(struct baseline_set));
}

void baseline_set_free(struct baseline_set *set)
{
	if (!set)
		return;
	for (size_t i = 0; i < set->n; i++)
		free(set->v[i]);
	free(set->v);
	free(set);
}

static struct baseline *find(const struct baseline_set *set, uint32_t loginuid)
{
	/* Linear: called when a user subject is created, and a workstation has few users. */
	for (size_t i = 0; i < set->n; i++)
		if (set->v[i]->loginuid == loginuid)
			return set->v[i];
	return NULL;
}

struct baseline *baseline_get(struct baseline_set *set, uint32_t loginuid)
{
	struct baseline *b = find(set, loginuid);

	if (b)
		return b;
	if (set->n >= BASELINE_MAX_USERS)
		return NULL;
	if (set->n == set->cap) {
		size_t cap = set->cap ? set->cap * 2 : 16;
		struct baseline **v = realloc(set->v, cap * sizeof(*v));

		if (!v)
			return NULL;
		set->v = v;
		set->cap = cap;
	}
	b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	b->loginuid = loginuid;
	b->typical = -1;
	set->v[set->n++] = b;
	return b;
}

size_t baseline_count(const struct baseline_set *set)
{
	return set->n;
}

void baseline_roll_all(struct baseline_set *set, uint64_t now_ns)
{
	for (size_t i = 0; i < set->n; i++)
		if (set->v[i]->day)
			baseline_roll(set->v[i], now_ns);
}

static json_t *baseline_json(const struct baseline *b)
{
	json_t *days = json_array();

	for (uint32_t i = 0; i < b->n_days; i++)
		json_array_append_new(days, json_pack("{s:I,s:I}", "day", (json_int_t)b->days[i].day,
						      "bytes", (json_int_t)b->days[i].bytes));
	return json_pack("{s:I,s:I,s:I,s:o}", "loginuid", (json_int_t)b->loginuid, "day",
			 (json_int_t)b->day, "today_bytes", (json_int_t)b->today_bytes, "days", days);
}

static int write_file(const char *path, const char *text)
{
	size_t len = strlen(text), off = 0;
	int fd, err = 0;

	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	while (off < len && !err) {
		ssize_t n = write(fd, text + off, len - off);

		if (n < 0 && errno != EINTR)
			err = -errno;
		else if (n > 0)
			off += (size_t)n;
	}
	if (!err && fsync(fd))
		err = -errno;
	if (close(fd) && !err)
		err = -errno;
	return err;
}

int baseline_save(const struct baseline_set *set, const char *path)
{
	json_t *users = json_array(), *root;
	char tmp[4096];
	char *text;
	int err;

	if ((size_t)snprintf(tmp, sizeof(tmp), "%s.tmp", path) >= sizeof(tmp)) {
		json_decref(users);
		return -ENAMETOOLONG;
	}
	for (size_t i = 0; i < set->n; i++)
		json_array_append_new(users, baseline_json(set->v[i]));
	root = json_pack("{s:i,s:o}", "version", STATE_VERSION, "users", users);
	text = root ? json_dumps(root, JSON_COMPACT) : NULL;
	json_decref(root);
	if (!text)
		return -ENOMEM;
	err = write_file(tmp, text);
	free(text);
	if (!err && rename(tmp, path))
		err = -errno;
	if (err)
		unlink(tmp);
	return err;
}

static int parse_days(struct baseline *b, json_t *days)
{
	json_t *o;
	size_t i;

	if (!json_is_array(days))
		return -EINVAL;
	json_array_foreach(days, i, o) {
		json_int_t day, bytes;

		if (json_unpack(o, "{s:I,s:I}", "day", &day, "bytes", &bytes) || day < 0 ||
		    bytes < 0 || day > UINT32_MAX)
			return -EINVAL;
		if (b->n_days == BASELINE_DAYS)
			break;
		b->days[b->n_days].day = (uint32_t)day;
		b->days[b->n_days++].bytes = (uint64_t)bytes;
	}
	update_typical(b);
	return 0;
}

static int parse_user(json_t *o, struct baseline *b)
{
	json_int_t uid, day, today;
	json_t *days;

	if (json_unpack(o, "{s:I,s:I,s:I,s:o}", "loginuid", &uid, "day", &day, "today_bytes",
			&today, "days", &days))
		return -EINVAL;
	if (uid < 0 || uid > UINT32_MAX || day < 0 || day > UINT32_MAX || today < 0)
		return -EINVAL;
	memset(b, 0, sizeof(*b));
	b->loginuid = (uint32_t)uid;
	b->day = (uint32_t)day;
	b->today_bytes = (uint64_t)today;
	return parse_days(b, days);
}

int baseline_load(struct baseline_set *set, const char *path)
{
	json_t *root, *users, *o;
	json_error_t jerr;
	struct baseline *v;
	int version, err = 0;
	size_t i, n;

	if (access(path, F_OK) && errno == ENOENT)
		return 0;
	root = json_load_file(path, 0, &jerr);
	if (!root)
		return -EINVAL;
	if (json_unpack(root, "{s:i,s:o}", "version", &version, "users", &users) ||
	    version != STATE_VERSION || !json_is_array(users)) {
		json_decref(root);
		return -EINVAL;
	}
	n = json_array_size(users);
	v = calloc(n + 1, sizeof(*v));
	if (!v) {
		json_decref(root);
		return -ENOMEM;
	}
	json_array_foreach(users, i, o)
		if (!err)
			err = parse_user(o, &v[i]);
	/* All or nothing: a half-read file would teach wrong baselines. */
	for (i = 0; i < n && !err; i++) {
		struct baseline *b = baseline_get(set, v[i].loginuid);

		if (!b)
			err = -ENOMEM;
		else
			*b = v[i];
	}
	free(v);
	json_decref(root);
	return err;
}
