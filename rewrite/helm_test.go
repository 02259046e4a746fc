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
