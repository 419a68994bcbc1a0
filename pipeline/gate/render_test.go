package gate

import (
	"bytes"
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/slipway-ci/slipway/pipeline/config"
	"github.com/slipway-ci/slipway/pipeline/report"
)

func TestRender(t *testing.T) {
	t.Parallel()
	cand := rep(t, cellSpec{"unit", report.Fail, "gotestsum-cand.xml"}, cellSpec{"web", report.Pass, "jest-cand.xml"})
	base := rep(t, cellSpec{"unit", report.Fail, "gotestsum-base.xml"}, cellSpec{"web", report.Pass, "jest-base.xml"})
	cand.Revision = "abc1234"
	d := Decide(config.Gate{}, cand, base)

	var buf bytes.Buffer
	if err := d.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var back Decision
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, d) {
		t.Errorf("JSON round trip:\n%+v\n%+v", back, d)
	}
	if !strings.Contains(buf.String(), `"kind": "regression"`) || !strings.Contains(buf.String(), `"pass": false`) {
		t.Errorf("JSON:\n%s", buf.String())
	}

	buf.Reset()
	if err := d.WriteMarkdown(&buf, cand); err != nil {
		t.Fatal(err)
	}
	md := buf.String()
	if !strings.HasPrefix(md, "## ❌ Gate blocked: 4 blocking reasons (no regression vs the baseline)\n") {
		t.Errorf("decision not first:\n%s", md)
	}
	order := []string{
		"- candidate: `sha256:c0ffee` · `abc1234`",
		"### Blocking",
		"- **regression** `unit` › `github.com/acme/shop/cart › TestTotal`: passes on the baseline: fail: cart_test.go:59: Total() = 6, want 7",
		"### Reported",
		"- **fixed** `unit` › `github.com/acme/shop/cart › TestRounding`",
		"### Candidate tests",
		"| `unit` | ❌ fail |",
	}
	at := 0
	for _, s := range order {
		i := strings.Index(md[at:], s)
		if i < 0 {
			t.Fatalf("Markdown lacks %q after byte %d:\n%s", s, at, md)
		}
		at += i
	}

	buf.Reset()
	if err := d.WriteJUnit(&buf, cand); err != nil {
		t.Fatal(err)
	}
	cases, err := report.ParseJUnit(&buf)
	if err != nil {
		t.Fatal(err)
	}
	var gateCases, failing int
	for _, c := range cases {
		if c.Suite == "slipway gate" {
			gateCases++
			if c.Status == report.CaseFail {
				failing++
			}
		}
	}
	if gateCases != len(d.Reasons)+1 || failing != len(d.Blocking())+1 {
		t.Errorf("gate suite: %d cases, %d failing; %d reasons, %d blocking", gateCases, failing, len(d.Reasons), len(d.Blocking()))
	}

	pass := Decide(config.Gate{}, rep(t, cellSpec{"unit", report.Pass, "gotestsum-pass.xml"}), nil)
	buf.Reset()
	if err := pass.WriteMarkdown(&buf, nil); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(buf.String(), "## ✅ Gate passed (strict)\n") || !strings.Contains(buf.String(), "**no-baseline**") {
		t.Errorf("pass Markdown:\n%s", buf.String())
	}
}
