/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Socket classification: is the peer a configured source service, an allowlisted
 * destination, or an egress channel? The answer is cached per struct sock (negative
 * answers too) and stamped with the peer it was computed for, because sockets are freed
 * and reallocated without a hook this code could rely on on every kernel.
 */
#ifndef EXFILMON_SOCKCLASS_BPF_H
#define EXFILMON_SOCKCLASS_BPF_H

#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_helpers.h>

#include "flow.bpf.h"
#include "lineage.bpf.h"

#define XM_AF_UNIX 1
#define XM_AF_INET 2
#define XM_AF_INET6 10
#define XM_AF_KEY 15
#define XM_AF_NETLINK 16
#define XM_AF_ALG 38
#define XM_IPPROTO_TCP 6
#define XM_IPPROTO_UDP 17
#define XM_IPPROTO_SCTP 132

struct sk_ends {
	__u8 raddr[16];
	__u8 laddr[16];
	__u16 rport;
	__u16 lport;
	__u16 family;
	__u8 proto;
};

static __always_inline void v4_mapped(__u8 out[16], __be32 a)
{
	__builtin_memset(out, 0, 10);
	out[10] = 0xff;
	out[11] = 0xff;
	__builtin_memcpy(&out[12], &a, 4);
}

/* Reads both ends of an inet socket. Returns 0, or -1 for a non-inet socket. */
static __always_inline int sk_read_ends(struct sock *sk, struct sk_ends *e)
{
	e->family = BPF_CORE_READ(sk, __sk_common.skc_family);
	if (e->family == XM_AF_INET) {
		v4_mapped(e->raddr, BPF_CORE_READ(sk, __sk_common.skc_daddr));
		v4_mapped(e->laddr, BPF_CORE_READ(sk, __sk_common.skc_rcv_saddr));
	} else if (e->family == XM_AF_INET6) {
		BPF_CORE_READ_INTO(&e->raddr, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr8);
		BPF_CORE_READ_INTO(&e->laddr, sk, __sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8);
	} else {
		return -1;
	}
	e->rport = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	e->lport = BPF_CORE_READ(sk, __sk_common.skc_num);
	e->proto = BPF_CORE_READ_BITFIELD_PROBED(sk, sk_protocol);
	return 0;
}

static __always_inline int addr_equal(const __u8 a[16], const __u8 b[16])
{
	__u64 a0, a1, b0, b1;

	__builtin_memcpy(&a0, a, 8);
	__builtin_memcpy(&a1, a + 8, 8);
	__builtin_memcpy(&b0, b, 8);
	__builtin_memcpy(&b1, b + 8, 8);
	return a0 == b0 && a1 == b1;
}

static __always_inline int addr_unset(const __u8 a[16])
{
	__u64 hi, lo;

	__builtin_memcpy(&hi, a, 8);
	__builtin_memcpy(&lo, a + 8, 8);
	/* :: and ::ffff:0.0.0.0 both mean "no peer" (unconnected UDP, listeners). */
	return hi == 0 && (lo == 0 || lo == 0xffffULL << 16);
}

/* Peer address in mapped form and port in host order -> xm_sock_class. */
static __always_inline __u16 net_classify(const __u8 addr[16], __u16 port)
{
	struct xm_net_key k = {};

	k.prefixlen = 16 + 128;
	k.data[0] = port >> 8;
	k.data[1] = port & 0xff;
	__builtin_memcpy(&k.data[2], addr, 16);
	if (bpf_map_lookup_elem(&services, &k))
		return XM_SOCK_SOURCE;
	/* Rules without a port are stored with port 0. */
	k.data[0] = 0;
	k.data[1] = 0;
	if (bpf_map_lookup_elem(&services, &k))
		return XM_SOCK_SOURCE;
	k.prefixlen = 128;
	__builtin_memcpy(&k.data[0], addr, 16);
	k.data[16] = 0;
	k.data[17] = 0;
	if (bpf_map_lookup_elem(&allow, &k))
		return XM_SOCK_OTHER;
	return XM_SOCK_EGRESS;
}

