// SPDX-License-Identifier: GPL-2.0-only
/*
 * io_uring reads never pass through the read syscalls. io_uring:io_uring_file_get fires
 * when a request resolves its fd, in a task of the submitting process, so the watched
 * check and the record happen there; the request is remembered and its completion
 * (io_uring:io_uring_complete) adds the bytes. The completion changed signature in 6.4,
 * so there is one program per form; the loader keeps the one the kernel's BTF matches.
 * Before 5.19 (Debian 11's 5.10, Ubuntu's 5.15) the tracepoints carry no request, so
 * the legacy programs at the end pair them up another way.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "abi.h"
#include "evasion.bpf.h"
#include "fileio.bpf.h"

#define XM_IORING_OP_READV 1
#define XM_IORING_OP_READ_FIXED 4
#define XM_IORING_OP_READ 22
#define XM_IORING_OP_READ_MULTISHOT 49
#define XM_IORING_OP_RENAMEAT 35
#define XM_IORING_OP_UNLINKAT 36
#define XM_IORING_OP_WRITEV 2
#define XM_IORING_OP_WRITE_FIXED 5
#define XM_IORING_OP_WRITE 23
#define XM_IORING_OP_READV_FIXED 60
#define XM_IORING_OP_WRITEV_FIXED 61
#define XM_IORING_OP_SENDMSG 9
#define XM_IORING_OP_RECVMSG 10
#define XM_IORING_OP_SEND 26
#define XM_IORING_OP_RECV 27
#define XM_IORING_OP_SEND_ZC 47
#define XM_IORING_OP_SENDMSG_ZC 48
/* REQ_F_FIXED_FILE: bit 0 of io_kiocb.flags, mirroring IOSQE_FIXED_FILE_BIT (uapi). */
#define XM_REQ_F_FIXED_FILE 1

/* Renames and unlinks run in io-wq workers, past every syscall tracepoint: their
 * completions move the directory verdicts' generation (vfs.bpf.h) as the syscalls do. */
static __always_inline bool is_dir_change_op(__u8 op)
{
	return op == XM_IORING_OP_RENAMEAT || op == XM_IORING_OP_UNLINKAT;
}

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
	       op == XM_IORING_OP_READ || op == XM_IORING_OP_READ_MULTISHOT ||
	       op == XM_IORING_OP_READV_FIXED;
}

static __always_inline bool is_write_op(__u8 op)
{
	return op == XM_IORING_OP_WRITEV || op == XM_IORING_OP_WRITE_FIXED ||
	       op == XM_IORING_OP_WRITE || op == XM_IORING_OP_WRITEV_FIXED;
}

static __always_inline void uring_record(struct xm_watch_key *wk, __u8 op)
{
	struct task_struct *task = current_task();
	struct xm_uring *r;

	r = record_reserve(sizeof(*r), XM_REC_URING, XM_DROP_RING_URING, task_session(task));
	if (!r)
		return;
	task_fill(&r->task, task);
	r->ino = wk->ino;
	r->dev = wk->dev;
	r->opcode = op;
	record_submit(r);
}

