package rewrite

import (
	"bytes"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"sort"
	"strings"

	"gopkg.in/yaml.v3"
)

// An image path says where an image is in an object, from the object's
// root: keys joined by ".", "[]" after a key for each entry of its list,
// "[name]" for each entry that has a name, and a leading "**." for the
// path starting at any depth (not below another object, nor in status).
// The value at the end of the path is the image, a string; with a
// leading "yaml:", it is a manifest written as a literal block, whose
// objects are read as a file's.
type imagePath struct {
	segs           []string
	deep, manifest bool
}

// key returns the key the path starts with.
func (p imagePath) key() string {
	k, _, _ := strings.Cut(p.segs[0], "[")
	return k
}

func parsePaths(paths ...string) []imagePath {
	out := make([]imagePath, len(paths))
	for i, p := range paths {
		rest, manifest := strings.CutPrefix(p, "yaml:")
		rest, deep := strings.CutPrefix(rest, "**.")
		out[i] = imagePath{segs: strings.Split(rest, "."), deep: deep, manifest: manifest}
	}
	return out
}

// anyObject are the image paths of every object: pod spec container
// lists, image volumes, and lists of steps and sidecars whose entries
// have a name and an image, as Tekton's and Argo's do.
var anyObject = parsePaths(
	"**.containers[].image",
	"**.initContainers[].image",
	"**.ephemeralContainers[].image",
	"**.volumes[].image.reference",
	"**.steps[name].image",
	"**.sidecars[name].image",
)

// noImages are the API groups whose objects hold container lists that
// are no images to pull: policy engines' patterns (Kyverno's
// validate.pattern.spec.containers[].image: "!*:latest"), matched
// against what others deploy.
var noImages = []string{"kyverno.io", "wgpolicyk8s.io", "templates.gatekeeper.sh", "constraints.gatekeeper.sh"}

// customImages is where the custom resources imagelock knows keep images
// outside container lists, by API group and kind (every kind of the group
// when Kinds is nil). A field of a kind not listed here is never read as
// an image, whatever its name: spec.image of an unknown kind may name an
// output, a pattern or a policy's subject as well as an image to pull.
var customImages = []struct {
	Group string
	Kinds []string
	Paths []imagePath
}{
	{"monitoring.coreos.com", []string{"Prometheus", "PrometheusAgent", "Alertmanager", "ThanosRuler"}, parsePaths("spec.image", "spec.thanos.image")},
	{"rabbitmq.com", []string{"RabbitmqCluster"}, parsePaths("spec.image")},
	{"minio.min.io", []string{"Tenant"}, parsePaths("spec.image", "spec.kes.image")},
	{"kafka.strimzi.io", []string{"Kafka"}, parsePaths("spec.kafka.image", "spec.zookeeper.image", "spec.entityOperator.topicOperator.image", "spec.entityOperator.userOperator.image", "spec.entityOperator.tlsSidecar.image", "spec.cruiseControl.image", "spec.kafkaExporter.image")},
	// spec.build.output.image of KafkaConnect is what the build pushes.
	{"kafka.strimzi.io", []string{"KafkaConnect", "KafkaMirrorMaker2", "KafkaMirrorMaker", "KafkaBridge"}, parsePaths("spec.image")},
	{"kubevirt.io", nil, parsePaths("**.volumes[].containerDisk.image", "**.kernelBoot.container.image")},
	{"ceph.rook.io", []string{"CephCluster"}, parsePaths("spec.cephVersion.image")},
	{"argoproj.io", []string{"Workflow", "WorkflowTemplate", "ClusterWorkflowTemplate", "CronWorkflow"}, parsePaths("**.container.image", "**.script.image", "yaml:**.resource.manifest")},
	{"argoproj.io", []string{"Sensor", "EventSource"}, parsePaths("spec.template.container.image")},
	{"numaflow.numaproj.io", nil, parsePaths("**.container.image")},
	{"tekton.dev", nil, parsePaths("**.steps[].image", "**.sidecars[].image", "**.stepTemplate.image")},
	{"tekton.dev", []string{"StepAction"}, parsePaths("spec.image")},
	{"tekton.dev", []string{"Condition"}, parsePaths("spec.check.image")},
	{"postgresql.cnpg.io", []string{"Cluster"}, parsePaths("spec.imageName")},
	{"postgresql.cnpg.io", []string{"ImageCatalog", "ClusterImageCatalog"}, parsePaths("spec.images[].image")},
	{"acid.zalan.do", []string{"postgresql"}, parsePaths("spec.dockerImage")},
	{"pkg.crossplane.io", []string{"Provider", "Configuration", "Function"}, parsePaths("spec.package")},
	{"opentelemetry.io", []string{"OpenTelemetryCollector"}, parsePaths("spec.image")},
	{"opentelemetry.io", []string{"Instrumentation"}, parsePaths("spec.java.image", "spec.nodejs.image", "spec.python.image", "spec.dotnet.image", "spec.go.image", "spec.apacheHttpd.image", "spec.nginx.image")},
	{"sparkoperator.k8s.io", []string{"SparkApplication"}, parsePaths("spec.image", "spec.driver.image", "spec.executor.image")},
	{"sparkoperator.k8s.io", []string{"ScheduledSparkApplication"}, parsePaths("spec.template.image", "spec.template.driver.image", "spec.template.executor.image")},
	{"elasticsearch.k8s.elastic.co", []string{"Elasticsearch"}, parsePaths("spec.image")},
	{"kibana.k8s.elastic.co", []string{"Kibana"}, parsePaths("spec.image")},
	// Knative's image cache: an image its nodes pull ahead of use.
	{"caching.internal.knative.dev", []string{"Image"}, parsePaths("spec.image")},
}

