package rewrite

import (
	"strings"
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

func TestFindKubernetes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, src string
		want      []string
		warns     []string
	}{
		{
			name: "deployment with init and sidecar",
			src: `apiVersion: apps/v1
kind: Deployment
spec:
  template:
    spec:
      initContainers:
        - name: migrate
          image: "ghcr.io/acme/migrate:2.1"
      containers:
        - name: app
          image: nginx:1.25 # the web server
          env:
            - name: image
              value: redis:7
        - name: sidecar
          image: 'envoyproxy/envoy:v1.30'
`,
			want: []string{"8:19 ghcr.io/acme/migrate:2.1", "11:18 nginx:1.25", "16:19 envoyproxy/envoy:v1.30"},
		},
		{
			name: "cronjob nests a job template",
			src: `apiVersion: batch/v1
kind: CronJob
spec:
  jobTemplate:
    spec:
      template:
        spec:
          containers: [{name: c, image: busybox:1.36}]
`,
			want: []string{"8:41 busybox:1.36"},
		},
		{
			name: "pod with ephemeral containers",
			src:  "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - image: alpine:3.20\n  ephemeralContainers:\n  - image: busybox@sha256:0000000000000000000000000000000000000000000000000000000000000000\n",
			want: []string{"5:12 alpine:3.20", "7:12 busybox@sha256:0000000000000000000000000000000000000000000000000000000000000000"},
		},
		{
			name: "list of workloads",
			src:  "apiVersion: v1\nkind: List\nitems:\n- apiVersion: apps/v1\n  kind: DaemonSet\n  spec: {template: {spec: {containers: [{image: fluentd:1}]}}}\n- apiVersion: apps/v1\n  kind: StatefulSet\n  spec:\n    template:\n      spec:\n        containers:\n        - image: postgres:16\n",
			want: []string{"6:49 fluentd:1", "13:18 postgres:16"},
		},
		{
			name: "custom resource embedding a pod template",
			src:  "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nspec:\n  template:\n    spec:\n      containers:\n      - image: registry.example.com:5000/team/app:3\n",
			want: []string{"7:16 registry.example.com:5000/team/app:3"},
		},
		{
			name: "multi-document with CRLF and a non-workload",
			src:  "apiVersion: v1\r\nkind: ConfigMap\r\ndata:\r\n  image: nope:1\r\n  containers: nothing\r\n---\r\n---\r\napiVersion: v1\r\nkind: Pod\r\nspec:\r\n  containers:\r\n  - image: nginx:1\r\n",
			want: []string{"12:12 nginx:1"},
		},
		{
			name: "documents without apiVersion and kind are not manifests",
			src:  "containers:\n- image: nginx:1\n---\nkind: Pod\ncontainers:\n- image: redis:7\n",
		},
		{
			name: "a document that is not a mapping",
			src:  "- apiVersion: v1\n  kind: Pod\n---\njust text\n",
		},
		{
			name: "anchors are followed once",
			src:  "apiVersion: v1\nkind: List\nx: &c\n  - image: nginx:1\nitems:\n- spec: {containers: *c}\n- spec: {initContainers: *c}\n",
			want: []string{"4:12 nginx:1"},
		},
		{
			name: "templated image",
			src:  "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - image: \"{{ .Values.image }}\"\n  - image: ${IMAGE}\n  - image: $(REGISTRY)/app:1\n",
			warns: []string{
				"k.yaml:5: image {{ .Values.image }} is a template or uses a variable, skipped",
				"k.yaml:6: image ${IMAGE} is a template or uses a variable, skipped",
				"k.yaml:7: image $(REGISTRY)/app:1 is a template or uses a variable, skipped",
			},
		},
		{
			name:  "malformed YAML is skipped with a warning",
			src:   "apiVersion: v1\nkind: Pod\nspec: [\n",
			warns: []string{"k.yaml:3: not valid YAML, skipped: parsing YAML: did not find expected node content"},
		},
		{
			name:  "binary file",
			src:   "\x00\x01\xff\xfe garbage",
			warns: []string{"k.yaml: not a text file, skipped"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			files := fstest.MapFS{"k.yaml": {Data: []byte(tt.src)}}
			refs, warns, err := findIn(t, files, "k.yaml", Kubernetes)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, brief(t, files, refs)); diff != "" {
				t.Errorf("refs (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.warns, warnings(warns)); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
		})
	}
}

