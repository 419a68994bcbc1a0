package doccheck

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

// repoRoot is the repository root: the directory of the root go.mod.
func repoRoot(t testing.TB) string {
	t.Helper()
	dir, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
		t.Fatalf("repository root not found at %s: %v", dir, err)
	}
	return dir
}

func goEnv() []string {
	return append(os.Environ(), "GOWORK=off", "GOFLAGS=-buildvcs=false")
}

// The slipway CLI is built once per test binary, into a temporary
// directory TestMain removes.
var cli struct {
	dir  string
	once sync.Once
	c    *CLI
	err  error
}

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "doccheck-")
	if err != nil {
		panic(err)
	}
	cli.dir = dir
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

// slipwayCLI builds cmd/slipway (once) and reads its verbs and flags.
func slipwayCLI(t testing.TB) *CLI {
	t.Helper()
	root := repoRoot(t)
	cli.once.Do(func() {
		bin := filepath.Join(cli.dir, "slipway")
		cmd := exec.Command("go", "build", "-o", bin, "./cmd/slipway")
		cmd.Dir = root
		cmd.Env = goEnv()
		if out, err := cmd.CombinedOutput(); err != nil {
			cli.err = fmt.Errorf("go build ./cmd/slipway: %v\n%s", err, out)
			return
		}
		cli.c, cli.err = LoadCLI(bin)
	})
	if cli.err != nil {
		t.Fatal(cli.err)
	}
	return cli.c
}

// loadSchema reads the module's signatures from .dagger/ and, when the
// pinned dagger.io/dagger can be found or downloaded, its core API.
func loadSchema(t testing.TB, root string) (s *Schema, core bool) {
	t.Helper()
	s, err := LoadModule(filepath.Join(root, ".dagger"))
	if err != nil {
		t.Fatalf("reading the module's signatures: %v", err)
	}
	gen, err := coreClientFile(root)
	if err != nil {
		t.Logf("core API of dagger.io/dagger not available (%v): calls chained on core objects (build terminal, …) are not checked", err)
		return s, false
	}
	if err := s.AddCore(gen); err != nil {
		t.Fatalf("reading %s: %v", gen, err)
	}
	return s, true
}

// loadTestsSchema reads the signatures of the tests module (.dagger/tests),
// which `dagger -m .dagger/tests call …` lines call (the benchmarks).
func loadTestsSchema(t testing.TB, root string) *Schema {
	t.Helper()
	s, err := LoadModule(filepath.Join(root, ".dagger", "tests"))
	if err != nil {
		t.Fatalf("reading the tests module's signatures: %v", err)
	}
	return s
}

// coreClientFile locates dagger.gen.go of the dagger.io/dagger version of
// the engine dagger.json pins (the core API the engine serves), downloading
// it through the module proxy if the module cache lacks it.
func coreClientFile(root string) (string, error) {
	b, err := os.ReadFile(filepath.Join(root, "dagger.json"))
	if err != nil {
		return "", err
	}
	var cfg struct {
		EngineVersion string `json:"engineVersion"`
	}
	if err := json.Unmarshal(b, &cfg); err != nil {
		return "", err
	}
	version := cfg.EngineVersion
	if version == "" {
		return "", os.ErrNotExist
	}
	cmd := exec.Command("go", "mod", "download", "-json", "dagger.io/dagger@"+version)
	cmd.Dir = os.TempDir()
	cmd.Env = goEnv()
	out, err := cmd.Output()
	if err != nil {
		return "", err
	}
	var mod struct{ Dir, Error string }
	if err := json.Unmarshal(out, &mod); err != nil {
		return "", err
	}
	if mod.Dir == "" {
		return "", os.ErrNotExist
	}
	return filepath.Join(mod.Dir, "dagger.gen.go"), nil
}
