/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Names of watched inodes: (dev, ino) -> full path, learned from open records and, for
 * files opened before the agent started, from the /proc fd tables. Bounded: past the
 * cap the oldest half of the names is forgotten.
 */
#ifndef EXFILMON_OBJNAMES_H
#define EXFILMON_OBJNAMES_H

#include <stddef.h>
#include <stdint.h>

struct objnames;

struct objnames *objnames_new(size_t cap);
void objnames_free(struct objnames *o);
int objnames_set(struct objnames *o, uint32_t dev, uint64_t ino, const char *path);
const char *objnames_get(struct objnames *o, uint32_t dev, uint64_t ino);
/* Looks through proc_root/PID/fd for a link to (dev, ino) and remembers the name.
 * Returns the name or NULL. */
const char *objnames_resolve_fd(struct objnames *o, const char *proc_root, uint32_t pid,
				uint32_t dev, uint64_t ino);
size_t objnames_count(const struct objnames *o);

#endif
