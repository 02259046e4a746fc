package rewrite

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"github.com/moby/buildkit/frontend/dockerfile/parser"
	"github.com/moby/buildkit/frontend/dockerfile/shell"
)

// FindDockerfile returns the image references in a Dockerfile: the FROM
// images, COPY --from and RUN --mount=...,from= images, and the
// "# syntax=" frontend, with the defaults of the ARGs before the first FROM
// expanded. Stage names, stage indexes, scratch, heredoc bodies, comments
// and ONBUILD triggers are not references.
func FindDockerfile(in Input) ([]Ref, []Warning, error) {
	return FindDockerfileArgs(in, Build{})
}

// FindDockerfileArgs is FindDockerfile as a builder reads it, with build
// args (compose build.args) overriding ARG defaults. An image whose FROM
// ends with an overridden variable is pinned where the builder defines
// its value, since the default is not what the build uses; other images
// the builder changes are pinned at their FROM and carry b.By in Via.
func FindDockerfileArgs(in Input, b Build) ([]Ref, []Warning, error) {
	// Instructions are bytes: Docker builds a file with a stray byte
	// that is not UTF-8, and so imagelock reads it (an image reference in
	// it must still be valid). A NUL byte means a binary file.
	if bytes.IndexByte(in.Src, 0) >= 0 {
		return nil, []Warning{{File: in.Path, Msg: "not a text file, skipped"}}, nil
	}
	res, err := parser.Parse(bytes.NewReader(in.Src))
	if err != nil && errorText(err) == "file with no instructions" {
		// An empty or comments-only file builds nothing and pulls nothing.
		return nil, []Warning{{File: in.Path, Msg: "no instructions, skipped"}}, nil
	}
	if err != nil {
		// No build reads it either; one such file must not stop the run.
		return nil, []Warning{{File: in.Path, Line: errorLine(err), Msg: "not a valid Dockerfile, skipped: " + errorText(err) + OrExclude(in.Path)}}, nil
	}
	for _, n := range res.AST.Children {
		if strings.EqualFold(n.Value, "from") && strings.Contains(n.Original, "{{") {
			// A template a generator renders (FROM {{ .Base }}) is
			// not what a build reads.
			return nil, []Warning{{File: in.Path, Line: n.StartLine, Msg: "FROM has a {{ }} placeholder: a template, skipped"}}, nil
		}
	}
	d := &dockerfile{
		in:      in,
		src:     string(in.Src),
		lines:   lineStarts(in.Src),
		escape:  res.EscapeToken,
		lex:     newLex(res.EscapeToken),
		build:   b,
		globals: map[string]*globalArg{},
		stages:  map[string]bool{},
		named:   map[string]bool{},
	}
	defer lexPool(d.escape).Put(d.lex)
	d.syntax()
	for _, n := range res.AST.Children {
		if strings.EqualFold(n.Value, "from") && stageName(n) != "" {
			d.named[stageName(n)] = true
		}
	}
	d.tailOnly = tailOnlyArgs(in.Src, res.AST.Children, res.EscapeToken)
	for _, n := range res.AST.Children {
		if err := d.instruction(n); err != nil {
			return nil, nil, err
		}
	}
	sort.SliceStable(d.refs, func(i, j int) bool { return d.refs[i].Span.Start < d.refs[j].Span.Start })
	return d.refs, d.warns, nil
}

// lexers keeps buildkit's shell lexers for the next Dockerfile, one
// pool for each escape character buildkit allows (\ and `): each lexer
// holds a text/scanner.Scanner, over a kilobyte, and resets it for every
// word it reads.
var lexers [2]sync.Pool

func lexPool(escape rune) *sync.Pool {
	if escape == '`' {
		return &lexers[1]
	}
	return &lexers[0]
}

// newLex returns a lexer for escape.
func newLex(escape rune) *shell.Lex {
	if l, ok := lexPool(escape).Get().(*shell.Lex); ok {
		return l
	}
	return shell.NewLex(escape)
}

// errorLine returns the first line a buildkit parse error names, or 0.
func errorLine(err error) int {
	var le *parser.LocationError
	if errors.As(err, &le) {
		for _, rs := range le.Locations {
			for _, r := range rs {
				if r.Start.Line > 0 {
					return r.Start.Line
				}
			}
		}
	}
	return 0
}

// errorText is a buildkit error's message without its location wrapper.
func errorText(err error) string {
	var le *parser.LocationError
	if errors.As(err, &le) && le.Unwrap() != nil {
		return le.Unwrap().Error()
	}
	return err.Error()
}

// stageName returns the lower-case AS name of a FROM node, or "".
func stageName(n *parser.Node) string {
	args := nextValues(n)
	if len(args) == 3 && strings.EqualFold(args[1], "as") {
		return strings.ToLower(args[2])
	}
	return ""
}

