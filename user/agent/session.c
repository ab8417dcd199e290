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

#include "model/activity.h"
#include "session.h"

#define MAX_USERS 256
#define DEFAULT_PASSWD "/etc/passwd"

#define USER_MISS_RETRY_NS (60ULL * 1000000000ULL)

/* A found name, or a miss: a uid neither passwd nor NSS knew. A miss is retried when the
 * passwd file changed or a minute passed (directory accounts appear without it changing),
 * so an event stream from an unnamed uid does not reread passwd per event. */
struct user_name {
	uint32_t uid;
	bool miss;
	struct timespec passwd_mtime; /* misses: passwd's mtime when it was read */
	uint64_t retry_ns;            /* misses: CLOCK_MONOTONIC of the next try regardless */
	char name[64];
};

struct session_slot {
	struct session_info info;
	uint64_t used;               /* use clock of the last lookup, for eviction */
};

struct session_table {
	char proc_root[PATH_MAX];
	char utmp_path[PATH_MAX];
	char logind_dir[PATH_MAX];
	char passwd_path[PATH_MAX];
	struct session_slot *slots;  /* SESSION_MAX */
	size_t n_sessions;
	size_t last_hit;
	uint64_t use_clock;
	struct session_info none;
	bool last_new;
	struct process_table *procs;
	struct user_name users[MAX_USERS];
	size_t n_users;
	size_t next_user;            /* round-robin replacement once the cache is full */
	uint64_t btime_ns;           /* boot time (CLOCK_REALTIME), 0 until read */
};

/* What the session's processes tell, before it is merged under better sources. */
struct proc_facts {
	uint32_t leader_pid;
	unsigned long long leader_start;
	char tty[32];
	char remote_host[64];
};

