#!/usr/bin/env bash
# Regenerates the JUnit corpus beside this script by running the real tools
# (pinned below) on small test projects, twice each: VARIANT=base (what the
# baseline image does) and VARIANT=cand (the candidate). Each tool's pair
# holds a regression (breaks), a fix (fixed), a known failure (known), a new
# failing test (added: only in cand), a removed test (removed: only in
# base), a skip (skipped) and, where the tool reruns, a flaky test (flaky:
# fails its first attempt in cand). The *-shape pairs are the identity
# collisions of Playwright projects, node's runner and jest-junit: the
# candidate breaks `renders` in one place only, beside a known failure
# (legacy) that fails the cell on both sides, so only the cases can tell. Beside each XML file, a .txt
# records the tool's version and the counts it printed.
#
# Usage: regen.sh [NAME...] regenerates every pair, or the named ones
# (gotestsum, pytest, jest-shape, ...).
#
# Installs what is missing: pytest, pytest-rerunfailures and bats from
# Debian (apt), gotestsum and go-junit-report from the Go module proxy, the
# npm tools into $TOOLS (outside the repository). corpus_test.go asserts the
# gate's decision on every pair: run `go test ./pipeline/gate/` after this.
set -euo pipefail

OUT=$(cd "$(dirname "$0")" && pwd)
TOOLS=${TOOLS:-/tmp/slipway-corpus-tools}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# Debian's Python: pytest and pytest-rerunfailures are its packages.
PY=/usr/bin/python3
GOTESTSUM=v1.13.0
GO_JUNIT_REPORT=v2.1.0
NPM_PKGS=(@playwright/test@1.65.1 jest@30.5.2 jest-junit@17.0.0 vitest@3.2.7 mocha@11.8.0 mocha-junit-reporter@2.2.1)

install() {
	if ! command -v bats >/dev/null || ! $PY -c 'import pytest, pytest_rerunfailures' 2>/dev/null; then
		apt-get update -qq && apt-get install -y -qq python3-pytest python3-pytest-rerunfailures bats >/dev/null
	fi
	mkdir -p "$TOOLS/bin"
	[ -x "$TOOLS/bin/gotestsum" ] || GOBIN=$TOOLS/bin go install "gotest.tools/gotestsum@$GOTESTSUM"
	[ -x "$TOOLS/bin/go-junit-report" ] || GOBIN=$TOOLS/bin go install "github.com/jstemmer/go-junit-report/v2@$GO_JUNIT_REPORT"
	if [ ! -d "$TOOLS/node_modules/jest-junit" ]; then
		(cd "$TOOLS" && { [ -f package.json ] || npm init -y >/dev/null; } &&
			PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm install --no-audit --no-fund --save-exact "${NPM_PKGS[@]}" >/dev/null)
	fi
}

