// SPDX-License-Identifier: GPL-2.0-only
/*
 * Sensors: probes the kernel (tracefs, which syscall tracepoints exist, the sock length
 * tracepoints, bpf_task_pt_regs), switches programs off with set_autoload rather than
 * comparing version numbers, then loads and attaches the skeleton.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/statfs.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "common/array_size.h"
#include "abi.h"
#include "exfilmon.skel.h"
#include "label_index.h"
#include "sensors.h"
#include "common/log.h"

#define TRACEFS "/sys/kernel/tracing"

struct sensors {
	struct exfilmon_bpf *skel;   /* until shed_object; NULL after */
	struct ring_buffer *rb;
	struct sensor_maps maps;     /* after shed_object, the fds are the daemon's own */
	/* What is kept of the object once it is shed: the links, the maps' fds, the mapped
	 * .bss (bss points into the skeleton's mapping until then) and the lengths of the
	 * mapped arrays. */
	struct bpf_link **links;
	size_t nlinks;
	int *held;                   /* a copy of every map's fd; the maps' fds above name them */
	size_t nheld;
	int ring_fd;
	struct exfilmon_bpf__bss *bss;
	size_t bss_len, lcount_proc_len, lcount_obj_len;
	uint32_t hooks;
	unsigned attached;
	bool uring_legacy;        /* io_uring paired by (ring, user_data): before 5.19 */
	struct bpf_link *dgram_links[2]; /* cgroup sendmsg4/6 on the cgroup2 root */
	char hooks_text[600];
};

/* While probing the fast path a refusal is expected; its verifier log is noise. */
static bool probing;

static int libbpf_log(enum libbpf_print_level level, const char *fmt, va_list ap)
{
	char line[65536];
	size_t n;

	if ((level == LIBBPF_DEBUG || probing) && log_get_level() < LOG_LVL_DEBUG)
		return 0;
	vsnprintf(line, sizeof(line), fmt, ap);
	n = strlen(line);
	if (n && line[n - 1] == '\n')
		line[n - 1] = '\0';
	if (level == LIBBPF_WARN)
		log_warn("libbpf: %s", line);
	else
		log_debug("libbpf: %s", line);
	return 0;
}

int sensors_ensure_tracefs(void)
{
	if (access(TRACEFS "/events", F_OK) == 0)
		return 0;
	if (mount("tracefs", TRACEFS, "tracefs", 0, NULL) && errno != EBUSY)
		return -errno;
	log_info("sensors: mounted tracefs at %s", TRACEFS);
	return 0;
}

static bool tracepoint_exists(const char *category, const char *name)
{
	char path[256];

	snprintf(path, sizeof(path), TRACEFS "/events/%s/%s", category, name);
	return access(path, F_OK) == 0;
}

static bool btf_has_raw_tp(const struct btf *vmlinux, const char *name)
{
	char type[128];

	snprintf(type, sizeof(type), "btf_trace_%s", name);
	return vmlinux && btf__find_by_name_kind(vmlinux, type, BTF_KIND_TYPEDEF) > 0;
}

/*
 * True when raw tracepoint name takes exactly these parameters after the context: the
 * io_uring tracepoints changed signature across releases, and a tp_btf program built for
 * one signature must not load against another.
 */
static bool raw_tp_has_args(const struct btf *vmlinux, const char *name, const char *const *args,
			    unsigned n)
{
	char type[128];
	const struct btf_param *p;
	const struct btf_type *t;
	int id;

	snprintf(type, sizeof(type), "btf_trace_%s", name);
	id = vmlinux ? btf__find_by_name_kind(vmlinux, type, BTF_KIND_TYPEDEF) : -1;
	if (id <= 0)
		return false;
	t = btf__type_by_id(vmlinux, btf__type_by_id(vmlinux, id)->type);  /* pointer */
	t = btf__type_by_id(vmlinux, t->type);                              /* func proto */
	if (!btf_is_func_proto(t) || btf_vlen(t) != n + 1)
		return false;
	p = btf_params(t) + 1;
	for (unsigned i = 0; i < n; i++, p++) {
		const struct btf_type *a = btf__type_by_id(vmlinux, p->type);
		const char *an;

		if (btf_is_ptr(a) && a->type == 0) {
			an = "void";
		} else {
			if (btf_is_ptr(a))
				a = btf__type_by_id(vmlinux, a->type);
			an = btf__name_by_offset(vmlinux, a->name_off);
		}
		if (strcmp(an ? an : "", args[i]))
			return false;
	}
	return true;
}

