// SPDX-License-Identifier: GPL-2.0-only
/*
 * File sensors: opens decide whether a file is watched (inode already known, or below a
 * watched tree root, or on a sink filesystem), and the read/write family counts bytes on
 * watched inodes. One exit program per syscall: the fd comes from the saved user
 * registers, the byte count from the return value. An unwatched file costs the fd-table
 * walk and one hash lookup. Sockets reached through read/write are handed to the socket
 * accounting only when the kernel lacks the sock length tracepoints.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "abi.h"
#include "evasion.bpf.h"
#include "fileio.bpf.h"

static __always_inline int io_exit(long ret, enum io_dir dir)
{
	struct xm_sys_args args;

	/* Nothing moved: leave before any read (the saved arguments, where they are kept
	 * in sysargs, must still be consumed). End of file on a read goes on once a stream
	 * carries a label: lineage takes what is left of that label there. */
	if ((ret < 0 || (!ret && (dir == IO_WRITE || !stream_labels_any))) && !args_from_enter)
		return 0;
	if (sys_args_get(&args, 1))
		return 0;
	fd_io((int)args.a[0], ret, dir);
	return 0;
}

#define IO_EXIT(name, dir)							\
	SEC("tracepoint/syscalls/sys_exit_" #name)				\
	int on_sys_exit_##name(struct trace_event_raw_sys_exit *ctx)		\
	{									\
		return io_exit(ctx->ret, dir);				\
	}

IO_EXIT(read, IO_READ)
IO_EXIT(readv, IO_READ)
IO_EXIT(pread64, IO_READ)
IO_EXIT(preadv, IO_READ)
IO_EXIT(preadv2, IO_READ)
IO_EXIT(write, IO_WRITE)
IO_EXIT(writev, IO_WRITE)
IO_EXIT(pwrite64, IO_WRITE)
IO_EXIT(pwritev, IO_WRITE)
IO_EXIT(pwritev2, IO_WRITE)

/*
 * Calls that move bytes from one fd to another in the kernel: the input side is a read,
 * the output side a write. sendfile(out, in, ...) puts the output first; splice and
 * copy_file_range (in, off, out, ...) put it third.
 */
static __always_inline int transfer_exit(long ret, int in_fd, int out_fd)
{
	fd_io(in_fd, ret, IO_READ);
	fd_io_transfer_out(out_fd, ret);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_sendfile64")
int on_sys_exit_sendfile64(struct trace_event_raw_sys_exit *ctx)
{
	struct xm_sys_args args;

	if (sys_args_get(&args, 2))
		return 0;
	return transfer_exit(ctx->ret, args.a[1], args.a[0]);
}

SEC("tracepoint/syscalls/sys_exit_splice")
int on_sys_exit_splice(struct trace_event_raw_sys_exit *ctx)
{
	struct xm_sys_args args;

	if (sys_args_get(&args, 3))
		return 0;
	return transfer_exit(ctx->ret, args.a[0], args.a[2]);
}

SEC("tracepoint/syscalls/sys_exit_copy_file_range")
int on_sys_exit_copy_file_range(struct trace_event_raw_sys_exit *ctx)
{
	struct xm_sys_args args;

	if (sys_args_get(&args, 3))
		return 0;
	return transfer_exit(ctx->ret, args.a[0], args.a[2]);
}

/*
 * A new watched file could not be remembered (its map is full). Degrade towards
 * suspicion: the opener's reads (a source) or writes (a sink) of unwatched regular files
 * now count as that class, and the session is named in fills for the alert.
 */
static __always_inline void watch_refused(__u32 flags, __u32 map, __u32 drop)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	__u32 *cur = bpf_map_lookup_elem(&suspects, &pid);

	drop_count(drop);
	fill_note(task_session(current_task()), map, 1);
	if (cur)
		*cur |= flags & (XM_W_SOURCE | XM_W_SINK);	/* racy by design: only grows */
	else
		bpf_map_update_elem(&suspects, &pid, &flags, BPF_NOEXIST);
	suspects_any = 1;
}

/* Remembers a file found at open time in the map of its class (sources in watch, sink
 * files in sinks, so neither can crowd out the other). Returns its entry or NULL. */
static __always_inline struct xm_watch_val *watch_learn(struct xm_watch_key *wk,
							 struct xm_watch_val *nv)
{
	__u32 session = task_session(current_task());

	if (nv->flags & XM_W_SOURCE) {
		if (bpf_map_update_elem(&watch, wk, nv, BPF_NOEXIST) == 0)
			fill_note(session, XM_FILL_WATCH, 0);
		else if (!bpf_map_lookup_elem(&watch, wk))
			watch_refused(nv->flags, XM_FILL_WATCH, XM_DROP_WATCH_FULL);
		return bpf_map_lookup_elem(&watch, wk);
	}
	if (bpf_map_update_elem(&sinks, wk, nv, BPF_NOEXIST) == 0)
		fill_note(session, XM_FILL_SINKS, 0);
	else if (!bpf_map_lookup_elem(&sinks, wk))
		watch_refused(nv->flags, XM_FILL_SINKS, XM_DROP_SINK_FULL);
	return bpf_map_lookup_elem(&sinks, wk);
}

/* Learns whether a newly opened file is watched; returns its entry or NULL. */
static __always_inline struct xm_watch_val *open_classify(struct file_head *fh, __u16 mode,
							  struct xm_watch_key *wk)
{
	struct xm_watch_val *v = bpf_map_lookup_elem(&watch, wk);
	struct xm_watch_val nv = {}, root;
	struct xm_sinkdev_val *sd;

	if (v)
		return v->flags & XM_W_DIR ? NULL : v;
	if (mode != XM_S_IFREG)
		return NULL;
	v = bpf_map_lookup_elem(&sinks, wk);
	if (v)
		return v;
	if (ancestry_watch(fh->dentry, wk->dev, &root)) {
		nv.flags = root.flags & ~XM_W_DIR;
		nv.source_id = root.source_id;
	} else {
		sd = bpf_map_lookup_elem(&sinkdevs, &wk->dev);
		if (!sd || !(fh->mode & XM_FMODE_WRITE))
			return NULL;
		nv.flags = sd->flags;
	}
	if (nv.flags & XM_W_SINK)
		staged_arrival(wk);
	return watch_learn(wk, &nv);
}

/*
 * A character device was opened. Only a usbfs node matters: raw USB (adb, fastboot,
 * libusb) moves data with ioctls no sensor counts, so the open is reported as an evasion
 * naming the session. Opens outside any login session (udev, fwupd, cups) are not an
 * insider's and are left alone. Costs one read of i_rdev, and only char device opens
 * (a tty, /dev/null) pay it.
 */
static __always_inline void chrdev_open(struct inode *inode)
{
	__u32 rdev = BPF_CORE_READ(inode, i_rdev), minor = rdev & ((1U << 20) - 1);
	struct xm_evasion *r;

	if (rdev >> 20 != XM_USB_DEVICE_MAJOR ||
	    task_session(current_task()) == AUDIT_ID_UNSET)
		return;
	r = evasion_reserve(XM_EV_USBFS);
	if (!r)
		return;
	__builtin_memcpy(r->detail, "/dev/bus/usb/", 13);
	put3(&r->detail[13], minor / 128 + 1);
	r->detail[16] = '/';
	put3(&r->detail[17], minor % 128 + 1);
	r->detail_len = 20;
	record_submit(r);
}

static __always_inline int open_exit(long ret)
{
	struct xm_watch_key wk;
	struct xm_watch_val *v;
	struct file_head fh;
	struct file *f;
	__u16 mode;

	if (ret < 0)
		return 0;
	f = fd_file(ret);
	if (!f)
		return 0;
	file_head(f, &fh);
	mode = inode_id(fh.inode, &wk, PTR_UNTYPED);
	if (mode == XM_S_IFCHR) {
		chrdev_open(fh.inode);
		return 0;
	}
	v = open_classify(&fh, mode, &wk);
	if (v)
		open_record(fh.dentry, fh.flags, &wk, v);
	return 0;
}

#define OPEN_EXIT(name)								\
	SEC("tracepoint/syscalls/sys_exit_" #name)				\
	int on_sys_exit_##name(struct trace_event_raw_sys_exit *ctx)		\
	{									\
		return open_exit(ctx->ret);					\
	}

OPEN_EXIT(openat)
OPEN_EXIT(open)
OPEN_EXIT(openat2)
OPEN_EXIT(creat)

/*
 * Renames and directory removals can move a directory into or out of a watched tree, or
 * free its inode number for another directory elsewhere: either makes the cached
 * ancestry verdicts (vfs.bpf.h) stale, so each moves their generation. A file rename
 * does too (the exit cannot tell it from a directory's cheaply); it only costs the next
 * open in each directory one walk.
 */
static __always_inline int dir_change_exit(long ret)
{
	if (ret == 0)
		dir_gen_bump();
	return 0;
}

#define DIR_CHANGE_EXIT(name)							\
	SEC("tracepoint/syscalls/sys_exit_" #name)				\
	int on_sys_exit_##name(struct trace_event_raw_sys_exit *ctx)		\
	{									\
		return dir_change_exit(ctx->ret);				\
	}

DIR_CHANGE_EXIT(rename)
DIR_CHANGE_EXIT(renameat)
DIR_CHANGE_EXIT(renameat2)
DIR_CHANGE_EXIT(rmdir)

#define XM_AT_REMOVEDIR 0x200

/* unlinkat removes a directory only with AT_REMOVEDIR; file unlinks, frequent in builds,
 * keep the verdicts. Where the arguments are not at hand (before 5.15) every successful
 * unlinkat counts. */
SEC("tracepoint/syscalls/sys_exit_unlinkat")
int on_sys_exit_unlinkat(struct trace_event_raw_sys_exit *ctx)
{
	struct xm_sys_args args;

	if (ctx->ret)
		return 0;
	if (args_from_enter || sys_args_get(&args, 3) || (args.a[2] & XM_AT_REMOVEDIR))
		dir_gen_bump();
	return 0;
}

/* A mapping of a watched source: its pages can be read without any further syscall, so
 * the mapped length is what the record and the flow carry. */
SEC("tracepoint/syscalls/sys_exit_mmap")
int on_sys_exit_mmap(struct trace_event_raw_sys_exit *ctx)
{
	struct xm_sys_args args;
	struct task_struct *task;
	struct xm_watch_key wk;
	struct xm_mmap *r;
	__u64 len;

	if (sys_args_get(&args, 5) || (ctx->ret < 0 && ctx->ret > -4096))
		return 0;
	if (!fd_watched_source((int)args.a[4], &wk))
		return 0;
	len = args.a[1];
	/* FLOW_PLAIN: a mapping alone does not make the process a collector; its pages
	 * are readable all the same, so lineage credits the mapped length. */
	file_flow_add(&wk, XM_FLOW_MMAP, len, FLOW_PLAIN);
	lineage_source(len);
	task = current_task();
	r = record_reserve(sizeof(*r), XM_REC_MMAP, XM_DROP_RING_MMAP, task_session(task));
	if (!r)
		return 0;
	task_fill(&r->task, task);
	r->ino = wk.ino;
	r->dev = wk.dev;
	r->len = len;
	r->prot = args.a[2];
	r->flags = args.a[3];
	r->_pad = 0;
	record_submit(r);
	return 0;
}

/*
 * Linux AIO: fs/aio.c calls the file's read_iter/write_iter itself, with no read syscall
 * and no vfs_read, so the submission is where the bytes are seen. Each submitted iocb
 * (the first XM_AIO_MAX of a batch) counts its requested length: a read past the end of
 * the file is over-counted, never hidden. Vectored commands count their first
 * XM_AIO_IOVS buffers.
 */
#define XM_AIO_MAX 8
#define XM_AIO_IOVS 8
#define XM_IOCB_CMD_PREAD 0
#define XM_IOCB_CMD_PWRITE 1
#define XM_IOCB_CMD_PREADV 7
#define XM_IOCB_CMD_PWRITEV 8

struct xm_iocb {                 /* struct iocb of the uapi, as user memory holds it */
	__u64 data;
	__u32 key, rw_flags;
	__u16 opcode;
	__s16 reqprio;
	__u32 fildes;
	__u64 buf, nbytes;
	__s64 offset;
	__u64 reserved2;
	__u32 flags, resfd;
};

static __always_inline __u64 iov_bytes(__u64 uiov, __u64 n)
{
	__u64 total = 0;

	for (int i = 0; i < XM_AIO_IOVS; i++) {
		__u64 iov[2];

		if (i >= n || bpf_probe_read_user(iov, sizeof(iov), (void *)(uiov + 16 * i)))
			break;
		total += iov[1];
	}
	return total;
}

static __always_inline void aio_account(__u64 uiocb)
{
	struct xm_iocb cb;
	__u64 bytes;
	enum io_dir dir;

	if (bpf_probe_read_user(&cb, sizeof(cb), (void *)uiocb))
		return;
	dir = cb.opcode == XM_IOCB_CMD_PWRITE || cb.opcode == XM_IOCB_CMD_PWRITEV ? IO_WRITE
										  : IO_READ;
	if (cb.opcode == XM_IOCB_CMD_PREAD || cb.opcode == XM_IOCB_CMD_PWRITE)
		bytes = cb.nbytes;
	else if (cb.opcode == XM_IOCB_CMD_PREADV || cb.opcode == XM_IOCB_CMD_PWRITEV)
		bytes = iov_bytes(cb.buf, cb.nbytes);
	else
		return;
	fd_io_counts((int)cb.fildes, bytes, dir);
}

SEC("tracepoint/syscalls/sys_exit_io_submit")
int on_sys_exit_io_submit(struct trace_event_raw_sys_exit *ctx)
{
	struct xm_sys_args args;
	long n = ctx->ret;

	if (sys_args_get(&args, 3) || n <= 0)
		return 0;
	for (int i = 0; i < XM_AIO_MAX; i++) {
		__u64 uiocb;

		if (i >= n || bpf_probe_read_user(&uiocb, sizeof(uiocb), (void *)(args.a[2] + 8 * i)))
			break;
		aio_account(uiocb);
	}
	return 0;
}

/*
 * mremap growing a mapping: the pages added can be read without a syscall, so a
 * mapping of a watched source counts its growth as mapped bytes, as mmap counts its
 * length. The file behind the new address comes from the task's VMA (bpf_find_vma,
 * 5.17+; the loader leaves this program off where the helper is missing).
 */
struct mremap_ctx {
	struct xm_watch_key wk;
	int watched;
};

static long mremap_vma(struct task_struct *task, struct vm_area_struct *vma, void *data)
{
	struct mremap_ctx *c = data;
	struct xm_watch_val *v;
	struct file *f = vma->vm_file;

	if (!f)
		return 0;
	inode_id(f->f_inode, &c->wk, PTR_BTF);
	v = bpf_map_lookup_elem(&watch, &c->wk);
	c->watched = v && (v->flags & XM_W_SOURCE);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_mremap")
int on_sys_exit_mremap(struct trace_event_raw_sys_exit *ctx)
{
	struct mremap_ctx c = {};
	struct xm_sys_args args;

	if (sys_args_get(&args, 3) || (ctx->ret < 0 && ctx->ret > -4096) || args.a[2] <= args.a[1])
		return 0;
	bpf_find_vma(bpf_get_current_task_btf(), ctx->ret, mremap_vma, &c, 0);
	if (c.watched)
		file_flow_add(&c.wk, XM_FLOW_MMAP, args.a[2] - args.a[1], FLOW_PLAIN);
	return 0;
}
