package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/slipway-ci/slipway/pipeline/registry"
	"github.com/slipway-ci/slipway/pipeline/registry/registrytest"
)

// slipway runs the CLI in-process with environ and returns the exit code,
// stdout and stderr.
func slipway(t *testing.T, environ map[string]string, args ...string) (int, string, string) {
	t.Helper()
	var out, errOut bytes.Buffer
	e := &env{stdout: &out, stderr: &errOut, getenv: func(k string) string { return environ[k] }}
	code := run(context.Background(), e, args)
	return code, out.String(), errOut.String()
}

func TestVerifyCommand(t *testing.T) {
	t.Parallel()
	reg := registrytest.New(t)
	const sha = "abc12345def67890abcdef0123456789abcdef01"
	d := registrytest.PushImage(t, reg.Ref("app:v1"), registrytest.ImageSpec{Layers: 2, Labels: map[string]string{registry.RevisionLabel: sha}})
	damaged := registrytest.PushImage(t, reg.Ref("app:damaged"), registrytest.ImageSpec{Layers: 2, LayerSize: 2048})
	im, _ := remote.Image(damaged)
	m, _ := im.Manifest()
	reg.CorruptBlob(t, m.Layers[1].Digest, registrytest.FlipByte)
	promoted := registrytest.PushImage(t, reg.Ref("ci/app:v2"), registrytest.ImageSpec{})
	if code, _, stderr := slipway(t, nil, "promote", promoted.String(), "--to", reg.Ref("prod/app"), "--tag", "v2"); code != 0 {
		t.Fatalf("promote: %d %s", code, stderr)
	}

	tests := []struct {
		name     string
		args     []string
		wantCode int
		stdout   string
		stderr   string
	}{
		{"tag", []string{reg.Ref("app:v1")}, 0, d.String(), ""},
		{"flags after the ref", []string{reg.Ref("app:v1"), "--revision", sha, "--full"}, 0, d.String(), ""},
		{"revision differs", []string{"--revision", "0000000", reg.Ref("app:v1")}, 1, "", `label org.opencontainers.image.revision is "` + sha + `", want "0000000"`},
		{"damaged layer, full", []string{"--full", reg.Ref("app:damaged")}, 1, "", "layer 2: blob content hashes to"},
		{"damaged layer, quick", []string{reg.Ref("app:damaged")}, 0, damaged.String(), ""},
		{"promotion present", []string{"--require-promotion", reg.Ref("prod/app:v2")}, 0, "@" + promoted.DigestStr(), ""},
		{"promotion absent", []string{"--require-promotion", reg.Ref("app:v1")}, 1, "", "no promotion record refers to it"},
		{"not found", []string{reg.Ref("app:nope")}, 1, "", "not found"},
		{"no ref", nil, 2, "", "want one REF"},
		{"two refs", []string{"a", "b"}, 2, "", "want one REF"},
		{"bad ref", []string{"Bad::Ref"}, 2, "", "REF"},
		{"bad flag", []string{"--fast", reg.Ref("app:v1")}, 2, "", "flag provided but not defined"},
		{"registry down", []string{"127.0.0.1:1/app:v1"}, 3, "", "connection refused"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			code, stdout, stderr := slipway(t, nil, append([]string{"verify"}, tt.args...)...)
			if code != tt.wantCode || !strings.Contains(stdout, tt.stdout) || !strings.Contains(stderr, tt.stderr) {
				t.Fatalf("exit %d, stdout %q, stderr %q; want %d, %q, %q", code, stdout, stderr, tt.wantCode, tt.stdout, tt.stderr)
			}
			if code != 0 && code != 2 && strings.Count(strings.TrimSpace(stderr), "\n") != 0 {
				t.Fatalf("a failure takes one line, got:\n%s", stderr)
			}
		})
	}
}