/*
 * A socket family that stays on this machine (unix, netlink, PF_KEY, the crypto API).
 * Every other non-inet family (AF_PACKET, Bluetooth, CAN, vsock, ...) can carry data off
 * the box, and its "peer" is not an address the allowlist could name: it is egress.
 */
static __always_inline int family_local(__u16 family)
{
	return family == XM_AF_UNIX || family == XM_AF_NETLINK || family == XM_AF_KEY ||
	       family == XM_AF_ALG;
}

/* The class of peer (raddr, rport) on socket sk: from socks when it was judged for that
 * peer under the rules in force (net_gen), else judged now and cached. An unconnected
 * UDP socket sending to (or receiving from) one peer pays one hash lookup per datagram
 * instead of the rule tries; one that alternates peers pays the tries, as uncached. */
static __always_inline __u16 peer_class(struct sock *sk, const __u8 raddr[16], __u16 rport)
{
	__u64 key = (__u64)sk;
	__u32 gen = (__u32)*(volatile __u64 *)&net_gen;
	struct xm_sock_val *c = bpf_map_lookup_elem(&socks, &key), v = {};

	if (c && c->rport == rport && c->gen == gen && addr_equal(c->raddr, raddr))
		return c->cls;
	__builtin_memcpy(v.raddr, raddr, 16);
	v.rport = rport;
	v.gen = gen;
	v.cls = net_classify(raddr, rport);
	if (bpf_map_update_elem(&socks, &key, &v, BPF_ANY))
		drop_count(XM_DROP_SOCK_FULL);
	return v.cls;
}

/* Cached class of a connected socket's peer; XM_SOCK_OTHER for anything uncounted. An
 * egress socket of another family reports peer :: with rport = its family. */
static __always_inline __u16 sock_class(struct sock *sk, struct sk_ends *e)
{
	if (!sk)
		return XM_SOCK_OTHER;
	if (sk_read_ends(sk, e)) {
		if (family_local(e->family))
			return XM_SOCK_OTHER;
		__builtin_memset(e->raddr, 0, 16);
		e->rport = e->family;
		e->proto = 0;
		return XM_SOCK_EGRESS;
	}
	if (addr_unset(e->raddr))
		return XM_SOCK_OTHER;
	return peer_class(sk, e->raddr, e->rport);
}

/* Derived egress to a peer (lineage.bpf.h). */
static __always_inline void peer_lineage_egress(const __u8 addr[16], __u16 port, __u64 bytes)
{
	struct lineage_obj o = { .addr = addr, .port = port, .kind = XM_LO_PEER };

	lineage_egress(&o, bytes);
}

/*
 * Bytes exchanged with a classified peer: received from a source service (which makes
 * the process a collector) or sent to an egress peer. Any other class or direction is
 * not counted.
 */
static __always_inline void net_account(const __u8 addr[16], __u16 port, __u16 cls,
					__u64 bytes, enum io_dir dir)
{
	struct xm_flow_key key = { .port = port };
	enum flow_opts opts = FLOW_PLAIN;

	if (cls == XM_SOCK_SOURCE && dir == IO_READ) {
		key.kind = XM_FLOW_NET_SOURCE;
		opts = FLOW_COLLECTS;
	} else if (cls == XM_SOCK_EGRESS && dir == IO_WRITE) {
		key.kind = XM_FLOW_NET_EGRESS;
	} else {
		return;
	}
	__builtin_memcpy(key.addr, addr, 16);
	flow_add(&key, bytes, opts);
}

/* Whether an I/O also moves lineage labels (lineage.bpf.h), or is only counted.
 * FOLLOW_TRANSFER_OUT: the output side of sendfile/splice/copy_file_range, seen at the
 * syscall's exit after its input side, whose socket bytes the sock tracepoint counted
 * during the call (in_fd_transfer) and left their lineage to now: FOLLOW_LINEAGE_ONLY. */
enum io_follow { FOLLOW_COUNTS, FOLLOW_LINEAGE, FOLLOW_TRANSFER_OUT, FOLLOW_LINEAGE_ONLY };

