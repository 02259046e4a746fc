package rewrite

// FindWoodpecker returns the images of a Woodpecker workflow: the image of
// every step, service and clone plugin, each section a list or a mapping
// of names to entries. An image held by an anchor ("x-go: &go golang:1.26",
// then "image: *go") is one reference, at the anchor. An image that uses
// a ${VAR} is skipped with a warning.
func FindWoodpecker(in Input) ([]Ref, []Warning, error) {
	f, warns, err := parseYAML(in)
	if f == nil {
		return nil, warns, err
	}
	c := newCIFinder(f, Woodpecker, "a variable")
	roots, err := c.mappingRoots("the workflow")
	if err != nil {
		return nil, nil, err
	}
	for _, r := range roots {
		for _, section := range []string{"steps", "services", "clone"} {
			for _, entry := range c.items(f.value(r, section)) {
				if err := c.image(f.value(entry, "image"), 0); err != nil {
					return nil, nil, err
				}
			}
		}
	}
	return c.done(warns)
}
