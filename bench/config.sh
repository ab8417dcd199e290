# SPDX-License-Identifier: GPL-2.0-only
# The daemon's config every benchmark runs it with, sourced by run.sh, profile.sh and
# ab.sh so that their figures are of one configuration: the given trees watched, a
# source service on 127.0.0.2:5432 and one on a /16, an allowlist, removable media on,
# evidence and alerts files. Realistic for a support workstation, and 127.0.0.77 (the
# workloads' drop site) is egress.
#   bench_config FILE DIR TREE...: FILE the config, DIR for evidence, alerts and state
bench_config() {
	local file=$1 dir=$2 paths
	shift 2
	paths=$(printf '"%s", ' "$@")
	cat >"$file" <<-YAML
	sources:
	  paths: [${paths%, }]
	  services: ["127.0.0.2:5432", "10.20.0.0/16:443"]
	egress:
	  allow: ["127.0.0.1/32", "127.0.0.2/32", "10.0.0.0/8"]
	  removable_media: true
	output:
	  evidence: $dir/ev
	  alerts: $dir/alerts.jsonl
	agent:
	  state_dir: $dir/state
	YAML
}
