package rewrite

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/tailscale/hujson"

	"github.com/imagelock/imagelock/internal/bounded"
	"github.com/imagelock/imagelock/internal/fileerr"
)

// FindDevcontainer returns the images of a devcontainer.json (JSON with
// comments and trailing commas, read with hujson, which keeps each
// value's byte offsets): image, the keys of features that name OCI
// artifacts (ghcr.io/devcontainers/features/go:1), the FROMs of
// build.dockerfile with build.args, and the images of the compose files
// dockerComposeFile names. Features are OCI artifacts a registry resolves
// by digest as it does images, so they are locked alike.
func FindDevcontainer(in Input) ([]Ref, []Warning, error) {
	if w := unparsable(in); w != nil {
		return nil, []Warning{*w}, nil
	}
	v, err := hujson.Parse(in.Src)
	if err != nil {
		return nil, nil, &Error{File: in.Path, Err: fmt.Errorf("parsing devcontainer.json: %w", err)}
	}
	obj, ok := v.Value.(*hujson.Object)
	if !ok {
		return nil, nil, &Error{File: in.Path, Line: 1, Err: errors.New("devcontainer.json is not an object")}
	}
	d := &devcontainer{in: in, t: newTextFile(in)}
	for _, m := range obj.Members {
		var err error
		switch jsonString(m.Name) {
		case "image":
			d.image(m.Value, "image")
		case "features":
			d.features(m.Value)
		case "build":
			err = d.build(m.Value)
		case "dockerComposeFile":
			err = d.compose(m.Value)
		}
		if err != nil {
			return nil, nil, err
		}
	}
	return dedupe(d.refs), d.warns, nil
}

type devcontainer struct {
	in    Input
	t     *textFile
	refs  []Ref
	warns []Warning
}

// jsonString returns the value of a string literal, or "" for any other
// value.
func jsonString(v hujson.Value) string {
	if lit, ok := v.Value.(hujson.Literal); ok && lit.Kind() == '"' {
		return lit.String()
	}
	return ""
}

// stringRef returns the reference to string literal v, its span inside
// the quotes, or a warning when its text cannot be pinned where it is
// written: escapes, or a ${localEnv:...} variable the editor expands.
func (d *devcontainer) stringRef(v hujson.Value, what string) (*Ref, *Warning) {
	s := jsonString(v)
	if s == "" {
		return nil, nil
	}
	span := Span{v.StartOffset + 1, v.EndOffset - 1}
	line := d.t.line(span.Start)
	switch {
	case string(d.in.Src[span.Start:span.End]) != s:
		return nil, &Warning{File: d.in.Path, Line: line, Msg: fmt.Sprintf("%s %q is written with escapes: write it plainly to lock it", what, s)}
	case strings.Contains(s, "${"):
		return nil, &Warning{File: d.in.Path, Line: line, Msg: fmt.Sprintf("%s %s uses a variable the editor expands; imagelock does not", what, s)}
	}
	r := d.t.ref(Devcontainer, span, s, Inline)
	return &r, nil
}

func (d *devcontainer) image(v hujson.Value, what string) {
	r, w := d.stringRef(v, what)
	if w != nil {
		d.warns = append(d.warns, *w)
	}
	if r != nil {
		d.refs = append(d.refs, *r)
	}
}

// features adds the keys of features that are OCI references. A local
// feature (./x), a tarball URL and a bare name of the retired v1 feature
// set are not. The devcontainer CLI reads a key as name:tag or
// name@digest, never both (devcontainers/cli#825), so a tagged key is
// locked and verified but not pinned; an untagged one is pinned to
// name@digest.
func (d *devcontainer) features(v hujson.Value) {
	obj, ok := v.Value.(*hujson.Object)
	if !ok {
		return
	}
	for _, m := range obj.Members {
		id := jsonString(m.Name)
		if !strings.Contains(id, "/") || strings.HasPrefix(id, ".") || strings.HasPrefix(id, "/") || strings.Contains(id, "://") {
			continue
		}
		r, w := d.stringRef(m.Name, "feature")
		if w != nil {
			d.warns = append(d.warns, *w)
		}
		if r == nil {
			continue
		}
		if !strings.Contains(r.Image, "@") && hasTagBefore(r.Image) {
			r.Style = LockOnly
		}
		d.refs = append(d.refs, *r)
	}
}

