package modcheck

import (
	"strings"
	"unicode"
)

// The names a module's Go declarations get in a depender's client bindings
// go through two conversions, both mirrored here:
//
//  1. The engine (v0.21.8) names the schema: functions and arguments with
//     strcase.ToLowerCamel (github.com/iancoleman/strcase v0.3.0; dagger
//     core/typedef.go NewFunction and WithArg), fields the same, objects
//     with strcase.ToCamel, and a dependency's objects prefixed with its
//     name (core namespaceObject): TestReport of module slipway is
//     SlipwayTestReport.
//  2. The Go SDK codegen names the Go identifiers from the schema
//     (cmd/codegen/generator/go/templates/functions.go formatName: first
//     letter up, then golint's lintName with its initialisms, lint_name.go).
//
// So a Go method JSON becomes the field "json" and then the Go method JSON
// again, but a method HTTPServer becomes "httpserver" and then Httpserver.

// lowerCamel is strcase.ToLowerCamel (v0.3.0, no acronyms configured):
// words split at '_', ' ', '-', '.' and after digits; a run of capitals
// keeps only its first letter capital; the first letter is lower case.
func lowerCamel(s string) string { return camel(s, false) }

// upperCamel is strcase.ToCamel: lowerCamel with the first letter upper.
func upperCamel(s string) string { return camel(s, true) }

func camel(s string, upperFirst bool) string {
	s = strings.TrimSpace(s)
	var b strings.Builder
	capNext := upperFirst
	prevUpper := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		isUpper := 'A' <= c && c <= 'Z'
		isLower := 'a' <= c && c <= 'z'
		switch {
		case capNext:
			if isLower {
				c -= 'a' - 'A'
			}
		case i == 0:
			if isUpper {
				c += 'a' - 'A'
			}
		case prevUpper && isUpper:
			c += 'a' - 'A'
		}
		prevUpper = isUpper
		switch {
		case isUpper || isLower:
			b.WriteByte(c)
			capNext = false
		case '0' <= c && c <= '9':
			b.WriteByte(c)
			capNext = true
		default:
			capNext = c == '_' || c == ' ' || c == '-' || c == '.'
		}
	}
	return b.String()
}

// goName is the Go SDK codegen's formatName: the schema name with its first
// letter upper-cased, then golint's initialisms applied word by word
// (Json -> JSON, RunId -> RunID, SourceUrl -> SourceURL).
func goName(s string) string {
	if s == "" {
		return s
	}
	return lintName(strings.ToUpper(s[:1]) + s[1:])
}

// initialisms are golint's common initialisms plus those the Dagger codegen
// adds (FS, SDK, LLM).
var initialisms = map[string]bool{
	"ACL": true, "API": true, "ASCII": true, "CPU": true, "CSS": true, "DNS": true,
	"EOF": true, "GUID": true, "HTML": true, "HTTP": true, "HTTPS": true, "ID": true,
	"IP": true, "JSON": true, "LHS": true, "QPS": true, "RAM": true, "RHS": true,
	"RPC": true, "SLA": true, "SMTP": true, "SQL": true, "SSH": true, "TCP": true,
	"TLS": true, "TTL": true, "UDP": true, "UI": true, "UID": true, "UUID": true,
	"URI": true, "URL": true, "UTF8": true, "VM": true, "XML": true, "XMPP": true,
	"XSRF": true, "XSS": true,
	"FS": true, "SDK": true, "LLM": true,
}

// lintName is golint's lintName: it splits a name into words at
// lower-to-non-lower transitions and at underscores (dropped, except one
// between two digits), upper-cases the words that are initialisms
// (lower-cases one that starts the name in lower case), and capitalizes
// the other all-lower-case words after the first.
func lintName(name string) string {
	if name == "_" || strings.IndexFunc(name, func(r rune) bool { return !unicode.IsLower(r) }) < 0 {
		return name
	}
	runes := []rune(name)
	start := 0 // of the current word
	for i := 0; i < len(runes); {
		end := false
		switch {
		case i+1 == len(runes):
			end = true
		case runes[i+1] == '_':
			end = true
			n := 1 // underscores to drop after runes[i]
			for i+n+1 < len(runes) && runes[i+n+1] == '_' {
				n++
			}
			if i+n+1 < len(runes) && unicode.IsDigit(runes[i]) && unicode.IsDigit(runes[i+n+1]) {
				n--
			}
			runes = append(runes[:i+1], runes[i+1+n:]...)
		case unicode.IsLower(runes[i]) && !unicode.IsLower(runes[i+1]):
			end = true
		}
		i++
		if !end {
			continue
		}
		word := string(runes[start:i])
		if u := strings.ToUpper(word); initialisms[u] {
			if start == 0 && unicode.IsLower(runes[0]) {
				u = strings.ToLower(u)
			}
			copy(runes[start:], []rune(u))
		} else if start > 0 && strings.ToLower(word) == word {
			runes[start] = unicode.ToUpper(runes[start])
		}
		start = i
	}
	return string(runes)
}

// namespacedObject is the schema name of object obj of a module whose own
// name is modName and whose depender calls it depName (dagger core
// namespaceObject): the main object (same name as the module) takes the
// depender's name; an object already prefixed by the module's name at a
// word boundary (SlipwayReport) keeps it, with the depender's name in front;
// any other object gets the depender's name in front (Cell -> SlipwayCell).
func namespacedObject(obj, depName, modName string) string {
	obj = upperCamel(obj)
	if rest, ok := strings.CutPrefix(obj, upperCamel(modName)); ok {
		if rest == "" {
			return upperCamel(depName)
		}
		if 'A' <= rest[0] && rest[0] <= 'Z' {
			return upperCamel(depName + rest)
		}
	}
	return upperCamel(depName + "_" + obj)
}
