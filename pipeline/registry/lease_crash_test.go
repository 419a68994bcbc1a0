package registry

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"
)

const leaseHelperEnv = "SLIPWAY_TEST_LEASE_HOLDER"

// TestLeaseHolderProcess is not a test: run with leaseHelperEnv set to a
// repository, it takes that repository's lease, says "held", and sleeps
// until killed, as a promotion killed mid-way would leave it.
func TestLeaseHolderProcess(t *testing.T) {
	repo := os.Getenv(leaseHelperEnv)
	if repo == "" {
		t.Skip("a helper process for TestLeaseOfKilledProcess")
	}
	c := newTestClient(t, WithLease(50*time.Millisecond, time.Hour))
	s, err := c.session(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.acquireLease(mustRepo(t, repo), currentOwner("7001")); err != nil {
		t.Fatal(err)
	}
	fmt.Println("held")
	time.Sleep(time.Hour)
}

// startHolder starts a process that takes repo's lease and returns it
// once the lease is held.
func startHolder(t *testing.T, repo string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestLeaseHolderProcess$", "-test.v")
	cmd.Env = append(os.Environ(), leaseHelperEnv+"="+repo)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if sc.Text() == "held" {
			go func() {
				for sc.Scan() {
				}
			}()
			return cmd
		}
	}
	t.Fatalf("the lease holder exited before holding the lease: %v", sc.Err())
	return nil
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// TestLeaseOfKilledProcess: a promotion killed while holding the lease
// (here for an hour) does not block the next one, which takes the lease
// over at once since its holder provably died (same host, pid gone); a
// live holder is waited for, and the wait says who holds the lease and
// until when.
func TestLeaseOfKilledProcess(t *testing.T) {
	t.Parallel()
	if pidNamespace() == "" {
		t.Skip("no /proc: a dead holder cannot be proven")
	}
	for _, tt := range []struct {
		name   string
		killed bool
	}{{"killed holder", true}, {"live holder", false}} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			var log syncBuffer
			c := newTestClient(t, WithLease(50*time.Millisecond, time.Hour),
				WithLogger(slog.New(slog.NewTextHandler(&log, &slog.HandlerOptions{Level: slog.LevelWarn}))))
			_, r := leaseFixture(t, c)
			holder := startHolder(t, r.To.String())
			if tt.killed {
				holder.Process.Kill()
				holder.Wait()
			}
			ctx, cancel := context.WithTimeout(ctxT(t), 3*time.Second)
			defer cancel()
			res, err := c.Promote(ctx, r)
			if tt.killed {
				if err != nil {
					t.Fatalf("promotion after the lease holder was killed: %v\n%s", err, log.String())
				}
				if res.Tags[0].Action != Moved || !strings.Contains(log.String(), "taking over the lease of a process that died") {
					t.Fatalf("stable %s; log:\n%s", res.Tags[0].Action, log.String())
				}
				return
			}
			if !errors.Is(err, context.DeadlineExceeded) {
				t.Fatalf("promotion while a live process holds the lease: %v", err)
			}
			host, _ := os.Hostname()
			want := fmt.Sprintf("%s pid %d (run 7001)", host, holder.Process.Pid)
			if l := log.String(); !strings.Contains(l, "waiting for the lease") || !strings.Contains(l, want) || !strings.Contains(l, "until=") {
				t.Fatalf("log while waiting, want the holder %q and until when:\n%s", want, l)
			}
		})
	}
}
