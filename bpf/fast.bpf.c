// SPDX-License-Identifier: GPL-2.0-only
/*
 * Fast path, where the kernel allows fexit programs (refused on some kernels, so the
 * loader probes by loading, and falls back to the syscall tracepoints): fexit on the VFS
 * functions that every read/write syscall goes through hands over the struct file and
 * the bytes moved, so the fd-table walk and the saved-register read disappear, and one
 * program covers several syscalls (vfs_read serves read and pread64). Same accounting
 * body as the tracepoints (fileio.bpf.h), so both paths count byte for byte alike.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "abi.h"
#include "fileio.bpf.h"

SEC("fexit/vfs_read")
int BPF_PROG(on_vfs_read, struct file *file, char *buf, size_t count, loff_t *pos, ssize_t ret)
{
	file_io(file, ret, IO_READ, PTR_BTF);
	return 0;
}

SEC("fexit/vfs_readv")
int BPF_PROG(on_vfs_readv, struct file *file, const struct iovec *vec, unsigned long vlen,
	     loff_t *pos, rwf_t flags, ssize_t ret)
{
	file_io(file, ret, IO_READ, PTR_BTF);
	return 0;
}

SEC("fexit/vfs_write")
int BPF_PROG(on_vfs_write, struct file *file, const char *buf, size_t count, loff_t *pos,
	     ssize_t ret)
{
	file_io(file, ret, IO_WRITE, PTR_BTF);
	return 0;
}

SEC("fexit/vfs_writev")
int BPF_PROG(on_vfs_writev, struct file *file, const struct iovec *vec, unsigned long vlen,
	     loff_t *pos, rwf_t flags, ssize_t ret)
{
	file_io(file, ret, IO_WRITE, PTR_BTF);
	return 0;
}

SEC("fexit/vfs_copy_file_range")
int BPF_PROG(on_vfs_copy_file_range, struct file *in, loff_t pos_in, struct file *out,
	     loff_t pos_out, size_t len, unsigned int flags, ssize_t ret)
{
	file_io(in, ret, IO_READ, PTR_BTF);
	file_io_as(out, ret, IO_WRITE, PTR_BTF, FOLLOW_TRANSFER_OUT);
	return 0;
}

SEC("fexit/do_splice")
int BPF_PROG(on_do_splice, struct file *in, loff_t *off_in, struct file *out, loff_t *off_out,
	     size_t len, unsigned int flags, long ret)
{
	file_io(in, ret, IO_READ, PTR_BTF);
	file_io_as(out, ret, IO_WRITE, PTR_BTF, FOLLOW_TRANSFER_OUT);
	return 0;
}

SEC("fexit/do_sendfile")
int BPF_PROG(on_do_sendfile, int out_fd, int in_fd, loff_t *ppos, size_t count, loff_t max,
	     ssize_t ret)
{
	fd_io(in_fd, ret, IO_READ);
	fd_io_transfer_out(out_fd, ret);
	return 0;
}
