// SPDX-License-Identifier: GPL-2.0-only
/* exfilctl sessions: the login sessions in the evidence, with what each collected and
 * sent out. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "model/activity.h"
#include "ctl.h"
#include "ctl_case.h"

static const char usage[] = "usage: exfilctl sessions [--dir DIR] [--json] [--session N] "
			    "[--user NAME] [--since T] [--until T]\n";

json_t *ctl_session_json(const struct case_session *s)
{
	return json_pack("{s:i, s:i, s:s, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:I, s:i, s:i}",
			 "session_id", (int)s->session_id, "loginuid", (int)s->loginuid, "user",
			 s->user, "tty", s->tty, "remote_host", s->remote_host, "login_ns",
			 (json_int_t)s->login_ns, "first_ns", (json_int_t)s->first_ns, "last_ns",
			 (json_int_t)s->last_ns, "source_bytes", (json_int_t)s->source_bytes,
			 "egress_bytes", (json_int_t)s->egress_bytes, "staging_bytes",
			 (json_int_t)s->staging_bytes, "alerts", s->alerts, "gaps", s->gaps);
}

void ctl_session_header(void)
{
	printf("%8s %-12s %-8s %-16s %-19s %-19s %12s %12s %6s\n", "SESSION", "USER", "TTY", "FROM",
	       "FIRST", "LAST", "COLLECTED", "SENT OUT", "ALERTS");
}

void ctl_session_line(const struct case_session *s)
{
	char first[32], last[32], user[256], tty[128], from[512];

	ctl_fmt_time(s->first_ns, first, sizeof(first));
	ctl_fmt_time(s->last_ns, last, sizeof(last));
	printf("%8u %-12s %-8s %-16s %-19s %-19s %12llu %12llu %6u\n", s->session_id,
	       ctl_safe_stored(s->user[0] ? s->user : "?", user, sizeof(user)),
	       ctl_safe_stored(s->tty[0] ? s->tty : "-", tty, sizeof(tty)),
	       ctl_safe_stored(s->remote_host[0] ? s->remote_host : "local", from, sizeof(from)), first,
	       last, (unsigned long long)s->source_bytes, (unsigned long long)s->egress_bytes,
	       s->alerts);
}

static bool wanted(const struct ctl_args *a, const struct case_session *s)
{
	return (!a->have_session || s->session_id == a->o.filter.session_id) &&
	       (!a->o.user || !strcmp(s->user, a->o.user));
}

static int by_first_seen(const void *a, const void *b)
{
	const struct case_session *x = a, *y = b;

	return x->first_ns < y->first_ns ? -1 : x->first_ns > y->first_ns ? 1 :
	       x->session_id < y->session_id ? -1 : x->session_id > y->session_id;
}

int ctl_sessions(int argc, char **argv)
{
	struct case_model m;
	struct ctl_args a;
	int err = ctl_parse_args(argc, argv, &a, usage);
	json_t *o;

	if (err || (err = case_load(&a.o, &m)))
		return err;
	qsort(m.sessions, m.n_sessions, sizeof(*m.sessions), by_first_seen);
	if (a.json) {
		for (size_t i = 0; i < m.n_sessions; i++) {
			if (!wanted(&a, &m.sessions[i]))
				continue;
			o = ctl_session_json(&m.sessions[i]);
			json_dumpf(o, stdout, JSON_COMPACT);
			putchar('\n');
			json_decref(o);
		}
	} else {
		ctl_session_header();
		for (size_t i = 0; i < m.n_sessions; i++)
			if (wanted(&a, &m.sessions[i]))
				ctl_session_line(&m.sessions[i]);
	}
	case_free(&m);
	return 0;
}
