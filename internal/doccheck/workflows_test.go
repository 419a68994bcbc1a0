package doccheck

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// headSHA is the revision of a run: the PR head commit on pull requests
// (not the synthetic merge commit), else the commit of the event.
const headSHA = "${{ github.event.pull_request.head.sha || github.sha }}"

type yamlDoc struct {
	file string
	node yaml.Node
	m    map[string]any
}

func loadYAML(t *testing.T, rel string) *yamlDoc {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(repoRoot(t), rel))
	if err != nil {
		t.Fatal(err)
	}
	d := &yamlDoc{file: rel}
	if err := yaml.Unmarshal(data, &d.node); err != nil {
		t.Fatalf("%s does not parse: %v", rel, err)
	}
	if err := yaml.Unmarshal(data, &d.m); err != nil {
		t.Fatalf("%s does not parse: %v", rel, err)
	}
	return d
}

func mapAt(v any, path ...string) map[string]any {
	for _, p := range path {
		m, _ := v.(map[string]any)
		v = m[p]
	}
	m, _ := v.(map[string]any)
	return m
}

func listAt(v any, path ...string) []any {
	for _, p := range path[:len(path)-1] {
		m, _ := v.(map[string]any)
		v = m[p]
	}
	m, _ := v.(map[string]any)
	l, _ := m[path[len(path)-1]].([]any)
	return l
}

func str(v any) string {
	if v == nil {
		return ""
	}
	return fmt.Sprint(v)
}

var (
	pinnedAction = regexp.MustCompile(`^[A-Za-z0-9_.-]+/[A-Za-z0-9_./-]+@[0-9a-f]{40}$`)
	versionNote  = regexp.MustCompile(`^# v\d+\.\d+\.\d+$`)
)

// usesNodes finds every `uses:` value node (steps and reusable calls).
func usesNodes(n *yaml.Node) []*yaml.Node {
	var out []*yaml.Node
	if n.Kind == yaml.MappingNode {
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == "uses" && n.Content[i+1].Kind == yaml.ScalarNode {
				out = append(out, n.Content[i+1])
			}
		}
	}
	for _, c := range n.Content {
		out = append(out, usesNodes(c)...)
	}
	return out
}

// scripts is the text of a job's run: steps.
func scripts(job map[string]any) []string {
	var out []string
	for _, s := range listAt(job, "steps") {
		if r := str(mapAt(s)["run"]); r != "" {
			out = append(out, r)
		}
	}
	return out
}

// mutates reports whether a job publishes, promotes, deletes images or
// moves a tag back.
func mutates(job map[string]any) bool {
	if f := str(mapAt(job, "with")["function"]); f == "ci" || f == "promote" || f == "prune" {
		return true
	}
	for _, s := range scripts(job) {
		for _, inv := range ExtractCommands(s, 1) {
			for i, a := range inv.Args {
				switch {
				case inv.Tool == "dagger" && slices.Contains([]string{"ci", "promote", "prune", "publish", "rollback"}, a):
					return true
				case inv.Tool == "slipway" && i == 0 && (a == "promote" || a == "prune" || a == "rollback"):
					return true
				}
			}
		}
	}
	return false
}

var githubWorkflows = []string{"slipway.yml", "one-runner.yml", "sharded.yml", "prune.yml"}

// TestGitHubWorkflowsPolicy checks what actionlint does not: pinned
// actions, least privilege, timeouts, concurrency, the revision.
func TestGitHubWorkflowsPolicy(t *testing.T) {
	dir := filepath.Join("ci", "github", "workflows")
	entries, err := os.ReadDir(filepath.Join(repoRoot(t), dir))
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	for _, e := range entries {
		found = append(found, e.Name())
	}
	for _, want := range githubWorkflows {
		if !slices.Contains(found, want) {
			t.Errorf("%s/%s is missing", dir, want)
		}
	}
	for _, name := range found {
		t.Run(name, func(t *testing.T) {
			d := loadYAML(t, filepath.ToSlash(filepath.Join(dir, name)))
			for _, p := range workflowProblems(d) {
				t.Error(p)
			}
		})
	}
}

