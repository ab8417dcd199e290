// SPDX-License-Identifier: GPL-2.0-only
/*
 * Sessions and processes. A session is resolved once, on first sight, from the best
 * source available (logind's session file, then /proc and utmp) and cached; processes
 * are kept in a libc search tree keyed by pid and forgotten some time after they exit.
 * Every source path is configurable so unit tests run on fixture trees.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <pwd.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <utmpx.h>

#include "activity.h"
#include "session.h"

#define MAX_SESSIONS 4096
#define MAX_USERS 256

struct user_name {
	uint32_t uid;
	char name[64];
};

struct session_table {
	char proc_root[PATH_MAX];
	char utmp_path[PATH_MAX];
	char logind_dir[PATH_MAX];
	char passwd_path[PATH_MAX];
	struct session_info *sessions;
	size_t n_sessions;
	struct session_info none;
	bool last_new;
	void *procs;                 /* tsearch tree of struct process_info */
	size_t n_procs;
	struct user_name users[MAX_USERS];
	size_t n_users;
};

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
	set_path(t->passwd_path, src->passwd_path, "/etc/passwd");
	t->sessions = calloc(MAX_SESSIONS, sizeof(*t->sessions));
	if (!t->sessions) {
		free(t);
		return NULL;
	}
	t->none.session_id = SESSION_NONE;
	t->none.loginuid = LOGINUID_NONE;
	snprintf(t->none.user, sizeof(t->none.user), "(no login session)");
	return t;
}

void session_table_free(struct session_table *t)
{
	if (!t)
		return;
	tdestroy(t->procs, free);
	free(t->sessions);
	free(t);
}

void session_user_name(struct session_table *t, uint32_t uid, char *buf, size_t len)
{
	struct passwd *pw;
	FILE *f;

	for (size_t i = 0; i < t->n_users; i++) {
		if (t->users[i].uid == uid) {
			snprintf(buf, len, "%s", t->users[i].name);
			return;
		}
	}
	snprintf(buf, len, "%u", uid);
	if (uid == LOGINUID_NONE) {
		snprintf(buf, len, "-");
		return;
	}
	f = fopen(t->passwd_path, "r");
	while (f && (pw = fgetpwent(f))) {
		if (pw->pw_uid == uid) {
			snprintf(buf, len, "%s", pw->pw_name);
			break;
		}
	}
	if (f)
		fclose(f);
	if (t->n_users < MAX_USERS) {
		t->users[t->n_users].uid = uid;
		snprintf(t->users[t->n_users].name, sizeof(t->users[0].name), "%s", buf);
		t->n_users++;
	}
}

static int read_small(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return -errno;
	n = fread(buf, 1, len - 1, f);
	fclose(f);
	buf[n] = '\0';
	return (int)n;
}

/* logind's /run/systemd/sessions/ID: KEY=VALUE lines. With audit on, ID is the audit
 * session id. */
static bool from_logind(struct session_table *t, struct session_info *s)
{
	char path[PATH_MAX + 16], buf[4096], *line, *save;

	snprintf(path, sizeof(path), "%s/%u", t->logind_dir, s->session_id);
	if (read_small(path, buf, sizeof(buf)) <= 0)
		return false;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *eq = strchr(line, '=');

		if (!eq)
			continue;
		*eq++ = '\0';
		if (!strcmp(line, "TTY"))
			snprintf(s->tty, sizeof(s->tty), "%s", eq);
		else if (!strcmp(line, "DISPLAY"))
			snprintf(s->display, sizeof(s->display), "%s", eq);
		else if (!strcmp(line, "SEAT"))
			snprintf(s->seat, sizeof(s->seat), "%s", eq);
		else if (!strcmp(line, "REMOTE_HOST"))
			snprintf(s->remote_host, sizeof(s->remote_host), "%s", eq);
		else if (!strcmp(line, "REALTIME"))
			s->login_ns = strtoull(eq, NULL, 10) * 1000ULL;
		else if (!strcmp(line, "LEADER"))
			s->leader_pid = (uint32_t)strtoul(eq, NULL, 10);
	}
	return true;
}

