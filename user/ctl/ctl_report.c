// SPDX-License-Identifier: GPL-2.0-only
/*
 * exfilctl report: a self-contained HTML incident report for one session (inline CSS
 * and SVG, no external assets, no script, works offline): who and when, the
 * verification result, the alerts, a chart of bytes collected vs bytes leaving, top
 * files and services, destinations, the process tree, gaps and the timeline. Every
 * value from the evidence is HTML-escaped: paths, commands and host names are hostile.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "ctl.h"
#include "ctl_case.h"

#define MAX_TALLY 512
#define MAX_PROCS 1024
#define MAX_TIMELINE_ROWS 5000

static const char usage[] = "usage: exfilctl report --session N -o report.html [--dir DIR] "
			    "[--since T] [--until T]\n";

static const char style[] =
	"body{font-family:sans-serif;margin:2em;color:#222;max-width:1100px}"
	"h1{font-size:22px}h2{font-size:17px;margin-top:1.6em;border-bottom:1px solid #ddd}"
	"table{border-collapse:collapse;margin-bottom:1em}"
	"td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px;text-align:left;"
	"vertical-align:top}th{background:#f3f3f3}.n{text-align:right;font-variant-numeric:"
	"tabular-nums}.ok{color:#1e7e34;font-weight:bold}.bad{color:#b00020;font-weight:bold}"
	"tr.alert td,tr.gap td{background:#fff3f3}ul.tree{font-family:monospace;font-size:13px}"
	"ul.tree ul{margin:0;padding-left:1.6em}.muted{color:#777}code{font-size:12px}";

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

static bool is_source(const char *kind)
{
	return !strncmp(kind, "source", 6) || !strcmp(kind, "mmap_source");
}

static bool is_egress(const char *kind)
{
	return !strncmp(kind, "egress", 6);
}

static const char *record_type(json_t *r)
{
	return case_str(r, "type");
}

struct tally {
	char name[512];
	char kind[24];
	unsigned long long bytes;
};

static void tally_add(struct tally *t, size_t *n, const char *name, const char *kind,
		      long long bytes)
{
	for (size_t i = 0; i < *n; i++) {
		if (!strcmp(t[i].name, name)) {
			t[i].bytes += bytes;
			return;
		}
	}
	if (*n < MAX_TALLY) {
		snprintf(t[*n].name, sizeof(t[*n].name), "%s", name);
		snprintf(t[*n].kind, sizeof(t[*n].kind), "%s", kind);
		t[(*n)++].bytes = bytes;
	}
}

static int by_bytes(const void *a, const void *b)
{
	const struct tally *x = a, *y = b;

	return x->bytes < y->bytes ? 1 : x->bytes > y->bytes ? -1 : 0;
}

static void tally_table(FILE *f, const char *title, const char *id, struct tally *t, size_t n)
{
	qsort(t, n, sizeof(*t), by_bytes);
	fprintf(f, "<h2>%s</h2><table id=\"%s\"><tr><th>name</th><th>kind</th><th>bytes</th></tr>",
		title, id);
	for (size_t i = 0; i < n && i < 25; i++) {
		fputs("<tr><td>", f);
		esc(f, t[i].name);
		fputs("</td><td>", f);
		esc(f, t[i].kind);
		fprintf(f, "</td><td class=\"n\">%llu</td></tr>", t[i].bytes);
	}
	if (!n)
		fputs("<tr><td colspan=\"3\">none</td></tr>", f);
	if (n > 25)
		fprintf(f, "<tr><td colspan=\"3\" class=\"muted\">%zu more</td></tr>", n - 25);
	fputs("</table>", f);
}

/* Where an egress slice went: the mount for media and sync, else the address. */
static const char *destination(json_t *d)
{
	const char *mount = case_str(d, "mount");

	return *mount ? mount : case_str(d, "object");
}

