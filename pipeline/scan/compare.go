package scan

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/slipway-ci/slipway/pipeline/config"
)

// Policy is how findings are judged.
type Policy struct {
	// Mode is config.ScanNoNew or config.ScanStrict.
	Mode string
	// Threshold: findings of this severity and above count.
	Threshold Severity
	// IgnoreUnfixed: a finding with no fixed version does not count.
	IgnoreUnfixed bool
	// Ignore is the ignore list; nil for none.
	Ignore *IgnoreList
	// Now decides which ignore rules have expired.
	Now time.Time
}

// PolicyFrom makes the policy of a config's scan section: the threshold is
// the lowest severity it lists.
func PolicyFrom(c config.Scan, ignore *IgnoreList, now time.Time) (Policy, error) {
	p := Policy{Mode: c.Mode, IgnoreUnfixed: c.IgnoreUnfixed, Ignore: ignore, Now: now, Threshold: Critical}
	if c.Mode != config.ScanNoNew && c.Mode != config.ScanStrict {
		return Policy{}, fmt.Errorf("scan mode %q cannot judge findings (want %s or %s)", c.Mode, config.ScanNoNew, config.ScanStrict)
	}
	if len(c.Severity) == 0 {
		return Policy{}, errors.New("scan.severity lists no severity")
	}
	for _, s := range c.Severity {
		v, err := ParseSeverity(s)
		if err != nil || s == "" {
			return Policy{}, fmt.Errorf("scan.severity: %q is not a severity", s)
		}
		if v.Rank() < p.Threshold.Rank() {
			p.Threshold = v
		}
	}
	return p, nil
}

// Ignored is a finding an ignore rule covers.
type Ignored struct {
	Finding
	Rule IgnoreRule `json:"rule"`
}

// ExpiredRule is an ignore rule past its expiry: it no longer ignores, and
// the candidate findings it would have covered are judged as any other.
type ExpiredRule struct {
	IgnoreRule
	// Findings it would have covered ("CVE-… package"), at any severity.
	Findings []string `json:"findings,omitempty"`
}

// Comparison is the candidate's findings judged against the baseline's.
// Only findings at or above the threshold count; each list holds one
// finding per Key, highest severity first.
type Comparison struct {
	Mode          string   `json:"mode"`
	Threshold     Severity `json:"threshold"`
	IgnoreUnfixed bool     `json:"ignoreUnfixed"`
	// Candidate and Baseline are what Trivy scanned.
	Candidate string `json:"candidate,omitempty"`
	Baseline  string `json:"baseline,omitempty"`
	// NoBaseline: there was no baseline image. Every counted finding is New;
	// under no-new none of them blocks (the image promoted becomes the
	// baseline), under strict all do.
	NoBaseline bool `json:"noBaseline,omitempty"`
	// New: counted on the candidate, absent from the baseline.
	New []Finding `json:"new"`
	// Known: counted on the candidate, present on the baseline (at any
	// severity, ignored or not).
	Known []Finding `json:"known"`
	// Fixed: counted on the baseline, absent from the candidate.
	Fixed []Finding `json:"fixed"`
	// Ignored: at or above the threshold on the candidate, covered by a
	// rule that has not expired.
	Ignored []Ignored `json:"ignored"`
	// Expired: the ignore rules past their expiry.
	Expired []ExpiredRule `json:"expired,omitempty"`
	// Unfixed counts the candidate findings at or above the threshold that
	// IgnoreUnfixed left out; Below those under the threshold.
	Unfixed int `json:"unfixed"`
	Below   int `json:"below"`
	// Error says why the candidate could not be judged (its scan failed);
	// the lists are then empty and the comparison never passes.
	Error string `json:"error,omitempty"`
}

// NewBlocks reports whether New findings block: always, except under
// no-new when there is no baseline image to compare with.
func (c *Comparison) NewBlocks() bool { return !(c.NoBaseline && c.Mode == config.ScanNoNew) }

// KnownBlocks reports whether Known findings block: under strict.
func (c *Comparison) KnownBlocks() bool { return c.Mode != config.ScanNoNew }

// Blocking returns the findings that block.
func (c *Comparison) Blocking() []Finding {
	var out []Finding
	if c.NewBlocks() {
		out = append(out, c.New...)
	}
	if c.KnownBlocks() {
		out = append(out, c.Known...)
	}
	return out
}

// Pass reports whether the candidate passes the scan.
func (c *Comparison) Pass() bool { return c.Error == "" && len(c.Blocking()) == 0 }

