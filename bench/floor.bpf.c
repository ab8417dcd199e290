// SPDX-License-Identifier: GPL-2.0-only
/*
 * The floor: the cheapest tracer possible on the hooks exfilmon uses. Every program does
 * one per-CPU array update and returns, so the difference between the floor's added cost
 * and exfilmon's is what exfilmon's own logic costs; the rest is the kernel's dispatch.
 * The hook list mirrors bpf/file.bpf.c, bpf/sock.bpf.c, bpf/proc.bpf.c and bpf/uring.bpf.c.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} hits SEC(".maps");

static __always_inline int bump(void)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&hits, &zero);

	if (n)
		*n += 1;
	return 0;
}

#define SYS_EXIT(name)								\
	SEC("tracepoint/syscalls/sys_exit_" #name)				\
	int floor_exit_##name(void *ctx)					\
	{									\
		return bump();							\
	}

SYS_EXIT(read)
SYS_EXIT(readv)
SYS_EXIT(pread64)
SYS_EXIT(preadv)
SYS_EXIT(preadv2)
SYS_EXIT(write)
SYS_EXIT(writev)
SYS_EXIT(pwrite64)
SYS_EXIT(pwritev)
SYS_EXIT(pwritev2)
SYS_EXIT(sendfile64)
SYS_EXIT(splice)
SYS_EXIT(copy_file_range)
SYS_EXIT(openat)
SYS_EXIT(open)
SYS_EXIT(openat2)
SYS_EXIT(creat)
SYS_EXIT(mmap)
SYS_EXIT(connect)
SYS_EXIT(accept)
SYS_EXIT(accept4)
SYS_EXIT(sendto)
SYS_EXIT(recvfrom)
/* Only where the kernel lacks the sock length tracepoints, as in exfilmon. */
SYS_EXIT(sendmsg)
SYS_EXIT(recvmsg)

SEC("tp_btf/sock_send_length")
int BPF_PROG(floor_sock_send_length)
{
	return bump();
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(floor_sock_recv_length)
{
	return bump();
}

SEC("tp/sched/sched_process_exec")
int floor_sched_process_exec(void *ctx)
{
	return bump();
}

SEC("tp/sched/sched_process_fork")
int floor_sched_process_fork(void *ctx)
{
	return bump();
}

SEC("tp/sched/sched_process_exit")
int floor_sched_process_exit(void *ctx)
{
	return bump();
}

SEC("tp_btf/io_uring_file_get")
int BPF_PROG(floor_io_uring_file_get)
{
	return bump();
}

SEC("tp_btf/io_uring_complete")
int BPF_PROG(floor_io_uring_complete)
{
	return bump();
}

char LICENSE[] SEC("license") = "GPL";
