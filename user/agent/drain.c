// SPDX-License-Identifier: GPL-2.0-only
/*
 * Counter drain: walks the kernel's flow map, turns growth since the last walk into
 * EV_ACTIVITY deltas, and forgets flows of processes that have exited (after their last
 * delta was taken, so nothing is lost). Exits are known from exit records and, since a
 * full ring loses those, from a sweep that looks each flow's process up in /proc. Kernel values only ever grow, so a delta is exact
 * even while the kernel keeps adding during the walk: what it adds after the read is
 * picked up next time. Gaps (lost ring records) are drained into EV_GAP the same way.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <search.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <bpf/bpf.h>

#include "common/endpoint.h"
#include "common/hash.h"
#include "common/array_size.h"
#include "agent_int.h"
#include "label_index.h"
#include "common/log.h"

struct flow_seen {
	struct xm_flow_key key;
	uint64_t bytes;
	uint64_t ops;
	uint64_t last_ns;
};

static int cmp_key(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct xm_flow_key));
}

static struct flow_seen *seen_get(struct agent *a, const struct xm_flow_key *key)
{
	struct flow_seen *s, **slot = tfind(key, &a->flow_cache, cmp_key);

	/* A flow is looked up every drain and created once. */
	if (slot)
		return *slot;
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->key = *key;
	slot = tsearch(s, &a->flow_cache, cmp_key);
	if (!slot) {
		free(s);
		return NULL;
	}
	if (*slot != s)
		free(s);
	return *slot;
}

static void seen_forget(struct agent *a, const struct xm_flow_key *key)
{
	struct flow_seen **slot = tfind(key, &a->flow_cache, cmp_key);
	struct flow_seen *s;

	if (!slot)
		return;
	s = *slot;
	tdelete(key, &a->flow_cache, cmp_key);
	free(s);
}

void drain_free(struct agent *a)
{
	tdestroy(a->flow_cache, free);
	tdestroy(a->gap_cache, free);
	tdestroy(a->total_cache, free);
	tdestroy(a->fill_cache, free);
	a->flow_cache = NULL;
	a->gap_cache = NULL;
	a->total_cache = NULL;
	a->fill_cache = NULL;
}

static bool pid_exited(const struct agent *a, uint32_t pid)
{
	for (unsigned i = 0; i < a->n_exited; i++)
		if (a->exited[i] == pid)
			return true;
	return false;
}

/* A pid seen in this walk, and whether /proc still has it. */
struct pid_seen {
	uint32_t pid;
	bool gone;
};

