package rewrite

import (
	"fmt"
	"regexp"
	"strings"
)

// RetagEdits returns the edits that move r from tag from to tag to where
// the source writes the tag: in the image text (the FROM, an ARG default,
// compose's ${IMG:-redis:7}), or in a tag of its own (Helm's tag:,
// kustomize's newTag, compose's ${TAG:-7}). With digest set, the edits
// also pin the new tag to it, in the image text or in the digest field.
// The error says why the tag cannot be edited here: it comes from a
// variable, the environment or a template, or is not written at all.
func RetagEdits(src []byte, r Ref, from, to, digest string) ([]Edit, error) {
	switch r.Style {
	case External:
		if r.NoPin != "" {
			return nil, fmt.Errorf("the tag is not written in %s: %s", r.File, r.NoPin)
		}
		return nil, fmt.Errorf("the tag comes from the environment or .env, not %s: change it where it is set", r.File)
	case LockOnly:
		return nil, fmt.Errorf("imagelock locks this reference but does not edit it")
	}
	text := StripDigest(r.Written)
	if strings.ContainsAny(text, "${}") {
		return nil, fmt.Errorf("the tag is written through a variable (%s): change it where the variable is set", text)
	}
	var next string
	switch {
	case text == from:
		next = to
	case strings.HasSuffix(text, ":"+from) && hasTagBefore(text):
		next = text[:len(text)-len(from)] + to
	default:
		return nil, fmt.Errorf("the tag %s is not written at %s", from, r.Pos())
	}
	switch r.Style {
	case Inline, Tag:
		if digest != "" {
			next += "@" + digest
		}
		return []Edit{{Span: r.Span, New: quoteNumber(src, r, next)}}, nil
	case DigestField:
		es := []Edit{{Span: r.Span, New: quoteNumber(src, r, next)}}
		if digest == "" {
			return es, nil
		}
		pin, err := PinEdits(src, r, digest)
		return append(es, pin...), err
	}
	return nil, fmt.Errorf("%s: no tag edit for style %d", r.Pos(), r.Style)
}

// yamlNumber matches the plain scalars YAML reads as numbers: a tag
// "1.40" written plain would reach a Helm template as 1.4.
var yamlNumber = regexp.MustCompile(`^[-+]?(\.[0-9]+|[0-9][0-9_]*(\.[0-9_]*)?)([eE][-+]?[0-9]+)?$`)

// quoteNumber double-quotes text that replaces a whole plain YAML scalar
// when YAML would read it as a number; other text is returned as it is.
func quoteNumber(src []byte, r Ref, text string) string {
	switch r.Kind {
	case Dockerfile, Quadlet, Bake, Devcontainer:
		return text
	}
	if !yamlNumber.MatchString(text) || r.Span.Start == 0 || r.Span.End > len(src) {
		return text
	}
	before := src[r.Span.Start-1]
	after := byte('\n')
	if r.Span.End < len(src) {
		after = src[r.Span.End]
	}
	// A plain scalar stands after a space, "tag: 1.25" or "{tag: 1.25}";
	// compose's "${TAG:-1.25}" is inside a string.
	if (before != ' ' && before != '\t') || !strings.ContainsRune(" \t\r\n#,}]", rune(after)) {
		return text
	}
	return `"` + text + `"`
}