static void sources_and_destinations(FILE *f, json_t *records)
{
	struct tally *src = calloc(MAX_TALLY, sizeof(*src)), *dst = calloc(MAX_TALLY, sizeof(*dst));
	size_t n_src = 0, n_dst = 0, i;
	json_t *r;

	if (!src || !dst)
		goto out;
	json_array_foreach(records, i, r) {
		json_t *d = json_object_get(r, "data");
		const char *kind = case_str(d, "kind");

		if (strcmp(record_type(r), "activity"))
			continue;
		if (is_source(kind))
			tally_add(src, &n_src, case_str(d, "object"), kind, case_int(d, "bytes"));
		else if (is_egress(kind))
			tally_add(dst, &n_dst, destination(d), kind, case_int(d, "bytes"));
	}
	tally_table(f, "Top files and services read", "sources", src, n_src);
	tally_table(f, "Where data went", "destinations", dst, n_dst);
out:
	free(src);
	free(dst);
}

#define CHART_SAMPLES 240

struct slice {
	uint64_t first, last;
	double bytes;
};

/* The activity slices of one direction; each moved its bytes between first_ns and
 * last_ns (the record time when those are missing). */
static size_t slices_of(json_t *records, bool out, struct slice **v)
{
	size_t n = 0, cap = 0, i;
	json_t *r;

	*v = NULL;
	json_array_foreach(records, i, r) {
		json_t *d = json_object_get(r, "data");
		const char *kind = case_str(d, "kind");
		uint64_t last = (uint64_t)case_int(d, "last_ns"), first = (uint64_t)case_int(d, "first_ns");
		struct slice *nv;

		if (strcmp(record_type(r), "activity") || (out ? !is_egress(kind) : !is_source(kind)))
			continue;
		if (n == cap) {
			nv = realloc(*v, (cap = cap ? 2 * cap : 64) * sizeof(*nv));
			if (!nv)
				break;
			*v = nv;
		}
		last = last ? last : (uint64_t)case_int(r, "ts_ns");
		(*v)[n++] = (struct slice){ first && first <= last ? first : last, last,
					    (double)case_int(d, "bytes") };
	}
	return n;
}

/* Bytes moved by time t, each slice spread evenly over its span. */
static double cumulative(const struct slice *v, size_t n, uint64_t t)
{
	double sum = 0;

	for (size_t i = 0; i < n; i++) {
		if (t >= v[i].last)
			sum += v[i].bytes;
		else if (t > v[i].first)
			sum += v[i].bytes * (double)(t - v[i].first) / (double)(v[i].last - v[i].first);
	}
	return sum;
}

static void chart_span(struct slice *a, size_t na, struct slice *b, size_t nb, uint64_t *t0,
		       uint64_t *t1)
{
	*t0 = UINT64_MAX;
	*t1 = 0;
	for (size_t i = 0; i < na + nb; i++) {
		const struct slice *x = i < na ? &a[i] : &b[i - na];

		*t0 = x->first < *t0 ? x->first : *t0;
		*t1 = x->last > *t1 ? x->last : *t1;
	}
	if (*t0 > *t1)
		*t0 = *t1 = 0;
}

static void chart_line(FILE *f, const struct slice *v, size_t n, bool out, uint64_t t0,
		       uint64_t t1, double top)
{
	fprintf(f, "<polyline class=\"%s\" fill=\"none\" stroke-width=\"2\" stroke=\"%s\" "
		   "points=\"", out ? "leaving" : "collected", out ? "#c0392b" : "#2c6fbb");
	for (int i = 0; i <= CHART_SAMPLES; i++) {
		uint64_t t = t0 + (uint64_t)((double)(t1 - t0) * i / CHART_SAMPLES);

		fprintf(f, "%s%.1f,%.1f", i ? " " : "", 60 + 680.0 * i / CHART_SAMPLES,
			220 - 200 * (top > 0 ? cumulative(v, n, t) / top : 0));
	}
	fputs("\"/>", f);
}

