package registry

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/remote"

	rt "github.com/slipway-ci/slipway/pipeline/registry/registrytest"
)

// at is the injected time of the n-th move of a test: distinct and
// increasing, as real promotion times are.
func at(n int) time.Time { return testTime.Add(time.Duration(n) * time.Minute) }

// chain promotes one image per name into host/prod/app, each over the
// previous one as the baseline of stable (the first over "none"), at at(1),
// at(2), …, and returns their digests. Each image's revision is its name.
func chain(t *testing.T, c *Client, host string, names ...string) []string {
	t.Helper()
	ctx := ctxT(t)
	var out []string
	expect := ExpectNone
	for i, n := range names {
		d := rt.PushImage(t, host+"/ci/app:"+n, rev(n))
		r := req(d, host+"/prod/app", []string{"sha-" + n}, []string{"stable"}, expect)
		r.Record.Revision, r.Record.RunID, r.Record.Time = n, fmt.Sprint("run-", n), at(i+1)
		if _, err := c.Promote(ctx, r); err != nil {
			t.Fatalf("promoting %s: %v", n, err)
		}
		expect = d.DigestStr()
		out = append(out, d.DigestStr())
	}
	return out
}

func rollbackReq(t *testing.T, host string, n int) RollbackRequest {
	return RollbackRequest{Repo: mustRepo(t, host+"/prod/app"), Tag: "stable", Time: at(n), RunID: fmt.Sprint("rb-", n), Actor: "alice", Reason: "bad release"}
}

// moves renders a history as "decision digest<-replaced" lines, newest first.
func moves(h *History, names map[string]string) []string {
	var out []string
	for _, e := range h.Entries {
		out = append(out, fmt.Sprintf("%s %s<-%s", e.Decision, names[e.Digest], names[e.Replaced]))
	}
	return out
}

