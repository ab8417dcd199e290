// SPDX-License-Identifier: GPL-2.0-only
/*
 * Counter drain: walks the kernel's flow map, turns growth since the last walk into
 * EV_ACTIVITY deltas, and forgets flows of processes that have exited (after their last
 * delta was taken, so nothing is lost). Kernel values only ever grow, so a delta is exact
 * even while the kernel keeps adding during the walk: what it adds after the read is
 * picked up next time. Gaps (lost ring records) are drained into EV_GAP the same way.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <search.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <bpf/bpf.h>

#include "common/endpoint.h"
#include "common/hash.h"
#include "common/array_size.h"
#include "agent_int.h"
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
	a->flow_cache = NULL;
	a->gap_cache = NULL;
}

static bool pid_exited(const struct agent *a, uint32_t pid)
{
	for (unsigned i = 0; i < a->n_exited; i++)
		if (a->exited[i] == pid)
			return true;
	return false;
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
};

struct obj_text {
	char name[PATH_MAX];
	char ip[48];
	char dir[PATH_MAX];
};

/* Fills the object side of an activity: a path for files, ip:port for sockets. */
static void describe_object(struct agent *a, const struct xm_flow_key *k, struct activity *act,
			    struct obj_text *t)
{
	const char *name;

	if (k->kind == XM_FLOW_NET_SOURCE || k->kind == XM_FLOW_NET_EGRESS) {
		agent_format_ip(k->addr, t->ip, sizeof(t->ip));
		endpoint_format(t->name, sizeof(t->name), t->ip, k->port);
		/* Object identity only needs to tell peers apart, not resist attack. */
		act->object_id = fnv1a64(k->addr, sizeof(k->addr), FNV1A64_INIT) ^ k->port;
		act->dst_ip = k->kind == XM_FLOW_NET_EGRESS ? t->ip : NULL;
		act->dst_port = k->kind == XM_FLOW_NET_EGRESS ? k->port : 0;
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
	if (k->kind == XM_FLOW_SINK_WRITE) {
		const char *mnt = media_mount(a, k->dev);
		char *slash;

		if (mnt) {
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

#define DEAD_BATCH 1024

/* Bytes going out, as opposed to bytes collected. */
static bool outbound(uint8_t kind)
{
	return kind == XM_FLOW_NET_EGRESS || kind == XM_FLOW_SINK_WRITE || kind == XM_FLOW_STAGING;
}

struct deferred {
	struct xm_flow_key key;
	struct xm_flow_val val;
};

/* One drain's walk over the flow map. */
struct walk {
	struct agent *a;
	struct xm_flow_key *dead;   /* flows of exited processes, deleted after the walk */
	unsigned n_dead;
	struct deferred *out;       /* outbound flows, taken after the inbound ones */
	size_t n_out, cap_out;
	uint64_t n;
};

/*
 * Within one drain, what was collected is handed on before what went out: the map's walk
 * order is arbitrary, and a download and its upload in the same interval must reach
 * detection in causal order. Seeing an entry twice is harmless (drain_take only hands on
 * growth), which lets a batched walk that fails half-way start over entry by entry.
 */
static void visit(struct walk *w, const struct xm_flow_key *key, const struct xm_flow_val *v)
{
	w->n++;
	if (w->n_dead < DEAD_BATCH && pid_exited(w->a, key->pid))
		w->dead[w->n_dead++] = *key;
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

int drain_flows(struct agent *a)
{
	const struct sensor_maps *m = sensors_maps(a->sensors);
	struct walk w = { .a = a, .dead = malloc(DEAD_BATCH * sizeof(*w.dead)) };

	if (!w.dead)
		return -ENOMEM;
	agent_refresh_clock(a);
	if (walk_batched(m->flows, &w)) {
		/* Start over: whatever was seen already is not handed on twice. */
		w.n = 0;
		w.n_dead = 0;
		walk_keys(m->flows, &w);
	}
	for (size_t i = 0; i < w.n_out; i++)
		drain_take(a, &w.out[i].key, &w.out[i].val);
	free(w.out);
	for (unsigned i = 0; i < w.n_dead; i++) {
		bpf_map_delete_elem(m->flows, &w.dead[i]);
		seen_forget(a, &w.dead[i]);
	}
	a->stats.flows = w.n - w.n_dead;
	if (w.n_dead < DEAD_BATCH)
		a->n_exited = 0;
	free(w.dead);
	return drain_totals(a);
}

/* Session totals only grow when the flow map was full; they are reported as flows of
 * pid 0 so the bytes are never lost, only their process detail. */
static int drain_totals(struct agent *a)
{
	const struct sensor_maps *m = sensors_maps(a->sensors);
	struct xm_total_key key, next, *prev = NULL;
	struct xm_total_val tv;

	while (bpf_map_get_next_key(m->totals, prev, &next) == 0) {
		struct xm_flow_key fk = { 0 };
		struct xm_flow_val fv = { 0 };

		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(m->totals, &key, &tv))
			continue;
		fk.session = key.session;
		fk.kind = (uint8_t)key.kind;
		fv.bytes = tv.bytes;
		fv.ops = tv.ops;
		fv.loginuid = LOGINUID_NONE;
		snprintf(fv.comm, sizeof(fv.comm), "?");
		drain_take(a, &fk, &fv);
	}
	return 0;
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
