/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Prometheus text-format metrics for node_exporter's textfile collector: one file,
 * rewritten whole every tick (temp file in the same directory, fsync-free rename), so the
 * collector never reads half a file. Counters end in _total; map fill is entries beside
 * capacity so an alert can be written on the ratio.
 */
#ifndef EXFILMON_METRICS_OUT_H
#define EXFILMON_METRICS_OUT_H

#include <stdint.h>

#define METRICS_MAX_DROPS 16
#define METRICS_MAX_MAPS 4

struct metrics_map {
	const char *name;
	uint64_t entries, capacity;
};

struct metrics_snapshot {
	const char *version;
	const char *config_sha256;
	const char *hooks;
	uint64_t start_time_ns, now_ns;
	unsigned programs_attached;
	uint64_t events, activities, bad_records, alerts;
	uint64_t gaps, lost_records;
	const char *drop_names[METRICS_MAX_DROPS];
	uint64_t drops[METRICS_MAX_DROPS];
	unsigned n_drops;
	struct metrics_map maps[METRICS_MAX_MAPS];
	unsigned n_maps;
	uint64_t sessions, processes, processes_refused;
	uint64_t evidence_bytes, evidence_errors, evidence_next_seq;
	uint64_t syslog_dropped, syslog_queued_bytes;
};

/* Writes s to path atomically (path.tmp, then rename). Returns 0 or -errno. */
int metrics_write(const char *path, const struct metrics_snapshot *s);

#endif
