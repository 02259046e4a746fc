package rewrite

import (
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	"github.com/imagelock/imagelock/internal/bounded"
)

// FindBake returns the images of a docker buildx bake file in HCL, read
// with hclsyntax, whose expressions keep their byte ranges: each
// target's contexts given as docker-image://IMAGE, and the images of the
// Dockerfile it builds (dockerfile in context, with args), as
// FindDockerfileArgs reads them. Variables are taken from the
// environment, else their default; an image that a literal string or a
// variable's literal default ends is pinned there, others at their FROM.
// A target inherits dockerfile, context, args and contexts from the
// targets it names in inherits; a target another inherits is taken for a
// template and not built on its own.
func FindBake(in Input) ([]Ref, []Warning, error) {
	f, diags := hclsyntax.ParseConfig(in.Src, in.Path, hcl.InitialPos)
	if diags.HasErrors() {
		line := 0
		if d := diags[0]; d.Subject != nil {
			line = d.Subject.Start.Line
		}
		return nil, nil, &Error{File: in.Path, Line: line, Err: fmt.Errorf("parsing the bake file: %s", diags[0].Summary)}
	}
	body, ok := f.Body.(*hclsyntax.Body)
	if !ok {
		return nil, nil, nil
	}
	b := &bake{in: in, t: newTextFile(in), vars: map[string]bakeVar{}, targets: map[string]*hclsyntax.Body{}}
	var order []string
	for _, blk := range body.Blocks {
		if len(blk.Labels) != 1 {
			continue
		}
		switch blk.Type {
		case "variable":
			b.variable(blk.Labels[0], blk.Body)
		case "target":
			if _, dup := b.targets[blk.Labels[0]]; !dup {
				order = append(order, blk.Labels[0])
			}
			b.targets[blk.Labels[0]] = blk.Body
		}
	}
	b.ctx = &hcl.EvalContext{Variables: map[string]cty.Value{}}
	for name, v := range b.vars {
		b.ctx.Variables[name] = cty.StringVal(v.value)
	}
	inherited := map[string]bool{}
	for _, name := range order {
		for _, p := range b.inherits(b.targets[name]) {
			inherited[p] = true
		}
	}
	for _, name := range order {
		if inherited[name] {
			continue
		}
		if err := b.target(name); err != nil {
			return nil, nil, err
		}
	}
	refs := dedupe(b.refs)
	// Targets' contexts are maps: put the references in file order,
	// this file's first.
	sort.SliceStable(refs, func(i, j int) bool {
		a, c := refs[i], refs[j]
		if a.File != c.File {
			return a.File == in.Path || c.File != in.Path && a.File < c.File
		}
		return a.Span.Start < c.Span.Start
	})
	return refs, b.warns, nil
}

type bake struct {
	in      Input
	t       *textFile
	ctx     *hcl.EvalContext
	vars    map[string]bakeVar
	targets map[string]*hclsyntax.Body
	refs    []Ref
	warns   []Warning
}

// bakeVar is a variable's value, and where it is written when a digest
// can be written there: a literal default the environment does not
// override.
type bakeVar struct {
	value string
	site  *Span
}

func (b *bake) variable(name string, body *hclsyntax.Body) {
	v := bakeVar{}
	if attr := body.Attributes["default"]; attr != nil {
		if sp, s, ok := b.literal(attr.Expr); ok {
			v.value, v.site = s, &sp
		} else if val, diags := attr.Expr.Value(nil); !diags.HasErrors() && val.Type() == cty.String && val.IsKnown() && !val.IsNull() {
			v.value = val.AsString()
		}
	}
	if b.in.Env != nil {
		if e, ok := b.in.Env(name); ok {
			v.value, v.site = e, nil
		}
	}
	b.vars[name] = v
}

