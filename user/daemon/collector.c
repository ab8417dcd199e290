// SPDX-License-Identifier: GPL-2.0-only
/*
 * Collector: routes agent events to evidence, detection and alert outputs. Evidence is
 * written before detection sees an activity, so every alert can name the evidence
 * records behind it by sequence number.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include <jansson.h>
#include <systemd/sd-id128.h>

#include "agent/agent.h"
#include "collector.h"
#include "detect/detect.h"
#include "model/event_json.h"
#include "evidence/evidence.h"
#include "common/log.h"
#include "common/timeutil.h"
#include "output/fleet.h"
#include "output/output_json.h"
#include "agent/session.h"
#include "output/syslog_out.h"
#include "output/metrics_out.h"
#include "agent/process_table.h"

/* The evidence directory is summed at most this often for the metrics (a readdir and a
 * stat per segment). */
#define EVIDENCE_SIZE_EVERY_NS (10ULL * 1000000000ULL)

struct collector {
	struct agent *agent;
	struct evidence *evidence;
	struct detect *detect;
	struct syslog_out *syslog;
	struct fleet *fleet;          /* NULL: standalone (no fleet.servers) */
	char fleet_key[8192];         /* the fleet settings it runs with, to see a reload change them */
	int alerts_fd;
	char host[256];
	char host_id[33];             /* /etc/machine-id: ECS host.id */
	char agent_id[37];            /* ECS agent.id: a UUID derived from it for exfilmon */
	struct output_identity id;
	char config_sha256[65];
	char config_path[PATH_MAX];
	char status_path[PATH_MAX];
	char *alerts_path;            /* what the outputs were opened with, for a reopen */
	char *syslog_url;
	char *metrics_path;
	char *syslog_ca;
	int syslog_facility;
	uint64_t syslog_dropped_closed; /* dropped by senders closed on reopen or reconfigure */
	char *evidence_dir;
	uint32_t tick_ms;
	uint64_t evidence_bytes, evidence_bytes_at_ns;
	bool metrics_failing;         /* logged once until it works again */
	uint64_t started_ns;
	uint64_t alerts;
	uint64_t evidence_errors;
	uint64_t last_status_ns;
	uint64_t heartbeat_ns;        /* evidence.heartbeat */
	uint64_t last_heartbeat_ns;
	struct json_buf buf;          /* one event's record, reused */
	const struct policy_status *policy;
};

/* Creates path and its missing parents (mkdir -p), each with mode. */
static int make_dirs(const char *path, mode_t mode)
{
	char buf[PATH_MAX];

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, mode) && errno != EEXIST)
			return -errno;
		*p = '/';
	}
	if (mkdir(buf, mode) && errno != EEXIST)
		return -errno;
	return 0;
}

static void record(struct collector *c, const char *type, uint64_t ts_ns, const char *json,
		   uint64_t *seq)
{
	int err;

	if (!c->evidence || !json)
		return;
	err = evidence_append(c->evidence, type, ts_ns, json, strlen(json), seq);
	if (err && c->evidence_errors++ == 0)
		log_error("collector: evidence append: %s", strerror(-err));
}

static void record_obj(struct collector *c, const char *type, uint64_t ts_ns, json_t *o)
{
	char *s = json_dumps(o, JSON_COMPACT);

	record(c, type, ts_ns, s, NULL);
	free(s);
	json_decref(o);
}

static void on_seal(void *ctx, const char *segment, uint64_t block_no, const char *head_hex)
{
	struct collector *c = ctx;
	char msg[512];

	/* An off-box copy of every chain head anchors the store against wholesale rewrite. */
	snprintf(msg, sizeof(msg), "evidence sealed segment=%s block=%llu head=%s", segment,
		 (unsigned long long)block_no, head_hex);
	if (c->syslog)
		syslog_out_send(c->syslog, 6, "CHAIN", msg);
	if (c->fleet)
		fleet_sealed(c->fleet, segment, block_no, head_hex);
}

static void on_unshipped_deleted(void *ctx, uint64_t first, uint64_t last, uint64_t records)
{
	struct collector *c = ctx;

	if (c->fleet)
		fleet_unshipped_deleted(c->fleet, first, last, records);
}

