// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for parse_time.c: the alerts' own @timestamp, offsets, fractions, dates,
 * unix seconds and relative times, and the near misses that must be refused. */
#include <errno.h>
#include <time.h>

#include "unit.h"
#include "config/parse.h"

#define SEC 1000000000ULL
/* 2026-11-28T07:31:54Z */
#define T0 1795851114ULL

struct time_case {
	const char *text;
	uint64_t ns;
};

static void test_parse_time_rfc3339_forms(void **state)
{
	static const struct time_case ok[] = {
		{ "2026-11-28T07:31:54Z", T0 * SEC },
		{ "2026-11-28T07:31:54.500Z", T0 * SEC + 500000000 },
		{ "2026-11-28T07:31:54.123456789Z", T0 * SEC + 123456789 },
		{ "2026-11-28T07:31:54.1234567891Z", T0 * SEC + 123456789 },
		{ "2026-11-28T09:31:54.5+02:00", T0 * SEC + 500000000 },
		{ "2026-11-28T02:01:54-0530", T0 * SEC },
		{ "2026-11-28t07:31:54z", T0 * SEC },
		{ "2026-11-28 07:31:54", T0 * SEC },
		{ "2026-11-28T07:31", (T0 - 54) * SEC },
		{ "2026-11-28", (T0 - 7 * 3600 - 31 * 60 - 54) * SEC },
		{ "1795851114", T0 * SEC },
		{ "1795851114.25", T0 * SEC + 250000000 },
		{ "2024-02-29T00:00:00Z", 1709164800ULL * SEC },
	};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		uint64_t v = 0;

		assert_int_equal(parse_time(ok[i].text, 0, &v), 0);
		assert_int_equal(v, ok[i].ns);
	}
}

static void test_parse_time_rejects_near_misses(void **state)
{
	static const char *const bad[] = {
		"", "2026-11-28T07:31:54Zx", "2026-11-28T07:31:54.Z", "2026-11-28T7:31:54Z",
		"2026-11-28T07:31:54+2", "2026-11-28T07:31:54 +02:00", "2026/11/28", "26-11-28",
		"tomorrow", "-2 hours", "-", "12abc", "1795851114.", "2026-13-01", "2026-02-30",
		"2025-02-29", "2026-11-28T24:00:00Z", "2026-11-28T07:31:54+24:00", "-2x", "+2h",
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint64_t v = 42;

		assert_int_not_equal(parse_time(bad[i], T0 * SEC, &v), 0);
		assert_int_equal(v, 42);
	}
}

static void test_parse_time_relative(void **state)
{
	uint64_t now = T0 * SEC + 7, v;

	setenv("TZ", "UTC", 1);
	tzset();
	assert_int_equal(parse_time("now", now, &v), 0);
	assert_int_equal(v, now);
	assert_int_equal(parse_time("-2h", now, &v), 0);
	assert_int_equal(v, now - 2 * 3600 * SEC);
	assert_int_equal(parse_time("-30m", now, &v), 0);
	assert_int_equal(v, now - 30 * 60 * SEC);
	assert_int_equal(parse_time("-7d", now, &v), 0);
	assert_int_equal(v, now - 7 * 86400 * SEC);
	assert_int_equal(parse_time("today", now, &v), 0);
	assert_int_equal(v, (T0 - 7 * 3600 - 31 * 60 - 54) * SEC);
	assert_int_equal(parse_time("yesterday", now, &v), 0);
	assert_int_equal(v, (T0 - 7 * 3600 - 31 * 60 - 54 - 86400) * SEC);
	assert_int_equal(parse_time("-100000w", now, &v), -ERANGE);
}

static void test_parse_time_today_is_local_midnight(void **state)
{
	uint64_t v;

	/* 07:31 UTC is 16:31 in Tokyo (UTC+9, no DST): today began at 15:00 UTC the day before. */
	setenv("TZ", "Asia/Tokyo", 1);
	tzset();
	assert_int_equal(parse_time("today", T0 * SEC, &v), 0);
	assert_int_equal(v, (T0 - 16 * 3600 - 31 * 60 - 54) * SEC);
	setenv("TZ", "UTC", 1);
	tzset();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_time_rfc3339_forms),
		cmocka_unit_test(test_parse_time_rejects_near_misses),
		cmocka_unit_test(test_parse_time_relative),
		cmocka_unit_test(test_parse_time_today_is_local_midnight),
	};

	return cmocka_run_group_tests_name("parse_time", tests, NULL, NULL);
}
