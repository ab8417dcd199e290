/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * The processes the agent knows, keyed by pid: what they run, their parent (for lineage)
 * and their audit session. Memory is bounded: at most a fixed number of entries, in an
 * open-addressing table that grows by doubling up to that cap. Exited processes stay for a
 * while so that late counter deltas and lineage still name them, then expire.
 */
#ifndef EXFILMON_PROCESS_TABLE_H
#define EXFILMON_PROCESS_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct process_info {
	uint32_t pid;
	uint32_t ppid;
	uint32_t uid;
	uint32_t loginuid;
	uint32_t session_id;
	uint64_t start_ns;        /* CLOCK_REALTIME of exec (or of start, when seeded); 0 unknown */
	char comm[16];
	char exe[256];
	char args[256];           /* bounded argv summary, spaces between arguments */
	bool exited;
	uint64_t exit_ns;         /* CLOCK_REALTIME of exit, when exited */
};

/* Enough for every process of a busy workstation with room for the recently exited. */
#define PROCESS_TABLE_MAX 65536

struct process_table;

/* max_entries: the cap (0 means PROCESS_TABLE_MAX). NULL + errno. */
struct process_table *process_table_new(size_t max_entries);
void process_table_free(struct process_table *t);

/* The entry of pid, or NULL. The pointer stays valid until pid is deleted or expires. */
struct process_info *process_table_get(const struct process_table *t, uint32_t pid);
/* The entry of pid, created zeroed (with pid set) when absent. At the cap, the older
 * exited entries go (those that exited before the midpoint of the oldest and newest exit,
 * so at least the oldest; one scan frees room for many inserts); when every entry is a
 * live process, NULL and the refusal is counted (process_table_refused). */
struct process_info *process_table_put(struct process_table *t, uint32_t pid);
void process_table_del(struct process_table *t, uint32_t pid);
/* Deletes entries that exited at or before cutoff_ns; returns how many. */
size_t process_table_expire(struct process_table *t, uint64_t cutoff_ns);

size_t process_table_count(const struct process_table *t);
uint64_t process_table_refused(const struct process_table *t);

#endif