static void emit_alert(void *ctx, const struct alert *a)
{
	struct collector *c = ctx;
	const struct process_info *p = c->agent && a->n_processes
		? session_process(agent_sessions(c->agent), a->processes[0].pid) : NULL;
	char *json = output_alert_json_ecs(a, &c->id, p && p->exe[0] ? p->exe : NULL);
	char msg[512];

	if (!json) {
		log_error("collector: render alert %llu: %s", (unsigned long long)a->id,
			  strerror(errno));
		return;
	}
	c->alerts++;
	if (c->alerts_fd >= 0) {
		struct iovec iov[] = { { json, strlen(json) }, { "\n", 1 } };

		/* One writev with O_APPEND: concurrent readers never see half a line. */
		if (writev(c->alerts_fd, iov, 2) != (ssize_t)(iov[0].iov_len + 1))
			log_error("collector: write alert: %s", strerror(errno));
		fdatasync(c->alerts_fd);
	}
	if (c->syslog)
		syslog_out_send(c->syslog, 2, "ALERT", json);
	if (c->fleet && fleet_alert(c->fleet, json, a->id, a->revision))
		log_error("collector: queue alert %llu for the fleet: out of memory",
			  (unsigned long long)a->id);
	/* Indexed under exfilmon.session_id, as output_alert_json writes it. */
	if (c->evidence) {
		int err = evidence_append_session(c->evidence, "alert", a->raised_ns, json,
						  strlen(json),
						  a->session_id == SESSION_NONE
							  ? EVIDENCE_NO_SESSION : (int64_t)a->session_id,
						  NULL);

		if (err && c->evidence_errors++ == 0)
			log_error("collector: evidence append: %s", strerror(-err));
	}
	snprintf(msg, sizeof(msg), "%s rev %u user=%s session=%u source=%llu egress=%llu",
		 alert_rule_name(a->rule), a->revision, a->user, a->session_id,
		 (unsigned long long)a->source_bytes, (unsigned long long)a->egress_bytes);
	log_warn("collector: alert %llu %s", (unsigned long long)a->id, msg);
	free(json);
}

static void subject(void *ctx, uint32_t session_id, uint32_t loginuid, struct detect_subject *s)
{
	struct collector *c = ctx;
	const struct session_info *si;

	if (!c->agent)
		return;
	si = session_get(agent_sessions(c->agent), session_id, loginuid, 0);
	s->user = si->user;
	s->tty = si->tty[0] ? si->tty : si->display;
	s->remote_host = si->remote_host;
}

/* Who wrote the record: exported records carry it as ECS host.* and agent.*. */
static void identify(struct collector *c, json_t *o)
{
	json_object_set_new(o, "host", json_string(c->host));
	json_object_set_new(o, "host_id", json_string(c->host_id));
	json_object_set_new(o, "agent_id", json_string(c->agent_id));
}

static void record_session(struct collector *c, const struct session_info *si, uint64_t ts)
{
	json_t *o = json_object();

	json_object_set_new(o, "session_id", json_integer(si->session_id));
	json_object_set_new(o, "loginuid", json_integer(si->loginuid));
	json_object_set_new(o, "uid", json_integer(si->uid));
	json_object_set_new(o, "user", json_string(si->user));
	json_object_set_new(o, "tty", json_string(si->tty));
	json_object_set_new(o, "display", json_string(si->display));
	json_object_set_new(o, "seat", json_string(si->seat));
	json_object_set_new(o, "remote_host", json_string(si->remote_host));
	json_object_set_new(o, "login_ns", json_integer((json_int_t)si->login_ns));
	json_object_set_new(o, "leader_pid", json_integer(si->leader_pid));
	identify(c, o);
	record_obj(c, "session", ts, o);
}

/* First sight of a login session writes its identity into the evidence. */
static void note_session(struct collector *c, const struct event *ev)
{
	struct session_table *t;
	const struct session_info *si;

	if (!c->agent || ev->session_id == SESSION_NONE)
		return;
	t = agent_sessions(c->agent);
	si = session_get(t, ev->session_id, ev->loginuid, ev->pid);
	if (session_is_new(t))
		record_session(c, si, ev->ts_ns);
}

/* What is worth keeping: everything in a login session; outside one, execs (lineage)
 * and anything classified, but not the fork/exit churn of services. */
static bool keep(const struct event *ev)
{
	if (ev->session_id != SESSION_NONE)
		return true;
	if (ev->kind == EV_FORK || ev->kind == EV_EXIT)
		return false;
	if (ev->kind == EV_CONNECT && ev->conn.cls == CONN_ALLOWED)
		return false;
	return true;
}