/* Cumulative bytes collected (blue) and leaving (red) over the session, as inline SVG. */
static void chart(FILE *f, json_t *records, const struct case_session *s)
{
	unsigned long long top = s->source_bytes > s->egress_bytes ? s->source_bytes
								   : s->egress_bytes;
	struct slice *in, *out;
	size_t n_in = slices_of(records, false, &in), n_out = slices_of(records, true, &out);
	char from[32], to[32];
	uint64_t t0, t1;

	chart_span(in, n_in, out, n_out, &t0, &t1);
	ctl_fmt_time(t0, from, sizeof(from));
	ctl_fmt_time(t1, to, sizeof(to));
	fputs("<h2>Bytes collected vs bytes leaving</h2><svg id=\"chart\" width=\"760\" "
	      "height=\"260\" viewBox=\"0 0 760 260\" xmlns=\"http://www.w3.org/2000/svg\" "
	      "role=\"img\" aria-label=\"cumulative bytes collected and leaving\">"
	      "<rect x=\"60\" y=\"20\" width=\"680\" height=\"200\" fill=\"#fafafa\" "
	      "stroke=\"#999\"/>", f);
	chart_line(f, in, n_in, false, t0, t1, (double)top);
	chart_line(f, out, n_out, true, t0, t1, (double)top);
	fprintf(f, "<text x=\"56\" y=\"24\" font-size=\"11\" text-anchor=\"end\">%llu</text>"
		   "<text x=\"56\" y=\"222\" font-size=\"11\" text-anchor=\"end\">0</text>"
		   "<text x=\"60\" y=\"238\" font-size=\"11\">%s</text>"
		   "<text x=\"740\" y=\"238\" font-size=\"11\" text-anchor=\"end\">%s</text>"
		   "<text id=\"chart-collected\" x=\"70\" y=\"38\" font-size=\"12\" fill=\"#2c6fbb\">"
		   "collected %llu bytes</text><text id=\"chart-leaving\" x=\"70\" y=\"54\" "
		   "font-size=\"12\" fill=\"#c0392b\">leaving %llu bytes</text></svg>",
		top, from, to, (unsigned long long)s->source_bytes,
		(unsigned long long)s->egress_bytes);
	free(in);
	free(out);
}

struct proc {
	long long pid, ppid;
	const char *comm, *exe, *args;
	unsigned long long in, out;
	bool shown;
};

static struct proc *proc_slot(struct proc *p, size_t *n, long long pid)
{
	for (size_t i = *n; i-- > 0;)
		if (p[i].pid == pid)
			return &p[i];
	if (*n == MAX_PROCS)
		return NULL;
	p[*n] = (struct proc){ .pid = pid, .ppid = -1, .comm = "", .exe = "", .args = "" };
	return &p[(*n)++];
}

static void proc_learn(struct proc *p, size_t *n, json_t *r)
{
	json_t *d = json_object_get(r, "data");
	const char *type = record_type(r), *kind = case_str(d, "kind");
	struct proc *x;

	if (strcmp(type, "process") && strcmp(type, "activity"))
		return;
	x = proc_slot(p, n, case_int(d, "pid"));
	if (!x)
		return;
	if (*case_str(d, "comm"))
		x->comm = case_str(d, "comm");
	if (*case_str(d, "exe"))
		x->exe = case_str(d, "exe");
	if (!strcmp(type, "activity")) {
		x->in += is_source(kind) ? case_int(d, "bytes") : 0;
		x->out += is_egress(kind) ? case_int(d, "bytes") : 0;
		return;
	}
	if (json_is_integer(json_object_get(d, "ppid")))
		x->ppid = case_int(d, "ppid");
	if (*case_str(d, "args"))
		x->args = case_str(d, "args");
}

