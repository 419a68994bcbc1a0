// Package daggername derives the names a Dagger v0.21.8 engine, its Go SDK
// codegen and its CLI give a Go module's declarations, so the repository's
// checks spell functions and flags exactly as `dagger call` does.
//
// A Go method or argument name goes through three conversions:
//
//  1. The engine names the schema field (core/typedef.go NewFunction,
//     NewFunctionArg, field typedefs) with strcase.ToLowerCamel of
//     github.com/iancoleman/strcase v0.3.0, in a process that configured
//     the acronyms JSON and LLM (core/json.go, core/llm.go): a name that IS
//     an acronym keeps its capitals after the first letter. So the method
//     JSON is the field "jSON", while RunID is "runId".
//  2. The CLI lists the field with strcase.ToKebab (cmd/dagger
//     module_inspect.go cliName): "jSON" is j-son, "runId" is run-id.
//  3. A depender's Go bindings name the field with the codegen's
//     formatName: first letter up, then golint's initialisms (Go).
//
// TestObservedCLINames pins 1 and 2 to what a real v0.21.8 CLI listed.
package daggername

import (
	"strings"
	"unicode"
)

// acronyms are the strcase acronyms a v0.21.8 engine configures.
var acronyms = map[string]string{"JSON": "JSON", "LLM": "LLM"}

// Field is the schema name the engine gives a function, argument or field
// declared in Go as name (strcase.ToLowerCamel with the engine's acronyms).
func Field(name string) string { return camel(name, false) }

// Type is the schema name the engine gives an object, enum or interface
// declared in Go as name (strcase.ToCamel).
func Type(name string) string { return camel(name, true) }

// CLI is the name `dagger call` shows for a Go function, argument or field
// declared as name: Kebab(Field(name)).
func CLI(name string) string { return Kebab(Field(name)) }

// camel is strcase v0.3.0's toCamelInitCase: words split at '_', ' ', '-',
// '.' and after digits; a run of capitals keeps only its first letter
// capital unless the whole name is a configured acronym.
func camel(s string, upperFirst bool) string {
	s = strings.TrimSpace(s)
	if s == "" {
		return s
	}
	a, acronym := acronyms[s]
	if acronym {
		s = a
	}
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
		case prevUpper && isUpper && !acronym:
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

// Kebab is strcase v0.3.0's ToKebab, byte for byte: lower case, a '-'
// where the case type changes (runId -> run-id, jSON -> j-son, JSONData
// -> json-data, sha256 -> sha-256), and '-' for ' ', '_' and '.'.
func Kebab(s string) string {
	s = strings.TrimSpace(s)
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		v := s[i]
		isUpper := 'A' <= v && v <= 'Z'
		isLower := 'a' <= v && v <= 'z'
		isNum := '0' <= v && v <= '9'
		if isUpper {
			v += 'a' - 'A'
		}
		if i+1 < len(s) {
			next := s[i+1]
			nextUpper := 'A' <= next && next <= 'Z'
			nextLower := 'a' <= next && next <= 'z'
			nextNum := '0' <= next && next <= '9'
			if (isUpper && (nextLower || nextNum)) || (isLower && (nextUpper || nextNum)) || (isNum && (nextUpper || nextLower)) {
				if isUpper && nextLower && i > 0 && 'A' <= s[i-1] && s[i-1] <= 'Z' {
					b.WriteByte('-')
				}
				b.WriteByte(v)
				if isLower || isNum || nextNum {
					b.WriteByte('-')
				}
				continue
			}
		}
		if v == ' ' || v == '_' || v == '-' || v == '.' {
			b.WriteByte('-')
		} else {
			b.WriteByte(v)
		}
	}
	return b.String()
}

// Go is the Go SDK codegen's formatName for a schema name: the first letter
// upper-cased, then golint's initialisms applied word by word (Json ->
// JSON, RunId -> RunID, SourceUrl -> SourceURL).
func Go(s string) string {
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
