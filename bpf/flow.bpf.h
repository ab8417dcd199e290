/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Byte accounting: every counted byte lands in the flow map (per process, session and
 * object) with atomic adds, so threads on several CPUs never lose an update. A session
 * holds at most XM_FLOW_SESSION_QUOTA flows; beyond that, or when the map is full, its
 * bytes go to its totals (session, loginuid, kind): never to nobody.
 */
#ifndef EXFILMON_FLOW_BPF_H
#define EXFILMON_FLOW_BPF_H

#include "record.bpf.h"
#include "task.bpf.h"

/* Counts an entry created (or refused) in a map on behalf of a session. */
static __always_inline struct xm_fill_val *fill_get(__u32 session, __u32 map)
{
	struct xm_fill_key k = { .session = session, .map = map };
	struct xm_fill_val init = {};

	k.loginuid = task_loginuid(current_task());
	return map_lookup_or_try_init(&fills, &k, &init);
}

static __always_inline void fill_note(__u32 session, __u32 map, int refused)
{
	struct xm_fill_val *v = fill_get(session, map);

	if (!v)
		return;
	if (refused)
		__sync_fetch_and_add(&v->refused, 1);
	else
		__sync_fetch_and_add(&v->created, 1);
}

/* Bytes of a session that has no flow for them: kept per (session, loginuid, kind), so
 * detection still judges them as that person's. */
static __always_inline void totals_add(__u32 session, __u32 kind, __u64 bytes)
{
	struct xm_total_key key = { .session = session, .kind = kind };
	struct xm_total_val *v;

	key.loginuid = task_loginuid(current_task());
	v = bpf_map_lookup_elem(&totals, &key);
	if (!v) {
		struct xm_total_val init = {};

		if (bpf_map_update_elem(&totals, &key, &init, BPF_NOEXIST) == 0)
			fill_note(session, XM_FILL_TOTALS, 0);
		v = bpf_map_lookup_elem(&totals, &key);
		if (!v) {
			drop_count(XM_DROP_TOTALS_FULL);
			fill_note(session, XM_FILL_TOTALS, 1);
			return;
		}
	}
	__sync_fetch_and_add(&v->bytes, bytes);
	__sync_fetch_and_add(&v->ops, 1);
}

/* Whether the session still has room for one more flow (XM_FLOW_SESSION_QUOTA). A few
 * creations racing on several CPUs may overshoot by as many; that bound is enough. */
static __always_inline struct xm_fill_val *flow_quota(__u32 session)
{
	struct xm_fill_val *fv = fill_get(session, XM_FILL_FLOWS);
	__u64 *freed = bpf_map_lookup_elem(&flowfree, &session);
	__u64 live;

	if (!fv)
		return NULL;
	live = fv->created - (freed ? *freed : 0);
	if (live >= XM_FLOW_SESSION_QUOTA) {
		__sync_fetch_and_add(&fv->refused, 1);
		drop_count(XM_DROP_FLOW_QUOTA);
		return NULL;
	}
	return fv;
}

/* Which way the bytes moved, for hooks shared by both directions. */
enum io_dir {
	IO_READ = 0,
	IO_WRITE = 1,
};

/* What creating a flow does besides counting, chosen by the caller. */
enum flow_opts {
	FLOW_PLAIN = 0,
	/* The first bytes of a source: the process becomes a collector, so its later writes
	 * to ordinary files count as staging (fileio.bpf.h, staging_account). */
	FLOW_COLLECTS = 1,
};

/* Marks pid a collector, once. A lookup first: a failing BPF_NOEXIST update still takes
 * the bucket lock, and a collecting process creates a flow for every file it reads. */
static __always_inline void collector_mark(__u32 pid, __u64 now)
{
	if (!bpf_map_lookup_elem(&collectors, &pid))
		bpf_map_update_elem(&collectors, &pid, &now, BPF_NOEXIST);
}

/* Creates key's flow (called after a lookup missed), or returns NULL (cause counted)
 * when the session may not have one: the caller puts the bytes into the session's
 * totals. The collector mark comes first so it holds even then. */
static __always_inline struct xm_flow_val *flow_create(struct xm_flow_key *key,
							struct task_struct *task, __u64 now,
							enum flow_opts opts)
{
	struct xm_flow_val init = {
		.first_ns = now,
		.loginuid = task_loginuid(task),
		.uid = (__u32)bpf_get_current_uid_gid(),
		.start_ns = task_start_ns(task),
	};

	struct xm_fill_val *fv;
	struct xm_flow_val *v;

	bpf_get_current_comm(init.comm, sizeof(init.comm));
	if (opts & FLOW_COLLECTS)
		collector_mark(key->pid, now);
	fv = flow_quota(key->session);
	if (!fv)
		return NULL;
	if (bpf_map_update_elem(&flows, key, &init, BPF_NOEXIST) == 0)
		__sync_fetch_and_add(&fv->created, 1);
	v = bpf_map_lookup_elem(&flows, key);
	if (!v) {
		drop_count(XM_DROP_FLOW_FULL);
		__sync_fetch_and_add(&fv->refused, 1);
	}
	return v;
}

/* Adds to a flow whose key (pid and session included) is already complete: for
 * completions that may run in another task than the one that started the work. */
static __always_inline void flow_add_as(struct xm_flow_key *key, __u64 bytes,
					enum flow_opts opts)
{
	struct task_struct *task = current_task();
	__u64 now = bpf_ktime_get_boot_ns();
	struct xm_flow_val *v = bpf_map_lookup_elem(&flows, key);

	if (!v)
		v = flow_create(key, task, now, opts);
	if (!v) {
		totals_add(key->session, key->kind, bytes);
		return;
	}
	__sync_fetch_and_add(&v->bytes, bytes);
	__sync_fetch_and_add(&v->ops, 1);
	v->last_ns = now;
}

/* key must have kind and object fields set; pid and session are filled here.
 * Returns 1 when this call created the flow (first bytes of that object by that
 * process), so callers can name the object once. */
static __always_inline int flow_add(struct xm_flow_key *key, __u64 bytes, enum flow_opts opts)
{
	struct task_struct *task = current_task();
	__u64 now = bpf_ktime_get_boot_ns();
	struct xm_flow_val *v;
	int created = 0;

	key->pid = bpf_get_current_pid_tgid() >> 32;
	key->session = task_session(task);
	v = bpf_map_lookup_elem(&flows, key);
	if (!v) {
		v = flow_create(key, task, now, opts);
		if (!v) {
			totals_add(key->session, key->kind, bytes);
			return 0;
		}
		created = 1;
	}
	__sync_fetch_and_add(&v->bytes, bytes);
	__sync_fetch_and_add(&v->ops, 1);
	v->last_ns = now;
	return created;
}

#endif
