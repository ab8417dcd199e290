// SPDX-License-Identifier: GPL-2.0-only
/*
 * Lineage hooks of their own (the rest of lineage sits in the read/write/socket paths,
 * lineage.bpf.h): a forked child carries its parent's label, since it holds the same
 * memory. BTF-typed because the classic sched_process_fork record does not say whether
 * the child is a thread (same tgid, same label already) or a new process.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "abi.h"
#include "lineage.bpf.h"

SEC("tp_btf/sched_process_fork")
int BPF_PROG(on_fork_label, struct task_struct *parent, struct task_struct *child)
{
	__u32 ppid = parent->tgid, cpid = child->tgid;
	struct xm_label *l, copy;

	if (ppid == cpid)
		return 0;
	l = proc_label(ppid);
	if (!l)
		return 0;
	copy = *l;
	/* The child hands on and sends what it holds from now on, as a process of its own. */
	copy.passed = 0;
	copy.egressed = 0;
	copy.flags |= XM_L_FORKED;
	if (proc_label_set(cpid, &copy))
		drop_count(XM_DROP_LABEL_FULL);
	return 0;
}
