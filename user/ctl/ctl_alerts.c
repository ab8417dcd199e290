// SPDX-License-Identifier: GPL-2.0-only
/*
 * exfilctl alerts: every alert episode in the evidence at its latest revision. A per-user
 * alert (session_id null) is listed under every session it covers.
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "ctl.h"
#include "ctl_case.h"

static const char usage[] =
	"usage: exfilctl alerts [--dir DIR] [--json] [--session N] [--user NAME] [--rule NAME]\n"
	"                      [--host NAME] [--since T] [--until T]\n";

static const char *first_name(json_t *x, const char *list)
{
	json_t *a = json_object_get(x, list);

	return json_array_size(a) ? case_str(json_array_get(a, 0), "name") : "-";
}

/* The SESSION column: the alert's session, or the sessions a per-user alert covers
 * ("21,22"; "user" when none of them is in the store), never a made-up 0. */
static const char *session_column(const struct case_model *m, json_t *al, char *buf, size_t len)
{
	json_t *sid = json_object_get(json_object_get(al, "exfilmon"), "session_id");
	size_t used = 0;

	if (json_is_integer(sid)) {
		snprintf(buf, len, "%lld", (long long)json_integer_value(sid));
		return buf;
	}
	buf[0] = '\0';
	for (size_t i = 0; i < m->n_sessions && used < len; i++)
		if (case_alert_covers(al, &m->sessions[i]))
			used += snprintf(buf + used, len - used, "%s%u", used ? "," : "",
					 m->sessions[i].session_id);
	if (!buf[0])
		snprintf(buf, len, "user");
	return buf;
}

/* --session (the alerts covering it), --user, --rule, --host: every filter given must
 * match. */
static bool selected(const struct case_model *m, json_t *al, const struct ctl_args *a)
{
	const struct case_session *s;

	if (a->o.user && strcmp(case_str(json_object_get(al, "user"), "name"), a->o.user))
		return false;
	if (a->rule && strcmp(case_str(json_object_get(al, "rule"), "name"), a->rule))
		return false;
	if (a->host && strcmp(case_str(json_object_get(al, "host"), "name"), a->host))
		return false;
	if (!a->have_session)
		return true;
	s = case_find(m, a->o.filter.session_id);
	return s && case_alert_covers(al, s);
}

void ctl_alert_header(void)
{
	printf("%-24s %-24s %-10s %7s %12s %12s  %s -> %s\n", "TIME", "RULE", "USER", "SESSION",
	       "COLLECTED", "SENT OUT", "TOP SOURCE", "DESTINATION");
}

void ctl_alert_line(json_t *al, const char *session)
{
	json_t *x = json_object_get(al, "exfilmon");
	char user[128], src[1024], dst[1024];

	printf("%-24s %-24s %-10s %7s %12lld %12lld  %s -> %s\n", case_str(al, "@timestamp"),
	       case_str(json_object_get(al, "rule"), "name"),
	       ctl_safe_stored(case_str(json_object_get(al, "user"), "name"), user, sizeof(user)),
	       session, case_int(x, "source_bytes"), case_int(x, "egress_bytes"),
	       ctl_safe_stored(first_name(x, "sources"), src, sizeof(src)),
	       ctl_safe_stored(first_name(x, "destinations"), dst, sizeof(dst)));
}

int ctl_alerts(int argc, char **argv)
{
	struct case_model m;
	struct ctl_args a;
	int err = ctl_parse_args(argc, argv, &a, usage);
	json_t *al, *sel;
	size_t i;

	if (err)
		return err;
	a.o.filter.have_session = false;   /* alerts are judged across the whole store */
	if ((err = case_load(&a.o, &m)))
		return err;
	sel = json_array();
	json_array_foreach(m.alerts, i, al)
		if (selected(&m, al, &a))
			json_array_append(sel, al);
	if (a.json) {
		json_array_foreach(sel, i, al) {
			json_dumpf(al, stdout, JSON_COMPACT);
			putchar('\n');
		}
	} else {
		char sessions[256];

		ctl_alert_header();
		json_array_foreach(sel, i, al)
			ctl_alert_line(al, session_column(&m, al, sessions, sizeof(sessions)));
	}
	json_decref(sel);
	case_free(&m);
	return 0;
}
