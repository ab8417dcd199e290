// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for what central ingest decides without a database: which host ids a
 * subject may carry, the destination network a ring is judged on, the COPY text
 * escaping that keeps a hostile record from splitting a row, and the rollup's grouping
 * (one row per day x host x session x kind x object, sums and ranges exact). */
#include "unit.h"
#include "../../central/central_db.h"
#include "../../central/central_ingest.h"
#include "../../central/central_rollup.h"

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

#define DAY (86400ULL * 1000000000ULL)

static void add(struct rollup *r, const char *host, int64_t sid, const char *kind,
		const char *object, const char *net, int64_t bytes, uint64_t seq, uint64_t ts)
{
	struct rollup_item it = { .host = host, .kind = kind, .object = object, .dst_net = net,
				  .session_id = sid, .loginuid = 1000 + sid, .has_loginuid = true,
				  .bytes = bytes, .ops = 1, .seq = seq, .ts_ns = ts };

	assert_int_equal(rollup_add(r, &it), 0);
}

static void test_rollup_groups_and_sums(void **state)
{
	struct rollup *r = rollup_new();
	struct db_buf b = { 0 };
	char *text;

	assert_non_null(r);
	/* Out of order on purpose; two records of one group a day apart are two groups. */
	add(r, "h2", 7, "source_net", "db:5432", "", 10, 5, 20000 * DAY + 50);
	add(r, "h1", 7, "source_net", "db:5432", "", 100, 3, 20000 * DAY + 30);
	add(r, "h1", 7, "egress_net", "203.0.113.9:443", "203.0.113.0/24", 7, 4, 20000 * DAY + 40);
	add(r, "h1", 7, "source_net", "db:5432", "", 200, 1, 20000 * DAY + 10);
	add(r, "h1", 7, "source_net", "db:5432", "", 1, 9, 20001 * DAY + 1);
	assert_int_equal(rollup_encode(r, &b), 0);
	assert_int_equal(db_buf_put(&b, "", 1), 0);
	text = b.p;
	assert_string_equal(text,
		"20000\th1\t7\t1007\tegress_net\t203.0.113.9:443\t203.0.113.0/24\t7\t1\t4\t4\t"
		"1728000000000000040\t1728000000000000040\n"
		"20000\th1\t7\t1007\tsource_net\tdb:5432\t\t300\t2\t1\t3\t"
		"1728000000000000010\t1728000000000000030\n"
		"20000\th2\t7\t1007\tsource_net\tdb:5432\t\t10\t1\t5\t5\t"
		"1728000000000000050\t1728000000000000050\n"
		"20001\th1\t7\t1007\tsource_net\tdb:5432\t\t1\t1\t9\t9\t"
		"1728086400000000001\t1728086400000000001\n");
	/* Encoding forgets the groups: a second encode adds nothing. */
	db_buf_reset(&b);
	assert_int_equal(rollup_encode(r, &b), 0);
	assert_int_equal(b.len, 0);
	db_buf_free(&b);
	rollup_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ingest_host_id_ok_bounds),
		cmocka_unit_test(test_ingest_dst_net_prefixes),
		cmocka_unit_test(test_db_buf_field_escapes_copy_specials),
		cmocka_unit_test(test_rollup_groups_and_sums),
	};

	return cmocka_run_group_tests_name("central_ingest", tests, NULL, NULL);
}
