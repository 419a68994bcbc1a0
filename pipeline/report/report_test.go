package report

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func sample(t testing.TB) *Report {
	t.Helper()
	return &Report{
		Version: Version, Image: "ghcr.io/acme/shop@sha256:aa", Digest: "sha256:aa", Revision: "abc1234", RunID: "42",
		Cells: []CellResult{
			{ID: "unit", Suite: "unit", Status: Pass, Attempts: 1, Duration: Duration(1500 * time.Millisecond),
				Cases: parseFile(t, "testdata/go-junit-report.xml")},
			{ID: "e2e-1-firefox", Suite: "e2e-${shard}-${browser}", Axes: []AxisValue{{"shard", "1"}, {"browser", "firefox"}},
				Status: Timeout, Reason: "attempt 2 timed out after 20m0s", ExitCode: -1, Attempts: 2, LogTail: "```\nstuck | here"},
			{ID: "e2e-2-firefox", Suite: "e2e-${shard}-${browser}", Status: Flaky, Attempts: 2, Reason: "passed on attempt 2"},
			{ID: "lint", Status: Error, Reason: "engine: connection reset"},
		},
	}
}

func TestJSONRoundTrip(t *testing.T) {
	t.Parallel()
	r := sample(t)
	var buf bytes.Buffer
	if err := r.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `"duration": "1.5s"`) {
		t.Errorf("durations are not readable strings:\n%s", buf.String())
	}
	back, err := ReadJSON(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(r, back) {
		t.Errorf("round trip differs:\n got %+v\nwant %+v", back, r)
	}
	// An empty report round-trips with an empty (not null) cell list.
	buf.Reset()
	if err := (&Report{}).WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `"cells": []`) {
		t.Errorf("empty report: %s", buf.String())
	}
	if _, err := ReadJSON(&buf); err != nil {
		t.Error(err)
	}
}

