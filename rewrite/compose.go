package rewrite

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/compose-spec/compose-go/v2/dotenv"
	"github.com/compose-spec/compose-go/v2/template"
	"gopkg.in/yaml.v3"

	"github.com/imagelock/imagelock/internal/bounded"
	"github.com/imagelock/imagelock/internal/fileerr"
)

// FindCompose returns the images of a compose file: each service's image,
// interpolated as compose does from the environment and the .env beside
// the file, or, for a service with build:, the images of its Dockerfile
// (with build.args), since its image: names the build's output. Anchors
// and merge keys are followed. An image taken from a ${VAR:-default}
// default is pinned inside the default; one taken from a variable that is
// set has the External style; one that needs a variable nobody set is a
// warning; a required variable that is unset (${VAR:?err}) is an error.
// A service whose image another service builds in the same file runs the
// build's output, which is not a reference either.
func FindCompose(in Input) ([]Ref, []Warning, error) {
	f, warns, err := parseYAML(in)
	if f == nil {
		return nil, warns, err
	}
	env, err := composeEnv(in)
	if err != nil {
		return nil, nil, err
	}
	c := &composeFinder{in: in, f: f, env: env, reads: &composeReads{left: maxComposeReads}}
	c.outputs()
	if err := c.services(); err != nil {
		return nil, nil, err
	}
	if err := f.tooComplex(); err != nil {
		return nil, nil, err
	}
	return dedupe(c.refs), append(warns, c.warns...), nil
}

// composeEnv returns the variables compose interpolates with: the
// environment, then the .env file beside the compose file.
func composeEnv(in Input) (template.Mapping, error) {
	lookup := in.Env
	if lookup == nil {
		lookup = func(string) (string, bool) { return "", false }
	}
	dotEnv := map[string]string{}
	if in.FS != nil {
		p := path.Join(path.Dir(in.Path), ".env")
		data, err := bounded.ReadFile(in.FS, p, bounded.Small)
		switch {
		case err == nil:
			dotEnv, err = dotenv.UnmarshalBytesWithLookup(data, lookup)
			if err != nil {
				return nil, &Error{File: p, Err: fmt.Errorf("parsing .env: %w", err)}
			}
		case !errors.Is(err, fs.ErrNotExist):
			return nil, &Error{File: p, Err: fmt.Errorf("reading .env: %w", err)}
		}
	}
	return func(name string) (string, bool) {
		if v, ok := lookup(name); ok {
			return v, true
		}
		v, ok := dotEnv[name]
		return v, ok
	}, nil
}

type composeFinder struct {
	in    Input
	f     *yamlFile
	env   template.Mapping
	refs  []Ref
	warns []Warning
	// built holds the images the file's builds make (the image: of a
	// service with build:), as interpolated, with an implicit :latest.
	built map[string]bool
	// depth counts the include: and extends: files read to get here;
	// reads is shared with them.
	depth int
	reads *composeReads
}

// outputs records the images the file's builds make: a service that uses
// one runs what the build made here, which no registry has.
func (c *composeFinder) outputs() {
	c.built = map[string]bool{}
	for _, doc := range c.f.docs {
		services := c.f.value(root(doc), "services")
		for _, svc := range c.f.pairs(services) {
			if svc.Value == nil || isNull(c.f.value(svc.Value, "build")) {
				continue
			}
			img := c.f.value(svc.Value, "image")
			if s, ok := stringValue(img); ok {
				if image, err := c.interpolate(img, s); err == nil && image != "" {
					c.built[withTag(image)] = true
				}
			}
		}
	}
}

// runsBuild reports whether a service's image: n names what a build of
// the file makes.
func (c *composeFinder) runsBuild(n *yaml.Node) bool {
	image, err := c.interpolate(n, n.Value)
	return err == nil && c.built[withTag(image)]
}

// withTag returns image with the implicit tag written out.
func withTag(image string) string {
	if strings.Contains(image, "@") || hasTagBefore(image) {
		return image
	}
	return image + ":latest"
}

func (c *composeFinder) service(svc pair) error {
	if svc.Value == nil || svc.Value.Kind != yaml.MappingNode {
		return nil
	}
	if build := c.f.value(svc.Value, "build"); !isNull(build) {
		if err := c.contextImages(build); err != nil {
			return err
		}
		return c.build(svc.Key.Value, build)
	}
	img := c.f.value(svc.Value, "image")
	if isNull(img) {
		if ext := c.f.value(svc.Value, "extends"); !isNull(ext) {
			return c.extends(ext)
		}
		return nil
	}
	if img.Kind != yaml.ScalarNode {
		return &Error{File: c.f.path, Line: img.Line, Col: img.Column, Err: fmt.Errorf("image of service %s is not a string", svc.Key.Value)}
	}
	return c.image(img)
}

// interpolate expands compose variables in s, as compose does.
func (c *composeFinder) interpolate(n *yaml.Node, s string) (string, error) {
	v, err := template.SubstituteWithOptions(s, c.env, template.WithoutLogging)
	if err != nil {
		return "", &Error{File: c.f.path, Line: n.Line, Col: n.Column, Err: fmt.Errorf("interpolating %q: %w", s, err)}
	}
	return v, nil
}

