/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Policy: turns a configuration into the contents of the kernel's watch, sink-device and
 * network maps, and swaps them in without detaching anything: new entries go in first,
 * stale ones leave after, so a path configured in both the old and new config is never
 * unwatched for an instant.
 */
#ifndef EXFILMON_POLICY_H
#define EXFILMON_POLICY_H

#include <stddef.h>
#include <stdint.h>

#include "config/config.h"
#include "sensors.h"
#include "mounts.h"

struct policy_paths {
	const char *mountinfo;   /* "/proc/self/mountinfo" */
	const char *sysfs;       /* "/sys" */
	const char *passwd;      /* "/etc/passwd": homes for "~/" sync folders */
};

struct policy;

struct policy *policy_new(const struct sensor_maps *maps, const struct policy_paths *paths);
void policy_free(struct policy *p);

/* Applies cfg to the maps. Returns 0 or -errno (maps then hold a mix of old and new
 * entries, all of them valid watch decisions). */
int policy_apply(struct policy *p, const struct config *cfg);

/* Re-reads mountinfo and updates the sink devices; call when mounts change. */
int policy_refresh_media(struct policy *p);

/* The media mounts in force (for naming egress mounts). */
const struct mount_list *policy_media(const struct policy *p);

/* Counts of what the last apply put in: watched inodes, trees, sink folders. */
struct policy_stats {
	size_t watched_files;
	size_t watched_dirs;
	size_t sink_dirs;
	size_t media_mounts;
	size_t services;
	size_t allow;
};
const struct policy_stats *policy_stats(const struct policy *p);

/* Stable id of a configured path, as carried in xm_watch_val.source_id. */
uint32_t policy_source_id(const char *kind, const char *path);

#endif