// workflowProblems lists how a workflow breaks the wrappers' policy.
func workflowProblems(d *yamlDoc) []string {
	var probs []string
	errorf := func(format string, args ...any) { probs = append(probs, fmt.Sprintf(format, args...)) }
	if d.m["name"] == nil || d.m["on"] == nil {
		errorf("%s: needs name and on", d.file)
	}
	perms, ok := d.m["permissions"]
	if !ok {
		errorf("%s: no top-level permissions (want {} or read-only)", d.file)
	}
	if s, ok := perms.(string); ok && s != "read-all" {
		errorf("%s: top-level permissions: %s; want {} or read-only, writes granted per job", d.file, s)
	}
	for k, v := range mapAt(perms) {
		if v != "read" && v != "none" {
			errorf("%s: top-level permission %s: %v; grant writes per job", d.file, k, v)
		}
	}
	for _, n := range usesNodes(&d.node) {
		if strings.HasPrefix(n.Value, "./") {
			continue
		}
		if !pinnedAction.MatchString(n.Value) {
			errorf("%s:%d: %s is not pinned by a full commit SHA", d.file, n.Line, n.Value)
		}
		if !versionNote.MatchString(n.LineComment) {
			errorf("%s:%d: %s has no `# vX.Y.Z` comment naming the pinned release (got %q)", d.file, n.Line, n.Value, n.LineComment)
		}
	}
	on := mapAt(d.m, "on")
	_, pr := on["pull_request"]
	_, push := on["push"]
	_, reusable := on["workflow_call"]
	topGroup := str(mapAt(d.m, "concurrency")["group"])
	summary := false
	jobs := mapAt(d.m, "jobs")
	if len(jobs) == 0 {
		errorf("%s: no jobs", d.file)
	}
	for name, j := range jobs {
		job := mapAt(j)
		where := d.file + ": job " + name
		jp, ok := job["permissions"]
		if !ok {
			errorf("%s: no permissions of its own", where)
		}
		if s, ok := jp.(string); ok && s != "read-all" {
			errorf("%s: permissions: %s; grant each scope it needs, read unless it must write", where, s)
		}
		for k, v := range mapAt(jp) {
			switch {
			case k == "packages" && v == "write":
				if !mutates(job) {
					errorf("%s: packages: write, but it neither publishes, promotes nor prunes", where)
				}
			case v != "read" && v != "none":
				errorf("%s: permission %s: %v; only packages may be written", where, k, v)
			}
		}
		if job["uses"] != nil {
			if job["timeout-minutes"] != nil {
				errorf("%s: a reusable workflow call cannot take timeout-minutes", where)
			}
			continue // the called workflow's jobs carry the timeout
		}
		if job["timeout-minutes"] == nil {
			errorf("%s: no timeout-minutes", where)
		}
		group := topGroup
		if g := str(mapAt(job, "concurrency")["group"]); g != "" {
			group = g
		}
		if group == "" {
			errorf("%s: no concurrency group (workflow or job)", where)
		} else if !strings.Contains(group, "github.ref") {
			errorf("%s: concurrency group %q is not keyed by github.ref", where, group)
		}
		for _, s := range listAt(job, "steps") {
			step := mapAt(s)
			if strings.HasPrefix(str(step["uses"]), "actions/checkout@") {
				if ref := str(mapAt(step, "with")["ref"]); ref != headSHA {
					errorf("%s: checkout of %q, want the PR head commit %s", where, ref, headSHA)
				}
				if str(mapAt(step, "with")["persist-credentials"]) != "false" {
					errorf("%s: checkout keeps the token in .git (want persist-credentials: false)", where)
				}
			}
			if rev, ok := mapAt(step, "env")["REVISION"]; ok && rev != headSHA {
				errorf("%s: REVISION is %q, want %s", where, rev, headSHA)
			}
			if strings.Contains(str(step["run"]), "$GITHUB_STEP_SUMMARY") {
				summary = true
			}
		}
	}
	if (pr || push || reusable) && topGroup != "" && !strings.Contains(topGroup, headSHA[4:len(headSHA)-3]) {
		errorf("%s: concurrency group %q is not keyed by the commit (%s)", d.file, topGroup, headSHA)
	}
	calls := false
	for _, j := range jobs {
		calls = calls || mapAt(j)["uses"] != nil
	}
	if !calls && !summary {
		errorf("%s: no step appends the report to $GITHUB_STEP_SUMMARY", d.file)
	}
	return probs
}

