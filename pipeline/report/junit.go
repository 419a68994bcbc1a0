package report

import (
	"bufio"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// JUnit parsing limits (defaults; see the Parse options).
const (
	// MaxJUnitBytes is the largest JUnit file ParseJUnit reads: 64 MiB.
	MaxJUnitBytes = 64 << 20
	// MaxJUnitCases is the most test cases one file may hold.
	MaxJUnitCases = 250_000
	// MaxMessage bounds a case's Message (failure text is cut to this).
	MaxMessage = 4 << 10
	// maxSuiteDepth bounds <testsuite> nesting.
	maxSuiteDepth = 64
	// maxProperties and maxPropertyLen bound what a suite's <properties>
	// add to its cases' identity.
	maxProperties  = 32
	maxPropertyLen = 256
)

// ErrTooLarge is wrapped by ParseJUnit errors about a size or count limit.
var ErrTooLarge = errors.New("too large")

// ParseOption changes a ParseJUnit limit.
type ParseOption func(*parseOptions) error

type parseOptions struct {
	maxBytes int64
	maxCases int
}

// WithMaxBytes sets the largest input accepted. Default MaxJUnitBytes; must be > 0.
func WithMaxBytes(n int64) ParseOption {
	return func(o *parseOptions) error {
		if n <= 0 {
			return fmt.Errorf("max bytes must be positive, got %d", n)
		}
		o.maxBytes = n
		return nil
	}
}

// WithMaxCases sets the most cases accepted. Default MaxJUnitCases; must be > 0.
func WithMaxCases(n int) ParseOption {
	return func(o *parseOptions) error {
		if n <= 0 {
			return fmt.Errorf("max cases must be positive, got %d", n)
		}
		o.maxCases = n
		return nil
	}
}

// ParseJUnit reads the test cases of a JUnit XML file as written by
// go-junit-report, gotestsum, pytest, Maven Surefire/Failsafe, jest-junit and
// most other tools: the root is <testsuites> or <testsuite>, suites may nest
// (a case belongs to its innermost named suite), and a <testcase> holds
// <failure>, <error>, <skipped>, Surefire's <flakyFailure>/<flakyError> (a
// pass after failed reruns: CasePass with Flaky) and <rerunFailure>/
// <rerunError> (still failing). Properties, system-out and unknown elements
// are read past. A case is CaseFail if it has a <failure>, else CaseError
// with an <error>, else CaseSkip with <skipped>, else CasePass.
//
// Cases get their identity from everything the file offers (see
// identity.go): gotestsum's reruns become one case, cases that suite,
// classname and name do not tell apart get Where from the testcase's file
// or the testsuite's file, package, hostname or properties, and what stays
// alike (or only a position or a testsuite id tells apart) is Ambiguous.
//
// The input is bounded: more than the byte limit, more cases than the case
// limit (both wrap ErrTooLarge), or malformed XML is an error, never a
// partial result. Messages are cut to MaxMessage bytes.
func ParseJUnit(r io.Reader, opts ...ParseOption) ([]Case, error) {
	o := parseOptions{maxBytes: MaxJUnitBytes, maxCases: MaxJUnitCases}
	for _, opt := range opts {
		if err := opt(&o); err != nil {
			return nil, fmt.Errorf("parsing JUnit: %w", err)
		}
	}
	lr := &io.LimitedReader{R: r, N: o.maxBytes + 1}
	p := &junitParser{opts: o, d: xml.NewDecoder(bufio.NewReader(lr))}
	p.d.Strict = true
	p.d.CharsetReader = charsetReader
	raw, err := p.parse()
	if lr.N <= 0 {
		return nil, fmt.Errorf("parsing JUnit: file larger than %s: %w", byteSize(o.maxBytes), ErrTooLarge)
	}
	if err != nil {
		return nil, fmt.Errorf("parsing JUnit: %w", err)
	}
	return resolve(raw), nil
}

type junitParser struct {
	opts  parseOptions
	d     *xml.Decoder
	cases []rawCase
	// named counts the <testsuite> elements with cases, per name.
	named map[string]int
}

func (p *junitParser) parse() ([]rawCase, error) {
	root := false
	for {
		tok, err := p.d.Token()
		if errors.Is(err, io.EOF) {
			if !root {
				return nil, errors.New("no <testsuites> or <testsuite> element")
			}
			if p.cases == nil {
				p.cases = []rawCase{}
			}
			return p.cases, nil
		}
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			if root {
				return nil, fmt.Errorf("line %d: a second root element <%s>", p.line(), t.Name.Local)
			}
			root = true
			switch t.Name.Local {
			case "testsuites":
				err = p.suite(&suiteElem{root: true}, 0)
			case "testsuite":
				err = p.suite(p.newSuite(t, ""), 1)
			default:
				return nil, fmt.Errorf("root element <%s> is neither <testsuites> nor <testsuite>", t.Name.Local)
			}
			if err != nil {
				return nil, err
			}
		case xml.CharData:
			if len(strings.TrimSpace(string(t))) > 0 {
				return nil, fmt.Errorf("line %d: text outside the root element", p.line())
			}
		}
	}
}