// maxExpansion bounds the value of an ARG after expansion: an image
// reference is far shorter, and a runaway expansion must not exhaust
// memory.
const maxExpansion = 64 << 10

// dockerfile is the state of one scan: the global ARGs seen so far and the
// stage names, which FROM, COPY --from and RUN --mount consult.
type dockerfile struct {
	in      Input
	src     string // in.Src, which rawLine slices
	lines   []int  // byte offset of each line's start; lines[0] is line 1
	escape  rune
	lex     *shell.Lex
	build   Build
	globals map[string]*globalArg
	// tailOnly holds the ARGs that the file uses only to end FROM images
	// ("FROM golang:${V}"): a digest written into their value pins those
	// images and changes nothing else.
	tailOnly map[string]bool
	sawFrom  bool
	stages   map[string]bool // stage names defined so far (lower case)
	named    map[string]bool // every stage name in the file (lower case)
	refs     []Ref
	warns    []Warning
}

// globalArg is an ARG declared before the first FROM.
type globalArg struct {
	value string
	set   bool // it has a value: a default or a build arg
	// span is the default's text, when the value is the default and the
	// default sits on one line; pin writes there.
	span     Span
	pinnable bool
	// unset names the variables without a value that the default reads.
	unset []string
	// override is set when the builder passes the value; site is where
	// the builder writes it, nil when it comes from the environment.
	override bool
	site     *Ref
}

// Get and Keys make the global ARGs the lexer's environment.
func (d *dockerfile) Get(name string) (string, bool) {
	if g, ok := d.globals[name]; ok && g.set {
		return g.value, true
	}
	return "", false
}

func (d *dockerfile) Keys() []string {
	var keys []string
	for k, g := range d.globals {
		if g.set {
			keys = append(keys, k)
		}
	}
	sort.Strings(keys)
	return keys
}

func (d *dockerfile) instruction(n *parser.Node) error {
	cmd := strings.ToLower(n.Value)
	switch {
	case cmd == "arg" && d.sawFrom:
		return nil
	case cmd != "from" && cmd != "arg" && cmd != "copy" && cmd != "run":
		return nil
	}
	line := d.logical(n.StartLine)
	in, ok := d.split(line, n)
	if !ok {
		d.warn(n.StartLine, fmt.Sprintf("cannot locate the text of this %s instruction: pin its images by hand", strings.ToUpper(cmd)))
		return nil
	}
	switch cmd {
	case "from":
		d.sawFrom = true
		err := d.from(n, in)
		if len(in.words) == 3 {
			d.stages[strings.ToLower(in.words[2].text)] = true
		}
		return err
	case "arg":
		return d.arg(in)
	case "copy":
		d.copyFrom(in)
	case "run":
		d.runMounts(in)
	}
	return nil
}

// nextValues returns the argument values the parser put after node n.
func nextValues(n *parser.Node) []string {
	var vs []string
	for a := n.Next; a != nil; a = a.Next {
		vs = append(vs, a.Value)
	}
	return vs
}

// sameTexts reports whether words hold the texts vs.
func sameTexts(words []word, vs []string) bool {
	if len(words) != len(vs) {
		return false
	}
	for i, w := range words {
		if w.text != vs[i] {
			return false
		}
	}
	return true
}

// expand is the shell lexer's ProcessWordWithMatches, but for a word it
// would give back as it is (most image names): one with no variable,
// quote, heredoc or escape character. A word that is not valid UTF-8 is
// an error.
func (d *dockerfile) expand(text string, env shell.EnvGetter) (shell.ProcessWordResult, error) {
	if !utf8.ValidString(text) {
		// The lexer's scanner would print a complaint of its own to
		// stderr, with no file or line, and make U+FFFD of the byte:
		// no image is named so.
		return shell.ProcessWordResult{}, errNotUTF8
	}
	if !strings.ContainsAny(text, "$<'\"") && !strings.ContainsRune(text, d.escape) {
		return shell.ProcessWordResult{Result: text}, nil
	}
	return d.lex.ProcessWordWithMatches(text, env)
}

var errNotUTF8 = errors.New("not valid UTF-8")

// lexError is the shell lexer's error on text without the text, which
// the message around it already quotes.
func lexError(err error, text string) string {
	return strings.TrimPrefix(err.Error(), fmt.Sprintf("failed to process %q: ", text))
}

func (d *dockerfile) warn(line int, msg string) {
	d.warns = append(d.warns, Warning{File: d.in.Path, Line: line, Msg: msg})
}