// literal returns the span and text of a plain string literal written as
// it reads (no escapes, no interpolation).
func (b *bake) literal(e hclsyntax.Expression) (Span, string, bool) {
	t, ok := e.(*hclsyntax.TemplateExpr)
	if !ok || len(t.Parts) != 1 {
		return Span{}, "", false
	}
	lit, ok := t.Parts[0].(*hclsyntax.LiteralValueExpr)
	if !ok || lit.Val.Type() != cty.String || lit.Val.IsNull() {
		return Span{}, "", false
	}
	sp := Span{lit.SrcRange.Start.Byte, lit.SrcRange.End.Byte}
	s := lit.Val.AsString()
	// An empty literal's range need not sit inside its quotes.
	if s == "" || sp.Start < 0 || sp.End > len(b.in.Src) || sp.Start > sp.End || string(b.in.Src[sp.Start:sp.End]) != s {
		return Span{}, "", false
	}
	return sp, s, true
}

// site returns the value of e and where a digest written ends it: in a
// literal, after skip bytes of it; or at the default of the variable
// that ends e. Site is nil when nowhere is, ok false when e has no
// string value.
func (b *bake) site(e hclsyntax.Expression, skip int) (value string, site *Ref, ok bool) {
	if sp, s, ok := b.literal(e); ok {
		if len(s) < skip {
			return s, nil, true
		}
		r := b.t.ref(Bake, Span{sp.Start + skip, sp.End}, s[skip:], Inline)
		return s, &r, true
	}
	val, diags := e.Value(b.ctx)
	if diags.HasErrors() || !val.IsKnown() || val.IsNull() || val.Type() != cty.String {
		return "", nil, false
	}
	value = val.AsString()
	last := e
	switch x := e.(type) {
	case *hclsyntax.TemplateWrapExpr:
		last = x.Wrapped
	case *hclsyntax.TemplateExpr:
		if len(x.Parts) == 0 {
			return value, nil, true
		}
		last = x.Parts[len(x.Parts)-1]
	}
	// "${REGISTRY}/tools:v2": a digest goes after the literal text
	// that ends the template.
	if lit, ok := last.(*hclsyntax.LiteralValueExpr); ok && lit != e && lit.Val.Type() == cty.String && !lit.Val.IsNull() {
		sp := Span{lit.SrcRange.Start.Byte, lit.SrcRange.End.Byte}
		if s := lit.Val.AsString(); sp.End <= len(b.in.Src) && string(b.in.Src[sp.Start:sp.End]) == s && s != "" && len(value) >= skip {
			r := b.t.ref(Bake, sp, value[skip:], Inline)
			return value, &r, true
		}
	}
	if tr, ok := last.(*hclsyntax.ScopeTraversalExpr); ok && len(tr.Traversal) == 1 {
		name := tr.Traversal.RootName()
		if v, ok := b.vars[name]; ok && v.site != nil && strings.HasSuffix(value, v.value) && len(value)-len(v.value) >= skip {
			r := b.t.ref(Bake, *v.site, value[skip:], Inline)
			r.Var = name
			return value, &r, true
		}
	}
	return value, nil, true
}

// inherits returns the targets body inherits from, in order.
func (b *bake) inherits(body *hclsyntax.Body) []string {
	attr := body.Attributes["inherits"]
	if attr == nil {
		return nil
	}
	val, diags := attr.Expr.Value(b.ctx)
	if diags.HasErrors() || !val.IsKnown() || !(val.Type().IsTupleType() || val.Type().IsListType()) {
		return nil
	}
	var out []string
	for _, v := range val.AsValueSlice() {
		if v.Type() == cty.String && v.IsKnown() && !v.IsNull() {
			out = append(out, v.AsString())
		}
	}
	return out
}

// attr returns target name's attribute, its own or else inherited (the
// last parent that sets it wins, as bake merges them).
func (b *bake) attr(name, key string, seen map[string]bool) *hclsyntax.Attribute {
	body := b.targets[name]
	if body == nil || seen[name] {
		return nil
	}
	seen[name] = true
	if a := body.Attributes[key]; a != nil {
		return a
	}
	parents := b.inherits(body)
	for i := len(parents) - 1; i >= 0; i-- {
		if a := b.attr(parents[i], key, seen); a != nil {
			return a
		}
	}
	return nil
}

