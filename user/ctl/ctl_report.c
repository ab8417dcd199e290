// SPDX-License-Identifier: GPL-2.0-only
/*
 * exfilctl report: a self-contained HTML incident report for one session (inline CSS
 * and SVG, no external assets, no script, works offline): who and when, the
 * verification result, the alerts, a chart of bytes collected vs bytes leaving, top
 * files and services, destinations, the process tree, gaps and the timeline. Every
 * value from the evidence is HTML-escaped: paths, commands and host names are hostile.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "common/outfile.h"
#include "common/tally.h"
#include "model/activity.h"
#include "ctl.h"
#include "ctl_case.h"

/* Rows of each summary table; the rest is one summed row. */
#define TOP_ROWS 25
/* A larger tree shows the processes that moved bytes, with their ancestors. */
#define TREE_ROWS 200
/* Beyond this many events the timeline keeps alerts, gaps, logins and the largest
 * transfers, and counts the rest. */
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
	return activity_class(activity_kind_from_name(kind)) == ACT_CLASS_SOURCE;
}

static bool is_egress(const char *kind)
{
	return activity_class(activity_kind_from_name(kind)) == ACT_CLASS_EGRESS;
}

static const char *record_type(json_t *r)
{
	return case_str(r, "type");
}

/* Sums below the top rows go into one row, so a table always adds up to the total. */
static void tally_table(FILE *f, const char *title, const char *id, const struct tally *t)
{
	struct tally_row rows[TOP_ROWS];
	struct tally_rest rest;
	size_t n = t ? tally_top(t, rows, TOP_ROWS, &rest) : 0;

	fprintf(f, "<h2>%s</h2><table id=\"%s\"><tr><th>name</th><th>kind</th><th>bytes</th></tr>",
		title, id);
	for (size_t i = 0; i < n; i++) {
		fputs("<tr><td>", f);
		esc(f, rows[i].name);
		fputs("</td><td>", f);
		esc(f, rows[i].group);
		fprintf(f, "</td><td class=\"n\">%llu</td></tr>",
			(unsigned long long)rows[i].bytes);
	}
	if (!t)
		fputs("<tr><td colspan=\"3\" class=\"bad\">out of memory: not tallied</td></tr>", f);
	else if (!n)
		fputs("<tr><td colspan=\"3\">none</td></tr>", f);
	else if (rest.names)
		fprintf(f, "<tr class=\"rest\"><td class=\"muted\">everything else: %zu more</td>"
			   "<td></td><td class=\"n\">%llu</td></tr>", rest.names,
			(unsigned long long)rest.bytes);
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
	struct tally *src = tally_new(), *dst = tally_new();
	int err = src && dst ? 0 : -ENOMEM;
	size_t i;
	json_t *r;

	json_array_foreach(records, i, r) {
		json_t *d = json_object_get(r, "data");
		const char *kind = case_str(d, "kind");
		uint64_t bytes = (uint64_t)case_int(d, "bytes");

		if (err || strcmp(record_type(r), "activity"))
			continue;
		if (is_source(kind))
			err = tally_add(src, kind, case_str(d, "object"), bytes);
		else if (is_egress(kind))
			err = tally_add(dst, kind, destination(d), bytes);
	}
	tally_table(f, "Top files and services read", "sources", err ? NULL : src);
	tally_table(f, "Where data went", "destinations", err ? NULL : dst);
	tally_free(src);
	tally_free(dst);
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

/*
 * The session's processes, every one kept (a pid index, not a fixed array, so a flood
 * of decoy execs cannot push the process that sent the data out). Pointers into the
 * records, which outlive the table.
 */
struct proc {
	long long pid, ppid;
	const char *comm, *exe, *args;
	unsigned long long in, out;
	unsigned long long subtree;  /* in + out of the process and its descendants */
	long parent, first_child, next_sibling;
	bool selected;
};

struct procs {
	struct proc *v;
	size_t n, cap;
	size_t *slots;               /* open addressing over pids: index + 1, 0 is free */
	size_t n_slots;              /* a power of two, at most half full */
};

static unsigned long long sat_add(unsigned long long a, unsigned long long b)
{
	return b > ULLONG_MAX - a ? ULLONG_MAX : a + b;
}

static size_t pid_slot(const struct procs *ps, long long pid)
{
	size_t i = ((unsigned long long)pid * 0x9e3779b97f4a7c15ULL) & (ps->n_slots - 1);

	while (ps->slots[i] && ps->v[ps->slots[i] - 1].pid != pid)
		i = (i + 1) & (ps->n_slots - 1);
	return i;
}

static long proc_find(const struct procs *ps, long long pid)
{
	size_t i;

	if (!ps->n_slots)
		return -1;
	i = pid_slot(ps, pid);
	return ps->slots[i] ? (long)ps->slots[i] - 1 : -1;
}

static int grow_index(struct procs *ps)
{
	size_t n_slots = ps->n_slots ? 2 * ps->n_slots : 256, *old = ps->slots;

	ps->slots = calloc(n_slots, sizeof(*ps->slots));
	if (!ps->slots) {
		ps->slots = old;
		return -ENOMEM;
	}
	ps->n_slots = n_slots;
	for (size_t i = 0; i < ps->n; i++)
		ps->slots[pid_slot(ps, ps->v[i].pid)] = i + 1;
	free(old);
	return 0;
}

static struct proc *proc_slot(struct procs *ps, long long pid)
{
	long at = proc_find(ps, pid);
	struct proc *v;

	if (at >= 0)
		return &ps->v[at];
	if (ps->n == ps->cap) {
		size_t cap = ps->cap ? 2 * ps->cap : 64;

		v = realloc(ps->v, cap * sizeof(*v));
		if (!v)
			return NULL;
		ps->v = v;
		ps->cap = cap;
	}
	if (2 * (ps->n + 1) > ps->n_slots && grow_index(ps))
		return NULL;
	ps->v[ps->n] = (struct proc){ .pid = pid, .ppid = -1, .comm = "", .exe = "", .args = "" };
	ps->slots[pid_slot(ps, pid)] = ps->n + 1;
	return &ps->v[ps->n++];
}

static int proc_learn(struct procs *ps, json_t *r)
{
	json_t *d = json_object_get(r, "data");
	const char *type = record_type(r), *kind = case_str(d, "kind");
	struct proc *x;

	if (strcmp(type, "process") && strcmp(type, "activity"))
		return 0;
	x = proc_slot(ps, case_int(d, "pid"));
	if (!x)
		return -ENOMEM;
	if (*case_str(d, "comm"))
		x->comm = case_str(d, "comm");
	if (*case_str(d, "exe"))
		x->exe = case_str(d, "exe");
	if (!strcmp(type, "activity")) {
		x->in = sat_add(x->in, is_source(kind) ? (uint64_t)case_int(d, "bytes") : 0);
		x->out = sat_add(x->out, is_egress(kind) ? (uint64_t)case_int(d, "bytes") : 0);
		return 0;
	}
	if (json_is_integer(json_object_get(d, "ppid")))
		x->ppid = case_int(d, "ppid");
	if (*case_str(d, "args"))
		x->args = case_str(d, "args");
	return 0;
}

/* Parent links by pid; a pid loop in hostile data is cut where the walk meets itself. */
static void link_parents(struct procs *ps, unsigned char *state)
{
	struct proc *v = ps->v;

	for (size_t i = 0; i < ps->n; i++) {
		long p = proc_find(ps, v[i].ppid);

		v[i].parent = p == (long)i ? -1 : p;
	}
	memset(state, 0, ps->n);
	for (size_t i = 0; i < ps->n; i++) {
		long x = (long)i, prev = -1;

		for (; x >= 0 && !state[x]; prev = x, x = v[x].parent)
			state[x] = 1;
		if (x >= 0 && state[x] == 1)
			v[prev].parent = -1;
		for (x = (long)i; x >= 0 && state[x] == 1; x = v[x].parent)
			state[x] = 2;
	}
}

/* Bytes of each subtree, leaves first, so no recursion over a deep chain. */
static int sum_subtrees(struct procs *ps)
{
	size_t n = ps->n, *pending = calloc(n, sizeof(*pending)), *queue = malloc(n * sizeof(*queue));
	size_t head = 0, tail = 0;
	struct proc *v = ps->v;

	if (!pending || !queue) {
		free(pending);
		free(queue);
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		v[i].subtree = sat_add(v[i].in, v[i].out);
		if (v[i].parent >= 0)
			pending[v[i].parent]++;
	}
	for (size_t i = 0; i < n; i++)
		if (!pending[i])
			queue[tail++] = i;
	while (head < tail) {
		long p = v[queue[head++]].parent;

		if (p < 0)
			continue;
		v[p].subtree = sat_add(v[p].subtree, v[queue[head - 1]].subtree);
		if (!--pending[p])
			queue[tail++] = (size_t)p;
	}
	free(pending);
	free(queue);
	return 0;
}

/* Most bytes first (by subtree, or by the process's own with own_bytes), then by pid. */
static int rank(const struct proc *v, const void *a, const void *b, bool own_bytes)
{
	const struct proc *x = &v[*(const size_t *)a], *y = &v[*(const size_t *)b];
	unsigned long long bx = own_bytes ? sat_add(x->in, x->out) : x->subtree;
	unsigned long long by = own_bytes ? sat_add(y->in, y->out) : y->subtree;

	if (bx != by)
		return bx < by ? 1 : -1;
	return x->pid < y->pid ? -1 : x->pid > y->pid;
}

static int by_subtree(const void *a, const void *b, void *v)
{
	return rank(v, a, b, false);
}

static int by_own_bytes(const void *a, const void *b, void *v)
{
	return rank(v, a, b, true);
}

/* Children lists in rank order: prepending in reverse rank order leaves them sorted. */
static long link_children(struct procs *ps, size_t *ord)
{
	long roots = -1;

	qsort_r(ord, ps->n, sizeof(*ord), by_subtree, ps->v);
	for (size_t i = 0; i < ps->n; i++)
		ps->v[i].first_child = -1;
	for (size_t k = ps->n; k-- > 0;) {
		struct proc *x = &ps->v[ord[k]];
		long *head = x->parent >= 0 ? &ps->v[x->parent].first_child : &roots;

		x->next_sibling = *head;
		*head = (long)ord[k];
	}
	return roots;
}

/* Everything when it fits; else the processes that moved the most bytes, each with its
 * ancestors, as long as they fit. Returns how many are selected. */
static size_t select_procs(struct procs *ps, size_t *ord)
{
	size_t chosen = 0;

	for (size_t i = 0; i < ps->n; i++)
		ps->v[i].selected = ps->n <= TREE_ROWS;
	if (ps->n <= TREE_ROWS)
		return ps->n;
	qsort_r(ord, ps->n, sizeof(*ord), by_own_bytes, ps->v);
	for (size_t k = 0; k < ps->n; k++) {
		struct proc *x = &ps->v[ord[k]];
		size_t cost = 0;

		if (!x->in && !x->out)
			break;
		for (long a = (long)ord[k]; a >= 0 && !ps->v[a].selected; a = ps->v[a].parent)
			cost++;
		if (chosen && chosen + cost > TREE_ROWS)
			break;
		for (long a = (long)ord[k]; a >= 0 && !ps->v[a].selected; a = ps->v[a].parent)
			ps->v[a].selected = true;
		chosen += cost;
	}
	return chosen;
}

/* At most TREE_ROWS levels deep, since only selected processes are printed. */
static void proc_print(FILE *f, const struct procs *ps, const struct proc *x)
{
	fprintf(f, "<li>%lld <b>", x->pid);
	esc(f, *x->comm ? x->comm : "?");
	fputs("</b> ", f);
	esc(f, *x->args ? x->args : x->exe);
	if (x->in || x->out)
		fprintf(f, " <span class=\"muted\">(read %llu, sent %llu bytes)</span>", x->in, x->out);
	fputs("<ul>", f);
	for (long c = x->first_child; c >= 0; c = ps->v[c].next_sibling)
		if (ps->v[c].selected)
			proc_print(f, ps, &ps->v[c]);
	fputs("</ul></li>", f);
}

static void procs_rest(FILE *f, const struct procs *ps, size_t shown)
{
	unsigned long long in = 0, out = 0;

	if (shown == ps->n)
		return;
	for (size_t i = 0; i < ps->n; i++) {
		if (!ps->v[i].selected) {
			in = sat_add(in, ps->v[i].in);
			out = sat_add(out, ps->v[i].out);
		}
	}
	fprintf(f, "<li class=\"rest muted\" id=\"processes-rest\">everything else: %zu more "
		   "processes (read %llu, sent %llu bytes); exfilctl timeline lists them</li>",
		ps->n - shown, in, out);
}

static void process_tree(FILE *f, json_t *records)
{
	struct procs ps = { 0 };
	unsigned char *state = NULL;
	size_t *ord = NULL, i, shown;
	int err = 0;
	json_t *r;

	fputs("<h2>Processes</h2><ul class=\"tree\" id=\"processes\">", f);
	json_array_foreach(records, i, r)
		if (!err)
			err = proc_learn(&ps, r);
	if (!err && ps.n && (!(state = malloc(ps.n)) || !(ord = malloc(ps.n * sizeof(*ord)))))
		err = -ENOMEM;
	if (!err && ps.n) {
		link_parents(&ps, state);
		err = sum_subtrees(&ps);
	}
	if (err) {
		fputs("<li class=\"bad\">out of memory: process tree not shown</li>", f);
	} else if (ps.n) {
		for (i = 0; i < ps.n; i++)
			ord[i] = i;
		shown = select_procs(&ps, ord);
		for (i = 0; i < ps.n; i++)
			ord[i] = i;
		for (long x = link_children(&ps, ord); x >= 0; x = ps.v[x].next_sibling)
			if (ps.v[x].selected)
				proc_print(f, &ps, &ps.v[x]);
		procs_rest(f, &ps, shown);
	} else {
		fputs("<li>none recorded</li>", f);
	}
	fputs("</ul>", f);
	free(state);
	free(ord);
	free(ps.slots);
	free(ps.v);
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

static void alerts(FILE *f, json_t *all, const struct case_session *s)
{
	json_t *al;
	size_t i, shown = 0;

	fputs("<h2>Alerts</h2><table id=\"alerts\"><tr><th>time</th><th>rule</th><th>revision"
	      "</th><th>collected</th><th>sent out</th><th>sources</th><th>destinations</th></tr>",
	      f);
	json_array_foreach(all, i, al) {
		json_t *x = json_object_get(al, "exfilmon");

		if (!case_alert_covers(al, s))
			continue;
		shown++;
		fputs("<tr class=\"alert\"><td>", f);
		esc(f, case_str(al, "@timestamp"));
		fputs("</td><td class=\"rule\">", f);
		esc(f, case_str(json_object_get(al, "rule"), "name"));
		if (json_is_null(json_object_get(x, "session_id")))
			fputs(" <span class=\"muted per-user\">(per user: this and other sessions "
			      "of the user)</span>", f);
		fprintf(f, "</td><td class=\"n\">%lld</td><td class=\"n\">%lld</td><td class=\"n\">"
			   "%lld</td><td>", case_int(x, "revision"), case_int(x, "source_bytes"),
			case_int(x, "egress_bytes"));
		names_list(f, json_object_get(x, "sources"));
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

/* Rows kept however many events there are: the alerts, gaps, logins and agent records. */
static bool always_shown(const char *type)
{
	return !strcmp(type, "alert") || !strcmp(type, "gap") || !strcmp(type, "session") ||
	       !strcmp(type, "agent");
}

/* Which activity rows fit when the events do not: the largest transfers, so a flood of
 * decoy events cannot push the one that matters out of the report. */
struct timeline_cut {
	bool all;
	uint64_t min_bytes;          /* transfers above this are shown ... */
	size_t at_min;               /* ... and this many of those exactly at it */
	size_t others;               /* room left for other events, first come */
};

static int by_bytes_desc(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? 1 : x > y ? -1 : 0;
}

static struct timeline_cut timeline_cut(json_t *records)
{
	struct timeline_cut cut = { .all = true };
	size_t i, n = 0, n_act = 0, kept = 0, budget;
	uint64_t *v;
	char line[1024];
	json_t *r;

	json_array_foreach(records, i, r) {
		ctl_describe(record_type(r), json_object_get(r, "data"), line, sizeof(line));
		n += line[0] != '\0';
		kept += line[0] && always_shown(record_type(r));
		n_act += line[0] && !strcmp(record_type(r), "activity");
	}
	if (n <= MAX_TIMELINE_ROWS)
		return cut;
	cut = (struct timeline_cut){ .min_bytes = UINT64_MAX };
	budget = kept < MAX_TIMELINE_ROWS ? MAX_TIMELINE_ROWS - kept : 0;
	v = malloc((n_act + 1) * sizeof(*v));
	if (!budget || !v) {
		free(v);
		return cut;
	}
	n_act = 0;
	json_array_foreach(records, i, r)
		if (!strcmp(record_type(r), "activity"))
			v[n_act++] = (uint64_t)case_int(json_object_get(r, "data"), "bytes");
	qsort(v, n_act, sizeof(*v), by_bytes_desc);
	if (budget > n_act) {
		cut.others = budget - n_act;
		budget = n_act;
	}
	cut.min_bytes = budget ? v[budget - 1] : UINT64_MAX;
	for (i = 0; i < budget; i++)
		cut.at_min += v[i] == cut.min_bytes;
	free(v);
	return cut;
}

static bool timeline_keeps(struct timeline_cut *cut, const char *type, json_t *d)
{
	uint64_t bytes = (uint64_t)case_int(d, "bytes");

	if (cut->all || always_shown(type))
		return true;
	if (strcmp(type, "activity"))
		return cut->others ? cut->others-- > 0 : false;
	if (bytes < cut->min_bytes)
		return false;
	if (bytes > cut->min_bytes)
		return true;
	return cut->at_min ? cut->at_min-- > 0 : false;
}

static void timeline(FILE *f, json_t *records)
{
	struct timeline_cut cut = timeline_cut(records);
	unsigned long long left_bytes = 0;
	char when[32], line[1024];
	size_t i, shown = 0, left = 0;
	json_t *r;

	fputs("<h2>Timeline</h2><table id=\"timeline\"><tr><th>time (UTC)</th><th>event</th></tr>",
	      f);
	json_array_foreach(records, i, r) {
		json_t *d = json_object_get(r, "data");

		ctl_describe(record_type(r), d, line, sizeof(line));
		if (!line[0])
			continue;
		if (shown >= MAX_TIMELINE_ROWS || !timeline_keeps(&cut, record_type(r), d)) {
			left++;
			if (!strcmp(record_type(r), "activity"))
				left_bytes = sat_add(left_bytes, (uint64_t)case_int(d, "bytes"));
			continue;
		}
		shown++;
		ctl_fmt_time((uint64_t)case_int(r, "ts_ns"), when, sizeof(when));
		fputs("<tr class=\"", f);
		esc(f, record_type(r));
		fprintf(f, "\"><td>%s</td><td><code>", when);
		esc(f, line);
		fputs("</code></td></tr>", f);
	}
	if (left)
		fprintf(f, "<tr class=\"rest\" id=\"timeline-rest\"><td colspan=\"2\" class=\"muted\">"
			   "everything else: %zu more events not shown (programs, opens, connects and "
			   "the smallest transfers, %llu bytes of them): exfilctl timeline lists every "
			   "one"
			   "</td></tr>", left, left_bytes);
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
	alerts(f, m->alerts, s);
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
	/* Root writes the report, often into a shared directory: never through a symlink. */
	f = outfile_open(a.output);
	if (!f) {
		fprintf(stderr, "exfilctl report: %s: %s\n", a.output, outfile_strerror(errno));
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
