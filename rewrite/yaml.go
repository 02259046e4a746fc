package rewrite

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"unicode/utf8"

	"gopkg.in/yaml.v3"
)

// maxYAMLSize is the largest file a finder other than the Dockerfile's
// parses (YAML, JSON, HCL, Quadlet units); larger files are
// skipped with a warning (no hand-written manifest comes near it).
const maxYAMLSize = 10 << 20

// TooLarge reports whether a file of size bytes at path is past what its
// finder reads: pin must not grow a source into one imagelock skips.
func TooLarge(path string, size int) bool {
	kind, _, ok := FinderFor(path)
	return size > maxYAMLSize && (!ok || kind != Dockerfile)
}

// maxAliasChain bounds how many aliases in a row a lookup follows.
const maxAliasChain = 64

// yamlFile is a parsed YAML source: its documents as yaml.v3 nodes, and
// what it takes to turn a node's line and column into a byte offset. The
// documents are only read, never encoded again: edits are byte splices.
type yamlFile struct {
	path string
	src  []byte
	// lines[i] is the byte offset where line i+1 starts, with lines
	// broken where YAML breaks them; newlines[i] likewise, broken at "\n"
	// alone, as editors and grep -n count the lines a Ref names.
	lines, newlines []int
	docs            []*yaml.Node
	// steps counts the mapping entries lookups have visited.
	steps int
}

// yamlErrLine matches the position yaml.v3 puts in its error messages.
var yamlErrLine = regexp.MustCompile(`^yaml: line (\d+): (.*)$`)

// yamlUnknownAnchor matches an error yaml.v3 gives without a line.
var yamlUnknownAnchor = regexp.MustCompile(`^yaml: unknown anchor '(.*)' referenced$`)

// parseYAML parses every document of in.Src. A file over maxYAMLSize comes
// back nil with a warning; malformed YAML is an *Error naming the line.
// Aliases are kept as alias nodes, never expanded, so an alias bomb costs
// no more than its text.
func parseYAML(in Input) (*yamlFile, []Warning, error) {
	if len(in.Src) > maxYAMLSize {
		return nil, []Warning{{File: in.Path, Msg: fmt.Sprintf("YAML file of %d bytes is over the %d MiB limit, skipped", len(in.Src), maxYAMLSize>>20)}}, nil
	}
	if bytes.IndexByte(in.Src, 0) >= 0 || !utf8.Valid(in.Src) {
		return nil, []Warning{{File: in.Path, Msg: "not a text file, skipped"}}, nil
	}
	f := &yamlFile{path: in.Path, src: in.Src, lines: yamlLineStarts(in.Src), newlines: newlineStarts(in.Src)}
	dec := yaml.NewDecoder(bytes.NewReader(in.Src))
	for {
		var doc yaml.Node
		err := dec.Decode(&doc)
		if err == io.EOF {
			return f, nil, nil
		}
		if err != nil {
			return nil, nil, yamlError(in.Path, in.Src, err)
		}
		oneWordBlocks(&doc)
		f.docs = append(f.docs, &doc)
	}
}

// oneWordBlocks reads a literal or folded block scalar that holds one
// word as that word, without the line breaks and indentation around it:
// "image: >-" with the image on the next line names the image, whatever
// the block's chomping. Blocks of several words are left as they are.
func oneWordBlocks(n *yaml.Node) {
	if n.Kind == yaml.ScalarNode && n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		if v := strings.TrimSpace(n.Value); v != "" && !strings.ContainsAny(v, " \t\r\n\u0085\u2028\u2029") {
			n.Value = v
		}
		return
	}
	for _, c := range n.Content {
		oneWordBlocks(c)
	}
}

// yamlError turns a yaml.v3 error into an *Error with its line.
func yamlError(path string, src []byte, err error) *Error {
	msg := err.Error()
	if m := yamlErrLine.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &Error{File: path, Line: line, Err: fmt.Errorf("parsing YAML: %s", m[2])}
	}
	e := &Error{File: path, Err: fmt.Errorf("parsing YAML: %s", strings.TrimPrefix(msg, "yaml: "))}
	if strings.HasSuffix(msg, "control characters are not allowed") {
		if i := bytes.IndexFunc(src, isControl); i >= 0 {
			e.Line = 1 + bytes.Count(src[:i], []byte("\n"))
		}
	}
	if m := yamlUnknownAnchor.FindStringSubmatch(msg); m != nil {
		if i := bytes.Index(src, []byte("*"+m[1])); i >= 0 {
			e.Line = 1 + bytes.Count(src[:i], []byte("\n"))
		}
	}
	return e
}

