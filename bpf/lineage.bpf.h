/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Lineage: customer data followed from its sources through files, pipes, FIFOs, unix
 * sockets and loopback connections to whoever sends it out. A process that reads source
 * bytes carries a label (credit: source bytes; origins: the login sessions they came
 * from). What a labelled process writes to a file or a pipe is labelled in turn, keyed by
 * inode, so renames and hard links keep it; whoever reads a labelled object takes its
 * label, in any session. Egress by a labelled process counts as derived egress up to its
 * credit, so compression makes the egress smaller, never the credit larger, and a
 * process that once read a little customer data does not turn all its traffic into
 * exfiltration.
 *
 * Cost: an unlabelled process reads one count (an array load the verifier inlines) on
 * each write to a file or pipe and each socket send, and each read of an unwatched file
 * or pipe, or socket receive, reads the object's count: the hash maps are only looked up
 * under a slot that counts a label (see lcount_*). Records go to the ring only when a
 * label moves, the first time per (process, object, step) and at each doubling of its
 * bytes.
 *
 * Degrading: a full map never makes data clean. When a process's label cannot be created
 * its session's label (lsess) takes the credit with XM_L_UNKNOWN, and the label_overflow
 * flag makes every write and egress look there too (that second lookup is paid only after
 * an overflow), so what such a process writes stays derived. An object label that cannot
 * be created is counted (XM_DROP_LABEL_FULL).
 */
#ifndef EXFILMON_LINEAGE_BPF_H
#define EXFILMON_LINEAGE_BPF_H

#include "flow.bpf.h"
#include "vfs.bpf.h"

#define XM_S_IFIFO 0010000
#ifndef XM_AF_UNIX
#define XM_AF_UNIX 1
#endif
#define XM_LABEL_ENTRIES 65536
#define XM_ILABEL_ENTRIES 262144
#define XM_LABEL_ALL (~0ULL)        /* a read at end of stream: take the whole label */

/* Not preallocated: labels are created rarely (a labelling step), looked up often, and a
 * preallocated table of this size would pin tens of MiB of kernel memory at load. */
typedef struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, XM_LABEL_ENTRIES);
	__type(key, __u32);
	__type(value, struct xm_label);
} labels_map_t;

typedef struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, XM_ILABEL_ENTRIES);
	__type(key, struct xm_watch_key);
	__type(value, struct xm_label);
} ilabels_map_t;

/* Per-session labels for processes whose own label could not be created. */
typedef struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, 4096);
	__type(key, __u32);
	__type(value, struct xm_label);
} lsess_map_t;

struct xm_lseen_val {
	__u64 total;         /* label bytes moved by this (process, object, step) */
	__u64 reported;      /* total at the last record */
};

/* Only decides when to report; losing an entry means one more record, never less data. */
typedef struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, struct xm_lseen_key);
	__type(value, struct xm_lseen_val);
} lseen_map_t;

/*
 * How many labels of labels (lcount_proc) and ilabels (lcount_obj) sit under each slot of
 * their key (abi.h, xm_lslot_*). A count goes up before its label is inserted and down
 * only after a delete succeeded, so it never falls below the labels it covers: a count
 * left high costs a hash lookup, never a label. Not pinned: the agent recounts them from
 * the pinned label maps before the programs attach (label_index.c). Mappable, so the
 * agent adjusts them atomically when it inserts or prunes labels itself.
 */
typedef struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, XM_LSLOTS_PROC);
	__type(key, __u32);
	__type(value, __u64);
} lcount_proc_map_t;

typedef struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(map_flags, BPF_F_MMAPABLE);
	__uint(max_entries, XM_LSLOTS_OBJ);
	__type(key, __u32);
	__type(value, __u64);
} lcount_obj_map_t;

extern labels_map_t labels SEC(".maps");
extern ilabels_map_t ilabels SEC(".maps");
extern lsess_map_t lsess SEC(".maps");
extern lseen_map_t lseen SEC(".maps");
extern lcount_proc_map_t lcount_proc SEC(".maps");
extern lcount_obj_map_t lcount_obj SEC(".maps");
/* Set once a process label could not be created; from then on egress also checks lsess. */
extern __u32 label_overflow;

static __always_inline __u64 min_u64(__u64 a, __u64 b)
{
	return a < b ? a : b;
}

static __always_inline void count_add(void *counts, __u32 slot, __s64 delta)
{
	__u64 *c = bpf_map_lookup_elem(counts, &slot);

	if (c)
		__sync_fetch_and_add(c, delta);
}