func TestReadJSONErrors(t *testing.T) {
	t.Parallel()
	tests := []struct{ name, in, want string }{
		{"empty", "", "empty input"},
		{"not json", "<testsuites/>", "invalid character"},
		{"trailing", `{"version":1,"cells":[]} {}`, "data after the report"},
		{"version", `{"version":2,"cells":[]}`, "report version 2 is not supported"},
		{"no version", `{"cells":[]}`, "report version 0"},
		{"empty id", `{"version":1,"cells":[{"id":"","status":"pass"}]}`, "cells[0]: empty id"},
		{"dup id", `{"version":1,"cells":[{"id":"a","status":"pass"},{"id":"a","status":"pass"}]}`, `duplicate cell id "a"`},
		{"status", `{"version":1,"cells":[{"id":"a","status":"ok"}]}`, `unknown status "ok"`},
		{"case status", `{"version":1,"cells":[{"id":"a","status":"pass","cases":[{"name":"x","status":"passed"}]}]}`, `cases[0]: unknown status "passed"`},
		{"duration", `{"version":1,"cells":[{"id":"a","status":"pass","duration":12}]}`, "duration must be a string"},
		{"attempts", `{"version":1,"cells":[{"id":"a","status":"pass","attempts":-1}]}`, "negative attempts"},
		{"not run on the first platform", `{"version":1,"cells":[],"notRun":[{"id":"unit","platform":"","reason":"x"}]}`, `notRun[0]: "unit" is not a cell of platform ""`},
		{"not run and a result", `{"version":1,"cells":[{"id":"unit@linux/arm64","status":"fail"}],"notRun":[{"id":"unit@linux/arm64","platform":"linux/arm64","reason":"x"}]}`, `notRun[0]: cell "unit@linux/arm64" is also a result`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, err := ReadJSON(strings.NewReader(tt.in))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

func TestMerge(t *testing.T) {
	t.Parallel()
	a := &Report{Version: Version, Digest: "sha256:aa", Shard: "1/2", Cells: []CellResult{{ID: "b", Status: Pass}, {ID: "a", Status: Fail}}}
	b := &Report{Version: Version, Digest: "sha256:aa", RunID: "7", Image: "x", Shard: "2/2", Cells: []CellResult{{ID: "c", Status: Pass}}}
	m, err := Merge(a, b)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, c := range m.Cells {
		ids = append(ids, c.ID)
	}
	if strings.Join(ids, ",") != "b,a,c" || m.Digest != "sha256:aa" || m.RunID != "7" || m.Image != "x" || m.Shard != "" {
		t.Errorf("merged %+v", m)
	}

	a.Shard, b.Shard = "", ""
	dup := &Report{Version: Version, Cells: []CellResult{{ID: "c", Status: Pass}, {ID: "a", Status: Pass}, {ID: "z", Status: Pass}}}
	_, err = Merge(a, b, dup)
	var de *DuplicateCellsError
	if !errors.As(err, &de) || strings.Join(de.IDs, ",") != "a,c" || !strings.Contains(err.Error(), "a, c") {
		t.Errorf("duplicates: %v", err)
	}

	other := &Report{Version: Version, Digest: "sha256:bb"}
	if _, err := Merge(a, other); err == nil || !strings.Contains(err.Error(), "digest sha256:aa and sha256:bb") {
		t.Errorf("digests: %v", err)
	}
	for _, tt := range []struct {
		shards []string
		want   string
	}{
		{[]string{"1/3", "3/3"}, "missing shards: 2/3"},
		{[]string{"1/2", "1/2"}, "shard 1/2 given twice"},
		{[]string{"1/2", "2/3"}, "shards of different splits: 1/2 and 2/3"},
		{[]string{"1/2", ""}, "some reports are shards and some are not"},
		{[]string{"0/2"}, `shard "0/2" is not i/n`},
		{[]string{"x"}, `shard "x" is not i/n`},
	} {
		var rs []*Report
		for i, sh := range tt.shards {
			rs = append(rs, &Report{Version: Version, Shard: sh, Cells: []CellResult{{ID: strconv.Itoa(i), Status: Pass}}})
		}
		if _, err := Merge(rs...); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("shards %q: err %v, want %q", tt.shards, err, tt.want)
		}
	}
	if _, err := Merge(); err == nil {
		t.Error("merging nothing")
	}
	if _, err := Merge(a, &Report{Version: 9}); err == nil || !strings.Contains(err.Error(), "report 2:") {
		t.Errorf("invalid: %v", err)
	}
}

func TestTestsAndCounts(t *testing.T) {
	t.Parallel()
	r := sample(t)
	// unit: 3 cases ran (1 skipped); e2e-1: no cases, ran; e2e-2: ran; lint: error, nothing ran.
	if got := r.Tests(); got != 5 {
		t.Errorf("Tests() = %d, want 5", got)
	}
	n := r.Counts()
	if n.Cells != 4 || n.Pass != 1 || n.Timeout != 1 || n.Flaky != 1 || n.Error != 1 || n.CaseSkip != 1 || n.CaseFail != 1 {
		t.Errorf("Counts() = %+v", n)
	}
	var nilReport *Report
	if nilReport.Tests() != 0 || nilReport.Counts().Cells != 0 {
		t.Error("nil report")
	}
}

func TestTail(t *testing.T) {
	t.Parallel()
	if got := Tail("short", 10); got != "short" {
		t.Errorf("Tail = %q", got)
	}
	s := strings.Repeat("ü", 100) // 200 bytes
	got := Tail(s, 51)
	body := got[strings.Index(got, "\n")+1:]
	if !utf8.ValidString(got) || len(body) > 51 || !strings.HasPrefix(got, "[… 150 bytes cut]") {
		t.Errorf("Tail = %q", got)
	}
	if Tail("abc", -1) == "abc" {
		t.Error("negative max keeps everything")
	}
}

func TestRedact(t *testing.T) {
	t.Parallel()
	got := NewRedactor("hunter2", "hunter2hunter2", "").String("token=hunter2hunter2 short=hunter2")
	if got != "token=*** short=***" {
		t.Errorf("Redact = %q", got)
	}
}

func TestJUnitSuites(t *testing.T) {
	t.Parallel()
	r := sample(t)
	var buf bytes.Buffer
	if err := r.WriteJUnit(&buf); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	for _, want := range []string{
		`<testsuites name="slipway" tests="7" failures="2" errors="1" skipped="1"`,
		`<testsuite name="e2e-1-firefox" tests="1" failures="1"`,
		`<property name="slipway.axis.browser" value="firefox"></property>`,
		`name="[slipway] cell timeout" classname="e2e-1-firefox"`,
		`<error message="engine: connection reset">`,
		"stuck | here</system-out>",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("JUnit lacks %s:\n%s", want, out)
		}
	}
	cases, err := ParseJUnit(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if len(cases) != 7 {
		t.Errorf("%d cases", len(cases))
	}
}

func TestMarkdown(t *testing.T) {
	t.Parallel()
	r := sample(t)
	var buf bytes.Buffer
	if err := r.WriteMarkdown(&buf, ""); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !strings.HasPrefix(out, "## ❌ Tests: 2 of 4 cells did not pass\n") {
		t.Errorf("verdict not first:\n%s", out)
	}
	for _, want := range []string{
		// A cell with no JUnit cases is one test, as Tests counts it: the
		// summary line and the rows add up.
		"| `e2e-1-firefox` | ❌ timeout | 1 | 1 | 0 | 2 | 0s |",
		"| `e2e-2-firefox` | ⚠️ flaky | 1 | 0 | 0 | 2 | 0s |",
		"| `lint` | 💥 error | 0 | 0 | 0 | 0 | 0s |",
		"· 5 tests: 2 failed, 1 skipped\n",
		"- `unit` › `github.com/acme/shop/calc › TestDiv` fail: calc_test.go:21: Div(1, 0) = 0, want an error",
		"<summary>Log tail: e2e-1-firefox (timeout)</summary>",
		"````text\n```\nstuck | here\n````", // the fence outgrows the log's own
		"digest `sha256:aa`",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("Markdown lacks %q:\n%s", want, out)
		}
	}
	buf.Reset()
	if err := r.WriteMarkdown(&buf, "## ✅ Gate passed\n"); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(buf.String(), "## ✅ Gate passed\n\n") {
		t.Errorf("given verdict not first:\n%s", buf.String())
	}
}

func TestMarkdownBounded(t *testing.T) {
	t.Parallel()
	r := &Report{Version: Version}
	for i := range 5000 {
		c := CellResult{ID: strings.Repeat("x", 50) + "-" + strconv.Itoa(i), Status: Pass}
		if i%3 == 0 {
			c.Status, c.LogTail, c.Reason = Fail, strings.Repeat("log line\n", 10_000), strings.Repeat("why ", 1000)
			c.Cases = []Case{{Name: "t", Status: CaseFail, Message: strings.Repeat("m", MaxMessage)}}
		}
		r.Cells = append(r.Cells, c)
	}
	var buf bytes.Buffer
	if err := r.WriteMarkdown(&buf, ""); err != nil {
		t.Fatal(err)
	}
	if buf.Len() > 256<<10 {
		t.Errorf("Markdown of %d KiB for 5,000 cells", buf.Len()>>10)
	}
	if !strings.Contains(buf.String(), "more cells not shown") || !strings.Contains(buf.String(), "- … and ") {
		t.Error("no elision notes")
	}
}

func TestMarkdownPlatforms(t *testing.T) {
	t.Parallel()
	r := &Report{Version: Version, Cells: []CellResult{{ID: "unit", Status: Pass, Attempts: 1}}, Build: &Build{
		Images: 2, Duration: Duration(41 * time.Second),
		Platforms: []PlatformBuild{
			{Platform: "linux/amd64", Status: PlatformTested, Duration: Duration(12300 * time.Millisecond)},
			{Platform: "linux/arm64", Status: PlatformBuiltOnly, Duration: Duration(40100 * time.Millisecond)},
		},
	}}
	var b strings.Builder
	if err := r.WriteMarkdown(&b, ""); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"Built 2 images once, in 41s, before the cells ran",
		"| `linux/amd64` | ✅ tested | 12.3s |",
		"| `linux/arm64` | 🔨 built only: no cell ran on it | 40.1s |",
	} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("Markdown lacks %q:\n%s", want, b.String())
		}
	}
}

