package matrix

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

func TestParseShard(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want ShardSpec
		err  string
	}{
		{in: "2/4", want: ShardSpec{2, 4}},
		{in: " 1/1 ", want: ShardSpec{1, 1}},
		{in: "1000/1000", want: ShardSpec{1000, 1000}},
		{in: "", err: `shard "": want i/n, e.g. 2/4`},
		{in: "2", err: "want i/n"},
		{in: "a/b", err: "whole numbers"},
		{in: "2/", err: "whole numbers"},
		{in: "1.5/4", err: "whole numbers"},
		{in: "0/4", err: "the shard index must be 1 to 4, got 0"},
		{in: "5/4", err: "the shard index must be 1 to 4, got 5"},
		{in: "-1/4", err: "the shard index must be 1 to 4, got -1"},
		{in: "1/0", err: "the shard count must be 1 to 1000, got 0"},
		{in: "1/1001", err: "the shard count must be 1 to 1000, got 1001"},
		{in: "1/2/3", err: "whole numbers"},
	}
	for _, tt := range tests {
		got, err := ParseShard(tt.in)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("ParseShard(%q) err = %v, want %q", tt.in, err, tt.err)
			}
			continue
		}
		if err != nil || got != tt.want || got.String() != strings.TrimSpace(tt.in) {
			t.Errorf("ParseShard(%q) = %v, %v", tt.in, got, err)
		}
	}
	if _, err := Shard(nil, 3, 2); err == nil {
		t.Error("Shard(3/2) accepted")
	}
}

// TestShardProperty: for 1..50 cells and 1..8 shards, the shards are
// disjoint, together hold every cell exactly once, keep the cells' order,
// differ in size by at most one, and do not depend on the input order.
func TestShardProperty(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(1, 2))
	for ncells := 1; ncells <= 50; ncells++ {
		cells := make([]Cell, ncells)
		for i := range cells {
			cells[i] = Cell{ID: fmt.Sprintf("cell-%x-%d", rng.Uint32(), i)}
		}
		shuffled := append([]Cell(nil), cells...)
		rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		for n := 1; n <= 8; n++ {
			seen := map[string]int{}
			minSize, maxSize := ncells, 0
			for i := 1; i <= n; i++ {
				part, err := Shard(cells, i, n)
				if err != nil {
					t.Fatal(err)
				}
				minSize, maxSize = min(minSize, len(part)), max(maxSize, len(part))
				pos := -1
				for _, c := range part {
					seen[c.ID]++
					k := indexOf(cells, c.ID)
					if k <= pos {
						t.Fatalf("%d cells, shard %d/%d: order not kept", ncells, i, n)
					}
					pos = k
				}
				other, _ := Shard(shuffled, i, n)
				if a, b := idSet(part), idSet(other); a != b {
					t.Fatalf("%d cells, shard %d/%d depends on input order:\n%s\n%s", ncells, i, n, a, b)
				}
			}
			if len(seen) != ncells {
				t.Fatalf("%d cells in %d shards: %d distinct cells", ncells, n, len(seen))
			}
			for id, k := range seen {
				if k != 1 {
					t.Fatalf("%d cells in %d shards: %s in %d shards", ncells, n, id, k)
				}
			}
			if maxSize-minSize > 1 {
				t.Fatalf("%d cells in %d shards: sizes %d..%d", ncells, n, minSize, maxSize)
			}
		}
	}
}

func indexOf(cells []Cell, id string) int {
	for i, c := range cells {
		if c.ID == id {
			return i
		}
	}
	return -1
}

func idSet(cells []Cell) string {
	m := make([]string, 0, len(cells))
	for _, c := range cells {
		m = append(m, c.ID)
	}
	slices.Sort(m)
	return strings.Join(m, ",")
}

func ExampleShard() {
	cells, _ := Cells(designTest())
	for i := 1; i <= 3; i++ {
		part, _ := Shard(cells, i, 3)
		fmt.Printf("%d/3: %s\n", i, ids(part))
	}
	// Output:
	// 1/3: e2e-1-chromium e2e-2-firefox e2e-4-chromium
	// 2/3: unit e2e-1-firefox e2e-3-chromium
	// 3/3: e2e-2-chromium e2e-3-firefox
}