// from handles FROM [--platform=...] image [AS name].
func (d *dockerfile) from(n *parser.Node, in instr) error {
	words := in.words
	if len(words) == 0 {
		d.warn(n.StartLine, "FROM names no image (write FROM <image> [AS <name>])"+OrExclude(d.in.Path))
		return nil
	}
	if len(words) != 1 && !(len(words) == 3 && strings.EqualFold(words[1].text, "as")) {
		d.warn(n.StartLine, fmt.Sprintf("FROM %s is not FROM <image> [AS <name>]", in.args.text)+OrExclude(d.in.Path))
		return nil
	}
	tok := words[0]
	line := d.lineAt(in.line, tok.start)
	res, err := d.expand(tok.text, d)
	if err != nil {
		// A template's placeholder (${templateOption:imageVariant}) is no
		// variable a build expands.
		d.warn(line, fmt.Sprintf("FROM %s cannot be expanded (%s)", tok.text, lexError(err, tok.text))+OrExclude(d.in.Path))
		return nil
	}
	if unset := d.unsetVars(tok.text, res); len(unset) > 0 || res.Result == "" {
		if len(unset) == 0 {
			unset = sortedKeys(res.Matched)
			for v := range res.Unmatched {
				unset = append(unset, v)
			}
			sort.Strings(unset)
		}
		if len(unset) == 0 {
			d.warn(line, fmt.Sprintf("FROM %s names no image", tok.text)+OrExclude(d.in.Path))
			return nil
		}
		for _, v := range unset {
			d.warn(line, d.noValue(v))
		}
		return nil
	}
	if d.isStage(res.Result, d.stages) {
		return nil
	}
	a, b := unquote(in.line.text, tok.start, tok.end)
	text := in.line.text[a:b]
	name, whole := "", false
	if m := wholeVar.FindStringSubmatch(text); m != nil {
		name, whole = m[1]+m[2], true
	}
	if v, ok := trailingVar(text, d.escape); ok {
		// A digest written at the end of the variable's value pins the
		// image, where the value is defined.
		if g := d.globals[v]; g != nil && d.tailOnly[v] {
			style := Tag
			if whole {
				style = Inline
			}
			switch {
			case g.override && g.site != nil:
				r := *g.site
				r.Image, r.Var, r.Style = res.Result, v, style
				d.refs = append(d.refs, r)
				return nil
			case g.override:
				if n := len(d.refs); d.addToken(in.line, a, b, res.Result, v) {
					d.refs[n].Style = External
				}
				return nil
			case g.pinnable && g.span.Start < g.span.End:
				// An empty default has nothing a digest could follow.
				d.add(g.span, res.Result, v)
				d.refs[len(d.refs)-1].Style = style
				return nil
			}
		}
	}
	d.addToken(in.line, a, b, res.Result, name)
	return nil
}

// trailingVar returns the variable that ends text ($X or ${X}, without
// a modifier) when text reads it once.
func trailingVar(text string, escape rune) (string, bool) {
	m := lastVar.FindStringSubmatch(text)
	if m == nil {
		return "", false
	}
	name := m[1] + m[2]
	start := len(text) - len(m[0])
	if start > 0 && rune(text[start-1]) == escape || mentions(text, name) != 1 {
		return "", false
	}
	return name, true
}

// varRef is a variable read as $X or ${X}, the name in group 1 or 2, as
// Dockerfiles, compose files and GitLab CI write it.
const varRef = `\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))`

// lastVar matches a variable that ends text.
var lastVar = regexp.MustCompile(varRef + `$`)

// mentions counts the places text reads variable name: $name, ${name}
// and ${name<modifier>...}.
func mentions(text, name string) int {
	n := 0
	for i := strings.IndexByte(text, '$'); i >= 0; {
		rest := text[i+1:]
		if r, ok := strings.CutPrefix(rest, "{"); ok {
			rest = r
		}
		if r, ok := strings.CutPrefix(rest, name); ok && (r == "" || !isNameByte(r[0])) {
			n++
		}
		j := strings.IndexByte(text[i+1:], '$')
		if j < 0 {
			break
		}
		i += 1 + j
	}
	return n
}