// pathsFor returns the image paths of an object of apiVersion and kind.
func pathsFor(apiVersion, kind string) []imagePath {
	group, _, ok := strings.Cut(apiVersion, "/")
	if !ok {
		group = "" // the core group: "v1"
	}
	if slices.Contains(noImages, group) {
		return nil
	}
	paths := anyObject
	for _, c := range customImages {
		if c.Group == group && (c.Kinds == nil || slices.Contains(c.Kinds, kind)) {
			paths = append(slices.Clip(paths), c.Paths...)
		}
	}
	return paths
}

// FindKubernetes returns the images of each document of a YAML file that
// has apiVersion and kind, where pathsFor says images are: container
// lists at any depth (workloads, lists, custom resources that embed pod
// templates alike), image volumes, and the fields of the custom resources
// customImages lists; never under an object's status. A file whose
// documents all have a compose file's shape (composeShaped) is read as
// compose. A .json file is read when it has "apiVersion" and "kind" keys
// with string values, and otherwise is no source at all, in silence.
// Documents without apiVersion and kind have no references; a file that
// is not valid YAML or too large is skipped with a warning. A Helm
// chart's template is read for its literal images (see findChartTemplate),
// and a Flux HelmRelease or an Argo CD Application for the values it
// gives Helm (see releaseValues).
func FindKubernetes(in Input) ([]Ref, []Warning, error) {
	if isChartTemplate(in) {
		return findChartTemplate(in)
	}
	isJSON := strings.HasSuffix(strings.ToLower(in.Path), ".json")
	if isJSON && !jsonManifest(in.Src) {
		return nil, nil, nil
	}
	f, warns, err := parseYAML(in)
	if err != nil {
		return nil, []Warning{invalidYAML(in.Path, err)}, nil
	}
	if f == nil {
		return nil, warns, nil
	}
	if !isJSON && f.composeShaped() {
		return FindCompose(in)
	}
	w := &objectWalker{f: f, visited: map[*yaml.Node]bool{}, images: map[*yaml.Node]bool{}}
	var values []Ref
	for _, doc := range f.docs {
		r := root(doc)
		if r == nil || !isObject(r) {
			continue
		}
		if err := w.walk(r, scope{}); err != nil {
			return nil, nil, err
		}
		vs, ws, err := releaseValues(in, f, r)
		if err != nil {
			return nil, nil, err
		}
		values, warns = append(values, vs...), append(warns, ws...)
	}
	if err := f.tooComplex(); err != nil {
		return nil, []Warning{{File: in.Path, Msg: tooComplexMsg + ", skipped"}}, nil
	}
	return append(inOrder(w.refs), values...), append(warns, w.warns...), nil
}

// jsonKeys match the keys of a Kubernetes object written as JSON.
var jsonKeys = [...]*regexp.Regexp{
	regexp.MustCompile(`"apiVersion"\s*:\s*"`),
	regexp.MustCompile(`"kind"\s*:\s*"`),
}

// jsonManifest reports whether JSON text may be a Kubernetes object: it
// has apiVersion and kind keys with string values. Most JSON (package.json,
// tsconfig.json, lock files, schemas) fails the first byte search.
func jsonManifest(src []byte) bool {
	if !bytes.Contains(src, []byte(`"apiVersion"`)) {
		return false
	}
	for _, re := range jsonKeys {
		if !re.Match(src) {
			return false
		}
	}
	return true
}