static void choose_uring(struct sensors *s, const struct btf *vmlinux)
{
	static const char *const get_args[] = { "io_kiocb", "int" };
	static const char *const cqe_args[] = { "io_ring_ctx", "void", "io_uring_cqe" };
	static const char *const res_args[] = { "void", "void", "u64", "int", "unsigned int",
						"u64", "u64" };
	bool get = raw_tp_has_args(vmlinux, "io_uring_file_get", get_args, 2);
	bool cqe = get && raw_tp_has_args(vmlinux, "io_uring_complete", cqe_args, 3);
	bool res = get && !cqe && raw_tp_has_args(vmlinux, "io_uring_complete", res_args, 7);

	/* Before 5.19: file_get(ring, fd), submit_sqe and complete(ring, user_data, res). */
	bool legacy = !get && tracepoint_exists("io_uring", "io_uring_file_get") &&
		      tracepoint_exists("io_uring", "io_uring_submit_sqe") &&
		      tracepoint_exists("io_uring", "io_uring_complete");

	bpf_program__set_autoload(s->skel->progs.on_io_uring_complete, cqe);
	bpf_program__set_autoload(s->skel->progs.on_io_uring_complete_res, res);
	bpf_program__set_autoload(s->skel->progs.on_io_uring_file_get, cqe || res);
	bpf_program__set_autoload(s->skel->progs.on_io_uring_file_get_legacy, legacy);
	bpf_program__set_autoload(s->skel->progs.on_io_uring_submit_sqe_legacy, legacy);
	bpf_program__set_autoload(s->skel->progs.on_io_uring_complete_legacy, legacy);
	if (cqe || res || legacy) {
		s->hooks |= SENSORS_HOOK_URING;
		s->uring_legacy = legacy;
		return;
	}
	log_info("sensors: io_uring tracepoints absent or of another signature; io_uring reads "
		 "are not seen on this kernel");
}

/* fexit programs and the syscall tracepoints each one makes redundant. */
struct fast_hook {
	const char *func;
	const char *prog;
	const char *syscalls[4];
};

static const struct fast_hook fast_hooks[] = {
	{ "vfs_read", "on_vfs_read", { "read", "pread64" } },
	{ "vfs_readv", "on_vfs_readv", { "readv", "preadv", "preadv2" } },
	{ "vfs_write", "on_vfs_write", { "write", "pwrite64" } },
	{ "vfs_writev", "on_vfs_writev", { "writev", "pwritev", "pwritev2" } },
	{ "vfs_copy_file_range", "on_vfs_copy_file_range", { "copy_file_range" } },
	{ "do_splice", "on_do_splice", { "splice" } },
	{ "do_sendfile", "on_do_sendfile", { "sendfile64" } },
};

static void set_autoload(struct bpf_object *obj, const char *prefix, const char *name, bool on)
{
	char full[64];
	struct bpf_program *prog;

	snprintf(full, sizeof(full), "%s%s", prefix, name);
	prog = bpf_object__find_program_by_name(obj, full);
	if (prog)
		bpf_program__set_autoload(prog, on);
}

/*
 * With fast set, every fexit whose target function is in the kernel's BTF replaces its
 * syscall tracepoints; without it, all fexit programs stay off. Returns hooks used.
 */
