package report

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// Markdown bounds: GitHub refuses a step summary over 1 MiB.
const (
	mdMaxRows     = 300     // table rows before passing cells are left out
	mdMaxFailures = 100     // failure lines
	mdMaxLogs     = 10      // log tails shown
	mdLogBytes    = 4 << 10 // per log tail
	mdMaxLine     = 300     // a message's first line
)

// StatusIcon is the emoji a summary shows for a cell status.
func StatusIcon(s Status) string {
	switch s {
	case Pass:
		return "✅"
	case Flaky:
		return "⚠️"
	case Fail, Timeout:
		return "❌"
	case Error:
		return "💥"
	case Cancelled:
		return "⏹️"
	}
	return "❔"
}

// Headline is the report's own one-line verdict, as a Markdown heading.
func (r *Report) Headline() string {
	n := r.Counts()
	bad := n.Cells - n.Pass - n.Flaky
	switch {
	case n.Cells == 0:
		return "## ❌ Tests: no cells ran"
	case bad > 0:
		return fmt.Sprintf("## ❌ Tests: %d of %d cells did not pass", bad, n.Cells)
	case n.Flaky > 0:
		return fmt.Sprintf("## ⚠️ Tests passed: %d cells, %d tests, %d flaky", n.Cells, r.Tests(), n.Flaky)
	}
	return fmt.Sprintf("## ✅ Tests passed: %d cells, %d tests", n.Cells, r.Tests())
}

