package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// MaxSize is the largest slipway.yaml Load reads.
const MaxSize = 1 << 20

// maxValues bounds the values one document may decode to once aliases are
// expanded (the "billion laughs" of YAML).
const maxValues = 100_000

// Load reads a slipway.yaml from r: strict decoding (an unknown key is an
// error), the version check, Default() for every field the file does not
// set, and Validate. An empty document yields Default().
//
// On failure the error is an Errors listing every problem, each a
// *FieldError with the field path and line; nothing is returned with it.
func Load(r io.Reader) (*Config, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	return parse(data, "")
}

// LoadFile is Load of the file at path; its errors start with the path
// ("slipway.yaml:31: ..."). A file that does not exist is an error wrapping
// fs.ErrNotExist, so a caller looking at the default path may fall back to
// Default():
//
//	cfg, err := config.LoadFile(config.DefaultPath)
//	if errors.Is(err, fs.ErrNotExist) { d := config.Default(); cfg, err = &d, nil }
func LoadFile(path string) (*Config, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	return parse(data, path)
}

func parse(data []byte, file string) (*Config, error) {
	cfg, errs := decode(data)
	if len(errs) == 0 {
		return cfg, nil
	}
	for _, e := range errs {
		e.File = file
	}
	return nil, errs.sorted()
}

// decode turns a document into a validated Config, or the problems found.
func decode(data []byte) (*Config, Errors) {
	cfg := Default()
	if len(data) > MaxSize {
		return nil, Errors{{Msg: fmt.Sprintf("larger than %d bytes", MaxSize)}}
	}
	root, err := document(data)
	if err != nil {
		return nil, Errors{err}
	}
	d := &decoder{lines: map[string]int{}}
	if root != nil {
		if e := checkVersion(root); e != nil {
			return nil, Errors{e}
		}
		d.value(root, reflect.ValueOf(&cfg).Elem(), "")
		if d.fatal {
			return nil, d.errs
		}
	}
	errs := d.errs
	for _, e := range validate(&cfg, d.lines) {
		if !d.failedNear(e.Path) {
			errs = append(errs, e)
		}
	}
	if len(errs) > 0 {
		return nil, errs
	}
	return &cfg, nil
}

var yamlErrRE = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// document parses data as exactly one YAML document and returns its root
// node; nil for an empty document (nothing, comments, or null).
func document(data []byte) (*yaml.Node, *FieldError) {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var doc yaml.Node
	if err := dec.Decode(&doc); errors.Is(err, io.EOF) {
		return nil, nil
	} else if err != nil {
		return nil, syntaxError(err, data)
	}
	var next yaml.Node
	if err := dec.Decode(&next); err == nil {
		return nil, &FieldError{Line: next.Line, Msg: "only one YAML document is allowed"}
	} else if !errors.Is(err, io.EOF) {
		return nil, syntaxError(err, data)
	}
	if len(doc.Content) == 0 || isNull(doc.Content[0]) {
		return nil, nil
	}
	root := doc.Content[0]
	if root.Kind != yaml.MappingNode {
		return nil, &FieldError{Line: root.Line, Msg: "the document must be a mapping, got " + describe(root)}
	}
	return root, nil
}

// parserProblems are the yaml parser's (not scanner's) messages: yaml.v3
// gives their line 0-based, and none when it is the first.
var parserProblems = []string{
	"did not find expected ',' or ']'",
	"did not find expected ',' or '}'",
	"did not find expected '-' indicator",
	"did not find expected <document start>",
	"did not find expected key",
	"did not find expected node content",
	"found duplicate %TAG directive",
	"found duplicate %YAML directive",
	"found incompatible YAML document",
	"found undefined tag handle",
}

var unknownAnchorRE = regexp.MustCompile(`^unknown anchor '(.*)' referenced$`)

// syntaxError places a yaml.v3 parse error on its line.
func syntaxError(err error, data []byte) *FieldError {
	e := &FieldError{Msg: strings.TrimPrefix(err.Error(), "yaml: ")}
	if m := yamlErrRE.FindStringSubmatch(err.Error()); m != nil {
		e.Line, _ = strconv.Atoi(m[1])
		e.Msg = m[2]
	}
	switch m := unknownAnchorRE.FindStringSubmatch(e.Msg); {
	case m != nil:
		for i, l := range bytes.Split(data, []byte("\n")) {
			if bytes.Contains(l, []byte("*"+m[1])) {
				e.Line = i + 1
				break
			}
		}
	case slices.Contains(parserProblems, e.Msg):
		e.Line++
	case e.Line == 0: // the scanner leaves out line 1
		e.Line = 1
	}
	return e
}

