// SPDX-License-Identifier: GPL-2.0-only
/*
 * exfilmond: the endpoint agent. Parses options, picks the policy to start on (the
 * config file, else the last-known-good, else the built-in default: docs/policy.md),
 * starts collector, sensors, loop and fleet policy watch in that order, runs, and stops
 * them in reverse. Every later candidate (reload, fleet) goes through the policy loop:
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
#include "service.h"
#include "config/config.h"
#include "config/trust.h"
#include "model/paths.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "common/loop.h"
#include "daemon.h"
#include "output/fleet_policy.h"

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
		policy_loop_fleet_tick(d);
	collector_tick(d->collector, realtime_ns());
	/* Fed here, after the tick's work: a loop that stops ticking stops the pings. */
	service_tick(&d->service, monotonic_ns());
}

static void on_signal(void *ctx, int sig)
{
	struct daemon *d = ctx;

	/* Both reopen the outputs even when the config is unchanged: logrotate's postrotate
	 * must not leave the daemon writing to a renamed or deleted alerts file. */
	if (sig == SIGHUP || sig == SIGUSR1) {
		if (sig == SIGHUP) {
			service_reloading(&d->service);
			policy_loop_reload(d);
		}
		collector_reopen(d->collector);
		if (sig == SIGHUP)
			service_ready(&d->service, "reloaded");
	} else {
		log_info("exfilmond: %s, shutting down", strsignal(sig));
		service_stopping(&d->service);
	}
}

static void on_mounts(void *ctx)
{
	struct daemon *d = ctx;

	agent_mounts_changed(d->agent);
}

static void on_config_file(void *ctx)
{
	policy_loop_reload(ctx);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: exfilmond [-c CONFIG] [--status FILE] [--log-level LEVEL] [--stderr]\n"
		   "                 [--trusted DIR] [--policy-state DIR] [--group NAME]...\n"
		   "                 [--require-signed] [--fleet URL [--fleet-creds FILE]\n"
		   "                 [--fleet-tls-ca FILE] [--host-id ID]]\n"
		   "       exfilmond --check-config CONFIG [--trusted DIR] [--group NAME]...\n"
		   "       exfilmond --version\n"
		   "Without -c the built-in default config runs (docs/config.md); signed policy\n"
		   "bundles, trusted keys and fleet delivery: docs/policy.md.\n"
		   "Exit status: 0 stopped cleanly, 1 failure, 2 bad usage, 78 the config cannot be\n"
		   "used (not restarted by the unit). SIGHUP reloads the config and reopens the\n"
		   "outputs, SIGUSR1 only reopens them (logrotate), SIGTERM stops.\n");
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
		{ "version", no_argument, NULL, 'V' },
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
		case 'V': printf("exfilmond %s\n", EXFILMON_VERSION); exit(0);
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
	policy_loop_report_start(d);
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
	if (policy_loop_start_fleet(d))
		return -1;
	collector_agent_record(d->collector, "start", agent_hooks_text(d->agent));
	/* Only now: the sensors are attached and the outputs open. */
	service_ready(&d->service, agent_hooks_text(d->agent));
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
		return policy_loop_check_file(&d);
	log_setup("exfilmond", to_stderr, level);
	service_init(&d.service);
	err = keeper_boot(&d.keeper, &d.ko, &d.cfg);
	if (err == -ENOMEM) {
		log_error("exfilmond: no policy to start on: %s", strerror(ENOMEM));
		return 1;
	}
	if (err) {
		log_error("exfilmond: %s; exiting with %d (EX_CONFIG)", d.keeper.st.note,
			  SERVICE_EXIT_CONFIG);
		return SERVICE_EXIT_CONFIG;
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
