// SPDX-License-Identifier: GPL-2.0-only
/*
 * Label counts from userspace (label_index.h). The count arrays are mapped
 * (sensor_maps.lcount_*), so an adjustment is one atomic add beside the programs' own;
 * the order is theirs: up before an insert, down only after a delete succeeded.
 */
#include <errno.h>

#include <bpf/bpf.h>

#include "label_index.h"

static void count_add(uint64_t *counts, uint32_t slot, int64_t delta)
{
	if (counts)
		__atomic_fetch_add(&counts[slot], (uint64_t)delta, __ATOMIC_SEQ_CST);
}

void label_index_rebuild(const struct sensor_maps *m)
{
	struct xm_watch_key okey, onext, *oprev = NULL;
	uint32_t pkey, pnext, *pprev = NULL;

	while (bpf_map_get_next_key(m->labels, pprev, &pnext) == 0) {
		pkey = pnext;
		pprev = &pkey;
		count_add(m->lcount_proc, xm_lslot_proc(pkey), 1);
	}
	while (bpf_map_get_next_key(m->ilabels, oprev, &onext) == 0) {
		okey = onext;
		oprev = &okey;
		count_add(m->lcount_obj, xm_lslot_obj(&okey), 1);
	}
}

int label_index_insert_obj(const struct sensor_maps *m, const struct xm_watch_key *k,
			   const struct xm_label *v)
{
	uint32_t slot = xm_lslot_obj(k);

	count_add(m->lcount_obj, slot, 1);
	if (bpf_map_update_elem(m->ilabels, k, v, BPF_NOEXIST) == 0)
		return 0;
	count_add(m->lcount_obj, slot, -1);
	return -errno;
}

int label_index_delete_obj(const struct sensor_maps *m, const struct xm_watch_key *k)
{
	if (bpf_map_delete_elem(m->ilabels, k))
		return -errno;
	count_add(m->lcount_obj, xm_lslot_obj(k), -1);
	return 0;
}

int label_index_delete_proc(const struct sensor_maps *m, uint32_t tgid)
{
	if (bpf_map_delete_elem(m->labels, &tgid))
		return -errno;
	count_add(m->lcount_proc, xm_lslot_proc(tgid), -1);
	return 0;
}
