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

/*
 * Two ways to read the current task. Where the exit programs take their arguments from
 * the saved registers (bpf_task_pt_regs, 5.15+; args_from_enter frozen at 0) the kernel
 * also has bpf_get_current_task_btf (5.11+): a BTF-typed task whose fields, and the
 * structs they point to, are plain loads the verifier guards with an exception entry.
 * BPF_CORE_READ pays one bpf_probe_read_kernel helper call per pointer hop instead. The
 * older kernels (and EXFILMON_FORCE_ENTER_ARGS, which tests this path) keep the CO-RE
 * reads; the verifier drops the branch a kernel cannot take, since args_from_enter is
 * read-only data it knows.
 */
#define task_btf_ok() (!args_from_enter)

/* The current task: BTF-typed where task_btf_ok(), else an untyped pointer that only
 * BPF_CORE_READ may follow. Each helper below reads it the way its kernel allows. */
static __always_inline struct task_struct *current_task(void)
{
	if (task_btf_ok())
		return bpf_get_current_task_btf();
	return (struct task_struct *)bpf_get_current_task();
}

/* The kernel's "unset" audit loginuid/sessionid (AUDIT_UID_UNSET, AUDIT_SID_UNSET in
 * include/linux/audit.h; macros do not reach vmlinux.h). Userspace reads the same value
 * as LOGINUID_NONE / SESSION_NONE (user/model/activity.h). */
#define AUDIT_ID_UNSET ((__u32)-1)

/* Audit fields exist only with CONFIG_AUDIT(SYSCALL); without them nothing is a login. */
static __always_inline __u32 task_session(struct task_struct *task)
{
	if (!bpf_core_field_exists(task->sessionid))
		return AUDIT_ID_UNSET;
	if (task_btf_ok())
		return task->sessionid;
	return BPF_CORE_READ(task, sessionid);
}

static __always_inline __u32 task_loginuid(struct task_struct *task)
{
	if (!bpf_core_field_exists(task->loginuid))
		return AUDIT_ID_UNSET;
	if (task_btf_ok())
		return task->loginuid.val;
	return BPF_CORE_READ(task, loginuid.val);
}

static __always_inline __u64 task_start_ns(struct task_struct *task)
{
	if (task_btf_ok())
		return task->group_leader->start_time;
	return BPF_CORE_READ(task, group_leader, start_time);
}

/* Controlling tty in the kernel's dev_t encoding (major << 20 | minor), 0 when none. */
static __always_inline __u32 task_tty(struct task_struct *task)
{
	struct tty_struct *tty;

	if (task_btf_ok()) {
		tty = task->signal->tty;
		if (!tty)
			return 0;
		return tty->driver->major << 20 | (tty->driver->minor_start + tty->index);
	}
	tty = BPF_CORE_READ(task, signal, tty);
	if (!tty)
		return 0;
	return BPF_CORE_READ(tty, driver, major) << 20 |
	       (BPF_CORE_READ(tty, driver, minor_start) + BPF_CORE_READ(tty, index));
}

/* task must come from current_task(). */
static __always_inline void task_fill(struct xm_task *t, struct task_struct *task)
{
	__u64 id = bpf_get_current_pid_tgid();

	t->pid = id >> 32;
	t->tid = (__u32)id;
	if (task_btf_ok())
		t->ppid = task->real_parent->tgid;
	else
		t->ppid = BPF_CORE_READ(task, real_parent, tgid);
	t->uid = (__u32)bpf_get_current_uid_gid();
	t->loginuid = task_loginuid(task);
	t->session = task_session(task);
	t->tty_nr = task_tty(task);
	t->_pad = 0;
	t->cgroup_id = bpf_get_current_cgroup_id();
	t->start_ns = task_start_ns(task);
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
 * Whether the current syscall moves bytes between two fds inside the kernel (sendfile,
 * splice): its socket side is sent before its exit counts the read side, so the lineage
 * of such a send waits for the exit (fileio.bpf.h, FOLLOW_TRANSFER_OUT). Known only
 * where the syscall's registers are readable; elsewhere such sends keep their lineage
 * at send time (a sendfile of a source that the process had not read before is then
 * not derived).
 */
static __always_inline int in_fd_transfer(void)
{
#if defined(__TARGET_ARCH_x86)
	long nr;

	if (args_from_enter)
		return 0;
	nr = syscall_regs()->orig_ax;
	return nr == 40 /* sendfile */ || nr == 275 /* splice */;
#else
	return 0;
#endif
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

		/* regs is BTF-typed: each register is a plain load, no helper call. */
		s->a[0] = PT_REGS_PARM1_SYSCALL(regs);
		if (n > 1)
			s->a[1] = PT_REGS_PARM2_SYSCALL(regs);
		if (n > 2)
			s->a[2] = PT_REGS_PARM3_SYSCALL(regs);
		if (n > 3)
			s->a[3] = PT_REGS_PARM4_SYSCALL(regs);
		if (n > 4)
			s->a[4] = PT_REGS_PARM5_SYSCALL(regs);
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
