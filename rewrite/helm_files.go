package rewrite

import (
	"bytes"
	"errors"
	"io/fs"
	"path"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/imagelock/imagelock/internal/bounded"
)

// templateImage matches a template line "image: <value>", in a list
// item or not; group 1 is where the value starts.
var templateImage = regexp.MustCompile(`^[ \t]*(?:-[ \t]+)?image:[ \t]*()`)

// findChartTemplate returns the literal images of a chart's template:
// lines "image: busybox:1.36" whose value holds no template action. The
// file is a Go template, not YAML, so it is read line by line: a line
// inside or beside {{ }}, a value YAML would read otherwise than as
// written (a flow collection, an anchor, a block, escapes), and a YAML
// comment are left alone, and template syntax is never an error.
func findChartTemplate(in Input) ([]Ref, []Warning, error) {
	if len(in.Src) > maxYAMLSize || bytes.IndexByte(in.Src, 0) >= 0 {
		return nil, nil, nil
	}
	src := string(in.Src)
	newlines := newlineStarts(in.Src)
	var refs []Ref
	inAction := false
	for i, start := range newlines {
		end := len(src)
		if i+1 < len(newlines) {
			end = newlines[i+1] - 1
		}
		line := src[start:end]
		startsInside := inAction
		if o, c := strings.LastIndex(line, "{{"), strings.LastIndex(line, "}}"); o > c {
			inAction = true
		} else if c >= 0 {
			inAction = false
		}
		if startsInside || strings.Contains(line, "{{") || strings.Contains(line, "}}") {
			continue
		}
		if !strings.Contains(line, "image:") {
			continue
		}
		m := templateImage.FindStringSubmatchIndex(line)
		if m == nil {
			continue
		}
		v, off, ok := templateValue(strings.TrimRight(line[m[2]:], "\r"))
		if !ok {
			continue
		}
		s := start + m[2] + off
		l, col := position(newlines, s)
		refs = append(refs, Ref{File: in.Path, Line: l, Col: col, Kind: Helm, Image: v, Written: v, Span: Span{s, s + len(v)}})
	}
	return refs, nil, nil
}

// templateValue returns a template line's value as written, without a
// trailing comment and quotes, and where in text it starts; ok is false
// for a value that is not one plain word.
func templateValue(text string) (v string, off int, ok bool) {
	if i := strings.Index(text, " #"); i >= 0 {
		text = text[:i]
	}
	if i := strings.Index(text, "\t#"); i >= 0 {
		text = text[:i]
	}
	text = strings.TrimRight(text, " \t")
	if len(text) >= 2 && (text[0] == '"' || text[0] == '\'') && text[len(text)-1] == text[0] {
		text, off = text[1:len(text)-1], 1
		if strings.ContainsAny(text, "\"'\\") {
			return "", 0, false
		}
	}
	if text == "" || strings.ContainsAny(text, " \t\"'`{}[],&*!|>%#") {
		return "", 0, false
	}
	return text, off, true
}

// findHelmfile returns the images of the values files a helmfile's
// releases name (releases[].values, paths relative to the helmfile), read
// as Helm values where the file exists, and of the values the releases
// write inline. A release whose chart: is a local chart directory gives
// its values that chart's appVersion. A helmfile that is not valid YAML
// (a template) is skipped with a warning.
func findHelmfile(in Input) ([]Ref, []Warning, error) {
	f, warns, err := parseYAML(in)
	if err != nil {
		return nil, []Warning{invalidYAML(in.Path, err)}, nil
	}
	if f == nil {
		return nil, warns, nil
	}
	dir := path.Dir(in.Path)
	var refs, inline []Ref
	for _, doc := range f.docs {
		releases := f.value(root(doc), "releases")
		if releases == nil || releases.Kind != yaml.SequenceNode {
			continue
		}
		for _, rel := range releases.Content {
			rel = deref(rel)
			chart := ""
			if c, ok := stringValue(f.value(rel, "chart")); ok && isChartDir(in.FS, path.Join(dir, c)) {
				chart = path.Join(dir, c)
			}
			values := f.value(rel, "values")
			if values == nil || values.Kind != yaml.SequenceNode {
				continue
			}
			for _, v := range values.Content {
				v = deref(v)
				if p, ok := stringValue(v); ok {
					rs, ws, err := namedValues(in, path.Join(dir, p), chart)
					if err != nil {
						return nil, nil, err
					}
					refs, warns = append(refs, rs...), append(warns, ws...)
					continue
				}
				rs, ws, err := inlineValues(in, f, v, chart)
				if err != nil {
					return nil, nil, err
				}
				inline, warns = append(inline, rs...), append(warns, ws...)
			}
		}
	}
	if err := f.tooComplex(); err != nil {
		return nil, nil, err
	}
	return append(inOrder(inline), refs...), warns, nil
}

// invalidYAML is the warning for a file skipped because it is not YAML.
func invalidYAML(path string, err error) Warning {
	w := Warning{File: path, Msg: "not valid YAML, skipped: " + err.Error()}
	if e, ok := err.(*Error); ok {
		w.Line, w.Msg = e.Line, "not valid YAML, skipped: "+e.Err.Error()
	}
	return w
}

// namedValues reads the file at p, which a helmfile or an Argo CD
// Application names as a release's values, as the values of the chart in
// directory chart ("" when unknown). A path that is a template, leaves
// the walk's root or names no file here has nothing to read.
func namedValues(in Input, p, chart string) ([]Ref, []Warning, error) {
	lower := strings.ToLower(p)
	if in.FS == nil || strings.Contains(p, "{{") || !fs.ValidPath(p) {
		return nil, nil, nil
	}
	if _, ok := cutYAMLExt(lower); !ok {
		return nil, nil, nil
	}
	src, err := bounded.ReadFile(in.FS, p, bounded.Source)
	if err != nil {
		return nil, nil, nil
	}
	return findValues(Input{FS: in.FS, Path: p, Src: src, Env: in.Env}, chart)
}