struct proc_stat {
	uint32_t ppid;
	unsigned tty_nr;
	unsigned long long start_ticks;
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

static bool passwd_file_lookup(const char *path, uint32_t uid, char *buf, size_t len)
{
	struct passwd *pw;
	bool found = false;
	FILE *f = fopen(path, "re");

	while (f && !found && (pw = fgetpwent(f))) {
		if (pw->pw_uid == uid) {
			snprintf(buf, len, "%s", pw->pw_name);
			found = true;
		}
	}
	if (f)
		fclose(f);
	return found;
}

static bool nss_lookup(uint32_t uid, char *buf, size_t len)
{
	struct passwd pw, *res = NULL;
	char tmp[4096];

	if (getpwuid_r(uid, &pw, tmp, sizeof(tmp), &res) || !res)
		return false;
	snprintf(buf, len, "%s", res->pw_name);
	return true;
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static struct timespec passwd_mtime(const struct session_table *t)
{
	struct stat st;

	if (stat(t->passwd_path, &st))
		return (struct timespec){ 0 };
	return st.st_mtim;
}

/* The cache entry of uid, or a fresh miss entry (round-robin replacement when full). */
static struct user_name *user_slot(struct session_table *t, uint32_t uid)
{
	struct user_name *u;

	for (size_t i = 0; i < t->n_users; i++)
		if (t->users[i].uid == uid)
			return &t->users[i];
	if (t->n_users < MAX_USERS) {
		u = &t->users[t->n_users++];
	} else {
		u = &t->users[t->next_user];
		t->next_user = (t->next_user + 1) % MAX_USERS;
	}
	memset(u, 0, sizeof(*u));
	u->uid = uid;
	u->miss = true;
	return u;
}

/* A cached miss stands while passwd is unchanged and its retry time has not come. */
static bool miss_stands(const struct session_table *t, const struct user_name *u)
{
	struct timespec now_mtime = passwd_mtime(t);

	return u->retry_ns && mono_ns() < u->retry_ns &&
	       now_mtime.tv_sec == u->passwd_mtime.tv_sec &&
	       now_mtime.tv_nsec == u->passwd_mtime.tv_nsec;
}

void session_user_name(struct session_table *t, uint32_t uid, char *buf, size_t len)
{
	struct user_name *u;

	if (uid == LOGINUID_NONE) {
		snprintf(buf, len, "-");
		return;
	}
	u = user_slot(t, uid);
	if (u->miss && !miss_stands(t, u)) {
		u->passwd_mtime = passwd_mtime(t);
		u->miss = !passwd_file_lookup(t->passwd_path, uid, u->name, sizeof(u->name));
		if (u->miss && !strcmp(t->passwd_path, DEFAULT_PASSWD))
			u->miss = !nss_lookup(uid, u->name, sizeof(u->name));
		u->retry_ns = mono_ns() + USER_MISS_RETRY_NS;
	}
	if (u->miss)
		snprintf(buf, len, "%u", uid);
	else
		snprintf(buf, len, "%s", u->name);
}

static int read_small(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");
	size_t n;

	if (!f)
		return -errno;
	n = fread(buf, 1, len - 1, f);
	fclose(f);
	buf[n] = '\0';
	return (int)n;
}

static int read_proc(const struct session_table *t, uint32_t pid, const char *name, char *buf,
		     size_t len)
{
	char path[PATH_MAX + 32];

	snprintf(path, sizeof(path), "%s/%u/%s", t->proc_root, pid, name);
	return read_small(path, buf, len);
}

/* /proc/PID/sessionid and loginuid: one decimal number; -1 (unset) reads as 4294967295. */
static int proc_u32(const struct session_table *t, uint32_t pid, const char *name,
		    uint32_t *out)
{
	char buf[32], *end;
	long long v;

	if (read_proc(t, pid, name, buf, sizeof(buf)) <= 0)
		return -ENOENT;
	v = strtoll(buf, &end, 10);
	if (end == buf || (*end && *end != '\n'))
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

/* After "comm)": state ppid pgrp session tty_nr ..., starttime is field 22 of the line.
 * comm may hold ") " itself, hence the last ')'. */
static int proc_stat(const struct session_table *t, uint32_t pid, struct proc_stat *st)
{
	char buf[1024], *p;

	if (read_proc(t, pid, "stat", buf, sizeof(buf)) <= 0 || !(p = strrchr(buf, ')')))
		return -ENOENT;
	if (sscanf(p + 1, " %*c %u %*d %*d %u %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d "
			  "%*d %*d %llu",
		   &st->ppid, &st->tty_nr, &st->start_ticks) != 3)
		return -EINVAL;
	return 0;
}

/* "btime SECONDS" of proc_root/stat, read once: process start times count from boot. */
static uint64_t boot_ns(struct session_table *t)
{
	char path[PATH_MAX + 8], buf[8192], *p;

	if (t->btime_ns)
		return t->btime_ns;
	snprintf(path, sizeof(path), "%s/stat", t->proc_root);
	if (read_small(path, buf, sizeof(buf)) > 0 && (p = strstr(buf, "\nbtime ")))
		t->btime_ns = strtoull(p + 7, NULL, 10) * 1000000000ULL;
	return t->btime_ns;
}

static uint64_t start_realtime(struct session_table *t, unsigned long long ticks)
{
	long hz = sysconf(_SC_CLK_TCK);
	uint64_t boot = boot_ns(t);

	if (!boot || hz <= 0)
		return 0;
	return boot + ticks / (unsigned long long)hz * 1000000000ULL +
	       ticks % (unsigned long long)hz * (1000000000ULL / (unsigned long long)hz);
}

/* Device numbers as the kernel encodes tty_nr: major in bits 8-19, minor in 0-7 and 20-31. */
static void tty_name(unsigned tty_nr, char *buf, size_t len)
{
	unsigned major = (tty_nr >> 8) & 0xfff;
	unsigned minor = (tty_nr & 0xff) | ((tty_nr >> 12) & 0xfff00);

	buf[0] = '\0';
	if (major >= 136 && major <= 143)
		snprintf(buf, len, "pts/%u", (major - 136) * 256 + minor);
	else if (major == 4 && minor < 64)
		snprintf(buf, len, "tty%u", minor);
	else if (major == 4)
		snprintf(buf, len, "ttyS%u", minor - 64);
	else if (tty_nr)
		snprintf(buf, len, "%u:%u", major, minor);
}

/*
 * SSH_CONNECTION="client port server port" (or SSH_CLIENT) names the remote end. Any
 * process can set it (a cron job, a user's own shell), so what is read here is only a
 * claim: it is stored as "unverified:ADDR", never as a bare remote host.
 */
static bool remote_from_environ(const struct session_table *t, uint32_t pid, char *out,
				size_t len)
{
	static const char *const keys[] = { "SSH_CONNECTION=", "SSH_CLIENT=" };
	char buf[32768];
	int n = read_proc(t, pid, "environ", buf, sizeof(buf));

	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		size_t klen = strlen(keys[k]);

		for (int i = 0; i < n; i += (int)strlen(buf + i) + 1) {
			if (strncmp(buf + i, keys[k], klen))
				continue;
			if (!buf[i + klen] || buf[i + klen] == ' ')
				return false;
			snprintf(out, len, "unverified:%.*s", (int)strcspn(buf + i + klen, " "),
				 buf + i + klen);
			return true;
		}
	}
	return false;
}

/* logind's /run/systemd/sessions/ID: KEY=VALUE lines. With audit on, logind names the
 * session by its audit session id, so the file of an audit session is found by number. */
static void from_logind(struct session_table *t, struct session_info *s)
{
	char path[PATH_MAX + 16], buf[4096], *line, *save, *eq;
	char user[64] = "", number[16];
	uint32_t uid = LOGINUID_NONE;

	snprintf(path, sizeof(path), "%s/%u", t->logind_dir, s->session_id);
	if (read_small(path, buf, sizeof(buf)) <= 0)
		return;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		if (!(eq = strchr(line, '=')))
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
		else if (!strcmp(line, "UID"))
			uid = (uint32_t)strtoul(eq, NULL, 10);
		else if (!strcmp(line, "USER"))
			snprintf(user, sizeof(user), "%s", eq);
	}
	if (uid != LOGINUID_NONE)
		s->uid = uid;
	/* passwd may not know a directory user that logind saw log in. */
	snprintf(number, sizeof(number), "%u", s->loginuid);
	if (user[0] && !strcmp(s->user, number))
		snprintf(s->user, sizeof(s->user), "%s", user);
}

/* One process of the session: the oldest is the leader; the oldest with a terminal names
 * it (an sshd leader has none, its shell has one). */
static void note_process(struct session_table *t, uint32_t pid, struct proc_facts *f,
			 unsigned long long *tty_start)
{
	struct proc_stat st;

	if (proc_stat(t, pid, &st))
		return;
	if (!f->leader_pid || st.start_ticks < f->leader_start) {
		f->leader_pid = pid;
		f->leader_start = st.start_ticks;
	}
	if (st.tty_nr && st.start_ticks < *tty_start) {
		*tty_start = st.start_ticks;
		tty_name(st.tty_nr, f->tty, sizeof(f->tty));
	}
	if (!f->remote_host[0])
		remote_from_environ(t, pid, f->remote_host, sizeof(f->remote_host));
}

static void from_proc(struct session_table *t, uint32_t session_id, uint32_t pid_hint,
		      struct proc_facts *f)
{
	unsigned long long tty_start = ~0ULL;
	struct dirent *de;
	uint32_t sid;
	DIR *d;