// TestRollbackChain is the scenario on the real registry: after
// three promotions A → B → C, each rollback moves stable one promotion
// back (rollbacks are not steps: the second goes to A, not back to C),
// writes a rollback record naming the digest it replaced, and shows in the
// history; at the first promotion there is nowhere left to go.
func TestRollbackChain(t *testing.T) {
	t.Parallel()
	reg := rt.New(t)
	ctx := ctxT(t)
	c := newTestClient(t)
	d := chain(t, c, reg.Host(), "A", "B", "C")
	names := map[string]string{d[0]: "A", d[1]: "B", d[2]: "C", "": "none"}
	repo := mustRepo(t, reg.Ref("prod/app"))
	stable := reg.Ref("prod/app:stable")

	h, err := c.History(ctx, repo, "stable", 0)
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"pass C<-B", "pass B<-A", "pass A<-none"}; !slices.Equal(moves(h, names), want) {
		t.Fatalf("history %v, want %v", moves(h, names), want)
	}
	if h.Current != d[2] || !strings.Contains(h.End, "first promotion") {
		t.Fatalf("history current %s end %q", h.Current, h.End)
	}

	// A dry run finds B and writes nothing.
	r := rollbackReq(t, reg.Host(), 4)
	r.DryRun = true
	res, err := c.Rollback(ctx, r)
	if err != nil {
		t.Fatal(err)
	}
	if res.To != d[1] || res.Action != WouldMove || res.Steps != 1 || head(t, stable) != d[2] {
		t.Fatalf("dry run: %+v, stable %s", res, names[head(t, stable)])
	}
	if recs, _ := c.ReadPromotionRecords(ctx, repo.Digest(d[1])); len(recs) != 1 {
		t.Fatalf("a dry run wrote a record: %+v", recs)
	}

	steps := []struct {
		name, want string
		history    []string
	}{
		{"C back to B", "B", []string{"rollback B<-C", "pass C<-B", "pass B<-A", "pass A<-none"}},
		{"rollback after rollback: B back to A", "A", []string{"rollback A<-B", "rollback B<-C", "pass C<-B", "pass B<-A", "pass A<-none"}},
	}
	for i, st := range steps {
		res, err := c.Rollback(ctx, rollbackReq(t, reg.Host(), 5+i))
		if err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		if got := names[head(t, stable)]; got != st.want || names[res.To] != st.want || res.Action != Moved || res.Steps != 1 {
			t.Fatalf("%s: stable on %s, result %+v", st.name, got, res)
		}
		if res.Target.Revision != st.want || res.Target.Decision != DecisionPass {
			t.Fatalf("%s: target %+v, want %s's promotion", st.name, res.Target, st.want)
		}
		h, err := c.History(ctx, repo, "stable", 0)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(moves(h, names), st.history) {
			t.Fatalf("%s: history %v, want %v", st.name, moves(h, names), st.history)
		}
		top := h.Entries[0]
		if top.Reason != "bad release" || top.Actor != "alice" || top.RunID != fmt.Sprint("rb-", 5+i) || !top.Time.Equal(at(5+i)) || top.Revision != st.want {
			t.Fatalf("%s: rollback entry %+v", st.name, top)
		}
		// verify --require-promotion accepts the tag where it is now.
		if _, err := c.Verify(ctx, stable, VerifyOptions{RequirePromotion: true, Revision: st.want}); err != nil {
			t.Fatalf("%s: verify: %v", st.name, err)
		}
	}

	// The second rollback's job run again (the same run id) finds its
	// work done: nothing moves, nothing is written, and it says so.
	again, err := c.Rollback(ctx, rollbackReq(t, reg.Host(), 6))
	if err != nil {
		t.Fatalf("re-run of the second rollback: %v", err)
	}
	if !again.Done || again.Action != Unchanged || names[again.To] != "A" || names[head(t, stable)] != "A" || again.Promotion != nil ||
		!strings.Contains(strings.Join(again.Lines(), "\n"), "run rb-6 rolled it back to "+d[0]) {
		t.Fatalf("re-run of the second rollback: %+v, lines %q, stable on %s", again, again.Lines(), names[head(t, stable)])
	}
	if h, _ := c.History(ctx, repo, "stable", 0); len(h.Entries) != 5 {
		t.Fatalf("the re-run wrote a record: %v", moves(h, names))
	}

	// A was the first promotion: nowhere left to go, nothing written.
	_, err = c.Rollback(ctx, rollbackReq(t, reg.Host(), 7))
	if !errors.Is(err, ErrNoRollbackTarget) || !strings.Contains(err.Error(), "first promotion") || !strings.Contains(err.Error(), stable) {
		t.Fatalf("rollback past the first promotion: %v", err)
	}
	if names[head(t, stable)] != "A" {
		t.Fatal("a refused rollback moved stable")
	}
}

