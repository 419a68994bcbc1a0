package config

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/slipway-ci/slipway/pipeline/gitctx"
)

func loadSchema(t *testing.T) map[string]any {
	t.Helper()
	var s map[string]any
	if err := json.Unmarshal(Schema, &s); err != nil {
		t.Fatalf("slipway.schema.json: %v", err)
	}
	return s
}

// TestSchemaMatchesTypes walks the Go types by their yaml tags next to the
// schema: at every level the schema's properties are exactly the fields,
// objects are closed (additionalProperties: false), the JSON types match,
// and each schema default is Default()'s value (and every non-zero default
// is stated).
func TestSchemaMatchesTypes(t *testing.T) {
	t.Parallel()
	s := loadSchema(t)
	if s["$schema"] != "https://json-schema.org/draft/2020-12/schema" {
		t.Errorf("$schema = %v", s["$schema"])
	}
	c := &schemaChecker{t: t, defs: s["$defs"].(map[string]any)}
	c.check("", reflect.TypeFor[Config](), s, reflect.ValueOf(Default()))
}

type schemaChecker struct {
	t    *testing.T
	defs map[string]any
}

// deref merges a "$ref" target into the schema that refers to it.
func (c *schemaChecker) deref(s map[string]any) map[string]any {
	ref, ok := s["$ref"].(string)
	if !ok {
		return s
	}
	target, ok := c.defs[strings.TrimPrefix(ref, "#/$defs/")].(map[string]any)
	if !ok {
		c.t.Fatalf("unresolved $ref %q", ref)
	}
	out := maps.Clone(c.deref(target))
	for k, v := range s {
		if k != "$ref" {
			out[k] = v
		}
	}
	return out
}

func (c *schemaChecker) check(path string, typ reflect.Type, raw any, def reflect.Value) {
	t := c.t
	s, ok := raw.(map[string]any)
	if !ok {
		t.Errorf("%s: schema is %v, want an object", path, raw)
		return
	}
	s = c.deref(s)
	c.checkDefault(path, typ, s, def)
	switch {
	case typ == durationType:
		c.wantType(path, s, "string")
		checkDurationPattern(t, s["pattern"].(string))
	case typ == matrixType:
		c.wantType(path, s, "object")
		if got := s["propertyNames"].(map[string]any)["pattern"]; got != AxisNamePattern {
			t.Errorf("%s: propertyNames pattern %v, want %s", path, got, AxisNamePattern)
		}
		axis := s["additionalProperties"].(map[string]any)
		c.wantType(path+".*", axis, "array")
		c.check(path+".*[]", reflect.TypeFor[string](), axis["items"], reflect.Value{})
	case typ == commandType:
		one := s["oneOf"].([]any)
		if len(one) != 2 {
			t.Fatalf("%s: oneOf %v", path, one)
		}
		c.check(path+"(shell)", reflect.TypeFor[string](), one[0], reflect.Value{})
		c.check(path+"(exec)", reflect.TypeFor[[]string](), one[1], reflect.Value{})
	case typ.Kind() == reflect.Struct:
		c.wantType(path, s, "object")
		if s["additionalProperties"] != false {
			t.Errorf("%s: additionalProperties is %v, want false", path, s["additionalProperties"])
		}
		props, _ := s["properties"].(map[string]any)
		fields := fieldsOf(typ)
		for name := range props {
			if _, ok := fields[name]; !ok {
				t.Errorf("%s: the schema has %q, %s has no such field", path, name, typ.Name())
			}
		}
		for name, i := range fields {
			p, ok := props[name]
			if !ok {
				t.Errorf("%s: the schema lacks %s.%s (%q)", path, typ.Name(), typ.Field(i).Name, name)
				continue
			}
			var fd reflect.Value
			if def.IsValid() {
				fd = def.Field(i)
			}
			c.check(keyPath(path, name), typ.Field(i).Type, p, fd)
		}
	case typ.Kind() == reflect.Slice:
		c.wantType(path, s, "array")
		c.check(path+"[]", typ.Elem(), s["items"], reflect.Value{})
	case typ.Kind() == reflect.Map:
		c.wantType(path, s, "object")
		c.check(path+".*", typ.Elem(), s["additionalProperties"], reflect.Value{})
	case typ.Kind() == reflect.String:
		if enum, ok := s["enum"].([]any); ok {
			for _, e := range enum {
				if _, ok := e.(string); !ok {
					t.Errorf("%s: enum value %v is not a string", path, e)
				}
			}
			return
		}
		c.wantType(path, s, "string")
	case typ.Kind() == reflect.Int:
		c.wantType(path, s, "integer")
	case typ.Kind() == reflect.Bool:
		c.wantType(path, s, "boolean")
	default:
		t.Errorf("%s: no schema check for %s", path, typ)
	}
}

