package scan

import (
	"bytes"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse: Parse never panics, and what it accepts is well formed: every
// finding has an id, a package, a known severity, and no line breaks.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.json")
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte(`{"SchemaVersion": 2, "Results": [{"Vulnerabilities": [{"VulnerabilityID": "CVE-1", "PkgID": "a@1", "Severity": "low"}]}]}`))
	f.Add([]byte(`{"SchemaVersion": 2, "Results": null}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		r, err := Parse(bytes.NewReader(data))
		if err != nil {
			if r != nil {
				t.Fatal("a report with an error")
			}
			return
		}
		for _, x := range r.Findings {
			if x.ID == "" || x.Package == "" || x.Severity.Rank() < 0 {
				t.Fatalf("bad finding %+v", x)
			}
			if strings.ContainsAny(x.ID+x.Package+x.Installed+x.Fixed+x.Title+x.Target, "\r\n") {
				t.Fatalf("a line break in %+v", x)
			}
		}
		// Comparing a report with itself: all known, none new or fixed.
		c := Compare(Policy{Mode: "no-new", Threshold: Unknown}, r, r)
		if len(c.New) != 0 || len(c.Fixed) != 0 || !c.Pass() {
			t.Fatalf("self comparison: %+v", c)
		}
	})
}

// FuzzParseIgnore: both ignore forms never panic, and their rules match
// without panicking either.
func FuzzParseIgnore(f *testing.F) {
	for _, file := range []string{"testdata/trivyignore", "testdata/trivyignore.yaml"} {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data, strings.HasSuffix(file, ".yaml"))
	}
	f.Add([]byte("vulnerabilities:\n  - paths: [\"**/x/**\"]\n    purls: [\"pkg:npm/%40a/b@1?x=y#sub\"]\n"), true)
	f.Add([]byte("CVE-1 exp:2026-02-04 # why\n"), false)
	finding := Finding{ID: "CVE-1", Package: "b", Target: "a/x/b", PkgPath: "x/y", PURL: "pkg:npm/%40a/b@1?x=y"}
	f.Fuzz(func(t *testing.T, data []byte, yaml bool) {
		name := ".trivyignore"
		if yaml {
			name += ".yaml"
		}
		l, err := ParseIgnore(name, bytes.NewReader(data))
		if err != nil {
			if strings.ContainsAny(err.Error(), "\n") && !strings.Contains(err.Error(), "yaml") {
				t.Fatalf("a multi-line error %q", err)
			}
			return
		}
		for _, r := range l.Rules {
			if r.ID == "" && len(r.Paths) == 0 && len(r.PURLs) == 0 {
				t.Fatalf("a rule that ignores everything: %+v", r)
			}
			r.Matches(finding)
		}
		l.Match(finding, now)
	})
}

// FuzzMatchGlob: the glob matcher never panics and agrees with path.Match
// on patterns without "**".
func FuzzMatchGlob(f *testing.F) {
	f.Add("**/a/*.json", "x/a/b.json")
	f.Add("a/[b-c]/d", "a/b/d")
	f.Fuzz(func(t *testing.T, pattern, name string) {
		got := matchGlob(pattern, name)
		if strings.Contains(pattern, "**") || strings.HasPrefix(pattern, "./") || strings.HasPrefix(name, "./") || name == "" {
			return
		}
		for _, seg := range strings.Split(pattern, "/") {
			if _, err := path.Match(seg, ""); err != nil {
				return // a class split by "/" ([a/b]): malformed per segment
			}
		}
		if want, err := path.Match(pattern, name); err == nil && got != want {
			t.Fatalf("matchGlob(%q, %q) = %v, path.Match says %v", pattern, name, got, want)
		}
	})
}
