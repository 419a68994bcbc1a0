package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// goodFiles are the example configs: each must load.
func goodFiles(t testing.TB) []string {
	t.Helper()
	files, err := filepath.Glob("testdata/*.yaml")
	if err != nil || len(files) < 4 {
		t.Fatalf("testdata: %v %v", files, err)
	}
	return files
}

func load(t *testing.T, doc string) *Config {
	t.Helper()
	cfg, err := Load(strings.NewReader(doc))
	if err != nil {
		t.Fatalf("Load:\n%v", err)
	}
	return cfg
}

func TestTestdataLoads(t *testing.T) {
	for _, f := range goodFiles(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			cfg, err := LoadFile(f)
			if err != nil {
				t.Fatalf("LoadFile:\n%v", err)
			}
			if err := cfg.Validate(); err != nil {
				t.Errorf("Validate after Load:\n%v", err)
			}
		})
	}
}

// TestBadConfigs loads testdata/bad/*.yaml; each ends with the exact error
// lines it must produce, as "# want: ..." comments.
func TestBadConfigs(t *testing.T) {
	files, _ := filepath.Glob("testdata/bad/*.yaml")
	if len(files) == 0 {
		t.Fatal("no testdata/bad files")
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, l := range strings.Split(string(data), "\n") {
				if w, ok := strings.CutPrefix(l, "# want: "); ok {
					want = append(want, w)
				}
			}
			cfg, err := Load(strings.NewReader(string(data)))
			if err == nil {
				t.Fatalf("Load accepted it: %+v", cfg)
			}
			if cfg != nil {
				t.Errorf("Load returned a config with its error")
			}
			got := strings.Split(err.Error(), "\n")
			if !reflect.DeepEqual(got, want) {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	t.Parallel()
	tests := []loadErrorCase{
		{"unknown top-level key", "imagee: x\n",
			[]string{`line 1: imagee: unknown field (did you mean "image"?)`}},
		{"unknown nested key", "test:\n  timeout: 5m\n\n  paralelism: 4\n",
			[]string{`line 4: test.paralelism: unknown field (did you mean "parallelism"?)`}},
		{"unknown key no suggestion", "gate:\n  colour: red\n",
			[]string{`line 2: gate.colour: unknown field`}},
		{"version 2", "version: 2\n",
			[]string{`line 1: version: 2 is not supported (supported: 1)`}},
		{"version 0", "version: 0\n",
			[]string{`line 1: version: 0 is not supported (supported: 1)`}},
		{"version string", "version: one\n",
			[]string{`line 1: version: "one" is not an integer`}},
		{"bad rule duration", "retention:\n  rules:\n    - {class: pr}\n    - {class: sha}\n    - {match: x, olderThan: 3x}\n",
			[]string{`line 5: retention.rules[2].olderThan: "3x" is not a duration`}},
		{"negative duration", "retention: {minAge: -1h}\n",
			[]string{`line 1: retention.minAge: "-1h" is negative`}},
		{"days do not mix", "test: {timeout: 1d12h}\n",
			[]string{`line 1: test.timeout: "1d12h" is not a duration`}},
		{"smoke mode", "smoke: {mode: sometimes}\n",
			[]string{`line 1: smoke.mode: "sometimes" is not a smoke mode (auto, always or off)`}},
		{"smoke too short", "smoke:\n  duration: 500ms\n",
			[]string{`line 2: smoke.duration: 500ms is out of range (1s to 10m0s)`}},
		{"smoke too long", "smoke:\n  duration: 1d\n",
			[]string{`line 2: smoke.duration: 24h0m0s is out of range (1s to 10m0s)`}},
		{"buildpacks of one image of several", "images:\n  - name: a\n  - name: b\n    build:\n      target: runtime\n      buildpacks: {builder: \"b:latest\"}\ntest:\n  suites:\n    - {name: t, run: [x], services: [{name: a, image: a}, {name: b, image: b}]}\n",
			[]string{
				`line 5: images[1].build.target: a buildpacks build has no Dockerfile stage: remove it (a runner stage is runner.build.target)`,
				`line 6: images[1].build.buildpacks.builder: "b:latest" must be pinned by digest (repo@sha256:…): a builder change is then a change of slipway.yaml, which the gate judges like any other`,
			}},
		{"platforms values", "smoke: {platforms: every}\ntest:\n  suites:\n    - name: unit\n      run: [go]\n      platforms: arm64\n",
			[]string{
				`line 1: smoke.platforms: "every" is not a platforms value (first: the first of build.platforms, or all: every platform built)`,
				`line 6: test.suites[0].platforms: "arm64" is not a platforms value (first: the first of build.platforms, or all: every platform built)`,
			}},
		{"a suite named smoke beside the smoke check", "smoke: {mode: always}\ntest:\n  suites:\n    - {name: unit, run: [go]}\n    - name: smoke\n      run: [sh]\n",
			[]string{`line 5: test.suites[1].name: "smoke" is the smoke check's cell: rename the suite or set smoke.mode: off`}},
		{"runner without the app", "test:\n  suites:\n    - name: e2e\n      run: [npx, playwright, test]\n      runner: {ref: r@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa}\n",
			[]string{`line 5: test.suites[0].runner: a suite with a runner must start the image under test as a service (services: [{name: …, image: app}]), or it tests nothing of it`}},
		{"runner ref and build", "test:\n  suites:\n    - name: e2e\n      run: [x]\n      runner: {ref: r@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa, build: {target: t}}\n      services: [{name: app, image: app}]\n",
			[]string{`line 5: test.suites[0].runner: give ref or build.target, not both`}},
		{"runner stage of an image the run does not build", "test:\n  suites:\n    - name: e2e\n      run: [x]\n      runner: {build: {target: t, image: web}}\n      services: [{name: app, image: app}]\n",
			[]string{`line 5: test.suites[0].runner.build.image: "web" is not an image of this run (this run builds app)`}},
		{"runner build image without a target", "test:\n  suites:\n    - name: e2e\n      run: [x]\n      runner: {build: {image: app}}\n      services: [{name: app, image: app}]\n",
			[]string{`line 5: test.suites[0].runner.build.image: names the image whose Dockerfile builds the stage: give build.target too`}},
		{"runner by tag", "test:\n  suites:\n    - name: e2e\n      run: [x]\n      runner: {ref: \"node:22\"}\n      services: [{name: app, image: app}]\n",
			[]string{`line 5: test.suites[0].runner.ref: "node:22" is not pinned by digest (repo@sha256:…): a digest must contain exactly one '@' separator (e.g. registry/repository@digest) saw: node:22`}},
		{"service errors", "test:\n  matrix: {shard: [1, 2]}\n  suites:\n    - name: e2e-${shard}\n      run: [x]\n      services:\n        - {name: App_1, image: web}\n        - {name: db, image: app, ref: r@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa}\n        - name: db\n          ref: r@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n          ports: [0]\n          env: {S: \"${browser}\"}\n          health: {http: health, exec: [x]}\n        - {name: api, image: app, health: {http: /health}}\n        - {name: cache, image: app, ports: [6379], health: {http: /h, port: 80}}\n        - {name: q}\n",
			[]string{
				`line 7: test.suites[0].services[0].name: "App_1" is not a host name (lowercase letters, digits and '-', at most 63)`,
				`line 7: test.suites[0].services[0].image: "web" is not an image of this run (this run builds app)`,
				`line 8: test.suites[0].services[1]: give image or ref, not both`,
				`line 9: test.suites[0].services[2].name: duplicate service name "db" (first at test.suites[0].services[1])`,
				`line 11: test.suites[0].services[2].ports[0]: 0 is not a port (1 to 65535)`,
				`line 12: test.suites[0].services[2].env.S: ${browser} is not a matrix axis (axes: shard); write $${browser} for a literal ${browser}`,
				`line 13: test.suites[0].services[2].health: give http or exec, not both`,
				`line 14: test.suites[0].services[3].health.port: the HTTP check needs a port: give health.port or ports`,
				`line 15: test.suites[0].services[4].health.port: 80 is not among the service's ports [6379]`,
				`line 16: test.suites[0].services[5]: give image: app (the image under test) or ref: REPO@sha256:… (a sidecar)`,
			}},
		{"secrets", "test:\n  suites:\n    - name: e2e\n      run: [x]\n      env: {API_TOKEN: x}\n      secrets:\n        API_TOKEN: api-token\n        1BAD: a\n        SLIPWAY_CELL: a\n        /run/../x: a\n        TOKEN: \"has space\"\n      runner:\n        ref: r@sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\n        secrets: {TOKEN: t, /run/secrets/license: license}\n      services:\n        - {name: app, image: app, secrets: {DB_PASSWORD: \"\"}}\n    - name: unit\n      run: [x]\n      runner: {secrets: {A: a}}\n",
			[]string{
				`line 7: test.suites[0].secrets.API_TOKEN: API_TOKEN is in env too: give it in one of them`,
				`line 8: test.suites[0].secrets.1BAD: "1BAD" is neither an environment variable name (letters, digits and _) nor an absolute file path`,
				`line 9: test.suites[0].secrets.SLIPWAY_CELL: SLIPWAY_ variables are Slipway's own`,
				`line 10: test.suites[0].secrets["/run/../x"]: "/run/../x" is not a clean absolute file path`,
				`line 11: test.suites[0].secrets.TOKEN: "has space" is not a secret name (letters, digits, '.', '_' and '-', at most 128)`,
				`line 14: test.suites[0].runner.secrets.TOKEN: TOKEN is in the suite's secrets too: give it once`,
				`line 16: test.suites[0].services[0].secrets.DB_PASSWORD: "" is not a secret name (letters, digits, '.', '_' and '-', at most 128)`,
				`line 19: test.suites[1].runner.secrets: the suite has no runner (ref or build.target): give the secrets in the suite's secrets`,
			}},
		{"parallelism 0", "test: {parallelism: 0}\n",
			[]string{`line 1: test.parallelism: must be at least 1, got 0`}},
		{"retries -1", "test:\n  retries: -1\n",
			[]string{`line 2: test.retries: must not be negative, got -1`}},
		{"int overflow", "test: {retries: 99999999999999999999}\n",
			[]string{`line 1: test.retries: "99999999999999999999" is not an integer`}},
		{"quoted int", "test: {retries: \"2\"}\n",
			[]string{`line 1: test.retries: "2" is not an integer`}},
		{"axis without values", "test:\n  matrix:\n    os: []\n",
			[]string{`line 3: test.matrix.os: axis has no values`}},
		{"axis null", "test:\n  matrix:\n    os:\n",
			[]string{`line 3: test.matrix.os: must be a list of values, got null`}},
		{"duplicate axis value", "test:\n  matrix:\n    n: [1, 2, 1]\n",
			[]string{`line 3: test.matrix.n[2]: duplicate value "1"`}},
		{"empty axis value", "test:\n  matrix:\n    n: [\"\"]\n",
			[]string{`line 3: test.matrix.n[0]: empty value`}},
		{"nested axis value", "test:\n  matrix:\n    n: [[1]]\n",
			[]string{`line 3: test.matrix.n[0]: must be a string, got a list`}},
		{"exclude unknown axis", "test:\n  matrix: {a: [1]}\n  exclude:\n    - {b: 1}\n",
			[]string{`line 4: test.exclude[0].b: unknown axis (axes: a)`}},
		{"include unknown axis, no matrix", "test:\n  include:\n    - {b: 1}\n",
			[]string{`line 3: test.include[0].b: unknown axis (the matrix has no axes)`}},
		{"include new value is fine", "test:\n  matrix: {a: [1]}\n  include: [{a: 2}]\n", nil},
		{"exclude unknown value", "test:\n  matrix: {a: [1, 2]}\n  exclude: [{a: 3}]\n",
			[]string{`line 3: test.exclude[0].a: "3" is not a value of axis a`}},
		{"duplicate suite", "test:\n  suites:\n    - {name: u, run: x}\n    - {name: u, run: y}\n",
			[]string{`line 4: test.suites[1].name: duplicate suite name "u" (first at test.suites[0])`}},
		{"suite without name and run", "test:\n  suites:\n    - workdir: /src\n",
			[]string{`line 3: test.suites[0].name: must not be empty`, `line 3: test.suites[0].run: must not be empty`}},
		{"suite empty shell run", "test:\n  suites:\n    - name: u\n      run: \"\"\n",
			[]string{`line 4: test.suites[0].run: must not be empty`}},
		{"relative report", "test:\n  suites:\n    - name: u\n      run: x\n      reports: [junit.xml]\n",
			[]string{`line 5: test.suites[0].reports[0]: "junit.xml" is not an absolute path`}},
		{"relative mountSource", "test:\n  suites:\n    - {name: u, run: x, mountSource: src}\n",
			[]string{`line 3: test.suites[0].mountSource: "src" is not an absolute path`}},
		{"unknown axis in name", "test:\n  suites:\n    - {name: \"u-${os}\", run: x}\n",
			[]string{`line 3: test.suites[0].name: ${os} is not a matrix axis (the matrix has no axes); write $${os} for a literal ${os}`}},
		{"unknown axis in exec arg", "test:\n  matrix: {os: [a]}\n  suites:\n    - name: u\n      run:\n        - echo\n        - ${o}\n",
			[]string{`line 7: test.suites[0].run[1]: ${o} is not a matrix axis (axes: os); write $${o} for a literal ${o}`}},
		{"escaped shell var", "test:\n  suites:\n    - {name: u, run: \"echo $${HOME} ${HOME:-x} $$\"}\n", nil},
		{"gate mode", "gate: {mode: lenient}\n",
			[]string{`line 1: gate.mode: "lenient" is not a gate mode (no-regression or strict)`}},
		{"gate flaky", "gate:\n  flaky: retry\n",
			[]string{`line 2: gate.flaky: "retry" is not a flaky policy (warn or fail)`}},
		{"gate baseline empty", "gate:\n  baseline: \"\"\n",
			[]string{`line 2: gate.baseline: must not be empty`}},
		{"scan mode", "scan: {mode: warn}\n",
			[]string{`line 1: scan.mode: "warn" is not a scan mode (no-new, strict or off)`}},
		{"scan severity lower case", "scan:\n  severity: [critical]\n",
			[]string{`line 2: scan.severity[0]: "critical" is not a severity (write CRITICAL): one of CRITICAL, HIGH, MEDIUM, LOW, UNKNOWN`}},
		{"scan severity with a gap", "scan:\n  severity: [CRITICAL, MEDIUM]\n",
			[]string{`line 2: scan.severity: lists MEDIUM but not HIGH: list every severity from CRITICAL down to the threshold (CRITICAL, HIGH, MEDIUM)`}},
		{"scan severity without CRITICAL", "scan: {severity: [HIGH]}\n",
			[]string{`line 1: scan.severity: lists HIGH but not CRITICAL: list every severity from CRITICAL down to the threshold (CRITICAL, HIGH)`}},
		{"scan severity in any order", "scan: {severity: [LOW, CRITICAL, MEDIUM, HIGH]}\n", nil},
		{"scan severity empty", "scan: {severity: []}\n",
			[]string{`line 1: scan.severity: must list at least one severity (e.g. [CRITICAL, HIGH])`}},
		{"scan severity duplicate", "scan: {severity: [CRITICAL, CRITICAL]}\n",
			[]string{`line 1: scan.severity[1]: duplicate severity "CRITICAL"`}},
		{"scan ignore file outside", "scan: {ignoreFile: ../.trivyignore}\n",
			[]string{`line 1: scan.ignoreFile: "../.trivyignore" is outside the repository root`}},
		{"scan no database", "scan:\n  dbRepositories: []\n",
			[]string{`line 2: scan.dbRepositories: must list at least one repository (or set scan.offline)`}},
		{"scan offline needs no repository", "scan: {offline: true, dbRepositories: [], javaDbRepositories: []}\n", nil},
		{"scan bad repository", "scan:\n  javaDbRepositories: [\"ghcr.io/A/b:1\", x:1, x:1]\n",
			[]string{
				"line 2: scan.javaDbRepositories[0]: \"ghcr.io/A/b:1\" is not a repository reference: could not parse reference: ghcr.io/A/b:1",
				`line 2: scan.javaDbRepositories[2]: duplicate repository "x:1"`,
			}},
		{"scan image by tag", "scan: {image: \"aquasec/trivy:0.69.3\"}\n",
			[]string{`line 1: scan.image: "aquasec/trivy:0.69.3" is not pinned by digest (repo@sha256:…): a digest must contain exactly one '@' separator (e.g. registry/repository@digest) saw: aquasec/trivy:0.69.3`}},
		{"ephemeral image by tag", "ephemeral:\n  image: mirror.local/library/registry:2\n",
			[]string{`line 2: ephemeral.image: "mirror.local/library/registry:2" is not pinned by digest (repo@sha256:…): a digest must contain exactly one '@' separator (e.g. registry/repository@digest) saw: mirror.local/library/registry:2`}},
		{"ephemeral image pinned", "ephemeral: {image: \"mirror.local/library/registry@sha256:a3d8aaa63ed8681a604f1dea0aa03f100d5895b6a58ace528858a7b332415373\"}\n", nil},
		{"scan unknown key", "scan: {severty: [HIGH]}\n",
			[]string{`line 1: scan.severty: unknown field (did you mean "severity"?)`}},
		{"rule without class or match", "retention:\n  rules:\n    - name: x\n      keep: 3\n",
			[]string{`line 3: retention.rules[0]: needs a class or a match`}},
		{"unknown class", "retention:\n  rules: [{class: tag}]\n",
			[]string{`line 2: retention.rules[0].class: unknown tag class "tag" (known: pr, branch, sha, semver, nightly, run, floating)`}},
		{"bad protect regexp", "retention:\n  protect: [\"^v(\"]\n",
			[]string{`line 2: retention.protect[0]: "^v(" is not a valid regular expression: missing closing )`}},
		{"keepPerMinor not semver", "retention:\n  rules: [{match: x, keepPerMinor: 2}]\n",
			[]string{`line 2: retention.rules[0].keepPerMinor: only applies to class semver`}},
		{"keep negative", "retention:\n  rules: [{class: pr, keep: -2}]\n",
			[]string{`line 2: retention.rules[0].keep: must not be negative, got -2`}},
		{"image with tag", "image: ghcr.io/acme/app:latest\n",
			[]string{`line 1: image: "ghcr.io/acme/app:latest" has a tag: give the repository only`}},
		{"image with digest", "image: ghcr.io/acme/app@sha256:abc\n",
			[]string{`line 1: image: "ghcr.io/acme/app@sha256:abc" has a digest: give the repository only`}},
		{"image upper case", "image: ghcr.io/Acme/app\n",
			[]string{"line 1: image: \"ghcr.io/Acme/app\" is not a repository: repository can only contain the characters `abcdefghijklmnopqrstuvwxyz0123456789_-./`: Acme/app"}},
		{"image with port is fine", "image: localhost:5000/app\n", nil},
		{"bad platform", "build: {platforms: [linux/amd64, \"linux/arm/v7\", amd64]}\n",
			[]string{`line 1: build.platforms[2]: "amd64" is not a platform (os/arch[/variant], e.g. linux/amd64)`}},
		{"no platform", "build: {platforms: []}\n",
			[]string{`line 1: build.platforms: must list at least one platform`}},
		{"immutable without placeholder", "tags:\n  immutable: [release]\n",
			[]string{`line 2: tags.immutable[0]: "release" has no placeholder: an immutable tag can be written only once`}},
		{"floating bad tag", "tags:\n  floating: [\".hidden\"]\n",
			[]string{`line 2: tags.floating[0]: ".hidden" is not a valid tag`}},
		{"floating reserved tag", "tags:\n  floating: [stable, slipway-publish]\n",
			[]string{`line 2: tags.floating[1]: "slipway-publish" is reserved for Slipway (slipway-lease, slipway-publish) or OCI tooling (sha256-<hex>)`}},
		{"duplicate key", "gate:\n  mode: strict\n  mode: strict\n",
			[]string{`line 3: gate.mode: duplicate key (first at line 2)`}},
		{"bool", "test: {failFast: 1}\n",
			[]string{`line 1: test.failFast: "1" is not a boolean (true or false)`}},
		{"several, in line order", "test:\n  retries: -1\n  parallelism: 0\nimagee: x\n",
			[]string{
				`line 2: test.retries: must not be negative, got -1`,
				`line 3: test.parallelism: must be at least 1, got 0`,
				`line 4: imagee: unknown field (did you mean "image"?)`,
			}},
		{"type error hides its validation", "test:\n  suites:\n    - name: u\n      run: {a: b}\n",
			[]string{`line 4: test.suites[0].run: must be a string (shell form) or a list of strings (exec form), got a mapping`}},
		{"merge of a scalar", "gate:\n  <<: strict\n",
			[]string{`line 2: gate["<<"]: must be a mapping or a list of mappings, got "strict"`}},
		{"merge into itself", "gate: &g\n  <<: *g\n",
			[]string{`line 2: gate["<<"]: merges a mapping into itself`}},
		{"non-scalar key", "gate:\n  ? [a]\n  : b\n",
			[]string{`line 2: gate: keys must be strings, got a list`}},
		{"unknown anchor", "test:\n  timeout: *t\n",
			[]string{`line 2: unknown anchor 't' referenced`}},
		{"syntax", "test:\n  matrix: {a: [1}\n",
			[]string{`line 2: did not find expected ',' or ']'`}},
		{"two documents", "image: a\n---\nimage: b\n",
			[]string{`line 2: only one YAML document is allowed`}},
		{"document is a list", "- a\n",
			[]string{`line 1: the document must be a mapping, got a list`}},
		{"document is a scalar", "hello\n",
			[]string{`line 1: the document must be a mapping, got "hello"`}},
		{"newline in value stays on one line", "gate: {mode: \"a\\nb\"}\n",
			[]string{`line 1: gate.mode: "a\nb" is not a gate mode (no-regression or strict)`}},
	}
	checkLoadErrors(t, tests)
}

// loadErrorCase is a document and the errors Load must return for it, one
// a line (none: it loads).
type loadErrorCase struct {
	name, doc string
	want      []string
}

func checkLoadErrors(t *testing.T, tests []loadErrorCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := Load(strings.NewReader(tt.doc))
			var got []string
			if err != nil {
				got = strings.Split(err.Error(), "\n")
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("errors:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(tt.want, "\n"))
			}
		})
	}
}