func TestFindKubernetesSkipsChartTemplates(t *testing.T) {
	t.Parallel()
	pod := []byte("apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - image: \"{{ .Values.image.repository }}:{{ .Values.image.tag }}\"\n")
	files := fstest.MapFS{
		"chart/Chart.yaml":             {Data: []byte("apiVersion: v2\nname: c\n")},
		"chart/templates/sub/pod.yaml": {Data: pod},
		"notachart/templates/pod.yaml": {Data: pod},
	}
	refs, warns, err := findIn(t, files, "chart/templates/sub/pod.yaml", Kubernetes)
	if err != nil || len(refs) != 0 || len(warns) != 0 {
		t.Errorf("chart template: got %v, %v, %v; want nothing", refs, warns, err)
	}
	_, warns, _ = findIn(t, files, "notachart/templates/pod.yaml", Kubernetes)
	if len(warns) != 1 {
		t.Errorf("template outside a chart: warnings %v, want the template warning", warns)
	}
}

func TestKubernetesGolden(t *testing.T) {
	t.Parallel()
	runGolden(t, "../testdata/kubernetes", FindKubernetes, "manifest.yaml")
}

func TestKubernetesJSONGolden(t *testing.T) {
	t.Parallel()
	runGolden(t, "../testdata/kubernetes-json", FindKubernetes, "manifest.json")
}

// A YAML file no name rule claims, shaped as a compose file, is read as
// compose by the generic YAML row.
func TestComposeByContentGolden(t *testing.T) {
	t.Parallel()
	runGolden(t, "../testdata/compose-content", FindKubernetes, "stack.yml")
}

// Outside container lists, only the fields customImages names for a
// known group and kind are images; generic step and sidecar lists count
// entries with a name; nothing under an object's status counts.
func TestFindKubernetesCustomResources(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, src string
		want      []string
	}{
		{
			name: "spec.image of an unknown kind is not an image",
			src:  "apiVersion: builds.example.com/v1\nkind: Build\nspec:\n  image: registry.example.com/out:1\n  output: {image: registry.example.com/out:2}\n",
		},
		{
			name: "the same path of a known group in another version",
			src:  "apiVersion: monitoring.coreos.com/v1alpha1\nkind: PrometheusAgent\nspec:\n  image: quay.io/prometheus/prometheus:v2.53.0\n",
			want: []string{"4:10 quay.io/prometheus/prometheus:v2.53.0"},
		},
		{
			name: "a known group, a kind not listed",
			src:  "apiVersion: monitoring.coreos.com/v1\nkind: ServiceMonitor\nspec:\n  image: nope:1\n",
		},
		{
			name: "steps of an unknown kind count with a name",
			src:  "apiVersion: ci.example.com/v1\nkind: Job\nspec:\n  steps:\n  - image: unnamed:1\n  - name: build\n    image: named:1\n  sidecars:\n  - {name: db, image: postgres:16}\n",
			want: []string{"7:12 named:1", "9:23 postgres:16"},
		},
		{
			name: "Argo steps are lists of lists",
			src:  "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nspec:\n  templates:\n  - name: main\n    steps:\n    - - name: a\n        template: b\n",
		},
		{
			name: "container of a kind that is not a workflow",
			src:  "apiVersion: example.com/v1\nkind: Thing\nspec:\n  container:\n    image: nope:1\n  script: {image: nope:2}\n",
		},
		{
			name: "status of a custom resource",
			src:  "apiVersion: tekton.dev/v1\nkind: TaskRun\nspec:\n  taskSpec:\n    steps: [{image: alpine:3.20}]\nstatus:\n  taskSpec:\n    steps: [{image: alpine:3.19}]\n  steps:\n  - name: a\n    image: alpine:3.18\n",
			want: []string{"5:21 alpine:3.20"},
		},
		{
			name: "a status key inside a spec is read",
			src:  "apiVersion: v1\nkind: Pod\nspec:\n  status:\n    containers: [{image: odd:1}]\n",
			want: []string{"5:26 odd:1"},
		},
		{
			name: "image volumes, not other volume images",
			src:  "apiVersion: v1\nkind: Pod\nspec:\n  volumes:\n  - name: a\n    image: {reference: ghcr.io/a/b:1}\n  - name: b\n    image: not-a-volume-source:1\n",
			want: []string{"6:24 ghcr.io/a/b:1"},
		},
		{
			name: "a known path reached through an alias",
			src:  "apiVersion: kafka.strimzi.io/v1beta2\nkind: Kafka\nx: &img quay.io/strimzi/kafka:0.41.0\nspec:\n  kafka: {image: *img}\n  zookeeper: {image: *img}\n",
			want: []string{"3:9 quay.io/strimzi/kafka:0.41.0"},
		},
		{
			name: "a known path that is not a string",
			src:  "apiVersion: rabbitmq.com/v1beta1\nkind: RabbitmqCluster\nspec:\n  image: {name: rabbitmq}\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			files := fstest.MapFS{"k.yaml": {Data: []byte(tt.src)}}
			refs, warns, err := findIn(t, files, "k.yaml", Kubernetes)
			if err != nil || len(warns) > 0 {
				t.Fatal(err, warns)
			}
			if diff := cmp.Diff(tt.want, brief(t, files, refs)); diff != "" {
				t.Errorf("refs (-want +got):\n%s", diff)
			}
		})
	}
}