// wantType accepts "type": want, or a list of types that has it.
func (c *schemaChecker) wantType(path string, s map[string]any, want string) {
	switch got := s["type"].(type) {
	case string:
		if got == want {
			return
		}
	case []any:
		if slices.Contains(got, any(want)) {
			return
		}
	}
	c.t.Errorf("%s: schema type %v, want %s", path, s["type"], want)
}

func (c *schemaChecker) checkDefault(path string, typ reflect.Type, s map[string]any, def reflect.Value) {
	sd, has := s["default"]
	if !def.IsValid() {
		if has {
			c.t.Errorf("%s: a default inside a list or map", path)
		}
		return
	}
	if !has {
		if typ.Kind() != reflect.Struct && !def.IsZero() {
			c.t.Errorf("%s: the schema does not state the default %v", path, def.Interface())
		}
		return
	}
	if typ == durationType {
		d, err := ParseDuration(sd.(string))
		if err != nil || d != def.Interface().(Duration) {
			c.t.Errorf("%s: schema default %v, Default() has %v", path, sd, def.Interface())
		}
		return
	}
	b, _ := json.Marshal(def.Interface())
	var goDef any
	_ = json.Unmarshal(b, &goDef)
	if !reflect.DeepEqual(goDef, sd) {
		c.t.Errorf("%s: schema default %v, Default() has %v", path, sd, goDef)
	}
}

// checkDurationPattern: the schema's duration pattern agrees with
// ParseDuration on samples.
func checkDurationPattern(t *testing.T, pattern string) {
	re := regexp.MustCompile(pattern)
	for _, s := range []string{"0", "20m", "7d", "48h", "1h30m", "90s", "1.5h", "500ms", "", "3x", "20", "1d12h", "d", "-1h", "7 d", "1e3s"} {
		_, err := ParseDuration(s)
		if re.MatchString(s) != (err == nil) {
			t.Errorf("duration %q: schema pattern says %v, ParseDuration says %v", s, re.MatchString(s), err)
		}
	}
}

func TestSchemaEnums(t *testing.T) {
	t.Parallel()
	s := loadSchema(t)
	c := &schemaChecker{t: t, defs: s["$defs"].(map[string]any)}
	prop := func(def, name string) []any {
		d := c.deref(c.defs[def].(map[string]any))
		return d["properties"].(map[string]any)[name].(map[string]any)["enum"].([]any)
	}
	var severities []any
	for _, s := range Severities() {
		severities = append(severities, s)
	}
	var classes []any
	for _, cl := range gitctx.Classes {
		classes = append(classes, string(cl))
	}
	for _, tt := range []struct {
		name      string
		got, want []any
	}{
		{"gate.mode", prop("gate", "mode"), []any{ModeNoRegression, ModeStrict}},
		{"gate.flaky", prop("gate", "flaky"), []any{FlakyWarn, FlakyFail}},
		{"rule.class", prop("rule", "class"), classes},
		{"scan.mode", prop("scan", "mode"), []any{ScanNoNew, ScanStrict, ScanOff}},
		{"scan.severity[]", c.deref(c.defs["scan"].(map[string]any))["properties"].(map[string]any)["severity"].(map[string]any)["items"].(map[string]any)["enum"].([]any), severities},
	} {
		if !reflect.DeepEqual(tt.got, tt.want) {
			t.Errorf("%s enum = %v, want %v", tt.name, tt.got, tt.want)
		}
	}
}

// TestExamplesMatchSchema validates the example configs against the schema
// with a small validator of the keywords the schema uses, so an editor
// does not flag a config Load accepts.
func TestExamplesMatchSchema(t *testing.T) {
	t.Parallel()
	s := loadSchema(t)
	v := &miniValidator{defs: s["$defs"].(map[string]any)}
	for _, f := range goodFiles(t) {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var doc any
		if err := yaml.Unmarshal(data, &doc); err != nil {
			t.Fatal(err)
		}
		if doc == nil {
			doc = map[string]any{}
		}
		if errs := v.validate("", s, doc); len(errs) > 0 {
			t.Errorf("%s:\n%s", filepath.Base(f), strings.Join(errs, "\n"))
		}
	}
	// And the validator does reject: a few bad documents.
	for _, doc := range []string{
		"imagee: x", "test: {parallelism: 0}", "test: {timeout: 3x}", "gate: {mode: fast}",
		"test: {suites: [{name: u}]}", "retention: {rules: [{name: x}]}", "test: {matrix: {a: []}}",
		"test: {suites: [{name: u, run: x, reports: [rel]}]}", "build: {platforms: [amd64]}",
		"scan: {mode: warn}", "scan: {severity: [critical]}", "scan: {image: aquasec/trivy:0.69.3}",
	} {
		var v2 any
		if err := yaml.Unmarshal([]byte(doc), &v2); err != nil {
			t.Fatal(err)
		}
		if errs := v.validate("", s, v2); len(errs) == 0 {
			t.Errorf("the schema accepts %s", doc)
		}
	}
}

