package scan

import (
	"errors"
	"os"
	"reflect"
	"strings"
	"testing"
	"time"
)

func ignoreFile(t testing.TB, file, name string) *IgnoreList {
	t.Helper()
	f, err := os.Open("testdata/" + file)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	l, err := ParseIgnore(name, f)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func date(s string) time.Time {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil {
		panic(err)
	}
	return t
}

func TestParseIgnoreLines(t *testing.T) {
	t.Parallel()
	l := ignoreFile(t, "trivyignore", ".trivyignore")
	want := []IgnoreRule{
		{ID: "CVE-2019-1549", File: ".trivyignore", Line: 2},
		{ID: "CVE-2019-1551", ExpiredAt: date("2019-12-31"), File: ".trivyignore", Line: 3},
		{ID: "CVE-2019-14697", ExpiredAt: date("2099-01-01"), File: ".trivyignore", Line: 5},
	}
	if !reflect.DeepEqual(l.Rules, want) {
		t.Errorf("rules\n got %+v\nwant %+v", l.Rules, want)
	}
	_, err := ParseIgnore(".trivyignore", strings.NewReader("CVE-1\nCVE-2 exp:2024-13-01\n"))
	if err == nil || err.Error() != `.trivyignore:2: "2024-13-01" is not a date (exp:YYYY-MM-DD)` {
		t.Errorf("bad date: %v", err)
	}
	if l, err := ParseIgnore("ignore.txt", strings.NewReader("")); err != nil || len(l.Rules) != 0 {
		t.Errorf("empty file: %v %+v", err, l)
	}
}

func TestParseIgnoreYAML(t *testing.T) {
	t.Parallel()
	l := ignoreFile(t, "trivyignore.yaml", ".trivyignore.yaml")
	if len(l.Rules) != 4 {
		t.Fatalf("%d rules: %+v", len(l.Rules), l.Rules)
	}
	r := l.Rules[0]
	if r.ID != "CVE-2019-14697" || r.Statement != "musl is patched downstream" || !r.ExpiredAt.Equal(date("2099-01-01")) ||
		!reflect.DeepEqual(r.PURLs, []string{"pkg:apk/alpine/musl"}) || r.Line != 2 || r.Where() != ".trivyignore.yaml:2" {
		t.Errorf("rule 0: %+v", r)
	}
	if r := l.Rules[3]; r.ID != "" || r.Subject() != "pkg:apk/alpine/libssl1.1@1.1.1b-r1?arch=x86_64" {
		t.Errorf("rule 3: %+v (subject %q)", r, r.Subject())
	}
	// Trivy's own forms: an RFC 3339 expiry, ids optional with paths or purls.
	doc := "vulnerabilities:\n  - id: CVE-1\n    expired_at: 2026-02-04T12:00:00Z\n  - paths: [\"vendor/**\"]\n    statement: Vendored\n"
	l, err := ParseIgnore("x.yml", strings.NewReader(doc))
	if err != nil {
		t.Fatal(err)
	}
	if !l.Rules[0].ExpiredAt.Equal(time.Date(2026, 2, 4, 12, 0, 0, 0, time.UTC)) || l.Rules[1].Paths[0] != "vendor/**" {
		t.Errorf("rules %+v", l.Rules)
	}
	// Anchors work, within the budget.
	if l, err := ParseIgnore("a.yaml", strings.NewReader("vulnerabilities:\n  - &e {id: CVE-1}\n  - *e\n")); err != nil || len(l.Rules) != 2 {
		t.Errorf("alias: %v %+v", err, l)
	}
	for _, doc := range []string{"", "# nothing\n", "~\n", "vulnerabilities:\n", "vulnerabilities: []\nsecrets: ~\n"} {
		if l, err := ParseIgnore("e.yaml", strings.NewReader(doc)); err != nil || len(l.Rules) != 0 {
			t.Errorf("%q: %v %+v", doc, err, l)
		}
	}
}

func TestParseIgnoreYAMLErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ doc, want string }{
		{"vulnerabilities:\n  - id: CVE-1\n    expires: 2026-01-01\n", `i.yaml:3: unknown key "expires" (want id, paths, purls, statement or expired_at)`},
		{"vulnerabilites: []\n", `i.yaml:1: unknown key "vulnerabilites" (want vulnerabilities, misconfigurations, secrets or licenses)`},
		{"vulnerabilities:\n  - id: CVE-1\n    expired_at: next week\n", `i.yaml:3: expired_at: "next week" is not a date (YYYY-MM-DD)`},
		{"vulnerabilities:\n  - statement: everything\n", `i.yaml:2: an entry needs an id, paths or purls: it would ignore everything`},
		{"vulnerabilities:\n  - id: CVE-1\n    purls: [\"deb/debian/bash\"]\n", `i.yaml:3: purls: "deb/debian/bash": not a package URL (pkg:type/namespace/name@version)`},
		{"vulnerabilities:\n  - id: CVE-1\n    paths: [\"usr/[lib\"]\n", `i.yaml:3: paths: "usr/[lib" is not a glob pattern`},
		{"vulnerabilities:\n  - id: CVE-1\n    paths: usr/lib\n", `i.yaml:3: paths must be a list of strings`},
		{"vulnerabilities:\n  - id: [CVE-1]\n", `i.yaml:2: id must be a string`},
		{"vulnerabilities:\n  - CVE-1\n", `i.yaml:2: an entry must be a mapping (id, paths, purls, statement, expired_at)`},
		{"vulnerabilities: CVE-1\n", `i.yaml:1: vulnerabilities must be a list of entries (- id: CVE-…)`},
		{"vulnerabilities:\n  - id: CVE-1\n    id: CVE-2\n", `i.yaml:3: duplicate key "id"`},
		{"- CVE-1\n", `i.yaml:1: the document must be a mapping (vulnerabilities: [...])`},
		{"secrets: x\n", `i.yaml:1: secrets must be a list`},
		{"vulnerabilities: [\n", `i.yaml: line 1: did not find expected node content`},
	}
	for _, tt := range tests {
		_, err := ParseIgnore("i.yaml", strings.NewReader(tt.doc))
		if err == nil || err.Error() != tt.want {
			t.Errorf("%q:\n got %v\nwant %s", tt.doc, err, tt.want)
		}
	}
}

