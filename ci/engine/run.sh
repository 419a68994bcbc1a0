#!/usr/bin/env bash
# The module's end-to-end checks (.dagger/tests) on a real Dagger v0.21.8 engine: the engine kit's.
#
# Builds the kit's engine, CLI and test images (once per machine, cached in SLIPWAY_ENGINE_CACHE,
# default ~/.cache/slipway-engine), starts the engine and its registry, points the checks at the
# kit's images (.dagger/tests/.env), runs every check with `dagger check`, and stops the engine
# again if it started it. Exits non-zero when a check fails.
#
# Usage: bash ci/engine/run.sh [CHECK…]   (from anywhere in the repository; no CHECK: all)
# Env:   SLIPWAY_ENGINE_KIT    the kit's directory (default: ../shared/engine-kit beside the repository)
#        SLIPWAY_CHECK_TIMEOUT seconds `dagger check` may take (default 2400)
# Needs: root, Go, a Debian host (the kit's README). On another engine, run the checks yourself:
#        dagger check -m .dagger/tests
set -euo pipefail

root="$(cd "$(dirname "$0")/../.." && pwd)"
kit="${SLIPWAY_ENGINE_KIT:-$root/../shared/engine-kit}"
[ -f "$kit/up.sh" ] || { echo "ci/engine/run.sh: no engine kit at $kit (set SLIPWAY_ENGINE_KIT)" >&2; exit 2; }
export SLIPWAY_ENGINE_CACHE="${SLIPWAY_ENGINE_CACHE:-$HOME/.cache/slipway-engine}"
name="${SLIPWAY_ENGINE_NAME:-slipway-engine}"

phase() { echo "== engine: $1 ($((SECONDS - t0)) s)"; }
t0=$SECONDS
# Docker is started here when it is installed and not running, not by the kit's scripts: each
# holds a lock (flock on fd 9) that a daemon it starts inherits, and keeps for as long as it runs,
# so the next run of that script would wait for it. (Where Docker is not installed yet, build.sh
# installs and starts it.)
if command -v dockerd >/dev/null && ! docker info >/dev/null 2>&1; then
	mkdir -p "$SLIPWAY_ENGINE_CACHE/logs" "$SLIPWAY_ENGINE_CACHE/run"
	setsid nohup dockerd >"$SLIPWAY_ENGINE_CACHE/logs/dockerd.log" 2>&1 </dev/null &
	echo $! >"$SLIPWAY_ENGINE_CACHE/run/dockerd.pid"
	for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
fi
# For the same reason (the registries up.sh starts hold its lock until down.sh stops them), a kit
# already built, with its engine answering, is used as it is.
image_id=$(cat "$SLIPWAY_ENGINE_CACHE/engine-image.id" 2>/dev/null || true)
if [ -x "$SLIPWAY_ENGINE_CACHE/bin/dagger" ] && [ -n "$image_id" ] && docker image inspect "$image_id" >/dev/null 2>&1; then
	phase "kit built already (docker runs and has the engine image)"
else
	bash "$kit/build.sh"
	phase "kit built"
fi

running=$(docker container inspect -f '{{.State.Running}}' "$name" 2>/dev/null || true)
engine_answers() {
	# shellcheck source=/dev/null
	. "$SLIPWAY_ENGINE_CACHE/env.sh" && timeout 60 dagger -q core version >/dev/null 2>&1
}
if [ "$running" = true ] && [ -f "$SLIPWAY_ENGINE_CACHE/env.sh" ] && (engine_answers); then
	phase "engine up already"
else
	# Stop only what this run started, gracefully: a killed engine loses its cache.
	trap 'bash "$kit/down.sh" || true' EXIT
	bash "$kit/up.sh"
	phase "engine up"
fi
# shellcheck source=/dev/null
. "$SLIPWAY_ENGINE_CACHE/env.sh"

# The checks' images, at the address both the engine and the containers on it reach (the module's
# registry client runs in one); hostRegistry is the kit registry the engine's host serves at
# localhost:5000, which a promotion into the ephemeral registry must leave alone.
env_file="$root/.dagger/tests/.env"
marker="# written by ci/engine/run.sh"
if [ -f "$env_file" ] && ! grep -qxF "$marker" "$env_file"; then
	echo "ci/engine/run.sh: $env_file is yours; move it away to run the checks on the kit's images" >&2
	exit 2
fi
from_containers() { echo "${1/#$KIT_REGISTRY/$KIT_REGISTRY_FROM_CONTAINERS}"; }
cat >"$env_file" <<ENV
$marker
baseImage=$(from_containers "$KIT_BASE_IMAGE")
registryImage=$(from_containers "$KIT_REGISTRY_IMAGE")
goImage=$(from_containers "$KIT_GO_IMAGE")
hostRegistry=$KIT_REGISTRY_FROM_CONTAINERS
ENV

cd "$root"
patterns=()
for c in "$@"; do patterns+=("slipway-tests:$c"); done
log="$(mktemp)"
status=0
timeout "${SLIPWAY_CHECK_TIMEOUT:-2400}" dagger check -m .dagger/tests --progress=plain "${patterns[@]}" >"$log" 2>&1 || status=$?
# The plain progress log is long: keep it, and show each check's outcome and every failure.
sed 's/\x1b\[[0-9;]*m//g' "$log" >"$log.txt"
grep -E '^[0-9]+ *: slipway-tests:[a-z-]+ (DONE|ERROR|CANCELED)' "$log.txt" | sed 's/^[0-9]* *: //' | sort || true
if [ "$status" -ne 0 ]; then
	echo "== engine: checks failed (exit $status); the failures:"
	grep -E '^[0-9]+ *: ! ' "$log.txt" | sed 's/^[0-9]* *: //' | sort -u | head -100
	echo "(whole log: $log.txt)"
fi
phase "checks done"
exit "$status"
