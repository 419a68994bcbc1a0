#!/usr/bin/env bash
# Builds the real cosign v2.6.1 from the Go module proxy, as a test tool: with SLIPWAY_COSIGN set
# to the binary, the registry package's TestCosignVerifiesAttachedAttestation runs
# `cosign verify-attestation` against what AttachAttestations writes (skipped otherwise).
#
#   SLIPWAY_COSIGN=$(bash ci/cosign/build.sh) go test ./pipeline/registry/ -run Cosign -v
#
# Cost: a cold build (empty module and build caches, modules fetched from the proxy) took 3m26s
# wall clock on the development machine (4m19s user, 51s sys: `time` of `go install`); with warm
# Go module and build caches, about 13 s; when the binary is there and `cosign version` says
# v2.6.1, the script does nothing. cosign's own go.mod pins what it is built with: this
# repository's go.mod plays no part.
#
# Usage: bash ci/cosign/build.sh   (prints the binary's path as its last line; progress on stderr)
# Env:   SLIPWAY_COSIGN_CACHE  where it goes (default ~/.cache/slipway-cosign): bin/cosign there
# Needs: Go, the Go module proxy (GOPROXY), flock (util-linux).
set -euo pipefail

version=v2.6.1
cache="${SLIPWAY_COSIGN_CACHE:-$HOME/.cache/slipway-cosign}"
bin="$cache/bin/cosign"

built() { [ -x "$bin" ] && "$bin" version 2>/dev/null | grep -Eq "^GitVersion:[[:space:]]+${version}\$"; }

if ! built; then
	mkdir -p "$cache/bin"
	# One build at a time per cache: a second caller waits for the first one's binary.
	exec 9>"$cache/.build.lock"
	flock 9
	if ! built; then
		echo "ci/cosign/build.sh: building cosign $version into $cache/bin (cold: about 3.5 minutes)" >&2
		start=$SECONDS
		# From / so that no go.mod or go.work around here takes part.
		(cd / && GOBIN="$cache/bin" GOFLAGS=-mod=mod GOWORK=off \
			go install "github.com/sigstore/cosign/v2/cmd/cosign@$version") >&2
		echo "ci/cosign/build.sh: built in $((SECONDS - start)) s" >&2
		built || { echo "ci/cosign/build.sh: $bin does not report cosign $version" >&2; exit 1; }
	fi
	exec 9>&-
fi
echo "$bin"
