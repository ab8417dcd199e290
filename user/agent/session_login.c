// SPDX-License-Identifier: GPL-2.0-only
/*
 * What the login records say about a session: logind's session file, then utmp.
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

void sess_from_logind(struct session_table *t, struct session_info *s)
{
	char path[PATH_MAX + 16], buf[4096], *line, *save, *eq;
	char user[64] = "", number[16];
	uint32_t uid = LOGINUID_NONE;

	snprintf(path, sizeof(path), "%s/%u", t->logind_dir, s->session_id);
	if (sess_read_small(path, buf, sizeof(buf)) <= 0)
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
bool sess_from_utmp(const struct session_table *t, const struct session_info *s,
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
