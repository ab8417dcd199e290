// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fallback for kernels without bpf_task_pt_regs (before 5.15): one entry program per
 * syscall whose exit program needs arguments saves them in sysargs, keyed by thread.
 * Off (autoload) wherever the exit programs can read the saved registers themselves,
 * which saves a second dispatch and a map round trip on every traced call.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#include "maps.bpf.h"

/*
 * Each syscall's tracepoint record holds only that syscall's arguments, and the kernel
 * refuses to attach a program that reads past the record (EACCES): so each entry
 * program reads exactly as many arguments as its syscall has, up to the five kept.
 */
static __always_inline int save_args(struct trace_event_raw_sys_enter *ctx, int n)
{
	struct xm_sys_args a = {};
	__u64 id = bpf_get_current_pid_tgid();

	a.a[0] = ctx->args[0];
	a.a[1] = ctx->args[1];
	a.a[2] = ctx->args[2];
	if (n > 3)
		a.a[3] = ctx->args[3];
	if (n > 4)
		a.a[4] = ctx->args[4];
	bpf_map_update_elem(&sysargs, &id, &a, BPF_ANY);
	return 0;
}

#define SAVE_ARGS(name, n)							\
	SEC("tracepoint/syscalls/sys_enter_" #name)				\
	int on_sys_enter_##name(struct trace_event_raw_sys_enter *ctx)		\
	{									\
		return save_args(ctx, n);					\
	}

SAVE_ARGS(read, 3)
SAVE_ARGS(readv, 3)
SAVE_ARGS(pread64, 4)
SAVE_ARGS(preadv, 5)
SAVE_ARGS(preadv2, 5)
SAVE_ARGS(write, 3)
SAVE_ARGS(writev, 3)
SAVE_ARGS(pwrite64, 4)
SAVE_ARGS(pwritev, 5)
SAVE_ARGS(pwritev2, 5)
SAVE_ARGS(sendfile64, 4)
SAVE_ARGS(splice, 5)
SAVE_ARGS(copy_file_range, 5)
SAVE_ARGS(mmap, 5)
SAVE_ARGS(connect, 3)
SAVE_ARGS(sendto, 5)
SAVE_ARGS(recvfrom, 5)
SAVE_ARGS(sendmsg, 3)
SAVE_ARGS(recvmsg, 3)
SAVE_ARGS(io_submit, 3)
SAVE_ARGS(mount, 5)
SAVE_ARGS(fsconfig, 5)
