package flow

import (
	"bytes"
	"context"
	"encoding/base64"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/slipway-ci/slipway/pipeline/config"
	"github.com/slipway-ci/slipway/pipeline/gitctx"
	"github.com/slipway-ci/slipway/pipeline/matrix"
	"github.com/slipway-ci/slipway/pipeline/report"
	"github.com/slipway-ci/slipway/pipeline/runplan"
)

// TestExecSecrets: a suite's and its runner's secrets go to the command's
// container, a service's to the service, the same in candidate and
// baseline execs.
func TestExecSecrets(t *testing.T) {
	t.Parallel()
	cfg := serviceConfig("")
	s := &cfg.Test.Suites[0]
	s.Secrets = config.Secrets{"API_TOKEN": "api-token"}
	s.Runner.Secrets = config.Secrets{"/run/secrets/license": "license"}
	s.Services[1].Secrets = config.Secrets{"POSTGRES_PASSWORD": "db-password"}
	plan, err := runplan.New(cfg, gitctx.Context{Revision: rev}, time.Now(), "")
	if err != nil {
		t.Fatal(err)
	}
	cand := ExecIn(plan.Cells[0], Target{Role: Candidate}, 1)
	base := ExecIn(plan.Cells[0], Target{Role: Baseline, Ref: "r@sha256:" + strings.Repeat("b", 64)}, 1)
	want := []Secret{{Key: "/run/secrets/license", Name: "license"}, {Key: "API_TOKEN", Name: "api-token"}}
	for _, x := range []Exec{cand, base} {
		if !reflect.DeepEqual(x.Secrets, want) {
			t.Errorf("command secrets %+v, want %+v", x.Secrets, want)
		}
		if x.Services[0].Secrets != nil || !reflect.DeepEqual(x.Services[1].Secrets, []Secret{{Key: "POSTGRES_PASSWORD", Name: "db-password"}}) {
			t.Errorf("service secrets: app %+v, db %+v", x.Services[0].Secrets, x.Services[1].Secrets)
		}
	}
	if plain := ExecFor(matrix.Cell{ID: "unit", Run: config.Command{Args: []string{"go"}}}, 1); plain.Secrets != nil {
		t.Errorf("a suite without secrets: %+v", plain.Secrets)
	}
}

// TestTestRedactsSecrets: a secret a test prints, or writes into its JUnit
// file (a case's name, its failure, its output), reaches no report: not
// the JSON, the Markdown, the JUnit, nor the gate's reasons.
func TestTestRedactsSecrets(t *testing.T) {
	t.Parallel()
	const secret = "s3cr3t&<tok>"
	b64 := base64.StdEncoding.EncodeToString([]byte(secret))
	xmlSecret := "s3cr3t&amp;&lt;tok&gt;"
	eng := &testEngine{t: t, results: func(role, cell string, attempt int) (ExecResult, error) {
		return ExecResult{
			ExitCode: 1,
			Output:   "token is " + secret + "\n" + b64 + "\n",
			Files: map[string]string{"/out/junit.xml": `<testsuite name="s" tests="2">` +
				`<testcase classname="s" name="login ` + xmlSecret + `"><failure message="bad ` + xmlSecret + `">` + xmlSecret + `</failure><system-out>` + xmlSecret + `</system-out></testcase>` +
				`<testcase classname="s" name="ok"/></testsuite>`},
		}, nil
	}}
	cells := []matrix.Cell{{ID: "e2e", Suite: "e2e", Run: config.Command{Args: []string{"x"}}, Reports: []string{"/out/junit.xml"}}}
	opts := matrix.RunOptions{Redact: report.NewRedactor(secret).Func()}
	rep := Test(context.Background(), eng, Target{Role: Candidate}, cells, opts, report.Report{})
	if len(rep.Cells) != 1 || rep.Cells[0].Status != report.Fail || len(rep.Cells[0].Cases) != 2 {
		t.Fatalf("cells %+v", rep.Cells)
	}
	var j, md, junit bytes.Buffer
	if err := rep.WriteJSON(&j); err != nil {
		t.Fatal(err)
	}
	if err := rep.WriteMarkdown(&md, ""); err != nil {
		t.Fatal(err)
	}
	if err := rep.WriteJUnit(&junit); err != nil {
		t.Fatal(err)
	}
	for what, text := range map[string]string{"JSON": j.String(), "Markdown": md.String(), "JUnit": junit.String()} {
		for _, leak := range []string{"s3cr3t", b64} {
			if strings.Contains(text, leak) {
				t.Errorf("%s holds %q:\n%s", what, leak, text)
			}
		}
	}
	if !strings.Contains(j.String(), report.Redacted) {
		t.Errorf("JSON shows nothing redacted:\n%s", j.String())
	}
}
