package rewrite

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/imagelock/imagelock/internal/bounded"
)

// gitlabKeywords are the top-level keys of .gitlab-ci.yml that are not
// jobs; image, services and default are read on their own.
var gitlabKeywords = map[string]bool{
	"default": true, "include": true, "stages": true, "variables": true,
	"workflow": true, "spec": true, "image": true, "services": true,
	"cache": true, "before_script": true, "after_script": true,
}

// maxGitLabIncludes is how many files one pipeline may include, as
// GitLab limits it.
const maxGitLabIncludes = 150

// gitlabVarRef matches a CI variable in an image: $X or ${X}.
var gitlabVarRef = regexp.MustCompile(varRef)

// FindGitLabCI returns the images of a GitLab CI file and of the local
// files it includes (include: local:, or a path as a bare string), with
// their own includes: image and services (each a string or a mapping
// with name:) at the top level, in default:, and in every job, hidden
// template jobs that extends: names included. A reference in an included
// file names that file. Scripts are commands, not images.
//
// An image that uses a variable with a literal value in a top-level
// variables: is expanded. Where the variable ends the image and is read
// nowhere else, the reference is at the variable's value, where pin
// writes the digest; otherwise it is the image's own text, after which
// pin writes it. An image that uses any other variable is skipped with a
// warning.
func FindGitLabCI(in Input) ([]Ref, []Warning, error) {
	f, warns, err := parseYAML(in)
	if f == nil {
		return nil, warns, err
	}
	g := &gitlabFinder{in: in, warns: warns, read: map[string]bool{in.Path: true}, seen: map[*yaml.Node]bool{}}
	if err := g.load(f); err != nil {
		return nil, nil, err
	}
	g.variables()
	for _, gf := range g.files {
		g.f = gf.f
		for _, r := range gf.roots {
			if err := g.section(r); err != nil {
				return nil, nil, err
			}
			for _, p := range gf.f.pairs(r) {
				if p.Key.Value != "default" && gitlabKeywords[p.Key.Value] {
					continue
				}
				if err := g.section(p.Value); err != nil {
					return nil, nil, err
				}
			}
		}
	}
	if err := g.expanded(); err != nil {
		return nil, nil, err
	}
	for _, gf := range g.files {
		if err := gf.f.tooComplex(); err != nil {
			return nil, nil, err
		}
	}
	refs := dedupe(g.refs)
	inFileOrder(refs, in.Path)
	return refs, g.warns, nil
}

type gitlabFinder struct {
	in Input
	// files are the file read and the files it includes, in the order
	// they were read.
	files []gitlabFile
	read  map[string]bool
	// f is the file whose jobs are being read.
	f     *yamlFile
	refs  []Ref
	warns []Warning
	// seen holds the image scalars read, each once however many
	// aliases and merge keys reach it.
	seen map[*yaml.Node]bool
	// vars are the variables with one literal value, defined once at the
	// top level of one of the files and in no job.
	vars map[string]gitlabVar
	// uses are the images that read a variable in vars.
	uses []gitlabUse
}

type gitlabFile struct {
	f     *yamlFile
	roots []*yaml.Node
}

// gitlabVar is a variable's literal value and where it is written.
type gitlabVar struct {
	f     *yamlFile
	value *yaml.Node
}

// gitlabUse is an image that reads variables: its scalar, in file f, and
// its text with the variables expanded.
type gitlabUse struct {
	f     *yamlFile
	n     *yaml.Node
	image string
}

