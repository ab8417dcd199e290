/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Inside detection, shared by its files and nobody else: subjects, episodes and the
 * rule table (detect_rules.c), episode lifecycle (detect_episode.c), the subject
 * table and expiry (detect_subjects.c), and the feed (detect_engine.c).
 */
#ifndef EXFILMON_DETECT_INT_H
#define EXFILMON_DETECT_INT_H

#include <stdbool.h>
#include <stdint.h>

#include "detect.h"
#include "detect_baseline.h"
#include "detect_window.h"

#define N_RULES (RULE_BASELINE + 1)
/* Integrity alerts remembered to raise each (session, reason) once per run. */
#define INTEGRITY_SEEN 1024
#define MAX_SUBJECTS 2048         /* sessions plus users (~30 KiB each); beyond, users only */
#define RECENT_SESSIONS 4
#define SAVE_EVERY_NS (300ULL * 1000000000ULL)
#define NS_PER_S 1000000000ULL

enum counter { CNT_SOURCE, CNT_OBJECTS, CNT_EGRESS, CNT_STAGED, N_COUNTERS };

struct episode {
	uint64_t id;
	uint32_t revision;
	bool open;
	uint64_t start_ns, end_ns;
	uint64_t base[N_COUNTERS];   /* counter values the episode's figures count from */
	uint64_t floor;              /* primary counter at the last close */
	uint64_t emitted;            /* primary figure at the last emission */
	unsigned emitted_dests;
	uint64_t threshold;
	uint64_t first_seq, last_seq;
};

/* The latest collection episode of a subject: what an exfiltration or staging links to. */
struct collection {
	uint64_t alert_id;
	uint32_t session_id;
	uint64_t first_seq;
	uint64_t source_bytes, objects;
	struct alert_item sources[ALERT_MAX_ITEMS];
	unsigned n_sources;
};

struct recent_session {
	uint32_t id;
	uint64_t last_ns;
};

struct subject {
	uint64_t key;                /* is_user << 32 | id */
	bool is_user;
	uint32_t id, loginuid;
	struct subject *user;        /* sessions: their user */
	struct subject *next;        /* every subject, for ticks */
	unsigned n_sessions;         /* users: session subjects pointing here */
	uint64_t last_ns, last_src_ns, last_egress_ns, last_staged_ns;
	uint64_t count[N_COUNTERS];  /* monotonic since the subject was created */
	struct window_sum src_win;    /* detect.window */
	struct window_sum egress_win; /* detect.lookback; egress after a collection only */
	struct window_sum staged_win; /* detect.lookback */
	struct window_sum drip_win;   /* users: drip window */
	struct window_sum drip_objs;  /* users: objects entering the window, over the drip window */
	struct window_distinct objects; /* detect.window */
	bool saturation_counted;
	uint64_t collected_ns;       /* last slice of a collection episode; 0 none */
	uint64_t bulk_ns;            /* users: last slice of a bulk episode of theirs */
	struct collection coll;
	struct window_top sources, processes, egress_dests, staged;
	struct episode ep[N_RULES];
	unsigned open_in_sessions[N_RULES];             /* users */
	struct recent_session recent[RECENT_SESSIONS];  /* users */
	struct baseline *baseline;                      /* users; NULL when the set is full */
	uint32_t today;                                 /* users: day of today_first_* */
	uint64_t today_first_ns, today_first_seq;
	uint64_t today_objects;                         /* users: count[CNT_OBJECTS] at day start */
};

struct detect {
	struct detect_config cfg;
	struct detect_ops ops;
	char *state_path;
	char config_sha256[65];
	struct subject **tab;        /* open addressing by key */
	uint32_t tab_cap;
	struct subject *all;
	struct subject *hot_session, *hot_user;
	struct baseline_set *baselines;
	uint64_t id_base, n_ids;
	uint64_t seq;                /* evidence seq of the slice being fed */
	uint64_t last_save_ns;
	struct detect_stats st;
	uint64_t integrity_raised[INTEGRITY_SEEN]; /* keys of integrity alerts raised */
	unsigned n_integrity;
};

struct rule_def {
	enum activity_class feeds;        /* slices of this class extend an open episode */
	enum counter primary;
	bool users_only;
	bool collection;             /* counts as a collection for exfiltration and staging */
	bool bulk;                   /* mutes slow drip */
	uint64_t (*windowed)(struct detect *d, struct subject *s, uint64_t now);
	uint64_t (*threshold)(const struct detect *d, const struct subject *s);
	bool (*gate)(const struct detect *d, const struct subject *s, uint64_t now);
	bool (*first)(const struct subject *s, uint64_t *ns, uint64_t *seq);
	struct window_top *(*dests)(struct subject *s);
};


bool dx_collected(const struct detect *d, const struct subject *s, uint64_t now);
extern const struct rule_def dx_rules[];
struct subject *dx_user_of(struct subject *s);
uint64_t dx_window_of(struct detect *d, struct subject *s, enum alert_rule r,
			  enum counter c, uint64_t now);
bool dx_within(uint64_t when, uint64_t now, uint64_t span);
uint64_t dx_act_start(const struct activity *act);
void dx_close_quiet(struct detect *d, struct subject *s, uint64_t now);
void dx_emit(struct detect *d, struct subject *s, enum alert_rule r, uint64_t now);
void dx_fill_who(struct detect *d, struct subject *s, const struct episode *e,
		     struct alert *a);
void dx_judge(struct detect *d, struct subject *s, enum alert_rule r,
		  const struct activity *act, bool extend);
void dx_judge_class(struct detect *d, struct subject *s, struct subject *u,
			enum activity_class cls, const struct activity *act);
const struct collection *dx_linked(const struct detect *d, struct subject *s, uint64_t now);
unsigned dx_expire(struct detect *d, bool users, uint64_t now);
struct subject *dx_find_session(struct detect *d, uint32_t sid, struct subject *u);
struct subject *dx_find_user(struct detect *d, uint32_t loginuid);
void dx_note_session(struct subject *u, uint32_t sid, uint64_t now);
void dx_reset_lists(struct detect *d, struct subject *s, uint64_t now);
void dx_subject_free(struct subject *s);
int dx_tab_rebuild(struct detect *d, uint32_t cap);

/* detect_episode.c: a new alert id, unique per run (ids start at the first time seen). */
uint64_t dx_new_id(struct detect *d, uint64_t now);

#endif