/* Lineage of bytes exchanged with a classified peer: a source read gives credit, a send
 * to an egress peer is derived egress up to the credit. */
static __always_inline void net_lineage(const __u8 addr[16], __u16 port, __u16 cls,
					__u64 bytes, enum io_dir dir)
{
	if (cls == XM_SOCK_SOURCE && dir == IO_READ)
		lineage_source(bytes);
	else if (cls == XM_SOCK_EGRESS && dir == IO_WRITE)
		peer_lineage_egress(addr, port, bytes);
}

/*
 * The destination of the datagram this thread is sending, saved by the cgroup
 * sendmsg4/6 hooks (sock.bpf.c) for UDP sends that name an address: sendto, sendmsg,
 * sendmmsg, a connected socket sent elsewhere. Taken once; -1 when there is none.
 */
static __always_inline int dgram_dst_take(__u8 addr[16], __u16 *port)
{
	__u64 tid = bpf_get_current_pid_tgid();
	struct xm_dgram_dst *d = bpf_map_lookup_elem(&dgramdst, &tid);

	if (!d || !d->set)
		return -1;
	__builtin_memcpy(addr, d->addr, 16);
	*port = d->port;
	d->set = 0;
	return 0;
}

/* Bytes moved on a socket, counted against its (cached) peer class. A UDP datagram that
 * named its destination is counted against that destination; a raw or other
 * non-TCP/UDP inet socket sending without a peer of its own is egress to an unknown
 * destination (peer :: port 0): suspicion, not silence. */
static __always_inline void sock_account_as(struct sock *sk, __u64 bytes, enum io_dir dir,
					    enum io_follow follow)
{
	struct sk_ends e = {};
	__u16 cls = sock_class(sk, &e);

	if (!bytes) {
		/* End of stream: the label of what is left in flight goes to the reader. */
		if (follow != FOLLOW_COUNTS && sk && cls == XM_SOCK_OTHER && dir == IO_READ)
			lineage_sock(sk, e.family, e.laddr, e.lport, e.raddr, e.rport,
				     XM_LABEL_ALL, 0);
		return;
	}

	if (dir == IO_WRITE && (e.family == XM_AF_INET || e.family == XM_AF_INET6)) {
		if (e.proto == XM_IPPROTO_UDP && dgram_dst_take(e.raddr, &e.rport) == 0)
			cls = peer_class(sk, e.raddr, e.rport);
		else if (cls == XM_SOCK_OTHER && addr_unset(e.raddr) &&
			 e.proto != XM_IPPROTO_UDP && e.proto != XM_IPPROTO_TCP) {
			__builtin_memset(e.raddr, 0, 16);
			e.rport = 0;
			cls = XM_SOCK_EGRESS;
		}
	}
	/* Neither source nor egress: a unix or loopback peer may carry a lineage label. */
	if (sk && cls == XM_SOCK_OTHER) {
		if (follow != FOLLOW_COUNTS)
			lineage_sock(sk, e.family, e.laddr, e.lport, e.raddr, e.rport, bytes,
				     dir == IO_WRITE);
		return;
	}
	if (follow != FOLLOW_LINEAGE_ONLY)
		net_account(e.raddr, e.rport, cls, bytes, dir);
	if (follow != FOLLOW_COUNTS)
		net_lineage(e.raddr, e.rport, cls, bytes, dir);
}

static __always_inline void sock_account(struct sock *sk, __u64 bytes, enum io_dir dir)
{
	sock_account_as(sk, bytes, dir, FOLLOW_LINEAGE);
}

/* A send the sock tracepoint saw. Inside sendfile or splice its lineage waits for the
 * syscall's exit, after the input side has labelled the process (in_fd_transfer), so
 * the transfer is derived once, with the credit its own read gave. Only a process with
 * credit has lineage to defer: the others pay no register read. */
static __always_inline void sock_account_sent(struct sock *sk, __u64 bytes)
{
	struct xm_label *l = label_carried();
	int defer = l && l->credit && in_fd_transfer();

	sock_account_as(sk, bytes, IO_WRITE, defer ? FOLLOW_COUNTS : FOLLOW_LINEAGE);
}

#endif
