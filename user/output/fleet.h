/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Fleet shipping: every sealed evidence block, every alert revision and a periodic
 * heartbeat go to NATS JetStream (wire format: docs/fleet.md). One thread does all the
 * network work, so the sensors, the drain and detection never wait on the network. The
 * evidence store is the buffer: blocks are read back from disk by number, in order, and
 * the cursor (the last block the server acknowledged) is persisted in the state
 * directory only after the acknowledgement, so a crash at any point re-sends at most
 * blocks the server de-duplicates by message id. Nothing of the backlog is kept in RAM.
 */
#ifndef EXFILMON_FLEET_H
#define EXFILMON_FLEET_H

#include <stdbool.h>
#include <stdint.h>

#include "config/config.h"

struct fleet;

struct fleet_opts {
	const struct config *cfg;     /* fleet.* keys, evidence and state dirs; copied */
	const char *host_name;
	const char *config_sha256;
	uint64_t next_block;          /* evidence_next_block(): blocks below it are sealed */
};

/* What the collector knows and the heartbeat reports (pushed every tick). */
struct fleet_counters {
	uint64_t records_written, blocks_written;
	uint64_t ring_drops, gap_records, map_full, syslog_drops;
	uint32_t sensors_attached;
	char config_sha256[65];       /* the config in force (a reload changes it) */
	bool have_policy;             /* the policy keeper's serial and hash are known */
	uint64_t policy_serial;       /* 0: a plain (unsigned) config */
	char policy_sha256[65];
};

/* Blocks retention deleted before they were shipped (cumulative, kept in the cursor). */
struct fleet_deleted {
	uint64_t blocks, records, first_block, last_block;
};

struct fleet_status {
	bool connected;
	char server[256];             /* URL of the server connected to, "" when none */
	char host_id[65];
	uint64_t next_block;          /* first block not acknowledged */
	uint64_t backlog_blocks, backlog_bytes;
	uint64_t oldest_unshipped_ns; /* newest record time of the oldest unshipped block, 0 */
	uint64_t blocks_shipped, alerts_shipped, alerts_dropped, heartbeats_sent;
	uint64_t duplicates;          /* blocks the stream already held (re-sent after a crash) */
	uint64_t unreadable_blocks;   /* skipped: not readable from the store (altered on disk) */
	char last_ack[160];           /* message id of the last acknowledged block */
	uint64_t last_ack_ns, last_heartbeat_ns;
	struct fleet_deleted deleted;
	char last_error[256];
};

/* Whether cfg ships anywhere (fleet.servers not empty). */
bool fleet_enabled(const struct config *cfg);

/* Reads the host id (fleet.host_id, or the file it names) into out; 0 or -errno
 * (-EINVAL when the file does not hold a valid id). */
int fleet_host_id(const struct config *cfg, char out[65]);

/* Loads the cursor, connects in the background and starts the shipping thread.
 * NULL with errno set (a bad host id, TLS files that cannot be loaded). */
struct fleet *fleet_start(const struct fleet_opts *o);

/* A block was sealed (the evidence on_seal callback); head_hex is its hash. */
void fleet_sealed(struct fleet *f, const char *segment, uint64_t block_no, const char *head_hex);

/* Queues one alert revision (json: the alerts.jsonl line without newline). Never
 * blocks; when the bounded queue is full the oldest alert is dropped and counted (its
 * evidence record still ships with its block). Returns 0 or -ENOMEM. */
int fleet_alert(struct fleet *f, const char *json, uint64_t alert_id, unsigned revision);

void fleet_set_counters(struct fleet *f, const struct fleet_counters *c);

/* Retention deleted blocks first..last (records in them) that were never shipped. */
void fleet_unshipped_deleted(struct fleet *f, uint64_t first, uint64_t last, uint64_t records);

/* First block not yet acknowledged (for evidence_set_unshipped). */
uint64_t fleet_first_unshipped(struct fleet *f);

void fleet_get_status(struct fleet *f, struct fleet_status *st);

/* Stops the thread. A clean stop first ships what is sealed while connected (at most a
 * few seconds); both then send a last heartbeat with clean_shutdown set to clean (a
 * reload passes false). Accepts NULL. */
void fleet_stop(struct fleet *f, bool clean);

/* Heartbeat JSON (FLEET_WIRE.md); pure, for the thread and the tests. Caller frees. */
struct fleet_heartbeat {
	const char *host_id, *host_name, *agent_version, *config_sha256, *start_id;
	uint64_t seq, ts_ns, interval_s;
	bool have_chain;
	const char *chain_segment;    /* "seg-<16 hex>.xev" */
	uint64_t chain_block;
	const char *chain_hash;
	struct fleet_counters counters;
	uint64_t blocks_shipped, backlog_blocks;
	struct fleet_deleted deleted;
	char *const *groups;
	size_t n_groups;
	bool clean_shutdown;
};
char *fleet_heartbeat_json(const struct fleet_heartbeat *hb);

/* The cursor file: the last acknowledged block (segment:block), the next block to ship,
 * the host id it was shipped as, deleted-unshipped totals. */
struct fleet_cursor {
	uint64_t next_block;
	char last_acked[40];          /* "<16 hex segment>:<block>", "-" before the first ack */
	char host_id[65];
	struct fleet_deleted deleted;
};
/* 0, -ENOENT when there is none yet, -EINVAL when it is damaged. */
int fleet_cursor_load(const char *path, struct fleet_cursor *c);
/* Atomically (temp file, fsync, rename, fsync of the directory). 0 or -errno. */
int fleet_cursor_save(const char *path, const struct fleet_cursor *c);

#endif