// WriteMarkdown writes the summary for $GITHUB_STEP_SUMMARY: verdict first
// (the gate's decision when there is one; r.Headline() when verdict is
// empty), then what was tested, a table of cells, the failures, and the log
// tails of cells that did not pass. The output is bounded (well under
// GitHub's 1 MiB) whatever the size of r.
func (r *Report) WriteMarkdown(w io.Writer, verdict string) error {
	bw := bufio.NewWriter(w)
	if verdict == "" {
		verdict = r.Headline()
	}
	fmt.Fprintf(bw, "%s\n\n", strings.TrimRight(verdict, "\n"))

	var meta []string
	for _, m := range []struct{ k, v string }{
		{"image", r.Image}, {"digest", r.Digest}, {"revision", r.Revision}, {"run", r.RunID}, {"shard", r.Shard},
	} {
		if m.v != "" {
			meta = append(meta, m.k+" "+code(m.v))
		}
	}
	if len(meta) > 0 {
		fmt.Fprintf(bw, "%s\n\n", strings.Join(meta, " · "))
	}
	if b := r.Build; b != nil {
		images := "1 image"
		if b.Images != 1 {
			images = fmt.Sprintf("%d images", b.Images)
		}
		fmt.Fprintf(bw, "Built %s once, in %s, before the cells ran: cell times are test time only.\n\n", images, b.Duration.Std().Round(100*time.Millisecond))
		if len(b.Platforms) > 0 {
			named := b.Platforms[0].Image != ""
			if named {
				bw.WriteString("| image ")
			}
			bw.WriteString("| platform | status | build |\n")
			if named {
				bw.WriteString("|---")
			}
			bw.WriteString("|---|---|---|\n")
			for _, p := range b.Platforms {
				if named {
					fmt.Fprintf(bw, "| %s ", p.Image)
				}
				what := "✅ tested"
				switch p.Status {
				case PlatformSmokeTested:
					what = fmt.Sprintf("✅ smoke-tested: %d of the cells ran on it", p.Cells)
				case PlatformBuiltOnly:
					what = "🔨 built only: no cell ran on it"
				}
				if p.Note != "" {
					what += " (" + p.Note + ")"
				}
				fmt.Fprintf(bw, "| %s | %s | %s |\n", code(p.Platform), what, p.Duration.Std().Round(100*time.Millisecond))
			}
			bw.WriteString("\n")
		}
	}

	if r.SmokeOnly() {
		fmt.Fprintf(bw, "> %s\n\n", SmokeNote)
	}
	n := r.Counts()
	var tests, failed, skipped int
	for _, c := range r.Cells {
		t, f, s := c.TestCounts()
		tests, failed, skipped = tests+t, failed+f, skipped+s
	}
	fmt.Fprintf(bw, "%d cells: %d pass, %d flaky, %d fail, %d timeout, %d error, %d cancelled · %d tests: %d failed, %d skipped\n\n",
		n.Cells, n.Pass, n.Flaky, n.Fail, n.Timeout, n.Error, n.Canceled, tests, failed, skipped)

	if n.Cells > 0 {
		fmt.Fprintln(bw, "| Cell | Status | Tests | Failed | Skipped | Attempts | Time |")
		fmt.Fprintln(bw, "|---|---|---:|---:|---:|---:|---:|")
		onlyBad := n.Cells > mdMaxRows
		rows, left := 0, 0
		for _, c := range r.Cells {
			if (onlyBad && c.Status == Pass) || rows >= mdMaxRows {
				left++
				continue
			}
			rows++
			tests, failed, skipped := c.TestCounts()
			fmt.Fprintf(bw, "| %s | %s %s | %d | %d | %d | %d | %s |\n", code(c.ID), StatusIcon(c.Status), c.Status,
				tests, failed, skipped, c.Attempts, c.Duration.Std().Round(time.Millisecond))
		}
		if left > 0 {
			fmt.Fprintf(bw, "\n%d more cells not shown (passing cells are left out of large runs).\n", left)
		}
		fmt.Fprintln(bw)
	}

	var fails []string
	total := 0
	for _, c := range r.Cells {
		if !c.Status.Passed() {
			total++
			if len(fails) < mdMaxFailures {
				fails = append(fails, fmt.Sprintf("- %s %s: %s", code(c.ID), c.Status, inline(c.Reason)))
			}
		}
		// By test id, the order the gate's reasons are in.
		cases := slices.Clone(c.Cases)
		slices.SortStableFunc(cases, func(a, b Case) int { return strings.Compare(a.ID(), b.ID()) })
		for _, tc := range cases {
			if tc.Status.Failed() || tc.Flaky {
				total++
				if len(fails) < mdMaxFailures {
					what := string(tc.Status)
					if tc.Flaky {
						what = "flaky"
					}
					fails = append(fails, fmt.Sprintf("- %s › %s %s: %s", code(c.ID), code(tc.ID()), what, inline(tc.Message)))
				}
			}
		}
	}
	if len(fails) > 0 {
		fmt.Fprintf(bw, "### Failures\n\n%s\n", strings.Join(fails, "\n"))
		if total > len(fails) {
			fmt.Fprintf(bw, "- … and %d more\n", total-len(fails))
		}
		fmt.Fprintln(bw)
	}

	logs := 0
	for _, c := range r.Cells {
		if c.Status.Passed() || c.LogTail == "" || logs >= mdMaxLogs {
			continue
		}
		logs++
		tail := Tail(c.LogTail, mdLogBytes)
		fence := "```"
		for strings.Contains(tail, fence) {
			fence += "`"
		}
		fmt.Fprintf(bw, "<details><summary>Log tail: %s (%s)</summary>\n\n%stext\n%s\n%s\n\n</details>\n\n",
			htmlEscape(c.ID), c.Status, fence, strings.TrimRight(tail, "\n"), fence)
	}
	if err := bw.Flush(); err != nil {
		return fmt.Errorf("writing Markdown: %w", err)
	}
	return nil
}

// code renders s as an inline code span fit for a table cell.
func code(s string) string {
	s = strings.ReplaceAll(oneLine(s), "`", "'")
	s = strings.ReplaceAll(s, "|", `\|`)
	return "`" + s + "`"
}

// inline is the first line of s, bounded, fit for a list item or table.
func inline(s string) string {
	s = oneLine(firstLine(s))
	if s == "" {
		return "(no message)"
	}
	s = truncate(s, mdMaxLine)
	return strings.ReplaceAll(htmlEscape(s), "|", `\|`)
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func htmlEscape(s string) string {
	return strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace(s)
}