// load adds a file's documents, then the files they include.
func (g *gitlabFinder) load(f *yamlFile) error {
	gf := gitlabFile{f: f}
	for _, doc := range f.docs {
		r := root(doc)
		if r == nil {
			continue
		}
		if r.Kind != yaml.MappingNode {
			return f.errNotMapping(r, "the pipeline")
		}
		gf.roots = append(gf.roots, r)
	}
	g.files = append(g.files, gf)
	for _, r := range gf.roots {
		inc := f.value(r, "include")
		entries := []*yaml.Node{inc}
		if inc != nil && inc.Kind == yaml.SequenceNode {
			entries = inc.Content
		}
		for _, e := range entries {
			e = deref(e)
			if e != nil && e.Kind == yaml.MappingNode {
				e = f.value(e, "local")
			} else if s, ok := stringValue(e); ok && strings.Contains(s, "://") {
				continue // include: https://..., a remote file
			}
			if s, ok := stringValue(e); ok && s != "" {
				if err := g.include(f, e, s); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// include reads the local file (or the files a glob matches) that scalar
// n in f names, relative to the root of the walk, which is the
// repository's.
func (g *gitlabFinder) include(f *yamlFile, n *yaml.Node, name string) error {
	warn := func(msg string) {
		g.warns = append(g.warns, Warning{File: f.path, Line: n.Line, Msg: "include " + name + " " + msg})
	}
	p := path.Clean(strings.TrimPrefix(name, "/"))
	switch {
	case strings.Contains(name, "$"):
		warn("uses a CI variable, not read")
		return nil
	case strings.Contains(p, "**"):
		warn("matches files at any depth, which imagelock does not follow; not read")
		return nil
	case g.in.FS == nil || !fs.ValidPath(p):
		warn("is outside the scanned tree, not read")
		return nil
	}
	paths := []string{p}
	if strings.ContainsAny(p, "*?[") {
		var err error
		if paths, err = fs.Glob(g.in.FS, p); err != nil {
			warn("is not a valid pattern, not read")
			return nil
		}
	}
	for _, p := range paths {
		if g.read[p] {
			continue
		}
		if len(g.read) > maxGitLabIncludes {
			warn(fmt.Sprintf("is past the %d files a pipeline may include, not read", maxGitLabIncludes))
			return nil
		}
		g.read[p] = true
		src, err := bounded.ReadFile(g.in.FS, p, bounded.Source)
		if errors.Is(err, fs.ErrNotExist) {
			warn("is not in the scanned tree, not read")
			continue
		}
		if err != nil {
			return &Error{File: f.path, Line: n.Line, Col: n.Column, Err: fmt.Errorf("reading included %s: %w", p, err)}
		}
		inc, warns, err := parseYAML(Input{FS: g.in.FS, Path: p, Src: src})
		g.warns = append(g.warns, warns...)
		if err != nil {
			return err
		}
		if inc != nil {
			if err := g.load(inc); err != nil {
				return err
			}
		}
	}
	return nil
}

// variables finds the variables an image may be expanded with: those
// with a literal value (not empty; it may read other such variables) at
// the top level of exactly one file, once, and set by no job.
func (g *gitlabFinder) variables() {
	defs := map[string][]gitlabVar{}
	inJobs := map[string]bool{}
	for _, gf := range g.files {
		for _, r := range gf.roots {
			for _, p := range gf.f.pairs(gf.f.value(r, "variables")) {
				v := p.Value
				if v != nil && v.Kind == yaml.MappingNode {
					v = gf.f.value(v, "value")
				}
				defs[p.Key.Value] = append(defs[p.Key.Value], gitlabVar{f: gf.f, value: v})
			}
			for _, job := range gf.f.pairs(r) {
				if gitlabKeywords[job.Key.Value] {
					continue
				}
				for _, p := range gf.f.pairs(gf.f.value(job.Value, "variables")) {
					inJobs[p.Key.Value] = true
				}
			}
		}
	}
	g.vars = map[string]gitlabVar{}
	for name, ds := range defs {
		if s, ok := stringValue(ds[0].value); ok && s != "" && len(ds) == 1 && !inJobs[name] {
			g.vars[name] = ds[0]
		}
	}
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
	n = g.f.stringOr(n, "name")
	s, ok := stringValue(n)
	if !ok || s == "" || g.seen[n] {
		return nil
	}
	g.seen[n] = true
	if strings.Contains(s, "$") {
		image, unset := g.expand(s)
		switch {
		case unset != "":
			g.warns = append(g.warns, Warning{File: g.f.path, Line: n.Line, Msg: "image " + s + " uses CI variable " + unset + ", which has no one literal value in a top-level variables: (it is set at run time, by a job, or twice), skipped"})
		case strings.Contains(image, "$"):
			g.warns = append(g.warns, Warning{File: g.f.path, Line: n.Line, Msg: "image " + s + " uses a CI variable, skipped"})
		default:
			g.uses = append(g.uses, gitlabUse{f: g.f, n: n, image: image})
		}
		return nil
	}
	r, err := g.f.ref(GitLabCI, n, 0)
	if err != nil {
		return err
	}
	g.refs = append(g.refs, r)
	return nil
}

// maxVarDepth bounds how deep variables that read variables are expanded:
// further (or in a cycle) a variable counts as having no value.
const maxVarDepth = 8

// expand returns s with its variables replaced by their values, and
// theirs in turn, as GitLab expands a variable that reads another; and
// the first variable that has no literal value, if any. Each variable is
// expanded once per depth, and a value that grows past maxExpansion
// counts as no value: variables that each read the next several times
// would otherwise grow exponentially.
func (g *gitlabFinder) expand(s string) (image, unset string) {
	type at struct {
		name  string
		depth int
	}
	type value struct{ text, unset string }
	memo := map[at]value{}
	var exp func(s string, depth int) value
	exp = func(s string, depth int) value {
		var first string
		text := gitlabVarRef.ReplaceAllStringFunc(s, func(ref string) string {
			m := gitlabVarRef.FindStringSubmatch(ref)
			name := m[1] + m[2]
			if v, ok := g.vars[name]; ok && depth < maxVarDepth {
				x, done := memo[at{name, depth}]
				if !done {
					x = exp(v.value.Value, depth+1)
					memo[at{name, depth}] = x
				}
				if len(x.text) <= maxExpansion {
					if first == "" {
						first = x.unset
					}
					return x.text
				}
			}
			if first == "" {
				first = name
			}
			return ref
		})
		return value{text, first}
	}
	v := exp(s, 0)
	return v.text, v.unset
}

// expanded adds the references of the images that read variables. An
// image that a variable ends, where every file read mentions the
// variable only at the end of images that expand to that one image, is
// pinned at the variable's value; any other, after its own text.
func (g *gitlabFinder) expanded() error {
	tails := map[string]int{}
	images := map[*yaml.Node]map[string]bool{}
	for _, u := range g.uses {
		if v, ok := trailingVar(u.n.Value, 0); ok {
			tails[v]++
			val := g.vars[v].value
			if images[val] == nil {
				images[val] = map[string]bool{}
			}
			images[val][u.image] = true
		}
	}
	mentioned := map[string]int{}
	for v := range tails {
		mentioned[v] = g.mentions(v)
	}
	for _, u := range g.uses {
		// One value pins one image: not when it ends two (through one
		// variable or two that alias it), nor when it is an image of
		// its own.
		if v, ok := trailingVar(u.n.Value, 0); ok && tails[v] == mentioned[v] && len(images[g.vars[v].value]) == 1 && !g.seen[g.vars[v].value] {
			def := g.vars[v]
			if r, err := def.f.ref(GitLabCI, def.value, 0); err == nil {
				r.Image, r.Var, r.Style = u.image, v, Tag
				if wholeVar.MatchString(u.n.Value) {
					r.Style = Inline
				}
				g.refs = append(g.refs, r)
				continue
			}
		}
		r, err := u.f.ref(GitLabCI, u.n, 0)
		if err != nil {
			return err
		}
		r.Image = u.image
		g.refs = append(g.refs, r)
	}
	return nil
}

// mentions counts the places the files read mention variable name.
func (g *gitlabFinder) mentions(name string) int {
	n := 0
	for _, gf := range g.files {
		n += mentions(string(gf.f.src), name)
	}
	return n
}