void collector_on_event(void *ctx, const struct event *ev)
{
	struct collector *c = ctx;
	uint64_t seq = 0;
	int err;

	note_session(c, ev);
	if (!keep(ev))
		return;
	if (c->evidence) {
		json_buf_reset(&c->buf);
		event_json_write(&c->buf, ev);
		err = c->buf.oom ? -ENOMEM
				 : evidence_append_session(c->evidence, event_record_type(ev),
							   ev->ts_ns, c->buf.p, c->buf.len,
							   event_json_session(ev), &seq);
		if (err && c->evidence_errors++ == 0)
			log_error("collector: evidence append: %s", strerror(-err));
	}
	if (ev->kind == EV_GAP)
		log_warn("collector: lost %llu %s records for session %d (ring buffer full)",
			 (unsigned long long)ev->gap.count, ev->gap.what, (int)ev->session_id);
	if (ev->kind == EV_INTEGRITY && c->detect) {
		struct detect_integrity in = {
			.ts_ns = ev->ts_ns, .session_id = ev->session_id, .loginuid = ev->loginuid,
			.reason = ev->integrity.reason, .detail = ev->integrity.detail,
		};

		log_warn("collector: sensor integrity, session %d: %s: %s", (int)ev->session_id,
			 ev->integrity.reason, ev->integrity.detail);
		detect_set_evidence_seq(c->detect, seq);
		detect_integrity(c->detect, &in);
	}
	if (ev->kind == EV_ACTIVITY && c->detect) {
		detect_set_evidence_seq(c->detect, seq);
		detect_feed(c->detect, &ev->act);
	}
}

static int open_alerts(struct collector *c, const char *path)
{
	char dir[PATH_MAX], *slash;

	if (c->alerts_fd >= 0)
		close(c->alerts_fd);
	c->alerts_fd = -1;
	if (!path)
		return 0;
	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (slash && slash != dir) {
		*slash = '\0';
		make_dirs(dir, 0750);
	}
	c->alerts_fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	return c->alerts_fd < 0 ? -errno : 0;
}

static int replace_str(char **dst, const char *src)
{
	char *s = src ? strdup(src) : NULL;

	if (src && !s)
		return -ENOMEM;
	free(*dst);
	*dst = s;
	return 0;
}

/* (Re)opens the alerts file and the syslog link from the paths kept in c. */
static int reopen(struct collector *c)
{
	int err = open_alerts(c, c->alerts_path);

	if (err) {
		log_error("collector: open alerts file %s: %s", c->alerts_path, strerror(-err));
		return err;
	}
	struct syslog_out_opts so = { .url = c->syslog_url, .app_name = "exfilmon",
				      .facility = c->syslog_facility, .ca_file = c->syslog_ca };

	c->syslog_dropped_closed += syslog_out_close(c->syslog);
	c->syslog = NULL;
	if (c->syslog_url) {
		c->syslog = syslog_out_open(&so);
		if (!c->syslog)
			log_warn("collector: syslog %s: %s (alerts still go to the file)",
				 c->syslog_url, strerror(errno));
	}
	return 0;
}

static int open_outputs(struct collector *c, const struct config *cfg)
{
	if (replace_str(&c->alerts_path, cfg->alerts_path) ||
	    replace_str(&c->syslog_url, cfg->syslog_url) ||
	    replace_str(&c->metrics_path, cfg->metrics_path) ||
	    replace_str(&c->syslog_ca, cfg->syslog_ca) ||
	    replace_str(&c->evidence_dir, cfg->evidence_dir))
		return -ENOMEM;
	c->tick_ms = cfg->poll_interval_ms ? cfg->poll_interval_ms : 1000;
	c->syslog_facility = cfg->syslog_facility;
	return reopen(c);
}

int collector_reopen(struct collector *c)
{
	int err = reopen(c);

	if (!err)
		log_info("collector: outputs reopened (alerts %s, syslog %s)",
			 c->alerts_path ? c->alerts_path : "off", c->syslog_url ? c->syslog_url : "off");
	return err;
}

/* Records per block: each seal is an fdatasync (3 ms on a plain virtual disk), so at high
 * rates the block size bounds the wall-clock rate; 1 MiB is about 4,000 records. */
#define EVIDENCE_BLOCK_BYTES (1024 * 1024)

