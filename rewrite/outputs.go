package rewrite

import (
	"strings"

	"gopkg.in/yaml.v3"
)

// BuildOutputs returns the names of the images a build file says are
// built here, which no registry has until that build pushes them: the
// artifacts of a skaffold config (build.artifacts[].image, in profiles
// too). A reference to such a name is the build's output, not an image to
// lock. A file that is not a build file, or does not parse, names none.
func BuildOutputs(in Input) []string {
	if !strings.Contains(string(in.Src), "skaffold/") {
		return nil
	}
	f, _, err := parseYAML(in)
	if f == nil || err != nil {
		return nil
	}
	var out []string
	artifacts := func(build *yaml.Node) {
		a := f.value(build, "artifacts")
		if a == nil || a.Kind != yaml.SequenceNode {
			return
		}
		for _, item := range a.Content {
			if item = deref(item); item != nil && item.Kind == yaml.MappingNode {
				if s, ok := stringValue(f.value(item, "image")); ok && s != "" {
					out = append(out, s)
				}
			}
		}
	}
	for _, doc := range f.docs {
		r := root(doc)
		if r == nil || r.Kind != yaml.MappingNode {
			continue
		}
		if v, _ := stringValue(f.value(r, "apiVersion")); !strings.HasPrefix(v, "skaffold/") {
			continue
		}
		if b := f.value(r, "build"); b != nil && b.Kind == yaml.MappingNode {
			artifacts(b)
		}
		if ps := f.value(r, "profiles"); ps != nil && ps.Kind == yaml.SequenceNode {
			for _, p := range ps.Content {
				if p = deref(p); p != nil && p.Kind == yaml.MappingNode {
					if b := f.value(p, "build"); b != nil && b.Kind == yaml.MappingNode {
						artifacts(b)
					}
				}
			}
		}
	}
	return out
}
