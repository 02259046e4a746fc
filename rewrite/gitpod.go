package rewrite

// FindGitpod returns the image of a Gitpod workspace configuration
// (.gitpod.yml): image, when it is a string. An image: {file: ...}
// builds a Dockerfile, which is read as a Dockerfile of its own.
func FindGitpod(in Input) ([]Ref, []Warning, error) {
	f, warns, err := parseYAML(in)
	if f == nil {
		return nil, warns, err
	}
	c := newCIFinder(f, Gitpod, "a variable")
	roots, err := c.mappingRoots("the Gitpod configuration")
	if err != nil {
		return nil, nil, err
	}
	for _, r := range roots {
		if err := c.image(f.value(r, "image"), 0); err != nil {
			return nil, nil, err
		}
	}
	return c.done(warns)
}