/* Whether the slot counts a label (an index past the array "may": look it up). */
static __always_inline int slot_counted(void *counts, __u32 slot)
{
	__u64 *c = bpf_map_lookup_elem(counts, &slot);

	return !c || *c;
}

/* Inserts val under key unless an entry is there, counted first. 0, or the update's
 * error (an entry already there, a full map) with the count given back. */
static __always_inline long counted_insert(void *map, void *counts, __u32 slot,
					   const void *key, const void *val)
{
	long err;

	count_add(counts, slot, 1);
	err = bpf_map_update_elem(map, key, val, BPF_NOEXIST);
	if (err)
		count_add(counts, slot, -1);
	return err;
}

/* The entry under key, inserted from init (counted) when there is none; NULL when the
 * map is full. */
static __always_inline void *counted_try_init(void *map, void *counts, __u32 slot,
					      const void *key, const void *init)
{
	counted_insert(map, counts, slot, key, init);
	return bpf_map_lookup_elem(map, key);
}

/* The label of process tgid, if it has one. */
static __always_inline struct xm_label *proc_label(__u32 tgid)
{
	if (!slot_counted(&lcount_proc, xm_lslot_proc(tgid)))
		return NULL;
	return bpf_map_lookup_elem(&labels, &tgid);
}

/* The label of an object, if it has one. */
static __always_inline struct xm_label *obj_label(const struct xm_watch_key *k)
{
	if (!slot_counted(&lcount_obj, xm_lslot_obj(k)))
		return NULL;
	return bpf_map_lookup_elem(&ilabels, k);
}

static __always_inline void obj_label_delete(const struct xm_watch_key *k)
{
	if (!bpf_map_delete_elem(&ilabels, k))
		count_add(&lcount_obj, xm_lslot_obj(k), -1);
}

/* A process is gone (its leader exited): its label goes with it. */
static __always_inline void proc_label_delete(__u32 tgid)
{
	__u32 slot = xm_lslot_proc(tgid);

	if (slot_counted(&lcount_proc, slot) && !bpf_map_delete_elem(&labels, &tgid))
		count_add(&lcount_proc, slot, -1);
}

/* Gives process tgid a copy of a label (fork), replacing one a reused pid left behind.
 * Returns 0, or nonzero when the map is full. */
static __always_inline int proc_label_set(__u32 tgid, const struct xm_label *l)
{
	if (!counted_insert(&labels, &lcount_proc, xm_lslot_proc(tgid), &tgid, l))
		return 0;
	return bpf_map_update_elem(&labels, &tgid, l, BPF_EXIST);
}

static __always_inline void origin_add(struct xm_label *l, __u32 session, __u32 loginuid)
{
	__u32 n = l->n_origins;

	for (int i = 0; i < XM_LABEL_ORIGINS; i++)
		if (i < n && l->origins[i].session == session)
			return;
	if (n >= XM_LABEL_ORIGINS) {
		l->flags |= XM_L_UNKNOWN;
		return;
	}
	/* Constant indexes only: the verifier cannot bound an index loaded from a map. */
	for (int i = 0; i < XM_LABEL_ORIGINS; i++) {
		if (i == n) {
			l->origins[i].session = session;
			l->origins[i].loginuid = loginuid;
		}
	}
	l->n_origins = n + 1;
}

/* Merges from's origins and unknown flag into to. Races between CPUs may lose an origin
 * of a label updated at the same instant; the bytes are atomic and never lost. */
static __always_inline void origins_merge(struct xm_label *to, const struct xm_label *from)
{
	struct xm_origin o[XM_LABEL_ORIGINS];
	__u32 n = from->n_origins;

	__builtin_memcpy(o, from->origins, sizeof(o));
	for (int i = 0; i < XM_LABEL_ORIGINS; i++)
		if (i < n)
			origin_add(to, o[i].session, o[i].loginuid);
	to->flags |= from->flags & XM_L_UNKNOWN;
}

/* The current process's label, created empty when it has none. On a full map the
 * session's fallback label is returned instead (flagged unknown) and the overflow noted. */
static __always_inline struct xm_label *label_of_current(void)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32;
	struct xm_label *l = proc_label(pid);
	struct xm_label init = {};
	__u32 session;

	if (l)
		return l;
	init.last_ns = bpf_ktime_get_boot_ns();
	l = counted_try_init(&labels, &lcount_proc, xm_lslot_proc(pid), &pid, &init);
	if (l)
		return l;
	drop_count(XM_DROP_LABEL_FULL);
	label_overflow = 1;
	session = task_session(current_task());
	init.flags = XM_L_UNKNOWN | XM_L_SESSION;
	l = map_lookup_or_try_init(&lsess, &session, &init);
	if (l)
		l->flags |= XM_L_UNKNOWN;
	return l;
}

