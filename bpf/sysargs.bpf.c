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

static __always_inline int save_args(struct trace_event_raw_sys_enter *ctx)
{
	/* Written out: the verifier refuses ctx reads through a computed pointer. */
	struct xm_sys_args a = {
		.a = { ctx->args[0], ctx->args[1], ctx->args[2], ctx->args[3], ctx->args[4] },
	};
	__u64 id = bpf_get_current_pid_tgid();

	bpf_map_update_elem(&sysargs, &id, &a, BPF_ANY);
	return 0;
}

#define SAVE_ARGS(name)								\
	SEC("tracepoint/syscalls/sys_enter_" #name)				\
	int on_sys_enter_##name(struct trace_event_raw_sys_enter *ctx)		\
	{									\
		return save_args(ctx);						\
	}

SAVE_ARGS(read)
SAVE_ARGS(readv)
SAVE_ARGS(pread64)
SAVE_ARGS(preadv)
SAVE_ARGS(preadv2)
SAVE_ARGS(write)
SAVE_ARGS(writev)
SAVE_ARGS(pwrite64)
SAVE_ARGS(pwritev)
SAVE_ARGS(pwritev2)
SAVE_ARGS(sendfile64)
SAVE_ARGS(splice)
SAVE_ARGS(copy_file_range)
SAVE_ARGS(mmap)
SAVE_ARGS(connect)
SAVE_ARGS(sendto)
SAVE_ARGS(recvfrom)
SAVE_ARGS(sendmsg)
SAVE_ARGS(recvmsg)
