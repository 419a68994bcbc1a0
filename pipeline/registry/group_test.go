package registry

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/slipway-ci/slipway/pipeline/registry/registrytest"
)

// group is two images of one run (a localnode and an rpcnode), each with
// a baseline promoted to stable in its repository unless first, and a
// candidate built from revision c1.
type group struct {
	reg        *registrytest.Registry
	repos      []string
	base, cand []name.Digest
}

func newGroup(t *testing.T, c *Client, first bool, opts ...registrytest.Option) *group {
	t.Helper()
	g := &group{reg: registrytest.New(t, opts...)}
	for _, n := range []string{"localnode", "rpcnode"} {
		repo := g.reg.Ref("prod/" + n)
		g.repos = append(g.repos, repo)
		base := registrytest.PushImage(t, g.reg.Ref("ci/"+n+":base"), rev("b0-"+n))
		if !first {
			if _, err := c.Promote(ctxT(t), req(base, repo, nil, []string{"stable"}, ExpectNone)); err != nil {
				t.Fatal(err)
			}
		}
		g.base = append(g.base, base)
		g.cand = append(g.cand, registrytest.PushImage(t, g.reg.Ref("ci/"+n+":cand"), rev("c1-"+n)))
	}
	return g
}

func (g *group) reqs(first bool) []PromoteRequest {
	var out []PromoteRequest
	for i, repo := range g.repos {
		expect := g.base[i].DigestStr()
		if first {
			expect = ExpectNone
		}
		out = append(out, req(g.cand[i], repo, []string{"sha-c1"}, []string{"stable"}, expect))
	}
	return out
}

// TestPromoteAll: the floating tags of a run's images move for all of them
// or for none. A conflict the plan sees refuses the group before any
// write; one that comes after an image moved its tags moves them back
// (with a rollback record where the history knows the baseline, by
// deleting the tag where there was none), and says so.
func TestPromoteAll(t *testing.T) { // not parallel: beforeGroupMember
	c := newTestClient(t)
	ctx := ctxT(t)
	for _, tt := range []struct {
		name  string
		first bool // no baseline yet
		opts  []registrytest.Option
		// interfere moves rpcnode's stable to an image of nobody's: before
		// the plan, or after localnode was promoted.
		interfere   string // "", "before", "after"
		wantErr     error
		wantStable  []string // "cand", "base" or "none", per image
		wantSha     []bool   // sha-c1 written, per image
		wantUndone  int
		wantHistory string // localnode's newest stable decision
		wantFail    string // in the error: a move back that failed
	}{
		{name: "both promoted", wantStable: []string{"cand", "cand"}, wantSha: []bool{true, true}, wantHistory: DecisionPass},
		{name: "first promotion of both", first: true, wantStable: []string{"cand", "cand"}, wantSha: []bool{true, true}},
		{name: "refused by the plan: nothing written", interfere: "before", wantErr: ErrBaselineMoved,
			wantStable: []string{"base", "other"}, wantSha: []bool{false, false}, wantHistory: DecisionPass},
		{name: "a later image fails: the earlier one's stable goes back, with a rollback record", interfere: "after", wantErr: ErrBaselineMoved,
			wantStable: []string{"base", "other"}, wantSha: []bool{true, false}, wantUndone: 1, wantHistory: DecisionRollback},
		{name: "a later image fails on a first promotion: the earlier stable is deleted", first: true, opts: []registrytest.Option{registrytest.TagDelete()},
			interfere: "after", wantErr: ErrBaselineMoved, wantStable: []string{"none", "other"}, wantSha: []bool{true, false}, wantUndone: 1},
		{name: "a first promotion on a registry without tag DELETE: the error says stable stays", first: true, opts: []registrytest.Option{registrytest.InProcess()},
			interfere: "after", wantErr: ErrBaselineMoved, wantStable: []string{"cand", "other"}, wantSha: []bool{true, false}, wantFail: "deleting the tag (it did not exist before)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			g := newGroup(t, c, tt.first, tt.opts...)
			other := registrytest.PushImage(t, g.reg.Ref("ci/other:x"), rev("zz"))
			move := func() { registrytest.PushImage(t, g.repos[1]+":stable", rev("zz-"+other.DigestStr()[7:15])) }
			switch tt.interfere {
			case "before":
				move()
			case "after":
				beforeGroupMember = func(i int) {
					if i == 1 {
						move()
					}
				}
				t.Cleanup(func() { beforeGroupMember = nil })
			}
			otherStable := head(t, g.repos[1]+":stable")
			res, err := c.PromoteAll(ctx, g.reqs(tt.first))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("PromoteAll() error = %v, want %v", err, tt.wantErr)
			}
			if tt.interfere == "after" {
				otherStable = head(t, g.repos[1]+":stable")
			}
			if err != nil && !strings.Contains(err.Error(), tt.wantFail) {
				t.Errorf("error %q lacks %q", err, tt.wantFail)
			}
			for i, repo := range g.repos {
				want := map[string]string{"cand": g.cand[i].DigestStr(), "base": g.base[i].DigestStr(), "none": ExpectNone, "other": otherStable}[tt.wantStable[i]]
				if got := head(t, repo+":stable"); got != want {
					t.Errorf("%s:stable = %s, want the %s %s", repo, got, tt.wantStable[i], want)
				}
				if got := head(t, repo+":sha-c1") != ExpectNone; got != tt.wantSha[i] {
					t.Errorf("%s:sha-c1 written %v, want %v", repo, got, tt.wantSha[i])
				}
			}
			if len(res.Undone) != tt.wantUndone {
				t.Errorf("undone %q, want %d lines", res.Undone, tt.wantUndone)
			}
			if tt.wantUndone > 0 {
				if !strings.Contains(res.Undone[0], "all or nothing") || res.Results[0].Tags[len(res.Results[0].Tags)-1].Action != RolledBack {
					t.Errorf("undone %q, localnode's tags %+v: want stable reported rolled back", res.Undone, res.Results[0].Tags)
				}
			}
			if tt.wantHistory != "" {
				repo, _ := name.NewRepository(g.repos[0])
				h, err := c.History(ctx, repo, "stable", 5)
				if err != nil {
					t.Fatal(err)
				}
				if len(h.Entries) == 0 || h.Entries[0].Decision != tt.wantHistory {
					t.Errorf("localnode stable history %+v, want the newest %s", h.Entries, tt.wantHistory)
				}
			}
		})
	}
}

func TestPromoteAllNothing(t *testing.T) {
	t.Parallel()
	if _, err := newTestClient(t).PromoteAll(ctxT(t), nil); !errors.Is(err, ErrInvalidRequest) {
		t.Errorf("error %v, want ErrInvalidRequest", err)
	}
}
