// SPDX-License-Identifier: GPL-2.0-only
/* Unit tests for session.c on a fixture tree: fake /proc entries, passwd, a logind
 * session file and a utmp file with a real utmpx record. */
#include <errno.h>
#include <sys/stat.h>
#include <unistd.h>
#include <utmpx.h>

#include "unit.h"
#include "activity.h"
#include "session.h"

static char root[64];

static void put(const char *rel, const char *text, size_t len)
{
	char path[256], cmd[300];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	snprintf(cmd, sizeof(cmd), "mkdir -p \"$(dirname '%s')\"", path);
	assert_int_equal(system(cmd), 0);
	f = fopen(path, "w");
	assert_non_null(f);
	fwrite(text, 1, len ? len : strlen(text), f);
	fclose(f);
}

/* A process: pid, ppid, session, loginuid, tty_nr, start ticks, comm, environ. */
static void proc(int pid, int ppid, int sid, int uid, int tty, int start, const char *comm,
		 const char *env, size_t env_len)
{
	char rel[64], text[512];

	snprintf(rel, sizeof(rel), "proc/%d/sessionid", pid);
	snprintf(text, sizeof(text), "%d", sid);
	put(rel, text, 0);
	snprintf(rel, sizeof(rel), "proc/%d/loginuid", pid);
	snprintf(text, sizeof(text), "%d", uid);
	put(rel, text, 0);
	snprintf(rel, sizeof(rel), "proc/%d/comm", pid);
	snprintf(text, sizeof(text), "%s\n", comm);
	put(rel, text, 0);
	snprintf(rel, sizeof(rel), "proc/%d/stat", pid);
	snprintf(text, sizeof(text), "%d (%s) S %d %d %d %d -1 0 0 0 0 0 0 0 0 0 20 0 1 0 %d 0 0",
		 pid, comm, ppid, pid, pid, tty, start);
	put(rel, text, 0);
	snprintf(rel, sizeof(rel), "proc/%d/environ", pid);
	put(rel, env, env_len);
	snprintf(rel, sizeof(rel), "proc/%d/cmdline", pid);
	put(rel, comm, 0);
}

static int setup(void **state)
{
	static const char env[] = "HOME=/home/alice\0SSH_CONNECTION=10.9.8.7 50000 10.0.0.5 22\0";
	struct utmpx u = { .ut_type = USER_PROCESS, .ut_pid = 4100 };
	char path[256];
	FILE *f;

	snprintf(root, sizeof(root), "/tmp/test_session.XXXXXX");
	assert_non_null(mkdtemp(root));
	put("passwd", "root:x:0:0:root:/root:/bin/bash\nalice:x:1101:1101::/home/alice:/bin/bash\n"
		      "bob:x:1102:1102::/home/bob:/bin/bash\n", 0);
	/* alice over SSH: session 5, leader 4100 on pts/3 (136 << 8 | 3). */
	proc(4100, 4090, 5, 1101, 136 << 8 | 3, 1000, "bash", env, sizeof(env));
	proc(4242, 4100, 5, 1101, 136 << 8 | 3, 2000, "psql", "", 1);
	/* bob on the console: session 9 described by logind. */
	proc(5100, 1, 9, 1102, 4 << 8 | 2, 3000, "bash", "", 1);
	put("logind/9", "UID=1102\nUSER=bob\nTTY=tty2\nSEAT=seat0\nREALTIME=1795800000000000\n", 0);
	/* cron: no session. */
	proc(300, 1, -1, -1, 0, 10, "cron", "", 1);
	snprintf(u.ut_line, sizeof(u.ut_line), "pts/3");
	snprintf(u.ut_host, sizeof(u.ut_host), "10.9.8.7");
	u.ut_tv.tv_sec = 1795800100;
	snprintf(path, sizeof(path), "%s/utmp", root);
	f = fopen(path, "wb");
	fwrite(&u, sizeof(u), 1, f);
	fclose(f);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	return system(cmd);
}

