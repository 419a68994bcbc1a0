package report

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func parseFile(t testing.TB, path string) []Case {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cases, err := ParseJUnit(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return cases
}

// statuses maps a case's Name to its status, with "+flaky" for flaky passes.
func statuses(cases []Case) map[string]string {
	m := map[string]string{}
	for _, c := range cases {
		s := string(c.Status)
		if c.Flaky {
			s += "+flaky"
		}
		m[c.Name] = s
	}
	return m
}

func TestParseJUnitTools(t *testing.T) {
	t.Parallel()
	tests := []struct {
		file  string
		want  map[string]string
		suite map[string]string // name -> suite, spot checks
		msg   map[string]string // name -> substring of message
	}{
		{
			file: "gotestsum.xml",
			want: map[string]string{
				"TestMain": "fail", "TestAddItem": "pass", "TestTotal/empty": "pass", "TestTotal/two_items": "fail",
				"TestTotal": "fail", "TestLegacyCoupon": "skip", "TestCheckoutSlow": "pass", "TestRemoveItem": "pass",
			},
			suite: map[string]string{"TestMain": "github.com/acme/shop/cmd/shopd", "TestAddItem": "github.com/acme/shop/cart"},
			msg:   map[string]string{"TestTotal/two_items": "Total() = 6, want 7", "TestLegacyCoupon": "coupons v1 are gone"},
		},
		{
			file: "go-junit-report.xml",
			want: map[string]string{"TestAdd": "pass", "TestDiv": "fail", "TestPow": "skip", "TestRound": "pass"},
			msg:  map[string]string{"TestDiv": "want an error"},
		},
		{
			file: "pytest.xml",
			want: map[string]string{
				"test_add_item": "pass", "test_total[2-4]": "pass", "test_total[3-7]": "fail", "test_checkout": "error",
				"test_legacy_coupon": "skip", "test_rounding": "skip", "test_health": "pass",
			},
			suite: map[string]string{"test_health": "pytest"},
			msg:   map[string]string{"test_total[3-7]": "assert 6 == 7", "test_checkout": "Connection refused", "test_rounding": "banker's rounding"},
		},
		{
			file: "surefire/TEST-com.acme.shop.CartServiceTest.xml",
			want: map[string]string{
				"addsItem": "pass", "removesItem": "pass+flaky", "appliesDiscount": "fail", "loadsPrices": "error",
				"legacyCoupon": "skip", "totals": "pass",
			},
			suite: map[string]string{"addsItem": "com.acme.shop.CartServiceTest"},
			msg:   map[string]string{"removesItem": "expected: <1> but was: <0>", "appliesDiscount": "expected: <90>"},
		},
		{
			file: "jest-junit.xml",
			want: map[string]string{
				"cart adds an item": "pass", "cart computes the total": "fail", "cart legacy coupons": "skip",
				"cart › checkout › pays by card": "pass", "api GET /health": "pass", "api GET /cart/:id": "pass",
			},
			suite: map[string]string{"api GET /health": "api"},
			msg:   map[string]string{"cart computes the total": "Expected: 7"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			t.Parallel()
			cases := parseFile(t, filepath.Join("testdata", tt.file))
			got := statuses(cases)
			if len(cases) != len(tt.want) {
				t.Errorf("%d cases, want %d: %v", len(cases), len(tt.want), got)
			}
			for name, want := range tt.want {
				if got[name] != want {
					t.Errorf("%s: status %q, want %q", name, got[name], want)
				}
			}
			for _, c := range cases {
				if s, ok := tt.suite[c.Name]; ok && c.Suite != s {
					t.Errorf("%s: suite %q, want %q", c.Name, c.Suite, s)
				}
				if m, ok := tt.msg[c.Name]; ok && !strings.Contains(c.Message, m) {
					t.Errorf("%s: message %q lacks %q", c.Name, c.Message, m)
				}
				if c.Status == CasePass && !c.Flaky && c.Message != "" {
					t.Errorf("%s: a plain pass has message %q", c.Name, c.Message)
				}
			}
		})
	}
}

func TestParseJUnitDetails(t *testing.T) {
	t.Parallel()
	cases := parseFile(t, "testdata/gotestsum.xml")
	if got := cases[len(cases)-2].Time.Std(); got != 1300*time.Millisecond {
		t.Errorf("time = %v, want 1.3s", got)
	}
	in := `<testsuites><testsuite name="outer"><testsuite name="inner"><testcase name="a" time="1,5"/></testsuite>` +
		`<testsuite><testcase name="b" time="1,234.5"/></testsuite><testcase name="c" time="nan"/></testsuite>` +
		`<testcase name="top" time="-1"/></testsuites>`
	got, err := ParseJUnit(strings.NewReader(in))
	if err != nil {
		t.Fatal(err)
	}
	want := []Case{
		{Suite: "inner", Name: "a", Status: CasePass, Time: Duration(1500 * time.Millisecond)},
		{Suite: "outer", Name: "b", Status: CasePass, Time: Duration(1234500 * time.Millisecond)},
		{Suite: "outer", Name: "c", Status: CasePass},
		{Suite: "", Name: "top", Status: CasePass},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("got  %v\nwant %v", got, want)
	}
	// A long failure is cut to MaxMessage.
	long := `<testsuite name="s"><testcase name="x"><failure message="m">` + strings.Repeat("é", MaxMessage) + `</failure></testcase></testsuite>`
	got, err = ParseJUnit(strings.NewReader(long))
	if err != nil {
		t.Fatal(err)
	}
	if n := len(got[0].Message); n > MaxMessage || !strings.HasSuffix(got[0].Message, "[…]") {
		t.Errorf("message of %d bytes, ends %q", n, got[0].Message[n-10:])
	}
	// ISO-8859-1 is converted.
	latin := "<?xml version=\"1.0\" encoding=\"ISO-8859-1\"?><testsuite name=\"caf\xe9\"><testcase name=\"t\"/></testsuite>"
	got, err = ParseJUnit(strings.NewReader(latin))
	if err != nil || got[0].Suite != "café" {
		t.Errorf("latin-1: %v %v", got, err)
	}
	// An empty suite is a valid file with no cases.
	got, err = ParseJUnit(strings.NewReader(`<testsuites/>`))
	if err != nil || got == nil || len(got) != 0 {
		t.Errorf("empty suites: %#v %v", got, err)
	}
}

func TestParseJUnitErrors(t *testing.T) {
	t.Parallel()
	many := "<testsuite>" + strings.Repeat(`<testcase name="x"/>`, 11) + "</testsuite>"
	deep := strings.Repeat("<testsuite>", 100) + strings.Repeat("</testsuite>", 100)
	tests := []struct {
		name, in string
		opts     []ParseOption
		want     string
		tooLarge bool
	}{
		{name: "empty", in: "", want: "no <testsuites> or <testsuite>"},
		{name: "whitespace", in: "  \n", want: "no <testsuites> or <testsuite>"},
		{name: "not xml", in: "{\"tests\": 1}", want: "text outside the root"},
		{name: "html", in: "<html><body>502 Bad Gateway</body></html>", want: "root element <html>"},
		{name: "truncated", in: `<testsuite name="s"><testcase name="a"><failure>boom`, want: "unexpected EOF"},
		{name: "mismatched", in: `<testsuite><testcase></testsuite>`, want: "element <testcase> closed by </testsuite>"},
		{name: "two roots", in: `<testsuite/><testsuite/>`, want: "second root element"},
		{name: "entity", in: `<!DOCTYPE x [<!ENTITY a "aaaa">]><testsuite name="&a;"/>`, want: "invalid character entity"},
		{name: "bad utf8", in: "<testsuite name=\"\xff\"/>", want: "invalid UTF-8"},
		{name: "encoding", in: `<?xml version="1.0" encoding="EBCDIC"?><testsuite/>`, want: `unsupported encoding "EBCDIC"`},
		{name: "too many cases", in: many, opts: []ParseOption{WithMaxCases(10)}, want: "more than 10 test cases", tooLarge: true},
		{name: "too large", in: many, opts: []ParseOption{WithMaxBytes(100)}, want: "file larger than 100 bytes", tooLarge: true},
		{name: "too deep", in: deep, want: "nested deeper than 64", tooLarge: true},
		{name: "bad option", in: many, opts: []ParseOption{WithMaxCases(0)}, want: "max cases must be positive"},
		{name: "bad option bytes", in: many, opts: []ParseOption{WithMaxBytes(-1)}, want: "max bytes must be positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cases, err := ParseJUnit(strings.NewReader(tt.in), tt.opts...)
			if err == nil {
				t.Fatalf("no error, %d cases", len(cases))
			}
			if cases != nil {
				t.Errorf("partial result with an error: %v", cases)
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "parsing JUnit: ") {
				t.Errorf("error %q, want it to contain %q", err, tt.want)
			}
			if errors.Is(err, ErrTooLarge) != tt.tooLarge {
				t.Errorf("errors.Is(ErrTooLarge) = %v", !tt.tooLarge)
			}
		})
	}
}

