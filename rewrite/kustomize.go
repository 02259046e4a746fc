package rewrite

import (
	"strings"

	"gopkg.in/yaml.v3"
)

// FindKustomize returns the images a kustomization sets: each images:
// entry with a newTag or a digest names newName (else name) at that tag or
// digest. An entry that only renames keeps the manifests' tag and is not a
// reference of its own. Pin writes the entry's digest: field, inserting it
// after newTag when missing; unpin deletes the field where newTag remains.
func FindKustomize(in Input) ([]Ref, []Warning, error) {
	f, warns, err := parseYAML(in)
	if f == nil {
		return nil, warns, err
	}
	var refs []Ref
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
		for _, e := range images.Content {
			ref, ok, err := kustomizeEntry(f, deref(e))
			if err != nil {
				return nil, nil, err
			}
			if ok {
				refs = append(refs, ref)
			}
		}
	}
	if err := f.tooComplex(); err != nil {
		return nil, nil, err
	}
	return inOrder(refs), warns, nil
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
		fd, dsp, err := f.fieldValue(digestNode)
		if err != nil {
			return Ref{}, false, err
		}
		if hasTag && digest != "" {
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