// items returns the items of target name's map attribute key, merged
// over its parents in order, its own last.
func (b *bake) items(name, key string, seen map[string]bool, out map[string]hclsyntax.ObjectConsItem) {
	body := b.targets[name]
	if body == nil || seen[name] {
		return
	}
	seen[name] = true
	for _, p := range b.inherits(body) {
		b.items(p, key, seen, out)
	}
	a := body.Attributes[key]
	if a == nil {
		return
	}
	obj, ok := a.Expr.(*hclsyntax.ObjectConsExpr)
	if !ok {
		return
	}
	for _, item := range obj.Items {
		k := hcl.ExprAsKeyword(item.KeyExpr)
		if k == "" {
			if v, diags := item.KeyExpr.Value(b.ctx); !diags.HasErrors() && v.Type() == cty.String && v.IsKnown() && !v.IsNull() {
				k = v.AsString()
			}
		}
		if k != "" {
			out[k] = item
		}
	}
}

func (b *bake) str(a *hclsyntax.Attribute, def string) string {
	if a == nil {
		return def
	}
	if v, diags := a.Expr.Value(b.ctx); !diags.HasErrors() && v.Type() == cty.String && v.IsKnown() && !v.IsNull() {
		return v.AsString()
	}
	return def
}

// target adds the images target name pulls: its docker-image://
// contexts, and its Dockerfile's.
func (b *bake) target(name string) error {
	contexts := map[string]hclsyntax.ObjectConsItem{}
	b.items(name, "contexts", map[string]bool{}, contexts)
	names := map[string]bool{}
	for k, item := range contexts {
		names[k] = true
		value, site, ok := b.site(item.ValueExpr, len(dockerImage))
		switch {
		case !ok || !strings.HasPrefix(value, dockerImage) || value == dockerImage:
		case site != nil:
			b.refs = append(b.refs, *site)
		default:
			r := b.t.ref(Bake, bakeRange(item.ValueExpr), value[len(dockerImage):], External)
			b.refs = append(b.refs, r)
		}
	}
	blk := b.targets[name]
	line := b.t.line(blk.SrcRange.Start.Byte)
	if a := b.attr(name, "dockerfile-inline", map[string]bool{}); a != nil {
		b.warns = append(b.warns, Warning{File: b.in.Path, Line: line, Msg: "target " + name + " builds from dockerfile-inline, which imagelock does not read"})
		return nil
	}
	context := b.str(b.attr(name, "context", map[string]bool{}), ".")
	dockerfile := b.str(b.attr(name, "dockerfile", map[string]bool{}), "Dockerfile")
	if strings.Contains(context, "://") || strings.HasPrefix(context, "git@") {
		b.warns = append(b.warns, Warning{File: b.in.Path, Line: line, Msg: "target " + name + " builds from remote context " + context + ", not scanned"})
		return nil
	}
	p := path.Join(path.Dir(b.in.Path), context, dockerfile)
	if path.IsAbs(dockerfile) || path.IsAbs(context) || !fs.ValidPath(p) || b.in.FS == nil {
		b.warns = append(b.warns, Warning{File: b.in.Path, Line: line, Msg: "target " + name + " builds " + p + ", outside the scanned tree"})
		return nil
	}
	argItems := map[string]hclsyntax.ObjectConsItem{}
	b.items(name, "args", map[string]bool{}, argItems)
	args := map[string]BuildArg{}
	for k, item := range argItems {
		if value, site, ok := b.site(item.ValueExpr, 0); ok {
			args[k] = BuildArg{Value: value, Site: site}
		}
	}
	src, err := bounded.ReadFile(b.in.FS, p, bounded.Source)
	if err != nil {
		return &Error{File: b.in.Path, Line: line, Err: fmt.Errorf("reading the Dockerfile of target %s: %w", name, err)}
	}
	build := Build{Args: args, By: fmt.Sprintf("%s:%d", b.in.Path, line)}
	refs, warns, err := FindDockerfileArgs(Input{FS: b.in.FS, Path: p, Src: src, Env: b.in.Env}, build)
	if err != nil {
		return err
	}
	b.refs = append(b.refs, markContexts(refs, names)...)
	b.warns = append(b.warns, warns...)
	return nil
}

// bakeRange is the span of an expression.
func bakeRange(e hclsyntax.Expression) Span {
	r := e.Range()
	return Span{r.Start.Byte, r.End.Byte}
}
