// SPDX-License-Identifier: GPL-2.0-only
/*
 * The metrics file (see metrics_out.h). Names follow the Prometheus conventions:
 * exfilmon_ prefix, base units (bytes, seconds), _total for counters; label values are
 * escaped as the text format requires (backslash, quote, newline).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "common/atomic_file.h"
#include "metrics_out.h"

static void label_value(FILE *f, const char *s)
{
	for (; s && *s; s++) {
		if (*s == '\\' || *s == '"')
			fputc('\\', f);
		if (*s == '\n')
			fputs("\\n", f);
		else
			fputc(*s, f);
	}
}

static void metric(FILE *f, const char *name, const char *type, const char *help, uint64_t v)
{
	fprintf(f, "# HELP exfilmon_%s %s\n# TYPE exfilmon_%s %s\nexfilmon_%s %llu\n", name,
		help, name, type, name, (unsigned long long)v);
}

static void header(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP exfilmon_%s %s\n# TYPE exfilmon_%s %s\n", name, help, name, type);
}

static void write_info(FILE *f, const struct metrics_snapshot *s)
{
	header(f, "info", "gauge", "Agent version, config in force and hooks chosen (always 1).");
	fputs("exfilmon_info{version=\"", f);
	label_value(f, s->version);
	fputs("\",config_sha256=\"", f);
	label_value(f, s->config_sha256);
	fputs("\",hooks=\"", f);
	label_value(f, s->hooks);
	fputs("\"} 1\n", f);
	header(f, "start_time_seconds", "gauge", "When the agent started (unix seconds).");
	fprintf(f, "exfilmon_start_time_seconds %.3f\n", s->start_time_ns / 1e9);
	header(f, "last_update_seconds", "gauge", "When this file was written (unix seconds).");
	fprintf(f, "exfilmon_last_update_seconds %.3f\n", s->now_ns / 1e9);
	metric(f, "programs_attached", "gauge", "BPF programs attached.", s->programs_attached);
}

static void write_counters(FILE *f, const struct metrics_snapshot *s)
{
	metric(f, "events_total", "counter", "Ring records decoded.", s->events);
	metric(f, "activities_total", "counter", "Activity slices (bytes per object) emitted.",
	       s->activities);
	metric(f, "bad_records_total", "counter", "Ring records of wrong size or type.",
	       s->bad_records);
	metric(f, "alerts_total", "counter", "Alert revisions raised.", s->alerts);
	metric(f, "gaps_total", "counter", "Gap records (detail lost, bytes still counted).",
	       s->gaps);
	metric(f, "lost_records_total", "counter", "Ring records the kernel could not reserve.",
	       s->lost_records);
	header(f, "drops_total", "counter", "Kernel-side drops by reason.");
	for (unsigned i = 0; i < s->n_drops; i++) {
		fputs("exfilmon_drops_total{reason=\"", f);
		label_value(f, s->drop_names[i]);
		fprintf(f, "\"} %llu\n", (unsigned long long)s->drops[i]);
	}
}

static void write_maps(FILE *f, const struct metrics_snapshot *s)
{
	header(f, "map_entries", "gauge", "Entries in a bounded table (BPF map or process table).");
	for (unsigned i = 0; i < s->n_maps; i++) {
		fputs("exfilmon_map_entries{map=\"", f);
		label_value(f, s->maps[i].name);
		fprintf(f, "\"} %llu\n", (unsigned long long)s->maps[i].entries);
	}
	header(f, "map_capacity", "gauge", "Capacity of that table.");
	for (unsigned i = 0; i < s->n_maps; i++) {
		fputs("exfilmon_map_capacity{map=\"", f);
		label_value(f, s->maps[i].name);
		fprintf(f, "\"} %llu\n", (unsigned long long)s->maps[i].capacity);
	}
}

static void write_state(FILE *f, const struct metrics_snapshot *s)
{
	metric(f, "sessions", "gauge", "Login sessions tracked.", s->sessions);
	metric(f, "processes", "gauge", "Processes tracked.", s->processes);
	metric(f, "processes_refused_total", "counter",
	       "New processes not tracked because the process table was full.",
	       s->processes_refused);
	metric(f, "evidence_bytes", "gauge", "Bytes of evidence segments on disk.",
	       s->evidence_bytes);
	metric(f, "evidence_errors_total", "counter", "Evidence write errors.", s->evidence_errors);
	metric(f, "evidence_next_seq", "gauge", "Sequence number of the next evidence record.",
	       s->evidence_next_seq);
	metric(f, "syslog_dropped_total", "counter", "Syslog messages dropped.", s->syslog_dropped);
	metric(f, "syslog_queued_bytes", "gauge", "Syslog bytes waiting for the collector.",
	       s->syslog_queued_bytes);
}

int metrics_write(const char *path, const struct metrics_snapshot *s)
{
	struct atomic_file a;
	FILE *f = atomic_file_open(&a, path, 0644);

	if (!f)
		return -errno;
	write_info(f, s);
	write_counters(f, s);
	write_maps(f, s);
	write_state(f, s);
	/* node_exporter reads *.prom only, so the temp file is never collected half written;
	 * rewritten every tick, so not synced (a lost one is rewritten at the next). */
	return atomic_file_commit(&a, path, false);
}
