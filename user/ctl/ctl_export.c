// SPDX-License-Identifier: GPL-2.0-only
/*
 * exfilctl export: evidence records as JSON lines ({seq, ts_ns, type, data}) or CSV with
 * the columns a SIEM import or a case file needs.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/csv.h"
#include "ctl.h"
#include "ctl_case.h"

static const char usage[] = "usage: exfilctl export [--format json|csv] [--dir DIR] [--session N] "
			    "[--user NAME] [--since T] [--until T]\n";

/* Every cell through common/csv: quoted, and a formula the watched user planted (a comm
 * of "=cmd|..." set with prctl) is shown as text in a spreadsheet. */
static void csv_field(const char *s, bool last)
{
	csv_write_field(stdout, s, last);
}

static void csv_row(json_t *r)
{
	json_t *d = json_object_get(r, "data");
	json_t *sid = json_object_get(d, "session_id");
	char when[32], num[32], line[1024];

	ctl_fmt_time((uint64_t)case_int(r, "ts_ns"), when, sizeof(when));
	snprintf(num, sizeof(num), "%lld", case_int(r, "seq"));
	csv_field(num, false);
	csv_field(when, false);
	csv_field(case_str(r, "type"), false);
	snprintf(num, sizeof(num), json_is_integer(sid) ? "%lld" : "", (long long)json_integer_value(sid));
	csv_field(num, false);
	snprintf(num, sizeof(num), "%lld", case_int(d, "pid"));
	csv_field(num, false);
	csv_field(case_str(d, "comm"), false);
	csv_field(case_str(d, "kind"), false);
	csv_field(*case_str(d, "object") ? case_str(d, "object") : case_str(d, "path"), false);
	snprintf(num, sizeof(num), "%lld", case_int(d, "bytes"));
	csv_field(num, false);
	ctl_describe(case_str(r, "type"), d, line, sizeof(line));
	csv_field(line, true);
}

static void export_record(void *arg, json_t *r)
{
	const bool *csv = arg;
	char *s;

	if (*csv) {
		csv_row(r);
		return;
	}
	s = json_dumps(r, JSON_COMPACT);
	if (s)
		puts(s);
	free(s);
}

int ctl_export(int argc, char **argv)
{
	struct case_model m;
	struct ctl_args a;
	int err = ctl_parse_args(argc, argv, &a, usage);
	bool csv;

	if (err)
		return err;
	if (a.format && strcmp(a.format, "json") && strcmp(a.format, "csv")) {
		fprintf(stderr, "exfilctl export: --format: expected json or csv, got '%s'\n", a.format);
		return 2;
	}
	csv = a.format && !strcmp(a.format, "csv");
	if (csv)
		printf("seq,time,type,session_id,pid,comm,kind,object,bytes,description\n");
	/* Streamed: a store of any size exports in the memory of its sessions and alerts. */
	if ((err = case_stream(&a.o, &m, export_record, &csv)))
		return err;
	case_free(&m);
	return 0;
}
