# SPDX-License-Identifier: GPL-2.0-only
# A private PostgreSQL cluster on 127.0.0.2:5432 holding a customers table of fake
# records: the "internal tool's database" that support staff look customers up in.
# pg_start DIR ROWS: initdb, start, load ROWS customers. pg_stop DIR: stop it.
# Runs the server as the postgres user; trust auth on loopback for the demo users.
# PG_ADDR picks another loopback address (a test that must not share the server).
PG_ADDR=${PG_ADDR:-127.0.0.2}

pg_bin() { ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1; }

# Waits up to 30 s for $PG_ADDR:5432 to have no listener (a previous test's server
# still shutting down); when one stays, names it.
pg_port_free() {
	local i
	for i in $(seq 1 60); do
		[ -z "$(ss -Htln "src $PG_ADDR and sport = :5432")" ] && return 0
		sleep 0.5
	done
	echo "pg_fixture: $PG_ADDR:5432 is still taken:" >&2
	ss -tlnp 'sport = :5432' >&2
	return 1
}

pg_start() {
	local dir=$1 rows=$2 bin
	bin=$(pg_bin) || return 1
	mkdir -p "$dir" && chown postgres: "$dir"
	runuser -u postgres -- "$bin/initdb" -D "$dir/data" -A trust -U postgres >"$dir/initdb.log" 2>&1 ||
		{ cat "$dir/initdb.log" >&2; return 1; }
	pg_port_free || return 1
	runuser -u postgres -- "$bin/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
		-o "-c listen_addresses=$PG_ADDR -p 5432 -k $dir -c fsync=off" start >/dev/null ||
		{ cat "$dir/server.log" >&2; ss -tanp 'sport = :5432' >&2; return 1; }
	psql -h "$PG_ADDR" -U postgres -q -v ON_ERROR_STOP=1 <<SQL >/dev/null || return 1
CREATE TABLE customers (
	id bigint PRIMARY KEY, name text, phone text, email text, account text, address text);
INSERT INTO customers
SELECT i, 'Customer ' || i, '+1-555-' || lpad((i % 10000000)::text, 7, '0'),
       'c' || i || '@example.com', 'ACCT-' || md5(i::text),
       i || ' Main Street, Springfield'
FROM generate_series(1, $rows) AS i;
GRANT SELECT ON customers TO PUBLIC;
SQL
}

pg_stop() {
	local dir=$1
	[ -d "$dir/data" ] || return 0
	runuser -u postgres -- "$(pg_bin)/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null 2>&1
	rm -rf "$dir"
}
