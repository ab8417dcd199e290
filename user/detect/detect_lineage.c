// SPDX-License-Identifier: GPL-2.0-only
/*
 * Lineage graph and the derived_exfiltration rule (docs/detection.md, "Lineage").
 *
 * The kernel decides what is derived and how many bytes of it leave (ACT_DERIVED_EGRESS
 * slices, never more than the sender's source-byte credit); this module only has to say
 * where those bytes came from. Nodes are processes (by pid, told apart from a reused pid
 * by their start time) and objects (files, pipes, sockets by the kernel's identity);
 * each keeps up to LIN_FROM links to the nodes its label came from, with bytes, and
 * processes keep the sources they read. A chain is rebuilt only when an alert is
 * emitted, by walking the links back from the sender, so a step costs a hash lookup and
 * no copying. The graph is bounded (LIN_MAX_NODES, oldest evicted): an evicted link
 * shortens the chain an alert shows, never the bytes it counts.
 *
 * The rule: per sending session, derived egress within detect.lookback above
 * detect.exfil raises one episode; it grows like the engine's (re-emitted at +10% or a
 * new destination, at most 8 updates) and closes after detect.window of quiet. A sender
 * outside any login session (a relay service) is judged on the session its data came
 * from; if it carries no known origin either, it is a service talking to a service and
 * is only counted.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "detect_lineage.h"
#include "detect_window.h"

#define LIN_MAX_NODES 4096
#define LIN_BUCKETS 4096
#define LIN_FROM 4
#define LIN_SOURCES 4
#define LIN_DEPTH 8
#define LIN_VISIT 32
#define LIN_SENDERS 4
#define LIN_CHAIN 24
#define LIN_MAX_SUBJECTS 1024
#define LIN_MAX_UPDATES 8
#define PROC_BIT (1ULL << 63)

struct link {
	uint64_t key;
	uint64_t bytes;
};

struct named_bytes {
	char name[192];
	uint64_t bytes;
};

struct origin {
	uint32_t session_id, loginuid;
};

struct node {
	uint64_t key;               /* PROC_BIT | pid, or an object id without PROC_BIT */
	struct node *next;          /* bucket chain */
	uint64_t last_ns;           /* last time it moved a label: the oldest is evicted */
	uint64_t start_ns;          /* processes: boot-clock start, 0 when not known */
	uint32_t pid, session_id, loginuid;
	char comm[16];
	char kind[12];              /* objects: "file", "pipe", "unix", "loopback" */
	char name[192];             /* objects: path or description */
	uint64_t credit;            /* processes: the last credit the kernel reported */
	uint32_t epoch;             /* processes: the label's epoch in that report */
	struct link from[LIN_FROM];
	unsigned n_from;
	struct named_bytes sources[LIN_SOURCES];
	unsigned n_sources;
	struct origin origins[ALERT_MAX_ORIGINS];
	unsigned n_origins;
	bool unknown;
};

struct lsubject {
	struct lsubject *next;
	uint32_t session_id, loginuid;
	uint64_t last_ns;
	struct window_sum egress;    /* derived egress over detect.lookback */
	bool open;
	uint64_t id;
	uint32_t revision;
	unsigned updates;
	uint64_t start_ns, end_ns, bytes, emitted, first_seq, last_seq;
	unsigned emitted_dests;
	uint64_t senders[LIN_SENDERS];
	unsigned n_senders;
	struct window_top dests, procs;
};

struct lineage {
	struct detect *d;
	struct node *bucket[LIN_BUCKETS];
	uint64_t n_nodes;
	struct lsubject *subjects;
	unsigned n_subjects;
	uint64_t alerts;
	uint64_t now_ns;
};

static unsigned slot_of(uint64_t key)
{
	return (unsigned)((key * 0x9e3779b97f4a7c15ULL) >> 52) % LIN_BUCKETS;
}

