package matrix

import (
	"errors"
	"fmt"
	"sort"
	"strconv"
	"strings"
)

// MaxShards bounds n in "i/n".
const MaxShards = 1000

// ShardSpec is shard Index of Count (1-based), as in "--shard 2/4".
type ShardSpec struct {
	Index, Count int
}

// String returns "i/n".
func (s ShardSpec) String() string { return fmt.Sprintf("%d/%d", s.Index, s.Count) }

// ParseShard reads "i/n": 1 <= i <= n <= MaxShards.
func ParseShard(s string) (ShardSpec, error) {
	is, ns, ok := strings.Cut(strings.TrimSpace(s), "/")
	if !ok {
		return ShardSpec{}, fmt.Errorf("shard %q: want i/n, e.g. 2/4", s)
	}
	i, err1 := strconv.Atoi(is)
	n, err2 := strconv.Atoi(ns)
	if err := errors.Join(err1, err2); err != nil {
		return ShardSpec{}, fmt.Errorf("shard %q: want i/n with whole numbers, e.g. 2/4", s)
	}
	spec := ShardSpec{Index: i, Count: n}
	if err := spec.validate(); err != nil {
		return ShardSpec{}, fmt.Errorf("shard %q: %w", s, err)
	}
	return spec, nil
}

func (s ShardSpec) validate() error {
	switch {
	case s.Count < 1 || s.Count > MaxShards:
		return fmt.Errorf("the shard count must be 1 to %d, got %d", MaxShards, s.Count)
	case s.Index < 1 || s.Index > s.Count:
		return fmt.Errorf("the shard index must be 1 to %d, got %d", s.Count, s.Index)
	}
	return nil
}

// Shard returns the cells of shard i of n (1-based), in cells' order.
//
// The rule: sort the cells by ID; the cell at sorted position k (0-based)
// belongs to shard k mod n + 1. So the n shards are disjoint and together
// hold every cell exactly once, their sizes differ by at most one, and the
// split depends only on the set of cell ids, not on the order the config
// lists suites in: every runner of one config computes the same split.
// (Adding or removing a cell moves others between shards: all runners of a
// run must use the same config, which they do when they test one revision.)
func Shard(cells []Cell, i, n int) ([]Cell, error) {
	if err := (ShardSpec{Index: i, Count: n}).validate(); err != nil {
		return nil, err
	}
	order := make([]int, len(cells))
	for k := range order {
		order[k] = k
	}
	sort.SliceStable(order, func(a, b int) bool { return cells[order[a]].ID < cells[order[b]].ID })
	mine := make([]bool, len(cells))
	for k, idx := range order {
		mine[idx] = k%n == i-1
	}
	out := make([]Cell, 0, len(cells)/n+1)
	for k, c := range cells {
		if mine[k] {
			out = append(out, c)
		}
	}
	return out, nil
}
