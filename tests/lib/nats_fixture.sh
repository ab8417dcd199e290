# SPDX-License-Identifier: GPL-2.0-only
# NATS JetStream servers for the fleet tests: each in its own directory under $T, on
# loopback ports the caller picks, started, killed and restarted by name; a three-node
# cluster; the EXFILMON stream created through tests/lib/nats_tool.c (libnats), since
# Debian ships no `nats` CLI. Needs itest.sh (T, BUILD, wait_until, itest_on_exit, die).

NATS_TOOL=$BUILD/tests/nats_tool
declare -A NATS_PID NATS_PORT

# nats_write_conf NAME PORT [EXTRA_CONF_FILE]: NAME's config (JetStream, 8 MB messages:
# an evidence block is at most 1 MiB of records before compression, plus its header).
nats_write_conf() {
	local name=$1 port=$2 extra=${3:-}
	mkdir -p "$T/nats-$name/js"
	{
		echo "server_name: $name"
		echo "listen: 127.0.0.1:$port"
		echo "max_payload: 8MB"
		echo "jetstream { store_dir: \"$T/nats-$name/js\", max_memory_store: 64MB, max_file_store: 2GB }"
		[ -n "$extra" ] && cat "$extra"
	} >"$T/nats-$name/nats.conf"
	NATS_PORT[$name]=$port
}

# nats_run NAME: starts (or restarts) NAME from its config; waits until it listens.
nats_run() {
	local name=$1 port=${NATS_PORT[$1]}
	nats-server -c "$T/nats-$name/nats.conf" >>"$T/nats-$name/log" 2>&1 &
	NATS_PID[$name]=$!
	itest_on_exit "kill -9 ${NATS_PID[$name]}"
	wait_until 30 bash -c "exec 3<>/dev/tcp/127.0.0.1/$port" 2>/dev/null ||
		{ tail -20 "$T/nats-$name/log" >&2; die "nats-server $name did not start on $port"; }
}

# nats_start NAME PORT [EXTRA_CONF_FILE]
nats_start() {
	nats_write_conf "$@"
	nats_run "$1"
}

nats_kill() { kill -9 "${NATS_PID[$1]}" 2>/dev/null; wait "${NATS_PID[$1]}" 2>/dev/null; true; }

# nats_cluster_start NAMES... : nodes n on client port 14230+i and route port 14240+i.
nats_cluster_start() {
	local i=0 name routes="" extra
	for name in "$@"; do i=$((i + 1)); routes="$routes nats-route://127.0.0.1:$((14240 + i))"; done
	i=0
	for name in "$@"; do
		i=$((i + 1))
		extra=$T/cluster-$name.conf
		printf 'cluster { name: exfilmon, listen: 127.0.0.1:%d, routes: [%s] }\n' \
			$((14240 + i)) "$(echo $routes | tr ' ' ',')" >"$extra"
		nats_write_conf "$name" $((14230 + i)) "$extra"
	done
	for name in "$@"; do nats_run "$name"; done
}

# nats_stream URL REPLICAS: creates EXFILMON, retrying while a cluster elects its leader.
nats_stream() {
	wait_until 60 "$NATS_TOOL" stream "$1" "$2" 2>"$T/nats-stream.err" ||
		{ cat "$T/nats-stream.err" >&2; die "cannot create the EXFILMON stream on $1"; }
}