// isControl reports whether YAML forbids r in a stream.
func isControl(r rune) bool {
	return (r < 0x20 && r != '\t' && r != '\n' && r != '\r') || r == 0x7f
}

// yamlLineStarts returns the byte offset of each line's start, breaking lines
// where yaml.v3 does: CRLF, CR, LF, NEL, LS and PS. A leading byte order
// mark is not part of line 1, as yaml.v3 does not count it.
func yamlLineStarts(src []byte) []int {
	start := 0
	if bytes.HasPrefix(src, []byte("\ufeff")) {
		start = 3
	}
	lines := make([]int, 1, bytes.Count(src, []byte("\n"))+2)
	lines[0] = start
	for i := start; i < len(src); {
		n := 0
		switch src[i] {
		case '\n':
			n = 1
		case '\r':
			n = 1
			if i+1 < len(src) && src[i+1] == '\n' {
				n = 2
			}
		case 0xc2: // NEL is c2 85
			if i+1 < len(src) && src[i+1] == 0x85 {
				n = 2
			}
		case 0xe2: // LS and PS are e2 80 a8 and e2 80 a9
			if i+2 < len(src) && src[i+1] == 0x80 && (src[i+2] == 0xa8 || src[i+2] == 0xa9) {
				n = 3
			}
		}
		if n == 0 {
			i++
			continue
		}
		i += n
		lines = append(lines, i)
	}
	return lines
}

// newlineStarts returns the byte offset of each line's start, with lines
// broken at "\n".
func newlineStarts(src []byte) []int {
	lines := []int{0}
	for i, c := range src {
		if c == '\n' {
			lines = append(lines, i+1)
		}
	}
	return lines
}

// offset converts yaml.v3's 1-based line and column (counted in
// characters) into a byte offset.
func (f *yamlFile) offset(line, col int) (int, bool) {
	if line < 1 || line > len(f.lines) || col < 1 {
		return 0, false
	}
	off := f.lines[line-1]
	for range col - 1 {
		if off >= len(f.src) {
			return 0, false
		}
		_, size := utf8.DecodeRune(f.src[off:])
		off += size
	}
	return off, true
}

// lineCol returns the 1-based YAML line and byte column of off.
func (f *yamlFile) lineCol(off int) (int, int) {
	return position(f.lines, off)
}

// position returns the 1-based line and byte column of off, given the
// offsets where lines start.
func position(lines []int, off int) (int, int) {
	i := sort.Search(len(lines), func(i int) bool { return lines[i] > off }) - 1
	return i + 1, off - lines[i] + 1
}

// scalarSpan is where a scalar sits in the source: Value is its text
// inside any quotes, Token includes the quotes.
type scalarSpan struct {
	Value, Token Span
}

// scalar locates the exact bytes of a scalar node. Only scalars whose
// source text is their value can be located: plain, single- or
// double-quoted on one line without escapes, or a literal or folded block
// that holds one word (Value and Token are the word), which is how every
// image is written in practice. Anything else is an *Error saying how to write it.
func (f *yamlFile) scalar(n *yaml.Node) (scalarSpan, error) {
	fail := func() (scalarSpan, error) {
		return scalarSpan{}, &Error{File: f.path, Line: n.Line, Col: n.Column, Err: fmt.Errorf("%q is written across lines, as a block or with escapes; write it on one line, plain or quoted, so imagelock can edit it", n.Value)}
	}
	if n.Kind != yaml.ScalarNode {
		return fail()
	}
	off, ok := f.offset(n.Line, n.Column)
	if !ok {
		return fail()
	}
	off = f.skipProperties(off, n)
	if n.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0 {
		sp, ok := f.blockWord(off, n.Value)
		if !ok {
			return fail()
		}
		return sp, nil
	}
	quote := byte(0)
	switch {
	case n.Style&yaml.DoubleQuotedStyle != 0:
		quote = '"'
	case n.Style&yaml.SingleQuotedStyle != 0:
		quote = '\''
	}
	start := off
	if quote != 0 {
		if off >= len(f.src) || f.src[off] != quote {
			return fail()
		}
		start++
	}
	end := start + len(n.Value)
	if end > len(f.src) || string(f.src[start:end]) != n.Value {
		return fail()
	}
	tokEnd := end
	if quote != 0 {
		if end >= len(f.src) || f.src[end] != quote {
			return fail()
		}
		tokEnd++
	}
	return scalarSpan{Value: Span{start, end}, Token: Span{off, tokEnd}}, nil
}

