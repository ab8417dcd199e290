// SPDX-License-Identifier: GPL-2.0-only
/*
 * exfilctl policy: IT's side of signed policy bundles (docs/policy.md). keygen makes the
 * signing key (private file 0600, never overwritten), sign wraps a checked config in a
 * bundle, verify judges a bundle as an agent would, show prints its header, push puts it
 * into the fleet's key-value bucket under each group it names.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <openssl/pem.h>

#include "common/atomic_file.h"
#include "config/bundle.h"
#include "config/config.h"
#include "config/parse.h"
#include "config/policy_gate.h"
#include "config/trust.h"
#include "ctl.h"
#include "output/fleet_policy.h"

#define DEFAULT_VALID "90d"
/* Agents' clocks drift; a bundle signed "now" must not be refused as not yet valid. */
#define DEFAULT_BACKDATE_S 600

struct policy_cmd {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *usage;
};

static int write_new(const char *path, mode_t mode, EVP_PKEY *k, int priv)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
	FILE *f;
	int ok;

	if (fd < 0) {
		fprintf(stderr, "exfilctl policy keygen: %s: %s%s\n", path, strerror(errno),
			errno == EEXIST ? " (refusing to overwrite a key)" : "");
		return -1;
	}
	f = fdopen(fd, "w");
	ok = f && (priv ? PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL)
			: PEM_write_PUBKEY(f, k));
	if (!f || fclose(f) || !ok) {
		fprintf(stderr, "exfilctl policy keygen: writing %s failed\n", path);
		return -1;
	}
	return 0;
}

static int cmd_keygen(int argc, char **argv)
{
	char key[4096], pub[4096], id[TRUST_KEY_ID_LEN + 1];
	EVP_PKEY *k;
	int err;

	if (argc != 2 || argv[1][0] == '-')
		return 2;
	snprintf(key, sizeof(key), "%s.key", argv[1]);
	snprintf(pub, sizeof(pub), "%s.pub", argv[1]);
	if (access(pub, F_OK) == 0) {
		fprintf(stderr, "exfilctl policy keygen: %s exists (refusing to overwrite a key)\n",
			pub);
		return 1;
	}
	k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	if (!k || trust_key_id(k, id)) {
		fprintf(stderr, "exfilctl policy keygen: OpenSSL could not make an Ed25519 key\n");
		EVP_PKEY_free(k);
		return 1;
	}
	err = write_new(key, 0600, k, 1);
	if (!err && (err = write_new(pub, 0644, k, 0)))
		unlink(key);
	EVP_PKEY_free(k);
	if (err)
		return 1;
	printf("private key %s (keep offline), public key %s, key id %s\n", key, pub, id);
	return 0;
}

static int read_all(const char *path, char **text, size_t *len)
{
	int err = config_read_file(path, text, len);

	if (err)
		fprintf(stderr, "exfilctl policy: %s: %s\n", path,
			err == -EFBIG ? "larger than 1 MiB" : strerror(-err));
	return err;
}

/* "now", an RFC 3339 UTC time, for expiry also "+DURATION" from not_before. */
static int parse_when(const char *s, int64_t now, int64_t *out)
{
	uint64_t ns;

	if (!strcmp(s, "now")) {
		*out = now;
		return 0;
	}
	if (s[0] == '+' && !parse_duration(s + 1, &ns)) {
		*out = now + (int64_t)(ns / 1000000000ULL);
		return 0;
	}
	return bundle_parse_time(s, out);
}

static int split_groups(const char *list, struct bundle_header *h)
{
	char *copy = strdup(list), *save = NULL;

	if (!copy)
		return -1;
	h->n_groups = 0;
	for (char *g = strtok_r(copy, ",", &save); g; g = strtok_r(NULL, ",", &save)) {
		if (h->n_groups == BUNDLE_MAX_GROUPS || !bundle_group_valid(g)) {
			free(copy);
			return -1;
		}
		snprintf(h->groups[h->n_groups++], BUNDLE_GROUP_MAX + 1, "%s", g);
	}
	free(copy);
	return h->n_groups ? 0 : -1;
}