/* The label the current process carries into what it writes and sends: its own, or
 * after an overflow its session's, so a process whose label went to the session fallback
 * still labels the files, pipes and sockets it writes (a hand-off under a full map stays
 * derived) and its egress still counts. */
static __always_inline struct xm_label *label_carried(void)
{
	__u32 pid = bpf_get_current_pid_tgid() >> 32, session;
	struct xm_label *l = proc_label(pid);

	if (l || !label_overflow)
		return l;
	session = task_session(current_task());
	return bpf_map_lookup_elem(&lsess, &session);
}

/* The inode generation of a file: tells a reused inode number from the labelled file. */
static __always_inline __u32 file_gen(struct file *f)
{
	return f ? BPF_CORE_READ(f, f_inode, i_generation) : 0;
}

/* Where the ring record names the object: a file path, a peer, or nothing. */
struct lineage_obj {
	struct xm_watch_key key;
	struct file *file;         /* files and FIFOs: the path is read only for a record */
	const __u8 *addr;          /* XM_LO_PEER, XM_LO_INET */
	__u16 port;
	__u16 kind;                /* xm_lineage_obj */
};

static __always_inline void lineage_record(const struct lineage_obj *o, __u16 step,
					   const struct xm_label *l, __u64 total)
{
	struct task_struct *task = current_task();
	struct xm_scratch *s = NULL;
	struct xm_lineage *r;
	__u32 zero = 0, len = 0;

	/* A local: BPF_CORE_READ(o->file, ...) would try to relocate o as well. */
	struct file *f = o->file;

	if (f && o->kind == XM_LO_FILE) {
		s = bpf_map_lookup_elem(&scratch, &zero);
		if (s)
			len = dentry_path_rev(BPF_CORE_READ(f, f_path.dentry), s->buf);
	}
	r = record_reserve(sizeof(*r), XM_REC_LINEAGE, XM_DROP_RING_LINEAGE, task_session(task));
	if (!r)
		return;
	task_fill(&r->task, task);
	r->ino = o->key.ino;
	r->dev = o->key.dev;
	r->bytes = total;
	r->credit = l->credit;
	__builtin_memcpy(r->origins, l->origins, sizeof(r->origins));
	r->n_origins = l->n_origins;
	r->flags = l->flags;
	r->step = step;
	r->obj = o->kind;
	r->port = o->port;
	if (o->addr)
		__builtin_memcpy(r->addr, o->addr, 16);
	else
		__builtin_memset(r->addr, 0, 16);
	r->path_len = len;
	r->epoch = l->epoch;
	if (s)
		bpf_probe_read_kernel(r->path, sizeof(r->path), s->buf);
	else
		r->path[0] = 0;
	record_submit(r);
}

/* Adds bytes to the (process, object, step) total and reports the first time and at
 * every doubling. */
static __always_inline void lineage_note(const struct lineage_obj *o, __u16 step,
					 const struct xm_label *l, __u64 bytes)
{
	struct xm_lseen_key k = { .ino = o->key.ino, .dev = o->key.dev, .step = step,
				  .epoch = l->epoch };
	struct xm_lseen_val *v, init = { .total = bytes, .reported = bytes };

	k.pid = bpf_get_current_pid_tgid() >> 32;
	v = bpf_map_lookup_elem(&lseen, &k);
	if (!v) {
		bpf_map_update_elem(&lseen, &k, &init, BPF_ANY);
		lineage_record(o, step, l, bytes);
		return;
	}
	v->total += bytes;
	if (v->total < 2 * v->reported)
		return;
	v->reported = v->total;
	lineage_record(o, step, l, v->total);
}

/*
 * A process label whose whole credit has already gone out as derived egress starts
 * afresh when the process takes data from an origin it does not carry. A long-lived
 * relay (a proxy, a sync daemon) then names the origins of each request it forwards, not
 * the first four it ever served, while a process streaming one session's data out chunk
 * by chunk keeps one growing label. Nothing is laundered: every byte of the old credit
 * was counted as derived egress once. What was only handed on into streams (passed) does
 * not renew: the process may still hold those bytes. The session fallback never renews.
 * The epoch moves so that userspace learns at once that the old origins are gone: the
 * next step of each kind is reported whatever the (process, object, step) totals say
 * (lineage_note), and its record carries the new epoch. Telling a renewal by a smaller
 * credit failed for a relay whose next request was as large as the last.
 */
