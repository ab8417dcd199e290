/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Who is running: the identity every record and flow carries (tgid, audit loginuid and
 * sessionid, uid, tty, cgroup), and the syscall arguments an exit program needs.
 */
#ifndef EXFILMON_TASK_BPF_H
#define EXFILMON_TASK_BPF_H

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "abi.h"
#include "maps.bpf.h"

/* Audit fields exist only with CONFIG_AUDIT(SYSCALL); without them nothing is a login. */
static __always_inline __u32 task_session(struct task_struct *task)
{
	if (!bpf_core_field_exists(task->sessionid))
		return XM_SESSION_NONE;
	return BPF_CORE_READ(task, sessionid);
}

static __always_inline __u32 task_loginuid(struct task_struct *task)
{
	if (!bpf_core_field_exists(task->loginuid))
		return XM_SESSION_NONE;
	return BPF_CORE_READ(task, loginuid.val);
}

/* Controlling tty in the kernel's dev_t encoding (major << 20 | minor), 0 when none. */
static __always_inline __u32 task_tty(struct task_struct *task)
{
	struct tty_struct *tty = BPF_CORE_READ(task, signal, tty);
	__u32 major, minor;

	if (!tty)
		return 0;
	major = BPF_CORE_READ(tty, driver, major);
	minor = BPF_CORE_READ(tty, driver, minor_start) + BPF_CORE_READ(tty, index);
	return major << 20 | minor;
}

static __always_inline void task_fill(struct xm_task *t, struct task_struct *task)
{
	__u64 id = bpf_get_current_pid_tgid();

	t->pid = id >> 32;
	t->tid = (__u32)id;
	t->ppid = BPF_CORE_READ(task, real_parent, tgid);
	t->uid = (__u32)bpf_get_current_uid_gid();
	t->loginuid = task_loginuid(task);
	t->session = task_session(task);
	t->tty_nr = task_tty(task);
	t->_pad = 0;
	t->cgroup_id = bpf_get_current_cgroup_id();
	t->start_ns = BPF_CORE_READ(task, group_leader, start_time);
	bpf_get_current_comm(t->comm, sizeof(t->comm));
}

/*
 * Syscall argument n of the current task, read from the user registers saved at entry
 * (bpf_task_pt_regs, 5.15+). This lets one exit program per syscall know the fd, where an
 * enter+exit pair would cost a second dispatch and a map round trip on every call.
 */
static __always_inline struct pt_regs *syscall_regs(void)
{
	return (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
}

/*
 * The current syscall's first n (1-5) arguments. Every exit program that needs them calls
 * this first and unconditionally: on kernels where they come from sysargs, the entry
 * saved there must be consumed on every exit. With args_from_enter frozen at load, the
 * verifier never walks the branch that a kernel cannot run.
 */
static __always_inline int sys_args_get(struct xm_sys_args *s, int n)
{
	__u64 id;
	struct xm_sys_args *saved;

	if (!args_from_enter) {
		struct pt_regs *regs = syscall_regs();

		/* Each register is a kernel read: fetch only what the caller uses (the
		 * read/write family needs just the fd, on the hottest path there is). */
		s->a[0] = PT_REGS_PARM1_CORE_SYSCALL(regs);
		if (n > 1)
			s->a[1] = PT_REGS_PARM2_CORE_SYSCALL(regs);
		if (n > 2)
			s->a[2] = PT_REGS_PARM3_CORE_SYSCALL(regs);
		if (n > 3)
			s->a[3] = PT_REGS_PARM4_CORE_SYSCALL(regs);
		if (n > 4)
			s->a[4] = PT_REGS_PARM5_CORE_SYSCALL(regs);
		return 0;
	}
	id = bpf_get_current_pid_tgid();
	saved = bpf_map_lookup_elem(&sysargs, &id);
	if (!saved)
		return -1;
	*s = *saved;
	bpf_map_delete_elem(&sysargs, &id);
	return 0;
}

#endif
