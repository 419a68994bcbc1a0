#!/usr/bin/env bash
# Prune benchmark: a local registry (Debian's docker-registry) with 5,000 tags
# over 1,000 digests; plan time and request count for Slipway against a naive
# loop (crane ls, then crane config per tag) in the same run.
#   bash ci/bench/prune/run.sh            # from the repository root
set -euo pipefail
cd "$(dirname "$0")/../../.."
export GOFLAGS=-buildvcs=false
go install github.com/google/go-containerregistry/cmd/crane@v0.22.0
SLIPWAY_BENCH=1 CRANE="$(go env GOPATH)/bin/crane" \
  go test -count=1 -run TestPruneBench -v -timeout 30m ./ci/bench/prune/ "$@"