// JSON is a source only as a Kubernetes object: any other JSON file
// yields nothing and no warning, and most are not even parsed.
func TestFindKubernetesJSON(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, path, src string
		want            []string
		warns           []string
	}{
		{
			name: "package.json",
			path: "node_modules/x/package.json",
			src:  `{"name": "x", "version": "1.0.0", "dependencies": {"image": "^1"}}`,
		},
		{
			name: "tsconfig.json with comments",
			path: "tsconfig.json",
			src:  "{\n  // comment\n  \"compilerOptions\": {\"strict\": true,},\n}\n",
		},
		{
			name: "a schema that names apiVersion",
			path: "schema/pod.json",
			src:  `{"properties": {"apiVersion": {"type": "string"}, "kind": {"type": "string"}, "spec": {"containers": [{"image": "nope:1"}]}}}`,
		},
		{
			name: "apiVersion and kind below the top level",
			path: "data.json",
			src:  `{"items": [{"apiVersion": "v1", "kind": "Pod", "spec": {"containers": [{"image": "nope:1"}]}}]}`,
		},
		{
			name: "a pod",
			path: "deploy/pod.JSON",
			src:  "{\"apiVersion\": \"v1\", \"kind\": \"Pod\",\r\n \"spec\": {\"containers\": [{\"name\": \"a\", \"image\": \"nginx:1.27\"}]}}\r\n",
			want: []string{"2:50 nginx:1.27"},
		},
		{
			name:  "a broken manifest",
			path:  "pod.json",
			src:   `{"apiVersion": "v1", "kind": "Pod", "spec": {`,
			warns: []string{"pod.json:1: not valid YAML, skipped: parsing YAML: did not find expected node content"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			kind, find, ok := FinderFor(tt.path)
			if !ok || kind != Kubernetes {
				t.Fatalf("FinderFor(%q) = %q, %v", tt.path, kind, ok)
			}
			files := fstest.MapFS{tt.path: {Data: []byte(tt.src)}}
			refs, warns, err := find(Input{FS: files, Path: tt.path, Src: []byte(tt.src)})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, brief(t, files, refs)); diff != "" {
				t.Errorf("refs (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.warns, warnings(warns)); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
		})
	}
}

// A big JSON file that is not a manifest costs a byte search, not a parse.
func BenchmarkFindKubernetesJSONSkip(b *testing.B) {
	src := []byte(`{"name": "x", "packages": {` + strings.Repeat(`"node_modules/a": {"version": "1.0.0", "resolved": "https://registry.npmjs.org/a/-/a-1.0.0.tgz"},`, 50000) + `"": {}}}`)
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		if refs, warns, err := FindKubernetes(Input{Path: "package-lock.json", Src: src}); refs != nil || warns != nil || err != nil {
			b.Fatal(refs, warns, err)
		}
	}
}