static long proc_field_u32(struct session_table *t, const char *pid, const char *name)
{
	char path[PATH_MAX + 64], buf[32];

	snprintf(path, sizeof(path), "%s/%s/%s", t->proc_root, pid, name);
	if (read_small(path, buf, sizeof(buf)) <= 0)
		return -1;
	return (long)strtoul(buf, NULL, 10);
}

/* tty_nr of /proc/PID/stat (field 7) and start time (field 22, clock ticks). */
static int proc_stat(struct session_table *t, const char *pid, unsigned *tty_nr,
		     unsigned long long *start)
{
	char path[PATH_MAX + 64], buf[1024], *p;

	snprintf(path, sizeof(path), "%s/%s/stat", t->proc_root, pid);
	if (read_small(path, buf, sizeof(buf)) <= 0 || !(p = strrchr(buf, ')')))
		return -1;
	/* After "comm)": state ppid pgrp session tty_nr ... starttime is the 20th. */
	if (sscanf(p + 2, "%*c %*d %*d %*d %u %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d "
			  "%*d %*d %llu",
		   tty_nr, start) != 2)
		return -1;
	return 0;
}

static void tty_name(unsigned tty_nr, char *buf, size_t len)
{
	unsigned major = (tty_nr >> 8) & 0xfff, minor = (tty_nr & 0xff) | ((tty_nr >> 12) & 0xfff00);

	if (major >= 136 && major <= 143)
		snprintf(buf, len, "pts/%u", (major - 136) * 256 + minor);
	else if (major == 4 && minor < 64)
		snprintf(buf, len, "tty%u", minor);
	else if (tty_nr)
		snprintf(buf, len, "%u:%u", major, minor);
}

/* SSH_CONNECTION="client port server port" in the environment names the remote end. */
static void remote_from_environ(struct session_table *t, const char *pid, struct session_info *s)
{
	char path[PATH_MAX + 64], buf[16384];
	int n;

	snprintf(path, sizeof(path), "%s/%s/environ", t->proc_root, pid);
	n = read_small(path, buf, sizeof(buf));
	for (int i = 0; i < n; i += strlen(buf + i) + 1) {
		if (!strncmp(buf + i, "SSH_CONNECTION=", 15) || !strncmp(buf + i, "SSH_CLIENT=", 11)) {
			char *v = strchr(buf + i, '=') + 1;

			sscanf(v, "%63s", s->remote_host);
			return;
		}
	}
}

/* The oldest process of the session is its leader; it carries the tty and environ. */
static bool from_proc(struct session_table *t, struct session_info *s)
{
	unsigned long long best = ~0ULL, start;
	char best_pid[32] = "";
	struct dirent *de;
	unsigned tty_nr, best_tty = 0;
	DIR *d = opendir(t->proc_root);

	if (!d)
		return false;
	while ((de = readdir(d))) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		if (proc_field_u32(t, de->d_name, "sessionid") != (long)s->session_id)
			continue;
		if (proc_stat(t, de->d_name, &tty_nr, &start) || start >= best)
			continue;
		best = start;
		best_tty = tty_nr;
		snprintf(best_pid, sizeof(best_pid), "%.31s", de->d_name);
	}
	closedir(d);
	if (!best_pid[0])
		return false;
	if (!s->leader_pid)
		s->leader_pid = (uint32_t)strtoul(best_pid, NULL, 10);
	if (!s->tty[0])
		tty_name(best_tty, s->tty, sizeof(s->tty));
	if (!s->remote_host[0])
		remote_from_environ(t, best_pid, s);
	return true;
}

