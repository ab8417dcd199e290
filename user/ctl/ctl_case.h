/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the investigator commands share: option parsing for --dir/--since/--until, time
 * formatting, opening a store with a clear error, and the case model (sessions with
 * their totals, alerts at their latest revision, the records of one session).
 */
#ifndef EXFILMON_CTL_CASE_H
#define EXFILMON_CTL_CASE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "evidence/evidence_read.h"

/* How long commands wait for the daemon to finish a seal in progress on a live store. */
#define CTL_SETTLE_MS 500

struct case_session {
	uint32_t session_id;
	uint32_t loginuid;
	char user[64];
	char tty[32];
	char remote_host[64];
	uint64_t login_ns, first_ns, last_ns;
	uint64_t source_bytes, egress_bytes, staging_bytes;
	unsigned alerts, gaps;
};

/* The host and agent that wrote the records, from the latest agent or session record. */
struct ctl_identity {
	char host_name[256];
	char host_id[40];
	char agent_id[40];
	char version[32];
};

struct case_model {
	struct case_session *sessions;
	size_t n_sessions;
	json_t *alerts;              /* array of alert objects, latest revision each */
	json_t *records;             /* with keep_records: [{seq, ts_ns, type, data}] */
	uint64_t last_seq;           /* of the last record read */
	struct ev_report rep;
	struct ctl_identity id;      /* as of the record being loaded */
	struct ctl_identity first_id; /* the first one found, for records before it */
};

struct case_opts {
	const char *dir;
	struct ev_filter filter;
	const char *user;            /* keep records of this user's sessions only */
	bool keep_records;
	bool stream;                 /* case_stream's first pass: per-user alerts only */
};

void ctl_fmt_time(uint64_t ns, char *buf, size_t len);
/* RFC 3339, UTC, milliseconds, as the alerts' @timestamp ("2026-11-28T07:31:54.500Z"). */
void ctl_fmt_rfc3339(uint64_t ns, char *buf, size_t len);
/* Remembers host and agent named by an agent or session record (ctl_ecs.c). */
void ctl_identity_note(struct ctl_identity *id, const char *type, json_t *data);
/* Records loaded before the first agent or session record (its segment was removed by
 * retention, or the copy starts mid-way) get the first identity found (ctl_ecs.c). */
void ctl_identity_backfill(json_t *records, const struct ctl_identity *first);
/* Adds @timestamp, ecs, event, host and agent (ECS) to an exported record. */
void ctl_ecs_record(json_t *rec, const char *type, json_t *data, uint64_t ts_ns,
		    const struct ctl_identity *id);

/* Reads the store into m. Prints a clear error and returns an exit status (0, 1). */
int case_load(const struct case_opts *o, struct case_model *m);
void case_free(struct case_model *m);

/* One record as {seq, ts_ns, type, data}; borrowed for the call. */
typedef void (*case_record_fn)(void *arg, json_t *rec);
/*
 * The records case_load with keep_records would keep, in store order, handed to fn one
 * at a time and never kept: memory stays that of the sessions and alerts however large
 * the store. Two walks of the store (the index skips other sessions' blocks in both);
 * the second stops at the last record the first saw. m is filled as by case_load, with
 * m->records holding only the per-user alert records. Returns an exit status (0, 1).
 */
int case_stream(const struct case_opts *o, struct case_model *m, case_record_fn fn, void *arg);
const struct case_session *case_find(const struct case_model *m, uint32_t session_id);
/* Whether alert (an alert object) concerns session s: its own session's, or a per-user
 * alert (session_id null) of the same login uid whose episode overlaps the session's
 * activity. A per-user alert without readable episode bounds covers all the user's
 * sessions. */
bool case_alert_covers(json_t *alert, const struct case_session *s);
/* JSON data of a record ("data" member of m->records entries). */
const char *case_str(json_t *o, const char *key);
long long case_int(json_t *o, const char *key);

/* verify --expect SEGMENT:BLOCK:HASH: a chain head the SIEM received. */
struct ctl_expect {
	bool set;
	char segment[32];
	uint64_t block;
	char hash[65];               /* lowercase hex */
};

/* The investigator commands' options (ctl_args.c); which ones a command accepts is a
 * table there, keyed by the command name. */
struct ctl_args {
	struct case_opts o;
	bool json;
	const char *format;          /* export: json|csv */
	const char *output;          /* report: -o FILE */
	const char *rule;            /* alerts: rule.name */
	const char *host;            /* alerts: host.name */
	struct ctl_expect expect;    /* verify */
	bool have_session;
};

/* Parses argv (argv[0] is the command name) against that command's options only: any
 * other option, a missing value or a value that does not parse prints why and the usage
 * and returns 2; --help prints usage and the options and exits 0. Returns 0 on success. */
int ctl_parse_args(int argc, char **argv, struct ctl_args *a, const char *usage);
/* The option list of cmd, one line each, as --help prints it. */
void ctl_print_options(FILE *f, const char *cmd);

/* The alerts and sessions tables, shared by the store and the central (--db) views
 * (ctl_alerts.c, ctl_sessions.c). */
void ctl_alert_header(void);
/* SESSION column text: the session id, or the sessions a per-user alert covers. */
void ctl_alert_line(json_t *alert, const char *session);
void ctl_session_header(void);
void ctl_session_line(const struct case_session *s);
json_t *ctl_session_json(const struct case_session *s);

/* One human line per evidence record, "" when not worth a line (ctl_timeline.c). */
void ctl_describe(const char *type, json_t *d, char *buf, size_t len);

#endif
