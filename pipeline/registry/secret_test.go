package registry

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/logs"

	rt "github.com/slipway-ci/slipway/pipeline/registry/registrytest"
)

type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestPasswordNeverLeaks runs failing promotions with a known password,
// with every log on (ours at debug, and ggcr's warn, progress and debug
// request dumps), and looks for the password, in clear and in base64, in
// every log line, error and report.
//
// Not parallel: it swaps ggcr's package-level loggers.
func TestPasswordNeverLeaks(t *testing.T) {
	const user, password = "ci-bot", "hunter2-Sup3r-s3cret-9f1c"
	reg := rt.New(t)
	var logBuf lockedBuffer
	saved := []*log.Logger{logs.Warn, logs.Progress, logs.Debug}
	logs.Warn = log.New(&logBuf, "ggcr warn: ", 0)
	logs.Progress = log.New(&logBuf, "ggcr progress: ", 0)
	logs.Debug = log.New(&logBuf, "ggcr debug: ", 0)
	t.Cleanup(func() { logs.Warn, logs.Progress, logs.Debug = saved[0], saved[1], saved[2] })
	logger := slog.New(slog.NewTextHandler(&logBuf, &slog.HandlerOptions{Level: slog.LevelDebug}))

	base := rt.PushImage(t, reg.Ref("ci/app:base"), rev("b"))
	cand := rt.PushImage(t, reg.Ref("ci/app:cand"), rev("c"))
	setup := newTestClient(t)
	if _, err := setup.Promote(ctxT(t), req(base, reg.Ref("prod/app"), nil, []string{"stable"}, ExpectNone)); err != nil {
		t.Fatal(err)
	}
	secrets := []string{
		password,
		base64.StdEncoding.EncodeToString([]byte(user + ":" + password)),
		base64.StdEncoding.EncodeToString([]byte(password)),
	}
	tests := []struct {
		name     string
		pass     string
		rules    []*rt.Rule
		viaEnv   bool
		wantAuth bool // the proxy saw the right password: the test is not vacuous
	}{
		{name: "wrong password", pass: password + "-old"},
		{name: "floating tag write fails", pass: password, wantAuth: true,
			rules: []*rt.Rule{{Method: http.MethodPut, Path: `/manifests/stable$`, Fault: rt.Status, Status: 500}}},
		{name: "registry resets", pass: password, wantAuth: true, viaEnv: true,
			rules: []*rt.Rule{{Method: http.MethodPut, Fault: rt.Reset}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := rt.NewFaultProxy(t, reg.Host(), 1, tt.rules...)
			p.RequireBasicAuth(user, password)
			auth := WithBasicAuth(user, tt.pass)
			if tt.viaEnv {
				env := map[string]string{EnvUsername: user, EnvPassword: tt.pass, EnvRegistry: p.Host()}
				auth = WithEnv(func(k string) string { return env[k] })
			}
			c := newTestClient(t, auth, WithLogger(logger))
			r := req(onHost(t, cand, p.Host()), p.Host()+"/prod/app", []string{"sha-c"}, []string{"stable"}, base.DigestStr())
			res, err := c.Promote(ctxT(t), r)
			if err == nil {
				t.Fatal("the promotion succeeded; it should fail")
			}
			if got := p.Stats().AuthOK > 0; got != tt.wantAuth {
				t.Fatalf("authenticated requests: %v, want %v", got, tt.wantAuth)
			}
			resJSON, _ := json.Marshal(res)
			var lines string
			if res != nil {
				lines = strings.Join(res.Lines(), "\n")
			}
			places := map[string]string{
				"error":        err.Error(),
				"error (%+v)":  fmt.Sprintf("%+v", err),
				"error (%#v)":  fmt.Sprintf("%#v", err),
				"result JSON":  string(resJSON),
				"result lines": lines,
				"logs":         logBuf.String(),
			}
			for where, text := range places {
				for _, s := range secrets {
					if strings.Contains(text, s) {
						t.Errorf("the password appears in the %s:\n%s", where, text)
					}
				}
			}
			if !strings.Contains(logBuf.String(), "ggcr debug") {
				t.Fatal("ggcr's debug log was not captured: the test would miss a leak")
			}
		})
	}
}
