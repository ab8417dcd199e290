// SPDX-License-Identifier: GPL-2.0-only
/*
 * exfilmond: the endpoint agent. Parses options, starts config, collector, sensors and
 * loop in that order, runs, and stops them in reverse. A bad pushed config is refused
 * and the running one stays in force.
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
#include "model/paths.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "common/loop.h"

struct daemon {
	const char *config_path;
	const char *status_path;
	struct config cfg;
	struct collector *collector;
	struct agent *agent;
	struct loop *loop;
	struct service service;
};

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

static int load_config(const char *path, struct config *cfg)
{
	char *errors = NULL;
	int err = config_load(path, cfg, &errors);

	if (err)
		log_config_errors(errors ? errors : strerror(-err));
	free(errors);
	return err;
}

static void reload(struct daemon *d)
{
	struct config fresh;
	int err;

	if (!d->config_path)
		return;
	if (load_config(d->config_path, &fresh)) {
		log_error("config: %s refused; the running config (sha256=%s) stays in force",
			  d->config_path, d->cfg.sha256);
		return;
	}
	if (!strcmp(fresh.sha256, d->cfg.sha256)) {
		config_free(&fresh);
		return;
	}
	err = agent_reconfigure(d->agent, &fresh);
	if (!err)
		err = collector_reconfigure(d->collector, &fresh);
	if (err) {
		log_error("config: applying %s: %s", d->config_path, strerror(-err));
		/* The maps may hold part of the new policy; put the old one back whole. */
		agent_reconfigure(d->agent, &d->cfg);
		collector_reconfigure(d->collector, &d->cfg);
		config_free(&fresh);
		return;
	}
	config_free(&d->cfg);
	d->cfg = fresh;
	log_info("config: reloaded %s, sha256=%s", d->config_path, d->cfg.sha256);
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
			reload(d);
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
	reload(ctx);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: exfilmond [-c CONFIG] [--status FILE] [--log-level LEVEL] [--stderr]\n"
		   "       exfilmond --check-config CONFIG\n"
		   "       exfilmond --version\n"
		   "Without -c the built-in default config runs (docs/config.md).\n"
		   "Exit status: 0 stopped cleanly, 1 failure, 2 bad usage, 78 the config cannot be\n"
		   "used (not restarted by the unit). SIGHUP reloads the config and reopens the\n"
		   "outputs, SIGUSR1 only reopens them (logrotate), SIGTERM stops.\n");
}

static int check_config(const char *path)
{
	char *errors = NULL;
	struct config cfg;
	int err = config_load(path, &cfg, &errors);

	if (err) {
		fputs(errors ? errors : strerror(-err), stderr);
		if (errors && errors[strlen(errors) - 1] != '\n')
			fputc('\n', stderr);
		free(errors);
		return 1;
	}
	printf("%s: valid, sha256=%s\n", path, cfg.sha256);
	config_free(&cfg);
	return 0;
}

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
		{ "version", no_argument, NULL, 'V' },
		{ 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "c:s:l:eh", opts, NULL)) != -1) {
		switch (c) {
		case 'c': d->config_path = optarg; break;
		case 'C': exit(check_config(optarg));
		case 's': d->status_path = optarg; break;
		case 'e': *to_stderr = 1; break;
		case 'h': usage(stdout); exit(0);
		case 'V': printf("exfilmond %s\n", EXFILMON_VERSION); exit(0);
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
	struct daemon d = { .status_path = XM_STATUS_PATH };
	enum log_level level = LOG_LVL_INFO;
	int to_stderr = -1, err;

	err = parse_args(argc, argv, &d, &to_stderr, &level);
	if (err)
		return err;
	log_setup("exfilmond", to_stderr, level);
	service_init(&d.service);
	if (load_config(d.config_path, &d.cfg))
		return SERVICE_EXIT_CONFIG;
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
