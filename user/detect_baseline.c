// SPDX-License-Identifier: GPL-2.0-only
/*
 * User baselines: today's source bytes and up to two weeks of completed days. Saved
 * through a temporary file and rename, so a crash leaves the old or the new file whole.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "detect_baseline.h"

#define DAY_NS (86400ULL * 1000000000ULL)

void baseline_roll(struct baseline *b, uint64_t now_ns)
{
	uint32_t today = (uint32_t)(now_ns / DAY_NS);

	if (!b->day) {
		b->day = today;
		return;
	}
	while (b->day < today) {
		memmove(b->days + 1, b->days, (BASELINE_DAYS - 1) * sizeof(b->days[0]));
		b->days[0] = b->today_bytes;
		if (b->n_days < BASELINE_DAYS)
			b->n_days++;
		b->today_bytes = 0;
		b->day++;
		/* A long absence is a run of empty days; no need to walk them one by one. */
		if (today - b->day > BASELINE_DAYS) {
			memset(b->days, 0, sizeof(b->days));
			b->n_days = BASELINE_DAYS;
			b->day = today;
		}
	}
}

void baseline_add(struct baseline *b, uint64_t ts_ns, uint64_t bytes)
{
	baseline_roll(b, ts_ns);
	b->today_bytes += bytes;
}

double baseline_mean(const struct baseline *b)
{
	uint64_t sum = 0;

	if (b->n_days < BASELINE_MIN_DAYS)
		return -1;
	for (uint32_t i = 0; i < b->n_days; i++)
		sum += b->days[i];
	return (double)sum / b->n_days;
}

int baseline_save(const char *path, const struct baseline *v, size_t n)
{
	json_t *root = json_array();
	char tmp[4096];
	int err = 0;

	for (size_t i = 0; i < n; i++) {
		json_t *o = json_object(), *days = json_array();

		for (uint32_t d = 0; d < v[i].n_days; d++)
			json_array_append_new(days, json_integer((json_int_t)v[i].days[d]));
		json_object_set_new(o, "loginuid", json_integer(v[i].loginuid));
		json_object_set_new(o, "day", json_integer(v[i].day));
		json_object_set_new(o, "today_bytes", json_integer((json_int_t)v[i].today_bytes));
		json_object_set_new(o, "days", days);
		json_array_append_new(root, o);
	}
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	if (json_dump_file(root, tmp, JSON_COMPACT) || rename(tmp, path))
		err = -EIO;
	json_decref(root);
	return err;
}

int baseline_load(const char *path, struct baseline **v, size_t *n)
{
	json_error_t jerr;
	json_t *root = json_load_file(path, 0, &jerr), *o;
	size_t i;

	*v = NULL;
	*n = 0;
	if (!root)
		return 0;
	if (!json_is_array(root) || !(*v = calloc(json_array_size(root) + 1, sizeof(**v)))) {
		json_decref(root);
		return -EINVAL;
	}
	json_array_foreach(root, i, o) {
		struct baseline *b = &(*v)[(*n)++];
		json_t *days = json_object_get(o, "days"), *d;
		size_t j;

		b->loginuid = (uint32_t)json_integer_value(json_object_get(o, "loginuid"));
		b->day = (uint32_t)json_integer_value(json_object_get(o, "day"));
		b->today_bytes = (uint64_t)json_integer_value(json_object_get(o, "today_bytes"));
		json_array_foreach(days, j, d) {
			if (j >= BASELINE_DAYS)
				break;
			b->days[j] = (uint64_t)json_integer_value(d);
			b->n_days = (uint32_t)j + 1;
		}
	}
	json_decref(root);
	return 0;
}
