/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Alerts of the centre: the same ECS shape as the agent's (docs/alerts.md), stored in
 * PostgreSQL under a key that makes raising one idempotent across restarts,
 * redeliveries and instances, and written to a JSON-lines file and syslog only once
 * the transaction that stored it has committed.
 */
#ifndef EXFILMON_CENTRAL_ALERT_H
#define EXFILMON_CENTRAL_ALERT_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>
#include <libpq-fe.h>

struct alert_sink;

/* path "" or NULL: no file. NULL with errno set when the file cannot be opened. */
struct alert_sink *alert_sink_open(const char *path, bool use_syslog);
void alert_sink_close(struct alert_sink *s);

/* An ECS alert skeleton: @timestamp now, event (kind, category, action, id = key,
 * sequence 1, start/end), rule (name, description), user, host, exfilmon.alert_key.
 * host and user may be NULL. */
json_t *alert_doc(const char *rule, const char *key, const char *host, const char *user,
		  uint64_t start_ns, uint64_t end_ns);

/*
 * Stores doc (stolen) as alert key inside the caller's open transaction. When
 * exfilmon.fingerprint is set and differs from the stored one the alert gets a new
 * revision; otherwise a known key is left alone. Returns 1 when stored (queued for the
 * file and syslog), 0 when already known, -EIO.
 */
int alert_raise(struct alert_sink *s, PGconn *db, const char *key, const char *host_id,
		const char *user, json_t *doc);
/* After COMMIT: writes what was queued. After ROLLBACK: forgets it. */
void alert_sink_committed(struct alert_sink *s);
void alert_sink_rolled_back(struct alert_sink *s);

/* RFC 3339 UTC with milliseconds. */
void alert_time(uint64_t ns, char *buf, size_t len);

#endif
