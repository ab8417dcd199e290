// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for common/endpoint.c: what endpoint_format writes, endpoint_split reads. */
#include <errno.h>

#include "unit.h"
#include "common/array_size.h"
#include "common/endpoint.h"

static void test_endpoint_format_brackets_ipv6_only(void **state)
{
	char buf[64];

	endpoint_format(buf, sizeof(buf), "10.0.0.1", 443);
	assert_string_equal(buf, "10.0.0.1:443");
	endpoint_format(buf, sizeof(buf), "fd00::1", 5432);
	assert_string_equal(buf, "[fd00::1]:5432");
	endpoint_format(buf, 6, "10.0.0.1", 443);
	assert_string_equal(buf, "10.0.");
}

static void test_endpoint_split_round_trips_format(void **state)
{
	static const char *const ips[] = { "127.0.0.2", "::1", "fe80::1:2", "example.org" };
	char buf[96], host[64];
	const char *port;

	for (size_t i = 0; i < ARRAY_SIZE(ips); i++) {
		endpoint_format(buf, sizeof(buf), ips[i], 65535);
		assert_int_equal(endpoint_split(buf, host, sizeof(host), &port), 0);
		assert_string_equal(host, ips[i]);
		assert_string_equal(port, "65535");
	}
}

static void test_endpoint_split_rejects_what_has_no_host(void **state)
{
	char host[8];
	const char *port = NULL;

	assert_int_equal(endpoint_split("noport", host, sizeof(host), &port), -EINVAL);
	assert_int_equal(endpoint_split(":443", host, sizeof(host), &port), -EINVAL);
	assert_int_equal(endpoint_split("longer-than-8:1", host, sizeof(host), &port), -EINVAL);
	assert_int_equal(endpoint_split("h:", host, sizeof(host), &port), 0);
	assert_string_equal(host, "h");
	assert_string_equal(port, "");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_endpoint_format_brackets_ipv6_only),
		cmocka_unit_test(test_endpoint_split_round_trips_format),
		cmocka_unit_test(test_endpoint_split_rejects_what_has_no_host),
	};

	return cmocka_run_group_tests_name("endpoint", tests, NULL, NULL);
}
