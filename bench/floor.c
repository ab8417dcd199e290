// SPDX-License-Identifier: GPL-2.0-only
/*
 * Loads and attaches the floor (floor.bpf.c), says "floor: ready N" on stderr, and holds
 * the programs until SIGINT or SIGTERM; then prints how many hook runs it counted and
 * detaches. Hook choice follows exfilmon's loader: sendmsg/recvmsg only where the sock
 * length tracepoints are missing, io_uring only where its BTF tracepoints exist.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "floor.skel.h"

static int has_btf_tracepoint(const struct btf *vmlinux, const char *name)
{
	char type[128];

	snprintf(type, sizeof(type), "btf_trace_%s", name);
	return vmlinux && btf__find_by_name_kind(vmlinux, type, BTF_KIND_TYPEDEF) > 0;
}

static void choose_hooks(struct floor_bpf *skel)
{
	struct btf *vmlinux = btf__load_vmlinux_btf();
	int sock_tp = has_btf_tracepoint(vmlinux, "sock_send_length");
	int uring_tp = has_btf_tracepoint(vmlinux, "io_uring_file_get");

	bpf_program__set_autoload(skel->progs.floor_exit_sendmsg, !sock_tp);
	bpf_program__set_autoload(skel->progs.floor_exit_recvmsg, !sock_tp);
	bpf_program__set_autoload(skel->progs.floor_sock_send_length, sock_tp);
	bpf_program__set_autoload(skel->progs.floor_sock_recv_length, sock_tp);
	bpf_program__set_autoload(skel->progs.floor_io_uring_file_get, uring_tp);
	bpf_program__set_autoload(skel->progs.floor_io_uring_complete, uring_tp);
	btf__free(vmlinux);
}

static unsigned long long total_hits(struct floor_bpf *skel)
{
	int ncpu = libbpf_num_possible_cpus();
	unsigned long long v[ncpu > 0 ? ncpu : 1], sum = 0;
	__u32 zero = 0;

	if (ncpu <= 0 || bpf_map__lookup_elem(skel->maps.hits, &zero, sizeof(zero), v,
					      sizeof(v[0]) * ncpu, 0))
		return 0;
	for (int i = 0; i < ncpu; i++)
		sum += v[i];
	return sum;
}

int main(void)
{
	struct bpf_program *prog;
	struct floor_bpf *skel;
	unsigned attached = 0;
	sigset_t set;
	int err, sig;

	/* A background job of a script starts with SIGINT ignored, and an ignored signal
	 * never reaches sigwait. */
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigprocmask(SIG_BLOCK, &set, NULL);
	skel = floor_bpf__open();
	if (!skel) {
		fprintf(stderr, "floor: open: %s\n", strerror(errno));
		return 1;
	}
	choose_hooks(skel);
	err = floor_bpf__load(skel);
	if (!err)
		err = floor_bpf__attach(skel);
	if (err) {
		fprintf(stderr, "floor: load/attach: %s\n", strerror(-err));
		floor_bpf__destroy(skel);
		return 1;
	}
	bpf_object__for_each_program(prog, skel->obj)
		attached += bpf_program__autoload(prog);
	fprintf(stderr, "floor: ready %u programs\n", attached);
	sigwait(&set, &sig);
	fprintf(stderr, "floor: %llu hook runs\n", total_hits(skel));
	floor_bpf__destroy(skel);
	return 0;
}
