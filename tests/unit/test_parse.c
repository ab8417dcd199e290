// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for parse.c: sizes, durations, rates, numbers and network matches, with the
 * edges a hand-edited file hits: overflow, trailing text, signs, empty strings. */
#include <errno.h>

#include "common/array_size.h"
#include "unit.h"
#include "config/parse.h"

#define SEC 1000000000ULL

struct size_case {
	const char *text;
	int err;
	uint64_t bytes;
};

static void test_parse_size_units(void **state)
{
	static const struct size_case ok[] = {
		{ "0", 0, 0 }, { "1024", 0, 1024 }, { "7B", 0, 7 },
		{ "4K", 0, 4096 }, { "4k", 0, 4096 }, { "4KiB", 0, 4096 },
		{ "4KB", 0, 4000 }, { "4kB", 0, 4000 },
		{ "50MiB", 0, 50ULL << 20 }, { "5MB", 0, 5000000 }, { "5M", 0, 5ULL << 20 },
		{ "2 GiB", 0, 2ULL << 30 }, { "3GB", 0, 3000000000ULL }, { "1G", 0, 1ULL << 30 },
		{ "1TiB", 0, 1ULL << 40 }, { "1TB", 0, 1000000000000ULL }, { "1T", 0, 1ULL << 40 },
		{ "18446744073709551615", 0, UINT64_MAX }, { "16777215TiB", 0, 16777215ULL << 40 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(ok); i++) {
		uint64_t v = 12345;

		assert_int_equal(parse_size(ok[i].text, &v), 0);
		assert_int_equal(v, ok[i].bytes);
	}
}

static void test_parse_size_rejects_trailing_text(void **state)
{
	static const char *const bad[] = {
		"50MiBs", "50 megabytes", "", "MiB", "50mib", "50 ", "50  MiB", "5.5MiB", "0x10",
		" 5", "+5", "50MiB ", "50/MiB", "5e3", "50\tMiB",
	};
	uint64_t v = 42;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		if (parse_size(bad[i], &v) != -EINVAL) {
			print_error("\"%s\" was not refused\n", bad[i]);
			fail();
		}
	}
	assert_int_equal(v, 42); /* untouched on error */
	assert_int_equal(parse_size(NULL, &v), -EINVAL);
}

static void test_parse_size_rejects_negative(void **state)
{
	uint64_t v;

	assert_int_equal(parse_size("-5MiB", &v), -EINVAL);
	assert_int_equal(parse_size("-1", &v), -EINVAL);
}

static void test_parse_size_overflow(void **state)
{
	uint64_t v = 42;

	assert_int_equal(parse_size("18446744073709551616", &v), -ERANGE);
	assert_int_equal(parse_size("99999999999999999999999999", &v), -ERANGE);
	assert_int_equal(parse_size("16777216TiB", &v), -ERANGE);
	assert_int_equal(parse_size("18446744073709551615K", &v), -ERANGE);
	assert_int_equal(v, 42);
}

static void test_parse_duration_units(void **state)
{
	uint64_t v;

	assert_int_equal(parse_duration("10m", &v), 0);
	assert_int_equal(v, 600 * SEC);
	assert_int_equal(parse_duration("24h", &v), 0);
	assert_int_equal(v, 86400 * SEC);
	assert_int_equal(parse_duration("500ms", &v), 0);
	assert_int_equal(v, 500000000ULL);
	assert_int_equal(parse_duration("30s", &v), 0);
	assert_int_equal(v, 30 * SEC);
	assert_int_equal(parse_duration("7d", &v), 0);
	assert_int_equal(v, 7 * 86400 * SEC);
	assert_int_equal(parse_duration("2w", &v), 0);
	assert_int_equal(v, 14 * 86400 * SEC);
	assert_int_equal(parse_duration("30", &v), 0);
	assert_int_equal(v, 30 * SEC);
	assert_int_equal(parse_duration("5 us", &v), 0);
	assert_int_equal(v, 5000);
	assert_int_equal(parse_duration("0", &v), 0);
	assert_int_equal(v, 0);
}

static void test_parse_duration_rejects_junk(void **state)
{
	static const char *const bad[] = {
		"ten minutes", "10 minutes", "10min", "1h30m", "10M", "-1s", "", "s", "1.5h",
		"10m junk", "1y",
	};
	uint64_t v = 42;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		if (parse_duration(bad[i], &v) != -EINVAL) {
			print_error("\"%s\" was not refused\n", bad[i]);
			fail();
		}
	}
	assert_int_equal(v, 42);
}

