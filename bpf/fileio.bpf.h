/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Accounting of bytes moved through a struct file, shared by the syscall tracepoints
 * (file.bpf.c, which find the file from the fd) and the fexit fast path (fast.bpf.c,
 * which get it as an argument): watched sources, sinks, staging, and sockets when the
 * kernel lacks the sock length tracepoints.
 */
#ifndef EXFILMON_FILEIO_BPF_H
#define EXFILMON_FILEIO_BPF_H

#include "flow.bpf.h"
#include "sockclass.bpf.h"
#include "vfs.bpf.h"

#define XM_FMODE_WRITE 0x2

static __always_inline int file_flow_add(struct xm_watch_key *wk, __u8 kind, __u64 bytes,
					 enum flow_opts opts)
{
	struct xm_flow_key key = { .ino = wk->ino, .dev = wk->dev, .kind = kind };

	return flow_add(&key, bytes, opts);
}

/* The record of an open of a watched (or staged-to) file: who, which inode, and the
 * path of the dentry it was opened by, built in the kernel. */
static __always_inline void open_record(struct dentry *d, __u32 open_flags,
					struct xm_watch_key *wk, struct xm_watch_val *v)
{
	struct task_struct *task = current_task();
	__u32 session = task_session(task), zero = 0;
	struct xm_scratch *s = bpf_map_lookup_elem(&scratch, &zero);
	struct xm_open *r;
	__u32 len;

	if (!s)
		return;
	len = dentry_path_rev(d, s->buf);
	r = record_reserve(sizeof(*r), XM_REC_OPEN, XM_DROP_RING_OPEN, session);
	if (!r)
		return;
	task_fill(&r->task, task);
	r->ino = wk->ino;
	r->dev = wk->dev;
	r->flags = v->flags;
	r->open_flags = open_flags;
	r->path_len = len;
	r->_pad = 0;
	bpf_probe_read_kernel(r->path, sizeof(r->path), s->buf);
	record_submit(r);
}


/* Ordinary files written by a process that has collected: staging. The file is not
 * watched, so its name travels in an open record the first time it is staged to. */
static __always_inline void staging_account(struct file *f, __u16 mode,
					    struct xm_watch_key *wk, __u64 bytes)
{
	struct xm_watch_val none = {};
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	struct xm_staged *st;

	if (mode != XM_S_IFREG || !bpf_map_lookup_elem(&collectors, &pid))
		return;
	if (file_flow_add(wk, XM_FLOW_STAGING, bytes, FLOW_PLAIN))
		open_record(BPF_CORE_READ(f, f_path.dentry), BPF_CORE_READ(f, f_flags), wk, &none);
	st = bpf_map_lookup_elem(&staged, wk);
	if (!st) {
		struct xm_staged init = { .pid = pid, .session = task_session(current_task()) };

		bpf_map_update_elem(&staged, wk, &init, BPF_NOEXIST);
		st = bpf_map_lookup_elem(&staged, wk);
		if (!st)
			return;
	}
	__sync_fetch_and_add(&st->bytes, bytes);
}

/*
 * A staged file turning up in a sync folder (mv or ln: the inode moved, no byte was
 * written there) is found when it is opened there, by the sync client or anyone: its
 * staged bytes count as written to the folder, by the collector that staged them.
 */
static __always_inline void staged_arrival(struct xm_watch_key *wk)
{
	struct xm_staged *st = bpf_map_lookup_elem(&staged, wk);
	struct xm_flow_key key = { .ino = wk->ino, .dev = wk->dev, .kind = XM_FLOW_SINK_WRITE };
	__u64 bytes;

	if (!st)
		return;
	bytes = st->bytes;
	key.pid = st->pid;
	key.session = st->session;
	bpf_map_delete_elem(&staged, wk);
	if (bytes)
		flow_add_as(&key, bytes, FLOW_PLAIN);
}

/* A process whose watched file could not be remembered (map full, file.bpf.c): its
 * unwatched regular files count as the class it lost. Returns 1 when counted. */
static __always_inline int suspect_account(struct xm_watch_key *wk, __u64 bytes,
					   enum io_dir dir)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	__u32 *flags = bpf_map_lookup_elem(&suspects, &pid);

	if (!flags)
		return 0;
	if (dir == IO_READ && (*flags & XM_W_SOURCE)) {
		file_flow_add(wk, XM_FLOW_FILE_READ, bytes, FLOW_COLLECTS);
		return 1;
	}
	if (dir == IO_WRITE && (*flags & XM_W_SINK)) {
		file_flow_add(wk, XM_FLOW_SINK_WRITE, bytes, FLOW_PLAIN);
		return 1;
	}
	return 0;
}

