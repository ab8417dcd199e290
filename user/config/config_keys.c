// SPDX-License-Identifier: GPL-2.0-only
/*
 * The key table (name, parser, bounds, default, hints, doc line), lookups in it, and
 * the built-in default text generated from it, so defaults, their hash and the
 * reference cannot drift apart.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "config_int.h"
#include "parse.h"

#define OFF(f) offsetof(struct config, f)
#define DOFF(f) (offsetof(struct config, detect) + offsetof(struct detect_config, f))

const struct key cfg_keys[] = {
	{ "sources.paths", cfg_value_paths, OFF(source_paths), OFF(n_source_paths), 0, MAX_PATHS,
	  F_CLEAR_IN_SECTION | F_NOT_ROOT, "[/srv/crm-exports]", "a list of absolute paths", NULL,
	  "files or directory trees holding customer data" },
	{ "sources.services", cfg_value_nets, OFF(services), OFF(n_services), 0, MAX_NET_RULES,
	  F_PORT_REQUIRED | F_CLEAR_IN_SECTION, "[\"127.0.0.2:5432\"]",
	  "ADDR[/N]:PORT, e.g. 127.0.0.2:5432, 10.20.0.0/16:443, [::1]:5432",
	  "prefix at most /32 for IPv4, /128 for IPv6; port 1-65535",
	  "servers that return customer records" },
	{ "egress.allow", cfg_value_nets, OFF(allow), OFF(n_allow), 0, MAX_NET_RULES, F_PORT_FORBIDDEN,
	  "[127.0.0.1/32, 127.0.0.2/32, \"::1/128\"]", "ADDR[/N], e.g. 10.0.0.0/8, ::1/128",
	  "prefix at most /32 for IPv4, /128 for IPv6",
	  "destinations that are not exfiltration channels" },
	{ "egress.removable_media", cfg_value_bool, OFF(removable_media), 0, 0, 0, 0, "true",
	  "true or false", NULL, "writes to removable media count as egress" },
	{ "egress.sync_folders", cfg_value_paths, OFF(sync_folders), OFF(n_sync_folders), 0, MAX_PATHS,
	  F_TILDE, "[~/Dropbox, ~/Nextcloud]", "a list of absolute paths or ~/PATH", NULL,
	  "writes below these folders count as egress" },
	{ "detect.window", cfg_value_duration, DOFF(window_ns), 0, SEC, 7 * DAY, 0, "10m",
	  "e.g. 10m, 24h", "1s to 7d", "sliding window of the bulk rules" },
	{ "detect.bulk_read", cfg_value_size, DOFF(bulk_read_bytes), 0, 1, UINT64_MAX, 0, "50MiB",
	  "e.g. 50MiB, 5MB", "at least 1 byte", "source bytes in one window that make a collection" },
	{ "detect.bulk_objects", cfg_value_count, DOFF(bulk_objects), 0, 1, 100000000, 0, "2000",
	  "a whole number, e.g. 2000", "1 to 100000000",
	  "distinct source objects in one window that make a collection" },
	{ "detect.exfil", cfg_value_size, DOFF(exfil_bytes), 0, 1, UINT64_MAX, 0, "5MiB",
	  "e.g. 5MiB", "at least 1 byte", "unapproved egress bytes after a collection" },
	{ "detect.lookback", cfg_value_duration, DOFF(lookback_ns), 0, SEC, 90 * DAY, 0, "24h",
	  "e.g. 24h, 7d", "1s to 90d", "how long a collection stays linked to later egress" },
	{ "detect.drip", cfg_value_rate, DOFF(drip_bytes), DOFF(drip_window_ns), 60 * SEC, 90 * DAY, 0,
	  "200MiB/24h", "SIZE/DURATION, e.g. 200MiB/24h", "size at least 1 byte, duration 1m to 90d",
	  "slow collection per user over a long window" },
	{ "detect.staging", cfg_value_size, DOFF(staging_bytes), 0, 1, UINT64_MAX, 0, "50MiB",
	  "e.g. 50MiB", "at least 1 byte", "bytes a collecting session writes outside the sources" },
	{ "detect.baseline_factor", cfg_value_factor, DOFF(baseline_factor), 0, 1, 1000000, 0, "10",
	  "a number, e.g. 10 or 2.5", "1 to 1000000",
	  "a day above this many times the user's baseline is a deviation" },
	{ "detect.baseline_min", cfg_value_size, DOFF(baseline_min_bytes), 0, 0, UINT64_MAX, 0, "100MiB",
	  "e.g. 100MiB", NULL, "below this a day never counts as a deviation" },
	{ "output.alerts", cfg_value_path, OFF(alerts_path), 0, 0, 0, F_OFF,
	  "/var/log/exfilmon/alerts.jsonl", "an absolute path or off", NULL,
	  "alerts as JSON lines" },
	{ "output.evidence", cfg_value_path, OFF(evidence_dir), 0, 0, 0, 0, "/var/lib/exfilmon/evidence",
	  "an absolute path", NULL, "evidence store directory" },
	{ "output.syslog", cfg_value_syslog, OFF(syslog_url), 0, 0, 0, F_OFF, "unix:/dev/log",
	  "unix:/PATH, tcp://HOST:PORT, tls://HOST:PORT or off", NULL,
	  "syslog destination: local socket (RFC 3164), or a collector (RFC 5424 over TCP or TLS)" },
	{ "output.syslog_facility", cfg_value_facility, OFF(syslog_facility), 0, 0, 0, 0, "local5",
	  "local0..local7, user, daemon, auth, authpriv or syslog", NULL,
	  "syslog facility of every message" },
	{ "output.syslog_ca", cfg_value_ca, OFF(syslog_ca), 0, 0, 0, 0, "system",
	  "system, or the absolute path of a PEM file", NULL,
	  "tls://: the CA(s) the collector's certificate must chain to" },
	{ "output.metrics", cfg_value_path, OFF(metrics_path), 0, 0, 0, F_OFF, "off",
	  "an absolute path, or off", NULL,
	  "Prometheus metrics for node_exporter's textfile collector, rewritten every tick" },
	{ "evidence.segment_size", cfg_value_size, OFF(evidence_segment_bytes), 0, 64 * 1024, 1ULL << 40,
	  0, "16MiB", "e.g. 16MiB", "64KiB to 1TiB", "segment file size before rotation" },
	{ "evidence.retention", cfg_value_duration, OFF(evidence_retention_ns), 0, 3600 * SEC,
	  100 * 365 * DAY, F_ZERO_OK, "180d", "e.g. 180d, or 0 to keep everything",
	  "0, or 1h to 100 years", "segments older than this are deleted" },
	{ "evidence.retention_size", cfg_value_size, OFF(evidence_retention_bytes), 0, 0, UINT64_MAX, 0,
	  "2GiB", "e.g. 2GiB, or 0 for no limit", NULL,
	  "oldest segments are deleted while the store is bigger" },
	{ "evidence.seal_interval", cfg_value_duration, OFF(evidence_seal_interval_ns), 0, SEC / 10,
	  3600 * SEC, 0, "5s", "e.g. 5s, 500ms", "100ms to 1h",
	  "a block is sealed at least this often" },
	{ "evidence.heartbeat", cfg_value_duration, OFF(evidence_heartbeat_ns), 0, SEC, 3600 * SEC,
	  0, "60s", "e.g. 60s", "1s to 1h",
	  "a heartbeat block is sealed this often, so a stopped agent shows as a silence" },
	{ "agent.state_dir", cfg_value_path, OFF(state_dir), 0, 0, 0, 0, "/var/lib/exfilmon/state",
	  "an absolute path", NULL, "learned baselines and agent state" },
	{ "agent.ring_buffer", cfg_value_ring, OFF(ring_bytes), 0, 4096, 1ULL << 30, 0, "4MiB",
	  "a size, e.g. 4MiB", "a power of two from 4KiB to 1GiB", "kernel-to-agent ring buffer" },
	{ "agent.poll_interval", cfg_value_interval_ms, OFF(poll_interval_ms), 0, 10000000ULL, 60 * SEC,
	  0, "250ms", "e.g. 1s, 250ms", "10ms to 60s", "how often kernel counters are drained" },
	{ "fleet.servers", cfg_value_words, OFF(fleet_servers), OFF(n_fleet_servers), 0, 32, F_URL,
	  "[]", "a list of nats://HOST:PORT or tls://HOST:PORT", NULL,
	  "NATS JetStream servers to ship evidence, alerts and heartbeats to; empty: standalone" },
	{ "fleet.tls", cfg_value_tls, 0, 0, 0, 0, 0, "{}", "{ca: PATH, cert: PATH, key: PATH}", NULL,
	  "CA that the server certificate must chain to, and this host's client certificate" },
	{ "fleet.credentials", cfg_value_path, OFF(fleet_credentials), 0, 0, 0, F_OFF, "off",
	  "an absolute path or off", NULL, "NATS user credentials (.creds) file" },
	{ "fleet.host_id", cfg_value_host_id, OFF(fleet_host_id), 0, 0, 0, 0, "/etc/machine-id",
	  "1-64 of A-Z a-z 0-9 _ -, or an absolute path of a file holding it", NULL,
	  "this host's name in subjects and message ids" },
	{ "fleet.heartbeat", cfg_value_duration, OFF(fleet_heartbeat_ns), 0, SEC, 3600 * SEC, 0,
	  "15s", "e.g. 15s, 1m", "1s to 1h", "how often a heartbeat is published" },
	{ "fleet.groups", cfg_value_words, OFF(fleet_groups), OFF(n_fleet_groups), 0, 64, 0, "[]",
	  "a list of names (A-Z a-z 0-9 _ -)", NULL, "policy groups this host belongs to" },
	{ "policy.require_signed", cfg_value_bool, OFF(require_signed), 0, 0, 0, 0, "false",
	  "true or false", NULL, "only signed policy bundles may replace this config" },
};
const size_t cfg_n_keys = ARRAY_SIZE(cfg_keys);

_Static_assert(ARRAY_SIZE(cfg_keys) <= 48, "grow ctx.seen and ctx.section");

/* Length of the section part of a key name ("detect" in "detect.window"). */
size_t cfg_section_len(const struct key *k)
{
	return strchr(k->name, '.') - k->name;
}

