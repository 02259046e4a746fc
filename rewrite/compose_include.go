package rewrite

import (
	"errors"
	"fmt"
	"io/fs"
	"path"

	"gopkg.in/yaml.v3"

	"github.com/imagelock/imagelock/internal/bounded"
)

// maxComposeDepth bounds a chain of compose files that include or extend
// one another, and maxComposeReads how many files one compose file reads
// through them in all (a file that extends another for each of its
// services reads it again each time).
const (
	maxComposeDepth = 8
	maxComposeReads = 256
)

// composeReads is what one compose file and those it reads share: the
// reads left, and the files already included.
type composeReads struct {
	left     int
	included map[string]bool
}

// open returns a finder for the compose file p that the file c reads
// names at line: its references live in p, read with p's own .env as
// compose reads an included or extended file. Nil, with a warning, when
// p is outside the walk or the chain is too deep.
func (c *composeFinder) open(p string, line int, what string) (*composeFinder, error) {
	if c.depth >= maxComposeDepth {
		c.warns = append(c.warns, Warning{File: c.f.path, Line: line, Msg: what + " " + p + " is more than 8 files deep, not followed"})
		return nil, nil
	}
	if c.reads.left <= 0 {
		c.warns = append(c.warns, Warning{File: c.f.path, Line: line, Msg: fmt.Sprintf("%s %s is past the %d files one compose file may read, not followed", what, p, maxComposeReads)})
		return nil, nil
	}
	c.reads.left--
	if c.in.FS == nil || !fs.ValidPath(p) {
		c.warns = append(c.warns, Warning{File: c.f.path, Line: line, Msg: what + " " + p + " is outside the scanned tree, not scanned"})
		return nil, nil
	}
	src, err := bounded.ReadFile(c.in.FS, p, bounded.Source)
	if errors.Is(err, fs.ErrNotExist) {
		c.warns = append(c.warns, Warning{File: c.f.path, Line: line, Msg: what + " " + p + " is not in the tree: its images are not locked"})
		return nil, nil
	}
	if err != nil {
		return nil, &Error{File: c.f.path, Line: line, Err: fmt.Errorf("reading %s: %w", what, err)}
	}
	in := Input{FS: c.in.FS, Path: p, Src: src, Env: c.in.Env}
	f, warns, err := parseYAML(in)
	c.warns = append(c.warns, warns...)
	if f == nil || err != nil {
		return nil, err
	}
	env, err := composeEnv(in)
	if err != nil {
		return nil, err
	}
	o := &composeFinder{in: in, f: f, env: env, depth: c.depth + 1, reads: c.reads}
	o.outputs()
	return o, nil
}

// adopt takes the references and warnings o found.
func (c *composeFinder) adopt(o *composeFinder) {
	c.refs = append(c.refs, o.refs...)
	c.warns = append(c.warns, o.warns...)
}

// include reads the files of a top-level include: list, each a path or
// a mapping whose path is a path or a list of them, relative to the
// including file: their services are part of the project.
func (c *composeFinder) include(n *yaml.Node) error {
	if n.Kind != yaml.SequenceNode {
		return c.f.errNotMapping(n, "include")
	}
	var paths []*yaml.Node
	for _, item := range n.Content {
		it := deref(item)
		switch {
		case it == nil:
		case it.Kind == yaml.ScalarNode:
			paths = append(paths, it)
		case it.Kind == yaml.MappingNode:
			p := deref(c.f.value(it, "path"))
			if p != nil && p.Kind == yaml.SequenceNode {
				for _, q := range p.Content {
					paths = append(paths, deref(q))
				}
			} else if p != nil {
				paths = append(paths, p)
			}
		}
	}
	for _, p := range paths {
		s, ok := stringValue(p)
		if !ok || s == "" {
			continue
		}
		s, err := c.interpolate(p, s)
		if err != nil {
			return err
		}
		target := path.Join(path.Dir(c.in.Path), s)
		// A file included twice (by itself, or through two others)
		// adds its services once.
		if c.reads.included == nil {
			c.reads.included = map[string]bool{c.in.Path: true}
		}
		if c.reads.included[target] {
			continue
		}
		c.reads.included[target] = true
		o, err := c.open(target, p.Line, "included file")
		if err != nil || o == nil {
			return err
		}
		if err := o.services(); err != nil {
			return err
		}
		c.adopt(o)
	}
	return nil
}

// services adds the references of every service of every document, and
// of the files the documents include.
func (c *composeFinder) services() error {
	for _, doc := range c.f.docs {
		r := root(doc)
		if r == nil {
			continue
		}
		if r.Kind != yaml.MappingNode {
			return c.f.errNotMapping(r, "the compose file")
		}
		if inc := c.f.value(r, "include"); !isNull(inc) {
			if err := c.include(inc); err != nil {
				return err
			}
		}
		services := c.f.value(r, "services")
		if isNull(services) {
			continue
		}
		if services.Kind != yaml.MappingNode {
			return c.f.errNotMapping(services, "services")
		}
		for _, svc := range c.f.pairs(services) {
			if err := c.service(svc); err != nil {
				return err
			}
		}
	}
	return nil
}

// extends follows a service's extends: {file, service} when the service
// sets neither image nor build: it runs what the named service of the
// other file runs, whose references live in that file. extends within
// the file needs nothing: that service is read in its turn.
func (c *composeFinder) extends(n *yaml.Node) error {
	if n.Kind != yaml.MappingNode {
		return nil
	}
	file, ok := stringValue(c.f.value(n, "file"))
	name, ok2 := stringValue(c.f.value(n, "service"))
	if !ok || !ok2 || file == "" {
		return nil
	}
	file, err := c.interpolate(n, file)
	if err != nil {
		return err
	}
	o, err := c.open(path.Join(path.Dir(c.in.Path), file), n.Line, "extended file")
	if err != nil || o == nil {
		return err
	}
	for _, doc := range o.f.docs {
		for _, svc := range o.f.pairs(o.f.value(root(doc), "services")) {
			if svc.Key.Value == name {
				if err := o.service(svc); err != nil {
					return err
				}
			}
		}
	}
	c.adopt(o)
	return nil
}
