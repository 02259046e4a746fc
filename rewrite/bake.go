package rewrite

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	hcljson "github.com/hashicorp/hcl/v2/json"
	"github.com/zclconf/go-cty/cty"

	"github.com/imagelock/imagelock/internal/bounded"
	"github.com/imagelock/imagelock/internal/fileerr"
)

// bakeSchema is the part of a bake file that names images.
var bakeSchema = &hcl.BodySchema{Blocks: []hcl.BlockHeaderSchema{
	{Type: "variable", LabelNames: []string{"name"}},
	{Type: "target", LabelNames: []string{"name"}},
}}

// FindBake returns the images of a docker buildx bake file, HCL or JSON,
// read with hashicorp/hcl, whose expressions keep their byte ranges:
// each target's contexts given as docker-image://IMAGE, and the images
// of the Dockerfile it builds (dockerfile in context, with args), as
// FindDockerfileArgs reads them. Variables are taken from the
// environment, else their default. An image that a string's literal end,
// or a variable's literal default, ends is pinned there; others at their
// FROM. A target inherits dockerfile, context, args and contexts from
// the targets it names in inherits; a target another inherits is taken
// for a template and not built on its own.
func FindBake(in Input) ([]Ref, []Warning, error) {
	if w := unparsable(in); w != nil {
		return nil, []Warning{*w}, nil
	}
	var f *hcl.File
	var diags hcl.Diagnostics
	if strings.HasSuffix(strings.ToLower(in.Path), ".json") {
		f, diags = hcljson.Parse(in.Src, in.Path)
	} else {
		f, diags = hclsyntax.ParseConfig(in.Src, in.Path, hcl.InitialPos)
	}
	if diags.HasErrors() {
		return nil, nil, bakeError(in.Path, diags)
	}
	content, _, diags := f.Body.PartialContent(bakeSchema)
	if diags.HasErrors() {
		return nil, nil, bakeError(in.Path, diags)
	}
	b := &bake{in: in, t: newTextFile(in), vars: map[string]bakeVar{}, targets: map[string]*bakeTarget{}}
	var order []string
	for _, blk := range content.Blocks {
		attrs, _ := blk.Body.JustAttributes()
		switch blk.Type {
		case "variable":
			b.variable(blk.Labels[0], attrs)
		case "target":
			if _, dup := b.targets[blk.Labels[0]]; !dup {
				order = append(order, blk.Labels[0])
			}
			b.targets[blk.Labels[0]] = &bakeTarget{attrs: attrs, line: blk.DefRange.Start.Line}
		}
	}
	b.ctx = &hcl.EvalContext{Variables: map[string]cty.Value{}}
	for name, v := range b.vars {
		b.ctx.Variables[name] = cty.StringVal(v.value)
		if v.null {
			b.ctx.Variables[name] = cty.NullVal(cty.String)
		}
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
	inFileOrder(refs, in.Path)
	return refs, b.warns, nil
}

func bakeError(file string, diags hcl.Diagnostics) error {
	line := 0
	if d := diags[0]; d.Subject != nil {
		line = d.Subject.Start.Line
	}
	return &Error{File: file, Line: line, Err: fmt.Errorf("parsing the bake file: %s", diags[0].Summary)}
}

type bake struct {
	in      Input
	t       *textFile
	ctx     *hcl.EvalContext
	vars    map[string]bakeVar
	targets map[string]*bakeTarget
	refs    []Ref
	warns   []Warning
}

type bakeTarget struct {
	attrs hcl.Attributes
	line  int
}

// bakeVar is a variable's value, and where it is written when a digest
// can be written there: a literal default the environment does not
// override.
type bakeVar struct {
	value string
	site  *Span
	// null is a default = null the environment does not override: an
	// arg set to the variable is not passed, so the Dockerfile's own ARG
	// default applies.
	null bool
}

func (b *bake) variable(name string, attrs hcl.Attributes) {
	v := bakeVar{}
	if attr := attrs["default"]; attr != nil {
		d, diags := attr.Expr.Value(nil)
		v.null = !diags.HasErrors() && d.IsNull()
		v.value, _ = b.str(attr.Expr, nil)
		if sp, raw, ok := b.quoted(attr.Expr); ok && raw == v.value && plain(raw) {
			v.site = &sp
		}
	}
	if b.in.Env != nil {
		if e, ok := b.in.Env(name); ok {
			v.value, v.site, v.null = e, nil, false
		}
	}
	b.vars[name] = v
}

// quoted returns the span and text inside the quotes of a string
// expression, as written.
func (b *bake) quoted(e hcl.Expression) (Span, string, bool) {
	r := e.Range()
	if r.Start.Byte < 0 || r.End.Byte > len(b.in.Src) || r.End.Byte-r.Start.Byte < 2 {
		return Span{}, "", false
	}
	text := string(b.in.Src[r.Start.Byte:r.End.Byte])
	if text[0] != '"' || text[len(text)-1] != '"' {
		return Span{}, "", false
	}
	return Span{r.Start.Byte + 1, r.End.Byte - 1}, text[1 : len(text)-1], true
}

// plain reports whether string text reads as written: no escape, no
// interpolation or directive.
func plain(text string) bool {
	return text != "" && !strings.ContainsAny(text, `\$%"`)
}

// str evaluates e as a string.
func (b *bake) str(e hcl.Expression, ctx *hcl.EvalContext) (string, bool) {
	v, diags := e.Value(ctx)
	if diags.HasErrors() || !v.IsKnown() || v.IsNull() || v.Type() != cty.String {
		return "", false
	}
	return v.AsString(), true
}

// site returns the value of e and where a digest written ends it, after
// skip bytes of the value: the literal text that ends the string, or the
// default of the variable that ends it ("${GO}", or GO bare in HCL).
// Site is nil when nowhere is, ok false when e has no string value.
func (b *bake) site(e hcl.Expression, skip int) (value string, site *Ref, ok bool) {
	value, ok = b.str(e, b.ctx)
	if !ok || len(value) <= skip {
		return value, nil, ok
	}
	varSite := func(name string) *Ref {
		v, ok := b.vars[name]
		// A digest in the default reaches every use of the variable:
		// only where this is its one use (besides its declaration)
		// does it pin this image and change nothing else (a tag
		// "app:go${GO}" built from it, another image's "-alpine").
		if !ok || v.site == nil || !strings.HasSuffix(value, v.value) || len(value)-len(v.value) < skip ||
			words(string(b.in.Src), name) != 2 {
			return nil
		}
		r := b.t.ref(Bake, *v.site, value[skip:], Inline)
		r.Var = name
		return &r
	}
	sp, raw, quoted := b.quoted(e)
	switch {
	case !quoted:
		if tr, diags := hcl.AbsTraversalForExpr(e); !diags.HasErrors() && len(tr) == 1 {
			return value, varSite(tr.RootName()), true
		}
	case plain(raw) && raw == value:
		r := b.t.ref(Bake, Span{sp.Start + skip, sp.End}, value[skip:], Inline)
		return value, &r, true
	case strings.HasSuffix(raw, "}"):
		if i := strings.LastIndex(raw, "${"); i >= 0 && isVarName(raw[i+2:len(raw)-1]) {
			return value, varSite(raw[i+2 : len(raw)-1]), true
		}
	default:
		tail := raw[strings.LastIndex(raw, "}")+1:]
		if plain(tail) && strings.HasSuffix(value, tail) {
			r := b.t.ref(Bake, Span{sp.End - len(tail), sp.End}, value[skip:], Inline)
			return value, &r, true
		}
	}
	return value, nil, true
}

func isVarName(s string) bool {
	if s == "" || !isVarStart(s[0]) {
		return false
	}
	for i := range len(s) {
		if !isVarByte(s[i]) && s[i] != '-' {
			return false
		}
	}
	return true
}

// inherits returns the targets t inherits from, in order.
func (b *bake) inherits(t *bakeTarget) []string {
	attr := t.attrs["inherits"]
	if attr == nil {
		return nil
	}
	exprs, diags := hcl.ExprList(attr.Expr)
	if diags.HasErrors() {
		return nil
	}
	var out []string
	for _, e := range exprs {
		if s, ok := b.str(e, b.ctx); ok {
			out = append(out, s)
		}
	}
	return out
}

// attr returns target name's attribute, its own or else inherited (the
// last parent that sets it wins, as bake merges them).
func (b *bake) attr(name, key string, seen map[string]bool) *hcl.Attribute {
	t := b.targets[name]
	if t == nil || seen[name] {
		return nil
	}
	seen[name] = true
	if a := t.attrs[key]; a != nil {
		return a
	}
	parents := b.inherits(t)
	for i := len(parents) - 1; i >= 0; i-- {
		if a := b.attr(parents[i], key, seen); a != nil {
			return a
		}
	}
	return nil
}

// items returns the values of target name's map attribute key, merged
// over its parents in order, its own last.
func (b *bake) items(name, key string, seen map[string]bool, out map[string]hcl.Expression) {
	t := b.targets[name]
	if t == nil || seen[name] {
		return
	}
	seen[name] = true
	for _, p := range b.inherits(t) {
		b.items(p, key, seen, out)
	}
	a := t.attrs[key]
	if a == nil {
		return
	}
	pairs, diags := hcl.ExprMap(a.Expr)
	if diags.HasErrors() {
		return
	}
	for _, kv := range pairs {
		k := hcl.ExprAsKeyword(kv.Key)
		if k == "" {
			k, _ = b.str(kv.Key, b.ctx)
		}
		if k != "" {
			out[k] = kv.Value
		}
	}
}

func (b *bake) attrStr(name, key, def string) string {
	if a := b.attr(name, key, map[string]bool{}); a != nil {
		if s, ok := b.str(a.Expr, b.ctx); ok {
			return s
		}
	}
	return def
}

// target adds the images target name pulls: its docker-image://
// contexts, and its Dockerfile's.
func (b *bake) target(name string) error {
	contexts := map[string]hcl.Expression{}
	b.items(name, "contexts", map[string]bool{}, contexts)
	names := map[string]bool{}
	for k, e := range contexts {
		names[k] = true
		value, site, ok := b.site(e, len(dockerImage))
		switch {
		case !ok || !strings.HasPrefix(value, dockerImage) || value == dockerImage:
		case site != nil:
			b.refs = append(b.refs, *site)
		default:
			r := e.Range()
			b.refs = append(b.refs, b.t.ref(Bake, Span{r.Start.Byte, r.End.Byte}, value[len(dockerImage):], External))
		}
	}
	line := b.targets[name].line
	if b.attr(name, "dockerfile-inline", map[string]bool{}) != nil {
		b.warns = append(b.warns, Warning{File: b.in.Path, Line: line, Msg: "target " + name + " builds from dockerfile-inline, which imagelock does not read"})
		return nil
	}
	context := b.attrStr(name, "context", ".")
	dockerfile := b.attrStr(name, "dockerfile", "Dockerfile")
	if strings.Contains(context, "://") || strings.HasPrefix(context, "git@") {
		b.warns = append(b.warns, Warning{File: b.in.Path, Line: line, Msg: "target " + name + " builds from remote context " + context + ", not scanned"})
		return nil
	}
	p := path.Join(path.Dir(b.in.Path), context, dockerfile)
	if path.IsAbs(dockerfile) || path.IsAbs(context) || !fs.ValidPath(p) || b.in.FS == nil {
		b.warns = append(b.warns, Warning{File: b.in.Path, Line: line, Msg: "target " + name + " builds " + p + ", outside the scanned tree"})
		return nil
	}
	argExprs := map[string]hcl.Expression{}
	b.items(name, "args", map[string]bool{}, argExprs)
	args := map[string]BuildArg{}
	unknown := map[string]int{}
	for k, e := range argExprs {
		if v, diags := e.Value(b.ctx); !diags.HasErrors() && v.IsNull() {
			continue // a null arg is not passed: the ARG's default applies
		}
		if value, site, ok := b.site(e, 0); ok {
			args[k] = BuildArg{Value: value, Site: site}
		} else {
			unknown[k] = e.Range().Start.Line
		}
	}
	src, err := bounded.ReadFile(b.in.FS, p, bounded.Source)
	if errors.Is(err, fs.ErrNotExist) {
		b.warns = append(b.warns, Warning{File: b.in.Path, Line: line, Msg: "target " + name + " builds " + p + ", which is not in the tree: its images are not locked"})
		return nil
	}
	if err != nil {
		return &Error{File: b.in.Path, Line: line, Err: fmt.Errorf("reading the Dockerfile of target %s: %w", name, err)}
	}
	for k, l := range unknown {
		if fromReads(src, k) {
			b.warns = append(b.warns, Warning{File: b.in.Path, Line: l, Msg: "target " + name + " sets arg " + k + ", which a FROM of " + p + " reads, with an expression imagelock does not evaluate (a matrix value, a function): that image is not locked"})
		}
	}
	build := Build{Args: args, By: fileerr.At(b.in.Path, line, 0)}
	refs, warns, err := FindDockerfileArgs(Input{FS: b.in.FS, Path: p, Src: src, Env: b.in.Env}, build)
	if err != nil {
		return err
	}
	b.refs = append(b.refs, markContexts(refs, names)...)
	b.warns = append(b.warns, warns...)
	return nil
}

// fromReads reports whether a FROM line of Dockerfile src reads the
// variable name.
func fromReads(src []byte, name string) bool {
	for _, line := range strings.Split(string(src), "\n") {
		f := strings.Fields(line)
		if len(f) > 1 && strings.EqualFold(f[0], "FROM") && (strings.Contains(line, "${"+name) || words(line, "$"+name) > 0) {
			return true
		}
	}
	return false
}

// words counts the places text holds name as a whole word: a bake
// variable's declaration ("NAME") and each use (NAME, ${NAME}), and any
// mention in a comment, which only makes the count safer.
func words(text, name string) int {
	n := 0
	for i := 0; ; {
		j := strings.Index(text[i:], name)
		if j < 0 {
			return n
		}
		at, end := i+j, i+j+len(name)
		if (at == 0 || !isNameByte(text[at-1])) && (end == len(text) || !isNameByte(text[end])) {
			n++
		}
		i = end
	}
}