# pair NAME VERSION COUNTS FUNC: runs FUNC base and FUNC cand in a fresh
# directory (npm tools linked in); FUNC writes out.xml and log.txt. Keeps
# out.xml as NAME/VARIANT.xml and, in NAME/VARIANT.txt, the version and
# the lines of log.txt matching COUNTS.
pair() {
	local name=$1 version=$2 counts=$3 fn=$4 v
	if [ ${#ONLY[@]} -gt 0 ] && [[ " ${ONLY[*]} " != *" $name "* ]]; then
		return
	fi
	mkdir -p "$OUT/$name"
	for v in base cand; do
		rm -rf "$WORK/p" && mkdir -p "$WORK/p" && ln -s "$TOOLS/node_modules" "$WORK/p/node_modules"
		(cd "$WORK/p"
			# Failing tests are the point: the tool's exit code is not.
			VARIANT=$v FLAKY_MARK=$WORK/p/.flaky "$fn" "$v" >log.txt 2>&1 || true
			# Absolute paths of this machine would differ run to run.
			sed "s#$WORK/p/##g; s#$WORK/p#.#g" out.xml >"$OUT/$name/$v.xml"
			{
				echo "tool: $version"
				echo "command: $fn $v (see regen.sh)"
				echo "counts printed by the tool:"
				{ grep -E "$counts" log.txt || echo '  (none found)'; } | sed 's/\x1b\[[0-9;]*m//g; s/^/  /'
				echo "counts in the file's first element that has them:"
				{ grep -o -m1 '<testsuites* [^>]*tests="[0-9]*"[^>]*>' out.xml || echo '(none)'; } |
					{ grep -o '\(tests\|failures\|errors\|skipped\)="[0-9]*"\|(none)' || true; } | tr '\n' ' ' | sed 's/^/  /; s/ $//'
				echo
			} >"$OUT/$name/$v.txt")
	done
}

# only VARIANT TEXT: TEXT when the variant is VARIANT.
only() { if [ "$VARIANT" = "$1" ]; then printf '%s\n' "$2"; fi; }

go_project() {
	printf 'module example.com/shop\n\ngo 1.26\n' >go.mod
	cat >shop_test.go <<'EOF'
package shop

import (
	"os"
	"testing"
)

var cand = os.Getenv("VARIANT") == "cand"

func TestStays(t *testing.T) {}
func TestBreaks(t *testing.T) {
	if cand {
		t.Fatal("total = 6, want 7")
	}
}
func TestFixed(t *testing.T) {
	if !cand {
		t.Fatal("rounding off by one")
	}
}
func TestKnown(t *testing.T)   { t.Fatal("coupon service is down") }
func TestSkipped(t *testing.T) { t.Skip("needs SLOW=1") }
func TestFlaky(t *testing.T) {
	if !cand {
		return
	}
	if _, err := os.Stat(os.Getenv("FLAKY_MARK")); err != nil {
		os.WriteFile(os.Getenv("FLAKY_MARK"), nil, 0o644)
		t.Fatal("dial tcp 10.0.0.7:5432: i/o timeout")
	}
}
EOF
	if [ "$VARIANT" = cand ]; then
		printf 'package shop\n\nimport "testing"\n\nfunc TestAdded(t *testing.T) { t.Fatal("tax = 0, want 19") }\n' >added_test.go
	else
		printf 'package shop\n\nimport "testing"\n\nfunc TestRemoved(t *testing.T) {}\n' >removed_test.go
	fi
}

run_gotestsum() {
	go_project
	"$TOOLS/bin/gotestsum" --format testname --junitfile out.xml --rerun-fails=2 --packages ./...
}

# A Go test with subtests, as go-cmp's TestOptions: the candidate breaks two
# subtests of TestOptions (its parent then fails too, as go test reports
# it), and TestTeardown fails on its own after its subtest passed.
run_gotestsum_subtests() {
	printf 'module example.com/cmp\n\ngo 1.26\n' >go.mod
	cat >options_test.go <<'EOF'
package cmp

import (
	"os"
	"testing"
)

var cand = os.Getenv("VARIANT") == "cand"

func TestOptions(t *testing.T) {
	for _, name := range []string{"Equal", "IgnoreFields", "SortSlices", "Transform"} {
		t.Run(name, func(t *testing.T) {
			if cand && (name == "IgnoreFields" || name == "SortSlices") {
				t.Fatalf("%s: diff reported for equal values", name)
			}
		})
	}
}

func TestTeardown(t *testing.T) {
	t.Run("Closes", func(t *testing.T) {})
	if cand {
		t.Error("a goroutine leaked after the subtests")
	}
}
EOF
	# -count=1: base and cand are the same files, and go test would serve
	# cand from its cache (the package-level Getenv is not a tracked input).
	"$TOOLS/bin/gotestsum" --format testname --junitfile out.xml --packages ./... -- -count=1
}

run_go_junit_report() {
	go_project
	go test -v ./... 2>&1 | tee go-test.log
	"$TOOLS/bin/go-junit-report" -in go-test.log -out out.xml
	grep -cE '^--- (PASS|FAIL|SKIP)' go-test.log | sed 's/^/top-level results: /'
}

run_pytest() {
	mkdir -p tests
	cat >tests/test_shop.py <<EOF
import os, pytest

cand = os.environ["VARIANT"] == "cand"

def test_stays(): pass
def test_breaks(): assert not cand, "total = 6, want 7"
def test_fixed(): assert cand, "rounding off by one"
def test_known(): assert False, "coupon service is down"
@pytest.mark.skip(reason="needs SLOW=1")
def test_skipped(): pass
@pytest.mark.xfail(reason="issue 41")
def test_expected_to_fail(): assert False
@pytest.mark.xfail(reason="issue 42")
def test_unexpectedly_passes(): pass
@pytest.mark.parametrize("qty,total", [(1, 2), (2, 4)])
def test_total(qty, total): assert qty * 2 == total
@pytest.fixture
def db(): raise ConnectionError("db is down")
def test_needs_db(db): pass
def test_flaky():
    if cand and not os.path.exists(os.environ["FLAKY_MARK"]):
        open(os.environ["FLAKY_MARK"], "w").close()
        assert False, "dial tcp 10.0.0.7:5432: i/o timeout"
$(only cand 'def test_added(): assert False, "tax = 0, want 19"')
$(only base 'def test_removed(): pass')
EOF
	$PY -m pytest -p rerunfailures --reruns 1 --junitxml=out.xml -o junit_family=xunit2 tests
}

run_jest() {
	mkdir -p src
	cat >src/cart.test.js <<EOF
const cand = process.env.VARIANT === 'cand';
describe('cart', () => {
  test('stays', () => {});
  test('breaks', () => { expect(cand ? 6 : 7).toBe(7); });
  test('fixed', () => { expect(cand ? 7 : 6).toBe(7); });
  test('known', () => { throw new Error('coupon service is down'); });
  test.skip('skipped', () => {});
$(only cand "  test('added', () => { expect(0).toBe(19); });")
$(only base "  test('removed', () => {});")
});
EOF
	echo '{"name":"shop","private":true}' >package.json
	JEST_JUNIT_OUTPUT_NAME=out.xml ./node_modules/.bin/jest --ci --reporters=default --reporters=jest-junit
}

run_jest_shape() {
	mkdir -p src
	printf "test('renders', () => { expect(process.env.VARIANT).toBe(process.env.VARIANT); });\ntest('legacy', () => { throw new Error('coupon service is down'); });\n" >src/a.test.js
	printf "const cand = process.env.VARIANT === 'cand';\ntest('renders', () => { expect(cand ? 'blank' : 'page').toBe('page'); });\n" >src/b.test.js
	echo '{"name":"shop","private":true}' >package.json
	JEST_JUNIT_OUTPUT_NAME=out.xml ./node_modules/.bin/jest --ci --runInBand --reporters=default --reporters=jest-junit
}

run_mocha() {
	mkdir -p test
	cat >test/cart.spec.js <<EOF
const assert = require('node:assert');
const cand = process.env.VARIANT === 'cand';
describe('cart', () => {
  it('stays', () => {});
  it('breaks', () => { assert.strictEqual(cand ? 6 : 7, 7); });
  it('fixed', () => { assert.strictEqual(cand ? 7 : 6, 7); });
  it('known', () => { throw new Error('coupon service is down'); });
  it.skip('skipped', () => {});
$(only cand "  it('added', () => { assert.strictEqual(0, 19); });")
$(only base "  it('removed', () => {});")
});
EOF
	./node_modules/.bin/mocha --reporter mocha-junit-reporter --reporter-options mochaFile=out.xml,includePending=true test/ || true
	./node_modules/.bin/mocha --reporter dot test/
}

run_vitest() {
	mkdir -p src
	cat >src/cart.test.js <<EOF
import { describe, test, expect } from 'vitest';
const cand = process.env.VARIANT === 'cand';
describe('cart', () => {
  test('stays', () => {});
  test('breaks', () => { expect(cand ? 6 : 7).toBe(7); });
  test('fixed', () => { expect(cand ? 7 : 6).toBe(7); });
  test('known', () => { throw new Error('coupon service is down'); });
  test.skip('skipped', () => {});
$(only cand "  test('added', () => { expect(0).toBe(19); });")
$(only base "  test('removed', () => {});")
});
EOF
	echo '{"name":"shop","private":true,"type":"module"}' >package.json
	./node_modules/.bin/vitest run --reporter=default --reporter=junit --outputFile.junit=out.xml
}

playwright_config() { # projects... ; retries and includeRetries as $RETRIES
	{
		echo "module.exports = { testDir: './tests', retries: ${RETRIES:-0}, workers: 1,"
		echo "  reporter: [['junit', { outputFile: 'out.xml', includeRetries: true }], ['list']],"
		echo "  projects: ["
		for p in "$@"; do echo "    { name: '$p' },"; done
		echo "  ] };"
	} >playwright.config.js
}

run_playwright() {
	mkdir -p tests
	RETRIES=1 playwright_config chromium
	cat >tests/cart.spec.js <<EOF
const { test, expect } = require('@playwright/test');
const fs = require('node:fs');
const cand = process.env.VARIANT === 'cand';
test('stays', async () => {});
test('breaks', async () => { expect(cand ? 6 : 7).toBe(7); });
test('fixed', async () => { expect(cand ? 7 : 6).toBe(7); });
test('known', async () => { throw new Error('coupon service is down'); });
test.skip('skipped', async () => {});
test('flaky', async ({}, info) => { expect(cand && info.retry === 0 ? 'timeout' : 'ok').toBe('ok'); });
$(only cand "test('added', async () => { expect(0).toBe(19); });")
$(only base "test('removed', async () => {});")
EOF
	./node_modules/.bin/playwright test
}

run_playwright_shape() {
	mkdir -p tests
	playwright_config chromium firefox webkit
	cat >tests/home.spec.js <<'EOF'
const { test, expect } = require('@playwright/test');
const broken = process.env.VARIANT === 'cand';
test('renders', async ({}, info) => { expect(broken && info.project.name === 'webkit' ? 'blank' : 'page').toBe('page'); });
test('legacy', async () => { throw new Error('coupon service is down'); });
EOF
	./node_modules/.bin/playwright test
}

run_playwright_retries() { # real reruns: flaky on webkit only, still flaky
	mkdir -p tests
	RETRIES=2 playwright_config chromium firefox webkit
	cat >tests/home.spec.js <<'EOF'
const { test, expect } = require('@playwright/test');
const cand = process.env.VARIANT === 'cand';
test('renders', async ({}, info) => { expect(cand && info.project.name === 'webkit' && info.retry === 0 ? 'timeout' : 'page').toBe('page'); });
EOF
	./node_modules/.bin/playwright test
}

run_node() {
	mkdir -p test
	cat >test/cart.test.js <<EOF
const test = require('node:test');
const assert = require('node:assert');
const cand = process.env.VARIANT === 'cand';
test('stays', () => {});
test('breaks', () => { assert.strictEqual(cand ? 6 : 7, 7); });
test('fixed', () => { assert.strictEqual(cand ? 7 : 6, 7); });
test('known', () => { throw new Error('coupon service is down'); });
test('skipped', { skip: 'needs SLOW=1' }, () => {});
$(only cand "test('added', () => { assert.strictEqual(0, 19); });")
$(only base "test('removed', () => {});")
EOF
	node --test --test-reporter=junit --test-reporter-destination=out.xml --test-reporter=spec --test-reporter-destination=stdout test/
}

run_node_shape() {
	mkdir -p test
	printf "const test = require('node:test');\ntest('renders', () => {});\ntest('legacy', () => { throw new Error('coupon service is down'); });\n" >test/a.test.js
	printf "const test = require('node:test');\nconst assert = require('node:assert');\ntest('renders', () => { assert.strictEqual(process.env.VARIANT === 'cand' ? 'blank' : 'page', 'page'); });\n" >test/b.test.js
	node --test --test-reporter=junit --test-reporter-destination=out.xml --test-reporter=spec --test-reporter-destination=stdout test/a.test.js test/b.test.js
}

run_bats() {
	cat >cart.bats <<EOF
@test "stays" { true; }
@test "breaks" { [ "\$VARIANT" = base ]; }
@test "fixed" { [ "\$VARIANT" = cand ]; }
@test "known" { false; }
@test "skipped" { skip "needs SLOW=1"; }
$(only cand '@test "added" { [ 0 -eq 19 ]; }')
$(only base '@test "removed" { true; }')
EOF
	bats --formatter tap --report-formatter junit --output . cart.bats || true
	# bats' report formatter may still be writing when bats exits.
	for _ in $(seq 50); do grep -q '</testsuites>' report.xml 2>/dev/null && break; sleep 0.2; done
	mv report.xml out.xml
}

main() {
	install
	local nm=$TOOLS/node_modules
	local pw jest jj vt mocha mjr
	pw=$(node -p "require('$nm/@playwright/test/package.json').version")
	jest=$(node -p "require('$nm/jest/package.json').version")
	jj=$(node -p "require('$nm/jest-junit/package.json').version")
	vt=$(node -p "require('$nm/vitest/package.json').version")
	mocha=$(node -p "require('$nm/mocha/package.json').version")
	mjr=$(node -p "require('$nm/mocha-junit-reporter/package.json').version")
	local gover gts gjr pyt prf bats
	gover=$(go version | awk '{print $3}')
	gts=$("$TOOLS/bin/gotestsum" --version | awk '{print $3}')
	gjr=$GO_JUNIT_REPORT # go install leaves its -version at "v2.1.0-dev"
	pyt=$($PY -m pytest --version 2>&1 | awk '{print $2}')
	prf=$($PY -c 'import importlib.metadata as m; print(m.version("pytest-rerunfailures"))')
	bats=$(bats --version | awk '{print $2}')

	pair gotestsum "gotestsum $gts, $gover" '^DONE' run_gotestsum
	pair gotestsum-subtests "gotestsum $gts, $gover" '^DONE' run_gotestsum_subtests
	pair go-junit-report "go-junit-report $gjr, $gover" '^(ok|FAIL|top-level)' run_go_junit_report
	pair pytest "pytest $pyt, pytest-rerunfailures $prf, $($PY --version)" '^=+ .*(passed|failed)' run_pytest
	pair jest "jest $jest, jest-junit $jj, node $(node --version)" '^(Tests|Test Suites):' run_jest
	pair jest-shape "jest $jest, jest-junit $jj, node $(node --version)" '^(Tests|Test Suites):' run_jest_shape
	pair mocha "mocha $mocha, mocha-junit-reporter $mjr, node $(node --version)" '(passing|failing|pending)' run_mocha
	pair vitest "vitest $vt, node $(node --version)" '^ +Tests ' run_vitest
	pair playwright "@playwright/test $pw, node $(node --version)" '^ +[0-9]+ (passed|failed|flaky|skipped)' run_playwright
	pair playwright-shape "@playwright/test $pw, node $(node --version)" '^ +[0-9]+ (passed|failed|flaky|skipped)' run_playwright_shape
	pair playwright-retries "@playwright/test $pw, node $(node --version)" '^ +[0-9]+ (passed|failed|flaky|skipped)' run_playwright_retries
	pair node "node $(node --version) --test-reporter=junit" '^ℹ (tests|pass|fail|skipped)' run_node
	pair node-shape "node $(node --version) --test-reporter=junit" '^ℹ (tests|pass|fail|skipped)' run_node_shape
	pair bats "bats $bats" '^(1\.\.|ok|not ok)' run_bats
}

ONLY=("$@")
main