/* Derived egress into a sink file (lineage.bpf.h): named by its inode, as the sink flow. */
static __always_inline void sink_lineage_egress(struct file *f, struct xm_watch_key *wk,
						__u64 bytes)
{
	struct lineage_obj o = { .key = *wk, .file = f, .kind = XM_LO_FILE };

	lineage_egress(&o, bytes);
}

/*
 * The one body behind every read/write accounting hook, tracepoint or fexit. btf is
 * PTR_BTF where f is a BTF-typed argument (fexit), PTR_UNTYPED where it came out of the
 * fd table (vfs.bpf.h). The cheapest
 * rejections come first: an unwatched file leaves after the identity reads and one
 * lookup.
 */
static __always_inline void file_io_as(struct file *f, long ret, enum io_dir dir,
				       enum ptr_kind btf, enum io_follow follow)
{
	struct xm_watch_key wk;
	struct xm_watch_val *v;
	__u16 mode;

	if (ret < 0 || !f || (!ret && (dir == IO_WRITE || !stream_labels_any)))
		return;
	mode = inode_id(file_inode_of(f, btf), &wk, btf);
	if (mode == XM_S_IFSOCK) {
		if (sock_via_syscalls)
			sock_account_as(file_sock(f), ret, dir, follow);
		else if (follow == FOLLOW_TRANSFER_OUT && in_fd_transfer())
			sock_account_as(file_sock(f), ret, dir, FOLLOW_LINEAGE_ONLY);
		return;
	}
	if (!ret) {
		if (follow != FOLLOW_COUNTS)
			lineage_eof(f, mode, &wk);
		return;
	}
	v = bpf_map_lookup_elem(&watch, &wk);
	if (!v && dir == IO_WRITE)
		v = bpf_map_lookup_elem(&sinks, &wk);
	if (!v) {
		if (suspects_any && mode == XM_S_IFREG && suspect_account(&wk, ret, dir))
			return;
		if (dir == IO_WRITE)
			staging_account(f, mode, &wk, ret);
		if (follow != FOLLOW_COUNTS)
			lineage_file_io(f, mode, &wk, ret, dir == IO_WRITE);
		return;
	}
	if (dir == IO_READ && (v->flags & XM_W_SOURCE)) {
		file_flow_add(&wk, XM_FLOW_FILE_READ, ret, FLOW_COLLECTS);
		if (follow != FOLLOW_COUNTS)
			lineage_source(ret);
	} else if (dir == IO_WRITE && (v->flags & XM_W_SINK)) {
		file_flow_add(&wk, XM_FLOW_SINK_WRITE, ret, FLOW_PLAIN);
		if (follow != FOLLOW_COUNTS)
			sink_lineage_egress(f, &wk, ret);
	}
}

static __always_inline void file_io(struct file *f, long ret, enum io_dir dir,
				    enum ptr_kind btf)
{
	file_io_as(f, ret, dir, btf, FOLLOW_LINEAGE);
}

static __always_inline void fd_io(int fd, long ret, enum io_dir dir)
{
	if (ret > 0 || (!ret && dir == IO_READ && stream_labels_any))
		file_io(fd_file(fd), ret, dir, PTR_UNTYPED);
}

/* The output side of an in-kernel transfer (sendfile, splice, copy_file_range), seen
 * after its input side. */
static __always_inline void fd_io_transfer_out(int fd, long ret)
{
	if (ret > 0)
		file_io_as(fd_file(fd), ret, IO_WRITE, PTR_UNTYPED, FOLLOW_TRANSFER_OUT);
}

/*
 * Counts only, no lineage: Linux AIO is counted at submission with the requested
 * length, too loose to move labels with, and its program handles several iocbs, where
 * the lineage code inlined once per iocb would not fit the 512-byte stack.
 */
static __always_inline void fd_io_counts(int fd, long ret, enum io_dir dir)
{
	if (ret > 0)
		file_io_as(fd_file(fd), ret, dir, PTR_UNTYPED, FOLLOW_COUNTS);
}

#endif
