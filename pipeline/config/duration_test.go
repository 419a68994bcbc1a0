package config

import (
	"encoding/json"
	"testing"
	"time"
)

func TestParseDuration(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in      string
		want    time.Duration
		wantErr string
	}{
		{"20m", 20 * time.Minute, ""},
		{"7d", 7 * 24 * time.Hour, ""},
		{" 14d ", 14 * 24 * time.Hour, ""},
		{"0", 0, ""},
		{"0d", 0, ""},
		{"1h30m", 90 * time.Minute, ""},
		{"", 0, `"" is not a duration`},
		{"3x", 0, `"3x" is not a duration`},
		{"20", 0, `"20" is not a duration`},
		{"1d12h", 0, `"1d12h" is not a duration`},
		{"+1d", 0, `"+1d" is not a duration`},
		{"d", 0, `"d" is not a duration`},
		{"-1d", 0, `"-1d" is negative`},
		{"-5m", 0, `"-5m" is negative`},
		{"106751d", 106751 * 24 * time.Hour, ""},
		{"106752d", 0, `"106752d" is too long`},
		{"2147483647d", 0, `"2147483647d" is too long`},
		{"99999999999999999999d", 0, `"99999999999999999999d" is not a duration`},
	} {
		got, err := ParseDuration(tt.in)
		switch {
		case tt.wantErr != "" && (err == nil || err.Error() != tt.wantErr):
			t.Errorf("ParseDuration(%q) error = %v, want %s", tt.in, err, tt.wantErr)
		case tt.wantErr == "" && (err != nil || got.Std() != tt.want):
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", tt.in, got.Std(), err, tt.want)
		}
	}
}

func TestDurationString(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		d    time.Duration
		want string
	}{
		{0, "0s"},
		{20 * time.Minute, "20m"},
		{48 * time.Hour, "2d"},
		{36 * time.Hour, "36h"},
		{90 * time.Minute, "1h30m"},
		{time.Hour + time.Second, "1h0m1s"},
		{1500 * time.Millisecond, "1.5s"},
		{10 * time.Second, "10s"},
	} {
		d := Duration(tt.d)
		if got := d.String(); got != tt.want {
			t.Errorf("String(%v) = %q, want %q", tt.d, got, tt.want)
		}
		back, err := ParseDuration(d.String())
		if err != nil || back != d {
			t.Errorf("ParseDuration(%q) = %v, %v", d.String(), back, err)
		}
	}
}

func TestJSON(t *testing.T) {
	t.Parallel()
	cfg, err := LoadFile("testdata/full.yaml")
	if err != nil {
		t.Fatal(err)
	}
	b, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var again Config
	if err := json.Unmarshal(b, &again); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
	if err := again.Validate(); err != nil {
		t.Fatal(err)
	}
	b2, _ := json.Marshal(again)
	if string(b) != string(b2) {
		t.Errorf("JSON round trip:\n%s\n%s", b, b2)
	}
	var m struct {
		Test struct {
			Timeout string
			Matrix  json.RawMessage
			Suites  []struct{ Run json.RawMessage }
		}
	}
	_ = json.Unmarshal(b, &m)
	if m.Test.Timeout != "20m" || string(m.Test.Matrix) != `{"shard":["1","2","3","4"],"browser":["chromium","firefox"]}` ||
		string(m.Test.Suites[0].Run) != `["go","test","-race","./..."]` {
		t.Errorf("JSON shape: %s", b)
	}
}
