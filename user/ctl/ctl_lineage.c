// SPDX-License-Identifier: GPL-2.0-only
/*
 * exfilctl lineage: where customer data went, from the evidence's lineage records.
 * --file PATH: who wrote the file with which origins, what they had read, who read it
 * and what those readers wrote or sent, step by step with bytes. --alert ID: the chain,
 * origins and hand-off a derived_exfiltration alert carries.
 */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ctl.h"
#include "ctl_case.h"

#define LINEAGE_DEPTH 6

static const char usage[] =
	"usage: exfilctl lineage --file PATH | --alert ID [--dir DIR] [--json]\n";

static const char *step_of(json_t *d)
{
	return case_str(d, "step");
}

static void origins_text(json_t *d, char *out, size_t len)
{
	json_t *o;
	size_t i, n = 0;

	out[0] = '\0';
	json_array_foreach(json_object_get(d, "origins"), i, o) {
		json_t *sid = json_object_get(o, "session_id");

		if (json_is_null(sid))
			n += snprintf(out + n, n < len ? len - n : 0, "%sno session (uid %lld)",
				      n ? ", " : "", case_int(o, "loginuid"));
		else
			n += snprintf(out + n, n < len ? len - n : 0, "%ssession %lld (uid %lld)",
				      n ? ", " : "", (long long)json_integer_value(sid),
				      case_int(o, "loginuid"));
	}
	if (json_is_true(json_object_get(d, "origin_unknown")))
		snprintf(out + n, n < len ? len - n : 0, "%sorigins not all known", n ? ", " : "");
}

static void print_step(unsigned depth, json_t *r, const char *what)
{
	json_t *d = json_object_get(r, "data");
	char when[32], origins[512], sess[24], line[2048], safe[8192];
	json_t *sid = json_object_get(d, "session_id");

	ctl_fmt_time((uint64_t)case_int(r, "ts_ns"), when, sizeof(when));
	origins_text(d, origins, sizeof(origins));
	if (json_is_integer(sid))
		snprintf(sess, sizeof(sess), "%lld", (long long)json_integer_value(sid));
	else
		snprintf(sess, sizeof(sess), "none");
	snprintf(line, sizeof(line), "%s %s(%lld) session %s %s %s %s: %lld bytes [origins: %s]",
		 when, case_str(d, "comm"), case_int(d, "pid"), sess, what,
		 case_str(d, "object_kind"), case_str(d, "object"), case_int(d, "bytes"), origins);
	printf("%*s%s\n", (int)depth * 2, "", ctl_safe(line, safe, sizeof(safe)));
}

/* The records of one object, by its id; upstream goes to who wrote into it. */
static void upstream_object(json_t *recs, long long id, unsigned depth);

/* What a process had read before it wrote: sources (activity) and derived objects. */
static void upstream_process(json_t *recs, json_t *d, unsigned depth)
{
	long long pid = case_int(d, "pid");
	char line[1024], safe[4096];
	json_t *r;
	size_t i;

	if (depth > LINEAGE_DEPTH)
		return;
	json_array_foreach(recs, i, r) {
		json_t *x = json_object_get(r, "data");
		const char *type = case_str(r, "type");

		if (case_int(x, "pid") != pid)
			continue;
		if (!strcmp(type, "activity") && !strncmp(case_str(x, "kind"), "source", 6)) {
			snprintf(line, sizeof(line), "%s(%lld) read source %s: %lld bytes",
				 case_str(x, "comm"), pid, case_str(x, "object"),
				 case_int(x, "bytes"));
			printf("%*s%s\n", (int)depth * 2, "", ctl_safe(line, safe, sizeof(safe)));
		} else if (!strcmp(type, "lineage") && !strcmp(step_of(x), "read")) {
			print_step(depth, r, "took the label of");
			upstream_object(recs, case_int(x, "object_id"), depth + 1);
		}
	}
}

static void upstream_object(json_t *recs, long long id, unsigned depth)
{
	json_t *r;
	size_t i;

	if (depth > LINEAGE_DEPTH)
		return;
	json_array_foreach(recs, i, r) {
		json_t *d = json_object_get(r, "data");

		if (strcmp(case_str(r, "type"), "lineage") || case_int(d, "object_id") != id ||
		    strcmp(step_of(d), "write"))
			continue;
		print_step(depth, r, "wrote");
		upstream_process(recs, d, depth + 1);
	}
}

/* Who read the object and what they did with it: wrote on, or sent out. */
static void downstream(json_t *recs, long long id, unsigned depth)
{
	json_t *r, *s;
	size_t i, j;

	if (depth > LINEAGE_DEPTH)
		return;
	json_array_foreach(recs, i, r) {
		json_t *d = json_object_get(r, "data");

		if (strcmp(case_str(r, "type"), "lineage") || case_int(d, "object_id") != id ||
		    strcmp(step_of(d), "read"))
			continue;
		print_step(depth, r, "read");
		json_array_foreach(recs, j, s) {
			json_t *x = json_object_get(s, "data");

			if (strcmp(case_str(s, "type"), "lineage") ||
			    case_int(x, "pid") != case_int(d, "pid") ||
			    case_int(s, "ts_ns") < case_int(r, "ts_ns"))
				continue;
			if (!strcmp(step_of(x), "send")) {
				print_step(depth + 1, s, "sent to");
			} else if (!strcmp(step_of(x), "write") &&
				   case_int(x, "object_id") != id) {
				print_step(depth + 1, s, "wrote");
				downstream(recs, case_int(x, "object_id"), depth + 2);
			}
		}
	}
}

