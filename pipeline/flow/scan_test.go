package flow

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/slipway-ci/slipway/pipeline/config"
	"github.com/slipway-ci/slipway/pipeline/gate"
	"github.com/slipway-ci/slipway/pipeline/gitctx"
	"github.com/slipway-ci/slipway/pipeline/registry"
	"github.com/slipway-ci/slipway/pipeline/registry/registrytest"
	"github.com/slipway-ci/slipway/pipeline/runplan"
	"github.com/slipway-ci/slipway/pipeline/scan"
)

func trivyJSON(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile("../scan/testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestPromoteScans: with scanning on, both images are scanned alongside
// their tests and the scan's reasons join the one decision.
func TestPromoteScans(t *testing.T) {
	t.Parallel()
	pass := map[string]bool{"TestA": true}
	a39, a310 := trivyJSON(t, "alpine-39.json"), trivyJSON(t, "alpine-310.json")
	tests := []struct {
		name       string
		mode       string
		baseline   bool
		cand, base func() ([]byte, error)
		ignore     string
		wantErr    error
		wantScans  int
		check      func(t *testing.T, p *Promotion)
	}{
		{
			name: "alpine 3.10 over 3.9 passes and reports the fix", mode: config.ScanNoNew, baseline: true,
			cand: func() ([]byte, error) { return a310, nil }, base: func() ([]byte, error) { return a39, nil }, wantScans: 2,
			check: func(t *testing.T, p *Promotion) {
				if c := p.Decision.Scan; c == nil || len(c.Fixed) != 2 || c.Fixed[0].Package != "musl" || !strings.Contains(p.Markdown(), "✅ Fixed") {
					t.Errorf("scan %+v\n%s", c, p.Markdown())
				}
			},
		},
		{
			name: "alpine 3.9 over 3.10 blocks and names musl", mode: config.ScanNoNew, baseline: true,
			cand: func() ([]byte, error) { return a39, nil }, base: func() ([]byte, error) { return a310, nil }, wantScans: 2,
			wantErr: ErrGateBlocked,
			check: func(t *testing.T, p *Promotion) {
				md := p.Markdown()
				for _, s := range []string{"2 blocking reasons", "| musl | 1.1.20-r4 | 1.1.20-r5 | CRITICAL |", "| musl-utils |"} {
					if !strings.Contains(md, s) {
						t.Errorf("Markdown lacks %q:\n%s", s, md)
					}
				}
			},
		},
		{
			name: "an ignore file lets it through", mode: config.ScanNoNew, baseline: true, ignore: "CVE-2019-14697 exp:2026-03-01\n",
			cand: func() ([]byte, error) { return a39, nil }, base: func() ([]byte, error) { return a310, nil }, wantScans: 2,
		},
		{
			name: "a failed candidate scan blocks", mode: config.ScanNoNew, baseline: true,
			cand: func() ([]byte, error) {
				return nil, errors.New("exec trivy: exit 1: FATAL failed to download vulnerability DB")
			},
			base: func() ([]byte, error) { return a39, nil }, wantScans: 2, wantErr: ErrGateBlocked,
			check: func(t *testing.T, p *Promotion) {
				if b := p.Decision.Blocking(); len(b) != 1 || !strings.Contains(b[0].Message, "scanning the candidate: exec trivy: exit 1: FATAL") {
					t.Errorf("blocking %v", b)
				}
			},
		},
		{
			name: "a report that is not Trivy's blocks", mode: config.ScanNoNew, baseline: true,
			cand: func() ([]byte, error) { return []byte("Total: 0"), nil }, base: func() ([]byte, error) { return a39, nil }, wantScans: 2, wantErr: ErrGateBlocked,
		},
		{
			name: "first promotion under no-new: reported, promoted", mode: config.ScanNoNew,
			cand: func() ([]byte, error) { return a39, nil }, wantScans: 1,
			check: func(t *testing.T, p *Promotion) {
				if c := p.Decision.Scan; c == nil || !c.NoBaseline || len(c.New) != 2 || p.Published == "" {
					t.Errorf("scan %+v published %q", c, p.Published)
				}
			},
		},
		{
			name: "first promotion under strict blocks", mode: config.ScanStrict,
			cand: func() ([]byte, error) { return a39, nil }, wantScans: 1, wantErr: ErrGateBlocked,
		},
		{name: "mode off scans nothing", mode: config.ScanOff, baseline: true},
		{name: "no scan section scans nothing", mode: "", baseline: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			reg := registrytest.New(t)
			repo := reg.Ref("acme/app")
			if tt.baseline {
				registrytest.PushImage(t, repo+":stable", registrytest.ImageSpec{})
			}
			cfg := testConfig(repo)
			cfg.Scan.Mode = tt.mode
			plan, err := runplan.New(cfg, gitctx.Context{Revision: rev, RunID: "42"}, time.Date(2026, 2, 4, 0, 0, 0, 0, time.UTC), "")
			if err != nil {
				t.Fatal(err)
			}
			// The candidate's test waits for its scan to start: scans run
			// alongside the tests, not after them.
			scanStarted := make(chan struct{})
			eng := &testEngine{t: t, results: func(role, cell string, attempt int) (ExecResult, error) {
				if role == Candidate && tt.cand != nil {
					select {
					case <-scanStarted:
					case <-time.After(10 * time.Second):
						return ExecResult{}, errors.New("the scan did not start while the tests ran")
					}
				}
				return ExecResult{Files: map[string]string{"/out/junit.xml": junit(pass)}}, nil
			}}
			if tt.cand != nil {
				eng.scans = func(role string) ([]byte, error) {
					if role == Baseline {
						return tt.base()
					}
					close(scanStarted)
					return tt.cand()
				}
			}
			client, err := registry.New(registry.WithFastBackoff())
			if err != nil {
				t.Fatal(err)
			}
			o := PromoteOptions{Plan: plan, Test: cfg.Test, Registry: client, Engine: eng, Scan: cfg.Scan,
				Now: time.Date(2026, 2, 4, 1, 0, 0, 0, time.UTC)}
			if tt.ignore != "" {
				if o.ScanIgnore, err = scan.ParseIgnore(".trivyignore", strings.NewReader(tt.ignore)); err != nil {
					t.Fatal(err)
				}
			}
			out, err := Promote(context.Background(), o)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Promote() error = %v, want %v", err, tt.wantErr)
			}
			if len(eng.scanned) != tt.wantScans {
				t.Errorf("scanned %q, want %d scans", eng.scanned, tt.wantScans)
			}
			for _, s := range eng.scanned {
				if strings.HasPrefix(s, Baseline) && !strings.Contains(s, repo+"@sha256:") {
					t.Errorf("baseline scanned by %q, not by digest", s)
				}
			}
			if tt.wantScans == 0 && out.Decision.Scan != nil {
				t.Errorf("a scan without scanning: %+v", out.Decision.Scan)
			}
			if tt.wantErr != nil && len(eng.published) != 0 {
				t.Errorf("published %v", eng.published)
			}
			if tt.check != nil {
				tt.check(t, out)
			}
		})
	}
}

