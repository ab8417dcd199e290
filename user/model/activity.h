/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the collector hands detection: one normalized slice of activity (a delta of bytes
 * over an object) attributed to a process and its login session. Kernel records and
 * counter deltas are turned into these by agent/drain.c; detect/ never sees the ABI.
 */
#ifndef EXFILMON_ACTIVITY_H
#define EXFILMON_ACTIVITY_H

#include <stdint.h>

enum activity_kind {
	ACT_SOURCE_FILE = 1,   /* bytes read from a watched source file */
	ACT_SOURCE_NET,        /* bytes received from a configured source service */
	ACT_EGRESS_NET,        /* bytes sent to a destination outside the allowlist */
	ACT_EGRESS_MEDIA,      /* bytes written to removable/external media */
	ACT_EGRESS_SYNC,       /* bytes written into a sync folder */
	ACT_STAGING,           /* bytes written to a file outside the sources by a collector */
	ACT_MMAP_SOURCE,       /* a watched file mapped; bytes = mapping length */
};

/* What a slice means for detection: collection, movement out, or staging in between.
 * The one place that decides it; detection, trace, case and report all ask here. */
enum activity_class {
	ACT_CLASS_NONE = 0,    /* not a kind detection counts */
	ACT_CLASS_SOURCE,      /* bytes collected from a source */
	ACT_CLASS_EGRESS,      /* bytes leaving: network, media, sync folder */
	ACT_CLASS_STAGING,     /* bytes a collector wrote locally */
};

/* The kernel's "unset" audit sessionid and loginuid (AUDIT_SID_UNSET, AUDIT_UID_UNSET),
 * which the BPF side passes through unchanged: not a person's login. */
#define SESSION_NONE 0xffffffffu
#define LOGINUID_NONE 0xffffffffu

struct activity {
	uint64_t ts_ns;            /* CLOCK_REALTIME nanoseconds of the last byte in the slice */
	uint64_t first_ns;         /* CLOCK_REALTIME of the first byte in the slice */
	uint32_t session_id;       /* audit sessionid, SESSION_NONE outside a login */
	uint32_t loginuid;         /* audit loginuid, LOGINUID_NONE outside a login */
	uint32_t pid;
	uint32_t uid;
	enum activity_kind kind;
	uint64_t bytes;
	uint64_t ops;              /* syscalls that moved these bytes */
	uint64_t object_id;        /* stable id for distinct-object counting (dev<<32^ino, addr hash) */
	const char *object;        /* path, or "ip:port"; valid only during the call */
	const char *comm;          /* process name */
	const char *exe;           /* executable path, may be NULL */
	const char *dst_ip;        /* egress: destination address text, else NULL */
	uint16_t dst_port;
	const char *mount;         /* media/sync egress: mount point or folder, else NULL */
};

/* The class of a kind; ACT_CLASS_NONE for a value outside enum activity_kind. */
enum activity_class activity_class(enum activity_kind kind);
/* "source_file", "source_net", "egress_net", "egress_media", "egress_sync", "staging",
 * "mmap_source"; "unknown" for anything else. */
const char *activity_kind_name(enum activity_kind kind);
/* The kind activity_kind_name gives name, or 0 when name is NULL or not one of them
 * (evidence readers classify recorded slices with activity_class of this). */
enum activity_kind activity_kind_from_name(const char *name);

#endif