// checkVersion refuses a version other than Version before anything else
// is read: another version may mean other fields. A version that is not an
// integer is left for the decoder to report with the other problems.
func checkVersion(root *yaml.Node) *FieldError {
	for i := 0; i+1 < len(root.Content); i += 2 {
		if root.Content[i].Value != "version" {
			continue
		}
		n := resolve(root.Content[i+1])
		var v int
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" || n.Decode(&v) != nil || v == Version {
			return nil
		}
		return &FieldError{Line: n.Line, Path: "version",
			Msg: fmt.Sprintf("%d is not supported (supported: %d)", v, Version)}
	}
	return nil
}

// decoder walks the YAML nodes along the Go types, by their yaml tags.
type decoder struct {
	errs   Errors
	lines  map[string]int // field path -> line of its value
	values int
	fatal  bool
}

// spend counts one more value against maxValues; false once it is spent.
func (d *decoder) spend(n *yaml.Node) bool {
	if d.values++; d.values <= maxValues {
		return true
	}
	if !d.fatal {
		d.fatal = true
		d.fail(n.Line, "", "more than %d values once aliases are expanded", maxValues)
	}
	return false
}

func (d *decoder) fail(line int, path, format string, args ...any) {
	d.errs = append(d.errs, &FieldError{Line: line, Path: path, Msg: fmt.Sprintf(format, args...)})
}

// failedNear reports whether decoding failed at path, inside it, or around
// it: a validation error there would only repeat that failure.
func (d *decoder) failedNear(path string) bool {
	for _, e := range d.errs {
		if e.Path != "" && (related(e.Path, path) || related(path, e.Path)) {
			return true
		}
	}
	return false
}

// related reports whether p is q or inside q.
func related(p, q string) bool {
	return p == q || q == "" || strings.HasPrefix(p, q+".") || strings.HasPrefix(p, q+"[")
}

var (
	durationType = reflect.TypeFor[Duration]()
	matrixType   = reflect.TypeFor[Matrix]()
	commandType  = reflect.TypeFor[Command]()
)

// value decodes n into v. Failures are recorded and leave v as it was.
func (d *decoder) value(n *yaml.Node, v reflect.Value, path string) {
	if !d.spend(n) {
		return
	}
	if _, ok := d.lines[path]; !ok {
		d.lines[path] = n.Line
	}
	line, n := n.Line, resolve(n)
	switch v.Type() {
	case durationType:
		if dur, err := decodeDuration(n); err != nil {
			d.fail(line, path, "%s", err)
		} else {
			v.Set(reflect.ValueOf(dur))
		}
		return
	case commandType:
		d.command(n, line, v, path)
		return
	case matrixType:
		d.matrix(n, line, v, path)
		return
	}
	switch v.Kind() {
	case reflect.Struct:
		d.structure(n, line, v, path)
	case reflect.Slice:
		d.list(n, line, v, path)
	case reflect.Map:
		d.stringMap(n, line, v, path)
	case reflect.String:
		if s, ok := d.str(n, line, path); ok {
			v.SetString(s)
		}
	case reflect.Int:
		var i int
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!int" || n.Decode(&i) != nil {
			d.fail(line, path, "%s", notA(n, "an integer"))
			return
		}
		v.SetInt(int64(i))
	case reflect.Bool:
		var b bool
		if n.Kind != yaml.ScalarNode || n.ShortTag() != "!!bool" || n.Decode(&b) != nil {
			d.fail(line, path, "%s", notA(n, "a boolean (true or false)"))
			return
		}
		v.SetBool(b)
	default:
		panic("config: no decoder for " + v.Type().String())
	}
}

// structure decodes a mapping into a struct by its fields' yaml tags. A key
// with a null value counts as absent: the field keeps its default.
func (d *decoder) structure(n *yaml.Node, line int, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.fail(line, path, "must be a mapping, got %s", describe(n))
		return
	}
	fields := fieldsOf(v.Type())
	for _, p := range d.pairs(n, path) {
		key := p.key.Value
		fp := keyPath(path, key)
		i, ok := fields[key]
		if !ok {
			d.fail(p.key.Line, fp, "unknown field%s", suggest(key, v.Type()))
			continue
		}
		if isNull(resolve(p.val)) {
			d.lines[fp] = p.val.Line
			continue
		}
		d.value(p.val, v.Field(i), fp)
	}
}