// TestGitHubWorkflowShapes checks that each wrapper does its job: the
// reusable workflow's typed interface, (a), (b) and (c).
func TestGitHubWorkflowShapes(t *testing.T) {
	dir := "ci/github/workflows/"
	engine := engineVersion(t)

	reusable := loadYAML(t, dir+"slipway.yml")
	call := mapAt(reusable.m, "on", "workflow_call")
	if call == nil {
		t.Fatal("slipway.yml is not a reusable workflow (on: workflow_call)")
	}
	inputs := mapAt(call, "inputs")
	for _, want := range []string{"function", "dry-run", "module", "dagger-version"} {
		if inputs[want] == nil {
			t.Errorf("slipway.yml: no input %q", want)
		}
	}
	for name, in := range inputs {
		typ := str(mapAt(in)["type"])
		if typ != "string" && typ != "boolean" && typ != "number" {
			t.Errorf("slipway.yml: input %s has type %q", name, typ)
		}
		if str(mapAt(in)["description"]) == "" {
			t.Errorf("slipway.yml: input %s has no description", name)
		}
	}
	if got := str(mapAt(inputs, "dagger-version")["default"]); got != engine {
		t.Errorf("slipway.yml: dagger-version defaults to %q, dagger.json says %s", got, engine)
	}
	if mapAt(call, "secrets")["registry-password"] == nil {
		t.Error("slipway.yml: no registry-password secret")
	}
	for _, j := range mapAt(reusable.m, "jobs") {
		if g := str(mapAt(j, "concurrency")["group"]); !strings.Contains(g, "github.sha") {
			t.Errorf("slipway.yml: job concurrency %q is not keyed by the commit", g)
		}
	}

	// (a) on pull requests and pushes, the reusable workflow's ci.
	one := loadYAML(t, dir+"one-runner.yml")
	on := mapAt(one.m, "on")
	if _, ok := on["pull_request"]; !ok {
		t.Error("one-runner.yml: does not run on pull_request")
	}
	if _, ok := on["push"]; !ok {
		t.Error("one-runner.yml: does not run on push")
	}
	checkCaller(t, one, "ci")

	// (c) weekly, dry run unless a dispatch input confirms.
	prune := loadYAML(t, dir+"prune.yml")
	crons := listAt(prune.m, "on", "schedule")
	if len(crons) != 1 {
		t.Fatalf("prune.yml: want one schedule, got %v", crons)
	}
	f := strings.Fields(str(mapAt(crons[0])["cron"]))
	if len(f) != 5 || f[2] != "*" || f[3] != "*" || f[4] == "*" {
		t.Errorf("prune.yml: cron %v is not weekly", f)
	}
	confirm := mapAt(prune.m, "on", "workflow_dispatch", "inputs", "confirm")
	if str(confirm["type"]) != "boolean" || str(confirm["default"]) != "false" {
		t.Errorf("prune.yml: workflow_dispatch input confirm must be a boolean defaulting to false, got %v", confirm)
	}
	job := checkCaller(t, prune, "prune")
	if dry := str(mapAt(job, "with")["dry-run"]); !strings.Contains(dry, "inputs.confirm") || !strings.Contains(dry, "workflow_dispatch") {
		t.Errorf("prune.yml: dry-run %q must be true unless a workflow_dispatch confirms", dry)
	}

	// (b) build once, N test shards on the digest, one gate-and-promote job.
	sh := loadYAML(t, dir+"sharded.yml")
	if got := str(mapAt(sh.m, "env")["DAGGER_VERSION"]); got != engine {
		t.Errorf("sharded.yml: DAGGER_VERSION %q, dagger.json says %s", got, engine)
	}
	var sawPublish, sawTest, sawUpload, sawGate, sawPromote bool
	for name, j := range mapAt(sh.m, "jobs") {
		job := mapAt(j)
		for _, s := range listAt(job, "steps") {
			if strings.HasPrefix(str(mapAt(s)["uses"]), "actions/upload-artifact@") {
				sawUpload = true
			}
		}
		for _, s := range scripts(job) {
			for _, inv := range ExtractCommands(s, 1) {
				args := " " + strings.Join(inv.Args, " ") + " "
				switch {
				case inv.Tool == "dagger" && strings.Contains(args, " build ") && strings.Contains(args, " publish "):
					sawPublish = true
				case inv.Tool == "dagger" && strings.Contains(args, " test --ref ") && strings.Contains(args, " --shard "):
					sawTest = true
					if len(listAt(job, "strategy", "matrix", "shard")) < 2 {
						t.Errorf("sharded.yml: job %s tests shards without a shard matrix", name)
					}
				case inv.Tool == "slipway" && inv.Args[0] == "gate":
					sawGate = true
				case inv.Tool == "slipway" && inv.Args[0] == "promote":
					sawPromote = true
					if !strings.Contains(args, " --expect ") {
						t.Errorf("sharded.yml: promote without --expect (the baseline guard)")
					}
				}
			}
		}
	}
	for what, ok := range map[string]bool{"build publish": sawPublish, "test --ref --shard": sawTest,
		"upload-artifact": sawUpload, "slipway gate": sawGate, "slipway promote": sawPromote} {
		if !ok {
			t.Errorf("sharded.yml: no %s", what)
		}
	}
}

