// SPDX-License-Identifier: GPL-2.0-only
/* Names of event kinds and classes, as evidence records and exfilctl print them. */
#include <stddef.h>

#include "common/array_size.h"
#include "event.h"

static const char *name_in(const char *const *names, size_t n, unsigned int i)
{
	return i < n && names[i] ? names[i] : "unknown";
}

const char *event_kind_name(enum event_kind kind)
{
	static const char *const names[] = {
		[EV_EXEC] = "exec", [EV_FORK] = "fork", [EV_EXIT] = "exit",
		[EV_OPEN] = "open", [EV_MMAP] = "mmap", [EV_CONNECT] = "connect",
		[EV_URING] = "io_uring", [EV_ACTIVITY] = "activity", [EV_GAP] = "gap",
		[EV_INTEGRITY] = "integrity",
	};

	return name_in(names, ARRAY_SIZE(names), kind);
}

const char *conn_class_name(enum conn_class cls)
{
	static const char *const names[] = {
		[CONN_ALLOWED] = "allowed", [CONN_SOURCE] = "source", [CONN_EGRESS] = "egress",
	};

	return name_in(names, ARRAY_SIZE(names), cls);
}

const char *open_class_name(enum open_class cls)
{
	static const char *const names[] = {
		[OPEN_STAGING] = "staging", [OPEN_SOURCE] = "source",
		[OPEN_SINK_MEDIA] = "media", [OPEN_SINK_SYNC] = "sync",
	};

	return name_in(names, ARRAY_SIZE(names), cls);
}