/* Depth-first, each process once, so a pid loop in hostile data cannot recurse forever. */
static void proc_print(FILE *f, struct proc *p, size_t n, struct proc *x)
{
	x->shown = true;
	fprintf(f, "<li>%lld <b>", x->pid);
	esc(f, *x->comm ? x->comm : "?");
	fputs("</b> ", f);
	esc(f, *x->args ? x->args : x->exe);
	if (x->in || x->out)
		fprintf(f, " <span class=\"muted\">(read %llu, sent %llu bytes)</span>", x->in, x->out);
	fputs("<ul>", f);
	for (size_t i = 0; i < n; i++)
		if (!p[i].shown && p[i].ppid == x->pid)
			proc_print(f, p, n, &p[i]);
	fputs("</ul></li>", f);
}

static bool has_parent(const struct proc *p, size_t n, const struct proc *x)
{
	for (size_t i = 0; i < n; i++)
		if (p[i].pid == x->ppid && &p[i] != x)
			return true;
	return false;
}

static void process_tree(FILE *f, json_t *records)
{
	struct proc *p = calloc(MAX_PROCS, sizeof(*p));
	size_t n = 0, i;
	json_t *r;

	fputs("<h2>Processes</h2><ul class=\"tree\" id=\"processes\">", f);
	if (!p) {
		fputs("</ul>", f);
		return;
	}
	json_array_foreach(records, i, r)
		proc_learn(p, &n, r);
	for (i = 0; i < n; i++)
		if (!p[i].shown && !has_parent(p, n, &p[i]))
			proc_print(f, p, n, &p[i]);
	for (i = 0; i < n; i++)
		if (!p[i].shown)
			proc_print(f, p, n, &p[i]);
	if (!n)
		fputs("<li>none recorded</li>", f);
	fputs("</ul>", f);
	free(p);
}

static void names_list(FILE *f, json_t *list)
{
	json_t *d;
	size_t j;

	json_array_foreach(list, j, d) {
		esc(f, case_str(d, "name"));
		fprintf(f, " (%lld)<br>", case_int(d, "bytes"));
	}
}

/* derived_exfiltration: whose data it was and how it got to the sender. */
static void lineage_cell(FILE *f, json_t *x)
{
	json_t *d;
	size_t j;

	if (!json_object_get(x, "chain"))
		return;
	fprintf(f, "<div class=\"lineage\">hand-off: %s; origins: ",
		json_is_true(json_object_get(x, "hand_off")) ? "yes" : "no");
	json_array_foreach(json_object_get(x, "origins"), j, d) {
		esc(f, case_str(d, "user"));
		fprintf(f, " (session %lld) ", case_int(d, "session_id"));
	}
	fputs("<br>chain: ", f);
	json_array_foreach(json_object_get(x, "chain"), j, d) {
		fputs(j ? " &rarr; " : "", f);
		esc(f, case_str(d, "name"));
		fprintf(f, " (%lld)", case_int(d, "bytes"));
	}
	fputs("</div>", f);
}

static void alerts(FILE *f, json_t *all, uint32_t sid)
{
	json_t *al;
	size_t i, shown = 0;

	fputs("<h2>Alerts</h2><table id=\"alerts\"><tr><th>time</th><th>rule</th><th>revision"
	      "</th><th>collected</th><th>sent out</th><th>sources</th><th>destinations</th></tr>",
	      f);
	json_array_foreach(all, i, al) {
		json_t *x = json_object_get(al, "exfilmon");

		if (case_int(x, "session_id") != sid ||
		    !json_is_integer(json_object_get(x, "session_id")))
			continue;
		shown++;
		fputs("<tr class=\"alert\"><td>", f);
		esc(f, case_str(al, "@timestamp"));
		fputs("</td><td class=\"rule\">", f);
		esc(f, case_str(json_object_get(al, "rule"), "name"));
		fprintf(f, "</td><td class=\"n\">%lld</td><td class=\"n\">%lld</td><td class=\"n\">"
			   "%lld</td><td>", case_int(x, "revision"), case_int(x, "source_bytes"),
			case_int(x, "egress_bytes"));
		names_list(f, json_object_get(x, "sources"));
		lineage_cell(f, x);
		fputs("</td><td>", f);
		names_list(f, json_object_get(x, "destinations"));
		fputs("</td></tr>", f);
	}
	if (!shown)
		fputs("<tr><td colspan=\"7\">none</td></tr>", f);
	fputs("</table>", f);
}