static int cmp_pid(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Sweeps do not trust exit records: those travel through the ring, which can be full. */
static bool pid_gone(struct agent *a, void **cache, uint32_t pid)
{
	struct pid_seen *s, **slot = tfind(&pid, cache, cmp_pid);
	char path[160];

	if (slot)
		return (*slot)->gone;
	s = malloc(sizeof(*s));
	if (!s)
		return false;
	snprintf(path, sizeof(path), "%s/%u", a->proc_root, pid);
	s->pid = pid;
	s->gone = access(path, F_OK) != 0 && errno == ENOENT;
	if (!tsearch(s, cache, cmp_pid)) {
		free(s);
		return false;
	}
	return s->gone;
}

static const char *media_mount(struct agent *a, uint32_t dev)
{
	const struct mount_list *m = policy_media(a->policy);

	for (size_t i = 0; i < m->n; i++)
		if (m->v[i].dev == dev)
			return m->v[i].mountpoint;
	return NULL;
}

static const enum activity_kind kind_map[] = {
	[XM_FLOW_FILE_READ] = ACT_SOURCE_FILE,
	[XM_FLOW_NET_SOURCE] = ACT_SOURCE_NET,
	[XM_FLOW_NET_EGRESS] = ACT_EGRESS_NET,
	[XM_FLOW_SINK_WRITE] = ACT_EGRESS_SYNC,
	[XM_FLOW_MMAP] = ACT_MMAP_SOURCE,
	[XM_FLOW_URING_READ] = ACT_SOURCE_FILE,
	[XM_FLOW_STAGING] = ACT_STAGING,
	[XM_FLOW_DERIVED_EGRESS] = ACT_DERIVED_EGRESS,
};

struct obj_text {
	char name[PATH_MAX];
	char ip[48];
	char dir[PATH_MAX];
};

/* A peer of :: is how the kernel reports egress without an address: a socket of
 * another family (port = the family) or a raw socket with no peer (port 0). */
static bool peer_unknown(const struct xm_flow_key *k, char *name, size_t len)
{
	static const char *const families[] = {
		[17] = "AF_PACKET", [29] = "AF_CAN", [31] = "AF_BLUETOOTH", [40] = "AF_VSOCK",
		[30] = "AF_TIPC", [21] = "AF_RDS", [44] = "AF_XDP",
	};
	static const uint8_t zero[16];

	if (memcmp(k->addr, zero, sizeof(zero)))
		return false;
	if (!k->port)
		snprintf(name, len, "raw socket (destination unknown)");
	else
		snprintf(name, len, "%s socket (family %u)",
			 k->port < sizeof(families) / sizeof(families[0]) && families[k->port]
				 ? families[k->port] : "other", k->port);
	return true;
}

/* Fills the object side of an activity: a path for files, ip:port for sockets. */
static void describe_object(struct agent *a, const struct xm_flow_key *k, struct activity *act,
			    struct obj_text *t)
{
	const char *name;

	if (k->kind == XM_FLOW_NET_SOURCE || k->kind == XM_FLOW_NET_EGRESS ||
	    (k->kind == XM_FLOW_DERIVED_EGRESS && !k->ino)) {
		agent_format_ip(k->addr, t->ip, sizeof(t->ip));
		if (!peer_unknown(k, t->name, sizeof(t->name)))
			endpoint_format(t->name, sizeof(t->name), t->ip, k->port);
		/* Object identity only needs to tell peers apart, not resist attack. */
		act->object_id = fnv1a64(k->addr, sizeof(k->addr), FNV1A64_INIT) ^ k->port;
		act->dst_ip = k->kind != XM_FLOW_NET_SOURCE ? t->ip : NULL;
		act->dst_port = k->kind != XM_FLOW_NET_SOURCE ? k->port : 0;
		act->object = t->name;
		return;
	}
	name = objnames_get(a->names, k->dev, k->ino);
	if (!name && k->pid)
		name = objnames_resolve_fd(a->names, a->proc_root, k->pid, k->dev, k->ino);
	if (name) {
		size_t n = strnlen(name, sizeof(t->name) - 1);

		memcpy(t->name, name, n);
		t->name[n] = '\0';
	} else if (k->ino)
		snprintf(t->name, sizeof(t->name), "inode %u:%u/%llu", k->dev >> 20,
			 k->dev & 0xfffff, (unsigned long long)k->ino);
	else
		snprintf(t->name, sizeof(t->name), "(flow table full: session total)");
	act->object = t->name;
	act->object_id = (uint64_t)k->dev << 40 ^ k->ino;
	if (k->kind == XM_FLOW_SINK_WRITE || k->kind == XM_FLOW_DERIVED_EGRESS) {
		const char *mnt = media_mount(a, k->dev);
		char *slash;

		if (mnt) {
			if (k->kind == XM_FLOW_SINK_WRITE)
				act->kind = ACT_EGRESS_MEDIA;
			act->mount = mnt;
		} else {
			snprintf(t->dir, sizeof(t->dir), "%s", t->name);
			slash = strrchr(t->dir, '/');
			if (slash && slash != t->dir)
				*slash = '\0';
			act->mount = t->dir;
		}
	}
}

static void emit_delta(struct agent *a, const struct xm_flow_key *k, const struct xm_flow_val *v,
		       struct flow_seen *s)
{
	const struct process_info *p = k->pid ? session_process(a->sessions, k->pid) : NULL;
	struct obj_text text;
	struct event ev = { .kind = EV_ACTIVITY };
	struct activity *act = &ev.act;

	act->kind = k->kind < ARRAY_SIZE(kind_map) ? kind_map[k->kind] : 0;
	if (!act->kind)
		return;
	act->ts_ns = agent_realtime(a, v->last_ns);
	act->first_ns = agent_realtime(a, s->last_ns > v->first_ns ? s->last_ns : v->first_ns);
	act->session_id = k->session;
	act->loginuid = v->loginuid;
	act->uid = v->uid;
	act->pid = k->pid;
	act->bytes = v->bytes - s->bytes;
	act->ops = v->ops - s->ops;
	act->comm = v->comm;
	act->exe = p && p->exe[0] ? p->exe : NULL;
	describe_object(a, k, act, &text);
	ev.ts_ns = act->ts_ns;
	ev.pid = k->pid;
	ev.uid = v->uid;
	ev.loginuid = v->loginuid;
	ev.session_id = k->session;
	memcpy(ev.comm, v->comm, sizeof(ev.comm));
	ev.comm[sizeof(ev.comm) - 1] = '\0';
	a->stats.activities++;
	a->sink.emit(a->sink.ctx, &ev);
}

void drain_take(struct agent *a, const struct xm_flow_key *k, const struct xm_flow_val *v)
{
	struct flow_seen *s = seen_get(a, k);

	if (!s || v->bytes <= s->bytes)
		return;
	emit_delta(a, k, v, s);
	s->bytes = v->bytes;
	s->ops = v->ops;
	s->last_ns = v->last_ns;
}

static int drain_totals(struct agent *a);

/* Seconds between sweeps of the flow map for processes /proc no longer has. */
#define SWEEP_NS (2ULL * 1000000000ULL)

/* Bytes going out, as opposed to bytes collected. */
static bool outbound(uint8_t kind)
{
	return kind == XM_FLOW_NET_EGRESS || kind == XM_FLOW_SINK_WRITE || kind == XM_FLOW_STAGING ||
	       kind == XM_FLOW_DERIVED_EGRESS;
}

struct deferred {
	struct xm_flow_key key;
	struct xm_flow_val val;
};

/* Live flows of one session in one walk (session first: compared as a pid). */
struct sess_count {
	uint32_t session, loginuid;
	uint64_t flows;
};

/* One drain's walk over the flow map. */
struct walk {
	struct agent *a;
	struct xm_flow_key *dead;   /* flows of exited processes, deleted after the walk */
	size_t n_dead, cap_dead;
	struct deferred *out;       /* outbound flows, taken after the inbound ones */
	size_t n_out, cap_out;
	uint64_t n;
	bool sweep;                 /* look every pid up in /proc this time */
	void *pids;                 /* tsearch of struct pid_seen, during a sweep */
	struct flow_top top;        /* the session holding the most flows */
	void *per_session;          /* tsearch of struct sess_count */
};

static void note_dead(struct walk *w, const struct xm_flow_key *key)
{
	if (w->n_dead == w->cap_dead) {
		size_t cap = w->cap_dead ? 2 * w->cap_dead : 256;
		struct xm_flow_key *d = realloc(w->dead, cap * sizeof(*d));

		/* Without memory the flow stays: the next drain tries again. */
		if (!d)
			return;
		w->dead = d;
		w->cap_dead = cap;
	}
	w->dead[w->n_dead++] = *key;
}

static void count_session(struct walk *w, uint32_t session, uint32_t loginuid)
{
	struct sess_count *c, **slot = tfind(&session, &w->per_session, cmp_pid);

	if (!slot) {
		c = calloc(1, sizeof(*c));
		if (c) {
			c->session = session;
			c->loginuid = loginuid;
		}
		if (!c || !(slot = tsearch(c, &w->per_session, cmp_pid))) {
			free(c);
			return;
		}
	}
	c = *slot;
	if (++c->flows > w->top.flows)
		w->top = (struct flow_top){ c->session, c->loginuid, c->flows };
}

/*
 * Within one drain, what was collected is handed on before what went out: the map's walk
 * order is arbitrary, and a download and its upload in the same interval must reach
 * detection in causal order. Seeing an entry twice is harmless (drain_take only hands on
 * growth), which lets a batched walk that fails half-way start over entry by entry.
 */
static void visit(struct walk *w, const struct xm_flow_key *key, const struct xm_flow_val *v)
{
	w->n++;
	count_session(w, key->session, v->loginuid);
	if (key->pid && (pid_exited(w->a, key->pid) ||
			 (w->sweep && pid_gone(w->a, &w->pids, key->pid))))
		note_dead(w, key);
	if (outbound(key->kind)) {
		if (w->n_out == w->cap_out) {
			size_t cap = w->cap_out ? 2 * w->cap_out : 64;
			struct deferred *d = realloc(w->out, cap * sizeof(*d));

			if (!d) {
				drain_take(w->a, key, v);
				return;
			}
			w->out = d;
			w->cap_out = cap;
		}
		w->out[w->n_out++] = (struct deferred){ *key, *v };
		return;
	}
	drain_take(w->a, key, v);
}

#define WALK_BATCH 256

/*
 * BPF_MAP_LOOKUP_BATCH: a few hundred entries per syscall. Entry by entry the walk costs
 * two syscalls per flow, about 4-5 us each here with page-table isolation (54 ms for
 * 10,000 flows); batched, about 0.15 us per flow. Returns 0 at the end of the map, or
 * -errno (a kernel before 5.6 refuses the command) for the caller to walk key by key.
 */
static int walk_batched(int fd, struct walk *w)
{
	static struct xm_flow_key keys[WALK_BATCH];
	static struct xm_flow_val vals[WALK_BATCH];
	uint64_t token = 0;
	void *in = NULL;

	for (;;) {
		__u32 count = WALK_BATCH;
		int err = bpf_map_lookup_batch(fd, in, &token, keys, vals, &count, NULL);

		if (err && err != -ENOENT)
			return err;
		for (__u32 i = 0; i < count && i < WALK_BATCH; i++)
			visit(w, &keys[i], &vals[i]);
		if (err == -ENOENT)
			return 0;
		in = &token;
	}
}

static void walk_keys(int fd, struct walk *w)
{
	struct xm_flow_key key, next, *prev = NULL;
	struct xm_flow_val v;

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		if (!bpf_map_lookup_elem(fd, &key, &v))
			visit(w, &key, &v);
	}
}