func TestParseIgnoreBounded(t *testing.T) {
	t.Parallel()
	if _, err := ParseIgnore(".trivyignore", strings.NewReader(strings.Repeat("CVE-1\n", MaxIgnoreBytes))); !errors.Is(err, ErrTooLarge) {
		t.Errorf("too large: %v", err)
	}
	// One entry of 1,000 paths referenced 1,000 times: a small file that
	// would expand to a million values.
	var b strings.Builder
	b.WriteString("vulnerabilities:\n  - &e\n    id: CVE-1\n    paths:\n")
	for range 1000 {
		b.WriteString("      - a/b\n")
	}
	for range 1000 {
		b.WriteString("  - *e\n")
	}
	_, err := ParseIgnore("bomb.yaml", strings.NewReader(b.String()))
	if err == nil || !strings.Contains(err.Error(), "values once aliases are expanded") {
		t.Errorf("an alias bomb: %v", err)
	}
}

func TestIgnoreMatch(t *testing.T) {
	t.Parallel()
	musl := Finding{ID: "CVE-2019-14697", Package: "musl", Target: "app.tar (alpine 3.9.4)",
		PURL: "pkg:apk/alpine/musl@1.1.20-r4?arch=x86_64&distro=3.9.4"}
	lodash := Finding{ID: "GHSA-p6mc", Package: "lodash", Target: "app/package-lock.json",
		PkgPath: "app/node_modules/lodash/package.json", PURL: "pkg:npm/lodash@4.17.20"}
	scoped := Finding{ID: "CVE-9", Package: "@angular/core", Target: "web/package-lock.json", PURL: "pkg:npm/%40angular/core@12.0.0"}
	tests := []struct {
		name string
		rule IgnoreRule
		f    Finding
		want bool
	}{
		{"id", IgnoreRule{ID: "CVE-2019-14697"}, musl, true},
		{"other id", IgnoreRule{ID: "CVE-2019-1549"}, musl, false},
		{"glob over the target", IgnoreRule{ID: "CVE-2019-14697", Paths: []string{"app.tar*"}}, musl, true},
		{"** over the package path", IgnoreRule{Paths: []string{"**/node_modules/**"}}, lodash, true},
		{"** matches no directory", IgnoreRule{Paths: []string{"**/package-lock.json"}}, Finding{Target: "package-lock.json"}, true},
		{"glob is per segment", IgnoreRule{Paths: []string{"app/*.json"}}, Finding{Target: "app/sub/x.json"}, false},
		{"glob misses", IgnoreRule{ID: "GHSA-p6mc", Paths: []string{"web/**"}}, lodash, false},
		{"purl without version", IgnoreRule{PURLs: []string{"pkg:apk/alpine/musl"}}, musl, true},
		{"purl with the version", IgnoreRule{PURLs: []string{"pkg:apk/alpine/musl@1.1.20-r4"}}, musl, true},
		{"purl with another version", IgnoreRule{PURLs: []string{"pkg:apk/alpine/musl@1.1.20-r5"}}, musl, false},
		{"purl qualifier present", IgnoreRule{PURLs: []string{"pkg:apk/alpine/musl?distro=3.9.4"}}, musl, true},
		{"purl qualifier differs", IgnoreRule{PURLs: []string{"pkg:apk/alpine/musl?distro=3.10.2"}}, musl, false},
		{"purl other name", IgnoreRule{PURLs: []string{"pkg:apk/alpine/musl-utils"}}, musl, false},
		{"purl encoded namespace", IgnoreRule{PURLs: []string{"pkg:npm/%40angular/core"}}, scoped, true},
		{"purl rule, finding without purl", IgnoreRule{ID: "CVE-1", PURLs: []string{"pkg:npm/x"}}, Finding{ID: "CVE-1", Package: "x"}, false},
		{"id and purl both needed", IgnoreRule{ID: "CVE-1", PURLs: []string{"pkg:apk/alpine/musl"}}, musl, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := tt.rule
			for _, s := range r.PURLs {
				p, err := parsePURL(s)
				if err != nil {
					t.Fatal(err)
				}
				r.purls = append(r.purls, p)
			}
			if got := r.Matches(tt.f); got != tt.want {
				t.Errorf("Matches = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestIgnoreExpiry: a rule ignores until its expiry instant (a date is its
// midnight UTC, as in Trivy), then is reported instead.
func TestIgnoreExpiry(t *testing.T) {
	t.Parallel()
	l, err := ParseIgnore(".trivyignore", strings.NewReader("CVE-1 exp:2026-02-04\nCVE-1\nCVE-2 exp:2026-02-04\n"))
	if err != nil {
		t.Fatal(err)
	}
	f := Finding{ID: "CVE-2", Package: "p"}
	before, after := date("2026-02-04"), date("2026-02-04").Add(time.Second)
	if active, expired := l.Match(f, before); active == nil || len(expired) != 0 {
		t.Errorf("at the expiry instant: active %v expired %v", active, expired)
	}
	if active, expired := l.Match(f, after); active != nil || len(expired) != 1 || expired[0].Line != 3 {
		t.Errorf("after it: active %v expired %v", active, expired)
	}
	// Another rule that has not expired still ignores.
	if active, expired := l.Match(Finding{ID: "CVE-1"}, after); active == nil || active.Line != 2 || len(expired) != 1 {
		t.Errorf("CVE-1: active %v expired %v", active, expired)
	}
	if got := len(l.Expired(after)); got != 2 {
		t.Errorf("%d expired rules, want 2", got)
	}
	var none *IgnoreList
	if a, e := none.Match(f, after); a != nil || e != nil || none.Expired(after) != nil {
		t.Error("a nil list matched")
	}
}

func TestMatchGlob(t *testing.T) {
	t.Parallel()
	tests := []struct {
		pattern, name string
		want          bool
	}{
		{"**", "a/b/c", true},
		{"**/c", "c", true},
		{"a/**/c", "a/c", true},
		{"a/**/c", "a/x/y/c", true},
		{"a/**/c", "a/x/y/d", false},
		{"a/*", "a/b/c", false},
		{"./a/b", "a/b", true},
		{"a", "", false},
		{strings.Repeat("**/", 200) + "z", strings.Repeat("a/", 5000) + "b", false},
	}
	for _, tt := range tests {
		if got := matchGlob(tt.pattern, tt.name); got != tt.want {
			t.Errorf("matchGlob(%.30q, %.30q) = %v, want %v", tt.pattern, tt.name, got, tt.want)
		}
	}
}
