package report

import (
	"bytes"
	"cmp"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"net/url"
	"slices"
	"strings"
)

// Redacted is what a secret's value becomes in everything Slipway keeps.
const Redacted = "***"

// Redactor hides secret values: the one mechanism for every secret of a run
// (the registry password, the secrets cells get), applied to every log
// tail, report file, reason and error Slipway keeps or shows. Besides the
// value as is, it hides the forms a value takes in what Slipway writes or
// a test prints: JSON- and XML-escaped, URL-query-escaped and base64. A
// nil *Redactor hides nothing.
type Redactor struct {
	forms []string
}

// NewRedactor hides each non-empty value of secrets.
func NewRedactor(secrets ...string) *Redactor {
	var forms []string
	for _, s := range secrets {
		if s == "" {
			continue
		}
		forms = append(forms, s, jsonEscaped(s), jsonEscapedPlain(s), xmlEscaped(s), url.QueryEscape(s),
			base64.StdEncoding.EncodeToString([]byte(s)), base64.RawStdEncoding.EncodeToString([]byte(s)),
			base64.URLEncoding.EncodeToString([]byte(s)), base64.RawURLEncoding.EncodeToString([]byte(s)))
		// A value with a trailing newline (a file secret) is often printed
		// without it.
		if t := strings.TrimRight(s, "\r\n"); t != s && t != "" {
			forms = append(forms, t, jsonEscaped(t), xmlEscaped(t))
		}
	}
	if len(forms) == 0 {
		return nil
	}
	// Longest first, so that a secret containing another is hidden whole.
	slices.SortFunc(forms, func(a, b string) int { return cmp.Compare(len(b), len(a)) })
	return &Redactor{forms: slices.Compact(forms)}
}

// String returns s with every form of every secret replaced by Redacted.
func (r *Redactor) String(s string) string {
	if r == nil {
		return s
	}
	for _, f := range r.forms {
		if f != "" {
			s = strings.ReplaceAll(s, f, Redacted)
		}
	}
	return s
}

// Func is String as a function value, nil for a nil Redactor (nothing to
// hide), as matrix.RunOptions and flow.PromoteOptions take it.
func (r *Redactor) Func() func(string) string {
	if r == nil {
		return nil
	}
	return r.String
}

// Error returns err with its message redacted, nil for nil. The error it
// returns still matches what err matched (errors.Is and As see err).
func (r *Redactor) Error(err error) error {
	if r == nil || err == nil {
		return err
	}
	msg := r.String(err.Error())
	if msg == err.Error() {
		return err
	}
	return &redactedError{msg: msg, err: err}
}

type redactedError struct {
	msg string
	err error
}

func (e *redactedError) Error() string { return e.msg }
func (e *redactedError) Unwrap() error { return e.err }

// jsonEscaped is s as it appears inside a JSON string, with Go's HTML
// escaping (<, > and & as \u003c…), as encoding/json writes it.
func jsonEscaped(s string) string {
	b, _ := json.Marshal(s) // a string always marshals
	return string(b[1 : len(b)-1])
}

// jsonEscapedPlain is s inside a JSON string without HTML escaping.
func jsonEscapedPlain(s string) string {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s) // a string always encodes
	q := strings.TrimSuffix(b.String(), "\n")
	return q[1 : len(q)-1]
}

// xmlEscaped is s as encoding/xml writes it in character data.
func xmlEscaped(s string) string {
	var b bytes.Buffer
	_ = xml.EscapeText(&b, []byte(s)) // a bytes.Buffer does not fail
	return b.String()
}
