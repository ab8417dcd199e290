/* SPDX-License-Identifier: GPL-2.0-only */
/* The number of elements of an array (not a pointer) known at compile time. */
#ifndef EXFILMON_ARRAY_SIZE_H
#define EXFILMON_ARRAY_SIZE_H

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
