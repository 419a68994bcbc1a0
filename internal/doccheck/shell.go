package doccheck

import (
	"path"
	"regexp"
	"strconv"
	"strings"
)

// Word is one shell word of a command line, quotes removed.
type Word struct {
	Text string
	Line int // 1-based, in the script it came from
}

// Invocation is one `dagger …` or `slipway …` command found in a file.
type Invocation struct {
	Tool string // "dagger" or "slipway"
	File string // path relative to the repository root
	Line int    // line of the program name in File
	Args []string
}

// String renders the invocation as a command line, for messages.
func (inv Invocation) String() string {
	return inv.Tool + " " + strings.Join(inv.Args, " ")
}

// Where is "file:line".
func (inv Invocation) Where() string {
	return inv.File + ":" + strconv.Itoa(inv.Line)
}

// Placeholders for values the shell or the CI fills in at run time.
var (
	// ${{ … }} of GitHub Actions.
	ghExpr = regexp.MustCompile(`(?s)\$\{\{.*?\}\}`)
	// << … >> of CircleCI (pipeline parameters, parameters).
	circleExpr = regexp.MustCompile(`<<\s*[\w.-]+\s*>>`)
)

// maskExpressions replaces CI expressions by a placeholder word, keeping the
// line count (an expression may span lines).
func maskExpressions(s string) string {
	repl := func(m string) string { return "EXPR" + strings.Repeat("\n", strings.Count(m, "\n")) }
	s = ghExpr.ReplaceAllStringFunc(s, repl)
	return circleExpr.ReplaceAllStringFunc(s, repl)
}

// ExtractCommands finds the dagger and slipway commands of a shell script.
// It understands what CI scripts use: quotes, line continuations (\ at the
// end of a line), comments, ${{ }} and << >> expressions, $( ) and
// backquote substitutions (searched too), <( ) >( ), pipes, lists,
// redirections, `case` patterns and env assignments before a command.
// firstLine is the line of the script's first line in its file.
func ExtractCommands(script string, firstLine int) []Invocation {
	var out []Invocation
	lx := &lexer{src: []rune(maskExpressions(script)), line: firstLine}
	lx.run()
	for _, cmd := range lx.commands {
		if inv, ok := recognize(cmd); ok {
			out = append(out, inv)
		}
	}
	for _, sub := range lx.subs {
		out = append(out, ExtractCommands(sub.text, sub.line)...)
	}
	return out
}

// keywords that may stand before a command without being one.
var prefixWords = map[string]bool{
	"if": true, "then": true, "else": true, "elif": true, "do": true,
	"while": true, "until": true, "!": true, "time": true, "exec": true,
	"{": true, "}": true, "sudo": true, "env": true,
}