/* Deleted flows give their session's quota back (flowfree, written only here). */
static void release_quota(struct agent *a, int fd, const struct xm_flow_key *dead, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint32_t session = dead[i].session;
		uint64_t freed = 0, k = 0;

		/* Dead flows come grouped by session more often than not. */
		while (i + k + 1 < n && dead[i + k + 1].session == session)
			k++;
		bpf_map_lookup_elem(fd, &session, &freed);
		freed += k + 1;
		bpf_map_update_elem(fd, &session, &freed, BPF_ANY);
		i += k;
	}
}

static void walk_free(struct walk *w)
{
	free(w->out);
	free(w->dead);
	tdestroy(w->pids, free);
	tdestroy(w->per_session, free);
}

int drain_flows(struct agent *a)
{
	const struct sensor_maps *m = sensors_maps(a->sensors);
	struct walk w = { .a = a };
	uint64_t now = agent_now_ns();

	agent_refresh_clock(a);
	w.sweep = now - a->last_sweep_ns >= SWEEP_NS;
	if (w.sweep)
		a->last_sweep_ns = now;
	if (walk_batched(m->flows, &w)) {
		/* Start over: whatever was seen already is not handed on twice. */
		w.n = 0;
		w.n_dead = 0;
		tdestroy(w.per_session, free);
		w.per_session = NULL;
		w.top = (struct flow_top){ 0 };
		walk_keys(m->flows, &w);
	}
	for (size_t i = 0; i < w.n_out; i++)
		drain_take(a, &w.out[i].key, &w.out[i].val);
	for (size_t i = 0; i < w.n_dead; i++) {
		bpf_map_delete_elem(m->flows, &w.dead[i]);
		seen_forget(a, &w.dead[i]);
	}
	release_quota(a, m->flowfree, w.dead, w.n_dead);
	a->stats.flows = w.n - w.n_dead;
	a->n_exited = 0;
	integrity_flow_pressure(a, a->stats.flows, m->flows_max, &w.top);
	walk_free(&w);
	return drain_totals(a);
}

