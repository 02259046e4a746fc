package rewrite

import (
	"testing"
	"testing/fstest"

	"github.com/google/go-cmp/cmp"
)

func TestFindHelmValues(t *testing.T) {
	t.Parallel()
	src := `replicaCount: 2
image:
  registry: docker.io
  repository: bitnami/nginx
  tag: 1.25.4-debian-12-r2
  digest: ""
  pullPolicy: IfNotPresent
metrics:
  exporter:
    image: {repository: nginx/nginx-prometheus-exporter, tag: "1.1"}
sidecars:
  - name: pinned
    image:
      repository: busybox
      tag: 1.36@` + digestA + `
appImage:
  repository: ghcr.io/acme/app
  tag: ""
templated:
  repository: "{{ .Values.global.registry }}/app"
  tag: "1"
chartRepo:
  repository: https://charts.example.com
service:
  image: nope
`
	files := fstest.MapFS{
		"chart/Chart.yaml":       {Data: []byte("apiVersion: v2\nname: c\nversion: 1.0.0\n")},
		"chart/values-prod.yaml": {Data: []byte(src)},
	}
	refs, warns, err := findIn(t, files, "chart/values-prod.yaml", Helm)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{
		"5:8 docker.io/bitnami/nginx:1.25.4-debian-12-r2 field",
		"10:64 nginx/nginx-prometheus-exporter:1.1 tag",
		"15:12 busybox:1.36@" + digestA + " tag",
	}
	if diff := cmp.Diff(want, brief(t, files, refs)); diff != "" {
		t.Errorf("refs (-want +got):\n%s", diff)
	}
	wantWarns := []string{
		"chart/values-prod.yaml:18: image ghcr.io/acme/app has an empty tag (the chart's templates choose it), not locked",
		"chart/values-prod.yaml:20: image {{ .Values.global.registry }}/app is a template, skipped",
	}
	if diff := cmp.Diff(wantWarns, warnings(warns)); diff != "" {
		t.Errorf("warnings (-want +got):\n%s", diff)
	}
}

func TestFindHelmValuesOutsideAChart(t *testing.T) {
	t.Parallel()
	files := fstest.MapFS{
		"values.yaml":    {Data: []byte("image: {repository: nginx, tag: '1'}\n")},
		"k8s/values.yml": {Data: []byte("apiVersion: v1\nkind: Pod\nspec:\n  containers: [{image: 'redis:7'}]\n")},
	}
	for name, want := range map[string][]string{"values.yaml": nil, "k8s/values.yml": {"4:25 redis:7"}} {
		refs, warns, err := findIn(t, files, name, Helm)
		if err != nil || len(warns) != 0 {
			t.Fatal(err, warns)
		}
		if diff := cmp.Diff(want, brief(t, files, refs)); diff != "" {
			t.Errorf("%s: refs (-want +got):\n%s", name, diff)
		}
		for _, r := range refs {
			if r.Kind != Kubernetes {
				t.Errorf("%s: kind %s, want kubernetes", r.Pos(), r.Kind)
			}
		}
	}
}

func TestHelmGolden(t *testing.T) {
	t.Parallel()
	runGolden(t, "../testdata/helm", FindHelmValues, "values.yaml")
}

func TestHelmTemplateGolden(t *testing.T) {
	t.Parallel()
	runGolden(t, "../testdata/helm-templates", FindKubernetes, "templates/hooks.yaml")
}

