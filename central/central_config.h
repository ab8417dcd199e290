/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * central.yaml: the configuration of exfilmon-central. Every key is in one table
 * (name, kind, bounds, default, doc line) in central_config.c; docs/central.md lists
 * them. Errors read "FILE:LINE:COL: KEY: message".
 */
#ifndef EXFILMON_CENTRAL_CONFIG_H
#define EXFILMON_CENTRAL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CENTRAL_MAX_SERVERS 8

struct central_config {
	char *servers[CENTRAL_MAX_SERVERS];  /* nats.servers */
	size_t n_servers;
	char *creds;                 /* nats.credentials: NATS creds file, or NULL */
	char *tls_ca;                /* nats.tls_ca */
	char *stream;                /* nats.stream */
	char *consumer;              /* nats.consumer: the durable shared by all instances */
	uint64_t fetch_batch;        /* nats.fetch_batch: messages per pull */
	uint64_t ack_wait_ns;        /* nats.ack_wait */
	uint64_t max_ack_pending;    /* nats.max_ack_pending */
	char *conninfo;              /* database.conninfo: libpq conninfo or URL */
	uint64_t batch_records;      /* database.batch_records: records per transaction, about */
	char *alerts_path;           /* output.alerts: JSON lines, "" for none */
	bool syslog;                 /* output.syslog */
	uint64_t detect_interval_ns; /* detect.interval */
	uint64_t silent_intervals;   /* detect.silent_intervals */
	uint64_t gap_timeout_ns;     /* detect.gap_timeout */
	uint64_t drift_grace_ns;     /* detect.drift_grace: behind the newest push this long */
	uint64_t ring_min_users;     /* ring.min_users */
	uint64_t ring_window_ns;     /* ring.window */
	uint64_t fu_bulk_bytes;      /* fleet_user.bulk_read */
	uint64_t fu_window_ns;       /* fleet_user.window */
	uint64_t fu_drip_bytes;      /* fleet_user.drip (bytes per drip window) */
	uint64_t fu_drip_window_ns;
	uint64_t retention_days;     /* retention.days (0: keep everything) */
	char *log_level;             /* log.level */
	char *trusted_dir;           /* policy.trusted: keys pushed bundles must verify with */
};

/* Defaults for every key. Returns 0 or -ENOMEM. */
int central_config_defaults(struct central_config *c);
/* Loads path over the defaults. On error returns -EINVAL (or -errno for the file) and
 * *errors (caller frees) holds one "FILE:LINE:COL: KEY: message" line per problem. */
int central_config_load(const char *path, struct central_config *c, char **errors);
void central_config_free(struct central_config *c);
/* Key i's name, default and doc line; false past the last. */
bool central_config_key(size_t i, const char **name, const char **def, const char **doc);

#endif
