// SPDX-License-Identifier: GPL-2.0-only
/*
 * User names for uids: the passwd file first, then NSS, cached; a miss is retried when
 * passwd changes or after a minute.
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