static unsigned choose_fast(struct sensors *s, const struct btf *vmlinux, bool fast)
{
	struct bpf_object *obj = s->skel->obj;
	unsigned used = 0;

	for (size_t i = 0; i < ARRAY_SIZE(fast_hooks); i++) {
		const struct fast_hook *h = &fast_hooks[i];
		bool on = fast && vmlinux &&
			  btf__find_by_name_kind(vmlinux, h->func, BTF_KIND_FUNC) > 0;

		set_autoload(obj, "", h->prog, on);
		for (int j = 0; on && j < 4 && h->syscalls[j]; j++) {
			set_autoload(obj, "on_sys_exit_", h->syscalls[j], false);
			set_autoload(obj, "on_sys_enter_", h->syscalls[j], false);
		}
		used += on;
	}
	if (used)
		s->hooks |= SENSORS_HOOK_FEXIT;
	return used;
}

/* Programs on syscalls this kernel lacks (openat2 before 5.6, open on arm64) stay off. */
static void disable_missing_syscalls(struct exfilmon_bpf *skel)
{
	struct bpf_program *prog;

	bpf_object__for_each_program(prog, skel->obj) {
		const char *sec = bpf_program__section_name(prog);
		const char *name;

		if (strncmp(sec, "tracepoint/syscalls/", 20))
			continue;
		name = sec + 20;
		if (!tracepoint_exists("syscalls", name)) {
			log_info("sensors: %s not on this kernel, not attached", name);
			bpf_program__set_autoload(prog, false);
		}
	}
}

static void choose_arg_source(struct sensors *s);
static void choose_dircache_ttl(struct sensors *s);

static void choose_hooks(struct sensors *s, const struct btf *vmlinux, bool fast)
{
	unsigned n_fast;
	struct exfilmon_bpf *skel = s->skel;
	const char *no_sock_tp = getenv("EXFILMON_FORCE_SOCK_SYSCALLS");
	/* EXFILMON_FORCE_SOCK_SYSCALLS=1: the pre-6.3 socket path on any kernel, for tests. */
	bool sock_tp = btf_has_raw_tp(vmlinux, "sock_send_length") &&
		       btf_has_raw_tp(vmlinux, "sock_recv_length") &&
		       !(no_sock_tp && !strcmp(no_sock_tp, "1"));

	if (sock_tp) {
		s->hooks |= SENSORS_HOOK_SOCK_LEN_TP;
		bpf_program__set_autoload(skel->progs.on_sys_exit_sendmsg, false);
		bpf_program__set_autoload(skel->progs.on_sys_exit_recvmsg, false);
	} else {
		bpf_program__set_autoload(skel->progs.on_sock_send_length, false);
		bpf_program__set_autoload(skel->progs.on_sock_recv_length, false);
	}
	skel->rodata->sock_via_syscalls = !sock_tp;
	choose_arg_source(s);
	choose_dircache_ttl(s);
	/* mremap finds the file behind the grown mapping with bpf_find_vma (5.17+), which
	 * also means bpf_task_pt_regs: the program has no entry-argument twin. */
	if (libbpf_probe_bpf_helper(BPF_PROG_TYPE_TRACEPOINT, BPF_FUNC_find_vma, NULL) != 1 ||
	    !(s->hooks & SENSORS_HOOK_TASK_REGS)) {
		log_info("sensors: no bpf_find_vma: a grown mremap of a watched file is not seen");
		bpf_program__set_autoload(skel->progs.on_sys_exit_mremap, false);
	}
	choose_uring(s, vmlinux);
	n_fast = choose_fast(s, vmlinux, fast);
	snprintf(s->hooks_text, sizeof(s->hooks_text),
		 "files: %s%ssyscall exit tracepoints (%s); sockets: %s; io_uring: %s",
		 n_fast ? "fexit fast path on vfs_read/readv/write/writev, copy_file_range, "
			  "splice, sendfile; " : "",
		 n_fast ? "opens and mmap on " : "",
		 s->hooks & SENSORS_HOOK_TASK_REGS ? "fd from task pt_regs"
					      : "arguments saved by sys_enter tracepoints",
		 sock_tp ? "sock:sock_{send,recv}_length tracepoints"
			 : "send/recv/read/write syscall exit tracepoints",
		 !(s->hooks & SENSORS_HOOK_URING) ? "not seen" :
		 s->uring_legacy ? "io_uring_file_get/submit_sqe/complete tracepoints (by user_data)"
				 : "io_uring_file_get/complete tracepoints");
}

