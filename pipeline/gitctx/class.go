// Package gitctx turns the CI and git context of a run into tags, tag
// classes and OCI labels. One grammar makes tags and parses them back.
package gitctx

import (
	"fmt"
	"strings"
)

// Class is the kind of a tag Slipway writes.
type Class string

// Tag classes.
const (
	ClassPR       Class = "pr"
	ClassBranch   Class = "branch"
	ClassSHA      Class = "sha"
	ClassSemver   Class = "semver"
	ClassNightly  Class = "nightly"
	ClassRun      Class = "run"
	ClassFloating Class = "floating"
)

// Classes lists every class, in a stable order.
var Classes = []Class{ClassPR, ClassBranch, ClassSHA, ClassSemver, ClassNightly, ClassRun, ClassFloating}

// ParseClass returns the class named s, or an error naming the known ones.
func ParseClass(s string) (Class, error) {
	for _, c := range Classes {
		if string(c) == s {
			return c, nil
		}
	}
	return "", fmt.Errorf("unknown tag class %q (known: pr, branch, sha, semver, nightly, run, floating)", s)
}

// CheckTemplate reports whether tmpl is a well-formed tag template: literal
// characters from [A-Za-z0-9_.-], placeholders from Placeholders in braces
// (each at most once), not starting with '.' or '-', literal text at most
// MaxTagLen long. It does not check the class of the template: see
// ImmutableClass and CheckTemplates for that.
func CheckTemplate(tmpl string) error {
	_, err := parseTemplate(tmpl)
	return err
}

// immutableForms are the immutable tag templates the grammar reads back
// (Classify returns the listed class for every tag they produce). Any other
// immutable template is refused: a tag nobody can classify is a tag
// retention cannot reason about.
var immutableForms = []struct {
	tmpl  string
	class Class
}{
	{"pr-{pr}-{sha7}", ClassPR},
	{"pr-{pr}-{sha}", ClassPR},
	{"{branch}-{sha7}", ClassBranch},
	{"{branch}-{sha}", ClassBranch},
	{"sha-{sha7}", ClassSHA},
	{"sha-{sha}", ClassSHA},
	{"{sha}", ClassSHA},
	{"nightly-{date}", ClassNightly},
	{"run-{run}", ClassRun},
	{"{version}", ClassSemver},
	{"v{version}", ClassSemver},
}

// ImmutableClass returns the class of an immutable tag template. The class
// is decided by the template's form (pr-{pr}-{sha7} is pr, {branch}-{sha7}
// is branch, sha-{sha7} is sha, nightly-{date} is nightly, {run} is run,
// {version} is semver); a template of any other form is an error listing
// the accepted forms.
func ImmutableClass(tmpl string) (Class, error) {
	if err := CheckTemplate(tmpl); err != nil {
		return "", err
	}
	forms := make([]string, 0, len(immutableForms))
	for _, f := range immutableForms {
		if f.tmpl == tmpl {
			return f.class, nil
		}
		forms = append(forms, f.tmpl)
	}
	return "", fmt.Errorf("immutable tag template %q: not a form the tag grammar reads back (use one of %s, or make it floating)",
		tmpl, strings.Join(forms, ", "))
}

// CheckTemplates checks a whole tags configuration: every immutable
// template has an ImmutableClass, every floating template passes
// CheckTemplate, and a floating name without placeholders does not read as
// another class ("1.2" and "1" are semver, "run-123" is run, "sha256-<64 hex>" is the
// referrers fallback tag). Tags calls it; config can call it to fail early.
func CheckTemplates(immutable, floating []string) error {
	for _, t := range immutable {
		if _, err := ImmutableClass(t); err != nil {
			return err
		}
	}
	for _, t := range floating {
		segs, err := parseTemplate(t)
		if err != nil {
			return fmt.Errorf("floating tag: %w", err)
		}
		if len(segs) != 1 || segs[0].ph != "" {
			continue // has placeholders: checked when Tags renders it
		}
		if isReferrersFallback(t) {
			return fmt.Errorf("floating tag %q: reserved for the referrers fallback tag", t)
		}
		if c, ok := classifyBuiltin(t); ok {
			return fmt.Errorf("floating tag %q reads as class %s; pick a name outside the tag grammar", t, c)
		}
	}
	return nil
}
