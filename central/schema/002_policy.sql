-- SPDX-License-Identifier: GPL-2.0-only
-- exfilmon-central schema, version 2: what IT pushed to which group, and what each host
-- says it applied (docs/central.md, docs/policy.md). Applied like 001 (once, under the
-- migration lock, recorded in schema_version).

-- Every signed bundle seen in the JetStream key-value bucket exfilmon-policy whose
-- signature verified against central.yaml's policy.trusted keys. One row per key-value
-- revision of a group's key, so a watch made again after a reconnect, or by a second
-- instance, stores nothing twice. pushed_at is the revision's time on the server.
CREATE TABLE policy_pushes (
	grp text NOT NULL,
	revision bigint NOT NULL,
	serial bigint NOT NULL,
	config_sha256 text NOT NULL,
	key_id text NOT NULL,
	groups text[] NOT NULL,
	not_before timestamptz NOT NULL,
	expiry timestamptz NOT NULL,
	pushed_at timestamptz NOT NULL,
	recorded timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (grp, revision)
);
CREATE INDEX policy_pushes_sha ON policy_pushes (config_sha256);

-- The policy in force as the newest heartbeat reports it ("policy": {"serial","sha256"};
-- NULL when the agent did not say).
ALTER TABLE hosts ADD COLUMN policy_serial bigint, ADD COLUMN policy_sha256 text;