func TestPlatformsBuilt(t *testing.T) {
	t.Parallel()
	if got := PlatformsBuilt([]string{"linux/amd64"}, []Duration{1}); got != nil {
		t.Errorf("one platform: %+v, want no table", got)
	}
	got := PlatformsBuilt([]string{"linux/amd64", "linux/arm64"}, []Duration{1, 2})
	want := []PlatformBuild{{Platform: "linux/amd64", Status: PlatformTested, Duration: 1}, {Platform: "linux/arm64", Status: PlatformBuiltOnly, Duration: 2}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("PlatformsBuilt = %+v, want %+v", got, want)
	}
}

func TestMarkPlatforms(t *testing.T) {
	t.Parallel()
	platforms := []string{"linux/amd64", "linux/arm64", "linux/s390x", "linux/riscv64"}
	r := &Report{
		Build: &Build{Images: 4, Platforms: PlatformsBuilt(platforms, []Duration{1, 2, 3, 4})},
		Cells: []CellResult{
			{ID: "unit", Status: Pass},
			{ID: "unit@linux/arm64", Platform: "linux/arm64", Status: Fail},
			{ID: "smoke@linux/arm64", Platform: "linux/arm64", Status: Pass},
		},
		NotRun: []NotRunCell{
			{ID: "unit@linux/s390x", Platform: "linux/s390x", Reason: "the engine cannot run linux/s390x images"},
			{ID: "smoke@linux/s390x", Platform: "linux/s390x", Reason: "the engine cannot run linux/s390x images"},
		},
	}
	r.MarkPlatforms()
	want := []PlatformBuild{
		{Platform: "linux/amd64", Status: PlatformTested, Duration: 1},
		{Platform: "linux/arm64", Status: PlatformSmokeTested, Duration: 2, Cells: 2},
		{Platform: "linux/s390x", Status: PlatformBuiltOnly, Duration: 3, Note: "2 cells not run: the engine cannot run linux/s390x images"},
		{Platform: "linux/riscv64", Status: PlatformBuiltOnly, Duration: 4},
	}
	if !reflect.DeepEqual(r.Build.Platforms, want) {
		t.Errorf("MarkPlatforms:\n got %+v\nwant %+v", r.Build.Platforms, want)
	}
	var b strings.Builder
	if err := r.WriteMarkdown(&b, ""); err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		"| `linux/amd64` | ✅ tested | 0s |",
		"| `linux/arm64` | ✅ smoke-tested: 2 of the cells ran on it | 0s |",
		"| `linux/s390x` | 🔨 built only: no cell ran on it (2 cells not run: the engine cannot run linux/s390x images) | 0s |",
		"| `linux/riscv64` | 🔨 built only: no cell ran on it | 0s |",
	} {
		if !strings.Contains(b.String(), line) {
			t.Errorf("Markdown lacks %q:\n%s", line, b.String())
		}
	}
}

