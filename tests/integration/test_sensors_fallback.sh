#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# The sensor test again, on the paths kernels before 5.15 take: no fexit fast path and no
# bpf_task_pt_regs, so syscall arguments come from sys_enter programs through a map.
# Same workloads, same exact byte counts.
export EXFILMON_FORCE_ENTER_ARGS=1 EXFILMON_NO_FAST=1
exec bash "$(dirname "$0")/test_sensors.sh"
