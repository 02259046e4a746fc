package rewrite

// FindCloudBuild returns the images of a Google Cloud Build config: the
// name of every step, which is the image the step runs. The images: list
// names what the build pushes, not what it pulls. Cloud Build does not
// substitute into a step's name before it pulls, so a name with $_VAR
// or $PROJECT_ID is skipped with a warning.
func FindCloudBuild(in Input) ([]Ref, []Warning, error) {
	f, warns, err := parseYAML(in)
	if f == nil {
		return nil, warns, err
	}
	c := newCIFinder(f, CloudBuild, "a substitution")
	roots, err := c.mappingRoots("the build config")
	if err != nil {
		return nil, nil, err
	}
	for _, r := range roots {
		for _, step := range c.items(f.value(r, "steps")) {
			if err := c.image(f.value(step, "name"), 0); err != nil {
				return nil, nil, err
			}
		}
	}
	return c.done(warns)
}
