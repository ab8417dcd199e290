// SPDX-License-Identifier: GPL-2.0-only
/*
 * central.yaml parser: a two-level mapping (section: key: value) walked with libyaml's
 * document API; each "section.key" is looked up in one table that says how to parse
 * it, its bounds, its default and what it means. Unknown keys are errors, so a typo
 * never silently leaves a default in force.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "central_config.h"
#include "config/parse.h"

#define SEC 1000000000ULL
#define DAY (86400ULL * SEC)

enum kind { K_STR, K_SIZE, K_COUNT, K_DURATION, K_RATE, K_BOOL, K_SERVERS };

struct key {
	const char *name;
	enum kind kind;
	size_t off, off2;            /* off2: the rate's window */
	uint64_t min, max;
	const char *def;
	const char *doc;
};

#define OFF(f) offsetof(struct central_config, f)

static const struct key keys[] = {
	{ "nats.servers", K_SERVERS, OFF(servers), 0, 0, 0, "nats://127.0.0.1:4222",
	  "NATS servers (a URL or a list of up to 8)" },
	{ "nats.credentials", K_STR, OFF(creds), 0, 0, 0, "", "NATS credentials file (\"\": none)" },
	{ "nats.tls_ca", K_STR, OFF(tls_ca), 0, 0, 0, "", "CA file that verifies the servers (\"\": none)" },
	{ "nats.stream", K_STR, OFF(stream), 0, 0, 0, "EXFILMON", "JetStream stream the agents publish to" },
	{ "nats.consumer", K_STR, OFF(consumer), 0, 0, 0, "exfilmon-central",
	  "durable pull consumer, shared by every central instance" },
	{ "nats.fetch_batch", K_COUNT, OFF(fetch_batch), 0, 1, 10000, "256", "messages per pull" },
	{ "nats.ack_wait", K_DURATION, OFF(ack_wait_ns), 0, SEC, DAY, "60s",
	  "redelivery after this long without an ack (keep it above a transaction's time)" },
	{ "nats.max_ack_pending", K_COUNT, OFF(max_ack_pending), 0, 1, 1000000, "4096",
	  "messages delivered and not yet acknowledged, over all instances" },
	{ "database.conninfo", K_STR, OFF(conninfo), 0, 0, 0, "dbname=exfilmon",
	  "libpq connection string or postgresql:// URL" },
	{ "database.batch_records", K_COUNT, OFF(batch_records), 0, 1, 10000000, "50000",
	  "records per transaction (a pull stops adding blocks past this)" },
	{ "output.alerts", K_STR, OFF(alerts_path), 0, 0, 0, "/var/log/exfilmon/central-alerts.jsonl",
	  "central alerts as JSON lines (\"\": none)" },
	{ "output.syslog", K_BOOL, OFF(syslog), 0, 0, 1, "true", "central alerts to syslog too" },
	{ "detect.interval", K_DURATION, OFF(detect_interval_ns), 0, SEC / 10, DAY, "30s",
	  "how often the detections run" },
	{ "detect.silent_intervals", K_COUNT, OFF(silent_intervals), 0, 2, 1000, "3",
	  "agent_silent after this many heartbeat intervals without one" },
	{ "detect.gap_timeout", K_DURATION, OFF(gap_timeout_ns), 0, SEC, DAY, "5m",
	  "a block waiting this long for its predecessor is an evidence_gap" },
	{ "detect.drift_grace", K_DURATION, OFF(drift_grace_ns), 0, SEC, 30 * DAY, "10m",
	  "config_drift when a host stays behind the newest push to its groups this long" },
	{ "ring.min_users", K_COUNT, OFF(ring_min_users), 0, 2, 10000, "3",
	  "distinct users sending to one destination that make a ring" },
	{ "ring.window", K_DURATION, OFF(ring_window_ns), 0, 60 * SEC, 365 * DAY, "7d",
	  "how far back a ring's members are looked for" },
	{ "fleet_user.bulk_read", K_SIZE, OFF(fu_bulk_bytes), 0, 1, UINT64_MAX, "50MiB",
	  "source bytes of one person over all hosts within fleet_user.window (the agent's detect.bulk_read)" },
	{ "fleet_user.window", K_DURATION, OFF(fu_window_ns), 0, SEC, 7 * DAY, "10m",
	  "window of fleet_user.bulk_read (the agent's detect.window)" },
	{ "fleet_user.drip", K_RATE, OFF(fu_drip_bytes), OFF(fu_drip_window_ns), 1, UINT64_MAX,
	  "200MiB/24h", "source bytes of one person over all hosts per window (the agent's detect.drip)" },
	{ "retention.days", K_COUNT, OFF(retention_days), 0, 0, 100000, "90",
	  "records older than this many days are dropped by whole partitions (0: keep)" },
	{ "policy.trusted", K_STR, OFF(trusted_dir), 0, 0, 0, "/etc/exfilmon/trusted.d",
	  "public keys (*.pub) a pushed policy bundle must be signed by (\"\": pushes not tracked)" },
	{ "log.level", K_STR, OFF(log_level), 0, 0, 0, "info", "error, warn, info or debug" },
};

