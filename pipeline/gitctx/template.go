package gitctx

import (
	"fmt"
	"regexp"
	"strings"
	"sync"
)

// Placeholders lists the placeholders a tag template may use, in braces:
//
//	{sha}     the full revision (40 or 64 lowercase hex)
//	{sha7}    the first 7 hex of the revision
//	{pr}      the pull request number
//	{branch}  the branch, sanitized (see SanitizeBranch) and cut to fit
//	{run}     the CI run id, only when it is all digits (written run-{run})
//	{date}    the UTC date of "now", YYYY-MM-DD
//	{version} the semver of the git tag without "v" (1.2.3, 1.2.3-rc.1)
//
// A placeholder the run cannot fill (no PR, no branch, no semver git tag,
// ...) makes Tags skip that template.
var Placeholders = []string{"sha", "sha7", "pr", "branch", "run", "date", "version"}

// segment is a literal text or a placeholder of a template.
type segment struct {
	lit string
	ph  string
}

func isPlaceholder(name string) bool {
	for _, p := range Placeholders {
		if p == name {
			return true
		}
	}
	return false
}

func knownPlaceholders() string {
	var b strings.Builder
	for i, p := range Placeholders {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString("{" + p + "}")
	}
	return b.String()
}

// parseTemplate splits a template into segments, with the checks
// CheckTemplate documents.
func parseTemplate(tmpl string) ([]segment, error) {
	if tmpl == "" {
		return nil, fmt.Errorf("empty tag template")
	}
	var segs []segment
	seen := map[string]bool{}
	litLen := 0
	rest := tmpl
	for rest != "" {
		switch i := strings.IndexAny(rest, "{}"); {
		case i < 0:
			segs = append(segs, segment{lit: rest})
			litLen += len(rest)
			rest = ""
		case i > 0:
			segs = append(segs, segment{lit: rest[:i]})
			litLen += i
			rest = rest[i:]
		case rest[0] == '}':
			return nil, fmt.Errorf("tag template %q: '}' without '{'", tmpl)
		default:
			end := strings.IndexByte(rest, '}')
			if end < 0 {
				return nil, fmt.Errorf("tag template %q: unclosed '{'", tmpl)
			}
			name := rest[1:end]
			if !isPlaceholder(name) {
				return nil, fmt.Errorf("tag template %q: unknown placeholder {%s} (known: %s)", tmpl, name, knownPlaceholders())
			}
			if seen[name] {
				return nil, fmt.Errorf("tag template %q: placeholder {%s} used twice", tmpl, name)
			}
			seen[name] = true
			segs = append(segs, segment{ph: name})
			rest = rest[end+1:]
		}
	}
	for _, s := range segs {
		for _, r := range s.lit {
			if !isTagChar(r) {
				return nil, fmt.Errorf("tag template %q: character %q is not allowed in a tag (only A-Z a-z 0-9 _ . -)", tmpl, r)
			}
		}
	}
	if first := segs[0].lit; first != "" && (first[0] == '.' || first[0] == '-') {
		return nil, fmt.Errorf("tag template %q: a tag must start with a letter, a digit or '_'", tmpl)
	}
	if litLen > MaxTagLen {
		return nil, fmt.Errorf("tag template %q: longer than %d characters", tmpl, MaxTagLen)
	}
	return segs, nil
}

// values are the placeholder values of one run; "" means unfillable.
type values struct {
	sha, sha7, pr, branch, run, date, version string
}

func (v values) get(ph string) string {
	switch ph {
	case "sha":
		return v.sha
	case "sha7":
		return v.sha7
	case "pr":
		return v.pr
	case "branch":
		return v.branch
	case "run":
		return v.run
	case "date":
		return v.date
	case "version":
		return v.version
	}
	return ""
}

// render fills a template. ok is false when a placeholder has no value in
// this run. The branch is sanitized and cut to the room the rest leaves.
func render(tmpl string, segs []segment, v values) (name string, ok bool, err error) {
	restLen := 0
	for _, s := range segs {
		if s.ph == "branch" {
			if v.branch == "" {
				return "", false, nil
			}
			continue
		}
		val := s.lit
		if s.ph != "" {
			val = v.get(s.ph)
			if val == "" {
				return "", false, nil
			}
		}
		restLen += len(val)
	}
	var b strings.Builder
	for _, s := range segs {
		switch s.ph {
		case "":
			b.WriteString(s.lit)
		case "branch":
			br, err := SanitizeBranch(v.branch, MaxTagLen-restLen)
			if err != nil {
				return "", false, err
			}
			b.WriteString(br)
		default:
			b.WriteString(v.get(s.ph))
		}
	}
	name = b.String()
	if !ValidTag(name) {
		return "", false, fmt.Errorf("tag template %q gives %q, which is not a valid tag (at most %d of A-Z a-z 0-9 _ . -)", tmpl, name, MaxTagLen)
	}
	return name, true, nil
}

// phPattern is what each placeholder can produce, for matching floating
// templates in Classify.
var phPattern = map[string]string{
	"sha":     `(?:[0-9a-f]{40}|[0-9a-f]{64})`,
	"sha7":    `[0-9a-f]{7}`,
	"pr":      `[0-9]+`,
	"branch":  `[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?`,
	"run":     `[0-9]+`,
	"date":    `[0-9]{4}-[0-9]{2}-[0-9]{2}`,
	"version": `[0-9]+\.[0-9]+\.[0-9]+(?:-[0-9A-Za-z.-]+)?`,
}

var templateREs sync.Map // template -> *regexp.Regexp, or nil if invalid

// templateRE returns the regexp matching every tag tmpl can produce, or
// nil for a malformed template.
func templateRE(tmpl string) *regexp.Regexp {
	if re, ok := templateREs.Load(tmpl); ok {
		return re.(*regexp.Regexp)
	}
	var re *regexp.Regexp
	if segs, err := parseTemplate(tmpl); err == nil {
		var b strings.Builder
		b.WriteString("^")
		for _, s := range segs {
			if s.ph == "" {
				b.WriteString(regexp.QuoteMeta(s.lit))
			} else {
				b.WriteString(phPattern[s.ph])
			}
		}
		b.WriteString("$")
		re = regexp.MustCompile(b.String()) // built from quoted literals and fixed patterns
	}
	templateREs.Store(tmpl, re)
	return re
}

func hasPlaceholder(tmpl string) bool { return strings.ContainsAny(tmpl, "{}") }