static EVP_PKEY *read_private(const char *path)
{
	FILE *f = fopen(path, "re");
	EVP_PKEY *k = f ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : NULL;

	if (f)
		fclose(f);
	if (!k || EVP_PKEY_id(k) != EVP_PKEY_ED25519) {
		fprintf(stderr, "exfilctl policy sign: %s: not an Ed25519 private key\n", path);
		EVP_PKEY_free(k);
		return NULL;
	}
	return k;
}

/* The config must load exactly as an agent would load it, before anything is signed. */
static int check_config(const char *path, const char *text, size_t len)
{
	struct config cfg;
	char *errors = NULL;

	if (bundle_detect(text, len)) {
		fprintf(stderr, "exfilctl policy sign: %s is already a bundle\n", path);
		return -1;
	}
	if (config_load_string(path, text, len, &cfg, &errors)) {
		fputs(errors ? errors : "invalid config\n", stderr);
		fprintf(stderr, "exfilctl policy sign: %s not signed\n", path);
		free(errors);
		return -1;
	}
	config_free(&cfg);
	return 0;
}

static int write_file(const char *path, const char *data, size_t len)
{
	int err = atomic_file_write(path, data, len, 0644);

	if (err)
		fprintf(stderr, "exfilctl policy: writing %s: %s\n", path, strerror(-err));
	return err ? -1 : 0;
}

struct sign_args {
	const char *key, *serial, *groups, *not_before, *expiry, *out, *config;
};

static int sign_parse_args(int argc, char **argv, struct sign_args *a)
{
	static const struct option opts[] = {
		{ "key", required_argument, NULL, 'k' }, { "serial", required_argument, NULL, 's' },
		{ "groups", required_argument, NULL, 'g' },
		{ "not-before", required_argument, NULL, 'n' },
		{ "expiry", required_argument, NULL, 'e' }, { "out", required_argument, NULL, 'o' },
		{ 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "k:s:g:n:e:o:", opts, NULL)) != -1) {
		switch (c) {
		case 'k': a->key = optarg; break;
		case 's': a->serial = optarg; break;
		case 'g': a->groups = optarg; break;
		case 'n': a->not_before = optarg; break;
		case 'e': a->expiry = optarg; break;
		case 'o': a->out = optarg; break;
		default: return 2;
		}
	}
	if (optind != argc - 1 || !a->key || !a->serial || !a->groups || !a->out)
		return 2;
	a->config = argv[optind];
	return 0;
}

static int sign_header(const struct sign_args *a, struct bundle_header *h)
{
	int64_t now = time(NULL);

	if (parse_u64(a->serial, 1, INT64_MAX, &h->serial)) {
		fprintf(stderr, "exfilctl policy sign: --serial: a whole number from 1\n");
		return 2;
	}
	if (split_groups(a->groups, h)) {
		fprintf(stderr, "exfilctl policy sign: --groups: names of [A-Za-z0-9_-], "
			"comma-separated, at most 32 (all: every host)\n");
		return 2;
	}
	h->not_before = now - DEFAULT_BACKDATE_S;
	if (a->not_before && parse_when(a->not_before, now, &h->not_before)) {
		fprintf(stderr, "exfilctl policy sign: --not-before: now or e.g. "
			"2026-12-04T15:00:00Z\n");
		return 2;
	}
	if (parse_when(a->expiry ? a->expiry : "+" DEFAULT_VALID, now, &h->expiry) ||
	    h->expiry <= h->not_before) {
		fprintf(stderr, "exfilctl policy sign: --expiry: a time after not-before, e.g. "
			"2027-03-04T00:00:00Z or +90d\n");
		return 2;
	}
	return 0;
}

static int cmd_sign(int argc, char **argv)
{
	struct sign_args a = { 0 };
	struct bundle_header h = { 0 };
	char *config = NULL, *out = NULL;
	size_t len, out_len;
	EVP_PKEY *k = NULL;
	int rc;

	if ((rc = sign_parse_args(argc, argv, &a)) || (rc = sign_header(&a, &h)))
		return rc;
	rc = 1;
	if (read_all(a.config, &config, &len) || check_config(a.config, config, len) ||
	    !(k = read_private(a.key)))
		goto out;
	if (bundle_sign(&h, config, len, k, &out, &out_len)) {
		fprintf(stderr, "exfilctl policy sign: signing failed\n");
		goto out;
	}
	if (!write_file(a.out, out, out_len)) {
		printf("%s: serial %llu for %s, sha256=%.64s\n", a.out,
		       (unsigned long long)h.serial, a.groups, strstr(out, "config_sha256: ") + 15);
		rc = 0;
	}
out:
	EVP_PKEY_free(k);
	free(config);
	free(out);
	return rc;
}