// TestParseJUnitDefaultSizeCap feeds just over MaxJUnitBytes from a stream
// that would go on forever: the parser stops at the cap.
func TestParseJUnitDefaultSizeCap(t *testing.T) {
	if testing.Short() || raceEnabled {
		t.Skip("parses 64 MiB: too slow under -short or -race")
	}
	t.Parallel()
	r := &endless{prefix: []byte(`<testsuite name="s"><system-out>`)}
	_, err := ParseJUnit(r)
	if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), "64 MiB") {
		t.Fatalf("err = %v", err)
	}
	if r.n > MaxJUnitBytes+64<<10 {
		t.Errorf("read %d bytes, the cap is %d", r.n, MaxJUnitBytes)
	}
}

// raceEnabled is set by race_test.go under -race.
var raceEnabled bool

var xs = [32 << 10]byte(bytes.Repeat([]byte("x"), 32<<10))

type endless struct {
	prefix []byte
	n      int
}

func (e *endless) Read(p []byte) (int, error) {
	if e.n < len(e.prefix) {
		k := copy(p, e.prefix[e.n:])
		e.n += k
		return k, nil
	}
	k := copy(p, xs[:])
	e.n += k
	return k, nil
}

func TestJUnitRoundTrip(t *testing.T) {
	t.Parallel()
	files, _ := filepath.Glob("testdata/*.xml")
	more, _ := filepath.Glob("testdata/*/*.xml")
	for _, f := range append(files, more...) {
		cases := parseFile(t, f)
		r := &Report{Version: Version, Cells: []CellResult{{ID: "c", Status: Pass, Attempts: 1, Cases: cases}}}
		var buf bytes.Buffer
		if err := r.WriteJUnit(&buf); err != nil {
			t.Fatal(err)
		}
		back, err := ParseJUnit(&buf)
		if err != nil {
			t.Fatalf("%s: re-reading our JUnit: %v", f, err)
		}
		if len(back) != len(cases) {
			t.Fatalf("%s: %d cases back, want %d", f, len(back), len(cases))
		}
		for i := range cases {
			a, b := cases[i], back[i]
			if a.Name != b.Name || a.Status != b.Status || a.Flaky != b.Flaky {
				t.Errorf("%s: case %d: %+v became %+v", f, i, a, b)
			}
		}
	}
}

