package doccheck

import (
	"bytes"
	"errors"
	"fmt"
	"os/exec"
	"regexp"
	"sort"
	"strings"
)

// Problem is one way an invocation disagrees with the code.
type Problem struct {
	Kind   string // one of the Kind* constants
	Object string // the object or verb the name was looked up on
	Name   string // the flag, function or verb
	Msg    string
}

func (p Problem) String() string { return p.Msg }

// Kinds of problems.
const (
	KindUnknownFlag     = "unknown-flag"
	KindUnknownFunction = "unknown-function"
	KindMissingArg      = "missing-arg"
	KindMissingValue    = "missing-value"
	KindNotAnObject     = "not-an-object"
	KindUnknownVerb     = "unknown-verb"
	KindVerbPending     = "verb-pending"     // the verb exists but is a stub
	KindFunctionPending = "function-pending" // the function exists but is a stub
)

// daggerFlags are the Dagger CLI's own flags (global and `call`) an
// invocation may use, and whether each takes a value.
var daggerFlags = map[string]bool{
	"m": true, "mod": true, "o": true, "output": true, "progress": true,
	"workdir": true, "allow-llm": true, "interactive-command": true,
	"json": false, "s": false, "silent": false, "q": false, "quiet": false,
	"v": false, "vv": false, "vvv": false, "verbose": false, "d": false, "debug": false,
	"i": false, "interactive": false, "E": false, "no-exit": false, "W": false, "web": false,
}

// isElision reports whether w stands for words an invocation leaves out:
// "…", or a bash array's expansion ("${secrets[@]}": optional flags a
// script builds, whose names the documented recipes spell out and this
// check sees there).
func isElision(w string) bool { return w == "…" || w == "..." || arrayExpansion.MatchString(w) }

// arrayExpansion is a bash array's expansion, its quotes already removed.
var arrayExpansion = regexp.MustCompile(`^\$\{[A-Za-z_][A-Za-z0-9_]*\[@\]\}$`)

// CheckDagger checks a `dagger … call …` invocation against the schema:
// Dagger's own flags and constructor arguments before the function, then
// each function of the chain with its arguments, on the object the previous
// one returned. Invocations other than `call` are not checked.
func CheckDagger(inv Invocation, s *Schema) []Problem {
	args := inv.Args
	i := 0
	var probs []Problem
	for ; i < len(args); i++ {
		w := args[i]
		if w == "call" {
			break
		}
		if !strings.HasPrefix(w, "-") {
			return nil // dagger functions, dagger version, …
		}
		name, hasValue := flagName(w)
		takes, ok := daggerFlags[name]
		if !ok {
			probs = append(probs, Problem{Kind: KindUnknownFlag, Object: "dagger", Name: name,
				Msg: fmt.Sprintf("dagger: unknown flag --%s (known here: --%s)", name, strings.Join(sortedKeys(daggerFlags), ", --"))})
		}
		if takes && !hasValue {
			i++
		}
		if !ok && !hasValue && i+1 < len(args) && args[i+1] != "call" && !strings.HasPrefix(args[i+1], "-") {
			i++ // an unknown flag's value, most likely
		}
	}
	if i >= len(args) {
		return probs
	}
	i++ // call
	p := &chainParser{s: s, args: args, i: i}
	p.flags("constructor", s.Constructor)
	cur := s.Main
	for p.i < len(p.args) {
		w := p.args[p.i]
		if isElision(w) {
			p.i++
			continue
		}
		if strings.HasPrefix(w, "-") {
			p.flags("dagger call", nil)
			continue
		}
		if cur == "" {
			p.add(Problem{Kind: KindNotAnObject, Object: p.last, Name: w,
				Msg: fmt.Sprintf("%s returns a value, not an object: cannot call %q on it", p.last, w)})
			break
		}
		obj := s.Objects[cur]
		if obj == nil {
			break // a core object whose schema was not loaded: nothing to check against
		}
		fn := obj.Funcs[w]
		if fn == nil {
			p.add(Problem{Kind: KindUnknownFunction, Object: cur, Name: w,
				Msg: fmt.Sprintf("%s has no function %q%s", cur, w, has(obj.names(), ""))})
			break
		}
		if fn.Pending != "" {
			p.add(Problem{Kind: KindFunctionPending, Object: cur, Name: w,
				Msg: fmt.Sprintf("%s.%s is a stub (%q): it runs, but does not work yet", cur, w, fn.Pending)})
		}
		p.i++
		p.last = w
		p.flags(w, fn)
		cur = fn.Returns
	}
	return append(probs, p.probs...)
}