static struct node *node_find(struct lineage *l, uint64_t key)
{
	for (struct node *n = l->bucket[slot_of(key)]; n; n = n->next)
		if (n->key == key)
			return n;
	return NULL;
}

static void node_unlink(struct lineage *l, struct node *victim)
{
	struct node **pp = &l->bucket[slot_of(victim->key)];

	while (*pp && *pp != victim)
		pp = &(*pp)->next;
	if (*pp)
		*pp = victim->next;
	l->n_nodes--;
}

/* Full table: the node that moved a label longest ago goes (a scan, only when full). */
static struct node *evict_oldest(struct lineage *l)
{
	struct node *old = NULL;

	for (unsigned i = 0; i < LIN_BUCKETS; i++)
		for (struct node *n = l->bucket[i]; n; n = n->next)
			if (!old || n->last_ns < old->last_ns)
				old = n;
	if (old)
		node_unlink(l, old);
	return old;
}

static struct node *node_get(struct lineage *l, uint64_t key)
{
	struct node *n = node_find(l, key);
	unsigned s;

	if (n)
		return n;
	n = l->n_nodes >= LIN_MAX_NODES ? evict_oldest(l) : malloc(sizeof(*n));
	if (!n)
		return NULL;
	memset(n, 0, sizeof(*n));
	n->key = key;
	s = slot_of(key);
	n->next = l->bucket[s];
	l->bucket[s] = n;
	l->n_nodes++;
	return n;
}

/* A process node; a different start time means the pid was reused: start over. */
static struct node *proc_get(struct lineage *l, uint32_t pid, uint64_t start_ns)
{
	struct node *n = node_get(l, PROC_BIT | pid), *next;
	uint64_t key;

	if (!n)
		return NULL;
	if (start_ns && n->start_ns && n->start_ns != start_ns) {
		next = n->next;
		key = n->key;
		memset(n, 0, sizeof(*n));
		n->next = next;
		n->key = key;
	}
	if (start_ns)
		n->start_ns = start_ns;
	n->pid = pid;
	return n;
}

static void origin_add(struct node *n, uint32_t session_id, uint32_t loginuid)
{
	for (unsigned i = 0; i < n->n_origins; i++)
		if (n->origins[i].session_id == session_id)
			return;
	if (n->n_origins == ALERT_MAX_ORIGINS) {
		n->unknown = true;
		return;
	}
	n->origins[n->n_origins++] = (struct origin){ session_id, loginuid };
}

static void link_add(struct node *n, uint64_t from, uint64_t bytes)
{
	unsigned small = 0;

	for (unsigned i = 0; i < n->n_from; i++) {
		if (n->from[i].key == from) {
			/* Step totals are cumulative: the latest is the largest. */
			if (bytes > n->from[i].bytes)
				n->from[i].bytes = bytes;
			return;
		}
		if (n->from[i].bytes < n->from[small].bytes)
			small = i;
	}
	if (n->n_from < LIN_FROM)
		small = n->n_from++;
	else if (n->from[small].bytes >= bytes)
		return;
	n->from[small] = (struct link){ from, bytes };
}

static void source_add(struct node *n, const char *name, uint64_t bytes)
{
	unsigned small = 0;

	for (unsigned i = 0; i < n->n_sources; i++) {
		if (!strcmp(n->sources[i].name, name)) {
			n->sources[i].bytes += bytes;
			return;
		}
		if (n->sources[i].bytes < n->sources[small].bytes)
			small = i;
	}
	if (n->n_sources < LIN_SOURCES)
		small = n->n_sources++;
	else if (n->sources[small].bytes >= bytes)
		return;
	snprintf(n->sources[small].name, sizeof(n->sources[small].name), "%s", name);
	n->sources[small].bytes = bytes;
}

