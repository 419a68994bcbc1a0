// Package gitctx turns the CI and git context of a run into tags, tag
// classes and OCI labels. One grammar makes tags and parses them back.
package gitctx

import "fmt"

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

// CheckTemplate reports whether a tag template only uses known placeholders.
// TODO(gitctx): the full grammar.
func CheckTemplate(tmpl string) error {
	return nil
}
