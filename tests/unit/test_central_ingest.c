// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for what central ingest decides without a database: which host ids a
 * subject may carry, the destination network a ring is judged on, and the COPY text
 * escaping that keeps a hostile record from splitting a row. */
#include "unit.h"
#include "../../central/central_db.h"
#include "../../central/central_ingest.h"

static void test_ingest_host_id_ok_bounds(void **state)
{
	char long_id[70];

	assert_true(ingest_host_id_ok("ws-17_a"));
	assert_true(ingest_host_id_ok("0123456789abcdef0123456789abcdef"));
	assert_false(ingest_host_id_ok(""));
	assert_false(ingest_host_id_ok("a.b"));
	assert_false(ingest_host_id_ok("a*"));
	assert_false(ingest_host_id_ok("a b"));
	memset(long_id, 'a', 64);
	long_id[64] = '\0';
	assert_true(ingest_host_id_ok(long_id));
	long_id[64] = 'a';
	long_id[65] = '\0';
	assert_false(ingest_host_id_ok(long_id));
}

static void test_ingest_dst_net_prefixes(void **state)
{
	char n[64];

	ingest_dst_net("198.51.100.10", n, sizeof(n));
	assert_string_equal(n, "198.51.100.0/24");
	ingest_dst_net("::ffff:198.51.100.200", n, sizeof(n));
	assert_string_equal(n, "198.51.100.0/24");
	ingest_dst_net("2001:db8:1:2:3:4:5:6", n, sizeof(n));
	assert_string_equal(n, "2001:db8:1:2::/64");
	ingest_dst_net("not an address", n, sizeof(n));
	assert_string_equal(n, "");
	ingest_dst_net(NULL, n, sizeof(n));
	assert_string_equal(n, "");
}

static void test_db_buf_field_escapes_copy_specials(void **state)
{
	struct db_buf b = { 0 };

	assert_int_equal(db_buf_field(&b, "a\tb\nc\\d\re", false), 0);
	assert_int_equal(db_buf_null(&b, true), 0);
	assert_int_equal(b.len, strlen("a\\tb\\nc\\\\d\\re\t\\N\n"));
	assert_memory_equal(b.p, "a\\tb\\nc\\\\d\\re\t\\N\n", b.len);
	db_buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ingest_host_id_ok_bounds),
		cmocka_unit_test(test_ingest_dst_net_prefixes),
		cmocka_unit_test(test_db_buf_field_escapes_copy_specials),
	};

	return cmocka_run_group_tests_name("central_ingest", tests, NULL, NULL);
}
