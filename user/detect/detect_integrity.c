// SPDX-License-Identifier: GPL-2.0-only
/*
 * sensor_integrity alerts: facts the agent reports about its own blindness (a used-up
 * flow quota, a full map, a tampered map, a 32-bit exec) become one alert each, raised
 * once per session and reason so that an attacker cannot flood the alerts file.
 */
#include <stdio.h>

#include "detect_int.h"
#include "common/hash.h"

/* A session's fact is raised once per reason; a machine-wide one (no session: the
 * policy maps, the policy itself) once per distinct detail. */
static uint64_t integrity_key(const struct detect_integrity *in)
{
	uint64_t h = fnv1a64(&in->session_id, sizeof(in->session_id), FNV1A64_INIT);

	h = fnv1a64_str(in->reason, h);
	if (in->session_id == SESSION_NONE && in->detail)
		h = fnv1a64_str(in->detail, h);
	return h;
}

static bool integrity_seen(struct detect *d, uint64_t key)
{
	unsigned n = d->n_integrity < INTEGRITY_SEEN ? d->n_integrity : INTEGRITY_SEEN;

	for (unsigned i = 0; i < n; i++)
		if (d->integrity_raised[i] == key)
			return true;
	d->integrity_raised[d->n_integrity++ % INTEGRITY_SEEN] = key;
	return false;
}

void detect_integrity(struct detect *d, const struct detect_integrity *in)
{
	struct detect_subject who = { 0 };
	struct alert a = { .rule = RULE_INTEGRITY, .revision = 1 };

	if (integrity_seen(d, integrity_key(in)))
		return;
	a.id = dx_new_id(d, in->ts_ns);
	a.start_ns = a.end_ns = a.raised_ns = in->ts_ns;
	a.session_id = in->session_id;
	a.loginuid = in->loginuid;
	a.evidence_first_seq = a.evidence_last_seq = d->seq;
	if (d->ops.subject && in->session_id != SESSION_NONE)
		d->ops.subject(d->ops.ctx, in->session_id, in->loginuid, &who);
	snprintf(a.user, sizeof(a.user), "%s", who.user ? who.user : "");
	snprintf(a.tty, sizeof(a.tty), "%s", who.tty ? who.tty : "");
	snprintf(a.remote_host, sizeof(a.remote_host), "%s",
		 who.remote_host ? who.remote_host : "");
	snprintf(a.reason, sizeof(a.reason), "%s", in->reason);
	snprintf(a.detail, sizeof(a.detail), "%s", in->detail ? in->detail : "");
	snprintf(a.config_sha256, sizeof(a.config_sha256), "%s", d->config_sha256);
	d->st.alerts++;
	d->ops.emit(d->ops.ctx, &a);
}
