// SPDX-License-Identifier: GPL-2.0-only
/*
 * Ring record intake: checks each record's type and size against the ABI, decodes it
 * into a struct event with wall-clock time and full paths, keeps the process table
 * current, and hands the event to the sink. Records are copied out of the ring before
 * use: the kernel may reuse the space once the callback returns.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <unistd.h>
#include <limits.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "common/array_size.h"
#include "agent_int.h"
#include "common/log.h"
#include "mounts.h"

uint64_t agent_realtime(const struct agent *a, uint64_t boot_ns)
{
	return (uint64_t)((int64_t)boot_ns + a->boot_to_real_ns);
}

void agent_refresh_clock(struct agent *a)
{
	struct timespec rt, bt;

	clock_gettime(CLOCK_REALTIME, &rt);
	clock_gettime(CLOCK_BOOTTIME, &bt);
	a->boot_to_real_ns = ((int64_t)rt.tv_sec - bt.tv_sec) * 1000000000LL +
			     (rt.tv_nsec - bt.tv_nsec);
}

void agent_format_ip(const uint8_t addr[16], char *buf, size_t len)
{
	static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

	if (!memcmp(addr, mapped, sizeof(mapped)))
		inet_ntop(AF_INET, addr + 12, buf, len);
	else
		inet_ntop(AF_INET6, addr, buf, len);
}

void agent_note_exit(struct agent *a, uint32_t pid)
{
	if (a->n_exited < AGENT_MAX_EXITED)
		a->exited[a->n_exited++] = pid;
}

static void event_from_task(struct agent *a, struct event *ev, enum event_kind kind,
			    const struct xm_hdr *h, const struct xm_task *t)
{
	memset(ev, 0, sizeof(*ev));
	ev->kind = kind;
	ev->ts_ns = agent_realtime(a, h->ts_ns);
	ev->pid = t->pid;
	ev->ppid = t->ppid;
	ev->uid = t->uid;
	ev->loginuid = t->loginuid;
	ev->session_id = t->session;
	ev->tty_nr = t->tty_nr;
	memcpy(ev->comm, t->comm, sizeof(t->comm));
	ev->comm[sizeof(ev->comm) - 1] = '\0';
}

/* Where a device's filesystem root appears in the mount tree (cached per device). */
static const struct mount_cache_entry *mount_of(struct agent *a, uint32_t dev)
{
	struct mount_cache_entry *e;

	for (unsigned i = 0; i < a->n_mounts; i++)
		if (a->mounts[i].dev == dev)
			return &a->mounts[i];
	if (a->n_mounts == AGENT_MOUNT_CACHE)
		a->n_mounts = 0;
	e = &a->mounts[a->n_mounts];
	e->dev = dev;
	if (mounts_find_dev(a->mountinfo, dev, e->mnt, sizeof(e->mnt), e->root, sizeof(e->root)))
		return NULL;
	a->n_mounts++;
	return e;
}

/*
 * The kernel sends "leaf/dir/top/" relative to the filesystem root; this reverses the
 * components and places them under the mount point where that root is visible.
 */
static void full_path(struct agent *a, uint32_t dev, const char *rev, unsigned len,
		      char *out, size_t out_len)
{
	const struct mount_cache_entry *m = mount_of(a, dev);
	char rel[XM_PATH_LEN + 2] = "";
	size_t pos = 0, root_len;
	unsigned end = len;

	if (len > XM_PATH_LEN)
		len = end = XM_PATH_LEN;
	while (end > 0) {
		unsigned start;

		if (rev[end - 1] == '/')
			end--;
		start = end;
		while (start > 0 && rev[start - 1] != '/')
			start--;
		if (end > start && pos + (end - start) + 1 < sizeof(rel)) {
			rel[pos++] = '/';
			memcpy(rel + pos, rev + start, end - start);
			pos += end - start;
		}
		end = start;
	}
	rel[pos] = '\0';
	if (!m) {
		snprintf(out, out_len, "%s", pos ? rel : "/");
		return;
	}
	root_len = strcmp(m->root, "/") ? strlen(m->root) : 0;
	if (root_len && !strncmp(rel, m->root, root_len))
		snprintf(out, out_len, "%s%s", strcmp(m->mnt, "/") ? m->mnt : "", rel + root_len);
	else
		snprintf(out, out_len, "%s%s", strcmp(m->mnt, "/") ? m->mnt : "", rel);
	if (!out[0])
		snprintf(out, out_len, "/");
}