static int open_evidence(struct collector *c, const struct config *cfg)
{
	struct evidence_opts eo = {
		.dir = cfg->evidence_dir,
		.segment_bytes = cfg->evidence_segment_bytes,
		.block_bytes = EVIDENCE_BLOCK_BYTES,
		.seal_interval_ns = cfg->evidence_seal_interval_ns,
		.retention_ns = cfg->evidence_retention_ns,
		.retention_bytes = cfg->evidence_retention_bytes,
		.on_seal = on_seal,
		.on_unshipped_deleted = on_unshipped_deleted,
		.ctx = c,
	};

	/* The parents are created here; the store makes its own directory 0700. */
	make_dirs(cfg->evidence_dir, 0755);
	c->evidence = evidence_open(&eo);
	if (!c->evidence) {
		log_error("collector: open evidence store %s: %s", cfg->evidence_dir,
			  strerror(errno));
		return -errno;
	}
	return 0;
}

/* Every fleet setting as one string: a reload restarts shipping only when it changes. */
static void fleet_key(const struct config *cfg, char *out, size_t len)
{
	FILE *f = fmemopen(out, len, "w");

	if (!f) {
		out[0] = '\0';
		return;
	}
	for (size_t i = 0; i < cfg->n_fleet_servers; i++)
		fprintf(f, "s=%s\n", cfg->fleet_servers[i]);
	for (size_t i = 0; i < cfg->n_fleet_groups; i++)
		fprintf(f, "g=%s\n", cfg->fleet_groups[i]);
	fprintf(f, "%s\n%s\n%s\n%s\n%s\n%llu\n", cfg->fleet_tls_ca ?: "", cfg->fleet_tls_cert ?: "",
		cfg->fleet_tls_key ?: "", cfg->fleet_credentials ?: "", cfg->fleet_host_id ?: "",
		(unsigned long long)cfg->fleet_heartbeat_ns);
	fclose(f);
}

/* Starts shipping when cfg has fleet servers. A fleet that cannot start (a bad host id)
 * is logged and the agent runs standalone: local recording never depends on it. */
static void start_fleet(struct collector *c, const struct config *cfg)
{
	struct fleet_opts fo = { .cfg = cfg, .host_name = c->host, .config_sha256 = cfg->sha256 };

	fleet_key(cfg, c->fleet_key, sizeof(c->fleet_key));
	if (!fleet_enabled(cfg) || !c->evidence)
		return;
	fo.next_block = evidence_next_block(c->evidence);
	c->fleet = fleet_start(&fo);
	if (!c->fleet)
		log_error("collector: fleet shipping not started: %s; recording locally only",
			  strerror(errno));
}

static void record_config(struct collector *c, const struct config *cfg)
{
	json_t *o = json_object();

	snprintf(c->config_sha256, sizeof(c->config_sha256), "%s", cfg->sha256);
	snprintf(c->config_path, sizeof(c->config_path), "%s", cfg->path ? cfg->path : "(builtin)");
	json_object_set_new(o, "sha256", json_string(cfg->sha256));
	json_object_set_new(o, "path", json_string(c->config_path));
	record_obj(c, "config", realtime_ns(), o);
	if (c->detect)
		detect_set_config_hash(c->detect, cfg->sha256);
}

/* The agent's id is the machine id hashed with an application key (what systemd does for
 * sd_id128_get_machine_app_specific), so it is stable per host without exposing the
 * machine id itself to whoever reads agent.id. */
#define EXFILMON_APP_ID SD_ID128_MAKE(6b,1e,0f,52,8e,7c,4a,d3,9f,0a,31,c4,55,d2,7e,10)

static void load_identity(struct collector *c)
{
	sd_id128_t machine, agent;

	gethostname(c->host, sizeof(c->host) - 1);
	if (!sd_id128_get_machine(&machine))
		sd_id128_to_string(machine, c->host_id);
	if (!sd_id128_get_machine_app_specific(EXFILMON_APP_ID, &agent))
		snprintf(c->agent_id, sizeof(c->agent_id), SD_ID128_UUID_FORMAT_STR,
			 SD_ID128_FORMAT_VAL(agent));
	c->id = (struct output_identity){ .host_name = c->host, .host_id = c->host_id,
					  .agent_id = c->agent_id,
					  .agent_version = EXFILMON_VERSION };
}

struct collector *collector_new(const struct config *cfg, const char *status_path)
{
	struct collector *c = calloc(1, sizeof(*c));
	struct detect_ops ops = { .emit = emit_alert, .subject = subject };
	char state[PATH_MAX];

