-- SPDX-License-Identifier: GPL-2.0-only
-- exfilmon-central schema, version 1. Applied once by the daemon at start (inside one
-- transaction, under an advisory lock so that two instances starting together apply it
-- once) and recorded in schema_version. A later change is a new file 002_....sql; a
-- shipped file is never edited.

CREATE TABLE schema_version (
	version integer PRIMARY KEY,
	applied timestamptz NOT NULL DEFAULT now()
);

-- One row per agent, the latest heartbeat's view of it.
CREATE TABLE hosts (
	host_id text PRIMARY KEY,
	host_name text,
	agent_version text,
	config_sha256 text,
	groups text[] NOT NULL DEFAULT '{}',
	start_id text,
	hb_seq bigint,
	hb_ts timestamptz,
	hb_received timestamptz,
	interval_s integer,
	clean_shutdown boolean NOT NULL DEFAULT false,
	hb_chain_segment text,
	hb_chain_block bigint,
	hb_chain_hash text,
	records_written bigint,
	blocks_written bigint,
	backlog_blocks bigint,
	deleted_unshipped jsonb,
	first_seen timestamptz NOT NULL DEFAULT now()
);

-- Every heartbeat received; the key is the message id's (host, agent start, seq).
CREATE TABLE heartbeats (
	host_id text NOT NULL,
	start_id text NOT NULL,
	seq bigint NOT NULL,
	ts timestamptz NOT NULL,
	received timestamptz NOT NULL DEFAULT now(),
	chain_block bigint,
	chain_hash text,
	clean_shutdown boolean NOT NULL DEFAULT false,
	chain_checked boolean NOT NULL DEFAULT false,
	doc jsonb NOT NULL,
	PRIMARY KEY (host_id, start_id, seq)
);
CREATE INDEX heartbeats_received ON heartbeats (received);
CREATE INDEX heartbeats_unchecked ON heartbeats (host_id, chain_block) WHERE NOT chain_checked;

-- The central copy of each host's chain: where it starts, its head, and every block's
-- place in it. A block is stored once (its number is the key); chain_ok is false when
-- its link or its own hash did not verify (an evidence_tampered alert names it).
CREATE TABLE chain_state (
	host_id text PRIMARY KEY,
	first_block bigint NOT NULL,
	head_block bigint NOT NULL,
	head_hash text NOT NULL,
	head_segment text NOT NULL,
	blocks bigint NOT NULL DEFAULT 0,
	records bigint NOT NULL DEFAULT 0,
	broken_links bigint NOT NULL DEFAULT 0,
	gaps bigint NOT NULL DEFAULT 0,
	updated timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE blocks (
	host_id text NOT NULL,
	block_no bigint NOT NULL,
	segment text NOT NULL,
	hash text NOT NULL,
	prev_hash text NOT NULL,
	first_seq bigint NOT NULL,
	n_records integer NOT NULL,
	first_ts timestamptz,
	last_ts timestamptz,
	chain_ok boolean NOT NULL,
	received timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (host_id, block_no)
);

-- Blocks received ahead of their predecessor (redelivery order, another instance still
-- holding the predecessor, or a real gap). Stored so the message can be acknowledged;
-- ingested when the chain reaches them, or after detect.gap_timeout with an
-- evidence_gap alert.
CREATE TABLE pending_blocks (
	host_id text NOT NULL,
	block_no bigint NOT NULL,
	segment text NOT NULL,
	block bytea NOT NULL,
	received timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (host_id, block_no)
);

-- Every evidence record of every host, as the agent wrote it, partitioned by day of
-- the record's time (partitions records_YYYYMMDD, created on demand by
-- exfilmon_partition(); retention drops whole partitions). (host, seq) identifies a
-- record; ts is in the key only because a partitioned table's keys must hold the
-- partition column, and a record's ts never changes.
CREATE TABLE records (
	host_id text NOT NULL,
	seq bigint NOT NULL,
	ts timestamptz NOT NULL,
	ts_ns bigint NOT NULL,
	type text NOT NULL,
	session_id bigint,
	doc json NOT NULL,
	PRIMARY KEY (host_id, seq, ts)
) PARTITION BY RANGE (ts);
CREATE INDEX records_host_session ON records (host_id, session_id, ts);

