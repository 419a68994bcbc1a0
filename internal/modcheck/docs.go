package modcheck

import (
	"fmt"
	"go/ast"
	"go/token"
	"strings"
)

// MaxHelpLine is the longest first line of a doc comment LintDocs accepts:
// `dagger functions` and `--help` print that line alone, wrapped.
const MaxHelpLine = 100

// LintDocs reports the module's functions, arguments and fields whose help
// a v0.21.8 CLI shows cut or empty: `dagger functions` and `--help` print
// only the first line of a doc comment (pragmas such as +optional left
// out), and "-" where there is none. Every exported method of an exported
// type, the constructor New, each of their arguments (but a
// context.Context) and every exported field without +private needs a
// first line that is a whole sentence: it ends with a period and is at
// most MaxHelpLine characters.
func LintDocs(dir string) ([]Finding, error) {
	fset, files, err := parseModule(dir)
	if err != nil {
		return nil, err
	}
	var findings []Finding
	check := func(pos token.Pos, what, text string) {
		if msg := helpProblem(text); msg != "" {
			findings = append(findings, Finding{Pos: fset.Position(pos), Msg: what + ": " + msg})
		}
	}
	for _, f := range files {
		for _, decl := range f.Decls {
			switch d := decl.(type) {
			case *ast.FuncDecl:
				var what string
				switch {
				case d.Recv == nil && d.Name.Name == "New":
					what = "constructor New"
				case d.Recv != nil && d.Name.IsExported() && token.IsExported(recvName(d.Recv)):
					what = fmt.Sprintf("function %s.%s", recvName(d.Recv), d.Name.Name)
				default:
					continue
				}
				check(d.Name.Pos(), what, d.Doc.Text())
				prev := d.Type.Params.Opening
				for _, p := range d.Type.Params.List {
					if sel, ok := p.Type.(*ast.SelectorExpr); ok && sel.Sel.Name == "Context" {
						prev = p.End()
						continue
					}
					text := ""
					for _, cg := range f.Comments {
						if cg.Pos() > prev && cg.End() < p.Pos() {
							text += cg.Text()
						}
					}
					for _, n := range p.Names {
						check(n.Pos(), fmt.Sprintf("%s argument %s", what, n.Name), text)
					}
					prev = p.End()
				}
			case *ast.GenDecl:
				for _, s := range d.Specs {
					ts, ok := s.(*ast.TypeSpec)
					if !ok || !ts.Name.IsExported() {
						continue
					}
					st, ok := ts.Type.(*ast.StructType)
					if !ok {
						continue
					}
					for _, fl := range st.Fields.List {
						if strings.Contains(fl.Doc.Text(), "+private") {
							continue
						}
						for _, n := range fl.Names {
							if n.IsExported() {
								check(n.Pos(), fmt.Sprintf("field %s.%s", ts.Name.Name, n.Name), fl.Doc.Text())
							}
						}
					}
				}
			}
		}
	}
	sortFindings(findings)
	return findings, nil
}

// helpProblem says what is wrong with the first help line of a doc
// comment's text, or "".
func helpProblem(text string) string {
	first := ""
	for _, l := range strings.Split(text, "\n") {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "+") {
			continue
		}
		first = l
		break
	}
	switch {
	case first == "":
		return "no doc comment: the CLI shows \"-\""
	case !strings.HasSuffix(first, "."):
		return fmt.Sprintf("the CLI shows only the first line, %q: make it a whole sentence ending with a period", first)
	case len(first) > MaxHelpLine:
		return fmt.Sprintf("first line is %d characters: make it a sentence of at most %d (details on the next lines)", len(first), MaxHelpLine)
	}
	return ""
}
