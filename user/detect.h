/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Detection: per session and per user, sliding windows and a long lookback over the
 * activity stream. Time only comes in through the activities and detect_tick(), so
 * tests drive it with a clock they control. One alert per episode: a rule that keeps
 * firing updates its open episode (revision+1) instead of raising a new one.
 */
#ifndef EXFILMON_DETECT_H
#define EXFILMON_DETECT_H

#include "activity.h"
#include "alert.h"
#include "config.h"

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

/* Returns NULL with errno set. state_path (may be NULL) persists user baselines. */
struct detect *detect_new(const struct detect_config *cfg, const struct detect_ops *ops,
			  const char *state_path);
/* Applies a reloaded configuration without losing windows or episodes. */
void detect_reconfigure(struct detect *d, const struct detect_config *cfg);
/* Feeds one slice; alerts are emitted from inside this call. */
void detect_feed(struct detect *d, const struct activity *act);
/* Advances time: expires windows, closes quiet episodes, rolls baseline days. */
void detect_tick(struct detect *d, uint64_t now_ns);
/* Writes baselines to state_path (also done by detect_free). Returns 0 or -errno. */
int detect_save(struct detect *d);
void detect_set_config_hash(struct detect *d, const char *sha256_hex);
/* Sets the evidence sequence number that the next activity's record carries. */
void detect_set_evidence_seq(struct detect *d, uint64_t seq);
void detect_free(struct detect *d);

#endif
