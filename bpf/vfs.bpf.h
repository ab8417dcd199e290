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
 * The (dev, ino) identity and the file type of an inode. btf is a compile-time constant:
 * 1 where the pointers are BTF-typed (fexit arguments), so fields are plain loads; 0 for
 * the untyped pointers read out of the fd table.
 */
static __always_inline void inode_key(struct inode *inode, struct xm_watch_key *key, int btf)
{
	if (btf) {
		key->ino = inode->i_ino;
		key->dev = inode->i_sb->s_dev;
	} else {
		key->ino = BPF_CORE_READ(inode, i_ino);
		key->dev = BPF_CORE_READ(inode, i_sb, s_dev);
	}
	key->_pad = 0;
}

static __always_inline struct inode *file_inode_of(struct file *f, int btf)
{
	return btf ? f->f_inode : BPF_CORE_READ(f, f_inode);
}

static __always_inline __u16 inode_mode(struct inode *inode, int btf)
{
	return (btf ? inode->i_mode : BPF_CORE_READ(inode, i_mode)) & XM_S_IFMT;
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
 * of a watched subtree is still below the watched root. Returns the root's value or NULL.
 */
static __always_inline struct xm_watch_val *ancestry_watch(struct dentry *d, __u32 dev)
{
	struct xm_watch_key key = { .dev = dev };

	for (int i = 0; i < XM_PATH_DEPTH; i++) {
		struct dentry *parent = BPF_CORE_READ(d, d_parent);
		struct xm_watch_val *v;

		if (!parent || parent == d)
			return NULL;
		d = parent;
		key.ino = BPF_CORE_READ(d, d_inode, i_ino);
		v = bpf_map_lookup_elem(&watch, &key);
		if (v && (v->flags & XM_W_DIR))
			return v;
	}
	return NULL;
}

/*
 * Writes the path of d inside its filesystem into buf, leaf first: "leaf/dir/top/".
 * Built this way because components are only known leaf to root; userspace reverses
 * them. Returns the bytes written. buf must hold 2 * XM_PATH_LEN bytes so every bounded
 * component read stays inside it.
 */
static __always_inline __u32 dentry_path_rev(struct dentry *d, char *buf)
{
	__u32 off = 0;

	for (int i = 0; i < XM_PATH_DEPTH; i++) {
		struct dentry *parent = BPF_CORE_READ(d, d_parent);
		const unsigned char *name;
		long n;

		if (!parent || parent == d || off >= XM_PATH_LEN - 1)
			break;
		name = BPF_CORE_READ(d, d_name.name);
		n = bpf_probe_read_kernel_str(&buf[off & (XM_PATH_LEN - 1)], XM_PATH_LEN, name);
		if (n <= 1)
			break;
		off += n;
		buf[(off - 1) & (2 * XM_PATH_LEN - 1)] = '/';
		d = parent;
	}
	return off < XM_PATH_LEN ? off : XM_PATH_LEN;
}

#endif
