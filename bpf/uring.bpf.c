// SPDX-License-Identifier: GPL-2.0-only
/*
 * io_uring reads never pass through the read syscalls. io_uring:io_uring_file_get fires
 * when a request resolves its fd, in a task of the submitting process, so the watched
 * check and the record happen there; the request is remembered and its completion
 * (io_uring:io_uring_complete) adds the bytes. The completion changed signature in 6.4,
 * so there is one program per form; the loader keeps the one the kernel's BTF matches
 * and turns all off on kernels older than the io_kiocb-based file_get (5.19).
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "abi.h"
#include "flow.bpf.h"
#include "vfs.bpf.h"

#define XM_IORING_OP_READV 1
#define XM_IORING_OP_READ_FIXED 4
#define XM_IORING_OP_READ 22
#define XM_IORING_OP_READ_MULTISHOT 49

/* A watched read in flight: what its completion should be counted against. */
struct uring_pending {
	struct xm_flow_key key;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, __u64);
	__type(value, struct uring_pending);
} uring_reqs SEC(".maps");

static __always_inline bool is_read_op(__u8 op)
{
	return op == XM_IORING_OP_READV || op == XM_IORING_OP_READ_FIXED ||
	       op == XM_IORING_OP_READ || op == XM_IORING_OP_READ_MULTISHOT;
}

static __always_inline void uring_record(struct xm_watch_key *wk, __u8 op)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct xm_uring *r;

	r = record_reserve(sizeof(*r), XM_REC_URING, XM_DROP_RING_URING, task_session(task));
	if (!r)
		return;
	task_fill(&r->task, task);
	r->ino = wk->ino;
	r->dev = wk->dev;
	r->opcode = op;
	bpf_ringbuf_submit(r, 0);
}

SEC("tp_btf/io_uring_file_get")
int BPF_PROG(on_io_uring_file_get, struct io_kiocb *req, int fd)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct uring_pending p = {};
	struct xm_watch_key wk;
	struct xm_watch_val *v;
	__u64 id = (__u64)req;
	struct file *f;
	__u8 op = BPF_CORE_READ(req, opcode);

	if (!is_read_op(op))
		return 0;
	f = fd_file(fd);
	if (!f)
		return 0;
	inode_key(file_inode_of(f), &wk);
	v = bpf_map_lookup_elem(&watch, &wk);
	if (!v || !(v->flags & XM_W_SOURCE))
		return 0;
	p.key.ino = wk.ino;
	p.key.dev = wk.dev;
	p.key.kind = XM_FLOW_URING_READ;
	p.key.pid = bpf_get_current_pid_tgid() >> 32;
	p.key.session = task_session(task);
	/* One record per process and file, like an open; the bytes go to the flow. */
	if (!bpf_map_lookup_elem(&flows, &p.key))
		uring_record(&wk, op);
	bpf_map_update_elem(&uring_reqs, &id, &p, BPF_ANY);
	return 0;
}

static __always_inline void uring_done(void *req, __s32 res)
{
	__u64 id = (__u64)req;
	struct uring_pending *p = bpf_map_lookup_elem(&uring_reqs, &id);

	if (!p)
		return;
	if (res > 0)
		flow_add_as(&p->key, res);
	bpf_map_delete_elem(&uring_reqs, &id);
}

/* 6.4+: the completion carries the CQE. */
SEC("tp_btf/io_uring_complete")
int BPF_PROG(on_io_uring_complete, struct io_ring_ctx *ring, void *req, struct io_uring_cqe *cqe)
{
	uring_done(req, BPF_CORE_READ(cqe, res));
	return 0;
}

/* 5.19-6.3 (Debian 12's 6.1): the result is an argument of its own. */
SEC("tp_btf/io_uring_complete")
int BPF_PROG(on_io_uring_complete_res, void *ring, void *req, u64 user_data, int res,
	     unsigned int cflags, u64 extra1, u64 extra2)
{
	uring_done(req, res);
	return 0;
}