func (p *junitParser) line() int {
	l, _ := p.d.InputPos()
	return l
}

// newSuite records a <testsuite> element; parent is the suite name an
// unnamed one inherits.
func (p *junitParser) newSuite(t xml.StartElement, parent string) *suiteElem {
	s := &suiteElem{
		name:     attr(t, "name"),
		hostname: attr(t, "hostname"),
		file:     attr(t, "file"),
		pkg:      attr(t, "package"),
	}
	if s.name == "" {
		s.name = parent
	}
	return s
}

// suite reads the content of a <testsuites> or <testsuite> element up to its
// end tag. s is the suite its cases belong to.
func (p *junitParser) suite(s *suiteElem, depth int) error {
	if depth > maxSuiteDepth {
		return fmt.Errorf("line %d: test suites nested deeper than %d: %w", p.line(), maxSuiteDepth, ErrTooLarge)
	}
	for {
		tok, err := p.d.Token()
		if err != nil {
			return unexpectedEOF(err)
		}
		switch t := tok.(type) {
		case xml.EndElement:
			return nil
		case xml.StartElement:
			switch t.Name.Local {
			case "testsuite":
				err = p.suite(p.newSuite(t, s.name), depth+1)
			case "testcase":
				err = p.testcase(s, t)
			case "properties":
				if s.root {
					err = p.d.Skip()
				} else {
					err = p.properties(s)
				}
			default:
				err = p.d.Skip()
			}
			if err != nil {
				return unexpectedEOF(err)
			}
		}
	}
}

// properties reads a suite's <properties>, keeping at most maxProperties
// of them, each cut to maxPropertyLen bytes.
func (p *junitParser) properties(s *suiteElem) error {
	for {
		tok, err := p.d.Token()
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.EndElement:
			return nil
		case xml.StartElement:
			if t.Name.Local == "property" && len(s.props) < maxProperties {
				name, value := attr(t, "name"), attr(t, "value")
				if name == "go.version" {
					s.goSuite = true
				}
				s.props = append(s.props, truncate(name+"="+value, maxPropertyLen))
			}
			if err := p.d.Skip(); err != nil {
				return err
			}
		}
	}
}

// testcase reads one <testcase> element.
func (p *junitParser) testcase(s *suiteElem, start xml.StartElement) error {
	if len(p.cases) >= p.opts.maxCases {
		return fmt.Errorf("line %d: more than %d test cases: %w", p.line(), p.opts.maxCases, ErrTooLarge)
	}
	if s.occurrence == 0 && !s.root {
		// Numbered at its first case: empty suites cost nothing.
		if p.named == nil {
			p.named = map[string]int{}
		}
		p.named[s.name]++
		s.occurrence = p.named[s.name]
	}
	c := Case{
		Suite:     s.name,
		Classname: attr(start, "classname"),
		Name:      attr(start, "name"),
		Time:      parseSeconds(attr(start, "time")),
	}
	var failure, errored, skipped, flaky *outcomeElem
	for {
		tok, err := p.d.Token()
		if err != nil {
			return err
		}
		switch t := tok.(type) {
		case xml.EndElement:
			switch {
			case failure != nil:
				c.Status, c.Message = CaseFail, failure.message()
			case errored != nil:
				c.Status, c.Message = CaseError, errored.message()
			case skipped != nil:
				c.Status, c.Message = CaseSkip, skipped.message()
			default:
				c.Status = CasePass
				if flaky != nil {
					c.Flaky, c.Message = true, flaky.message()
				}
			}
			p.cases = append(p.cases, rawCase{Case: c, suite: s, file: attr(start, "file")})
			return nil
		case xml.StartElement:
			var dst **outcomeElem
			switch t.Name.Local {
			case "failure":
				dst = &failure
			case "error":
				dst = &errored
			case "skipped":
				dst = &skipped
			case "flakyFailure", "flakyError":
				dst = &flaky
			case "rerunFailure", "rerunError":
				// A rerun that failed too: the <failure>/<error> beside it decides.
			}
			if dst == nil {
				if err := p.d.Skip(); err != nil {
					return err
				}
				continue
			}
			e, err := p.outcome(t)
			if err != nil {
				return err
			}
			if *dst == nil {
				*dst = e
			}
		}
	}
}

// outcomeElem is a <failure>, <error>, <skipped> or <flaky*> element.
type outcomeElem struct {
	msg, typ string
	text     strings.Builder
}

// message is the attribute message and the element's text, joined, bounded.
func (e *outcomeElem) message() string {
	text := stripGoFraming(e.text.String())
	msg := stripGoFraming(e.msg)
	if text != "" && (msg == "Failed" || msg == "Skipped") {
		msg = "" // go-junit-report's and gotestsum's placeholder; the text says more
	}
	switch {
	case msg == "" && text == "":
		msg = e.typ
	case msg == "":
		msg = text
	case text != "" && !strings.HasPrefix(text, msg):
		msg += "\n" + text
	case text != "":
		msg = text
	}
	return truncate(msg, MaxMessage)
}

