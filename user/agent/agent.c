// SPDX-License-Identifier: GPL-2.0-only
/*
 * Agent lifecycle: starts the sensors, applies the policy, seeds the process table from
 * /proc, and on stop drains once more so nothing counted before the stop is lost.
 */
#include <errno.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "common/array_size.h"
#include "agent_int.h"
#include "labels_state.h"
#include "common/log.h"

/* A policy that did not fit is in force as far as it goes; the alert says what is not. */
static void report_partial(struct agent *a)
{
	const struct policy_stats *ps = policy_stats(a->policy);

	if (ps->refused)
		agent_integrity(a, SESSION_NONE, LOGINUID_NONE, "policy_partial",
				"%zu watched files or folders did not fit the kernel maps: they are "
				"not watched", ps->refused);
}

static int start_policy(struct agent *a, const struct config *cfg)
{
	struct policy_paths paths = {
		.mountinfo = a->mountinfo,
		.sysfs = "/sys",
		.passwd = "/etc/passwd",
	};
	int err;

	a->policy = policy_new(sensors_maps(a->sensors), &paths);
	if (!a->policy)
		return -ENOMEM;
	err = policy_apply(a->policy, cfg);
	if (err)
		log_error("agent: apply policy: %s", strerror(-err));
	else
		report_partial(a);
	return err;
}

static int start_sessions(struct agent *a)
{
	struct session_sources src = { .proc_root = a->proc_root };
	int err;

	a->sessions = session_table_new(&src);
	if (!a->sessions)
		return -ENOMEM;
	err = session_seed(a->sessions);
	if (err)
		log_warn("agent: seeding processes from %s: %s", a->proc_root, strerror(-err));
	return 0;
}