	if (!c)
		return NULL;
	c->alerts_fd = -1;
	c->started_ns = realtime_ns();
	c->heartbeat_ns = cfg->evidence_heartbeat_ns;
	load_identity(c);
	snprintf(c->status_path, sizeof(c->status_path), "%s", status_path ? status_path : "");
	ops.ctx = c;
	if (cfg->state_dir)
		make_dirs(cfg->state_dir, 0700);
	snprintf(state, sizeof(state), "%s/baselines.json", cfg->state_dir ? cfg->state_dir : ".");
	if (open_evidence(c, cfg) || open_outputs(c, cfg))
		goto fail;
	c->detect = detect_new(&cfg->detect, &ops, cfg->state_dir ? state : NULL);
	if (!c->detect) {
		log_error("collector: detection: %s", strerror(errno));
		goto fail;
	}
	record_config(c, cfg);
	start_fleet(c, cfg);
	return c;
fail:
	collector_free(c);
	return NULL;
}

void collector_set_agent(struct collector *c, struct agent *a)
{
	c->agent = a;
}

int collector_reconfigure(struct collector *c, const struct config *cfg)
{
	int err = open_outputs(c, cfg);

	if (err)
		return err;
	char key[sizeof(c->fleet_key)];

	detect_reconfigure(c->detect, &cfg->detect);
	c->heartbeat_ns = cfg->evidence_heartbeat_ns;
	record_config(c, cfg);
	fleet_key(cfg, key, sizeof(key));
	if (strcmp(key, c->fleet_key)) {
		log_info("collector: fleet settings changed, restarting shipping");
		fleet_stop(c->fleet, false);
		c->fleet = NULL;
		start_fleet(c, cfg);
	}
	return 0;
}

void collector_agent_record(struct collector *c, const char *what, const char *hooks)
{
	json_t *o = json_object();

	json_object_set_new(o, "event", json_string(what));
	identify(c, o);
	json_object_set_new(o, "version", json_string(EXFILMON_VERSION));
	json_object_set_new(o, "hooks", json_string(hooks ? hooks : ""));
	json_object_set_new(o, "config_sha256", json_string(c->config_sha256));
	record_obj(c, "agent", realtime_ns(), o);
	if (c->evidence)
		evidence_seal(c->evidence);
}

static json_t *stats_json(struct collector *c)
{
	struct agent_stats st = { 0 };
	json_t *o = json_object(), *drops = json_object();

	if (c->agent) {
		agent_get_stats(c->agent, &st);
		json_object_set_new(o, "hooks", json_string(agent_hooks_text(c->agent)));
		json_object_set_new(o, "sessions",
				    json_integer(session_count(agent_sessions(c->agent))));
		json_object_set_new(o, "processes",
				    json_integer(session_process_count(agent_sessions(c->agent))));
		json_object_set_new(o, "processes_refused",
				    json_integer((json_int_t)session_process_refused(
					    agent_sessions(c->agent))));
	}
	json_object_set_new(o, "programs_attached", json_integer(st.programs));
	json_object_set_new(o, "records", json_integer((json_int_t)st.records));
	json_object_set_new(o, "bad_records", json_integer((json_int_t)st.bad_records));
	json_object_set_new(o, "activities", json_integer((json_int_t)st.activities));
	json_object_set_new(o, "gaps", json_integer((json_int_t)st.gaps));
	json_object_set_new(o, "lost_records", json_integer((json_int_t)st.lost_records));
	json_object_set_new(o, "flows", json_integer((json_int_t)st.flows));
	for (int i = 0; i < XM_DROP_MAX; i++)
		json_object_set_new(drops, agent_drop_name(i),
				    json_integer((json_int_t)st.drops[i]));
	json_object_set_new(o, "drops", drops);
	return o;
}

static json_t *policy_json(const struct policy_status *st)
{
	json_t *o = json_object();

	json_object_set_new(o, "serial", json_integer((json_int_t)st->info.serial));
	json_object_set_new(o, "sha256", json_string(st->info.sha256));
	json_object_set_new(o, "signed", json_boolean(st->info.is_signed));
	json_object_set_new(o, "key_id", json_string(st->info.key_id));
	json_object_set_new(o, "groups", json_string(st->info.groups));
	json_object_set_new(o, "expiry", json_integer((json_int_t)st->info.expiry));
	json_object_set_new(o, "source", json_string(policy_source_name(st->source)));
	json_object_set_new(o, "require_signed", json_boolean(st->require_signed));
	json_object_set_new(o, "refusals", json_integer((json_int_t)st->refusals));
	json_object_set_new(o, "last_refusal", json_string(st->last_refusal));
	json_object_set_new(o, "note", json_string(st->note));
	return o;
}

