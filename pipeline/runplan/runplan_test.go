package runplan

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/slipway-ci/slipway/pipeline/config"
	"github.com/slipway-ci/slipway/pipeline/gitctx"
)

const rev = "abc12345def67890abcdef0123456789abcdef01"

func TestNew(t *testing.T) {
	now := time.Date(2026, 2, 4, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		name         string
		image        string
		c            gitctx.Context
		shard        string
		wantRepo     string
		wantBaseline string
		wantImm      []string
		wantFloat    []string
		wantMoves    bool
		wantHost     string
		wantErr      string
	}{
		{
			name: "push to a branch", image: "ghcr.io/acme/app", c: gitctx.Context{Revision: rev, Branch: "main"},
			wantRepo: "ghcr.io/acme/app", wantBaseline: "ghcr.io/acme/app:stable",
			wantImm: []string{"sha-abc1234", "main-abc1234"}, wantFloat: []string{"stable"}, wantMoves: true, wantHost: "ghcr.io",
		},
		{
			name: "pull request never moves floating tags", image: "ghcr.io/acme/app", c: gitctx.Context{Revision: rev, PR: 12, Branch: "fix"},
			wantRepo: "ghcr.io/acme/app", wantBaseline: "ghcr.io/acme/app:stable",
			wantImm: []string{"sha-abc1234", "pr-12-abc1234", "fix-abc1234"}, wantFloat: []string{"stable"}, wantHost: "ghcr.io",
		},
		{
			name: "no image: the ephemeral registry", c: gitctx.Context{Revision: rev},
			wantRepo: EphemeralRepository, wantBaseline: EphemeralRepository + ":stable",
			wantImm: []string{"sha-abc1234"}, wantFloat: []string{"stable"}, wantMoves: true, wantHost: "localhost:5000",
		},
		{
			name: "Docker Hub short name", image: "acme/app", c: gitctx.Context{Revision: rev},
			wantRepo: "acme/app", wantBaseline: "acme/app:stable",
			wantImm: []string{"sha-abc1234"}, wantFloat: []string{"stable"}, wantMoves: true, wantHost: "index.docker.io",
		},
		{name: "bad shard", c: gitctx.Context{Revision: rev}, shard: "0/2", wantErr: "shard"},
		{name: "branch that sanitizes to nothing", c: gitctx.Context{Revision: rev, Branch: "///"}, wantErr: `branch "///"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := config.Default()
			cfg.Image = tt.image
			p, err := New(&cfg, tt.c, now, tt.shard)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if p.Repository != tt.wantRepo || p.Baseline != tt.wantBaseline || p.Ephemeral != (tt.image == "") {
				t.Errorf("repo %q baseline %q ephemeral %v", p.Repository, p.Baseline, p.Ephemeral)
			}
			if !slices.Equal(p.Immutable(), tt.wantImm) || !slices.Equal(p.Floating(), tt.wantFloat) {
				t.Errorf("immutable %q floating %q", p.Immutable(), p.Floating())
			}
			if p.MovesFloating() != tt.wantMoves || p.RegistryHost() != tt.wantHost {
				t.Errorf("moves %v host %q", p.MovesFloating(), p.RegistryHost())
			}
			// The engine publishes under the staging tag, never an
			// immutable one (its publish overwrites).
			if ref, err := p.PublishRef(); err != nil || ref != tt.wantRepo+":slipway-publish" {
				t.Errorf("publish ref %q, %v", ref, err)
			}
		})
	}
}

func TestPublishRefNeedsARevision(t *testing.T) {
	cfg := config.Default()
	p, err := New(&cfg, gitctx.Context{}, time.Now(), "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.PublishRef(); err == nil || !strings.Contains(err.Error(), "--revision") {
		t.Errorf("error %v, want one naming --revision", err)
	}
}

func TestBuildArgs(t *testing.T) {
	tests := []struct {
		cfg       map[string]string
		overrides []string
		want      []BuildArg
		wantErr   string
	}{
		{cfg: map[string]string{"B": "1", "A": "2"}, want: []BuildArg{{"A", "2"}, {"B", "1"}}},
		{cfg: map[string]string{"A": "2"}, overrides: []string{"A=3", "C=x=y"}, want: []BuildArg{{"A", "3"}, {"C", "x=y"}}},
		{overrides: []string{"EMPTY="}, want: []BuildArg{{"EMPTY", ""}}},
		{overrides: []string{"NOVALUE"}, wantErr: `build arg "NOVALUE": want KEY=VALUE`},
		{overrides: []string{"=v"}, wantErr: "want KEY=VALUE"},
	}
	for _, tt := range tests {
		got, err := BuildArgs(tt.cfg, tt.overrides)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("BuildArgs(%v) error %v, want %q", tt.overrides, err, tt.wantErr)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tt.want) {
			t.Errorf("BuildArgs(%v, %v) = %v, %v; want %v", tt.cfg, tt.overrides, got, err, tt.want)
		}
	}
}

func TestRefs(t *testing.T) {
	const d = "sha256:9c2201a6944791f0f598703daf6e3edec2819a65e46d73d6ec69a80ea77925ac"
	if got, err := PinnedRef("ghcr.io/acme/app@" + d); err != nil || got != "ghcr.io/acme/app@"+d {
		t.Errorf("PinnedRef = %q, %v", got, err)
	}
	for _, bad := range []string{"ghcr.io/acme/app:stable", "ghcr.io/acme/app", "ghcr.io/acme/app@sha256:abc"} {
		if _, err := PinnedRef(bad); err == nil || !strings.Contains(err.Error(), "pinned by digest") {
			t.Errorf("PinnedRef(%q) error %v", bad, err)
		}
	}
	if got := EphemeralRef("localhost:5000/slipway@"+d, "reg.abc.dagger.local:5000"); got != "reg.abc.dagger.local:5000/slipway@"+d {
		t.Errorf("EphemeralRef = %q", got)
	}
	if got := EphemeralRef("ghcr.io/acme/app:stable", "reg:5000"); got != "ghcr.io/acme/app:stable" {
		t.Errorf("EphemeralRef of another registry = %q", got)
	}
	if got := EphemeralRef(EphemeralEngineHost+"/slipway@"+d, "reg:45913"); got != "reg:45913/slipway@"+d {
		t.Errorf("EphemeralRef of the engine's address = %q", got)
	}
	for ref, want := range map[string]string{
		"localhost:5000/slipway@" + d:       EphemeralEngineHost + "/slipway@" + d,
		"localhost:5000/slipway/api:stable": EphemeralEngineHost + "/slipway/api:stable",
		"localhost:5001/slipway:stable":     "localhost:5001/slipway:stable",
		"ghcr.io/acme/app:stable":           "ghcr.io/acme/app:stable",
	} {
		if got := EngineRef(ref); got != want {
			t.Errorf("EngineRef(%q) = %q, want %q", ref, got, want)
		}
	}
	if EngineRef("localhost:5000/x") == "localhost:5000/x" || strings.HasPrefix(EphemeralEngineHost, "localhost:5000") {
		t.Errorf("the engine addresses the ephemeral registry as %s: never localhost:5000, which engine configs list", EphemeralEngineHost)
	}
	for ref, want := range map[string]bool{
		"localhost:5000/slipway:stable":       true,
		EphemeralEngineHost + "/slipway@" + d: true,
		"localhost:50000/x:y":                 false,
		"localhost:459130/slipway:stable":     false,
	} {
		if IsEphemeral(ref) != want {
			t.Errorf("IsEphemeral(%q) = %v, want %v", ref, !want, want)
		}
	}
}

func TestRegistryOf(t *testing.T) {
	t.Parallel()
	for ref, want := range map[string]string{
		"ghcr.io/acme/app": "ghcr.io",
		"acme/app":         "index.docker.io",
		"postgres@sha256:" + strings.Repeat("a", 64): "index.docker.io",
		"localhost/app":          "localhost",
		"localhost:5000/slipway": "localhost:5000",
		"mcr.microsoft.com/playwright@sha256:" + strings.Repeat("b", 64): "mcr.microsoft.com",
	} {
		if got := RegistryOf(ref); got != want {
			t.Errorf("RegistryOf(%q) = %q, want %q", ref, got, want)
		}
	}
}

func TestPlatforms(t *testing.T) {
	t.Parallel()
	platforms := []string{"linux/amd64", "linux/arm64"}
	for p, want := range map[string]int{"": 0, "linux/amd64": 0, "linux/arm64": 1, "linux/s390x": -1} {
		if got := PlatformIndex(platforms, p); got != want {
			t.Errorf("PlatformIndex(%q) = %d, want %d", p, got, want)
		}
	}
	cfg := config.Default()
	cfg.Build.Platforms = platforms
	cfg.Test.Suites = []config.Suite{
		{Name: "unit", Run: config.Command{Shell: "true"}, Platforms: config.PlatformsAll},
		{Name: "e2e", Run: config.Command{Shell: "true"}},
	}
	plan, err := New(&cfg, gitctx.Context{Revision: strings.Repeat("a", 40)}, time.Now(), "")
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range plan.Cells {
		ids = append(ids, c.ID)
	}
	if got := strings.Join(ids, " "); got != "unit unit@linux/arm64 e2e" {
		t.Errorf("cells %s", got)
	}
	plan.OnePlatform()
	if len(plan.Cells) != 2 || plan.Cells[1].ID != "e2e" {
		t.Errorf("OnePlatform left %+v", plan.Cells)
	}
}