	/* The process that raised the event carries the session's SSH environment. */
	if (pid_hint)
		remote_from_environ(t, pid_hint, f->remote_host, sizeof(f->remote_host));
	d = opendir(t->proc_root);
	if (!d)
		return;
	while ((de = readdir(d))) {
		uint32_t pid;

		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		pid = (uint32_t)strtoul(de->d_name, NULL, 10);
		if (!proc_u32(t, pid, "sessionid", &sid) && sid == session_id)
			note_process(t, pid, f, &tty_start);
	}
	closedir(d);
}

/* utmp: the USER_PROCESS record of the leader's pid, else of the session's terminal. */
static bool from_utmp(const struct session_table *t, const struct session_info *s,
		      struct utmpx *out)
{
	struct utmpx u;
	bool by_tty = false;
	FILE *f = fopen(t->utmp_path, "re");

	if (!f)
		return false;
	while (fread(&u, sizeof(u), 1, f) == 1) {
		if (u.ut_type != USER_PROCESS)
			continue;
		if (s->leader_pid && (uint32_t)u.ut_pid == s->leader_pid) {
			*out = u;
			fclose(f);
			return true;
		}
		if (s->tty[0] && !strncmp(u.ut_line, s->tty, sizeof(u.ut_line))) {
			*out = u;
			by_tty = true;
		}
	}
	fclose(f);
	return by_tty;
}

/* Fills what logind left empty from utmp, then from the processes. */
static void resolve(struct session_table *t, struct session_info *s, uint32_t pid_hint)
{
	struct proc_facts f = { 0 };
	struct utmpx u;

	session_user_name(t, s->loginuid, s->user, sizeof(s->user));
	from_logind(t, s);
	from_proc(t, s->session_id, pid_hint, &f);
	if (!s->leader_pid)
		s->leader_pid = f.leader_pid;
	if (!s->tty[0] && !s->display[0])
		snprintf(s->tty, sizeof(s->tty), "%s", f.tty);
	if (from_utmp(t, s, &u)) {
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
		s->login_ns = start_realtime(t, f.leader_start);
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
	int n = read_proc(t, pid, "cmdline", buf, sizeof(buf));

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

	if (read_proc(t, pid, "status", buf, sizeof(buf)) <= 0 || !(p = strstr(buf, "\nUid:")))
		return LOGINUID_NONE;
	return (uint32_t)strtoul(p + 5, NULL, 10);
}

static void seed_one(struct session_table *t, uint32_t pid)
{
	struct process_info p = { .pid = pid, .uid = proc_uid(t, pid) };
	struct proc_stat st;
	char path[PATH_MAX + 32];
	ssize_t n;

	if (proc_stat(t, pid, &st))
		return;  /* gone already */
	p.ppid = st.ppid;
	p.start_ns = start_realtime(t, st.start_ticks);
	if (proc_u32(t, pid, "sessionid", &p.session_id))
		p.session_id = SESSION_NONE;
	if (proc_u32(t, pid, "loginuid", &p.loginuid))
		p.loginuid = LOGINUID_NONE;
	if (read_proc(t, pid, "comm", p.comm, sizeof(p.comm)) > 0)
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
