/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the agent tells its consumers (the daemon's pipeline, exfilctl trace): kernel
 * records and counter deltas decoded into one plain struct, with wall-clock times and
 * full paths. Strings are valid only during the callback.
 */
#ifndef EXFILMON_EVENT_H
#define EXFILMON_EVENT_H

#include <stdint.h>

#include "activity.h"

enum event_kind {
	EV_EXEC = 1,
	EV_FORK,
	EV_EXIT,
	EV_OPEN,        /* a watched file was opened */
	EV_MMAP,        /* a watched source was mapped */
	EV_CONNECT,     /* connect/accept with both ends */
	EV_URING,       /* io_uring read submitted on a watched file */
	EV_ACTIVITY,    /* bytes moved since the last drain (act) */
	EV_GAP,         /* detail lost (gap) */
	EV_INTEGRITY,   /* the sensors were blinded, tampered with or evaded (integrity) */
	EV_LINEAGE,     /* a data label moved between a process and an object (lin) */
};

#define LINEAGE_ORIGINS 4

/* One step of customer data: a labelled process wrote an object, a process read a
 * labelled object and took its label, or a labelled process sent to an egress peer. */
struct event_lineage {
	const char *step;         /* "write", "read", "send" */
	const char *object_kind;  /* "file", "pipe", "unix", "loopback", "peer" */
	const char *object;       /* path, "pipe:[ino]", "unix:[sock]", "ip:port" */
	uint64_t object_id;       /* identity of the object, the same for writer and reader */
	uint64_t bytes;           /* label bytes this process moved on this object so far */
	uint64_t credit;          /* the process's source-byte credit after the step */
	uint64_t start_ns;        /* the process's start (boot clock): tells a reused pid apart */
	uint32_t epoch;           /* the label's epoch: a change means it started afresh */
	uint32_t origin_session[LINEAGE_ORIGINS];
	uint32_t origin_loginuid[LINEAGE_ORIGINS];
	unsigned n_origins;
	int unknown;              /* an origin was lost (map full, more origins than kept) */
	int forked;               /* the label came across a fork */
};

/* What the peer of a connect/accept is (the kernel's socket class, decoded). */
enum conn_class {
	CONN_ALLOWED = 0,       /* allowlisted destination: not counted */
	CONN_SOURCE,            /* a configured source service */
	CONN_EGRESS,            /* outside the egress allowlist */
};

/* How a watched file that was opened is classified (the kernel's watch flags, decoded). */
enum open_class {
	OPEN_STAGING = 0,       /* none of the below: a file a collector writes */
	OPEN_SOURCE,            /* a watched source */
	OPEN_SINK_MEDIA,        /* on removable or external media */
	OPEN_SINK_SYNC,         /* in a sync folder */
};

struct event_conn {
	char local_ip[48];
	char remote_ip[48];
	uint16_t local_port;
	uint16_t remote_port;
	const char *proto;      /* "tcp", "udp", "other" */
	enum conn_class cls;
	int accepted;
};

struct event_gap {
	const char *what;       /* record kind lost: "exec", "open", ... */
	uint64_t count;
	uint64_t first_ns;      /* CLOCK_REALTIME */
	uint64_t last_ns;
	const char *reason;
};

/* Something that makes the sensors' picture of a session incomplete or untrustworthy:
 * reason is a short fixed word (docs/alerts.md lists them), detail says what and how. */
struct event_integrity {
	const char *reason;     /* "flow_quota", "map_pressure", "policy_tamper", ... */
	const char *detail;
};

struct event {
	enum event_kind kind;
	uint64_t ts_ns;         /* CLOCK_REALTIME */
	uint32_t pid;
	uint32_t ppid;
	uint32_t uid;
	uint32_t loginuid;
	uint32_t session_id;
	uint32_t tty_nr;        /* kernel encoding major << 20 | minor, 0 for none */
	char comm[16];
	const char *path;       /* exec: executable; open/mmap/uring: the file */
	const char *args;       /* exec: argv joined by spaces */
	uint32_t exit_code;
	enum open_class open_cls; /* open: what the file is */
	uint64_t len;           /* mmap: mapped length */
	uint32_t opcode;        /* uring: IORING_OP_* */
	struct event_conn conn;
	struct activity act;
	struct event_gap gap;
	struct event_integrity integrity;
	struct event_lineage lin;
};

/* "exec", "fork", "exit", "open", "mmap", "connect", "io_uring", "activity", "gap";
 * "unknown" for anything else. */
const char *event_kind_name(enum event_kind kind);
/* "allowed", "source", "egress"; "unknown" for anything else. */
const char *conn_class_name(enum conn_class cls);
/* "staging", "source", "media", "sync"; "unknown" for anything else. */
const char *open_class_name(enum open_class cls);

/* Session keys of the evidence index beside real audit session ids. */
#define EVIDENCE_NO_SESSION (-1)     /* the record concerns no session */
#define EVIDENCE_ALL_SESSIONS (-2)   /* it concerns every session (a gap with null session) */

#endif