// blockWord locates the one word a block scalar whose indicator ("|",
// ">-", "|2+") is at off holds: the first text after the header line, with
// only blank lines and indentation before it and the end of its line after.
func (f *yamlFile) blockWord(off int, word string) (scalarSpan, bool) {
	if off >= len(f.src) || (f.src[off] != '|' && f.src[off] != '>') || word == "" ||
		strings.ContainsAny(word, " \t\r\n") {
		return scalarSpan{}, false
	}
	line, _ := f.lineCol(off)
	if line >= len(f.lines) {
		return scalarSpan{}, false
	}
	start := f.lines[line]
	for start < len(f.src) && isYAMLSpace(f.src[start]) {
		start++
	}
	end := start + len(word)
	if end > len(f.src) || string(f.src[start:end]) != word {
		return scalarSpan{}, false
	}
	if after, _ := f.lineEnd(end); strings.TrimRight(string(f.src[end:after]), " \t\r\n") != "" {
		return scalarSpan{}, false
	}
	return scalarSpan{Value: Span{start, end}, Token: Span{start, end}}, true
}

// skipProperties moves off past a node's tag and anchor ("!!str &a "),
// where yaml.v3 puts the position of a node that has them.
func (f *yamlFile) skipProperties(off int, n *yaml.Node) int {
	if n.Anchor == "" && n.Style&yaml.TaggedStyle == 0 {
		return off
	}
	for off < len(f.src) && (f.src[off] == '!' || f.src[off] == '&') {
		for off < len(f.src) && !isYAMLSpace(f.src[off]) {
			off++
		}
		for off < len(f.src) && isYAMLSpace(f.src[off]) {
			off++
		}
	}
	return off
}

func isYAMLSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\n'
}

// ref returns an Inline reference to the whole scalar n, or part of it:
// skip bytes cut from its start (as "docker://").
func (f *yamlFile) ref(kind Kind, n *yaml.Node, skip int) (Ref, error) {
	sp, err := f.scalar(n)
	if err != nil {
		return Ref{}, err
	}
	span := Span{sp.Value.Start + skip, sp.Value.End}
	return f.refAt(kind, span, n.Value[skip:], Inline), nil
}

// refAt returns a reference at span, whose image is image.
func (f *yamlFile) refAt(kind Kind, span Span, image string, style Style) Ref {
	return spanRef(f.path, f.src, f.newlines, kind, span, image, style)
}

// spanRef returns the reference of kind at span of file path, whose
// source is src and whose lines start at lines.
func spanRef(path string, src []byte, lines []int, kind Kind, span Span, image string, style Style) Ref {
	line, col := position(lines, span.Start)
	written := image // one string for both where the text is the image
	if string(src[span.Start:span.End]) != image {
		written = string(src[span.Start:span.End])
	}
	return Ref{
		File: path, Line: line, Col: col, Kind: kind,
		Image: image, Written: written,
		Span: span, Style: style,
	}
}

// inFileOrder sorts refs that live in several files in file order, the
// file being read (first) first, and by place within each file.
func inFileOrder(refs []Ref, first string) {
	sort.SliceStable(refs, func(i, j int) bool {
		a, b := refs[i], refs[j]
		if a.File != b.File {
			return a.File == first || b.File != first && a.File < b.File
		}
		return a.Span.Start < b.Span.Start
	})
}

// deref follows alias nodes to the node they name; nil for nil or for a
// chain of aliases too long to be honest.
func deref(n *yaml.Node) *yaml.Node {
	for range maxAliasChain {
		if n == nil || n.Kind != yaml.AliasNode {
			return n
		}
		n = n.Alias
	}
	return nil
}

