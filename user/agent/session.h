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
#include <stddef.h>
#include <stdint.h>

#include "process_table.h"

struct session_info {
	uint32_t session_id;      /* audit sessionid; SESSION_NONE outside a login */
	uint32_t loginuid;
	uint32_t uid;
	char user[64];
	char tty[32];             /* "pts/3", or "" */
	char display[32];         /* graphical display (":0"), or "" */
	char seat[16];
	char remote_host[64];     /* SSH/remote-desktop peer from logind or utmp; "unverified:ADDR"
				   * when only a process environment claims it; "" for local */
	uint64_t login_ns;        /* CLOCK_REALTIME, 0 when unknown */
	uint32_t leader_pid;
	bool person;              /* false for processes outside any login session */
};

/* Where the module looks; tests point these into a fixture tree. NULL = system default. */
struct session_sources {
	const char *proc_root;    /* "/proc" */
	const char *utmp_path;    /* "/var/run/utmp" */
	const char *logind_dir;   /* "/run/systemd/sessions" */
	const char *passwd_path;  /* "/etc/passwd" */
};

struct session_table;

/* At most this many sessions are cached; the least recently used one makes room. */
#define SESSION_MAX 4096

/* src may be NULL (all defaults). Paths are copied. NULL + errno. */
struct session_table *session_table_new(const struct session_sources *src);
void session_table_free(struct session_table *t);

/* Seeds the process table with every process in proc_root (comm, exe, argv summary, ppid,
 * uid, loginuid, sessionid, start time) so lineage of processes started before the agent
 * is known. Sessions are resolved lazily, on first session_get, so that each is still
 * reported new once. 0 or -errno when proc_root cannot be read. */
int session_seed(struct session_table *t);

/* Looks up (and on first sight resolves and caches) a session. Never NULL: an unknown
 * session comes back with what could be learned (at least the user from loginuid).
 * Sources, best first for each field: the logind session file named by the session id
 * (UID, USER, TTY, DISPLAY, SEAT, REMOTE_HOST, REALTIME, LEADER), the utmp record of the
 * leader pid or tty (ut_host, ut_tv), the session's processes in proc_root (leader = the
 * oldest, tty of the oldest with one, SSH_CONNECTION/SSH_CLIENT from the environ of
 * pid_hint or any session process, login time = leader start). SESSION_NONE returns a
 * shared entry with person false and user "(no login session)", never cached or new.
 * The pointer stays valid until this session is evicted to make room. */
const struct session_info *session_get(struct session_table *t, uint32_t session_id,
				       uint32_t loginuid, uint32_t pid_hint);
/* True when the session was first seen by the last session_get (so it can be recorded). */
bool session_is_new(const struct session_table *t);

/* Process table, fed by exec/fork/exit records. exec replaces the entry with *p; fork
 * copies the parent's entry (same program until it execs) with the new pid and ppid and
 * no start time; exit marks the entry exited at ts_ns, kept for lineage until expiry. A
 * full table (PROCESS_TABLE_MAX live processes) drops new entries and counts them. */
void session_process_exec(struct session_table *t, const struct process_info *p);
void session_process_fork(struct session_table *t, uint32_t pid, uint32_t ppid);
void session_process_exit(struct session_table *t, uint32_t pid, uint64_t ts_ns);
const struct process_info *session_process(struct session_table *t, uint32_t pid);
/* Writes "psql(4242) < bash(4100) < sshd(4090)" (at most depth levels, stopping below
 * init or at an unknown pid) into buf, always NUL-terminated; an entry that does not fit
 * whole is left out. Returns the length written. */
int session_lineage(struct session_table *t, uint32_t pid, char *buf, size_t len, int depth);
/* Forgets processes that exited more than age_ns before now_ns. */
void session_expire(struct session_table *t, uint64_t now_ns, uint64_t age_ns);

/* User name of a uid from passwd_path ("-" for LOGINUID_NONE), or the number as text.
 * With the default passwd path a uid absent from the file is asked of NSS (directory
 * users); an injected path is the only source, so tests see exactly their fixture. Names
 * are cached (256 uids); an unknown uid is looked up again once passwd changes or a minute
 * passed, so an account created later gets named without a reread per event. */
void session_user_name(struct session_table *t, uint32_t uid, char *buf, size_t len);

size_t session_count(const struct session_table *t);
size_t session_process_count(const struct session_table *t);
/* New processes refused because the process table was full of live processes. */
uint64_t session_process_refused(const struct session_table *t);

#endif
