package matrix

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/slipway-ci/slipway/pipeline/config"
	"github.com/slipway-ci/slipway/pipeline/report"
)

// designTest is the test section of DESIGN.md §3.
func designTest() config.Test {
	return config.Test{
		Parallelism: 8, Retries: 1,
		Matrix: config.Matrix{
			{Name: "shard", Values: []string{"1", "2", "3", "4"}},
			{Name: "browser", Values: []string{"chromium", "firefox"}},
		},
		Exclude: []map[string]string{{"shard": "4", "browser": "firefox"}},
		Suites: []config.Suite{
			{Name: "unit", Run: config.Command{Args: []string{"go", "test", "./..."}}, MountSource: "/src", Reports: []string{"/out/junit.xml"}},
			{Name: "e2e-${shard}-${browser}", Run: config.Command{Shell: "npx playwright test --project=${browser} --shard=${shard}/4"},
				Env: map[string]string{"BROWSER": "${browser}", "HOME_DIR": "$${HOME}", "CI": "true"}},
		},
	}
}

func ids(cells []Cell) string {
	s := make([]string, len(cells))
	for i, c := range cells {
		s[i] = c.ID
	}
	return strings.Join(s, " ")
}

func TestCellsDesignExample(t *testing.T) {
	t.Parallel()
	cells, err := Cells(designTest())
	if err != nil {
		t.Fatal(err)
	}
	want := "unit e2e-1-chromium e2e-1-firefox e2e-2-chromium e2e-2-firefox e2e-3-chromium e2e-3-firefox e2e-4-chromium"
	if got := ids(cells); got != want {
		t.Fatalf("ids:\n got %s\nwant %s", got, want)
	}
	unit := cells[0]
	if unit.Axes != nil || !reflect.DeepEqual(unit.Run.Args, []string{"go", "test", "./..."}) || unit.MountSource != "/src" ||
		unit.Reports[0] != "/out/junit.xml" || unit.Suite != "unit" {
		t.Errorf("unit = %+v", unit)
	}
	e := cells[4] // e2e-2-firefox
	if e.Run.Shell != "npx playwright test --project=firefox --shard=2/4" || e.Run.Args != nil {
		t.Errorf("run = %+v", e.Run)
	}
	if got := strings.Join(e.EnvList(), " "); got != "BROWSER=firefox CI=true HOME_DIR=${HOME}" {
		t.Errorf("env = %s", got)
	}
	if !reflect.DeepEqual(e.Axes, []report.AxisValue{{Name: "shard", Value: "2"}, {Name: "browser", Value: "firefox"}}) || e.Suite != "e2e-${shard}-${browser}" {
		t.Errorf("axes = %+v, suite %q", e.Axes, e.Suite)
	}
	r := e.Result()
	if r.ID != e.ID || r.Suite != e.Suite || !reflect.DeepEqual(r.Axes, e.Axes) || r.Status != "" {
		t.Errorf("Result() = %+v", r)
	}
	again, _ := Cells(designTest())
	if !reflect.DeepEqual(cells, again) {
		t.Error("Cells is not deterministic")
	}
}