// tailOnlyArgs returns the ARGs that src reads only where they end a FROM
// image, once each and after the same text each time (so that they make
// one image), and that no stage declares again: writing a digest into
// such a value changes that image and nothing else (not a RUN that
// downloads "go${V}.tar.gz", not another FROM's "-alpine" suffix, not
// "FROM mirror/$BASE" beside "FROM $BASE").
func tailOnlyArgs(src []byte, nodes []*parser.Node, escape rune) map[string]bool {
	tails := map[string]int{}
	prefixes := map[string]map[string]bool{} // what stands before each use
	again := map[string]bool{}
	sawFrom := false
	for _, n := range nodes {
		switch strings.ToLower(n.Value) {
		case "from":
			sawFrom = true
			if n.Next != nil {
				image := n.Next.Value
				if len(image) >= 2 && (image[0] == '"' || image[0] == '\'') && image[len(image)-1] == image[0] {
					image = image[1 : len(image)-1]
				}
				if v, ok := trailingVar(image, escape); ok {
					tails[v]++
					if prefixes[v] == nil {
						prefixes[v] = map[string]bool{}
					}
					prefixes[v][strings.TrimSuffix(image, lastVar.FindString(image))] = true
				}
			}
		case "arg":
			// A stage's ARG without a value takes the global one;
			// with a value of its own, it does not read it.
			for a := n.Next; a != nil && sawFrom; a = a.Next {
				if key, _, hasValue := strings.Cut(a.Value, "="); !hasValue {
					again[key] = true
				}
			}
		}
	}
	out := map[string]bool{}
	text := string(src)
	for v, k := range tails {
		if !again[v] && mentions(text, v) == k && len(prefixes[v]) == 1 {
			out[v] = true
		}
	}
	return out
}

// lineAt returns the source line of byte a of a logical line.
func (d *dockerfile) lineAt(l logicalLine, a int) int {
	return d.lineOf(l.src(max(0, min(a, len(l.text)-1))))
}

// wholeVar matches text that is one variable and nothing else.
var wholeVar = regexp.MustCompile(`^` + varRef + `$`)

