// SPDX-License-Identifier: GPL-2.0-only
/*
 * Socket sensors: connect and accept report both ends and the peer's class; bytes are
 * counted at the kernel's own socket choke point (sock:sock_send_length and
 * sock:sock_recv_length, 6.3+) which sees every send/recv/read/write/sendmmsg path, or,
 * on kernels without them, at the send/recv syscall exits (the read/write family is
 * covered in file.bpf.c). Unconnected UDP carries its peer in the syscall's address
 * argument, so sendto/recvfrom with an address are counted there in both modes.
 */
#include "vmlinux.h"
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

#include "abi.h"
#include "sockclass.bpf.h"
#include "vfs.bpf.h"

#define XM_MSG_PEEK 2
#define XM_EINPROGRESS 115

static __always_inline void connect_record(struct sock *sk, __u8 accepted)
{
	struct task_struct *task = current_task();
	struct xm_connect *r;
	struct sk_ends e;
	__u16 cls = sock_class(sk, &e);

	if (addr_unset(e.raddr))
		return;
	r = record_reserve(sizeof(*r), XM_REC_CONNECT, XM_DROP_RING_CONNECT, task_session(task));
	if (!r)
		return;
	task_fill(&r->task, task);
	__builtin_memcpy(r->laddr, e.laddr, 16);
	__builtin_memcpy(r->raddr, e.raddr, 16);
	r->lport = e.lport;
	r->rport = e.rport;
	r->family = e.family;
	r->proto = e.proto;
	r->accepted = accepted;
	r->cls = cls;
	r->_pad = 0;
	record_submit(r);
}

static __always_inline struct sock *fd_sock(int fd)
{
	struct file *f = fd_file(fd);
	struct xm_watch_key wk;

	if (!f || inode_id(file_inode_of(f, PTR_UNTYPED), &wk, PTR_UNTYPED) != XM_S_IFSOCK)
		return NULL;
	return file_sock(f);
}

SEC("tracepoint/syscalls/sys_exit_connect")
int on_sys_exit_connect(struct trace_event_raw_sys_exit *ctx)
{
	struct xm_sys_args args;
	struct sock *sk;

	if (sys_args_get(&args, 1) || (ctx->ret < 0 && ctx->ret != -XM_EINPROGRESS))
		return 0;
	sk = fd_sock((int)args.a[0]);
	if (sk)
		connect_record(sk, 0);
	return 0;
}