/* After a reboot the pinned label maps are gone; the saved file labels come back. */
static void restore_labels(struct agent *a, const struct agent_opts *opts)
{
	struct timespec ts;
	int n;

	if (!opts->label_pin_dir || !opts->cfg->state_dir)
		return;
	snprintf(a->labels_path, sizeof(a->labels_path), "%s/labels.state", opts->cfg->state_dir);
	clock_gettime(CLOCK_BOOTTIME, &ts);
	n = labels_state_load(sensors_maps(a->sensors), a->labels_path,
			      (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec);
	if (n < 0)
		log_warn("agent: derived-file labels in %s unreadable: %s", a->labels_path,
			 strerror(-n));
	else if (n > 0)
		log_info("agent: %d derived-file labels restored from %s", n, a->labels_path);
}

struct agent *agent_start(const struct agent_opts *opts)
{
	struct agent *a = calloc(1, sizeof(*a));
	struct sensors_opts so = { .on_record = records_handle };
	int err;

	if (!a)
		return NULL;
	snprintf(a->proc_root, sizeof(a->proc_root), "%s", opts->proc_root ? opts->proc_root : "/proc");
	snprintf(a->mountinfo, sizeof(a->mountinfo), "%s/self/mountinfo", a->proc_root);
	a->sink = opts->sink;
	agent_refresh_clock(a);
	a->names = objnames_new(65536);
	err = -ENOMEM;
	if (!a->names)
		goto out_free;
	err = start_sessions(a);
	if (err)
		goto out_free;
	so.ring_bytes = opts->cfg->ring_bytes;
	a->label_ttl_ns = opts->cfg->detect.lookback_ns;
	so.pin_dir = opts->label_pin_dir;
	so.ctx = a;
	a->sensors = sensors_start(&so);
	if (!a->sensors) {
		err = -errno;
		goto out_free;
	}
	restore_labels(a, opts);
	err = drain_prune_dead_labels(a);
	if (err > 0)
		log_info("agent: %d labels of processes that exited while no agent ran dropped", err);
	err = start_policy(a, opts->cfg);
	if (err)
		goto out_stop;
	a->stats.hooks = sensors_hooks(a->sensors);
	a->stats.programs = sensors_attached(a->sensors);
	/* Loading parsed the kernel's BTF (tens of MiB of heap, freed by libbpf once the
	 * programs are in); malloc keeps freed heap mapped unless asked to return it. */
	malloc_trim(0);
	return a;

out_stop:
	sensors_stop(a->sensors);
out_free:
	policy_free(a->policy);
	session_table_free(a->sessions);
	objnames_free(a->names);
	free(a);
	errno = -err;
	return NULL;
}

static void no_sink(void *ctx, const struct event *ev)
{
}

void agent_quiesce(struct agent *a)
{
	if (!a || a->sink.emit == no_sink)
		return;
	/* Detaching first means the last drain sees everything that will ever be counted. */
	sensors_detach(a->sensors);
	agent_poll_ring(a);
	agent_drain(a);
	agent_save_labels(a);
	a->sink.emit = no_sink;
}

void agent_save_labels(struct agent *a)
{
	int n;

	if (!a->labels_path[0])
		return;
	n = labels_state_save(sensors_maps(a->sensors)->ilabels, a->names, a->labels_path);
	if (n < 0)
		log_warn("agent: save derived-file labels to %s: %s", a->labels_path,
			 strerror(-n));
}


void agent_stop(struct agent *a)
{
	if (!a)
		return;
	agent_quiesce(a);
	sensors_stop(a->sensors);
	policy_free(a->policy);
	session_table_free(a->sessions);
	objnames_free(a->names);
	drain_free(a);
	free(a);
}

int agent_reconfigure(struct agent *a, const struct config *cfg)
{
	int err = policy_apply(a->policy, cfg);

	a->label_ttl_ns = cfg->detect.lookback_ns;
	if (!err)
		report_partial(a);
	return err;
}

int agent_ring_fd(const struct agent *a)
{
	return sensors_ring_fd(a->sensors);
}

int agent_poll_ring(struct agent *a)
{
	return sensors_ring_consume(a->sensors);
}

/* Seconds between read-backs of the policy maps. */
#define VERIFY_NS (3ULL * 1000000000ULL)

static void on_tamper(void *ctx, const char *map, const char *what)
{
	struct agent *a = ctx;

	agent_integrity(a, SESSION_NONE, LOGINUID_NONE, "policy_tamper",
			"%s map differs from the policy: %s (repaired)", map, what);
}

/* Sync folders created since the last look are watched from now on. Someone with root
 * can edit the maps (bpftool map update): read them back now and then, report any
 * difference and put the policy back. */
static void verify_policy(struct agent *a)
{
	uint64_t now = agent_now_ns();

	if (now - a->last_verify_ns < VERIFY_NS)
		return;
	a->last_verify_ns = now;
	policy_discover(a->policy);
	policy_verify(a->policy, on_tamper, a);
}

int agent_drain(struct agent *a)
{
	int err;

	verify_policy(a);
	/* Exits that are still in the ring must be seen before their flows are dropped. */
	agent_poll_ring(a);
	err = drain_flows(a);
	if (!err)
		err = drain_gaps(a);
	drain_prune_labels(a);
	return err;
}

int agent_mounts_changed(struct agent *a)
{
	a->n_mounts = 0;
	return policy_refresh_media(a->policy);
}

static void read_drops(struct agent *a)
{
	const struct sensor_maps *m = sensors_maps(a->sensors);
	int ncpu = libbpf_num_possible_cpus();
	uint64_t *vals;

	if (ncpu <= 0 || !(vals = calloc(ncpu, sizeof(*vals))))
		return;
	for (uint32_t i = 0; i < XM_DROP_MAX; i++) {
		uint64_t sum = 0;

		if (bpf_map_lookup_elem(m->drops, &i, vals))
			continue;
		for (int c = 0; c < ncpu; c++)
			sum += vals[c];
		a->stats.drops[i] = sum;
	}
	free(vals);
}

static uint64_t map_capacity(int fd)
{
	struct bpf_map_info info = { 0 };
	__u32 len = sizeof(info);

	return bpf_obj_get_info_by_fd(fd, &info, &len) ? 0 : info.max_entries;
}

const char *agent_drop_name(unsigned int i)
{
	static const char *const names[] = {
		[XM_DROP_RING_EXEC] = "ring_exec", [XM_DROP_RING_FORK] = "ring_fork",
		[XM_DROP_RING_EXIT] = "ring_exit", [XM_DROP_RING_OPEN] = "ring_open",
		[XM_DROP_RING_MMAP] = "ring_mmap", [XM_DROP_RING_CONNECT] = "ring_connect",
		[XM_DROP_RING_URING] = "ring_uring", [XM_DROP_FLOW_FULL] = "flow_full",
		[XM_DROP_SOCK_FULL] = "sock_full", [XM_DROP_WATCH_FULL] = "watch_full",
		[XM_DROP_FLOW_QUOTA] = "flow_quota", [XM_DROP_SINK_FULL] = "sink_full",
		[XM_DROP_TOTALS_FULL] = "totals_full",
		[XM_DROP_RING_LINEAGE] = "ring_lineage", [XM_DROP_LABEL_FULL] = "label_full",
		[XM_DROP_RING_EVASION] = "ring_evasion",
	};
	_Static_assert(ARRAY_SIZE(names) == XM_DROP_MAX, "name every enum xm_drop");

	return i < ARRAY_SIZE(names) ? names[i] : NULL;
}

void agent_get_stats(struct agent *a, struct agent_stats *st)
{
	read_drops(a);
	if (!a->stats.flows_capacity)
		a->stats.flows_capacity = map_capacity(sensors_maps(a->sensors)->flows);
	*st = a->stats;
}

const char *agent_hooks_text(const struct agent *a)
{
	return sensors_hooks_text(a->sensors);
}

struct session_table *agent_sessions(struct agent *a)
{
	return a->sessions;
}
