// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for user baselines: UTC days, learned days only with source reads, the
 * median after three days, and the JSON state file (round trip, atomic replace,
 * malformed files refused whole). */
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>

#include "common/array_size.h"
#include "unit.h"
#include "detect/detect_baseline.h"

#define MIB (1ULL << 20)
#define DAY0 (20500ULL * DAY_NS)   /* midnight UTC of some day */

static char dir[] = "/tmp/test_detect_baseline.XXXXXX";
static char path[256];

static int setup(void **state)
{
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/baselines.json", dir);
	return 0;
}

static int teardown(void **state)
{
	char tmp[300];

	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	unlink(path);
	unlink(tmp);
	rmdir(dir);
	return 0;
}

static void write_text(const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_baseline_typical_needs_three_learned_days(void **state)
{
	struct baseline b = { .typical = -1 };

	baseline_add(&b, DAY0 + 3600ULL * 1000000000ULL, 10 * MIB);
	baseline_add(&b, DAY0 + DAY_NS, 20 * MIB);
	assert_true(baseline_typical(&b) < 0);
	baseline_add(&b, DAY0 + 2 * DAY_NS, 30 * MIB);
	assert_true(baseline_typical(&b) < 0);          /* today is not learned yet */
	baseline_roll(&b, DAY0 + 3 * DAY_NS);
	assert_int_equal(b.n_days, 3);
	assert_true(baseline_typical(&b) == 20.0 * MIB);
}

static void test_baseline_roll_at_utc_midnight(void **state)
{
	struct baseline b = { .typical = -1 };

	baseline_add(&b, DAY0 + DAY_NS - 1, 5);
	baseline_add(&b, DAY0 + DAY_NS - 1, 5);
	assert_int_equal(b.today_bytes, 10);
	baseline_add(&b, DAY0 + DAY_NS, 7);
	assert_int_equal(b.today_bytes, 7);
	assert_int_equal(b.n_days, 1);
	assert_int_equal(b.days[0].day, DAY0 / DAY_NS);
	assert_int_equal(b.days[0].bytes, 10);
}

static void test_baseline_roll_skips_idle_days(void **state)
{
	struct baseline b = { .typical = -1 };

	/* Three working days at 10 MiB, a fortnight off, one more day at 10 MiB. */
	for (int i = 0; i < 3; i++)
		baseline_add(&b, DAY0 + i * DAY_NS, 10 * MIB);
	baseline_add(&b, DAY0 + 17 * DAY_NS, 10 * MIB);
	baseline_roll(&b, DAY0 + 18 * DAY_NS);
	assert_int_equal(b.n_days, 4);
	/* The holiday did not pull the baseline down to zero. */
	assert_true(baseline_typical(&b) == 10.0 * MIB);
}

static void test_baseline_typical_is_median_of_last_fortnight(void **state)
{
	struct baseline b = { .typical = -1 };

	/* One huge day among ordinary ones does not move a median. */
	for (int i = 0; i < 20; i++)
		baseline_add(&b, DAY0 + i * DAY_NS, i == 18 ? 5000 * MIB : 10 * MIB + i);
	baseline_roll(&b, DAY0 + 20 * DAY_NS);
	assert_int_equal(b.n_days, BASELINE_DAYS);
	assert_true(baseline_typical(&b) < 11.0 * MIB);
	assert_int_equal(b.days[0].bytes, 10 * MIB + 19);
	assert_int_equal(b.days[BASELINE_DAYS - 1].day, DAY0 / DAY_NS + 6);
}

static void test_baseline_save_load_round_trip(void **state)
{
	struct baseline_set *set = baseline_set_new(), *again = baseline_set_new();
	struct baseline *a = baseline_get(set, 1101), *b = baseline_get(set, 1102), *c;
	struct stat st;
	char tmp[300];

	assert_ptr_equal(baseline_get(set, 1101), a);
	for (int i = 0; i < 5; i++)
		baseline_add(a, DAY0 + i * DAY_NS, (uint64_t)(i + 1) * MIB);
	baseline_add(b, DAY0, 42);
	assert_int_equal(baseline_save(set, path), 0);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	assert_int_equal(access(tmp, F_OK), -1);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(baseline_load(again, path), 0);
	assert_int_equal(baseline_count(again), 2);
	c = baseline_get(again, 1101);
	assert_int_equal(c->n_days, 4);
	assert_int_equal(c->day, a->day);
	assert_int_equal(c->today_bytes, 5 * MIB);
	assert_memory_equal(c->days, a->days, sizeof(a->days));
	assert_true(baseline_typical(c) == baseline_typical(a));
	assert_int_equal(baseline_get(again, 1102)->today_bytes, 42);
	baseline_set_free(set);
	baseline_set_free(again);
}

static void test_baseline_load_missing_file_is_empty(void **state)
{
	struct baseline_set *set = baseline_set_new();

	unlink(path);
	assert_int_equal(baseline_load(set, path), 0);
	assert_int_equal(baseline_count(set), 0);
	baseline_set_free(set);
}

static void test_baseline_load_rejects_malformed_whole(void **state)
{
	static const char *const bad[] = {
		"not json",
		"{\"version\": 2, \"users\": []}",
		"{\"version\": 1, \"users\": {}}",
		/* The first user is fine, the second is not: nothing is loaded. */
		"{\"version\": 1, \"users\": [{\"loginuid\": 1, \"day\": 1, \"today_bytes\": 1,"
		" \"days\": []}, {\"loginuid\": 2, \"day\": 1, \"today_bytes\": -5, \"days\": []}]}",
		"{\"version\": 1, \"users\": [{\"loginuid\": 1, \"day\": 1, \"today_bytes\": 1,"
		" \"days\": [{\"day\": \"x\", \"bytes\": 1}]}]}",
		"{\"version\": 1, \"users\": [{\"loginuid\": 99999999999, \"day\": 1,"
		" \"today_bytes\": 1, \"days\": []}]}",
	};

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct baseline_set *set = baseline_set_new();

		write_text(bad[i]);
		assert_int_equal(baseline_load(set, path), -EINVAL);
		assert_int_equal(baseline_count(set), 0);
		baseline_set_free(set);
	}
}

static void test_baseline_save_fails_in_missing_directory(void **state)
{
	struct baseline_set *set = baseline_set_new();

	baseline_get(set, 1);
	assert_int_equal(baseline_save(set, "/nonexistent-dir/x/baselines.json"), -ENOENT);
	baseline_set_free(set);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_baseline_typical_needs_three_learned_days),
		cmocka_unit_test(test_baseline_roll_at_utc_midnight),
		cmocka_unit_test(test_baseline_roll_skips_idle_days),
		cmocka_unit_test(test_baseline_typical_is_median_of_last_fortnight),
		cmocka_unit_test(test_baseline_save_load_round_trip),
		cmocka_unit_test(test_baseline_load_missing_file_is_empty),
		cmocka_unit_test(test_baseline_load_rejects_malformed_whole),
		cmocka_unit_test(test_baseline_save_fails_in_missing_directory),
	};

	return cmocka_run_group_tests_name("detect_baseline", tests, setup, teardown);
}
