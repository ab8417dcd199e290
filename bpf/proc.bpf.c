// SPDX-License-Identifier: GPL-2.0-only
/*
 * Process sensors: exec (path and a bounded argv summary), fork and exit, each with the
 * task's identity, so userspace can keep process lineage per login session. Exit also
 * forgets the process's collector mark so a reused pid starts clean.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "abi.h"
#include "record.bpf.h"
#include "task.bpf.h"
#include "lineage.bpf.h"

SEC("tp/sched/sched_process_exec")
int on_sched_process_exec(struct trace_event_raw_sched_process_exec *ctx)
{
	struct task_struct *task = current_task();
	unsigned int fname_off = ctx->__data_loc_filename & 0xffff;
	unsigned long arg_start, arg_end;
	struct xm_exec *r;
	__u32 len;
	long n;

	r = record_reserve(sizeof(*r), XM_REC_EXEC, XM_DROP_RING_EXEC, task_session(task));
	if (!r)
		return 0;
	task_fill(&r->task, task);
	n = bpf_probe_read_kernel_str(r->path, sizeof(r->path), (void *)ctx + fname_off);
	r->path_len = n > 0 ? n - 1 : 0;
	arg_start = BPF_CORE_READ(task, mm, arg_start);
	arg_end = BPF_CORE_READ(task, mm, arg_end);
	len = arg_end > arg_start ? arg_end - arg_start : 0;
	if (len > XM_ARGS_LEN)
		len = XM_ARGS_LEN;
	/* A constant-size read keeps the verifier's bounds simple; argv is followed by the
	 * environment on the same stack pages, and args_len cuts what is not argv. */
	if (len && bpf_probe_read_user(r->args, sizeof(r->args), (void *)arg_start))
		len = 0;
	r->args_len = len;
	r->argc = 0;
	r->_pad = 0;
	r->_pad2 = 0;
	record_submit(r);
	return 0;
}

SEC("tp/sched/sched_process_fork")
int on_sched_process_fork(struct trace_event_raw_sched_process_fork *ctx)
{
	struct task_struct *task = current_task();
	__u32 parent = bpf_get_current_pid_tgid() >> 32, child = ctx->child_pid;
	__u64 *collected = bpf_map_lookup_elem(&collectors, &parent);
	struct xm_fork *r;

	/* A collector's children hold what it read (a fork shares the buffers, a pipeline
	 * of subshells passes them on): they are collectors too. */
	if (collected)
		bpf_map_update_elem(&collectors, &child, collected, BPF_NOEXIST);
	r = record_reserve(sizeof(*r), XM_REC_FORK, XM_DROP_RING_FORK, task_session(task));
	if (!r)
		return 0;
	/* The child inherits identity; only its ids differ from the parent's. */
	task_fill(&r->task, task);
	r->task.ppid = r->task.pid;
	r->task.pid = ctx->child_pid;
	r->task.tid = ctx->child_pid;
	record_submit_lazy(r);
	return 0;
}

SEC("tp/sched/sched_process_exit")
int on_sched_process_exit(struct trace_event_raw_sched_process_template *ctx)
{
	struct task_struct *task = current_task();
	__u64 id = bpf_get_current_pid_tgid();
	__u32 pid = id >> 32;
	struct xm_exit *r;

	/* Threads exit too; the process is gone when its leader goes. A thread's own
	 * collector mark (sched_process_fork fires for threads as well) goes with it. */
	if (pid != (__u32)id) {
		pid = (__u32)id;
		bpf_map_delete_elem(&collectors, &pid);
		return 0;
	}
	bpf_map_delete_elem(&collectors, &pid);
	bpf_map_delete_elem(&suspects, &pid);
	proc_label_delete(pid);
	r = record_reserve(sizeof(*r), XM_REC_EXIT, XM_DROP_RING_EXIT, task_session(task));
	if (!r)
		return 0;
	task_fill(&r->task, task);
	r->exit_code = BPF_CORE_READ(task, exit_code);
	r->_pad = 0;
	record_submit_lazy(r);
	return 0;
}
