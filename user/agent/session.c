// SPDX-License-Identifier: GPL-2.0-only
/*
 * Sessions and processes. A session is resolved once, on first sight, and cached: each
 * field is taken from the best source that has it (logind's session file, then utmp, then
 * the session's processes in /proc). Sessions are few (one per login), so they live in a
 * fixed array searched linearly behind a last-hit shortcut, and the least recently used
 * one makes room when it is full. Processes live in the bounded process table. Every
 * source path is configurable so unit tests run on fixture trees.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <utmpx.h>


#include "session_int.h"
#include "model/activity.h"

static void set_path(char *dst, const char *src, const char *def)
{
	snprintf(dst, PATH_MAX, "%s", src ? src : def);
}

struct session_table *session_table_new(const struct session_sources *src)
{
	struct session_table *t = calloc(1, sizeof(*t));
	struct session_sources none = { 0 };

	if (!t)
		return NULL;
	if (!src)
		src = &none;
	set_path(t->proc_root, src->proc_root, "/proc");
	set_path(t->utmp_path, src->utmp_path, "/var/run/utmp");
	set_path(t->logind_dir, src->logind_dir, "/run/systemd/sessions");
	set_path(t->passwd_path, src->passwd_path, DEFAULT_PASSWD);
	t->slots = calloc(SESSION_MAX, sizeof(*t->slots));
	t->procs = process_table_new(0);
	if (!t->slots || !t->procs) {
		session_table_free(t);
		errno = ENOMEM;
		return NULL;
	}
	t->none.session_id = SESSION_NONE;
	t->none.loginuid = LOGINUID_NONE;
	t->none.uid = LOGINUID_NONE;
	snprintf(t->none.user, sizeof(t->none.user), "(no login session)");
	return t;
}

void session_table_free(struct session_table *t)
{
	if (!t)
		return;
	process_table_free(t->procs);
	free(t->slots);
	free(t);
}

static void resolve(struct session_table *t, struct session_info *s, uint32_t pid_hint)
{
	struct proc_facts f = { 0 };
	struct utmpx u;

	session_user_name(t, s->loginuid, s->user, sizeof(s->user));
	sess_from_logind(t, s);
	sess_from_proc(t, s->session_id, pid_hint, &f);
	if (!s->leader_pid)
		s->leader_pid = f.leader_pid;
	if (!s->tty[0] && !s->display[0])
		snprintf(s->tty, sizeof(s->tty), "%s", f.tty);
	if (sess_from_utmp(t, s, &u)) {
		if (!s->remote_host[0])
			snprintf(s->remote_host, sizeof(s->remote_host), "%.*s",
				 (int)strnlen(u.ut_host, sizeof(u.ut_host)), u.ut_host);
		if (!s->login_ns)
			s->login_ns = (uint64_t)u.ut_tv.tv_sec * 1000000000ULL +
				      (uint64_t)u.ut_tv.tv_usec * 1000ULL;
	}
	if (!s->remote_host[0])
		snprintf(s->remote_host, sizeof(s->remote_host), "%s", f.remote_host);
	if (!s->login_ns && f.leader_pid)
		s->login_ns = sess_start_realtime(t, f.leader_start);
}

static struct session_info *lookup(struct session_table *t, uint32_t session_id)
{
	if (t->n_sessions && t->slots[t->last_hit].info.session_id == session_id)
		return &t->slots[t->last_hit].info;
	for (size_t i = 0; i < t->n_sessions; i++) {
		if (t->slots[i].info.session_id == session_id) {
			t->last_hit = i;
			return &t->slots[i].info;
		}
	}
	return NULL;
}

/* A free slot, or the least recently used one. */
static size_t slot_for_new(struct session_table *t)
{
	size_t victim = 0;

	if (t->n_sessions < SESSION_MAX)
		return t->n_sessions++;
	for (size_t i = 1; i < SESSION_MAX; i++)
		if (t->slots[i].used < t->slots[victim].used)
			victim = i;
	return victim;
}

const struct session_info *session_get(struct session_table *t, uint32_t session_id,
				       uint32_t loginuid, uint32_t pid_hint)
{
	struct session_info *s;
	size_t i;

	t->last_new = false;
	if (session_id == SESSION_NONE)
		return &t->none;
	s = lookup(t, session_id);
	if (s) {
		t->slots[t->last_hit].used = ++t->use_clock;
		return s;
	}
	i = slot_for_new(t);
	t->slots[i].used = ++t->use_clock;
	t->last_hit = i;
	s = &t->slots[i].info;
	memset(s, 0, sizeof(*s));
	s->session_id = session_id;
	s->loginuid = loginuid;
	s->uid = loginuid;
	s->person = loginuid != LOGINUID_NONE;
	resolve(t, s, pid_hint);
	t->last_new = true;
	return s;
}

