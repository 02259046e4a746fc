package rewrite

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
	line, col := position(t.lines, span.Start)
	return Ref{
		File: t.path, Line: line, Col: col, Kind: kind,
		Image: image, Written: string(t.src[span.Start:span.End]),
		Span: span, Style: style,
	}
}

// line returns the 1-based line of off.
func (t *textFile) line(off int) int {
	l, _ := position(t.lines, off)
	return l
}
