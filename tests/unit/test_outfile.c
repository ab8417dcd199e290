// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for outfile.c: -o never follows a planted symlink (issue 11 item 20). */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"
#include "common/outfile.h"

static char dir[64];

static int make_dir(void **state)
{
	strcpy(dir, "/tmp/test_outfile.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int remove_dir(void **state)
{
	char cmd[96];

	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	return system(cmd);
}

static char *in_dir(const char *name)
{
	static char path[128];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return path;
}

static void write_text(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

static void read_text(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n;

	assert_non_null(f);
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
}

/* The attack: a symlink at the report's name pointing at a file root must not touch. */
static void test_outfile_open_refuses_symlink(void **state)
{
	char victim[128], buf[32];

	snprintf(victim, sizeof(victim), "%s", in_dir("victim"));
	write_text(victim, "precious");
	assert_int_equal(symlink(victim, in_dir("report.html")), 0);
	errno = 0;
	assert_null(outfile_open(in_dir("report.html")));
	assert_int_equal(errno, ELOOP);
	read_text(victim, buf, sizeof(buf));
	assert_string_equal(buf, "precious");
	/* A dangling symlink would otherwise create the file where it points. */
	snprintf(victim, sizeof(victim), "%s", in_dir("created"));
	assert_int_equal(symlink(victim, in_dir("dangling")), 0);
	assert_null(outfile_open(in_dir("dangling")));
	assert_int_equal(errno, ELOOP);
	assert_int_equal(access(in_dir("created"), F_OK), -1);
	assert_string_equal(outfile_strerror(ELOOP),
			    "is a symbolic link (not followed; give the real path)");
}

static void test_outfile_open_refuses_hard_link_and_fifo(void **state)
{
	char victim[128], buf[32];

	snprintf(victim, sizeof(victim), "%s", in_dir("victim2"));
	write_text(victim, "precious");
	assert_int_equal(link(victim, in_dir("linked.html")), 0);
	assert_null(outfile_open(in_dir("linked.html")));
	assert_int_equal(errno, EMLINK);
	read_text(victim, buf, sizeof(buf));
	assert_string_equal(buf, "precious");
	/* Without O_NONBLOCK this open would wait for a reader for ever. */
	assert_int_equal(mkfifo(in_dir("fifo"), 0600), 0);
	assert_null(outfile_open(in_dir("fifo")));
	assert_true(errno == EINVAL || errno == ENXIO);
	assert_null(outfile_open(dir));
}

/* Root writing into a file another user planted would hand them the report. */
static void test_outfile_open_refuses_someone_elses_file(void **state)
{
	write_text(in_dir("planted.html"), "");
	if (geteuid() != 0) {
		/* Only root can give a file away; as a user, check our own file passes. */
		FILE *f = outfile_open(in_dir("planted.html"));

		assert_non_null(f);
		fclose(f);
		return;
	}
	assert_int_equal(chown(in_dir("planted.html"), 65534, 65534), 0);
	assert_null(outfile_open(in_dir("planted.html")));
	assert_int_equal(errno, EPERM);
}

static void test_outfile_open_creates_private_and_truncates(void **state)
{
	struct stat st;
	char buf[64];
	FILE *f;

	f = outfile_open(in_dir("new.html"));
	assert_non_null(f);
	fputs("fresh", f);
	assert_int_equal(fclose(f), 0);
	assert_int_equal(stat(in_dir("new.html"), &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	write_text(in_dir("old.html"), "a much longer old content");
	f = outfile_open(in_dir("old.html"));
	assert_non_null(f);
	fputs("new", f);
	assert_int_equal(fclose(f), 0);
	read_text(in_dir("old.html"), buf, sizeof(buf));
	assert_string_equal(buf, "new");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_outfile_open_refuses_symlink),
		cmocka_unit_test(test_outfile_open_refuses_hard_link_and_fifo),
		cmocka_unit_test(test_outfile_open_creates_private_and_truncates),
		cmocka_unit_test(test_outfile_open_refuses_someone_elses_file),
	};

	return cmocka_run_group_tests(tests, make_dir, remove_dir);
}
