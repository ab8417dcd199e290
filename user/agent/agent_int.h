/* SPDX-License-Identifier: GPL-2.0-only */
/* The agent's internals, shared by agent.c, records.c and drain.c only. */
#ifndef EXFILMON_AGENT_INT_H
#define EXFILMON_AGENT_INT_H

#include "agent.h"
#include "sensors.h"
#include "objnames.h"
#include "policy.h"

#define AGENT_MAX_EXITED 4096
#define AGENT_MOUNT_CACHE 64

struct mount_cache_entry {
	uint32_t dev;
	char mnt[256];
	char root[256];
};

struct agent {
	struct sensors *sensors;
	struct policy *policy;
	struct session_table *sessions;
	struct objnames *names;
	struct agent_sink sink;
	char proc_root[128];
	char mountinfo[160];
	void *flow_cache;            /* tsearch tree of struct flow_seen */
	void *gap_cache;             /* tsearch tree of struct gap_seen */
	void *total_cache;           /* tsearch tree of struct total_seen */
	void *fill_cache;            /* tsearch tree of struct fill_seen (integrity.c) */
	uint64_t last_sweep_ns;      /* CLOCK_MONOTONIC of the last /proc sweep of flows */
	uint64_t last_verify_ns;     /* CLOCK_MONOTONIC of the last policy read-back */
	uint32_t exited[AGENT_MAX_EXITED]; /* pids that exited since the last drain */
	unsigned n_exited;
	struct mount_cache_entry mounts[AGENT_MOUNT_CACHE];
	unsigned n_mounts;
	int64_t boot_to_real_ns;     /* add to a boot-clock time to get CLOCK_REALTIME */
	uint64_t label_ttl_ns;       /* detect.lookback: older object labels are pruned */
	uint64_t pruned_ns;          /* boot clock of the last prune */
	char labels_path[4096];      /* derived-file labels kept across reboots; "" none */
	struct agent_stats stats;
};

/* records.c: the ring callback (ctx is the agent). */
int records_handle(void *ctx, void *data, size_t len);
uint64_t agent_realtime(const struct agent *a, uint64_t boot_ns);
void agent_refresh_clock(struct agent *a);
void agent_note_exit(struct agent *a, uint32_t pid);
/* IPv4-mapped addresses print as dotted quads. */
void agent_format_ip(const uint8_t addr[16], char *buf, size_t len);

/* integrity.c: facts that make the sensors' picture incomplete, as EV_INTEGRITY. */
void agent_integrity(struct agent *a, uint32_t session, uint32_t loginuid, const char *reason,
		     const char *fmt, ...) __attribute__((format(printf, 5, 6)));
/* The session holding the most flows in one walk. */
struct flow_top {
	uint32_t session, loginuid;
	uint64_t flows;
};
/* The flow map after a walk: live entries of max, and the session holding the most. */
void integrity_flow_pressure(struct agent *a, uint64_t live, uint32_t max,
			     const struct flow_top *top);
/* Reads the fills map: refused creations and maps at 80%, naming the session. */
int integrity_fills(struct agent *a);
uint64_t agent_now_ns(void);   /* CLOCK_MONOTONIC */
uint64_t agent_realtime_now(void);

/* drain.c */
int drain_flows(struct agent *a);
int drain_gaps(struct agent *a);
/* One flow as read from the map: its growth since the last read goes to the sink as an
 * EV_ACTIVITY (drain_flows calls it per entry; bench/collector_bench feeds it). */
void drain_take(struct agent *a, const struct xm_flow_key *k, const struct xm_flow_val *v);
void drain_forget(struct agent *a);
/* agent.c: writes the derived-file labels to labels_path, when there is one. */
void agent_save_labels(struct agent *a);
/* Deletes object labels not renewed within label_ttl_ns and saves the rest (at most
 * every 10 minutes). */
void drain_prune_labels(struct agent *a);
int drain_prune_dead_labels(struct agent *a);
void drain_free(struct agent *a);

#endif