func TestEmptyIsDefault(t *testing.T) {
	t.Parallel()
	for _, doc := range []string{"", "\n", "# just a comment\n", "---\n", "~\n", "version: 1\n", "build:\ntest:\ngate: ~\n"} {
		cfg := load(t, doc)
		if want := Default(); !reflect.DeepEqual(*cfg, want) {
			t.Errorf("Load(%q) =\n%+v\nwant Default():\n%+v", doc, *cfg, want)
		}
	}
}

// TestDefaults pins every documented default (types.go comments, DESIGN §3).
func TestDefaults(t *testing.T) {
	t.Parallel()
	d := Default()
	checks := []struct {
		name      string
		got, want any
	}{
		{"version", d.Version, 1},
		{"image", d.Image, ""},
		{"build.dockerfile", d.Build.Dockerfile, "Dockerfile"},
		{"build.context", d.Build.Context, "."},
		{"build.target", d.Build.Target, ""},
		{"build.platforms", d.Build.Platforms, []string{"linux/amd64"}},
		{"test.parallelism", d.Test.Parallelism, 8},
		{"test.failFast", d.Test.FailFast, false},
		{"test.timeout", d.Test.Timeout.Std(), 20 * time.Minute},
		{"test.retries", d.Test.Retries, 1},
		{"gate.mode", d.Gate.Mode, "no-regression"},
		{"gate.baseline", d.Gate.Baseline, "stable"},
		{"gate.flaky", d.Gate.Flaky, "warn"},
		{"gate.allowDropped", d.Gate.AllowDropped, false},
		{"scan.mode", d.Scan.Mode, "no-new"},
		{"scan.severity", d.Scan.Severity, []string{"CRITICAL", "HIGH"}},
		{"scan.ignoreUnfixed", d.Scan.IgnoreUnfixed, false},
		{"scan.ignoreFile", d.Scan.IgnoreFile, ""},
		{"scan.dbRepositories", d.Scan.DBRepositories, []string{"ghcr.io/aquasecurity/trivy-db:2", "public.ecr.aws/aquasecurity/trivy-db:2", "mirror.gcr.io/aquasec/trivy-db:2"}},
		{"scan.javaDbRepositories", d.Scan.JavaDBRepositories, []string{"ghcr.io/aquasecurity/trivy-java-db:1", "public.ecr.aws/aquasecurity/trivy-java-db:1", "mirror.gcr.io/aquasec/trivy-java-db:1"}},
		{"scan.image", d.Scan.Image, ""},
		{"ephemeral.image", d.Ephemeral.Image, ""},
		{"ephemeral.project", d.Ephemeral.Project, ""},
		{"scan.offline", d.Scan.Offline, false},
		{"tags.immutable", d.Tags.Immutable, []string{"sha-{sha7}", "pr-{pr}-{sha7}", "{branch}-{sha7}"}},
		{"tags.floating", d.Tags.Floating, []string{"stable"}},
		{"retention.minAge", d.Retention.MinAge.Std(), 48 * time.Hour},
		{"retention.protect", d.Retention.Protect, []string{`^latest$`, `^stable$`, `^dev$`, `^cache$`, `^v?\d+\.\d+\.\d+$`}},
		{"retention.untagged.olderThan", d.Retention.Untagged.OlderThan.Std(), 24 * time.Hour},
	}
	for _, c := range checks {
		if !reflect.DeepEqual(c.got, c.want) {
			t.Errorf("%s = %#v, want %#v", c.name, c.got, c.want)
		}
	}
	if err := d.Validate(); err != nil {
		t.Errorf("Default().Validate(): %v", err)
	}
	// Fresh slices: a caller's edit does not leak into the next Default.
	d.Tags.Floating[0] = "changed"
	if Default().Tags.Floating[0] != "stable" {
		t.Error("Default shares its slices")
	}
}

