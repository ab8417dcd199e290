/* SPDX-License-Identifier: GPL-2.0-only */
/* Wall-clock time as the single integer every record and status file carries. */
#ifndef EXFILMON_TIMEUTIL_H
#define EXFILMON_TIMEUTIL_H

#include <stdint.h>

/* CLOCK_REALTIME in nanoseconds since the epoch. Callers that must be testable take the
 * time as a parameter instead; this is for the edges (mains, stamps on records). */
uint64_t realtime_ns(void);
/* CLOCK_MONOTONIC in nanoseconds: intervals, timeouts, backoff. */
uint64_t monotonic_ns(void);

#endif