// unset returns the variables s uses with no default that are not set.
// An empty default (${REGISTRY:-}) is a default.
func (c *composeFinder) unset(s string) []string {
	var names []string
	for name, v := range template.ExtractVariables(map[string]any{"v": s}, nil) {
		if v.DefaultValue == "" && v.PresenceValue == "" && !v.Required && !emptyDefault(s, name) {
			if _, ok := c.env(name); !ok {
				names = append(names, name)
			}
		}
	}
	sort.Strings(names)
	return names
}

// emptyDefault reports whether s reads name with an empty default:
// ${name:-} or ${name-}.
func emptyDefault(s, name string) bool {
	return strings.Contains(s, "${"+name+":-}") || strings.Contains(s, "${"+name+"-}")
}

// image adds the reference of a service's image: scalar n.
func (c *composeFinder) image(n *yaml.Node) error {
	if c.runsBuild(n) {
		return nil
	}
	r, unset, err := c.valueRef(n, 0)
	switch {
	case err != nil:
		return err
	case len(unset) > 0:
		c.warns = append(c.warns, Warning{File: c.f.path, Line: n.Line, Msg: fmt.Sprintf("image %s uses %s, which is not set; set it in the environment or .env, or give it a default (${%s:-image})", n.Value, strings.Join(unset, ", "), unset[0])})
	case r != nil:
		c.refs = append(c.refs, *r)
	}
	return nil
}

// valueRef returns the reference to the interpolated value of scalar n,
// after its first skip bytes: the scalar itself when it names no
// variable or ends with literal text, the default of the variable that
// ends it when that default is taken, and otherwise an External
// reference. It returns no reference for an empty value, and the unset
// variables the value needs when there are any.
func (c *composeFinder) valueRef(n *yaml.Node, skip int) (*Ref, []string, error) {
	raw := n.Value[skip:]
	if raw == "" {
		return nil, nil, nil
	}
	sp, err := c.f.scalar(n)
	if err != nil {
		return nil, nil, err
	}
	span := Span{sp.Value.Start + skip, sp.Value.End}
	if !strings.Contains(raw, "$") {
		r := c.f.refAt(Compose, span, raw, Inline)
		return &r, nil, nil
	}
	value, err := c.interpolate(n, raw)
	if err != nil {
		return nil, nil, err
	}
	if names := c.unset(raw); len(names) > 0 {
		return nil, names, nil
	}
	if value == "" {
		return nil, nil, nil
	}
	start, name, op, def := lastExpr(raw)
	switch {
	case start < 0:
		r := c.f.refAt(Compose, span, value, Inline)
		return &r, nil, nil
	case op != "" && def == "" && c.defaults(name, op) && !strings.Contains(raw[:start], "$"):
		// An empty default adds nothing: the image is the text before
		// it, where pin writes the digest.
		r := c.f.refAt(Compose, Span{span.Start, span.Start + start}, value, Inline)
		return &r, nil, nil
	case op != "" && !strings.ContainsAny(def, "${}") && c.defaults(name, op):
		style := Inline
		if hasTagBefore(strings.TrimSuffix(value, def)) {
			style = Tag
		}
		d := span.End - 1 - len(def)
		r := c.f.refAt(Compose, Span{d, d + len(def)}, value, style)
		r.Var = name
		return &r, nil, nil
	}
	r := c.f.refAt(Compose, span, value, External)
	r.Var = name
	return &r, nil, nil
}

// defaults reports whether ${name<op>default} takes its default.
func (c *composeFinder) defaults(name, op string) bool {
	v, ok := c.env(name)
	return !ok || (op == ":-" && v == "")
}

// lastExpr finds the variable expression that ends s: its start (where
// "$" is), the variable's name, and for ${NAME:-default} and
// ${NAME-default} the operator and default. start is -1 when s ends with
// literal text, where pin can append a digest.
func lastExpr(s string) (start int, name, op, def string) {
	start = -1
	end := 0
	for i := 0; i < len(s); i++ {
		if s[i] != '$' || i+1 >= len(s) {
			continue
		}
		switch {
		case s[i+1] == '$':
			i++
		case s[i+1] == '{':
			j := closingBrace(s, i+1)
			if j < 0 {
				return -1, "", "", ""
			}
			start, end = i, j+1
			i = j
		case isVarStart(s[i+1]):
			j := i + 1
			for j < len(s) && isVarByte(s[j]) {
				j++
			}
			start, end = i, j
			i = j - 1
		}
	}
	if start < 0 || end != len(s) {
		return -1, "", "", ""
	}
	if s[start+1] != '{' {
		return start, s[start+1:], "", ""
	}
	inner := s[start+2 : len(s)-1]
	n := 0
	for n < len(inner) && isVarByte(inner[n]) {
		n++
	}
	name, rest := inner[:n], inner[n:]
	for _, o := range []string{":-", "-"} {
		if d, ok := strings.CutPrefix(rest, o); ok {
			return start, name, o, d
		}
	}
	return start, name, "", ""
}