func TestExplicitZero(t *testing.T) {
	t.Parallel()
	cfg := load(t, `
test:
  retries: 0
  failFast: false
  parallelism: 1
tags:
  floating: []
retention:
  minAge: 0s
  protect: []
  untagged: {olderThan: 0s}
`)
	if cfg.Test.Retries != 0 || cfg.Test.FailFast || cfg.Test.Parallelism != 1 {
		t.Errorf("test = %+v", cfg.Test)
	}
	if cfg.Tags.Floating == nil || len(cfg.Tags.Floating) != 0 {
		t.Errorf("floating = %#v, want empty", cfg.Tags.Floating)
	}
	if len(cfg.Retention.Protect) != 0 || cfg.Retention.MinAge != 0 || cfg.Retention.Untagged.OlderThan != 0 {
		t.Errorf("retention = %+v", cfg.Retention)
	}
	// Untouched siblings keep their defaults.
	if cfg.Test.Timeout.Std() != 20*time.Minute || !reflect.DeepEqual(cfg.Tags.Immutable, Default().Tags.Immutable) {
		t.Errorf("defaults lost: %+v %+v", cfg.Test, cfg.Tags)
	}
	// true overrides a false default; null is "not set".
	cfg = load(t, "test: {failFast: true, retries: ~}\ngate: {allowDropped: true}\n")
	if !cfg.Test.FailFast || !cfg.Gate.AllowDropped || cfg.Test.Retries != 1 {
		t.Errorf("got %+v %+v", cfg.Test, cfg.Gate)
	}
}

