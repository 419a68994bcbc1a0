package gitctx

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"golang.org/x/mod/semver"
)

// MaxTagLen is the longest tag a registry accepts.
const MaxTagLen = 128

// LatestTag is the floating tag of the highest release; see LatestFor.
const LatestTag = "latest"

// Tag is one tag a run writes.
type Tag struct {
	Name  string `json:"name"`
	Class Class  `json:"class"`
	// Immutable tags are written once and never moved. Floating tags
	// (class floating, and the semver aliases 1.2 and 1) move.
	Immutable bool `json:"immutable"`
}

// Tags returns the tags of a run, in this order: the immutable templates
// (skipping those with a placeholder this run cannot fill), the semver tags
// of a semver git tag, then the floating templates; a name already emitted
// is not emitted again.
//
// Semver tags are added automatically for a git tag vX.Y.Z or X.Y.Z
// (build metadata dropped): X.Y.Z (immutable), X.Y and X (floating
// aliases, class semver); a prerelease gives only X.Y.Z-pre. Run ids are
// written run-{run}, so a bare number is always the major alias. `latest` is
// never added here: append Tag{Name: LatestTag, Class: ClassFloating}
// when LatestFor says so.
//
// Every tag matches ValidTag and Classify(name, floating) returns its
// class. A tag that would read as another class (a branch named "pr-1"
// gives "pr-1-abc1234") is an error, as are a bad template, an invalid
// Context, and a branch that sanitizes to nothing.
func Tags(c Context, immutable, floating []string, now time.Time) ([]Tag, error) {
	if err := c.Validate(); err != nil {
		return nil, err
	}
	if err := CheckTemplates(immutable, floating); err != nil {
		return nil, err
	}
	v := valuesOf(c, now)
	var tags []Tag
	seen := map[string]bool{}
	add := func(t Tag) {
		if !seen[t.Name] {
			seen[t.Name] = true
			tags = append(tags, t)
		}
	}
	origin := map[string]string{} // tag name -> template, for errors
	renderAll := func(tmpls []string, class func(string) Class, immutable bool) error {
		for _, tmpl := range tmpls {
			segs, err := parseTemplate(tmpl)
			if err != nil {
				return err
			}
			name, ok, err := render(tmpl, segs, v)
			if err != nil {
				return err
			}
			if ok {
				if _, dup := origin[name]; !dup {
					origin[name] = tmpl
				}
				add(Tag{Name: name, Class: class(tmpl), Immutable: immutable})
			}
		}
		return nil
	}
	immutableClass := func(tmpl string) Class { cl, _ := ImmutableClass(tmpl); return cl }
	if err := renderAll(immutable, immutableClass, true); err != nil {
		return nil, err
	}
	sv, err := SemverTags(c.GitTag)
	if err != nil {
		return nil, err
	}
	for _, t := range sv {
		origin[t.Name] = "git tag " + c.GitTag
		add(t)
	}
	if err := renderAll(floating, func(string) Class { return ClassFloating }, false); err != nil {
		return nil, err
	}
	for _, t := range tags {
		if got, ok := Classify(t.Name, floating); !ok || got != t.Class {
			read := "no class"
			if ok {
				read = "class " + string(got)
			}
			msg := fmt.Sprintf("tag %q from %s reads back as %s, not %s", t.Name, origin[t.Name], read, t.Class)
			if strings.Contains(origin[t.Name], "{branch}") {
				msg += fmt.Sprintf(" (branch %q); rename the branch or drop that template", c.Branch)
			}
			return nil, fmt.Errorf("%s", msg)
		}
	}
	return tags, nil
}

func valuesOf(c Context, now time.Time) values {
	var v values
	if c.Revision != "" {
		v.sha = strings.ToLower(c.Revision)
		v.sha7 = v.sha[:7]
	}
	if c.PR > 0 {
		v.pr = strconv.Itoa(c.PR)
	}
	v.branch = c.Branch
	if isDigits(c.RunID) {
		v.run = c.RunID
	}
	if !now.IsZero() {
		v.date = now.UTC().Format(time.DateOnly)
	}
	if sv, ok := gitTagSemver(c.GitTag); ok {
		v.version = sv[1:]
	}
	return v
}