// The tag of a map whose tag is empty is the chart's appVersion when the
// templates default it so; without a digest: key pin cannot write, and
// the reference says how to make it pinnable.
func TestHelmAppVersionNoPin(t *testing.T) {
	t.Parallel()
	files := fstest.MapFS{
		"c/Chart.yaml":             {Data: []byte("apiVersion: v2\nname: c\nversion: 1.0.0\nappVersion: 1.10\n")},
		"c/templates/_helpers.tpl": {Data: []byte(`{{- define "img" -}}{{ .Values.app.image.repository }}:{{ $.Values.app.image.tag | default $.Chart.AppVersion }}{{- end }}` + "\n")},
		"c/templates/deploy.yaml":  {Data: []byte("image: {{ include \"img\" . }}\n")},
		"c/values.yaml":            {Data: []byte("app:\n  image:\n    repository: acme/app\n    tag: ''\n")},
		"d/Chart.yaml":             {Data: []byte("apiVersion: v2\nname: d\nversion: 1.0.0\nappVersion: 1.10\n")},
		"d/templates/a.yaml":       {Data: []byte("image: {{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}\n")},
		"d/templates/b.yaml":       {Data: []byte("image: {{ .Values.image.repository }}:{{ .Values.image.tag | default (printf \"v%s\" .Chart.AppVersion) }}\n")},
		"d/values.yaml":            {Data: []byte("image:\n  repository: acme/d\n  tag: ''\n")},
		"e/templates/a.yaml":       {Data: []byte("image: {{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}\n")},
		"e/values.yaml":            {Data: []byte("image:\n  repository: acme/e\n  tag: ''\n")},
		"f/Chart.yaml":             {Data: []byte("apiVersion: v2\nname: f\nversion: 1.0.0\nappVersion: 1.10\n")},
		"f/templates/a.yaml":       {Data: []byte("image: {{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}-distroless\n")},
		"f/values.yaml":            {Data: []byte("image:\n  repository: acme/f\n  tag: ''\n")},
		"e/Chart.yaml":             {Data: []byte("apiVersion: v2\nname: e\nversion: 1.0.0\n")},
	}
	refs, warns, err := findIn(t, files, "c/values.yaml", Helm)
	if err != nil || len(warns) != 0 {
		t.Fatal(err, warns)
	}
	if diff := cmp.Diff([]string{"3:17 acme/app:1.10 external"}, brief(t, files, refs)); diff != "" {
		t.Errorf("refs (-want +got):\n%s", diff)
	}
	want := `the tag of acme/app:1.10 is the chart's appVersion (1.10), and pin writes no digest into an empty tag: if the chart's templates read .Values.app.image.digest, add digest: "" to the map and pin again`
	if len(refs) == 1 && refs[0].NoPin != want {
		t.Errorf("NoPin = %q, want %q", refs[0].NoPin, want)
	}
	// Templates that disagree, a chart with no appVersion, a suffix after
	// the tag: as before.
	for _, name := range []string{"d/values.yaml", "e/values.yaml", "f/values.yaml"} {
		refs, warns, err := findIn(t, files, name, Helm)
		if err != nil || len(refs) != 0 || len(warns) != 1 {
			t.Errorf("%s: got %v, %v, %v; want one empty-tag warning", name, refs, warns, err)
		}
	}
}

// A helmfile's releases name values files, read as the values of the
// release's local chart (its appVersion) or of no chart; inline values
// are read in place; missing and templated paths are left alone.
func TestHelmfileValues(t *testing.T) {
	t.Parallel()
	files := fstest.MapFS{
		"helmfile.yaml": {Data: []byte(`releases:
  - name: shop
    chart: ./charts/shop
    values:
      - envs/prod/shop.yaml
      - envs/{{ .Environment.Name }}.yaml
      - envs/missing.yaml
      - image:
          repository: acme/inline
          tag: "3"
  - name: db
    chart: bitnami/postgresql
    values: [envs/db.yml]
`)},
		"charts/shop/Chart.yaml":         {Data: []byte("apiVersion: v2\nname: shop\nversion: 1.0.0\nappVersion: 2.0.0\n")},
		"charts/shop/templates/app.yaml": {Data: []byte("image: {{ .Values.image.repository }}:{{ .Values.image.tag | default .Chart.AppVersion }}\n")},
		"envs/prod/shop.yaml":            {Data: []byte("image:\n  repository: acme/shop\n  tag: \"\"\n  digest: \"\"\n")},
		"envs/db.yml":                    {Data: []byte("image:\n  registry: docker.io\n  repository: bitnami/postgresql\n  tag: 16.3.0\n")},
	}
	refs, warns, err := findIn(t, files, "helmfile.yaml", Helm)
	if err != nil || len(warns) != 0 {
		t.Fatal(err, warns)
	}
	want := []string{
		"10:17 acme/inline:3 tag",
		"2:15 acme/shop:2.0.0 field",
		"4:8 docker.io/bitnami/postgresql:16.3.0 tag",
	}
	if diff := cmp.Diff(want, brief(t, files, refs)); diff != "" {
		t.Errorf("refs (-want +got):\n%s", diff)
	}
	var paths []string
	for _, r := range refs {
		paths = append(paths, r.File)
	}
	if diff := cmp.Diff([]string{"helmfile.yaml", "envs/prod/shop.yaml", "envs/db.yml"}, paths); diff != "" {
		t.Errorf("files (-want +got):\n%s", diff)
	}
	_, warns, err = FindHelmValues(Input{FS: files, Path: "helmfile.yaml", Src: []byte("releases:\n{{ range .Values.apps }}\n  - name: {{ . }}\n{{ end }}\n")})
	if err != nil || len(warns) != 1 {
		t.Errorf("templated helmfile: got %v, %v; want one warning", warns, err)
	}
}