// TestRollbackTargets covers choosing the target (steps, --to) and the
// refusals, each on a fresh A → B → C.
func TestRollbackTargets(t *testing.T) {
	t.Parallel()
	reg := rt.New(t)
	tests := []struct {
		name     string
		mutate   func(t *testing.T, r *RollbackRequest, d []string, host string)
		wantErr  error
		says     string
		wantHead string // A, B or C
		action   Action
	}{
		{"steps 1", func(*testing.T, *RollbackRequest, []string, string) {}, nil, "", "B", Moved},
		{"steps 2", func(_ *testing.T, r *RollbackRequest, _ []string, _ string) { r.Steps = 2 }, nil, "", "A", Moved},
		{"to A", func(_ *testing.T, r *RollbackRequest, d []string, _ string) { r.To = d[0] }, nil, "", "A", Moved},
		{"to A by reference", func(_ *testing.T, r *RollbackRequest, d []string, host string) { r.To = host + "/prod/app@" + d[0] }, nil, "", "A", Moved},
		{"to where it is", func(_ *testing.T, r *RollbackRequest, d []string, _ string) { r.To = d[2] }, nil, "", "C", Unchanged},
		{"steps 3: past the first promotion", func(_ *testing.T, r *RollbackRequest, _ []string, _ string) { r.Steps = 3 }, ErrNoRollbackTarget, "cannot go 3 promotion(s) back", "C", ""},
		{"to a digest never promoted", func(t *testing.T, r *RollbackRequest, _ []string, host string) {
			r.To = rt.PushImage(t, host+"/prod/app:other", rev("X")).DigestStr()
		}, ErrNoRollbackTarget, "is not in its promotion history", "C", ""},
		{"no record: tagged by hand", func(t *testing.T, r *RollbackRequest, _ []string, host string) {
			rt.Tag(t, host+"/prod/app:stable", rt.PushImage(t, host+"/prod/app:hand", rev("H")))
		}, ErrNoRollbackTarget, "no promotion (not rollback) record of stable", "", ""},
		{"the previous image is gone", func(t *testing.T, r *RollbackRequest, d []string, host string) {
			if err := remote.Delete(mustDigest(t, host+"/prod/app@"+d[1])); err != nil {
				t.Fatal(err)
			}
		}, ErrNoRollbackTarget, "is gone from", "C", ""},
		{"the image before is gone, two steps is not", func(t *testing.T, r *RollbackRequest, d []string, host string) {
			if err := remote.Delete(mustDigest(t, host+"/prod/app@"+d[1])); err != nil {
				t.Fatal(err)
			}
			r.Steps = 2
		}, nil, "", "A", Moved},
		{"no such tag", func(_ *testing.T, r *RollbackRequest, _ []string, _ string) { r.Tag = "prod" }, ErrNoRollbackTarget, "does not exist", "C", ""},
		{"steps and to", func(_ *testing.T, r *RollbackRequest, d []string, _ string) { r.Steps, r.To = 2, d[0] }, ErrInvalidRequest, "not both", "C", ""},
		{"reason on two lines", func(_ *testing.T, r *RollbackRequest, _ []string, _ string) { r.Reason = "a\nb" }, ErrInvalidRequest, "one line", "C", ""},
		{"reserved tag", func(_ *testing.T, r *RollbackRequest, _ []string, _ string) { r.Tag = LeaseTag }, ErrInvalidRequest, "reserved", "C", ""},
		{"no time", func(_ *testing.T, r *RollbackRequest, _ []string, _ string) { r.Time = time.Time{} }, ErrInvalidRequest, "time", "C", ""},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			// Each case in its own repository of the one registry.
			host := reg.Host()
			c := newTestClient(t)
			ns := fmt.Sprintf("case%d", i)
			d := chainIn(t, c, host, ns, "A", "B", "C")
			names := map[string]string{d[0]: "A", d[1]: "B", d[2]: "C"}
			r := rollbackReq(t, host, 10)
			r.Repo = mustRepo(t, host+"/"+ns+"/prod/app")
			tt.mutate(t, &r, d, host+"/"+ns)
			stableBefore := head(t, host+"/"+ns+"/prod/app:stable")
			res, err := c.Rollback(ctxT(t), r)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) || !strings.Contains(err.Error(), tt.says) {
					t.Fatalf("err %v, want %v saying %q", err, tt.wantErr, tt.says)
				}
				if got := head(t, host+"/"+ns+"/prod/app:stable"); got != stableBefore {
					t.Fatalf("a refused rollback moved stable from %s to %s", stableBefore, got)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := names[head(t, host+"/"+ns+"/prod/app:stable")]; got != tt.wantHead || res.Action != tt.action {
				t.Fatalf("stable on %s (action %s), want %s (%s)", got, res.Action, tt.wantHead, tt.action)
			}
			recs, err := c.ReadPromotionRecords(ctxT(t), r.Repo.Digest(res.To))
			if err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, rec := range recs {
				if rec.Decision == DecisionRollback {
					n++
					if rec.Baseline != d[2] || rec.Reason != "bad release" || rec.Actor != "alice" || rec.RunID != "rb-10" || !slices.Equal(rec.Floating, []string{"stable"}) {
						t.Fatalf("rollback record %+v", rec)
					}
				}
			}
			if want := map[Action]int{Moved: 1, Unchanged: 0}[tt.action]; n != want {
				t.Fatalf("%d rollback records on %s, want %d", n, tt.wantHead, want)
			}
		})
	}
}

