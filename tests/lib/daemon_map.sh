# SPDX-License-Identifier: GPL-2.0-only
# daemon_map PID NAME: the id of the BPF map called NAME that process PID holds open
# (from /proc/PID/fdinfo, so other exfilmon instances on the machine are never touched).
daemon_map() {
	local pid=$1 name=$2 f id
	for f in /proc/"$pid"/fdinfo/*; do
		id=$(awk '/^map_id:/ {print $2}' "$f" 2>/dev/null)
		[ -n "$id" ] || continue
		if bpftool -j map show id "$id" 2>/dev/null | grep -q "\"name\":\"$name\""; then
			echo "$id"
			return 0
		fi
	done
	return 1
}