// isObject reports whether n is a Kubernetes object: a mapping that has
// apiVersion and kind, written in it (not merged from another mapping).
func isObject(n *yaml.Node) bool {
	return ownScalar(n, "apiVersion") != "" && ownScalar(n, "kind") != ""
}

// ownScalar returns the value of key in mapping m when it is a scalar
// written in m itself, else "".
func ownScalar(m *yaml.Node, key string) string {
	if m.Kind != yaml.MappingNode {
		return ""
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if k := m.Content[i]; k.Kind == yaml.ScalarNode && k.Value == key {
			s, _ := stringValue(deref(m.Content[i+1]))
			return s
		}
	}
	return ""
}

// hasScalar reports whether mapping m has key with a non-empty scalar value.
func (f *yamlFile) hasScalar(m *yaml.Node, key string) bool {
	s, ok := stringValue(f.value(m, key))
	return ok && s != ""
}

// composeTop are the top-level keys of the compose specification, which
// allows no others but x- extensions.
var composeTop = map[string]bool{
	"version": true, "name": true, "include": true, "services": true, "networks": true,
	"volumes": true, "configs": true, "secrets": true, "models": true,
}

// composeShaped reports whether every document of the file is a compose
// file: a mapping with only the compose specification's top-level keys
// and a services mapping whose every entry is a mapping with an image
// string, a build, or extends. A Helm values file or an Ansible playbook
// that has services fails one of these.
func (f *yamlFile) composeShaped() bool {
	n := 0
	for _, doc := range f.docs {
		r := root(doc)
		if r == nil {
			continue
		}
		if r.Kind != yaml.MappingNode {
			return false
		}
		for _, p := range f.pairs(r) {
			if !composeTop[p.Key.Value] && !strings.HasPrefix(p.Key.Value, "x-") {
				return false
			}
		}
		services := f.value(r, "services")
		if services == nil || services.Kind != yaml.MappingNode || len(services.Content) == 0 {
			return false
		}
		for _, s := range f.pairs(services) {
			if s.Value == nil || s.Value.Kind != yaml.MappingNode {
				return false
			}
			img, build := f.value(s.Value, "image"), f.value(s.Value, "build")
			if img != nil && img.Kind != yaml.ScalarNode || build != nil && build.Kind == yaml.SequenceNode ||
				img == nil && build == nil && f.value(s.Value, "extends") == nil {
				return false
			}
		}
		n++
	}
	return n > 0
}

// isChartTemplate reports whether in is a file under a Helm chart's
// templates directory: Go templates, not manifests; the chart's values
// file is where its images are.
func isChartTemplate(in Input) bool {
	if in.FS == nil {
		return false
	}
	for dir := path.Dir(in.Path); dir != "." && dir != "/"; dir = path.Dir(dir) {
		if path.Base(dir) != "templates" {
			continue
		}
		if _, err := fs.Stat(in.FS, path.Join(path.Dir(dir), "Chart.yaml")); err == nil {
			return true
		}
	}
	return false
}

// objectWalker walks the objects of a file for images. Each node is
// walked once, so aliases cost nothing more than their target; the image
// paths are followed from each mapping without that limit, so a list
// reached through an alias is read where it is used.
type objectWalker struct {
	f       *yamlFile
	visited map[*yaml.Node]bool
	// images holds the image values read, which two paths may reach.
	images map[*yaml.Node]bool
	refs   []Ref
	warns  []Warning
	// inBlock is set in a manifest block's own walker: a block within
	// it is not read (each level parses the text again, so nesting
	// would cost far more than the file's size).
	inBlock bool
}

// scope is what an image is read in: the image paths of its object and,
// in a Tekton object, the mappings around it that declare params,
// innermost last.
type scope struct {
	paths  []imagePath
	tekton bool
	params []*yaml.Node
}

// in returns the scope inside mapping m.
func (sc scope) in(f *yamlFile, m *yaml.Node) scope {
	if sc.tekton && (f.value(m, "params") != nil || f.value(f.value(m, "inputs"), "params") != nil) {
		sc.params = append(slices.Clip(sc.params), m)
	}
	return sc
}