type chainParser struct {
	s     *Schema
	args  []string
	i     int
	last  string
	probs []Problem
}

func (p *chainParser) add(pr Problem) { p.probs = append(p.probs, pr) }

// flags consumes the flags after a function (nil: only Dagger's own) and
// checks that every required argument was given.
func (p *chainParser) flags(where string, fn *Function) {
	seen := map[string]bool{}
	elided := false
	for p.i < len(p.args) {
		w := p.args[p.i]
		if isElision(w) {
			elided = true
			p.i++
			continue
		}
		if !strings.HasPrefix(w, "-") || w == "-" {
			break
		}
		p.i++
		name, hasValue := flagName(w)
		if takes, ok := daggerFlags[name]; ok {
			if takes && !hasValue {
				p.i++
			}
			continue
		}
		var a *Arg
		if fn != nil {
			a = fn.Args[name]
		}
		if a == nil {
			var names []string
			if fn != nil {
				names = sortedKeys(fn.Args)
			}
			p.add(Problem{Kind: KindUnknownFlag, Object: where, Name: name,
				Msg: fmt.Sprintf("%s: unknown argument --%s%s", where, name, has(names, "--"))})
			// Its value, if it has one, is the next word unless that is a flag.
			if !hasValue && p.i < len(p.args) && !strings.HasPrefix(p.args[p.i], "-") && !p.isFunction(p.args[p.i], fn) {
				p.i++
			}
			continue
		}
		seen[name] = true
		if !a.Bool && !hasValue {
			if p.i >= len(p.args) {
				p.add(Problem{Kind: KindMissingValue, Object: where, Name: name,
					Msg: fmt.Sprintf("%s: --%s needs a value", where, name)})
				continue
			}
			p.i++
		}
	}
	if fn == nil || elided {
		return
	}
	for _, n := range sortedKeys(fn.Args) {
		if fn.Args[n].Required && !seen[n] {
			p.add(Problem{Kind: KindMissingArg, Object: where, Name: n,
				Msg: fmt.Sprintf("%s: required argument --%s is missing", where, n)})
		}
	}
}

// isFunction reports whether w names a function of what fn returns.
func (p *chainParser) isFunction(w string, fn *Function) bool {
	if fn == nil {
		return false
	}
	obj := p.s.Objects[fn.Returns]
	return obj != nil && obj.Funcs[w] != nil
}

func (o *Object) names() []string { return sortedKeys(o.Funcs) }