/* Over the daemon's life: a reopen or a new config replaces the sender, not the count. */
static uint64_t syslog_dropped(const struct collector *c)
{
	return c->syslog_dropped_closed + (c->syslog ? syslog_out_dropped(c->syslog) : 0);
}

static json_t *fleet_json(struct collector *c, uint64_t now_ns)
{
	struct fleet_status st;
	json_t *o;

	if (!c->fleet)
		return json_null();
	fleet_get_status(c->fleet, &st);
	o = json_object();
	json_object_set_new(o, "host_id", json_string(st.host_id));
	json_object_set_new(o, "connected", json_boolean(st.connected));
	json_object_set_new(o, "server", json_string(st.server));
	json_object_set_new(o, "next_block", json_integer((json_int_t)st.next_block));
	json_object_set_new(o, "backlog_blocks", json_integer((json_int_t)st.backlog_blocks));
	json_object_set_new(o, "backlog_bytes", json_integer((json_int_t)st.backlog_bytes));
	json_object_set_new(o, "oldest_unshipped_age_s",
			    st.oldest_unshipped_ns && st.backlog_blocks && now_ns > st.oldest_unshipped_ns
				    ? json_integer((json_int_t)((now_ns - st.oldest_unshipped_ns) / 1000000000ULL))
				    : json_null());
	json_object_set_new(o, "blocks_shipped", json_integer((json_int_t)st.blocks_shipped));
	json_object_set_new(o, "duplicates", json_integer((json_int_t)st.duplicates));
	json_object_set_new(o, "unreadable_blocks", json_integer((json_int_t)st.unreadable_blocks));
	json_object_set_new(o, "alerts_shipped", json_integer((json_int_t)st.alerts_shipped));
	json_object_set_new(o, "alerts_dropped", json_integer((json_int_t)st.alerts_dropped));
	json_object_set_new(o, "last_ack", json_string(st.last_ack));
	json_object_set_new(o, "last_ack_ns", json_integer((json_int_t)st.last_ack_ns));
	json_object_set_new(o, "last_heartbeat_ns", json_integer((json_int_t)st.last_heartbeat_ns));
	json_object_set_new(o, "heartbeats_sent", json_integer((json_int_t)st.heartbeats_sent));
	json_object_set_new(o, "deleted_unshipped_blocks", json_integer((json_int_t)st.deleted.blocks));
	json_object_set_new(o, "deleted_unshipped_records",
			    json_integer((json_int_t)st.deleted.records));
	json_object_set_new(o, "last_error", json_string(st.last_error));
	return o;
}

/* The heartbeat's figures, from the same sources as the status file. */
static void push_fleet_counters(struct collector *c)
{
	struct fleet_counters fc = { 0 };
	struct agent_stats st = { 0 };

	if (!c->fleet)
		return;
	if (c->agent)
		agent_get_stats(c->agent, &st);
	fc.records_written = c->evidence ? evidence_next_seq(c->evidence) : 0;
	fc.blocks_written = c->evidence ? evidence_next_block(c->evidence) : 0;
	for (int i = XM_DROP_RING_EXEC; i <= XM_DROP_RING_URING; i++)
		fc.ring_drops += st.drops[i];
	fc.ring_drops += st.lost_records;
	fc.gap_records = st.gaps;
	fc.map_full = st.drops[XM_DROP_FLOW_FULL] + st.drops[XM_DROP_SOCK_FULL] +
		      st.drops[XM_DROP_WATCH_FULL];
	fc.syslog_drops = syslog_dropped(c);
	fc.sensors_attached = st.programs;
	snprintf(fc.config_sha256, sizeof(fc.config_sha256), "%s", c->config_sha256);
	if (c->policy) {
		fc.have_policy = true;
		fc.policy_serial = c->policy->info.serial;
		snprintf(fc.policy_sha256, sizeof(fc.policy_sha256), "%s", c->policy->info.sha256);
	}
	fleet_set_counters(c->fleet, &fc);
}