// root returns a document's top node with aliases followed, or nil for an
// empty document.
func root(doc *yaml.Node) *yaml.Node {
	if doc.Kind != yaml.DocumentNode || len(doc.Content) == 0 {
		return nil
	}
	return deref(doc.Content[0])
}

// pair is one key and value of a mapping, aliases followed.
type pair struct {
	Key, Value *yaml.Node
}

// maxMergeSteps bounds the mapping entries merge-key lookups may visit in
// one file: a legitimate file needs a small fraction of it, a chain of
// merges built to make every lookup walk the whole file does not get to.
const maxMergeSteps = 1 << 24

// step counts one mapping entry visited, and reports whether the file is
// still within maxMergeSteps.
func (f *yamlFile) step() bool {
	f.steps++
	return f.steps <= maxMergeSteps
}

const tooComplexMsg = "too many aliases and merge keys to follow (an alias bomb?)"

// tooComplex returns the error for a file over maxMergeSteps, or nil.
func (f *yamlFile) tooComplex() error {
	if f.steps <= maxMergeSteps {
		return nil
	}
	return &Error{File: f.path, Err: errors.New(tooComplexMsg)}
}

// pairs returns the entries of mapping m, merge keys ("<<: *base")
// resolved: keys written in m win over merged ones, and earlier merges
// over later ones, as YAML's merge key type says. Each mapping is merged
// at most once. A node that is not a mapping has no pairs.
func (f *yamlFile) pairs(m *yaml.Node) []pair {
	var out []pair
	seen := map[string]bool{}
	f.eachPair(m, func(p pair) bool {
		if !seen[p.Key.Value] {
			seen[p.Key.Value] = true
			out = append(out, p)
		}
		return true
	})
	return out
}

// lookup returns the key and value nodes of key in mapping m (merge keys
// resolved), or nils.
func (f *yamlFile) lookup(m *yaml.Node, key string) (k, v *yaml.Node) {
	f.eachPair(m, func(p pair) bool {
		if p.Key.Value == key {
			k, v = p.Key, p.Value
			return false
		}
		return true
	})
	return k, v
}

// value returns the value node of key in mapping m, or nil.
func (f *yamlFile) value(m *yaml.Node, key string) *yaml.Node {
	_, v := f.lookup(m, key)
	return v
}

// eachPair calls fn with the entries of mapping m in precedence order:
// m's own, then those of each merged mapping, depth first, until fn
// returns false. A key may come more than once; the first one wins.
func (f *yamlFile) eachPair(m *yaml.Node, fn func(pair) bool) {
	var visited map[*yaml.Node]bool
	var walk func(m *yaml.Node) bool
	walk = func(m *yaml.Node) bool {
		m = deref(m)
		if m == nil || m.Kind != yaml.MappingNode || visited[m] {
			return true
		}
		if visited != nil {
			visited[m] = true
		}
		var merges []*yaml.Node
		for i := 0; i+1 < len(m.Content); i += 2 {
			if !f.step() {
				return false
			}
			k := deref(m.Content[i])
			if k == nil || k.Kind != yaml.ScalarNode {
				continue
			}
			if k.Tag == "!!merge" {
				merges = append(merges, m.Content[i+1])
				continue
			}
			if !fn(pair{Key: k, Value: deref(m.Content[i+1])}) {
				return false
			}
		}
		if len(merges) == 0 {
			return true
		}
		if visited == nil {
			visited = map[*yaml.Node]bool{m: true}
		}
		for _, v := range merges {
			v = deref(v)
			items := []*yaml.Node{v}
			if v != nil && v.Kind == yaml.SequenceNode {
				items = v.Content
			}
			for _, item := range items {
				if !walk(item) {
					return false
				}
			}
		}
		return true
	}
	walk(m)
}

// stringOr returns the scalar n, or the value of key when n is a mapping:
// where a CI system takes an image as a string or as a mapping
// (image: {name: ...}, container: {image: ...}).
func (f *yamlFile) stringOr(n *yaml.Node, key string) *yaml.Node {
	if n = deref(n); n != nil && n.Kind == yaml.MappingNode {
		return f.value(n, key)
	}
	return n
}