// checkCaller checks a workflow whose one job calls the reusable workflow
// with the given function, and returns that job.
func checkCaller(t *testing.T, d *yamlDoc, function string) map[string]any {
	t.Helper()
	jobs := mapAt(d.m, "jobs")
	if len(jobs) != 1 {
		t.Fatalf("%s: want one job, got %d", d.file, len(jobs))
	}
	for _, j := range jobs {
		job := mapAt(j)
		if u := str(job["uses"]); u != "./.github/workflows/slipway.yml" {
			t.Errorf("%s: calls %q, want ./.github/workflows/slipway.yml", d.file, u)
		}
		if f := str(mapAt(job, "with")["function"]); f != function {
			t.Errorf("%s: function %q, want %q", d.file, f, function)
		}
		if mapAt(job, "secrets")["registry-password"] == nil {
			t.Errorf("%s: passes no registry-password", d.file)
		}
		return job
	}
	return nil
}

// TestCircleCIConfig checks ci/circleci/config.yml: (a) and (c), the Dagger
// CLI pinned, credentials from a context, no-output timeouts.
func TestCircleCIConfig(t *testing.T) {
	d := loadYAML(t, "ci/circleci/config.yml")
	engine := engineVersion(t)
	if str(d.m["version"]) != "2.1" {
		t.Errorf("version %v, want 2.1", d.m["version"])
	}
	if got := str(mapAt(d.m, "parameters", "dagger-version")["default"]); got != engine {
		t.Errorf("parameter dagger-version defaults to %q, dagger.json says %s", got, engine)
	}
	if got := str(mapAt(d.m, "parameters", "confirm-prune")["default"]); got != "false" {
		t.Errorf("confirm-prune defaults to %q: prune must be a dry run unless confirmed", got)
	}
	install := fmt.Sprint(mapAt(d.m, "commands", "install-dagger"))
	if !strings.Contains(install, `DAGGER_VERSION="<< pipeline.parameters.dagger-version >>"`) {
		t.Error("install-dagger does not pin DAGGER_VERSION to the dagger-version parameter")
	}
	for name, e := range mapAt(d.m, "executors") {
		img := str(mapAt(e, "machine")["image"])
		if !regexp.MustCompile(`^ubuntu-\d{4}:\d{4}\.\d{2}\.\d+$`).MatchString(img) {
			t.Errorf("executor %s: machine image %q is not pinned to a release", name, img)
		}
	}
	// Each workflow runs its job with the registry context.
	for wf, job := range map[string]string{"ci": "ci", "prune": "prune"} {
		found := false
		for _, j := range listAt(d.m, "workflows", wf, "jobs") {
			if c := mapAt(j, job); c != nil {
				found = true
				if str(c["context"]) == "" && len(listAt(c, "context")) == 0 {
					t.Errorf("workflow %s: job %s takes no context (the registry credentials)", wf, job)
				}
			}
		}
		if !found {
			t.Errorf("workflow %s does not run job %s", wf, job)
		}
	}
	// Each job runs its function through the module (`dagger call … FN`,
	// after install-dagger) or, for prune while the module's prune is a
	// stub, through the CLI (`slipway prune`, after install-slipway).
	for _, name := range []string{"ci", "prune"} {
		job := mapAt(d.m, "jobs", name)
		if job == nil {
			t.Errorf("no job %s", name)
			continue
		}
		var steps []string
		need := map[string]bool{"checkout": true}
		ran := false
		for _, s := range listAt(job, "steps") {
			if name, ok := s.(string); ok {
				steps = append(steps, name)
				continue
			}
			run := mapAt(s, "run")
			cmd := str(run["command"])
			for _, inv := range ExtractCommands(cmd, 1) {
				module := inv.Tool == "dagger" && slices.Contains(inv.Args, "call")
				cli := inv.Tool == "slipway" && len(inv.Args) > 0 && inv.Args[0] == name
				if !module && !cli {
					continue
				}
				if run["no_output_timeout"] == nil {
					t.Errorf("job %s: the %s step has no no_output_timeout", name, inv.Tool)
				}
				if module {
					need["install-dagger"] = true
					ran = ran || slices.Contains(inv.Args, name)
				} else {
					need["install-slipway"] = true
					ran = true
				}
			}
			for k := range mapAt(s) {
				steps = append(steps, k)
			}
		}
		for _, w := range sortedKeys(need) {
			if !slices.Contains(steps, w) {
				t.Errorf("job %s: no %s step", name, w)
			}
		}
		if !ran {
			t.Errorf("job %s never runs dagger call … %s (or slipway %s)", name, name, name)
		}
	}
	if mapAt(d.m, "commands", "install-slipway") != nil {
		install := fmt.Sprint(mapAt(d.m, "commands", "install-slipway"))
		if !strings.Contains(install, "go install") || !strings.Contains(install, "slipway-module") {
			t.Error("install-slipway does not go install the CLI at the version of the slipway-module parameter")
		}
	}
}