/* utmp names the remote host and login time of terminal logins. */
static void from_utmp(struct session_table *t, struct session_info *s)
{
	struct utmpx u;
	FILE *f = fopen(t->utmp_path, "rb");

	if (!f)
		return;
	while (fread(&u, sizeof(u), 1, f) == 1) {
		if (u.ut_type != USER_PROCESS)
			continue;
		if ((uint32_t)u.ut_pid != s->leader_pid &&
		    (!s->tty[0] || strncmp(u.ut_line, s->tty, sizeof(u.ut_line))))
			continue;
		if (!s->remote_host[0])
			snprintf(s->remote_host, sizeof(s->remote_host), "%.63s",
				 u.ut_host);
		if (!s->login_ns)
			s->login_ns = (uint64_t)u.ut_tv.tv_sec * 1000000000ULL +
				      (uint64_t)u.ut_tv.tv_usec * 1000ULL;
		break;
	}
	fclose(f);
}

static struct session_info *session_find(struct session_table *t, uint32_t session_id)
{
	for (size_t i = 0; i < t->n_sessions; i++)
		if (t->sessions[i].session_id == session_id)
			return &t->sessions[i];
	return NULL;
}

const struct session_info *session_get(struct session_table *t, uint32_t session_id,
				       uint32_t loginuid, uint32_t pid_hint)
{
	struct session_info *s;

	t->last_new = false;
	if (session_id == SESSION_NONE)
		return &t->none;
	s = session_find(t, session_id);
	if (s)
		return s;
	if (t->n_sessions == MAX_SESSIONS) {
		/* Oldest first out: sessions are recorded in the evidence when first seen. */
		memmove(t->sessions, t->sessions + 1, (MAX_SESSIONS - 1) * sizeof(*s));
		t->n_sessions--;
	}
	s = &t->sessions[t->n_sessions++];
	memset(s, 0, sizeof(*s));
	s->session_id = session_id;
	s->loginuid = loginuid;
	s->uid = loginuid;
	s->person = loginuid != LOGINUID_NONE;
	s->leader_pid = 0;
	session_user_name(t, loginuid, s->user, sizeof(s->user));
	from_logind(t, s);
	from_proc(t, s);
	from_utmp(t, s);
	(void)pid_hint;
	t->last_new = true;
	return s;
}

bool session_is_new(const struct session_table *t)
{
	return t->last_new;
}

static int cmp_pid(const void *a, const void *b)
{
	uint32_t x = ((const struct process_info *)a)->pid, y = ((const struct process_info *)b)->pid;

	return x < y ? -1 : x > y;
}

static struct process_info *proc_slot(struct session_table *t, uint32_t pid)
{
	struct process_info *p = calloc(1, sizeof(*p)), **slot;

	if (!p)
		return NULL;
	p->pid = pid;
	slot = tsearch(p, &t->procs, cmp_pid);
	if (!slot) {
		free(p);
		return NULL;
	}
	if (*slot != p)
		free(p);
	else
		t->n_procs++;
	return *slot;
}

void session_process_exec(struct session_table *t, const struct process_info *info)
{
	struct process_info *p = proc_slot(t, info->pid);

	if (p)
		*p = *info;
}

void session_process_fork(struct session_table *t, uint32_t pid, uint32_t ppid)
{
	const struct process_info *parent = session_process(t, ppid);
	struct process_info *p = proc_slot(t, pid);

	if (!p)
		return;
	/* A fork runs the parent's program until it execs. */
	if (parent) {
		*p = *parent;
		p->pid = pid;
	}
	p->ppid = ppid;
	p->exited = false;
}

void session_process_exit(struct session_table *t, uint32_t pid, uint64_t ts_ns)
{
	struct process_info key = { .pid = pid }, **slot = tfind(&key, &t->procs, cmp_pid);

	if (slot) {
		(*slot)->exited = true;
		(*slot)->start_ns = ts_ns;  /* from now on: when it exited, for expiry */
	}
}

const struct process_info *session_process(struct session_table *t, uint32_t pid)
{
	struct process_info key = { .pid = pid }, **slot = tfind(&key, &t->procs, cmp_pid);

	return slot ? *slot : NULL;
}