// build adds the images of build.dockerfile, read from build.context
// (both relative to devcontainer.json) with build.args.
func (d *devcontainer) build(v hujson.Value) error {
	obj, ok := v.Value.(*hujson.Object)
	if !ok {
		return nil
	}
	var dockerfile string
	args := map[string]BuildArg{}
	for _, m := range obj.Members {
		switch jsonString(m.Name) {
		case "dockerfile":
			dockerfile = jsonString(m.Value)
		case "args":
			a, ok := m.Value.Value.(*hujson.Object)
			if !ok {
				continue
			}
			for _, am := range a.Members {
				val := jsonString(am.Value)
				arg := BuildArg{Value: val}
				if r, w := d.stringRef(am.Value, "build arg"); w == nil && r != nil {
					arg.Site = r
				}
				args[jsonString(am.Name)] = arg
			}
		}
	}
	if dockerfile == "" {
		return nil
	}
	line := d.t.line(v.StartOffset)
	p := path.Join(path.Dir(d.in.Path), dockerfile)
	if !d.inTree(p, line, "build.dockerfile "+dockerfile) {
		return nil
	}
	src, err := bounded.ReadFile(d.in.FS, p, bounded.Source)
	if errors.Is(err, fs.ErrNotExist) {
		d.warns = append(d.warns, Warning{File: d.in.Path, Line: line, Msg: "build.dockerfile " + p + " is not in the tree: its images are not locked"})
		return nil
	}
	if err != nil {
		return &Error{File: d.in.Path, Line: line, Err: fmt.Errorf("reading build.dockerfile: %w", err)}
	}
	b := Build{Args: args, By: fileerr.At(d.in.Path, line, 0)}
	refs, warns, err := FindDockerfileArgs(Input{FS: d.in.FS, Path: p, Src: src, Env: d.in.Env}, b)
	if err != nil {
		return err
	}
	d.refs = append(d.refs, refs...)
	d.warns = append(d.warns, warns...)
	return nil
}

// compose adds the images of the compose files dockerComposeFile names,
// a path or a list of paths relative to devcontainer.json.
func (d *devcontainer) compose(v hujson.Value) error {
	var files []hujson.Value
	switch x := v.Value.(type) {
	case hujson.Literal:
		files = []hujson.Value{v}
	case *hujson.Array:
		files = x.Elements
	}
	for _, f := range files {
		name := jsonString(f)
		if name == "" {
			continue
		}
		line := d.t.line(f.StartOffset)
		p := path.Join(path.Dir(d.in.Path), name)
		if !d.inTree(p, line, "dockerComposeFile "+name) {
			continue
		}
		src, err := bounded.ReadFile(d.in.FS, p, bounded.Source)
		if errors.Is(err, fs.ErrNotExist) {
			d.warns = append(d.warns, Warning{File: d.in.Path, Line: line, Msg: "dockerComposeFile " + p + " is not in the tree: its images are not locked"})
			continue
		}
		if err != nil {
			return &Error{File: d.in.Path, Line: line, Err: fmt.Errorf("reading dockerComposeFile: %w", err)}
		}
		refs, warns, err := FindCompose(Input{FS: d.in.FS, Path: p, Src: src, Env: d.in.Env})
		if err != nil {
			return err
		}
		d.refs = append(d.refs, refs...)
		d.warns = append(d.warns, warns...)
	}
	return nil
}

// inTree reports whether p is a file of the walk, and warns when not.
func (d *devcontainer) inTree(p string, line int, what string) bool {
	if d.in.FS != nil && fs.ValidPath(p) && !strings.Contains(p, "://") {
		return true
	}
	d.warns = append(d.warns, Warning{File: d.in.Path, Line: line, Msg: what + " is outside the scanned tree, not scanned"})
	return false
}