// list decodes a sequence. An empty list where the default is none stays
// nil, so nil and [] mean the same there; where the default has items
// (tags.floating), [] makes it empty.
func (d *decoder) list(n *yaml.Node, line int, v reflect.Value, path string) {
	if n.Kind != yaml.SequenceNode {
		d.fail(line, path, "must be a list, got %s", describe(n))
		return
	}
	if len(n.Content) == 0 && v.IsNil() {
		return
	}
	s := reflect.MakeSlice(v.Type(), len(n.Content), len(n.Content))
	for i, item := range n.Content {
		if def, ok := elemDefault(v.Type().Elem()); ok {
			s.Index(i).Set(def) // an entry of images starts from the build defaults
		}
		// A failed item stays zero, so later items keep their index.
		d.value(item, s.Index(i), path+"["+strconv.Itoa(i)+"]")
	}
	v.Set(s)
}

// stringMap decodes a mapping of names to scalars (numbers become their
// text). An empty mapping is nil.
func (d *decoder) stringMap(n *yaml.Node, line int, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.fail(line, path, "must be a mapping, got %s", describe(n))
		return
	}
	m := reflect.MakeMap(v.Type())
	for _, p := range d.pairs(n, path) {
		kp := keyPath(path, p.key.Value)
		d.lines[kp] = p.val.Line
		if s, ok := d.str(resolve(p.val), p.val.Line, kp); ok {
			m.SetMapIndex(reflect.ValueOf(p.key.Value), reflect.ValueOf(s))
		}
	}
	if m.Len() > 0 {
		v.Set(m)
	} else {
		v.SetZero()
	}
}

// str decodes a scalar as written: 4 is "4", true is "true". Null is not a
// string: write "" for an empty one.
func (d *decoder) str(n *yaml.Node, line int, path string) (string, bool) {
	if n.Kind != yaml.ScalarNode || isNull(n) {
		d.fail(line, path, "must be a string, got %s", describe(n))
		return "", false
	}
	return n.Value, true
}

func (d *decoder) command(n *yaml.Node, line int, v reflect.Value, path string) {
	var c Command
	switch {
	case n.Kind == yaml.ScalarNode && !isNull(n):
		c.Shell = n.Value
	case n.Kind == yaml.SequenceNode:
		c.Args = make([]string, len(n.Content))
		for i, item := range n.Content {
			ip := path + "[" + strconv.Itoa(i) + "]"
			d.lines[ip] = item.Line
			c.Args[i], _ = d.str(resolve(item), item.Line, ip)
		}
	default:
		d.fail(line, path, "must be a string (shell form) or a list of strings (exec form), got %s", describe(n))
		return
	}
	v.Set(reflect.ValueOf(c))
}

func (d *decoder) matrix(n *yaml.Node, line int, v reflect.Value, path string) {
	if n.Kind != yaml.MappingNode {
		d.fail(line, path, "must be a mapping of axis names to lists of values, got %s", describe(n))
		return
	}
	var m Matrix
	for _, p := range d.pairs(n, path) {
		a := Axis{Name: p.key.Value}
		ap := keyPath(path, a.Name)
		d.lines[ap] = p.val.Line
		if vals := resolve(p.val); vals.Kind != yaml.SequenceNode {
			d.fail(p.val.Line, ap, "must be a list of values, got %s", describe(vals))
		} else {
			a.Values = make([]string, len(vals.Content))
			for i, item := range vals.Content {
				ip := ap + "[" + strconv.Itoa(i) + "]"
				d.lines[ip] = item.Line
				a.Values[i], _ = d.str(resolve(item), item.Line, ip)
			}
		}
		m = append(m, a)
	}
	v.Set(reflect.ValueOf(m))
}

type pair struct{ key, val *yaml.Node }

// pairs returns the entries of a mapping in order, reporting duplicate and
// non-scalar keys. Merge keys (<<: *anchor) are expanded in place; keys
// written in the mapping itself win over merged ones.
func (d *decoder) pairs(n *yaml.Node, path string) []pair {
	return d.mergedPairs(n, path, map[*yaml.Node]bool{})
}

func (d *decoder) mergedPairs(n *yaml.Node, path string, active map[*yaml.Node]bool) []pair {
	active[n] = true
	defer delete(active, n)
	explicit := map[string]*yaml.Node{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := n.Content[i]; k.Kind == yaml.ScalarNode && k.ShortTag() != "!!merge" {
			if _, ok := explicit[k.Value]; !ok {
				explicit[k.Value] = k
			}
		}
	}
	var out []pair
	merged := map[string]bool{}
	for i := 0; i+1 < len(n.Content); i += 2 {
		k, val := n.Content[i], n.Content[i+1]
		if !d.spend(k) {
			return nil
		}
		switch {
		case k.Kind != yaml.ScalarNode:
			d.fail(k.Line, path, "keys must be strings, got %s", describe(k))
		case k.ShortTag() == "!!merge":
			for _, p := range d.merge(val, path, active) {
				if explicit[p.key.Value] == nil && !merged[p.key.Value] {
					merged[p.key.Value] = true
					out = append(out, p)
				}
			}
		case explicit[k.Value] != k:
			d.fail(k.Line, keyPath(path, k.Value), "duplicate key (first at line %d)", explicit[k.Value].Line)
		default:
			out = append(out, pair{k, val})
		}
	}
	return out
}

