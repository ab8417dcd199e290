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

struct case_model {
	struct case_session *sessions;
	size_t n_sessions;
	json_t *alerts;              /* array of alert objects, latest revision each */
	json_t *records;             /* with keep_records: [{seq, ts_ns, type, data}] */
	uint64_t last_seq;           /* of the last record read */
	struct ev_report rep;
};

struct case_opts {
	const char *dir;
	struct ev_filter filter;
	const char *user;            /* keep records of this user's sessions only */
	bool keep_records;
	bool stream;                 /* case_stream's first pass: per-user alerts only */
};

/* Parses ISO-8601 ("2026-11-28T07:51:54Z", date only, or with a space) or unix seconds. */
int ctl_parse_time(const char *s, uint64_t *ns);
void ctl_fmt_time(uint64_t ns, char *buf, size_t len);

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

/* Options every investigator command understands. */
struct ctl_args {
	struct case_opts o;
	bool json;
	const char *format;          /* export: json|csv */
	const char *output;          /* report: -o FILE */
	bool have_session;
};

/* Parses --dir --json --session --user --since --until --format -o; prints usage on
 * error. Returns 0, or the exit status to return (2 for bad usage). */
int ctl_parse_args(int argc, char **argv, struct ctl_args *a, const char *usage);

/* One human line per evidence record, "" when not worth a line (ctl_timeline.c). */
void ctl_describe(const char *type, json_t *d, char *buf, size_t len);

#endif
