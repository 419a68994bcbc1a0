package runplan

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"
)

func TestForUser(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct{ text, endpoint, want string }{
		{"7m64rm8do694u:5000/slipway@sha256:ab: unchanged", "7m64rm8do694u:5000", "localhost:5000/slipway@sha256:ab: unchanged"},
		{"ghcr.io/acme/app@sha256:ab", "7m64rm8do694u:5000", "ghcr.io/acme/app@sha256:ab"},
		{"x:5000/slipway:stable", "", "x:5000/slipway:stable"},
		// The engine's address of the service (a Publish result) too.
		{"localhost:45913/slipway:slipway-publish@sha256:ab", "", "localhost:5000/slipway:slipway-publish@sha256:ab"},
		{"pushing localhost:45913/slipway/api:x, then 7m64rm8do694u:45913/slipway/api@sha256:ab", "7m64rm8do694u:45913", "pushing localhost:5000/slipway/api:x, then localhost:5000/slipway/api@sha256:ab"},
	} {
		if got := ForUser(tt.text, tt.endpoint); got != tt.want {
			t.Errorf("ForUser(%q, %q) = %q, want %q", tt.text, tt.endpoint, got, tt.want)
		}
	}
}

// TestExplainUnreachable dials a closed port on 127.0.0.1 for a real
// "connection refused".
func TestExplainUnreachable(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	_, refused := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	if refused == nil {
		t.Skip("nothing refused the connection")
	}
	refused = fmt.Errorf("resolving the baseline: %w", refused)
	other := errors.New("401 unauthorized")
	for _, tt := range []struct {
		ref     string
		err     error
		explain bool
	}{
		{"127.0.0.1:5000/app:stable", refused, true},
		{"localhost:5001/app:stable", refused, true},
		{"[::1]:5000/app:stable", refused, true},
		{"localhost:5000/slipway:stable", refused, false}, // the ephemeral registry
		{"registry.internal:5000/app:stable", refused, false},
		{"127.0.0.1:5000/app:stable", other, false},
		{"127.0.0.1:5000/app:stable", nil, false},
	} {
		got := ExplainUnreachable(tt.ref, tt.err)
		if !errors.Is(got, tt.err) {
			t.Errorf("%s: the cause is lost: %v", tt.ref, got)
		}
		if explained := got != nil && strings.Contains(got.Error(), "runs in a container on the Dagger engine"); explained != tt.explain {
			t.Errorf("%s, %v: explained = %v, want %v", tt.ref, tt.err, explained, tt.explain)
		}
	}
}

func TestForUserErr(t *testing.T) {
	t.Parallel()
	cause := errors.New("MANIFEST_UNKNOWN")
	err := fmt.Errorf("verify 7m64rm8do694u:5000/slipway@sha256:ab: %w", cause)
	got := ForUserErr(err, "7m64rm8do694u:5000")
	if got.Error() != "verify localhost:5000/slipway@sha256:ab: MANIFEST_UNKNOWN" || !errors.Is(got, cause) {
		t.Errorf("ForUserErr = %v (chain kept: %v)", got, errors.Is(got, cause))
	}
	if ForUserErr(nil, "x:5000") != nil || ForUserErr(cause, "") != cause || ForUserErr(cause, "x:5000") != cause {
		t.Error("ForUserErr changed an error it had nothing to rewrite")
	}
}

func TestProjectOf(t *testing.T) {
	t.Parallel()
	const gitConfig = "[core]\n\tbare = false\n[remote \"upstream\"]\n\turl = https://github.com/other/app\n[remote \"origin\"]\n\turl = git@github.com:Acme/App.git\n\tfetch = +refs/heads/*:refs/remotes/origin/*\n"
	for _, tt := range []struct {
		name, project, sourceURL, gitConfig string
		want                                Project
	}{
		{"config wins", "shop", "https://github.com/acme/app", gitConfig, Project{"shop", "ephemeral.project"}},
		{"source url", "", "https://github.com/Acme/app.git/", gitConfig, Project{"github.com/acme/app", "--source-url"}},
		{"git origin", "", "", gitConfig, Project{"github.com/acme/app", "git remote origin"}},
		{"ssh url", "", "ssh://git@github.com/acme/app", "", Project{"github.com/acme/app", "--source-url"}},
		{"https with user", "", "https://bot@gitlab.com/acme/app.git", "", Project{"gitlab.com/acme/app", "--source-url"}},
		{"nothing", "", "", "[core]\n", Project{"", "none"}},
	} {
		if got := ProjectOf(tt.project, tt.sourceURL, tt.gitConfig); got != tt.want {
			t.Errorf("%s: ProjectOf = %+v, want %+v", tt.name, got, tt.want)
		}
	}
	a, b := ProjectOf("", "https://github.com/acme/app", ""), ProjectOf("", "git@github.com:acme/app.git", "")
	if a.Volume() != b.Volume() {
		t.Errorf("one repository written two ways got two volumes: %s, %s", a.Volume(), b.Volume())
	}
	if c := ProjectOf("", "https://github.com/acme/other", ""); c.Volume() == a.Volume() {
		t.Errorf("two repositories share volume %s", a.Volume())
	}
}

func FuzzProjectOf(f *testing.F) {
	f.Add("", "git@github.com:acme/app.git", "[remote \"origin\"]\nurl = x")
	f.Add("p", "https://u@h/a@b/c", "")
	f.Fuzz(func(t *testing.T, project, sourceURL, gitConfig string) {
		p := ProjectOf(project, sourceURL, gitConfig)
		if v := p.Volume(); !strings.HasPrefix(v, "slipway-ephemeral-") || len(v) != len("slipway-ephemeral-")+16 {
			t.Errorf("volume %q", v)
		}
	})
}

func TestEphemeralImage(t *testing.T) {
	t.Parallel()
	const mirror = "mirror.local/registry@sha256:a3d8aaa63ed8681a604f1dea0aa03f100d5895b6a58ace528858a7b332415373"
	if got := EphemeralImage(""); got != DefaultEphemeralImage {
		t.Errorf("EphemeralImage(\"\") = %q, want the default", got)
	}
	if got := EphemeralImage(mirror); got != mirror {
		t.Errorf("EphemeralImage(mirror) = %q", got)
	}
}
