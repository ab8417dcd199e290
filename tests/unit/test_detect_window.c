// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for detection's bounded primitives: sliding sums, windowed distinct
 * counting (growth, expiry, sweeping, saturation) and Space-Saving top-N lists. */
#include <errno.h>

#include "unit.h"
#include "detect/detect_window.h"

#define S 1000000000ULL
#define T0 (1795800000ULL * S)
#define SPAN (600 * S)           /* 60 buckets of 10 s */

static void test_window_sum_total_sums_within_span(void **state)
{
	struct window_sum s;

	window_sum_init(&s, SPAN);
	window_sum_add(&s, T0, 100, 1);
	window_sum_add(&s, T0 + 300 * S, 50, 2);
	assert_int_equal(window_sum_total(&s, T0 + 300 * S), 150);
	/* One bucket (10 s) past the span the first slice has left. */
	assert_int_equal(window_sum_total(&s, T0 + 599 * S), 150);
	assert_int_equal(window_sum_total(&s, T0 + 610 * S), 50);
	assert_int_equal(window_sum_total(&s, T0 + 910 * S), 0);
}

static void test_window_sum_add_late_slice_lands_in_its_bucket(void **state)
{
	struct window_sum s;
	uint64_t ns, seq;

	window_sum_init(&s, SPAN);
	window_sum_add(&s, T0 + 500 * S, 10, 7);
	window_sum_add(&s, T0 + 100 * S, 5, 3);     /* late, still inside the window */
	assert_int_equal(window_sum_total(&s, T0 + 500 * S), 15);
	assert_true(window_sum_first(&s, &ns, &seq));
	assert_int_equal(ns, T0 + 100 * S);
	assert_int_equal(seq, 3);
	/* The late slice leaves first. */
	assert_int_equal(window_sum_total(&s, T0 + 710 * S), 10);
	/* A slice older than the whole window is left out. */
	window_sum_add(&s, T0, 1000, 1);
	assert_int_equal(window_sum_total(&s, T0 + 710 * S), 10);
}

static void test_window_sum_first_empty_window(void **state)
{
	struct window_sum s;
	uint64_t ns = 0, seq = 0;

	window_sum_init(&s, SPAN);
	assert_false(window_sum_first(&s, &ns, &seq));
	window_sum_add(&s, T0, 1, 9);
	window_sum_total(&s, T0 + 2 * SPAN);
	assert_false(window_sum_first(&s, &ns, &seq));
}

static void test_window_sum_resize_keeps_contents_by_time(void **state)
{
	struct window_sum s;

	window_sum_init(&s, SPAN);
	window_sum_add(&s, T0, 100, 1);
	window_sum_add(&s, T0 + 500 * S, 50, 2);
	window_sum_resize(&s, 2 * SPAN);
	assert_int_equal(window_sum_total(&s, T0 + 500 * S), 150);
	/* Under the old span the first slice would be gone at +700 s; now it stays. */
	assert_int_equal(window_sum_total(&s, T0 + 700 * S), 150);
	window_sum_resize(&s, SPAN / 2);
	assert_int_equal(window_sum_total(&s, T0 + 700 * S), 50);
}

static void test_window_distinct_add_counts_each_id_once(void **state)
{
	struct window_distinct d;

	assert_int_equal(window_distinct_init(&d, SPAN, 100), 0);
	assert_int_equal(window_distinct_add(&d, 42, T0), 1);
	assert_int_equal(window_distinct_add(&d, 42, T0 + S), 0);
	/* id 0 is an id like any other */
	assert_int_equal(window_distinct_add(&d, 0, T0 + S), 1);
	assert_int_equal(window_distinct_count(&d, T0 + S), 2);
	window_distinct_free(&d);
}

static void test_window_distinct_count_expires_and_reenters(void **state)
{
	struct window_distinct d;

	assert_int_equal(window_distinct_init(&d, SPAN, 100), 0);
	window_distinct_add(&d, 1, T0);
	window_distinct_add(&d, 2, T0 + 300 * S);
	/* Seeing 1 again moves its last sighting forward. */
	window_distinct_add(&d, 1, T0 + 400 * S);
	assert_int_equal(window_distinct_count(&d, T0 + 650 * S), 2);
	assert_int_equal(window_distinct_count(&d, T0 + 910 * S), 1);
	assert_int_equal(window_distinct_count(&d, T0 + 1010 * S), 0);
	/* An id that left the window enters it again. */
	assert_int_equal(window_distinct_add(&d, 2, T0 + 1010 * S), 1);
	assert_int_equal(window_distinct_count(&d, T0 + 1010 * S), 1);
	window_distinct_free(&d);
}

static void test_window_distinct_add_grows_exactly_past_initial_size(void **state)
{
	struct window_distinct d;

	assert_int_equal(window_distinct_init(&d, SPAN, 5000), 0);
	for (uint64_t i = 0; i < 5000; i++)
		assert_int_equal(window_distinct_add(&d, i * 7919, T0 + i * (S / 100)), 1);
	for (uint64_t i = 0; i < 5000; i += 97)
		assert_int_equal(window_distinct_add(&d, i * 7919, T0 + 50 * S), 0);
	assert_int_equal(window_distinct_count(&d, T0 + 50 * S), 5000);
	assert_false(d.saturated);
	window_distinct_free(&d);
}

