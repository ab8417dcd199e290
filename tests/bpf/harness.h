/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What every BPF test shares, in the manner of the kernel's test_progs: the real
 * skeleton loaded and attached through agent/sensors.c (the same probes and hook
 * choice as exfilmond), the map fds, and small helpers that put an entry into a map,
 * make one syscall from this process and read back exactly the entry the kernel side
 * should have written. Runs as root; failing to load BPF fails the test.
 */
#ifndef EXFILMON_BPF_HARNESS_H
#define EXFILMON_BPF_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "abi.h"
#include "agent/sensors.h"

struct harness {
	struct sensors *sensors;
	const struct sensor_maps *maps;
	uint32_t pid;               /* this process's tgid */
	uint32_t session;           /* its audit sessionid, as the kernel reads it */
	uint32_t loginuid;          /* its audit loginuid */
	char dir[64];               /* a scratch directory, removed at teardown */
	/* Ring records of this process seen by harness_consume, newest last. */
	unsigned n_open, n_mmap, n_lineage;
	struct xm_open last_open;
	struct xm_mmap last_mmap;
	struct xm_lineage last_lineage;
};

/* cmocka group setup/teardown: loads and attaches the sensors, makes the scratch dir. */
int harness_setup(void **state);
int harness_teardown(void **state);

/* Creates dir/name with len bytes of data and returns its path in path (PATH_MAX). */
void harness_file(struct harness *h, const char *name, size_t len, char *path);
/* The watch key of path (kernel dev encoding, inode). */
struct xm_watch_key harness_watch_key(const char *path);
/* Puts path into the watch map with flags (xm_watch_flag) and source_id 7. */
void harness_watch(struct harness *h, const char *path, uint32_t flags);
/* The flow key the kernel builds for this process and path (or peer) and kind. */
struct xm_flow_key harness_file_flow(const struct harness *h, const char *path, uint8_t kind);
struct xm_flow_key harness_net_flow(const struct harness *h, const char *ip4, uint16_t port,
				    uint8_t kind);
/* Looks the flow up; true and *v filled when it exists. */
bool harness_flow(const struct harness *h, const struct xm_flow_key *k, struct xm_flow_val *v);
/* Sum over CPUs of drops[why]. */
uint64_t harness_drops(const struct harness *h, uint32_t why);
/* Reads everything in the ring, noting the open, mmap and lineage records of this
 * process. */
void harness_consume(struct harness *h);
/* Puts an LPM entry for ip4 (mapped form) into the allow map (prefix 96 + bits) or, with
 * port, into the services map. */
void harness_allow(struct harness *h, const char *ip4, unsigned bits);
void harness_service(struct harness *h, const char *ip4, uint16_t port);

#endif