static void print_header(const char *path, const struct bundle *b)
{
	char nb[21], ex[21];

	bundle_format_time(b->h.not_before, nb);
	bundle_format_time(b->h.expiry, ex);
	printf("bundle:        %s\nserial:        %llu\nnot_before:    %s\nexpiry:        %s\n"
	       "groups:        ", path, (unsigned long long)b->h.serial, nb, ex);
	for (size_t i = 0; i < b->h.n_groups; i++)
		printf("%s%s", i ? "," : "", b->h.groups[i]);
	printf("\nkey_id:        %s\nconfig_sha256: %s\nconfig:        %zu bytes\n", b->h.key_id,
	       b->h.config_sha256, b->config_len);
}

static int load_bundle(const char *path, char **text, size_t *len, struct bundle *b)
{
	char *errors = NULL;

	if (read_all(path, text, len))
		return -1;
	if (bundle_parse(path, *text, *len, b, &errors)) {
		fputs(errors ? errors : "not a bundle\n", stderr);
		free(errors);
		return -1;
	}
	return 0;
}

static int cmd_show(int argc, char **argv)
{
	struct bundle b;
	char *text = NULL;
	size_t len;
	int rc = 1;

	if (argc != 2 || argv[1][0] == '-')
		return 2;
	if (!load_bundle(argv[1], &text, &len, &b)) {
		print_header(argv[1], &b);
		printf("(not verified: exfilctl policy verify checks the signature)\n");
		rc = 0;
	}
	free(text);
	return rc;
}

static int load_trust(const char *dir, struct trust *t)
{
	char *errors = NULL;
	int err = trust_load_dir(dir, t, &errors);

	if (errors)
		fputs(errors, stderr);
	free(errors);
	if (err && err != -EINVAL) {
		fprintf(stderr, "exfilctl policy: %s: %s\n", dir, strerror(-err));
		return -1;
	}
	if (!t->n_keys) {
		fprintf(stderr, "exfilctl policy: no trusted keys (*.pub) in %s\n", dir);
		return -1;
	}
	return 0;
}

/* Judges path as an agent in groups would (all when none are given); 0 when admitted. */
static int judge(const char *path, const char *trusted, const char *const *groups,
		 size_t n_groups, int64_t at, char **text, size_t *len)
{
	struct policy_rules r = { .groups = groups, .n_groups = n_groups, .now = at,
				  .check_time = true, .require_signed = true };
	static const char *const any[] = { "all" };
	const char *gs[BUNDLE_MAX_GROUPS];
	struct bundle b;
	struct trust t;
	struct policy_info info;
	struct config cfg;
	char *why = NULL;
	int err;

	if (read_all(path, text, len) || load_trust(trusted, &t))
		return -1;
	r.trust = &t;
	if (!n_groups) {
		/* No --group: every group the bundle names counts as this host's. */
		if (!bundle_parse(path, *text, *len, &b, NULL)) {
			for (size_t i = 0; i < b.h.n_groups; i++)
				gs[i] = b.h.groups[i];
			r.groups = gs;
			r.n_groups = b.h.n_groups;
		} else {
			r.groups = any;
		}
	}
	err = policy_gate_admit(path, *text, *len, &r, &cfg, &info, &why);
	trust_free(&t);
	if (err) {
		if (err == -EPERM)
			fprintf(stderr, "%s: refused: ", path);
		fputs(why ? why : strerror(-err), stderr);
		if (!why || why[strlen(why) - 1] != '\n')
			fputc('\n', stderr);
		free(why);
		return -1;
	}
	config_free(&cfg);
	printf("%s: valid, serial %llu, groups %s, key %s, sha256=%s\n", path,
	       (unsigned long long)info.serial, info.groups, info.key_id, info.sha256);
	return 0;
}