// miniValidator checks the JSON Schema keywords slipway.schema.json uses;
// an unknown keyword fails, so the schema cannot outgrow it silently.
type miniValidator struct{ defs map[string]any }

var annotations = []string{"$schema", "$id", "$defs", "title", "description", "default"}

func (v *miniValidator) validate(path string, schema map[string]any, doc any) []string {
	var errs []string
	fail := func(format string, args ...any) { errs = append(errs, path+": "+fmt.Sprintf(format, args...)) }
	keys := slices.Sorted(maps.Keys(schema))
	for _, k := range keys {
		kw := schema[k]
		switch k {
		case "$ref":
			errs = append(errs, v.validate(path, v.defs[strings.TrimPrefix(kw.(string), "#/$defs/")].(map[string]any), doc)...)
		case "type":
			types, ok := kw.([]any)
			if !ok {
				types = []any{kw}
			}
			if !slices.ContainsFunc(types, func(t any) bool { return jsonType(doc, t.(string)) }) {
				fail("%v is not of type %v", doc, kw)
			}
		case "enum":
			if !slices.ContainsFunc(kw.([]any), func(e any) bool { return fmt.Sprint(e) == fmt.Sprint(doc) }) {
				fail("%v is not one of %v", doc, kw)
			}
		case "pattern":
			if s, ok := doc.(string); ok && !regexp.MustCompile(kw.(string)).MatchString(s) {
				fail("%q does not match %s", s, kw)
			}
		case "minLength":
			if s, ok := doc.(string); ok && float64(len(s)) < kw.(float64) {
				fail("%q is too short", s)
			}
		case "minimum":
			if n, ok := doc.(int); ok && float64(n) < kw.(float64) {
				fail("%d is less than %v", n, kw)
			}
		case "minItems":
			if a, ok := doc.([]any); ok && float64(len(a)) < kw.(float64) {
				fail("fewer than %v items", kw)
			}
		case "uniqueItems":
			if a, ok := doc.([]any); ok {
				for i := range a {
					if slices.IndexFunc(a[:i], func(x any) bool { return fmt.Sprint(x) == fmt.Sprint(a[i]) }) >= 0 {
						fail("duplicate item %v", a[i])
					}
				}
			}
		case "items":
			if a, ok := doc.([]any); ok {
				for i, item := range a {
					errs = append(errs, v.validate(fmt.Sprintf("%s[%d]", path, i), kw.(map[string]any), item)...)
				}
			}
		case "properties", "additionalProperties", "propertyNames", "required", "minProperties":
			m, ok := doc.(map[string]any)
			if !ok {
				continue
			}
			props, _ := schema["properties"].(map[string]any)
			switch k {
			case "properties":
				for name, sub := range props {
					if val, ok := m[name]; ok {
						errs = append(errs, v.validate(path+"."+name, sub.(map[string]any), val)...)
					}
				}
			case "additionalProperties":
				for _, name := range slices.Sorted(maps.Keys(m)) {
					if _, ok := props[name]; ok {
						continue
					}
					if kw == false {
						fail("unknown property %q", name)
					} else {
						errs = append(errs, v.validate(path+"."+name, kw.(map[string]any), m[name])...)
					}
				}
			case "propertyNames":
				for name := range m {
					errs = append(errs, v.validate(path+" key", kw.(map[string]any), name)...)
				}
			case "required":
				for _, r := range kw.([]any) {
					if _, ok := m[r.(string)]; !ok {
						fail("lacks %s", r)
					}
				}
			case "minProperties":
				if float64(len(m)) < kw.(float64) {
					fail("fewer than %v properties", kw)
				}
			}
		case "oneOf", "anyOf":
			matched := 0
			for _, sub := range kw.([]any) {
				if len(v.validate(path, sub.(map[string]any), doc)) == 0 {
					matched++
				}
			}
			if matched == 0 || k == "oneOf" && matched > 1 {
				fail("%s matched %d schemas", k, matched)
			}
		default:
			if !slices.Contains(annotations, k) {
				fail("the test validator does not know keyword %q", k)
			}
		}
	}
	sort.Strings(errs)
	return errs
}

func jsonType(doc any, typ string) bool {
	switch doc.(type) {
	case string:
		return typ == "string"
	case int:
		return typ == "integer" || typ == "number"
	case float64:
		return typ == "number"
	case bool:
		return typ == "boolean"
	case []any:
		return typ == "array"
	case map[string]any:
		return typ == "object"
	case nil:
		return typ == "null"
	}
	return false
}
