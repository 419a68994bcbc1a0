package config

import (
	"reflect"
	"testing"
)

func TestRefs(t *testing.T) {
	t.Parallel()
	for _, tt := range []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"unit", nil},
		{"e2e-${shard}-${browser}", []string{"shard", "browser"}},
		{"${b} ${a} ${b}", []string{"b", "a"}},
		{"${node-version}", []string{"node-version"}},
		{"$${HOME} ${x}", []string{"x"}},
		{"${HOME:-/root} ${1x} ${} ${a b} ${unclosed", nil},
		{"$$ $x ${_y}", []string{"_y"}},
		{"${a}${a}", []string{"a"}},
	} {
		if got := Refs(tt.in); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("Refs(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestExpand(t *testing.T) {
	t.Parallel()
	vars := map[string]string{"shard": "2", "browser": "firefox"}
	for _, tt := range []struct{ in, want string }{
		{"e2e-${shard}-${browser}", "e2e-2-firefox"},
		{"--shard=${shard}/4 $${HOME} $$ ${HOME:-x}", "--shard=2/4 ${HOME} $$ ${HOME:-x}"},
		{"${other}", "${other}"},
		{"${unclosed", "${unclosed"},
		{"", ""},
	} {
		if got := Expand(tt.in, vars); got != tt.want {
			t.Errorf("Expand(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSuiteAxes(t *testing.T) {
	t.Parallel()
	m := Matrix{{"os", []string{"linux"}}, {"shard", []string{"1", "2"}}, {"browser", []string{"a"}}}
	for _, tt := range []struct {
		name  string
		suite Suite
		refs  []string
		axes  []string
	}{
		{"none", Suite{Name: "unit", Run: Command{Shell: "make test"}}, nil, nil},
		{"name and run, matrix order", Suite{Name: "e2e-${browser}", Run: Command{Args: []string{"x", "--shard=${shard}"}}},
			[]string{"browser", "shard"}, []string{"shard", "browser"}},
		{"env only, by env name", Suite{Name: "u", Run: Command{Shell: "x"}, Env: map[string]string{"Z": "${shard}", "A": "${os}"}},
			[]string{"os", "shard"}, []string{"os", "shard"}},
		{"unknown ref ignored", Suite{Name: "u-${nope}", Run: Command{Shell: "x"}}, []string{"nope"}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.suite.Refs(); !reflect.DeepEqual(got, tt.refs) {
				t.Errorf("Refs() = %v, want %v", got, tt.refs)
			}
			got := tt.suite.Axes(m)
			if len(got) != len(tt.axes) || (len(got) > 0 && !reflect.DeepEqual(got.Names(), tt.axes)) {
				t.Errorf("Axes() = %v, want %v", got.Names(), tt.axes)
			}
		})
	}
}
