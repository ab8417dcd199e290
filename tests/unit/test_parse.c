// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for parse.c: sizes, durations, rates, numbers and network matches. */
#include <errno.h>

#include "unit.h"
#include "parse.h"

static void test_parse_size_units(void **state)
{
	uint64_t v;

	assert_int_equal(parse_size("1024", &v), 0);
	assert_int_equal(v, 1024);
	assert_int_equal(parse_size("50MiB", &v), 0);
	assert_int_equal(v, 50ULL << 20);
	assert_int_equal(parse_size("5MB", &v), 0);
	assert_int_equal(v, 5000000);
	assert_int_equal(parse_size("4K", &v), 0);
	assert_int_equal(v, 4096);
	assert_int_equal(parse_size("2 GiB", &v), 0);
	assert_int_equal(v, 2ULL << 30);
}

static void test_parse_size_rejects_trailing_text(void **state)
{
	uint64_t v;

	assert_int_equal(parse_size("50MiBs", &v), -EINVAL);
	assert_int_equal(parse_size("50 megabytes", &v), -EINVAL);
	assert_int_equal(parse_size("-5MiB", &v), -EINVAL);
	assert_int_equal(parse_size("", &v), -EINVAL);
	assert_int_equal(parse_size("MiB", &v), -EINVAL);
}

static void test_parse_size_overflow(void **state)
{
	uint64_t v;

	assert_int_equal(parse_size("99999999999999999999", &v), -ERANGE);
	assert_int_equal(parse_size("17000000TiB", &v), -ERANGE);
}

static void test_parse_duration_units(void **state)
{
	uint64_t v;

	assert_int_equal(parse_duration("10m", &v), 0);
	assert_int_equal(v, 600ULL * 1000000000ULL);
	assert_int_equal(parse_duration("24h", &v), 0);
	assert_int_equal(v, 86400ULL * 1000000000ULL);
	assert_int_equal(parse_duration("500ms", &v), 0);
	assert_int_equal(v, 500000000ULL);
	assert_int_equal(parse_duration("30", &v), 0);
	assert_int_equal(v, 30ULL * 1000000000ULL);
	assert_int_equal(parse_duration("ten minutes", &v), -EINVAL);
	assert_int_equal(parse_duration("10 minutes", &v), -EINVAL);
	assert_int_equal(parse_duration("999999999999w", &v), -ERANGE);
}

static void test_parse_rate(void **state)
{
	uint64_t b, ns;

	assert_int_equal(parse_rate("200MiB/24h", &b, &ns), 0);
	assert_int_equal(b, 200ULL << 20);
	assert_int_equal(ns, 86400ULL * 1000000000ULL);
	assert_int_equal(parse_rate("200MiB", &b, &ns), -EINVAL);
	assert_int_equal(parse_rate("200MiB/0s", &b, &ns), -ERANGE);
}

static void test_parse_net_match_forms(void **state)
{
	static const uint8_t v4[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 20, 0, 0 };
	struct net_match m;

	assert_int_equal(parse_net_match("10.20.0.0/16:443", &m), 0);
	assert_memory_equal(m.addr, v4, 16);
	assert_int_equal(m.prefix, 96 + 16);
	assert_int_equal(m.port, 443);
	assert_int_equal(parse_net_match("127.0.0.2:5432", &m), 0);
	assert_int_equal(m.prefix, 128);
	assert_int_equal(m.port, 5432);
	assert_int_equal(parse_net_match("[::1]:5432", &m), 0);
	assert_int_equal(m.addr[15], 1);
	assert_int_equal(m.port, 5432);
	assert_int_equal(parse_net_match("fd00::/8", &m), 0);
	assert_int_equal(m.prefix, 8);
	assert_int_equal(m.port, 0);
	assert_int_equal(parse_net_match("10.20.1.2/16", &m), 0);
	assert_int_equal(m.addr[14], 0); /* host bits cleared */
}

static void test_parse_net_match_rejects(void **state)
{
	struct net_match m;

	assert_int_equal(parse_net_match("300.1.1.1", &m), -EINVAL);
	assert_int_equal(parse_net_match("10.0.0.0/33", &m), -EINVAL);
	assert_int_equal(parse_net_match("10.0.0.1:0", &m), -EINVAL);
	assert_int_equal(parse_net_match("10.0.0.1:70000", &m), -EINVAL);
	assert_int_equal(parse_net_match("example.com:443", &m), -EINVAL);
	assert_int_equal(parse_net_match("", &m), -EINVAL);
	assert_int_equal(parse_net_match("[::1", &m), -EINVAL);
}

static void test_parse_u64_and_double_bounds(void **state)
{
	uint64_t v;
	double d;

	assert_int_equal(parse_u64("2000", 1, 5000, &v), 0);
	assert_int_equal(v, 2000);
	assert_int_equal(parse_u64("0", 1, 5000, &v), -ERANGE);
	assert_int_equal(parse_u64("12a", 1, 5000, &v), -EINVAL);
	assert_int_equal(parse_double("2.5", 1, 10, &d), 0);
	assert_true(d == 2.5);
	assert_int_equal(parse_double("0.5", 1, 10, &d), -ERANGE);
	assert_int_equal(parse_double("nan", 1, 10, &d), -ERANGE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_size_units),
		cmocka_unit_test(test_parse_size_rejects_trailing_text),
		cmocka_unit_test(test_parse_size_overflow),
		cmocka_unit_test(test_parse_duration_units),
		cmocka_unit_test(test_parse_rate),
		cmocka_unit_test(test_parse_net_match_forms),
		cmocka_unit_test(test_parse_net_match_rejects),
		cmocka_unit_test(test_parse_u64_and_double_bounds),
	};

	return cmocka_run_group_tests_name("parse", tests, NULL, NULL);
}
