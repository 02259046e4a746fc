package rewrite

import (
	"fmt"
	"io/fs"
	"path"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/imagelock/imagelock/internal/bounded"
)

// FindKustomize returns the images a kustomization sets: each images:
// entry with a newTag or a digest names newName (else name) at that tag or
// digest, and an entry with newName alone for a name with a tag
// (name: nginx:1.27) names newName at that tag. An entry that only renames
// a name without a tag keeps the manifests' tag: the references of the
// manifests listed as files in resources: are returned renamed, as the
// build pulls them (see Ref.Renamed), and where resources the finder does
// not follow may hold more, the entry is a warning. The images of those
// manifests that an entry with a tag or digest sets whole are returned
// marked Replaced: the build never pulls them as written. Pin writes the
// entry's digest: field, inserting it after newTag when missing; unpin
// deletes the field where newTag remains.
func FindKustomize(in Input) ([]Ref, []Warning, error) {
	f, warns, err := parseYAML(in)
	if f == nil {
		return nil, warns, err
	}
	var refs, renamed []Ref
	for _, doc := range f.docs {
		r := root(doc)
		if r == nil {
			continue
		}
		if r.Kind != yaml.MappingNode {
			return nil, nil, f.errNotMapping(r, "the kustomization")
		}
		images := f.value(r, "images")
		if images == nil || images.Kind != yaml.SequenceNode {
			continue
		}
		var renames []rename
		for _, e := range images.Content {
			e = deref(e)
			ref, ok, err := kustomizeEntry(f, e)
			if err != nil {
				return nil, nil, err
			}
			if ok {
				refs = append(refs, ref)
				if name, _ := stringValue(f.value(e, "name")); name != "" {
					renames = append(renames, rename{name: name, replace: true})
				}
			} else if rn, ok := renameOnly(f, e); ok {
				renames = append(renames, rn)
			}
		}
		if len(renames) > 0 {
			rs, ws := renameManifests(in, f, f.value(r, "resources"), renames)
			renamed = append(renamed, rs...)
			warns = append(warns, ws...)
		}
	}
	if err := f.tooComplex(); err != nil {
		return nil, nil, err
	}
	return append(inOrder(refs), renamed...), warns, nil
}

// rename is an images: entry that gives newName alone for a name without
// a tag: the build pulls newName at the tag the manifests write; or, with
// replace, an entry that sets the whole image the build pulls.
type rename struct {
	name, newName string
	line          int
	replace       bool
}

// renameManifests reads the manifests a kustomization lists as files in
// resources: and returns their references to a renamed image as the build
// pulls them, marked Renamed, and those to a replaced image marked
// Replaced. A resource it does not follow (a directory, which other
// kustomizations may share, or a remote one) may hold more: then each
// rename is a warning, since the manifests, read on their own, name the
// image before the rename (a replaced image read on its own is one more
// image locked, not a wrong one).
func renameManifests(in Input, f *yamlFile, resources *yaml.Node, renames []rename) ([]Ref, []Warning) {
	var found []Ref
	followedAll := true
	if resources != nil && resources.Kind == yaml.SequenceNode {
		for _, item := range resources.Content {
			res, ok := stringValue(deref(item))
			if !ok {
				continue
			}
			refs, ok := manifestRefs(in, res)
			followedAll = followedAll && ok
			found = append(found, refs...)
		}
	}
	var out []Ref
	for _, r := range found {
		if r.Kind != Kubernetes {
			continue // the Helm values an Argo CD Application names: kustomize does not rename them
		}
		for _, rn := range renames {
			if rest, ok := strings.CutPrefix(r.Image, rn.name); ok && (rest == "" || rest[0] == ':' || rest[0] == '@') {
				if rn.replace {
					r.Replaced = true
				} else {
					r.Image, r.Renamed = rn.newName+rest, true
				}
				out = append(out, r)
				break
			}
		}
	}
	if followedAll {
		return out, nil
	}
	var warns []Warning
	for _, rn := range renames {
		if rn.replace {
			continue
		}
		warns = append(warns, Warning{File: f.path, Line: rn.line, Msg: fmt.Sprintf(
			"images: %s is renamed %s at the tag of manifests imagelock does not read from here (a directory, a remote or missing resource): there, %s is locked, not the %s the build pulls; give the entry a newTag, or write the tag in name (%s:<tag>)",
			rn.name, rn.newName, rn.name, rn.newName, rn.name)})
	}
	return out, warns
}

// manifestRefs returns the references of resource res, a path relative to
// the kustomization, when it is a YAML file; ok is false for a resource
// it cannot follow.
func manifestRefs(in Input, res string) (refs []Ref, ok bool) {
	p := path.Join(path.Dir(in.Path), res)
	if in.FS == nil || strings.Contains(res, "://") || path.IsAbs(res) || !fs.ValidPath(p) {
		return nil, false
	}
	if _, isYAML := cutYAMLExt(strings.ToLower(p)); !isYAML {
		return nil, false
	}
	src, err := bounded.ReadFile(in.FS, p, bounded.Source)
	if err != nil {
		return nil, false
	}
	refs, _, err = FindKubernetes(Input{FS: in.FS, Path: p, Src: src, Env: in.Env})
	return refs, err == nil
}