static void gaps(FILE *f, json_t *records)
{
	char first[32], last[32];
	size_t i, n = 0;
	json_t *r;

	fputs("<h2>Gaps in the record</h2><table id=\"gaps\"><tr><th>from</th><th>to</th>"
	      "<th>lost</th><th>what</th><th>scope</th><th>reason</th></tr>", f);
	json_array_foreach(records, i, r) {
		json_t *d = json_object_get(r, "data");

		if (strcmp(record_type(r), "gap"))
			continue;
		n++;
		ctl_fmt_time((uint64_t)case_int(d, "first_ns"), first, sizeof(first));
		ctl_fmt_time((uint64_t)case_int(d, "last_ns"), last, sizeof(last));
		fprintf(f, "<tr class=\"gap\"><td>%s</td><td>%s</td><td class=\"n\">%lld</td><td>",
			first, last, case_int(d, "count"));
		esc(f, case_str(d, "what"));
		fprintf(f, "</td><td>%s</td><td>", json_is_null(json_object_get(d, "session_id"))
							 ? "all sessions" : "this session");
		esc(f, case_str(d, "reason"));
		fputs("</td></tr>", f);
	}
	if (!n)
		fputs("<tr><td colspan=\"6\">none: the record of this session is complete</td></tr>",
		      f);
	fprintf(f, "</table><p id=\"gap-count\">%zu gap record(s). Byte totals come from kernel "
		   "counters and stay exact across gaps; only individual events are missing.</p>", n);
}

static void timeline(FILE *f, json_t *records)
{
	char when[32], line[1024];
	size_t i, n = 0;
	json_t *r;

	fputs("<h2>Timeline</h2><table id=\"timeline\"><tr><th>time (UTC)</th><th>event</th></tr>",
	      f);
	json_array_foreach(records, i, r) {
		ctl_describe(record_type(r), json_object_get(r, "data"), line, sizeof(line));
		if (!line[0] || n++ >= MAX_TIMELINE_ROWS)
			continue;
		ctl_fmt_time((uint64_t)case_int(r, "ts_ns"), when, sizeof(when));
		fputs("<tr class=\"", f);
		esc(f, record_type(r));
		fprintf(f, "\"><td>%s</td><td><code>", when);
		esc(f, line);
		fputs("</code></td></tr>", f);
	}
	if (n > MAX_TIMELINE_ROWS)
		fprintf(f, "<tr><td colspan=\"2\" class=\"muted\">%zu more events: see exfilctl "
			   "timeline</td></tr>", n - MAX_TIMELINE_ROWS);
	fputs("</table>", f);
}

static void who(FILE *f, const struct case_session *s)
{
	char login[32], first[32], last[32];

	ctl_fmt_time(s->login_ns, login, sizeof(login));
	ctl_fmt_time(s->first_ns, first, sizeof(first));
	ctl_fmt_time(s->last_ns, last, sizeof(last));
	fprintf(f, "<h1>Incident report: session %u</h1><table id=\"who\"><tr><th>user</th>"
		   "<td id=\"user\">", s->session_id);
	esc(f, s->user[0] ? s->user : "(unknown)");
	fprintf(f, "</td></tr><tr><th>login uid</th><td id=\"loginuid\">%u</td></tr><tr><th>tty"
		   "</th><td>", s->loginuid);
	esc(f, s->tty[0] ? s->tty : "-");
	fputs("</td></tr><tr><th>from</th><td id=\"from\">", f);
	esc(f, s->remote_host[0] ? s->remote_host : "local");
	fprintf(f, "</td></tr><tr><th>login (UTC)</th><td>%s</td></tr><tr><th>activity (UTC)</th>"
		   "<td>%s .. %s</td></tr><tr><th>bytes collected</th><td id=\"collected\" "
		   "class=\"n\">%llu</td></tr><tr><th>bytes sent out</th><td id=\"sent\" class=\"n\">"
		   "%llu</td></tr><tr><th>bytes staged</th><td id=\"staged\" class=\"n\">%llu</td>"
		   "</tr></table>",
		login, first, last, (unsigned long long)s->source_bytes,
		(unsigned long long)s->egress_bytes, (unsigned long long)s->staging_bytes);
}

