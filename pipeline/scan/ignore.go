package scan

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/url"
	"path"
	"slices"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// MaxIgnoreBytes is the largest ignore file ParseIgnore reads.
const MaxIgnoreBytes = 1 << 20

// maxIgnoreValues bounds the YAML values one ignore file may decode to once
// aliases are expanded.
const maxIgnoreValues = 100_000

// DefaultIgnoreFiles are the ignore files looked for at the repository root
// when scan.ignoreFile is not set, in order; the first that exists is used.
func DefaultIgnoreFiles() []string {
	return []string{".trivyignore.yaml", ".trivyignore.yml", ".trivyignore"}
}

// IgnoreRule is one entry of an ignore file. It matches a finding when
// every field it sets matches: the id, one of the paths (a glob over the
// finding's target or package path, ** for any number of directories), one
// of the purls (type, namespace and name; the version and qualifiers when
// the rule gives them).
type IgnoreRule struct {
	ID        string   `json:"id,omitempty"`
	Paths     []string `json:"paths,omitempty"`
	PURLs     []string `json:"purls,omitempty"`
	Statement string   `json:"statement,omitempty"`
	// ExpiredAt: from this instant on the rule no longer ignores anything
	// (Trivy's expired_at, or exp: in .trivyignore; a date is its
	// midnight UTC). Zero: never.
	ExpiredAt time.Time `json:"expiredAt,omitzero"`
	// File and Line say where the rule is written.
	File string `json:"file,omitempty"`
	Line int    `json:"line,omitempty"`

	purls []purl
}

// Expired reports whether the rule no longer ignores at now.
func (r *IgnoreRule) Expired(now time.Time) bool {
	return !r.ExpiredAt.IsZero() && r.ExpiredAt.Before(now)
}

// Matches reports whether the rule covers f, ignoring its expiry.
func (r *IgnoreRule) Matches(f Finding) bool {
	if r.ID != "" && r.ID != f.ID {
		return false
	}
	if len(r.Paths) > 0 && !slices.ContainsFunc(r.Paths, func(p string) bool {
		return matchGlob(p, f.Target) || (f.PkgPath != "" && matchGlob(p, f.PkgPath))
	}) {
		return false
	}
	if len(r.purls) > 0 {
		// A finding without a package URL is not covered by a purl rule
		// (Trivy would ignore it; ignoring less is the safe side).
		target, err := parsePURL(f.PURL)
		if err != nil || !slices.ContainsFunc(r.purls, func(p purl) bool { return p.matches(target) }) {
			return false
		}
	}
	return true
}

// Where is the rule's place, "file:line".
func (r *IgnoreRule) Where() string {
	if r.Line > 0 {
		return fmt.Sprintf("%s:%d", r.File, r.Line)
	}
	return r.File
}

// Subject names what the rule ignores: its id, else its paths and purls.
func (r *IgnoreRule) Subject() string {
	if r.ID != "" {
		return r.ID
	}
	return strings.Join(append(slices.Clone(r.Paths), r.PURLs...), ", ")
}

// IgnoreList is a parsed ignore file.
type IgnoreList struct {
	File  string
	Rules []IgnoreRule
}

// Match returns the first rule that ignores f at now (nil: none), and the
// expired rules that would have.
func (l *IgnoreList) Match(f Finding, now time.Time) (active *IgnoreRule, expired []*IgnoreRule) {
	if l == nil {
		return nil, nil
	}
	for i := range l.Rules {
		r := &l.Rules[i]
		if !r.Matches(f) {
			continue
		}
		if r.Expired(now) {
			expired = append(expired, r)
		} else if active == nil {
			active = r
		}
	}
	return active, expired
}

// Expired returns the rules that have expired at now.
func (l *IgnoreList) Expired(now time.Time) []IgnoreRule {
	if l == nil {
		return nil
	}
	var out []IgnoreRule
	for _, r := range l.Rules {
		if r.Expired(now) {
			out = append(out, r)
		}
	}
	return out
}