static void proc_identity(struct node *p, const struct event *ev)
{
	/* A label whose credit had all gone out starts afresh with a new epoch (label_renew
	 * in bpf/lineage.bpf.h): what the process passes on from now is the new data's, so
	 * its past origins, sources and inputs are dropped. Otherwise a process label's
	 * credit only grows: a smaller one is another label's (the session's fallback once
	 * the label map was full, lineage.bpf.h label_of_current). */
	if (ev->lin.epoch != p->epoch || ev->lin.credit < p->credit) {
		p->n_origins = 0;
		p->n_sources = 0;
		p->n_from = 0;
		p->unknown = false;
	}
	p->session_id = ev->session_id;
	p->loginuid = ev->loginuid;
	memcpy(p->comm, ev->comm, sizeof(p->comm));
	p->comm[sizeof(p->comm) - 1] = '\0';
	p->credit = ev->lin.credit;
	p->epoch = ev->lin.epoch;
	p->last_ns = ev->ts_ns;
	for (unsigned i = 0; i < ev->lin.n_origins && i < LINEAGE_ORIGINS; i++)
		origin_add(p, ev->lin.origin_session[i], ev->lin.origin_loginuid[i]);
	p->unknown |= ev->lin.unknown;
}

void lineage_step(struct lineage *l, const struct event *ev)
{
	uint64_t okey = ev->lin.object_id & ~PROC_BIT;
	struct node *p, *o;

	if (ev->kind != EV_LINEAGE)
		return;
	p = proc_get(l, ev->pid, ev->lin.start_ns);
	if (!p)
		return;
	proc_identity(p, ev);
	if (!strcmp(ev->lin.step, "send"))
		return;
	o = node_get(l, okey);
	/* Eviction may have reused p's memory for o: then the step is too old to keep. */
	if (!o || o == p)
		return;
	o->last_ns = ev->ts_ns;
	snprintf(o->kind, sizeof(o->kind), "%s", ev->lin.object_kind);
	snprintf(o->name, sizeof(o->name), "%s", ev->lin.object ? ev->lin.object : "?");
	if (!strcmp(ev->lin.step, "write")) {
		link_add(o, p->key, ev->lin.bytes);
		for (unsigned i = 0; i < p->n_origins; i++)
			origin_add(o, p->origins[i].session_id, p->origins[i].loginuid);
		o->unknown |= p->unknown;
	} else {
		link_add(p, o->key, ev->lin.bytes);
	}
}

void lineage_source(struct lineage *l, const struct activity *act)
{
	struct node *p;

	if (!act->pid)
		return;
	p = proc_get(l, act->pid, 0);
	if (!p)
		return;
	if (!p->comm[0] && act->comm)
		snprintf(p->comm, sizeof(p->comm), "%s", act->comm);
	p->session_id = act->session_id;
	p->loginuid = act->loginuid;
	p->last_ns = act->ts_ns;
	origin_add(p, act->session_id, act->loginuid);
	source_add(p, act->object ? act->object : "?", act->bytes);
}

/* What a walk back from the senders found. */
struct walk {
	uint64_t seen[LIN_VISIT];
	unsigned n_seen;
	struct node origins;        /* only origins, sources and unknown are used */
	uint64_t credit;
};

static bool visited(struct walk *w, uint64_t key)
{
	for (unsigned i = 0; i < w->n_seen; i++)
		if (w->seen[i] == key)
			return true;
	if (w->n_seen < LIN_VISIT)
		w->seen[w->n_seen++] = key;
	return false;
}

/* Collects origins and sources of everything upstream of n (bounded depth and size). */
static void gather(struct lineage *l, struct walk *w, struct node *n, unsigned depth)
{
	if (!n || depth > LIN_DEPTH || visited(w, n->key))
		return;
	for (unsigned i = 0; i < n->n_origins; i++)
		origin_add(&w->origins, n->origins[i].session_id, n->origins[i].loginuid);
	w->origins.unknown |= n->unknown;
	for (unsigned i = 0; i < n->n_sources; i++)
		source_add(&w->origins, n->sources[i].name, n->sources[i].bytes);
	for (unsigned i = 0; i < n->n_from; i++)
		gather(l, w, node_find(l, n->from[i].key), depth + 1);
}

