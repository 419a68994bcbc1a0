package doccheck

import (
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"go.yaml.in/yaml/v3"
)

// Collect finds every dagger and slipway invocation in README.md, in the
// pages of docs/ (DocFiles) and in the YAML, shell and Markdown files under
// ci/ of the repository at root.
func Collect(root string) ([]Invocation, error) {
	files, err := DocFiles(root)
	if err != nil {
		return nil, err
	}
	err = filepath.WalkDir(filepath.Join(root, "ci"), func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		switch filepath.Ext(p) {
		case ".yml", ".yaml", ".sh", ".md":
			rel, err := filepath.Rel(root, p)
			if err != nil {
				return err
			}
			files = append(files, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	var all []Invocation
	for _, f := range files {
		data, err := os.ReadFile(filepath.Join(root, f))
		if err != nil {
			return nil, err
		}
		invs, err := FromFile(f, data)
		if err != nil {
			return nil, err
		}
		all = append(all, invs...)
	}
	return all, nil
}

// FromFile extracts the invocations of one file, by its extension.
func FromFile(name string, data []byte) ([]Invocation, error) {
	var invs []Invocation
	var err error
	switch filepath.Ext(name) {
	case ".yml", ".yaml":
		invs, err = FromYAML(data, 0)
	case ".md":
		invs, err = FromMarkdown(data)
	default:
		invs = ExtractCommands(string(data), 1)
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	for i := range invs {
		invs[i].File = name
	}
	return invs, nil
}

// FromYAML extracts the invocations of the shell scripts of a YAML
// document: every `run` or `command` scalar (GitHub Actions steps, CircleCI
// run steps). lineOffset is added to the document's line numbers.
func FromYAML(data []byte, lineOffset int) ([]Invocation, error) {
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		return nil, err
	}
	var out []Invocation
	var walk func(n *yaml.Node)
	walk = func(n *yaml.Node) {
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				k, v := n.Content[i], n.Content[i+1]
				if (k.Value == "run" || k.Value == "command") && v.Kind == yaml.ScalarNode {
					first := v.Line
					if v.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
						first++ // the text starts on the line after | or >
					}
					out = append(out, ExtractCommands(v.Value, first+lineOffset)...)
				}
			}
		}
		for _, c := range n.Content {
			walk(c)
		}
	}
	walk(&doc)
	return out, nil
}

var (
	fence      = regexp.MustCompile("^\\s*(```+|~~~+)\\s*([A-Za-z0-9_+-]*)")
	inlineCode = regexp.MustCompile("`([^`\n]+)`")
	prompt     = regexp.MustCompile(`^(\s*)\$ `)
)

// FromMarkdown extracts the invocations of a Markdown document: fenced code
// blocks (YAML blocks through their run/command scalars, any other block as
// shell, a leading "$ " prompt removed) and inline code spans that start
// with "dagger ", "slipway " or "go run ./cmd/slipway".
func FromMarkdown(data []byte) ([]Invocation, error) {
	lines := strings.Split(string(data), "\n")
	var out []Invocation
	for i := 0; i < len(lines); i++ {
		m := fence.FindStringSubmatch(lines[i])
		if m == nil {
			for _, span := range inlineCode.FindAllStringSubmatch(lines[i], -1) {
				code := strings.TrimSpace(span[1])
				if strings.HasPrefix(code, "dagger ") || strings.HasPrefix(code, "slipway ") ||
					strings.HasPrefix(code, "go run ./cmd/slipway") {
					out = append(out, ExtractCommands(code, i+1)...)
				}
			}
			continue
		}
		marker, lang := m[1], strings.ToLower(m[2])
		start := i + 1
		end := start
		for end < len(lines) && !strings.HasPrefix(strings.TrimSpace(lines[end]), marker) {
			end++
		}
		body := lines[start:end]
		i = end
		switch lang {
		case "yaml", "yml":
			invs, err := FromYAML([]byte(strings.Join(body, "\n")), start)
			if err != nil {
				return nil, fmt.Errorf("line %d: yaml block: %w", start+1, err)
			}
			out = append(out, invs...)
		case "go", "json", "text", "diff", "markdown", "md":
			// not shell
		default:
			script := make([]string, len(body))
			for j, l := range body {
				script[j] = prompt.ReplaceAllString(l, "$1")
			}
			out = append(out, ExtractCommands(strings.Join(script, "\n"), start+1)...)
		}
	}
	return out, nil
}
