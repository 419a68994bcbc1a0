package registry

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"
)

// shortDigest is "sha256:" and the first 12 hex digits, for tables.
func shortDigest(d string) string {
	if alg, hex, ok := strings.Cut(d, ":"); ok && len(hex) > 12 {
		return alg + ":" + hex[:12]
	}
	return d
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// rows are the history's entries as table cells: time, digest, revision,
// decision, run, by, reason.
func (h *History) rows() [][]string {
	var out [][]string
	for _, e := range h.Entries {
		out = append(out, []string{
			e.Time.UTC().Format(time.RFC3339), shortDigest(e.Digest), orDash(e.Revision),
			e.Decision, orDash(e.RunID), orDash(e.Actor), orDash(e.Reason),
		})
	}
	return out
}

var historyHeader = []string{"TIME", "DIGEST", "REVISION", "DECISION", "RUN", "BY", "REASON"}

// WriteTable renders the history for people: where the tag points now,
// then one move a line, newest first, and why the history ends there.
func (h *History) WriteTable(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "%s:%s points at %s\n\n", h.Repository, h.Tag, h.Current)
	if len(h.Entries) > 0 {
		fmt.Fprintln(tw, strings.Join(historyHeader, "\t"))
	}
	for _, r := range h.rows() {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	if h.End != "" {
		fmt.Fprintf(tw, "\nend: %s\n", h.End)
	}
	return tw.Flush()
}

// Markdown renders the history as a Markdown table (a job summary).
func (h *History) Markdown() string {
	var b strings.Builder
	fmt.Fprintf(&b, "### History of `%s:%s`\n\n", h.Repository, h.Tag)
	fmt.Fprintf(&b, "Points at `%s` now.\n\n", h.Current)
	if len(h.Entries) > 0 {
		b.WriteString("| " + strings.ToLower(strings.Join(historyHeader, " | ")) + " |\n")
		b.WriteString(strings.Repeat("|---", len(historyHeader)) + "|\n")
		for _, r := range h.rows() {
			for i, c := range r {
				if i == 1 {
					c = "`" + c + "`"
				}
				r[i] = strings.ReplaceAll(c, "|", `\|`)
			}
			b.WriteString("| " + strings.Join(r, " | ") + " |\n")
		}
		b.WriteString("\n")
	}
	if h.End != "" {
		fmt.Fprintf(&b, "_%s_\n", strings.ReplaceAll(h.End, "_", `\_`))
	}
	return b.String()
}

// JSON renders the history as indented JSON, with a final newline.
func (h *History) JSON() (string, error) { return indentJSON(h) }

// JSON renders the result as indented JSON, with a final newline.
func (r *RollbackResult) JSON() (string, error) { return indentJSON(r) }

func indentJSON(v any) (string, error) {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return "", err
	}
	return string(b) + "\n", nil
}