func TestCells(t *testing.T) {
	t.Parallel()
	axes := config.Matrix{
		{Name: "os", Values: []string{"linux", "windows"}},
		{Name: "go", Values: []string{"1.25", "1.26"}},
		{Name: "db", Values: []string{"pg"}},
	}
	suite := func(name, run string, env map[string]string) config.Suite {
		return config.Suite{Name: name, Run: config.Command{Shell: run}, Env: env}
	}
	tests := []struct {
		name    string
		test    config.Test
		want    string
		wantErr string
	}{
		{name: "no suites", test: config.Test{Matrix: axes}, want: ""},
		{name: "only the axes a suite references", test: config.Test{Matrix: axes, Suites: []config.Suite{
			suite("lint-${os}", "make lint", nil), suite("smoke", "true", nil),
		}}, want: "lint-linux lint-windows smoke"},
		{name: "an axis referenced in env only", test: config.Test{Matrix: axes, Suites: []config.Suite{
			suite("it-${db}", "make it", map[string]string{"DB": "${db}"}),
		}}, want: "it-pg"},
		{name: "exclude needs every axis it names", test: config.Test{Matrix: axes,
			Exclude: []map[string]string{{"os": "windows", "go": "1.25"}},
			Suites:  []config.Suite{suite("t-${os}-${go}", "x", nil), suite("l-${os}", "y", nil)},
		}, want: "t-linux-1.25 t-linux-1.26 t-windows-1.26 l-linux l-windows"},
		{name: "include adds, and wins over exclude", test: config.Test{Matrix: axes,
			Exclude: []map[string]string{{"os": "windows"}},
			Include: []map[string]string{{"os": "macos", "go": "1.26"}, {"os": "windows", "go": "1.25"}, {"os": "linux", "go": "1.25"}},
			Suites:  []config.Suite{suite("t-${os}-${go}", "x", nil), suite("l-${os}", "y", nil), suite("once", "z", nil)},
		}, want: "t-linux-1.25 t-linux-1.26 t-macos-1.26 t-windows-1.25 l-linux l-macos l-windows once"},
		{name: "literal dollar brace", test: config.Test{Matrix: axes, Suites: []config.Suite{
			suite("sh", "echo $${HOME} ${undefined", nil),
		}}, want: "sh"},
		{name: "duplicate ids", test: config.Test{Matrix: axes, Suites: []config.Suite{
			suite("e2e", "run --os=${os}", nil),
		}}, wantErr: `duplicate cell id "e2e" (suites "e2e" and "e2e"): a suite's name must reference every axis`},
		{name: "duplicate across suites", test: config.Test{Matrix: axes, Suites: []config.Suite{
			suite("a-linux", "x", nil), suite("a-${os}", "y", nil),
		}}, wantErr: `duplicate cell id "a-linux" (suites "a-linux" and "a-${os}")`},
		{name: "include fits no suite", test: config.Test{Matrix: axes,
			Include: []map[string]string{{"os": "macos"}},
			Suites:  []config.Suite{suite("t-${os}-${go}", "x", nil)},
		}, wantErr: "test.include[0]: {os: macos} fits no suite"},
		{name: "unknown exclude axis", test: config.Test{Matrix: axes,
			Exclude: []map[string]string{{"arch": "arm64"}}, Suites: []config.Suite{suite("x", "y", nil)},
		}, wantErr: "test.exclude[0].arch: not a matrix axis (axes: os, go, db)"},
		{name: "unknown include axis", test: config.Test{Matrix: axes,
			Include: []map[string]string{{"os": "linux", "arch": "arm64"}}, Suites: []config.Suite{suite("x", "y", nil)},
		}, wantErr: "test.include[0].arch: not a matrix axis"},
		{name: "empty axis", test: config.Test{Matrix: config.Matrix{{Name: "os"}}, Suites: []config.Suite{suite("x-${os}", "y", nil)}},
			wantErr: "test.matrix.os: axis has no values"},
		{name: "empty id", test: config.Test{Matrix: config.Matrix{{Name: "os", Values: []string{""}}}, Suites: []config.Suite{suite("${os}", "y", nil)}},
			wantErr: `suite "${os}": empty cell id`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			cells, err := Cells(tt.test)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := ids(cells); got != tt.want {
				t.Errorf("ids:\n got %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestCellsLiteralAndArgs(t *testing.T) {
	t.Parallel()
	cells, err := Cells(config.Test{
		Matrix: config.Matrix{{Name: "v", Values: []string{"1"}}},
		Suites: []config.Suite{{Name: "s-${v}", Run: config.Command{Args: []string{"sh", "-c", "echo $${HOME} v=${v}"}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := cells[0].Run.Args[2]; got != "echo ${HOME} v=1" {
		t.Errorf("arg = %q", got)
	}
}

func TestCellsCap(t *testing.T) {
	t.Parallel()
	vals := make([]string, 101)
	for i := range vals {
		vals[i] = strings.Repeat("v", i+1)
	}
	_, err := Cells(config.Test{
		Matrix: config.Matrix{{Name: "a", Values: vals}, {Name: "b", Values: vals}},
		Suites: []config.Suite{{Name: "s-${a}-${b}", Run: config.Command{Shell: "x"}}},
	})
	if err == nil || !strings.Contains(err.Error(), "more than 10000 cells") {
		t.Errorf("err = %v", err)
	}
}

// TestCellsServices: axes referenced only in a service's env or args fan
// the suite out, and each cell's services carry its values; the runner is
// the suite's, the same in every cell.
func TestCellsServices(t *testing.T) {
	t.Parallel()
	pin := "mcr.microsoft.com/playwright@sha256:" + strings.Repeat("c", 64)
	cells, err := Cells(config.Test{
		Matrix: config.Matrix{{Name: "shard", Values: []string{"1", "2"}}, {Name: "browser", Values: []string{"chromium", "firefox"}}},
		Suites: []config.Suite{{
			Name:   "e2e-${shard}-${browser}",
			Run:    config.Command{Shell: "npx playwright test --project=${browser}"},
			Runner: config.Runner{Ref: pin},
			Services: []config.Service{
				{Name: "app", Image: config.AppImage, Ports: []int{8080}, Env: map[string]string{"SHARD": "${shard}", "HOME": "$${HOME}"}},
				{Name: "db", Ref: "postgres@sha256:" + strings.Repeat("d", 64), Args: []string{"postgres", "-c", "app.shard=${shard}"}},
			},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(cells); got != "e2e-1-chromium e2e-1-firefox e2e-2-chromium e2e-2-firefox" {
		t.Fatalf("cells %s", got)
	}
	for _, c := range cells {
		shard := c.Axes[0].Value
		if c.Runner.Ref != pin || len(c.Services) != 2 {
			t.Fatalf("%s: runner %+v services %+v", c.ID, c.Runner, c.Services)
		}
		if got := c.Services[0].Env; got["SHARD"] != shard || got["HOME"] != "${HOME}" {
			t.Errorf("%s: app env %v, want SHARD=%s and a literal ${HOME}", c.ID, got, shard)
		}
		if got := c.Services[1].Args[2]; got != "app.shard="+shard {
			t.Errorf("%s: db args %q", c.ID, c.Services[1].Args)
		}
	}
	// Each cell has its own copy: changing one changes no other.
	cells[0].Services[0].Env["SHARD"] = "x"
	if cells[1].Services[0].Env["SHARD"] != "1" {
		t.Error("cells share a service env map")
	}
}

// TestCellsServiceOnlyAxis: a suite whose only reference to an axis is in
// a service's env still fans out over it.
func TestCellsServiceOnlyAxis(t *testing.T) {
	t.Parallel()
	cells, err := Cells(config.Test{
		Matrix: config.Matrix{{Name: "db", Values: []string{"14", "17"}}},
		Suites: []config.Suite{{Name: "it-${db}", Run: config.Command{Args: []string{"it"}},
			Services: []config.Service{{Name: "app", Image: config.AppImage, Env: map[string]string{"PG": "${db}"}}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got := ids(cells); got != "it-14 it-17" {
		t.Errorf("cells %s", got)
	}
}

func TestOnPlatforms(t *testing.T) {
	t.Parallel()
	test := config.Test{
		Matrix: config.Matrix{{Name: "shard", Values: []string{"1", "2"}}},
		Suites: []config.Suite{
			{Name: "unit", Run: config.Command{Shell: "true"}, Platforms: config.PlatformsAll},
			{Name: "e2e-${shard}", Run: config.Command{Shell: "true"}, Platforms: config.PlatformsFirst},
			{Name: "api-${shard}", Run: config.Command{Shell: "true"}, Platforms: config.PlatformsAll},
		},
	}
	cells, err := Cells(test)
	if err != nil {
		t.Fatal(err)
	}
	smoke := SmokeCell(config.Smoke{Duration: config.Duration(time.Second), Platforms: config.PlatformsAll})
	cells = append(cells, smoke)
	for _, tc := range []struct {
		platforms []string
		want      string
	}{
		{[]string{"linux/amd64"}, "unit e2e-1 e2e-2 api-1 api-2 smoke"},
		{[]string{"linux/amd64", "linux/arm64"}, "unit unit@linux/arm64 e2e-1 e2e-2 api-1 api-1@linux/arm64 api-2 api-2@linux/arm64 smoke smoke@linux/arm64"},
		{[]string{"linux/arm64", "linux/amd64", "linux/arm/v7"}, "unit unit@linux/amd64 unit@linux/arm/v7 e2e-1 e2e-2 api-1 api-1@linux/amd64 api-1@linux/arm/v7 api-2 api-2@linux/amd64 api-2@linux/arm/v7 smoke smoke@linux/amd64 smoke@linux/arm/v7"},
	} {
		got := OnPlatforms(cells, tc.platforms)
		if ids(got) != tc.want {
			t.Errorf("%v:\n got %s\nwant %s", tc.platforms, ids(got), tc.want)
		}
		for _, c := range got {
			first := !strings.Contains(c.ID, "@")
			if first != (c.Platform == "") || (!first && !strings.HasSuffix(c.ID, "@"+c.Platform)) {
				t.Errorf("%v: cell %s has platform %q", tc.platforms, c.ID, c.Platform)
			}
			if r := c.Result(); r.Platform != c.Platform {
				t.Errorf("cell %s: result platform %q", c.ID, r.Platform)
			}
		}
	}
	if got := OnPlatforms(cells, []string{"linux/amd64", "linux/arm64"}); got[1].Smoke != 0 || got[len(got)-1].Smoke != time.Second {
		t.Errorf("copies keep their cell's smoke window: %+v", got[len(got)-1])
	}
}