static __always_inline int accept_exit(long ret)
{
	struct sock *sk;

	if (ret < 0)
		return 0;
	sk = fd_sock(ret);
	if (sk)
		connect_record(sk, 1);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_accept")
int on_sys_exit_accept(struct trace_event_raw_sys_exit *ctx)
{
	return accept_exit(ctx->ret);
}

SEC("tracepoint/syscalls/sys_exit_accept4")
int on_sys_exit_accept4(struct trace_event_raw_sys_exit *ctx)
{
	return accept_exit(ctx->ret);
}

SEC("tp_btf/sock_send_length")
int BPF_PROG(on_sock_send_length, struct sock *sk, int ret, int flags)
{
	if (ret > 0)
		sock_account_sent(sk, ret);
	return 0;
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(on_sock_recv_length, struct sock *sk, int ret, int flags)
{
	/* 0 is the end of the stream: lineage hands over the rest of its label there. */
	if (ret >= 0 && !(flags & XM_MSG_PEEK))
		sock_account(sk, ret, IO_READ);
	return 0;
}

/* Peer of an unconnected datagram, from the sockaddr the caller passed or got back. */
static __always_inline int user_sockaddr(const void *uaddr, __u8 addr[16], __u16 *port)
{
	struct sockaddr_in6 sa = {};

	if (!uaddr || bpf_probe_read_user(&sa, sizeof(sa), uaddr))
		return -1;
	if (sa.sin6_family == XM_AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&sa;

		v4_mapped(addr, in->sin_addr.s_addr);
	} else if (sa.sin6_family == XM_AF_INET6) {
		__builtin_memcpy(addr, sa.sin6_addr.in6_u.u6_addr8, 16);
	} else {
		return -1;
	}
	*port = bpf_ntohs(sa.sin6_port);
	return 0;
}

/*
 * sendto/recvfrom: with an address on an unconnected socket the peer is only in the
 * argument; otherwise the socket's own peer applies, and that path is counted here only
 * when the kernel has no sock length tracepoints.
 */
static __always_inline int dgram_exit(long ret, enum io_dir dir)
{
	struct xm_sys_args args;
	struct sock *sk;
	struct sk_ends e;
	__u8 addr[16];
	__u16 port, cls;

	/* A send the sock length tracepoint counts, to a destination the cgroup hooks saw:
	 * nothing is left for the exit, so it skips the fd walk and the sock reads. */
	if (dir == IO_WRITE && !sock_via_syscalls && dgram_hooks_on)
		return 0;
	/* 0 received is the end of a stream, which lineage needs (sock_account). */
	if (sys_args_get(&args, 5) || ret < 0 || (!ret && dir == IO_WRITE))
		return 0;
	sk = fd_sock((int)args.a[0]);
	if (!sk)
		return 0;
	if (sk_read_ends(sk, &e)) {
		/* Another family (AF_PACKET, ...): egress unless it stays on the machine. */
		if (sock_via_syscalls)
			sock_account(sk, ret, dir);
		return 0;
	}
	/* The sock length tracepoint counts every send itself: any protocol but UDP and
	 * TCP without a peer as egress to an unknown place. */
	if (dir == IO_WRITE && !sock_via_syscalls &&
	    e.proto != XM_IPPROTO_UDP && e.proto != XM_IPPROTO_TCP)
		return 0;
	if (!addr_unset(e.raddr) || (dir == IO_WRITE && dgram_hooks_on)) {
		if (sock_via_syscalls)
			sock_account(sk, ret, dir);
		return 0;
	}
	if (!ret)
		return 0;
	if (user_sockaddr((const void *)args.a[4], addr, &port))
		return 0;
	cls = peer_class(sk, addr, port);
	net_account(addr, port, cls, ret, dir);
	net_lineage(addr, port, cls, ret, dir);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_sendto")
int on_sys_exit_sendto(struct trace_event_raw_sys_exit *ctx)
{
	return dgram_exit(ctx->ret, IO_WRITE);
}

SEC("tracepoint/syscalls/sys_exit_recvfrom")
int on_sys_exit_recvfrom(struct trace_event_raw_sys_exit *ctx)
{
	return dgram_exit(ctx->ret, IO_READ);
}

/* Fallback only (autoload off when the sock length tracepoints exist): connected
 * sockets through sendmsg/recvmsg. The *mmsg calls return a message count, not bytes,
 * and are covered only by the tracepoints; docs/sensors.md says so. */
static __always_inline int msg_exit(long ret, enum io_dir dir)
{
	struct xm_sys_args args;

	if (sys_args_get(&args, 1) == 0 && (ret > 0 || (!ret && dir == IO_READ)))
		sock_account(fd_sock((int)args.a[0]), ret, dir);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_sendmsg")
int on_sys_exit_sendmsg(struct trace_event_raw_sys_exit *ctx)
{
	return msg_exit(ctx->ret, IO_WRITE);
}

SEC("tracepoint/syscalls/sys_exit_recvmsg")
int on_sys_exit_recvmsg(struct trace_event_raw_sys_exit *ctx)
{
	return msg_exit(ctx->ret, IO_READ);
}

/*
 * Where a UDP datagram that names its destination really goes: sendto, sendmsg and
 * sendmmsg with an address, a connected socket sent elsewhere, compat and io_uring sends
 * alike all pass here (udp_sendmsg runs the cgroup hook when the message carries an
 * address). The destination waits in dgramdst for the accounting of the same send.
 * Always allows the send: this is a sensor, not a firewall.
 */
static __always_inline int dgram_dst_save(const __u8 addr[16], __u16 port)
{
	__u64 tid = bpf_get_current_pid_tgid();
	struct xm_dgram_dst *d = bpf_map_lookup_elem(&dgramdst, &tid), n = { .port = port, .set = 1 };

	if (d) {
		__builtin_memcpy(d->addr, addr, 16);
		d->port = port;
		d->set = 1;
		return 1;
	}
	__builtin_memcpy(n.addr, addr, 16);
	bpf_map_update_elem(&dgramdst, &tid, &n, BPF_ANY);
	return 1;
}

SEC("cgroup/sendmsg4")
int on_cgroup_sendmsg4(struct bpf_sock_addr *ctx)
{
	__u8 addr[16];

	v4_mapped(addr, ctx->user_ip4);
	return dgram_dst_save(addr, bpf_ntohs(ctx->user_port));
}

SEC("cgroup/sendmsg6")
int on_cgroup_sendmsg6(struct bpf_sock_addr *ctx)
{
	__u32 a[4];

	a[0] = ctx->user_ip6[0];
	a[1] = ctx->user_ip6[1];
	a[2] = ctx->user_ip6[2];
	a[3] = ctx->user_ip6[3];
	return dgram_dst_save((const __u8 *)a, bpf_ntohs(ctx->user_port));
}