// chainIn is chain in the namespace ns of host.
func chainIn(t *testing.T, c *Client, host, ns string, names ...string) []string {
	t.Helper()
	return chain(t, c, host+"/"+ns, names...)
}

// TestRollbackRacesPromotion starts a rollback of stable (C back to B) and
// a promotion of D over C together, 10 rounds: exactly one moves stable,
// the other fails with ErrBaselineMoved and leaves it where the winner put
// it. "separate processes" leaves only the registry lease between them.
func TestRollbackRacesPromotion(t *testing.T) {
	t.Parallel()
	rounds := 10
	if testing.Short() {
		rounds = 3
	}
	for _, mode := range []string{"one process", "separate processes"} {
		t.Run(mode, func(t *testing.T) {
			t.Parallel()
			reg := rt.New(t)
			ctx := ctxT(t)
			p := rt.NewFaultProxy(t, reg.Host(), 11, &rt.Rule{Fault: rt.Latency, Jitter: 2 * time.Millisecond})
			lease := WithLease(0, 0)
			if mode == "separate processes" {
				lease = WithLease(100*time.Millisecond, 5*time.Second)
			}
			clients := [2]*Client{newTestClient(t, lease), newTestClient(t, lease)}
			if mode == "separate processes" {
				clients[0].locks, clients[1].locks = newLockTable(), newLockTable()
			}
			d := chain(t, clients[0], p.Host(), "A", "B", "C")
			stable := reg.Ref("prod/app:stable")
			wins := map[string]int{}
			for round := range rounds {
				cand := rt.PushImage(t, p.Host()+fmt.Sprintf("/ci/app:d%d", round), rev(fmt.Sprint("D", round)))
				pr := req(cand, p.Host()+"/prod/app", nil, []string{"stable"}, d[2])
				pr.Record.Time = at(100 + 2*round)
				rb := rollbackReq(t, p.Host(), 101+2*round)
				var errs [2]error
				var wg sync.WaitGroup
				start := make(chan struct{})
				wg.Add(2)
				go func() { defer wg.Done(); <-start; _, errs[0] = clients[0].Rollback(ctx, rb) }()
				// The rollback reads the history before it moves: the
				// promotion starts a little later in some rounds, so that
				// either may win.
				delay := time.Duration(round%4) * 40 * time.Millisecond
				go func() { defer wg.Done(); <-start; time.Sleep(delay); _, errs[1] = clients[1].Promote(ctx, pr) }()
				close(start)
				wg.Wait()
				var want string
				switch {
				case errs[0] == nil && errs[1] == nil:
					t.Fatalf("round %d: both the rollback and the promotion succeeded", round)
				case errs[0] == nil:
					want, wins["rollback"] = d[1], wins["rollback"]+1
				case errs[1] == nil:
					want, wins["promotion"] = cand.DigestStr(), wins["promotion"]+1
				default:
					t.Fatalf("round %d: neither won: %v", round, errs)
				}
				for i, err := range errs {
					if err != nil && !errors.Is(err, ErrBaselineMoved) {
						t.Fatalf("round %d: loser %d failed with %v, want ErrBaselineMoved", round, i, err)
					}
				}
				if got := head(t, stable); got != want {
					t.Fatalf("round %d: stable = %s, want the winner's %s", round, got, want)
				}
				rt.Tag(t, stable, mustDigest(t, reg.Ref("prod/app@"+d[2])))
			}
			t.Logf("winners over %d rounds: %v", rounds, wins)
		})
	}
}

