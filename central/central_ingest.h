/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Ingest: one batch of JetStream messages (evidence blocks, heartbeats, agent alerts)
 * into PostgreSQL in one transaction. Each host's blocks are checked against the chain
 * the centre already holds (under a per-host advisory lock, so two instances never
 * interleave one host), their records decompressed and copied in, duplicates dropped
 * by the keys. The caller acknowledges the messages only when this returns 0.
 */
#ifndef EXFILMON_CENTRAL_INGEST_H
#define EXFILMON_CENTRAL_INGEST_H

#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "central_alert.h"
#include "central_config.h"

struct ingest_msg {
	const char *subject;         /* exfilmon.<kind>.<host_id> */
	const unsigned char *data;
	size_t len;
	const char *segment;         /* Exfilmon-Segment header, or NULL */
};

struct ingest_stats {
	uint64_t blocks, records, duplicates, pending, heartbeats, alerts, rejected;
};

struct ingest;

struct ingest *ingest_new(const struct central_config *cfg, struct alert_sink *sink);
void ingest_free(struct ingest *in);
/* Call after (re)connecting: creates the session's staging tables. 0 or -EIO. */
int ingest_prepare(struct ingest *in, PGconn *db);
/* Stores the batch in one transaction. 0 when committed, -EIO (rolled back) otherwise. */
int ingest_batch(struct ingest *in, PGconn *db, const struct ingest_msg *m, size_t n);
/* Blocks that waited gap_timeout for their predecessor: raises evidence_gap and
 * continues the chain from them. 0 or -EIO. */
int ingest_resolve_gaps(struct ingest *in, PGconn *db);
/* Forgets which day partitions exist (after retention or a failed batch). */
void ingest_forget_partitions(struct ingest *in);
const struct ingest_stats *ingest_stats(const struct ingest *in);

/* The network a ring is judged on: "a.b.c.0/24" for IPv4 (and IPv4-mapped IPv6), the
 * /64 for IPv6 ("2001:db8:1:2::/64"), "" when ip is NULL or not an address. */
void ingest_dst_net(const char *ip, char *out, size_t len);
/* True for [A-Za-z0-9_-]{1,64}. */
int ingest_host_id_ok(const char *h);

#endif