/* Rewritten atomically (temp file + rename) so a reader never sees half a status. */
static void write_status(struct collector *c, uint64_t now_ns)
{
	char tmp[PATH_MAX + 8];
	json_t *o;

	if (!c->status_path[0])
		return;
	o = stats_json(c);
	json_object_set_new(o, "pid", json_integer(getpid()));
	json_object_set_new(o, "started_ns", json_integer((json_int_t)c->started_ns));
	json_object_set_new(o, "updated_ns", json_integer((json_int_t)now_ns));
	json_object_set_new(o, "config_sha256", json_string(c->config_sha256));
	json_object_set_new(o, "config_path", json_string(c->config_path));
	json_object_set_new(o, "alerts", json_integer((json_int_t)c->alerts));
	json_object_set_new(o, "evidence_next_seq",
			    json_integer(c->evidence ? (json_int_t)evidence_next_seq(c->evidence) : 0));
	json_object_set_new(o, "evidence_errors", json_integer((json_int_t)c->evidence_errors));
	json_object_set_new(o, "syslog_dropped", json_integer((json_int_t)syslog_dropped(c)));
	json_object_set_new(o, "version", json_string(EXFILMON_VERSION));
	json_object_set_new(o, "tick_ms", json_integer(c->tick_ms));
	json_object_set_new(o, "evidence_bytes", json_integer((json_int_t)c->evidence_bytes));
	json_object_set_new(o, "metrics_path", c->metrics_path ? json_string(c->metrics_path)
							       : json_null());
	json_object_set_new(o, "fleet", fleet_json(c, now_ns));
	if (c->policy)
		json_object_set_new(o, "policy", policy_json(c->policy));
	snprintf(tmp, sizeof(tmp), "%s.tmp", c->status_path);
	if (json_dump_file(o, tmp, JSON_INDENT(2)) == 0)
		rename(tmp, c->status_path);
	json_decref(o);
}

/* A block sealed every evidence.heartbeat, whatever happens: the chain's timestamps then
 * show a stopped, frozen or killed agent as a silence (exfilctl verify reports the
 * longest one), which a quiet machine alone would not. */
static void heartbeat(struct collector *c, uint64_t now_ns)
{
	char json[160];

	if (!c->evidence || !c->heartbeat_ns || now_ns - c->last_heartbeat_ns < c->heartbeat_ns)
		return;
	c->last_heartbeat_ns = now_ns;
	snprintf(json, sizeof(json), "{\"event\":\"heartbeat\",\"interval_ns\":%llu}",
		 (unsigned long long)c->heartbeat_ns);
	record(c, "heartbeat", now_ns, json, NULL);
	evidence_seal(c->evidence);
}

static uint64_t dir_segment_bytes(const char *dir)
{
	char path[PATH_MAX];
	uint64_t total = 0;
	struct dirent *de;
	struct stat st;
	DIR *d = opendir(dir);

	if (!d)
		return 0;
	while ((de = readdir(d))) {
		if (strncmp(de->d_name, "seg-", 4))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (!stat(path, &st))
			total += (uint64_t)st.st_size;
	}
	closedir(d);
	return total;
}

static void fill_metrics(struct collector *c, uint64_t now_ns, struct metrics_snapshot *m)
{
	struct agent_stats st = { 0 };

	_Static_assert(XM_DROP_MAX <= METRICS_MAX_DROPS, "grow METRICS_MAX_DROPS");
	memset(m, 0, sizeof(*m));
	if (c->agent) {
		struct session_table *t = agent_sessions(c->agent);

		agent_get_stats(c->agent, &st);
		m->hooks = agent_hooks_text(c->agent);
		m->sessions = session_count(t);
		m->processes = session_process_count(t);
		m->processes_refused = session_process_refused(t);
	}
	m->version = EXFILMON_VERSION;
	m->config_sha256 = c->config_sha256;
	m->start_time_ns = c->started_ns;
	m->now_ns = now_ns;
	m->programs_attached = st.programs;
	m->events = st.records;
	m->activities = st.activities;
	m->bad_records = st.bad_records;
	m->alerts = c->alerts;
	m->gaps = st.gaps;
	m->lost_records = st.lost_records;
	for (unsigned i = 0; i < XM_DROP_MAX; i++) {
		m->drop_names[i] = agent_drop_name(i);
		m->drops[i] = st.drops[i];
	}
	m->n_drops = XM_DROP_MAX;
	m->maps[m->n_maps++] = (struct metrics_map){ "flows", st.flows, st.flows_capacity };
	m->maps[m->n_maps++] = (struct metrics_map){ "processes", m->processes, PROCESS_TABLE_MAX };
	m->evidence_bytes = c->evidence_bytes;
	m->evidence_errors = c->evidence_errors;
	m->evidence_next_seq = c->evidence ? evidence_next_seq(c->evidence) : 0;
	m->syslog_dropped = syslog_dropped(c);
	m->syslog_queued_bytes = c->syslog ? syslog_out_flush(c->syslog) : 0;
}