// TestRollbackFaults fails the registry where a rollback writes: the
// rollback fails and stable stays on C.
func TestRollbackFaults(t *testing.T) {
	t.Parallel()
	reg := rt.New(t)
	c := newTestClient(t)
	for i, tt := range []struct {
		name  string
		rules []*rt.Rule
	}{
		{"the record write fails", []*rt.Rule{{Method: http.MethodPut, Path: `/manifests/sha256:`, Fault: rt.Status, Status: 500}}},
		{"the tag write fails", []*rt.Rule{{Method: http.MethodPut, Path: `/manifests/stable$`, Fault: rt.Status, Status: 500}}},
		{"the registry resets every write", []*rt.Rule{{Method: http.MethodPut, Fault: rt.Reset}}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			ns := fmt.Sprintf("fault%d", i)
			d := chainIn(t, c, reg.Host(), ns, "A", "B", "C")
			p := rt.NewFaultProxy(t, reg.Host(), 1, tt.rules...)
			r := rollbackReq(t, p.Host(), 10)
			r.Repo = mustRepo(t, p.Host()+"/"+ns+"/prod/app")
			_, err := c.Rollback(ctxT(t), r)
			if err == nil || !strings.Contains(err.Error(), "rolling back "+p.Host()+"/"+ns+"/prod/app:stable") {
				t.Fatalf("err %v, want a failure naming the tag", err)
			}
			if got := head(t, reg.Ref(ns+"/prod/app:stable")); got != d[2] {
				t.Fatalf("stable moved to %s on a failed rollback", got)
			}
			h, herr := c.History(ctxT(t), mustRepo(t, reg.Ref(ns+"/prod/app")), "stable", 0)
			if herr != nil || len(h.Entries) != 3 || h.Entries[0].Decision != DecisionPass {
				t.Fatalf("history after a failed rollback: %+v %v", h, herr)
			}
		})
	}
}

func TestRollbackTargetsForRetention(t *testing.T) {
	t.Parallel()
	reg := rt.New(t)
	ctx := ctxT(t)
	c := newTestClient(t)
	d := chain(t, c, reg.Host(), "A", "B", "C", "D")
	cur := mustDigest(t, reg.Ref("prod/app@"+d[3]))
	for depth, want := range map[int][]string{0: nil, 1: {d[2]}, 2: {d[2], d[1]}, 3: {d[2], d[1], d[0]}, 5: {d[2], d[1], d[0]}} {
		got, err := c.RollbackTargets(ctx, cur, "stable", depth)
		if err != nil {
			t.Fatal(err)
		}
		var ds []string
		for i, tg := range got {
			ds = append(ds, tg.Digest)
			if tg.Steps != i+1 {
				t.Fatalf("depth %d: target %d has steps %d", depth, i, tg.Steps)
			}
		}
		if !slices.Equal(ds, want) {
			t.Fatalf("depth %d: targets %v, want %v", depth, ds, want)
		}
	}
}