/*
 * Whether the program just executed is a 32-bit ELF. On x86-64 the syscall tracepoints
 * skip compat (int 0x80) syscalls, so such a process's file and socket activity is not
 * counted on the tracepoint path: its exec is reported as an evasion instead. Read from
 * /proc/PID/exe (the file the kernel mapped, whatever path it was given), or from the
 * recorded path when the process is already gone.
 */
static bool exec_is_32bit(struct agent *a, uint32_t pid, const char *path)
{
	unsigned char ident[5];
	char exe[160];
	int fd;
	bool elf32;

	snprintf(exe, sizeof(exe), "%s/%u/exe", a->proc_root, pid);
	fd = open(exe, O_RDONLY | O_CLOEXEC);
	if (fd < 0 && path[0] == '/')
		fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	elf32 = read(fd, ident, sizeof(ident)) == sizeof(ident) && !memcmp(ident, "\x7f" "ELF", 4) &&
		ident[4] == 1;
	close(fd);
	return elf32;
}

static int on_exec(struct agent *a, const void *data)
{
	const struct xm_exec *r = data;
	struct process_info p = { 0 };
	char args[XM_ARGS_LEN + 1];
	unsigned n = r->args_len < XM_ARGS_LEN ? r->args_len : XM_ARGS_LEN;
	struct event ev;

	memcpy(args, r->args, n);
	args[n] = '\0';
	/* argv arrives NUL-separated; the last terminator is not a separator. */
	while (n > 0 && args[n - 1] == '\0')
		n--;
	for (unsigned i = 0; i < n; i++)
		if (args[i] == '\0')
			args[i] = ' ';
	args[n] = '\0';
	event_from_task(a, &ev, EV_EXEC, &r->hdr, &r->task);
	p.pid = r->task.pid;
	p.ppid = r->task.ppid;
	p.uid = r->task.uid;
	p.loginuid = r->task.loginuid;
	p.session_id = r->task.session;
	p.start_ns = ev.ts_ns;
	memcpy(p.comm, ev.comm, sizeof(p.comm));
	snprintf(p.exe, sizeof(p.exe), "%.*s", (int)(r->path_len < XM_PATH_LEN ? r->path_len
									: XM_PATH_LEN), r->path);
	snprintf(p.args, sizeof(p.args), "%s", args);
	session_process_exec(a->sessions, &p);
	ev.path = p.exe;
	ev.args = p.args;
	a->sink.emit(a->sink.ctx, &ev);
	if (exec_is_32bit(a, p.pid, p.exe))
		agent_integrity(a, p.session_id, p.loginuid, "compat_exec",
				"32-bit program %s (pid %u): its compat syscalls are not traced, "
				"its reads, writes and sends are not counted", p.exe, p.pid);
	return 0;
}

static int on_fork(struct agent *a, const void *data)
{
	const struct xm_fork *r = data;
	struct event ev;

	event_from_task(a, &ev, EV_FORK, &r->hdr, &r->task);
	session_process_fork(a->sessions, r->task.pid, r->task.ppid);
	a->sink.emit(a->sink.ctx, &ev);
	return 0;
}

static int on_exit_rec(struct agent *a, const void *data)
{
	const struct xm_exit *r = data;
	struct event ev;

	event_from_task(a, &ev, EV_EXIT, &r->hdr, &r->task);
	ev.exit_code = r->exit_code;
	a->sink.emit(a->sink.ctx, &ev);
	session_process_exit(a->sessions, r->task.pid, ev.ts_ns);
	agent_note_exit(a, r->task.pid);
	return 0;
}

/* A source flag wins over sink flags; a file with neither is being staged. */
static enum open_class open_class_of(uint32_t flags)
{
	if (flags & XM_W_SOURCE)
		return OPEN_SOURCE;
	if (flags & XM_W_MEDIA)
		return OPEN_SINK_MEDIA;
	return flags & XM_W_SINK ? OPEN_SINK_SYNC : OPEN_STAGING;
}

static int on_open(struct agent *a, const void *data)
{
	const struct xm_open *r = data;
	char path[PATH_MAX];
	struct event ev;

	full_path(a, r->dev, r->path, r->path_len, path, sizeof(path));
	objnames_set(a->names, r->dev, r->ino, path);
	event_from_task(a, &ev, EV_OPEN, &r->hdr, &r->task);
	ev.path = path;
	ev.open_cls = open_class_of(r->flags);
	a->sink.emit(a->sink.ctx, &ev);
	return 0;
}

