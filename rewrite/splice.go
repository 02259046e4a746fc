package rewrite

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Edit replaces the bytes of Span with New.
type Edit struct {
	Span Span
	New  string
}

// Splice applies edits to src and returns the new bytes; src is not
// modified. Identical edits (several references sharing one variable
// default) collapse into one; edits that overlap otherwise, or fall outside
// src, are an error.
func Splice(src []byte, edits []Edit) ([]byte, error) {
	es := append([]Edit(nil), edits...)
	sort.SliceStable(es, func(i, j int) bool {
		if es[i].Span.Start != es[j].Span.Start {
			return es[i].Span.Start < es[j].Span.Start
		}
		return es[i].Span.End < es[j].Span.End
	})
	out := make([]byte, 0, len(src)+64*len(es))
	last := 0
	var prev *Edit
	for i := range es {
		e := &es[i]
		if e.Span.Start < 0 || e.Span.End > len(src) || e.Span.Start > e.Span.End {
			return nil, fmt.Errorf("edit %d-%d outside the file (%d bytes)", e.Span.Start, e.Span.End, len(src))
		}
		if prev != nil && *prev == *e {
			continue
		}
		if e.Span.Start < last || (prev != nil && e.Span.Start == prev.Span.Start && e.Span.Start == e.Span.End && prev.Span.Start == prev.Span.End) {
			return nil, fmt.Errorf("edits overlap at byte %d", e.Span.Start)
		}
		out = append(out, src[last:e.Span.Start]...)
		out = append(out, e.New...)
		last = e.Span.End
		prev = e
	}
	return append(out, src[last:]...), nil
}

// PinText returns the image text written with digest: any digest already
// there is replaced, the name and tag are kept as written.
func PinText(written, digest string) string {
	return StripDigest(written) + "@" + digest
}

// StripDigest removes an "@digest" suffix from image text.
func StripDigest(written string) string {
	if i := strings.LastIndex(written, "@"); i >= 0 {
		return written[:i]
	}
	return written
}

// PinEdits returns the edits that make r name digest.
func PinEdits(src []byte, r Ref, digest string) ([]Edit, error) {
	switch r.Style {
	case Inline, Tag:
		return []Edit{{Span: r.Span, New: PinText(r.Written, digest)}}, nil
	case DigestField:
		if r.Field == nil {
			return nil, &Error{File: r.File, Line: r.Line, Col: r.Col, Err: errors.New("digest field reference without a field")}
		}
		if r.Field.Hex {
			digest = strings.TrimPrefix(digest, "sha256:")
		}
		return []Edit{{Span: r.Field.Value, New: r.Field.Before + digest + r.Field.After}}, nil
	case External, LockOnly:
		return nil, nil
	}
	return nil, &Error{File: r.File, Line: r.Line, Col: r.Col, Err: fmt.Errorf("no pin edit for style %d", r.Style)}
}

// UnpinEdits returns the edits that take r's digest out, keeping its tag;
// none when r is written without a digest or with a digest alone. Whether
// there is a tag is read from Image, the text after expansion: written as
// "${BASE}@sha256:...", the tag is in BASE's value.
func UnpinEdits(src []byte, r Ref) ([]Edit, error) {
	switch r.Style {
	case Inline:
		at := strings.LastIndex(r.Written, "@")
		if at < 0 || !hasTagBefore(StripDigest(r.Image)) {
			return nil, nil
		}
		return []Edit{{Span: r.Span, New: r.Written[:at]}}, nil
	case Tag:
		at := strings.LastIndex(r.Written, "@")
		if at <= 0 {
			return nil, nil
		}
		return []Edit{{Span: r.Span, New: r.Written[:at]}}, nil
	case DigestField:
		if r.Field == nil || r.Field.Unpin == (Edit{}) {
			return nil, nil
		}
		return []Edit{r.Field.Unpin}, nil
	case External, LockOnly:
		return nil, nil
	}
	return nil, &Error{File: r.File, Line: r.Line, Col: r.Col, Err: fmt.Errorf("no unpin edit for style %d", r.Style)}
}

// UnpinBareEdits returns the edits that take r's digest out where pin
// wrote it onto an image with no tag ("mongo@sha256:..." back to
// "mongo"); none for a reference whose digest has a field of its own.
func UnpinBareEdits(r Ref) []Edit {
	at := strings.LastIndex(r.Written, "@")
	if (r.Style != Inline && r.Style != Tag) || at < 0 {
		return nil
	}
	return []Edit{{Span: r.Span, New: r.Written[:at]}}
}

// hasTagBefore reports whether name (the text before "@") carries a tag:
// a colon after the last slash.
func hasTagBefore(name string) bool {
	return strings.Contains(name[strings.LastIndex(name, "/")+1:], ":")
}