/*
 * The age limit of the kernel's directory verdicts (bpf/maps.bpf.h). Renames move their
 * generation; EXFILMON_DIRCACHE_TTL_MS (milliseconds) lengthens the limit so tests can
 * show that the generation alone keeps verdicts right.
 */
static void choose_dircache_ttl(struct sensors *s)
{
	const char *env = getenv("EXFILMON_DIRCACHE_TTL_MS");
	unsigned long long ms;
	char *end;

	if (!env)
		return;
	errno = 0;
	ms = strtoull(env, &end, 10);
	if (errno || end == env || *end || ms == 0 || ms > 3600000) {
		log_warn("loader: EXFILMON_DIRCACHE_TTL_MS=%s ignored (1..3600000)", env);
		return;
	}
	s->skel->rodata->dircache_ttl_ns = ms * 1000000ULL;
}

/*
 * Exit programs read their fd from the saved user registers where the kernel has
 * bpf_task_pt_regs (5.15+); elsewhere entry programs save the arguments in a map.
 * EXFILMON_FORCE_ENTER_ARGS=1 forces the fallback so tests can prove it on any kernel.
 */
static void choose_arg_source(struct sensors *s)
{
	const char *force = getenv("EXFILMON_FORCE_ENTER_ARGS");
	bool regs = libbpf_probe_bpf_helper(BPF_PROG_TYPE_TRACEPOINT, BPF_FUNC_task_pt_regs,
					    NULL) == 1 &&
		    !(force && !strcmp(force, "1"));
	struct bpf_program *prog;

	s->skel->rodata->args_from_enter = !regs;
	if (regs) {
		s->hooks |= SENSORS_HOOK_TASK_REGS;
		/* Nothing writes the entry arguments then: no 1.8 MiB for them. */
		bpf_map__set_max_entries(s->skel->maps.sysargs, 1);
	}
	bpf_object__for_each_program(prog, s->skel->obj)
		if (regs && !strncmp(bpf_program__section_name(prog),
				     "tracepoint/syscalls/sys_enter_", 30))
			bpf_program__set_autoload(prog, false);
}

/* A BPF_F_MMAPABLE array of 8-byte values, mapped shared; NULL (logged) on failure. */
static uint64_t *map_array(const struct bpf_map *m, size_t *len)
{
	void *p;

	*len = (size_t)bpf_map__max_entries(m) * sizeof(uint64_t);
	p = mmap(NULL, *len, PROT_READ | PROT_WRITE, MAP_SHARED, bpf_map__fd(m), 0);
	if (p == MAP_FAILED) {
		log_error("sensors: map %s: %s", bpf_map__name(m), strerror(errno));
		return NULL;
	}
	return p;
}

static void unmap_arrays(struct sensors *s)
{
	if (s->maps.lcount_proc)
		munmap(s->maps.lcount_proc, s->lcount_proc_len);
	if (s->maps.lcount_obj)
		munmap(s->maps.lcount_obj, s->lcount_obj_len);
	s->maps.lcount_proc = s->maps.lcount_obj = NULL;
}

static void destroy_skel(struct sensors *s)
{
	if (!s->skel)
		return;
	unmap_arrays(s);
	exfilmon_bpf__destroy(s->skel);
	s->skel = NULL;
}

/* Points the daemon's view of .bss (its own counters and flags) at a mapping of it. */
static void set_bss(struct sensors *s, struct exfilmon_bpf__bss *bss)
{
	s->bss = bss;
	s->maps.dir_gen = (uint64_t *)&bss->dir_gen;
	s->maps.net_gen = (uint64_t *)&bss->net_gen;
}

