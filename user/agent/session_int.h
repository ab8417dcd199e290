/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Inside the session table, shared by its files and nobody else: the table's state,
 * sessions and processes (session.c), user names (session_users.c), /proc readers
 * (session_proc.c) and login records (session_login.c).
 */
#ifndef EXFILMON_SESSION_INT_H
#define EXFILMON_SESSION_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "session.h"

#define MAX_USERS 256
#define DEFAULT_PASSWD "/etc/passwd"

#define USER_MISS_RETRY_NS (60ULL * 1000000000ULL)

/* A found name, or a miss: a uid neither passwd nor NSS knew. A miss is retried when the
 * passwd file changed or a minute passed (directory accounts appear without it changing),
 * so an event stream from an unnamed uid does not reread passwd per event. */
struct user_name {
	uint32_t uid;
	bool miss;
	struct timespec passwd_mtime; /* misses: passwd's mtime when it was read */
	uint64_t retry_ns;            /* misses: CLOCK_MONOTONIC of the next try regardless */
	char name[64];
};

struct session_slot {
	struct session_info info;
	uint64_t used;               /* use clock of the last lookup, for eviction */
};

struct session_table {
	char proc_root[PATH_MAX];
	char utmp_path[PATH_MAX];
	char logind_dir[PATH_MAX];
	char passwd_path[PATH_MAX];
	struct session_slot *slots;  /* SESSION_MAX */
	size_t n_sessions;
	size_t last_hit;
	uint64_t use_clock;
	struct session_info none;
	bool last_new;
	struct process_table *procs;
	struct user_name users[MAX_USERS];
	size_t n_users;
	size_t next_user;            /* round-robin replacement once the cache is full */
	uint64_t btime_ns;           /* boot time (CLOCK_REALTIME), 0 until read */
};

/* What the session's processes tell, before it is merged under better sources. */
struct proc_facts {
	uint32_t leader_pid;
	unsigned long long leader_start;
	char tty[32];
	char remote_host[64];
};

struct sess_proc_stat {
	uint32_t ppid;
	unsigned tty_nr;
	unsigned long long start_ticks;
};


void sess_from_proc(struct session_table *t, uint32_t session_id, uint32_t pid_hint,
		      struct proc_facts *f);
int sess_proc_stat(const struct session_table *t, uint32_t pid, struct sess_proc_stat *st);
int sess_proc_u32(const struct session_table *t, uint32_t pid, const char *name,
		    uint32_t *out);
int sess_read_proc(const struct session_table *t, uint32_t pid, const char *name, char *buf,
		     size_t len);
int sess_read_small(const char *path, char *buf, size_t len);
uint64_t sess_start_realtime(struct session_table *t, unsigned long long ticks);
void sess_from_logind(struct session_table *t, struct session_info *s);
bool sess_from_utmp(const struct session_table *t, const struct session_info *s,
		      struct utmpx *out);

#endif