struct ctx {
	const char *file;
	struct central_config *c;
	char *errors;
	size_t errors_len;
	int n_errors;
};

static void __attribute__((format(printf, 4, 5)))
error_at(struct ctx *x, const yaml_node_t *n, const char *key, const char *fmt, ...)
{
	char msg[512], line[800];
	va_list ap;
	char *e;
	int len;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	len = snprintf(line, sizeof(line), "%s:%zu:%zu: %s%s%s\n", x->file,
		       n ? n->start_mark.line + 1 : 0, n ? n->start_mark.column + 1 : 0,
		       key ? key : "", key ? ": " : "", msg);
	x->n_errors++;
	e = realloc(x->errors, x->errors_len + (size_t)len + 1);
	if (!e)
		return;
	memcpy(e + x->errors_len, line, (size_t)len + 1);
	x->errors = e;
	x->errors_len += (size_t)len;
}

static int set_str(char **slot, const char *s)
{
	char *d = strdup(s);

	if (!d)
		return -ENOMEM;
	free(*slot);
	*slot = d;
	return 0;
}

static int set_servers(struct central_config *c, const char *const *v, size_t n)
{
	for (size_t i = 0; i < c->n_servers; i++) {
		free(c->servers[i]);
		c->servers[i] = NULL;
	}
	c->n_servers = 0;
	for (size_t i = 0; i < n; i++) {
		if (!(c->servers[i] = strdup(v[i])))
			return -ENOMEM;
		c->n_servers++;
	}
	return 0;
}

/* Parses text for key k into c. Returns 0, -EINVAL, -ERANGE or -ENOMEM. */
static int parse_value(const struct key *k, const char *text, struct central_config *c)
{
	void *slot = (char *)c + k->off;
	uint64_t v, w;
	int err;

	switch (k->kind) {
	case K_STR:
		return set_str(slot, text);
	case K_SERVERS:
		if (strncmp(text, "nats://", 7) && strncmp(text, "tls://", 6))
			return -EINVAL;
		return set_servers(c, &text, 1);
	case K_BOOL:
		if (!strcmp(text, "true") || !strcmp(text, "yes"))
			*(bool *)slot = true;
		else if (!strcmp(text, "false") || !strcmp(text, "no"))
			*(bool *)slot = false;
		else
			return -EINVAL;
		return 0;
	case K_SIZE:
		err = parse_size(text, &v);
		break;
	case K_COUNT:
		err = parse_u64(text, k->min, k->max, &v);
		break;
	case K_DURATION:
		err = parse_duration(text, &v);
		break;
	case K_RATE:
		if ((err = parse_rate(text, &v, &w)))
			return err;
		*(uint64_t *)((char *)c + k->off2) = w;
		break;
	default:
		return -EINVAL;
	}
	if (err)
		return err;
	if (v < k->min || v > k->max)
		return -ERANGE;
	*(uint64_t *)slot = v;
	return 0;
}

static const struct key *find_key(const char *name)
{
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (!strcmp(keys[i].name, name))
			return &keys[i];
	return NULL;
}

static void servers_list(struct ctx *x, yaml_document_t *d, yaml_node_t *n, const char *name)
{
	const char *v[CENTRAL_MAX_SERVERS];
	size_t cnt = 0;

	for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
	     it++) {
		yaml_node_t *s = yaml_document_get_node(d, *it);

		if (!s || s->type != YAML_SCALAR_NODE || cnt == CENTRAL_MAX_SERVERS ||
		    (strncmp((char *)s->data.scalar.value, "nats://", 7) &&
		     strncmp((char *)s->data.scalar.value, "tls://", 6))) {
			error_at(x, s, name, "want up to %d nats:// or tls:// URLs",
				 CENTRAL_MAX_SERVERS);
			return;
		}
		v[cnt++] = (const char *)s->data.scalar.value;
	}
	if (!cnt)
		error_at(x, n, name, "empty list");
	else if (set_servers(x->c, v, cnt))
		error_at(x, n, name, "out of memory");
}

