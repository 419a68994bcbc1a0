package buildpacks

import (
	"bytes"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// TestTestsModuleCopy: the tests module builds its builder from a copy of
// this package's test builder (it cannot read outside its own source):
// the two stay the same, file by file and mode by mode.
func TestTestsModuleCopy(t *testing.T) {
	t.Parallel()
	const copyDir = "../../.dagger/tests/testdata/buildpacks"
	for here, there := range map[string]string{
		"testdata/app":         copyDir + "/app",
		"testdata/builder/cnb": copyDir + "/cnb",
		"testdata/packages":    copyDir + "/packages",
	} {
		seen := 0
		err := filepath.WalkDir(here, func(p string, d fs.DirEntry, err error) error {
			if err != nil || d.IsDir() {
				return err
			}
			rel, _ := filepath.Rel(here, p)
			other := filepath.Join(there, rel)
			a, err := os.ReadFile(p)
			if err != nil {
				return err
			}
			b, err := os.ReadFile(other)
			if err != nil || !bytes.Equal(a, b) {
				t.Errorf("%s differs from %s (copy it there): %v", other, p, err)
				return nil
			}
			fa, _ := os.Stat(p)
			fb, _ := os.Stat(other)
			if fa.Mode() != fb.Mode() {
				t.Errorf("%s has mode %v, %s %v", other, fb.Mode(), p, fa.Mode())
			}
			seen++
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		_ = filepath.WalkDir(there, func(p string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() {
				n++
			}
			return nil
		})
		if n != seen {
			t.Errorf("%s has %d files, %s %d", there, n, here, seen)
		}
	}
}
