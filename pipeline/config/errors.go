package config

import (
	"sort"
	"strconv"
	"strings"
)

// FieldError is one problem in a config: where it is and what is wrong.
//
// Its Error is one line, in the form of a compiler message:
//
//	slipway.yaml:31: retention.rules[2].olderThan: "3x" is not a duration
//	line 31: retention.rules[2].olderThan: "3x" is not a duration   (Load: no file name)
//	retention.rules[2].olderThan: "3x" is not a duration            (Validate: no line)
type FieldError struct {
	// File is the config file's path as given to LoadFile; "" for Load.
	File string
	// Line is 1-based; 0 when unknown (a config built in Go).
	Line int
	// Path is the field path, e.g. "test.suites[1].run"; "" for the
	// document as a whole.
	Path string
	// Msg says what is wrong, without the path.
	Msg string
}

func (e *FieldError) Error() string {
	var b strings.Builder
	switch {
	case e.File != "" && e.Line > 0:
		b.WriteString(e.File + ":" + strconv.Itoa(e.Line) + ": ")
	case e.File != "":
		b.WriteString(e.File + ": ")
	case e.Line > 0:
		b.WriteString("line " + strconv.Itoa(e.Line) + ": ")
	}
	if e.Path != "" {
		b.WriteString(e.Path + ": ")
	}
	b.WriteString(e.Msg)
	return oneLine(b.String())
}

// Errors is every problem found in a config, in the order of the lines they
// are on. Load, LoadFile and Validate return it (as an error) when there is
// any: errors.As finds both an Errors and each *FieldError in it.
type Errors []*FieldError

// MaxShown is how many problems Errors.Error lists; the others are
// counted ("and 49950 more problems"), all of them still in the Errors.
const MaxShown = 50

// Error is one line per problem, for the first MaxShown, then a count of
// the rest.
func (es Errors) Error() string {
	n := min(len(es), MaxShown)
	lines := make([]string, n, n+1)
	for i, e := range es[:n] {
		lines[i] = e.Error()
	}
	if rest := len(es) - n; rest > 0 {
		lines = append(lines, "and "+strconv.Itoa(rest)+" more problems")
	}
	return strings.Join(lines, "\n")
}

// Unwrap returns each *FieldError, for errors.As and errors.Is.
func (es Errors) Unwrap() []error {
	errs := make([]error, len(es))
	for i, e := range es {
		errs[i] = e
	}
	return errs
}

// sorted orders es by line, keeping the walk order within a line and for
// errors without one (they go last).
func (es Errors) sorted() Errors {
	sort.SliceStable(es, func(i, j int) bool {
		li, lj := es[i].Line, es[j].Line
		if li == 0 || lj == 0 {
			return li != 0 && lj == 0
		}
		return li < lj
	})
	return es
}

// oneLine keeps an error on one line whatever the input it quotes.
func oneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	return strings.NewReplacer("\r", `\r`, "\n", `\n`).Replace(s)
}
