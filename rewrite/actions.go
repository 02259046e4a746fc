package rewrite

import (
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"
)

// dockerScheme prefixes an image in a step's uses: or an action's runs.image.
const dockerScheme = "docker://"

// FindGitHubActions returns the images of a GitHub Actions workflow (each
// job's container, string or image:, its services' images, steps that
// use docker://, and the inputs of the actions actionImageInputs lists)
// or of an action.yml (runs.image: docker://..., and steps of a
// composite action). "uses: owner/action@ref" is an action, not an
// image. An image that is one ${{ env.NAME }} is the literal value the
// job's or the workflow's env: gives NAME, and one that is
// ${{ matrix.NAME }} is each literal value the job's matrix lists for
// NAME; any other ${{ }} expression is skipped with a warning.
func FindGitHubActions(in Input) ([]Ref, []Warning, error) {
	f, warns, err := parseYAML(in)
	if f == nil {
		return nil, warns, err
	}
	a := &actionsFinder{ciFinder: newCIFinder(f, GitHubActions, "an expression")}
	roots, err := a.mappingRoots("the workflow")
	if err != nil {
		return nil, nil, err
	}
	for _, r := range roots {
		for _, job := range f.pairs(f.value(r, "jobs")) {
			a.scope = actionsScope{env: []*yaml.Node{f.value(job.Value, "env"), f.value(r, "env")}, strategy: f.value(job.Value, "strategy")}
			if err := a.job(job.Value); err != nil {
				return nil, nil, err
			}
		}
		if runs := f.value(r, "runs"); runs != nil {
			a.scope = actionsScope{}
			if err := a.schemeImage(f.value(runs, "image")); err != nil {
				return nil, nil, err
			}
			if err := a.steps(f.value(runs, "steps")); err != nil {
				return nil, nil, err
			}
		}
	}
	return a.done(warns)
}

type actionsFinder struct {
	*ciFinder
	scope actionsScope
}

// actionsScope is what the expressions of a job's images read: its env:
// and the workflow's, innermost first, and its strategy.
type actionsScope struct {
	env      []*yaml.Node
	strategy *yaml.Node
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

// buildxAction takes BuildKit's image among its driver-opts, as
// "image=moby/buildkit:v0.20.0" in a list of key=value items.
const buildxAction = "docker/setup-buildx-action"

func (a *actionsFinder) job(job *yaml.Node) error {
	if err := a.value(a.f.stringOr(a.f.value(job, "container"), "image")); err != nil {
		return err
	}
	for _, svc := range a.f.pairs(a.f.value(job, "services")) {
		if err := a.value(a.f.value(svc.Value, "image")); err != nil {
			return err
		}
	}
	return a.steps(a.f.value(job, "steps"))
}

func (a *actionsFinder) steps(steps *yaml.Node) error {
	if steps == nil || steps.Kind != yaml.SequenceNode {
		return nil
	}
	for _, step := range steps.Content {
		step = deref(step)
		uses := a.f.value(step, "uses")
		if err := a.schemeImage(uses); err != nil {
			return err
		}
		action, _ := stringValue(uses)
		action, _, _ = strings.Cut(action, "@")
		with := a.f.value(step, "with")
		for _, input := range actionImageInputs[action] {
			if err := a.value(a.f.value(with, input)); err != nil {
				return err
			}
		}
		if action == buildxAction {
			if err := a.driverOpts(a.f.value(with, "driver-opts")); err != nil {
				return err
			}
		}
	}
	return nil
}

// actionsExpr matches a value that is one ${{ env.NAME }} or
// ${{ matrix.NAME }} expression.
var actionsExpr = regexp.MustCompile(`^\$\{\{\s*(env|matrix)\.([A-Za-z_][A-Za-z0-9_-]*)\s*\}\}$`)

// value adds the image of scalar n, or of the literal values an
// expression in it reads.
func (a *actionsFinder) value(n *yaml.Node) error {
	s, ok := stringValue(n)
	if !ok {
		return nil
	}
	values := a.exprValues(s)
	if len(values) == 0 {
		return a.image(n, 0) // an expression with no literal value warns
	}
	for _, v := range values {
		if err := a.image(v, 0); err != nil {
			return err
		}
	}
	return nil
}

// exprValues returns the literal values that s, one ${{ env.NAME }} or
// ${{ matrix.NAME }}, reads; nil for any other text.
func (a *actionsFinder) exprValues(s string) []*yaml.Node {
	m := actionsExpr.FindStringSubmatch(s)
	switch {
	case m == nil:
		return nil
	case m[1] == "env":
		return a.scope.envValue(a.f, m[2])
	}
	return a.scope.matrix(a.f, m[2])
}

// envValue returns the literal value env: gives name, innermost first.
func (sc actionsScope) envValue(f *yamlFile, name string) []*yaml.Node {
	for _, env := range sc.env {
		if v := f.value(env, name); v != nil {
			if s, ok := stringValue(v); ok && !strings.Contains(s, "${{") {
				return []*yaml.Node{v}
			}
			return nil
		}
	}
	return nil
}

// matrix returns the literal values the job's matrix lists for name,
// in its list and in its include: and exclude: entries; none when any of
// them is an expression (a matrix from fromJSON, or a value that reads
// one). An exclude: value is pinned with the list's, or it would match
// nothing after pin and the combination it excluded would run.
func (sc actionsScope) matrix(f *yamlFile, name string) []*yaml.Node {
	m := f.value(sc.strategy, "matrix")
	if m == nil || m.Kind != yaml.MappingNode {
		return nil
	}
	var out []*yaml.Node
	if list := f.value(m, name); list != nil {
		if list.Kind != yaml.SequenceNode {
			return nil
		}
		for _, v := range list.Content {
			out = append(out, deref(v))
		}
	}
	for _, key := range []string{"include", "exclude"} {
		if entries := f.value(m, key); entries != nil && entries.Kind == yaml.SequenceNode {
			for _, e := range entries.Content {
				if v := f.value(deref(e), name); v != nil {
					out = append(out, v)
				}
			}
		}
	}
	for _, v := range out {
		if s, ok := stringValue(v); !ok || strings.Contains(s, "${{") {
			return nil
		}
	}
	return out
}

// driverOpts adds the BuildKit image of setup-buildx-action's
// driver-opts when it is an expression that reads a literal value; an
// image written in the list itself is not read (it shares its scalar
// with the other items).
func (a *actionsFinder) driverOpts(n *yaml.Node) error {
	s, ok := stringValue(n)
	if !ok {
		return nil
	}
	for _, item := range strings.FieldsFunc(s, func(r rune) bool { return r == '\n' || r == ',' }) {
		v, found := strings.CutPrefix(strings.TrimSpace(item), "image=")
		if !found {
			continue
		}
		values := a.exprValues(v)
		if len(values) == 0 {
			a.warns = append(a.warns, Warning{File: a.f.path, Line: n.Line, Msg: "BuildKit image " + v + " in driver-opts is not read: write image=${{ env.NAME }} with the image in env:"})
		}
		for _, v := range values {
			if err := a.image(v, 0); err != nil {
				return err
			}
		}
	}
	return nil
}