static void fill_maps(struct sensors *s)
{
	struct exfilmon_bpf *k = s->skel;

	s->maps = (struct sensor_maps){
		.watch = bpf_map__fd(k->maps.watch),
		.flows = bpf_map__fd(k->maps.flows),
		.totals = bpf_map__fd(k->maps.totals),
		.gaps = bpf_map__fd(k->maps.gaps),
		.drops = bpf_map__fd(k->maps.drops),
		.services = bpf_map__fd(k->maps.services),
		.allow = bpf_map__fd(k->maps.allow),
		.socks = bpf_map__fd(k->maps.socks),
		.sinkdevs = bpf_map__fd(k->maps.sinkdevs),
		.collectors = bpf_map__fd(k->maps.collectors),
		.sinks = bpf_map__fd(k->maps.sinks),
		.fills = bpf_map__fd(k->maps.fills),
		.flowfree = bpf_map__fd(k->maps.flowfree),
		.watch_max = bpf_map__max_entries(k->maps.watch),
		.sinks_max = bpf_map__max_entries(k->maps.sinks),
		.flows_max = bpf_map__max_entries(k->maps.flows),
		.totals_max = bpf_map__max_entries(k->maps.totals),
		.ilabels = bpf_map__fd(k->maps.ilabels),
		.labels = bpf_map__fd(k->maps.labels),
		.lcount_proc = map_array(k->maps.lcount_proc, &s->lcount_proc_len),
		.lcount_obj = map_array(k->maps.lcount_obj, &s->lcount_obj_len),
	};
	set_bss(s, k->bss);
}

/*
 * Maps are ready once loaded; the label counts are recounted from the (pinned) label
 * maps before any program runs, since a program trusts a zero count to mean no label.
 * Without the mapped counts nothing may attach: a program would miss every label.
 */
static int maps_ready(struct sensors *s)
{
	fill_maps(s);
	if (!s->maps.lcount_proc || !s->maps.lcount_obj)
		return -ENOMEM;
	label_index_rebuild(&s->maps);
	return 0;
}

static int attach_all(struct sensors *s)
{
	struct bpf_program *prog;
	int err;

	/* The skeleton attaches every program left on autoload and owns the links. */
	err = exfilmon_bpf__attach(s->skel);
	if (err) {
		if (!probing)
			log_error("sensors: attach sensors: %s", strerror(-err));
		return err;
	}
	bpf_object__for_each_program(prog, s->skel->obj)
		s->attached += bpf_program__autoload(prog) &&
			       bpf_program__type(prog) != BPF_PROG_TYPE_CGROUP_SOCK_ADDR;
	return 0;
}

#define BPFFS "/sys/fs/bpf"
#define BPF_FS_MAGIC_NUMBER 0xcafe4a11

static bool on_bpffs(const char *path)
{
	struct statfs st;

	return statfs(path, &st) == 0 && (unsigned long)st.f_type == BPF_FS_MAGIC_NUMBER;
}

/* Whether a pinned map (if any) can stand in for the skeleton's: libbpf refuses to load
 * at all when it cannot, so a mismatch is found and removed first. */
static bool pin_fits(const struct bpf_map *m, const char *path)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);
	int fd = bpf_obj_get(path);
	bool fits;

	if (fd < 0)
		return true;
	fits = !bpf_obj_get_info_by_fd(fd, &info, &len) &&
	       info.type == bpf_map__type(m) && info.key_size == bpf_map__key_size(m) &&
	       info.value_size == bpf_map__value_size(m) &&
	       info.max_entries == bpf_map__max_entries(m) &&
	       /* libbpf refuses to reuse a pin whose flags differ (prealloc or not), and
	        * the load would fail: such a pin is of another layout too. */
	       info.map_flags == bpf_map__map_flags(m);
	close(fd);
	return fits;
}

/* The maps whose contents must outlive a daemon: lineage labels (lineage.bpf.h). */
static int pin_labels(struct exfilmon_bpf *skel, const char *dir)
{
	struct bpf_map *maps[] = { skel->maps.labels, skel->maps.ilabels, skel->maps.lsess };
	char path[PATH_MAX];

	if (!on_bpffs(BPFFS) && mount("bpf", BPFFS, "bpf", 0, NULL) && errno != EBUSY)
		return -errno;
	if (mkdir(dir, 0700) && errno != EEXIST)
		return -errno;
	for (size_t i = 0; i < sizeof(maps) / sizeof(maps[0]); i++) {
		snprintf(path, sizeof(path), "%s/%s", dir, bpf_map__name(maps[i]));
		if (!pin_fits(maps[i], path)) {
			/* Another layout (an upgrade): those labels cannot be read any more. */
			log_warn("loader: pinned %s has another layout; its labels are dropped",
				 path);
			unlink(path);
		}
		if (bpf_map__set_pin_path(maps[i], path))
			return -errno;
	}
	return 0;
}