func FuzzParseJUnit(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.xml")
	more, _ := filepath.Glob("testdata/*/*.xml")
	for _, name := range append(files, more...) {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`<testsuite><testcase name="a"><flakyError/><rerunError/></testcase></testsuite>`))
	f.Add([]byte(`<testsuites><testsuite><testsuite><testcase/></testsuite></testsuite></testsuites>`))
	f.Fuzz(func(t *testing.T, in []byte) {
		cases, err := ParseJUnit(bytes.NewReader(in), WithMaxBytes(1<<20), WithMaxCases(1000))
		if err != nil {
			if cases != nil {
				t.Fatalf("cases with an error")
			}
			return
		}
		if len(cases) > 1000 {
			t.Fatalf("%d cases over the cap", len(cases))
		}
		for _, c := range cases {
			if !c.Status.Valid() || len(c.Message) > MaxMessage || c.Time < 0 {
				t.Fatalf("bad case %+v", c)
			}
			if c.Flaky && c.Status != CasePass {
				t.Fatalf("flaky but %s", c.Status)
			}
		}
		// What we parse, we write, and read back the same.
		var buf bytes.Buffer
		if err := WriteJUnit(&buf, "fuzz", []JUnitSuite{{Name: "c", Cases: cases}}); err != nil {
			t.Fatal(err)
		}
		back, err := ParseJUnit(&buf)
		if err != nil {
			t.Fatalf("re-reading: %v\n%s", err, buf.String())
		}
		if len(back) != len(cases) {
			t.Fatalf("%d cases back, want %d", len(back), len(cases))
		}
		for i := range cases {
			if back[i].Status != cases[i].Status || back[i].Flaky != cases[i].Flaky {
				t.Fatalf("case %d: %+v became %+v", i, cases[i], back[i])
			}
		}
	})
}

func ExampleParseJUnit() {
	const pytest = `<?xml version="1.0" encoding="utf-8"?><testsuites name="pytest tests"><testsuite name="pytest" tests="2">` +
		`<testcase classname="tests.test_cart" name="test_add" time="0.002" />` +
		`<testcase classname="tests.test_cart" name="test_total" time="0.001"><failure message="assert 6 == 7">...</failure></testcase>` +
		`</testsuite></testsuites>`
	cases, err := ParseJUnit(strings.NewReader(pytest))
	if err != nil {
		panic(err)
	}
	for _, c := range cases {
		fmt.Println(strings.TrimSpace(fmt.Sprintf("%s: %s %s", c.ID(), c.Status, firstLine(c.Message))))
	}
	// Output:
	// pytest › tests.test_cart › test_add: pass
	// pytest › tests.test_cart › test_total: fail assert 6 == 7
}
