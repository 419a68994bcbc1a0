package registry_test

import (
	"os"
	"time"

	"github.com/slipway-ci/slipway/pipeline/registry"
)

// A floating tag's history, as `slipway history` prints it: after A → B →
// C, stable was rolled back to B.
func ExampleHistory_WriteTable() {
	a := "sha256:" + "aaaaaaaaaaaa" + "0000000000000000000000000000000000000000000000000000"
	b := "sha256:" + "bbbbbbbbbbbb" + "0000000000000000000000000000000000000000000000000000"
	c := "sha256:" + "cccccccccccc" + "0000000000000000000000000000000000000000000000000000"
	at := func(h int) time.Time { return time.Date(2026, 2, 4, h, 0, 0, 0, time.UTC) }
	h := &registry.History{
		Repository: "ghcr.io/acme/app", Tag: "stable", Current: b,
		Entries: []registry.HistoryEntry{
			{Time: at(13), Digest: b, Replaced: c, Decision: registry.DecisionRollback, Revision: "4b825dc", RunID: "812", Actor: "alice", Reason: "checkout 500s"},
			{Time: at(12), Digest: c, Replaced: b, Decision: registry.DecisionPass, Revision: "9f86d08", RunID: "811"},
			{Time: at(11), Digest: b, Replaced: a, Decision: registry.DecisionPass, Revision: "4b825dc", RunID: "807"},
			{Time: at(10), Digest: a, Decision: registry.DecisionPass, Revision: "e3b0c44", RunID: "801"},
		},
		End: a + " was the first promotion of stable",
	}
	h.WriteTable(os.Stdout)
	// Output:
	// ghcr.io/acme/app:stable points at sha256:bbbbbbbbbbbb0000000000000000000000000000000000000000000000000000
	//
	// TIME                  DIGEST               REVISION  DECISION  RUN  BY     REASON
	// 2026-02-04T13:00:00Z  sha256:bbbbbbbbbbbb  4b825dc   rollback  812  alice  checkout 500s
	// 2026-02-04T12:00:00Z  sha256:cccccccccccc  9f86d08   pass      811  -      -
	// 2026-02-04T11:00:00Z  sha256:bbbbbbbbbbbb  4b825dc   pass      807  -      -
	// 2026-02-04T10:00:00Z  sha256:aaaaaaaaaaaa  e3b0c44   pass      801  -      -
	//
	// end: sha256:aaaaaaaaaaaa0000000000000000000000000000000000000000000000000000 was the first promotion of stable
}
