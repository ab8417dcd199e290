/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Detections only the centre can make (docs/central.md): ring, fleet_user,
 * agent_silent, evidence_tampered (a heartbeat's chain head the blocks contradict),
 * evidence_gap (blocks the agent deleted unshipped) and config_drift. Each rule is one
 * query over the rollup and host tables and one transaction; alerts are idempotent by
 * key, so a pass run twice, or by two instances, raises each alert once.
 */
#ifndef EXFILMON_CENTRAL_DETECT_H
#define EXFILMON_CENTRAL_DETECT_H

#include <libpq-fe.h>

#include "central_alert.h"
#include "central_config.h"

/* Runs every rule once. Returns 0, or -EIO when a rule's transaction failed (the other
 * rules still ran). */
int detect_run(const struct central_config *cfg, PGconn *db, struct alert_sink *sink);

#endif
