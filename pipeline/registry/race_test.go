package registry

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/slipway-ci/slipway/pipeline/registry/registrytest"
)

// TestRacingPromotions starts two promotions of different candidates that
// expect the same baseline, together, 50 rounds: each round exactly one
// moves the floating tag and the other fails with ErrBaselineMoved, having
// written no tag.
//
// "one process" shares the process lock, as two goroutines of one program
// do, with the registry lease off: the lock alone must do. "separate
// processes" gives each client its own lock table, so the only thing
// between them is the registry lease, as for two CI jobs on two machines.
func TestRacingPromotions(t *testing.T) {
	rounds := 50
	if testing.Short() {
		rounds = 10
	}
	if n, err := strconv.Atoi(os.Getenv("SLIPWAY_RACE_ROUNDS")); err == nil {
		rounds = n
	}
	for _, mode := range []string{"one process", "separate processes"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			reg := registrytest.New(t)
			ctx := ctxT(t)
			// Jitter both promotions' requests a little so the interleavings vary.
			p := registrytest.NewFaultProxy(t, reg.Host(), 7, &registrytest.Rule{Fault: registrytest.Latency, Jitter: 2 * time.Millisecond})
			lease := WithLease(0, 0)
			if mode == "separate processes" {
				lease = WithLease(100*time.Millisecond, 5*time.Second)
			}
			clients := [2]*Client{newTestClient(t, lease), newTestClient(t, lease)}
			if mode == "separate processes" {
				clients[0].locks, clients[1].locks = newLockTable(), newLockTable()
			}
			to := p.Host() + "/prod/app"
			base := registrytest.PushImage(t, reg.Ref("ci/app:base"), rev("b"))
			if _, err := clients[0].Promote(ctx, req(onHost(t, base, p.Host()), to, nil, []string{"stable"}, ExpectNone)); err != nil {
				t.Fatal(err)
			}
			baseInProd := mustDigest(t, reg.Ref("prod/app@"+base.DigestStr()))
			for round := range rounds {
				var cands [2]string
				var errs [2]error
				var wg sync.WaitGroup
				start := make(chan struct{})
				for i := range 2 {
					d := registrytest.PushImage(t, reg.Ref(fmt.Sprintf("ci/app:r%d-%d", round, i)), rev(fmt.Sprint(round, i)))
					cands[i] = d.DigestStr()
					r := req(onHost(t, d, p.Host()), to, []string{fmt.Sprintf("r%d-%d", round, i)}, []string{"stable"}, base.DigestStr())
					wg.Add(1)
					go func() {
						defer wg.Done()
						<-start
						_, errs[i] = clients[i].Promote(ctx, r)
					}()
				}
				close(start)
				wg.Wait()
				won := -1
				for i, err := range errs {
					switch {
					case err == nil && won == -1:
						won = i
					case err == nil:
						t.Fatalf("round %d: both promotions succeeded", round)
					case !errors.Is(err, ErrBaselineMoved):
						t.Fatalf("round %d: promotion %d failed with %v, want ErrBaselineMoved", round, i, err)
					}
				}
				if won == -1 {
					t.Fatalf("round %d: no promotion succeeded: %v", round, errs)
				}
				if got := head(t, reg.Ref("prod/app:stable")); got != cands[won] {
					t.Fatalf("round %d: stable = %s, want the winner %s", round, got, cands[won])
				}
				if !contains(errs[1-won].Error(), "baseline moved from "+base.DigestStr()+" to "+cands[won]) {
					t.Fatalf("round %d: loser's error %q does not name the move", round, errs[1-won])
				}
				if got := head(t, reg.Ref(fmt.Sprintf("prod/app:r%d-%d", round, 1-won))); got != ExpectNone {
					t.Fatalf("round %d: the loser wrote its immutable tag (%s)", round, got)
				}
				registrytest.Tag(t, reg.Ref("prod/app:stable"), baseInProd)
			}
		})
	}
}
