package rewrite

// FindDrone returns the images of a Drone config: the image of every step
// and service of every pipeline, one pipeline per document. An image that
// uses a ${VAR} is skipped with a warning.
func FindDrone(in Input) ([]Ref, []Warning, error) {
	f, warns, err := parseYAML(in)
	if f == nil {
		return nil, warns, err
	}
	c := newCIFinder(f, Drone, "a variable")
	roots, err := c.mappingRoots("the pipeline")
	if err != nil {
		return nil, nil, err
	}
	for _, r := range roots {
		for _, section := range []string{"steps", "services"} {
			for _, entry := range c.items(f.value(r, section)) {
				if err := c.image(f.value(entry, "image"), 0); err != nil {
					return nil, nil, err
				}
			}
		}
	}
	return c.done(warns)
}
