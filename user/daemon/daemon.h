/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The daemon's state, shared by its main (exfilmond.c: options, start, stop) and the
 * policy loop (policy_loop.c: judging and applying candidate policies). Not an API
 * beyond the daemon folder.
 */
#ifndef EXFILMON_DAEMON_H
#define EXFILMON_DAEMON_H

#include "agent/agent.h"
#include "collector.h"
#include "common/loop.h"
#include "config/config.h"
#include "output/fleet_policy.h"
#include "policy_keeper.h"
#include "service.h"

#define EXIT_CONFIG SERVICE_EXIT_CONFIG
#define MAX_GROUPS BUNDLE_MAX_GROUPS

struct daemon {
	const char *config_path;
	const char *status_path;
	const char *check_path;
	struct keeper_opts ko;
	const char *groups[MAX_GROUPS];
	struct fleet_policy_opts fo;
	char host_id[65];
	char fleet_servers[4096];   /* from the config's fleet section when no --fleet */
	char fleet_tls[4][4096];    /* ca, cert, key, credentials from the config */
	struct config cfg;
	struct keeper keeper;
	struct collector *collector;
	struct agent *agent;
	struct loop *loop;
	struct fleet_policy *fleet;
	struct service service;
};

/* SIGHUP or the config file replaced: judge the file, apply it or report the refusal. */
void policy_loop_reload(struct daemon *d);
/* On each tick: judge and apply what the fleet delivered, highest serial first. */
void policy_loop_fleet_tick(struct daemon *d);
/* Logs and records which policy the agent starts on (loudly on a fallback). */
void policy_loop_report_start(struct daemon *d);
/* Starts the fleet policy watch when --fleet is given. 0 or -1 (logged). */
int policy_loop_start_fleet(struct daemon *d);
/* --check-config: the file judged as an agent in --group would, without a rollback
 * floor. Returns the exit status: 0 valid, EXIT_CONFIG not. */
int policy_loop_check_file(struct daemon *d);

#endif
