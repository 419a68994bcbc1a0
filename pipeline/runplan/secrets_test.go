package runplan

import (
	"strings"
	"testing"

	"github.com/slipway-ci/slipway/pipeline/config"
	"github.com/slipway-ci/slipway/pipeline/matrix"
)

func TestSecretNames(t *testing.T) {
	tests := []struct {
		name        string
		uris, names []string
		want        string
		err         string
	}{
		{"by source", []string{"env://API_TOKEN", "file:///run/keys/db-password", "file://./license.txt"}, nil, "API_TOKEN db-password license.txt", ""},
		{"by name", []string{"cmd://vault read x", "env://X"}, []string{"api-token", "x"}, "api-token x", ""},
		{"none", nil, nil, "", ""},
		{"cmd needs a name", []string{"env://A", "cmd://echo hunter2"}, nil, "", "--secret 2: a cmd: secret has no name of its own: name it with --secret-name (one per --secret, in order)"},
		{"count", []string{"env://A", "env://B"}, []string{"a"}, "", "--secret-name: 1 names for 2 secrets: give one name per --secret, in order, or none"},
		{"twice", []string{"env://A", "file:///x/A"}, nil, "", `--secret 2: the name "A" is the name of --secret 1 too: give each secret its own name (--secret-name)`},
		{"bad name", []string{"env://A"}, []string{"a b"}, "", `--secret 1: "a b" is not a secret name (letters, digits, '.', '_' and '-', at most 128): name it with --secret-name`},
		{"no scheme", []string{"TOKEN"}, nil, "", "--secret 1: its source is unknown: name it with --secret-name"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := SecretNames(tc.uris, tc.names)
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				if strings.Contains(err.Error(), "hunter2") {
					t.Fatalf("the error shows the source: %v", err)
				}
				return
			}
			if err != nil || strings.Join(got, " ") != tc.want {
				t.Fatalf("got %q, %v; want %q", got, err, tc.want)
			}
		})
	}
}

func TestMissingSecrets(t *testing.T) {
	cfg := config.Default()
	cfg.Test.Suites = []config.Suite{{
		Name: "e2e", Run: config.Command{Args: []string{"x"}},
		Secrets:  config.Secrets{"API_TOKEN": "api-token", "/run/secrets/license": "license"},
		Services: []config.Service{{Name: "db", Ref: "r@sha256:" + strings.Repeat("a", 64), Secrets: config.Secrets{"POSTGRES_PASSWORD": "db-password"}}},
	}, {Name: "unit", Run: config.Command{Args: []string{"y"}}}}
	cells, err := matrix.Cells(cfg.Test)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		provided []string
		want     string
	}{
		{"all given", []string{"license", "api-token", "db-password", "unused"}, ""},
		{"one missing", []string{"license", "api-token"}, `the config names secrets the call does not give (the call gives license, api-token): secret "db-password" (suite e2e, service db: POSTGRES_PASSWORD); give each with --secret (env:NAME, file:PATH, …) and, for another name, --secret-name`},
		{"none given", nil, `the config names secrets the call does not give (the call gives none): secret "api-token" (suite e2e: API_TOKEN), secret "db-password" (suite e2e, service db: POSTGRES_PASSWORD), secret "license" (suite e2e: /run/secrets/license); give each with --secret (env:NAME, file:PATH, …) and, for another name, --secret-name`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := MissingSecrets(cells, tc.provided)
			if (err == nil) != (tc.want == "") || (err != nil && err.Error() != tc.want) {
				t.Fatalf("got %v\nwant %s", err, tc.want)
			}
		})
	}
}

func FuzzSecretNames(f *testing.F) {
	f.Add("env://API_TOKEN", "")
	f.Add("file:///a/b", "name")
	f.Add("cmd://x", "")
	f.Fuzz(func(t *testing.T, uri, name string) {
		var names []string
		if name != "" {
			names = []string{name}
		}
		got, err := SecretNames([]string{uri}, names)
		if err == nil && (len(got) != 1 || !config.SecretNameRE.MatchString(got[0])) {
			t.Fatalf("SecretNames(%q, %q) = %q: not a secret name", uri, name, got)
		}
	})
}
