/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Login sessions and process lineage. The kernel stamps every event with the audit
 * (loginuid, sessionid) pair; this module turns that into a person: user name, tty or
 * display and seat, the remote host of an SSH/RDP login, login time. Sources, best
 * first: logind (/run/systemd/sessions/N), utmp/wtmp, /proc of the session's processes.
 * Processes with no audit session (cron, services, package managers) map to no person.
 */
#ifndef EXFILMON_SESSION_H
#define EXFILMON_SESSION_H

#include <stdbool.h>
#include <stdint.h>

struct session_info {
	uint32_t session_id;      /* audit sessionid; SESSION_NONE outside a login */
	uint32_t loginuid;
	uint32_t uid;
	char user[64];
	char tty[32];             /* "pts/3", or "" */
	char display[32];         /* graphical display (":0"), or "" */
	char seat[16];
	char remote_host[64];     /* SSH/remote-desktop peer, or "" for a local login */
	uint64_t login_ns;        /* CLOCK_REALTIME, 0 when unknown */
	uint32_t leader_pid;
	bool person;              /* false for processes outside any login session */
};

struct process_info {
	uint32_t pid;
	uint32_t ppid;
	uint32_t uid;
	uint32_t loginuid;
	uint32_t session_id;
	uint64_t start_ns;
	char comm[16];
	char exe[256];
	char args[256];           /* bounded argv summary, spaces between arguments */
	bool exited;
};

/* Where the module looks; tests point these into a fixture tree. NULL = system default. */
struct session_sources {
	const char *proc_root;    /* "/proc" */
	const char *utmp_path;    /* "/var/run/utmp" */
	const char *logind_dir;   /* "/run/systemd/sessions" */
	const char *passwd_path;  /* "/etc/passwd" */
};

struct session_table;

struct session_table *session_table_new(const struct session_sources *src);
void session_table_free(struct session_table *t);

/* Seeds processes and sessions that existed before the agent started (from proc_root). */
int session_seed(struct session_table *t);

/* Looks up (and on first sight resolves and caches) a session. Never NULL: an unknown
 * session comes back with what could be learned (at least the user from loginuid). */
const struct session_info *session_get(struct session_table *t, uint32_t session_id,
				       uint32_t loginuid, uint32_t pid_hint);
/* True when the session was first seen by the last session_get (so it can be recorded). */
bool session_is_new(const struct session_table *t);

/* Process table, fed by exec/fork/exit records. */
void session_process_exec(struct session_table *t, const struct process_info *p);
void session_process_fork(struct session_table *t, uint32_t pid, uint32_t ppid);
void session_process_exit(struct session_table *t, uint32_t pid, uint64_t ts_ns);
const struct process_info *session_process(struct session_table *t, uint32_t pid);
/* Writes "psql(4242) < bash(4100) < sshd(4090)" (at most depth levels) into buf. */
int session_lineage(struct session_table *t, uint32_t pid, char *buf, size_t len, int depth);
/* Forgets processes that exited more than age_ns before now_ns. */
void session_expire(struct session_table *t, uint64_t now_ns, uint64_t age_ns);

/* User name of a uid from passwd, or the number as text. */
void session_user_name(struct session_table *t, uint32_t uid, char *buf, size_t len);

size_t session_count(const struct session_table *t);
size_t session_process_count(const struct session_table *t);

#endif