func TestFullValues(t *testing.T) {
	t.Parallel()
	cfg, err := LoadFile("testdata/full.yaml")
	if err != nil {
		t.Fatal(err)
	}
	want := Matrix{{"shard", []string{"1", "2", "3", "4"}}, {"browser", []string{"chromium", "firefox"}}}
	if !reflect.DeepEqual(cfg.Test.Matrix, want) {
		t.Errorf("matrix = %#v", cfg.Test.Matrix)
	}
	if got := cfg.Test.Exclude; !reflect.DeepEqual(got, []map[string]string{{"shard": "4", "browser": "firefox"}}) {
		t.Errorf("exclude = %#v", got)
	}
	if got := cfg.Build.Args["CGO_ENABLED"]; got != "0" {
		t.Errorf("args = %#v", cfg.Build.Args)
	}
	unit, e2e := cfg.Test.Suites[0], cfg.Test.Suites[1]
	if !reflect.DeepEqual(unit.Run, Command{Args: []string{"go", "test", "-race", "./..."}}) {
		t.Errorf("unit run = %#v", unit.Run)
	}
	if e2e.Run.Args != nil || !strings.HasPrefix(e2e.Run.Shell, "npx playwright test") {
		t.Errorf("e2e run = %#v", e2e.Run)
	}
	if got := e2e.Axes(cfg.Test.Matrix).Names(); !reflect.DeepEqual(got, []string{"shard", "browser"}) {
		t.Errorf("e2e axes = %v", got)
	}
	if got := unit.Axes(cfg.Test.Matrix); got != nil {
		t.Errorf("unit axes = %v", got)
	}
	// "\\d" in a double-quoted YAML string is the regexp \d.
	semver := regexp.MustCompile(cfg.Retention.Protect[4])
	if !semver.MatchString("v1.2.3") || semver.MatchString(`v1\.2\.3`) {
		t.Errorf("protect[4] = %q", cfg.Retention.Protect[4])
	}
	r := cfg.Retention.Rules[3]
	if r.Keep != 30 || r.OlderThan.Std() != 30*24*time.Hour || r.Class != "sha" {
		t.Errorf("rule = %+v", r)
	}
}

