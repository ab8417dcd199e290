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
	char *metrics_path;         /* Prometheus textfile; NULL disables */
	int syslog_facility;        /* 0..23 (RFC 5424 numbers) */
	char *syslog_ca;            /* tls://: CA file; NULL: the system trust store */
	uint64_t evidence_segment_bytes;
	uint64_t evidence_retention_ns;
	uint64_t evidence_retention_bytes;
	uint64_t evidence_seal_interval_ns; /* a block is sealed at least this often */
	uint64_t evidence_heartbeat_ns;     /* a heartbeat block is sealed this often */
	char *state_dir;            /* baselines and agent state */
	uint32_t ring_bytes;        /* BPF ring buffer size, power of two */
	uint32_t poll_interval_ms;  /* how often kernel counters are drained */
	/* fleet: shipping to NATS JetStream (docs/fleet.md); no servers: standalone */
	char **fleet_servers;       /* nats://HOST:PORT or tls://HOST:PORT */
	size_t n_fleet_servers;
	char *fleet_tls_ca;         /* PEM CA the server certificate must chain to; NULL: system */
	char *fleet_tls_cert;       /* client certificate and key (PEM), both or neither */
	char *fleet_tls_key;
	char *fleet_credentials;    /* NATS .creds (JWT) or nkey seed file; NULL: none */
	char *fleet_host_id;        /* [A-Za-z0-9_-]{1,64}, or an absolute path to read it from */
	uint64_t fleet_heartbeat_ns;
	char **fleet_groups;        /* policy groups this host belongs to */
	size_t n_fleet_groups;
	bool require_signed;        /* policy.require_signed: only signed bundles replace this */
	char sha256[65];            /* hex SHA-256 of the file's bytes ("builtin" hashes the default text) */
};

/*
 * Fills cfg with the built-in defaults (what runs when no file is given; docs/config.md
 * lists them), path NULL and sha256 the hash of the default's canonical YAML text.
 * Returns 0, or -ENOMEM with *cfg zeroed.
 */
int config_defaults(struct config *cfg);

/*
 * Parses path into *cfg; keys the file leaves out take their defaults (but a sources
 * section that is present replaces both source lists). On success returns 0, *cfg owns
 * its memory (free with config_free), cfg->sha256 hashes the file's bytes and *errors is
 * NULL. On failure returns -EINVAL (bad content), -ENOMEM, or -errno / -EFBIG when the
 * file cannot be read; *cfg is zeroed and *errors (when errors is not NULL) is a
 * malloc'd text of one "FILE:LINE:COL: key: message\n" line per error, every error
 * found rather than the first (caller frees). The caller's running config is never
 * touched, so a refused reload leaves it in force. A NULL path loads the built-in
 * defaults (config_defaults).
 */
int config_load(const char *path, struct config *cfg, char **errors);

/* As config_load, on text already in memory; name is used in messages. */
int config_load_string(const char *name, const char *text, size_t len, struct config *cfg,
		       char **errors);

void config_free(struct config *cfg);

/* Reads a whole file (at most 1 MiB, the most a config or bundle can be) into a
 * malloc'd *text of *len bytes. Returns 0, -EFBIG, -ENOMEM or -errno. */
int config_read_file(const char *path, char **text, size_t *len);

/* True when addr (16 bytes, IPv4-mapped form) and port (host order) fall in one of the
 * rules; a rule with port 0 matches every port. */
bool config_net_match(const struct net_match *rules, size_t n, const uint8_t addr[16],
		      uint16_t port);

/* True when s is a host id or group name: [A-Za-z0-9_-]{1,64}. */
bool config_name_ok(const char *s);

/* True when path is tree or lies below it; both in the normalized spelling config_load
 * stores (no "//", "/.", "..", trailing slash). For the source/sink overlap rule. */
bool config_path_within(const char *path, const char *tree);

/*
 * Key i of the configuration ("detect.window"), its default as YAML text and a one-line
 * description, all static; false when i is past the last key. For documentation and the
 * tests that keep docs/config.md and examples/exfilmon.yaml complete.
 */
bool config_key_describe(size_t i, const char **name, const char **default_text,
			 const char **doc);

#endif
