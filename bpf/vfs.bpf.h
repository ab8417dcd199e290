/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * From an fd to what it refers to: the struct file in the current task's table, the
 * (dev, ino) identity of its inode, whether it is a socket, and the dentry-ancestry walk
 * that decides at open time whether a file lies in a watched tree. Identity by inode is
 * what makes renames, hardlinks, relative paths, "..", symlinks and bind mounts all
 * resolve to the same watched object.
 */
#ifndef EXFILMON_VFS_BPF_H
#define EXFILMON_VFS_BPF_H

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#include "maps.bpf.h"
#include "task.bpf.h"

#define XM_S_IFMT 00170000
#define XM_S_IFSOCK 0140000
#define XM_S_IFREG 0100000
#define XM_S_IFCHR 0020000

/* How a kernel pointer may be read; always a compile-time constant at the call, so only
 * one way is loaded. */
enum ptr_kind {
	PTR_UNTYPED = 0,  /* out of the fd table or a probe read: every field via BPF_CORE_READ */
	PTR_BTF = 1,      /* a BTF-typed argument (fexit, tp_btf): fields are plain loads */
};

/*
 * The struct file behind fd in the current task's table. The table is reached with plain
 * loads where the task is BTF-typed (task.bpf.h); the slot itself is an array element
 * the verifier cannot index, so it stays one kernel read, and the file pointer it yields
 * is untyped: whatever follows it uses BPF_CORE_READ.
 */
static __always_inline struct file *fd_file(int fd)
{
	struct task_struct *task = current_task();
	struct fdtable *fdt;
	struct file **fds;
	struct file *f = NULL;

	if (fd < 0)
		return NULL;
	if (task_btf_ok()) {
		fdt = task->files->fdt;
		if (!fdt || (unsigned int)fd >= fdt->max_fds)
			return NULL;
		fds = fdt->fd;
	} else {
		fdt = BPF_CORE_READ(task, files, fdt);
		if (!fdt || (unsigned int)fd >= BPF_CORE_READ(fdt, max_fds))
			return NULL;
		fds = BPF_CORE_READ(fdt, fd);
	}
	bpf_probe_read_kernel(&f, sizeof(f), &fds[fd]);
	return f;
}

/*
 * Several fields of one kernel struct for one kernel read: the struct's first
 * XM_HEAD_BYTES are copied to the stack once and the fields taken out at their CO-RE
 * offsets, which the verifier knows as constants after relocation. Where a kernel's
 * layout puts a field further out (debug options can grow the structs), the fields are
 * read one by one as before: the condition is constant, so only one way is loaded.
 */
#define XM_HEAD_BYTES 96
#define head_fits(off, type) ((off) <= XM_HEAD_BYTES - sizeof(type))
#define head_get(head, off, type) (*(type *)((char *)(head) + (off)))

/*
 * The (dev, ino) identity of an inode, and its file type (mode & S_IFMT) as the result;
 * a socket's identity is not needed and not read. btf says how inode may be read.
 */
static __always_inline __u16 inode_id(struct inode *inode, struct xm_watch_key *key,
				      enum ptr_kind btf)
{
	__u32 om = bpf_core_field_offset(struct inode, i_mode);
	__u32 oi = bpf_core_field_offset(struct inode, i_ino);
	__u32 os = bpf_core_field_offset(struct inode, i_sb);
	struct super_block *sb;
	__u16 mode;

	key->_pad = 0;
	key->dev = 0;
	if (btf == PTR_BTF) {
		mode = inode->i_mode & XM_S_IFMT;
		key->ino = inode->i_ino;
		if (mode != XM_S_IFSOCK)
			key->dev = inode->i_sb->s_dev;
		return mode;
	}
	if (head_fits(om, __u16) && head_fits(oi, __u64) && head_fits(os, void *)) {
		__u64 head[XM_HEAD_BYTES / 8];

		bpf_probe_read_kernel(head, sizeof(head), inode);
		mode = head_get(head, om, __u16) & XM_S_IFMT;
		key->ino = head_get(head, oi, __u64);
		sb = head_get(head, os, struct super_block *);
	} else {
		mode = BPF_CORE_READ(inode, i_mode) & XM_S_IFMT;
		key->ino = BPF_CORE_READ(inode, i_ino);
		sb = BPF_CORE_READ(inode, i_sb);
	}
	if (mode != XM_S_IFSOCK)
		key->dev = BPF_CORE_READ(sb, s_dev);
	return mode;
}

static __always_inline struct inode *file_inode_of(struct file *f, enum ptr_kind btf)
{
	return btf == PTR_BTF ? f->f_inode : BPF_CORE_READ(f, f_inode);
}

/* The watch entry of the file behind fd when that file is a watched source, else NULL;
 * wk receives the file's identity whenever fd resolves to a file. The check every hook
 * that only cares about sources (mmap, io_uring) starts with. */
static __always_inline struct xm_watch_val *fd_watched_source(int fd, struct xm_watch_key *wk)
{
	struct file *f = fd_file(fd);
	struct xm_watch_val *v;

	if (!f)
		return NULL;
	inode_id(file_inode_of(f, PTR_UNTYPED), wk, PTR_UNTYPED);
	v = bpf_map_lookup_elem(&watch, wk);
	return v && (v->flags & XM_W_SOURCE) ? v : NULL;
}

/* What an open needs of its struct file, for one kernel read (see XM_HEAD_BYTES). */
struct file_head {
	struct inode *inode;
	struct dentry *dentry;
	__u32 flags;		/* f_flags: the open flags */
	__u32 mode;		/* f_mode: FMODE_* */
};

