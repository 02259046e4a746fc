package rewrite

import (
	"strings"

	"gopkg.in/yaml.v3"
)

// dockerScheme prefixes an image in a step's uses: or an action's runs.image.
const dockerScheme = "docker://"

// FindGitHubActions returns the images of a GitHub Actions workflow (each
// job's container, string or image:, its services' images, and steps that
// use docker://, and the inputs of the actions actionImageInputs lists)
// or of an action.yml (runs.image: docker://..., and steps of a
// composite action). "uses: owner/action@ref" is an action, not an
// image; a value with a ${{ }} expression is skipped with a warning.
func FindGitHubActions(in Input) ([]Ref, []Warning, error) {
	f, warns, err := parseYAML(in)
	if f == nil {
		return nil, warns, err
	}
	a := &actionsFinder{f: f}
	for _, doc := range f.docs {
		r := root(doc)
		if r == nil {
			continue
		}
		if r.Kind != yaml.MappingNode {
			return nil, nil, f.errNotMapping(r, "the workflow")
		}
		for _, job := range f.pairs(f.value(r, "jobs")) {
			if err := a.job(job.Value); err != nil {
				return nil, nil, err
			}
		}
		if runs := f.value(r, "runs"); runs != nil {
			if err := a.image(f.value(runs, "image"), true); err != nil {
				return nil, nil, err
			}
			if err := a.steps(f.value(runs, "steps")); err != nil {
				return nil, nil, err
			}
		}
	}
	if err := f.tooComplex(); err != nil {
		return nil, nil, err
	}
	return inOrder(a.refs), append(warns, a.warns...), nil
}

type actionsFinder struct {
	f     *yamlFile
	refs  []Ref
	warns []Warning
}

func (a *actionsFinder) job(job *yaml.Node) error {
	if c := a.f.value(job, "container"); c != nil {
		if c.Kind == yaml.MappingNode {
			c = a.f.value(c, "image")
		}
		if err := a.image(c, false); err != nil {
			return err
		}
	}
	for _, svc := range a.f.pairs(a.f.value(job, "services")) {
		if err := a.image(a.f.value(svc.Value, "image"), false); err != nil {
			return err
		}
	}
	return a.steps(a.f.value(job, "steps"))
}

// actionImageInputs are the inputs, by action, that name an image the
// action pulls and runs: QEMU's binfmt installer, a kind node, a
// container to run a step in.
var actionImageInputs = map[string][]string{
	"docker/setup-qemu-action":    {"image"},
	"helm/kind-action":            {"node_image"},
	"container-tools/kind-action": {"node_image"},
	"engineerd/setup-kind":        {"image"},
	"addnab/docker-run-action":    {"image"},
}

func (a *actionsFinder) steps(steps *yaml.Node) error {
	if steps == nil || steps.Kind != yaml.SequenceNode {
		return nil
	}
	for _, step := range steps.Content {
		step = deref(step)
		uses := a.f.value(step, "uses")
		if err := a.image(uses, true); err != nil {
			return err
		}
		action, _ := stringValue(uses)
		action, _, _ = strings.Cut(action, "@")
		for _, input := range actionImageInputs[action] {
			if err := a.image(a.f.value(a.f.value(step, "with"), input), false); err != nil {
				return err
			}
		}
	}
	return nil
}

// image adds the image named by scalar n. With scheme, only a value that
// starts with docker:// names an image (the rest of it), as in uses: and
// runs.image:; without, the whole value does.
func (a *actionsFinder) image(n *yaml.Node, scheme bool) error {
	s, ok := stringValue(n)
	if !ok || s == "" {
		return nil
	}
	skip := 0
	if scheme {
		if !strings.HasPrefix(s, dockerScheme) {
			return nil
		}
		skip = len(dockerScheme)
	}
	if strings.Contains(s, "${{") {
		a.warns = append(a.warns, Warning{File: a.f.path, Line: n.Line, Msg: "image " + s + " uses an expression, skipped"})
		return nil
	}
	r, err := a.f.ref(GitHubActions, n, skip)
	if err != nil {
		return err
	}
	a.refs = append(a.refs, r)
	return nil
}
