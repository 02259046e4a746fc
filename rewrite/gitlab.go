package rewrite

import (
	"strings"

	"gopkg.in/yaml.v3"
)

// gitlabKeywords are the top-level keys of .gitlab-ci.yml that are not
// jobs; image, services and default are read on their own.
var gitlabKeywords = map[string]bool{
	"default": true, "include": true, "stages": true, "variables": true,
	"workflow": true, "spec": true, "image": true, "services": true,
	"cache": true, "before_script": true, "after_script": true,
}

// FindGitLabCI returns the images of a GitLab CI file: image and services
// (each a string or a mapping with name:) at the top level, in default:,
// and in every job, hidden template jobs included. Scripts are commands,
// not images; an image that uses a CI variable is skipped with a warning.
func FindGitLabCI(in Input) ([]Ref, []Warning, error) {
	f, warns, err := parseYAML(in)
	if f == nil {
		return nil, warns, err
	}
	g := &gitlabFinder{f: f}
	for _, doc := range f.docs {
		r := root(doc)
		if r == nil {
			continue
		}
		if r.Kind != yaml.MappingNode {
			return nil, nil, f.errNotMapping(r, "the pipeline")
		}
		if err := g.section(r); err != nil {
			return nil, nil, err
		}
		for _, p := range f.pairs(r) {
			if p.Key.Value != "default" && gitlabKeywords[p.Key.Value] {
				continue
			}
			if err := g.section(p.Value); err != nil {
				return nil, nil, err
			}
		}
	}
	if err := f.tooComplex(); err != nil {
		return nil, nil, err
	}
	return inOrder(g.refs), append(warns, g.warns...), nil
}

type gitlabFinder struct {
	f     *yamlFile
	refs  []Ref
	warns []Warning
}

// section adds the image and services of a job, default: or the top level.
func (g *gitlabFinder) section(m *yaml.Node) error {
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	if err := g.image(g.f.value(m, "image")); err != nil {
		return err
	}
	if svcs := g.f.value(m, "services"); svcs != nil && svcs.Kind == yaml.SequenceNode {
		for _, s := range svcs.Content {
			if err := g.image(deref(s)); err != nil {
				return err
			}
		}
	}
	return nil
}

// image adds the image of n: a string, or a mapping with name:.
func (g *gitlabFinder) image(n *yaml.Node) error {
	if n != nil && n.Kind == yaml.MappingNode {
		n = g.f.value(n, "name")
	}
	s, ok := stringValue(n)
	if !ok || s == "" {
		return nil
	}
	if strings.Contains(s, "$") {
		g.warns = append(g.warns, Warning{File: g.f.path, Line: n.Line, Msg: "image " + s + " uses a CI variable, skipped"})
		return nil
	}
	r, err := g.f.ref(GitLabCI, n, 0)
	if err != nil {
		return err
	}
	g.refs = append(g.refs, r)
	return nil
}
