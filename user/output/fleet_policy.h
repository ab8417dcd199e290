/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Policy delivery over the fleet (docs/policy.md, FLEET_WIRE.md 4-5): a NATS connection
 * of its own, a watch on the JetStream key-value bucket `exfilmon-policy` that keeps the
 * newest value of this host's group keys and `all`, policy events published on
 * exfilmon.policyevent.<host_id>, and the push that `exfilctl policy push` uses. The
 * watch runs on its own thread; the daemon takes delivered bundles from its loop and
 * judges them exactly as it judges the config file.
 */
#ifndef EXFILMON_FLEET_POLICY_H
#define EXFILMON_FLEET_POLICY_H

#include <stddef.h>
#include <stdint.h>

#define FLEET_POLICY_BUCKET "exfilmon-policy"
#define FLEET_POLICY_MAX_KEYS 33   /* up to 32 groups and "all" */

struct fleet_policy_opts {
	const char *servers;        /* "nats://127.0.0.1:4222[,nats://...]" */
	const char *creds;          /* NATS credentials file, or NULL */
	const char *tls_ca;         /* CA file: the connection must be TLS; or NULL */
	const char *tls_cert;       /* client certificate and key (PEM), both or NULL */
	const char *tls_key;
	const char *host_id;        /* [A-Za-z0-9_-]{1,64} */
	const char *const *groups;  /* this host's groups; "all" is always watched */
	size_t n_groups;
};

struct fleet_policy;

/*
 * Starts connecting (in the background: a server that is down now is retried forever)
 * and watching. NULL with errno set on bad options or no memory.
 */
struct fleet_policy *fleet_policy_start(const struct fleet_policy_opts *o);

/*
 * Takes one delivered value not taken before (the newest per key; an older value that
 * was overtaken before it was taken is never seen). Returns 1 with *data malloc'd (caller
 * frees), *len, key (the group name) and *revision; 0 when nothing is waiting.
 */
int fleet_policy_take(struct fleet_policy *f, char key[65], char **data, size_t *len,
		      uint64_t *revision);

/* True while connected to a server. */
int fleet_policy_connected(struct fleet_policy *f);

/*
 * Publishes {"host_id","ts","event","serial","sha256","reason"} on
 * exfilmon.policyevent.<host_id>. Buffered by the client while disconnected.
 * Returns 0 or -EIO.
 */
int fleet_policy_event(struct fleet_policy *f, const char *event, uint64_t serial,
		       const char *sha256, const char *reason);

/* Stops the watch thread and closes the connection. Accepts NULL. */
void fleet_policy_stop(struct fleet_policy *f);

/*
 * One-shot: connects (waiting at most timeout_ms), creates the bucket when missing
 * (history 5) and puts data under key. Returns 0 with *revision, or -errno (-ETIMEDOUT,
 * -EIO); why gets the NATS error text.
 */
int fleet_policy_push(const struct fleet_policy_opts *o, const char *key, const void *data,
		      size_t len, int timeout_ms, uint64_t *revision, char *why, size_t why_len);

#endif
