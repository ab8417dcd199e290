// SPDX-License-Identifier: GPL-2.0-only
/*
 * exfilmond: the endpoint agent. Parses options, picks the policy to start on (the
 * config file, else the last-known-good, else the built-in default: docs/policy.md),
 * starts collector, sensors, loop and fleet policy watch in that order, runs, and stops
 * them in reverse. Every later candidate (reload, fleet) goes through the policy keeper:
 * a refused one is logged, recorded and reported, and the running policy stays in force.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "agent/agent.h"
#include "collector.h"
#include "config/config.h"
#include "config/trust.h"
#include "model/paths.h"
#include "common/log.h"
#include "common/loop.h"
#include "output/fleet_policy.h"
#include "policy_keeper.h"

/* sysexits.h: a configuration error; the unit's RestartPreventExitStatus names it. */
#define EXIT_CONFIG 78
#define MAX_GROUPS BUNDLE_MAX_GROUPS

struct daemon {
	const char *config_path;
	const char *status_path;
	const char *check_path;
	struct keeper_opts ko;
	const char *groups[MAX_GROUPS];
	struct fleet_policy_opts fo;
	char host_id[65];
	struct config cfg;
	struct keeper keeper;
	struct collector *collector;
	struct agent *agent;
	struct loop *loop;
	struct fleet_policy *fleet;
};

static uint64_t realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

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

static void reload(struct daemon *d)
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

