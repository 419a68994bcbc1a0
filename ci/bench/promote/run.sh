#!/usr/bin/env bash
# Benchmark: `slipway promote` vs `crane copy` of the same digest, same run.
#
# Starts Debian's docker-registry (distribution 2.8) on 127.0.0.1, pushes a
# BENCH_SIZE_MB (default 200) MiB image of BENCH_LAYERS (default 5) random
# layers, then BENCH_ROUNDS (default 5) times promotes it into a fresh
# repository with each tool, each through its own byte-counting proxy, and
# prints the medians: wall time, bytes the tool sent (request lines, headers,
# bodies), requests, and bytes sent as a share of the image. It does so on
# loopback, then again with BENCH_RTT_MS (default 20) added to every request,
# the round trip to a hosted registry.
#
# Usage: ci/bench/promote/run.sh        (from anywhere in the repository)
#        BENCH_TRACE=1 ci/bench/promote/run.sh   also prints each tool's requests
#        of the first round, with their start and end times
# Needs: go, /usr/bin/docker-registry; crane v0.22.0 is installed if absent.
set -euo pipefail

root="$(cd "$(dirname "$0")/../../.." && pwd)"
cd "$root"
export GOFLAGS="${GOFLAGS:--buildvcs=false}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

go build -o "$work/slipway" ./cmd/slipway
crane_bin="$(command -v crane || true)"
if [ -z "$crane_bin" ] && [ -x "$(go env GOPATH)/bin/crane" ]; then
	crane_bin="$(go env GOPATH)/bin/crane"
fi
if [ -z "$crane_bin" ] || ! "$crane_bin" version 2>/dev/null | grep -q '^v0.22.0$'; then
	GOBIN="$work" go install github.com/google/go-containerregistry/cmd/crane@v0.22.0
	crane_bin="$work/crane"
fi
echo "crane: $crane_bin ($("$crane_bin" version)); slipway: built from $root"

# Twice: on loopback, and with the round trip of a hosted registry
# (BENCH_RTT_MS, default 20) added by the proxy to every request.
for rtt in 0 "${BENCH_RTT_MS:-20}"; do
	BENCH_RTT_MS="$rtt" SLIPWAY_BENCH=1 SLIPWAY_BIN="$work/slipway" CRANE_BIN="$crane_bin" SLIPWAY_TEST_REGISTRY=real BENCH_OUT="$work" \
		go test -run '^TestPromoteBenchmark$' -count=1 -timeout 20m -v ./ci/bench/promote/ >"$work/log" 2>&1 || {
		cat "$work/log"
		exit 1
	}
	echo
	if [ -n "${BENCH_TRACE:-}" ]; then cat "$work/log"; else cat "$work/result.txt"; fi
done
