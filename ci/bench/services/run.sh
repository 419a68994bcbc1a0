#!/usr/bin/env bash
# Benchmark: service-mode cells through Slipway vs a hand-written Dagger
# fan-out of the same cells, same engine, same run.
#
# BENCH_CELLS (default 12) cells, each starting the sample app of the tests
# module as a service and running a BENCH_SECONDS (default 2) second
# command in a pinned runner that reaches it, BENCH_PARALLELISM (default 4)
# at once. The image is built once before either side is timed. Prints both
# wall times and Slipway's overhead (the issue's bar: at most 10%).
#
# Usage: ci/bench/services/run.sh   (from anywhere in the repository)
# Needs: the Dagger CLI v0.21.8 and a running engine (a container runtime).
# It cannot run where no engine runs.
set -euo pipefail

root="$(cd "$(dirname "$0")/../../.." && pwd)"
cd "$root"
dagger -m .dagger/tests call bench-services \
	--cells "${BENCH_CELLS:-12}" --parallelism "${BENCH_PARALLELISM:-4}" --seconds "${BENCH_SECONDS:-2}"
