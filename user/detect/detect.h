/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Detection: per session and per user, sliding windows and a long lookback over the
 * activity stream. Time only comes in through the activities and detect_tick(), so
 * tests drive it with a clock they control. One alert per episode: a rule that keeps
 * firing updates its open episode (revision+1) instead of raising a new one.
 */
#ifndef EXFILMON_DETECT_H
#define EXFILMON_DETECT_H

#include "model/activity.h"
#include "model/alert.h"
#include "config/config.h"

struct detect;

/* Identity of a session, as session.c knows it; detection copies what it needs. */
struct detect_subject {
	const char *user;
	const char *tty;
	const char *remote_host;
};

struct detect_ops {
	/* Called for every new alert and every update of an open episode. */
	void (*emit)(void *ctx, const struct alert *alert);
	/* Fills *subject for a session (may leave fields NULL). */
	void (*subject)(void *ctx, uint32_t session_id, uint32_t loginuid,
			struct detect_subject *subject);
	void *ctx;
};

/* What detection has seen and done since detect_new(), for status reports. */
struct detect_stats {
	uint64_t activities;         /* slices fed */
	uint64_t unattributed;       /* slices outside any login session: never judged */
	uint64_t unattributed_bytes;
	uint64_t untracked;          /* slices dropped because the subject table was full */
	uint64_t alerts;             /* episodes raised (revision 1) */
	uint64_t updates;            /* revisions after the first */
	uint64_t sessions;           /* session subjects held now */
	uint64_t users;              /* user subjects held now */
	uint64_t baselines;          /* users with a baseline (learned or learning) */
	uint64_t saturated;          /* distinct-object sets that hit their cap */
};

/*
 * Returns NULL with errno set (EINVAL without cfg, ops or ops->emit). state_path (may be
 * NULL) persists user baselines; a missing file starts empty, a malformed one is logged
 * and replaced at the next save. Alert ids start at (seconds of the first activity or
 * tick) << 20, so ids of successive runs do not collide in one alerts file.
 */
struct detect *detect_new(const struct detect_config *cfg, const struct detect_ops *ops,
			  const char *state_path);
/* Applies a reloaded configuration without losing windows or episodes. */
void detect_reconfigure(struct detect *d, const struct detect_config *cfg);
/*
 * Feeds one slice; alerts are emitted from inside this call. Slices of SESSION_NONE or
 * LOGINUID_NONE (services, cron, a root backup) are counted in the stats and otherwise
 * ignored: they never reach a person's windows and never raise an alert.
 */
void detect_feed(struct detect *d, const struct activity *act);
/* Advances time: expires windows, closes quiet episodes, rolls baseline days. */
void detect_tick(struct detect *d, uint64_t now_ns);
/* Writes baselines to state_path (also done by detect_free). Returns 0 or -errno. */
int detect_save(struct detect *d);
/* Stamps alerts raised from now on with the running config's SHA-256 (hex). */
void detect_set_config_hash(struct detect *d, const char *sha256_hex);
/* Sets the evidence sequence number that the next activity's record carries. */
void detect_set_evidence_seq(struct detect *d, uint64_t seq);
void detect_get_stats(const struct detect *d, struct detect_stats *st);

/* A fact that makes the sensors' picture of a session incomplete or untrustworthy. */
struct detect_integrity {
	uint64_t ts_ns;
	uint32_t session_id;      /* SESSION_NONE: the machine as a whole */
	uint32_t loginuid;
	const char *reason;       /* short fixed word: "flow_quota", "policy_tamper", ... */
	const char *detail;
};
/* Raises a sensor_integrity alert, once per (session, reason) per run (for SESSION_NONE,
 * once per distinct detail): the first report is what an investigator needs, and an
 * attacker must not be able to flood the alerts. */
void detect_integrity(struct detect *d, const struct detect_integrity *in);
/* Saves baselines (as detect_save) and frees everything; accepts NULL. */
void detect_free(struct detect *d);

#endif
