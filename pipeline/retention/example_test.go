package retention

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/slipway-ci/slipway/pipeline/config"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// Example_retentionMatrix evaluates the seeds' retention matrix
// (testdata/retention-matrix.yaml) over a small repository.
func Example_retentionMatrix() {
	cfg, err := config.LoadFile("testdata/retention-matrix.yaml")
	if err != nil {
		fmt.Println(err)
		return
	}
	policy, err := NewPolicy(cfg.Retention, cfg.Tags.Floating)
	if err != nil {
		fmt.Println(err)
		return
	}
	b := newMem()
	for _, img := range []struct {
		tag string
		age time.Duration
	}{
		{"pr-7-abcdef0", 25 * time.Hour}, // younger than minAge 48h: kept
		{"pr-8-abcdef0", 50 * time.Hour},
		{"feature-login-abcdef0", 6 * day},
		{"feature-search-abcdef0", 8 * day},
		{"sha-abcdef0", 31 * day},
		{"sha-abcdef1", 29 * day},
		{"nightly-2026-02-20", 0},
		{"latest", 400 * day},
		{"dev", 400 * day},
		{"v1.2.3", 400 * day},
	} {
		age := Age{}
		if img.age > 0 {
			age = ago(now, img.age, AgeFromLabel)
		}
		b.tag(img.tag, b.add(img.tag, types.OCIManifestSchema1, age), Age{})
	}
	f, _ := b.Facts(context.Background())
	p := Evaluate(now, policy, f, Inputs{})
	for _, it := range p.Items {
		fmt.Printf("%s %v: %s\n", it.Action, it.Tags, it.Reason.Text)
	}
	fmt.Println("kept:", p.Summary.KeptBy)
	// Output:
	// delete [pr-8-abcdef0]: pr-8-abcdef0 expired by rule pull-requests (olderThan 1d): age 2d2h from created-label
	// delete [nightly-2026-02-20]: nightly-2026-02-20 expired by rule nightlies (olderThan 7d): age 9d12h from tag-date
	// delete [feature-search-abcdef0]: feature-search-abcdef0 expired by rule features (olderThan 7d): age 8d from created-label
	// delete [sha-abcdef0]: sha-abcdef0 expired by rule commits (olderThan 30d): age 31d from created-label
	// kept: map[floating:1 protect:2 rule:commits:1 rule:features:1 rule:pull-requests:1]
}

func TestPlanJSONRoundTrip(t *testing.T) {
	t.Parallel()
	b := randomRegistry(newRand(3))
	f, _ := b.Facts(context.Background())
	p := Evaluate(now, mustPolicy(t, matrix()), f, Inputs{})
	var one, two bytes.Buffer
	if err := WritePlan(&one, p); err != nil {
		t.Fatal(err)
	}
	back, err := ReadPlan(bytes.NewReader(one.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if err := WritePlan(&two, back); err != nil {
		t.Fatal(err)
	}
	if one.String() != two.String() {
		t.Fatal("plan JSON does not round-trip byte for byte")
	}
	var again bytes.Buffer
	WritePlan(&again, Evaluate(now, mustPolicy(t, matrix()), f, Inputs{}))
	if again.String() != one.String() {
		t.Fatal("the same inputs wrote a different plan")
	}
}

func TestReadPlanRefuses(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ name, json, want string }{
		{"unknown field", `{"version":1,"repo":"r.io/a","bogus":1}`, "unknown field"},
		{"version", `{"version":2,"repo":"r.io/a"}`, "version 2"},
		{"bad digest", `{"version":1,"repo":"r.io/a","items":[{"action":"delete","digest":"sha256:zz"}]}`, "digest"},
		{"bad action", `{"version":1,"repo":"r.io/a","items":[{"action":"nuke","digest":"sha256:` + strings.Repeat("a", 64) + `"}]}`, "unknown action"},
		{"fallback untag", `{"version":1,"repo":"r.io/a","items":[{"action":"untag","tag":"sha256-` + strings.Repeat("a", 64) + `","digest":"sha256:` + strings.Repeat("a", 64) + `"}]}`, "fallback"},
		{"trailing", `{"version":1,"repo":"r.io/a"} {}`, "trailing"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := ReadPlan(strings.NewReader(tc.json))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err %v, want %q", err, tc.want)
			}
		})
	}
}

func TestParseInUse(t *testing.T) {
	t.Parallel()
	repo, _ := name.NewRepository("ghcr.io/acme/app")
	d := "sha256:" + strings.Repeat("b", 64)
	in, err := ParseInUse(strings.NewReader(strings.Join([]string{
		"# deployed", "", d, "pr-7-abcdef0", "ghcr.io/acme/app:v1.2.3", "ghcr.io/acme/app@" + d,
		"ghcr.io/acme/app:prod@" + d, "ghcr.io/other/app:v1",
	}, "\n")), repo)
	if err != nil {
		t.Fatal(err)
	}
	if len(in.Digests) != 3 || strings.Join(in.Tags, ",") != "pr-7-abcdef0,v1.2.3,prod" || in.Other != 1 {
		t.Fatalf("%+v", in)
	}
	if _, err := ParseInUse(strings.NewReader("not a ref!!"), repo); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Fatalf("err %v", err)
	}
}

func FuzzReadPlan(f *testing.F) {
	var buf bytes.Buffer
	b := randomRegistry(newRand(5))
	facts, _ := b.Facts(context.Background())
	WritePlan(&buf, Evaluate(now, mustPolicy(f, matrix()), facts, Inputs{}))
	f.Add(buf.Bytes())
	f.Add([]byte(`{"version":1,"repo":"r.io/a","items":[{"action":"untag","tag":"x","digest":"sha256:` + strings.Repeat("a", 64) + `"}]}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ReadPlan(bytes.NewReader(data))
		if err != nil {
			return
		}
		// A plan that reads must write and read back the same.
		var out bytes.Buffer
		if err := WritePlan(&out, p); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadPlan(&out); err != nil {
			t.Fatalf("re-reading a written plan: %v", err)
		}
		// And applying it to an empty registry finds everything gone.
		todo, _ := Check(p, &Facts{Manifests: nil})
		if len(todo) != 0 {
			t.Fatalf("items to do on an empty registry: %v", todo)
		}
	})
}

func FuzzParseInUse(f *testing.F) {
	for _, s := range []string{"sha256:" + strings.Repeat("a", 64), "ghcr.io/acme/app:v1", "pr-1-abcdef0\n# c\n", "ghcr.io/acme/app:x@sha256:" + strings.Repeat("c", 64), "a@b:c"} {
		f.Add(s)
	}
	repo, _ := name.NewRepository("ghcr.io/acme/app")
	f.Fuzz(func(t *testing.T, s string) {
		in, err := ParseInUse(strings.NewReader(s), repo)
		if err != nil {
			return
		}
		for _, tg := range in.Tags {
			if !tagRE.MatchString(tg) {
				t.Fatalf("tag %q accepted", tg)
			}
		}
	})
}