static const char *name_of(struct agent *a, uint32_t pid, uint32_t dev, uint64_t ino,
			   char *buf, size_t len)
{
	const char *n = objnames_get(a->names, dev, ino);

	if (!n)
		n = objnames_resolve_fd(a->names, a->proc_root, pid, dev, ino);
	if (n)
		return n;
	snprintf(buf, len, "inode %u:%u/%llu", dev >> 20, dev & 0xfffff,
		 (unsigned long long)ino);
	return buf;
}

static int on_mmap(struct agent *a, const void *data)
{
	const struct xm_mmap *r = data;
	char buf[64];
	struct event ev;

	event_from_task(a, &ev, EV_MMAP, &r->hdr, &r->task);
	ev.path = name_of(a, r->task.pid, r->dev, r->ino, buf, sizeof(buf));
	ev.len = r->len;
	a->sink.emit(a->sink.ctx, &ev);
	return 0;
}

static int on_uring(struct agent *a, const void *data)
{
	const struct xm_uring *r = data;
	char buf[64];
	struct event ev;

	event_from_task(a, &ev, EV_URING, &r->hdr, &r->task);
	ev.path = name_of(a, r->task.pid, r->dev, r->ino, buf, sizeof(buf));
	ev.opcode = r->opcode;
	a->sink.emit(a->sink.ctx, &ev);
	return 0;
}

/* An unknown class from a newer kernel side is shown as what it does to counting. */
static enum conn_class conn_class_of(uint32_t cls)
{
	return cls == XM_SOCK_SOURCE ? CONN_SOURCE : cls == XM_SOCK_EGRESS ? CONN_EGRESS
									    : CONN_ALLOWED;
}

static int on_connect(struct agent *a, const void *data)
{
	const struct xm_connect *r = data;
	struct event ev;

	event_from_task(a, &ev, EV_CONNECT, &r->hdr, &r->task);
	agent_format_ip(r->laddr, ev.conn.local_ip, sizeof(ev.conn.local_ip));
	agent_format_ip(r->raddr, ev.conn.remote_ip, sizeof(ev.conn.remote_ip));
	ev.conn.local_port = r->lport;
	ev.conn.remote_port = r->rport;
	ev.conn.proto = r->proto == IPPROTO_TCP ? "tcp" : r->proto == IPPROTO_UDP ? "udp" : "other";
	ev.conn.cls = conn_class_of(r->cls);
	ev.conn.accepted = r->accepted;
	a->sink.emit(a->sink.ctx, &ev);
	return 0;
}

static const char *const lineage_steps[] = {
	[XM_LS_WRITE] = "write", [XM_LS_READ] = "read", [XM_LS_SEND] = "send",
};

static const char *const lineage_objs[] = {
	[XM_LO_FILE] = "file", [XM_LO_PIPE] = "pipe", [XM_LO_UNIX] = "unix",
	[XM_LO_INET] = "loopback", [XM_LO_PEER] = "peer",
};

/* Names a lineage object. Socket identities are kernel addresses: they are mixed before
 * they reach the evidence, and writer and reader still agree on the result. */
static void lineage_object(struct agent *a, const struct xm_lineage *r, char *name, size_t len,
			   uint64_t *id)
{
	char ip[48];

	*id = (uint64_t)r->dev << 40 ^ r->ino;
	switch (r->obj) {
	case XM_LO_FILE:
		if (r->path_len) {
			full_path(a, r->dev, r->path, r->path_len, name, len);
			objnames_set(a->names, r->dev, r->ino, name);
		} else {
			snprintf(name, len, "%s", name_of(a, r->task.pid, r->dev, r->ino, ip,
							  sizeof(ip)));
		}
		return;
	case XM_LO_PIPE:
		snprintf(name, len, "pipe:[%llu]", (unsigned long long)r->ino);
		return;
	case XM_LO_UNIX:
		*id = (r->ino ^ 0x9e3779b97f4a7c15ULL) * 0xff51afd7ed558ccdULL;
		snprintf(name, len, "unix socket %016llx", (unsigned long long)*id);
		return;
	default:
		if (r->obj == XM_LO_INET)
			*id = (r->ino ^ 0x9e3779b97f4a7c15ULL) * 0xff51afd7ed558ccdULL;
		agent_format_ip(r->addr, ip, sizeof(ip));
		snprintf(name, len, strchr(ip, ':') ? "%s[%s]:%u" : "%s%s:%u",
			 r->obj == XM_LO_INET ? "loopback " : "", ip, r->port);
		return;
	}
}