// renameOnly returns an entry that gives newName alone for a name
// without a tag (kustomizeEntry takes every other entry that names an
// image).
func renameOnly(f *yamlFile, e *yaml.Node) (rename, bool) {
	if e == nil || e.Kind != yaml.MappingNode {
		return rename{}, false
	}
	name, _ := stringValue(f.value(e, "name"))
	nn := f.value(e, "newName")
	newName, ok := stringValue(nn)
	if !ok || newName == "" || name == "" || name == newName {
		return rename{}, false
	}
	return rename{name: name, newName: newName, line: nn.Line}, true
}

func kustomizeEntry(f *yamlFile, e *yaml.Node) (Ref, bool, error) {
	if e == nil || e.Kind != yaml.MappingNode {
		return Ref{}, false, nil
	}
	nameNode := f.value(e, "newName")
	if _, ok := stringValue(nameNode); !ok {
		nameNode = f.value(e, "name")
	}
	name, ok := stringValue(nameNode)
	if !ok || name == "" {
		return Ref{}, false, nil
	}
	tagKey, tagNode := f.lookup(e, "newTag")
	tag, hasTag := stringValue(tagNode)
	hasTag = hasTag && tag != ""
	if !hasTag && nameNode != f.value(e, "name") {
		// newName alone keeps the tag of what name matches: with a tag
		// in name, that is the tag (kustomize matches name:tag exactly).
		// The digest field goes after newName.
		if old, ok := stringValue(f.value(e, "name")); ok && !strings.Contains(old, "@") && hasTagBefore(old) {
			tag, hasTag = old[strings.LastIndex(old, ":")+1:], true
			tagKey, _ = f.lookup(e, "newName")
			tagNode = nameNode
		}
	}
	digestKey, digestNode := f.lookup(e, "digest")
	digest, _ := stringValue(digestNode)
	if !hasTag && digest == "" {
		return Ref{}, false, nil
	}
	image := name
	at := nameNode
	if hasTag {
		image += ":" + tag
		at = tagNode
	}
	if digest != "" {
		image += "@" + digest
	}
	sp, err := f.scalar(at)
	if err != nil {
		return Ref{}, false, err
	}
	ref := f.refAt(Kustomize, sp.Value, image, DigestField)
	flow := e.Style&yaml.FlowStyle != 0
	if digestNode != nil {
		if why := f.noPinDigest(digestNode, image, true); why != "" {
			ref.Style, ref.NoPin = External, why
			return ref, true, nil
		}
		fd, dsp, err := f.fieldValue(digestNode)
		if err != nil {
			return Ref{}, false, err
		}
		switch {
		case !hasTag || digest == "":
		case digestNode.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0:
			// A quoted digest empties to the placeholder it was
			// (digest: "" is how charts and overlays leave the field
			// for a tool to fill), not a deleted line.
			fd.Unpin = Edit{Span: dsp.Value}
		default:
			ksp, err := f.scalar(digestKey)
			if err != nil {
				return Ref{}, false, err
			}
			fd.Unpin = Edit{Span: f.removeField(ksp.Token, dsp.Token, flow)}
		}
		ref.Field = fd
		return ref, true, nil
	}
	tsp, err := f.scalar(tagNode)
	if err != nil {
		return Ref{}, false, err
	}
	if flow {
		ref.Field = &Field{Value: Span{tsp.Token.End, tsp.Token.End}, Before: ", digest: "}
		return ref, true, nil
	}
	ksp, err := f.scalar(tagKey)
	if err != nil {
		return Ref{}, false, err
	}
	_, col := f.lineCol(ksp.Token.Start)
	indent := strings.Repeat(" ", col-1)
	end, eol := f.lineEnd(tsp.Token.End)
	fd := &Field{Value: Span{end, end}, Before: indent + "digest: ", After: eol}
	if eol == "" {
		fd.Before, fd.After = f.eol()+fd.Before, ""
	}
	ref.Field = fd
	return ref, true, nil
}

// removeField returns the span that deletes a field whose key and value
// tokens are key and val: its whole line in a block mapping, or the field
// and one comma beside it in a flow mapping. The zero span means the field
// cannot be taken out cleanly (it shares its line with "- ").
func (f *yamlFile) removeField(key, val Span, flow bool) Span {
	if !flow {
		if f.indentBefore(key.Start) {
			return f.lineSpan(key.Start)
		}
		end, _ := f.lineEnd(val.End)
		next := end
		for next < len(f.src) && f.src[next] == ' ' {
			next++
		}
		_, col := f.lineCol(key.Start)
		if end < len(f.src) && next-end == col-1 {
			return Span{key.Start, next}
		}
		return Span{}
	}
	i := key.Start - 1
	for i >= 0 && isYAMLSpace(f.src[i]) {
		i--
	}
	if i >= 0 && f.src[i] == ',' {
		return Span{i, val.End}
	}
	j := val.End
	for j < len(f.src) && isYAMLSpace(f.src[j]) {
		j++
	}
	if j < len(f.src) && f.src[j] == ',' {
		j++
		for j < len(f.src) && isYAMLSpace(f.src[j]) {
			j++
		}
		return Span{key.Start, j}
	}
	return Span{}
}
