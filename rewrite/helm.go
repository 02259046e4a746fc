package rewrite

import (
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"strings"

	"gopkg.in/yaml.v3"

	"github.com/imagelock/imagelock/internal/bounded"
)

// FindHelmValues returns the images of a Helm chart's values file, or of
// a helmfile's releases (see findHelmfile). In a values file, at any depth:
//
//   - a mapping with repository (or image) and tag, and optionally
//     registry and digest (or sha, the digest's hex alone), names
//     registry/repository:tag@digest. Pin fills digest: or sha: where the
//     mapping has the key (a digest inside tag: breaks charts that use
//     the tag as a label or compare it as a version), else writes
//     tag: <tag>@<digest>, as Renovate does, unless the chart's templates
//     use the tag in semverCompare or a version label: then the
//     reference is External and says how to make it pinnable;
//   - an empty tag is the chart's appVersion when its templates default
//     the tag to it (default .Chart.AppVersion, or with a printf prefix);
//     pin fills digest: where the mapping has it, and otherwise cannot
//     write without changing the tag, so the reference is External;
//   - a string with a tag or digest under a key named image or ending in
//     Image (initImage: busybox:1.36) is the image.
//
// A chart's Chart.yaml is read for the images its annotations list (see
// findChartImages). A values file that is not beside a Chart.yaml is read as Kubernetes
// YAML, unless in.Declared.
func FindHelmValues(in Input) ([]Ref, []Warning, error) {
	if isHelmfile(in.Path) {
		return findHelmfile(in)
	}
	if path.Base(in.Path) == "Chart.yaml" {
		return findChartImages(in)
	}
	chart := path.Dir(in.Path)
	if !isChartDir(in.FS, chart) {
		if !in.Declared {
			return FindKubernetes(in)
		}
		chart = ""
	}
	return findValues(in, chart)
}

// isHelmfile reports whether the YAML file at slash path p is a
// helmfile: helmfile.y(a)ml, or a file of a helmfile.d directory.
func isHelmfile(p string) bool {
	stem, _ := cutYAMLExt(strings.ToLower(path.Base(p)))
	return stem == "helmfile" || path.Base(path.Dir(p)) == "helmfile.d"
}

// isChartDir reports whether dir holds a Chart.yaml.
func isChartDir(fsys fs.FS, dir string) bool {
	if fsys == nil {
		return false
	}
	_, err := fs.Stat(fsys, path.Join(dir, "Chart.yaml"))
	return err == nil
}

// findValues reads in as the values of the chart in directory chart
// ("" when the chart is not known).
func findValues(in Input, chart string) ([]Ref, []Warning, error) {
	f, warns, err := parseYAML(in)
	if f == nil {
		return nil, warns, err
	}
	h := &helmFinder{f: f, fsys: in.FS, chart: chart, visited: map[*yaml.Node]bool{}}
	for _, doc := range f.docs {
		r := root(doc)
		if r == nil {
			continue
		}
		if r.Kind != yaml.MappingNode {
			return nil, nil, f.errNotMapping(r, "the values file")
		}
		if err := h.walk(r, []string{}); err != nil {
			return nil, nil, err
		}
	}
	if err := f.tooComplex(); err != nil {
		return nil, nil, err
	}
	return inOrder(h.refs), append(warns, h.warns...), nil
}

type helmFinder struct {
	f       *yamlFile
	fsys    fs.FS
	chart   string
	visited map[*yaml.Node]bool
	refs    []Ref
	warns   []Warning
	// app is the chart's appVersion and templates, read when a tag
	// needs them (see chartApp).
	app *chartApp
}

