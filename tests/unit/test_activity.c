// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for model/activity.c and model/event.c: kind names and the one class table. */
#include "unit.h"
#include "model/activity.h"
#include "model/event.h"

static void test_activity_class_of_every_kind(void **state)
{
	assert_int_equal(activity_class(ACT_SOURCE_FILE), ACT_CLASS_SOURCE);
	assert_int_equal(activity_class(ACT_SOURCE_NET), ACT_CLASS_SOURCE);
	assert_int_equal(activity_class(ACT_MMAP_SOURCE), ACT_CLASS_SOURCE);
	assert_int_equal(activity_class(ACT_EGRESS_NET), ACT_CLASS_EGRESS);
	assert_int_equal(activity_class(ACT_EGRESS_MEDIA), ACT_CLASS_EGRESS);
	assert_int_equal(activity_class(ACT_EGRESS_SYNC), ACT_CLASS_EGRESS);
	assert_int_equal(activity_class(ACT_STAGING), ACT_CLASS_STAGING);
	assert_int_equal(activity_class(0), ACT_CLASS_NONE);
	assert_int_equal(activity_class((enum activity_kind)99), ACT_CLASS_NONE);
}

static void test_activity_kind_from_name_inverts_name(void **state)
{
	for (int k = ACT_SOURCE_FILE; k <= ACT_MMAP_SOURCE; k++)
		assert_int_equal(activity_kind_from_name(activity_kind_name(k)), k);
	assert_string_equal(activity_kind_name((enum activity_kind)99), "unknown");
	assert_int_equal(activity_kind_from_name("unknown"), 0);
	assert_int_equal(activity_kind_from_name("source"), 0);
	assert_int_equal(activity_kind_from_name(NULL), 0);
}

static void test_event_names_cover_every_value(void **state)
{
	assert_string_equal(event_kind_name(EV_URING), "io_uring");
	assert_string_equal(event_kind_name((enum event_kind)0), "unknown");
	assert_string_equal(conn_class_name(CONN_ALLOWED), "allowed");
	assert_string_equal(conn_class_name(CONN_EGRESS), "egress");
	assert_string_equal(conn_class_name((enum conn_class)7), "unknown");
	assert_string_equal(open_class_name(OPEN_STAGING), "staging");
	assert_string_equal(open_class_name(OPEN_SINK_MEDIA), "media");
	assert_string_equal(open_class_name(OPEN_SINK_SYNC), "sync");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_activity_class_of_every_kind),
		cmocka_unit_test(test_activity_kind_from_name_inverts_name),
		cmocka_unit_test(test_event_names_cover_every_value),
	};

	return cmocka_run_group_tests_name("activity", tests, NULL, NULL);
}
