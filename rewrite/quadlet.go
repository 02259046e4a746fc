package rewrite

import (
	"fmt"
	"strings"
)

// quadletSections are the sections of Podman Quadlet units whose Image=
// names an image the unit pulls: [Container] (.container), [Image]
// (.image) and [Volume] (.volume, with Driver=image).
var quadletSections = map[string]bool{"Container": true, "Image": true, "Volume": true}

// FindQuadlet returns the Image= values of a Podman Quadlet unit
// (podman-systemd.unit(5)). Units use systemd's syntax: [Section]
// headers, Key=Value lines, comment lines starting with # or ;, a
// trailing backslash continuing a line, and a value that may be quoted.
// No well-kept Go library parses it with byte offsets (go-systemd's
// unit package drops them), so this reads lines itself. An Image= that
// names another unit (web.image, app.build) is no reference; one split
// across lines, or with a %-specifier systemd expands, is a warning.
func FindQuadlet(in Input) ([]Ref, []Warning, error) {
	if len(in.Src) > maxYAMLSize {
		return nil, []Warning{{File: in.Path, Msg: fmt.Sprintf("file of %d bytes is over the %d MiB limit, skipped", len(in.Src), maxYAMLSize>>20)}}, nil
	}
	t := newTextFile(in)
	var refs []Ref
	var warns []Warning
	section := ""
	src := string(in.Src)
	for off := 0; off < len(src); {
		end := strings.IndexByte(src[off:], '\n')
		if end < 0 {
			end = len(src)
		} else {
			end += off
		}
		start, line := off, strings.TrimSuffix(src[off:end], "\r")
		off = end + 1
		trimmed := strings.TrimSpace(line)
		if trimmed == "" || trimmed[0] == '#' || trimmed[0] == ';' {
			continue
		}
		// A continued line runs on to the next one that does not end
		// with a backslash.
		continued := false
		for strings.HasSuffix(line, "\\") && off < len(src) {
			continued = true
			end = strings.IndexByte(src[off:], '\n')
			if end < 0 {
				end = len(src)
			} else {
				end += off
			}
			line = strings.TrimSuffix(src[start:end], "\r")
			off = end + 1
		}
		trimmed = strings.TrimSpace(line)
		switch {
		case trimmed[0] == '[' && strings.HasSuffix(trimmed, "]"):
			section = trimmed[1 : len(trimmed)-1]
			continue
		}
		key, value, ok := strings.Cut(line, "=")
		if !ok || strings.TrimSpace(key) != "Image" || !quadletSections[section] {
			continue
		}
		lineNo := t.line(start)
		if continued {
			warns = append(warns, Warning{File: in.Path, Line: lineNo, Msg: "Image= is continued across lines: join it to lock it"})
			continue
		}
		a := start + len(key) + 1
		b := start + len(line)
		for a < b && (src[a] == ' ' || src[a] == '\t') {
			a++
		}
		for b > a && (src[b-1] == ' ' || src[b-1] == '\t') {
			b--
		}
		if b-a >= 2 && (src[a] == '"' || src[a] == '\'') && src[b-1] == src[a] {
			a, b = a+1, b-1
		}
		image := src[a:b]
		switch {
		case image == "", strings.HasSuffix(image, ".image"), strings.HasSuffix(image, ".build"):
			// Another unit pulls or builds the image.
		case strings.ContainsAny(image, "%\\\"' \t"):
			warns = append(warns, Warning{File: in.Path, Line: lineNo, Msg: fmt.Sprintf("Image=%s has a specifier, escape, quote or space: write the image plainly to lock it", strings.TrimSpace(value))})
		default:
			refs = append(refs, t.ref(Quadlet, Span{a, b}, image, Inline))
		}
	}
	return refs, warns, nil
}
