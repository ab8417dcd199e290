// SPDX-License-Identifier: GPL-2.0-only
/*
 * exfilctl report: a self-contained HTML incident report for one session (inline CSS
 * and SVG, no external assets, works offline): who and when, the verification result,
 * a chart of bytes collected vs bytes leaving, top sources, destinations, the process
 * tree, alerts, gaps and the timeline. Every value is HTML-escaped: paths are hostile.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ctl.h"
#include "ctl_case.h"

static const char usage[] = "usage: exfilctl report --session N -o report.html [--dir DIR]\n";

static void esc(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		switch (*s) {
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '&': fputs("&amp;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&#39;", f); break;
		default: fputc(*s, f);
		}
	}
}

struct tally {
	char name[256];
	unsigned long long bytes;
};

static void tally_add(struct tally *t, size_t *n, size_t cap, const char *name, long long bytes)
{
	for (size_t i = 0; i < *n; i++) {
		if (!strcmp(t[i].name, name)) {
			t[i].bytes += bytes;
			return;
		}
	}
	if (*n < cap) {
		snprintf(t[*n].name, sizeof(t[*n].name), "%s", name);
		t[(*n)++].bytes = bytes;
	}
}

static int by_bytes(const void *a, const void *b)
{
	const struct tally *x = a, *y = b;

	return x->bytes < y->bytes ? 1 : x->bytes > y->bytes ? -1 : 0;
}

static void table(FILE *f, const char *title, struct tally *t, size_t n, const char *id)
{
	qsort(t, n, sizeof(*t), by_bytes);
	fprintf(f, "<h2>%s</h2><table id=\"%s\"><tr><th>name</th><th>bytes</th></tr>", title, id);
	for (size_t i = 0; i < n && i < 20; i++) {
		fputs("<tr><td>", f);
		esc(f, t[i].name);
		fprintf(f, "</td><td class=\"n\">%llu</td></tr>", t[i].bytes);
	}
	if (!n)
		fputs("<tr><td colspan=\"2\">none</td></tr>", f);
	fputs("</table>", f);
}

/* Cumulative bytes collected (blue) and leaving (red) against time, as inline SVG. */
static void chart(FILE *f, json_t *records, uint64_t t0, uint64_t t1, unsigned long long in_total,
		  unsigned long long out_total)
{
	unsigned long long in = 0, out = 0, top = in_total > out_total ? in_total : out_total;
	double span = t1 > t0 ? (double)(t1 - t0) : 1;
	json_t *r;
	size_t i;

	fputs("<h2>Bytes collected vs bytes leaving</h2><svg id=\"chart\" width=\"760\" "
	      "height=\"240\" viewBox=\"0 0 760 240\" xmlns=\"http://www.w3.org/2000/svg\">"
	      "<rect x=\"40\" y=\"10\" width=\"700\" height=\"200\" fill=\"#fafafa\" stroke=\"#999\"/>",
	      f);
	for (int pass = 0; pass < 2; pass++) {
		unsigned long long *acc = pass ? &out : &in;

		*acc = 0;
		fprintf(f, "<polyline fill=\"none\" stroke-width=\"2\" stroke=\"%s\" points=\"40,210",
			pass ? "#c0392b" : "#2c6fbb");
		json_array_foreach(records, i, r) {
			json_t *d = json_object_get(r, "data");
			const char *kind = case_str(d, "kind");
			bool is_out = !strncmp(kind, "egress", 6);
			bool is_in = !strncmp(kind, "source", 6) || !strcmp(kind, "mmap_source");
			double x, y;

			if (strcmp(case_str(r, "type"), "activity") || (pass ? !is_out : !is_in))
				continue;
			*acc += case_int(d, "bytes");
			x = 40 + 700 * ((double)(case_int(r, "ts_ns") - (long long)t0) / span);
			y = 210 - 200 * (top ? (double)*acc / top : 0);
			fprintf(f, " %.1f,%.1f", x, y);
		}
		fputs("\"/>", f);
	}
	fprintf(f, "<text x=\"45\" y=\"25\" font-size=\"12\" fill=\"#2c6fbb\">collected %llu bytes"
		   "</text><text x=\"45\" y=\"42\" font-size=\"12\" fill=\"#c0392b\">leaving %llu bytes"
		   "</text></svg>", in_total, out_total);
}