// ParseIgnore reads an ignore file named name: the YAML form when the name
// ends in .yaml or .yml (as Trivy decides), else .trivyignore lines.
func ParseIgnore(name string, r io.Reader) (*IgnoreList, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxIgnoreBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	if len(data) > MaxIgnoreBytes {
		return nil, fmt.Errorf("reading %s: %w (%d bytes)", name, ErrTooLarge, MaxIgnoreBytes)
	}
	if ext := path.Ext(name); ext == ".yaml" || ext == ".yml" {
		return parseIgnoreYAML(name, data)
	}
	return parseIgnoreLines(name, data)
}

// parseIgnoreLines reads .trivyignore: one id a line, "#" comments, and an
// optional "exp:YYYY-MM-DD" after the id. A date Trivy would skip with a
// warning is an error here: a typo must not ignore forever nor silently.
func parseIgnoreLines(name string, data []byte) (*IgnoreList, error) {
	l := &IgnoreList{File: name}
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(nil, MaxIgnoreBytes+1)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.Fields(line)
		r := IgnoreRule{ID: fields[0], File: name, Line: n}
		for _, f := range fields[1:] {
			if strings.HasPrefix(f, "#") {
				break
			}
			if d, ok := strings.CutPrefix(f, "exp:"); ok {
				t, err := time.Parse(time.DateOnly, d)
				if err != nil {
					return nil, fmt.Errorf("%s:%d: %q is not a date (exp:YYYY-MM-DD)", name, n, d)
				}
				r.ExpiredAt = t
			}
		}
		l.Rules = append(l.Rules, r)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading %s: %w", name, err)
	}
	return l, nil
}

// yamlIgnore walks the YAML form's nodes; its errors carry lines.
type yamlIgnore struct {
	name   string
	values int
}

func (y *yamlIgnore) errorf(n *yaml.Node, format string, args ...any) error {
	return fmt.Errorf("%s:%d: %s", y.name, n.Line, fmt.Sprintf(format, args...))
}

// node follows aliases and counts the value against the budget.
func (y *yamlIgnore) node(n *yaml.Node) (*yaml.Node, error) {
	for range 8 {
		if n.Kind != yaml.AliasNode || n.Alias == nil {
			break
		}
		n = n.Alias
	}
	if y.values++; y.values > maxIgnoreValues {
		return nil, y.errorf(n, "more than %d values once aliases are expanded", maxIgnoreValues)
	}
	if n.Kind == yaml.AliasNode {
		return nil, y.errorf(n, "aliases nest too deep")
	}
	return n, nil
}

// parseIgnoreYAML reads the .trivyignore.yaml form. Keys are checked
// strictly; misconfigurations, secrets and licenses are accepted and not
// used (they are not vulnerabilities).
func parseIgnoreYAML(name string, data []byte) (*IgnoreList, error) {
	y := &yamlIgnore{name: name}
	l := &IgnoreList{File: name}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, fmt.Errorf("%s: %s", name, strings.TrimPrefix(err.Error(), "yaml: "))
	}
	if len(doc.Content) == 0 {
		return l, nil
	}
	root, err := y.node(doc.Content[0])
	if err != nil {
		return nil, err
	}
	if isNull(root) {
		return l, nil
	}
	if root.Kind != yaml.MappingNode {
		return nil, y.errorf(root, "the document must be a mapping (vulnerabilities: [...])")
	}
	seen := map[string]bool{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k, v := root.Content[i], root.Content[i+1]
		if seen[k.Value] {
			return nil, y.errorf(k, "duplicate key %q", k.Value)
		}
		seen[k.Value] = true
		switch k.Value {
		case "vulnerabilities":
			if l.Rules, err = y.rules(v); err != nil {
				return nil, err
			}
		case "misconfigurations", "secrets", "licenses":
			if v, err = y.node(v); err != nil {
				return nil, err
			}
			if v.Kind != yaml.SequenceNode && !isNull(v) {
				return nil, y.errorf(v, "%s must be a list", k.Value)
			}
		default:
			return nil, y.errorf(k, "unknown key %q (want vulnerabilities, misconfigurations, secrets or licenses)", k.Value)
		}
	}
	return l, nil
}

