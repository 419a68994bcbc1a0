package retention

import (
	"fmt"
	"github.com/slipway-ci/slipway/pipeline/registry"
	"sort"
	"strings"
	"time"

	"github.com/slipway-ci/slipway/pipeline/config"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// PlanVersion is the version of the plan JSON this build writes and reads.
const PlanVersion = 1

// Action is what an item does.
type Action string

// Actions.
const (
	// ActionDelete deletes a manifest by digest (and so every tag on it).
	ActionDelete Action = "delete"
	// ActionUntag removes one tag; the digest stays for its other tags.
	ActionUntag Action = "untag"
)

// Reason codes: why an item goes or why something stays.
const (
	// Why something goes.
	ByRule     = "rule"     // a rule expired every tag on it
	ByUntagged = "untagged" // the untagged rule
	ByParent   = "parent"   // a child of an index that goes
	BySubject  = "subject"  // a referrer (or fallback index) of a subject that goes

	// Why something stays.
	KeptProtect    = "protect"
	KeptFloating   = "floating"
	KeptInUse      = "in-use"
	KeptMinAge     = "min-age"
	KeptUnknownAge = "unknown-age"
	KeptNoRule     = "no-rule"
	KeptNewest     = "keep"           // among the newest N the rule matches
	KeptPerMinor   = "keep-per-minor" // among the newest N patches of its minor
	KeptYoung      = "younger"        // not older than the rule's olderThan
	KeptTag        = "tag"            // a kept tag points at it
	KeptChild      = "child"          // a kept index lists it
	KeptReferrer   = "referrer"       // it refers to something kept
	KeptSubject    = "subject-of"     // something kept refers to it
	KeptInternal   = "internal"       // Slipway's own promotion lease
	KeptLastTagged = "last-tagged"    // the registry refuses to delete a package's last tagged version
	KeptRollback   = "rollback"       // a floating tag can roll back to it
)

// Reason explains one decision.
type Reason struct {
	Code string `json:"code"`
	// Rule is the rule's name when a rule decided.
	Rule string `json:"rule,omitempty"`
	// Age and its source, when age decided.
	Age *Age `json:"age,omitempty"`
	// Text is the sentence a reviewer reads.
	Text string `json:"text"`
}

// Item is one mutation of the plan.
type Item struct {
	Action Action `json:"action"`
	// Digest deleted, or the digest the tag must still point at to be untagged.
	Digest string `json:"digest"`
	// Tag removed by an untag item.
	Tag string `json:"tag,omitempty"`
	// Tags that go with a deleted digest (the registry drops them with it).
	Tags      []string `json:"tags,omitempty"`
	MediaType string   `json:"mediaType,omitempty"`
	// Bytes of the manifest and the blobs it references.
	Bytes int64 `json:"bytes"`
	// Wave orders the deletes: parents (and referrers) before children.
	Wave   int    `json:"wave"`
	Reason Reason `json:"reason"`
}

// Decision records why a tag or an untagged manifest is kept.
type Decision struct {
	Digest string `json:"digest"`
	Tag    string `json:"tag,omitempty"`
	Reason Reason `json:"reason"`
}

// Summary is the report a reviewer starts from.
type Summary struct {
	Delete        int `json:"delete"`
	Untag         int `json:"untag"`
	KeptTags      int `json:"keptTags"`
	KeptManifests int `json:"keptManifests"`
	// KeptBy counts kept tags and manifests per rule ("rule:<name>") or code.
	KeptBy map[string]int `json:"keptBy"`
	// BytesReclaimable counts manifests and blobs no kept manifest uses.
	BytesReclaimable int64 `json:"bytesReclaimable"`
	// StorageByClass is the bytes behind each tag class (a blob shared by
	// two classes counts in both); "untagged" and "referrers" included.
	StorageByClass map[string]int64 `json:"storageByClass"`
}

// Plan is the outcome of a retention policy over a repository's facts.
type Plan struct {
	Version int        `json:"version"`
	Repo    string     `json:"repo"`
	Now     time.Time  `json:"now"`
	Items   []Item     `json:"items"`
	Kept    []Decision `json:"kept"`
	Summary Summary    `json:"summary"`
	Notes   []string   `json:"notes,omitempty"`
}

// Inputs are what, besides the policy, keeps digests alive.
type Inputs struct {
	// Floating are digests behind floating tags, resolved at the start of
	// the run (Plan also protects whatever the policy's floating tags point at).
	Floating []v1.Hash
	// InUse are digests and tags in use (--in-use FILE).
	InUse InUse
	// Rollback are the digests floating tags can roll back to
	// (FindRollbackTargets).
	Rollback []RollbackTarget
}

// state is Plan's working memory.
type state struct {
	now    time.Time
	p      *Policy
	f      *Facts
	kept   map[v1.Hash]Reason
	tagOK  map[string]Reason // kept tags
	expire map[string]Reason // expired tags
	// parents lists the indexes that list a digest; referrers its referrers.
	parents, referrers, fallbacks map[v1.Hash][]v1.Hash
}

// Evaluate decides, purely from its arguments, what a policy deletes: the
// Plan, with a reason for every item and every kept tag. It reads no clock
// and no registry; now is injected.
func Evaluate(now time.Time, p *Policy, f *Facts, in Inputs) *Plan {
	s := &state{
		now: now, p: p, f: f,
		kept:      make(map[v1.Hash]Reason),
		tagOK:     make(map[string]Reason),
		expire:    make(map[string]Reason),
		parents:   make(map[v1.Hash][]v1.Hash),
		referrers: make(map[v1.Hash][]v1.Hash),
		fallbacks: make(map[v1.Hash][]v1.Hash),
	}
	digests := f.sortedDigests()
	for _, d := range digests {
		m := f.Manifests[d]
		for _, c := range m.Children {
			s.parents[c] = append(s.parents[c], d)
		}
		if m.Subject != nil {
			s.referrers[*m.Subject] = append(s.referrers[*m.Subject], d)
		}
		for _, t := range m.Tags {
			if subj, ok := subjectTag(t); ok {
				s.fallbacks[subj] = append(s.fallbacks[subj], d)
			}
		}
	}
	s.decideTags(digests, in)
	s.keepRoots(digests, in)
	deleted := s.fixpoint(digests)
	if f.KeepLastTagged && s.keepLastTagged(digests, deleted) {
		deleted = s.fixpoint(digests)
	}

	out := &Plan{Version: PlanVersion, Repo: f.Repo, Now: now.UTC(), Notes: append([]string(nil), f.Notes...)}
	out.Items = s.items(digests, deleted)
	out.Kept = s.keptDecisions(digests)
	out.Summary = s.summary(out, deleted)
	return out
}

// realTags are a manifest's tags minus those that belong to a subject
// (referrers fallback tags, cosign's tags).
func realTags(m *Manifest) []string {
	var ts []string
	for _, t := range m.Tags {
		if _, ok := subjectTag(t); !ok {
			ts = append(ts, t)
		}
	}
	sort.Strings(ts)
	return ts
}

func (s *state) ageOf(m *Manifest, tag string) Age {
	if a, ok := m.TagAges[tag]; ok {
		return a
	}
	return Age{Source: AgeUnknown}
}

func (s *state) ageText(a Age) string {
	if !a.Known() {
		return "age unknown"
	}
	return fmt.Sprintf("age %s from %s", fmtAge(s.now.Sub(a.Time)), a.Source)
}

// fmtAge renders a duration as days and hours: "41d3h", "5h".
func fmtAge(d time.Duration) string {
	if d < 0 {
		return "-" + fmtAge(-d)
	}
	days := int(d / (24 * time.Hour))
	hours := int(d%(24*time.Hour)) / int(time.Hour)
	switch {
	case days > 0 && hours > 0:
		return fmt.Sprintf("%dd%dh", days, hours)
	case days > 0:
		return fmt.Sprintf("%dd", days)
	case hours > 0:
		return fmt.Sprintf("%dh", hours)
	default:
		return fmt.Sprintf("%dm", int(d/time.Minute))
	}
}

type member struct {
	tag string
	d   v1.Hash
	age Age
}

// decideTags decides every real tag: kept (and why) or expired (and why).
func (s *state) decideTags(digests []v1.Hash, in Inputs) {
	floatingD := make(map[v1.Hash]bool)
	for _, d := range in.Floating {
		floatingD[d] = true
	}
	for _, d := range digests {
		for _, t := range s.f.Manifests[d].Tags {
			if s.p.isFloating(t) {
				floatingD[d] = true
			}
		}
	}
	inUseD := make(map[v1.Hash]bool)
	for _, d := range in.InUse.Digests {
		inUseD[d] = true
	}
	inUseT := make(map[string]bool)
	for _, t := range in.InUse.Tags {
		inUseT[t] = true
	}
	byRule := make([][]member, len(s.p.Rules))
	for _, d := range digests {
		m := s.f.Manifests[d]
		for _, t := range realTags(m) {
			age := s.ageOf(m, t)
			switch pat, prot := s.p.protectedBy(t); {
			case t == registry.LeaseTag:
				s.tagOK[t] = Reason{Code: KeptInternal, Text: fmt.Sprintf("%s is Slipway's promotion lease, never a rule's to delete", t)}
			case t == registry.PublishTag:
				s.tagOK[t] = Reason{Code: KeptInternal, Text: fmt.Sprintf("%s is where Slipway's engine publishes candidates, never a rule's to delete", t)}
			case s.p.isFloating(t):
				s.tagOK[t] = Reason{Code: KeptFloating, Text: fmt.Sprintf("%s is a floating tag", t)}
			case inUseT[t]:
				s.tagOK[t] = Reason{Code: KeptInUse, Text: fmt.Sprintf("%s is in use", t)}
			case prot:
				s.tagOK[t] = Reason{Code: KeptProtect, Text: fmt.Sprintf("%s matches protect %s", t, pat)}
			case floatingD[d]:
				s.tagOK[t] = Reason{Code: KeptFloating, Text: fmt.Sprintf("%s is on a digest behind a floating tag", t)}
			case inUseD[d]:
				s.tagOK[t] = Reason{Code: KeptInUse, Text: fmt.Sprintf("%s is on a digest in use", t)}
			case rollbackOf(in.Rollback, d) != nil:
				s.tagOK[t] = rollbackOf(in.Rollback, d).reason(t)
			default:
				i := s.p.ruleFor(t)
				if i < 0 {
					s.tagOK[t] = Reason{Code: KeptNoRule, Text: fmt.Sprintf("%s: no rule matches", t)}
					continue
				}
				byRule[i] = append(byRule[i], member{t, d, age})
			}
		}
	}
	for i, ms := range byRule {
		s.decideRule(s.p.Rules[i], ms)
	}
}

// newer orders members newest first; unknown ages count as newest.
func newer(a, b member) bool {
	ak, bk := a.age.Known(), b.age.Known()
	if ak != bk {
		return !ak
	}
	if !a.age.Time.Equal(b.age.Time) {
		return a.age.Time.After(b.age.Time)
	}
	return a.tag < b.tag
}

func (s *state) decideRule(r Rule, ms []member) {
	sort.Slice(ms, func(i, j int) bool { return newer(ms[i], ms[j]) })
	keep := make(map[string]Reason)
	for i, m := range ms {
		if i < r.Keep {
			keep[m.tag] = Reason{Code: KeptNewest, Rule: r.Name, Age: ageRef(m.age),
				Text: fmt.Sprintf("%s is among the newest %d of rule %s", m.tag, r.Keep, r.Name)}
		}
	}
	if r.KeepPerMinor > 0 {
		type minor struct{ major, minor int }
		groups := make(map[minor][]member)
		for _, m := range ms {
			v, ok := parseSemver(m.tag)
			if !ok {
				if _, done := keep[m.tag]; !done {
					keep[m.tag] = Reason{Code: KeptPerMinor, Rule: r.Name,
						Text: fmt.Sprintf("%s is not a x.y.z version, kept by keepPerMinor of rule %s", m.tag, r.Name)}
				}
				continue
			}
			k := minor{v.major, v.minor}
			groups[k] = append(groups[k], m)
		}
		for k, g := range groups {
			sort.Slice(g, func(i, j int) bool {
				a, _ := parseSemver(g[i].tag)
				b, _ := parseSemver(g[j].tag)
				if a.patch != b.patch {
					return a.patch > b.patch
				}
				return g[i].tag < g[j].tag
			})
			for i, m := range g {
				if i >= r.KeepPerMinor {
					break
				}
				if _, done := keep[m.tag]; !done {
					keep[m.tag] = Reason{Code: KeptPerMinor, Rule: r.Name, Age: ageRef(m.age),
						Text: fmt.Sprintf("%s is among the newest %d patches of %d.%d (rule %s)", m.tag, r.KeepPerMinor, k.major, k.minor, r.Name)}
				}
			}
		}
	}
	for _, m := range ms {
		if why, ok := keep[m.tag]; ok {
			s.tagOK[m.tag] = why
			continue
		}
		age := s.now.Sub(m.age.Time)
		switch {
		case !m.age.Known():
			s.tagOK[m.tag] = Reason{Code: KeptUnknownAge, Rule: r.Name, Age: ageRef(m.age),
				Text: fmt.Sprintf("%s matches rule %s but its age is unknown", m.tag, r.Name)}
		case age < s.p.MinAge:
			s.tagOK[m.tag] = Reason{Code: KeptMinAge, Rule: r.Name, Age: ageRef(m.age),
				Text: fmt.Sprintf("%s is younger than minAge %s (%s)", m.tag, config.Duration(s.p.MinAge), s.ageText(m.age))}
		case r.OlderThan > 0 && age <= r.OlderThan:
			s.tagOK[m.tag] = Reason{Code: KeptYoung, Rule: r.Name, Age: ageRef(m.age),
				Text: fmt.Sprintf("%s is not older than %s (rule %s, %s)", m.tag, config.Duration(r.OlderThan), r.Name, s.ageText(m.age))}
		default:
			s.expire[m.tag] = Reason{Code: ByRule, Rule: r.Name, Age: ageRef(m.age),
				Text: fmt.Sprintf("%s expired by rule %s: %s", m.tag, r.describe(), s.ageText(m.age))}
		}
	}
}

func ageRef(a Age) *Age {
	if a.Source == "" {
		a.Source = AgeUnknown
	}
	return &a
}

// keepRoots keeps the digests that kept tags, floating tags, the in-use
// list and minAge hold on to.
func (s *state) keepRoots(digests []v1.Hash, in Inputs) {
	for _, d := range in.Floating {
		if _, ok := s.f.Manifests[d]; ok {
			s.keep(d, Reason{Code: KeptFloating, Text: "behind a floating tag"})
		}
	}
	for _, d := range in.InUse.Digests {
		if _, ok := s.f.Manifests[d]; ok {
			s.keep(d, Reason{Code: KeptInUse, Text: "in use"})
		}
	}
	for _, r := range in.Rollback {
		if _, ok := s.f.Manifests[r.Digest]; ok {
			s.keep(r.Digest, r.reason(""))
		}
	}
	for _, d := range digests {
		m := s.f.Manifests[d]
		for _, t := range realTags(m) {
			if why, ok := s.tagOK[t]; ok {
				s.keep(d, Reason{Code: KeptTag, Rule: why.Rule, Text: fmt.Sprintf("tag %s is kept (%s)", t, why.Code)})
				break
			}
		}
		if len(realTags(m)) > 0 && m.Age.Known() && s.now.Sub(m.Age.Time) < s.p.MinAge {
			s.keep(d, Reason{Code: KeptMinAge, Age: ageRef(m.Age),
				Text: fmt.Sprintf("manifest is younger than minAge %s (%s)", config.Duration(s.p.MinAge), s.ageText(m.Age))})
		}
	}
}

func (s *state) keep(d v1.Hash, why Reason) {
	if _, ok := s.kept[d]; !ok {
		s.kept[d] = why
	}
}

// propagate spreads keeping along reachability: a kept index keeps its
// children, a kept subject its referrers, fallback index and cosign tags,
// a kept referrer or cosign tag its subject.
func (s *state) propagate() {
	var queue []v1.Hash
	for d := range s.kept {
		queue = append(queue, d)
	}
	sort.Slice(queue, func(i, j int) bool { return queue[i].String() < queue[j].String() })
	add := func(d v1.Hash, why Reason) {
		if _, ok := s.f.Manifests[d]; !ok {
			return
		}
		if _, ok := s.kept[d]; ok {
			return
		}
		s.kept[d] = why
		queue = append(queue, d)
	}
	for len(queue) > 0 {
		d := queue[0]
		queue = queue[1:]
		m := s.f.Manifests[d]
		if m == nil {
			continue
		}
		for _, c := range m.Children {
			add(c, Reason{Code: KeptChild, Text: "listed by kept index " + short(d)})
		}
		for _, r := range s.referrers[d] {
			add(r, Reason{Code: KeptReferrer, Text: "refers to kept " + short(d)})
		}
		for _, fb := range s.fallbacks[d] {
			add(fb, Reason{Code: KeptReferrer, Text: "referrers index of kept " + short(d)})
		}
		if m.Subject != nil {
			add(*m.Subject, Reason{Code: KeptSubject, Text: "subject of kept referrer " + short(d)})
		}
		for _, t := range m.Tags {
			if subj, ok := CosignSubject(t); ok {
				add(subj, Reason{Code: KeptSubject, Text: "subject of kept " + t})
			}
		}
	}
}

// fixpoint alternates propagation and the decisions on what is left until
// nothing changes, and returns why each remaining digest goes.
func (s *state) fixpoint(digests []v1.Hash) map[v1.Hash]Reason {
	for {
		s.propagate()
		deleted := make(map[v1.Hash]Reason)
		changed := false
		for _, d := range digests {
			if _, ok := s.kept[d]; ok {
				continue
			}
			why, keep := s.orphan(d)
			if keep {
				s.kept[d] = why
				changed = true
				continue
			}
			deleted[d] = why
		}
		if !changed {
			return deleted
		}
	}
}

// orphan decides a digest nothing kept reaches.
func (s *state) orphan(d v1.Hash) (Reason, bool) {
	m := s.f.Manifests[d]
	tags := realTags(m)
	own := m.Age
	if own.Known() && s.now.Sub(own.Time) < s.p.MinAge {
		return Reason{Code: KeptMinAge, Age: ageRef(own),
			Text: fmt.Sprintf("younger than minAge %s (%s)", config.Duration(s.p.MinAge), s.ageText(own))}, true
	}
	if len(tags) > 0 {
		var rules []string
		var first Reason
		for i, t := range tags {
			r := s.expire[t]
			if i == 0 {
				first = r
			}
			rules = append(rules, r.Text)
		}
		return Reason{Code: ByRule, Rule: first.Rule, Age: first.Age, Text: strings.Join(rules, "; ")}, false
	}
	if ps := s.parents[d]; len(ps) > 0 {
		return Reason{Code: ByParent, Text: "listed only by index " + short(ps[0]) + ", which goes"}, false
	}
	for _, t := range m.Tags {
		if subj, ok := FallbackSubject(t); ok {
			if _, there := s.f.Manifests[subj]; there {
				return Reason{Code: BySubject, Text: "referrers index of " + short(subj) + ", which goes"}, false
			}
		}
		if subj, ok := CosignSubject(t); ok {
			if _, there := s.f.Manifests[subj]; there {
				return Reason{Code: BySubject, Text: "cosign's " + t[strings.LastIndex(t, ".")+1:] + " tag of " + short(subj) + ", which goes"}, false
			}
			return Reason{Code: KeptSubject, Text: t + " is cosign's tag of " + short(subj) + ", which is not in this repository (signatures kept apart)"}, true
		}
	}
	if m.Subject != nil {
		if _, there := s.f.Manifests[*m.Subject]; there {
			return Reason{Code: BySubject, Text: "refers to " + short(*m.Subject) + ", which goes"}, false
		}
	}
	switch limit := max(s.p.Untagged, s.p.MinAge); {
	case !own.Known():
		return Reason{Code: KeptUnknownAge, Age: ageRef(own), Text: "untagged, age unknown"}, true
	case s.now.Sub(own.Time) <= limit:
		return Reason{Code: KeptYoung, Rule: "untagged", Age: ageRef(own),
			Text: fmt.Sprintf("untagged but not older than %s (%s)", config.Duration(limit), s.ageText(own))}, true
	}
	return Reason{Code: ByUntagged, Rule: "untagged", Age: ageRef(own),
		Text: fmt.Sprintf("untagged and older than %s (%s)", config.Duration(s.p.Untagged), s.ageText(own))}, false
}

func short(d v1.Hash) string {
	if len(d.Hex) > 12 {
		return d.Algorithm + ":" + d.Hex[:12]
	}
	return d.String()
}

// items turns the decisions into ordered mutations.
func (s *state) items(digests []v1.Hash, deleted map[v1.Hash]Reason) []Item {
	var items []Item
	wave := make(map[v1.Hash]int)
	var waveOf func(d v1.Hash, depth int) int
	waveOf = func(d v1.Hash, depth int) int {
		if w, ok := wave[d]; ok {
			return w
		}
		w := 0
		if depth < 64 { // content addressing forbids cycles; be safe anyway
			for _, dep := range s.before(d, deleted) {
				w = max(w, waveOf(dep, depth+1)+1)
			}
		}
		wave[d] = w
		return w
	}
	for _, d := range digests {
		m := s.f.Manifests[d]
		if why, ok := deleted[d]; ok {
			items = append(items, Item{Action: ActionDelete, Digest: d.String(), Tags: sortedCopy(m.Tags),
				MediaType: string(m.MediaType), Bytes: totalBytes(m), Wave: waveOf(d, 0), Reason: why})
			continue
		}
		for _, t := range realTags(m) {
			if why, ok := s.expire[t]; ok {
				items = append(items, Item{Action: ActionUntag, Digest: d.String(), Tag: t,
					MediaType: string(m.MediaType), Reason: why})
			}
		}
	}
	// Untags first (wave 0, they free nothing), then deletes by wave.
	for i := range items {
		if items[i].Action == ActionDelete {
			items[i].Wave++
		}
	}
	sort.SliceStable(items, func(i, j int) bool {
		a, b := items[i], items[j]
		if a.Wave != b.Wave {
			return a.Wave < b.Wave
		}
		if a.Digest != b.Digest {
			return a.Digest < b.Digest
		}
		return a.Tag < b.Tag
	})
	return items
}

// before lists the deleted digests that must go before d: indexes listing
// it, its referrers and its fallback index.
func (s *state) before(d v1.Hash, deleted map[v1.Hash]Reason) []v1.Hash {
	var deps []v1.Hash
	for _, group := range [][]v1.Hash{s.parents[d], s.referrers[d], s.fallbacks[d]} {
		for _, p := range group {
			if _, ok := deleted[p]; ok {
				deps = append(deps, p)
			}
		}
	}
	return deps
}

func sortedCopy(ss []string) []string {
	if len(ss) == 0 {
		return nil
	}
	out := append([]string(nil), ss...)
	sort.Strings(out)
	return out
}

func totalBytes(m *Manifest) int64 {
	n := m.Size
	for _, b := range m.Blobs {
		n += b.Size
	}
	return n
}

func (s *state) keptDecisions(digests []v1.Hash) []Decision {
	var out []Decision
	for _, d := range digests {
		why, ok := s.kept[d]
		if !ok {
			continue
		}
		m := s.f.Manifests[d]
		tags := realTags(m)
		keptTag := false
		for _, t := range tags {
			if r, ok := s.tagOK[t]; ok {
				out = append(out, Decision{Digest: d.String(), Tag: t, Reason: r})
				keptTag = true
			}
		}
		if !keptTag {
			out = append(out, Decision{Digest: d.String(), Reason: why})
		}
	}
	return out
}

func keptKey(r Reason) string {
	if r.Rule != "" && r.Rule != "untagged" {
		return "rule:" + r.Rule
	}
	return r.Code
}

func (s *state) summary(p *Plan, deleted map[v1.Hash]Reason) Summary {
	sum := Summary{KeptBy: make(map[string]int), StorageByClass: make(map[string]int64)}
	for _, it := range p.Items {
		if it.Action == ActionDelete {
			sum.Delete++
		} else {
			sum.Untag++
		}
	}
	for _, k := range p.Kept {
		if k.Tag != "" {
			sum.KeptTags++
		}
		sum.KeptBy[keptKey(k.Reason)]++
	}
	sum.KeptManifests = len(s.kept)

	// Reclaimable: manifests that go, and blobs only they use.
	keptBlobs := make(map[v1.Hash]bool)
	for d := range s.kept {
		for _, b := range s.f.Manifests[d].Blobs {
			keptBlobs[b.Digest] = true
		}
	}
	seen := make(map[v1.Hash]bool)
	for d := range deleted {
		m := s.f.Manifests[d]
		sum.BytesReclaimable += m.Size
		for _, b := range m.Blobs {
			if !keptBlobs[b.Digest] && !seen[b.Digest] {
				seen[b.Digest] = true
				sum.BytesReclaimable += b.Size
			}
		}
	}

	// Storage by class: each digest with its index children, blobs once per class.
	perClass := make(map[string]map[v1.Hash]int64)
	var addTo func(class string, d v1.Hash, depth int)
	addTo = func(class string, d v1.Hash, depth int) {
		m := s.f.Manifests[d]
		if m == nil || depth > 8 {
			return
		}
		set := perClass[class]
		if set == nil {
			set = make(map[v1.Hash]int64)
			perClass[class] = set
		}
		set[d] = m.Size
		for _, b := range m.Blobs {
			set[b.Digest] = b.Size
		}
		for _, c := range m.Children {
			addTo(class, c, depth+1)
		}
	}
	for d, m := range s.f.Manifests {
		classes := make(map[string]bool)
		for _, t := range m.Tags {
			switch _, fb := subjectTag(t); {
			case fb:
				classes["referrers"] = true
			default:
				classes[storageClass(t, m.Tags, s.p.Floating)] = true
			}
		}
		if len(classes) == 0 && len(s.parents[d]) == 0 {
			classes["untagged"] = true
		}
		for c := range classes {
			addTo(c, d, 0)
		}
	}
	for c, set := range perClass {
		for _, n := range set {
			sum.StorageByClass[c] += n
		}
	}
	return sum
}

func tagClass(tag string, floating []string) string {
	if c, ok := classify(tag, floating); ok {
		return string(c)
	}
	return "other"
}