static __always_inline void label_renew(struct xm_label *l, __u32 session)
{
	__u32 n = l->n_origins;

	if (!l->credit || l->egressed < l->credit || (l->flags & XM_L_SESSION))
		return;
	for (int i = 0; i < XM_LABEL_ORIGINS; i++)
		if (i < n && l->origins[i].session == session)
			return;
	l->credit = 0;
	l->passed = 0;
	l->egressed = 0;
	l->n_origins = 0;
	l->flags &= ~XM_L_UNKNOWN;
	l->epoch++;
}

/* Source bytes read by the current process (a watched file, a source service, a map). */
static __always_inline void lineage_source(__u64 bytes)
{
	struct task_struct *task = current_task();
	struct xm_label *l = label_of_current();

	if (!l)
		return;
	label_renew(l, task_session(task));
	__sync_fetch_and_add(&l->credit, bytes);
	origin_add(l, task_session(task), task_loginuid(task));
}

/*
 * A labelled process wrote bytes to an object. A file's label grows up to the writer's
 * credit (rewriting the same data does not make more of it); a stream (pipe, socket)
 * holds what is in flight, and a writer hands on at most its credit in total.
 */
static __always_inline void label_object(const struct lineage_obj *o, int stream, __u64 bytes)
{
	struct xm_label *l = label_carried(), *obj, init = {};
	__u64 take, cap;
	__u32 gen;

	if (!l)
		return;
	if (stream) {
		take = l->credit > l->passed ? min_u64(bytes, l->credit - l->passed) : 0;
		if (!take)
			return;
		__sync_fetch_and_add(&l->passed, take);
	} else {
		take = min_u64(bytes, l->credit);
		if (!take)
			return;
	}
	gen = stream ? 0 : file_gen(o->file);
	obj = obj_label(&o->key);
	if (obj && obj->gen != gen) {
		/* The inode number was freed and reused: the old label is not this file's. */
		__builtin_memset(obj, 0, sizeof(*obj));
		obj->gen = gen;
	}
	if (!obj) {
		init.gen = gen;
		obj = counted_try_init(&ilabels, &lcount_obj, xm_lslot_obj(&o->key), &o->key,
				       &init);
		if (!obj) {
			drop_count(XM_DROP_LABEL_FULL);
			return;
		}
	}
	obj->last_ns = bpf_ktime_get_boot_ns();
	if (stream) {
		stream_labels_any = 1;
		__sync_fetch_and_add(&obj->credit, take);
	} else {
		cap = obj->credit > l->credit ? obj->credit : l->credit;
		obj->credit = min_u64(obj->credit + take, cap);
	}
	origins_merge(obj, l);
	lineage_note(o, XM_LS_WRITE, l, take);
}

/* A process read bytes from an object; if the object is labelled the reader takes its
 * label. A stream's label is consumed by the read, a file's stays for the next reader. */
static __always_inline void take_label(const struct lineage_obj *o, int stream, __u64 bytes)
{
	struct xm_label *obj = obj_label(&o->key), *l;
	__u64 take, left;

	if (!obj)
		return;
	if (!stream && obj->gen != file_gen(o->file)) {
		obj_label_delete(&o->key);
		return;
	}
	take = min_u64(bytes, obj->credit);
	if (!take)
		return;
	if (stream) {
		left = obj->credit;
		obj->credit = left > take ? left - take : 0;
		/* A drained stream's entry goes: pipes and sockets come and go by the
		 * thousand. Only a read that took the last of its credit deletes it: an entry
		 * with no credit yet is one a writer on another CPU has just created and is
		 * about to credit (deleting it there lost the whole write's label). A write
		 * racing this delete loses at most its own label. */
		if (left <= take)
			obj_label_delete(&o->key);
	}
	l = label_of_current();
	if (!l)
		return;
	if (obj->n_origins)
		label_renew(l, obj->origins[0].session);
	__sync_fetch_and_add(&l->credit, take);
	origins_merge(l, obj);
	lineage_note(o, XM_LS_READ, l, take);
}

/* File I/O on an unwatched inode (fileio.bpf.h): regular files, pipes and FIFOs. */
static __always_inline void lineage_file_io(struct file *f, __u16 mode, struct xm_watch_key *wk,
					    __u64 bytes, int writing)
{
	struct lineage_obj o = { .key = *wk };
	int stream = mode == XM_S_IFIFO;

	if (mode != XM_S_IFREG && !stream)
		return;
	o.kind = stream ? XM_LO_PIPE : XM_LO_FILE;
	o.file = f;
	if (writing)
		label_object(&o, stream, bytes);
	else
		take_label(&o, stream, bytes);
}