func (y *yamlIgnore) rules(n *yaml.Node) ([]IgnoreRule, error) {
	n, err := y.node(n)
	if err != nil || isNull(n) {
		return nil, err
	}
	if n.Kind != yaml.SequenceNode {
		return nil, y.errorf(n, "vulnerabilities must be a list of entries (- id: CVE-…)")
	}
	var out []IgnoreRule
	for _, item := range n.Content {
		e, err := y.node(item)
		if err != nil {
			return nil, err
		}
		if e.Kind != yaml.MappingNode {
			return nil, y.errorf(e, "an entry must be a mapping (id, paths, purls, statement, expired_at)")
		}
		r := IgnoreRule{File: y.name, Line: e.Line}
		seen := map[string]bool{}
		for i := 0; i+1 < len(e.Content); i += 2 {
			k := e.Content[i]
			v, err := y.node(e.Content[i+1])
			if err != nil {
				return nil, err
			}
			if seen[k.Value] {
				return nil, y.errorf(k, "duplicate key %q", k.Value)
			}
			seen[k.Value] = true
			switch k.Value {
			case "id":
				r.ID, err = y.str(v, "id")
			case "statement":
				r.Statement, err = y.str(v, "statement")
			case "expired_at":
				r.ExpiredAt, err = y.date(v)
			case "paths":
				if r.Paths, err = y.strs(v, "paths"); err == nil {
					for _, p := range r.Paths {
						if _, perr := path.Match(p, ""); perr != nil || p == "" {
							return nil, y.errorf(v, "paths: %q is not a glob pattern", p)
						}
					}
				}
			case "purls":
				if r.PURLs, err = y.strs(v, "purls"); err == nil {
					for _, s := range r.PURLs {
						p, perr := parsePURL(s)
						if perr != nil {
							return nil, y.errorf(v, "purls: %v", perr)
						}
						r.purls = append(r.purls, p)
					}
				}
			default:
				err = y.errorf(k, "unknown key %q (want id, paths, purls, statement or expired_at)", k.Value)
			}
			if err != nil {
				return nil, err
			}
		}
		if r.ID == "" && len(r.Paths) == 0 && len(r.PURLs) == 0 {
			return nil, y.errorf(e, "an entry needs an id, paths or purls: it would ignore everything")
		}
		out = append(out, r)
	}
	return out, nil
}

func (y *yamlIgnore) str(n *yaml.Node, key string) (string, error) {
	if n.Kind != yaml.ScalarNode || isNull(n) {
		return "", y.errorf(n, "%s must be a string", key)
	}
	return strings.TrimSpace(n.Value), nil
}