var assignment = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\[[^]]*\])?\+?=`)

// recognize reports whether the words of one simple command run dagger or
// slipway, and returns the invocation.
func recognize(words []Word) (Invocation, bool) {
	i := 0
	for i < len(words) && (prefixWords[words[i].Text] || assignment.MatchString(words[i].Text)) {
		i++
	}
	if i >= len(words) {
		return Invocation{}, false
	}
	prog := words[i]
	args := texts(words[i+1:])
	switch base := path.Base(prog.Text); {
	case base == "dagger":
		return Invocation{Tool: "dagger", Line: prog.Line, Args: args}, true
	case base == "slipway":
		return Invocation{Tool: "slipway", Line: prog.Line, Args: args}, true
	case prog.Text == "go" && len(args) >= 2 && args[0] == "run" && isSlipwayMain(args[1]):
		return Invocation{Tool: "slipway", Line: prog.Line, Args: args[2:]}, true
	}
	return Invocation{}, false
}

// isSlipwayMain reports whether a `go run` package argument is the CLI.
func isSlipwayMain(pkg string) bool {
	pkg, _, _ = strings.Cut(pkg, "@")
	return pkg == "./cmd/slipway" || pkg == "github.com/slipway-ci/slipway/cmd/slipway"
}

func texts(ws []Word) []string {
	out := make([]string, len(ws))
	for i, w := range ws {
		out[i] = w.Text
	}
	return out
}

// sub is the text of a $( ), ` `, <( ) or >( ) substitution.
type sub struct {
	text string
	line int
}

// lexer splits a script into simple commands (lists of words).
type lexer struct {
	src      []rune
	pos      int
	line     int
	commands [][]Word
	subs     []sub

	cur      []Word
	word     strings.Builder
	inWord   bool
	wordLine int
	skipNext bool // the next word is a redirection target
}

func (lx *lexer) peek(off int) rune {
	if lx.pos+off < len(lx.src) {
		return lx.src[lx.pos+off]
	}
	return 0
}

func (lx *lexer) startWord() {
	if !lx.inWord {
		lx.inWord = true
		lx.wordLine = lx.line
	}
}

func (lx *lexer) endWord() {
	if !lx.inWord {
		return
	}
	lx.inWord = false
	text := lx.word.String()
	lx.word.Reset()
	if lx.skipNext {
		lx.skipNext = false
		return
	}
	lx.cur = append(lx.cur, Word{Text: text, Line: lx.wordLine})
}

func (lx *lexer) endCommand() {
	lx.endWord()
	if len(lx.cur) > 0 {
		lx.commands = append(lx.commands, lx.cur)
	}
	lx.cur = nil
	lx.skipNext = false
}

func (lx *lexer) run() {
	for lx.pos < len(lx.src) {
		c := lx.src[lx.pos]
		switch {
		case c == '\\' && lx.peek(1) == '\n': // line continuation
			lx.pos += 2
			lx.line++
		case c == '\\':
			lx.startWord()
			if lx.pos+1 < len(lx.src) {
				lx.word.WriteRune(lx.src[lx.pos+1])
			}
			lx.pos += 2
		case c == '\n':
			lx.endCommand()
			lx.pos++
			lx.line++
		case c == ' ' || c == '\t' || c == '\r':
			lx.endWord()
			lx.pos++
		case c == '#' && !lx.inWord:
			for lx.pos < len(lx.src) && lx.src[lx.pos] != '\n' {
				lx.pos++
			}
		case c == '\'':
			lx.startWord()
			lx.pos++
			for lx.pos < len(lx.src) && lx.src[lx.pos] != '\'' {
				lx.countLine(lx.src[lx.pos])
				lx.word.WriteRune(lx.src[lx.pos])
				lx.pos++
			}
			lx.pos++
		case c == '"':
			lx.startWord()
			lx.pos++
			lx.doubleQuoted()
		case c == '$' && lx.peek(1) == '(':
			lx.startWord()
			lx.substitution(2)
		case (c == '<' || c == '>') && lx.peek(1) == '(' && !lx.inWord:
			lx.startWord()
			lx.substitution(2)
		case c == '`':
			lx.startWord()
			lx.backquoted()
		case c == '$' && lx.peek(1) == '{':
			lx.startWord()
			lx.braced()
		case c == '|' || c == '&' || c == ';' || c == '(' || c == ')':
			if c == '&' && lx.peek(1) == '>' { // &> and &>> redirect
				lx.redirection()
				continue
			}
			lx.endCommand()
			lx.pos++
		case c == '<' || c == '>':
			lx.redirection()
		case c >= '0' && c <= '9' && !lx.inWord && lx.fdRedirection():
			lx.redirection()
		default:
			lx.startWord()
			lx.word.WriteRune(c)
			lx.pos++
		}
	}
	lx.endCommand()
}

func (lx *lexer) countLine(c rune) {
	if c == '\n' {
		lx.line++
	}
}

// fdRedirection reports whether digits at pos start a redirection (2>, 1>>).
func (lx *lexer) fdRedirection() bool {
	i := lx.pos
	for i < len(lx.src) && lx.src[i] >= '0' && lx.src[i] <= '9' {
		i++
	}
	return i < len(lx.src) && (lx.src[i] == '>' || lx.src[i] == '<')
}