static void test_parse_duration_overflow(void **state)
{
	uint64_t v;

	/* 2^64 ns is about 213503 days. */
	assert_int_equal(parse_duration("213503d", &v), 0);
	assert_int_equal(parse_duration("213504d", &v), -ERANGE);
	assert_int_equal(parse_duration("999999999999w", &v), -ERANGE);
	assert_int_equal(parse_duration("18446744073709551616ns", &v), -ERANGE);
}

static void test_parse_rate_splits_size_and_window(void **state)
{
	uint64_t b = 1, ns = 1;

	assert_int_equal(parse_rate("200MiB/24h", &b, &ns), 0);
	assert_int_equal(b, 200ULL << 20);
	assert_int_equal(ns, 86400 * SEC);
	assert_int_equal(parse_rate("1GB/7d", &b, &ns), 0);
	assert_int_equal(b, 1000000000ULL);
	assert_int_equal(ns, 7 * 86400 * SEC);
}

static void test_parse_rate_rejects(void **state)
{
	uint64_t b = 1, ns = 1;

	assert_int_equal(parse_rate("200MiB", &b, &ns), -EINVAL);
	assert_int_equal(parse_rate("200MiB/", &b, &ns), -EINVAL);
	assert_int_equal(parse_rate("/24h", &b, &ns), -EINVAL);
	assert_int_equal(parse_rate("200MiB/24h/2", &b, &ns), -EINVAL);
	assert_int_equal(parse_rate("200MiB per day", &b, &ns), -EINVAL);
	assert_int_equal(parse_rate("200MiB/0s", &b, &ns), -ERANGE);
	assert_int_equal(parse_rate("99999999TiB/1h", &b, &ns), -ERANGE);
	assert_int_equal(parse_rate("1MiB/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
				    &b, &ns), -EINVAL);
	assert_int_equal(b, 1);
	assert_int_equal(ns, 1);
}

static void test_parse_net_match_ipv4_forms(void **state)
{
	static const uint8_t net[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 20, 0, 0 };
	struct net_match m;

	assert_int_equal(parse_net_match("10.20.0.0/16:443", &m), 0);
	assert_memory_equal(m.addr, net, 16);
	assert_int_equal(m.prefix, 96 + 16);
	assert_int_equal(m.port, 443);
	assert_string_equal(m.text, "10.20.0.0/16:443");
	assert_int_equal(parse_net_match("127.0.0.2:5432", &m), 0);
	assert_int_equal(m.prefix, 128);
	assert_int_equal(m.port, 5432);
	assert_int_equal(m.addr[15], 2);
	assert_int_equal(parse_net_match("10.20.1.2/16", &m), 0);
	assert_memory_equal(m.addr, net, 16); /* host bits cleared */
	assert_int_equal(m.port, 0);
	assert_int_equal(parse_net_match("0.0.0.0/0", &m), 0);
	assert_int_equal(m.prefix, 96);
	assert_int_equal(m.addr[10], 0xff); /* /0 of IPv4 is still only IPv4 */
}

static void test_parse_net_match_ipv6_forms(void **state)
{
	static const uint8_t mapped[16] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1 };
	struct net_match m;

	assert_int_equal(parse_net_match("[::1]:5432", &m), 0);
	assert_int_equal(m.addr[15], 1);
	assert_int_equal(m.prefix, 128);
	assert_int_equal(m.port, 5432);
	assert_int_equal(parse_net_match("::1", &m), 0);
	assert_int_equal(m.port, 0);
	assert_int_equal(parse_net_match("fd00::/8", &m), 0);
	assert_int_equal(m.prefix, 8);
	assert_int_equal(m.addr[0], 0xfd);
	assert_int_equal(m.port, 0);
	assert_int_equal(parse_net_match("[fd00::/8]:443", &m), 0);
	assert_int_equal(m.prefix, 8);
	assert_int_equal(m.port, 443);
	assert_int_equal(parse_net_match("[2001:db8::1]", &m), 0);
	assert_int_equal(m.port, 0);
	assert_int_equal(parse_net_match("::ffff:10.0.0.1", &m), 0);
	assert_memory_equal(m.addr, mapped, 16);
	assert_int_equal(m.port, 0);
}