// TestImagePlatformsBuilt: in a run of several images, each image's first
// platform is where its cells ran, its others are built only, and the
// table names the image.
func TestImagePlatformsBuilt(t *testing.T) {
	t.Parallel()
	if got := ImagePlatformsBuilt([]string{"a", "b"}, [][]string{{"linux/amd64"}, {"linux/amd64"}}, []Duration{1, 2}); got != nil {
		t.Errorf("one platform each: %+v, want no table", got)
	}
	r := &Report{Build: &Build{Images: 3, Platforms: ImagePlatformsBuilt(
		[]string{"localnode", "rpcnode"},
		[][]string{{"linux/amd64", "linux/arm64"}, {"linux/amd64"}},
		[]Duration{Duration(time.Second), Duration(2 * time.Second), Duration(3 * time.Second)})}}
	r.MarkPlatforms()
	want := []PlatformBuild{
		{Image: "localnode", Platform: "linux/amd64", Status: PlatformTested, Duration: Duration(time.Second)},
		{Image: "localnode", Platform: "linux/arm64", Status: PlatformBuiltOnly, Duration: Duration(2 * time.Second)},
		{Image: "rpcnode", Platform: "linux/amd64", Status: PlatformTested, Duration: Duration(3 * time.Second)},
	}
	if !reflect.DeepEqual(r.Build.Platforms, want) {
		t.Errorf("platforms:\n got %+v\nwant %+v", r.Build.Platforms, want)
	}
	var b strings.Builder
	if err := r.WriteMarkdown(&b, ""); err != nil {
		t.Fatal(err)
	}
	for _, line := range []string{
		"| image | platform | status | build |\n|---|---|---|---|\n",
		"| localnode | `linux/arm64` | 🔨 built only: no cell ran on it | 2s |",
		"| rpcnode | `linux/amd64` | ✅ tested | 3s |",
	} {
		if !strings.Contains(b.String(), line) {
			t.Errorf("Markdown lacks %q:\n%s", line, b.String())
		}
	}
}

func TestRedactorForms(t *testing.T) {
	const secret = `p&ss<w"rd>/ü`
	r := NewRedactor(secret, "", "file-secret\n")
	cases := []struct{ name, in string }{
		{"raw", "token=" + secret},
		{"json", mustJSON(t, map[string]string{"log": "token=" + secret})},
		{"xml", `<failure message="` + xmlText(t, secret) + `"/>`},
		{"query", "https://x/?t=" + url.QueryEscape(secret)},
		{"base64", base64.StdEncoding.EncodeToString([]byte(secret))},
		{"base64url", base64.RawURLEncoding.EncodeToString([]byte(secret))},
		{"file secret without its newline", "read file-secret from disk"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := r.String(tc.in)
			for _, leak := range []string{secret, "file-secret", base64.StdEncoding.EncodeToString([]byte(secret))} {
				if strings.Contains(got, leak) {
					t.Fatalf("%q leaks %q", got, leak)
				}
			}
			if !strings.Contains(got, Redacted) {
				t.Fatalf("%q: nothing redacted", got)
			}
		})
	}
	if NewRedactor("", "") != nil || NewRedactor().Func() != nil {
		t.Fatal("no secrets: want a nil Redactor and a nil Func")
	}
	base := errors.New("exec: " + secret)
	err := r.Error(fmt.Errorf("cell e2e: %w", base))
	if strings.Contains(err.Error(), secret) || !errors.Is(err, base) {
		t.Fatalf("Error: %q (Is base: %v)", err, errors.Is(err, base))
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func xmlText(t *testing.T, s string) string {
	t.Helper()
	var b strings.Builder
	if err := xml.EscapeText(&b, []byte(s)); err != nil {
		t.Fatal(err)
	}
	return b.String()
}