// releaseValues returns the images of the values a Flux HelmRelease
// (document r) writes in spec.values, and of those an Argo CD Application
// gives its Helm sources: those written in
// spec.source(s).helm.valuesObject, and those of the files named in
// spec.source(s).helm.valueFiles, paths relative to the source's path in
// this repository, or "$<ref>/<path>" relative to the root of the
// repository a ref source names, taken to be this one. Files that are not
// here are left alone.
func releaseValues(in Input, f *yamlFile, r *yaml.Node) ([]Ref, []Warning, error) {
	api, _ := stringValue(f.value(r, "apiVersion"))
	kind, _ := stringValue(f.value(r, "kind"))
	spec := f.value(r, "spec")
	if strings.HasPrefix(api, "helm.toolkit.fluxcd.io/") && kind == "HelmRelease" {
		return inlineValues(in, f, f.value(spec, "values"), "")
	}
	if !strings.HasPrefix(api, "argoproj.io/") || kind != "Application" || spec == nil {
		return nil, nil, nil
	}
	sources := []*yaml.Node{f.value(spec, "source")}
	if s := f.value(spec, "sources"); s != nil && s.Kind == yaml.SequenceNode {
		sources = append(sources, s.Content...)
	}
	var refs []Ref
	var warns []Warning
	for _, src := range sources {
		src = deref(src)
		base, hasPath := stringValue(f.value(src, "path"))
		base = path.Clean(base)
		chart := ""
		if isChartDir(in.FS, base) {
			chart = base
		}
		helm := f.value(src, "helm")
		rs, ws, err := inlineValues(in, f, f.value(helm, "valuesObject"), chart)
		if err != nil {
			return nil, nil, err
		}
		refs, warns = append(refs, rs...), append(warns, ws...)
		files := f.value(helm, "valueFiles")
		if files == nil || files.Kind != yaml.SequenceNode {
			continue
		}
		for _, v := range files.Content {
			name, ok := stringValue(deref(v))
			if !ok {
				continue
			}
			p := path.Join(base, name)
			if strings.HasPrefix(name, "$") {
				_, rest, _ := strings.Cut(name, "/")
				p = path.Clean(rest)
			} else if !hasPath {
				continue // the values of a chart from a Helm repository
			}
			rs, ws, err := namedValues(in, p, chart)
			if err != nil {
				return nil, nil, err
			}
			refs, warns = append(refs, rs...), append(warns, ws...)
		}
	}
	return refs, warns, nil
}

// inlineValues returns the images of values written inline in a
// manifest, the mapping obj, as the values of the chart in directory
// chart ("" when unknown).
func inlineValues(in Input, f *yamlFile, obj *yaml.Node, chart string) ([]Ref, []Warning, error) {
	if obj == nil || obj.Kind != yaml.MappingNode {
		return nil, nil, nil
	}
	h := &helmFinder{f: f, fsys: in.FS, chart: chart, visited: map[*yaml.Node]bool{}}
	if err := h.walk(obj, []string{}); err != nil {
		return nil, nil, err
	}
	return inOrder(h.refs), h.warns, nil
}

// chartImageKeys are the annotations of a Chart.yaml that list the
// images the chart deploys: Artifact Hub's, and Bitnami's own.
var chartImageKeys = []string{"artifacthub.io/images", "images"}

// findChartImages returns the images a chart's Chart.yaml lists in its
// annotations: a literal block holding a YAML list of maps whose image
// is a reference ("- name: app\n  image: app:1.2"), read by Artifact Hub
// and by mirroring tools. Pin writes tag@digest there, as Artifact Hub
// accepts. A block that is not valid YAML is a warning.
func findChartImages(in Input) ([]Ref, []Warning, error) {
	f, warns, err := parseYAML(in)
	if err != nil {
		return nil, []Warning{invalidYAML(in.Path, err)}, nil
	}
	if f == nil {
		return nil, warns, nil
	}
	var refs []Ref
	for _, doc := range f.docs {
		annotations := f.value(root(doc), "annotations")
		for _, key := range chartImageKeys {
			n := f.value(annotations, key)
			if n == nil {
				continue
			}
			b, err := f.literalBlock(n)
			if err != nil {
				warns = append(warns, Warning{File: in.Path, Line: n.Line, Msg: "the " + key + " annotation is not valid YAML, its images are not read"})
			}
			if b == nil {
				continue
			}
			var found []Ref
			var ws []Warning
			for _, d := range b.inner.docs {
				list := root(d)
				if list == nil || list.Kind != yaml.SequenceNode {
					continue
				}
				for _, e := range list.Content {
					v := b.inner.value(deref(e), "image")
					s, ok := stringValue(v)
					if !ok || s == "" {
						continue
					}
					if strings.ContainsAny(s, "{}$ \t") {
						ws = append(ws, Warning{File: in.Path, Line: v.Line, Msg: "image " + s + " is a template or uses a variable, skipped"})
						continue
					}
					r, err := b.inner.ref(Helm, v, 0)
					if e := (*Error)(nil); errors.As(err, &e) {
						ws = append(ws, Warning{File: in.Path, Line: v.Line, Msg: e.Err.Error()})
						continue
					}
					found = append(found, r)
				}
			}
			rs, ws := b.place(found, ws, Helm, "the "+key+" annotation")
			refs, warns = append(refs, rs...), append(warns, ws...)
		}
	}
	if err := f.tooComplex(); err != nil {
		return nil, nil, err
	}
	return inOrder(refs), warns, nil
}
