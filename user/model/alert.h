/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * An alert is one episode of one rule for one subject (a session, or a user across
 * sessions). Detection creates it and updates it as the episode grows; outputs render
 * it (output_json.c) and send it (alerts file, syslog, evidence).
 */
#ifndef EXFILMON_ALERT_H
#define EXFILMON_ALERT_H

#include <stdint.h>

enum alert_rule {
	RULE_BULK_READ = 1,   /* "bulk_collection_bytes" */
	RULE_BULK_OBJECTS,    /* "bulk_collection_objects" */
	RULE_EXFIL,           /* "exfiltration" */
	RULE_STAGING,         /* "staging" */
	RULE_DRIP,            /* "slow_drip" */
	RULE_BASELINE,        /* "baseline_deviation" */
	RULE_INTEGRITY,       /* "sensor_integrity": blinded, tampered with or evaded */
};

#define ALERT_MAX_ITEMS 8

/* A top-N entry: a path, service, destination or process with its byte count. */
struct alert_item {
	char name[256];
	uint64_t bytes;
	uint32_t pid;             /* processes only */
};

struct alert {
	uint64_t id;              /* unique per agent run and episode, stable across updates */
	enum alert_rule rule;
	uint32_t revision;        /* 1 when first raised, +1 per update of the same episode */
	uint64_t start_ns;        /* episode start, CLOCK_REALTIME */
	uint64_t end_ns;          /* last activity in the episode */
	uint64_t raised_ns;       /* when this revision was produced */
	uint32_t session_id;      /* SESSION_NONE for a per-user alert spanning sessions */
	uint32_t loginuid;
	char user[64];
	char tty[32];
	char remote_host[64];
	uint64_t source_bytes;    /* collected in the episode */
	uint64_t source_objects;  /* distinct objects in the episode */
	uint64_t egress_bytes;    /* left through unapproved channels */
	uint64_t threshold;       /* the configured figure that was crossed */
	double baseline_bytes;    /* baseline rule: the user's usual daily volume */
	struct alert_item sources[ALERT_MAX_ITEMS];      /* top paths and services */
	unsigned n_sources;
	struct alert_item destinations[ALERT_MAX_ITEMS]; /* ip:port, mount or folder */
	unsigned n_destinations;
	struct alert_item processes[ALERT_MAX_ITEMS];    /* comm/exe with pid */
	unsigned n_processes;
	uint64_t evidence_first_seq; /* evidence records behind it: [first, last] record seqs */
	uint64_t evidence_last_seq;
	char config_sha256[65];
	char reason[32];          /* sensor_integrity: what happened ("flow_quota", ...) */
	char detail[256];         /* sensor_integrity: in words, naming map, file or peer */
};

/* "bulk_collection_bytes", ... : the rule.name that outputs carry. */
const char *alert_rule_name(enum alert_rule rule);

#endif
