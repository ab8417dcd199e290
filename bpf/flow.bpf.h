/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Byte accounting: every counted byte lands in the flow map (per process, session and
 * object) with atomic adds, so threads on several CPUs never lose an update. When the
 * flow map is full the bytes still reach the per-session totals.
 */
#ifndef EXFILMON_FLOW_BPF_H
#define EXFILMON_FLOW_BPF_H

#include "record.bpf.h"
#include "task.bpf.h"

static __always_inline void totals_add(__u32 session, __u32 kind, __u64 bytes)
{
	struct xm_total_key key = { .session = session, .kind = kind };
	struct xm_total_val init = {};
	struct xm_total_val *v = map_lookup_or_try_init(&totals, &key, &init);

	if (!v)
		return;
	__sync_fetch_and_add(&v->bytes, bytes);
	__sync_fetch_and_add(&v->ops, 1);
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

/* Creates key's flow (called after a lookup missed). The collector mark comes first so
 * it holds even when the flow map is full. */
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

	bpf_get_current_comm(init.comm, sizeof(init.comm));
	if (opts & FLOW_COLLECTS)
		collector_mark(key->pid, now);
	return map_try_init(&flows, key, &init);
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
		drop_count(XM_DROP_FLOW_FULL);
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
			drop_count(XM_DROP_FLOW_FULL);
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