// redirection consumes an operator such as >, >>, 2>, 2>&1, &>, <<< and
// marks its target word (if any) to be dropped.
func (lx *lexer) redirection() {
	lx.endWord()
	for lx.pos < len(lx.src) && lx.src[lx.pos] >= '0' && lx.src[lx.pos] <= '9' {
		lx.pos++
	}
	if lx.peek(0) == '&' {
		lx.pos++
	}
	for lx.peek(0) == '<' || lx.peek(0) == '>' {
		lx.pos++
	}
	if lx.peek(0) == '&' { // >&2, 2>&1: the target is an fd, part of the operator
		lx.pos++
		for lx.pos < len(lx.src) && (lx.src[lx.pos] >= '0' && lx.src[lx.pos] <= '9' || lx.src[lx.pos] == '-') {
			lx.pos++
		}
		return
	}
	lx.skipNext = true
}

func (lx *lexer) doubleQuoted() {
	for lx.pos < len(lx.src) {
		c := lx.src[lx.pos]
		switch {
		case c == '"':
			lx.pos++
			return
		case c == '\\' && lx.pos+1 < len(lx.src):
			n := lx.src[lx.pos+1]
			if n == '\n' {
				lx.line++
			} else if n == '"' || n == '\\' || n == '$' || n == '`' {
				lx.word.WriteRune(n)
			} else {
				lx.word.WriteRune(c)
				lx.word.WriteRune(n)
			}
			lx.pos += 2
		case c == '$' && lx.peek(1) == '(':
			lx.substitution(2)
		case c == '$' && lx.peek(1) == '{':
			lx.braced()
		case c == '`':
			lx.backquoted()
		default:
			lx.countLine(c)
			lx.word.WriteRune(c)
			lx.pos++
		}
	}
}

// substitution consumes $( … ) (or <( … ), >( … )) whose opener is skip
// runes long, keeps it verbatim in the word and queues its inside.
func (lx *lexer) substitution(skip int) {
	start, line := lx.pos, lx.line
	lx.pos += skip
	inner := lx.pos
	depth := 1
	for lx.pos < len(lx.src) && depth > 0 {
		switch c := lx.src[lx.pos]; c {
		case '(':
			depth++
		case ')':
			depth--
		case '\'', '"':
			lx.pos++
			for lx.pos < len(lx.src) && lx.src[lx.pos] != c {
				if lx.src[lx.pos] == '\\' && c == '"' {
					lx.pos++
				}
				lx.pos++
			}
		case '\n':
			lx.line++
		}
		lx.pos++
	}
	end := lx.pos - 1
	if end < inner {
		end = inner
	}
	lx.subs = append(lx.subs, sub{text: string(lx.src[inner:end]), line: line})
	lx.word.WriteString(string(lx.src[start:lx.pos]))
}

func (lx *lexer) backquoted() {
	start, line := lx.pos, lx.line
	lx.pos++
	inner := lx.pos
	for lx.pos < len(lx.src) && lx.src[lx.pos] != '`' {
		lx.countLine(lx.src[lx.pos])
		lx.pos++
	}
	lx.subs = append(lx.subs, sub{text: string(lx.src[inner:min(lx.pos, len(lx.src))]), line: line})
	lx.pos++
	lx.word.WriteString(string(lx.src[start:min(lx.pos, len(lx.src))]))
}

// braced consumes ${ … } verbatim (a parameter expansion).
func (lx *lexer) braced() {
	start := lx.pos
	depth := 0
	for lx.pos < len(lx.src) {
		c := lx.src[lx.pos]
		lx.pos++
		if c == '{' {
			depth++
		} else if c == '}' {
			depth--
			if depth == 0 {
				break
			}
		}
	}
	lx.word.WriteString(string(lx.src[start:lx.pos]))
}