// isNull reports whether n is absent or YAML null.
func isNull(n *yaml.Node) bool {
	return n == nil || (n.Kind == yaml.ScalarNode && n.Tag == "!!null")
}

// stringValue returns the text of a non-null scalar.
func stringValue(n *yaml.Node) (string, bool) {
	if isNull(n) || n.Kind != yaml.ScalarNode {
		return "", false
	}
	return n.Value, true
}

// errNotMapping is the *Error for a document or value that must be a mapping.
func (f *yamlFile) errNotMapping(n *yaml.Node, what string) error {
	return &Error{File: f.path, Line: n.Line, Col: n.Column, Err: fmt.Errorf("%s is not a mapping", what)}
}

// lineEnd returns the offset just past the line break that ends the line
// holding off (len(src) on the last line) and that break: "\n", "\r\n",
// or "" on a last line without one.
func (f *yamlFile) lineEnd(off int) (end int, eol string) {
	line, _ := f.lineCol(off)
	if line >= len(f.lines) {
		return len(f.src), ""
	}
	end = f.lines[line]
	switch {
	case bytes.HasSuffix(f.src[:end], []byte("\r\n")):
		return end, "\r\n"
	case f.src[end-1] == '\n' || f.src[end-1] == '\r':
		return end, string(f.src[end-1])
	}
	return end, f.eol()
}

// eol returns the file's line ending: the first one in it, else "\n".
func (f *yamlFile) eol() string {
	if i := bytes.IndexByte(f.src, '\n'); i > 0 && f.src[i-1] == '\r' {
		return "\r\n"
	}
	return "\n"
}

// cutYAMLExt returns name without its .yaml or .yml extension.
func cutYAMLExt(name string) (string, bool) {
	if s, ok := strings.CutSuffix(name, ".yaml"); ok {
		return s, true
	}
	return strings.CutSuffix(name, ".yml")
}

// isComposeName reports whether a lower-case base name is a compose file:
// compose.yaml, compose.prod.yaml, docker-compose.yml, docker-compose-dev.yml.
func isComposeName(lower string) bool {
	stem, ok := cutYAMLExt(lower)
	if !ok {
		return false
	}
	return stem == "compose" || strings.HasPrefix(stem, "compose.") || strings.HasPrefix(stem, "docker-compose")
}

// isWorkflowPath reports whether path is a GitHub Actions workflow: a file
// directly in .github/workflows.
func isWorkflowPath(path string) bool {
	dir := path[:max(strings.LastIndex(path, "/"), 0)]
	return dir == ".github/workflows" || strings.HasSuffix(dir, "/.github/workflows")
}

// lineSpan returns the span of the whole line holding off with its line
// break; for a last line without one, the break before it instead, so that
// deleting the span leaves the lines around it as they were.
func (f *yamlFile) lineSpan(off int) Span {
	line, _ := f.lineCol(off)
	start := f.lines[line-1]
	end, eol := f.lineEnd(off)
	if eol == "" && line > 1 {
		start--
		if start > 0 && f.src[start] == '\n' && f.src[start-1] == '\r' {
			start--
		}
	}
	return Span{start, end}
}

// indentBefore reports whether only spaces come before off on its line.
func (f *yamlFile) indentBefore(off int) bool {
	line, _ := f.lineCol(off)
	return strings.Trim(string(f.src[f.lines[line-1]:off]), " ") == ""
}

// fieldValue returns the Field for an existing digest value node v: pin
// replaces the value (a bare "digest:" gets a space before the digest).
// Call it only for a node noPinDigest accepts.
func (f *yamlFile) fieldValue(v *yaml.Node) (*Field, scalarSpan, error) {
	sp, err := f.scalar(v)
	if err != nil {
		return nil, sp, err
	}
	fd := &Field{Value: sp.Value}
	if sp.Value.Start == sp.Value.End && v.Style == 0 {
		fd.Before = " "
	}
	return fd, sp, nil
}

