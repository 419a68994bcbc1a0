package main

import (
	"context"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"

	"dagger/slipway-tests/internal/dagger"
)

// Secrets checks that secrets reach a cell and leave no trace in its report.
//
// They reach its command (as a variable and as a file) and its service.
// The suite's command proves it got each value by its hash (the config
// holds hashes only), then prints the token, its base64, and writes it into
// its JUnit file. The report's JSON, Markdown and JUnit must hold none of
// it. A second run with the same values comes from the cache. The secrets
// are made with setSecret, which the engine keys by name: a run with the
// token changed under the same name must fail, not come from the cache as
// the first run's pass. A run that does not give a
// secret the config names fails before anything runs, naming it.
//
// +check
// +cache="session"
func (t *SlipwayTests) Secrets(ctx context.Context) error {
	s, err := t.newScenario(ctx, "secrets")
	if err != nil {
		return err
	}
	token, license, dbPassword := "tok-"+s.ns+"-Zq9", "lic-"+s.ns+"\n", "db-"+s.ns
	cfg := s.secretsConfig(token, license, dbPassword)
	secrets := func(token string) []*dagger.Secret {
		// Names of the scenario's own, so that no other run's setSecret
		// of the same name meets them in the engine.
		return []*dagger.Secret{
			dag.SetSecret(s.ns+"-api-token", token),
			dag.SetSecret(s.ns+"-license", license),
			dag.SetSecret(s.ns+"-db-password", dbPassword),
		}
	}
	names := []string{"api-token", "license", "db-password"}
	run := func(step string, given []*dagger.Secret, names []string) *dagger.SlipwayTestReport {
		return dag.Slipway(dagger.SlipwayOpts{
			Source: sampleApp(cfg), Revision: s.revision(step), RunID: s.runID(step), SourceURL: sourceURL,
			Secret: given, SecretName: names,
		}).Test()
	}

	rep := run("right", secrets(token), names)
	cells, err := rep.Cells(ctx)
	if err != nil {
		return fmt.Errorf("test with the secrets: %w", err)
	}
	if err := expectCells(ctx, cells, []cellWant{{name: "secret", status: "pass", attempts: 1}, {name: "sidecar", status: "pass", attempts: 1}}); err != nil {
		return fmt.Errorf("with the secrets: %w", err)
	}
	if err := expectNoTrace(ctx, rep, token, license, dbPassword); err != nil {
		return err
	}

	// The same values again, in another run: the cell comes from the
	// cache (its exec's uuid is the first run's).
	again := run("again", secrets(token), names)
	if err := expectCachedCell(ctx, rep, again, "secret"); err != nil {
		return fmt.Errorf("unchanged secrets must keep the cache: %w", err)
	}

	rep = run("changed", secrets(token+"-rotated"), names)
	if cells, err = rep.Cells(ctx); err != nil {
		return fmt.Errorf("test with a changed token: %w", err)
	}
	if err := expectCells(ctx, cells, []cellWant{{name: "secret", status: "fail", exitCode: 1, attempts: 1}, {name: "sidecar", status: "pass", attempts: 1}}); err != nil {
		return fmt.Errorf("a changed token must fail the cell, not give the first run's cached pass: %w", err)
	}
	if err := expectNoTrace(ctx, rep, token+"-rotated", license, dbPassword); err != nil {
		return err
	}

	_, err = run("missing", secrets(token)[:2], names[:2]).Cells(ctx)
	if err == nil || !strings.Contains(err.Error(), `secret "db-password" (suite sidecar, service db: DB_PASSWORD)`) {
		return fmt.Errorf("a run without db-password: error %v, want it to name the secret and where the config uses it", err)
	}
	return nil
}

