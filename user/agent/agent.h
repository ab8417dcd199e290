/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The agent: sensors + policy + session table, producing struct event for a consumer.
 * Ring records are decoded as they arrive; byte counters are drained on a timer into
 * EV_ACTIVITY deltas. Shared by the daemon and by exfilctl trace.
 */
#ifndef EXFILMON_AGENT_H
#define EXFILMON_AGENT_H

#include <stdint.h>

#include "abi.h"
#include "config/config.h"
#include "model/event.h"
#include "session.h"

struct agent_sink {
	void (*emit)(void *ctx, const struct event *ev);
	void *ctx;
};

struct agent_opts {
	const struct config *cfg;
	struct agent_sink sink;
	const char *proc_root;     /* NULL: "/proc" */
};

struct agent_stats {
	uint64_t records;          /* ring records decoded */
	uint64_t bad_records;      /* wrong size or type: ABI mismatch */
	uint64_t activities;       /* EV_ACTIVITY emitted */
	uint64_t gaps;             /* EV_GAP emitted */
	uint64_t lost_records;     /* ring records the kernel could not reserve */
	uint64_t drops[XM_DROP_MAX];
	uint64_t flows;            /* entries in the flow map after the last drain */
	uint64_t integrity;        /* EV_INTEGRITY emitted */
	uint64_t flows_capacity;   /* the flow map's max_entries */
	uint32_t hooks;
	unsigned programs;
};

struct agent;

/* Loads the sensors and applies cfg. NULL with errno set (reason logged). */
struct agent *agent_start(const struct agent_opts *opts);
/* Stops counting (programs detached), drains what was counted into the sink one last
 * time, then stops calling the sink. After it the consumer may go away first. */
void agent_quiesce(struct agent *a);
/* Quiesces if that was not done, then frees everything. Accepts NULL. */
void agent_stop(struct agent *a);

/* Applies a new validated config to the maps in place. Returns 0 or -errno. */
int agent_reconfigure(struct agent *a, const struct config *cfg);

int agent_ring_fd(const struct agent *a);
/* Consumes ready ring records. Returns count or -errno. */
int agent_poll_ring(struct agent *a);
/* Drains counters and gaps into events. Returns 0 or -errno. */
int agent_drain(struct agent *a);
/* Call when /proc/self/mountinfo signals a change. */
int agent_mounts_changed(struct agent *a);

void agent_get_stats(struct agent *a, struct agent_stats *st);
/* The status-file name of drops[i] ("ring_exec", ..., "watch_full"), NULL past the end. */
const char *agent_drop_name(unsigned int i);
const char *agent_hooks_text(const struct agent *a);
struct session_table *agent_sessions(struct agent *a);

#endif