static int open_and_load(struct sensors *s, const struct sensors_opts *opts, bool fast)
{
	struct btf *vmlinux = btf__load_vmlinux_btf();
	int err;

	s->skel = exfilmon_bpf__open();
	if (!s->skel) {
		err = -errno;
		log_error("sensors: open BPF object: %s", strerror(-err));
		goto out;
	}
	if (opts->ring_bytes)
		bpf_map__set_max_entries(s->skel->maps.events, opts->ring_bytes);
	disable_missing_syscalls(s->skel);
	choose_hooks(s, vmlinux, fast);
	if (opts->pin_dir && (err = pin_labels(s->skel, opts->pin_dir))) {
		log_error("loader: pin lineage labels in %s: %s", opts->pin_dir, strerror(-err));
		goto out;
	}
	err = exfilmon_bpf__load(s->skel);
	if (err && !fast)
		log_error("sensors: load BPF programs: %s", strerror(-err));
out:
	btf__free(vmlinux);
	return err;
}

/*
 * The BPF object embedded in the binary (about 7 MiB: programs, BTF, line info) is read
 * by the load and never again, but its pages stay resident. They are clean pages of the
 * executable's file, so they are handed back; anything that reads them later faults
 * them in from the file again.
 */
static void release_object_pages(void)
{
	size_t sz, pg = (size_t)sysconf(_SC_PAGESIZE);
	uintptr_t at = (uintptr_t)exfilmon_bpf__elf_bytes(&sz);
	uintptr_t lo = (at + pg - 1) & ~(uintptr_t)(pg - 1), hi = (at + sz) & ~(uintptr_t)(pg - 1);

	if (hi > lo && madvise((void *)lo, hi - lo, MADV_DONTNEED))
		log_debug("sensors: madvise on the embedded object: %s", strerror(errno));
}

/*
 * Tries the fexit fast path first (unless EXFILMON_NO_FAST=1), because whether a kernel
 * allows fexit is only known by trying: lockdown, LSM policy or a missing
 * CONFIG_FUNCTION_TRACER refuse it. A refusal costs one more load at start.
 */
static int load_and_attach(struct sensors *s, const struct sensors_opts *opts)
{
	const char *no_fast = getenv("EXFILMON_NO_FAST");
	int err = -EPERM;

	if (!(no_fast && !strcmp(no_fast, "1"))) {
		probing = true;
		err = open_and_load(s, opts, true);
		if (!err)
			err = maps_ready(s);
		if (!err)
			err = attach_all(s);
		probing = false;
		if (!err)
			return 0;
		log_info("sensors: fexit fast path not available (%s); using tracepoints",
			 strerror(-err));
		destroy_skel(s);
		s->hooks = 0;
		s->attached = 0;
	}
	err = open_and_load(s, opts, false);
	if (!err)
		err = maps_ready(s);
	if (!err)
		err = attach_all(s);
	if (err)
		destroy_skel(s);
	return err;
}

/* Where the cgroup2 hierarchy is mounted (/sys/fs/cgroup, or .../unified on hybrid
 * systems), from mountinfo. Returns 0 or -ENOENT. */
static int cgroup2_root(char *out, size_t len)
{
	FILE *f = fopen("/proc/self/mountinfo", "r");
	char line[4096], mnt[PATH_MAX], *sep;
	int err = -ENOENT;

	if (!f)
		return -errno;
	while (err && fgets(line, sizeof(line), f)) {
		sep = strstr(line, " - ");
		if (!sep || strncmp(sep + 3, "cgroup2 ", 8))
			continue;
		if (sscanf(line, "%*s %*s %*s %*s %4095s", mnt) == 1 && strlen(mnt) < len) {
			snprintf(out, len, "%s", mnt);
			err = 0;
		}
	}
	fclose(f);
	return err;
}

