#!/usr/bin/env bash
# Benchmark: the same `dagger call test` twice on an unchanged commit.
#
# Needs a Dagger v0.21.8 engine (none runs in this repository's CI). Writes
# a sample app into a temporary directory: busybox with BENCH_CELLS (default
# 12) cells of BENCH_SECONDS (default 2) seconds each, at parallelism 4, with
# no image (the ephemeral registry is not even started by test). Runs
# `test` twice with the same --revision and two run ids, as two CI runs of
# one commit would, and prints both times and their ratio. The run's labels
# (created, run id) are stamped at publish, not on the image the cells run
# on, so the second run's cells come from the engine's cache: the issue
# this answers asks for a second run at most 20% of the first.
#
# Usage: ci/bench/cache/run.sh   (from anywhere in the repository)
# Env:   BENCH_BASE_IMAGE=REF@sha256:…  a busybox-like image (default busybox 1.36.1)
set -euo pipefail

root="$(cd "$(dirname "$0")/../../.." && pwd)"
command -v dagger >/dev/null || { echo "needs the Dagger CLI v0.21.8 and an engine" >&2; exit 2; }
cells="${BENCH_CELLS:-12}"
seconds="${BENCH_SECONDS:-2}"
base="${BENCH_BASE_IMAGE:-docker.io/library/busybox:1.36.1@sha256:73aaf090f3d85aa34ee199857f03fa3a95c8ede2ffd4cc2cdb5b94e566b11662}"
app="$(mktemp -d)"
trap 'rm -rf "$app"' EXIT

printf 'FROM %s\nRUN echo built > /built\n' "$base" >"$app/Dockerfile"
{
	echo "test:"
	echo "  parallelism: 4"
	echo "  retries: 0"
	echo "  matrix:"
	printf '    cell: ['
	for i in $(seq 1 "$cells"); do printf '%s%d' "$([ "$i" -gt 1 ] && echo ', ')" "$i"; done
	echo ']'
	echo "  suites:"
	echo "    - name: wait-\${cell}"
	echo "      run: sleep $seconds"
	# New cells for each run of this script: its first test is never served from the cache.
	echo "      env: {BENCH_RUN: \"$(date +%s%N)\"}"
	echo "scan: {mode: \"off\"}"
} >"$app/slipway.yaml"

revision="$(printf 'bench-cache-%s' "$(date +%s)" | sha1sum | cut -c1-40)"
run() {
	local start end
	start=$(date +%s.%N)
	dagger -m "$root" call --source "$app" --revision "$revision" --run-id "$1" \
		--source-url "https://example.com/bench/cache" test headline >/dev/null
	end=$(date +%s.%N)
	awk -v a="$start" -v b="$end" 'BEGIN { printf "%.3f", b - a }'
}
first=$(run 1)
second=$(run 2)
printf 'cells: %s x %ss at parallelism 4\n' "$cells" "$seconds"
awk -v a="$first" -v b="$second" 'BEGIN {
	printf "first test:  %.1f s\nsecond test: %.1f s (%.0f%% of the first; want <= 20%%)\n", a, b, 100 * b / a
}'