// Compare judges candidate against baseline (nil: no baseline image).
//
// A candidate finding at or above the threshold is ignored when a rule
// that has not expired covers it, left out when it has no fix and
// IgnoreUnfixed is set, and counted otherwise. A counted finding whose key
// the baseline does not have at all is New; one the baseline has (counted
// there or not) is Known. A finding counted on the baseline whose key the
// candidate no longer has is Fixed.
func Compare(p Policy, candidate, baseline *Report) *Comparison {
	c := &Comparison{
		Mode: p.Mode, Threshold: p.Threshold, IgnoreUnfixed: p.IgnoreUnfixed,
		NoBaseline: baseline == nil,
		New:        []Finding{}, Known: []Finding{}, Fixed: []Finding{}, Ignored: []Ignored{},
	}
	if candidate == nil {
		candidate = &Report{}
	}
	c.Candidate = candidate.Artifact
	cand := p.classify(candidate)
	c.Ignored, c.Unfixed, c.Below = cand.ignored, len(cand.unfixed), len(cand.below)
	var base classified
	if baseline != nil {
		c.Baseline = baseline.Artifact
		base = p.classify(baseline)
	}
	for _, f := range cand.counted {
		if base.all[f.Key()] {
			c.Known = append(c.Known, f)
		} else {
			c.New = append(c.New, f)
		}
	}
	for _, f := range base.counted {
		if !cand.all[f.Key()] {
			c.Fixed = append(c.Fixed, f)
		}
	}
	for _, r := range p.Ignore.Expired(p.Now) {
		e := ExpiredRule{IgnoreRule: r}
		for _, f := range candidate.Findings {
			if r.Matches(f) && !slices.Contains(e.Findings, f.ID+" "+f.Package) {
				e.Findings = append(e.Findings, f.ID+" "+f.Package)
			}
		}
		c.Expired = append(c.Expired, e)
	}
	for _, l := range [][]Finding{c.New, c.Known, c.Fixed} {
		slices.SortStableFunc(l, bySeverity)
	}
	slices.SortStableFunc(c.Ignored, func(a, b Ignored) int { return bySeverity(a.Finding, b.Finding) })
	return c
}

// classified is one report's findings by how the policy counts them, one
// per key.
type classified struct {
	all            map[string]bool // every key, at any severity
	counted        []Finding
	ignored        []Ignored
	unfixed, below map[string]bool
}

func (p Policy) classify(r *Report) classified {
	out := classified{all: map[string]bool{}, unfixed: map[string]bool{}, below: map[string]bool{}}
	counted := map[string]int{} // key -> index in out.counted
	ignored := map[string]int{}
	for _, f := range r.Findings {
		k := f.Key()
		out.all[k] = true
		if !f.Severity.AtLeast(p.Threshold) {
			out.below[k] = true
			continue
		}
		if rule, _ := p.Ignore.Match(f, p.Now); rule != nil {
			if _, ok := ignored[k]; !ok {
				ignored[k] = len(out.ignored)
				out.ignored = append(out.ignored, Ignored{Finding: f, Rule: *rule})
			}
			continue
		}
		if p.IgnoreUnfixed && f.Unfixed() {
			out.unfixed[k] = true
			continue
		}
		if i, ok := counted[k]; ok {
			out.counted[i] = merge(out.counted[i], f)
			continue
		}
		counted[k] = len(out.counted)
		out.counted = append(out.counted, f)
	}
	// A key counted in one place is counted, whatever its other places.
	out.ignored = slices.DeleteFunc(out.ignored, func(i Ignored) bool { _, ok := counted[i.Key()]; return ok })
	for k := range counted {
		delete(out.unfixed, k)
		delete(out.below, k)
	}
	for _, i := range out.ignored {
		delete(out.unfixed, i.Key())
		delete(out.below, i.Key())
	}
	for k := range out.unfixed {
		delete(out.below, k)
	}
	return out
}

// merge keeps one finding for two places of the same key: the higher
// severity, and a fixed version if either has one.
func merge(a, b Finding) Finding {
	if b.Severity.Rank() > a.Severity.Rank() {
		a, b = b, a
	}
	if a.Fixed == "" {
		a.Fixed, a.Status = b.Fixed, b.Status
	}
	return a
}

func bySeverity(a, b Finding) int {
	if n := b.Severity.Rank() - a.Severity.Rank(); n != 0 {
		return n
	}
	if n := strings.Compare(a.ID, b.ID); n != 0 {
		return n
	}
	return strings.Compare(a.Package, b.Package)
}