/*
 * The cgroup sendmsg4/6 hooks on the cgroup2 root see the destination of every UDP
 * datagram that names one (sendto, sendmsg, sendmmsg, compat calls, io_uring). They need
 * a cgroup fd, so the skeleton cannot attach them. Without them, sendto's address is
 * still read at the syscall exit; sendmsg/sendmmsg with an address are then unseen.
 */
static void attach_dgram_hooks(struct sensors *s)
{
	struct bpf_program *progs[2] = { s->skel->progs.on_cgroup_sendmsg4,
					 s->skel->progs.on_cgroup_sendmsg6 };
	char root[PATH_MAX];
	int fd, err = cgroup2_root(root, sizeof(root));

	fd = err ? -1 : open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		log_warn("sensors: no cgroup2 hierarchy: UDP sendmsg/sendmmsg with an address "
			 "not seen");
		return;
	}
	for (int i = 0; i < 2; i++) {
		s->dgram_links[i] = bpf_program__attach_cgroup(progs[i], fd);
		if (!s->dgram_links[i]) {
			log_warn("sensors: attach %s on %s: %s", bpf_program__name(progs[i]), root,
				 strerror(errno));
			break;
		}
	}
	close(fd);
	if (s->dgram_links[0] && s->dgram_links[1]) {
		s->bss->dgram_hooks_on = 1;
		s->attached += 2;
		snprintf(s->hooks_text + strlen(s->hooks_text),
			 sizeof(s->hooks_text) - strlen(s->hooks_text),
			 "; datagram destinations: cgroup sendmsg4/6 on %s", root);
	}
}

static void detach_dgram_hooks(struct sensors *s)
{
	s->bss->dgram_hooks_on = 0;
	for (int i = 0; i < 2; i++) {
		bpf_link__destroy(s->dgram_links[i]);
		s->dgram_links[i] = NULL;
	}
}

/* The map fds the daemon uses after the start, the ring's included. */
static size_t used_fds(struct sensors *s, int *fds[])
{
	struct sensor_maps *m = &s->maps;
	int *all[] = { &m->watch, &m->flows, &m->totals, &m->gaps, &m->drops, &m->services,
		       &m->allow, &m->socks, &m->sinkdevs, &m->collectors, &m->sinks,
		       &m->fills, &m->flowfree, &m->ilabels, &m->labels, &s->ring_fd };

	memcpy(fds, all, sizeof(all));
	return ARRAY_SIZE(all);
}

#define USED_FDS_MAX 16

static void close_held(int *held, size_t n)
{
	for (size_t i = 0; i < n; i++)
		close(held[i]);
	free(held);
}

/* A copy of the fd of every map of the object, in the skeleton's order. */
static int hold_maps(const struct bpf_object_skeleton *sk, int **held)
{
	int *h = calloc((size_t)sk->map_cnt, sizeof(*h));

	if (!h)
		return -ENOMEM;
	for (int i = 0; i < sk->map_cnt; i++) {
		h[i] = fcntl(bpf_map__fd(*sk->maps[i].map), F_DUPFD_CLOEXEC, 3);
		if (h[i] < 0) {
			int err = -errno;

			close_held(h, (size_t)i);
			return err;
		}
	}
	*held = h;
	return 0;
}

/*
 * Once everything is attached the bpf_object is mostly heap the daemon never reads
 * again: libbpf keeps every program's instructions (3.1 MB) and the object's line info
 * (.BTF.ext, 2.8 MB) for the object's life. The daemon keeps the links, a copy of every
 * map's fd (so that it still shows as the maps' holder, to bpftool and the tests, and
 * the fds it uses name the copies) and its own mapping of .bss, and closes the object;
 * the programs stay in the kernel, held by their links. Nothing changes on failure:
 * the caller still owns the whole skeleton.
 */