// SanitizeBranch turns a branch name into the branch part of a tag, at most
// maxLen long: lowercase; '/' and every character outside [a-z0-9.-] become
// '-' (so '_' does too); runs of '-' collapse; leading and trailing '-' and
// '.' are trimmed; the result is cut to maxLen and trimmed again. An empty
// result is an error naming the branch.
func SanitizeBranch(branch string, maxLen int) (string, error) {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(branch) {
		if (r >= 'a' && r <= 'z') || (r >= '0' && r <= '9') || r == '.' {
			b.WriteRune(r)
			dash = false
			continue
		}
		if !dash {
			b.WriteByte('-')
			dash = true
		}
	}
	s := strings.Trim(b.String(), "-.")
	if maxLen < 0 {
		maxLen = 0
	}
	if len(s) > maxLen {
		s = strings.Trim(s[:maxLen], "-.")
	}
	if s == "" {
		return "", fmt.Errorf("branch %q gives an empty tag", branch)
	}
	return s, nil
}

// isSanitized reports whether s is a possible output of SanitizeBranch.
func isSanitized(s string) bool {
	if s == "" || strings.Contains(s, "--") {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '-') {
			return false
		}
	}
	return !strings.ContainsAny(s[:1], "-.") && !strings.ContainsAny(s[len(s)-1:], "-.")
}

// ValidTag reports whether s matches ^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$,
// the tag grammar of the OCI distribution spec.
func ValidTag(s string) bool {
	if s == "" || len(s) > MaxTagLen || s[0] == '.' || s[0] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isTagChar(rune(s[i])) {
			return false
		}
	}
	return true
}

func isTagChar(r rune) bool {
	return (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') || r == '_' || r == '.' || r == '-'
}

// gitTagSemver returns the canonical "vX.Y.Z[-pre]" of a git tag vX.Y.Z or
// X.Y.Z (build metadata dropped); shorthands (v1, v1.2) are not releases.
func gitTagSemver(gitTag string) (string, bool) {
	v := gitTag
	if !strings.HasPrefix(v, "v") {
		v = "v" + v
	}
	if !semver.IsValid(v) {
		return "", false
	}
	canon := semver.Canonical(v)
	if strings.TrimSuffix(v, semver.Build(v)) != canon {
		return "", false // a shorthand such as v1.2
	}
	return canon, true
}

// SemverTags returns the semver tags of a git tag: v1.2.3 gives 1.2.3
// (immutable), 1.2 and 1 (moving aliases); v1.2.3-rc.1 gives only
// 1.2.3-rc.1. A git tag that is not a full semver gives none. A version
// too long to be a tag is an error.
func SemverTags(gitTag string) ([]Tag, error) {
	v, ok := gitTagSemver(gitTag)
	if !ok {
		return nil, nil
	}
	if !ValidTag(v[1:]) {
		return nil, fmt.Errorf("git tag %q: version %q is not a valid tag (longer than %d?)", gitTag, v[1:], MaxTagLen)
	}
	tags := []Tag{{Name: v[1:], Class: ClassSemver, Immutable: true}}
	if semver.Prerelease(v) == "" {
		tags = append(tags,
			Tag{Name: semver.MajorMinor(v)[1:], Class: ClassSemver},
			Tag{Name: semver.Major(v)[1:], Class: ClassSemver})
	}
	return tags, nil
}

// LatestFor reports whether a release from gitTag should move `latest`:
// gitTag is a semver release (not a prerelease) and no version in existing
// (the repository's tags; X.Y.Z or vX.Y.Z forms count, others are ignored)
// is a higher release. An equal version counts as latest, so a re-run is
// idempotent.
func LatestFor(gitTag string, existing []string) bool {
	v, ok := gitTagSemver(gitTag)
	if !ok || semver.Prerelease(v) != "" {
		return false
	}
	for _, e := range existing {
		ev, ok := gitTagSemver(e)
		if ok && semver.Prerelease(ev) == "" && semver.Compare(ev, v) > 0 {
			return false
		}
	}
	return true
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func isLowerHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) {
			return false
		}
	}
	return s != ""
}