// stripGoFraming trims s and drops the lines `go test -v` frames output with
// ("=== RUN   TestX", "--- FAIL: TestX (0.00s)"), which gotestsum and
// go-junit-report copy into failure text: the line worth showing is the one
// after them.
func stripGoFraming(s string) string {
	s = strings.TrimSpace(s)
	if !strings.Contains(s, "=== ") && !strings.Contains(s, "--- ") {
		return s
	}
	lines := strings.Split(s, "\n")
	kept := lines[:0]
	for _, l := range lines {
		t := strings.TrimSpace(l)
		if strings.HasPrefix(t, "=== RUN ") || strings.HasPrefix(t, "=== PAUSE ") || strings.HasPrefix(t, "=== CONT ") ||
			strings.HasPrefix(t, "=== NAME ") || strings.HasPrefix(t, "--- FAIL: ") || strings.HasPrefix(t, "--- SKIP: ") ||
			strings.HasPrefix(t, "--- PASS: ") {
			continue
		}
		kept = append(kept, strings.TrimSpace(l))
	}
	return strings.TrimSpace(strings.Join(kept, "\n"))
}

// outcome reads an outcome element, keeping at most MaxMessage bytes of its
// text (Surefire nests the text in <stackTrace>; all descendant text counts).
func (p *junitParser) outcome(start xml.StartElement) (*outcomeElem, error) {
	e := &outcomeElem{msg: attr(start, "message"), typ: attr(start, "type")}
	depth := 1
	for depth > 0 {
		tok, err := p.d.Token()
		if err != nil {
			return nil, err
		}
		switch t := tok.(type) {
		case xml.StartElement:
			// Surefire's <system-out>/<system-err> inside flaky elements are
			// output, not the failure.
			if t.Name.Local == "system-out" || t.Name.Local == "system-err" {
				if err := p.d.Skip(); err != nil {
					return nil, err
				}
				continue
			}
			depth++
		case xml.EndElement:
			depth--
		case xml.CharData:
			if room := MaxMessage + 1 - e.text.Len(); room > 0 {
				if len(t) > room {
					t = t[:room]
				}
				e.text.Write(t)
			}
		}
	}
	return e, nil
}

func attr(e xml.StartElement, name string) string {
	for _, a := range e.Attr {
		if a.Name.Local == name {
			return a.Value
		}
	}
	return ""
}

// parseSeconds reads a JUnit time attribute (seconds, "0.012"). Tools differ
// ("1,234.5", "0,5" from locale-bound writers); anything unreadable, negative
// or absurd is 0, not an error: time never decides a gate.
func parseSeconds(s string) Duration {
	s = strings.TrimSpace(s)
	if strings.Contains(s, ",") {
		if strings.Contains(s, ".") {
			s = strings.ReplaceAll(s, ",", "")
		} else {
			s = strings.ReplaceAll(s, ",", ".")
		}
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || f < 0 || f > 1e7 {
		return 0
	}
	return Duration(time.Duration(f * float64(time.Second)))
}

// truncate cuts s to at most max bytes on a UTF-8 boundary, marking the cut.
func truncate(s string, max int) string {
	if len(s) <= max {
		return s
	}
	const mark = " […]"
	cut := max - len(mark)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + mark
}

func unexpectedEOF(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// charsetReader accepts the encodings JUnit writers declare: UTF-8 (handled
// by encoding/xml itself), US-ASCII, and ISO-8859-1 (converted).
func charsetReader(charset string, in io.Reader) (io.Reader, error) {
	switch strings.ToLower(charset) {
	case "us-ascii", "ascii", "utf8":
		return in, nil
	case "iso-8859-1", "iso8859-1", "latin1", "latin-1":
		return &latin1Reader{r: bufio.NewReader(in)}, nil
	}
	return nil, fmt.Errorf("unsupported encoding %q (use UTF-8)", charset)
}

type latin1Reader struct {
	r   *bufio.Reader
	buf []byte
}

func (l *latin1Reader) Read(p []byte) (int, error) {
	n := 0
	for n < len(p) {
		if len(l.buf) > 0 {
			c := copy(p[n:], l.buf)
			l.buf = l.buf[c:]
			n += c
			continue
		}
		b, err := l.r.ReadByte()
		if err != nil {
			if n > 0 {
				return n, nil
			}
			return 0, err
		}
		if b < utf8.RuneSelf {
			p[n] = b
			n++
			continue
		}
		l.buf = utf8.AppendRune(l.buf[:0], rune(b))
	}
	return n, nil
}

func byteSize(n int64) string {
	if n >= 1<<20 && n%(1<<20) == 0 {
		return fmt.Sprintf("%d MiB", n>>20)
	}
	return fmt.Sprintf("%d bytes", n)
}