// secretsConfig is a config whose suite checks each secret by its hash.
func (s scenario) secretsConfig(token, license, dbPassword string) string {
	hash := func(v string) string { sum := sha256.Sum256([]byte(v)); return hex.EncodeToString(sum[:]) }
	script := strings.Join([]string{
		`mkdir -p /out`,
		`tok=$(printf %s "$API_TOKEN" | sha256sum | cut -c1-64)`,
		`lic=$(sha256sum </run/secrets/license | cut -c1-64)`,
		`echo "exec $(cat /proc/sys/kernel/random/uuid)"`,
		`echo "token is $API_TOKEN"`,
		`printf %s "$API_TOKEN" | base64`,
		`result=""; test "$tok-$lic" = "` + hash(token) + `-` + hash(license) + `" || result="<failure message=\"token $API_TOKEN\">$API_TOKEN</failure>"`,
		`printf '<testsuite name="secret" tests="1"><testcase classname="secret" name="token %s">%s<system-out>%s</system-out></testcase></testsuite>' "$API_TOKEN" "$result" "$API_TOKEN" >/out/secret.xml`,
		`test -z "$result"`,
	}, "\n")
	serve := `mkdir -p /www && printf %s "$DB_PASSWORD" | sha256sum | cut -c1-64 | tr -d '\n' >/www/h && exec httpd -f -p 8080 -h /www`
	var b strings.Builder
	fmt.Fprintf(&b, "build:\n  platforms: [%s]\n  args: {VARIANT: base, BASE: %q}\n", s.platform, s.base)
	b.WriteString("test:\n  retries: 0\n  suites:\n    - name: secret\n")
	fmt.Fprintf(&b, "      run: %q\n", script)
	b.WriteString("      reports: [/out/secret.xml]\n")
	b.WriteString("      secrets: {API_TOKEN: api-token, /run/secrets/license: license}\n")
	// A cell with services never comes from the cache (each call starts
	// its own), so the sidecar's secret has a suite of its own.
	b.WriteString("    - name: sidecar\n")
	fmt.Fprintf(&b, "      run: [sh, -c, %q]\n", `test "$(wget -qO- http://db:8080/h)" = "`+hash(dbPassword)+`"`)
	fmt.Fprintf(&b, "      services:\n        - name: db\n          ref: %q\n          ports: [8080]\n", s.base)
	fmt.Fprintf(&b, "          args: [sh, -c, %q]\n", serve)
	b.WriteString("          secrets: {DB_PASSWORD: db-password}\n")
	b.WriteString("scan:\n  mode: \"off\"\nsmoke:\n  mode: \"off\"\n")
	return b.String()
}

// expectCachedCell checks that cell ran once for both reports: its log
// tail (which prints a uuid of its exec) is the same in both.
func expectCachedCell(ctx context.Context, first, second *dagger.SlipwayTestReport, cell string) error {
	tail := func(rep *dagger.SlipwayTestReport) (string, error) {
		text, err := rep.JSON(ctx)
		if err != nil {
			return "", err
		}
		var r struct {
			Cells []struct {
				ID      string `json:"id"`
				LogTail string `json:"logTail"`
			} `json:"cells"`
		}
		if err := json.Unmarshal([]byte(text), &r); err != nil {
			return "", err
		}
		for _, c := range r.Cells {
			if c.ID == cell && strings.Contains(c.LogTail, "exec ") {
				return c.LogTail, nil
			}
		}
		return "", fmt.Errorf("no cell %s with an exec uuid in %s", cell, text)
	}
	a, err := tail(first)
	if err != nil {
		return err
	}
	b, err := tail(second)
	if err != nil {
		return err
	}
	if a != b {
		return fmt.Errorf("cell %s ran again:\n%s\n---\n%s", cell, a, b)
	}
	return nil
}

// expectNoTrace checks that the report's JSON, Markdown and JUnit hold no
// value of secrets, as is or in base64.
func expectNoTrace(ctx context.Context, rep *dagger.SlipwayTestReport, secrets ...string) error {
	j, err := rep.JSON(ctx)
	if err != nil {
		return err
	}
	md, err := rep.Markdown(ctx)
	if err != nil {
		return err
	}
	junit, err := rep.Junit().Contents(ctx)
	if err != nil {
		return err
	}
	for what, text := range map[string]string{"JSON": j, "Markdown": md, "JUnit": junit} {
		for _, v := range secrets {
			v = strings.TrimSpace(v)
			for _, form := range []string{v, base64.StdEncoding.EncodeToString([]byte(v))} {
				if strings.Contains(text, form) {
					return fmt.Errorf("the report's %s holds a secret's value:\n%s", what, text)
				}
			}
		}
	}
	if !strings.Contains(j, "***") {
		return fmt.Errorf("the report's JSON shows no redacted value: did the command's output reach it?\n%s", j)
	}
	return nil
}