// closingBrace returns the index of the "}" that closes the "{" at open,
// counting nested braces as compose does, or -1.
func closingBrace(s string, open int) int {
	depth := 0
	for i := open; i < len(s); i++ {
		switch s[i] {
		case '{':
			depth++
		case '}':
			depth--
			if depth == 0 {
				return i
			}
		}
	}
	return -1
}

func isVarStart(c byte) bool {
	return c == '_' || ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z')
}

func isVarByte(c byte) bool { return isVarStart(c) || ('0' <= c && c <= '9') }

// build adds the images of the Dockerfile a service builds: build: is a
// context path, or a mapping with context, dockerfile and args.
func (c *composeFinder) build(service string, b *yaml.Node) error {
	context, dockerfile := ".", "Dockerfile"
	args := map[string]BuildArg{}
	switch b.Kind {
	case yaml.ScalarNode:
		context = b.Value
	case yaml.MappingNode:
		if s, ok := stringValue(c.f.value(b, "context")); ok {
			context = s
		}
		if s, ok := stringValue(c.f.value(b, "dockerfile")); ok {
			dockerfile = s
		}
		if _, ok := stringValue(c.f.value(b, "dockerfile_inline")); ok {
			c.warns = append(c.warns, Warning{File: c.f.path, Line: b.Line, Msg: "service " + service + " builds from dockerfile_inline, which imagelock does not read"})
			return nil
		}
		if err := c.buildArgs(c.f.value(b, "args"), args); err != nil {
			return err
		}
	default:
		return c.f.errNotMapping(b, "build of service "+service)
	}
	context, err := c.interpolate(b, context)
	if err != nil {
		return err
	}
	if dockerfile, err = c.interpolate(b, dockerfile); err != nil {
		return err
	}
	if strings.Contains(context, "://") || strings.HasPrefix(context, "git@") {
		c.warns = append(c.warns, Warning{File: c.f.path, Line: b.Line, Msg: "service " + service + " builds from remote context " + context + ", not scanned"})
		return nil
	}
	p := path.Join(path.Dir(c.in.Path), context, dockerfile)
	if path.IsAbs(dockerfile) || path.IsAbs(context) || !fs.ValidPath(p) || c.in.FS == nil {
		c.warns = append(c.warns, Warning{File: c.f.path, Line: b.Line, Msg: "service " + service + " builds " + p + ", outside the scanned tree"})
		return nil
	}
	src, err := bounded.ReadFile(c.in.FS, p, bounded.Source)
	if errors.Is(err, fs.ErrNotExist) {
		// A build of a file the tree does not have (generated, or in
		// another checkout) is one odd line, not the end of the run.
		c.warns = append(c.warns, Warning{File: c.f.path, Line: b.Line, Msg: "service " + service + " builds " + p + ", which is not in the tree: its images are not locked"})
		return nil
	}
	if err != nil {
		return &Error{File: c.f.path, Line: b.Line, Col: b.Column, Err: fmt.Errorf("reading the Dockerfile of service %s: %w", service, err)}
	}
	by := fileerr.At(c.f.path, b.Line, 0)
	refs, warns, err := FindDockerfileArgs(Input{FS: c.in.FS, Path: p, Src: src, Env: c.in.Env}, Build{Args: args, By: by})
	if err != nil {
		return err
	}
	c.refs = append(c.refs, markContexts(refs, c.contextNames(b))...)
	c.warns = append(c.warns, warns...)
	return nil
}

// buildArgs reads build.args, a mapping or a list of NAME=value, with
// where each value is written. An arg without a value takes it from the
// environment, and is left out when the environment has none.
func (c *composeFinder) buildArgs(n *yaml.Node, args map[string]BuildArg) error {
	set := func(at *yaml.Node, name string, skip int) error {
		if at == nil {
			if e, ok := c.env(name); ok {
				args[name] = BuildArg{Value: e}
			}
			return nil
		}
		v, err := c.interpolate(at, at.Value[skip:])
		if err != nil {
			return err
		}
		a := BuildArg{Value: v}
		// A value imagelock cannot locate (a block scalar) is pinned
		// by hand, as one from the environment is.
		if site, _, err := c.valueRef(at, skip); err == nil && site != nil && site.Style != External {
			a.Site = site
		}
		args[name] = a
		return nil
	}
	switch {
	case n == nil:
	case n.Kind == yaml.MappingNode:
		for _, p := range c.f.pairs(n) {
			var at *yaml.Node
			if _, ok := stringValue(p.Value); ok {
				at = deref(p.Value)
			}
			if err := set(at, p.Key.Value, 0); err != nil {
				return err
			}
		}
	case n.Kind == yaml.SequenceNode:
		for _, item := range n.Content {
			it := deref(item)
			s, ok := stringValue(it)
			if !ok {
				continue
			}
			name, _, hasVal := strings.Cut(s, "=")
			if !hasVal {
				it = nil
			}
			if err := set(it, name, len(name)+1); err != nil {
				return err
			}
		}
	}
	return nil
}
