#!/usr/bin/env bash
# Lint Slipway's GitHub Actions wrappers (ci/github) with actionlint, pinned and
# built from the Go module proxy. .ci/run calls it; it also runs on its own.
#
# Shell: actionlint hands every `run:` script to shellcheck when shellcheck is
# on PATH. We take shellcheck only from Debian's package (apt), never from a
# downloaded binary: installed here when missing and apt-get is usable (root),
# otherwise the shell check is skipped with a notice and the rest still runs.
set -euo pipefail
cd "$(dirname "$0")/.."
export GOWORK=off GOFLAGS=-buildvcs=false

ACTIONLINT_VERSION=v1.7.12

gobin="$(go env GOPATH)/bin"
actionlint="$gobin/actionlint"
if ! [ -x "$actionlint" ] || [ "$("$actionlint" -version 2>/dev/null | sed -n 1p)" != "$ACTIONLINT_VERSION" ]; then
  echo "== installing actionlint $ACTIONLINT_VERSION"
  go install "github.com/rhysd/actionlint/cmd/actionlint@$ACTIONLINT_VERSION"
fi

if ! command -v shellcheck >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "== installing shellcheck (Debian package)"
  if ! { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq shellcheck >/dev/null; }; then
    echo "actionlint.sh: could not install shellcheck from apt" >&2
  fi
fi
shellcheck_flag=-shellcheck=
if command -v shellcheck >/dev/null 2>&1; then
  shellcheck_flag="-shellcheck=$(command -v shellcheck)"
  echo "== shell scripts checked with shellcheck $(shellcheck --version | sed -n 's/^version: //p')"
else
  echo "actionlint.sh: shellcheck not installed: run: scripts are not shell-checked" >&2
fi

# GitHub only calls reusable workflows from .github/workflows, and actionlint
# only checks a caller's inputs and secrets against a local reusable workflow
# found there. Lint a copy laid out that way, so `uses: ./.github/workflows/
# slipway.yml` is resolved and checked, and report paths as ci/github/....
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/.git" "$tmp/.github/workflows"
cp ci/github/workflows/*.yml "$tmp/.github/workflows/"

echo "== actionlint $ACTIONLINT_VERSION over ci/github/workflows"
status=0
(cd "$tmp" && "$actionlint" -no-color "$shellcheck_flag" .github/workflows/*.yml) >"$tmp/out" 2>&1 || status=$?
sed 's#^\.github/workflows/#ci/github/workflows/#' "$tmp/out"
if [ "$status" -ne 0 ]; then
  echo "actionlint: findings above (exit $status)" >&2
fi
exit "$status"