/*
 * End of file on a pipe or FIFO. A label is set when the writer's syscall returns, after
 * a concurrent reader may already have consumed those bytes, so a stream's label can lag
 * its data by one write; the writer's last write returns before it closes, so at end of
 * file whatever label is left belongs to the reader.
 */
static __always_inline void lineage_eof(struct file *f, __u16 mode, struct xm_watch_key *wk)
{
	struct lineage_obj o = { .key = *wk, .file = f, .kind = XM_LO_PIPE };

	if (mode == XM_S_IFIFO)
		take_label(&o, 1, XM_LABEL_ALL);
}

/* Egress by the current process: the part its credit covers is derived egress, counted
 * in its own flow kind beside the plain egress flow. Sinks pass ino/dev, sockets a peer. */
static __always_inline void lineage_egress(const struct lineage_obj *o, __u64 bytes)
{
	struct xm_label *l = label_carried();
	struct xm_flow_key key = { .ino = o->key.ino, .dev = o->key.dev, .port = o->port,
				   .kind = XM_FLOW_DERIVED_EGRESS };
	__u64 take;

	if (!l || l->credit <= l->egressed)
		return;
	take = min_u64(bytes, l->credit - l->egressed);
	__sync_fetch_and_add(&l->egressed, take);
	if (o->addr)
		__builtin_memcpy(key.addr, o->addr, 16);
	flow_add(&key, take, FLOW_PLAIN);
	lineage_note(o, XM_LS_SEND, l, take);
}

static __always_inline int loopback(const __u8 a[16])
{
	__u64 hi, lo;

	__builtin_memcpy(&hi, a, 8);
	__builtin_memcpy(&lo, a + 8, 8);
	if (hi)
		return 0;
	/* ::1, or ::ffff:127.x.y.z (little-endian load: 127 is the lowest byte of word 3). */
	return lo == 0x0100000000000000ULL ||
	       ((lo & 0xffffffffULL) == 0xffff0000ULL && ((lo >> 32) & 0xff) == 127);
}

/* Identity of one direction of a loopback connection: the receiver computes the same
 * value from its own ends reversed. 96 bits folded into 64: a collision needs two live
 * loopback connections whose ports and addresses fold alike. */
static __always_inline __u64 tuple_id(const __u8 src[16], __u16 sport, const __u8 dst[16],
				      __u16 dport)
{
	__u32 s, d;

	__builtin_memcpy(&s, src + 12, 4);
	__builtin_memcpy(&d, dst + 12, 4);
	return ((__u64)sport << 48 | (__u64)dport << 32) ^ ((__u64)s << 16 ^ d);
}

/* An address as a number: the key is hashed into a count slot, and the verifier allows
 * no arithmetic on a pointer it tracks. */
static __always_inline __u64 ptr_value(const void *p)
{
	__u64 v = 0;

	bpf_probe_read_kernel(&v, sizeof(v), &p);
	return v;
}

/*
 * Socket bytes that are neither source nor egress: unix sockets and loopback
 * connections to allowlisted local peers carry labels. A unix send labels the peer's
 * struct sock, which is the receiver's own; loopback labels the direction's 4-tuple.
 * family, ends valid only for AF_INET/6 (sk_ends from sock_class).
 */
static __always_inline void lineage_sock(struct sock *sk, __u16 family, const __u8 laddr[16],
					 __u16 lport, const __u8 raddr[16], __u16 rport,
					 __u64 bytes, int sending)
{
	struct lineage_obj o = {};

	if (family == XM_AF_UNIX) {
		o.kind = XM_LO_UNIX;
		o.key.dev = XM_LDEV_UNIX;
		if (sending) {
			if (!label_carried())
				return;
			o.key.ino = (__u64)BPF_CORE_READ((struct unix_sock *)sk, peer);
			if (!o.key.ino)
				return;
			label_object(&o, 1, bytes);
			return;
		}
		o.key.ino = ptr_value(sk);
		take_label(&o, 1, bytes);
		return;
	}
	if (!loopback(raddr))
		return;
	o.kind = XM_LO_INET;
	o.key.dev = XM_LDEV_INET;
	o.addr = raddr;
	o.port = rport;
	if (sending) {
		if (!label_carried())
			return;
		o.key.ino = tuple_id(laddr, lport, raddr, rport);
		label_object(&o, 1, bytes);
		return;
	}
	o.key.ino = tuple_id(raddr, rport, laddr, lport);
	take_label(&o, 1, bytes);
}

#endif
