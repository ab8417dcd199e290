// SPDX-License-Identifier: GPL-2.0-only
/*
 * exfilctl timeline: what a session (or every session of a user) did, in order: the
 * programs it ran, the sources it read, what it wrote and where bytes went, the gaps in
 * the record and the alerts.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "model/activity.h"
#include "ctl.h"
#include "ctl_case.h"

static const char usage[] =
	"usage: exfilctl timeline --session N | --user NAME [--dir DIR] [--since T] [--until T] [--json]\n";

/* One human line per record; "" when the record is not worth a line. */
void ctl_describe(const char *type, json_t *d, char *out, size_t len)
{
	const char *ev = case_str(d, "event");
	bool from_source = activity_class(activity_kind_from_name(case_str(d, "kind"))) ==
			   ACT_CLASS_SOURCE;
	char buf[4096];

	buf[0] = '\0';
	if (!strcmp(type, "activity"))
		snprintf(buf, sizeof(buf), "%-12s %s(%lld) %lld bytes %s %s%s%s", case_str(d, "kind"),
			 case_str(d, "comm"), case_int(d, "pid"), case_int(d, "bytes"),
			 from_source ? "from" : "->",
			 case_str(d, "object"), json_object_get(d, "mount") ? " on " : "",
			 case_str(d, "mount"));
	else if (!strcmp(type, "process") && !strcmp(ev, "exec"))
		snprintf(buf, sizeof(buf), "%-12s %s(%lld) ppid %lld: %s", "exec", case_str(d, "comm"),
			 case_int(d, "pid"), case_int(d, "ppid"), case_str(d, "args"));
	else if (!strcmp(type, "process") && !strcmp(ev, "exit"))
		snprintf(buf, sizeof(buf), "%-12s %s(%lld)", "exit", case_str(d, "comm"), case_int(d, "pid"));
	else if (!strcmp(type, "file"))
		snprintf(buf, sizeof(buf), "%-12s %s(%lld) %s [%s]", ev, case_str(d, "comm"),
			 case_int(d, "pid"), case_str(d, "path"), case_str(d, "class"));
	else if (!strcmp(type, "connect"))
		snprintf(buf, sizeof(buf), "%-12s %s(%lld) %s %s:%lld -> %s:%lld [%s]", case_str(d, "direction"),
			 case_str(d, "comm"), case_int(d, "pid"), case_str(d, "proto"),
			 case_str(d, "local_ip"), case_int(d, "local_port"), case_str(d, "remote_ip"),
			 case_int(d, "remote_port"), case_str(d, "class"));
	else if (!strcmp(type, "gap"))
		snprintf(buf, sizeof(buf), "%-12s lost %lld %s records%s (%s)", "GAP", case_int(d, "count"),
			 case_str(d, "what"),
			 json_is_null(json_object_get(d, "session_id")) ? " of all sessions" : "",
			 case_str(d, "reason"));
	else if (!strcmp(type, "alert"))
		snprintf(buf, sizeof(buf), "%-12s %s rev %lld: collected %lld, sent out %lld%s", "ALERT",
			 case_str(json_object_get(d, "rule"), "name"),
			 case_int(json_object_get(d, "exfilmon"), "revision"),
			 case_int(json_object_get(d, "exfilmon"), "source_bytes"),
			 case_int(json_object_get(d, "exfilmon"), "egress_bytes"),
			 json_is_null(json_object_get(json_object_get(d, "exfilmon"), "session_id"))
				 ? " (per user, across sessions)" : "");
	else if (!strcmp(type, "session"))
		snprintf(buf, sizeof(buf), "%-12s user %s uid %lld tty %s from %s", "login",
			 case_str(d, "user"), case_int(d, "loginuid"), case_str(d, "tty"),
			 *case_str(d, "remote_host") ? case_str(d, "remote_host") : "local");
	else if (!strcmp(type, "agent"))
		snprintf(buf, sizeof(buf), "%-12s agent %s", "agent", ev);
	ctl_escape_stored(out, len, buf);
}

static void timeline_record(void *arg, json_t *r)
{
	const bool *json = arg;
	const char *type = case_str(r, "type");
	char when[32], line[1024];

	if (*json) {
		char *s = json_dumps(r, JSON_COMPACT);

		if (s)
			puts(s);
		free(s);
		return;
	}
	ctl_describe(type, json_object_get(r, "data"), line, sizeof(line));
	if (!line[0])
		return;
	ctl_fmt_time((uint64_t)case_int(r, "ts_ns"), when, sizeof(when));
	printf("%s  %s\n", when, line);
}

int ctl_timeline(int argc, char **argv)
{
	struct case_model m;
	struct ctl_args a;
	int err = ctl_parse_args(argc, argv, &a, usage);

	if (err)
		return err;
	if (!a.have_session && !a.o.user) {
		fprintf(stderr, "exfilctl timeline: give --session N or --user NAME\n%s", usage);
		return 2;
	}
	/* Streamed: however long the session, the timeline needs no more memory. */
	if ((err = case_stream(&a.o, &m, timeline_record, &a.json)))
		return err;
	case_free(&m);
	return 0;
}