// walk reads n in scope sc. A mapping with apiVersion and kind is an
// object of its own, whose status is not read: it is what a cluster
// reported, not what the file deploys.
func (w *objectWalker) walk(n *yaml.Node, sc scope) error {
	n = deref(n)
	if n == nil || w.visited[n] {
		return nil
	}
	w.visited[n] = true
	switch n.Kind {
	case yaml.SequenceNode:
		for _, c := range n.Content {
			if err := w.walk(c, sc); err != nil {
				return err
			}
		}
	case yaml.MappingNode:
		object := isObject(n)
		if object {
			api := ownScalar(n, "apiVersion")
			sc = scope{paths: pathsFor(api, ownScalar(n, "kind")), tekton: strings.HasPrefix(api, "tekton.dev/")}
			// The paths from the object's root read its spec's params.
			inSpec := sc.in(w.f, w.f.value(n, "spec"))
			for _, p := range sc.paths {
				if !p.deep {
					if err := w.follow(n, p.segs, inSpec, w.leaf(p)); err != nil {
						return err
					}
				}
			}
		}
		sc = sc.in(w.f, n)
		// The keys written in n: a mapping merged into n is walked on
		// its own, and has the same keys to match.
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := deref(n.Content[i]), deref(n.Content[i+1])
			if k == nil || object && k.Value == "status" {
				continue
			}
			for _, p := range sc.paths {
				if p.deep && k.Value == p.key() {
					if err := w.at(v, p.segs, sc, w.leaf(p)); err != nil {
						return err
					}
				}
			}
			if err := w.walk(v, sc); err != nil {
				return err
			}
		}
	}
	return nil
}

// leafFunc reads the value at the end of an image path.
type leafFunc func(*yaml.Node, scope) error

// leaf returns what reads the value at the end of path p.
func (w *objectWalker) leaf(p imagePath) leafFunc {
	if p.manifest {
		return w.manifest
	}
	return w.image
}

// follow reads the values at the end of path segs from mapping n.
func (w *objectWalker) follow(n *yaml.Node, segs []string, sc scope, leaf leafFunc) error {
	key, _, _ := strings.Cut(segs[0], "[")
	return w.at(w.f.value(n, key), segs, sc, leaf)
}

// at adds the images at the end of path segs from v, the value of the
// key segs[0] names.
func (w *objectWalker) at(v *yaml.Node, segs []string, sc scope, leaf leafFunc) error {
	_, each, list := strings.Cut(segs[0], "[")
	switch {
	case v == nil:
		return nil
	case !list && len(segs) == 1:
		return leaf(v, sc)
	case !list:
		return w.follow(v, segs[1:], sc, leaf)
	case v.Kind != yaml.SequenceNode || len(segs) == 1:
		return nil
	}
	need := strings.TrimSuffix(each, "]")
	for _, e := range v.Content {
		if e = deref(e); e == nil || need != "" && !w.f.hasScalar(e, need) {
			continue
		}
		if err := w.follow(e, segs[1:], sc, leaf); err != nil {
			return err
		}
	}
	return nil
}

// tektonParam matches a param a Tekton image reads: $(params.NAME), or
// $(inputs.params.NAME) as v1alpha1 Tasks write it.
var tektonParam = regexp.MustCompile(`\$\((?:inputs\.)?params\.([A-Za-z0-9_.-]+)\)`)

// image adds the reference of an image value n: a string, not empty. A
// Tekton image that reads params is read with their defaults (see
// tektonImage).
func (w *objectWalker) image(n *yaml.Node, sc scope) error {
	s, ok := stringValue(n)
	if !ok || s == "" || w.images[n] {
		return nil
	}
	w.images[n] = true
	if sc.tekton && tektonParam.MatchString(s) {
		return w.tektonImage(n, s, sc)
	}
	if strings.Contains(s, "{{") || strings.Contains(s, "$") {
		w.warns = append(w.warns, Warning{File: w.f.path, Line: n.Line, Msg: "image " + s + " is a template or uses a variable, skipped"})
		return nil
	}
	r, err := w.f.ref(Kubernetes, n, 0)
	if err != nil {
		return err
	}
	w.refs = append(w.refs, r)
	return nil
}