// walk visits n, which .Values.<at> names in the chart's templates; at
// is nil where no plain path names it (inside a list).
func (h *helmFinder) walk(n *yaml.Node, at []string) error {
	n = deref(n)
	if n == nil || h.visited[n] {
		return nil
	}
	h.visited[n] = true
	switch n.Kind {
	case yaml.SequenceNode:
		for _, c := range n.Content {
			if err := h.walk(c, nil); err != nil {
				return err
			}
		}
	case yaml.MappingNode:
		repoKey, err := h.image(n, at)
		if err != nil {
			return err
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := deref(n.Content[i]), n.Content[i+1]
			var sub []string
			if k != nil && at != nil && valuesKey.MatchString(k.Value) {
				sub = append(append([]string{}, at...), k.Value)
			}
			if k != nil && k.Kind == yaml.ScalarNode && k.Value != repoKey && (k.Value == "image" || strings.HasSuffix(k.Value, "Image")) {
				if err := h.imageString(deref(v)); err != nil {
					return err
				}
			}
			if err := h.walk(v, sub); err != nil {
				return err
			}
		}
	}
	return nil
}

// valuesKey matches a key the templates can name as .Values.a.b.
var valuesKey = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// imageString adds the reference of a string value under an image key,
// when it names a tag or a digest: "image: nope" is not taken for an
// image, nor is a template.
func (h *helmFinder) imageString(v *yaml.Node) error {
	s, ok := stringValue(v)
	if !ok || s == "" || v.Tag != "!!str" || strings.Contains(s, "{{") || strings.ContainsAny(s, " \t\r\n") ||
		!strings.Contains(s, "@") && !hasTagBefore(s) {
		return nil
	}
	ref, err := h.f.ref(Helm, v, 0)
	if err != nil {
		return err
	}
	h.refs = append(h.refs, ref)
	return nil
}

// image adds the reference of mapping m when it has repository (or
// image) and tag, and returns the key that held the repository.
func (h *helmFinder) image(m *yaml.Node, at []string) (string, error) {
	repoKey := "repository"
	repoNode := h.f.value(m, repoKey)
	if repoNode == nil {
		repoKey = "image"
		repoNode = h.f.value(m, repoKey)
	}
	repo, ok := stringValue(repoNode)
	tagNode := h.f.value(m, "tag")
	if !ok || repo == "" || tagNode == nil || tagNode.Kind != yaml.ScalarNode {
		return "", nil
	}
	tag, _ := stringValue(tagNode)
	registry, _ := stringValue(h.f.value(m, "registry"))
	hex := false
	digestKey, digestNode := h.f.lookup(m, "digest")
	if digestNode == nil {
		digestKey, digestNode = h.f.lookup(m, "sha")
		hex = digestNode != nil
	}
	digest, _ := stringValue(digestNode)
	if hex && digest != "" {
		digest = "sha256:" + digest
	}
	if strings.Contains(repo+tag+registry, "{{") {
		h.warns = append(h.warns, Warning{File: h.f.path, Line: repoNode.Line, Msg: "image " + repo + " is a template, skipped"})
		return repoKey, nil
	}
	image := repo
	if registry != "" {
		image = registry + "/" + repo
	}
	appTag := ""
	if tag == "" {
		appTag = h.appVersionTag(at)
	}
	if tag == "" && appTag == "" && digest == "" {
		h.warns = append(h.warns, Warning{File: h.f.path, Line: tagNode.Line, Msg: "image " + image + " has an empty tag (the chart's templates choose it), not locked"})
		return repoKey, nil
	}
	pos := tagNode
	switch {
	case tag != "":
		image += ":" + tag
	case appTag != "":
		image += ":" + appTag
		pos = repoNode
	default:
		pos = repoNode
	}
	if digest != "" && !strings.Contains(tag, "@") {
		image += "@" + digest
	}
	sp, err := h.f.scalar(pos)
	if err != nil {
		return "", err
	}
	if digestNode == nil {
		if appTag != "" {
			ref := h.f.refAt(Helm, sp.Value, image, External)
			ref.NoPin = fmt.Sprintf("the tag of %s is the chart's appVersion (%s), and pin writes no digest into an empty tag: if the chart's templates read %s, add digest: \"\" to the map and pin again",
				image, appTag, ".Values."+strings.Join(append(at[:len(at):len(at)], "digest"), "."))
			h.refs = append(h.refs, ref)
			return repoKey, nil
		}
		ref := h.f.refAt(Helm, sp.Value, image, Tag)
		if use := h.tagUse(at); use != "" && !strings.Contains(tag, "@") {
			ref.Style = External
			ref.NoPin = fmt.Sprintf("the chart's templates use %s %s, which a digest written into the tag would break: if they read %s, add digest: \"\" to the map and pin again",
				".Values."+strings.Join(append(at[:len(at):len(at)], "tag"), "."), use, ".Values."+strings.Join(append(at[:len(at):len(at)], "digest"), "."))
		}
		h.refs = append(h.refs, ref)
		return repoKey, nil
	}
	if digestNode.Kind != yaml.ScalarNode {
		return repoKey, nil
	}
	ref := h.f.refAt(Helm, sp.Value, image, DigestField)
	if why := h.f.noPinDigest(digestNode, image, false); why != "" {
		ref.Style, ref.NoPin = External, why
		h.refs = append(h.refs, ref)
		return repoKey, nil
	}
	fd, dsp, err := h.f.fieldValue(digestNode)
	if err != nil {
		return "", err
	}
	fd.Hex = hex
	if (tag != "" || appTag != "") && digest != "" {
		fd.Unpin = Edit{Span: dsp.Value}
		if digestNode.Style&(yaml.SingleQuotedStyle|yaml.DoubleQuotedStyle) == 0 {
			ksp, err := h.f.scalar(digestKey)
			if err != nil {
				return "", err
			}
			if colon := h.f.colonAfter(ksp.Token.End); colon >= 0 {
				fd.Unpin = Edit{Span: Span{colon + 1, dsp.Token.End}}
			}
		}
	}
	ref.Field = fd
	h.refs = append(h.refs, ref)
	return repoKey, nil
}