/* Bundles the fleet delivered since the last tick, highest serial first. */
static void take_fleet(struct daemon *d)
{
	struct delivery got[FLEET_POLICY_MAX_KEYS];
	size_t n = 0;

	while (n < FLEET_POLICY_MAX_KEYS && fleet_policy_take(d->fleet, got[n].key, &got[n].data,
							      &got[n].len, &got[n].revision)) {
		struct bundle b;

		got[n].serial = bundle_parse("", got[n].data, got[n].len, &b, NULL) ? 0 : b.h.serial;
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

static void on_ring(void *ctx)
{
	struct daemon *d = ctx;

	agent_poll_ring(d->agent);
}

static void on_tick(void *ctx)
{
	struct daemon *d = ctx;

	agent_drain(d->agent);
	if (d->fleet)
		take_fleet(d);
	collector_tick(d->collector, realtime_ns());
}

static void on_signal(void *ctx, int sig)
{
	struct daemon *d = ctx;

	if (sig == SIGHUP)
		reload(d);
	else
		log_info("exfilmond: %s, shutting down", strsignal(sig));
}

static void on_mounts(void *ctx)
{
	struct daemon *d = ctx;

	agent_mounts_changed(d->agent);
}

static void on_config_file(void *ctx)
{
	reload(ctx);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: exfilmond [-c CONFIG] [--status FILE] [--log-level LEVEL] [--stderr]\n"
		   "                 [--trusted DIR] [--policy-state DIR] [--group NAME]...\n"
		   "                 [--require-signed] [--fleet URL [--fleet-creds FILE]\n"
		   "                 [--fleet-tls-ca FILE] [--host-id ID]]\n"
		   "       exfilmond --check-config CONFIG [--trusted DIR] [--group NAME]...\n"
		   "Without -c the built-in default config runs (docs/config.md); signed policy\n"
		   "bundles, trusted keys and fleet delivery: docs/policy.md.\n");
}

/* --check-config: the file judged as an agent in --group would, without a rollback floor.
 * Exit 0 valid, 78 (EX_CONFIG) not. */
static int check_config(struct daemon *d)
{
	struct keeper k = { .o = d->ko };
	struct policy_info info;
	struct config cfg;
	char *text = NULL, *why = NULL;
	size_t len;
	int err = config_read_file(d->check_path, &text, &len);

	if (err) {
		fprintf(stderr, "%s:1:1: cannot read: %s\n", d->check_path, strerror(-err));
		return EXIT_CONFIG;
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

/* --group takes NAME or NAME,NAME; each must be a valid group name. */
static int add_groups(struct daemon *d, char *list)
{
	char *save = NULL;

	for (char *g = strtok_r(list, ",", &save); g; g = strtok_r(NULL, ",", &save)) {
		if (!bundle_group_valid(g) || d->ko.n_groups == MAX_GROUPS) {
			fprintf(stderr, "exfilmond: --group: \"%s\" is not a group name "
				"([A-Za-z0-9_-], 1-64 characters, at most 32 groups)\n", g);
			return EXIT_CONFIG;
		}
		d->groups[d->ko.n_groups++] = g;
	}
	return 0;
}

/* The fleet host id: --host-id, else /etc/machine-id. */
static int resolve_host_id(struct daemon *d, const char *given)
{
	FILE *f;

	if (given)
		snprintf(d->host_id, sizeof(d->host_id), "%s", given);
	else if ((f = fopen("/etc/machine-id", "re"))) {
		if (!fgets(d->host_id, sizeof(d->host_id), f))
			d->host_id[0] = '\0';
		d->host_id[strcspn(d->host_id, "\n")] = '\0';
		fclose(f);
	}
	if (!bundle_group_valid(d->host_id)) {
		fprintf(stderr, "exfilmond: host id \"%s\" is not [A-Za-z0-9_-]{1,64} "
			"(--host-id, /etc/machine-id)\n", d->host_id);
		return EXIT_CONFIG;
	}
	d->fo.host_id = d->host_id;
	return 0;
}

enum {
	OPT_TRUSTED = 256, OPT_STATE, OPT_GROUP, OPT_REQUIRE, OPT_FLEET, OPT_CREDS, OPT_TLS_CA,
	OPT_HOST_ID,
};

static int parse_args(int argc, char **argv, struct daemon *d, int *to_stderr,
		      enum log_level *level)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "check-config", required_argument, NULL, 'C' },
		{ "status", required_argument, NULL, 's' },
		{ "log-level", required_argument, NULL, 'l' },
		{ "stderr", no_argument, NULL, 'e' },
		{ "help", no_argument, NULL, 'h' },
		{ "trusted", required_argument, NULL, OPT_TRUSTED },
		{ "policy-state", required_argument, NULL, OPT_STATE },
		{ "group", required_argument, NULL, OPT_GROUP },
		{ "require-signed", no_argument, NULL, OPT_REQUIRE },
		{ "fleet", required_argument, NULL, OPT_FLEET },
		{ "fleet-creds", required_argument, NULL, OPT_CREDS },
		{ "fleet-tls-ca", required_argument, NULL, OPT_TLS_CA },
		{ "host-id", required_argument, NULL, OPT_HOST_ID },
		{ 0 },
	};
	const char *host_id = NULL;
	int c, err;

	while ((c = getopt_long(argc, argv, "c:s:l:eh", opts, NULL)) != -1) {
		switch (c) {
		case 'c': d->config_path = optarg; break;
		case 'C': d->check_path = optarg; break;
		case 's': d->status_path = optarg; break;
		case 'e': *to_stderr = 1; break;
		case 'h': usage(stdout); exit(0);
		case OPT_TRUSTED: d->ko.trusted_dir = optarg; break;
		case OPT_STATE: d->ko.state_dir = optarg; break;
		case OPT_REQUIRE: d->ko.require_signed = true; break;
		case OPT_FLEET: d->fo.servers = optarg; break;
		case OPT_CREDS: d->fo.creds = optarg; break;
		case OPT_TLS_CA: d->fo.tls_ca = optarg; break;
		case OPT_HOST_ID: host_id = optarg; break;
		case OPT_GROUP:
			if ((err = add_groups(d, optarg)))
				return err;
			break;
		case 'l':
			if (log_parse_level(optarg, level) == 0)
				break;
			fprintf(stderr, "exfilmond: --log-level: unknown level '%s'\n", optarg);
			return 2;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc) {
		usage(stderr);
		return 2;
	}
	d->ko.config_path = d->config_path;
	d->ko.groups = d->groups;
	d->fo.groups = d->groups;
	d->fo.n_groups = d->ko.n_groups;
	if (d->fo.servers && !d->check_path)
		return resolve_host_id(d, host_id);
	return 0;
}

/* Says how the agent started: quietly when on its config file, loudly otherwise. */
static void report_start(struct daemon *d)
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

static int start_fleet(struct daemon *d)
{
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

static int start(struct daemon *d)
{
	struct agent_opts ao = { .cfg = &d->cfg, .sink = { collector_on_event, NULL } };
	struct loop_ops lo = { on_ring, on_tick, on_signal, on_mounts, on_config_file, d };
	struct loop_opts lopts = { .mountinfo = "/proc/self/mountinfo",
				   .config_path = d->config_path };

	mkdir("/run/exfilmon", 0755);
	d->collector = collector_new(&d->cfg, d->status_path);
	if (!d->collector)
		return -1;
	collector_set_policy(d->collector, &d->keeper.st);
	report_start(d);
	ao.sink.ctx = d->collector;
	d->agent = agent_start(&ao);
	if (!d->agent)
		return -1;
	collector_set_agent(d->collector, d->agent);
	lopts.ring_fd = agent_ring_fd(d->agent);
	lopts.tick_ms = d->cfg.poll_interval_ms ? d->cfg.poll_interval_ms : 1000;
	d->loop = loop_new(&lopts, &lo);
	if (!d->loop) {
		log_error("exfilmond: event loop: %s", strerror(errno));
		return -1;
	}
	if (start_fleet(d))
		return -1;
	collector_agent_record(d->collector, "start", agent_hooks_text(d->agent));
	log_info("exfilmond: running, config %s sha256=%s", d->config_path ? d->config_path
									    : "(builtin)",
		 d->cfg.sha256);
	return 0;
}

static void stop(struct daemon *d)
{
	fleet_policy_stop(d->fleet);
	loop_free(d->loop);
	/* The agent's last drain feeds the collector, which still asks the agent about
	 * sessions; so: quiesce the agent, close the collector, then free the agent. */
	agent_quiesce(d->agent);
	if (d->collector) {
		collector_agent_record(d->collector, "stop", NULL);
		collector_tick(d->collector, realtime_ns());
		collector_set_agent(d->collector, NULL);
	}
	collector_free(d->collector);
	agent_stop(d->agent);
	config_free(&d->cfg);
}

int main(int argc, char **argv)
{
	struct daemon d = { .status_path = XM_STATUS_PATH,
			    .ko = { .trusted_dir = TRUST_DEFAULT_DIR,
				    .state_dir = POLICY_STORE_DEFAULT_DIR } };
	enum log_level level = LOG_LVL_INFO;
	int to_stderr = -1, err;

	err = parse_args(argc, argv, &d, &to_stderr, &level);
	if (err)
		return err;
	if (d.check_path)
		return check_config(&d);
	log_setup("exfilmond", to_stderr, level);
	if (keeper_boot(&d.keeper, &d.ko, &d.cfg)) {
		log_error("exfilmond: no policy to start on: %s", strerror(ENOMEM));
		return 1;
	}
	err = start(&d);
	if (!err)
		err = loop_run(d.loop);
	stop(&d);
	if (err)
		log_error("exfilmond: stopped on error");
	else
		log_info("exfilmond: stopped");
	return err ? 1 : 0;
}
