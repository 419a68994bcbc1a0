package registry

import (
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func FuzzParseExpect(f *testing.F) {
	for _, s := range []string{"", "none", "None", zeroDigest, "ghcr.io/acme/app@" + zeroDigest, "sha256:", "@", "app@sha256:zz", "sha512:" + zeroDigest[7:]} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := ParseExpect(s)
		if err != nil {
			return
		}
		// Whatever parses prints to a canonical form that parses the same.
		again, err := ParseExpect(e.String())
		if err != nil || again != e {
			t.Fatalf("ParseExpect(%q) = %+v, its String %q parses to %+v, %v", s, e, e.String(), again, err)
		}
		if e.Set && !e.None && !strings.HasSuffix(s, e.Digest.Hex) {
			t.Fatalf("ParseExpect(%q) invented digest %s", s, e.Digest)
		}
	})
}

func FuzzValidateTag(f *testing.F) {
	for _, s := range []string{"stable", "sha-abc1234", "v1.2.3", "_x", "-x", ".x", LeaseTag, "sha256-" + zeroDigest[7:], "sha256-" + zeroDigest[7:] + ".sig", strings.Repeat("a", 129)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := ValidateTag(s)
		if err != nil {
			return
		}
		if len(s) == 0 || len(s) > 128 || !utf8.ValidString(s) || IsInternalTag(s) || strings.ContainsAny(s, "/:@ ") {
			t.Fatalf("ValidateTag accepted %q", s)
		}
	})
}

func FuzzParseRetryAfter(f *testing.F) {
	for _, s := range []string{"0", "120", "Fri, 31 Dec 1999 23:59:59 GMT", "-1", "1e3", "18446744073709551615"} {
		f.Add(s)
	}
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, s string) {
		d, ok := parseRetryAfter(s, now)
		if d < 0 || d > 24*time.Hour || (!ok && d != 0) {
			t.Fatalf("parseRetryAfter(%q) = %v, %v", s, d, ok)
		}
	})
}

// Records come back from registries: the decoder must hold against
// anything, and what it accepts must encode back to itself.
func FuzzRecordAnnotations(f *testing.F) {
	good := recordAnnotations(PromotionRecord{
		Version: 1, Decision: DecisionPass, Digest: zeroDigest, Repository: "r.io/a", Source: "r.io/b@" + zeroDigest,
		Baseline: zeroDigest, Revision: "abc", RunID: "7", Tags: []string{"sha-1", "v1"}, Floating: []string{"stable"}, Time: testTime,
		Group: []string{"r.io/a", "r.io/c"},
	})
	f.Add(good[annPrefix+"version"], good[annPrefix+"decision"], good[annPrefix+"digest"], good[annPrefix+"tags"], good[annCreated], good[annPrefix+"group"])
	f.Add("2", "", "sha256:x", ",,", "yesterday", ",")
	f.Fuzz(func(t *testing.T, version, decision, digest, tags, created, group string) {
		a := map[string]string{}
		for k, v := range good {
			a[k] = v
		}
		a[annPrefix+"version"], a[annPrefix+"decision"], a[annPrefix+"digest"], a[annPrefix+"tags"], a[annCreated] = version, decision, digest, tags, created
		a[annPrefix+"group"] = group
		rec, err := recordFromAnnotations(a)
		if err != nil {
			return
		}
		again, err := recordFromAnnotations(recordAnnotations(rec))
		if err != nil || !again.same(rec) || !again.Time.Equal(rec.Time) || !slices.Equal(again.Group, rec.Group) {
			t.Fatalf("round trip: %+v -> %+v, %v", rec, again, err)
		}
	})
}
