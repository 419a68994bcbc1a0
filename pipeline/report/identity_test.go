package report

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

// ids renders cases as "ID status" ("+flaky", "+ambiguous").
func ids(cases []Case) []string {
	out := []string{}
	for _, c := range cases {
		s := c.ID() + " " + string(c.Status)
		if c.Flaky {
			s += "+flaky"
		}
		if c.Ambiguous {
			s += "+ambiguous"
		}
		out = append(out, s)
	}
	return out
}

func TestParseJUnitIdentity(t *testing.T) {
	t.Parallel()
	const goProps = `<properties><property name="go.version" value="go1.26.8 linux/amd64"/></properties>`
	tests := []struct {
		name, in string
		want     []string
	}{
		{
			name: "unique keys are left alone",
			in:   `<testsuite name="s" hostname="runner-7"><testcase classname="c" name="a"/><testcase classname="c" name="b"/></testsuite>`,
			want: []string{"s › c › a pass", "s › c › b pass"},
		},
		{
			name: "Playwright projects: hostname, on every case of the file",
			in: `<testsuites><testsuite name="x.spec.js" hostname="chromium"><testcase classname="x.spec.js" name="renders"/><testcase classname="x.spec.js" name="links"/></testsuite>` +
				`<testsuite name="x.spec.js" hostname="webkit"><testcase classname="x.spec.js" name="renders"><failure message="blank"/></testcase></testsuite></testsuites>`,
			want: []string{"x.spec.js › renders [hostname=chromium] pass", "x.spec.js › links [hostname=chromium] pass", "x.spec.js › renders [hostname=webkit] fail"},
		},
		{
			name: "the testcase's file comes first",
			in:   `<testsuite name="s" hostname="h"><testcase name="a" file="a.js"/><testcase name="a" file="b.js"/></testsuite>`,
			want: []string{"s › a [file=a.js] pass", "s › a [file=b.js] pass"},
		},
		{
			name: "suite package and properties",
			in: `<testsuites><testsuite name="s" package="p1" id="0"><properties><property name="env" value="a"/></properties><testcase name="t"/></testsuite>` +
				`<testsuite name="s" package="p2" id="1"><properties><property name="env" value="a"/></properties><testcase name="t"/></testsuite>` +
				`<testsuite name="u" id="2"><properties><property name="env" value="a"/></properties><testcase name="t"/></testsuite>` +
				`<testsuite name="u" id="3"><properties><property name="env" value="b"/></properties><testcase name="t"/></testsuite></testsuites>`,
			want: []string{"s › t [package=p1, properties=env=a] pass", "s › t [package=p2, properties=env=a] pass",
				"u › t [properties=env=a] pass", "u › t [properties=env=b] pass"},
		},
		{
			name: "a testsuite id is a position: no identity across runs",
			in: `<testsuites><testsuite name="s" id="0"><testcase name="t"/></testsuite>` +
				`<testsuite name="s" id="1"><testcase name="t"><failure/></testcase></testsuite></testsuites>`,
			want: []string{"s › t [testsuite #1] pass+ambiguous", "s › t [testsuite #2] fail+ambiguous"},
		},
		{
			name: "jest-junit: only the position tells them apart",
			in: `<testsuites><testsuite name="undefined"><testcase classname=" renders" name=" renders"><failure/></testcase></testsuite>` +
				`<testsuite name="undefined"><testcase classname=" renders" name=" renders"/><testcase classname=" only" name=" only"/></testsuite></testsuites>`,
			want: []string{"undefined ›  renders [testsuite #1] fail+ambiguous", "undefined ›  renders [testsuite #2] pass+ambiguous", "undefined ›  only pass"},
		},
		{
			name: "positions count the suites that hold cases",
			in: `<testsuites><testsuite name="u"/><testsuite name="u"><testcase name="a"/></testsuite>` +
				`<testsuite name="v"><testcase name="a"/></testsuite><testsuite name="u"><testcase name="a"/></testsuite></testsuites>`,
			want: []string{"u › a [testsuite #1] pass+ambiguous", "v › a pass", "u › a [testsuite #2] pass+ambiguous"},
		},
		{
			name: "node: nothing tells them apart",
			in:   `<testsuites><testcase classname="test" name="renders"/><testcase classname="test" name="a"/><testcase classname="test" name="renders"><failure/></testcase></testsuites>`,
			want: []string{"test › renders pass+ambiguous", "test › a pass", "test › renders fail+ambiguous"},
		},
		{
			name: "gotestsum --rerun-fails: attempts become one flaky case",
			in: `<testsuite name="p">` + goProps + `<testcase classname="p" name="TestA"><failure>boom</failure></testcase><testcase classname="p" name="TestB"/>` +
				`<testcase classname="p" name="TestA"><failure>boom</failure></testcase><testcase classname="p" name="TestA"/></testsuite>`,
			want: []string{"p › TestA pass+flaky", "p › TestB pass"},
		},
		{
			name: "gotestsum: every attempt failed",
			in:   `<testsuite name="p">` + goProps + `<testcase classname="p" name="TestA"><failure>1</failure></testcase><testcase classname="p" name="TestA"><failure>2</failure></testcase></testsuite>`,
			want: []string{"p › TestA fail"},
		},
		{
			name: "a Go suite where a pass comes first is no rerun (go test -count=2)",
			in:   `<testsuite name="p">` + goProps + `<testcase classname="p" name="TestA"/><testcase classname="p" name="TestA"><failure/></testcase></testsuite>`,
			want: []string{"p › TestA pass+ambiguous", "p › TestA fail+ambiguous"},
		},
		{
			name: "outside a Go suite, fail then pass is no rerun",
			in:   `<testsuite name="cart"><testcase classname="c" name="a"><failure/></testcase><testcase classname="c" name="a"/></testsuite>`,
			want: []string{"cart › c › a fail+ambiguous", "cart › c › a pass+ambiguous"},
		},
		{
			name: "Go suites in two elements are not one test's attempts",
			in: `<testsuites><testsuite name="p">` + goProps + `<testcase classname="p" name="TestA"><failure/></testcase></testsuite>` +
				`<testsuite name="p">` + goProps + `<testcase classname="p" name="TestA"/></testsuite></testsuites>`,
			want: []string{"p › TestA [testsuite #1] fail+ambiguous", "p › TestA [testsuite #2] pass+ambiguous"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cases, err := ParseJUnit(strings.NewReader(tt.in))
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(cases); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestAmbiguityHint(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		c    Case
		want string
	}{
		{Case{Suite: "undefined", Name: "renders"}, "classNameTemplate"},
		{Case{Classname: "test", Name: "renders"}, "its own cell"},
		{Case{Suite: "x", Name: "renders", Occurrence: 2}, `<testsuite name="x">`},
		{Case{Suite: "x", Name: "renders"}, "unique suite, classname or name"},
	} {
		if got := AmbiguityHint(tt.c); !strings.Contains(got, tt.want) {
			t.Errorf("%+v: %q lacks %q", tt.c, got, tt.want)
		}
	}
}

// junitFrom builds a JUnit file from fuzz bytes over a small alphabet, so
// that suites, hostnames and names collide often.
func junitFrom(data []byte) string {
	var b strings.Builder
	b.WriteString("<testsuites>")
	open := false
	for i := 0; i+1 < len(data); i += 2 {
		op, arg := data[i], data[i+1]
		switch op % 4 {
		case 0:
			if open {
				b.WriteString("</testsuite>")
			}
			fmt.Fprintf(&b, `<testsuite name="s%d"`, arg%3)
			if arg&4 != 0 {
				fmt.Fprintf(&b, ` hostname="h%d"`, (arg>>3)%3)
			}
			if arg&32 != 0 {
				fmt.Fprintf(&b, ` file="f%d"`, (arg>>6)%2)
			}
			b.WriteString(">")
			if arg&64 != 0 && arg&128 != 0 {
				b.WriteString(`<properties><property name="go.version" value="go1"/></properties>`)
			}
			open = true
		default:
			fmt.Fprintf(&b, `<testcase classname="c%d" name="t%d"`, arg%2, (arg>>1)%3)
			if arg&8 != 0 {
				fmt.Fprintf(&b, ` file="x%d"`, (arg>>4)%2)
			}
			b.WriteString(">")
			switch (arg >> 5) % 4 {
			case 1:
				b.WriteString("<failure/>")
			case 2:
				b.WriteString("<skipped/>")
			case 3:
				b.WriteString("<error/>")
			}
			b.WriteString("</testcase>")
		}
	}
	if open {
		b.WriteString("</testsuite>")
	}
	b.WriteString("</testsuites>")
	return b.String()
}

// FuzzIdentity: whatever the file, cases that share a key are all marked
// ambiguous, a numbered case is ambiguous, no case is made up or lost but
// declared reruns, and parsing is deterministic.
func FuzzIdentity(f *testing.F) {
	f.Add([]byte{0, 4, 1, 0, 1, 32, 0, 12, 1, 0, 1, 0})
	f.Add([]byte{0, 192, 1, 32, 1, 0, 1, 32, 1, 0})
	f.Add([]byte{0, 0, 1, 0, 0, 0, 1, 32})
	// Real tools' output: this package's samples and the gate's corpus.
	files, _ := filepath.Glob("testdata/*.xml")
	more, _ := filepath.Glob("../gate/testdata/corpus/*/*.xml")
	for _, name := range append(files, more...) {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		in := junitFrom(data)
		if bytes.HasPrefix(data, []byte("<")) {
			in = string(data) // the real files, and what the fuzzer makes of them
		}
		cases, err := ParseJUnit(strings.NewReader(in), WithMaxBytes(1<<20), WithMaxCases(1000))
		if err != nil {
			return
		}
		again, _ := ParseJUnit(strings.NewReader(in), WithMaxBytes(1<<20), WithMaxCases(1000))
		if !reflect.DeepEqual(cases, again) {
			t.Fatal("not deterministic")
		}
		elems := strings.Count(in, "<testcase")
		if len(cases) > elems {
			t.Fatalf("%d cases from %d <testcase> elements", len(cases), elems)
		}
		if len(cases) < elems && !strings.Contains(in, "go.version") {
			t.Fatalf("%d cases from %d <testcase> elements without a Go suite", len(cases), elems)
		}
		byKey := map[string][]Case{}
		for _, c := range cases {
			byKey[c.Key()] = append(byKey[c.Key()], c)
			if c.Occurrence > 0 && !c.Ambiguous {
				t.Fatalf("numbered but not ambiguous: %+v", c)
			}
			if c.Flaky && c.Status != CasePass {
				t.Fatalf("flaky %s", c.Status)
			}
		}
		for k, cs := range byKey {
			for _, c := range cs {
				if (len(cs) > 1) != c.Ambiguous {
					t.Fatalf("key %q: %d cases, ambiguous=%v\n%s", k, len(cs), c.Ambiguous, in)
				}
			}
		}
	})
}

// TestMergedJUnitKeepsTwinsApart: the merged JUnit Slipway writes keeps
// Where, so tests told apart in the tool's file stay apart when read back.
func TestMergedJUnitKeepsTwinsApart(t *testing.T) {
	t.Parallel()
	cases := parseFile(t, "../gate/testdata/corpus/playwright-shape/cand.xml")
	r := &Report{Version: Version, Cells: []CellResult{{ID: "e2e", Status: Fail, Attempts: 1, Cases: cases}}}
	var buf bytes.Buffer
	if err := r.WriteJUnit(&buf); err != nil {
		t.Fatal(err)
	}
	back, err := ParseJUnit(&buf)
	if err != nil {
		t.Fatal(err)
	}
	keys := map[string]bool{}
	for _, c := range back {
		if c.Ambiguous {
			t.Errorf("%s: ambiguous after a round trip", c.ID())
		}
		keys[c.Key()] = true
	}
	if len(cases) != 6 || len(keys) != len(back) {
		t.Errorf("%d cases, %d back with %d keys", len(cases), len(back), len(keys))
	}
}
