package doccheck

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"unicode"
)

// DocFiles lists the Markdown pages of the documentation, relative to the
// repository root: README.md, then docs/*.md in name order.
func DocFiles(root string) ([]string, error) {
	var files []string
	if _, err := os.Stat(filepath.Join(root, "README.md")); err == nil {
		files = append(files, "README.md")
	}
	pages, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		return nil, err
	}
	sort.Strings(pages)
	for _, p := range pages {
		rel, err := filepath.Rel(root, p)
		if err != nil {
			return nil, err
		}
		files = append(files, filepath.ToSlash(rel))
	}
	return files, nil
}

// OutsideFences returns the lines of a Markdown text with the lines of its
// fenced code blocks (fences included) blanked, so that line numbers hold.
func OutsideFences(md string) []string {
	lines := strings.Split(md, "\n")
	out := make([]string, len(lines))
	marker := ""
	for i, l := range lines {
		if marker != "" {
			if strings.HasPrefix(strings.TrimSpace(l), marker) {
				marker = ""
			}
			continue
		}
		if m := fence.FindStringSubmatch(l); m != nil {
			marker = m[1]
			continue
		}
		out[i] = l
	}
	return out
}

var (
	atxHeading = regexp.MustCompile(`^ {0,3}(#{1,6})\s+(.*?)(?:\s+#+)?\s*$`)
	mdLink     = regexp.MustCompile(`!?\[((?:[^\[\]]|\[[^\[\]]*\])*)\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)`)
	codeSpan   = regexp.MustCompile("`+[^`]*`+")
)

// Slug is the anchor GitHub gives a heading's text: lowercase, punctuation
// dropped except '-' and '_', each space a '-'. Inline code keeps its text,
// a link its text.
func Slug(heading string) string {
	heading = mdLink.ReplaceAllString(heading, "$1")
	var b strings.Builder
	for _, r := range strings.ToLower(heading) {
		switch {
		case r == ' ':
			b.WriteRune('-')
		case r == '-' || r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.Is(unicode.Mn, r):
			b.WriteRune(r)
		}
	}
	return b.String()
}

// Anchors returns the anchors of a Markdown text's headings (outside code
// blocks), a repeated one numbered as GitHub numbers it (x, x-1, x-2, …).
func Anchors(md string) map[string]bool {
	out := map[string]bool{}
	seen := map[string]int{}
	for _, l := range OutsideFences(md) {
		m := atxHeading.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		s := Slug(m[2])
		if n := seen[s]; n > 0 {
			out[fmt.Sprintf("%s-%d", s, n)] = true
		} else {
			out[s] = true
		}
		seen[s]++
	}
	return out
}

// Link is one relative link of a Markdown page.
type Link struct {
	Line   int
	Target string // as written: path, path#anchor or #anchor
}

// RelativeLinks returns the links of a Markdown text (outside code blocks
// and code spans) that point into the repository: not to a URL scheme.
func RelativeLinks(md string) []Link {
	var out []Link
	for i, l := range OutsideFences(md) {
		l = codeSpan.ReplaceAllStringFunc(l, func(s string) string {
			// Keep a link's text valid: [`x`](y) stays a link.
			return strings.Repeat("x", len(s))
		})
		for _, m := range mdLink.FindAllStringSubmatch(l, -1) {
			t := m[2]
			if strings.Contains(t, "://") || strings.HasPrefix(t, "mailto:") {
				continue
			}
			out = append(out, Link{Line: i + 1, Target: t})
		}
	}
	return out
}

// BrokenLinks checks the relative links of the page file (relative to
// root): the file each names exists, and an anchor is a heading of the
// Markdown file it points into (the page itself for "#anchor").
func BrokenLinks(root, file string) ([]string, error) {
	data, err := os.ReadFile(filepath.Join(root, file))
	if err != nil {
		return nil, err
	}
	var bad []string
	for _, l := range RelativeLinks(string(data)) {
		path, anchor, _ := strings.Cut(l.Target, "#")
		target := file
		if path != "" {
			target = filepath.ToSlash(filepath.Join(filepath.Dir(file), path))
		}
		where := fmt.Sprintf("%s:%d: link %q", file, l.Line, l.Target)
		if strings.HasPrefix(target, "../") {
			bad = append(bad, where+": points outside the repository")
			continue
		}
		info, err := os.Stat(filepath.Join(root, target))
		if err != nil {
			bad = append(bad, fmt.Sprintf("%s: %s does not exist", where, target))
			continue
		}
		if anchor == "" {
			continue
		}
		if info.IsDir() || filepath.Ext(target) != ".md" {
			bad = append(bad, fmt.Sprintf("%s: an anchor into %s, which is not a Markdown page", where, target))
			continue
		}
		md, err := os.ReadFile(filepath.Join(root, target))
		if err != nil {
			return nil, err
		}
		if !Anchors(string(md))[anchor] {
			bad = append(bad, fmt.Sprintf("%s: %s has no heading with the anchor #%s", where, target, anchor))
		}
	}
	return bad, nil
}
