// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for tally.c: exact totals per name, top rows by bytes, the rest summed. */
#include "unit.h"

#include <stdint.h>

#include "common/tally.h"

/* The flood from issue 11 item 17: 600 one-byte decoys seen before the real 5 GB
 * destination must not push it out, and the rest row must add up. */
static void test_tally_top_decoys_do_not_evict(void **state)
{
	struct tally *t = tally_new();
	struct tally_row rows[25];
	struct tally_rest rest;
	char name[32];
	size_t n;

	assert_non_null(t);
	for (int i = 0; i < 600; i++) {
		snprintf(name, sizeof(name), "10.66.%d.%d:443", i / 250, i % 250);
		assert_int_equal(tally_add(t, "egress_net", name, 1), 0);
	}
	for (int i = 0; i < 5; i++)
		assert_int_equal(tally_add(t, "egress_net", "127.0.0.77:8080", 1000000000), 0);
	assert_int_equal(tally_size(t), 601);
	n = tally_top(t, rows, 25, &rest);
	assert_int_equal(n, 25);
	assert_string_equal(rows[0].name, "127.0.0.77:8080");
	assert_true(rows[0].bytes == 5000000000ULL);
	assert_true(rows[0].count == 5);
	assert_int_equal(rest.names, 576);
	assert_true(rest.bytes == 576);
	assert_true(rest.count == 576);
	tally_free(t);
}

/* Ties are ordered by group then name, whatever the insertion order. */
static void test_tally_top_ties_by_name_not_first_seen(void **state)
{
	struct tally *t = tally_new();
	struct tally_row rows[4];
	size_t n;

	assert_non_null(t);
	tally_add(t, "b", "z", 5);
	tally_add(t, "a", "y", 5);
	tally_add(t, "a", "x", 5);
	tally_add(t, "a", "w", 9);
	n = tally_top(t, rows, 4, NULL);
	assert_int_equal(n, 4);
	assert_string_equal(rows[0].name, "w");
	assert_string_equal(rows[1].name, "x");
	assert_string_equal(rows[2].name, "y");
	assert_string_equal(rows[3].group, "b");
	tally_free(t);
}

/* Same name in two groups stays two rows; ("ab","c") and ("a","bc") are not one key. */
static void test_tally_add_keys_by_group_and_name(void **state)
{
	struct tally *t = tally_new();
	struct tally_row rows[8];
	struct tally_rest rest;

	assert_non_null(t);
	tally_add(t, "source_file", "/srv/a.csv", 10);
	tally_add(t, "mmap_source", "/srv/a.csv", 20);
	tally_add(t, "ab", "c", 1);
	tally_add(t, "a", "bc", 2);
	tally_add(t, NULL, NULL, 3);
	tally_add(t, "", "", 4);
	assert_int_equal(tally_size(t), 5);
	assert_int_equal(tally_top(t, rows, 8, &rest), 5);
	assert_true(rows[0].bytes == 20 && rows[1].bytes == 10 && rows[2].bytes == 7);
	assert_int_equal(rest.names, 0);
	assert_true(rest.bytes == 0);
	tally_free(t);
}

/* Many distinct names: every total exact after the table grew many times. */
static void test_tally_add_grows_and_stays_exact(void **state)
{
	struct tally *t = tally_new();
	struct tally_row rows[3];
	struct tally_rest rest;
	char name[32];

	assert_non_null(t);
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < 100000; i++) {
			snprintf(name, sizeof(name), "/tmp/decoy-%d", i);
			assert_int_equal(tally_add(t, "f", name, (uint64_t)i), 0);
		}
	}
	assert_int_equal(tally_size(t), 100000);
	assert_int_equal(tally_top(t, rows, 3, &rest), 3);
	assert_string_equal(rows[0].name, "/tmp/decoy-99999");
	assert_true(rows[0].bytes == 2 * 99999ULL && rows[0].count == 2);
	assert_string_equal(rows[2].name, "/tmp/decoy-99997");
	assert_int_equal(rest.names, 99997);
	/* 2 * sum(0..99999) minus the three rows shown. */
	assert_true(rest.bytes == 2ULL * (99999ULL * 100000 / 2) - 2ULL * (99999 + 99998 + 99997));
	tally_free(t);
}

/* Hostile byte counts saturate instead of wrapping to a small number. */
static void test_tally_add_saturates(void **state)
{
	struct tally *t = tally_new();
	struct tally_row rows[1];

	assert_non_null(t);
	tally_add(t, "g", "n", UINT64_MAX - 1);
	tally_add(t, "g", "n", 5);
	assert_int_equal(tally_top(t, rows, 1, NULL), 1);
	assert_true(rows[0].bytes == UINT64_MAX);
	tally_free(t);
}

static void test_tally_top_zero_rows(void **state)
{
	struct tally *t = tally_new();
	struct tally_rest rest;

	assert_non_null(t);
	assert_int_equal(tally_top(t, NULL, 0, &rest), 0);
	assert_int_equal(rest.names, 0);
	tally_add(t, "g", "n", 7);
	assert_int_equal(tally_top(t, NULL, 0, &rest), 0);
	assert_int_equal(rest.names, 1);
	assert_true(rest.bytes == 7);
	tally_free(t);
	tally_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tally_top_decoys_do_not_evict),
		cmocka_unit_test(test_tally_top_ties_by_name_not_first_seen),
		cmocka_unit_test(test_tally_add_keys_by_group_and_name),
		cmocka_unit_test(test_tally_add_grows_and_stays_exact),
		cmocka_unit_test(test_tally_add_saturates),
		cmocka_unit_test(test_tally_top_zero_rows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
