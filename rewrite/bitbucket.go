package rewrite

import (
	"gopkg.in/yaml.v3"
)

// FindBitbucket returns the images of a Bitbucket Pipelines file: the
// top-level image, each service's in definitions.services, each step's
// (a string, or a mapping with name: beside the registry's credentials),
// and pipes run as "pipe: docker://image". Steps are found at any depth
// under pipelines (branches, tags, custom, parallel, stage). A pipe
// written without docker:// ("atlassian/aws-s3-deploy:1.1.0") names a
// Bitbucket repository whose pipe.yml names the image, not an image.
func FindBitbucket(in Input) ([]Ref, []Warning, error) {
	f, warns, err := parseYAML(in)
	if f == nil {
		return nil, warns, err
	}
	b := &bitbucketFinder{ciFinder: newCIFinder(f, Bitbucket, "a variable"), visited: map[*yaml.Node]bool{}}
	roots, err := b.mappingRoots("the pipelines file")
	if err != nil {
		return nil, nil, err
	}
	for _, r := range roots {
		if err := b.imageOrName(f.value(r, "image")); err != nil {
			return nil, nil, err
		}
		for _, svc := range f.pairs(f.value(f.value(r, "definitions"), "services")) {
			if err := b.imageOrName(f.value(svc.Value, "image")); err != nil {
				return nil, nil, err
			}
		}
		if err := b.walk(f.value(r, "pipelines")); err != nil {
			return nil, nil, err
		}
	}
	return b.done(warns)
}

type bitbucketFinder struct {
	*ciFinder
	visited map[*yaml.Node]bool
}

// walk finds the steps under n, each node once.
func (b *bitbucketFinder) walk(n *yaml.Node) error {
	n = deref(n)
	if n == nil || b.visited[n] {
		return nil
	}
	b.visited[n] = true
	switch n.Kind {
	case yaml.SequenceNode:
		for _, item := range n.Content {
			if err := b.walk(item); err != nil {
				return err
			}
		}
	case yaml.MappingNode:
		for _, p := range b.f.pairs(n) {
			var err error
			if p.Key.Value == "step" {
				err = b.step(p.Value)
			} else {
				err = b.walk(p.Value)
			}
			if err != nil {
				return err
			}
		}
	}
	return nil
}

// step adds the image of a step and of the pipes its scripts run.
func (b *bitbucketFinder) step(step *yaml.Node) error {
	if err := b.imageOrName(b.f.value(step, "image")); err != nil {
		return err
	}
	for _, script := range []string{"script", "after-script"} {
		for _, cmd := range b.items(b.f.value(step, script)) {
			if err := b.schemeImage(b.f.value(cmd, "pipe")); err != nil {
				return err
			}
		}
	}
	return nil
}

// imageOrName adds the image of n: a string, or a mapping with name:
// beside the registry's credentials.
func (b *bitbucketFinder) imageOrName(n *yaml.Node) error {
	return b.image(b.f.stringOr(n, "name"), 0)
}