static void process_tree(FILE *f, json_t *records)
{
	json_t *r;
	size_t i;

	fputs("<h2>Processes</h2><table id=\"processes\"><tr><th>pid</th><th>ppid</th>"
	      "<th>program</th><th>command line</th></tr>", f);
	json_array_foreach(records, i, r) {
		json_t *d = json_object_get(r, "data");

		if (strcmp(case_str(r, "type"), "process") || strcmp(case_str(d, "event"), "exec"))
			continue;
		fprintf(f, "<tr><td>%lld</td><td>%lld</td><td>", case_int(d, "pid"), case_int(d, "ppid"));
		esc(f, case_str(d, "exe"));
		fputs("</td><td>", f);
		esc(f, case_str(d, "args"));
		fputs("</td></tr>", f);
	}
	fputs("</table>", f);
}

static void alerts(FILE *f, json_t *all, uint32_t sid)
{
	json_t *al;
	size_t i, shown = 0;

	fputs("<h2>Alerts</h2><table id=\"alerts\"><tr><th>time</th><th>rule</th><th>collected"
	      "</th><th>sent out</th><th>destinations</th></tr>", f);
	json_array_foreach(all, i, al) {
		json_t *x = json_object_get(al, "exfilmon"), *dst = json_object_get(x, "destinations"), *d;
		size_t j;

		if (case_int(x, "session_id") != sid)
			continue;
		shown++;
		fputs("<tr><td>", f);
		esc(f, case_str(al, "@timestamp"));
		fputs("</td><td class=\"rule\">", f);
		esc(f, case_str(json_object_get(al, "rule"), "name"));
		fprintf(f, "</td><td class=\"n\">%lld</td><td class=\"n\">%lld</td><td>",
			case_int(x, "source_bytes"), case_int(x, "egress_bytes"));
		json_array_foreach(dst, j, d) {
			esc(f, case_str(d, "name"));
			fputs(" ", f);
		}
		fputs("</td></tr>", f);
	}
	if (!shown)
		fputs("<tr><td colspan=\"5\">none</td></tr>", f);
	fputs("</table>", f);
}

static void timeline(FILE *f, json_t *records, unsigned *gaps)
{
	char when[32], line[1024];
	json_t *r;
	size_t i, n = 0;

	fputs("<h2>Timeline</h2><table id=\"timeline\">", f);
	json_array_foreach(records, i, r) {
		ctl_describe(case_str(r, "type"), json_object_get(r, "data"), line, sizeof(line));
		if (!line[0] || n++ >= 2000)
			continue;
		*gaps += !strcmp(case_str(r, "type"), "gap");
		ctl_fmt_time((uint64_t)case_int(r, "ts_ns"), when, sizeof(when));
		fprintf(f, "<tr class=\"%s\"><td>%s</td><td>", case_str(r, "type"), when);
		esc(f, line);
		fputs("</td></tr>", f);
	}
	fputs("</table>", f);
}