-- The activity records with their figures as columns (a view: the rows live once, in
-- records). kind: source_file, source_net, mmap_source, egress_net, egress_media, ...
CREATE VIEW activity AS
SELECT host_id, seq, ts, session_id, (doc->>'loginuid')::bigint AS loginuid,
       doc->>'kind' AS kind, doc->>'object' AS object, (doc->>'bytes')::bigint AS bytes,
       (doc->>'ops')::bigint AS ops, doc->>'comm' AS comm, doc->>'dst_ip' AS dst_ip,
       (doc->>'dst_port')::integer AS dst_port
FROM records WHERE type = 'activity';

-- Login sessions (from "session" records): who a session on a host is.
CREATE TABLE sessions (
	host_id text NOT NULL,
	session_id bigint NOT NULL,
	login_ns bigint NOT NULL,
	loginuid bigint,
	uid bigint,
	user_name text,
	tty text,
	remote_host text,
	seq bigint NOT NULL,
	PRIMARY KEY (host_id, session_id, login_ns)
);
CREATE INDEX sessions_user ON sessions (user_name);

-- Rollup per day x host x session (so x user) x kind x object (a source, or a
-- destination), with dst_net the destination's /24 (IPv4) or /64 (IPv6). Maintained in
-- the ingest transaction from the rows that transaction really inserted, so a
-- redelivered block adds nothing. The detections and the views read this.
CREATE TABLE activity_daily (
	day date NOT NULL,
	host_id text NOT NULL,
	session_id bigint NOT NULL,
	user_name text NOT NULL,
	kind text NOT NULL,
	object text NOT NULL,
	dst_net text NOT NULL DEFAULT '',
	bytes bigint NOT NULL,
	ops bigint NOT NULL,
	first_seq bigint NOT NULL,
	last_seq bigint NOT NULL,
	first_ts timestamptz NOT NULL,
	last_ts timestamptz NOT NULL,
	PRIMARY KEY (day, host_id, session_id, kind, object)
);
CREATE INDEX activity_daily_user ON activity_daily (user_name, day);
CREATE INDEX activity_daily_net ON activity_daily (dst_net, day) WHERE dst_net <> '';

-- Alerts of the agents (from the alert subject and from alert records) and of the
-- centre. alert_key makes every alert idempotent: an agent alert is
-- HOST:agent:ALERT_ID:EPISODE_START, a central one RULE:WHAT (see docs/central.md).
CREATE TABLE alerts (
	id bigserial PRIMARY KEY,
	alert_key text NOT NULL UNIQUE,
	origin text NOT NULL,
	rule text NOT NULL,
	host_id text,
	user_name text,
	ts timestamptz NOT NULL,
	revision integer NOT NULL DEFAULT 1,
	doc jsonb NOT NULL
);
CREATE INDEX alerts_ts ON alerts (ts);
CREATE INDEX alerts_user ON alerts (user_name, ts);

-- Creates the day partition of records holding ts, if missing. Two instances may race:
-- the loser's error is swallowed.
CREATE FUNCTION exfilmon_partition(day date) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
	name text := 'records_' || to_char(day, 'YYYYMMDD');
BEGIN
	IF to_regclass(name) IS NOT NULL THEN
		RETURN;
	END IF;
	EXECUTE format('CREATE TABLE IF NOT EXISTS %I PARTITION OF records FOR VALUES FROM (%L) TO (%L)',
		       name, day::timestamp AT TIME ZONE 'UTC',
		       (day + 1)::timestamp AT TIME ZONE 'UTC');
EXCEPTION WHEN duplicate_table OR unique_violation THEN
	NULL;
END $$;

-- Retention: drops the record partitions whose whole day is older than keep_days, and
-- the rollup rows of those days. Returns how many partitions went.
CREATE FUNCTION exfilmon_retention(keep_days integer) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
	p record;
	n integer := 0;
	cutoff date := (now() AT TIME ZONE 'UTC')::date - keep_days;
BEGIN
	FOR p IN SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
		 WHERE i.inhparent = 'records'::regclass AND c.relname ~ '^records_[0-9]{8}$'
		   AND to_date(substr(c.relname, 9), 'YYYYMMDD') < cutoff LOOP
		EXECUTE format('DROP TABLE %I', p.relname);
		n := n + 1;
	END LOOP;
	DELETE FROM activity_daily WHERE day < cutoff;
	RETURN n;
END $$;
