package rewrite

import "fmt"

// maxNesting bounds how deep brackets may nest in a file handed to a
// parser that recurses (hcl, hujson): deeper input would overflow the
// stack, which no recover catches, and no real file nests so deep.
const maxNesting = 256

// unparsable returns the warning that skips a file too large or too deeply
// nested to hand to a recursive parser, or nil when it can be parsed.
func unparsable(in Input) *Warning {
	if len(in.Src) > maxYAMLSize {
		return &Warning{File: in.Path, Msg: fmt.Sprintf("file of %d bytes is over the %d MiB limit, skipped", len(in.Src), maxYAMLSize>>20)}
	}
	depth := 0
	for _, c := range in.Src {
		switch c {
		case '[', '{', '(':
			if depth++; depth > maxNesting {
				return &Warning{File: in.Path, Msg: fmt.Sprintf("brackets nest deeper than %d, skipped", maxNesting)}
			}
		case ']', '}', ')':
			depth = max(depth-1, 0)
		}
	}
	return nil
}

// textFile is a source read as bytes with its line starts, for the
// finders of formats whose parser gives byte offsets (JSONC, HCL) or that
// are read line by line (Quadlet units).
type textFile struct {
	path  string
	src   []byte
	lines []int
}

func newTextFile(in Input) *textFile {
	return &textFile{path: in.Path, src: in.Src, lines: lineStarts(in.Src)}
}

// ref returns the reference of kind at span.
func (t *textFile) ref(kind Kind, span Span, image string, style Style) Ref {
	return spanRef(t.path, t.src, t.lines, kind, span, image, style)
}

// line returns the 1-based line of off.
func (t *textFile) line(off int) int {
	l, _ := position(t.lines, off)
	return l
}
