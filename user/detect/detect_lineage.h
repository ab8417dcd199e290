/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Lineage inside detection: the graph of who handed customer data to whom (processes and
 * objects, from the kernel's lineage records and source slices), and the
 * derived_exfiltration rule over derived egress. Internal to detect/: detect_engine.c
 * owns one and feeds it; the functions at the end are the engine's, for this module.
 */
#ifndef EXFILMON_DETECT_LINEAGE_H
#define EXFILMON_DETECT_LINEAGE_H

#include "detect.h"
#include "model/event.h"

struct lineage;

/* NULL with errno set. d outlives it. */
struct lineage *lineage_new(struct detect *d);
void lineage_free(struct lineage *l);
/* An EV_LINEAGE event: a label written to, read from, or sent by a process. */
void lineage_step(struct lineage *l, const struct event *ev);
/* A source slice (any session, services included): names what a process read. */
void lineage_source(struct lineage *l, const struct activity *act);
/* A derived egress slice: judged by derived_exfiltration. */
void lineage_egress(struct lineage *l, const struct activity *act);
/* Closes episodes quiet for detect.window. */
void lineage_tick(struct lineage *l, uint64_t now_ns);
/* Windows follow a reloaded detect.lookback. */
void lineage_reconfigure(struct lineage *l);
/* Processes and objects held in the graph, derived episodes raised. */
void lineage_counts(const struct lineage *l, uint64_t *nodes, uint64_t *alerts);

/* detect_engine.c, for this module. */
const struct detect_config *detect_cfg(const struct detect *d);
uint64_t detect_alert_id(struct detect *d, uint64_t now_ns);
uint64_t detect_evidence_seq(const struct detect *d);
/* Fills user, tty and remote host of a session into a. */
void detect_who(struct detect *d, uint32_t session_id, uint32_t loginuid, struct alert *a);
/* Stamps the config hash, counts and emits. */
void detect_publish(struct detect *d, struct alert *a);

#endif
