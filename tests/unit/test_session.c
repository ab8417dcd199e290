// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for session.c on the fixture tree tests/lib/fixtures/proc-tree (fake /proc,
 * logind session files, passwd; see its README) plus a utmp file of real struct utmpx
 * records that each test writes. Every field of a session is checked against the source
 * that should win it. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utmpx.h>

#include "unit.h"
#include "model/activity.h"
#include "agent/session.h"

#define BTIME_NS (1795800000ULL * 1000000000ULL)

static char fixture[PATH_MAX + 64];
static char tmpdir[64];
static char paths[4][PATH_MAX + 128];

/* The fixture sits in the source tree: found from the working directory (make test) or
 * from the binary (build/tests/test_session). */
static void find_fixture(void)
{
	char exe[PATH_MAX];
	ssize_t n;

	snprintf(fixture, sizeof(fixture), "tests/lib/fixtures/proc-tree");
	if (!access(fixture, R_OK))
		return;
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	assert_true(n > 0);
	exe[n] = '\0';
	*strrchr(exe, '/') = '\0';
	snprintf(fixture, sizeof(fixture), "%s/../../tests/lib/fixtures/proc-tree", exe);
	assert_int_equal(access(fixture, R_OK), 0);
}

static struct utmpx utmp_rec(short type, pid_t pid, const char *line, const char *host,
			     time_t sec)
{
	struct utmpx u = { .ut_type = type, .ut_pid = pid };

	snprintf(u.ut_line, sizeof(u.ut_line), "%s", line);
	snprintf(u.ut_user, sizeof(u.ut_user), "someone");
	memcpy(u.ut_host, host, strnlen(host, sizeof(u.ut_host)));
	u.ut_tv.tv_sec = (int32_t)sec;
	u.ut_tv.tv_usec = 250;
	return u;
}

static void write_file(const char *path, const void *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
}

static int setup(void **state)
{
	struct utmpx u[] = {
		utmp_rec(LOGIN_PROCESS, 900, "tty1", "", 1),
		/* alice's sshd: matched by the leader pid, names the host as sshd saw it. */
		utmp_rec(USER_PROCESS, 4090, "pts/3", "laptop.corp", 1795800100),
		/* bob's tty2: logind's REALTIME must win over this time. */
		utmp_rec(USER_PROCESS, 9999, "tty2", "", 1795800001),
		/* a finished login on carol's pts/9: dead records never match. */
		utmp_rec(DEAD_PROCESS, 7001, "pts/9", "old.example", 1795700000),
	};
	char passwd[sizeof(fixture) + 16];
	FILE *in;
	char buf[4096];
	size_t n;

	find_fixture();
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_session.XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	snprintf(paths[0], sizeof(paths[0]), "%s/proc", fixture);
	snprintf(paths[1], sizeof(paths[1]), "%s/utmp", tmpdir);
	snprintf(paths[2], sizeof(paths[2]), "%s/logind", fixture);
	snprintf(paths[3], sizeof(paths[3]), "%s/passwd", tmpdir);
	write_file(paths[1], u, sizeof(u));
	/* passwd is copied so a test can add a user to it. */
	snprintf(passwd, sizeof(passwd), "%s/passwd", fixture);
	in = fopen(passwd, "r");
	assert_non_null(in);
	n = fread(buf, 1, sizeof(buf), in);
	fclose(in);
	write_file(paths[3], buf, n);
	return 0;
}

static int teardown(void **state)
{
	unlink(paths[1]);
	unlink(paths[3]);
	return rmdir(tmpdir);
}

static struct session_table *table(void)
{
	struct session_sources src = { paths[0], paths[1], paths[2], paths[3] };
	struct session_table *t = session_table_new(&src);

	assert_non_null(t);
	return t;
}

static uint64_t ticks_ns(unsigned long long ticks)
{
	return ticks * (1000000000ULL / (unsigned long long)sysconf(_SC_CLK_TCK));
}

static void test_session_get_ssh_login_from_proc_and_utmp(void **state)
{
	struct session_table *t = table();
	const struct session_info *s = session_get(t, 5, 1101, 4242);

	assert_true(session_is_new(t));
	assert_int_equal(s->session_id, 5);
	assert_int_equal(s->loginuid, 1101);
	assert_int_equal(s->uid, 1101);
	assert_string_equal(s->user, "alice");
	/* The sshd leader has no terminal; its shell's names the session. */
	assert_int_equal(s->leader_pid, 4090);
	assert_string_equal(s->tty, "pts/3");
	assert_string_equal(s->display, "");
	/* utmp (found by the leader pid) outranks the environment. */
	assert_string_equal(s->remote_host, "laptop.corp");
	assert_int_equal(s->login_ns, 1795800100ULL * 1000000000ULL + 250000ULL);
	assert_true(s->person);
	assert_ptr_equal(session_get(t, 5, 1101, 4242), s);
	assert_false(session_is_new(t));
	assert_int_equal(session_count(t), 1);
	session_table_free(t);
}