// TestFullHasEveryField keeps testdata/full.yaml (the README example)
// complete: every field of every struct is written at least once. The
// Two sections exclude what full.yaml sets, so their fields (and only
// those) are written in README's recipes instead: images (it replaces
// image and build) in testdata/images.yaml, and build.buildpacks (it
// excludes build.target and a second platform) in testdata/buildpacks.yaml.
func TestFullHasEveryField(t *testing.T) {
	t.Parallel()
	seen := fieldsSet(t, "testdata/full.yaml")
	alts := []struct {
		file string
		set  map[string]bool
		owns func(typ reflect.Type, key string) bool
	}{
		{"testdata/images.yaml", fieldsSet(t, "testdata/images.yaml"), func(typ reflect.Type, key string) bool {
			return typ == reflect.TypeFor[Image]() || key == "Config.images"
		}},
		{"testdata/buildpacks.yaml", fieldsSet(t, "testdata/buildpacks.yaml"), func(typ reflect.Type, key string) bool {
			return typ == reflect.TypeFor[Buildpacks]() || key == "Build.buildpacks"
		}},
	}
	for _, typ := range structTypes(reflect.TypeFor[Config]()) {
		for name := range fieldsOf(typ) {
			key := typ.Name() + "." + name
			if seen[key] {
				continue
			}
			owned := false
			for _, a := range alts {
				if a.owns(typ, key) {
					owned = true
					if !a.set[key] {
						t.Errorf("%s does not set %s", a.file, key)
					}
				}
			}
			if !owned {
				t.Errorf("testdata/full.yaml does not set %s", key)
			}
		}
	}
}