// unsetVars returns the variables without a value that an expansion of
// text relied on: those written bare ($X, ${X}) among the unmatched, and
// those a matched global ARG's default relied on. A variable read with a
// modifier (${X:-default}, ${X:+alt}) has its unset case handled.
func (d *dockerfile) unsetVars(text string, res shell.ProcessWordResult) []string {
	set := map[string]bool{}
	for v := range res.Unmatched {
		if bareRef(text, v) {
			set[v] = true
		}
	}
	for v := range res.Matched {
		if g := d.globals[v]; g != nil {
			for _, u := range g.unset {
				set[u] = true
			}
		}
	}
	return sortedKeys(set)
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// bareRef reports whether text reads name as $name or ${name}.
func bareRef(text, name string) bool {
	if strings.Contains(text, "${"+name+"}") {
		return true
	}
	for rest := text; ; {
		i := strings.Index(rest, "$"+name)
		if i < 0 {
			return false
		}
		rest = rest[i+1+len(name):]
		if rest == "" || !isNameByte(rest[0]) {
			return true
		}
	}
}

// isNameByte reports whether c may be in a variable's name: a word
// character, as regexp's \b reads one.
func isNameByte(c byte) bool {
	return c == '_' || '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z'
}

// noValue is the warning for a FROM that reads a variable with no value.
func (d *dockerfile) noValue(v string) string {
	g := d.globals[v]
	switch {
	case g == nil:
		return fmt.Sprintf("FROM uses $%s, which no ARG before the first FROM declares: declare it with a default or pin the FROM by hand", v)
	case g.set:
		return fmt.Sprintf("FROM uses $%s, which is empty: give the ARG a default or pin the FROM by hand", v)
	}
	return fmt.Sprintf("FROM uses $%s, which has no default: give the ARG a default or pin the FROM by hand", v)
}

// isStage reports whether image names a build stage or scratch.
func (d *dockerfile) isStage(image string, stages map[string]bool) bool {
	return strings.EqualFold(image, "scratch") || stages[strings.ToLower(image)]
}

// arg records the global ARGs of one ARG instruction before the first FROM.
func (d *dockerfile) arg(in instr) error {
	for _, w := range in.words {
		key, val, hasVal := strings.Cut(w.text, "=")
		if v, ok := d.build.Args[key]; ok {
			d.globals[key] = &globalArg{value: v.Value, set: true, override: true, site: v.Site}
			continue
		}
		if !hasVal {
			if d.globals[key] == nil {
				d.globals[key] = &globalArg{}
			}
			continue
		}
		res, err := d.expand(val, d)
		if err != nil {
			d.warn(d.lineAt(in.line, w.start), fmt.Sprintf("ARG %s cannot be expanded (%s): left without a value", w.text, lexError(err, val)))
			d.globals[key] = &globalArg{}
			continue
		}
		if len(res.Result) > maxExpansion {
			// ARG A=${A}${A}, repeated, doubles at each line.
			d.warn(d.lineAt(in.line, w.start), fmt.Sprintf("ARG %s expands to over %d KiB, which is no image: left without a value", key, maxExpansion>>10))
			d.globals[key] = &globalArg{}
			continue
		}
		g := &globalArg{value: res.Result, set: true, unset: d.unsetVars(val, res)}
		raw := in.line.text[w.start:w.end]
		if eq := strings.IndexByte(raw, '='); raw == w.text && eq >= 0 {
			a, b := unquote(in.line.text, w.start+eq+1, w.end)
			if sp, ok := in.line.span(a, b); ok && appendable(in.line.text[a:b], d.escape) {
				g.span, g.pinnable = sp, true
			}
		}
		d.globals[key] = g
	}
	return nil
}

// copyFrom handles COPY --from=<image>.
func (d *dockerfile) copyFrom(in instr) {
	for _, f := range in.flags {
		if v, ok := strings.CutPrefix(f.text, "--from="); ok {
			d.flagImage(in.line, f, "--from=", v, "COPY --from")
		}
	}
}

// flagImage adds the image a flag names (value, after prefix), unless it
// names a stage.
func (d *dockerfile) flagImage(line logicalLine, f word, prefix, value, what string) {
	if value == "" || d.isStage(value, d.named) || d.isContext(value) {
		return
	}
	if _, err := strconv.Atoi(value); err == nil {
		return
	}
	lineNo := d.lineAt(line, f.start)
	if res, err := d.expand(value, shell.EnvsFromSlice(nil)); err != nil || res.Result != value {
		d.warn(lineNo, fmt.Sprintf("%s=%s: buildkit expands no variables there; name a stage instead", what, value))
		return
	}
	raw := line.text[f.start:f.end]
	if !strings.HasPrefix(raw, prefix) {
		d.warn(lineNo, fmt.Sprintf("cannot locate %s=%s: write it unquoted to pin it", what, value))
		return
	}
	d.rawImage(line, f.start+len(prefix), f.end, value, what)
}

// rawImage adds image text that no lexer expands, found at [a, b) of the
// logical line, quotes aside.
func (d *dockerfile) rawImage(line logicalLine, a, b int, value, what string) {
	a, b = unquote(line.text, a, b)
	if line.text[a:b] != value {
		d.warn(d.lineAt(line, a), fmt.Sprintf("cannot locate %s=%s: write it unquoted to pin it", what, value))
		return
	}
	sp, ok := line.span(a, b)
	switch {
	case !ok:
		d.warn(d.lineAt(line, a), fmt.Sprintf("%s=%s is split across lines: join it to pin it", what, value))
	case !appendable(value, d.escape):
		d.warn(d.lineAt(line, a), fmt.Sprintf("%s=%s ends with %q, which would change what a digest after it means: remove it to pin the image", what, value, value[len(value)-1:]))
	default:
		d.add(sp, value, "")
	}
}

// runMounts handles RUN --mount=...,from=<image>,...
func (d *dockerfile) runMounts(in instr) {
	for _, f := range in.flags {
		v, ok := strings.CutPrefix(f.text, "--mount=")
		if !ok {
			continue
		}
		fields, err := csv.NewReader(strings.NewReader(v)).Read()
		if err != nil {
			continue
		}
		raw := in.line.text[f.start:f.end]
		if !strings.HasPrefix(raw, "--mount=") {
			continue
		}
		rawFields := splitFields(in.line.text, f.start+len("--mount="), f.end, d.escape)
		for i, field := range fields {
			key, val, ok := strings.Cut(field, "=")
			if !ok || !strings.EqualFold(key, "from") {
				continue
			}
			if val == "" || d.isStage(val, d.named) || d.isContext(val) {
				continue
			}
			if _, err := strconv.Atoi(val); err == nil {
				continue
			}
			lineNo := d.lineAt(in.line, f.start)
			if strings.Contains(val, "$") {
				d.warn(lineNo, fmt.Sprintf("RUN --mount from=%s: buildkit expands no variables there; name a stage instead", val))
				continue
			}
			if len(rawFields) != len(fields) {
				d.warn(lineNo, fmt.Sprintf("cannot locate RUN --mount from=%s: write the mount unquoted to pin it", val))
				continue
			}
			a, b := unquote(in.line.text, rawFields[i].start, rawFields[i].end)
			eq := strings.IndexByte(in.line.text[a:b], '=')
			if eq < 0 {
				d.warn(lineNo, fmt.Sprintf("cannot locate RUN --mount from=%s: write the mount unquoted to pin it", val))
				continue
			}
			d.rawImage(in.line, a+eq+1, b, val, "RUN --mount from")
		}
	}
}

// splitFields splits text[a:b] at the commas outside quotes, skipping
// escaped characters, and returns the fields' positions.
func splitFields(text string, a, b int, escape rune) []word {
	var out []word
	start := a
	var quote byte
	for i := a; i < b; i++ {
		c := text[i]
		switch {
		case rune(c) == escape && quote != '\'':
			i++
		case quote != 0:
			if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'':
			quote = c
		case c == ',':
			out = append(out, word{start: start, end: i})
			start = i + 1
		}
	}
	return append(out, word{start: start, end: b})
}

// addToken adds image text that the lexer expands, at [a, b) of the
// logical line, and reports whether it did (else it warned).
func (d *dockerfile) addToken(line logicalLine, a, b int, image, v string) bool {
	sp, ok := line.span(a, b)
	switch {
	case !ok:
		d.warn(d.lineAt(line, a), fmt.Sprintf("FROM %s is split across lines: join it to pin it", line.text[a:b]))
	case !appendable(line.text[a:b], d.escape):
		d.warn(d.lineAt(line, a), fmt.Sprintf("FROM %s ends with %q, which would change what a digest after it means: remove it to pin the image", line.text[a:b], line.text[b-1:b]))
	default:
		d.add(sp, image, v)
		return true
	}
	return false
}

// appendable reports whether "@digest" written after text extends it:
// not after the escape character, which would escape the "@", nor after
// a "$", which would make "$@" a variable.
func appendable(text string, escape rune) bool {
	return !strings.HasSuffix(text, string(escape)) && !strings.HasSuffix(text, "$")
}

func (d *dockerfile) add(sp Span, image, v string) {
	line := d.lineOf(sp.Start)
	written := string(d.in.Src[sp.Start:sp.End])
	if image == written {
		// One string for both, and not the lexer's, which has room to spare.
		image = written
	}
	d.refs = append(d.refs, Ref{
		File:    d.in.Path,
		Line:    line,
		Col:     sp.Start - d.lines[line-1] + 1,
		Kind:    Dockerfile,
		Image:   image,
		Written: written,
		Span:    sp,
		Var:     v,
		Style:   Inline,
		Via:     d.build.By,
	})
}

// lineOf returns the 1-based line of a byte offset.
func (d *dockerfile) lineOf(off int) int {
	return sort.Search(len(d.lines), func(i int) bool { return d.lines[i] > off })
}

func lineStarts(src []byte) []int {
	starts := []int{0}
	for i, c := range src {
		if c == '\n' && i+1 < len(src) {
			starts = append(starts, i+1)
		}
	}
	return starts
}

// rawLine returns line n (1-based) without its line ending.
func (d *dockerfile) rawLine(n int) (start int, text string) {
	start = d.lines[n-1]
	end := len(d.src)
	if n < len(d.lines) {
		end = d.lines[n]
	}
	return start, strings.TrimRight(d.src[start:end], "\r\n")
}

// syntax adds the image of a "# syntax=" parser directive, found the way
// buildkit's frontend finds it: among the comments that open the file,
// after a byte order mark and a shebang line.
func (d *dockerfile) syntax() {
	seen := map[string]bool{}
	for n := 1; n <= len(d.lines); n++ {
		start, text := d.rawLine(n)
		if n == 1 {
			if rest, ok := strings.CutPrefix(text, "\uFEFF"); ok {
				start, text = start+3, rest
			}
			if strings.HasPrefix(text, "#!") {
				continue
			}
		}
		rest, ok := strings.CutPrefix(text, "#")
		if !ok {
			return
		}
		trimmed := strings.TrimLeftFunc(rest, unicode.IsSpace)
		base := start + 1 + len(rest) - len(trimmed)
		m := directive.FindStringSubmatchIndex(trimmed)
		if m == nil {
			return
		}
		key := strings.ToLower(trimmed[m[2]:m[3]])
		if !validDirectives[key] || seen[key] {
			return
		}
		seen[key] = true
		if key != "syntax" {
			continue
		}
		val := trimmed[m[4]:m[5]]
		image, _, _ := strings.Cut(val, " ")
		// A clone, so that the Ref does not keep the whole file alive.
		d.add(Span{base + m[4], base + m[4] + len(image)}, strings.Clone(image), "")
		return
	}
}

// directive and validDirectives are buildkit's parser directive rules.
var (
	directive       = regexp.MustCompile(`^([a-zA-Z][a-zA-Z0-9]*)\s*=\s*(.+?)\s*$`)
	validDirectives = map[string]bool{"syntax": true, "escape": true, "check": true}
)

// logicalLine is an instruction with its line continuations joined, as
// buildkit's parser joins them, with where each joined piece is in the
// source.
type logicalLine struct {
	text  string
	parts []linePart // in order; the first at 0
}

// linePart says where a piece of a logical line is in the source: text
// from at up to the next part's at starts at source offset src.
type linePart struct{ at, src int }

// src returns the source offset of text[i].
func (l logicalLine) src(i int) int {
	k := len(l.parts) - 1
	for k > 0 && l.parts[k].at > i {
		k--
	}
	return l.parts[k].src + i - l.parts[k].at
}

// span returns the source span of text[a:b], if its bytes are contiguous
// in the source.
func (l logicalLine) span(a, b int) (Span, bool) {
	if a == b {
		if a < len(l.text) {
			return Span{l.src(a), l.src(a)}, true
		}
		return Span{}, false
	}
	if l.src(b-1)-l.src(a) != b-1-a {
		return Span{}, false
	}
	return Span{l.src(a), l.src(b-1) + 1}, true
}

// continuation reports whether line s continues on the next line, and
// where its text then stops: before the escape character that is its last
// byte but trailing spaces and tabs, when that character opens the line or
// follows a byte other than the escape character. That is buildkit's
// pattern `([^\\])\\[ \t]*$|^\\[ \t]*$` (` in place of \\ under
// "# escape=`"): the escape character is ASCII, so the byte before it ends
// a rune, and the rune is the escape character only if the byte is.
func continuation(s string, escape rune) (int, bool) {
	esc := byte('\\')
	if escape == '`' {
		esc = '`'
	}
	end := len(strings.TrimRight(s, " \t"))
	if end == 0 || s[end-1] != esc || end >= 2 && s[end-2] == esc {
		return 0, false
	}
	return end - 1, true
}

// logical joins the instruction that starts at line n.
func (d *dockerfile) logical(n int) logicalLine {
	type part struct {
		start int // source offset of text
		text  string
	}
	var parts []part
	appendLine := func(start int, s string) bool {
		cut, more := continuation(s, d.escape)
		if more {
			s = s[:cut]
		}
		parts = append(parts, part{start, s})
		return more
	}
	start, text := d.rawLine(n)
	if n == 1 {
		if rest, ok := strings.CutPrefix(text, "\uFEFF"); ok {
			start, text = start+3, rest
		}
	}
	trimmed := strings.TrimLeftFunc(text, unicode.IsSpace)
	more := appendLine(start+len(text)-len(trimmed), trimmed)
	for n++; more && n <= len(d.lines); n++ {
		start, text := d.rawLine(n)
		trimmed := strings.TrimLeftFunc(text, unicode.IsSpace)
		if strings.HasPrefix(trimmed, "#") || trimmed == "" {
			continue
		}
		more = appendLine(start, text)
	}
	if len(parts) == 1 {
		// Most instructions are one line: the text is the source's own.
		return logicalLine{text: parts[0].text, parts: []linePart{{0, parts[0].start}}}
	}
	size := 0
	for _, p := range parts {
		size += len(p.text)
	}
	var b strings.Builder
	b.Grow(size)
	l := logicalLine{parts: make([]linePart, 0, len(parts))}
	for _, p := range parts {
		l.parts = append(l.parts, linePart{b.Len(), p.start})
		b.WriteString(p.text)
	}
	l.text = b.String()
	return l
}

// word is a token of a logical line: the text buildkit's parser makes of
// it, and where it is written.
type word struct {
	text       string
	start, end int
}

// instr is an instruction split as buildkit splits it: flags, then the
// arguments, at [args.start, args.end), split into words for FROM and ARG.
type instr struct {
	line  logicalLine
	flags []word
	args  word
	words []word
}

// split splits a logical line as buildkit's parser does, and checks the
// result against the parser's node.
func (d *dockerfile) split(l logicalLine, n *parser.Node) (instr, bool) {
	in := instr{line: l}
	s := l.text
	start := len(s) - len(strings.TrimLeftFunc(s, unicode.IsSpace))
	end := max(start, len(strings.TrimRightFunc(s, unicode.IsSpace)))
	cmdEnd, argStart := end, end
	if i, j := blanks(s[start:end]); i >= 0 {
		cmdEnd = start + i
		in.flags, argStart = extractFlags(s[:end], start+j, d.escape)
	}
	for argStart < end {
		r, size := utf8.DecodeRuneInString(s[argStart:])
		if !unicode.IsSpace(r) {
			break
		}
		argStart += size
	}
	in.args = word{text: s[argStart:end], start: argStart, end: end}
	switch strings.ToLower(n.Value) {
	case "from":
		in.words = fields(l, in.args)
	case "arg":
		in.words = parseWords(in.args.text, in.args.start, d.escape)
	}
	if s != n.Original || s[start:cmdEnd] != n.Value || len(in.flags) != len(n.Flags) {
		return in, false
	}
	for i, f := range in.flags {
		if f.text != n.Flags[i] {
			return in, false
		}
	}
	return in, in.words == nil || sameTexts(in.words, nextValues(n))
}

// blanks returns the first run of the bytes buildkit's parser splits
// words at, `[\t\v\f\r ]+`, as s[i:j], or -1, -1 when s has none.
func blanks(s string) (i, j int) {
	i = strings.IndexAny(s, blankBytes)
	if i < 0 {
		return -1, -1
	}
	return i, len(s) - len(strings.TrimLeft(s[i:], blankBytes))
}

const blankBytes = "\t\v\f\r "

// fields splits FROM's arguments as buildkit's
// parseStringsWhitespaceDelimited does.
func fields(l logicalLine, args word) []word {
	if args.start == args.end {
		return nil
	}
	var out []word
	pos := args.start
	for {
		i, j := blanks(l.text[pos:args.end])
		if i < 0 {
			return append(out, word{text: l.text[pos:args.end], start: pos, end: args.end})
		}
		out = append(out, word{text: l.text[pos : pos+i], start: pos, end: pos + i})
		pos += j
	}
}

// unquote returns [a, b) without the quotes around it, when text[a:b] is
// one quoted string.
func unquote(text string, a, b int) (int, int) {
	if b-a < 2 {
		return a, b
	}
	q := text[a]
	if (q == '"' || q == '\'') && text[b-1] == q && !strings.ContainsRune(text[a+1:b-1], rune(q)) {
		return a + 1, b - 1
	}
	return a, b
}

// extractFlags is buildkit's extractBuilderFlags over line[pos:], keeping
// each flag's position; it returns the flags and where the arguments start.
func extractFlags(line string, pos int, escape rune) ([]word, int) {
	const (
		inSpaces = iota
		inWord
		inQuote
	)
	var words []word
	phase := inSpaces
	var sb strings.Builder
	var quote byte
	blankOK := false
	wstart := pos
	for ; pos <= len(line); pos++ {
		var ch byte
		if pos != len(line) {
			ch = line[pos]
		}
		if phase == inSpaces {
			if pos == len(line) {
				break
			}
			if unicode.IsSpace(rune(ch)) {
				continue
			}
			if ch != '-' || pos+1 == len(line) || line[pos+1] != '-' {
				return words, pos
			}
			phase = inWord
			wstart = pos
		}
		if (phase == inWord || phase == inQuote) && pos == len(line) {
			if w := sb.String(); w != "--" && (blankOK || len(w) > 0) {
				words = append(words, word{text: w, start: wstart, end: pos})
			}
			break
		}
		if phase == inWord {
			if unicode.IsSpace(rune(ch)) {
				w := sb.String()
				phase = inSpaces
				if w == "--" {
					return words, pos
				}
				if blankOK || len(w) > 0 {
					words = append(words, word{text: w, start: wstart, end: pos})
				}
				sb.Reset()
				blankOK = false
				continue
			}
			if ch == '\'' || ch == '"' {
				quote = ch
				blankOK = true
				phase = inQuote
				continue
			}
			if rune(ch) == escape {
				if pos+1 == len(line) {
					continue
				}
				pos++
				ch = line[pos]
			}
			sb.WriteRune(rune(ch))
			continue
		}
		if ch == quote {
			phase = inWord
			continue
		}
		if rune(ch) == escape {
			if pos+1 == len(line) {
				phase = inWord
				continue
			}
			pos++
			ch = line[pos]
		}
		sb.WriteRune(rune(ch))
	}
	return words, len(line)
}

// parseWords is buildkit's parseWords (the ARG splitter) over s, keeping
// each word's position, base being s's offset in the logical line.
func parseWords(s string, base int, escape rune) []word {
	const (
		inSpaces = iota
		inWord
		inQuote
	)
	var words []word
	phase := inSpaces
	var quote rune
	blankOK := false
	var sb strings.Builder
	var ch rune
	var width int
	wstart := 0
	emit := func(end int) {
		if blankOK || sb.Len() > 0 {
			words = append(words, word{text: sb.String(), start: base + wstart, end: base + end})
		}
	}
	for pos := 0; pos <= len(s); pos += width {
		if pos != len(s) {
			ch, width = utf8.DecodeRuneInString(s[pos:])
		}
		if phase == inSpaces {
			if pos == len(s) {
				break
			}
			if unicode.IsSpace(ch) {
				continue
			}
			phase = inWord
			wstart = pos
		}
		if (phase == inWord || phase == inQuote) && pos == len(s) {
			emit(pos)
			break
		}
		if phase == inWord {
			if unicode.IsSpace(ch) {
				phase = inSpaces
				emit(pos)
				sb.Reset()
				blankOK = false
				continue
			}
			if ch == '\'' || ch == '"' {
				quote = ch
				blankOK = true
				phase = inQuote
			}
			if ch == escape {
				if pos+width == len(s) {
					continue
				}
				sb.WriteRune(ch)
				pos += width
				ch, width = utf8.DecodeRuneInString(s[pos:])
			}
			sb.WriteRune(ch)
			continue
		}
		if ch == quote {
			phase = inWord
		}
		if ch == escape && quote != '\'' {
			if pos+width == len(s) {
				phase = inWord
				continue
			}
			pos += width
			sb.WriteRune(ch)
			ch, width = utf8.DecodeRuneInString(s[pos:])
		}
		sb.WriteRune(ch)
	}
	return words
}