// tektonImage adds the reference of a Tekton image s, at n, that reads
// params: each param is its default, where the nearest mapping around
// it declares it. An image that is one param is that param's default,
// where pin writes the digest, as an ARG default in a Dockerfile; one
// that a param ends (name:$(params.tag)), where the file reads that
// param nowhere else, is pinned at the end of that param's default. Any
// other is locked but not pinned: a digest after the image's text would
// outlive a param a run sets. A param without a default is a warning.
func (w *objectWalker) tektonImage(n *yaml.Node, s string, sc scope) error {
	var last *yaml.Node
	lastName, unset := "", false
	image := tektonParam.ReplaceAllStringFunc(s, func(ref string) string {
		name := tektonParam.FindStringSubmatch(ref)[1]
		def := w.paramDefault(sc, name)
		v, ok := stringValue(def)
		if !ok || v == "" || strings.Contains(v, "$") {
			unset = true
			return ref
		}
		last, lastName = def, name
		return v
	})
	if unset || strings.Contains(image, "{{") || strings.Contains(image, "$") {
		w.warns = append(w.warns, Warning{File: w.f.path, Line: n.Line, Msg: "image " + s + " is a template or uses a variable, skipped"})
		return nil
	}
	uses := tektonParam.FindAllStringIndex(s, -1)
	end := uses[len(uses)-1]
	whole := len(uses) == 1 && end[0] == 0 && end[1] == len(s)
	if whole || end[1] == len(s) && bytes.Count(w.f.src, []byte("params."+lastName+")")) == 1 {
		r, err := w.f.ref(Kubernetes, last, 0)
		if err != nil {
			return err
		}
		r.Image, r.Var = image, lastName
		if !whole {
			r.Style = Tag
		}
		w.refs = append(w.refs, r)
		return nil
	}
	r, err := w.f.ref(Kubernetes, n, 0)
	if err != nil {
		return err
	}
	r.Image, r.Style = image, External
	r.NoPin = "the image " + s + " is made of Tekton params: pin their defaults by hand, or give the image one param of its own"
	w.refs = append(w.refs, r)
	return nil
}

// manifest adds the images of the objects of a manifest written as a
// literal block n (an Argo resource template's manifest): the block's
// text is parsed as a file of its own, and what is found there is
// mapped back to the lines of the block. A manifest that is not valid
// YAML (a template) is a warning.
func (w *objectWalker) manifest(n *yaml.Node, _ scope) error {
	if n.Kind != yaml.ScalarNode || n.Style&yaml.LiteralStyle == 0 || !strings.Contains(n.Value, "apiVersion") || w.images[n] {
		return nil
	}
	w.images[n] = true
	if w.inBlock {
		w.warns = append(w.warns, Warning{File: w.f.path, Line: n.Line, Msg: "a manifest written inside another manifest block, its images are not read"})
		return nil
	}
	b, err := w.f.literalBlock(n)
	if err != nil || b == nil {
		if err != nil {
			w.warns = append(w.warns, Warning{File: w.f.path, Line: n.Line, Msg: "the manifest written here is not valid YAML, its images are not read"})
		}
		return nil
	}
	inner := b.inner
	iw := &objectWalker{f: inner, visited: map[*yaml.Node]bool{}, images: map[*yaml.Node]bool{}, inBlock: true}
	for _, doc := range inner.docs {
		if r := root(doc); r != nil && isObject(r) {
			if err := iw.walk(r, scope{}); err != nil {
				w.warns = append(w.warns, Warning{File: w.f.path, Line: n.Line, Msg: "the manifest written here cannot be read, its images are not: " + err.Error()})
				return nil
			}
		}
	}
	if inner.tooComplex() != nil {
		w.warns = append(w.warns, Warning{File: w.f.path, Line: n.Line, Msg: "the manifest written here has " + tooComplexMsg + ", its images are not read"})
		return nil
	}
	refs, warns := b.place(iw.refs, iw.warns, Kubernetes, "the manifest written here")
	w.refs, w.warns = append(w.refs, refs...), append(w.warns, warns...)
	return nil
}

// paramDefault returns the default of the Tekton param name that the
// innermost mapping of sc declaring it gives (nil when it gives none).
func (w *objectWalker) paramDefault(sc scope, name string) *yaml.Node {
	for i := len(sc.params) - 1; i >= 0; i-- {
		m := sc.params[i]
		for _, list := range []*yaml.Node{w.f.value(m, "params"), w.f.value(w.f.value(m, "inputs"), "params")} {
			if list == nil || list.Kind != yaml.SequenceNode {
				continue
			}
			for _, p := range list.Content {
				if s, _ := stringValue(w.f.value(p, "name")); s == name {
					return w.f.value(p, "default")
				}
			}
		}
	}
	return nil
}

// inOrder drops duplicate references and sorts the rest into file order.
func inOrder(refs []Ref) []Ref {
	out := dedupe(refs)
	sort.SliceStable(out, func(i, j int) bool { return out[i].Span.Start < out[j].Span.Start })
	return out
}

// dedupe drops references identical to an earlier one: one scalar reached
// through several aliases, one Dockerfile built by several services.
func dedupe(refs []Ref) []Ref {
	type key struct {
		file  string
		span  Span
		image string
	}
	seen := map[key]bool{}
	var out []Ref
	for _, r := range refs {
		k := key{r.File, r.Span, r.Image}
		if seen[k] {
			continue
		}
		seen[k] = true
		out = append(out, r)
	}
	return out
}
