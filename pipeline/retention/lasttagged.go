package retention

import (
	"strings"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// keepLastTagged keeps the newest tagged manifest, and every tag on it,
// when the plan would leave no tagged manifest (Facts.KeepLastTagged: on
// ghcr.io deleting the last tagged version of a package fails, and a plan
// that tries it fails on every run). It reports whether it kept one.
func (s *state) keepLastTagged(digests []v1.Hash, deleted map[v1.Hash]Reason) bool {
	var newest v1.Hash
	var newestAge Age
	found := false
	for _, d := range digests {
		m := s.f.Manifests[d]
		if len(m.Tags) == 0 {
			continue
		}
		_, goes := deleted[d]
		if !goes && s.keepsATag(m) {
			return false // a tagged manifest stays
		}
		age := newestTagAge(m)
		if !found || newerAge(age, newestAge) {
			newest, newestAge, found = d, age, true
		}
	}
	if !found {
		return false
	}
	why := Reason{Code: KeptLastTagged, Age: ageRef(newestAge),
		Text: "the registry refuses to delete a package's last tagged version: the newest tagged version stays (delete the package to remove it)"}
	for _, t := range realTags(s.f.Manifests[newest]) {
		delete(s.expire, t)
		tr := why
		tr.Text = t + ": " + why.Text
		s.tagOK[t] = tr
	}
	s.kept[newest] = why
	return true
}

// keepsATag reports whether a manifest that stays keeps a tag: one not
// expired (fallback tags are never expired).
func (s *state) keepsATag(m *Manifest) bool {
	for _, t := range m.Tags {
		if _, ok := s.expire[t]; !ok {
			return true
		}
	}
	return false
}

// newestTagAge is the youngest known age among m's tags, else m's own.
func newestTagAge(m *Manifest) Age {
	best := m.Age
	for _, t := range m.Tags {
		if a, ok := m.TagAges[t]; ok && a.Known() && (!best.Known() || a.Time.After(best.Time)) {
			best = a
		}
	}
	return best
}

// newerAge orders ages newest first; unknown counts as newest.
func newerAge(a, b Age) bool {
	if a.Known() != b.Known() {
		return !a.Known()
	}
	return a.Time.After(b.Time)
}

// storageClass is tag's class in the report's storage by class. A bare
// number is the major alias of a release ("1" beside "1.2.3") only on a
// manifest that also carries a N.y or N.y.z tag of that major: Slipway
// moves the alias with the release. Elsewhere it is a run id (`{run}`
// tags, e.g. 7712345678), not a semver.
func storageClass(tag string, siblings, floating []string) string {
	c := tagClass(tag, floating)
	if c != "semver" || strings.Trim(tag, "0123456789") != "" {
		return c
	}
	for _, s := range siblings {
		if strings.HasPrefix(strings.TrimPrefix(s, "v"), tag+".") && tagClass(s, floating) == "semver" {
			return c
		}
	}
	return "run"
}
