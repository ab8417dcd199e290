# SPDX-License-Identifier: GPL-2.0-only
# Fixtures for exfilmon-central's tests: a JetStream nats-server and a private
# PostgreSQL 15 cluster on their own loopback addresses, each with a temporary store,
# started and stopped (also on failure) by the test. Source after itest.sh.
# Ports: NATS $CF_NATS_PORT (14260 by default), PostgreSQL 127.0.0.3:$CF_PG_PORT (5433).

CF_NATS_PORT=${CF_NATS_PORT:-14260}
CF_PG_HOST=${CF_PG_HOST:-127.0.0.3}
CF_PG_PORT=${CF_PG_PORT:-5433}
CF_NATS_URL=nats://127.0.0.1:$CF_NATS_PORT
CF_CONNINFO="host=$CF_PG_HOST port=$CF_PG_PORT user=postgres dbname=exfilmon"

cf_pg_bin() { ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1; }

# Polls CMD until it succeeds or SECS pass.
cf_wait() { # SECS CMD...
	local deadline=$(( $(date +%s) + $1 )); shift
	until "$@" >/dev/null 2>&1; do
		[ "$(date +%s)" -lt "$deadline" ] || return 1
		sleep 0.2
	done
}

cf_nats_start() {
	mkdir -p "$T/nats"
	nats-server -a 127.0.0.1 -p "$CF_NATS_PORT" -js -sd "$T/nats/js" >"$T/nats/log" 2>&1 &
	echo $! >"$T/nats/pid"
	itest_on_exit "kill \$(cat $T/nats/pid) 2>/dev/null; sleep 0.3"
	cf_wait 20 bash -c "exec 3<>/dev/tcp/127.0.0.1/$CF_NATS_PORT" || die "nats-server did not start: $(tail -5 "$T/nats/log")"
}

cf_pg_init() {
	local bin; bin=$(cf_pg_bin)
	chmod 711 "$T"   # postgres must reach its data dir under the scratch dir
	mkdir -p "$T/pg" && chown postgres: "$T/pg"
	runuser -u postgres -- "$bin/initdb" -D "$T/pg/data" -A trust -U postgres >"$T/pg/initdb.log" 2>&1 ||
		die "initdb failed: $(tail -5 "$T/pg/initdb.log")"
	itest_on_exit "runuser -u postgres -- $bin/pg_ctl -D $T/pg/data -m immediate -w stop"
	cf_pg_start
	psql -h "$CF_PG_HOST" -p "$CF_PG_PORT" -U postgres -qc "CREATE DATABASE exfilmon" ||
		die "create database failed"
}

cf_pg_start() {
	runuser -u postgres -- "$(cf_pg_bin)/pg_ctl" -D "$T/pg/data" -l "$T/pg/server.log" -w -t 60 \
		-o "-c listen_addresses=$CF_PG_HOST -p $CF_PG_PORT -k $T/pg -c fsync=off" start >/dev/null ||
		die "postgres did not start: $(tail -5 "$T/pg/server.log")"
}

cf_pg_stop() { # [MODE]
	runuser -u postgres -- "$(cf_pg_bin)/pg_ctl" -D "$T/pg/data" -m "${1:-fast}" -w stop >/dev/null
}

cf_sql() { psql -h "$CF_PG_HOST" -p "$CF_PG_PORT" -U postgres -d exfilmon -XAtqc "$1"; }

# Writes $T/central-NAME.yaml; extra "section:\n  key: value" text from $2 (a section
# not written here). CF_TRUSTED: policy.trusted ("" by default: pushes not tracked);
# CF_DRIFT_GRACE: detect.drift_grace.
cf_config() { # NAME [EXTRA_YAML]
	cat >"$T/central-$1.yaml" <<YAML
nats:
  servers: [$CF_NATS_URL]
  consumer: central
  ack_wait: 3s
  fetch_batch: 32
database:
  conninfo: "$CF_CONNINFO"
  batch_records: 2000
output:
  alerts: $T/central-$1-alerts.jsonl
  syslog: false
detect:
  interval: 1s
  gap_timeout: 8s
  drift_grace: ${CF_DRIFT_GRACE:-10m}
policy:
  trusted: "${CF_TRUSTED:-}"
log:
  level: info
${2:-}
YAML
}

cf_central_start() { # NAME
	"$BUILD/exfilmon-central" -f -c "$T/central-$1.yaml" >>"$T/central-$1.log" 2>&1 &
	echo $! >"$T/central-$1.pid"
	disown $!   # the kill tests SIGKILL it: no job report from the shell
	itest_on_exit "kill \$(cat $T/central-$1.pid) 2>/dev/null"
	cf_wait 30 grep -q "central: running" "$T/central-$1.log" || die "central $1 did not start: $(tail -5 "$T/central-$1.log")"
}

cf_central_stop() { # NAME [SIGNAL]
	local pid; pid=$(cat "$T/central-$1.pid")
	kill "-${2:-TERM}" "$pid" 2>/dev/null
	cf_wait 20 bash -c "! kill -0 $pid"
}