// TestCircleCIShellcheck runs shellcheck (when installed) over every
// command of the CircleCI config, as actionlint does for GitHub's.
func TestCircleCIShellcheck(t *testing.T) {
	sc, err := exec.LookPath("shellcheck")
	if err != nil {
		t.Skip("shellcheck not installed (.ci/actionlint.sh installs it from Debian)")
	}
	data, err := os.ReadFile(filepath.Join(repoRoot(t), "ci", "circleci", "config.yml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	var cmds []*yaml.Node
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == "command" && n.Content[i+1].Kind == yaml.ScalarNode {
					cmds = append(cmds, n.Content[i+1])
				}
			}
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(&doc)
	if len(cmds) == 0 {
		t.Fatal("no command found")
	}
	for _, c := range cmds {
		// CircleCI runs commands with bash -eo pipefail; << … >> is filled in first.
		script := "#!/bin/bash\nset -eo pipefail\n" + circleExpr.ReplaceAllString(c.Value, "EXPR")
		cmd := exec.Command(sc, "-s", "bash", "-")
		cmd.Stdin = strings.NewReader(script)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Errorf("ci/circleci/config.yml:%d: shellcheck: %v\n%s", c.Line, err, out)
		}
	}
}

// TestWorkflowPolicyBites feeds the policy check workflows that break it.
func TestWorkflowPolicyBites(t *testing.T) {
	good := `name: x
on: {pull_request: {}}
permissions: {}
concurrency:
  group: x-${{ github.ref }}-${{ github.event.pull_request.head.sha || github.sha }}
jobs:
  j:
    runs-on: ubuntu-latest
    timeout-minutes: 5
    permissions: {contents: read}
    steps:
      - uses: actions/checkout@8e8c483db84b4bee98b60c0593521ed34d9990e8 # v6.0.1
        with:
          ref: ${{ github.event.pull_request.head.sha || github.sha }}
          persist-credentials: false
      - run: slipway gate --format md >>"$GITHUB_STEP_SUMMARY"
`
	tests := []struct {
		name, from, to, want string
	}{
		{"good", "", "", ""},
		{"action pinned by tag", "checkout@8e8c483db84b4bee98b60c0593521ed34d9990e8", "checkout@v6", "not pinned by a full commit SHA"},
		{"no version comment", " # v6.0.1", "", "has no `# vX.Y.Z` comment"},
		{"no timeout", "    timeout-minutes: 5\n", "", "no timeout-minutes"},
		{"write-all at the top", "permissions: {}\n", "permissions: write-all\n", "top-level permissions"},
		{"packages write without promoting", "{contents: read}", "{contents: read, packages: write}", "neither publishes, promotes nor prunes"},
		{"contents write", "{contents: read}", "{contents: write}", "only packages may be written"},
		{"no job permissions", "    permissions: {contents: read}\n", "", "no permissions of its own"},
		{"concurrency not keyed by commit", "-${{ github.event.pull_request.head.sha || github.sha }}", "", "not keyed by the commit"},
		{"no concurrency", "concurrency:\n  group: x-${{ github.ref }}-${{ github.event.pull_request.head.sha || github.sha }}\n", "", "no concurrency group"},
		{"merge commit as revision", "ref: ${{ github.event.pull_request.head.sha || github.sha }}", "ref: ${{ github.sha }}", "want the PR head commit"},
		{"credentials persisted", "persist-credentials: false", "persist-credentials: true", "persist-credentials: false"},
		{"no step summary", `>>"$GITHUB_STEP_SUMMARY"`, "", "GITHUB_STEP_SUMMARY"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			src := good
			if tt.from != "" {
				if !strings.Contains(src, tt.from) {
					t.Fatalf("fixture lacks %q", tt.from)
				}
				src = strings.Replace(src, tt.from, tt.to, 1)
			}
			d := &yamlDoc{file: "w.yml"}
			if err := yaml.Unmarshal([]byte(src), &d.node); err != nil {
				t.Fatal(err)
			}
			if err := yaml.Unmarshal([]byte(src), &d.m); err != nil {
				t.Fatal(err)
			}
			probs := workflowProblems(d)
			if tt.want == "" {
				if len(probs) > 0 {
					t.Fatalf("want no problem, got %q", probs)
				}
				return
			}
			for _, p := range probs {
				if strings.Contains(p, tt.want) {
					return
				}
			}
			t.Fatalf("want a problem containing %q, got %q", tt.want, probs)
		})
	}
}