SEC("tp_btf/io_uring_file_get")
int BPF_PROG(on_io_uring_file_get, struct io_kiocb *req, int fd)
{
	struct task_struct *task = current_task();
	struct uring_pending p = {};
	struct xm_watch_key wk;
	__u64 id = (__u64)req;
	__u8 op = BPF_CORE_READ(req, opcode);

	if (!is_read_op(op) || !fd_watched_source(fd, &wk))
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

static __always_inline bool is_send_op(__u8 op)
{
	return op == XM_IORING_OP_SENDMSG || op == XM_IORING_OP_SEND ||
	       op == XM_IORING_OP_SEND_ZC || op == XM_IORING_OP_SENDMSG_ZC;
}

static __always_inline bool is_recv_op(__u8 op)
{
	return op == XM_IORING_OP_RECVMSG || op == XM_IORING_OP_RECV;
}

/*
 * A read through a registered (fixed) file never resolves an fd, so io_uring_file_get does
 * not fire for it, whether the file was registered with io_uring_register or opened into a
 * fixed slot by OPENAT/OPENAT2. The request still holds the file at its completion (the
 * file table's resource node is pinned until the request is freed): the file is checked
 * there, with the bytes the completion reports.
 */
static __always_inline void uring_fixed_read(struct io_kiocb *req, __s32 res)
{
	struct task_struct *task = current_task();
	struct xm_flow_key key = {};
	struct xm_watch_key wk;
	struct xm_watch_val *v;
	struct file *f = BPF_CORE_READ(req, file);

	if (!f)
		return;
	inode_id(file_inode_of(f, PTR_UNTYPED), &wk, PTR_UNTYPED);
	v = bpf_map_lookup_elem(&watch, &wk);
	if (!v || !(v->flags & XM_W_SOURCE))
		return;
	key.ino = wk.ino;
	key.dev = wk.dev;
	key.kind = XM_FLOW_URING_READ;
	key.pid = bpf_get_current_pid_tgid() >> 32;
	key.session = task_session(task);
	if (!bpf_map_lookup_elem(&flows, &key))
		uring_record(&wk, BPF_CORE_READ(req, opcode));
	flow_add_as(&key, res, FLOW_COLLECTS);
}

/* Reads and writes that io_uring_file_get cannot have counted. req is read with
 * BPF_CORE_READ: the compiler hands it on as the integer it was also used as (the map
 * key), which the verifier no longer trusts as a BTF pointer. */
static __always_inline void uring_done_other(struct io_kiocb *req, __s32 res)
{
	__u8 op = BPF_CORE_READ(req, opcode);

	if (res <= 0)
		return;
	/* Writes never pass file_get's accounting: sinks and staging are counted here. So
	 * are socket sends and receives where the sock length tracepoints are missing
	 * (before 6.3): file_io_as counts sockets only then (sock_via_syscalls), since
	 * those tracepoints see io_uring's socket I/O themselves. */
	if (is_write_op(op) || is_send_op(op))
		file_io_as(BPF_CORE_READ(req, file), res, IO_WRITE, PTR_UNTYPED, FOLLOW_COUNTS);
	else if (is_recv_op(op))
		file_io_as(BPF_CORE_READ(req, file), res, IO_READ, PTR_UNTYPED, FOLLOW_COUNTS);
	else if (is_read_op(op) && (BPF_CORE_READ(req, flags) & XM_REQ_F_FIXED_FILE))
		uring_fixed_read(req, res);
}

static __always_inline void uring_done(struct io_kiocb *req, __s32 res)
{
	__u64 id = (__u64)req;
	struct uring_pending *p = bpf_map_lookup_elem(&uring_reqs, &id);

	if (res == 0 && is_dir_change_op(BPF_CORE_READ(req, opcode)))
		dir_gen_bump();
	if (!p) {
		uring_done_other(req, res);
		return;
	}
	if (res > 0)
		flow_add_as(&p->key, res, FLOW_COLLECTS);
	bpf_map_delete_elem(&uring_reqs, &id);
}

/* 6.4+: the completion carries the CQE. */
SEC("tp_btf/io_uring_complete")
int BPF_PROG(on_io_uring_complete, struct io_ring_ctx *ring, struct io_kiocb *req,
	     struct io_uring_cqe *cqe)
{
	uring_done(req, BPF_CORE_READ(cqe, res));
	return 0;
}

/* 5.19-6.3 (Debian 12's 6.1): the result is an argument of its own. */
SEC("tp_btf/io_uring_complete")
int BPF_PROG(on_io_uring_complete_res, void *ring, struct io_kiocb *req, u64 user_data, int res,
	     unsigned int cflags, u64 extra1, u64 extra2)
{
	uring_done(req, res);
	return 0;
}

/*
 * Before 5.19: file_get(ring, fd) runs in the submitting thread just before
 * submit_sqe(ring, opcode, user_data) of the same request, so a watched file's verdict
 * waits per thread for that submit; the completion is found by (ring, user_data).
 * Classic tracepoints with CO-RE field names, because the argument lists differ from
 * release to release while the field names stayed.
 */
struct uring_legacy_key {
	__u64 ring;
	__u64 user_data;
};

/* A watched read waiting for completions. Requests that reuse its user_data while it is
 * in flight are counted too (inflight), so reuse can only add bytes to the watched file,
 * never hide them. */
struct uring_legacy_val {
	struct xm_flow_key key;
	__u32 inflight;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);
	__type(key, struct uring_legacy_key);
	__type(value, struct uring_legacy_val);
} uring_legacy_reqs SEC(".maps");

/* Renames and unlinks in flight, awaiting their completion (is_dir_change_op). */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, struct uring_legacy_key);
	__type(value, __u8);
} uring_legacy_dirops SEC(".maps");

/* A file resolved by this thread, awaiting its submit: a watched one has its identity. */
struct uring_legacy_file {
	__u64 ring;
	struct xm_watch_key wk;
	__u32 watched;
	__u32 _pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct uring_legacy_file);
} uring_legacy_files SEC(".maps");

/* Not in a 5.19+ vmlinux.h: the submit tracepoint was renamed submit_req. */
struct trace_event_raw_io_uring_submit_sqe {
	struct trace_entry ent;
	void *ctx;
	u8 opcode;
	u64 user_data;
} __attribute__((preserve_access_index));