// chartApp is what a chart says about a tag left empty in its values:
// its appVersion and the text of its templates.
type chartApp struct {
	version   string
	templates []string
}

// appVersionTag returns the tag the chart's templates give the image
// whose values are at .Values.<at> when its tag is empty: the chart's
// appVersion, with a prefix where they write one, when every template
// expression that defaults that tag does so in one of the simple forms,
// with no text after the action that would go on the tag
// ({{ .Values.<at>.tag | default .Chart.AppVersion }},
// default (printf "v%s" .Chart.AppVersion) .Values.<at>.tag); "" when the
// chart or the templates say otherwise, or nothing.
func (h *helmFinder) appVersionTag(at []string) string {
	app := h.chartApp(at)
	if app == nil || app.version == "" {
		return ""
	}
	value := tagValue(at)
	expr := `(\([^()]*\)|[^\s()|}]+)`
	forms := []*regexp.Regexp{
		regexp.MustCompile(value + `\s*\|\s*default\s+` + expr),
		regexp.MustCompile(`default\s+` + expr + `\s+` + value),
	}
	tag := ""
	for _, t := range app.templates {
		for _, re := range forms {
			for _, m := range re.FindAllStringSubmatchIndex(t, -1) {
				got, ok := appVersionExpr(t[m[2]:m[3]], app.version)
				if !ok || tag != "" && got != tag || suffixed(t[m[1]:]) {
					return ""
				}
				tag = got
			}
		}
	}
	return tag
}

// chartApp returns what the chart says about the image at .Values.<at>,
// read once; nil where the chart or the path is not known.
func (h *helmFinder) chartApp(at []string) *chartApp {
	if at == nil || h.chart == "" {
		return nil
	}
	if h.app == nil {
		h.app = readChartApp(h.fsys, h.chart)
	}
	return h.app
}