// fieldsSet lists the struct fields (Type.key) a config file writes.
func fieldsSet(t *testing.T, file string) map[string]bool {
	t.Helper()
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	var walk func(n *yaml.Node, typ reflect.Type)
	walk = func(n *yaml.Node, typ reflect.Type) {
		n = resolve(n)
		switch {
		case typ.Kind() == reflect.Slice && typ.Elem().Kind() == reflect.Struct && n.Kind == yaml.SequenceNode:
			for _, item := range n.Content {
				walk(item, typ.Elem())
			}
		case typ.Kind() == reflect.Struct && typ != commandType && n.Kind == yaml.MappingNode:
			fields := fieldsOf(typ)
			for i := 0; i+1 < len(n.Content); i += 2 {
				if idx, ok := fields[n.Content[i].Value]; ok {
					seen[typ.Name()+"."+n.Content[i].Value] = true
					walk(n.Content[i+1], typ.Field(idx).Type)
				}
			}
		}
	}
	walk(doc.Content[0], reflect.TypeFor[Config]())
	return seen
}

// structTypes lists the struct types reachable from t that map to YAML
// mappings (not the custom-decoded ones).
func structTypes(t reflect.Type) []reflect.Type {
	var out []reflect.Type
	var visit func(t reflect.Type)
	visit = func(t reflect.Type) {
		switch {
		case t == durationType || t == matrixType || t == commandType:
		case t.Kind() == reflect.Slice || t.Kind() == reflect.Map:
			visit(t.Elem())
		case t.Kind() == reflect.Struct:
			out = append(out, t)
			for i := range t.NumField() {
				if yamlName(t.Field(i)) != "" {
					visit(t.Field(i).Type)
				}
			}
		}
	}
	visit(t)
	return out
}