static void describe(const struct node *n, uint64_t bytes, struct alert_item *it)
{
	if (n->key & PROC_BIT) {
		char sid[16];

		snprintf(sid, sizeof(sid), n->session_id == SESSION_NONE ? "none" : "%u",
			 n->session_id);
		snprintf(it->name, sizeof(it->name), "process %s[%u] session %s loginuid %d%s",
			 n->comm, n->pid, sid, (int)n->loginuid,
			 n->n_sources ? " read sources" : "");
		it->pid = n->pid;
	} else {
		snprintf(it->name, sizeof(it->name), "%s %s", n->kind, n->name);
	}
	it->bytes = bytes;
}

/* The main hand-off path: from the sender back along the largest link at each step,
 * then reversed so it reads from the source side to the sender. A path longer than an
 * alert holds keeps its source end and the steps nearest the sender. */
static void main_chain(struct lineage *l, struct node *sender, struct alert *a)
{
	struct alert_item rev[LIN_CHAIN];
	uint64_t seen[LIN_CHAIN];
	unsigned n = 0, keep;
	struct node *cur = sender;
	uint64_t bytes = sender->credit;

	while (cur && n < LIN_CHAIN) {
		const struct link *best = NULL;
		bool loop = false;

		for (unsigned i = 0; i < n; i++)
			loop |= seen[i] == cur->key;
		if (loop)
			break;
		seen[n] = cur->key;
		describe(cur, bytes, &rev[n++]);
		for (unsigned i = 0; i < cur->n_from; i++)
			if (!best || cur->from[i].bytes > best->bytes)
				best = &cur->from[i];
		if (!best)
			break;
		bytes = best->bytes;
		cur = node_find(l, best->key);
	}
	keep = n < ALERT_MAX_ITEMS ? n : ALERT_MAX_ITEMS;
	a->n_chain = keep;
	if (n > keep) {
		a->chain[0] = rev[n - 1];
		for (unsigned i = 1; i < keep; i++)
			a->chain[i] = rev[keep - 1 - i];
		return;
	}
	for (unsigned i = 0; i < n; i++)
		a->chain[i] = rev[n - 1 - i];
}

static void fill_lineage(struct lineage *l, struct lsubject *s, struct alert *a)
{
	struct walk w;
	struct node *first = NULL;

	memset(&w, 0, sizeof(w));
	for (unsigned i = 0; i < s->n_senders; i++) {
		struct node *p = node_find(l, s->senders[i]);

		if (!p)
			continue;
		first = first ? first : p;
		/* A sender outside the judged session (a relay service) is a hand-off. */
		if (p->session_id != s->session_id)
			a->hand_off = 1;
		if (p->credit > w.credit)
			w.credit = p->credit;
		gather(l, &w, p, 0);
	}
	a->n_origins = w.origins.n_origins;
	a->origin_unknown = w.origins.unknown || !first;
	for (unsigned i = 0; i < a->n_origins; i++) {
		struct alert o = { 0 };

		a->origins[i].session_id = w.origins.origins[i].session_id;
		a->origins[i].loginuid = w.origins.origins[i].loginuid;
		detect_who(l->d, a->origins[i].session_id, a->origins[i].loginuid, &o);
		snprintf(a->origins[i].user, sizeof(a->origins[i].user), "%s", o.user);
		if (a->origins[i].session_id != s->session_id)
			a->hand_off = 1;
	}
	a->n_sources = w.origins.n_sources;
	for (unsigned i = 0; i < a->n_sources; i++) {
		snprintf(a->sources[i].name, sizeof(a->sources[i].name), "%s",
			 w.origins.sources[i].name);
		a->sources[i].bytes = w.origins.sources[i].bytes;
	}
	a->source_objects = a->n_sources;
	a->source_bytes = w.credit;
	if (first)
		main_chain(l, first, a);
}

