package modcheck

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
)

// SDKVersion is the Dagger version whose Go SDK codegen Check runs: the
// engineVersion of the repository's dagger.json files.
const SDKVersion = "v0.21.8"

// codegenModule is a scratch module that requires github.com/dagger/dagger
// at SDKVersion (go.mod and go.sum as `go get` wrote them), to build the
// codegen from the Go module proxy: `go install …@v0.21.8` needs a version
// listing, which the proxy here refuses.
//
//go:embed testdata/codegen.mod testdata/codegen.sum
var codegenModule embed.FS

var codegenOnce struct {
	sync.Mutex
	path string
}

// Codegen returns the path of the Dagger Go SDK's codegen binary at
// SDKVersion, building it on first use into the user cache directory
// ($XDG_CACHE_HOME/slipway/modcheck), where later runs and other test
// processes find it. The binary is renamed into place whole, so processes
// building it at once never see half a file.
func Codegen(ctx context.Context) (string, error) {
	codegenOnce.Lock()
	defer codegenOnce.Unlock()
	if codegenOnce.path != "" {
		return codegenOnce.path, nil
	}
	mod, err := codegenModule.ReadFile("testdata/codegen.mod")
	if err != nil {
		return "", err
	}
	sum, err := codegenModule.ReadFile("testdata/codegen.sum")
	if err != nil {
		return "", err
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	h := sha256.Sum256(append(bytes.Clone(mod), sum...))
	dir := filepath.Join(cache, "slipway", "modcheck")
	bin := filepath.Join(dir, "codegen-"+SDKVersion+"-"+hex.EncodeToString(h[:6]))
	if fi, err := os.Stat(bin); err == nil && fi.Mode().IsRegular() {
		codegenOnce.path = bin
		return bin, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("building the codegen: %w", err)
	}
	scratch, err := os.MkdirTemp(dir, "build-")
	if err != nil {
		return "", fmt.Errorf("building the codegen: %w", err)
	}
	defer os.RemoveAll(scratch)
	for name, b := range map[string][]byte{"go.mod": mod, "go.sum": sum} {
		if err := os.WriteFile(filepath.Join(scratch, name), b, 0o644); err != nil {
			return "", fmt.Errorf("building the codegen: %w", err)
		}
	}
	tmp := filepath.Join(scratch, "codegen")
	cmd := exec.CommandContext(ctx, "go", "build", "-mod=readonly", "-o", tmp, "github.com/dagger/dagger/cmd/codegen")
	cmd.Dir = scratch
	cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", fmt.Errorf("building the Dagger %s codegen from the Go module proxy: %w\n%s", SDKVersion, err, out)
	}
	if err := os.Rename(tmp, bin); err != nil {
		return "", fmt.Errorf("building the codegen: %w", err)
	}
	codegenOnce.path = bin
	return bin, nil
}