// An Argo CD Application names the values files of its Helm sources,
// relative to the source's path, or to the repository root with $ref/.
func TestArgoCDValueFiles(t *testing.T) {
	t.Parallel()
	files := fstest.MapFS{
		"apps/shop.yaml": {Data: []byte(`apiVersion: argoproj.io/v1alpha1
kind: Application
metadata:
  name: shop
spec:
  sources:
    - repoURL: https://github.com/acme/deploy
      path: charts/shop
      helm:
        valueFiles:
          - ../../envs/prod.yaml
          - values-missing.yaml
    - repoURL: https://charts.example.com
      chart: redis
      helm:
        valueFiles: [values.yaml, $values/envs/redis.yaml]
        valuesObject:
          metrics:
            image: {repository: oliver006/redis_exporter, tag: v1.62.0}
    - repoURL: https://github.com/acme/deploy
      ref: values
`)},
		"charts/shop/Chart.yaml": {Data: []byte("apiVersion: v2\nname: shop\nversion: 1.0.0\n")},
		"envs/prod.yaml":         {Data: []byte("image: {repository: acme/shop, tag: '1.4'}\n")},
		"envs/redis.yaml":        {Data: []byte("image:\n  repository: redis\n  tag: 7.2.5\n")},
		"values.yaml":            {Data: []byte("image: {repository: not/this, tag: '1'}\n")},
	}
	refs, warns, err := findIn(t, files, "apps/shop.yaml", Kubernetes)
	if err != nil || len(warns) != 0 {
		t.Fatal(err, warns)
	}
	want := []string{"1:38 acme/shop:1.4 tag", "19:64 oliver006/redis_exporter:v1.62.0 tag", "3:8 redis:7.2.5 tag"}
	if diff := cmp.Diff(want, brief(t, files, refs)); diff != "" {
		t.Errorf("refs (-want +got):\n%s", diff)
	}
	for _, r := range refs {
		if r.Kind != Helm {
			t.Errorf("%s: kind %s; want helm", r.Pos(), r.Kind)
		}
	}
}

// A values file the configuration declares is read as values without a
// Chart.yaml beside it.
func TestHelmValuesDeclared(t *testing.T) {
	t.Parallel()
	src := []byte("web:\n  image: {repository: nginx, tag: '1.27'}\n")
	refs, _, err := FindHelmValues(Input{Path: "deploy/values/web.yaml", Src: src, Declared: true})
	if err != nil || len(refs) != 1 || refs[0].Image != "nginx:1.27" {
		t.Errorf("got %v, %v; want nginx:1.27", refs, err)
	}
}

func TestHelmChartImagesGolden(t *testing.T) {
	t.Parallel()
	runGolden(t, "../testdata/helm-chart", FindHelmValues, "Chart.yaml")
}