static void copy_top(const struct window_top *t, struct alert_item *out, unsigned *n)
{
	struct window_top_entry tmp[ALERT_MAX_ITEMS];

	*n = window_top_sorted(t, tmp, ALERT_MAX_ITEMS);
	for (unsigned i = 0; i < *n; i++) {
		memcpy(out[i].name, tmp[i].name, sizeof(out[i].name));
		out[i].bytes = tmp[i].bytes;
		out[i].pid = tmp[i].pid;
	}
}

static void emit(struct lineage *l, struct lsubject *s, uint64_t now)
{
	struct alert a;

	memset(&a, 0, sizeof(a));
	a.id = s->id;
	a.rule = RULE_DERIVED_EXFIL;
	a.revision = s->revision;
	a.start_ns = s->start_ns;
	a.end_ns = s->end_ns;
	a.raised_ns = now;
	a.session_id = s->session_id;
	a.loginuid = s->loginuid;
	detect_who(l->d, s->session_id, s->loginuid, &a);
	a.egress_bytes = s->bytes;
	a.threshold = detect_cfg(l->d)->exfil_bytes;
	a.evidence_first_seq = s->first_seq;
	a.evidence_last_seq = s->last_seq;
	copy_top(&s->dests, a.destinations, &a.n_destinations);
	copy_top(&s->procs, a.processes, &a.n_processes);
	fill_lineage(l, s, &a);
	s->emitted = s->bytes;
	s->emitted_dests = a.n_destinations;
	if (s->revision == 1)
		l->alerts++;
	detect_publish(l->d, &a);
}

/* The session a derived slice is judged on: the sender's, or for a sender outside any
 * login, the first login session its data came from. */
static bool subject_of(struct lineage *l, const struct activity *act, uint32_t *sid,
		       uint32_t *luid)
{
	struct node *p = node_find(l, PROC_BIT | act->pid);

	if (act->session_id != SESSION_NONE && act->loginuid != LOGINUID_NONE) {
		*sid = act->session_id;
		*luid = act->loginuid;
		return true;
	}
	for (unsigned i = 0; p && i < p->n_origins; i++) {
		if (p->origins[i].session_id != SESSION_NONE &&
		    p->origins[i].loginuid != LOGINUID_NONE) {
			*sid = p->origins[i].session_id;
			*luid = p->origins[i].loginuid;
			return true;
		}
	}
	/* Walk further up: a relay's origins may only be known upstream. */
	if (p) {
		struct walk w;

		memset(&w, 0, sizeof(w));
		gather(l, &w, p, 0);
		for (unsigned i = 0; i < w.origins.n_origins; i++) {
			if (w.origins.origins[i].session_id != SESSION_NONE &&
			    w.origins.origins[i].loginuid != LOGINUID_NONE) {
				*sid = w.origins.origins[i].session_id;
				*luid = w.origins.origins[i].loginuid;
				return true;
			}
		}
	}
	return false;
}

static struct lsubject *subject_get(struct lineage *l, uint32_t sid, uint32_t luid)
{
	struct lsubject *s;

	for (s = l->subjects; s; s = s->next)
		if (s->session_id == sid)
			return s;
	if (l->n_subjects >= LIN_MAX_SUBJECTS)
		return NULL;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->session_id = sid;
	s->loginuid = luid;
	window_sum_init(&s->egress, detect_cfg(l->d)->lookback_ns);
	s->next = l->subjects;
	l->subjects = s;
	l->n_subjects++;
	return s;
}

static void note_sender(struct lsubject *s, uint32_t pid)
{
	uint64_t key = PROC_BIT | pid;

	for (unsigned i = 0; i < s->n_senders; i++)
		if (s->senders[i] == key)
			return;
	if (s->n_senders < LIN_SENDERS)
		s->senders[s->n_senders++] = key;
}

