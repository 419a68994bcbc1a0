package report

import (
	"strconv"
	"strings"
)

// Identity: which <testcase> elements of a JUnit file are the same test.
//
// Suite, classname and name are not enough. Playwright writes one
// <testsuite name="x.spec.js"> per project with the same case names, the
// project only in `hostname`; node's junit reporter puts every case directly
// under <testsuites> with classname "test"; jest-junit writes
// <testsuite name="undefined"> for each file with top-level tests. Two tests
// then share suite, classname and name, and reading them as reruns of one
// test turns a real regression into "flaky".
//
// So a file's cases are resolved in two steps:
//
//  1. Reruns only where the format says so: in a Go suite (gotestsum and
//     go-junit-report write a go.version property), attempts of one test are
//     repeated <testcase> elements in one <testsuite>, every attempt but the
//     last failing (gotestsum --rerun-fails reruns failed tests only). They
//     become one case: the last attempt's status, flaky when it passed.
//     Surefire's and Playwright's <flakyFailure>/<rerunFailure> are read by
//     the parser itself (one element per test).
//  2. Identity from everything the file offers: where cases still collide,
//     the testcase's or testsuite's `file`, the testsuite's `package`,
//     `hostname` and properties are tried in that order, and each
//     that tells colliding cases apart is added to every case of the file
//     as Where (part of Key), so a test keeps its key in a run where its
//     twins are gone. What only the position of a repeated <testsuite> (one
//     that holds cases) tells apart is numbered (Occurrence) but stays
//     Ambiguous: jest-junit writes suites in the order the files finished,
//     so a position is no identity across runs. The testsuite's `id` is a
//     position too (the JUnit schema numbers suites from 0 in file order),
//     so it counts as one. Cases nothing tells apart are Ambiguous.
//
// The gate judges Ambiguous cases as a group and fails closed: a failing
// member is a failure no baseline can excuse as known.

// suiteElem is one <testsuite> element, or the <testsuites> root for the
// cases directly under it, with what it says about its cases.
type suiteElem struct {
	root                      bool
	name, hostname, file, pkg string
	props                     []string
	// occurrence is the element's 1-based position among the file's
	// <testsuite> elements of the same name that hold cases.
	occurrence int
	// goSuite: a go.version property (gotestsum, go-junit-report).
	goSuite bool
}

// rawCase is a case as read, before resolve.
type rawCase struct {
	Case
	suite *suiteElem
	file  string // the <testcase>'s file attribute
}

// resolve turns the raw cases of one file into its cases (see above).
func resolve(raw []rawCase) []Case {
	raw = collapseReruns(raw)
	qualify(raw)
	out := make([]Case, len(raw))
	for i, r := range raw {
		out[i] = r.Case
	}
	return out
}

// collapseReruns merges the attempts of one test of a Go suite into one
// case, at the position of the first attempt.
func collapseReruns(raw []rawCase) []rawCase {
	type key struct {
		s           *suiteElem
		class, name string
	}
	var order []key
	idx := map[key][]int{}
	for i, r := range raw {
		if !r.suite.goSuite {
			continue
		}
		k := key{r.suite, r.Classname, r.Name}
		if _, ok := idx[k]; !ok {
			order = append(order, k)
		}
		idx[k] = append(idx[k], i)
	}
	drop := map[int]bool{}
	for _, k := range order {
		is := idx[k]
		if len(is) < 2 || !attempts(raw, is) {
			continue
		}
		merged := raw[is[len(is)-1]].Case // the last attempt decides
		if merged.Status == CasePass {
			merged.Flaky, merged.Message = true, raw[is[0]].Message
		}
		raw[is[0]].Case = merged
		for _, j := range is[1:] {
			drop[j] = true
		}
	}
	if len(drop) == 0 {
		return raw
	}
	out := make([]rawCase, 0, len(raw)-len(drop))
	for i, r := range raw {
		if !drop[i] {
			out = append(out, r)
		}
	}
	return out
}

// attempts reports whether the cases at is read as the attempts of one
// test: every one but the last failed, and the last ran.
func attempts(raw []rawCase, is []int) bool {
	for _, i := range is[:len(is)-1] {
		if !raw[i].Status.Failed() {
			return false
		}
	}
	return raw[is[len(is)-1]].Status != CaseSkip
}

// identityAttrs are what a file may say about a case besides suite,
// classname and name, in the order they are tried.
var identityAttrs = []struct {
	name string
	get  func(rawCase) string
}{
	{"file", func(r rawCase) string {
		if r.file != "" {
			return r.file
		}
		return r.suite.file
	}},
	{"package", func(r rawCase) string { return r.suite.pkg }},
	{"hostname", func(r rawCase) string { return r.suite.hostname }},
	{"properties", func(r rawCase) string { return strings.Join(r.suite.props, " ") }},
}

// qualify sets Where, Occurrence and Ambiguous (see above).
func qualify(raw []rawCase) {
	where := make([]string, len(raw))
	groups := collisions(raw, where)
	if len(groups) == 0 {
		return
	}
	used := false
	for _, a := range identityAttrs {
		splits := false
		for _, g := range groups {
			v := a.get(raw[g[0]])
			for _, i := range g[1:] {
				if a.get(raw[i]) != v {
					splits = true
					break
				}
			}
			if splits {
				break
			}
		}
		if !splits {
			continue
		}
		used = true
		for i := range raw {
			if v := a.get(raw[i]); v != "" {
				if where[i] != "" {
					where[i] += ", "
				}
				where[i] += a.name + "=" + v
			}
		}
		if groups = collisions(raw, where); len(groups) == 0 {
			break
		}
	}
	if used {
		for i := range raw {
			raw[i].Where = where[i]
		}
	}
	for _, g := range groups {
		numbered := false
		for _, i := range g[1:] {
			numbered = numbered || raw[i].suite != raw[g[0]].suite
		}
		for _, i := range g {
			raw[i].Ambiguous = true
			if numbered {
				raw[i].Occurrence = raw[i].suite.occurrence
			}
		}
	}
}

// collisions returns the groups (indexes in file order) of two or more
// cases with the same key and where.
func collisions(raw []rawCase, where []string) [][]int {
	idx := map[string][]int{}
	var order []string
	for i, r := range raw {
		k := r.Key() + "\x1f" + where[i]
		if _, ok := idx[k]; !ok {
			order = append(order, k)
		}
		idx[k] = append(idx[k], i)
	}
	var out [][]int
	for _, k := range order {
		if len(idx[k]) > 1 {
			out = append(out, idx[k])
		}
	}
	return out
}

// AmbiguityHint says how to give the tests sharing c's identity one each,
// for the tool whose shape c has.
func AmbiguityHint(c Case) string {
	switch {
	case c.Suite == "undefined":
		return `jest-junit writes no file by default: set its classNameTemplate to "{filepath}"`
	case c.Suite == "" && c.Classname == "test":
		return "node --test's junit reporter writes no file: run each test file with its own reporter file, each file its own cell (slipway report --cell NAME FILE)"
	case c.Occurrence > 0:
		return "only the order of the <testsuite name=\"" + c.Suite + "\"> elements tells them apart: make the suite names unique (Playwright: the project in the suite name; jest-junit: suiteNameTemplate \"{filepath}\")"
	}
	return "give each test a unique suite, classname or name"
}

// occurrenceLabel is how ID shows an Occurrence.
func occurrenceLabel(n int) string {
	return "testsuite #" + strconv.Itoa(n)
}
