/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The daemon's pipeline: every agent event goes to the evidence store, activity feeds
 * detection, alerts go to the alerts file, syslog and evidence; sessions are recorded
 * the first time they are seen; a status file tells exfilctl status how it is doing.
 */
#ifndef EXFILMON_COLLECTOR_H
#define EXFILMON_COLLECTOR_H

#include <stdint.h>

#include "config/config.h"
#include "model/event.h"
#include "policy_keeper.h"

struct collector;
struct agent;

/* Opens outputs for cfg (evidence dir, alerts file, syslog). NULL with errno set. */
struct collector *collector_new(const struct config *cfg, const char *status_path);
/* The agent to ask for sessions and stats (set once it has started). */
void collector_set_agent(struct collector *c, struct agent *a);
/* The agent's sink callback (ctx is the collector). */
void collector_on_event(void *ctx, const struct event *ev);
/* Periodic work: detection time, evidence sealing/retention, status file. */
void collector_tick(struct collector *c, uint64_t now_ns);
/* Applies a new config's outputs and thresholds. Returns 0 or -errno. */
int collector_reconfigure(struct collector *c, const struct config *cfg);
/* Reopens the alerts file and the syslog link with the paths in force (logrotate's
 * postrotate sends SIGHUP or SIGUSR1). Returns 0 or -errno. */
int collector_reopen(struct collector *c);
/* Records the agent's start or stop ("start"/"stop") with hooks and config hash. */
void collector_agent_record(struct collector *c, const char *what, const char *hooks);
uint64_t collector_alerts(const struct collector *c);
/* The keeper's status, shown in the status file from now on (st outlives c). */
void collector_set_policy(struct collector *c, const struct policy_status *st);
/*
 * A policy event ("applied", "refused", "start") as a "policy" evidence record and a
 * syslog message (warning for a refusal or a start on a fallback, notice otherwise);
 * name is the candidate's file or key, reason "" when none.
 */
void collector_policy_event(struct collector *c, const char *event, const char *name,
			    const struct policy_info *info, const char *reason);
/* Seals, flushes and closes everything. Accepts NULL. */
void collector_free(struct collector *c);

#endif