/* Sessions already reported for a request the legacy tracepoints cannot count. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);
	__type(value, __u8);
} uring_unseen_sessions SEC(".maps");

/*
 * Before 5.19 a request through a registered (fixed) file resolves no fd (no file_get
 * before its submit), and a write's or a send's target is named by no tracepoint: those
 * bytes cannot be counted. Suspicion, not silence: a session's first such request is an
 * evasion record (a sensor_integrity alert); later ones cost a map lookup.
 */
static __always_inline void uring_legacy_unseen(__u8 op, bool got_file)
{
	__u32 session = task_session(current_task());
	struct xm_evasion *r;
	__u8 one = 1;

	if (!(is_read_op(op) && !got_file) && !is_write_op(op) && !is_send_op(op))
		return;
	if (session == AUDIT_ID_UNSET ||
	    bpf_map_update_elem(&uring_unseen_sessions, &session, &one, BPF_NOEXIST))
		return;
	r = evasion_reserve(XM_EV_URING_UNSEEN);
	if (!r)
		return;
	if (is_write_op(op)) {
		__builtin_memcpy(r->detail, "write", 5);
		r->detail_len = 5;
	} else if (is_send_op(op)) {
		__builtin_memcpy(r->detail, "send", 4);
		r->detail_len = 4;
	} else {
		__builtin_memcpy(r->detail, "fixed-file read", 15);
		r->detail_len = 15;
	}
	record_submit(r);
}

SEC("tracepoint/io_uring/io_uring_file_get")
int on_io_uring_file_get_legacy(struct trace_event_raw_io_uring_file_get *ctx)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct uring_legacy_file lf = { .ring = (__u64)ctx->ctx };

	/* Kept for unwatched files too: the submit learns that its request named an fd. */
	lf.watched = fd_watched_source(ctx->fd, &lf.wk) != NULL;
	bpf_map_update_elem(&uring_legacy_files, &tid, &lf, BPF_ANY);
	return 0;
}

SEC("tracepoint/io_uring/io_uring_submit_sqe")
int on_io_uring_submit_sqe_legacy(struct trace_event_raw_io_uring_submit_sqe *ctx)
{
	struct task_struct *task = current_task();
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	struct uring_legacy_key k = { .ring = (__u64)ctx->ctx, .user_data = ctx->user_data };
	struct uring_legacy_val val = {}, *old = bpf_map_lookup_elem(&uring_legacy_reqs, &k);
	struct uring_legacy_file *lf = bpf_map_lookup_elem(&uring_legacy_files, &tid);
	__u8 op = ctx->opcode;
	bool got_file = lf && lf->ring == k.ring;
	bool watched_read = got_file && lf->watched && is_read_op(op);
	struct xm_watch_key wk = {};

	if (is_dir_change_op(op))
		bpf_map_update_elem(&uring_legacy_dirops, &k, &op, BPF_ANY);
	uring_legacy_unseen(op, got_file);
	/* The file belongs to this submit only; a later fixed-file request has none. */
	if (lf) {
		wk = lf->wk;
		bpf_map_delete_elem(&uring_legacy_files, &tid);
	}
	if (watched_read) {
		val.key.ino = wk.ino;
		val.key.dev = wk.dev;
		val.key.kind = XM_FLOW_URING_READ;
		val.key.pid = bpf_get_current_pid_tgid() >> 32;
		val.key.session = task_session(task);
		if (!bpf_map_lookup_elem(&flows, &val.key))
			uring_record(&wk, op);
	}
	if (old) {
		__sync_fetch_and_add(&old->inflight, 1);
		return 0;
	}
	if (!watched_read)
		return 0;
	val.inflight = 1;
	bpf_map_update_elem(&uring_legacy_reqs, &k, &val, BPF_ANY);
	return 0;
}

SEC("tracepoint/io_uring/io_uring_complete")
int on_io_uring_complete_legacy(struct trace_event_raw_io_uring_complete *ctx)
{
	struct uring_legacy_key k = { .ring = (__u64)ctx->ctx, .user_data = ctx->user_data };
	struct uring_legacy_val *p = bpf_map_lookup_elem(&uring_legacy_reqs, &k);
	/* res is a long on 5.10 and an int later: read at the kernel's own size. */
	long res = BPF_CORE_READ_BITFIELD_PROBED(ctx, res);

	if (bpf_map_lookup_elem(&uring_legacy_dirops, &k)) {
		dir_gen_bump();
		bpf_map_delete_elem(&uring_legacy_dirops, &k);
	}
	if (!p)
		return 0;
	if (res > 0)
		flow_add_as(&p->key, res, FLOW_COLLECTS);
	/* Atomics that return a value need 5.12; a lost race here only keeps an entry
	 * until the LRU or the next completion of that user_data takes it. */
	if (p->inflight <= 1)
		bpf_map_delete_elem(&uring_legacy_reqs, &k);
	else
		__sync_fetch_and_add(&p->inflight, -1);
	return 0;
}
