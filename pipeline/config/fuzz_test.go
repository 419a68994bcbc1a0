package config

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzLoad: Load never panics; its errors are FieldErrors of one line
// each; an accepted config validates again and survives a YAML round trip.
func FuzzLoad(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.yaml")
	bad, _ := filepath.Glob("testdata/bad/*.yaml")
	for _, file := range append(files, bad...) {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	f.Add([]byte("test: {matrix: {a: [1, 2]}, exclude: [{a: 1}], suites: [{name: \"x-${a}\", run: [x]}]}"))
	f.Add([]byte("a: &a [*a]\nbuild: {<<: *a}\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := Load(strings.NewReader(string(data)))
		if err != nil {
			if cfg != nil {
				t.Fatal("a config returned with an error")
			}
			var errs Errors
			if !errors.As(err, &errs) {
				return // reading failed: not a config problem
			}
			for _, e := range errs {
				if e.Msg == "" || strings.ContainsAny(e.Error(), "\r\n") {
					t.Fatalf("bad error %q", e.Error())
				}
			}
			return
		}
		if err := cfg.Validate(); err != nil {
			t.Fatalf("accepted, then invalid:\n%v\ninput:\n%s", err, data)
		}
		roundTrip(t, cfg)
	})
}
