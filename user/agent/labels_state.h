/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Derived-file labels across a reboot. The pinned label maps survive a daemon restart but
 * not a reboot; so the file labels are also written to the state directory, each with
 * the file's path and change time, and when the daemon starts with an empty object-label
 * map (after a reboot) they are loaded back for every file that is still the same
 * (same device, inode and change time). Stream and socket labels are not kept: what was
 * in flight did not survive the reboot either.
 */
#ifndef EXFILMON_LABELS_STATE_H
#define EXFILMON_LABELS_STATE_H

#include <stdint.h>

#include "objnames.h"
#include "sensors.h"

/* Writes the file labels of map fd ilabels whose path names knows to path (a temporary
 * file renamed over it). Returns the number written or -errno. */
int labels_state_save(int ilabels, struct objnames *names, const char *path);
/* Loads the labels of path into the file-label map if it is empty, stamped now_boot_ns.
 * Returns the number loaded (0 when the map was not empty or there is no file) or
 * -errno. */
int labels_state_load(const struct sensor_maps *m, const char *path, uint64_t now_boot_ns);

#endif