bool session_is_new(const struct session_table *t)
{
	return t->last_new;
}

void session_process_exec(struct session_table *t, const struct process_info *info)
{
	struct process_info *p = process_table_put(t->procs, info->pid);

	if (p)
		*p = *info;
}

void session_process_fork(struct session_table *t, uint32_t pid, uint32_t ppid)
{
	const struct process_info *parent = process_table_get(t->procs, ppid);
	struct process_info copy = { 0 }, *p;

	/* Copied first: making room for the child may evict an exited parent. */
	if (parent)
		copy = *parent;
	p = process_table_put(t->procs, pid);
	if (!p)
		return;
	*p = copy;
	p->pid = pid;
	p->ppid = ppid;
	p->start_ns = 0;
	p->exited = false;
	p->exit_ns = 0;
}

void session_process_exit(struct session_table *t, uint32_t pid, uint64_t ts_ns)
{
	struct process_info *p = process_table_get(t->procs, pid);

	if (p) {
		p->exited = true;
		p->exit_ns = ts_ns;
	}
}

const struct process_info *session_process(struct session_table *t, uint32_t pid)
{
	return process_table_get(t->procs, pid);
}

int session_lineage(struct session_table *t, uint32_t pid, char *buf, size_t len, int depth)
{
	size_t used = 0;

	if (!len)
		return 0;
	buf[0] = '\0';
	for (int i = 0; i < depth && pid > 1; i++) {
		const struct process_info *p = process_table_get(t->procs, pid);
		int n;

		if (!p)
			break;
		n = snprintf(buf + used, len - used, "%s%s(%u)", i ? " < " : "", p->comm, pid);
		if (n < 0 || (size_t)n >= len - used) {
			buf[used] = '\0';
			break;
		}
		used += (size_t)n;
		pid = p->ppid;
	}
	return (int)used;
}

/* cmdline is NUL-separated; the summary joins the arguments with spaces, bounded. */
static void args_summary(const struct session_table *t, uint32_t pid, char *out, size_t len)
{
	char buf[sizeof(((struct process_info *)0)->args) + 1];
	int n = sess_read_proc(t, pid, "cmdline", buf, sizeof(buf));

	while (n > 0 && buf[n - 1] == '\0')
		n--;
	for (int i = 0; i < n; i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
	snprintf(out, len, "%.*s", n > 0 ? n : 0, buf);
}

/* Real uid: the first number of the "Uid:" line of /proc/PID/status. */
static uint32_t proc_uid(const struct session_table *t, uint32_t pid)
{
	char buf[4096], *p;

	if (sess_read_proc(t, pid, "status", buf, sizeof(buf)) <= 0 || !(p = strstr(buf, "\nUid:")))
		return LOGINUID_NONE;
	return (uint32_t)strtoul(p + 5, NULL, 10);
}

static void seed_one(struct session_table *t, uint32_t pid)
{
	struct process_info p = { .pid = pid, .uid = proc_uid(t, pid) };
	struct sess_proc_stat st;
	char path[PATH_MAX + 32];
	ssize_t n;

	if (sess_proc_stat(t, pid, &st))
		return;  /* gone already */
	p.ppid = st.ppid;
	p.start_ns = sess_start_realtime(t, st.start_ticks);
	if (sess_proc_u32(t, pid, "sessionid", &p.session_id))
		p.session_id = SESSION_NONE;
	if (sess_proc_u32(t, pid, "loginuid", &p.loginuid))
		p.loginuid = LOGINUID_NONE;
	if (sess_read_proc(t, pid, "comm", p.comm, sizeof(p.comm)) > 0)
		p.comm[strcspn(p.comm, "\n")] = '\0';
	snprintf(path, sizeof(path), "%s/%u/exe", t->proc_root, pid);
	n = readlink(path, p.exe, sizeof(p.exe) - 1);
	p.exe[n > 0 ? n : 0] = '\0';
	args_summary(t, pid, p.args, sizeof(p.args));
	session_process_exec(t, &p);
}

int session_seed(struct session_table *t)
{
	struct dirent *de;
	DIR *d = opendir(t->proc_root);

	if (!d)
		return -errno;
	while ((de = readdir(d)))
		if (isdigit((unsigned char)de->d_name[0]))
			seed_one(t, (uint32_t)strtoul(de->d_name, NULL, 10));
	closedir(d);
	return 0;
}

void session_expire(struct session_table *t, uint64_t now_ns, uint64_t age_ns)
{
	if (now_ns > age_ns)
		process_table_expire(t->procs, now_ns - age_ns - 1);
}

size_t session_count(const struct session_table *t)
{
	return t->n_sessions;
}

size_t session_process_count(const struct session_table *t)
{
	return process_table_count(t->procs);
}

uint64_t session_process_refused(const struct session_table *t)
{
	return process_table_refused(t->procs);
}