// noPinDigest says why pin cannot edit the existing digest value v of
// image, or "" when it can. Unpin takes a digest out by emptying the value
// or deleting the field's line, so each refused form is one that would
// not come back byte for byte: a block (its content would stay behind), a
// key with no colon ({name: x, digest}: a digest would run into the key),
// and a null written as ~ or null, which unpin cannot tell from a digest
// field pin added. With line set (kustomize, where unpin deletes the
// line pin inserted), a bare "digest:" is refused too. The reference is
// still locked and verified.
func (f *yamlFile) noPinDigest(v *yaml.Node, image string, line bool) string {
	const fix = `write it digest: "" so imagelock can fill it and unpin can empty it`
	switch {
	case v.Style&(yaml.LiteralStyle|yaml.FoldedStyle) != 0:
		return fmt.Sprintf("the digest of %s is written as a block; write it on one line, plain or quoted, so imagelock can edit it", image)
	case v.Style != 0 || v.ShortTag() != "!!null":
		return ""
	case v.Value != "":
		return fmt.Sprintf("the digest field of %s is null (%s); %s", image, v.Value, fix)
	}
	sp, err := f.scalar(v)
	if err != nil || sp.Value.Start == 0 || f.src[sp.Value.Start-1] != ':' {
		return fmt.Sprintf("the digest field of %s has no value and no colon; %s", image, fix)
	}
	if line {
		return fmt.Sprintf("the digest field of %s is empty; %s, or delete the line so pin can add it", image, fix)
	}
	return ""
}

// colonAfter returns the offset of the ':' that ends a mapping key whose
// token ends at off, or -1.
func (f *yamlFile) colonAfter(off int) int {
	for off < len(f.src) && (f.src[off] == ' ' || f.src[off] == '\t') {
		off++
	}
	if off < len(f.src) && f.src[off] == ':' {
		return off
	}
	return -1
}

// literalBlock is YAML text written as a literal block scalar of a file
// (an Argo resource template's manifest, a chart's images annotation),
// parsed as a file of its own: line l of inner is line first+l of the
// outer file, indented by indent.
type literalBlock struct {
	outer, inner  *yamlFile
	warns         []Warning
	first, indent int
}

// literalBlock parses the text of the literal block scalar n. It returns
// nil when n is no literal block or cannot be located, and an error when
// the text is not valid YAML.
func (f *yamlFile) literalBlock(n *yaml.Node) (*literalBlock, error) {
	if n.Kind != yaml.ScalarNode || n.Style&yaml.LiteralStyle == 0 {
		return nil, nil
	}
	off, ok := f.offset(n.Line, n.Column)
	if !ok {
		return nil, nil
	}
	// The block's text starts on the line after its header, indented.
	first, _ := f.lineCol(f.skipProperties(off, n))
	if first >= len(f.lines) {
		return nil, nil
	}
	indent := 0
	for _, line := range f.lines[first:] {
		end := line
		for end < len(f.src) && f.src[end] == ' ' {
			end++
		}
		if end < len(f.src) && f.src[end] != '\n' && f.src[end] != '\r' {
			indent = end - line
			break
		}
	}
	inner, warns, err := parseYAML(Input{Path: f.path, Src: []byte(n.Value)})
	if err != nil || inner == nil {
		return nil, err
	}
	return &literalBlock{outer: f, inner: inner, warns: warns, first: first, indent: indent}, nil
}

// place maps the references and warnings found in the block to the
// outer file, as references of kind; a reference whose text is not at
// the place it maps to (the block is not written as it reads) is
// dropped with a warning that says it was in what.
func (b *literalBlock) place(refs []Ref, warns []Warning, kind Kind, what string) ([]Ref, []Warning) {
	f := b.outer
	var out []Ref
	var ws []Warning
	for _, w := range append(b.warns, warns...) {
		w.Line += b.first
		ws = append(ws, w)
	}
	for _, r := range refs {
		l := b.first + r.Line - 1
		if l >= len(f.lines) {
			continue
		}
		start := f.lines[l] + b.indent + r.Col - 1
		span := Span{start, start + len(r.Written)}
		if span.End > len(f.src) || string(f.src[span.Start:span.End]) != r.Written {
			ws = append(ws, Warning{File: f.path, Line: l + 1, Msg: "image " + r.Image + " in " + what + " cannot be located, skipped"})
			continue
		}
		ref := f.refAt(kind, span, r.Image, r.Style)
		ref.Var = r.Var
		out = append(out, ref)
	}
	return out, ws
}