static void test_parse_net_match_rejects(void **state)
{
	static const char *const bad[] = {
		"300.1.1.1", "example.com:443", "", "[::1", "[::1]443", "[::1]:", "10.0.0.1:",
		"10.0.0.1:http", "10.0.0.1/", "10.0.0.1/x", "10.0.0.1:-1", "10.0.0", "::1:443x",
		"[::1]/64", "fe80::1%eth0", " 10.0.0.1", "10.0.0.1 ", "10.0.0.1/+8",
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
		"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	};
	struct net_match m = { .port = 7 };

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		if (parse_net_match(bad[i], &m) != -EINVAL) {
			print_error("\"%s\" was not refused\n", bad[i]);
			fail();
		}
	}
	assert_int_equal(m.port, 7);
	assert_int_equal(parse_net_match(NULL, &m), -EINVAL);
}

static void test_parse_net_match_out_of_range(void **state)
{
	struct net_match m;

	assert_int_equal(parse_net_match("10.0.0.0/33", &m), -ERANGE);
	assert_int_equal(parse_net_match("::/129", &m), -ERANGE);
	assert_int_equal(parse_net_match("10.0.0.1:0", &m), -ERANGE);
	assert_int_equal(parse_net_match("10.0.0.1:65536", &m), -ERANGE);
	assert_int_equal(parse_net_match("[::1]:99999999999999999999999", &m), -ERANGE);
}

static void test_parse_u64_bounds(void **state)
{
	uint64_t v;

	assert_int_equal(parse_u64("2000", 1, 5000, &v), 0);
	assert_int_equal(v, 2000);
	assert_int_equal(parse_u64("5000", 1, 5000, &v), 0);
	assert_int_equal(parse_u64("0", 1, 5000, &v), -ERANGE);
	assert_int_equal(parse_u64("5001", 1, 5000, &v), -ERANGE);
	assert_int_equal(parse_u64("18446744073709551616", 0, UINT64_MAX, &v), -ERANGE);
	assert_int_equal(parse_u64("12a", 1, 5000, &v), -EINVAL);
	assert_int_equal(parse_u64("-1", 0, UINT64_MAX, &v), -EINVAL);
	assert_int_equal(parse_u64("+1", 0, UINT64_MAX, &v), -EINVAL);
	assert_int_equal(parse_u64("", 0, UINT64_MAX, &v), -EINVAL);
}

static void test_parse_double_bounds(void **state)
{
	char huge[400];
	double d = 3;

	assert_int_equal(parse_double("2.5", 1, 10, &d), 0);
	assert_true(d == 2.5);
	assert_int_equal(parse_double("10", 1, 10, &d), 0);
	assert_true(d == 10);
	assert_int_equal(parse_double("0.5", 1, 10, &d), -ERANGE);
	memset(huge, '9', sizeof(huge) - 1);
	huge[sizeof(huge) - 1] = '\0';
	assert_int_equal(parse_double(huge, 1, 1e300, &d), -ERANGE);
	assert_int_equal(parse_double("1e3", 1, 1e6, &d), -EINVAL);
	assert_int_equal(parse_double("1.2.3", 1, 10, &d), -EINVAL);
	assert_int_equal(parse_double("nan", 1, 10, &d), -EINVAL);
	assert_int_equal(parse_double("inf", 1, 10, &d), -EINVAL);
	assert_int_equal(parse_double("-2", 1, 10, &d), -EINVAL);
	assert_int_equal(parse_double("0x4", 1, 10, &d), -EINVAL);
	assert_int_equal(parse_double("5x", 1, 10, &d), -EINVAL);
	assert_true(d == 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_size_units),
		cmocka_unit_test(test_parse_size_rejects_trailing_text),
		cmocka_unit_test(test_parse_size_rejects_negative),
		cmocka_unit_test(test_parse_size_overflow),
		cmocka_unit_test(test_parse_duration_units),
		cmocka_unit_test(test_parse_duration_rejects_junk),
		cmocka_unit_test(test_parse_duration_overflow),
		cmocka_unit_test(test_parse_rate_splits_size_and_window),
		cmocka_unit_test(test_parse_rate_rejects),
		cmocka_unit_test(test_parse_net_match_ipv4_forms),
		cmocka_unit_test(test_parse_net_match_ipv6_forms),
		cmocka_unit_test(test_parse_net_match_rejects),
		cmocka_unit_test(test_parse_net_match_out_of_range),
		cmocka_unit_test(test_parse_u64_bounds),
		cmocka_unit_test(test_parse_double_bounds),
	};

	return cmocka_run_group_tests_name("parse", tests, NULL, NULL);
}