// tagValue is the pattern of .Values.<at>.tag in a template.
func tagValue(at []string) string {
	return `\$?\.Values\.` + regexp.QuoteMeta(strings.Join(append(at[:len(at):len(at)], "tag"), ".")) + `\b`
}

// versionKey matches a template line that gives a version label or field.
var versionKey = regexp.MustCompile(`(?i)^[ \t-]*["']?[\w./-]*version["']?[ \t]*:`)

// tagUse returns how the chart's templates use .Values.<at>.tag other
// than in an image, where a digest written into the tag would break the
// release: in a version comparison, or as a version label (whose value
// cannot hold "@" or ":"); "" when they do not, or the chart is unknown.
func (h *helmFinder) tagUse(at []string) string {
	app := h.chartApp(at)
	if app == nil {
		return ""
	}
	// tagValue's matches, found as a literal: a regexp that may open
	// with "$" has no prefix to search for, and tried every byte of
	// every template.
	value := ".Values." + strings.Join(append(at[:len(at):len(at)], "tag"), ".")
	for _, t := range app.templates {
		for off := 0; ; {
			i := strings.Index(t[off:], value)
			if i < 0 {
				break
			}
			m0, m1 := off+i, off+i+len(value)
			off = m1
			if m1 < len(t) && isNameByte(t[m1]) {
				continue
			}
			start, end := strings.LastIndexByte(t[:m0], '\n')+1, len(t)
			if i := strings.IndexByte(t[m1:], '\n'); i >= 0 {
				end = m1 + i
			}
			switch line := t[start:end]; {
			case strings.Contains(line, "semver"):
				return "in a version comparison (semverCompare)"
			case versionKey.MatchString(line):
				return "as a version label"
			}
		}
	}
	return ""
}

// suffixed reports whether the action that rest is the end of is
// followed by text that goes on the tag ("{{ ... }}-distroless").
func suffixed(rest string) bool {
	i := strings.Index(rest, "}}")
	if i < 0 || i+2 >= len(rest) {
		return false
	}
	c := rest[i+2]
	return c == '-' || c == '.' || c == '_' || c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z'
}

// printfAppVersion matches (printf "<prefix>%s" .Chart.AppVersion).
var printfAppVersion = regexp.MustCompile(`^\(\s*printf\s+"([^"%\\]*)%s"\s+\$?\.Chart\.AppVersion\s*\)$`)

// appVersionExpr returns what a template's default expression gives:
// the appVersion, or it after a printf prefix; ok is false for any other.
func appVersionExpr(expr, version string) (string, bool) {
	if expr == ".Chart.AppVersion" || expr == "$.Chart.AppVersion" {
		return version, true
	}
	if m := printfAppVersion.FindStringSubmatch(expr); m != nil {
		return m[1] + version, true
	}
	return "", false
}

// readChartApp reads the appVersion of the chart in dir and the text of
// its templates (YAML files and .tpl helpers); what it cannot read it
// leaves out.
func readChartApp(fsys fs.FS, dir string) *chartApp {
	app := &chartApp{}
	data, err := bounded.ReadFile(fsys, path.Join(dir, "Chart.yaml"), bounded.Small)
	if err != nil {
		return app
	}
	var chart struct {
		AppVersion string `yaml:"appVersion"`
	}
	if yaml.Unmarshal(data, &chart) == nil && !strings.ContainsAny(chart.AppVersion, " \t\r\n{}@") {
		app.version = chart.AppVersion
	}
	_ = fs.WalkDir(fsys, path.Join(dir, "templates"), func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return nil
		}
		lower := strings.ToLower(p)
		if _, ok := cutYAMLExt(lower); !ok && !strings.HasSuffix(lower, ".tpl") {
			return nil
		}
		if src, err := bounded.ReadFile(fsys, p, bounded.Source); err == nil {
			app.templates = append(app.templates, string(src))
		}
		return nil
	})
	return app
}
