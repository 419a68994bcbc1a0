package gitctx

import (
	"crypto/sha1"
	"fmt"
	"strings"
	"testing"
	"time"
)

func FuzzSanitizeBranch(f *testing.F) {
	for _, s := range []string{"main", "feature/Add_New-Feature#12", "///", "fix/Ünïcödé", "-.a.-", "a\xffb", strings.Repeat("ab/", 80)} {
		f.Add(s, 120)
	}
	f.Fuzz(func(t *testing.T, branch string, maxLen int) {
		maxLen = maxLen%MaxTagLen + 1
		if maxLen < 1 {
			maxLen += MaxTagLen
		}
		s, err := SanitizeBranch(branch, maxLen)
		if err != nil {
			if !strings.Contains(err.Error(), "gives an empty tag") {
				t.Fatalf("SanitizeBranch(%q) error = %v", branch, err)
			}
			return
		}
		if len(s) > maxLen || !isSanitized(s) || !tagRE.MatchString(s) {
			t.Fatalf("SanitizeBranch(%q, %d) = %q", branch, maxLen, s)
		}
		if again, err := SanitizeBranch(s, maxLen); err != nil || again != s {
			t.Fatalf("not idempotent: %q -> %q -> %q, %v", branch, s, again, err)
		}
	})
}

func FuzzTags(f *testing.F) {
	f.Add(headSHA, "feature/Add_New-Feature#12", 123, "", "9876543210", int64(0), uint8(0xff))
	f.Add(pushSHA, "main", 0, "v1.2.3", "42", int64(1770000000), uint8(0x0f))
	f.Add(pushSHA, "PR-7", 0, "v1.2.3-rc.1", "x", int64(-1), uint8(0xf0))
	f.Add(strings.Repeat("ab", 32), strings.Repeat("é/", 100), 1, "1.2.3+meta", "", int64(1), uint8(0x55))
	all := []string{}
	for _, f := range immutableForms {
		all = append(all, f.tmpl)
	}
	floating := []string{"stable", "{branch}", "pr-{pr}", "edge-{sha7}", "n-{date}"}
	f.Fuzz(func(t *testing.T, rev, branch string, pr int, gitTag, run string, unix int64, pick uint8) {
		var immutable []string
		for i, tmpl := range all {
			if pick&(1<<(i%8)) != 0 {
				immutable = append(immutable, tmpl)
			}
		}
		if checkRevision(rev) != nil && len(rev) > 0 && rev[0]%4 != 0 {
			rev = fmt.Sprintf("%x", sha1.Sum([]byte(rev))) // mostly valid revisions, some invalid
		}
		c := Context{Revision: rev, Branch: branch, PR: pr, GitTag: gitTag, RunID: run}
		tags, err := Tags(c, immutable, floating, time.Unix(unix%(1<<40), 0))
		if err != nil {
			return // invalid revision, a branch that reads as another class, ...: reported, never a bad tag
		}
		seen := map[string]bool{}
		for _, tag := range tags {
			if !tagRE.MatchString(tag.Name) {
				t.Fatalf("tag %q does not match %s", tag.Name, tagRE)
			}
			if got, ok := Classify(tag.Name, floating); !ok || got != tag.Class {
				t.Fatalf("Classify(%q) = %q, %v; want %q", tag.Name, got, ok, tag.Class)
			}
			if seen[tag.Name] {
				t.Fatalf("tag %q twice", tag.Name)
			}
			seen[tag.Name] = true
		}
	})
}

func FuzzClassify(f *testing.F) {
	for _, s := range []string{"pr-1-abc1234", "sha-abc1234", "1.2.3-rc.1", "v1", "123", "nightly-2026-02-04",
		"main-abc1234", "sha256-" + strings.Repeat("0", 64), "latest", "", "edge-main"} {
		f.Add(s, "{branch}")
	}
	f.Fuzz(func(t *testing.T, tag, floating string) {
		c, ok := Classify(tag, []string{floating, "stable"})
		if ok && !tagRE.MatchString(tag) {
			t.Fatalf("Classify(%q) = %q for an invalid tag", tag, c)
		}
		if ok {
			if _, err := ParseClass(string(c)); err != nil {
				t.Fatalf("Classify(%q) = unknown class %q", tag, c)
			}
		}
		NightlyDate(tag)
		_ = CheckTemplate(floating)
	})
}
