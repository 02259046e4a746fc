package rewrite

// FindCircleCI returns the images of a CircleCI config: every docker:
// entry's image in jobs and executors (the first is the job's primary
// container, the rest its services). Orbs are packages of config, not
// images, and a machine: image is a virtual machine. An image with a
// << parameters.x >> placeholder is skipped with a warning.
func FindCircleCI(in Input) ([]Ref, []Warning, error) {
	f, warns, err := parseYAML(in)
	if f == nil {
		return nil, warns, err
	}
	c := newCIFinder(f, CircleCI, "a parameter")
	roots, err := c.mappingRoots("the config")
	if err != nil {
		return nil, nil, err
	}
	for _, r := range roots {
		for _, section := range []string{"jobs", "executors"} {
			for _, job := range f.pairs(f.value(r, section)) {
				for _, d := range c.items(f.value(job.Value, "docker")) {
					if err := c.image(f.value(d, "image"), 0); err != nil {
						return nil, nil, err
					}
				}
			}
		}
	}
	return c.done(warns)
}
