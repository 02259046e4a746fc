package rewrite

import (
	"bytes"
	"encoding/json"
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"
	"gopkg.in/yaml.v3"

	"github.com/imagelock/imagelock/internal/bounded"
)

// Named build contexts: a build may be given other directories or images
// under a name (compose build.additional_contexts, bake contexts), and
// FROM, COPY --from and RUN --mount from= that use the name read the
// context, not Docker Hub's library/<name>.

// contextNames returns the names of the additional_contexts of compose
// build: b, a mapping of name to source or a list of name=source.
func (c *composeFinder) contextNames(b *yaml.Node) map[string]bool {
	names := map[string]bool{}
	n := c.f.value(b, "additional_contexts")
	switch {
	case n == nil:
	case n.Kind == yaml.MappingNode:
		for _, p := range c.f.pairs(n) {
			names[p.Key.Value] = true
		}
	case n.Kind == yaml.SequenceNode:
		for _, item := range n.Content {
			if s, ok := stringValue(deref(item)); ok {
				name, _, _ := strings.Cut(s, "=")
				names[name] = true
			}
		}
	}
	return names
}

// dockerImage is the scheme of a named context that is an image.
const dockerImage = "docker-image://"

// contextImages adds the images of compose build: b's
// additional_contexts given as docker-image://IMAGE: the build pulls them.
func (c *composeFinder) contextImages(b *yaml.Node) error {
	n := c.f.value(b, "additional_contexts")
	var values []*yaml.Node
	var skips []int
	switch {
	case n == nil:
	case n.Kind == yaml.MappingNode:
		for _, p := range c.f.pairs(n) {
			if v := deref(p.Value); v != nil && strings.HasPrefix(v.Value, dockerImage) {
				values, skips = append(values, v), append(skips, len(dockerImage))
			}
		}
	case n.Kind == yaml.SequenceNode:
		for _, item := range n.Content {
			it := deref(item)
			s, ok := stringValue(it)
			name, src, _ := strings.Cut(s, "=")
			if ok && strings.HasPrefix(src, dockerImage) {
				values, skips = append(values, it), append(skips, len(name)+1+len(dockerImage))
			}
		}
	}
	for i, v := range values {
		if v.Kind != yaml.ScalarNode {
			continue
		}
		r, unset, err := c.valueRef(v, skips[i])
		switch {
		case err != nil:
			return err
		case len(unset) > 0:
			c.warns = append(c.warns, Warning{File: c.f.path, Line: v.Line, Msg: fmt.Sprintf("context %s uses %s, which is not set", v.Value, strings.Join(unset, ", "))})
		case r != nil:
			c.refs = append(c.refs, *r)
		}
	}
	return nil
}

// markContexts marks the references that name one of the contexts.
func markContexts(refs []Ref, contexts map[string]bool) []Ref {
	for i, r := range refs {
		if contexts[r.Image] || contexts[withTag(r.Image)] {
			refs[i].Context = true
		}
	}
	return refs
}

// bareName matches a name that may be a named context as well as an
// image of Docker Hub's library: one lower-case word, no tag, no
// registry, no path.
var bareName = regexp.MustCompile(`^[a-z0-9]+(?:[._-][a-z0-9]+)*$`)

// bakeFiles are the bake definitions buildx reads by default, beside
// or above which a Dockerfile is taken to be built by bake.
var bakeFiles = []string{"docker-bake.json", "docker-bake.hcl", "docker-bake.override.json", "docker-bake.override.hcl"}

// isContext reports whether value, read where an image may be, is a bare
// name that a bake file gives as a named context (contexts = { name =
// "..." }): a bake file beside the Dockerfile, or one in a directory
// above it that names the Dockerfile by its path from there
// (dockerfile = "app/Dockerfile", written out, in a matrix or not). Such
// names are rare enough to read the bake files for each.
func (d *dockerfile) isContext(value string) bool {
	if !bareName.MatchString(value) || d.in.FS == nil {
		return false
	}
	for dir := path.Dir(d.in.Path); ; dir = path.Dir(dir) {
		for _, name := range bakeFiles {
			data, err := bounded.ReadFile(d.in.FS, path.Join(dir, name), bounded.Small)
			if err != nil {
				continue
			}
			beside := dir == path.Dir(d.in.Path)
			rel := strings.TrimPrefix(d.in.Path, dir+"/")
			if (beside || bytes.Contains(data, []byte(`"`+rel+`"`))) && slices.Contains(bakeContexts(name, data), value) {
				return true
			}
		}
		if dir == "." || dir == "/" {
			return false
		}
	}
}

// bakeContexts returns the context names of every target of a bake
// file, JSON or HCL; an unreadable definition names none.
func bakeContexts(name string, data []byte) []string {
	var out []string
	if strings.HasSuffix(name, ".json") {
		var def struct {
			Target map[string]struct {
				Contexts map[string]string `json:"contexts"`
			} `json:"target"`
		}
		if json.Unmarshal(data, &def) != nil {
			return nil
		}
		for _, t := range def.Target {
			for c := range t.Contexts {
				out = append(out, c)
			}
		}
		return out
	}
	f, diags := hclsyntax.ParseConfig(data, name, hcl.InitialPos)
	if diags.HasErrors() {
		return nil
	}
	body, ok := f.Body.(*hclsyntax.Body)
	if !ok {
		return nil
	}
	for _, b := range body.Blocks {
		attr := b.Body.Attributes["contexts"]
		if b.Type != "target" || attr == nil {
			continue
		}
		obj, ok := attr.Expr.(*hclsyntax.ObjectConsExpr)
		if !ok {
			continue
		}
		for _, item := range obj.Items {
			if k := hcl.ExprAsKeyword(item.KeyExpr); k != "" {
				out = append(out, k)
			} else if v, diags := item.KeyExpr.Value(nil); !diags.HasErrors() && v.Type() == cty.String && v.IsKnown() {
				out = append(out, v.AsString())
			}
		}
	}
	return out
}
