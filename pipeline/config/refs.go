package config

import (
	"regexp"
	"slices"
	"sort"
	"strings"
)

// AxisNamePattern is the grammar of a matrix axis name, and so of what
// ${name} can refer to.
const AxisNamePattern = `^[A-Za-z_][A-Za-z0-9_-]*$`

var axisNameRE = regexp.MustCompile(AxisNamePattern)

// Refs returns the axis references ${name} in s, in the order they first
// appear, each once. "$${" is a literal "${" (so a shell variable can be
// written $${HOME}); a "${...}" whose inside is not an axis name (e.g.
// ${HOME:-x}) is literal text, not a reference.
func Refs(s string) []string {
	var refs []string
	scan(s, func(lit string) {}, func(name string) {
		if !slices.Contains(refs, name) {
			refs = append(refs, name)
		}
	})
	return refs
}

// Expand replaces each reference ${name} in s by vars[name] and each "$${"
// by "${". A reference to a name vars does not have is left as written.
// It reads references exactly as Refs does.
func Expand(s string, vars map[string]string) string {
	var b strings.Builder
	scan(s, func(lit string) { b.WriteString(lit) }, func(name string) {
		if v, ok := vars[name]; ok {
			b.WriteString(v)
		} else {
			b.WriteString("${" + name + "}")
		}
	})
	return b.String()
}

// scan splits s into literal text and references.
func scan(s string, lit func(string), ref func(string)) {
	for {
		i := strings.Index(s, "${")
		if i < 0 {
			lit(s)
			return
		}
		if i > 0 && s[i-1] == '$' { // "$${" is a literal "${"
			lit(s[:i-1] + "${")
			s = s[i+2:]
			continue
		}
		lit(s[:i])
		end := strings.IndexByte(s[i+2:], '}')
		if end < 0 || !axisNameRE.MatchString(s[i+2:i+2+end]) {
			lit("${")
			s = s[i+2:]
			continue
		}
		ref(s[i+2 : i+2+end])
		s = s[i+3+end:]
	}
}

// Refs returns the axes s references in its name, its run command, its
// env values (by env name), and its services' args and env values, in
// that order, each once.
func (s Suite) Refs() []string {
	texts := []string{s.Name, s.Run.Shell}
	texts = append(texts, s.Run.Args...)
	keys := make([]string, 0, len(s.Env))
	for k := range s.Env {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		texts = append(texts, s.Env[k])
	}
	for _, svc := range s.Services {
		texts = append(texts, svc.Args...)
		for _, k := range sortedKeys(svc.Env) {
			texts = append(texts, svc.Env[k])
		}
	}
	var refs []string
	for _, t := range texts {
		for _, r := range Refs(t) {
			if !slices.Contains(refs, r) {
				refs = append(refs, r)
			}
		}
	}
	return refs
}

// Axes returns the axes of m that s references, in the matrix's order: the
// dimensions of s's cells. None means the suite runs once. References to
// names m does not have are ignored (Validate reports them).
func (s Suite) Axes(m Matrix) Matrix {
	refs := s.Refs()
	var axes Matrix
	for _, a := range m {
		if slices.Contains(refs, a.Name) {
			axes = append(axes, a)
		}
	}
	return axes
}

// Names returns the axis names in order.
func (m Matrix) Names() []string {
	names := make([]string, len(m))
	for i, a := range m {
		names[i] = a.Name
	}
	return names
}

// Axis returns the axis called name.
func (m Matrix) Axis(name string) (Axis, bool) {
	for _, a := range m {
		if a.Name == name {
			return a, true
		}
	}
	return Axis{}, false
}

// IsZero reports whether c has no command at all.
func (c Command) IsZero() bool { return c.Shell == "" && len(c.Args) == 0 }