static void one_key(struct ctx *x, yaml_document_t *d, const char *section, yaml_node_t *kn,
		    yaml_node_t *vn)
{
	char name[128];
	const struct key *k;
	int err;

	snprintf(name, sizeof(name), "%s.%s", section, (char *)kn->data.scalar.value);
	if (!(k = find_key(name))) {
		error_at(x, kn, name, "unknown key");
		return;
	}
	if (k->kind == K_SERVERS && vn->type == YAML_SEQUENCE_NODE) {
		servers_list(x, d, vn, name);
		return;
	}
	if (vn->type != YAML_SCALAR_NODE) {
		error_at(x, vn, name, "want a single value");
		return;
	}
	err = parse_value(k, (const char *)vn->data.scalar.value, x->c);
	if (err == -ERANGE)
		error_at(x, vn, name, "'%s' is out of range", (char *)vn->data.scalar.value);
	else if (err)
		error_at(x, vn, name, "'%s' is not a valid value (default %s)",
			 (char *)vn->data.scalar.value, k->def);
}

static void walk(struct ctx *x, yaml_document_t *d)
{
	yaml_node_t *root = yaml_document_get_root_node(d);

	if (!root)
		return;                      /* an empty file: all defaults */
	if (root->type != YAML_MAPPING_NODE) {
		error_at(x, root, NULL, "want a mapping of sections");
		return;
	}
	for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
	     p++) {
		yaml_node_t *sn = yaml_document_get_node(d, p->key);
		yaml_node_t *sv = yaml_document_get_node(d, p->value);

		if (sn->type != YAML_SCALAR_NODE || sv->type != YAML_MAPPING_NODE) {
			error_at(x, sn, NULL, "want SECTION: {KEY: VALUE}");
			continue;
		}
		for (yaml_node_pair_t *q = sv->data.mapping.pairs.start;
		     q < sv->data.mapping.pairs.top; q++) {
			yaml_node_t *kn = yaml_document_get_node(d, q->key);

			if (kn->type != YAML_SCALAR_NODE) {
				error_at(x, kn, (char *)sn->data.scalar.value, "want a key name");
				continue;
			}
			one_key(x, d, (char *)sn->data.scalar.value, kn,
				yaml_document_get_node(d, q->value));
		}
	}
}

int central_config_defaults(struct central_config *c)
{
	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (parse_value(&keys[i], keys[i].def, c))
			return -ENOMEM;
	return 0;
}

int central_config_load(const char *path, struct central_config *c, char **errors)
{
	struct ctx x = { .file = path, .c = c };
	yaml_parser_t p;
	yaml_document_t d;
	FILE *f;
	int err = 0;

	*errors = NULL;
	if (!(f = fopen(path, "r"))) {
		err = -errno;
		error_at(&x, NULL, NULL, "%s", strerror(-err));
		*errors = x.errors;
		return err;
	}
	yaml_parser_initialize(&p);
	yaml_parser_set_input_file(&p, f);
	if (!yaml_parser_load(&p, &d)) {
		x.n_errors++;
		if (asprintf(&x.errors, "%s:%zu:%zu: %s\n", path, p.problem_mark.line + 1,
			     p.problem_mark.column + 1, p.problem ? p.problem : "YAML error") < 0)
			x.errors = NULL;
	} else {
		walk(&x, &d);
		yaml_document_delete(&d);
	}
	yaml_parser_delete(&p);
	fclose(f);
	if (x.n_errors)
		err = -EINVAL;
	*errors = x.errors;
	return err;
}

void central_config_free(struct central_config *c)
{
	for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
		if (keys[i].kind == K_STR)
			free(*(char **)((char *)c + keys[i].off));
	for (size_t i = 0; i < c->n_servers; i++)
		free(c->servers[i]);
	memset(c, 0, sizeof(*c));
}

bool central_config_key(size_t i, const char **name, const char **def, const char **doc)
{
	if (i >= sizeof(keys) / sizeof(keys[0]))
		return false;
	if (name)
		*name = keys[i].name;
	if (def)
		*def = keys[i].def;
	if (doc)
		*doc = keys[i].doc;
	return true;
}