struct total_seen {
	struct xm_total_key key;
	uint64_t bytes, ops;
};

static int cmp_total(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct xm_total_key));
}

/*
 * Totals grow only when a session could not have a flow (its quota used up, or the map
 * full). They are handed on as activity of pid 0 with the session's own loginuid, so
 * detection judges them as that person's bytes: the process detail is what is lost.
 */
static void take_total(struct agent *a, const struct xm_total_key *k, const struct xm_total_val *v)
{
	struct total_seen *s, **slot = tfind(k, &a->total_cache, cmp_total);
	struct event ev = { .kind = EV_ACTIVITY };
	struct activity *act = &ev.act;
	uint64_t now = agent_realtime_now();

	if (!slot) {
		s = calloc(1, sizeof(*s));
		if (s)
			s->key = *k;
		if (!s || !(slot = tsearch(s, &a->total_cache, cmp_total))) {
			free(s);
			return;
		}
	}
	s = *slot;
	if (v->bytes <= s->bytes)
		return;
	act->kind = k->kind < sizeof(kind_map) / sizeof(kind_map[0]) ? kind_map[k->kind] : 0;
	if (!act->kind)
		return;
	act->ts_ns = act->first_ns = now;
	act->session_id = k->session;
	act->loginuid = k->loginuid;
	act->uid = k->loginuid;
	act->bytes = v->bytes - s->bytes;
	act->ops = v->ops - s->ops;
	act->comm = "?";
	act->object = "(session total: no flow left for this session)";
	act->object_id = 0xffffffff00000000ULL | k->kind;
	if (act->kind == ACT_EGRESS_SYNC)
		act->mount = act->object;
	ev.ts_ns = now;
	ev.uid = act->uid;
	ev.loginuid = k->loginuid;
	ev.session_id = k->session;
	snprintf(ev.comm, sizeof(ev.comm), "?");
	s->bytes = v->bytes;
	s->ops = v->ops;
	a->stats.activities++;
	a->sink.emit(a->sink.ctx, &ev);
}

