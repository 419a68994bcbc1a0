package registry

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/v1/remote"
)

// The defaults that matter, pinned.
func TestDefaults(t *testing.T) {
	t.Parallel()
	c, err := New()
	if err != nil {
		t.Fatal(err)
	}
	for _, code := range []int{429, 500, 502, 503, 504} {
		if !slices.Contains(c.codes, code) {
			t.Errorf("%d is not retried by default", code)
		}
	}
	if c.backoff.Steps != 3 || c.backoff.Duration != time.Second || c.backoff.Factor != 3 {
		t.Errorf("default backoff %+v, want ggcr's 3 steps from 1s ×3", c.backoff)
	}
	if c.lease.settle != time.Second || c.lease.ttl != 2*time.Minute || c.jobs != 4 || c.mountJobs != 8 || c.retryAfter != 30*time.Second {
		t.Errorf("defaults: lease %+v jobs %d retry-after cap %v", c.lease, c.jobs, c.retryAfter)
	}
	if c.keychain == nil || c.auth != nil {
		t.Error("the default auth is not the keychain")
	}
}

func TestOptionValidation(t *testing.T) {
	t.Parallel()
	bad := map[string]Option{
		"basic auth without password": WithBasicAuth("u", ""),
		"nil keychain":                WithKeychain(nil),
		"nil authenticator":           WithAuthenticator(nil),
		"nil transport":               WithTransport(nil),
		"zero backoff steps":          WithRetryBackoff(remote.Backoff{}),
		"bad status code":             WithRetryStatusCodes(42),
		"negative retry-after cap":    WithRetryAfterCap(-time.Second),
		"zero jobs":                   WithJobs(0),
		"nil logger":                  WithLogger(nil),
		"lease ttl too short":         WithLease(time.Second, 2*time.Second),
		"nil env":                     WithEnv(nil),
	}
	for name, opt := range bad {
		if _, err := New(opt); !errors.Is(err, ErrInvalidRequest) {
			t.Errorf("%s: err = %v, want ErrInvalidRequest", name, err)
		}
	}
	if c, err := New(WithLease(0, 0)); err != nil || c.lease.settle != 0 {
		t.Errorf("WithLease(0, 0): %v, %+v", err, c.lease)
	}
}

func TestEnvKeychain(t *testing.T) {
	t.Parallel()
	env := map[string]string{EnvUsername: "u", EnvPassword: "p", EnvRegistry: "ghcr.io"}
	kc := envKeychain{getenv: func(k string) string { return env[k] }}
	for host, want := range map[string]bool{"ghcr.io": true, "docker.io": false} {
		reg := mustRepo(t, host+"/x/y").Registry
		a, err := kc.Resolve(reg)
		if err != nil {
			t.Fatal(err)
		}
		cfg, _ := a.Authorization()
		if got := cfg.Username == "u" && cfg.Password == "p"; got != want {
			t.Errorf("%s: credentials %v, want %v", host, got, want)
		}
	}
	delete(env, EnvPassword)
	if a, _ := kc.Resolve(mustRepo(t, "ghcr.io/x").Registry); a != authn.Anonymous {
		t.Error("a username without a password gave credentials")
	}
}

func TestParseRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"0", 0, true},
		{"3", 3 * time.Second, true},
		{" 7 ", 7 * time.Second, true},
		{"99999999999999999999", 0, false},
		{"86400000", 24 * time.Hour, true},
		{"Thu, 01 Jan 2026 00:00:05 GMT", 5 * time.Second, true},
		{"Wed, 31 Dec 2025 00:00:00 GMT", 0, true},
		{"-1", 0, false},
		{"soon", 0, false},
		{"", 0, false},
	}
	for _, tt := range tests {
		got, ok := parseRetryAfter(tt.in, now)
		if got != tt.want || ok != tt.ok {
			t.Errorf("parseRetryAfter(%q) = %v %v, want %v %v", tt.in, got, ok, tt.want, tt.ok)
		}
	}
}

// The transport waits out Retry-After before ggcr's retry sees the 429,
// capped, and gives up when the context ends.
func TestRetryAfterTransport(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", "60")
		w.WriteHeader(http.StatusTooManyRequests)
	}))
	defer srv.Close()
	tr := newTransport(http.DefaultTransport, 50*time.Millisecond)
	start := time.Now()
	req, _ := http.NewRequest(http.MethodGet, srv.URL, nil)
	resp, err := tr.RoundTrip(req)
	if err != nil || resp.StatusCode != 429 {
		t.Fatalf("RoundTrip = %v, %v", resp, err)
	}
	resp.Body.Close()
	if d := time.Since(start); d < 50*time.Millisecond || d > 5*time.Second {
		t.Fatalf("waited %v, want the 50ms cap", d)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	tr = newTransport(http.DefaultTransport, time.Minute)
	req, _ = http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	if _, err := tr.RoundTrip(req); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("RoundTrip after the deadline: %v", err)
	}
}

func TestValidate(t *testing.T) {
	t.Parallel()
	c := newTestClient(t)
	src := mustDigest(t, "127.0.0.1:1/ci/app@"+zeroDigest)
	ok := req(src, "127.0.0.1:1/prod/app", []string{"sha-1"}, []string{"stable"}, ExpectNone)
	tests := map[string]func(r *PromoteRequest){
		"bad tag":            func(r *PromoteRequest) { r.Tags = []string{"-x"} },
		"reserved lease tag": func(r *PromoteRequest) { r.Tags = []string{LeaseTag} },
		"reserved publish":   func(r *PromoteRequest) { r.Floating = []string{PublishTag} },
		"reserved fallback":  func(r *PromoteRequest) { r.Floating = []string{"sha256-" + zeroDigest[7:]} },
		"duplicate tag":      func(r *PromoteRequest) { r.Tags = []string{"stable"} },
		"floating no expect": func(r *PromoteRequest) { r.Expect = "" },
		"bad expect":         func(r *PromoteRequest) { r.Expect = "sha256:123" },
		"bad decision":       func(r *PromoteRequest) { r.Record.Decision = "fail" },
		"no time":            func(r *PromoteRequest) { r.Record.Time = time.Time{} },
		"no source":          func(r *PromoteRequest) { r.Source = src.Context().Digest("") },
	}
	for name, mut := range tests {
		r := ok
		r.Tags, r.Floating = slices.Clone(ok.Tags), slices.Clone(ok.Floating)
		mut(&r)
		if _, err := c.Promote(context.Background(), r); !errors.Is(err, ErrInvalidRequest) {
			t.Errorf("%s: err = %v, want ErrInvalidRequest", name, err)
		}
	}
}
