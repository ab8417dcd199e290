// SPDX-License-Identifier: GPL-2.0-only
/* The BPF test harness: sensors up, scratch files, map lookups (see harness.h). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "unit.h"
#include "agent/mounts.h"
#include "common/log.h"
#include "harness.h"

/* /proc/self/sessionid or loginuid: the audit ids the kernel stamps on our flows. */
static uint32_t own_audit_id(const char *path)
{
	unsigned long v = 0xffffffffUL;
	FILE *f = fopen(path, "r");

	if (f) {
		if (fscanf(f, "%lu", &v) != 1)
			v = 0xffffffffUL;
		fclose(f);
	}
	return (uint32_t)v;
}

static int on_record(void *ctx, void *data, size_t len)
{
	struct harness *h = ctx;
	const struct xm_hdr *hdr = data;

	/* Only records of this process; the rest of the machine shares the ring. */
	if (len < sizeof(*hdr) + sizeof(struct xm_task) ||
	    ((const struct xm_task *)(hdr + 1))->pid != h->pid)
		return 0;
	if (hdr->type == XM_REC_OPEN && len >= sizeof(h->last_open)) {
		memcpy(&h->last_open, data, sizeof(h->last_open));
		h->n_open++;
	} else if (hdr->type == XM_REC_MMAP && len >= sizeof(h->last_mmap)) {
		memcpy(&h->last_mmap, data, sizeof(h->last_mmap));
		h->n_mmap++;
	} else if (hdr->type == XM_REC_LINEAGE && len >= sizeof(h->last_lineage)) {
		memcpy(&h->last_lineage, data, sizeof(h->last_lineage));
		h->n_lineage++;
	}
	return 0;
}

int harness_setup(void **state)
{
	struct harness *h = calloc(1, sizeof(*h));
	struct sensors_opts opts = { .on_record = on_record };

	if (!h)
		return -1;
	log_setup("bpf-test", 1, LOG_LVL_WARN);
	opts.ctx = h;
	h->sensors = sensors_start(&opts);
	if (!h->sensors) {
		fprintf(stderr, "bpf-test: cannot load the sensors: %s\n", strerror(errno));
		free(h);
		return -1;
	}
	h->maps = sensors_maps(h->sensors);
	fprintf(stderr, "bpf-test: %u programs attached; %s\n", sensors_attached(h->sensors),
		sensors_hooks_text(h->sensors));
	h->pid = (uint32_t)getpid();
	h->session = own_audit_id("/proc/self/sessionid");
	h->loginuid = own_audit_id("/proc/self/loginuid");
	snprintf(h->dir, sizeof(h->dir), "/tmp/xm-bpf-test.XXXXXX");
	if (!mkdtemp(h->dir)) {
		sensors_stop(h->sensors);
		free(h);
		return -1;
	}
	*state = h;
	return 0;
}

int harness_teardown(void **state)
{
	struct harness *h = *state;
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", h->dir);
	if (system(cmd))
		fprintf(stderr, "bpf-test: could not remove %s\n", h->dir);
	sensors_stop(h->sensors);
	free(h);
	return 0;
}

void harness_file(struct harness *h, const char *name, size_t len, char *path)
{
	char buf[4096];
	int fd;

	snprintf(path, PATH_MAX, "%s/%s", h->dir, name);
	memset(buf, 'x', sizeof(buf));
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	assert_true(fd >= 0);
	for (size_t done = 0; done < len;) {
		size_t n = len - done < sizeof(buf) ? len - done : sizeof(buf);

		assert_int_equal(write(fd, buf, n), (ssize_t)n);
		done += n;
	}
	assert_int_equal(close(fd), 0);
}

struct xm_watch_key harness_watch_key(const char *path)
{
	struct xm_watch_key k = { 0 };
	struct stat st;

	assert_int_equal(stat(path, &st), 0);
	k.ino = st.st_ino;
	k.dev = mounts_kdev(st.st_dev);
	return k;
}

void harness_watch(struct harness *h, const char *path, uint32_t flags)
{
	struct xm_watch_key k = harness_watch_key(path);
	struct xm_watch_val v = { .flags = flags, .source_id = 7 };

	assert_int_equal(bpf_map_update_elem(h->maps->watch, &k, &v, BPF_ANY), 0);
	/* As policy_apply does: a new tree root makes the kernel's cached directory
	 * verdicts stale (the file below was judged when it was created). */
	assert_non_null(h->maps->dir_gen);
	__atomic_fetch_add(h->maps->dir_gen, 1, __ATOMIC_SEQ_CST);
}

struct xm_flow_key harness_file_flow(const struct harness *h, const char *path, uint8_t kind)
{
	struct xm_watch_key wk = harness_watch_key(path);
	struct xm_flow_key k = { 0 };

	k.ino = wk.ino;
	k.dev = wk.dev;
	k.pid = h->pid;
	k.session = h->session;
	k.kind = kind;
	return k;
}

static void mapped_v4(const char *ip4, uint8_t out[16])
{
	memset(out, 0, 16);
	out[10] = 0xff;
	out[11] = 0xff;
	assert_int_equal(inet_pton(AF_INET, ip4, out + 12), 1);
}

struct xm_flow_key harness_net_flow(const struct harness *h, const char *ip4, uint16_t port,
				    uint8_t kind)
{
	struct xm_flow_key k = { 0 };

	mapped_v4(ip4, k.addr);
	k.port = port;
	k.pid = h->pid;
	k.session = h->session;
	k.kind = kind;
	return k;
}

bool harness_flow(const struct harness *h, const struct xm_flow_key *k, struct xm_flow_val *v)
{
	return bpf_map_lookup_elem(h->maps->flows, k, v) == 0;
}

uint64_t harness_drops(const struct harness *h, uint32_t why)
{
	int ncpu = libbpf_num_possible_cpus();
	uint64_t *vals, sum = 0;

	assert_true(ncpu > 0);
	vals = calloc((size_t)ncpu, sizeof(*vals));
	assert_non_null(vals);
	assert_int_equal(bpf_map_lookup_elem(h->maps->drops, &why, vals), 0);
	for (int c = 0; c < ncpu; c++)
		sum += vals[c];
	free(vals);
	return sum;
}

void harness_consume(struct harness *h)
{
	assert_true(sensors_ring_consume(h->sensors) >= 0);
}

static void net_key(struct xm_net_key *k, const char *ip4, unsigned bits, uint16_t port,
		    bool with_port)
{
	uint8_t addr[16];

	memset(k, 0, sizeof(*k));
	mapped_v4(ip4, addr);
	if (with_port) {
		k->prefixlen = 16 + 96 + bits;
		k->data[0] = port >> 8;
		k->data[1] = port & 0xff;
		memcpy(&k->data[2], addr, 16);
	} else {
		k->prefixlen = 96 + bits;
		memcpy(&k->data[0], addr, 16);
	}
}

void harness_allow(struct harness *h, const char *ip4, unsigned bits)
{
	struct xm_net_key k;
	struct xm_net_val v = { .id = 1 };

	net_key(&k, ip4, bits, 0, false);
	assert_int_equal(bpf_map_update_elem(h->maps->allow, &k, &v, BPF_ANY), 0);
}

void harness_service(struct harness *h, const char *ip4, uint16_t port)
{
	struct xm_net_key k;
	struct xm_net_val v = { .id = 2 };

	net_key(&k, ip4, 32, port, true);
	assert_int_equal(bpf_map_update_elem(h->maps->services, &k, &v, BPF_ANY), 0);
}