static struct session_table *table(void)
{
	static char p[4][128];
	struct session_sources src = { p[0], p[1], p[2], p[3] };

	snprintf(p[0], 128, "%s/proc", root);
	snprintf(p[1], 128, "%s/utmp", root);
	snprintf(p[2], 128, "%s/logind", root);
	snprintf(p[3], 128, "%s/passwd", root);
	return session_table_new(&src);
}

static void test_session_get_ssh_login_from_proc_and_utmp(void **state)
{
	struct session_table *t = table();
	const struct session_info *s = session_get(t, 5, 1101, 4242);

	assert_true(session_is_new(t));
	assert_string_equal(s->user, "alice");
	assert_string_equal(s->tty, "pts/3");
	assert_string_equal(s->remote_host, "10.9.8.7");
	assert_int_equal(s->leader_pid, 4100);
	assert_int_equal(s->login_ns, 1795800100ULL * 1000000000ULL);
	assert_true(s->person);
	session_get(t, 5, 1101, 4242);
	assert_false(session_is_new(t));
	assert_int_equal(session_count(t), 1);
	session_table_free(t);
}

static void test_session_get_console_login_from_logind(void **state)
{
	struct session_table *t = table();
	const struct session_info *s = session_get(t, 9, 1102, 0);

	assert_string_equal(s->user, "bob");
	assert_string_equal(s->tty, "tty2");
	assert_string_equal(s->seat, "seat0");
	assert_string_equal(s->remote_host, "");
	session_table_free(t);
}

static void test_session_get_none_is_not_a_person(void **state)
{
	struct session_table *t = table();
	const struct session_info *s = session_get(t, SESSION_NONE, LOGINUID_NONE, 300);

	assert_false(s->person);
	assert_int_equal(session_count(t), 0);
	session_table_free(t);
}

static void test_session_two_logins_one_user(void **state)
{
	struct session_table *t = table();

	session_get(t, 5, 1101, 0);
	session_get(t, 6, 1101, 0);
	assert_int_equal(session_count(t), 2);
	assert_string_equal(session_get(t, 6, 1101, 0)->user, "alice");
	session_table_free(t);
}

static void test_session_seed_and_lineage(void **state)
{
	struct session_table *t = table();
	struct process_info p = { .pid = 4300, .ppid = 4242, .session_id = 5 };
	char line[256];

	assert_int_equal(session_seed(t), 0);
	assert_int_equal(session_process_count(t), 4);
	snprintf(p.comm, sizeof(p.comm), "curl");
	session_process_exec(t, &p);
	session_lineage(t, 4300, line, sizeof(line), 8);
	assert_string_equal(line, "curl(4300) < psql(4242) < bash(4100)");
	session_process_fork(t, 4301, 4300);
	assert_string_equal(session_process(t, 4301)->comm, "curl");
	session_process_exit(t, 4301, 1000);
	session_expire(t, 1000 + 601ULL * 1000000000ULL, 600ULL * 1000000000ULL);
	assert_null(session_process(t, 4301));
	assert_non_null(session_process(t, 4300));
	session_table_free(t);
}

static void test_session_user_name_unknown_uid(void **state)
{
	struct session_table *t = table();
	char name[32];

	session_user_name(t, 4242, name, sizeof(name));
	assert_string_equal(name, "4242");
	session_table_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_session_get_ssh_login_from_proc_and_utmp),
		cmocka_unit_test(test_session_get_console_login_from_logind),
		cmocka_unit_test(test_session_get_none_is_not_a_person),
		cmocka_unit_test(test_session_two_logins_one_user),
		cmocka_unit_test(test_session_seed_and_lineage),
		cmocka_unit_test(test_session_user_name_unknown_uid),
	};

	return cmocka_run_group_tests_name("session", tests, setup, teardown);
}
