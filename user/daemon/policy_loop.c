// SPDX-License-Identifier: GPL-2.0-only
/*
 * The policy loop: every candidate policy the daemon meets after start (the config file
 * on SIGHUP or replacement, each value the fleet delivers) goes to the policy keeper;
 * an admitted one is applied in place through agent and collector reconfiguration, a
 * refused one is logged, recorded as evidence, sent to syslog and to the fleet, and the
 * running policy stays in force (docs/policy.md).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common/log.h"
#include "config/bundle.h"
#include "daemon.h"
#include "output/fleet.h"

/* Prints each "FILE:LINE:COL: message" line through the log. */
static void log_config_errors(const char *errors)
{
	const char *p = errors;

	while (p && *p) {
		const char *nl = strchr(p, '\n');
		int n = nl ? (int)(nl - p) : (int)strlen(p);

		log_error("config: %.*s", n, p);
		p = nl ? nl + 1 : NULL;
	}
}

/* Best effort serial and hash of a refused candidate, for the record. */
static void candidate_info(const char *text, size_t len, struct policy_info *info)
{
	struct bundle b;

	memset(info, 0, sizeof(*info));
	if (text && bundle_detect(text, len) && !bundle_parse("", text, len, &b, NULL)) {
		info->is_signed = true;
		info->serial = b.h.serial;
		memcpy(info->sha256, b.h.config_sha256, sizeof(info->sha256));
		memcpy(info->key_id, b.h.key_id, sizeof(info->key_id));
	} else if (text) {
		bundle_sha256_hex(text, len, info->sha256);
	}
}

static void report_refused(struct daemon *d, const char *name, const char *text, size_t len,
			   const char *why)
{
	const struct policy_status *st = &d->keeper.st;
	struct policy_info cand;

	if (why && (strchr(why, '\n') || !strncmp(why, name, strlen(name))))
		log_config_errors(why);
	else if (why)
		log_error("policy: %s refused: %s", name, why);
	else
		log_error("policy: %s", st->last_refusal);
	log_error("policy: %s refused; the running policy (serial %llu, sha256=%s) stays in "
		  "force", name, (unsigned long long)st->info.serial, st->info.sha256);
	candidate_info(text, len, &cand);
	collector_policy_event(d->collector, "refused", name, &cand, st->last_refusal);
	fleet_policy_event(d->fleet, "refused", cand.serial, cand.sha256, st->last_refusal);
}

static void report_applied(struct daemon *d, const char *name)
{
	const struct policy_info *in = &d->keeper.st.info;

	log_info("config: reloaded %s, sha256=%s", name, in->sha256);
	log_info("policy: applied %s (%s, serial %llu%s%s)", name,
		 in->is_signed ? "signed" : "unsigned", (unsigned long long)in->serial,
		 in->is_signed ? ", key " : "", in->key_id);
	collector_policy_event(d->collector, "applied", name, in, "");
	fleet_policy_event(d->fleet, "applied", in->serial, in->sha256, "");
}

/* Puts fresh in force (taking it over) through the same in-place path as a reload. */
static int apply(struct daemon *d, struct config *fresh)
{
	int err = agent_reconfigure(d->agent, fresh);

	if (!err)
		err = collector_reconfigure(d->collector, fresh);
	if (err) {
		log_error("config: applying %s: %s", fresh->path ? fresh->path : "policy",
			  strerror(-err));
		/* The maps may hold part of the new policy; put the old one back whole. */
		agent_reconfigure(d->agent, &d->cfg);
		collector_reconfigure(d->collector, &d->cfg);
		config_free(fresh);
		return err;
	}
	config_free(&d->cfg);
	d->cfg = *fresh;
	return 0;
}

/* Judges and, when admitted, applies one candidate. Returns 0 when it is in force. */
static int offer(struct daemon *d, const char *name, const char *text, size_t len,
		 enum policy_source from)
{
	struct policy_info info;
	struct config fresh;
	char *why = NULL;
	bool same_rules;
	int err;