static void dest_name(const struct activity *act, char *buf, size_t len)
{
	if (act->mount)
		snprintf(buf, len, "%s", act->mount);
	else if (act->dst_ip)
		snprintf(buf, len, strchr(act->dst_ip, ':') ? "[%s]:%u" : "%s:%u", act->dst_ip,
			 act->dst_port);
	else
		snprintf(buf, len, "%s", act->object ? act->object : "?");
}

void lineage_egress(struct lineage *l, const struct activity *act)
{
	const struct detect_config *cfg = detect_cfg(l->d);
	uint64_t now = act->ts_ns, seq = detect_evidence_seq(l->d), total;
	struct lsubject *s;
	uint32_t sid, luid;
	char dest[256];

	if (!act->bytes || !subject_of(l, act, &sid, &luid))
		return;
	s = subject_get(l, sid, luid);
	if (!s)
		return;
	l->now_ns = now;
	s->last_ns = now;
	window_sum_add(&s->egress, now, act->bytes, seq);
	total = window_sum_total(&s->egress, now);
	if (s->open && now > s->end_ns + cfg->window_ns)
		s->open = false;
	dest_name(act, dest, sizeof(dest));
	if (!s->open) {
		if (total <= cfg->exfil_bytes)
			return;
		s->open = true;
		s->id = detect_alert_id(l->d, now);
		s->revision = 1;
		s->updates = 0;
		s->bytes = 0;
		s->n_senders = 0;
		s->emitted = 0;
		window_top_reset(&s->dests);
		window_top_reset(&s->procs);
		window_sum_first(&s->egress, &s->start_ns, &s->first_seq);
		/* The episode counts what the window held when it crossed. */
		s->bytes = total - act->bytes;
	}
	s->bytes += act->bytes;
	s->end_ns = now;
	s->last_seq = seq;
	note_sender(s, act->pid);
	window_top_add(&s->dests, window_top_key(dest, 0), dest, 0, act->bytes);
	window_top_add(&s->procs, act->pid, act->comm ? act->comm : "?", act->pid, act->bytes);
	if (s->revision == 1 && !s->emitted) {
		emit(l, s, now);
		return;
	}
	if (s->updates < LIN_MAX_UPDATES &&
	    (s->bytes >= s->emitted + s->emitted / 10 || s->dests.n > s->emitted_dests)) {
		s->revision++;
		s->updates++;
		emit(l, s, now);
	}
}

void lineage_tick(struct lineage *l, uint64_t now_ns)
{
	const struct detect_config *cfg = detect_cfg(l->d);
	struct lsubject **pp = &l->subjects;

	while (*pp) {
		struct lsubject *s = *pp;

		if (s->open && now_ns > s->end_ns + cfg->window_ns) {
			s->open = false;
			s->emitted = 0;
		}
		/* Nothing left to count or to link: forget the subject. */
		if (!s->open && now_ns > s->last_ns + cfg->lookback_ns) {
			*pp = s->next;
			free(s);
			l->n_subjects--;
			continue;
		}
		pp = &s->next;
	}
}

void lineage_reconfigure(struct lineage *l)
{
	for (struct lsubject *s = l->subjects; s; s = s->next)
		window_sum_resize(&s->egress, detect_cfg(l->d)->lookback_ns);
}

void lineage_counts(const struct lineage *l, uint64_t *nodes, uint64_t *alerts)
{
	*nodes = l->n_nodes;
	*alerts = l->alerts;
}

struct lineage *lineage_new(struct detect *d)
{
	struct lineage *l = calloc(1, sizeof(*l));

	if (!l)
		return NULL;
	l->d = d;
	return l;
}

void lineage_free(struct lineage *l)
{
	if (!l)
		return;
	for (unsigned i = 0; i < LIN_BUCKETS; i++) {
		struct node *n = l->bucket[i];

		while (n) {
			struct node *next = n->next;

			free(n);
			n = next;
		}
	}
	while (l->subjects) {
		struct lsubject *s = l->subjects;

		l->subjects = s->next;
		free(s);
	}
	free(l);
}
