// SPDX-License-Identifier: GPL-2.0-only
/*
 * Mounts that hide reads. An overlay mounted from inside a user namespace (any user can
 * make one: unshare -Urm, then mount -t overlay) over a source tree serves the tree's
 * files from another device, and overlayfs reads the lower file with vfs_iter_read, past
 * every syscall hook: the bytes cannot be counted on the tracepoint path. The mount
 * itself is seen and reported, so the evasion becomes a sensor_integrity alert.
 * Both mount APIs: mount(2) with type "overlay", and fsconfig(2) setting lowerdir or
 * upperdir (only overlayfs knows these keys). Exit tracepoints, so only calls the kernel
 * accepted are reported, with the arguments from sys_args_get (task.bpf.h).
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>

#include "abi.h"
#include "evasion.bpf.h"

#define XM_FSCONFIG_SET_STRING 1	/* uapi linux/mount.h */

/* The initial user namespace is level 0; any namespace made by unshare/clone is deeper. */
static __always_inline bool in_child_userns(struct task_struct *task)
{
	return BPF_CORE_READ(task, cred, user_ns, level) > 0;
}

/* The evasion with the text the syscall was given (user memory) as its detail. */
static __always_inline void evasion_record(__u32 what, const char *detail)
{
	struct xm_evasion *r = evasion_reserve(what);
	long n;

	if (!r)
		return;
	n = detail ? bpf_probe_read_user_str(r->detail, sizeof(r->detail), detail) : 0;
	r->detail_len = n > 0 ? n - 1 : 0;
	record_submit(r);
}

/* Whether the user string at p starts with the NUL-terminated want (at most 15 bytes). */
static __always_inline bool user_str_is(const char *p, const char *want, int len, bool prefix)
{
	char buf[16] = {};

	if (!p || bpf_probe_read_user_str(buf, sizeof(buf), p) < 0)
		return false;
	for (int i = 0; i < len && i < (int)sizeof(buf); i++)
		if (buf[i] != want[i])
			return false;
	return prefix || (len < (int)sizeof(buf) && buf[len] == '\0');
}

SEC("tp/syscalls/sys_exit_mount")
int on_sys_exit_mount(struct trace_event_raw_sys_exit *ctx)
{
	struct xm_sys_args a;

	if (sys_args_get(&a, 5) || ctx->ret != 0)
		return 0;
	if (!in_child_userns(current_task()) ||
	    !user_str_is((const char *)a.a[2], "overlay", 7, false))
		return 0;
	evasion_record(XM_EV_USERNS_OVERLAY, (const char *)a.a[4]);
	return 0;
}

SEC("tp/syscalls/sys_exit_fsconfig")
int on_sys_exit_fsconfig(struct trace_event_raw_sys_exit *ctx)
{
	struct xm_sys_args a;
	const char *key;

	if (sys_args_get(&a, 5) || ctx->ret != 0 || a.a[1] != XM_FSCONFIG_SET_STRING)
		return 0;
	key = (const char *)a.a[2];
	if (!in_child_userns(current_task()) ||
	    !(user_str_is(key, "lowerdir", 8, true) || user_str_is(key, "upperdir", 8, true)))
		return 0;
	evasion_record(XM_EV_USERNS_OVERLAY, (const char *)a.a[3]);
	return 0;
}