	err = keeper_judge(&d->keeper, name, text, len, &fresh, &info, &why);
	if (err) {
		report_refused(d, name, text, len, why);
		free(why);
		return err;
	}
	same_rules = !strcmp(fresh.sha256, d->cfg.sha256);
	if (same_rules && info.serial == d->keeper.st.info.serial) {
		config_free(&fresh);
		return 0;
	}
	if (d->config_path)
		fresh.path = strdup(d->config_path);
	if (same_rules)
		config_free(&fresh);
	else if ((err = apply(d, &fresh)))
		return err;
	if ((err = keeper_commit(&d->keeper, text, len, &d->cfg, &info, from)))
		log_error("policy: saving last-known-good in %s: %s", d->ko.state_dir,
			  strerror(-err));
	report_applied(d, name);
	return 0;
}

void policy_loop_reload(struct daemon *d)
{
	char *text = NULL;
	size_t len = 0;
	int err;

	if (!d->config_path)
		return;
	err = config_read_file(d->config_path, &text, &len);
	if (err) {
		d->keeper.st.refusals++;
		snprintf(d->keeper.st.last_refusal, sizeof(d->keeper.st.last_refusal),
			 "%s: cannot read: %s", d->config_path, strerror(-err));
		report_refused(d, d->config_path, NULL, 0, NULL);
		return;
	}
	offer(d, d->config_path, text, len, POLICY_FROM_FILE);
	free(text);
}

/* Replaces the config file by the fleet's bundle, so the next start reads what runs. */
static void save_to_config_file(const char *path, const char *text, size_t len)
{
	char tmp[PATH_MAX];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.fleet.tmp", path);
	f = fopen(tmp, "we");
	if (!f || fwrite(text, 1, len, f) != len || fflush(f) || fsync(fileno(f)) ||
	    fclose(f) || rename(tmp, path)) {
		log_error("policy: writing the fleet's bundle to %s: %s", path, strerror(errno));
		unlink(tmp);
	}
}

struct delivery {
	char key[65];
	char *data;
	size_t len;
	uint64_t revision, serial;
};

static int by_serial_desc(const void *a, const void *b)
{
	const struct delivery *x = a, *y = b;

	return x->serial < y->serial ? 1 : x->serial > y->serial ? -1 : 0;
}

void policy_loop_fleet_tick(struct daemon *d)
{
	struct delivery got[FLEET_POLICY_MAX_KEYS];
	size_t n = 0;

	while (n < FLEET_POLICY_MAX_KEYS && fleet_policy_take(d->fleet, got[n].key, &got[n].data,
							      &got[n].len, &got[n].revision)) {
		struct bundle b;

		got[n].serial = bundle_parse("", got[n].data, got[n].len, &b, NULL) ? 0
										: b.h.serial;
		n++;
	}
	qsort(got, n, sizeof(got[0]), by_serial_desc);
	for (size_t i = 0; i < n; i++) {
		char name[128];

		snprintf(name, sizeof(name), "%s/%.64s@%llu", FLEET_POLICY_BUCKET, got[i].key,
			 (unsigned long long)got[i].revision);
		if (!offer(d, name, got[i].data, got[i].len, POLICY_FROM_FLEET) && d->config_path &&
		    d->keeper.st.source == POLICY_FROM_FLEET)
			save_to_config_file(d->config_path, got[i].data, got[i].len);
		free(got[i].data);
	}
}

int policy_loop_check_file(struct daemon *d)
{
	struct keeper k = { .o = d->ko };
	const char *groups[BUNDLE_MAX_GROUPS];
	struct policy_info info;
	struct config cfg;
	struct bundle b;
	char *text = NULL, *why = NULL;
	size_t len;
	int err = config_read_file(d->check_path, &text, &len);

	if (err) {
		fprintf(stderr, "%s:1:1: cannot read: %s\n", d->check_path, strerror(-err));
		return EXIT_CONFIG;
	}
	/* No --group (a package's postinst): any group the bundle names is this host's. */
	if (!k.o.n_groups && !bundle_parse("", text, len, &b, NULL)) {
		for (size_t i = 0; i < b.h.n_groups; i++)
			groups[i] = b.h.groups[i];
		k.o.groups = groups;
		k.o.n_groups = b.h.n_groups;
	}
	err = keeper_judge(&k, d->check_path, text, len, &cfg, &info, &why);
	free(text);
	if (err) {
		if (err == -EPERM)
			fprintf(stderr, "%s: refused: ", d->check_path);
		fputs(why ? why : strerror(-err), stderr);
		if (!why || why[strlen(why) - 1] != '\n')
			fputc('\n', stderr);
		free(why);
		return EXIT_CONFIG;
	}
	if (info.is_signed)
		printf("%s: valid, sha256=%s, signed bundle serial %llu for %s, key %s\n",
		       d->check_path, cfg.sha256, (unsigned long long)info.serial, info.groups,
		       info.key_id);
	else
		printf("%s: valid, sha256=%s\n", d->check_path, cfg.sha256);
	config_free(&cfg);
	return 0;
}