static void test_window_distinct_add_sweeps_expired_instead_of_saturating(void **state)
{
	struct window_distinct d;
	uint32_t cap;

	/* A small limit, but a long stream of ids at a rate the window keeps below it. */
	assert_int_equal(window_distinct_init(&d, SPAN, 100), 0);
	cap = d.max_cap;
	for (uint64_t i = 0; i < 20000; i++)
		assert_true(window_distinct_add(&d, i, T0 + i * 10 * S) >= 0);
	assert_false(d.saturated);
	assert_true(d.cap <= cap);
	/* One id per 10 s bucket: 60 of them are within the last 600 s. */
	assert_int_equal(window_distinct_count(&d, T0 + 19999 * 10 * S), 60);
	/* Every live id is still found after the sweeps moved slots around. */
	for (uint64_t i = 19940; i < 20000; i++)
		assert_int_equal(window_distinct_add(&d, i, T0 + 19999 * 10 * S), 0);
	window_distinct_free(&d);
}

static void test_window_distinct_add_saturates_beyond_limit(void **state)
{
	struct window_distinct d;
	uint32_t counted = 0;
	int r;

	assert_int_equal(window_distinct_init(&d, SPAN, 100), 0);
	for (uint64_t i = 0; i < 10000; i++) {
		r = window_distinct_add(&d, i, T0);
		assert_true(r == 1 || r == -ENOSPC);
		counted += r == 1;
	}
	assert_true(d.saturated);
	/* Exact well past the limit asked for, then pinned. */
	assert_true(counted > 100 && counted < 10000);
	assert_int_equal(window_distinct_count(&d, T0), counted);
	/* Once the window moves on, room comes back. */
	assert_int_equal(window_distinct_add(&d, 99999, T0 + 2 * SPAN), 1);
	assert_int_equal(window_distinct_count(&d, T0 + 2 * SPAN), 1);
	window_distinct_free(&d);
}

static void test_window_distinct_resize_keeps_sightings(void **state)
{
	struct window_distinct d;

	assert_int_equal(window_distinct_init(&d, SPAN, 100), 0);
	window_distinct_add(&d, 1, T0);
	window_distinct_add(&d, 2, T0 + 500 * S);
	assert_int_equal(window_distinct_resize(&d, 2 * SPAN), 0);
	assert_int_equal(window_distinct_count(&d, T0 + 700 * S), 2);
	assert_int_equal(window_distinct_add(&d, 1, T0 + 700 * S), 0);
	assert_int_equal(window_distinct_resize(&d, SPAN / 2), 0);
	assert_int_equal(window_distinct_count(&d, T0 + 800 * S), 1);
	window_distinct_free(&d);
}

static void test_window_top_sorted_exact_under_capacity(void **state)
{
	struct window_top t;
	struct window_top_entry out[8];
	unsigned n;

	window_top_reset(&t);
	window_top_add(&t, 1, "/srv/a.csv", 0, 10);
	window_top_add(&t, 2, "/srv/b.csv", 0, 30);
	window_top_add(&t, 1, "/srv/ignored-name", 0, 25);
	window_top_add(&t, 3, "psql", 4242, 5);
	n = window_top_sorted(&t, out, 8);
	assert_int_equal(n, 3);
	assert_string_equal(out[0].name, "/srv/a.csv");
	assert_int_equal(out[0].bytes, 35);
	assert_string_equal(out[1].name, "/srv/b.csv");
	assert_int_equal(out[2].pid, 4242);
	assert_int_equal(window_top_sorted(&t, out, 2), 2);
}

static void test_window_top_add_late_heavy_hitter_enters(void **state)
{
	struct window_top t;
	struct window_top_entry out[4];

	window_top_reset(&t);
	for (uint64_t k = 0; k < TOP_N; k++)
		window_top_add(&t, k, "small", 0, 1000);
	/* A big file read in many small slices after the list filled up. */
	for (int i = 0; i < 1000; i++)
		window_top_add(&t, 999, "/srv/big.dump", 0, 100);
	assert_int_equal(window_top_sorted(&t, out, 4), 4);
	assert_string_equal(out[0].name, "/srv/big.dump");
	/* Reported bytes are certain: never more than what the key really had. */
	assert_true(out[0].bytes <= 100000 && out[0].bytes >= 100000 - 1000);
}

static void test_window_top_add_truncates_long_names(void **state)
{
	struct window_top t;
	struct window_top_entry out[1];
	char name[1000];

	memset(name, 'x', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	window_top_reset(&t);
	window_top_add(&t, 1, name, 0, 1);
	window_top_sorted(&t, out, 1);
	assert_int_equal(strlen(out[0].name), TOP_NAME - 1);
}

static void test_window_top_key_distinguishes(void **state)
{
	assert_true(window_top_key("10.0.0.1:443", 0) != window_top_key("10.0.0.1:444", 0));
	assert_true(window_top_key("/media/x", 4) != window_top_key("/media/x", 5));
	assert_int_equal(window_top_key("a", 0), window_top_key("a", 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_window_sum_total_sums_within_span),
		cmocka_unit_test(test_window_sum_add_late_slice_lands_in_its_bucket),
		cmocka_unit_test(test_window_sum_first_empty_window),
		cmocka_unit_test(test_window_sum_resize_keeps_contents_by_time),
		cmocka_unit_test(test_window_distinct_add_counts_each_id_once),
		cmocka_unit_test(test_window_distinct_count_expires_and_reenters),
		cmocka_unit_test(test_window_distinct_add_grows_exactly_past_initial_size),
		cmocka_unit_test(test_window_distinct_add_sweeps_expired_instead_of_saturating),
		cmocka_unit_test(test_window_distinct_add_saturates_beyond_limit),
		cmocka_unit_test(test_window_distinct_resize_keeps_sightings),
		cmocka_unit_test(test_window_top_sorted_exact_under_capacity),
		cmocka_unit_test(test_window_top_add_late_heavy_hitter_enters),
		cmocka_unit_test(test_window_top_add_truncates_long_names),
		cmocka_unit_test(test_window_top_key_distinguishes),
	};

	return cmocka_run_group_tests_name("detect_window", tests, NULL, NULL);
}