static void test_session_get_ssh_login_without_utmp_uses_environ(void **state)
{
	struct session_sources src = { paths[0], "/nonexistent/utmp", paths[2], paths[3] };
	struct session_table *t = session_table_new(&src);
	const struct session_info *s = session_get(t, 5, 1101, 4242);

	/* Anyone can set SSH_CONNECTION: without logind or utmp it is only a claim. */
	assert_string_equal(s->remote_host, "unverified:10.9.8.7");
	assert_string_equal(s->tty, "pts/3");
	/* Without logind or utmp the login time is the leader's start: boot + 1000 ticks. */
	assert_int_equal(s->login_ns, BTIME_NS + ticks_ns(1000));
	session_table_free(t);
}

static void test_session_get_console_login_from_logind(void **state)
{
	struct session_table *t = table();
	const struct session_info *s = session_get(t, 9, 1102, 0);

	assert_string_equal(s->user, "bob");
	assert_int_equal(s->uid, 1102);
	assert_string_equal(s->tty, "tty2");
	assert_string_equal(s->seat, "seat0");
	assert_string_equal(s->remote_host, "");
	assert_int_equal(s->leader_pid, 5100);
	/* REALTIME is microseconds; logind outranks utmp's record for tty2. */
	assert_int_equal(s->login_ns, 1795800500123456ULL * 1000ULL);
	assert_true(s->person);
	session_table_free(t);
}

static void test_session_get_graphical_login_named_by_logind(void **state)
{
	struct session_table *t = table();
	const struct session_info *s = session_get(t, 11, 1200, 7001);

	/* carol is not in passwd: the name logind recorded at login is used. */
	assert_string_equal(s->user, "carol");
	assert_string_equal(s->display, ":0");
	assert_string_equal(s->seat, "seat0");
	/* A terminal opened on the desktop is not the session's tty; a dead utmp record
	 * for that terminal does not name a remote host. */
	assert_string_equal(s->tty, "");
	assert_string_equal(s->remote_host, "");
	assert_int_equal(s->leader_pid, 7000);
	session_table_free(t);
}

static void test_session_get_from_proc_only(void **state)
{
	struct session_table *t = table();
	const struct session_info *s = session_get(t, 12, 1103, 6001);

	assert_string_equal(s->user, "dave");
	assert_int_equal(s->leader_pid, 6000);
	assert_string_equal(s->tty, "pts/7");
	assert_string_equal(s->remote_host, "unverified:192.0.2.44");
	assert_int_equal(s->login_ns, BTIME_NS + ticks_ns(5000));
	session_table_free(t);
}

static void test_session_get_unknown_session_keeps_what_it_knows(void **state)
{
	struct session_table *t = table();
	const struct session_info *s = session_get(t, 77, 4242, 0);

	assert_true(session_is_new(t));
	assert_string_equal(s->user, "4242");
	assert_int_equal(s->leader_pid, 0);
	assert_string_equal(s->tty, "");
	assert_int_equal(s->login_ns, 0);
	assert_true(s->person);
	session_table_free(t);
}

static void test_session_get_none_is_not_a_person(void **state)
{
	struct session_table *t = table();
	const struct session_info *s = session_get(t, SESSION_NONE, LOGINUID_NONE, 300);

	assert_false(s->person);
	assert_int_equal(s->session_id, SESSION_NONE);
	assert_string_equal(s->user, "(no login session)");
	assert_false(session_is_new(t));
	assert_int_equal(session_count(t), 0);
	session_table_free(t);
}

static void test_session_get_two_logins_one_user(void **state)
{
	struct session_table *t = table();
	const struct session_info *a = session_get(t, 5, 1101, 0), *b;

	b = session_get(t, 6, 1101, 0);
	assert_true(session_is_new(t));
	assert_int_equal(session_count(t), 2);
	assert_ptr_not_equal(a, b);
	assert_int_equal(a->session_id, 5);
	assert_int_equal(b->session_id, 6);
	assert_string_equal(a->user, "alice");
	assert_string_equal(b->user, "alice");
	assert_int_equal(a->loginuid, b->loginuid);
	session_table_free(t);
}

