// SPDX-License-Identifier: GPL-2.0-only
/*
 * The heartbeat message: the agent's health and chain head, so the central side sees a
 * host that went quiet, lost detail or had its store cut (FLEET_WIRE.md, section 3).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "fleet.h"

/* RFC 3339 UTC with milliseconds. */
static void rfc3339_ms(uint64_t ns, char out[32])
{
	time_t s = (time_t)(ns / 1000000000ULL);
	struct tm tm;
	size_t n;

	gmtime_r(&s, &tm);
	n = strftime(out, 32, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + n, 32 - n, ".%03uZ", (unsigned)(ns / 1000000ULL % 1000));
}

static json_t *u64(uint64_t v)
{
	return json_integer((json_int_t)v);
}

static json_t *chain_json(const struct fleet_heartbeat *hb)
{
	char seg[17] = "";

	if (!hb->have_chain)
		return json_null();
	/* "seg-<16 hex>.xev" -> the 16 hex digits, as in the message ids */
	if (hb->chain_segment && strlen(hb->chain_segment) >= 20)
		snprintf(seg, sizeof(seg), "%.16s", hb->chain_segment + 4);
	return json_pack("{s:s,s:o,s:s}", "segment", seg, "block", u64(hb->chain_block), "hash",
			 hb->chain_hash ? hb->chain_hash : "");
}

static json_t *counters_json(json_t *o, const struct fleet_heartbeat *hb)
{
	const struct fleet_counters *c = &hb->counters;

	json_object_set_new(o, "records_written", u64(c->records_written));
	json_object_set_new(o, "blocks_written", u64(c->blocks_written));
	json_object_set_new(o, "blocks_shipped", u64(hb->blocks_shipped));
	json_object_set_new(o, "backlog_blocks", u64(hb->backlog_blocks));
	json_object_set_new(o, "ring_drops", u64(c->ring_drops));
	json_object_set_new(o, "gap_records", u64(c->gap_records));
	json_object_set_new(o, "map_full", u64(c->map_full));
	json_object_set_new(o, "syslog_drops", u64(c->syslog_drops));
	json_object_set_new(o, "sensors_attached", u64(c->sensors_attached));
	json_object_set_new(o, "deleted_unshipped",
			    json_pack("{s:o,s:o,s:o,s:o}", "blocks", u64(hb->deleted.blocks),
				      "records", u64(hb->deleted.records), "first_block",
				      u64(hb->deleted.first_block), "last_block",
				      u64(hb->deleted.last_block)));
	return o;
}

char *fleet_heartbeat_json(const struct fleet_heartbeat *hb)
{
	json_t *o = json_object(), *groups = json_array();
	char ts[32];
	char *s;

	rfc3339_ms(hb->ts_ns, ts);
	json_object_set_new(o, "host_id", json_string(hb->host_id));
	json_object_set_new(o, "host_name", json_string(hb->host_name ? hb->host_name : ""));
	json_object_set_new(o, "agent_version", json_string(hb->agent_version));
	json_object_set_new(o, "config_sha256", json_string(hb->config_sha256));
	json_object_set_new(o, "seq", u64(hb->seq));
	json_object_set_new(o, "start_id", json_string(hb->start_id));
	json_object_set_new(o, "ts", json_string(ts));
	json_object_set_new(o, "interval_s", u64(hb->interval_s));
	json_object_set_new(o, "chain", chain_json(hb));
	counters_json(o, hb);
	for (size_t i = 0; i < hb->n_groups; i++)
		json_array_append_new(groups, json_string(hb->groups[i]));
	json_object_set_new(o, "groups", groups);
	/* The policy in force (docs/policy.md); null when the daemon did not say. */
	json_object_set_new(o, "policy", hb->counters.have_policy
				 ? json_pack("{s:I, s:s}", "serial",
					     (json_int_t)hb->counters.policy_serial, "sha256",
					     hb->counters.policy_sha256)
				 : json_null());
	json_object_set_new(o, "clean_shutdown", json_boolean(hb->clean_shutdown));
	s = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	return s;
}
