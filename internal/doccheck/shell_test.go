package doccheck

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
)

func TestExtractCommands(t *testing.T) {
	tests := []struct {
		name   string
		script string
		want   []string // "tool@line: args"
	}{
		{
			name:   "continuations",
			script: "dagger call \\\n  --revision abc \\\n  ci",
			want:   []string{"dagger@1: call --revision abc ci"},
		},
		{
			name:   "github expressions with spaces",
			script: `dagger call --revision ${{ github.event.pull_request.head.sha || github.sha }} --pr "${{ github.event.pull_request.number || 0 }}" ci`,
			want:   []string{"dagger@1: call --revision EXPR --pr EXPR ci"},
		},
		{
			name:   "circleci parameters",
			script: `dagger call --run-id "<< pipeline.number >>" ci`,
			want:   []string{"dagger@1: call --run-id EXPR ci"},
		},
		{
			name:   "quotes and equals",
			script: `slipway promote "$SRC" --to 'ghcr.io/a/b' --tag=sha-"${REV:0:7}" --expect none`,
			want:   []string{"slipway@1: promote $SRC --to ghcr.io/a/b --tag=sha-${REV:0:7} --expect none"},
		},
		{
			name:   "lists, pipes, redirections",
			script: "set -e; slipway gate --candidate a.json --format md >gate.md 2>&1 | tee x && dagger call ci >>\"$GITHUB_STEP_SUMMARY\" || status=$?",
			want:   []string{"slipway@1: gate --candidate a.json --format md", "dagger@1: call ci"},
		},
		{
			name:   "stderr swap idiom",
			script: `dagger call ci markdown 2>&1 >summary.md | tee err.log >&2 || status=$?`,
			want:   []string{"dagger@1: call ci markdown"},
		},
		{
			name:   "comments",
			script: "# dagger call nope\nslipway version # slipway tags --nope\necho '# dagger call quoted'",
			want:   []string{"slipway@2: version"},
		},
		{
			name:   "command substitution",
			script: "digest=$(dagger call verify --ref \"$REF\")\necho \"$(slipway version)\"",
			want:   []string{"dagger@1: call verify --ref $REF", "slipway@2: version"},
		},
		{
			name:   "case patterns and env prefixes",
			script: "case \"$F\" in\n  ci)\n    DAGGER_CLOUD_TOKEN=x dagger call ci\n    ;;\n  *) exit 2 ;;\nesac",
			want:   []string{"dagger@3: call ci"},
		},
		{
			name:   "if and go run",
			script: "if go run ./cmd/slipway tags --format json; then :; fi",
			want:   []string{"slipway@1: tags --format json"},
		},
		{
			name:   "not at command position",
			script: "echo slipway gate\ngo install github.com/slipway-ci/slipway/cmd/slipway@v1.0.0\ncommand -v dagger",
			want:   nil,
		},
		{
			name:   "paths to the binaries",
			script: "./bin/slipway version\n\"$HOME/bin/dagger\" version",
			want:   []string{"slipway@1: version", "dagger@2: version"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := render(ExtractCommands(tt.script, 1))
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

// render shows invocations as "tool@line: args".
func render(invs []Invocation) []string {
	var out []string
	for _, inv := range invs {
		out = append(out, fmt.Sprintf("%s@%d: %s", inv.Tool, inv.Line, strings.Join(inv.Args, " ")))
	}
	return out
}

func TestFromYAMLRunScripts(t *testing.T) {
	doc := `jobs:
  a:
    steps:
      - name: slipway gate (a name, not a command)
        run: |
          set -euo pipefail
          dagger -m "$MOD" call \
            --revision "${{ github.sha }}" \
            test --shard ${{ matrix.shard }}/4 \
            json >report.json
      - run: slipway version
  circle:
    steps:
      - run:
          name: prune
          command: |
            dagger call prune --confirm=<< pipeline.parameters.confirm >>
`
	invs, err := FromYAML([]byte(doc), 0)
	if err != nil {
		t.Fatal(err)
	}
	got := render(invs)
	want := []string{
		"dagger@7: -m $MOD call --revision EXPR test --shard EXPR/4 json",
		"slipway@11: version",
		"dagger@17: call prune --confirm=EXPR",
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

func TestFromMarkdown(t *testing.T) {
	md := "# Title\n\nRun `dagger call ci` or `slipway tags --format json`; not `dagger`.\n\n" +
		"```sh\n$ slipway version\n```\n\n" +
		"```yaml\nsteps:\n  - run: dagger call build\n```\n\n" +
		"```go\nslipway(\"not shell\")\n```\n"
	invs, err := FromMarkdown([]byte(md))
	if err != nil {
		t.Fatal(err)
	}
	got := render(invs)
	want := []string{"dagger@3: call ci", "slipway@3: tags --format json", "slipway@6: version", "dagger@11: call build"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got  %q\nwant %q", got, want)
	}
}

func TestParseFlagDefaults(t *testing.T) {
	help := "usage: slipway prune REPO [flags]\n\nplan or apply registry retention\n\nflags:\n" +
		"  -apply string\n    \tapply exactly this reviewed plan\n" +
		"  -confirm\n    \tapply a fresh plan\n" +
		"  -f\tshort bool\n" +
		"  -in-use value\n    \tfile of refs in use (repeatable)\n" +
		"  -format string\n    \ttable or json (default \"table\")\n"
	got := ParseFlagDefaults(help)
	want := map[string]bool{"apply": true, "confirm": false, "f": false, "in-use": true, "format": true}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("got %v, want %v", got, want)
	}
}

func TestIsElision(t *testing.T) {
	for w, want := range map[string]bool{
		"…": true, "...": true, "${secrets[@]}": true, "${signing[@]}": true,
		"${secrets[0]}": false, "$secrets": false, "--secret": false, "ci": false, "${x[@]}y": false,
	} {
		if got := isElision(w); got != want {
			t.Errorf("isElision(%q) = %v, want %v", w, got, want)
		}
	}
}