static void test_session_get_evicts_least_recently_used(void **state)
{
	struct session_sources src = { "/nonexistent/proc", "/nonexistent/utmp",
				       "/nonexistent/logind", paths[3] };
	struct session_table *t = session_table_new(&src);

	for (uint32_t id = 1; id <= SESSION_MAX; id++)
		session_get(t, id, 1101, 0);
	session_get(t, 1, 1101, 0); /* used again: now the most recent */
	assert_false(session_is_new(t));
	session_get(t, SESSION_MAX + 1, 1101, 0);
	assert_true(session_is_new(t));
	assert_int_equal(session_count(t), SESSION_MAX);
	session_get(t, 1, 1101, 0);
	assert_false(session_is_new(t));
	session_get(t, 2, 1101, 0); /* the least recently used went */
	assert_true(session_is_new(t));
	session_table_free(t);
}

static void test_session_seed_reads_every_process(void **state)
{
	struct session_table *t = table();
	const struct process_info *p;

	assert_int_equal(session_seed(t), 0);
	assert_int_equal(session_process_count(t), 11);
	p = session_process(t, 4242);
	assert_non_null(p);
	assert_string_equal(p->comm, "psql");
	assert_string_equal(p->exe, "/usr/bin/psql");
	assert_string_equal(p->args, "psql -h 127.0.0.2 -c select * from customers");
	assert_int_equal(p->ppid, 4100);
	assert_int_equal(p->uid, 1101);
	assert_int_equal(p->loginuid, 1101);
	assert_int_equal(p->session_id, 5);
	assert_int_equal(p->start_ns, BTIME_NS + ticks_ns(2000));
	assert_false(p->exited);
	p = session_process(t, 300);
	assert_int_equal(p->session_id, SESSION_NONE);
	assert_int_equal(p->loginuid, LOGINUID_NONE);
	assert_int_equal(p->uid, 0);
	/* A comm holding ") " does not shift the stat fields. */
	p = session_process(t, 8000);
	assert_string_equal(p->comm, "evil) S 1");
	assert_int_equal(p->ppid, 300);
	assert_int_equal(p->start_ns, BTIME_NS + ticks_ns(20));
	assert_int_equal(session_seed(t), 0);
	assert_int_equal(session_process_count(t), 11);
	session_table_free(t);
}

static void test_session_seed_missing_proc_root_fails(void **state)
{
	struct session_sources src = { "/nonexistent/proc", NULL, NULL, paths[3] };
	struct session_table *t = session_table_new(&src);

	assert_int_equal(session_seed(t), -ENOENT);
	session_table_free(t);
}

static void test_session_lineage_through_seeded_and_new_processes(void **state)
{
	struct session_table *t = table();
	struct process_info p = { .pid = 4300, .ppid = 4242, .session_id = 5, .start_ns = 9 };
	char line[256];

	session_seed(t);
	assert_int_equal(session_lineage(t, 4242, line, sizeof(line), 8),
			 (int)strlen("psql(4242) < bash(4100) < sshd(4090)"));
	assert_string_equal(line, "psql(4242) < bash(4100) < sshd(4090)");
	snprintf(p.comm, sizeof(p.comm), "curl");
	session_process_exec(t, &p);
	session_lineage(t, 4300, line, sizeof(line), 8);
	assert_string_equal(line, "curl(4300) < psql(4242) < bash(4100) < sshd(4090)");
	session_lineage(t, 4300, line, sizeof(line), 2);
	assert_string_equal(line, "curl(4300) < psql(4242)");
	session_table_free(t);
}

static void test_session_lineage_bounded_by_buffer_and_unknowns(void **state)
{
	struct session_table *t = table();
	struct process_info loop = { .pid = 50, .ppid = 50 };
	char line[24];

	session_seed(t);
	/* "psql(4242) < bash(4100)" is 23 bytes: fits; the sshd entry does not, whole. */
	assert_int_equal(session_lineage(t, 4242, line, sizeof(line), 8), 23);
	assert_string_equal(line, "psql(4242) < bash(4100)");
	assert_int_equal(session_lineage(t, 4242, line, 5, 8), 0);
	assert_string_equal(line, "");
	assert_int_equal(session_lineage(t, 31337, line, sizeof(line), 8), 0);
	assert_string_equal(line, "");
	/* A parent loop (pid reuse gone wrong) ends at the depth. */
	snprintf(loop.comm, sizeof(loop.comm), "x");
	session_process_exec(t, &loop);
	session_lineage(t, 50, line, sizeof(line), 3);
	assert_string_equal(line, "x(50) < x(50) < x(50)");
	session_table_free(t);
}