// TestPromoteBadScanConfig: a scan section PolicyFrom refuses fails before
// anything runs.
func TestPromoteBadScanConfig(t *testing.T) {
	t.Parallel()
	cfg := testConfig("")
	plan, err := runplan.New(cfg, gitctx.Context{Revision: rev}, time.Now(), "")
	if err != nil {
		t.Fatal(err)
	}
	eng := &testEngine{t: t}
	_, err = Promote(context.Background(), PromoteOptions{Plan: plan, Test: cfg.Test, Engine: eng, Scan: config.Scan{Mode: config.ScanNoNew}})
	if err == nil || !strings.Contains(err.Error(), "scan.severity") || len(eng.execs)+len(eng.scanned) != 0 {
		t.Errorf("error %v, execs %v, scans %v", err, eng.execs, eng.scanned)
	}
}

// TestMergeScansOfSeveralImages: a run of several images shows each
// image's comparison, not the first image's alone, and each reason names
// its image.
func TestMergeScansOfSeveralImages(t *testing.T) {
	t.Parallel()
	cfg := testConfig("")
	cfg.Images = []config.Image{{Name: "api", Build: cfg.Build}, {Name: "worker", Build: cfg.Build}}
	cfg.Build = config.Build{}
	plan, err := runplan.New(cfg, gitctx.Context{Revision: rev}, time.Now(), "")
	if err != nil {
		t.Fatal(err)
	}
	sc := config.Default().Scan
	sc.Mode = config.ScanNoNew
	policy, err := scan.PolicyFrom(sc, nil, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	read := func(name string) *scan.Report {
		r, err := scan.Parse(strings.NewReader(string(trivyJSON(t, name))))
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	a39, a310 := read("alpine-39.json"), read("alpine-310.json")
	// api regresses (3.9 over 3.10), worker fixes (3.10 over 3.9).
	d := mergeScans(plan, gate.Decision{Pass: true}, []gate.Scans{
		{Policy: policy, Candidate: a39, Baseline: a310},
		{Policy: policy, Candidate: a310, Baseline: a39},
	})
	if len(d.Scans) != 2 || d.Scans[0].Image != "api" || d.Scans[1].Image != "worker" || d.Scan != nil {
		t.Fatalf("scans %+v, scan %+v: want api's and worker's", d.Scans, d.Scan)
	}
	if len(d.Scans[0].Scan.New) != 2 || len(d.Scans[1].Scan.Fixed) != 2 {
		t.Errorf("api new %d, worker fixed %d: want 2 and 2", len(d.Scans[0].Scan.New), len(d.Scans[1].Scan.Fixed))
	}
	md := d.Markdown()
	for _, want := range []string{"### Vulnerabilities: api", "### Vulnerabilities: worker", ", scan no-new)"} {
		if !strings.Contains(md, want) {
			t.Errorf("Markdown lacks %q:\n%s", want, md)
		}
	}
	if d.Pass {
		t.Error("api's new findings passed the gate")
	}
}