static int cmd_verify(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "trusted", required_argument, NULL, 't' },
		{ "group", required_argument, NULL, 'g' },
		{ "at", required_argument, NULL, 'a' }, { 0 },
	};
	const char *trusted = TRUST_DEFAULT_DIR, *groups[BUNDLE_MAX_GROUPS];
	size_t n_groups = 0, len;
	int64_t at = time(NULL);
	char *text = NULL;
	int c, rc;

	while ((c = getopt_long(argc, argv, "t:g:a:", opts, NULL)) != -1) {
		switch (c) {
		case 't': trusted = optarg; break;
		case 'g':
			if (n_groups == BUNDLE_MAX_GROUPS || !bundle_group_valid(optarg))
				return 2;
			groups[n_groups++] = optarg;
			break;
		case 'a':
			if (parse_when(optarg, at, &at))
				return 2;
			break;
		default: return 2;
		}
	}
	if (optind != argc - 1)
		return 2;
	rc = judge(argv[optind], trusted, groups, n_groups, at, &text, &len) ? 1 : 0;
	free(text);
	return rc;
}

static int push_all(const struct fleet_policy_opts *o, const char *path, const char *text,
		    size_t len)
{
	struct bundle b;
	char why[512];

	if (bundle_parse(path, text, len, &b, NULL))
		return -1;
	for (size_t i = 0; i < b.h.n_groups; i++) {
		uint64_t rev = 0;

		if (fleet_policy_push(o, b.h.groups[i], text, len, 5000, &rev, why, sizeof(why))) {
			fprintf(stderr, "exfilctl policy push: %s key %s: %s\n",
				FLEET_POLICY_BUCKET, b.h.groups[i], why);
			return -1;
		}
		printf("pushed %s serial %llu to %s/%s (revision %llu)\n", path,
		       (unsigned long long)b.h.serial, FLEET_POLICY_BUCKET, b.h.groups[i],
		       (unsigned long long)rev);
	}
	return 0;
}

static int cmd_push(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "server", required_argument, NULL, 's' },
		{ "creds", required_argument, NULL, 'c' },
		{ "tls-ca", required_argument, NULL, 'C' },
		{ "trusted", required_argument, NULL, 't' }, { 0 },
	};
	struct fleet_policy_opts o = { 0 };
	const char *trusted = TRUST_DEFAULT_DIR;
	char *text = NULL;
	size_t len;
	int c, rc = 1;

	while ((c = getopt_long(argc, argv, "s:c:C:t:", opts, NULL)) != -1) {
		switch (c) {
		case 's': o.servers = optarg; break;
		case 'c': o.creds = optarg; break;
		case 'C': o.tls_ca = optarg; break;
		case 't': trusted = optarg; break;
		default: return 2;
		}
	}
	if (optind != argc - 1 || !o.servers)
		return 2;
	/* Never push what an agent would refuse: it would only raise refusals fleet-wide. */
	if (!judge(argv[optind], trusted, NULL, 0, time(NULL), &text, &len) &&
	    !push_all(&o, argv[optind], text, len))
		rc = 0;
	free(text);
	return rc;
}

static const struct policy_cmd cmds[] = {
	{ "keygen", cmd_keygen, "keygen PREFIX              (writes PREFIX.key 0600, PREFIX.pub)" },
	{ "sign", cmd_sign, "sign --key KEY --serial N --groups G[,G] [--not-before TIME] "
			    "[--expiry TIME|+DURATION] --out BUNDLE CONFIG" },
	{ "verify", cmd_verify, "verify [--trusted DIR] [--group G]... [--at TIME] BUNDLE" },
	{ "show", cmd_show, "show BUNDLE" },
	{ "push", cmd_push, "push --server URL [--creds FILE] [--tls-ca FILE] [--trusted DIR] "
			    "BUNDLE" },
};

static void usage(FILE *f)
{
	fprintf(f, "usage:\n");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "  exfilctl policy %s\n", cmds[i].usage);
	fprintf(f, "TIME is now or e.g. 2026-12-04T15:00:00Z (UTC). docs/policy.md walks "
		   "through keys, signing, pushing and rotation.\n");
}

int ctl_policy(int argc, char **argv)
{
	if (argc < 2 || !strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? 2 : 0;
	}
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		if (strcmp(argv[1], cmds[i].name))
			continue;
		optind = 1;
		int rc = cmds[i].run(argc - 1, argv + 1);

		if (rc == 2)
			fprintf(stderr, "usage: exfilctl policy %s\n", cmds[i].usage);
		return rc;
	}
	fprintf(stderr, "exfilctl policy: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