static void write_report(FILE *f, struct case_model *m, const struct case_session *s)
{
	struct tally src[256], dst[256];
	size_t n_src = 0, n_dst = 0;
	unsigned gaps = 0;
	char login[32], first[32], last[32];
	json_t *r;
	size_t i;

	json_array_foreach(m->records, i, r) {
		json_t *d = json_object_get(r, "data");
		const char *kind = case_str(d, "kind");

		if (strcmp(case_str(r, "type"), "activity"))
			continue;
		if (!strncmp(kind, "source", 6) || !strcmp(kind, "mmap_source"))
			tally_add(src, &n_src, 256, case_str(d, "object"), case_int(d, "bytes"));
		else if (!strncmp(kind, "egress", 6))
			tally_add(dst, &n_dst, 256, json_object_get(d, "mount") ? case_str(d, "mount")
									      : case_str(d, "object"),
				  case_int(d, "bytes"));
	}
	ctl_fmt_time(s->login_ns, login, sizeof(login));
	ctl_fmt_time(s->first_ns, first, sizeof(first));
	ctl_fmt_time(s->last_ns, last, sizeof(last));
	fputs("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>exfilmon incident report"
	      "</title><style>body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:"
	      "collapse;margin-bottom:1em}td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px;"
	      "text-align:left}.n{text-align:right}.ok{color:#1e7e34}.bad{color:#b00020}tr.alert td,"
	      "tr.gap td{background:#fff3f3}</style></head><body>", f);
	fprintf(f, "<h1>Incident report: session %u</h1><table id=\"who\">", s->session_id);
	fputs("<tr><th>user</th><td id=\"user\">", f);
	esc(f, s->user);
	fprintf(f, "</td></tr><tr><th>uid</th><td>%u</td></tr><tr><th>tty</th><td>", s->loginuid);
	esc(f, s->tty[0] ? s->tty : "-");
	fputs("</td></tr><tr><th>from</th><td>", f);
	esc(f, s->remote_host[0] ? s->remote_host : "local");
	fprintf(f, "</td></tr><tr><th>login</th><td>%s</td></tr><tr><th>activity</th><td>%s .. %s"
		   "</td></tr><tr><th>collected</th><td id=\"collected\">%llu</td></tr><tr><th>sent out"
		   "</th><td id=\"sent\">%llu</td></tr><tr><th>staged</th><td>%llu</td></tr></table>",
		login, first, last, (unsigned long long)s->source_bytes,
		(unsigned long long)s->egress_bytes, (unsigned long long)s->staging_bytes);
	fprintf(f, "<h2>Evidence verification</h2><p id=\"verify\" class=\"%s\">%s: %llu blocks, "
		   "%llu records checked; chain head %s</p>",
		m->rep.intact ? "ok" : "bad", m->rep.intact ? "intact" : "NOT INTACT",
		(unsigned long long)m->rep.blocks, (unsigned long long)m->rep.records, m->rep.head);
	if (!m->rep.intact) {
		fputs("<p class=\"bad\">", f);
		esc(f, m->rep.problem);
		fputs("</p>", f);
	}
	alerts(f, m->alerts, s->session_id);
	chart(f, m->records, s->first_ns, s->last_ns, s->source_bytes, s->egress_bytes);
	table(f, "Top files and services read", src, n_src, "sources");
	table(f, "Where data went", dst, n_dst, "destinations");
	process_tree(f, m->records);
	timeline(f, m->records, &gaps);
	fprintf(f, "<h2>Gaps in the record</h2><p id=\"gaps\">%u gap records (lost detail; byte "
		   "totals are unaffected)</p></body></html>\n", gaps);
}

int ctl_report(int argc, char **argv)
{
	const struct case_session *s;
	struct case_model m;
	struct ctl_args a;
	int err = ctl_parse_args(argc, argv, &a, usage);
	FILE *f;

	if (err)
		return err;
	if (!a.have_session || !a.output) {
		fprintf(stderr, "exfilctl report: give --session N and -o FILE\n%s", usage);
		return 2;
	}
	a.o.keep_records = true;
	if ((err = case_load(&a.o, &m)))
		return err;
	s = case_find(&m, a.o.filter.session_id);
	if (!s) {
		fprintf(stderr, "exfilctl report: session %u is not in %s\n", a.o.filter.session_id,
			a.o.dir);
		case_free(&m);
		return 1;
	}
	f = fopen(a.output, "w");
	if (!f) {
		perror(a.output);
		case_free(&m);
		return 1;
	}
	write_report(f, &m, s);
	err = fclose(f) ? 1 : 0;
	case_free(&m);
	return err;
}
