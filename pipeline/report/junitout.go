package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
)

// JUnitSuite is one <testsuite> of a merged JUnit file.
type JUnitSuite struct {
	Name       string
	Time       Duration
	Properties []AxisValue
	Cases      []Case
	// SystemOut is written as the suite's <system-out> when not empty.
	SystemOut string
}

// JUnitSuites is r as JUnit suites: one per cell, named by the cell id, with
// the cell's status, attempts, exit code and axes as properties. A cell that
// did not pass gets a synthetic case "[slipway] cell <status>" carrying its
// reason, so CI test views show a timeout or an engine error too; a cell with
// no cases gets one such case whatever its status, and a cell that did not
// pass gets its log tail as system-out. A cell the engine could not run on
// its platform (NotRun) is a suite with one skipped case saying why.
func (r *Report) JUnitSuites() []JUnitSuite {
	suites := make([]JUnitSuite, 0, len(r.Cells))
	for _, c := range r.Cells {
		s := JUnitSuite{Name: c.ID, Time: c.Duration, Cases: c.Cases}
		s.Properties = append(s.Properties,
			AxisValue{"slipway.status", string(c.Status)},
			AxisValue{"slipway.attempts", strconv.Itoa(c.Attempts)},
			AxisValue{"slipway.exitCode", strconv.Itoa(c.ExitCode)})
		for _, a := range c.Axes {
			s.Properties = append(s.Properties, AxisValue{"slipway.axis." + a.Name, a.Value})
		}
		if !c.Status.Passed() || len(c.Cases) == 0 {
			st := CasePass
			switch c.Status {
			case Fail, Timeout:
				st = CaseFail
			case Error, Cancelled:
				st = CaseError
			}
			s.Cases = append(append([]Case(nil), c.Cases...), Case{
				Suite: c.ID, Classname: c.ID, Name: "[slipway] cell " + string(c.Status),
				Status: st, Time: c.Duration, Message: c.Reason,
			})
		}
		if !c.Status.Passed() {
			s.SystemOut = c.LogTail
		}
		suites = append(suites, s)
	}
	for _, n := range r.NotRun {
		suites = append(suites, JUnitSuite{
			Name:       n.ID,
			Properties: []AxisValue{{"slipway.status", "not-run"}, {"slipway.platform", n.Platform}},
			Cases:      []Case{{Suite: n.ID, Classname: n.ID, Name: "[slipway] cell not run", Status: CaseSkip, Message: n.Reason}},
		})
	}
	return suites
}

// WriteJUnit writes r as one JUnit file with one <testsuite> per cell.
func (r *Report) WriteJUnit(w io.Writer) error {
	return WriteJUnit(w, "slipway", r.JUnitSuites())
}

type xmlSuites struct {
	XMLName  xml.Name   `xml:"testsuites"`
	Name     string     `xml:"name,attr,omitempty"`
	Tests    int        `xml:"tests,attr"`
	Failures int        `xml:"failures,attr"`
	Errors   int        `xml:"errors,attr"`
	Skipped  int        `xml:"skipped,attr"`
	Time     string     `xml:"time,attr"`
	Suites   []xmlSuite `xml:"testsuite"`
}

type xmlSuite struct {
	Name       string       `xml:"name,attr"`
	Tests      int          `xml:"tests,attr"`
	Failures   int          `xml:"failures,attr"`
	Errors     int          `xml:"errors,attr"`
	Skipped    int          `xml:"skipped,attr"`
	Time       string       `xml:"time,attr"`
	Properties *xmlProps    `xml:"properties,omitempty"`
	Cases      []xmlCase    `xml:"testcase"`
	SystemOut  *xmlCharData `xml:"system-out,omitempty"`
}

type xmlProps struct {
	Props []xmlProp `xml:"property"`
}

type xmlProp struct {
	Name  string `xml:"name,attr"`
	Value string `xml:"value,attr"`
}

type xmlCase struct {
	Name      string  `xml:"name,attr"`
	Classname string  `xml:"classname,attr"`
	Time      string  `xml:"time,attr"`
	Failure   *xmlMsg `xml:"failure,omitempty"`
	Error     *xmlMsg `xml:"error,omitempty"`
	Skipped   *xmlMsg `xml:"skipped,omitempty"`
	Flaky     *xmlMsg `xml:"flakyFailure,omitempty"`
}

type xmlMsg struct {
	Message string `xml:"message,attr,omitempty"`
	Text    string `xml:",chardata"`
}

type xmlCharData struct {
	Text string `xml:",chardata"`
}

// WriteJUnit writes suites as one JUnit <testsuites> document named name,
// with the counts every JUnit reader expects. A case's classname is its
// Classname, else its Suite.
func WriteJUnit(w io.Writer, name string, suites []JUnitSuite) error {
	doc := xmlSuites{Name: name}
	var total time.Duration
	for _, s := range suites {
		xs := xmlSuite{Name: s.Name, Time: seconds(s.Time.Std())}
		if len(s.Properties) > 0 {
			xs.Properties = &xmlProps{}
			for _, p := range s.Properties {
				xs.Properties.Props = append(xs.Properties.Props, xmlProp{p.Name, p.Value})
			}
		}
		for _, c := range s.Cases {
			xc := xmlCase{Name: c.Name, Classname: c.Classname, Time: seconds(c.Time.Std())}
			if xc.Classname == "" {
				xc.Classname = c.Suite
			}
			if c.Where != "" {
				// Keep twins apart for the readers of the merged file.
				xc.Classname += " [" + c.Where + "]"
			}
			msg := &xmlMsg{Message: firstLine(c.Message), Text: c.Message}
			switch c.Status {
			case CaseFail:
				xc.Failure = msg
				xs.Failures++
			case CaseError:
				xc.Error = msg
				xs.Errors++
			case CaseSkip:
				xc.Skipped = &xmlMsg{Message: c.Message}
				xs.Skipped++
			default:
				if c.Flaky {
					xc.Flaky = msg
				}
			}
			xs.Tests++
			xs.Cases = append(xs.Cases, xc)
		}
		if s.SystemOut != "" {
			xs.SystemOut = &xmlCharData{s.SystemOut}
		}
		doc.Tests += xs.Tests
		doc.Failures += xs.Failures
		doc.Errors += xs.Errors
		doc.Skipped += xs.Skipped
		total += s.Time.Std()
		doc.Suites = append(doc.Suites, xs)
	}
	doc.Time = seconds(total)
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return fmt.Errorf("writing JUnit: %w", err)
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(doc); err != nil {
		return fmt.Errorf("writing JUnit: %w", err)
	}
	if _, err := io.WriteString(w, "\n"); err != nil {
		return fmt.Errorf("writing JUnit: %w", err)
	}
	return nil
}

func seconds(d time.Duration) string {
	return strconv.FormatFloat(d.Seconds(), 'f', 3, 64)
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}
