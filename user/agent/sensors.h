/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Sensor lifecycle: probe the running kernel, open/load/attach the skeleton with the
 * hooks it supports, hand out the maps, and tear it all down. The only module that
 * includes the skeleton; the rest of agent/ sees plain map fds and ABI structs, and
 * nothing above agent/ sees libbpf at all.
 */
#ifndef EXFILMON_SENSORS_H
#define EXFILMON_SENSORS_H

#include <stdint.h>

struct sensors;

/* Called for every ring record; data points into the ring (copy what you keep). */
typedef int (*sensors_record_fn)(void *ctx, void *data, size_t len);

struct sensors_opts {
	uint32_t ring_bytes;         /* power of two, >= page size */
	sensors_record_fn on_record;
	void *ctx;
	/* Directory on a bpf filesystem where the lineage label maps are pinned and found
	 * again by the next start, so a restart does not launder derived data. NULL: the
	 * labels live and die with these sensors (exfilctl trace, beside a daemon). */
	const char *pin_dir;
};

/* Map fds userspace reads and writes (collectors: read only, by the BPF tests). */
struct sensor_maps {
	int watch, flows, totals, gaps, drops, services, allow, socks, sinkdevs, collectors;
	int sinks, fills, flowfree;
	uint32_t watch_max, sinks_max, flows_max, totals_max;   /* max_entries */
	int ilabels;                 /* lineage object labels, pruned by age (drain.c) */
	int labels;                  /* lineage process labels by tgid, dead ones pruned (drain.c) */
	/* The label counts per slot of labels and ilabels, mapped (label_index.h). NULL where
	 * there is no skeleton (unit tests). */
	uint64_t *lcount_proc, *lcount_obj;
	/* The generation of the kernel's directory verdicts, in the mapped .bss
	 * (bpf/maps.bpf.h): moved after the watch map changes. NULL where there is no
	 * skeleton (unit tests). */
	uint64_t *dir_gen;
	/* The generation of the kernel's cached peer classes (socks), likewise: moved after
	 * the services and allow maps change. */
	uint64_t *net_gen;
};

/* Which hooks the probes chose (sensors_hooks), reported by status. Userspace only. */
enum sensors_hook_set {
	SENSORS_HOOK_SOCK_LEN_TP = 1 << 0, /* sock:sock_{send,recv}_length carry socket bytes */
	SENSORS_HOOK_TASK_REGS = 1 << 1,   /* exit programs read args via bpf_task_pt_regs */
	SENSORS_HOOK_URING = 1 << 2,       /* io_uring tracepoints attached */
	SENSORS_HOOK_FEXIT = 1 << 3,       /* fexit fast path on the VFS read/write functions */
};

/* Loads and attaches everything the kernel supports. NULL with errno set; the reason
 * has been logged ("sensors: attach sys_exit_read: Operation not permitted"). */
struct sensors *sensors_start(const struct sensors_opts *opts);
/* Detaches every program; maps and the ring stay readable for a last drain. */
void sensors_detach(struct sensors *s);
void sensors_stop(struct sensors *s);

const struct sensor_maps *sensors_maps(const struct sensors *s);
/* The ring buffer's epoll-able fd and its consumer (returns records consumed or -errno). */
int sensors_ring_fd(const struct sensors *s);
int sensors_ring_consume(struct sensors *s);

/* sensors_hook_set bits and a text naming the hooks chosen ("tracepoints: ...; sock: ..."). */
uint32_t sensors_hooks(const struct sensors *s);
const char *sensors_hooks_text(const struct sensors *s);
unsigned sensors_attached(const struct sensors *s);

/* Mounts tracefs at /sys/kernel/tracing when it is not there. Returns 0 or -errno. */
int sensors_ensure_tracefs(void);

#endif