static void write_metrics(struct collector *c, uint64_t now_ns)
{
	struct metrics_snapshot m;
	int err;

	if (c->evidence_dir && now_ns - c->evidence_bytes_at_ns >= EVIDENCE_SIZE_EVERY_NS) {
		c->evidence_bytes = dir_segment_bytes(c->evidence_dir);
		c->evidence_bytes_at_ns = now_ns;
	}
	if (!c->metrics_path)
		return;
	fill_metrics(c, now_ns, &m);
	err = metrics_write(c->metrics_path, &m);
	if (err && !c->metrics_failing)
		log_error("collector: metrics %s: %s (retried every tick)", c->metrics_path,
			  strerror(-err));
	else if (!err && c->metrics_failing)
		log_info("collector: metrics %s written again", c->metrics_path);
	c->metrics_failing = err != 0;
}

void collector_tick(struct collector *c, uint64_t now_ns)
{
	int err;

	heartbeat(c, now_ns);
	if (c->detect)
		detect_tick(c->detect, now_ns);
	/* Frames queued while the collector was unreachable go out when it is back. */
	if (c->syslog)
		syslog_out_flush(c->syslog);
	/* Retention records which of the blocks it deletes never left the host. */
	if (c->evidence)
		evidence_set_unshipped(c->evidence,
				       c->fleet ? fleet_first_unshipped(c->fleet) : UINT64_MAX);
	if (c->evidence && (err = evidence_maintain(c->evidence, now_ns)))
		log_error("collector: evidence maintenance: %s", strerror(-err));
	if (c->agent)
		session_expire(agent_sessions(c->agent), now_ns, 600ULL * 1000000000ULL);
	push_fleet_counters(c);
	write_metrics(c, now_ns);
	write_status(c, now_ns);
}

void collector_set_policy(struct collector *c, const struct policy_status *st)
{
	c->policy = st;
}

void collector_policy_event(struct collector *c, const char *event, const char *name,
			    const struct policy_info *info, const char *reason)
{
	json_t *o = json_object();
	char msg[2048];
	bool bad = strcmp(event, "applied") != 0;

	json_object_set_new(o, "event", json_string(event));
	json_object_set_new(o, "name", json_string(name ? name : ""));
	json_object_set_new(o, "serial", json_integer((json_int_t)info->serial));
	json_object_set_new(o, "sha256", json_string(info->sha256));
	json_object_set_new(o, "signed", json_boolean(info->is_signed));
	json_object_set_new(o, "key_id", json_string(info->key_id));
	json_object_set_new(o, "groups", json_string(info->groups));
	json_object_set_new(o, "reason", json_string(reason ? reason : ""));
	if (c->policy)
		json_object_set_new(o, "source",
				    json_string(policy_source_name(c->policy->source)));
	record_obj(c, "policy", realtime_ns(), o);
	snprintf(msg, sizeof(msg), "policy %s %s serial=%llu sha256=%s%s%s", event,
		 name ? name : "", (unsigned long long)info->serial, info->sha256,
		 reason && *reason ? " reason=" : "", reason ? reason : "");
	if (c->syslog)
		syslog_out_send(c->syslog, bad ? 4 : 5, "POLICY", msg);
	if (c->evidence && bad)
		evidence_seal(c->evidence);
}

uint64_t collector_alerts(const struct collector *c)
{
	return c->alerts;
}

void collector_free(struct collector *c)
{
	if (!c)
		return;
	if (c->detect) {
		detect_save(c->detect);
		detect_free(c->detect);
	}
	/* The store seals its last block first, so a clean stop ships it too. */
	evidence_close(c->evidence);
	fleet_stop(c->fleet, true);
	syslog_out_close(c->syslog);
	if (c->alerts_fd >= 0)
		close(c->alerts_fd);
	json_buf_free(&c->buf);
	free(c->alerts_path);
	free(c->syslog_url);
	free(c->metrics_path);
	free(c->syslog_ca);
	free(c->evidence_dir);
	free(c);
}
