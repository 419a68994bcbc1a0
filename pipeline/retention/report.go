package retention

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
)

// WriteTable renders a plan (and, after an apply, its result) for people:
// the summary, then one line per item with its reason.
func WriteTable(w io.Writer, p *Plan, res *Result) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	s := p.Summary
	fmt.Fprintf(tw, "repository\t%s\n", p.Repo)
	fmt.Fprintf(tw, "plan\t%d to delete, %d to untag, %d tags kept, %s reclaimable\n",
		s.Delete, s.Untag, s.KeptTags, humanBytes(s.BytesReclaimable))
	if len(s.KeptBy) > 0 {
		fmt.Fprintf(tw, "kept by\t%s\n", joinCounts(s.KeptBy))
	}
	if len(s.StorageByClass) > 0 {
		var parts []string
		for _, k := range sortedMapKeys(s.StorageByClass) {
			parts = append(parts, k+" "+humanBytes(s.StorageByClass[k]))
		}
		fmt.Fprintf(tw, "storage by class\t%s\n", strings.Join(parts, ", "))
	}
	if res != nil {
		fmt.Fprintf(tw, "applied\t%d done, %d already gone, %d refused, %d failed, %d skipped\n",
			res.Count(StatusDone), res.Count(StatusGone), res.Count(StatusRefused), res.Count(StatusFailed), res.Count(StatusSkipped))
	}
	for _, n := range p.Notes {
		fmt.Fprintf(tw, "note\t%s\n", n)
	}
	if len(p.Items) > 0 {
		fmt.Fprintln(tw, "\nWAVE\tACTION\tDIGEST\tTAGS\tSIZE\tREASON")
	}
	status := make(map[string]Outcome)
	if res != nil {
		for _, o := range res.Outcomes {
			status[o.Item.Digest+"|"+o.Item.Tag] = o
		}
	}
	for _, it := range p.Items {
		tags := it.Tag
		if it.Action == ActionDelete {
			tags = strings.Join(it.Tags, ",")
		}
		if tags == "" {
			tags = "-"
		}
		reason := it.Reason.Text
		if o, ok := status[it.Digest+"|"+it.Tag]; ok && o.Status != StatusDone {
			reason = "[" + o.Status + ": " + o.Detail + "] " + reason
		}
		fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\n", it.Wave, it.Action, short(mustHash(it.Digest)), tags, humanBytes(it.Bytes), reason)
	}
	if res != nil {
		for _, pr := range res.Problems {
			fmt.Fprintf(tw, "PROBLEM\t%s\n", pr)
		}
	}
	return tw.Flush()
}

func joinCounts(m map[string]int) string {
	var parts []string
	for _, k := range sortedMapKeys(m) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return strings.Join(parts, ", ")
}

func sortedMapKeys[V any](m map[string]V) []string {
	ks := make([]string, 0, len(m))
	for k := range m {
		ks = append(ks, k)
	}
	sort.Strings(ks)
	return ks
}

func humanBytes(n int64) string {
	const unit = 1024
	if n < unit {
		return fmt.Sprintf("%dB", n)
	}
	div, exp := int64(unit), 0
	for m := n / unit; m >= unit; m /= unit {
		div *= unit
		exp++
	}
	return fmt.Sprintf("%.1f%ciB", float64(n)/float64(div), "KMGTPE"[exp])
}