bool cfg_in_section(const struct key *k, const char *section)
{
	size_t len = cfg_section_len(k);

	return strlen(section) == len && !strncmp(k->name, section, len);
}

/* Index of "section.name" in the table, or -1. */
long cfg_find_key(const char *section, const char *name)
{
	for (size_t i = 0; i < cfg_n_keys; i++)
		if (cfg_in_section(&cfg_keys[i], section) &&
		    !strcmp(cfg_keys[i].name + cfg_section_len(&cfg_keys[i]) + 1, name))
			return (long)i;
	return -1;
}

/* "window, bulk_read, ..." for section, or the section names for NULL; for messages. */
const char *cfg_key_names(const char *section, char *buf, size_t size)
{
	size_t used = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < cfg_n_keys; i++) {
		const struct key *k = &cfg_keys[i];
		int len = (int)cfg_section_len(k);
		const char *name = section ? k->name + len + 1 : k->name;

		if (section && !cfg_in_section(k, section))
			continue;
		if (!section && i && !strncmp(cfg_keys[i - 1].name, k->name, len + 1))
			continue;
		used += snprintf(buf + used, used < size ? size - used : 0, "%s%.*s",
				 used ? ", " : "", section ? (int)strlen(name) : len, name);
	}
	return buf;
}


/* The default as YAML, one "section:" block per section in table order; caller frees. */
char *cfg_builtin_text(size_t *len)
{
	char *text = NULL;
	FILE *f = open_memstream(&text, len);

	if (!f)
		return NULL;
	fputs("# exfilmon built-in default\n", f);
	for (size_t i = 0; i < cfg_n_keys; i++) {
		const struct key *k = &cfg_keys[i];
		int slen = (int)cfg_section_len(k);

		if (!i || strncmp(cfg_keys[i - 1].name, k->name, slen + 1))
			fprintf(f, "%.*s:\n", slen, k->name);
		fprintf(f, "  %s: %s\n", k->name + slen + 1, k->def);
	}
	if (fclose(f)) {
		free(text);
		return NULL;
	}
	return text;
}


bool config_key_describe(size_t i, const char **name, const char **default_text,
			 const char **doc)
{
	if (i >= cfg_n_keys)
		return false;
	*name = cfg_keys[i].name;
	*default_text = cfg_keys[i].def;
	*doc = cfg_keys[i].doc;
	return true;
}