// merge returns the pairs a merge key brings: one mapping or a list of them.
func (d *decoder) merge(val *yaml.Node, path string, active map[*yaml.Node]bool) []pair {
	line, val := val.Line, resolve(val)
	srcs := []*yaml.Node{val}
	if val.Kind == yaml.SequenceNode {
		srcs = val.Content
	}
	var out []pair
	for _, src := range srcs {
		m := resolve(src)
		switch {
		case m.Kind != yaml.MappingNode:
			d.fail(line, keyPath(path, "<<"), "must be a mapping or a list of mappings, got %s", describe(m))
		case active[m]:
			d.fail(line, keyPath(path, "<<"), "merges a mapping into itself")
		default:
			out = append(out, d.mergedPairs(m, path, active)...)
		}
	}
	return out
}

// fieldsOf maps the yaml names of a struct's fields to their index.
func fieldsOf(t reflect.Type) map[string]int {
	fields := make(map[string]int, t.NumField())
	for i := range t.NumField() {
		if name := yamlName(t.Field(i)); name != "" {
			fields[name] = i
		}
	}
	return fields
}

// yamlName is the key of a struct field in slipway.yaml; "" if it has none.
func yamlName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
	if name == "-" || !f.IsExported() {
		return ""
	}
	return name
}

// suggest proposes the known field closest to an unknown key.
func suggest(key string, t reflect.Type) string {
	best, bestDist := "", 3
	for name := range fieldsOf(t) {
		dist := editDistance(strings.ToLower(key), strings.ToLower(name))
		if dist < bestDist || dist == bestDist && name < best {
			best, bestDist = name, dist
		}
	}
	if best == "" {
		return ""
	}
	return fmt.Sprintf(" (did you mean %q?)", best)
}

func editDistance(a, b string) int {
	if len(a) > 64 || len(b) > 64 {
		return 64
	}
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}

var plainKeyRE = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// keyPath is the path of key in the mapping at path: a.b, or a["x y"] when
// the key is not a plain name.
func keyPath(path, key string) string {
	if !plainKeyRE.MatchString(key) {
		return path + "[" + strconv.Quote(key) + "]"
	}
	if path == "" {
		return key
	}
	return path + "." + key
}

// parent is the path of the mapping or list that holds path; "" at the top.
func parent(path string) string {
	if strings.HasSuffix(path, "]") {
		if i := strings.LastIndexByte(path, '['); i >= 0 {
			return path[:i]
		}
	}
	if i := strings.LastIndexByte(path, '.'); i >= 0 {
		return path[:i]
	}
	return ""
}

// resolve follows an alias to the node it names.
func resolve(n *yaml.Node) *yaml.Node {
	for range 8 {
		if n.Kind != yaml.AliasNode || n.Alias == nil {
			break
		}
		n = n.Alias
	}
	return n
}

func isNull(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.ShortTag() == "!!null"
}

// describe names what a node is, for "must be X, got Y".
func describe(n *yaml.Node) string {
	switch {
	case n.Kind == yaml.MappingNode:
		return "a mapping"
	case n.Kind == yaml.SequenceNode:
		return "a list"
	case n.Kind != yaml.ScalarNode:
		return "an alias"
	case isNull(n):
		return "null"
	case len(n.Value) > 40:
		return strconv.Quote(n.Value[:40] + "...")
	}
	return strconv.Quote(n.Value)
}

// notA says a node is not what was expected: "\"x\" is not an integer",
// "must be an integer, got a list".
func notA(n *yaml.Node, what string) string {
	if n.Kind == yaml.ScalarNode && !isNull(n) {
		return describe(n) + " is not " + what
	}
	return "must be " + what + ", got " + describe(n)
}

func decodeDuration(n *yaml.Node) (Duration, error) {
	if n.Kind != yaml.ScalarNode || isNull(n) {
		return 0, fmt.Errorf("must be a duration like 20m or 7d, got %s", describe(n))
	}
	return ParseDuration(n.Value)
}