func TestAnchors(t *testing.T) {
	t.Parallel()
	cfg, err := LoadFile("testdata/anchors.yaml")
	if err != nil {
		t.Fatal(err)
	}
	race := cfg.Test.Suites[1]
	if race.Name != "race-${go}" || race.Run.Args[2] != "-race" || !reflect.DeepEqual(race.Reports, []string{"/out/junit.xml"}) {
		t.Errorf("race = %+v", race)
	}
	if want := map[string]string{"GOTOOLCHAIN": "go${go}.0", "CGO_ENABLED": "1"}; !reflect.DeepEqual(race.Env, want) {
		t.Errorf("race env = %v", race.Env)
	}
	if cfg.Test.Suites[0].Env["CGO_ENABLED"] != "0" {
		t.Errorf("the anchor changed: %v", cfg.Test.Suites[0].Env)
	}
}

// TestAliasExpansionIsBounded: a "billion laughs" document fails fast.
func TestAliasExpansionIsBounded(t *testing.T) {
	t.Parallel()
	var b strings.Builder
	b.WriteString("x0: &x0 {GOFLAGS: a, B: b, C: c, D: d}\n")
	for i := 1; i <= 30; i++ {
		b.WriteString("x" + itoa(i) + ": &x" + itoa(i) + " {<<: [")
		for j := range 8 {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("*x" + itoa(i-1))
		}
		b.WriteString("]}\n")
	}
	b.WriteString("build:\n  args: *x30\n")
	start := time.Now()
	_, err := Load(strings.NewReader(b.String()))
	if err == nil || time.Since(start) > 5*time.Second {
		t.Fatalf("err = %v after %v", err, time.Since(start))
	}
	if !strings.Contains(err.Error(), "values once aliases are expanded") {
		t.Errorf("err = %v", err)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestTooLarge(t *testing.T) {
	t.Parallel()
	_, err := Load(strings.NewReader("# " + strings.Repeat("x", MaxSize) + "\n"))
	if err == nil || err.Error() != "larger than 1048576 bytes" {
		t.Errorf("err = %v", err)
	}
}

func TestLoadFile(t *testing.T) {
	t.Parallel()
	_, err := LoadFile(filepath.Join(t.TempDir(), "slipway.yaml"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("missing file: %v, want fs.ErrNotExist", err)
	}

	path := filepath.Join(t.TempDir(), "slipway.yaml")
	if err := os.WriteFile(path, []byte("test:\n  retries: -1\n  paralelism: 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = LoadFile(path)
	want := path + ":2: test.retries: must not be negative, got -1\n" +
		path + `:3: test.paralelism: unknown field (did you mean "parallelism"?)`
	if err == nil || err.Error() != want {
		t.Errorf("err =\n%v\nwant\n%s", err, want)
	}
}

func TestErrorsAs(t *testing.T) {
	t.Parallel()
	_, err := Load(strings.NewReader("test: {parallelism: 0, retries: -1}\n"))
	var errs Errors
	if !errors.As(err, &errs) || len(errs) != 2 {
		t.Fatalf("errors.As(Errors): %v", err)
	}
	var fe *FieldError
	if !errors.As(err, &fe) {
		t.Fatalf("errors.As(*FieldError): %v", err)
	}
	if *fe != (FieldError{Line: 1, Path: "test.parallelism", Msg: "must be at least 1, got 0"}) {
		t.Errorf("first = %+v", *fe)
	}
}

func TestFieldErrorFormat(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		e    FieldError
		want string
	}{
		{FieldError{File: "slipway.yaml", Line: 31, Path: "a.b", Msg: "bad"}, "slipway.yaml:31: a.b: bad"},
		{FieldError{File: "slipway.yaml", Msg: "too big"}, "slipway.yaml: too big"},
		{FieldError{Line: 3, Msg: "syntax"}, "line 3: syntax"},
		{FieldError{Path: "gate.mode", Msg: "bad"}, "gate.mode: bad"},
		{FieldError{Path: "x", Msg: "a\nb"}, `x: a\nb`},
	} {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("%+v: %q, want %q", tt.e, got, tt.want)
		}
	}
}

func TestValidateWithoutLines(t *testing.T) {
	t.Parallel()
	cfg := Default()
	cfg.Test.Parallelism = 0
	cfg.Test.Matrix = Matrix{{Name: "os", Values: []string{"linux"}}, {Name: "os", Values: []string{"mac"}}}
	cfg.Retention.MinAge = -1
	err := cfg.Validate()
	want := "test.parallelism: must be at least 1, got 0\n" +
		"test.matrix.os: duplicate axis\n" +
		"retention.minAge: must not be negative, got -1ns"
	if err == nil || err.Error() != want {
		t.Errorf("Validate:\n%v\nwant:\n%s", err, want)
	}
	var zero Config
	if zero.Validate() == nil {
		t.Error("the zero Config validates")
	}
}

// TestRoundTrip: a loaded config written back as YAML loads to the same.
func TestRoundTrip(t *testing.T) {
	t.Parallel()
	for _, f := range goodFiles(t) {
		t.Run(filepath.Base(f), func(t *testing.T) {
			cfg, err := LoadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			roundTrip(t, cfg)
		})
	}
}

func roundTrip(t testing.TB, cfg *Config) {
	t.Helper()
	out, err := yaml.Marshal(cfg)
	if err != nil {
		t.Fatalf("Marshal: %v", err)
	}
	again, err := Load(strings.NewReader(string(out)))
	if err != nil {
		t.Fatalf("reloading:\n%v\nof:\n%s", err, out)
	}
	if !reflect.DeepEqual(cfg, again) {
		t.Fatalf("round trip changed the config:\n%#v\n%#v\nvia:\n%s", cfg, again, out)
	}
}