func (y *yamlIgnore) strs(n *yaml.Node, key string) ([]string, error) {
	if n.Kind != yaml.SequenceNode {
		return nil, y.errorf(n, "%s must be a list of strings", key)
	}
	out := make([]string, 0, len(n.Content))
	for _, item := range n.Content {
		v, err := y.node(item)
		if err != nil {
			return nil, err
		}
		s, err := y.str(v, key)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// date reads expired_at: a date (its midnight UTC) or an RFC 3339 time.
func (y *yamlIgnore) date(n *yaml.Node) (time.Time, error) {
	if n.Kind == yaml.ScalarNode && !isNull(n) {
		for _, layout := range []string{time.DateOnly, time.RFC3339Nano} {
			if t, err := time.Parse(layout, strings.TrimSpace(n.Value)); err == nil {
				return t, nil
			}
		}
	}
	return time.Time{}, y.errorf(n, "expired_at: %q is not a date (YYYY-MM-DD)", n.Value)
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// matchGlob matches a slash-separated name against a pattern whose
// segments are path.Match patterns or "**" (any number of segments), by
// dynamic programming: no backtracking blow-up on hostile patterns.
func matchGlob(pattern, name string) bool {
	if name == "" {
		return false
	}
	ps := strings.Split(strings.TrimPrefix(pattern, "./"), "/")
	ns := strings.Split(strings.TrimPrefix(name, "./"), "/")
	// ok[j]: ps[:i] matches ns[:j], row by row.
	ok := make([]bool, len(ns)+1)
	ok[0] = true
	for _, p := range ps {
		next := make([]bool, len(ns)+1)
		if p == "**" {
			reached := false
			for j := range ok {
				reached = reached || ok[j]
				next[j] = reached
			}
		} else {
			for j := 1; j <= len(ns); j++ {
				if ok[j-1] {
					next[j], _ = path.Match(p, ns[j-1])
				}
			}
		}
		ok = next
	}
	return ok[len(ns)]
}

// purl is a package URL (pkg:type/namespace/name@version?qualifiers),
// reduced to what matching needs.
type purl struct {
	typ, namespace, name, version string
	qualifiers                    map[string]string
}

var errNotPURL = errors.New("not a package URL (pkg:type/namespace/name@version)")

func parsePURL(s string) (purl, error) {
	rest, ok := strings.CutPrefix(strings.TrimSpace(s), "pkg:")
	if !ok {
		return purl{}, fmt.Errorf("%q: %w", s, errNotPURL)
	}
	rest, _, _ = strings.Cut(strings.TrimLeft(rest, "/"), "#")
	rest, query, _ := strings.Cut(rest, "?")
	typ, rest, ok := strings.Cut(rest, "/")
	if !ok || typ == "" {
		return purl{}, fmt.Errorf("%q: %w", s, errNotPURL)
	}
	p := purl{typ: strings.ToLower(typ)}
	rest = strings.Trim(rest, "/")
	if i := strings.LastIndexByte(rest, '/'); strings.Contains(rest[i+1:], "@") {
		at := i + 1 + strings.IndexByte(rest[i+1:], '@')
		p.version, rest = rest[at+1:], rest[:at]
	}
	segs := strings.Split(rest, "/")
	var err error
	if p.name, err = url.PathUnescape(segs[len(segs)-1]); err != nil || p.name == "" {
		return purl{}, fmt.Errorf("%q: %w", s, errNotPURL)
	}
	for i, seg := range segs[:len(segs)-1] {
		if segs[i], err = url.PathUnescape(seg); err != nil {
			return purl{}, fmt.Errorf("%q: %w", s, errNotPURL)
		}
	}
	p.namespace = strings.Join(segs[:len(segs)-1], "/")
	if p.version, err = url.PathUnescape(p.version); err != nil {
		return purl{}, fmt.Errorf("%q: %w", s, errNotPURL)
	}
	for _, kv := range strings.Split(query, "&") {
		k, v, _ := strings.Cut(kv, "=")
		if k == "" {
			continue
		}
		if v, err = url.QueryUnescape(v); err != nil {
			return purl{}, fmt.Errorf("%q: %w", s, errNotPURL)
		}
		if p.qualifiers == nil {
			p.qualifiers = map[string]string{}
		}
		p.qualifiers[strings.ToLower(k)] = v
	}
	return p, nil
}

// matches reports whether target satisfies the constraint p: same type,
// namespace and name; p's version and qualifiers when p has them.
func (p purl) matches(target purl) bool {
	if p.typ != target.typ || p.namespace != target.namespace || p.name != target.name {
		return false
	}
	if p.version != "" && p.version != target.version {
		return false
	}
	for k, v := range p.qualifiers {
		if target.qualifiers[k] != v {
			return false
		}
	}
	return true
}