// has renders " (has: a, b)" for a message, or nothing for long lists.
func has(names []string, prefix string) string {
	switch {
	case len(names) == 0:
		return " (has none)"
	case len(names) > 20:
		return ""
	}
	return " (has: " + prefix + strings.Join(names, ", "+prefix) + ")"
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// flagName strips the dashes of -x, --name or --name=value.
// Module is the module a dagger invocation names with -m or --mod before
// its verb, "" for none.
func (inv Invocation) Module() string {
	for i, w := range inv.Args {
		if !strings.HasPrefix(w, "-") {
			return ""
		}
		name, hasValue := flagName(w)
		if name != "m" && name != "mod" {
			continue
		}
		if hasValue {
			_, v, _ := strings.Cut(w, "=")
			return v
		}
		if i+1 < len(inv.Args) {
			return inv.Args[i+1]
		}
	}
	return ""
}

func flagName(w string) (name string, hasValue bool) {
	w = strings.TrimLeft(w, "-")
	name, _, hasValue = strings.Cut(w, "=")
	return name, hasValue
}

// CLI is the slipway command line as its binary describes itself.
type CLI struct {
	Verbs map[string]*Verb
}

// Verb is one slipway verb and its flags (name -> takes a value).
type Verb struct {
	Name    string
	Flags   map[string]bool
	Pending string // non-empty: the verb is a stub; what it said
}

var (
	verbLine = regexp.MustCompile(`^  ([a-z][a-z0-9-]*)\s+\S`)
	flagLine = regexp.MustCompile(`^  -([^\s=]+)(?: ([^\t]+?))?\s*(?:\t.*)?$`)
)

// LoadCLI asks the slipway binary for its verbs (`--help`) and each verb for
// its flags (`VERB --help`, Go's flag.PrintDefaults format). A verb whose
// help fails with "not implemented yet" is kept as pending.
func LoadCLI(bin string) (*CLI, error) {
	out, _, err := runHelp(bin, "--help")
	if err != nil {
		return nil, err
	}
	c := &CLI{Verbs: map[string]*Verb{}}
	inCommands := false
	for _, l := range strings.Split(out, "\n") {
		switch {
		case strings.HasPrefix(l, "commands:"):
			inCommands = true
		case inCommands && strings.TrimSpace(l) == "":
			inCommands = false
		case inCommands:
			if m := verbLine.FindStringSubmatch(l); m != nil {
				c.Verbs[m[1]] = &Verb{Name: m[1]}
			}
		}
	}
	if len(c.Verbs) == 0 {
		return nil, fmt.Errorf("%s --help lists no commands:\n%s", bin, out)
	}
	for name, v := range c.Verbs {
		out, code, err := runHelp(bin, name, "--help")
		if err != nil {
			return nil, err
		}
		if code != 0 {
			if strings.Contains(out, "not implemented yet") {
				v.Pending = strings.TrimSpace(out)
				continue
			}
			return nil, fmt.Errorf("slipway %s --help: exit %d:\n%s", name, code, out)
		}
		v.Flags = ParseFlagDefaults(out)
	}
	return c, nil
}

// ParseFlagDefaults reads the flags of Go's flag.PrintDefaults output:
// "  -name type" for flags with a value, "  -name" for booleans.
func ParseFlagDefaults(help string) map[string]bool {
	flags := map[string]bool{}
	for _, l := range strings.Split(help, "\n") {
		if m := flagLine.FindStringSubmatch(l); m != nil {
			flags[m[1]] = m[2] != ""
		}
	}
	return flags
}

func runHelp(bin string, args ...string) (string, int, error) {
	cmd := exec.Command(bin, args...)
	var buf bytes.Buffer
	cmd.Stdout, cmd.Stderr = &buf, &buf
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return buf.String(), ee.ExitCode(), nil
	}
	if err != nil {
		return "", 0, err
	}
	return buf.String(), 0, nil
}

// CheckSlipway checks a slipway invocation: the verb exists and every flag
// is one of its flags. Positional arguments are not checked.
func CheckSlipway(inv Invocation, c *CLI) []Problem {
	if len(inv.Args) == 0 || strings.HasPrefix(inv.Args[0], "-") || isElision(inv.Args[0]) {
		return nil // slipway, slipway --help
	}
	name := inv.Args[0]
	v := c.Verbs[name]
	if v == nil {
		return []Problem{{Kind: KindUnknownVerb, Object: "slipway", Name: name,
			Msg: fmt.Sprintf("slipway has no verb %q (has: %s)", name, strings.Join(sortedKeys(c.Verbs), ", "))}}
	}
	if v.Pending != "" {
		return []Problem{{Kind: KindVerbPending, Object: "slipway", Name: name,
			Msg: fmt.Sprintf("slipway %s is not implemented yet: its flags are unchecked", name)}}
	}
	var probs []Problem
	args := inv.Args[1:]
	for i := 0; i < len(args); i++ {
		w := args[i]
		if w == "--" {
			break
		}
		if !strings.HasPrefix(w, "-") || w == "-" || isElision(w) {
			continue
		}
		fname, hasValue := flagName(w)
		if fname == "h" || fname == "help" {
			continue
		}
		takes, ok := v.Flags[fname]
		if !ok {
			probs = append(probs, Problem{Kind: KindUnknownFlag, Object: "slipway " + name, Name: fname,
				Msg: fmt.Sprintf("slipway %s: unknown flag --%s%s", name, fname, has(sortedKeys(v.Flags), "--"))})
			continue
		}
		if takes && !hasValue {
			if i+1 >= len(args) {
				probs = append(probs, Problem{Kind: KindMissingValue, Object: "slipway " + name, Name: fname,
					Msg: fmt.Sprintf("slipway %s: --%s needs a value", name, fname)})
			}
			i++
		}
	}
	return probs
}