static void test_session_process_fork_exec_exit_expire(void **state)
{
	struct session_table *t = table();
	struct process_info p = { .pid = 4301, .ppid = 4300, .session_id = 5, .start_ns = 500 };
	const uint64_t s = 1000000000ULL;

	session_seed(t);
	session_process_fork(t, 4300, 4242);
	assert_string_equal(session_process(t, 4300)->comm, "psql");
	assert_string_equal(session_process(t, 4300)->exe, "/usr/bin/psql");
	assert_int_equal(session_process(t, 4300)->ppid, 4242);
	assert_int_equal(session_process(t, 4300)->start_ns, 0);
	snprintf(p.comm, sizeof(p.comm), "gzip");
	session_process_exec(t, &p);
	session_process_exit(t, 4301, 100 * s);
	assert_true(session_process(t, 4301)->exited);
	assert_int_equal(session_process(t, 4301)->start_ns, 500);
	assert_int_equal(session_process(t, 4301)->exit_ns, 100 * s);
	/* Kept for its age so late deltas and lineage still name it, then forgotten. */
	session_expire(t, 700 * s, 600 * s);
	assert_non_null(session_process(t, 4301));
	session_expire(t, 700 * s + 1, 600 * s);
	assert_null(session_process(t, 4301));
	assert_non_null(session_process(t, 4300));
	assert_int_equal(session_process_count(t), 12);
	/* A fork from an unknown parent still records the parent link. */
	session_process_fork(t, 4400, 31337);
	assert_int_equal(session_process(t, 4400)->ppid, 31337);
	assert_string_equal(session_process(t, 4400)->comm, "");
	session_table_free(t);
}

static void test_session_user_name_unknown_uid_retried_when_passwd_changes(void **state)
{
	struct session_table *t = table();
	struct timespec times[2];
	struct stat st;
	char name[32];
	FILE *f;

	session_user_name(t, 4242, name, sizeof(name));
	assert_string_equal(name, "4242");
	session_user_name(t, LOGINUID_NONE, name, sizeof(name));
	assert_string_equal(name, "-");
	session_user_name(t, 1101, name, sizeof(name));
	assert_string_equal(name, "alice");
	/* A miss is not looked up again while passwd is unchanged (mtime kept here)... */
	assert_int_equal(stat(paths[3], &st), 0);
	f = fopen(paths[3], "a");
	fputs("erin:x:4242:4242::/home/erin:/bin/bash\n", f);
	fclose(f);
	times[0] = st.st_atim;
	times[1] = st.st_mtim;
	assert_int_equal(utimensat(AT_FDCWD, paths[3], times, 0), 0);
	session_user_name(t, 4242, name, sizeof(name));
	assert_string_equal(name, "4242");
	/* ...and an account created after the agent started is named once passwd changes. */
	times[1].tv_sec++;
	assert_int_equal(utimensat(AT_FDCWD, paths[3], times, 0), 0);
	session_user_name(t, 4242, name, sizeof(name));
	assert_string_equal(name, "erin");
	session_table_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_session_get_ssh_login_from_proc_and_utmp),
		cmocka_unit_test(test_session_get_ssh_login_without_utmp_uses_environ),
		cmocka_unit_test(test_session_get_console_login_from_logind),
		cmocka_unit_test(test_session_get_graphical_login_named_by_logind),
		cmocka_unit_test(test_session_get_from_proc_only),
		cmocka_unit_test(test_session_get_unknown_session_keeps_what_it_knows),
		cmocka_unit_test(test_session_get_none_is_not_a_person),
		cmocka_unit_test(test_session_get_two_logins_one_user),
		cmocka_unit_test(test_session_get_evicts_least_recently_used),
		cmocka_unit_test(test_session_seed_reads_every_process),
		cmocka_unit_test(test_session_seed_missing_proc_root_fails),
		cmocka_unit_test(test_session_lineage_through_seeded_and_new_processes),
		cmocka_unit_test(test_session_lineage_bounded_by_buffer_and_unknowns),
		cmocka_unit_test(test_session_process_fork_exec_exit_expire),
		cmocka_unit_test(test_session_user_name_unknown_uid_retried_when_passwd_changes),
	};

	return cmocka_run_group_tests_name("session", tests, setup, teardown);
}
