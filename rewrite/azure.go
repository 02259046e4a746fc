package rewrite

import (
	"strings"

	"gopkg.in/yaml.v3"
)

// FindAzurePipelines returns the images of an Azure Pipelines file: each
// container resource's image, and the container: of the pipeline and of
// each job (a string or a mapping with image:), in jobs: or under stages:.
// A job's container that names a container resource is that resource's
// alias, not an image, as are the names in a job's services: and a
// step's target:; in a file with no container resources (a template), a
// container without a tag or registry may name a resource of the
// pipeline that uses the template, and is a warning. An image with a
// $(var), ${{ }} or $[ ] expression is skipped with a warning.
func FindAzurePipelines(in Input) ([]Ref, []Warning, error) {
	f, warns, err := parseYAML(in)
	if f == nil {
		return nil, warns, err
	}
	a := &azureFinder{ciFinder: newCIFinder(f, AzurePipelines, "an expression"), aliases: map[string]bool{}}
	roots, err := a.mappingRoots("the pipeline")
	if err != nil {
		return nil, nil, err
	}
	for _, r := range roots {
		for _, res := range a.items(f.value(f.value(r, "resources"), "containers")) {
			if alias, ok := stringValue(f.value(res, "container")); ok {
				a.aliases[alias] = true
			}
			if err := a.image(f.value(res, "image"), 0); err != nil {
				return nil, nil, err
			}
		}
	}
	for _, r := range roots {
		if err := a.job(r); err != nil {
			return nil, nil, err
		}
		jobs := a.items(f.value(r, "jobs"))
		for _, stage := range a.items(f.value(r, "stages")) {
			jobs = append(jobs, a.items(f.value(stage, "jobs"))...)
		}
		for _, job := range jobs {
			if err := a.job(job); err != nil {
				return nil, nil, err
			}
		}
	}
	return a.done(warns)
}

type azureFinder struct {
	*ciFinder
	// aliases are the names of the file's container resources.
	aliases map[string]bool
}

// job adds the image of a job's container: (or the pipeline's).
func (a *azureFinder) job(job *yaml.Node) error {
	c := a.f.value(job, "container")
	if c != nil && c.Kind == yaml.MappingNode {
		return a.image(a.f.value(c, "image"), 0)
	}
	s, ok := stringValue(c)
	switch {
	case ok && a.aliases[s]:
		return nil
	case ok && len(a.aliases) == 0 && !strings.ContainsAny(s, "/:@$"):
		// A template's job may name a resource of the pipeline that
		// uses it.
		a.warns = append(a.warns, Warning{File: a.f.path, Line: c.Line, Msg: "container " + s + " names no container resource of this file, and may name one of the pipeline that uses it; write the image with a tag to lock it"})
		return nil
	}
	return a.image(c, 0)
}
