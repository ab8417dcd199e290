// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for process_table.c: lookups after many inserts and deletions (checked
 * against a plain array model, with pids chosen to collide), growth, the entry cap with
 * eviction of the older exited processes, and expiry. */
#include "unit.h"
#include "agent/process_table.h"

static void test_process_table_put_get_del(void **state)
{
	struct process_table *t = process_table_new(0);
	struct process_info *p = process_table_put(t, 42);

	assert_non_null(p);
	assert_int_equal(p->pid, 42);
	p->ppid = 7;
	assert_ptr_equal(process_table_put(t, 42), p);
	assert_ptr_equal(process_table_get(t, 42), p);
	assert_int_equal(process_table_get(t, 42)->ppid, 7);
	assert_null(process_table_get(t, 43));
	assert_int_equal(process_table_count(t), 1);
	process_table_del(t, 42);
	process_table_del(t, 42);
	assert_null(process_table_get(t, 42));
	assert_int_equal(process_table_count(t), 0);
	process_table_free(t);
	process_table_free(NULL);
}

/* Random puts and deletes over a small pid range (long probe runs, wrap-around) and a
 * large one (growth), each step checked against a flag per pid. */
static void run_model(uint32_t range, int steps)
{
	struct process_table *t = process_table_new(range);
	unsigned char *present = calloc(range, 1);
	size_t count = 0;

	srand(range);
	for (int i = 0; i < steps; i++) {
		uint32_t pid = (uint32_t)rand() % range;

		if (rand() % 3) {
			struct process_info *p = process_table_put(t, pid);

			assert_non_null(p);
			p->ppid = pid + 1;
			count += !present[pid];
			present[pid] = 1;
		} else {
			process_table_del(t, pid);
			count -= present[pid];
			present[pid] = 0;
		}
		if (i % 97 == 0) {
			for (uint32_t q = 0; q < range; q++) {
				const struct process_info *p = process_table_get(t, q);

				assert_int_equal(p != NULL, present[q]);
				if (p)
					assert_int_equal(p->ppid, q + 1);
			}
		}
	}
	assert_int_equal(process_table_count(t), count);
	assert_int_equal(process_table_refused(t), 0);
	free(present);
	process_table_free(t);
}

static void test_process_table_matches_model_small_range(void **state)
{
	run_model(300, 20000);
}

static void test_process_table_matches_model_growth(void **state)
{
	run_model(20000, 60000);
}

static void test_process_table_put_at_cap_evicts_older_exited(void **state)
{
	struct process_table *t = process_table_new(4);

	for (uint32_t pid = 1; pid <= 4; pid++)
		process_table_put(t, pid);
	process_table_get(t, 1)->exited = true;
	process_table_get(t, 1)->exit_ns = 100;
	process_table_get(t, 2)->exited = true;
	process_table_get(t, 2)->exit_ns = 300;
	/* Midpoint of 100 and 300 is 200: pid 1 goes, pid 2 (newer) stays. */
	assert_non_null(process_table_put(t, 5));
	assert_null(process_table_get(t, 1));
	assert_non_null(process_table_get(t, 2));
	assert_int_equal(process_table_count(t), 4);
	/* The lone exited entry is both oldest and newest: it goes. */
	assert_non_null(process_table_put(t, 6));
	assert_null(process_table_get(t, 2));
	process_table_free(t);
}

static void test_process_table_put_at_cap_refuses_when_all_live(void **state)
{
	struct process_table *t = process_table_new(3);

	for (uint32_t pid = 1; pid <= 3; pid++)
		assert_non_null(process_table_put(t, pid));
	assert_null(process_table_put(t, 4));
	assert_null(process_table_put(t, 5));
	assert_int_equal(process_table_refused(t), 2);
	/* Known pids are still found and updated at the cap. */
	assert_non_null(process_table_put(t, 2));
	assert_int_equal(process_table_count(t), 3);
	process_table_free(t);
}

static void test_process_table_expire_only_exited_before_cutoff(void **state)
{
	struct process_table *t = process_table_new(0);

	for (uint32_t pid = 1; pid <= 3000; pid++) {
		struct process_info *p = process_table_put(t, pid);

		p->exited = pid % 2 == 0;
		p->exit_ns = pid;
	}
	assert_int_equal(process_table_expire(t, 1000), 500);
	assert_int_equal(process_table_count(t), 2500);
	for (uint32_t pid = 1; pid <= 3000; pid++) {
		bool gone = pid % 2 == 0 && pid <= 1000;

		assert_int_equal(process_table_get(t, pid) == NULL, gone);
	}
	process_table_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_process_table_put_get_del),
		cmocka_unit_test(test_process_table_matches_model_small_range),
		cmocka_unit_test(test_process_table_matches_model_growth),
		cmocka_unit_test(test_process_table_put_at_cap_evicts_older_exited),
		cmocka_unit_test(test_process_table_put_at_cap_refuses_when_all_live),
		cmocka_unit_test(test_process_table_expire_only_exited_before_cutoff),
	};

	return cmocka_run_group_tests_name("process_table", tests, NULL, NULL);
}
