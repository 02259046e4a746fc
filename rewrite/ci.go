package rewrite

import (
	"fmt"
	"strings"

	"gopkg.in/yaml.v3"
)

// ciFinder collects the images of one CI file: each image scalar once,
// however many aliases reach it (the reference is at the anchor's
// definition), and a value that uses a variable, substitution, parameter
// or expression as a warning, since the CI system fills it in at run time.
type ciFinder struct {
	f    *yamlFile
	kind Kind
	// uses names what a "$" or "<<" in an image is in this CI system:
	// "a substitution", "a variable", "a parameter", "an expression".
	uses  string
	refs  []Ref
	warns []Warning
	seen  map[*yaml.Node]bool
}

func newCIFinder(f *yamlFile, kind Kind, uses string) *ciFinder {
	return &ciFinder{f: f, kind: kind, uses: uses, seen: map[*yaml.Node]bool{}}
}

// image adds the image scalar n names, after skip bytes ("docker://").
func (c *ciFinder) image(n *yaml.Node, skip int) error {
	s, ok := stringValue(n)
	if !ok || len(s) <= skip || c.seen[n] {
		return nil
	}
	c.seen[n] = true
	if strings.Contains(s, "$") || strings.Contains(s, "<<") {
		c.warns = append(c.warns, Warning{File: c.f.path, Line: n.Line, Msg: fmt.Sprintf("image %s uses %s, skipped", s, c.uses)})
		return nil
	}
	r, err := c.f.ref(c.kind, n, skip)
	if err != nil {
		return err
	}
	c.refs = append(c.refs, r)
	return nil
}

// schemeImage adds the image of a value that names one after docker://
// (a step's uses:, a pipe), and nothing for any other value.
func (c *ciFinder) schemeImage(n *yaml.Node) error {
	if s, ok := stringValue(n); !ok || !strings.HasPrefix(s, dockerScheme) {
		return nil
	}
	return c.image(n, len(dockerScheme))
}

// done returns what the finder found, in file order.
func (c *ciFinder) done(warns []Warning) ([]Ref, []Warning, error) {
	if err := c.f.tooComplex(); err != nil {
		return nil, nil, err
	}
	return inOrder(c.refs), append(warns, c.warns...), nil
}

// items returns the entries of a list, or the values of a mapping, as CI
// systems accept steps and services in either form; aliases followed.
func (c *ciFinder) items(n *yaml.Node) []*yaml.Node {
	n = deref(n)
	if n == nil {
		return nil
	}
	var out []*yaml.Node
	switch n.Kind {
	case yaml.SequenceNode:
		for _, item := range n.Content {
			out = append(out, deref(item))
		}
	case yaml.MappingNode:
		for _, p := range c.f.pairs(n) {
			out = append(out, p.Value)
		}
	}
	return out
}

// mappingRoots returns the top mapping of each document, or an error
// naming what the file is when one is not a mapping.
func (c *ciFinder) mappingRoots(what string) ([]*yaml.Node, error) {
	var out []*yaml.Node
	for _, doc := range c.f.docs {
		r := root(doc)
		if r == nil {
			continue
		}
		if r.Kind != yaml.MappingNode {
			return nil, c.f.errNotMapping(r, what)
		}
		out = append(out, r)
	}
	return out, nil
}

// inDir reports whether the slash path is a file directly in a directory
// named dir (".woodpecker", ".circleci"), at any depth.
func inDir(path, dir string) bool {
	parent := path[:max(strings.LastIndex(path, "/"), 0)]
	return parent == dir || strings.HasSuffix(parent, "/"+dir)
}