static int on_lineage(struct agent *a, const void *data)
{
	const struct xm_lineage *r = data;
	char name[PATH_MAX];
	struct event ev;

	event_from_task(a, &ev, EV_LINEAGE, &r->hdr, &r->task);
	lineage_object(a, r, name, sizeof(name), &ev.lin.object_id);
	ev.path = name;
	ev.lin.step = r->step < 4 && lineage_steps[r->step] ? lineage_steps[r->step] : "?";
	ev.lin.object_kind = r->obj < 6 && lineage_objs[r->obj] ? lineage_objs[r->obj] : "?";
	ev.lin.object = name;
	ev.lin.bytes = r->bytes;
	ev.lin.credit = r->credit;
	ev.lin.epoch = r->epoch;
	ev.lin.start_ns = r->task.start_ns;
	ev.lin.n_origins = r->n_origins < LINEAGE_ORIGINS ? r->n_origins : LINEAGE_ORIGINS;
	for (unsigned i = 0; i < ev.lin.n_origins; i++) {
		ev.lin.origin_session[i] = r->origins[i].session;
		ev.lin.origin_loginuid[i] = r->origins[i].loginuid;
	}
	ev.lin.unknown = !!(r->flags & XM_L_UNKNOWN);
	ev.lin.forked = !!(r->flags & XM_L_FORKED);
	a->sink.emit(a->sink.ctx, &ev);
	return 0;
}

/* Evasions the kernel side saw but cannot count through (include/abi.h). */
static int on_evasion(struct agent *a, const void *data)
{
	const struct xm_evasion *r = data;
	int n = r->detail_len < XM_EVASION_DETAIL ? r->detail_len : XM_EVASION_DETAIL;
	char comm[XM_COMM_LEN + 1];

	memcpy(comm, r->task.comm, XM_COMM_LEN);
	comm[XM_COMM_LEN] = '\0';
	if (r->what == XM_EV_USERNS_OVERLAY)
		agent_integrity(a, r->task.session, r->task.loginuid, "userns_overlay",
				"%s (pid %u) mounted an overlay in a user namespace (%.*s): reads "
				"through it are not counted", comm, r->task.pid, n, r->detail);
	else if (r->what == XM_EV_USBFS)
		agent_integrity(a, r->task.session, r->task.loginuid, "usb_raw",
				"%s (pid %u) opened the USB device %.*s directly (usbfs, as adb and "
				"libusb do): its transfers are not counted", comm, r->task.pid, n,
				r->detail);
	else if (r->what == XM_EV_URING_UNSEEN)
		agent_integrity(a, r->task.session, r->task.loginuid, "uring_unseen",
				"%s (pid %u) made an io_uring %.*s, which this kernel (before 5.19) "
				"does not let the sensors count", comm, r->task.pid, n, r->detail);
	return 0;
}

struct record_type {
	uint16_t type;
	uint32_t size;
	int (*handle)(struct agent *a, const void *data);
};

static const struct record_type record_types[] = {
	{ XM_REC_EXEC, sizeof(struct xm_exec), on_exec },
	{ XM_REC_FORK, sizeof(struct xm_fork), on_fork },
	{ XM_REC_EXIT, sizeof(struct xm_exit), on_exit_rec },
	{ XM_REC_OPEN, sizeof(struct xm_open), on_open },
	{ XM_REC_MMAP, sizeof(struct xm_mmap), on_mmap },
	{ XM_REC_CONNECT, sizeof(struct xm_connect), on_connect },
	{ XM_REC_URING, sizeof(struct xm_uring), on_uring },
	{ XM_REC_LINEAGE, sizeof(struct xm_lineage), on_lineage },
	{ XM_REC_EVASION, sizeof(struct xm_evasion), on_evasion },
};

int records_handle(void *ctx, void *data, size_t len)
{
	union {
		struct xm_exec exec;
		struct xm_open open;
		struct xm_connect conn;
		struct xm_lineage lin;
	} copy;
	struct agent *a = ctx;
	const struct xm_hdr *h = data;

	if (len < sizeof(*h) || h->version != XM_ABI_VERSION)
		goto bad;
	for (size_t i = 0; i < ARRAY_SIZE(record_types); i++) {
		const struct record_type *t = &record_types[i];

		if (t->type != h->type)
			continue;
		if (len < t->size || h->size != t->size || t->size > sizeof(copy))
			goto bad;
		memcpy(&copy, data, t->size);
		a->stats.records++;
		/* A record that is filtered out is still a success for the ring. */
		t->handle(a, &copy);
		return 0;
	}
bad:
	a->stats.bad_records++;
	return 0;
}