static int drain_totals(struct agent *a)
{
	const struct sensor_maps *m = sensors_maps(a->sensors);
	struct xm_total_key key, next, *prev = NULL;
	struct xm_total_val tv;

	/* Collected before outbound, as for flows: two passes over a small map. */
	for (int pass = 0; pass < 2; pass++) {
		prev = NULL;
		while (bpf_map_get_next_key(m->totals, prev, &next) == 0) {
			key = next;
			prev = &key;
			if (outbound(key.kind) != (pass == 1) ||
			    bpf_map_lookup_elem(m->totals, &key, &tv))
				continue;
			take_total(a, &key, &tv);
		}
	}
	return integrity_fills(a);
}

#define PRUNE_EVERY_NS (600ULL * 1000000000ULL)

/*
 * Process labels are deleted by the exit hook, so only a process that exited while no
 * agent ran (a restart over the pinned maps) leaves one behind; its pid, reused later,
 * would hand a stranger its label. Drops the labels of pids that are gone and returns
 * how many. A pid reused between the check and the delete would lose a label only
 * microseconds old: a wrap-around of the pid space in that window.
 */
int drain_prune_dead_labels(struct agent *a)
{
	const struct sensor_maps *m = sensors_maps(a->sensors);
	uint32_t key, next, *prev = NULL;
	int n = 0;

	while (bpf_map_get_next_key(m->labels, prev, &next) == 0) {
		key = next;
		if (key > INT_MAX || (kill((pid_t)key, 0) && errno == ESRCH)) {
			if (label_index_delete_proc(m, key) == 0) {
				n++;
				continue;
			}
		}
		prev = &key;
	}
	return n;
}

