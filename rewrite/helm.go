package rewrite

import (
	"io/fs"
	"path"
	"strings"

	"gopkg.in/yaml.v3"
)

// FindHelmValues returns the images of a Helm chart's values file: every
// mapping, at any depth, with repository and tag (and optionally registry
// and digest) names registry/repository:tag@digest. Pin fills digest:
// where the mapping has the key, else writes tag: <tag>@<digest>. A
// values file that is not beside a Chart.yaml is read as Kubernetes YAML.
func FindHelmValues(in Input) ([]Ref, []Warning, error) {
	if in.FS == nil {
		return FindKubernetes(in)
	}
	if _, err := fs.Stat(in.FS, path.Join(path.Dir(in.Path), "Chart.yaml")); err != nil {
		return FindKubernetes(in)
	}
	f, warns, err := parseYAML(in)
	if f == nil {
		return nil, warns, err
	}
	h := &helmFinder{f: f, visited: map[*yaml.Node]bool{}}
	for _, doc := range f.docs {
		r := root(doc)
		if r == nil {
			continue
		}
		if r.Kind != yaml.MappingNode {
			return nil, nil, f.errNotMapping(r, "the values file")
		}
		if err := h.walk(r); err != nil {
			return nil, nil, err
		}
	}
	if err := f.tooComplex(); err != nil {
		return nil, nil, err
	}
	return inOrder(h.refs), append(warns, h.warns...), nil
}

type helmFinder struct {
	f       *yamlFile
	visited map[*yaml.Node]bool
	refs    []Ref
	warns   []Warning
}

func (h *helmFinder) walk(n *yaml.Node) error {
	n = deref(n)
	if n == nil || h.visited[n] {
		return nil
	}
	h.visited[n] = true
	switch n.Kind {
	case yaml.SequenceNode:
		for _, c := range n.Content {
			if err := h.walk(c); err != nil {
				return err
			}
		}
	case yaml.MappingNode:
		if err := h.image(n); err != nil {
			return err
		}
		for _, c := range n.Content {
			if err := h.walk(c); err != nil {
				return err
			}
		}
	}
	return nil
}

// image adds the reference of mapping m when it has repository and tag.
func (h *helmFinder) image(m *yaml.Node) error {
	repoNode, tagNode := h.f.value(m, "repository"), h.f.value(m, "tag")
	repo, ok := stringValue(repoNode)
	if !ok || repo == "" || tagNode == nil || tagNode.Kind != yaml.ScalarNode {
		return nil
	}
	tag, _ := stringValue(tagNode)
	registry, _ := stringValue(h.f.value(m, "registry"))
	digestKey, digestNode := h.f.lookup(m, "digest")
	digest, _ := stringValue(digestNode)
	if strings.Contains(repo+tag+registry, "{{") {
		h.warns = append(h.warns, Warning{File: h.f.path, Line: repoNode.Line, Msg: "image " + repo + " is a template, skipped"})
		return nil
	}
	image := repo
	if registry != "" {
		image = registry + "/" + repo
	}
	if tag == "" && digest == "" {
		h.warns = append(h.warns, Warning{File: h.f.path, Line: tagNode.Line, Msg: "image " + image + " has an empty tag (the chart's templates choose it), not locked"})
		return nil
	}
	at := tagNode
	if tag != "" {
		image += ":" + tag
	} else {
		at = repoNode
	}
	if digest != "" && !strings.Contains(tag, "@") {
		image += "@" + digest
	}
	sp, err := h.f.scalar(at)
	if err != nil {
		return err
	}
	if digestNode == nil {
		h.refs = append(h.refs, h.f.refAt(Helm, sp.Value, image, Tag))
		return nil
	}
	if digestNode.Kind != yaml.ScalarNode {
		return nil
	}
	ref := h.f.refAt(Helm, sp.Value, image, DigestField)
	fd, dsp, err := h.f.fieldValue(digestNode)
	if err != nil {
		return err
	}
	if tag != "" && digest != "" {
		fd.Unpin = Edit{Span: dsp.Value}
		if digestNode.Style&(yaml.SingleQuotedStyle|yaml.DoubleQuotedStyle) == 0 {
			ksp, err := h.f.scalar(digestKey)
			if err != nil {
				return err
			}
			if colon := h.f.colonAfter(ksp.Token.End); colon >= 0 {
				fd.Unpin = Edit{Span: Span{colon + 1, dsp.Token.End}}
			}
		}
	}
	ref.Field = fd
	h.refs = append(h.refs, ref)
	return nil
}
