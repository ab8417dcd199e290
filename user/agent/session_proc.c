// SPDX-License-Identifier: GPL-2.0-only
/*
 * What /proc says about a process (stat, status, environ, tty) and a session's facts
 * gathered from its processes when logind and utmp have nothing.
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


#include "common/array_size.h"
#include "session_int.h"
#include "model/activity.h"

int sess_read_small(const char *path, char *buf, size_t len)
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

int sess_read_proc(const struct session_table *t, uint32_t pid, const char *name, char *buf,
		     size_t len)
{
	char path[PATH_MAX + 32];

	snprintf(path, sizeof(path), "%s/%u/%s", t->proc_root, pid, name);
	return sess_read_small(path, buf, len);
}

/* /proc/PID/sessionid and loginuid: one decimal number; -1 (unset) reads as 4294967295. */
int sess_proc_u32(const struct session_table *t, uint32_t pid, const char *name,
		    uint32_t *out)
{
	char buf[32], *end;
	long long v;

	if (sess_read_proc(t, pid, name, buf, sizeof(buf)) <= 0)
		return -ENOENT;
	v = strtoll(buf, &end, 10);
	if (end == buf || (*end && *end != '\n'))
		return -EINVAL;
	*out = (uint32_t)v;
	return 0;
}

/* After "comm)": state ppid pgrp session tty_nr ..., starttime is field 22 of the line.
 * comm may hold ") " itself, hence the last ')'. */
int sess_proc_stat(const struct session_table *t, uint32_t pid, struct sess_proc_stat *st)
{
	char buf[1024], *p;

	if (sess_read_proc(t, pid, "stat", buf, sizeof(buf)) <= 0 || !(p = strrchr(buf, ')')))
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
	if (sess_read_small(path, buf, sizeof(buf)) > 0 && (p = strstr(buf, "\nbtime ")))
		t->btime_ns = strtoull(p + 7, NULL, 10) * 1000000000ULL;
	return t->btime_ns;
}

uint64_t sess_start_realtime(struct session_table *t, unsigned long long ticks)
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
	int n = sess_read_proc(t, pid, "environ", buf, sizeof(buf));

	for (size_t k = 0; k < ARRAY_SIZE(keys); k++) {
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
static void note_process(struct session_table *t, uint32_t pid, struct proc_facts *f,
			 unsigned long long *tty_start)
{
	struct sess_proc_stat st;

	if (sess_proc_stat(t, pid, &st))
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

void sess_from_proc(struct session_table *t, uint32_t session_id, uint32_t pid_hint,
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
		if (!sess_proc_u32(t, pid, "sessionid", &sid) && sid == session_id)
			note_process(t, pid, f, &tty_start);
	}
	closedir(d);
}

/* utmp: the USER_PROCESS record of the leader's pid, else of the session's terminal. */