/*
 * A derived file keeps its label for detect.lookback after it was last written; past
 * that its data is as old as the rule looks back, and the entry goes, so deleted files
 * and never-drained streams do not fill the map over weeks. Entries are only deleted,
 * never rewritten, so the walk races nothing the kernel does that matters.
 */
void drain_prune_labels(struct agent *a)
{
	const struct sensor_maps *m = sensors_maps(a->sensors);
	struct xm_watch_key key, next, *prev = NULL;
	struct timespec ts;
	struct xm_label v;
	uint64_t now;

	clock_gettime(CLOCK_BOOTTIME, &ts);
	now = (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
	if (!a->label_ttl_ns || now < a->pruned_ns + PRUNE_EVERY_NS)
		return;
	a->pruned_ns = now;
	drain_prune_dead_labels(a);
	while (bpf_map_get_next_key(m->ilabels, prev, &next) == 0) {
		key = next;
		if (!bpf_map_lookup_elem(m->ilabels, &key, &v) && v.last_ns + a->label_ttl_ns < now) {
			label_index_delete_obj(m, &key);
			continue;
		}
		prev = &key;
	}
	agent_save_labels(a);
}

static const char *const gap_what[] = {
	[XM_REC_EXEC] = "exec", [XM_REC_FORK] = "fork", [XM_REC_EXIT] = "exit",
	[XM_REC_OPEN] = "open", [XM_REC_MMAP] = "mmap", [XM_REC_CONNECT] = "connect",
	[XM_REC_URING] = "io_uring",
};

struct gap_seen {
	struct xm_gap_key key;
	uint64_t count;
	uint64_t last_ns;
};

static int cmp_gap(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct xm_gap_key));
}

/*
 * Gap counters are cumulative in the kernel and never deleted there: reporting the growth
 * since the last walk keeps the lost-record count exact, where read-then-delete would
 * drop whatever the kernel added between the two calls.
 */
int drain_gaps(struct agent *a)
{
	const struct sensor_maps *m = sensors_maps(a->sensors);
	struct xm_gap_key key, next, *prev = NULL;
	struct xm_gap_val v;

	while (bpf_map_get_next_key(m->gaps, prev, &next) == 0) {
		struct event ev = { .kind = EV_GAP };
		struct gap_seen *s, **slot;

		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(m->gaps, &key, &v))
			continue;
		s = calloc(1, sizeof(*s));
		if (!s)
			return -ENOMEM;
		s->key = key;
		slot = tsearch(s, &a->gap_cache, cmp_gap);
		if (!slot) {
			free(s);
			return -ENOMEM;
		}
		if (*slot != s)
			free(s);
		s = *slot;
		if (v.count <= s->count)
			continue;
		ev.session_id = key.session;
		ev.ts_ns = agent_realtime(a, v.last_ns);
		ev.gap.what = key.type < ARRAY_SIZE(gap_what) && gap_what[key.type]
				      ? gap_what[key.type] : "record";
		ev.gap.count = v.count - s->count;
		ev.gap.first_ns = agent_realtime(a, s->count ? s->last_ns : v.first_ns);
		ev.gap.last_ns = ev.ts_ns;
		ev.gap.reason = "ring buffer full";
		s->count = v.count;
		s->last_ns = v.last_ns;
		a->stats.gaps++;
		a->stats.lost_records += ev.gap.count;
		a->sink.emit(a->sink.ctx, &ev);
	}
	return 0;
}
