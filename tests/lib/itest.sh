# SPDX-License-Identifier: GPL-2.0-only
# Shared fixture for the root integration tests: a scratch directory, cleanup that runs
# whatever happens, checks that count, a trace or daemon started against the real BPF
# programs, and login sessions created the way pam_loginuid creates them.
# A test sources this, calls check/check_ge, and ends with itest_finish.

set -u
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BUILD=$ROOT/build
LIB=$ROOT/tests/lib
TEST_NAME=$(basename "$0" .sh)
T=$(mktemp -d "/var/tmp/exfilmon-$TEST_NAME.XXXXXX")
PASS=0
FAIL=0
CLEANUP=()

itest_on_exit() { CLEANUP=("$1" "${CLEANUP[@]}"); }
itest_cleanup() {
	local c
	for c in "${CLEANUP[@]}"; do eval "$c" >/dev/null 2>&1 || true; done
	rm -rf "$T"
}
trap itest_cleanup EXIT
# The daemon pins its lineage labels so that a restart keeps them. Each test pins them in
# a directory of its own, removed at its end: labels one test leaves must not reach the
# next one, nor outlive the suite on the machine. (A test may set its own first.)
if [ -z "${EXFILMON_PIN_DIR:-}" ]; then
	export EXFILMON_PIN_DIR=/sys/fs/bpf/exfilmon-$TEST_NAME-$$
	itest_on_exit "rm -rf $EXFILMON_PIN_DIR"
fi

die() { echo "$TEST_NAME: FATAL: $*" >&2; exit 1; }

[ "$(id -u)" = 0 ] || die "integration tests need root (they load BPF programs)"

check() { # NAME ACTUAL EXPECTED
	if [ "$2" = "$3" ]; then
		PASS=$((PASS + 1)); echo "  ok   $1 ($2)"
	else
		FAIL=$((FAIL + 1)); echo "  FAIL $1: got '$2', expected '$3'"
	fi
}

check_ge() { # NAME ACTUAL MIN
	if [ "$2" -ge "$3" ] 2>/dev/null; then
		PASS=$((PASS + 1)); echo "  ok   $1 ($2 >= $3)"
	else
		FAIL=$((FAIL + 1)); echo "  FAIL $1: got '$2', expected at least '$3'"
	fi
}

itest_finish() {
	echo "$TEST_NAME: $PASS passed, $FAIL failed"
	[ "$FAIL" = 0 ]
	exit $?
}

# wait_until SECONDS CMD...: polls CMD every 0.1 s until it succeeds or time runs out.
wait_until() {
	local deadline=$(( $(date +%s) + $1 )); shift
	until "$@"; do
		[ "$(date +%s)" -lt "$deadline" ] || return 1
		sleep 0.1
	done
}

# wait_true SECONDS 'CONDITION': like wait_until, for a condition that needs the shell
# (a $(...) or a function), re-evaluated each time. `wait_until N test "$(f)" -ge 1`
# would expand $(f) once, then wait out N seconds whatever happened.
wait_true() {
	local deadline=$(( $(date +%s) + $1 ))
	until eval "$2"; do
		[ "$(date +%s)" -lt "$deadline" ] || return 1
		sleep 0.1
	done
}

# trace_start CONFIG OUT: exfilctl trace --json on CONFIG until trace_stop.
trace_start() {
	"$BUILD/exfilctl" trace --json --all -c "$1" --interval 200 >"$2" 2>"$2.err" &
	TRACE_PID=$!
	itest_on_exit "kill -INT $TRACE_PID; kill -CONT $TRACE_PID; wait $TRACE_PID"
	wait_until 300 grep -q "ready" "$2.err" ||
		{ cat "$2.err" >&2; die "exfilctl trace did not start (BPF could not be loaded?)"; }
}

trace_stop() {
	kill -INT "$TRACE_PID" 2>/dev/null
	wait "$TRACE_PID" || die "exfilctl trace exited with $?"
}

# daemon_start CONFIG [SECONDS]: exfilmond on CONFIG, status in $T/status.json, log in
# $T/daemon.log; DAEMON is its pid, stopped at exit (continued first, for tests that
# freeze it). Dies with the log when no status appears in SECONDS (default 60).
daemon_start() {
	"$BUILD/exfilmond" -c "$1" --status "$T/status.json" --stderr --log-level info \
		2>>"$T/daemon.log" &
	DAEMON=$!
	itest_on_exit "kill -CONT $DAEMON; kill $DAEMON; wait $DAEMON"
	wait_until "${2:-60}" test -s "$T/status.json" ||
		{ cat "$T/daemon.log"; die "daemon did not start"; }
}

# in_session [--keep-root] UID INFO CMD...: CMD in a new audit session; INFO gets
# "SESSION PID". Privileges drop to UID unless --keep-root.
in_session() {
	local keep=()
	[ "$1" = --keep-root ] && { keep=(--keep-root); shift; }
	local uid=$1 info=$2; shift 2
	python3 "$LIB/in_session.py" "${keep[@]}" --uid "$uid" --info "$info" -- "$@"
}
# The output and agent sections most tests' configs end with (inside the config's here
# document: $(itest_config_tail)): alerts, evidence and state under $T, and a 200 ms poll
# so that a test waits little for its counts. More agent keys may follow it.
itest_config_tail() {
	printf 'output:\n  alerts: %s/alerts.jsonl\n  evidence: %s/evidence\n' "$T" "$T"
	printf 'agent:\n  state_dir: %s/state\n  poll_interval: 200ms\n' "$T"
}
info_session() { cut -d' ' -f1 "$1"; }
info_pid() { cut -d' ' -f2 "$1"; }

events() { python3 "$LIB/events.py" "$@"; }

# ensure_user NAME UID: a local account for session tests.
ensure_user() {
	id "$1" >/dev/null 2>&1 || useradd -m -u "$2" -s /bin/bash "$1" ||
		die "cannot create user $1"
}