void policy_loop_report_start(struct daemon *d)
{
	const struct policy_status *st = &d->keeper.st;
	const char *name = d->config_path ? d->config_path : "(builtin)";

	if (st->note[0])
		log_error("policy: %s", st->note);
	log_info("policy: in force: %s (%s, serial %llu, sha256=%s)%s",
		 policy_source_name(st->source), st->info.is_signed ? "signed" : "unsigned",
		 (unsigned long long)st->info.serial, st->info.sha256,
		 st->require_signed ? ", require_signed" : "");
	collector_policy_event(d->collector, st->note[0] ? "start_fallback" : "start", name,
			       &st->info, st->note);
}

/* Without --fleet, the fleet section of the config in force (docs/fleet.md): the same
 * servers, TLS files, credentials and host id as the shipper, read once at start. */
static int fleet_from_config(struct daemon *d)
{
	size_t used = 0;

	if (!fleet_enabled(&d->cfg))
		return 0;
	for (size_t i = 0; i < d->cfg.n_fleet_servers && used < sizeof(d->fleet_servers); i++)
		used += (size_t)snprintf(d->fleet_servers + used, sizeof(d->fleet_servers) - used,
					 "%s%s", i ? "," : "", d->cfg.fleet_servers[i]);
	if (fleet_host_id(&d->cfg, d->host_id)) {
		log_error("fleet-policy: no usable host id (fleet.host_id)");
		return -1;
	}
	snprintf(d->fleet_tls[0], sizeof(d->fleet_tls[0]), "%s",
		 d->cfg.fleet_tls_ca ? d->cfg.fleet_tls_ca : "");
	snprintf(d->fleet_tls[1], sizeof(d->fleet_tls[1]), "%s",
		 d->cfg.fleet_tls_cert ? d->cfg.fleet_tls_cert : "");
	snprintf(d->fleet_tls[2], sizeof(d->fleet_tls[2]), "%s",
		 d->cfg.fleet_tls_key ? d->cfg.fleet_tls_key : "");
	snprintf(d->fleet_tls[3], sizeof(d->fleet_tls[3]), "%s",
		 d->cfg.fleet_credentials ? d->cfg.fleet_credentials : "");
	d->fo.servers = d->fleet_servers;
	d->fo.tls_ca = d->fleet_tls[0][0] ? d->fleet_tls[0] : NULL;
	d->fo.tls_cert = d->fleet_tls[1][0] ? d->fleet_tls[1] : NULL;
	d->fo.tls_key = d->fleet_tls[2][0] ? d->fleet_tls[2] : NULL;
	d->fo.creds = d->fleet_tls[3][0] ? d->fleet_tls[3] : NULL;
	d->fo.host_id = d->host_id;
	return 0;
}

int policy_loop_start_fleet(struct daemon *d)
{
	if (!d->fo.servers && fleet_from_config(d))
		return -1;
	if (!d->fo.servers)
		return 0;
	d->fleet = fleet_policy_start(&d->fo);
	if (!d->fleet) {
		log_error("fleet-policy: %s: %s", d->fo.servers, strerror(errno));
		return -1;
	}
	log_info("fleet-policy: watching %s for host %s, groups all%s%s", FLEET_POLICY_BUCKET,
		 d->host_id, d->ko.n_groups ? "," : "", d->ko.n_groups ? d->groups[0] : "");
	if (d->keeper.st.note[0])
		fleet_policy_event(d->fleet, "refused", 0, "", d->keeper.st.note);
	return 0;
}
