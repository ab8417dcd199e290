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
 * entries, all of them valid watch decisions). A full map is not an error: what fits is
 * in force, policy_stats()->refused counts the rest, and the caller raises the alarm.
 * Sources go in first, so sink folders can never crowd out a source. */
int policy_apply(struct policy *p, const struct config *cfg);

/* Looks for configured sync folders that did not exist at the last apply ("~/Dropbox"
 * of a new account, a folder created later) and watches those that appeared. */
int policy_discover(struct policy *p);

/* Re-reads mountinfo and updates the sink devices; call when mounts change. */
int policy_refresh_media(struct policy *p);

/* The media mounts in force (for naming egress mounts). */
const struct mount_list *policy_media(const struct policy *p);

/* Counts of what the last apply put in: watched inodes, trees, sink folders. */
struct policy_stats {
	size_t watched_files;
	size_t watched_dirs;
	size_t sink_dirs;
	size_t sink_files;
	size_t refused;          /* entries that did not fit (map full): a partial policy */
	size_t discovered;       /* sync folders found after the apply (policy_discover) */
	size_t media_mounts;
	size_t services;
	size_t allow;
};
const struct policy_stats *policy_stats(const struct policy *p);

/* Called by policy_verify for each difference (at most 8 per call): the map and what. */
typedef void (*policy_report_fn)(void *ctx, const char *map, const char *what);

/*
 * Reads back allow, services, watch and sinks and compares them with what the last
 * policy_apply put in (entries the kernel learns at open time are checked to be ones it
 * could have learned). Every difference is reported and repaired. Returns the number of
 * differences: anything but 0 means someone with root edited the maps.
 */
int policy_verify(struct policy *p, policy_report_fn report, void *ctx);

/* Stable id of a configured path, as carried in xm_watch_val.source_id. */
uint32_t policy_source_id(const char *kind, const char *path);

#endif
