-- SPDX-License-Identifier: GPL-2.0-only
-- exfilmon-central schema, version 3: cheaper ingest (docs/central.md, "Ingest").
--
-- Each chain remembers the record number after the highest one stored for its host. A
-- block whose records are numbered from there on, one after the other as the agent
-- writes them, holds no stored record, so ingest copies it straight into records; any
-- other block has its numbers looked up first.
ALTER TABLE chain_state ADD COLUMN next_seq bigint NOT NULL DEFAULT 0;
UPDATE chain_state c SET next_seq = coalesce((SELECT max(r.seq) + 1 FROM records r
					      WHERE r.host_id = c.host_id), 0);

-- Host ids are [A-Za-z0-9_-] names compared byte by byte: the "C" collation makes every
-- key comparison in the records' indexes a memcmp instead of a locale's strcoll (the
-- database's default collation, whatever it is). The view on records is made again
-- around the change, unchanged.
DROP VIEW activity;
ALTER TABLE hosts ALTER COLUMN host_id TYPE text COLLATE "C";
ALTER TABLE heartbeats ALTER COLUMN host_id TYPE text COLLATE "C";
ALTER TABLE chain_state ALTER COLUMN host_id TYPE text COLLATE "C";
ALTER TABLE blocks ALTER COLUMN host_id TYPE text COLLATE "C";
ALTER TABLE pending_blocks ALTER COLUMN host_id TYPE text COLLATE "C";
ALTER TABLE records ALTER COLUMN host_id TYPE text COLLATE "C";
ALTER TABLE sessions ALTER COLUMN host_id TYPE text COLLATE "C";
ALTER TABLE activity_daily ALTER COLUMN host_id TYPE text COLLATE "C";
ALTER TABLE alerts ALTER COLUMN host_id TYPE text COLLATE "C";
CREATE VIEW activity AS
SELECT host_id, seq, ts, session_id, (doc->>'loginuid')::bigint AS loginuid,
       doc->>'kind' AS kind, doc->>'object' AS object, (doc->>'bytes')::bigint AS bytes,
       (doc->>'ops')::bigint AS ops, doc->>'comm' AS comm, doc->>'dst_ip' AS dst_ip,
       (doc->>'dst_port')::integer AS dst_port
FROM records WHERE type = 'activity';
