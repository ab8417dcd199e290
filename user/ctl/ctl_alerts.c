// SPDX-License-Identifier: GPL-2.0-only
/* exfilctl alerts: every alert episode in the evidence at its latest revision. */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "ctl.h"
#include "ctl_case.h"

static const char usage[] =
	"usage: exfilctl alerts [--dir DIR] [--json] [--session N] [--user NAME] [--rule NAME]\n"
	"                      [--host NAME] [--since T] [--until T]\n";

/* --session, --user, --rule, --host: every filter given must match. */
static bool selected(const struct ctl_args *a, json_t *al)
{
	json_t *x = json_object_get(al, "exfilmon");

	return (!a->have_session || case_int(x, "session_id") == a->o.filter.session_id) &&
	       (!a->o.user || !strcmp(case_str(json_object_get(al, "user"), "name"), a->o.user)) &&
	       (!a->rule || !strcmp(case_str(json_object_get(al, "rule"), "name"), a->rule)) &&
	       (!a->host || !strcmp(case_str(json_object_get(al, "host"), "name"), a->host));
}

static const char *first_name(json_t *x, const char *list)
{
	json_t *a = json_object_get(x, list);

	return json_array_size(a) ? case_str(json_array_get(a, 0), "name") : "-";
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
	json_array_foreach(m.alerts, i, al) {
		if (selected(&a, al))
			json_array_append(sel, al);
	}
	if (a.json) {
		json_array_foreach(sel, i, al) {
			json_dumpf(al, stdout, JSON_COMPACT);
			putchar('\n');
		}
	} else {
		printf("%-24s %-24s %-10s %7s %12s %12s  %s -> %s\n", "TIME", "RULE", "USER",
		       "SESSION", "COLLECTED", "SENT OUT", "TOP SOURCE", "DESTINATION");
		json_array_foreach(sel, i, al) {
			json_t *x = json_object_get(al, "exfilmon");

			char user[128], src[1024], dst[1024];

			printf("%-24s %-24s %-10s %7lld %12lld %12lld  %s -> %s\n",
			       case_str(al, "@timestamp"),
			       case_str(json_object_get(al, "rule"), "name"),
			       ctl_safe_stored(case_str(json_object_get(al, "user"), "name"), user,
					sizeof(user)),
			       case_int(x, "session_id"), case_int(x, "source_bytes"),
			       case_int(x, "egress_bytes"),
			       ctl_safe_stored(first_name(x, "sources"), src, sizeof(src)),
			       ctl_safe_stored(first_name(x, "destinations"), dst, sizeof(dst)));
		}
	}
	json_decref(sel);
	case_free(&m);
	return 0;
}