static void verification(FILE *f, const struct ev_report *rep, const char *dir)
{
	bool ok = rep->intact && !rep->index_altered;

	fputs("<h2>Evidence verification</h2><p id=\"verify\" class=\"", f);
	fprintf(f, "%s\">%s: %llu segments, %llu blocks, %llu records checked", ok ? "ok" : "bad",
		ok ? "intact" : "NOT INTACT", (unsigned long long)rep->segments,
		(unsigned long long)rep->blocks, (unsigned long long)rep->records);
	fprintf(f, "</p><p>Store: <code>");
	esc(f, dir);
	fprintf(f, "</code>; chain head <code id=\"head\">%s</code> (", rep->head);
	esc(f, rep->head_segment);
	fprintf(f, " block %llu). Compare it with the last CHAIN message the SIEM received.</p>",
		(unsigned long long)rep->head_block);
	if (rep->retention_cut && rep->retained_segment[0]) {
		fprintf(f, "<p>The chain starts at block %llu, after retention of ",
			(unsigned long long)rep->first_block);
		esc(f, rep->retained_segment);
		fputs(" (the deletion is recorded in the store).</p>", f);
	}
	if (!rep->intact) {
		fputs("<p class=\"bad\" id=\"problem\">", f);
		esc(f, rep->problem);
		fputs(" &mdash; nothing after this point is shown.</p>", f);
	}
	if (rep->index_altered) {
		fputs("<p class=\"bad\">Index altered: ", f);
		esc(f, rep->index_problem);
		fputs("</p>", f);
	}
}

static void write_report(FILE *f, struct case_model *m, const struct case_session *s,
			 const char *dir)
{
	fprintf(f, "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>"
		   "exfilmon incident report: session %u</title><style>%s</style></head><body>",
		s->session_id, style);
	who(f, s);
	verification(f, &m->rep, dir);
	alerts(f, m->alerts, s->session_id);
	chart(f, m->records, s);
	sources_and_destinations(f, m->records);
	process_tree(f, m->records);
	gaps(f, m->records);
	timeline(f, m->records);
	fputs("<p class=\"muted\">Generated by exfilctl " EXFILMON_VERSION ".</p></body></html>\n", f);
}

int ctl_report(int argc, char **argv)
{
	const struct ev_filter settle = { .settle_ms = CTL_SETTLE_MS };
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
		fprintf(stderr, "exfilctl report: session %u is not in %s%s\n",
			a.o.filter.session_id, a.o.dir,
			m.rep.intact ? "" : " (or only after the damage: see exfilctl verify)");
		case_free(&m);
		return 1;
	}
	f = fopen(a.output, "w");
	if (!f) {
		fprintf(stderr, "exfilctl report: %s: %s\n", a.output, strerror(errno));
		case_free(&m);
		return 1;
	}
	/* The query skipped blocks of other sessions; the report states a full verify. */
	evidence_read(a.o.dir, &settle, NULL, NULL, &m.rep);
	write_report(f, &m, s, a.o.dir);
	err = ferror(f) | fclose(f);
	if (err)
		fprintf(stderr, "exfilctl report: writing %s failed\n", a.output);
	case_free(&m);
	return err ? 1 : 0;
}