int session_lineage(struct session_table *t, uint32_t pid, char *buf, size_t len, int depth)
{
	size_t used = 0;

	buf[0] = '\0';
	for (int i = 0; i < depth && pid > 1; i++) {
		const struct process_info *p = session_process(t, pid);
		int n;

		if (!p)
			break;
		n = snprintf(buf + used, len - used, "%s%s(%u)", i ? " < " : "", p->comm, pid);
		if (n < 0 || (size_t)n >= len - used)
			break;
		used += n;
		pid = p->ppid;
	}
	return (int)used;
}

/* Seeding reads comm, exe, cmdline, ppid and audit ids of every process in proc_root. */
static void seed_one(struct session_table *t, const char *pid)
{
	char path[PATH_MAX + 64], buf[512];
	struct process_info p = { 0 };
	unsigned tty;
	unsigned long long start;
	int n;

	p.pid = (uint32_t)strtoul(pid, NULL, 10);
	p.session_id = (uint32_t)proc_field_u32(t, pid, "sessionid");
	p.loginuid = (uint32_t)proc_field_u32(t, pid, "loginuid");
	snprintf(path, sizeof(path), "%s/%s/comm", t->proc_root, pid);
	if (read_small(path, p.comm, sizeof(p.comm)) > 0)
		p.comm[strcspn(p.comm, "\n")] = '\0';
	snprintf(path, sizeof(path), "%s/%s/exe", t->proc_root, pid);
	n = readlink(path, p.exe, sizeof(p.exe) - 1);
	p.exe[n > 0 ? n : 0] = '\0';
	snprintf(path, sizeof(path), "%s/%s/cmdline", t->proc_root, pid);
	n = read_small(path, buf, sizeof(buf));
	for (int i = 0; i < n - 1; i++)
		if (!buf[i])
			buf[i] = ' ';
	snprintf(p.args, sizeof(p.args), "%.255s", n > 0 ? buf : "");
	snprintf(path, sizeof(path), "%s/%s/stat", t->proc_root, pid);
	if (read_small(path, buf, sizeof(buf)) > 0 && strrchr(buf, ')'))
		sscanf(strrchr(buf, ')') + 2, "%*c %u", &p.ppid);
	(void)proc_stat(t, pid, &tty, &start);
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
			seed_one(t, de->d_name);
	closedir(d);
	return 0;
}

struct expire_ctx {
	struct session_table *t;
	uint64_t cutoff;
	uint32_t *dead;
	size_t n, cap;
};

static struct expire_ctx *expire_walk_ctx;

static void expire_visit(const void *node, VISIT which, int depth)
{
	const struct process_info *p = *(const struct process_info *const *)node;
	struct expire_ctx *c = expire_walk_ctx;

	(void)depth;
	if ((which == postorder || which == leaf) && p->exited && p->start_ns < c->cutoff &&
	    c->n < c->cap)
		c->dead[c->n++] = p->pid;
}

void session_expire(struct session_table *t, uint64_t now_ns, uint64_t age_ns)
{
	uint32_t dead[4096];
	struct expire_ctx c = { t, now_ns > age_ns ? now_ns - age_ns : 0, dead, 0, 4096 };

	/* twalk has no context argument; the walk is single-threaded. */
	expire_walk_ctx = &c;
	twalk(t->procs, expire_visit);
	for (size_t i = 0; i < c.n; i++) {
		struct process_info key = { .pid = dead[i] }, **slot = tfind(&key, &t->procs, cmp_pid);
		struct process_info *p;

		if (!slot)
			continue;
		p = *slot;
		tdelete(&key, &t->procs, cmp_pid);
		free(p);
		t->n_procs--;
	}
}

size_t session_count(const struct session_table *t)
{
	return t->n_sessions;
}

size_t session_process_count(const struct session_table *t)
{
	return t->n_procs;
}