/*
 * The kernel reports a (process, object, step) again each time its bytes double; only
 * the last report, with the total, is a step here. Source activity stays as it is.
 */
static json_t *latest_steps(json_t *records)
{
	json_t *out = json_array(), *seen = json_object(), *r;
	size_t n = json_array_size(records), i = n;
	char *keep = calloc(n + 1, 1);

	if (!keep)
		return out;
	while (i-- > 0) {
		json_t *d;
		char key[96];

		r = json_array_get(records, i);
		d = json_object_get(r, "data");
		if (!strcmp(case_str(r, "type"), "lineage")) {
			snprintf(key, sizeof(key), "%lld/%lld/%s", case_int(d, "pid"),
				 case_int(d, "object_id"), step_of(d));
			if (json_object_get(seen, key))
				continue;
			json_object_set_new(seen, key, json_true());
		} else if (strcmp(case_str(r, "type"), "activity")) {
			continue;
		}
		keep[i] = 1;
	}
	for (i = 0; i < n; i++)
		if (keep[i])
			json_array_append(out, json_array_get(records, i));
	free(keep);
	json_decref(seen);
	return out;
}

static int by_file(json_t *recs, const char *path)
{
	char real[PATH_MAX];
	long long ids[64];
	unsigned n = 0;
	json_t *r;
	size_t i;

	if (realpath(path, real))
		path = real;
	json_array_foreach(recs, i, r) {
		json_t *d = json_object_get(r, "data");
		long long id = case_int(d, "object_id");
		bool seen = false;

		if (strcmp(case_str(r, "type"), "lineage") || strcmp(case_str(d, "object"), path))
			continue;
		for (unsigned k = 0; k < n; k++)
			seen |= ids[k] == id;
		if (!seen && n < 64)
			ids[n++] = id;
	}
	if (!n) {
		printf("%s: no lineage records (never written or read while labelled)\n", path);
		return 1;
	}
	for (unsigned k = 0; k < n; k++) {
		printf("%s (object %lld)\nwhere it came from:\n", path, ids[k]);
		upstream_object(recs, ids[k], 1);
		printf("where it went:\n");
		downstream(recs, ids[k], 1);
	}
	return 0;
}

static int by_alert(json_t *alerts, const char *want, bool as_json)
{
	json_t *al;
	size_t i;

	json_array_foreach(alerts, i, al) {
		json_t *x = json_object_get(al, "exfilmon"), *it, *o;
		char id[32];
		size_t j;

		snprintf(id, sizeof(id), "%lld", case_int(x, "alert_id"));
		if (strcmp(id, want))
			continue;
		if (as_json) {
			char *s = json_dumps(x, JSON_COMPACT);

			puts(s);
			free(s);
			return 0;
		}
		printf("alert %s %s rev %lld: %s, session %lld, sent %lld bytes of customer data\n",
		       id, case_str(json_object_get(al, "rule"), "name"), case_int(x, "revision"),
		       case_str(json_object_get(al, "user"), "name"), case_int(x, "session_id"),
		       case_int(x, "egress_bytes"));
		printf("hand-off: %s\norigins:\n", json_is_true(json_object_get(x, "hand_off"))
							   ? "yes" : "no");
		json_array_foreach(json_object_get(x, "origins"), j, o)
			printf("  %s session %lld (uid %lld)\n", case_str(o, "user"),
			       case_int(o, "session_id"), case_int(o, "loginuid"));
		printf("sources:\n");
		json_array_foreach(json_object_get(x, "sources"), j, it)
			printf("  %s: %lld bytes\n", case_str(it, "name"), case_int(it, "bytes"));
		printf("chain:\n");
		json_array_foreach(json_object_get(x, "chain"), j, it)
			printf("  %s%s: %lld bytes\n", j ? "-> " : "", case_str(it, "name"),
			       case_int(it, "bytes"));
		json_array_foreach(json_object_get(x, "destinations"), j, it)
			printf("  -> sent to %s: %lld bytes\n", case_str(it, "name"),
			       case_int(it, "bytes"));
		return 0;
	}
	fprintf(stderr, "exfilctl lineage: no alert %s in the evidence\n", want);
	return 1;
}

int ctl_lineage(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'D' }, { "file", required_argument, NULL, 'f' },
		{ "alert", required_argument, NULL, 'a' }, { "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' }, { 0 },
	};
	struct case_opts o = { .dir = XM_DEFAULT_EVIDENCE_DIR, .keep_records = true };
	const char *file = NULL, *alert = NULL;
	struct case_model m;
	bool as_json = false;
	int c, err;

	optind = 1;
	while ((c = getopt_long(argc, argv, "D:f:a:jh", opts, NULL)) != -1) {
		switch (c) {
		case 'D': o.dir = optarg; break;
		case 'f': file = optarg; break;
		case 'a': alert = optarg; break;
		case 'j': as_json = true; break;
		case 'h': printf("%s", usage); return 0;
		default: fprintf(stderr, "%s", usage); return 2;
		}
	}
	if (optind < argc || !file == !alert) {
		fprintf(stderr, "exfilctl lineage: give --file PATH or --alert ID\n%s", usage);
		return 2;
	}
	if ((err = case_load(&o, &m)))
		return err;
	if (file) {
		json_t *steps = latest_steps(m.records);

		err = by_file(steps, file);
		json_decref(steps);
	} else {
		err = by_alert(m.alerts, alert, as_json);
	}
	case_free(&m);
	return err;
}
