package gitctx

import (
	"strings"
	"time"

	"golang.org/x/mod/semver"
)

// Classify returns the class of a tag, by the grammar Tags writes with, and
// false for a tag outside it. The first rule that matches wins:
//
//	sha256-<64 hex>              never classified (the referrers fallback tag)
//	pr-<n>-<hex>                 pr      (hex: 7, 40 or 64 lowercase hex digits)
//	sha-<hex>, <40 or 64 hex>    sha
//	nightly-YYYY-MM-DD           nightly (a real date)
//	X.Y.Z[-pre], X.Y, X, vX, vX.Y, vX.Y.Z[-pre]   semver (X alone: the major alias)
//	run-<digits>                 run
//	latest, a name in floating   floating
//	<sanitized branch>-<hex>     branch
//	a floating template          floating (e.g. "{branch}" matches "main")
//
// floating is the configured floating templates; names without
// placeholders match exactly, templates match any tag they can produce.
func Classify(tag string, floating []string) (Class, bool) {
	if !ValidTag(tag) || isReferrersFallback(tag) {
		return "", false
	}
	if c, ok := classifyBuiltin(tag); ok {
		return c, true
	}
	if tag == LatestTag {
		return ClassFloating, true
	}
	for _, f := range floating {
		if f == tag && !hasPlaceholder(f) {
			return ClassFloating, true
		}
	}
	if i := strings.LastIndexByte(tag, '-'); i > 0 && isRevisionHex(tag[i+1:]) && isSanitized(tag[:i]) {
		return ClassBranch, true
	}
	for _, f := range floating {
		if hasPlaceholder(f) {
			if re := templateRE(f); re != nil && re.MatchString(tag) {
				return ClassFloating, true
			}
		}
	}
	return "", false
}

// classifyBuiltin applies the rules of Classify that need no configuration
// and that no branch name can shadow: pr, sha, nightly, semver, run.
func classifyBuiltin(tag string) (Class, bool) {
	if rest, ok := strings.CutPrefix(tag, "pr-"); ok {
		if n, hex, ok := strings.Cut(rest, "-"); ok && isDigits(n) && isRevisionHex(hex) {
			return ClassPR, true
		}
	}
	if hex, ok := strings.CutPrefix(tag, "sha-"); ok && isRevisionHex(hex) {
		return ClassSHA, true
	}
	if (len(tag) == 40 || len(tag) == 64) && isLowerHex(tag) {
		return ClassSHA, true
	}
	if _, ok := NightlyDate(tag); ok {
		return ClassNightly, true
	}
	if isSemverTag(tag) {
		return ClassSemver, true
	}
	if n, ok := strings.CutPrefix(tag, "run-"); ok && isDigits(n) {
		return ClassRun, true
	}
	return "", false
}

// isRevisionHex reports whether s is a sha7 or a full SHA-1 or SHA-256.
func isRevisionHex(s string) bool {
	return (len(s) == 7 || len(s) == 40 || len(s) == 64) && isLowerHex(s)
}

// isSemverTag: X.Y.Z[-pre], X.Y and X, each with an optional "v". A bare
// number is the major alias Tags writes for a release (v1.2.3 gives "1");
// run ids are written as run-<digits> so the two never meet.
func isSemverTag(tag string) bool {
	v := tag
	if !strings.HasPrefix(v, "v") {
		v = "v" + v
	}
	return semver.IsValid(v) && semver.Build(v) == ""
}

// isReferrersFallback reports whether tag is sha256-<64 hex>, the tag under
// which registries without the referrers API keep an image's referrers.
func isReferrersFallback(tag string) bool {
	hex, ok := strings.CutPrefix(tag, "sha256-")
	return ok && len(hex) == 64 && isLowerHex(hex)
}

// NightlyDate returns the date of a nightly-YYYY-MM-DD tag (midnight UTC),
// which retention can use as the tag's age when nothing better is known.
func NightlyDate(tag string) (time.Time, bool) {
	d, ok := strings.CutPrefix(tag, "nightly-")
	if !ok || len(d) != len(time.DateOnly) {
		return time.Time{}, false
	}
	t, err := time.Parse(time.DateOnly, d)
	if err != nil {
		return time.Time{}, false
	}
	return t, true
}