static __always_inline void file_head(struct file *f, struct file_head *h)
{
	__u32 oi = bpf_core_field_offset(struct file, f_inode);
	__u32 od = bpf_core_field_offset(struct file, f_path.dentry);
	__u32 of = bpf_core_field_offset(struct file, f_flags);
	__u32 om = bpf_core_field_offset(struct file, f_mode);

	if (head_fits(oi, void *) && head_fits(od, void *) && head_fits(of, __u32) &&
	    head_fits(om, __u32)) {
		__u64 head[XM_HEAD_BYTES / 8];

		bpf_probe_read_kernel(head, sizeof(head), f);
		h->inode = head_get(head, oi, struct inode *);
		h->dentry = head_get(head, od, struct dentry *);
		h->flags = head_get(head, of, __u32);
		h->mode = head_get(head, om, __u32);
		return;
	}
	h->inode = BPF_CORE_READ(f, f_inode);
	h->dentry = BPF_CORE_READ(f, f_path.dentry);
	h->flags = BPF_CORE_READ(f, f_flags);
	h->mode = BPF_CORE_READ(f, f_mode);
}

/* What a dentry walk needs of each level, for one kernel read (see XM_HEAD_BYTES). */
struct dentry_head {
	struct dentry *parent;
	const unsigned char *name;
	struct inode *inode;
};

static __always_inline void dentry_head(struct dentry *d, struct dentry_head *h)
{
	__u32 op = bpf_core_field_offset(struct dentry, d_parent);
	__u32 on = bpf_core_field_offset(struct dentry, d_name.name);
	__u32 oi = bpf_core_field_offset(struct dentry, d_inode);

	if (head_fits(op, void *) && head_fits(on, void *) && head_fits(oi, void *)) {
		__u64 head[XM_HEAD_BYTES / 8];

		bpf_probe_read_kernel(head, sizeof(head), d);
		h->parent = head_get(head, op, struct dentry *);
		h->name = head_get(head, on, const unsigned char *);
		h->inode = head_get(head, oi, struct inode *);
		return;
	}
	h->parent = BPF_CORE_READ(d, d_parent);
	h->name = BPF_CORE_READ(d, d_name.name);
	h->inode = BPF_CORE_READ(d, d_inode);
}

/* The socket behind a socket file (file->private_data is the struct socket). */
static __always_inline struct sock *file_sock(struct file *f)
{
	struct socket *s = BPF_CORE_READ(f, private_data);

	return s ? BPF_CORE_READ(s, sk) : NULL;
}

/*
 * Walks the dentry parents of a file looking for a watched tree root. The d_parent chain
 * stays inside the filesystem whatever mount the file was opened through, so a bind mount
 * of a watched subtree is still below the watched root. Fills *root with the root's value
 * (flags 0 when there is none) and returns whether one was found.
 *
 * The parent directory's cached verdict (dircache) comes first: it saves the walk, which
 * for an unwatched file goes all the way up to the filesystem's root (for a watched one
 * it usually stops at the parent: policy puts every directory of a tree in as a root). The generation is read before walking, so a rename that
 * lands during the walk leaves a verdict that is already stale.
 */
static __always_inline bool ancestry_watch(struct dentry *d, __u32 dev,
					   struct xm_watch_val *root)
{
	struct xm_watch_key key = { .dev = dev }, dir = { .dev = dev };
	struct xm_dir_verdict nv = { .gen = *(volatile __u64 *)&dir_gen };
	struct xm_dir_verdict *c;
	struct dentry_head h;
	struct inode *inode;

	dentry_head(d, &h);
	for (int i = 0; i < XM_PATH_DEPTH; i++) {
		struct xm_watch_val *v;

		if (!h.parent || h.parent == d)
			break;
		d = h.parent;
		dentry_head(d, &h);
		inode = h.inode;	/* a local: BPF_CORE_READ(h.inode, ...) would relocate h too */
		key.ino = BPF_CORE_READ(inode, i_ino);
		if (i == 0) {
			dir.ino = key.ino;
			nv.at_ns = bpf_ktime_get_ns();
			c = bpf_map_lookup_elem(&dircache, &dir);
			if (c && c->gen == nv.gen && nv.at_ns - c->at_ns < dircache_ttl_ns) {
				*root = c->root;
				return root->flags != 0;
			}
		}
		v = bpf_map_lookup_elem(&watch, &key);
		if (v && (v->flags & XM_W_DIR)) {
			nv.root = *v;
			break;
		}
	}
	if (dir.ino)
		bpf_map_update_elem(&dircache, &dir, &nv, BPF_ANY);
	*root = nv.root;
	return root->flags != 0;
}

/*
 * Writes the path of d inside its filesystem into buf, leaf first: "leaf/dir/top/".
 * Built this way because components are only known leaf to root; userspace reverses
 * them. Returns the bytes written. buf must hold 2 * XM_PATH_LEN bytes so every bounded
 * component read stays inside it.
 */
static __always_inline __u32 dentry_path_rev(struct dentry *d, char *buf)
{
	struct dentry_head h;
	__u32 off = 0;

	for (int i = 0; i < XM_PATH_DEPTH; i++) {
		long n;

		dentry_head(d, &h);
		if (!h.parent || h.parent == d || off >= XM_PATH_LEN - 1)
			break;
		n = bpf_probe_read_kernel_str(&buf[off & (XM_PATH_LEN - 1)], XM_PATH_LEN, h.name);
		if (n <= 1)
			break;
		off += n;
		buf[(off - 1) & (2 * XM_PATH_LEN - 1)] = '/';
		d = h.parent;
	}
	return off < XM_PATH_LEN ? off : XM_PATH_LEN;
}

#endif
