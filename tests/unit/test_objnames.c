// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for objnames.c: inode names, renames, the cap, and /proc fd resolution. */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "agent/mounts.h"
#include "agent/objnames.h"

static void test_objnames_set_get(void **state)
{
	struct objnames *o = objnames_new(16);

	assert_int_equal(objnames_set(o, 5, 42, "/srv/a.csv"), 0);
	assert_string_equal(objnames_get(o, 5, 42), "/srv/a.csv");
	assert_null(objnames_get(o, 5, 43));
	assert_null(objnames_get(o, 6, 42));
	objnames_free(o);
}

static void test_objnames_set_latest_name_wins(void **state)
{
	struct objnames *o = objnames_new(16);

	objnames_set(o, 1, 7, "/srv/old.csv");
	objnames_set(o, 1, 7, "/tmp/renamed.csv");
	assert_string_equal(objnames_get(o, 1, 7), "/tmp/renamed.csv");
	assert_int_equal(objnames_count(o), 1);
	objnames_free(o);
}

static void test_objnames_set_cap_bounds_memory(void **state)
{
	struct objnames *o = objnames_new(100);
	char name[32];

	for (uint64_t i = 0; i < 1000; i++) {
		snprintf(name, sizeof(name), "/f%llu", (unsigned long long)i);
		assert_int_equal(objnames_set(o, 1, i, name), 0);
		assert_true(objnames_count(o) <= 100);
	}
	assert_string_equal(objnames_get(o, 1, 999), "/f999");
	objnames_free(o);
}

static void test_objnames_resolve_fd_finds_open_file(void **state)
{
	char path[] = "/tmp/test_objnames.XXXXXX";
	int fd = mkstemp(path);
	struct objnames *o = objnames_new(16);
	struct stat st;

	assert_true(fd >= 0);
	assert_int_equal(fstat(fd, &st), 0);
	assert_string_equal(objnames_resolve_fd(o, "/proc", getpid(), mounts_kdev(st.st_dev),
						st.st_ino),
			    path);
	assert_null(objnames_resolve_fd(o, "/proc", getpid(), mounts_kdev(st.st_dev), 1));
	close(fd);
	unlink(path);
	objnames_free(o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_objnames_set_get),
		cmocka_unit_test(test_objnames_set_latest_name_wins),
		cmocka_unit_test(test_objnames_set_cap_bounds_memory),
		cmocka_unit_test(test_objnames_resolve_fd_finds_open_file),
	};

	return cmocka_run_group_tests_name("objnames", tests, NULL, NULL);
}
