package retention

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/slipway-ci/slipway/pipeline/config"
	"github.com/slipway-ci/slipway/pipeline/gitctx"
)

// Policy is a compiled retention policy: slipway.yaml's retention section
// plus the floating tags (tags.floating), whose digests are never deleted.
type Policy struct {
	MinAge   time.Duration
	Protect  []*regexp.Regexp
	Rules    []Rule
	Untagged time.Duration
	Floating []string
}

// Rule is one compiled retention rule.
type Rule struct {
	Name         string
	Class        gitctx.Class // empty: any class
	Match        *regexp.Regexp
	OlderThan    time.Duration
	Keep         int
	KeepPerMinor int
}

// NewPolicy compiles r. config.Load validates the same things with field
// paths; NewPolicy checks again so a hand-built config cannot slip through.
func NewPolicy(r config.Retention, floating []string) (*Policy, error) {
	p := &Policy{
		MinAge:   r.MinAge.Std(),
		Untagged: r.Untagged.OlderThan.Std(),
		Floating: append([]string(nil), floating...),
	}
	for i, s := range r.Protect {
		re, err := regexp.Compile(s)
		if err != nil {
			return nil, fmt.Errorf("retention.protect[%d]: %w", i, err)
		}
		p.Protect = append(p.Protect, re)
	}
	for i, cr := range r.Rules {
		rule := Rule{Name: cr.Name, OlderThan: cr.OlderThan.Std(), Keep: cr.Keep, KeepPerMinor: cr.KeepPerMinor}
		if rule.Name == "" {
			rule.Name = fmt.Sprintf("rule-%d", i+1)
		}
		if cr.Class == "" && cr.Match == "" {
			return nil, fmt.Errorf("retention.rules[%d]: needs class or match", i)
		}
		if cr.Class != "" {
			c, err := gitctx.ParseClass(cr.Class)
			if err != nil {
				return nil, fmt.Errorf("retention.rules[%d].class: %w", i, err)
			}
			rule.Class = c
		}
		if cr.Match != "" {
			re, err := regexp.Compile(cr.Match)
			if err != nil {
				return nil, fmt.Errorf("retention.rules[%d].match: %w", i, err)
			}
			rule.Match = re
		}
		if cr.Keep < 0 || cr.KeepPerMinor < 0 {
			return nil, fmt.Errorf("retention.rules[%d]: keep and keepPerMinor must not be negative", i)
		}
		p.Rules = append(p.Rules, rule)
	}
	return p, nil
}

// protectedBy returns the protect pattern matching tag, if any.
func (p *Policy) protectedBy(tag string) (string, bool) {
	for _, re := range p.Protect {
		if re.MatchString(tag) {
			return re.String(), true
		}
	}
	return "", false
}

// isFloating reports whether tag is a floating tag: one of the policy's,
// or any tag the grammar classifies as floating (latest, a template match).
func (p *Policy) isFloating(tag string) bool {
	for _, f := range p.Floating {
		if f == tag {
			return true
		}
	}
	c, ok := classify(tag, p.Floating)
	return ok && c == gitctx.ClassFloating
}

// ruleFor returns the index of the first rule matching tag, or -1.
func (p *Policy) ruleFor(tag string) int {
	for i, r := range p.Rules {
		if r.matches(tag, p.Floating) {
			return i
		}
	}
	return -1
}

func (r Rule) matches(tag string, floating []string) bool {
	if r.Class != "" {
		c, ok := classify(tag, floating)
		if !ok || c != r.Class {
			return false
		}
	}
	if r.Match != nil && !r.Match.MatchString(tag) {
		return false
	}
	return true
}

// describe renders a rule for reasons: "commits (olderThan 30d, keep 30)".
func (r Rule) describe() string {
	var parts []string
	if r.OlderThan > 0 {
		parts = append(parts, "olderThan "+config.Duration(r.OlderThan).String())
	}
	if r.Keep > 0 {
		parts = append(parts, "keep "+strconv.Itoa(r.Keep))
	}
	if r.KeepPerMinor > 0 {
		parts = append(parts, "keepPerMinor "+strconv.Itoa(r.KeepPerMinor))
	}
	if len(parts) == 0 {
		return r.Name
	}
	return r.Name + " (" + strings.Join(parts, ", ") + ")"
}

// semver is a parsed x.y.z tag (an optional leading v).
type semver struct{ major, minor, patch int }

func parseSemver(tag string) (semver, bool) {
	s := strings.TrimPrefix(tag, "v")
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return semver{}, false
	}
	var n [3]int
	for i, p := range parts {
		if p == "" || len(p) > 9 || (len(p) > 1 && p[0] == '0') {
			return semver{}, false
		}
		v, err := strconv.Atoi(p)
		if err != nil || v < 0 {
			return semver{}, false
		}
		n[i] = v
	}
	return semver{n[0], n[1], n[2]}, true
}

// classify and tagDate are gitctx's grammar: the one that makes the tags.
var (
	classify = gitctx.Classify
	tagDate  = gitctx.NightlyDate
)