// TestRollbackAll: two images promoted together A → B (each its own
// repository) go back to A together, each with a record naming the
// group; a re-run of that rollback changes nothing; a group whose second
// image cannot go back moves neither; and one whose second image's tag
// moves between the plan and its rollback has the first moved forward
// again, so the group is never split.
func TestRollbackAll(t *testing.T) { // not parallel: beforeGroupMember
	reg := rt.New(t)
	ctx := ctxT(t)
	c := newTestClient(t)
	// pair promotes A then B into prefix/one and prefix/two, together.
	pair := func(prefix string) (a, b [2]string) {
		for step, name := range []string{"A", "B"} {
			var reqs []PromoteRequest
			for i, repo := range []string{"one", "two"} {
				d := rt.PushImage(t, reg.Ref(prefix+"/ci/"+repo+":"+name), rev(name+repo))
				expect := ExpectNone
				if step == 1 {
					expect = a[i]
				}
				r := req(d, reg.Ref(prefix+"/"+repo), []string{"sha-" + name}, []string{"stable"}, expect)
				r.Record.Revision, r.Record.RunID, r.Record.Time = name, "run-"+name, at(step+1)
				reqs = append(reqs, r)
				if step == 0 {
					a[i] = d.DigestStr()
				} else {
					b[i] = d.DigestStr()
				}
			}
			if _, err := c.PromoteAll(ctx, reqs); err != nil {
				t.Fatalf("promoting %s: %v", name, err)
			}
		}
		return a, b
	}
	rollbackReqs := func(prefix, run string) []RollbackRequest {
		var out []RollbackRequest
		for _, repo := range []string{"one", "two"} {
			out = append(out, RollbackRequest{Repo: mustRepo(t, reg.Ref(prefix+"/"+repo)), Tag: "stable", Time: at(5), RunID: run, Reason: "bad pair"})
		}
		return out
	}
	stable := func(prefix, repo string) string { return head(t, reg.Ref(prefix+"/"+repo+":stable")) }

	t.Run("together, with a record naming the group; a re-run changes nothing", func(t *testing.T) {
		a, _ := pair("g1")
		res, err := c.RollbackAll(ctx, rollbackReqs("g1", "rb-1"))
		if err != nil {
			t.Fatal(err)
		}
		for i, repo := range []string{"one", "two"} {
			if stable("g1", repo) != a[i] || res.Results[i].Action != Moved {
				t.Fatalf("%s: stable on %s, result %+v; want back on A %s", repo, stable("g1", repo), res.Results[i], a[i])
			}
			recs, err := c.ReadPromotionRecords(ctx, mustRepo(t, reg.Ref("g1/"+repo)).Digest(a[i]))
			if err != nil {
				t.Fatal(err)
			}
			var group []string
			for _, r := range recs {
				if r.Decision == DecisionRollback {
					group = r.Group
				}
			}
			if want := []string{reg.Ref("g1/one"), reg.Ref("g1/two")}; !slices.Equal(group, want) {
				t.Errorf("%s: the rollback record's group %v, want %v", repo, group, want)
			}
		}
		again, err := c.RollbackAll(ctx, rollbackReqs("g1", "rb-1"))
		if err != nil {
			t.Fatal(err)
		}
		for i, repo := range []string{"one", "two"} {
			if r := again.Results[i]; !r.Done || r.Action != Unchanged || stable("g1", repo) != a[i] {
				t.Errorf("%s: re-run %+v, stable on %s: want nothing done", repo, r, stable("g1", repo))
			}
		}
	})

	t.Run("one cannot go back: neither moves", func(t *testing.T) {
		_, b := pair("g2")
		// two's stable was tagged by hand since: no record says where back is.
		hand := rt.PushImage(t, reg.Ref("g2/two:stable"), rev("hand"))
		_, err := c.RollbackAll(ctx, rollbackReqs("g2", "rb-2"))
		if !errors.Is(err, ErrNoRollbackTarget) || !strings.Contains(err.Error(), "nothing was rolled back") {
			t.Fatalf("RollbackAll = %v, want no rollback target, nothing rolled back", err)
		}
		if stable("g2", "one") != b[0] || stable("g2", "two") != hand.DigestStr() {
			t.Errorf("stable on %s and %s: want both where they were", stable("g2", "one"), stable("g2", "two"))
		}
	})

	t.Run("the second cannot go back once the first did: the first goes forward again", func(t *testing.T) {
		_, b := pair("g3")
		var hand string
		beforeGroupMember = func(i int) {
			if i == 1 { // two's stable is tagged by hand between the plan and its rollback
				hand = rt.PushImage(t, reg.Ref("g3/two:stable"), rev("hand")).DigestStr()
			}
		}
		t.Cleanup(func() { beforeGroupMember = nil })
		res, err := c.RollbackAll(ctx, rollbackReqs("g3", "rb-3"))
		beforeGroupMember = nil
		if !errors.Is(err, ErrNoRollbackTarget) {
			t.Fatalf("RollbackAll = %v, want no rollback target", err)
		}
		if stable("g3", "one") != b[0] || stable("g3", "two") != hand || len(res.Undone) != 1 || res.Results[0].Action != RolledBack {
			t.Errorf("one on %s (want B %s again), two on %s (want the hand-tagged %s), undone %v, first %+v", stable("g3", "one"), b[0], stable("g3", "two"), hand, res.Undone, res.Results[0])
		}
	})
}
