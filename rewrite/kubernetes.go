package rewrite

import (
	"io/fs"
	"path"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// containerKeys are the pod spec fields whose entries are containers.
var containerKeys = map[string]bool{
	"containers":          true,
	"initContainers":      true,
	"ephemeralContainers": true,
}

// FindKubernetes returns the images of every container, init container and
// ephemeral container, at any depth, in each document of a YAML file that
// has apiVersion and kind: workloads, lists and custom resources that
// embed pod templates alike. Documents without apiVersion and kind have no
// references; a file that is not valid YAML or too large is skipped with
// a warning. A Helm chart's template is read for its literal images (see
// findChartTemplate), and an Argo CD Application for the values files it
// gives Helm (see argoValueFiles).
func FindKubernetes(in Input) ([]Ref, []Warning, error) {
	if isChartTemplate(in) {
		return findChartTemplate(in)
	}
	f, warns, err := parseYAML(in)
	if err != nil {
		return nil, []Warning{invalidYAML(in.Path, err)}, nil
	}
	if f == nil {
		return nil, warns, nil
	}
	var refs, values []Ref
	for _, doc := range f.docs {
		r := root(doc)
		if r == nil || r.Kind != yaml.MappingNode || !f.hasScalar(r, "apiVersion") || !f.hasScalar(r, "kind") {
			continue
		}
		w := &podWalker{f: f, visited: map[*yaml.Node]bool{}}
		if err := w.walk(r); err != nil {
			return nil, nil, err
		}
		refs = append(refs, w.refs...)
		warns = append(warns, w.warns...)
		vs, ws, err := argoValueFiles(in, f, r)
		if err != nil {
			return nil, nil, err
		}
		values, warns = append(values, vs...), append(warns, ws...)
	}
	if err := f.tooComplex(); err != nil {
		return nil, []Warning{{File: in.Path, Msg: tooComplexMsg + ", skipped"}}, nil
	}
	return append(inOrder(refs), values...), warns, nil
}

// hasScalar reports whether mapping m has key with a non-empty scalar value.
func (f *yamlFile) hasScalar(m *yaml.Node, key string) bool {
	s, ok := stringValue(f.value(m, key))
	return ok && s != ""
}

// isChartTemplate reports whether in is a file under a Helm chart's
// templates directory: Go templates, not manifests; the chart's values
// file is where its images are.
func isChartTemplate(in Input) bool {
	if in.FS == nil {
		return false
	}
	for dir := path.Dir(in.Path); dir != "." && dir != "/"; dir = path.Dir(dir) {
		if path.Base(dir) != "templates" {
			continue
		}
		if _, err := fs.Stat(in.FS, path.Join(path.Dir(dir), "Chart.yaml")); err == nil {
			return true
		}
	}
	return false
}

// podWalker walks one document for container lists. Each node is walked
// once, so aliases cost nothing more than their target.
type podWalker struct {
	f       *yamlFile
	visited map[*yaml.Node]bool
	refs    []Ref
	warns   []Warning
}

func (w *podWalker) walk(n *yaml.Node) error {
	n = deref(n)
	if n == nil || w.visited[n] {
		return nil
	}
	w.visited[n] = true
	switch n.Kind {
	case yaml.SequenceNode:
		for _, c := range n.Content {
			if err := w.walk(c); err != nil {
				return err
			}
		}
	case yaml.MappingNode:
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := deref(n.Content[i]), deref(n.Content[i+1])
			if k != nil && containerKeys[k.Value] && v != nil && v.Kind == yaml.SequenceNode {
				if err := w.containers(v); err != nil {
					return err
				}
			}
			if err := w.walk(v); err != nil {
				return err
			}
		}
	}
	return nil
}

// containers adds the image of each container in a container list.
func (w *podWalker) containers(list *yaml.Node) error {
	for _, c := range list.Content {
		img := w.f.value(deref(c), "image")
		s, ok := stringValue(img)
		if !ok || s == "" {
			continue
		}
		if strings.Contains(s, "{{") || strings.Contains(s, "$") {
			w.warns = append(w.warns, Warning{File: w.f.path, Line: img.Line, Msg: "image " + s + " is a template or uses a variable, skipped"})
			continue
		}
		r, err := w.f.ref(Kubernetes, img, 0)
		if err != nil {
			return err
		}
		w.refs = append(w.refs, r)
	}
	return nil
}

// inOrder drops duplicate references and sorts the rest into file order.
func inOrder(refs []Ref) []Ref {
	out := dedupe(refs)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Span.Start < out[j].Span.Start })
	return out
}

// dedupe drops references identical to an earlier one: one scalar reached
// through several aliases, one Dockerfile built by several services.
func dedupe(refs []Ref) []Ref {
	type key struct {
		file  string
		span  Span
		image string
	}
	seen := map[key]bool{}
	var out []Ref
	for _, r := range refs {
		k := key{r.File, r.Span, r.Image}
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, r)
	}
	return out
}