// Any YAML file shaped as a compose file is read as compose; a file
// with services that is not a compose file is not.
func TestComposeByContent(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, src string
		kind      Kind
		want      []string
	}{
		{
			name: "a stack file",
			src:  "services:\n  web:\n    image: nginx:1.27\n  app:\n    extends: {file: base.yml, service: app}\n",
			kind: Compose,
			// app extends base.yml's service, whose image it pulls.
			want: []string{"3:12 nginx:1.27", "3:12 busybox:1.36"},
		},
		{
			name: "Helm-like values: image is a map",
			src:  "services:\n  api:\n    image:\n      repository: ghcr.io/acme/api\n      tag: \"1.0\"\n",
		},
		{
			name: "values with other top-level keys",
			src:  "replicaCount: 2\nservices:\n  web:\n    image: nginx:1.27\n",
		},
		{
			name: "a service without image, build or extends",
			src:  "services:\n  web:\n    image: nginx:1.27\n  dns:\n    port: 53\n",
		},
		{
			name: "services that are not maps",
			src:  "services:\n  web: nginx:1.27\n",
		},
		{
			name: "an Ansible playbook",
			src:  "- hosts: all\n  vars:\n    services:\n      web: {image: nginx:1.27}\n",
		},
		{
			name: "a manifest with services",
			src:  "apiVersion: example.com/v1\nkind: App\nservices:\n  web:\n    image: nginx:1.27\n",
		},
		{
			name: "one document of several is not compose",
			src:  "services:\n  web:\n    image: nginx:1.27\n---\napiVersion: v1\nkind: Pod\nspec:\n  containers: [{image: redis:7}]\n",
			kind: Kubernetes,
			want: []string{"8:24 redis:7"},
		},
		{
			name: "an empty services map",
			src:  "services: {}\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			files := fstest.MapFS{"ci/docker-stack.yml": {Data: []byte(tt.src)}, "ci/base.yml": {Data: []byte("services:\n  app:\n    image: busybox:1.36\n")}}
			refs, warns, err := findIn(t, files, "ci/docker-stack.yml", Kubernetes)
			if err != nil || len(warns) > 0 {
				t.Fatal(err, warns)
			}
			if diff := cmp.Diff(tt.want, brief(t, files, refs)); diff != "" {
				t.Errorf("refs (-want +got):\n%s", diff)
			}
			for _, r := range refs {
				if r.Kind != tt.kind {
					t.Errorf("%s: kind %s, want %s", r.Pos(), r.Kind, tt.kind)
				}
			}
		})
	}
}

// A Tekton image that is one param is the param's default; elsewhere
// $(params.NAME) is no Tekton param.
func TestFindKubernetesTektonParams(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, src string
		want      []string
		warns     []string
	}{
		{
			name:  "a required param has no default",
			src:   "apiVersion: tekton.dev/v1\nkind: Task\nspec:\n  params: [{name: img}]\n  steps: [{image: $(params.img)}]\n",
			warns: []string{"k.yaml:5: image $(params.img) is a template or uses a variable, skipped"},
		},
		{
			name:  "an array param",
			src:   "apiVersion: tekton.dev/v1\nkind: Task\nspec:\n  params: [{name: img, default: [a, b]}]\n  steps: [{image: $(params.img)}]\n",
			warns: []string{"k.yaml:5: image $(params.img) is a template or uses a variable, skipped"},
		},
		{
			name: "a param that ends the image, read nowhere else, is pinned at its default",
			src:  "apiVersion: tekton.dev/v1\nkind: Task\nspec:\n  params: [{name: v, default: \"1.23\"}]\n  steps: [{image: \"golang:$(params.v)\"}]\n",
			want: []string{"4:32 golang:1.23 tag var=v"},
		},
		{
			name: "a param that ends the image and is read elsewhere is locked, not pinned",
			src:  "apiVersion: tekton.dev/v1\nkind: Task\nspec:\n  params: [{name: v, default: \"1.23\"}]\n  steps: [{image: \"golang:$(params.v)\", script: echo $(params.v)}]\n",
			want: []string{"5:20 golang:1.23 external"},
		},
		{
			name:  "not a Tekton object",
			src:   "apiVersion: argoproj.io/v1alpha1\nkind: Workflow\nspec:\n  params: [{name: img, default: nope:1}]\n  templates: [{container: {image: $(params.img)}}]\n",
			warns: []string{"k.yaml:5: image $(params.img) is a template or uses a variable, skipped"},
		},
		{
			name:  "a default that is a variable",
			src:   "apiVersion: tekton.dev/v1\nkind: Task\nspec:\n  params: [{name: img, default: $(context.taskRun.name)}]\n  steps: [{image: $(params.img)}]\n",
			warns: []string{"k.yaml:5: image $(params.img) is a template or uses a variable, skipped"},
		},
		{
			name: "a default that two steps use",
			src:  "apiVersion: tekton.dev/v1\nkind: Task\nspec:\n  params: [{name: img, default: alpine:3.20}]\n  steps: [{image: $(params.img)}, {name: b, image: $(params.img)}]\n",
			want: []string{"4:33 alpine:3.20 var=img"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			files := fstest.MapFS{"k.yaml": {Data: []byte(tt.src)}}
			refs, warns, err := findIn(t, files, "k.yaml", Kubernetes)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, brief(t, files, refs)); diff != "" {
				t.Errorf("refs (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.warns, warnings(warns)); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
		})
	}
}