static int shed_object(struct sensors *s)
{
	const struct bpf_object_skeleton *sk = s->skel->skeleton;
	const struct bpf_map *bssm = s->skel->maps.bss;
	size_t pg = (size_t)sysconf(_SC_PAGESIZE), n, nlinks = 0;
	size_t bss_len = (bpf_map__value_size(bssm) + pg - 1) / pg * pg;
	struct bpf_link **links = calloc((size_t)sk->prog_cnt, sizeof(*links));
	int *fds[USED_FDS_MAX], *held = NULL, err;
	void *bss = MAP_FAILED;

	err = links ? hold_maps(sk, &held) : -ENOMEM;
	if (!err) {
		bss = mmap(NULL, bss_len, PROT_READ | PROT_WRITE, MAP_SHARED, bpf_map__fd(bssm), 0);
		if (bss == MAP_FAILED)
			err = -errno;
	}
	if (err) {
		if (held)
			close_held(held, (size_t)sk->map_cnt);
		free(links);
		return err;
	}
	s->ring_fd = bpf_map__fd(s->skel->maps.events);
	n = used_fds(s, fds);
	for (size_t k = 0; k < n; k++)
		for (int i = 0; i < sk->map_cnt; i++)
			if (*fds[k] == bpf_map__fd(*sk->maps[i].map)) {
				*fds[k] = held[i];
				break;
			}
	for (int i = 0; i < sk->prog_cnt; i++) {
		if (*sk->progs[i].link)
			links[nlinks++] = *sk->progs[i].link;
		*sk->progs[i].link = NULL;   /* the skeleton's destroy leaves them attached */
	}
	s->held = held;
	s->nheld = (size_t)sk->map_cnt;
	s->links = links;
	s->nlinks = nlinks;
	s->bss_len = bss_len;
	set_bss(s, bss);
	exfilmon_bpf__destroy(s->skel);
	s->skel = NULL;
	return 0;
}

struct sensors *sensors_start(const struct sensors_opts *opts)
{
	struct sensors *s = calloc(1, sizeof(*s));
	int err;

	if (!s)
		return NULL;
	libbpf_set_print(libbpf_log);
	err = sensors_ensure_tracefs();
	if (err) {
		log_error("sensors: mount tracefs at %s: %s", TRACEFS, strerror(-err));
		goto out_free;
	}
	err = load_and_attach(s, opts);
	if (err)
		goto out_free;
	attach_dgram_hooks(s);
	err = shed_object(s);
	if (err) {
		log_error("sensors: keep the attached programs: %s", strerror(-err));
		goto out_destroy;
	}
	release_object_pages();
	s->rb = ring_buffer__new(s->ring_fd, opts->on_record, opts->ctx, NULL);
	if (!s->rb) {
		err = -errno;
		log_error("sensors: ring buffer: %s", strerror(-err));
		sensors_stop(s);
		errno = -err;
		return NULL;
	}
	log_info("sensors: %u programs attached; %s", s->attached, s->hooks_text);
	return s;

out_destroy:
	detach_dgram_hooks(s);
	destroy_skel(s);
out_free:
	free(s);
	errno = -err;
	return NULL;
}

void sensors_detach(struct sensors *s)
{
	detach_dgram_hooks(s);
	for (size_t i = 0; i < s->nlinks; i++) {
		bpf_link__destroy(s->links[i]);
		s->links[i] = NULL;
	}
}

void sensors_stop(struct sensors *s)
{
	if (!s)
		return;
	ring_buffer__free(s->rb);
	sensors_detach(s);
	free(s->links);
	if (s->held)
		close_held(s->held, s->nheld);
	unmap_arrays(s);
	if (s->bss)
		munmap(s->bss, s->bss_len);
	free(s);
}

const struct sensor_maps *sensors_maps(const struct sensors *s)
{
	return &s->maps;
}

int sensors_ring_fd(const struct sensors *s)
{
	return ring_buffer__epoll_fd(s->rb);
}

int sensors_ring_consume(struct sensors *s)
{
	return ring_buffer__consume(s->rb);
}

uint32_t sensors_hooks(const struct sensors *s)
{
	return s->hooks;
}

const char *sensors_hooks_text(const struct sensors *s)
{
	return s->hooks_text;
}

unsigned sensors_attached(const struct sensors *s)
{
	return s->attached;
}
