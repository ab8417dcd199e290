/* SPDX-License-Identifier: GPL-2.0-only */
/* What every cmocka unit test includes, in the order cmocka needs. */
#ifndef EXFILMON_UNIT_H
#define EXFILMON_UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#endif