// An Argo resource template's manifest is a file of its own, written as
// a literal block: its images are found and located in the block.
func TestFindKubernetesEmbeddedManifests(t *testing.T) {
	t.Parallel()
	head := "apiVersion: argoproj.io/v1alpha1\r\nkind: Workflow\r\nspec:\r\n  templates:\r\n  - name: r\r\n    resource:\r\n      action: create\r\n"
	tests := []struct {
		name, src string
		want      []string
		warns     []string
	}{
		{
			name: "CRLF, a blank line, two documents",
			src:  head + "      manifest: |\r\n        apiVersion: v1\r\n        kind: Pod\r\n\r\n        spec:\r\n          containers:\r\n          - image: nginx:1.27\r\n        ---\r\n        apiVersion: batch/v1\r\n        kind: Job\r\n        spec: {template: {spec: {containers: [{image: \"busybox:1.36\"}]}}}\r\n",
			want: []string{"14:20 nginx:1.27", "18:56 busybox:1.36"},
		},
		{
			name:  "a template",
			src:   head + "      manifest: |\n        apiVersion: v1\n        kind: Pod\n        metadata:\n          name: {{workflow.name}}-child\n        spec: {containers: [{image: nginx:1.27}]}\n",
			warns: []string{"k.yaml:8: the manifest written here is not valid YAML, its images are not read"},
		},
		{
			name:  "a templated image",
			src:   head + "      manifest: |-\n        apiVersion: v1\n        kind: Pod\n        spec:\n          containers:\n          - image: \"{{inputs.parameters.image}}\"\n",
			warns: []string{"k.yaml:13: image {{inputs.parameters.image}} is a template or uses a variable, skipped"},
		},
		{
			name: "a folded or quoted manifest is not read",
			src:  head + "      manifest: >\n        apiVersion: v1\n        kind: Pod\n",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			files := fstest.MapFS{"k.yaml": {Data: []byte(tt.src)}}
			refs, warns, err := findIn(t, files, "k.yaml", Kubernetes)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, brief(t, files, refs)); diff != "" {
				t.Errorf("refs (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.warns, warnings(warns)); diff != "" {
				t.Errorf("warnings (-want +got):\n%s", diff)
			}
		})
	}
}

// A policy engine's patterns hold container lists that match what others
// deploy ("!*:latest"): no image to lock or pin.
func TestPolicyPatternsAreNoImages(t *testing.T) {
	t.Parallel()
	src := `apiVersion: kyverno.io/v1
kind: ClusterPolicy
metadata:
  name: disallow-latest-tag
spec:
  rules:
    - name: require-image-tag
      validate:
        pattern:
          spec:
            containers:
              - image: "*:*"
    - name: validate-image-tag
      validate:
        pattern:
          spec:
            containers:
              - image: "!*:latest"
`
	refs, warns, err := FindKubernetes(Input{Path: "policy.yaml", Src: []byte(src)})
	if err != nil || len(refs) != 0 || len(warns) != 0 {
		t.Errorf("a Kyverno policy gives %v, %v, %v; want nothing", refs, warns, err)
	}
}
