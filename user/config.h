/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The configuration IT pushes to every workstation (YAML, docs/config.md). Parsing is
 * all-or-nothing: config_load() either fills a complete struct config or leaves the
 * caller's running one untouched and reports every error as FILE:LINE:COL: message.
 */
#ifndef EXFILMON_CONFIG_H
#define EXFILMON_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* An address range, optionally with a port. IPv4 is stored IPv4-mapped (::ffff:a.b.c.d)
 * so one 128-bit form serves both families; prefix counts bits of that form. */
struct net_match {
	uint8_t addr[16];
	uint8_t prefix;   /* 0..128 over the mapped form (an IPv4 /24 is 120) */
	uint16_t port;    /* host order; 0 means any port */
	char text[64];    /* as written in the file, for messages and alerts */
};

struct detect_config {
	uint64_t window_ns;         /* sliding window for bulk_read / bulk_objects */
	uint64_t bulk_read_bytes;   /* source bytes in one window that make a collection */
	uint64_t bulk_objects;      /* distinct source objects in one window */
	uint64_t exfil_bytes;       /* unapproved egress bytes after a collection */
	uint64_t lookback_ns;       /* how far back a collection links to an exfiltration */
	uint64_t drip_bytes;        /* cumulative source bytes over drip_window_ns */
	uint64_t drip_window_ns;
	uint64_t staging_bytes;     /* bytes written outside sources by a collecting session */
	double baseline_factor;     /* alert when a day exceeds factor x the user's baseline */
	uint64_t baseline_min_bytes;/* below this a day never counts as a deviation */
};

struct config {
	char *path;                 /* file it came from, NULL for the built-in default */
	char **source_paths;
	size_t n_source_paths;
	struct net_match *services;
	size_t n_services;
	struct net_match *allow;
	size_t n_allow;
	bool removable_media;
	char **sync_folders;        /* as written; "~/" means every user's home */
	size_t n_sync_folders;
	struct detect_config detect;
	char *alerts_path;          /* JSON lines; NULL disables */
	char *evidence_dir;
	char *syslog_url;           /* "unix:/dev/log", "tcp://HOST:PORT", NULL disables */
	uint64_t evidence_segment_bytes;
	uint64_t evidence_retention_ns;
	uint64_t evidence_retention_bytes;
	uint64_t evidence_seal_interval_ns; /* a block is sealed at least this often */
	char *state_dir;            /* baselines and agent state */
	uint32_t ring_bytes;        /* BPF ring buffer size, power of two */
	uint32_t poll_interval_ms;  /* how often kernel counters are drained */
	char sha256[65];            /* hex SHA-256 of the file's bytes ("builtin" hashes the default text) */
};

/* Fills cfg with the built-in defaults (what runs when no file is given). */
void config_defaults(struct config *cfg);

/*
 * Parses path into *cfg. On success returns 0 and *cfg owns its memory (free with
 * config_free). On failure returns -EINVAL (or -errno for I/O), leaves *cfg zeroed, and
 * sets *errors to a malloc'd text of one "FILE:LINE:COL: message" line per error
 * (caller frees).
 */
int config_load(const char *path, struct config *cfg, char **errors);

/* As config_load, on text already in memory; name is used in messages. */
int config_load_string(const char *name, const char *text, size_t len, struct config *cfg,
		       char **errors);

void config_free(struct config *cfg);

/* True when addr (16 bytes, mapped form) and port fall in one of the rules. */
bool config_net_match(const struct net_match *rules, size_t n, const uint8_t addr[16],
		      uint16_t port);

#endif
