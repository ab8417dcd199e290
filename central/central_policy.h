/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What IT pushed to which group (docs/central.md): a watch on the JetStream key-value
 * bucket exfilmon-policy (the one `exfilctl policy push` writes and agents watch) that
 * records every bundle whose signature verifies against central.yaml's policy.trusted
 * keys in policy_pushes. A value that does not parse, is not signed by a trusted key or
 * sits under a key its header does not name is logged and not believed. The watch is
 * made anew after every reconnect and after a failed insert, with the bucket's whole
 * history; the table's key (group, revision) makes that idempotent.
 */
#ifndef EXFILMON_CENTRAL_POLICY_H
#define EXFILMON_CENTRAL_POLICY_H

#include <libpq-fe.h>
#include <nats/nats.h>

struct policy_watch;

/* trusted_dir "" turns the watch off (policy_watch_poll does nothing). NULL on ENOMEM. */
struct policy_watch *policy_watch_new(const char *trusted_dir);
void policy_watch_free(struct policy_watch *w);

/*
 * --check-config's test of policy.trusted: the directory exists and every *.pub in it is
 * an Ed25519 public key. Returns 0, or -EINVAL / -errno with *errors (caller frees) one
 * "KEY: message" line per problem. *keys gets the number of usable keys.
 */
int policy_trust_check(const char *dir, char **errors, size_t *keys);

/* Asks for the watch to be made anew (NATS reconnected). Safe from libnats' threads. */
void policy_watch_rewatch(struct policy_watch *w);

/*
 * Opens the watch when needed (retrying while the bucket does not exist yet), then takes
 * what arrived (at most a few hundred values) and records the believed ones. Never
 * blocks for more than a few milliseconds once the watch is open. Returns 0, or -EIO
 * when the database refused a row (the watch is made again later).
 */
int policy_watch_poll(struct policy_watch *w, natsConnection *nc, PGconn *db);

#endif
